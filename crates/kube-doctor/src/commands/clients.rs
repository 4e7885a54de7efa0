//! `kube-doctor clients`: which API clients fail, in which error view, since when, steadily or
//! now and then, and who they are (playbook step 3 on its own). Exit 1 when a client is over
//! the threshold, 0 when none is.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use kube_doctor_core::report::clients_table;

use crate::cli::{ClientsArgs, ClientsFormat, LimitArgs};
use crate::collect::{Quiet, run_step, step3_client_rates};
use crate::source::metrics::ApiRequestCounter;

pub async fn run(args: ClientsArgs) -> anyhow::Result<ExitCode> {
    let limits = LimitArgs {
        max_inflight: 4,
        step_timeout: Duration::from_secs(30) + args.scrape_interval * 3,
        log_bytes: 0,
    };
    let c = super::setup::collector(
        &args.cluster,
        &args.rates,
        &limits,
        args.scrape_interval,
        ApiRequestCounter::default(),
    )
    .await?;
    let (record, evidence) = run_step(3, limits.step_timeout, &Quiet, |ctx| {
        step3_client_rates::collect(&c, ctx)
    })
    .await;
    let Some(evidence) = evidence else {
        anyhow::bail!(
            "could not read client error rates: {}",
            record
                .note
                .unwrap_or_else(|| format!("{:?}", record.status))
        );
    };
    let failing = evidence
        .clients
        .iter()
        .any(|r| r.is_failing(evidence.threshold));
    let mut out = std::io::stdout().lock();
    match args.output {
        ClientsFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &evidence)?;
            writeln!(out)?;
        }
        ClientsFormat::Text => clients_table(&mut out, &evidence, args.all)?,
    }
    for n in &evidence.notes {
        eprintln!("kube-doctor: note: {n}");
    }
    Ok(if failing {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
