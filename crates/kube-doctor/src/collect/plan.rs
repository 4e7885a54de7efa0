//! The plan: which steps run, in which order, what each waits for, and how their records and
//! evidence become one bundle. The steps themselves know only the [`Context`].
//!
//! ```text
//!   step 1 (API server health)  ──────────────────────────────────────────────┐
//!   step 7 (server metrics, callees) ─────────────────────────────────────────┤
//!   step 3 (client rates) ──► failing clients ──► 2 events   ─┐               ├──► bundle
//!                                              ├─► 4 network  │               │
//!                                              ├─► 5 logs ────┴─► 6 credentials│
//!                                              └─► 8 quota, APF ──────────────┘
//! ```
//! Steps 1 and 7 need nothing from the others and run beside the chain that step 3's failing
//! clients drive; 2, 4, 5 and 8 run at once; 6 asks SubjectAccessReviews for the denials 5
//! read. After the steps: step 7's callees name step 3's hosts, step 6's identities place
//! step 8's clients in APF. Each step has its own time budget; all share the in-flight
//! limits. A step that fails, times out or is forbidden is recorded as such and the others go
//! on ("fail forward"). Collect never writes to the cluster: TokenReview and
//! SubjectAccessReview are its only POSTs, and they store nothing.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use kube_doctor_core::bundle::{
    Bundle, ClientRates, ClusterInfo, CollectSettings, StepRecord, StepStatus, step_title,
};
use kube_doctor_core::playbook::{step3_client_rates, step8_quota_and_apf};

use super::context::{Context, StepEnd, StepError};
use super::{
    step1_apiserver_pods, step2_events, step3_client_rates as step3, step4_network_path,
    step5_logs, step6_credentials, step7_server_metrics, step8_quota_and_apf as step8,
};
use crate::source::kube::{Perm, RunState, SourceError, StepCtx};

/// Progress reports while collecting (a terminal shows them; tests and serve ignore them).
pub trait Progress: Send + Sync {
    /// A step started.
    fn started(&self, _step: u8) {}
    /// A step ended.
    fn finished(&self, _record: &StepRecord) {}
}

/// Reports nothing.
pub struct Quiet;
impl Progress for Quiet {}

/// Runs one step of `run`: budget, timing, request counting, and the mapping of errors to
/// statuses.
pub async fn run_step<T, F, Fut>(
    step: u8,
    budget: Duration,
    run: &Arc<RunState>,
    progress: &dyn Progress,
    f: F,
) -> (StepRecord, Option<T>)
where
    F: FnOnce(Arc<StepCtx>) -> Fut,
    Fut: Future<Output = Result<StepEnd<T>, StepError>>,
{
    progress.started(step);
    let ctx = StepCtx::in_run(step, budget, run.clone());
    let started = std::time::Instant::now();
    // A step may not outlive its budget by more than a little (a call in flight finishes).
    // Boxed: each step's state machine lives on the heap, not on the stack of the thread that
    // polls the whole plan (serve's worker threads have tokio's 2 MiB stacks).
    let result =
        match tokio::time::timeout(budget + Duration::from_secs(2), Box::pin(f(ctx.clone()))).await
        {
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
        Ok(StepEnd::Failed(e, why)) => (StepStatus::Failed, Some(why), e),
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
        Err(StepError::Source(SourceError::ServerGone(why))) => (
            StepStatus::Failed,
            Some(format!(
                "stopped: the API server stopped answering another step's request ({})",
                kube_doctor_core::escape::one_line(&why, 600)
            )),
            None,
        ),
        Err(e) => (
            StepStatus::Failed,
            Some(kube_doctor_core::escape::one_line(&e.to_string(), 1000)),
            None,
        ),
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

/// Why steps 4-6 did not run when step 3 could not read the client error rates.
const RATES_UNREAD: &str =
    "not run: step 3 could not read the client error rates, so no failing client is known";

/// Runs the whole playbook in `cx` and assembles the bundle.
pub async fn collect(cx: &Context, progress: &dyn Progress) -> Bundle {
    // The classifier's automata compile on a spare thread while the first answers are on
    // their way, instead of on the critical path when steps 2 and 5 first classify.
    drop(tokio::task::spawn_blocking(|| {
        kube_doctor_core::classify::Classifier::shared();
    }));
    let s = &cx.settings;
    let budget = s.limits.step_timeout;
    let run = Arc::new(RunState::default());
    let run = &run;

    let step1 = run_step(1, budget, run, progress, |ctx| {
        step1_apiserver_pods::collect(cx, ctx)
    });
    let step7 = run_step(7, budget, run, progress, |ctx| {
        step7_server_metrics::collect(cx, ctx)
    });
    let chain = async {
        let s3 = run_step(3, budget, run, progress, |ctx| step3::collect(cx, ctx)).await;
        let failing: Vec<ClientRates> =
            s3.1.as_ref()
                .map(|c| step3_client_rates::failing(c, s.threshold))
                .unwrap_or_default();
        // Steps 4-6 look at the failing clients; when step 3 could not read the rates, none
        // is known, and they say that rather than "no failing client is a pod".
        let rates_unread =
            failing.is_empty() && !matches!(s3.0.status, StepStatus::Ok | StepStatus::Empty);
        let (s2, s4, s5, s8) = tokio::join!(
            run_step(2, budget, run, progress, |ctx| step2_events::collect(
                cx, ctx, &failing
            )),
            run_step(4, budget, run, progress, |ctx| async {
                if rates_unread {
                    return Ok(StepEnd::Skipped(RATES_UNREAD.to_string()));
                }
                step4_network_path::collect(cx, ctx, &failing).await
            }),
            run_step(5, budget, run, progress, |ctx| async {
                if rates_unread {
                    return Ok(StepEnd::Skipped(RATES_UNREAD.to_string()));
                }
                step5_logs::collect(cx, ctx, &failing).await
            }),
            run_step(8, budget, run, progress, |ctx| step8::collect(
                cx, ctx, &failing
            )),
        );
        let logs = s5.1.clone().unwrap_or_default();
        let s6 = run_step(6, budget, run, progress, |ctx| async {
            if rates_unread {
                return Ok(StepEnd::Skipped(RATES_UNREAD.to_string()));
            }
            step6_credentials::collect(cx, ctx, &failing, &logs).await
        })
        .await;
        (s3, s2, s4, s5, s8, s6, failing)
    };
    let (version, s1, s7, (s3, s2, s4, s5, s8, s6, failing)) =
        tokio::join!(server_version(cx, run), step1, step7, chain);

    let cluster = ClusterInfo {
        server: cx.kube.server.clone(),
        context: cx.kube.context.clone(),
        version,
    };
    let settings = CollectSettings {
        threshold: s.threshold.ratio(),
        client_selector: s.scope.client.clone(),
        rate_source: s3.1.as_ref().map(|c| c.source.clone()),
    };
    let mut bundle = Bundle::new(s.window, cluster, settings, s.window.to);
    bundle
        .steps
        .extend([s1.0, s2.0, s3.0, s4.0, s5.0, s6.0, s7.0, s8.0]);
    bundle.apiserver = s1.1;
    bundle.server_metrics = s7.1;
    let mut clients = s3.1;
    if let (Some(c), Some(m)) = (clients.as_mut(), bundle.server_metrics.as_ref()) {
        step3_client_rates::name_callees(c, &m.callees);
    }
    bundle.clients = clients;
    // Steps 2 and 5 redacted what they kept through the context's redactor.
    bundle.events = s2.1;
    let paths = s4.1.unwrap_or_default();
    bundle.network = paths.pods;
    bundle.callee_paths = paths.callees;
    bundle.logs = s5.1.unwrap_or_default();
    bundle.credentials = s6.1.unwrap_or_default();
    bundle.quota_and_flow_control = s8.1;
    if let Some(q) = bundle.quota_and_flow_control.as_mut() {
        step8_quota_and_apf::match_clients(q, &failing, &bundle.credentials);
    }
    bundle.steps.sort_by_key(|s| s.step);
    bundle.redactions = cx.redactions();
    bundle.collected_at = Timestamp::now().max(s.window.to);
    bundle
}

/// The API server's `/version` gitVersion, if it answers within 5 s.
async fn server_version(cx: &Context, run: &Arc<RunState>) -> Option<String> {
    let ctx = StepCtx::in_run(0, Duration::from_secs(5), run.clone());
    cx.kube
        .call(&ctx, Perm::url("/version"), |c| async move {
            c.apiserver_version().await
        })
        .await
        .ok()
        .map(|v| v.git_version)
}

/// The plan without a cluster: an audit log is all there is. Step 3 reads it (its window ends
/// at the file's last modification, which for an append-only audit log is its last event);
/// every other step is skipped and says so.
pub fn offline(settings: &crate::settings::Settings) -> Bundle {
    let started = std::time::Instant::now();
    let mut window = settings.window;
    let mut notes = vec!["no cluster: only the audit log was read".to_string()];
    let path = settings.scope.audit_log.clone();
    if let Some(mtime) = path
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .and_then(|m| m.modified().ok())
        .and_then(|t| Timestamp::try_from(t).ok())
    {
        window = kube_doctor_core::bundle::Window::ending_at(mtime, window.length().unsigned_abs());
        notes.push(format!(
            "the window ends at the audit log's last change ({mtime}), not now"
        ));
    }
    let (record3, clients) = match &path {
        Some(p) => match step3::read_audit(p, window, settings.threshold) {
            Ok((rates, note)) => {
                notes.extend(note);
                let mut evidence = kube_doctor_core::bundle::ClientsEvidence {
                    source: kube_doctor_core::bundle::RateSource::AuditLog {
                        path: p.display().to_string(),
                    },
                    threshold: settings.threshold.ratio(),
                    step_seconds: window.series_step().as_secs_f64(),
                    min_intervals: 3,
                    clients: rates,
                    others: None,
                    notes,
                    scope: None,
                };
                let client = settings.scope.client.as_deref();
                kube_doctor_core::clients::scope(
                    &mut evidence,
                    |r| kube_doctor_core::playbook::step3_client_rates::selected(client, r),
                    settings.threshold,
                );
                let (status, note) = if evidence.clients.is_empty() {
                    (
                        StepStatus::Empty,
                        "no audit events in the window".to_string(),
                    )
                } else {
                    (
                        StepStatus::Ok,
                        kube_doctor_core::playbook::step3_client_rates::note(
                            &evidence,
                            settings.threshold,
                        ),
                    )
                };
                (record(3, status, Some(note), started), Some(evidence))
            }
            Err(e) => (record(3, StepStatus::Failed, Some(e), started), None),
        },
        None => (
            record(
                3,
                StepStatus::Skipped,
                Some("no cluster and no audit log".into()),
                started,
            ),
            None,
        ),
    };
    let cluster = ClusterInfo::default();
    let collect = CollectSettings {
        threshold: settings.threshold.ratio(),
        client_selector: settings.scope.client.clone(),
        rate_source: clients.as_ref().map(|c| c.source.clone()),
    };
    let mut bundle = Bundle::new(window, cluster, collect, window.to);
    bundle.steps = (1..=8)
        .map(|n| {
            if n == 3 {
                record3.clone()
            } else {
                record(
                    n,
                    StepStatus::Skipped,
                    Some("no cluster: offline audit-log analysis".into()),
                    started,
                )
            }
        })
        .collect();
    bundle.clients = clients;
    bundle
}

fn record(
    step: u8,
    status: StepStatus,
    note: Option<String>,
    started: std::time::Instant,
) -> StepRecord {
    StepRecord {
        step,
        title: step_title(step).to_string(),
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        api_requests: 0,
        prometheus_queries: 0,
        note,
        missing_rules: Vec::new(),
    }
}
