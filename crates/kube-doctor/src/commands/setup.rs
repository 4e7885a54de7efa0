//! From typed arguments to a ready [`Collector`]: connect to the cluster and Prometheus, fix
//! the window. Shared by `clients`, `collect`, `investigate` and `serve`.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use kube_doctor_core::bundle::Window;

use crate::cli::{ClusterArgs, LimitArgs, RateArgs};
use crate::collect::Collector;
use crate::source::kube::Kube;
use crate::source::metrics::ApiRequestCounter;
use crate::source::prometheus::Prometheus;

/// Builds a collector for a window ending now.
pub async fn collector(
    cluster: &ClusterArgs,
    rates: &RateArgs,
    limits: &LimitArgs,
    scrape_interval: Duration,
    counter: ApiRequestCounter,
) -> anyhow::Result<Collector> {
    if !(rates.threshold > 0.0 && rates.threshold < 1.0) {
        anyhow::bail!(
            "--threshold {} is not a ratio between 0 and 1 (the alert uses 0.01)",
            rates.threshold
        );
    }
    let kube = Kube::connect(
        cluster.kubeconfig.as_deref(),
        cluster.context.as_deref(),
        limits.max_inflight,
        limits.step_timeout,
        counter,
    )
    .await?;
    // An empty URL (e.g. PROMETHEUS_URL= in the environment) means no Prometheus.
    let prometheus = match rates.prometheus.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => Some(Prometheus::new(
            url,
            limits.step_timeout.min(Duration::from_secs(10)),
        )?),
        _ => None,
    };
    if let Some(path) = &rates.audit_log
        && let Err(e) = std::fs::metadata(path)
    {
        anyhow::bail!("cannot read audit log {}: {e}", path.display());
    }
    Ok(Collector {
        kube,
        prometheus,
        window: window(rates.since),
        threshold: rates.threshold,
        client_selector: rates.client.clone(),
        namespace: cluster.namespace.clone(),
        audit_log: rates.audit_log.clone(),
        step_timeout: limits.step_timeout,
        log_bytes: limits.log_bytes,
        scrape_interval,
    })
}

/// The window of the last `since`, ending now.
pub fn window(since: Duration) -> Window {
    let to = Timestamp::now();
    let from = to - SignedDuration::try_from(since).unwrap_or(SignedDuration::from_mins(15));
    Window { from, to }
}
