//! `kube-doctor investigate`: collect, then diagnose, in one run. Same flags as `collect` plus
//! the report format and `--save-bundle`. Exit code from the report ([`crate::report_out::exit_code`]).

use std::process::ExitCode;
use std::time::Duration;

use kube_doctor_core::diagnose;

use crate::cli::InvestigateArgs;
use crate::collect::{self, Context};
use crate::source::metrics::ApiRequestCounter;

pub async fn run(args: InvestigateArgs) -> anyhow::Result<ExitCode> {
    let settings = crate::collect::context::resolve_settings(
        &args.cluster,
        &args.rates,
        Some(&args.windows),
        &args.limits,
        Duration::from_secs(5),
    )
    .await?;
    let judging = settings.diagnosis;
    let cx = Context::connect(settings, ApiRequestCounter::default())?;
    let progress = crate::report_out::progress();
    let bundle = collect::collect(&cx, progress.as_ref()).await;
    if let Some(path) = &args.save_bundle {
        crate::report_out::write_bundle(path, &bundle)?;
    }
    crate::report_out::warn_incomplete(&bundle);
    let report = diagnose::diagnose(&bundle, &judging);
    crate::report_out::print_report(&report, args.output)?;
    Ok(crate::report_out::exit_code(&report, true))
}
