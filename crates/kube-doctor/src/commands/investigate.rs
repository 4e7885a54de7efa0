//! `kube-doctor investigate`: collect, then diagnose, in one run. Same flags as `collect` plus
//! the report format and `--save-bundle`. Exit 1 when a problem is diagnosed, 0 when none.

use std::process::ExitCode;

use kube_doctor_core::diagnose;

use crate::cli::InvestigateArgs;
use crate::source::metrics::ApiRequestCounter;

pub async fn run(args: InvestigateArgs) -> anyhow::Result<ExitCode> {
    let c = super::setup::collector(
        &args.cluster,
        &args.rates,
        &args.limits,
        std::time::Duration::from_secs(5),
        ApiRequestCounter::default(),
    )
    .await?;
    let progress = crate::report_out::progress();
    let bundle = c.collect(progress.as_ref()).await;
    if let Some(path) = &args.save_bundle {
        crate::report_out::write_bundle(path, &bundle)?;
    }
    crate::report_out::warn_incomplete(&bundle);
    let report = diagnose::diagnose(&bundle, super::diagnose::windows(&args.windows));
    crate::report_out::print_report(&report, args.output)?;
    Ok(if report.problem_found() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
