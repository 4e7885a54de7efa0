//! `kube-doctor clients`: which API clients fail, in which error view, since when, steadily or
//! now and then, and who they are (playbook step 3 on its own). Exit 1 when a client is over
//! the threshold, 0 when none is, 2 when the rates could not be read.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use kube_doctor_core::bundle::StepStatus;
use kube_doctor_core::playbook::step3_client_rates;
use kube_doctor_core::report::clients_table;

use crate::cli::{ClientsArgs, ClientsFormat, LimitArgs};
use crate::collect::{Context, Quiet, run_step, step3_client_rates as step3};
use crate::source::metrics::ApiRequestCounter;

pub async fn run(args: ClientsArgs) -> anyhow::Result<ExitCode> {
    let limits = LimitArgs {
        max_inflight: 4,
        step_timeout: Duration::from_secs(30) + args.scrape_interval * 3,
        log_bytes: 0,
    };
    let settings = crate::collect::context::resolve_settings(
        &args.cluster,
        &args.rates,
        None,
        &limits,
        args.scrape_interval,
    )
    .await?;
    let threshold = settings.threshold;
    let (record, evidence) = if settings.cluster.is_none() {
        // No cluster: the audit log alone (settings allow this only with --audit-log).
        let b = crate::collect::offline(&settings);
        (b.steps[2].clone(), b.clients)
    } else {
        let cx = Context::connect(settings, ApiRequestCounter::default())?;
        let run = std::sync::Arc::new(crate::source::kube::RunState::default());
        run_step(3, cx.settings.limits.step_timeout, &run, &Quiet, |ctx| {
            step3::collect(&cx, ctx)
        })
        .await
    };
    // Only a step that read client error rates lets "no client fails" stand: an empty answer
    // (no series, a --client that matches nothing, an audit log with no events) or a partial
    // one is "could not look" (exit 2), with what was read shown first.
    let evidence = match (record.status, evidence) {
        (StepStatus::Ok, Some(e)) => e,
        (StepStatus::Empty | StepStatus::Failed, Some(e)) => {
            let mut out = std::io::stdout().lock();
            match args.output {
                ClientsFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &e)?;
                    writeln!(out)?;
                }
                // A table of nothing says nothing: only the reason below.
                ClientsFormat::Text if e.clients.is_empty() => {}
                ClientsFormat::Text => clients_table(&mut out, &e, threshold, args.all)?,
            }
            for n in &e.notes {
                eprintln!(
                    "kube-doctor: note: {}",
                    kube_doctor_core::escape::one_line(n, 500)
                );
            }
            anyhow::bail!(
                "nothing can be said: {}",
                kube_doctor_core::escape::one_line(
                    record
                        .note
                        .as_deref()
                        .unwrap_or("no client error rates were read"),
                    600
                )
            )
        }
        (_, _) => anyhow::bail!(
            "could not read client error rates: {}",
            record
                .note
                .unwrap_or_else(|| format!("{:?}", record.status).to_lowercase())
        ),
    };
    let failing = !step3_client_rates::failing(&evidence, threshold).is_empty();
    let mut out = std::io::stdout().lock();
    match args.output {
        ClientsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &evidence)?;
            writeln!(out)?;
        }
        ClientsFormat::Text => clients_table(&mut out, &evidence, threshold, args.all)?,
    }
    for n in &evidence.notes {
        eprintln!(
            "kube-doctor: note: {}",
            kube_doctor_core::escape::one_line(n, 500)
        );
    }
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
