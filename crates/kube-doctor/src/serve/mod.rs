//! `kube-doctor serve`: the same pipeline, started by an Alertmanager webhook. Its parts:
//! [`conn`] (connections: bounds and timeouts before any handler), [`http`] (the surface:
//! alerts in, reports out, health and metrics), [`alerts`] (the webhook payload), [`queue`]
//! (admission: a bounded queue, de-duplication), [`workers`] (investigations), [`sinks`]
//! (Events, chat), [`store`] (recent reports, bounded in count and bytes), [`metrics`],
//! [`ready`] (`/readyz`: serving and the API server reachable, checked gently).
//! [`run`] wires them, serves until SIGTERM or Ctrl-C, then closes every connection (idle ones
//! at once), closes the queue and lets running investigations finish for at most
//! `--shutdown-grace`, counted from the signal.

pub mod alerts;
pub mod conn;
pub mod http;
pub mod metrics;
pub mod queue;
pub mod ready;
pub mod sinks;
pub mod store;
pub mod workers;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::collect::Context;

/// Connections served at once unless `--max-connections` says otherwise (and the open-file
/// limit allows).
pub const DEFAULT_MAX_CONNECTIONS: usize = 8192;

/// Connections beyond `--max-connections` that may still ask `/healthz`, `/readyz`, `/metrics`.
pub const HEALTH_RESERVE: usize = 32;

/// A connection is asked to close after this long (it reconnects if it has more to say).
pub const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(600);

/// What `serve` needs beyond the investigation settings.
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: String,
    /// The bearer token for /api/*, `None` only with `--insecure-no-auth`.
    pub token: Option<String>,
    /// Queue bound.
    pub queue_size: usize,
    /// De-duplication cool-down.
    pub cooldown: Duration,
    /// Reports kept.
    pub keep_reports: usize,
    /// Bytes of report JSON kept.
    pub keep_reports_bytes: usize,
    /// Largest request body.
    pub max_body: usize,
    /// Investigations at once.
    pub workers: usize,
    /// Create Events on client pods.
    pub events: bool,
    /// Chat webhook.
    pub notifier: Option<sinks::Notifier>,
    /// Running investigations are waited for this long after SIGTERM.
    pub drain: Duration,
    /// Connections served at once (`None`: [`DEFAULT_MAX_CONNECTIONS`]), always lowered to
    /// what the open-file limit allows.
    pub max_connections: Option<usize>,
    /// Silence and request-head timeout (see [`conn::ConnLimits::header_timeout`]).
    pub header_timeout: Duration,
    /// Whole-body deadline.
    pub body_timeout: Duration,
}

impl ServeConfig {
    /// The connection bounds: `max_connections` plus [`HEALTH_RESERVE`], lowered to fit the
    /// open-file limit (raised first if the hard limit allows).
    pub fn conn_limits(&self) -> anyhow::Result<conn::ConnLimits> {
        for (flag, d) in [
            ("--header-timeout", self.header_timeout),
            ("--body-timeout", self.body_timeout),
        ] {
            if d.is_zero() {
                anyhow::bail!("{flag} is 0: give it a duration like 10s");
            }
        }
        let wanted = self
            .max_connections
            .unwrap_or(DEFAULT_MAX_CONNECTIONS)
            .max(1);
        let budget = conn::fd_budget(wanted + HEALTH_RESERVE)
            .map_err(|e| anyhow::anyhow!("cannot read the open-file limit (RLIMIT_NOFILE): {e}"))?;
        let reserve = HEALTH_RESERVE.min(budget.connections / 8);
        let fits = budget.connections.saturating_sub(reserve);
        if fits < 16 {
            anyhow::bail!(
                "the open-file limit ({}) leaves room for only {fits} connections after {} descriptors of headroom; raise it (ulimit -n) to at least {}",
                budget.soft_limit,
                conn::FD_HEADROOM,
                conn::FD_HEADROOM + 16 + HEALTH_RESERVE as u64
            );
        }
        if fits < wanted && self.max_connections.is_some() {
            tracing::warn!(
                asked = wanted,
                allowed = fits,
                open_file_limit = budget.soft_limit,
                "--max-connections lowered to what the open-file limit allows"
            );
        }
        tracing::info!(
            max_connections = fits.min(wanted),
            reserve,
            open_file_limit = budget.soft_limit,
            raised_from = budget.was,
            "connection bounds"
        );
        Ok(conn::ConnLimits {
            max_connections: fits.min(wanted),
            reserve,
            header_timeout: self.header_timeout,
            max_lifetime: MAX_CONNECTION_LIFETIME,
        })
    }
}

/// Serves until SIGTERM or Ctrl-C. `base` is connected; each alert gets its own run.
pub async fn run(
    config: ServeConfig,
    base: Context,
    metrics: Arc<metrics::ServeMetrics>,
) -> anyhow::Result<()> {
    let limits = config.conn_limits()?;
    let kube = base.kube.clone();
    let investigator: Arc<dyn workers::Investigator> = Arc::new(workers::LiveInvestigator { base });
    let (queue, rx) = queue::Queue::new(config.queue_size, config.cooldown);
    let queue = Arc::new(queue);
    let store = Arc::new(store::ReportStore::with_max_bytes(
        config.keep_reports,
        config.keep_reports_bytes,
    ));
    let ready = ready::Readiness::new(
        kube.server.clone(),
        Some(ready::apiserver_probe(kube.client.clone())),
        ready::CHECK_TIMEOUT,
        ready::CACHE_FOR,
    );
    let app = Arc::new(http::App {
        queue: queue.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        token: config.token,
        max_body: config.max_body,
        body_timeout: config.body_timeout,
        ready: ready.clone(),
    });
    let listener = conn::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let sinks = Arc::new(sinks::Sinks {
        kube: config.events.then_some(kube),
        notifier: config.notifier,
    });
    let workers = workers::spawn(
        config.workers.max(1),
        rx,
        store,
        metrics.clone(),
        investigator,
        sinks,
    );
    ready.set_serving(true);
    tracing::info!(listen = %config.listen, "serving");
    eprintln!(
        "kube-doctor: serving on {}",
        listener
            .local_addr()
            .map_or(config.listen.clone(), |a| a.to_string())
    );
    let stop = CancellationToken::new();
    let serving = tokio::spawn(conn::serve(
        listener,
        http::router(app.clone()),
        http::health_router(app),
        limits,
        metrics,
        stop.clone(),
        conn::CLOSE_GRACE.min(config.drain),
    ));
    shutdown_signal(ready).await;
    let signalled = Instant::now();
    stop.cancel();
    serving
        .await
        .map_err(|e| anyhow::anyhow!("the server task failed: {e}"))?;
    // No more alerts: the workers finish what they hold and end.
    queue.close();
    let grace = config.drain.saturating_sub(signalled.elapsed());
    let mut workers = workers;
    let drained = tokio::time::timeout(grace, async {
        for w in &mut workers {
            let _ = w.await;
        }
    })
    .await;
    if drained.is_err() {
        let running = workers.iter().filter(|w| !w.is_finished()).count();
        tracing::warn!(
            running,
            grace = %humantime::format_duration(config.drain),
            "investigations still running after --shutdown-grace; exiting without them"
        );
        eprintln!(
            "kube-doctor: {running} investigation(s) still running after the {} shutdown grace were abandoned",
            humantime::format_duration(config.drain)
        );
    }
    Ok(())
}

async fn shutdown_signal(ready: Arc<ready::Readiness>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    ready.set_serving(false);
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    ready.set_serving(false);
    eprintln!("kube-doctor: shutting down");
}
