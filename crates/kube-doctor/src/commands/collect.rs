//! `kube-doctor collect --out BUNDLE`: the playbook's evidence, as a bundle file. Exit 0 when
//! the bundle was written (whatever it holds), 2 when it could not be.

use std::process::ExitCode;

use crate::cli::CollectArgs;
use crate::source::metrics::ApiRequestCounter;

pub async fn run(args: CollectArgs) -> anyhow::Result<ExitCode> {
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
    crate::report_out::write_bundle(&args.out, &bundle)?;
    crate::report_out::warn_incomplete(&bundle);
    let requests: u32 = bundle.steps.iter().map(|s| s.api_requests).sum();
    eprintln!(
        "kube-doctor: wrote {} ({} API requests, {} Prometheus queries)",
        args.out.display(),
        requests,
        bundle
            .steps
            .iter()
            .map(|s| s.prometheus_queries)
            .sum::<u32>()
    );
    Ok(ExitCode::SUCCESS)
}
