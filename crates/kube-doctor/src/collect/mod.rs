//! Collect: the KubeClientErrors playbook, executed. One collector per step (`stepN_*.rs`);
//! this module runs them in three phases, concurrently within a phase, under one shared
//! in-flight limit, each with its own time budget, and assembles the bundle:
//!
//! - phase A: step 1 (API server health), step 3 (client error rates), step 7 (server
//!   metrics and callees) - none depends on another;
//! - phase B: step 2 (events), 4 (network path), 5 (logs), 8 (quota and APF) - about the
//!   failing clients step 3 found;
//! - phase C: step 6 (credentials) - it asks SubjectAccessReviews for the denials step 5 read.
//!
//! A step that fails, times out or is forbidden is recorded as such; the others go on
//! ("fail forward"). Collect never writes to the cluster: TokenReview and SubjectAccessReview
//! are the only POSTs, and they store nothing.

pub mod step1_apiserver_pods;
pub mod step2_events;
pub mod step3_client_rates;
pub mod step4_network_path;
pub mod step5_logs;
pub mod step6_credentials;
pub mod step7_server_metrics;
pub mod step8_quota_and_apf;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube_doctor_core::bundle::{
    Bundle, ClientRates, ClusterInfo, CollectSettings, StepRecord, StepStatus, Window, step_title,
};
use kube_doctor_core::redact::Redactor;

use crate::source::kube::{Kube, SourceError, StepCtx};
use crate::source::prometheus::Prometheus;

/// What more than one step reads, read once per run: the first step to ask makes the request,
/// any other waits for that answer. Made afresh by each [`Collector::collect`], so `serve`'s
/// investigations never share a stale answer.
#[derive(Default)]
pub struct RunShared {
    kubernetes_endpoints:
        tokio::sync::OnceCell<Result<step1_apiserver_pods::KubernetesEndpoints, SourceError>>,
}

impl RunShared {
    /// The `default/kubernetes` EndpointSlices (steps 1 and 4).
    pub async fn kubernetes_endpoints(
        &self,
        kube: &Kube,
        ctx: &StepCtx,
    ) -> Result<step1_apiserver_pods::KubernetesEndpoints, SourceError> {
        self.kubernetes_endpoints
            .get_or_init(|| step1_apiserver_pods::read_kubernetes_endpoints(kube, ctx))
            .await
            .clone()
    }
}

/// Everything a collection run needs.
#[derive(Clone)]
pub struct Collector {
    /// The API.
    pub kube: Kube,
    /// Prometheus, when given.
    pub prometheus: Option<Prometheus>,
    /// The window.
    pub window: Window,
    /// Failing threshold.
    pub threshold: f64,
    /// Scope.
    pub client_selector: Option<String>,
    /// Namespace to look for clients in when there is no Prometheus.
    pub namespace: Option<String>,
    /// Audit log to read, if any.
    pub audit_log: Option<std::path::PathBuf>,
    /// Time budget of each step.
    pub step_timeout: Duration,
    /// Bytes of log read per container instance.
    pub log_bytes: usize,
    /// Time between /metrics scrapes without Prometheus.
    pub scrape_interval: Duration,
}

/// Progress reports while collecting (a TTY shows them; tests and serve ignore them).
pub trait Progress: Send + Sync {
    /// A step started.
    fn started(&self, _step: u8) {}
    /// A step ended.
    fn finished(&self, _record: &StepRecord) {}
}

/// Reports nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// How a step's work ended, before it becomes a [`StepRecord`].
pub enum StepEnd<T> {
    /// Evidence (maybe partial: sub-calls forbidden are in the context's missing rules).
    Done(T, Option<String>),
    /// Ran, found nothing.
    Empty(T, String),
    /// Not run.
    Skipped(String),
    /// Every request that would have given evidence was forbidden (the missing rules are in
    /// the context); what little was gathered is kept.
    Forbidden(T, String),
}

/// Runs one step: budget, timing, request counting, and the mapping of errors to statuses.
pub async fn run_step<T, F, Fut>(
    step: u8,
    budget: Duration,
    progress: &dyn Progress,
    f: F,
) -> (StepRecord, Option<T>)
where
    F: FnOnce(Arc<StepCtx>) -> Fut,
    Fut: Future<Output = Result<StepEnd<T>, StepError>>,
{
    progress.started(step);
    let ctx = StepCtx::new(step, budget);
    let started = std::time::Instant::now();
    // A step may not outlive its budget by more than a little (a call in flight finishes).
    let result = match tokio::time::timeout(budget + Duration::from_secs(2), f(ctx.clone())).await {
        Ok(r) => r,
        Err(_) => Err(StepError::Source(SourceError::Timeout(budget))),
    };
    let missing = ctx.missing_rules();
    let (status, note, evidence) = match result {
        Ok(StepEnd::Done(e, note)) => {
            let note = if missing.is_empty() {
                note
            } else {
                let forbidden = "some evidence was forbidden (see missing_rules)";
                Some(note.map_or_else(|| forbidden.to_string(), |n| format!("{n}; {forbidden}")))
            };
            (StepStatus::Ok, note, Some(e))
        }
        Ok(StepEnd::Empty(e, note)) => (StepStatus::Empty, Some(note), Some(e)),
        Ok(StepEnd::Skipped(why)) => (StepStatus::Skipped, Some(why), None),
        Ok(StepEnd::Forbidden(e, note)) => (
            StepStatus::Forbidden,
            Some(format!(
                "{note}; forbidden: grant the missing_rules (see deploy/rbac.yaml)"
            )),
            Some(e),
        ),
        Err(StepError::Source(SourceError::Forbidden(rule))) => (
            StepStatus::Forbidden,
            Some(format!(
                "forbidden: grant \"{rule}\" (see deploy/rbac.yaml)"
            )),
            None,
        ),
        Err(StepError::Source(SourceError::Timeout(d))) => (
            StepStatus::Timeout,
            Some(format!("did not finish within {d:?}")),
            None,
        ),
        Err(e) => (StepStatus::Failed, Some(e.to_string()), None),
    };
    let record = StepRecord {
        step,
        title: step_title(step).to_string(),
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        api_requests: ctx.requests(),
        prometheus_queries: ctx.prometheus_queries(),
        note,
        missing_rules: missing,
    };
    progress.finished(&record);
    (record, evidence)
}

/// Why a step could not finish.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    /// The API.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Anything else, said in a sentence.
    #[error("{0}")]
    Other(String),
}

impl Collector {
    /// Runs the whole playbook.
    pub async fn collect(&self, progress: &dyn Progress) -> Bundle {
        let mut redactor = Redactor::default();
        // The classifier's automata compile on a spare thread while the first answers are on
        // their way, instead of on the critical path when steps 2 and 5 first classify.
        drop(tokio::task::spawn_blocking(|| {
            kube_doctor_core::classify::Classifier::shared();
        }));
        let settings = CollectSettings {
            threshold: self.threshold,
            client_selector: self.client_selector.clone(),
            rate_source: None,
        };
        let budget = self.step_timeout;
        let shared = RunShared::default();

        // Steps 1 and 7 (the API server: its pods or health endpoints, its metrics and its own
        // configuration) need nothing from the others: they run beside the chain
        // 3 -> 2, 4, 5, 8 -> 6, which the failing clients of step 3 drive.
        let step1 = run_step(1, budget, progress, |ctx| {
            step1_apiserver_pods::collect(self, ctx, &shared)
        });
        let step7 = run_step(7, budget, progress, |ctx| {
            step7_server_metrics::collect(self, ctx)
        });
        let chain = async {
            let s3 = run_step(3, budget, progress, |ctx| {
                step3_client_rates::collect(self, ctx)
            })
            .await;
            let failing: Vec<ClientRates> =
                s3.1.as_ref()
                    .map(|c| {
                        c.clients
                            .iter()
                            .filter(|r| r.is_failing(self.threshold))
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
            let (s2, s4, s5, s8) = tokio::join!(
                run_step(2, budget, progress, |ctx| step2_events::collect(
                    self, ctx, &failing
                )),
                run_step(4, budget, progress, |ctx| step4_network_path::collect(
                    self, ctx, &failing, &shared
                )),
                run_step(5, budget, progress, |ctx| step5_logs::collect(
                    self, ctx, &failing
                )),
                run_step(8, budget, progress, |ctx| step8_quota_and_apf::collect(
                    self, ctx, &failing
                )),
            );
            let logs = s5.1.clone().unwrap_or_default();
            let s6 = run_step(6, budget, progress, |ctx| {
                step6_credentials::collect(self, ctx, &failing, &logs)
            })
            .await;
            (s3, s2, s4, s5, s8, s6, failing)
        };
        let (version, s1, s7, (s3, s2, s4, s5, s8, s6, failing)) =
            tokio::join!(self.server_version(), step1, step7, chain);
        let cluster = ClusterInfo {
            server: self.kube.server.clone(),
            context: self.kube.context.clone(),
            version,
        };
        let mut bundle = Bundle::new(self.window, cluster, settings, self.window.to);

        bundle
            .steps
            .extend([s1.0, s2.0, s3.0, s4.0, s5.0, s6.0, s7.0, s8.0]);
        bundle.apiserver = s1.1;
        let mut clients = s3.1;
        bundle.server_metrics = s7.1;
        if let (Some(c), Some(m)) = (clients.as_mut(), bundle.server_metrics.as_ref()) {
            step3_client_rates::name_callees(c, &m.callees);
        }
        bundle.settings.rate_source = clients.as_ref().map(|c| c.source.clone());
        bundle.clients = clients;
        bundle.events = s2.1.map(|e| step2_events::redact(e, &mut redactor));
        bundle.network = s4.1.unwrap_or_default();
        bundle.logs =
            s5.1.map(|l| step5_logs::redact(l, &mut redactor))
                .unwrap_or_default();
        bundle.quota_and_flow_control = s8.1;
        bundle.credentials = s6.1.unwrap_or_default();
        if let Some(q) = bundle.quota_and_flow_control.as_mut() {
            step8_quota_and_apf::match_clients(q, &failing, &bundle.credentials);
        }

        bundle.steps.sort_by_key(|s| s.step);
        bundle.redactions = redactor.report();
        bundle.collected_at = Timestamp::now().max(self.window.to);
        bundle
    }

    async fn server_version(&self) -> Option<String> {
        let ctx = StepCtx::new(0, Duration::from_secs(5));
        self.kube
            .call(
                &ctx,
                crate::source::kube::Perm::url("/version"),
                |c| async move { c.apiserver_version().await },
            )
            .await
            .ok()
            .map(|v| v.git_version)
    }

    /// Whether a client matches `--client`.
    pub fn selected(&self, c: &ClientRates) -> bool {
        let Some(sel) = &self.client_selector else {
            return true;
        };
        if c.id == *sel || c.instance == *sel || c.job == *sel {
            return true;
        }
        if let Some((ns, name)) = c.pod() {
            return *sel == format!("{ns}/{name}") || *sel == name;
        }
        c.user.as_deref() == Some(sel.as_str())
    }
}
