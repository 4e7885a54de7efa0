//! Diagnosis: the runbook's correlation rules over a bundle. Pure: bundle in, report out; the
//! bundle's collection time is "now", so `diagnose` on a saved bundle gives the same report as
//! the live run did.
//!
//! The engine:
//! 1. [`incident`] (rule 1) turns steps 3 and 5 into one incident per failing client: its
//!    onset, pattern, and error categories from metrics and logs;
//! 2. the specific rules (`rules/*.rs`, one per cause) each explain the incidents they have
//!    evidence for, within their correlation window around the onset;
//! 3. incidents nothing explained get a second pass with every window widened to one hour
//!    (at reduced confidence, saying so);
//! 4. what is still unexplained is `configuration` (consistent errors), `transient`
//!    (intermittent) or `unknown` (no pattern to go on), each saying what to check next;
//!    expected noise is `benign`;
//! 5. verdicts of the same cause are merged, so several clients failing for one reason make
//!    one verdict, and two clients failing for different reasons make two.
//!
//! No verdict is ever issued without evidence.

pub mod incident;
pub mod rules;
pub mod signals;
pub mod topics;

use std::collections::{BTreeMap, BTreeSet};

use jiff::{SignedDuration, Timestamp};

use crate::bundle::{Bundle, ServerSignal};
use crate::clients::Threshold;
use crate::report::{Cause, Evidence, REPORT_SCHEMA, Report, ReportClient, Verdict};
pub use incident::Incident;
pub use signals::ServerThresholds;
pub use topics::EventTopic;

/// Everything diagnosis judges with: the error threshold, the correlation windows and where
/// server-side numbers become trouble. Built once from flags (`diagnose`, `investigate`,
/// `serve`); [`Default`] is the runbook's.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Settings {
    /// The error ratio over which a client fails; `None`: the bundle's collection threshold.
    pub threshold: Option<Threshold>,
    /// Correlation windows around the onset.
    pub windows: Windows,
    /// Server-side thresholds.
    pub server: ServerThresholds,
}

impl Settings {
    /// The settings of the runbook with other correlation windows.
    pub fn with_windows(windows: Windows) -> Settings {
        Settings {
            windows,
            ..Settings::default()
        }
    }

    /// The threshold in force for `bundle`: this one, else the bundle's own.
    pub fn threshold_for(&self, bundle: &Bundle) -> Threshold {
        self.threshold.unwrap_or_else(|| {
            Threshold::new(bundle.settings.threshold).unwrap_or(Threshold::ALERT)
        })
    }
}

/// Correlation windows (flags of `diagnose` and `investigate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// Server trouble around the onset.
    pub server: SignedDuration,
    /// Authentication and certificate failures around the onset.
    pub auth: SignedDuration,
    /// APF rejections and throttling around the onset.
    pub apf: SignedDuration,
    /// Network and NetworkPolicy changes around the onset.
    pub network: SignedDuration,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            server: SignedDuration::from_mins(5),
            auth: SignedDuration::from_mins(2),
            apf: SignedDuration::from_mins(5),
            network: SignedDuration::from_mins(10),
        }
    }
}

impl Windows {
    /// Every window widened to one hour (the runbook's second look).
    pub fn widened() -> Windows {
        let h = SignedDuration::from_hours(1);
        Windows {
            server: h,
            auth: h,
            apf: h,
            network: h,
        }
    }
}

/// What rules see.
pub struct Context<'a> {
    /// The evidence.
    pub bundle: &'a Bundle,
    /// Windows in force.
    pub windows: Windows,
    /// The incidents.
    pub incidents: &'a [Incident],
    /// "Now": when the bundle was collected.
    pub now: Timestamp,
    /// Server trouble judged from step 7 ([`signals::server_signals`]).
    pub signals: &'a [ServerSignal],
    /// The topic of each kept event of step 2 (same order as `bundle.events.kept`).
    pub event_topics: &'a [Option<EventTopic>],
}

impl Context<'_> {
    /// Step 2's events about `topics` within `w` of the incident's onset, in its namespace or
    /// in kube-system, as evidence (newest last, at most five).
    pub fn events_near(
        &self,
        inc: &Incident,
        topics: &[EventTopic],
        w: SignedDuration,
    ) -> Vec<Evidence> {
        let Some(events) = &self.bundle.events else {
            return Vec::new();
        };
        let ns = inc.pod.as_ref().and_then(|p| p.namespace.as_deref());
        let mut out: Vec<Evidence> = events
            .kept
            .iter()
            .zip(self.event_topics)
            .filter(|(_, t)| t.is_some_and(|t| topics.contains(&t)))
            .map(|(e, _)| e)
            .filter(|e| {
                let at = e.involved.namespace.as_deref();
                at == Some("kube-system") || at == ns || at.is_none()
            })
            .filter(|e| {
                Self::near(inc.onset, e.last_seen, w)
                    || Self::near(inc.onset, e.first_seen, w)
                    || matches!((inc.onset, e.first_seen, e.last_seen), (Some(o), Some(f), Some(l)) if f <= o && o <= l)
            })
            .map(|e| event_evidence(e, &e.message))
            .collect();
        out.sort_by_key(|e| e.at);
        let skip = out.len().saturating_sub(5);
        out.drain(..skip);
        out
    }

    /// Whether `at` is within `w` of `onset` (either side). Unknown times do not correlate.
    pub fn near(onset: Option<Timestamp>, at: Option<Timestamp>, w: SignedDuration) -> bool {
        match (onset, at) {
            (Some(o), Some(a)) => a.duration_since(o).abs() <= w.abs(),
            _ => false,
        }
    }
}

/// One diagnosis rule.
pub trait Rule: Sync {
    /// The rule's name (its file).
    fn name(&self) -> &'static str;
    /// Verdicts for the incidents this rule explains.
    fn evaluate(&self, ctx: &Context<'_>) -> Vec<Verdict>;
}

/// What every rule reads besides the bundle, worked out once per diagnosis: the incidents at
/// the threshold in force, the server signals, the events' topics.
pub struct Prepared {
    /// The incidents.
    pub incidents: Vec<Incident>,
    /// Server trouble.
    pub signals: Vec<ServerSignal>,
    /// Each kept event's topic.
    pub event_topics: Vec<Option<EventTopic>>,
}

impl Prepared {
    /// Prepares `bundle` for judging with `settings`.
    pub fn new(bundle: &Bundle, settings: &Settings) -> Prepared {
        let threshold = settings.threshold_for(bundle);
        let classifier = crate::classify::Classifier::shared();
        Prepared {
            incidents: incident::incidents(bundle, threshold),
            signals: bundle
                .server_metrics
                .as_ref()
                .map(|m| {
                    signals::server_signals(
                        m,
                        &settings.server,
                        bundle.window.from,
                        bundle.collected_at,
                    )
                })
                .unwrap_or_default(),
            event_topics: bundle
                .events
                .iter()
                .flat_map(|e| &e.kept)
                .map(|e| topics::event_topic(e, classifier))
                .collect(),
        }
    }

    /// The context rules see, for `incidents` (all of them, or a subset) and `windows`.
    pub fn context<'a>(
        &'a self,
        bundle: &'a Bundle,
        incidents: &'a [Incident],
        windows: Windows,
    ) -> Context<'a> {
        Context {
            bundle,
            windows,
            incidents,
            now: bundle.collected_at,
            signals: &self.signals,
            event_topics: &self.event_topics,
        }
    }
}

/// Diagnoses a bundle with `settings`.
pub fn diagnose(bundle: &Bundle, settings: &Settings) -> Report {
    let windows = settings.windows;
    let prepared = Prepared::new(bundle, settings);
    let incidents = &prepared.incidents;
    let mut verdicts = Vec::new();
    let ctx = prepared.context(bundle, incidents, windows);
    for rule in rules::SPECIFIC {
        verdicts.extend(rule.evaluate(&ctx));
    }
    let explained: BTreeSet<String> = verdicts.iter().flat_map(|v| v.clients.clone()).collect();
    // Second look: what nothing explained, with every window widened to one hour.
    let unexplained: Vec<Incident> = incidents
        .iter()
        .filter(|i| !i.noise && !explained.contains(&i.client))
        .cloned()
        .collect();
    if !unexplained.is_empty() && windows != Windows::widened() {
        let wide = prepared.context(bundle, &unexplained, Windows::widened());
        for rule in rules::SPECIFIC {
            for mut v in rule.evaluate(&wide) {
                v.confidence *= 0.6;
                v.summary.push_str(
                    " (correlated only within one hour of the onset, not within the usual window)",
                );
                verdicts.push(v);
            }
        }
    }
    let explained: BTreeSet<String> = verdicts.iter().flat_map(|v| v.clients.clone()).collect();
    for rule in rules::FALLBACK {
        verdicts.extend(
            rule.evaluate(&ctx)
                .into_iter()
                .filter(|v| v.clients.iter().any(|c| !explained.contains(c))),
        );
    }
    verdicts.retain(|v| !v.evidence.is_empty());
    // Live failures before past ones: a verdict about clients that all recovered speaks of
    // history.
    for v in &mut verdicts {
        let past = !v.clients.is_empty()
            && v.clients.iter().all(|c| {
                incidents
                    .iter()
                    .find(|i| &i.client == c)
                    .is_some_and(|i| !i.live)
            });
        if past {
            v.confidence *= 0.5;
            v.summary = format!("In the past (recovered since): {}", v.summary);
        }
    }
    let mut report = Report {
        schema: REPORT_SCHEMA.to_string(),
        window: bundle.window,
        generated_at: bundle.collected_at,
        cluster: bundle.cluster.clone(),
        clients: incidents.iter().map(report_client).collect(),
        under_threshold: under_threshold(bundle, incidents),
        verdicts: merge(verdicts),
        steps: steps_as_judged(bundle, settings),
    };
    report.sort();
    report
}

/// The bundle's step records, with step 3's count of clients over the threshold said again
/// when diagnosis judges at another threshold than collection did (`diagnose --threshold`), so
/// the note agrees with the report's client list.
fn steps_as_judged(bundle: &Bundle, settings: &Settings) -> Vec<crate::bundle::StepRecord> {
    let mut steps = bundle.steps.clone();
    let threshold = settings.threshold_for(bundle);
    let (Some(clients), Some(asked)) = (&bundle.clients, settings.threshold) else {
        return steps;
    };
    if (asked.ratio() - bundle.settings.threshold).abs() < 1e-12 {
        return steps;
    }
    for s in steps
        .iter_mut()
        .filter(|s| s.step == 3 && s.status == crate::bundle::StepStatus::Ok)
    {
        s.note = Some(format!(
            "{} (judged at {threshold}; collected at {})",
            crate::playbook::step3_client_rates::note(clients, threshold),
            Threshold::new(bundle.settings.threshold)
                .map_or_else(|_| bundle.settings.threshold.to_string(), |t| t.to_string())
        ));
    }
    steps
}

/// The clients step 3 read that the report does not list (under the threshold), worst first.
fn under_threshold(bundle: &Bundle, listed: &[Incident]) -> crate::report::UnderThreshold {
    // Rates that could not be judged put no client under the threshold either.
    if crate::bundle::rates_unread(&bundle.steps).is_some() {
        return crate::report::UnderThreshold::default();
    }
    let mut quiet: Vec<crate::report::QuietClient> = bundle
        .clients
        .iter()
        .flat_map(|c| &c.clients)
        .filter(|c| !listed.iter().any(|i| i.client == c.id))
        .map(|c| crate::report::QuietClient {
            id: c.id.clone(),
            error_ratio: c.ratios.non_2xx,
            requests: c.requests,
            who: crate::report::who_is(&c.id, &c.target),
        })
        .collect();
    quiet.sort_by(|a, b| {
        b.error_ratio
            .total_cmp(&a.error_ratio)
            .then(b.requests.total_cmp(&a.requests))
            .then(a.id.cmp(&b.id))
    });
    let total = quiet.len();
    quiet.truncate(crate::report::UNDER_THRESHOLD_SHOWN);
    crate::report::UnderThreshold {
        total,
        worst: quiet,
    }
}

fn report_client(i: &Incident) -> ReportClient {
    ReportClient {
        episodes: i.episodes.clone(),
        live: i.live,
        id: i.client.clone(),
        error_ratio: i.ratios.non_2xx,
        onset: i.onset,
        pattern: i.pattern,
        categories: i.categories.clone(),
        categories_unit: Some(i.categories_unit),
        ratios: i.ratios,
        target: i.target.clone(),
        series: i.series.clone(),
        noise: i.noise_kind,
    }
}

/// What to do for a finding whose rule named nothing more specific: where to look next for
/// its cause (so no verdict ever reaches the report with an empty "Do:").
fn default_remediation(cause: Cause) -> &'static str {
    match cause {
        Cause::ServerSide => {
            "read the API server's log around the onset for the failing requests (apiserver_request_total by verb, resource and code), and check etcd, admission webhooks and aggregated APIs it calls"
        }
        Cause::Authentication => {
            "check the client's credentials: its token mount or kubeconfig, certificate expiry, and the API server's authentication log lines around the onset"
        }
        Cause::Authorization => {
            "find the denied requests in the API server's audit log (user, verb, resource) and grant only what the client's own identity needs"
        }
        Cause::RateLimiting => {
            "find the client's FlowSchema and priority level (kubectl get flowschemas, prioritylevelconfigurations) and its client-side QPS and burst settings"
        }
        Cause::Network => {
            "check the client's path to the API server: its node, NetworkPolicies, DNS, and the kubernetes Service's endpoints"
        }
        Cause::Quota => {
            "find the ResourceQuota or admission policy refusing the client's writes (kubectl describe resourcequota in the namespaces it writes to)"
        }
        Cause::Configuration => {
            "check the client's API server URL, API versions and request parameters against the server it talks to"
        }
        Cause::Transient => {
            "widen the window (--since 1h) and watch whether the errors return; if they do, look for a pattern in time (deployments, node events)"
        }
        Cause::Benign => {
            "no action on the client; tune the rule if the alert is noise (the 5xx-only form, a minimum request rate)"
        }
        Cause::Unknown => {
            "widen the window (--since 1h) and read the client's logs and the API server's audit log around the onset"
        }
    }
}

/// One verdict per cause: several clients failing for the same reason are one finding.
fn merge(verdicts: Vec<Verdict>) -> Vec<Verdict> {
    let mut by_cause: BTreeMap<Cause, Vec<Verdict>> = BTreeMap::new();
    for v in verdicts {
        by_cause.entry(v.cause).or_default().push(v);
    }
    by_cause
        .into_values()
        .map(|mut group| {
            // The most confident finding speaks; the others add their clients and evidence.
            group.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
            let mut it = group.into_iter();
            let mut head = it.next().expect("groups are never empty");
            let mut others = Vec::new();
            for v in it {
                head.evidence.extend(v.evidence);
                for r in v.remediation {
                    if !head.remediation.contains(&r) {
                        head.remediation.push(r);
                    }
                }
                for c in v.clients {
                    if !head.clients.contains(&c) {
                        others.push(c.clone());
                        head.clients.push(c);
                    }
                }
            }
            // Clients' findings about the same webhook differ only in its mitigation when one
            // of them carries the failurePolicy finding: said once.
            rules::server_side::mitigation_once(&mut head.remediation);
            let mut seen = std::collections::BTreeSet::new();
            head.remediation.retain(|r| seen.insert(r.clone()));
            if head.remediation.is_empty() {
                // A finding is never shown without something to do.
                head.remediation
                    .push(default_remediation(head.cause).to_string());
            }
            if !others.is_empty() {
                others.sort();
                head.summary = format!(
                    "{} The same holds for {} other client{}: {}.",
                    head.summary,
                    others.len(),
                    if others.len() == 1 { "" } else { "s" },
                    others.join(", ")
                );
            }
            head
        })
        .collect()
}

/// An Event of step 2 as evidence: `event/NAMESPACE/REASON KIND/NAME`, at its last time,
/// with its type, reason, count and `message` (the caller decides how much of the message).
pub fn event_evidence(e: &crate::bundle::EventRecord, message: &str) -> Evidence {
    ev(
        2,
        format!(
            "event/{}/{} {}/{}",
            e.involved.namespace.as_deref().unwrap_or("-"),
            e.reason,
            e.involved.kind,
            e.involved.name
        ),
        e.last_seen,
        format!(
            "{} {}{}: {}",
            e.event_type,
            e.reason,
            if e.count > 1 {
                format!(" (x{})", e.count)
            } else {
                String::new()
            },
            message
        ),
    )
}

/// Builds evidence.
pub fn ev(
    step: u8,
    reference: impl Into<String>,
    at: Option<Timestamp>,
    detail: impl Into<String>,
) -> Evidence {
    Evidence {
        step,
        reference: reference.into(),
        at,
        detail: detail.into(),
    }
}

/// A timestamp for sentences.
pub fn fmt_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Helpers of the rules' unit tests: recorded bundles and one rule run on them.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A bundle recorded from the lab (`tests/fixtures/bundles/NAME.json`).
    pub fn bundle(name: &str) -> Bundle {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/bundles")
            .join(format!("{name}.json"));
        Bundle::from_json(&std::fs::read(&path).unwrap()).unwrap()
    }

    /// One rule's verdicts on a bundle, with the runbook's settings.
    pub fn evaluate(rule: &dyn Rule, b: &Bundle) -> Vec<Verdict> {
        let prepared = Prepared::new(b, &Settings::default());
        rule.evaluate(&prepared.context(b, &prepared.incidents, Windows::default()))
    }

    /// The collector's onset of client `id` in a recorded bundle (panics when it has none).
    pub fn recorded_onset(b: &Bundle, id: &str) -> Timestamp {
        b.clients
            .as_ref()
            .and_then(|c| c.clients.iter().find(|c| c.id == id))
            .and_then(|c| c.onset)
            .unwrap_or_else(|| panic!("{id}: no recorded onset"))
    }

    /// The causes of a rule's verdicts and the clients they name.
    pub fn named(v: &[Verdict]) -> Vec<(Cause, Vec<String>)> {
        v.iter().map(|v| (v.cause, v.clients.clone())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_never_reaches_the_report_without_something_to_do() {
        let bare = |cause, client: &str| Verdict {
            cause,
            confidence: 0.8,
            summary: "s".into(),
            evidence: Vec::new(),
            remediation: Vec::new(),
            clients: vec![client.to_string()],
        };
        let merged = merge(vec![
            bare(Cause::ServerSide, "a"),
            bare(Cause::ServerSide, "b"),
            bare(Cause::Unknown, "c"),
        ]);
        assert_eq!(merged.len(), 2);
        for v in &merged {
            assert_eq!(
                v.remediation,
                vec![default_remediation(v.cause).to_string()]
            );
        }
    }
}
