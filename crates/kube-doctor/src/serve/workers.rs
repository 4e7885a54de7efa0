//! `serve`'s workers: take jobs from the queue, investigate (collect and diagnose, scoped to
//! the alert's client and cluster, in a window that reaches back from the alert's `startsAt`
//! over its rule's `for:` and lookback), count the outcome, hand the report to the sinks and
//! the store. The [`Investigator`] is a trait so tests run workers with a double.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use kube_doctor_core::diagnose;
use kube_doctor_core::report::{Outcome, Report};
use tokio::sync::{Mutex, mpsc};

use std::time::Duration;

use super::alerts::{self, Alert, RuleTiming};
use super::metrics::{InvestigationLabels, ServeMetrics};
use super::queue::Job;
use super::sinks::{Sinks, announce};
use super::store::ReportStore;
use crate::collect::{self, Context, Quiet};
use crate::source::kube::StepCtx;

/// Runs one investigation for a client: what the workers call.
pub trait Investigator: Send + Sync {
    /// Investigates `client` (a `job/instance` id); `Err` says why it could not.
    fn investigate(
        &self,
        client: String,
    ) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send + '_>>;

    /// Investigates what `alert` asks for (its client, cluster and time); `client` is the
    /// job's key. Without an alert, or by default, [`Investigator::investigate`].
    fn investigate_alert(
        &self,
        client: String,
        alert: Option<Alert>,
    ) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send + '_>> {
        let _ = alert;
        self.investigate(client)
    }
}

/// Collect, then diagnose, scoped to one alert's client and cluster, in its window.
pub struct LiveInvestigator {
    /// The connected clients and the base settings (each run gets its own window and scope).
    pub base: Context,
}

impl LiveInvestigator {
    /// The rule that fired `alert`, as Prometheus' rules API describes it (`None` when there
    /// is no Prometheus, it has no rules API, or no rule of that name).
    async fn rule(&self, alert: &Alert) -> Option<RuleTiming> {
        let prom = self.base.prometheus.as_ref()?;
        let ctx = StepCtx::new(0, Duration::from_secs(10));
        let rules = match prom.rules(&ctx).await {
            Ok(r) => r,
            Err(e) => {
                tracing::info!(error = %e, "the rules API did not answer: assuming the upstream rule's for:");
                return None;
            }
        };
        let r = alerts::rule_for(&rules, alert)?;
        Some(RuleTiming {
            for_: Duration::from_secs_f64(r.for_seconds.max(0.0)),
            interval: r
                .interval_seconds
                .filter(|s| *s > 0.0)
                .map(Duration::from_secs_f64),
            query: r.query.clone(),
        })
    }
}

impl LiveInvestigator {
    /// Why the alert's `label=value` must not scope the queries, when it must not: this
    /// Prometheus' client series carry no `label` at all, so the value came from its external
    /// labels (kube-prometheus-stack sets `cluster` there: Alertmanager gets it, the stored
    /// series do not). `None` when the series carry the label, or Prometheus cannot say.
    async fn external_cluster(&self, label: &str, value: &str) -> Option<String> {
        let prom = self.base.prometheus.as_ref()?;
        let ctx = StepCtx::new(0, Duration::from_secs(10));
        let q = format!(
            "count by ({label}) ({})",
            kube_doctor_core::playbook::step3_client_rates::METRIC
        );
        let samples = prom.instant(&ctx, &q, Timestamp::now()).await.ok()?;
        only_external(&samples, label).then(|| {
            format!(
                "not scoped to the alert's {label}={}: none of this Prometheus' client series carries {label} (an external label, added to the alerts it sends)",
                kube_doctor_core::prometheus::string_literal(&kube_doctor_core::escape::one_line(value, 100))
            )
        })
    }
}

/// Whether `count by (label) (...)` answered series and none of them carries `label`.
pub fn only_external(samples: &[kube_doctor_core::prometheus::InstantSample], label: &str) -> bool {
    !samples.is_empty()
        && samples
            .iter()
            .all(|s| s.labels.get(label).is_none_or(|v| v.is_empty()))
}

impl Investigator for LiveInvestigator {
    fn investigate(
        &self,
        client: String,
    ) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send + '_>> {
        Box::pin(async move {
            let mut settings = self.base.settings.clone();
            let since = settings.window.length().unsigned_abs();
            settings.window = kube_doctor_core::bundle::Window::ending_at(Timestamp::now(), since);
            settings.scope.client = Some(client);
            let judging = settings.diagnosis;
            let cx = self.base.for_run(settings);
            let bundle = collect::collect(&cx, &Quiet).await;
            Ok(diagnose::diagnose(&bundle, &judging))
        })
    }

    fn investigate_alert(
        &self,
        client: String,
        alert: Option<Alert>,
    ) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send + '_>> {
        Box::pin(async move {
            let Some(alert) = alert else {
                return self.investigate(client).await;
            };
            let rule = self.rule(&alert).await;
            let Some(context) = alert.context(rule.as_ref()) else {
                return self.investigate(client).await;
            };
            let mut settings = self
                .base
                .settings
                .for_alert(&context, Timestamp::now())
                .map_err(|e| e.to_string())?;
            if self.base.settings.prometheus.scope.cluster.is_none()
                && let Some(c) = settings.prometheus.scope.cluster.clone()
                && let Some(why) = self
                    .external_cluster(&settings.prometheus.scope.cluster_label, &c)
                    .await
            {
                tracing::info!(cluster = %c, "the alert's cluster label is on no series: not scoping to it");
                settings.prometheus.scope.cluster = None;
                settings.prometheus.scope.cluster_note = Some(why);
            }
            tracing::info!(
                client = %context.key,
                from = %settings.window.from,
                to = %settings.window.to,
                form = ?context.form,
                "the alert's window"
            );
            let judging = settings.diagnosis;
            let cx = self.base.for_run(settings);
            let bundle = collect::collect(&cx, &Quiet).await;
            Ok(diagnose::diagnose(&bundle, &judging))
        })
    }
}

/// The `outcome` label of an investigation (DESIGN.md serve outcomes): `diagnosed`, `clean`,
/// or `incomplete` when it could not say (never `clean` for a firing alert it could not
/// investigate).
pub fn outcome(result: &Result<Report, String>) -> (&'static str, &str) {
    match result {
        Ok(r) => match r.outcome() {
            Outcome::Diagnosed => ("diagnosed", r.top().map_or("none", |v| v.cause.as_str())),
            Outcome::Clean => ("clean", "none"),
            Outcome::Blind(_) => ("incomplete", "none"),
        },
        Err(_) => ("incomplete", "none"),
    }
}

/// The report as the Event tells it: the top verdict's summary led by the alert's identity
/// (`KubeClientErrors cluster=a namespace=b:`), so the Event says which alert and scope it
/// answers.
pub fn with_alert_scope(r: &Report, alert: Option<&Alert>) -> Report {
    let mut r = r.clone();
    let Some(a) = alert else { return r };
    let mut who: Vec<String> = a
        .labels
        .get("alertname")
        .map(|n| kube_doctor_core::escape::one_line(n, 80))
        .into_iter()
        .collect();
    for k in ["cluster", "namespace", "pod"] {
        if let Some(v) = a.labels.get(k).filter(|v| !v.is_empty()) {
            who.push(format!("{k}={}", kube_doctor_core::escape::one_line(v, 80)));
        }
    }
    if let Some(top) = r.verdicts.first_mut()
        && !who.is_empty()
    {
        top.summary = format!("{}: {}", who.join(" "), top.summary);
    }
    r
}

/// Starts `n` workers taking jobs from the queue. They end when the queue is closed (every
/// [`super::queue::Queue`] handle dropped) and empty; they hold none themselves.
pub fn spawn(
    n: usize,
    rx: mpsc::Receiver<Job>,
    store: Arc<ReportStore>,
    metrics: Arc<ServeMetrics>,
    investigator: Arc<dyn Investigator>,
    sinks: Arc<Sinks>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let rx = Arc::new(Mutex::new(rx));
    (0..n)
        .map(|_| {
            let (rx, store, metrics, investigator, sinks) = (
                rx.clone(),
                store.clone(),
                metrics.clone(),
                investigator.clone(),
                sinks.clone(),
            );
            tokio::spawn(async move {
                loop {
                    let (job, waiting) = {
                        let mut rx = rx.lock().await;
                        let job = rx.recv().await;
                        (job, rx.len())
                    };
                    let Some(job) = job else { break };
                    metrics.queue_depth.set(waiting as i64);
                    tracing::info!(client = %job.client, waited = ?job.queued_at.elapsed(), "investigating");
                    let started = Instant::now();
                    let result = investigator
                        .investigate_alert(job.client.clone(), job.alert.clone())
                        .await;
                    metrics.duration.observe(started.elapsed().as_secs_f64());
                    let (outcome, cause) = outcome(&result);
                    metrics
                        .investigations
                        .get_or_create(&InvestigationLabels {
                            outcome: outcome.to_string(),
                            cause: cause.to_string(),
                        })
                        .inc();
                    if let Ok(r) = &result {
                        if let Some(k) = &sinks.kube
                            && let Err(e) = announce(k, &with_alert_scope(r, job.alert.as_ref())).await
                        {
                            tracing::warn!(client = %job.client, error = %e, "could not create the Event");
                        }
                        if let Some(n) = &sinks.notifier {
                            n.post(r).await;
                        }
                    }
                    let id = store.store(job.client.clone(), result);
                    tracing::info!(client = %job.client, report = %id, outcome, "investigation done");
                }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_label_on_no_series_is_external() {
        let sample = |labels: &[(&str, &str)]| kube_doctor_core::prometheus::InstantSample {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: 8.0,
        };
        // kube-prometheus-stack: `cluster` only in the external labels.
        assert!(only_external(&[sample(&[])], "cluster"));
        // A global view: the series carry it.
        assert!(!only_external(
            &[sample(&[("cluster", "lab")]), sample(&[])],
            "cluster"
        ));
        // No answer: nothing can be said, the scope stays.
        assert!(!only_external(&[], "cluster"));
    }
    use crate::serve::queue::Queue;
    use crate::source::metrics::ApiRequestCounter;

    /// A test double: answers with the diagnosis of a recorded bundle, or fails, and records
    /// which clients it was asked about.
    struct Recorded {
        bundle: Option<kube_doctor_core::bundle::Bundle>,
        asked: std::sync::Mutex<Vec<String>>,
    }

    impl Investigator for Recorded {
        fn investigate(
            &self,
            client: String,
        ) -> Pin<Box<dyn Future<Output = Result<Report, String>> + Send + '_>> {
            self.asked.lock().unwrap().push(client);
            Box::pin(async move {
                match &self.bundle {
                    Some(b) => Ok(diagnose::diagnose(b, &diagnose::Settings::default())),
                    None => Err("the API server did not answer".to_string()),
                }
            })
        }
    }

    fn bundle(name: &str) -> kube_doctor_core::bundle::Bundle {
        let path = format!(
            "{}/../kube-doctor-core/tests/fixtures/bundles/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        kube_doctor_core::bundle::Bundle::from_json(&std::fs::read(path).unwrap()).unwrap()
    }

    async fn run_one(investigator: Arc<Recorded>, client: &str) -> (Arc<ReportStore>, String) {
        let (queue, rx) = Queue::new(4, Duration::from_secs(60));
        let queue = Arc::new(queue);
        let store = Arc::new(ReportStore::new(10));
        let metrics = Arc::new(ServeMetrics::new(ApiRequestCounter::default()));
        let sinks = Arc::new(Sinks {
            kube: None,
            notifier: None,
        });
        let workers = spawn(1, rx, store.clone(), metrics.clone(), investigator, sinks);
        queue.admit(client, Instant::now());
        drop(queue);
        for w in workers {
            w.await.unwrap();
        }
        (store, metrics.encode())
    }

    #[tokio::test]
    async fn workers_store_reports_and_count_outcomes() {
        let inv = Arc::new(Recorded {
            bundle: Some(bundle("rbac-revoked")),
            asked: Default::default(),
        });
        let (store, metrics) = run_one(inv.clone(), "demo-clients/127.0.1.2:18082").await;
        assert_eq!(
            *inv.asked.lock().unwrap(),
            vec!["demo-clients/127.0.1.2:18082"]
        );
        let list = store.list();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].cause.as_deref(), Some("authorization"));
        assert!(
            metrics.contains(
                "kube_doctor_investigations_total{outcome=\"diagnosed\",cause=\"authorization\"} 1"
            ),
            "{metrics}"
        );
    }

    #[tokio::test]
    async fn an_investigation_that_could_not_look_is_incomplete_never_clean() {
        let inv = Arc::new(Recorded {
            bundle: None,
            asked: Default::default(),
        });
        let (store, metrics) = run_one(inv, "j/i").await;
        assert!(store.list()[0].summary.contains("did not answer"));
        assert!(
            metrics.contains(
                "kube_doctor_investigations_total{outcome=\"incomplete\",cause=\"none\"} 1"
            ),
            "{metrics}"
        );
    }
}
