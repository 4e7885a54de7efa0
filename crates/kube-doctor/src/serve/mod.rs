//! `kube-doctor serve`: the same pipeline, started by an Alertmanager webhook. Its parts:
//! [`http`] (the surface: alerts in, reports out, health and metrics), [`alerts`] (the
//! webhook payload), [`queue`] (admission: a bounded queue, de-duplication), [`workers`]
//! (investigations), [`sinks`] (Events, chat), [`store`] (recent reports), [`metrics`].
//! [`run`] wires them, serves until SIGTERM or Ctrl-C, then lets running investigations
//! finish for a while.

pub mod alerts;
pub mod http;
pub mod metrics;
pub mod queue;
pub mod sinks;
pub mod store;
pub mod workers;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::collect::Context;

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
}

/// Serves until SIGTERM or Ctrl-C. `base` is connected; each alert gets its own run.
pub async fn run(
    config: ServeConfig,
    base: Context,
    metrics: Arc<metrics::ServeMetrics>,
) -> anyhow::Result<()> {
    let kube = base.kube.clone();
    let investigator: Arc<dyn workers::Investigator> = Arc::new(workers::LiveInvestigator { base });
    let (queue, rx) = queue::Queue::new(config.queue_size, config.cooldown);
    let queue = Arc::new(queue);
    let store = Arc::new(store::ReportStore::new(config.keep_reports));
    let ready = Arc::new(AtomicBool::new(false));
    let app = Arc::new(http::App {
        queue: queue.clone(),
        store: store.clone(),
        metrics: metrics.clone(),
        token: config.token,
        max_body: config.max_body,
        ready: ready.clone(),
    });
    let listener = tokio::net::TcpListener::bind(&config.listen)
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
        metrics,
        investigator,
        sinks,
    );
    ready.store(true, Ordering::Relaxed);
    tracing::info!(listen = %config.listen, "serving");
    eprintln!(
        "kube-doctor: serving on {}",
        listener
            .local_addr()
            .map_or(config.listen.clone(), |a| a.to_string())
    );
    axum::serve(listener, http::router(app))
        .with_graceful_shutdown(shutdown_signal(ready))
        .await
        .map_err(|e| anyhow::anyhow!("server error: {e}"))?;
    // Let running investigations finish, for a while.
    drop(queue);
    let _ = tokio::time::timeout(config.drain, async {
        for w in workers {
            let _ = w.await;
        }
    })
    .await;
    Ok(())
}

async fn shutdown_signal(ready: Arc<AtomicBool>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    ready.store(false, Ordering::Relaxed);
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
    ready.store(false, Ordering::Relaxed);
    eprintln!("kube-doctor: shutting down");
}
