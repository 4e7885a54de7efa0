//! `kube-doctor serve`: the same pipeline, started by an Alertmanager webhook. Alerts are
//! acknowledged at once and de-duplicated; a few workers take investigations from a bounded
//! queue, each scoped to the alert's job/instance; each report is kept (bounded), announced
//! as a Kubernetes Event on the client pod, and optionally posted to a chat webhook.
//! SIGTERM or Ctrl-C stops accepting, lets running investigations finish (for a while), and
//! exits.

pub mod alerts;
pub mod metrics;
pub mod router;
pub mod state;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::Api;
use kube::api::PostParams;
use kube_doctor_core::diagnose::{self, Windows};
use kube_doctor_core::report::Report;
use tokio::sync::{Mutex, mpsc};

use crate::cli::ServeArgs;
use crate::collect::{Collector, Quiet};
use crate::source::metrics::ApiRequestCounter;
use metrics::{InvestigationLabels, ServeMetrics};
use state::{Job, ServeState};

/// Runs one investigation for a client: what the workers call. The real one collects and
/// diagnoses; tests of the HTTP surface use a recording one.
pub trait Investigator: Send + Sync {
    fn investigate(
        &self,
        client: String,
    ) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send + '_>>;
}

/// Collect, then diagnose, scoped to one client.
pub struct LiveInvestigator {
    pub template: Collector,
    pub since: Duration,
    pub windows: Windows,
}

impl Investigator for LiveInvestigator {
    fn investigate(
        &self,
        client: String,
    ) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send + '_>> {
        Box::pin(async move {
            let mut c = self.template.clone();
            c.client_selector = Some(client);
            c.window = crate::commands::setup::window(self.since);
            let bundle = c.collect(&Quiet).await;
            Ok(diagnose::diagnose(&bundle, self.windows))
        })
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
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
    let counter = ApiRequestCounter::default();
    let template = crate::commands::setup::collector(
        &args.cluster,
        &args.rates,
        &args.limits,
        Duration::from_secs(5),
        counter.clone(),
    )
    .await?;
    let kube = template.kube.clone();
    let investigator: Arc<dyn Investigator> = Arc::new(LiveInvestigator {
        template,
        since: args.rates.since,
        windows: crate::commands::diagnose::windows(&args.windows),
    });
    let (state, rx) = ServeState::new(args.queue_size, args.cooldown, args.keep_reports);
    let state = Arc::new(state);
    let metrics = Arc::new(ServeMetrics::new(counter));
    let ready = Arc::new(AtomicBool::new(false));
    let app = Arc::new(router::App {
        state: state.clone(),
        metrics: metrics.clone(),
        token,
        max_body: args.max_body_bytes,
        ready: ready.clone(),
    });
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", args.listen))?;
    let notifier = args.notify_webhook.clone().map(Notifier::new).transpose()?;
    let sinks = Arc::new(Sinks {
        kube: (!args.no_events).then_some(kube),
        notifier,
    });
    let workers = spawn_workers(
        args.workers.max(1),
        rx,
        state.clone(),
        metrics.clone(),
        investigator,
        sinks,
    );
    ready.store(true, Ordering::Relaxed);
    tracing::info!(listen = %args.listen, "serving");
    eprintln!(
        "kube-doctor: serving on {}",
        listener
            .local_addr()
            .map_or(args.listen.clone(), |a| a.to_string())
    );
    axum::serve(listener, router::router(app))
        .with_graceful_shutdown(shutdown_signal(ready))
        .await
        .map_err(|e| anyhow::anyhow!("server error: {e}"))?;
    // Let running investigations finish, for a while.
    let _ = tokio::time::timeout(Duration::from_secs(30), async {
        for w in workers {
            let _ = w.await;
        }
    })
    .await;
    Ok(std::process::ExitCode::SUCCESS)
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

/// Where reports go besides the store.
pub struct Sinks {
    /// Creates Events on client pods, when enabled.
    pub kube: Option<crate::source::kube::Kube>,
    /// Posts chat messages, when configured.
    pub notifier: Option<Notifier>,
}

/// Starts `n` workers taking jobs from the queue. They end when the queue is closed.
pub fn spawn_workers(
    n: usize,
    rx: mpsc::Receiver<Job>,
    state: Arc<ServeState>,
    metrics: Arc<ServeMetrics>,
    investigator: Arc<dyn Investigator>,
    sinks: Arc<Sinks>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let rx = Arc::new(Mutex::new(rx));
    (0..n)
        .map(|_| {
            let (rx, state, metrics, investigator, sinks) =
                (rx.clone(), state.clone(), metrics.clone(), investigator.clone(), sinks.clone());
            tokio::spawn(async move {
                loop {
                    let job = { rx.lock().await.recv().await };
                    let Some(job) = job else { break };
                    metrics.queue_depth.set(state.queue_depth() as i64);
                    tracing::info!(client = %job.client, waited = ?job.queued_at.elapsed(), "investigating");
                    let started = Instant::now();
                    let result = investigator.investigate(job.client.clone()).await;
                    metrics.duration.observe(started.elapsed().as_secs_f64());
                    let (outcome, cause) = match &result {
                        Ok(r) if r.problem_found() => ("problem", r.top().map_or("none", |v| v.cause.as_str())),
                        Ok(_) => ("clean", "none"),
                        Err(_) => ("failed", "none"),
                    };
                    metrics
                        .investigations
                        .get_or_create(&InvestigationLabels {
                            outcome: outcome.to_string(),
                            cause: cause.to_string(),
                        })
                        .inc();
                    if let Ok(r) = &result {
                        if let Some(k) = &sinks.kube
                            && let Err(e) = announce(k, r).await
                        {
                            tracing::warn!(client = %job.client, error = %e, "could not create the Event");
                        }
                        if let Some(n) = &sinks.notifier {
                            n.post(r).await;
                        }
                    }
                    let id = state.store(job.client.clone(), result);
                    tracing::info!(client = %job.client, report = %id, outcome, cause, "investigation done");
                }
            })
        })
        .collect()
}

/// A Kubernetes Event on each failing client pod the report names, with the verdict.
async fn announce(kube: &crate::source::kube::Kube, r: &Report) -> Result<(), String> {
    let Some(top) = r.top().filter(|_| r.problem_found()) else {
        return Ok(());
    };
    for c in &r.clients {
        let kube_doctor_core::bundle::Target::Pod {
            namespace, name, ..
        } = &c.target
        else {
            continue;
        };
        if !top.clients.contains(&c.id) {
            continue;
        }
        let now = Timestamp::now();
        let message: String = format!(
            "{} ({:.0}%): {}",
            top.cause,
            top.confidence * 100.0,
            top.summary
        )
        .chars()
        .take(1000)
        .collect();
        let event = Event {
            metadata: ObjectMeta {
                generate_name: Some(format!("{name}.kube-doctor.")),
                namespace: Some(namespace.clone()),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some("Pod".into()),
                namespace: Some(namespace.clone()),
                name: Some(name.clone()),
                api_version: Some("v1".into()),
                ..Default::default()
            },
            reason: Some("KubeDoctorDiagnosis".into()),
            message: Some(message),
            type_: Some("Warning".into()),
            count: Some(1),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: Some(MicroTime(now)),
            action: Some("Diagnosed".into()),
            reporting_component: Some("kube-doctor".into()),
            reporting_instance: Some("kube-doctor".into()),
            source: Some(EventSource {
                component: Some("kube-doctor".into()),
                host: None,
            }),
            ..Default::default()
        };
        let ctx = crate::source::kube::StepCtx::new(0, Duration::from_secs(10));
        kube.call(
            &ctx,
            crate::source::kube::Perm::ns("", "events", "create", namespace),
            |client| {
                let (ev, ns) = (event.clone(), namespace.clone());
                async move {
                    Api::<Event>::namespaced(client, &ns)
                        .create(&PostParams::default(), &ev)
                        .await
                }
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Posts a Slack-compatible message (`{"text": ...}`) for each report with a problem.
pub struct Notifier {
    http: reqwest::Client,
    url: String,
}

impl Notifier {
    pub fn new(url: String) -> anyhow::Result<Notifier> {
        reqwest::Url::parse(&url)
            .map_err(|e| anyhow::anyhow!("--notify-webhook {url:?} is not a URL: {e}"))?;
        Ok(Notifier {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| anyhow::anyhow!("cannot build an HTTP client: {e}"))?,
            url,
        })
    }

    async fn post(&self, r: &Report) {
        let Some(top) = r.top().filter(|_| r.problem_found()) else {
            return;
        };
        let text = format!(
            "*KubeClientErrors* — {} ({:.0}%): {}\nDo: {}",
            top.cause,
            top.confidence * 100.0,
            top.summary,
            top.remediation
                .first()
                .map(|s| s.lines().next().unwrap_or_default())
                .unwrap_or_default()
        );
        if let Err(e) = self
            .http
            .post(&self.url)
            .json(&serde_json::json!({"text": text}))
            .send()
            .await
        {
            tracing::warn!(error = %e, "could not post the notification");
        }
    }
}
