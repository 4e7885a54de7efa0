//! `kube-doctor collect --out BUNDLE`: the playbook's evidence, as a bundle file. Exit 0 when
//! the bundle was written with the client error rates in it, 2 when it could not be written or
//! holds no client error rates (it is still written, and the reason is said).

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::CollectArgs;
use crate::collect::{self, Context};
use crate::source::metrics::ApiRequestCounter;

pub async fn run(args: CollectArgs) -> anyhow::Result<ExitCode> {
    let settings = crate::collect::context::resolve_settings(
        &args.cluster,
        &args.rates,
        None,
        &args.limits,
        Duration::from_secs(5),
    )
    .await?;
    let bundle = if settings.cluster.is_none() {
        collect::offline(&settings)
    } else {
        let cx = Context::connect(settings, ApiRequestCounter::default())?;
        let progress = crate::report_out::progress();
        collect::collect(&cx, progress.as_ref()).await
    };
    crate::report_out::write_bundle(&args.out, &bundle)?;
    crate::report_out::warn_incomplete(&bundle);
    let requests: u32 = bundle.steps.iter().map(|s| s.api_requests).sum();
    let queries: u32 = bundle.steps.iter().map(|s| s.prometheus_queries).sum();
    eprintln!(
        "kube-doctor: wrote {} ({requests} API requests, {queries} Prometheus queries)",
        args.out.display()
    );
    Ok(match crate::report_out::rates_unread(&bundle) {
        Some(why) => {
            eprintln!("kube-doctor: the bundle holds no client error rates: {why}");
            ExitCode::from(2)
        }
        None => ExitCode::SUCCESS,
    })
}
