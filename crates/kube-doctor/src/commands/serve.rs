//! `kube-doctor serve`: resolves the settings and the token, connects, and starts the server
//! (`crate::serve`). Exit 0 after a clean shutdown, 2 when it cannot start.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::ServeArgs;
use crate::collect::Context;
use crate::serve::{self, ServeConfig, metrics::ServeMetrics, sinks::Notifier};
use crate::source::metrics::ApiRequestCounter;

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let token = match (&args.token_file, std::env::var("KUBE_DOCTOR_TOKEN").ok()) {
        (Some(path), _) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read --token-file {}: {e}", path.display()))?
                .trim()
                .to_string(),
        ),
        (None, Some(t)) => Some(t.trim().to_string()),
        (None, None) => None,
    };
    match (&token, args.insecure_no_auth) {
        (Some(t), _) if t.is_empty() => {
            anyhow::bail!("the token is empty; put a secret in --token-file or KUBE_DOCTOR_TOKEN")
        }
        (None, false) => anyhow::bail!(
            "serve needs a bearer token for /api/*: give --token-file FILE or KUBE_DOCTOR_TOKEN, or --insecure-no-auth on a trusted network"
        ),
        _ => {}
    }
    let settings = crate::collect::context::resolve_settings(
        &args.cluster,
        &args.rates,
        Some(&args.windows),
        &args.limits,
        Duration::from_secs(5),
    )
    .await?;
    let notifier = args.notify_webhook.clone().map(Notifier::new).transpose()?;
    let counter = ApiRequestCounter::default();
    let metrics = Arc::new(ServeMetrics::new(counter.clone()));
    let base = Context::connect(settings, counter)?;
    let config = ServeConfig {
        listen: args.listen.clone(),
        token,
        queue_size: args.queue_size,
        cooldown: args.cooldown,
        keep_reports: args.keep_reports,
        keep_reports_bytes: args.serve_limits.keep_reports_bytes,
        max_body: args.max_body_bytes,
        workers: args.workers,
        events: !args.no_events,
        notifier,
        drain: args.serve_limits.shutdown_grace,
        max_connections: args.serve_limits.max_connections,
        header_timeout: args.serve_limits.header_timeout,
        body_timeout: args.serve_limits.body_timeout,
    };
    serve::run(config, base, metrics).await?;
    Ok(ExitCode::SUCCESS)
}
