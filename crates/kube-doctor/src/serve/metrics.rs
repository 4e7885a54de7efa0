//! `serve`'s own metrics on /metrics: investigations by outcome and cause, their duration,
//! the queue depth, alerts received by what became of them, connections open and refused,
//! and kube-doctor's own Kubernetes API requests as `rest_client_requests_total` (so
//! KubeClientErrors can watch kube-doctor).
//!
//! Label values never come straight from a request: each labelled family takes only the
//! contract's words for its labels (anything else is counted under `other`) and at most
//! [`MAX_LABEL_SETS`] label sets, so no alert or report can grow the series count.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::source::metrics::ApiRequestCounter;

/// Label sets a family of serve's counters holds at most; further ones count as `other`.
pub const MAX_LABEL_SETS: usize = 64;

/// `serve` outcomes (DESIGN.md).
const OUTCOMES: &[&str] = &["diagnosed", "clean", "incomplete", "refused"];

/// What becomes of an alert (the `result` label).
const ALERT_RESULTS: &[&str] = &[
    "queued",
    "deduplicated",
    "dropped",
    "resolved",
    "ignored",
    "malformed",
    "too_large",
    "unauthorized",
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InvestigationLabels {
    pub outcome: String,
    pub cause: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub result: String,
}

/// Label sets whose values are checked against the contract's words.
pub trait BoundedLabels: Clone + Hash + Eq {
    /// The same labels with every value outside the contract's words replaced by `other`.
    fn bounded(&self) -> Self;
    /// The label set counted once [`MAX_LABEL_SETS`] are in use.
    fn overflow() -> Self;
}

fn word_or_other(value: &str, allowed: impl Fn(&str) -> bool) -> String {
    if allowed(value) {
        value.to_string()
    } else {
        "other".to_string()
    }
}

/// A cause word of the report contract, or `none`.
fn is_cause(value: &str) -> bool {
    value == "none"
        || serde_json::from_value::<kube_doctor_core::report::Cause>(serde_json::Value::from(value))
            .is_ok()
}

impl BoundedLabels for InvestigationLabels {
    fn bounded(&self) -> Self {
        InvestigationLabels {
            outcome: word_or_other(&self.outcome, |v| OUTCOMES.contains(&v)),
            cause: word_or_other(&self.cause, is_cause),
        }
    }
    fn overflow() -> Self {
        InvestigationLabels {
            outcome: "other".into(),
            cause: "other".into(),
        }
    }
}

impl BoundedLabels for AlertLabels {
    fn bounded(&self) -> Self {
        AlertLabels {
            result: word_or_other(&self.result, |v| ALERT_RESULTS.contains(&v)),
        }
    }
    fn overflow() -> Self {
        AlertLabels {
            result: "other".into(),
        }
    }
}

/// A counter family with bounded cardinality: values outside the contract's words become
/// `other`, and past [`MAX_LABEL_SETS`] label sets everything new counts under the overflow set.
pub struct BoundedCounters<L> {
    family: Family<L, Counter>,
    seen: Mutex<HashSet<L>>,
}

impl<L> BoundedCounters<L>
where
    L: BoundedLabels + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
{
    fn new() -> Self {
        BoundedCounters {
            family: Family::default(),
            seen: Mutex::new(HashSet::new()),
        }
    }

    /// The counter for `labels` (bounded as the type says).
    pub fn get_or_create(&self, labels: &L) -> Counter {
        let labels = labels.bounded();
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let labels = if seen.contains(&labels) || seen.len() < MAX_LABEL_SETS {
            seen.insert(labels.clone());
            labels
        } else {
            L::overflow()
        };
        self.family.get_or_create(&labels).clone()
    }
}

/// All of serve's metrics.
pub struct ServeMetrics {
    pub registry: Registry,
    pub investigations: BoundedCounters<InvestigationLabels>,
    pub duration: Histogram,
    pub queue_depth: Gauge,
    pub alerts: BoundedCounters<AlertLabels>,
    /// Reports kept.
    pub reports_kept: Gauge,
    /// Bytes of report JSON kept.
    pub reports_bytes: Gauge,
    /// Connections open now.
    pub connections_open: Gauge,
    /// Connections closed at once because every slot was taken.
    pub connections_refused: Counter,
    /// Connections closed for sending nothing, or no whole request head, in time.
    pub connections_timed_out: Counter,
}

impl ServeMetrics {
    pub fn new(api_requests: ApiRequestCounter) -> ServeMetrics {
        let mut registry = Registry::default();
        let investigations = BoundedCounters::<InvestigationLabels>::new();
        let duration = Histogram::new([0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0]);
        let queue_depth = Gauge::default();
        let alerts = BoundedCounters::<AlertLabels>::new();
        let connections_open = Gauge::default();
        let reports_kept = Gauge::default();
        let reports_bytes = Gauge::default();
        let connections_refused = Counter::default();
        let connections_timed_out = Counter::default();
        registry.register(
            "kube_doctor_investigations",
            "Investigations run, by outcome (diagnosed, clean, incomplete, refused) and top cause",
            investigations.family.clone(),
        );
        registry.register(
            "kube_doctor_investigation_duration_seconds",
            "Wall time of investigations",
            duration.clone(),
        );
        registry.register(
            "kube_doctor_queue_depth",
            "Investigations waiting",
            queue_depth.clone(),
        );
        registry.register(
            "kube_doctor_alerts",
            "Alerts received, by what became of them (queued, deduplicated, dropped, resolved, ignored, malformed, too_large, unauthorized)",
            alerts.family.clone(),
        );
        registry.register(
            "kube_doctor_reports_kept",
            "Reports kept in memory (--keep-reports)",
            reports_kept.clone(),
        );
        registry.register(
            "kube_doctor_reports_kept_bytes",
            "Bytes of report JSON kept in memory (--keep-reports-bytes)",
            reports_bytes.clone(),
        );
        registry.register(
            "kube_doctor_http_connections",
            "HTTP connections open",
            connections_open.clone(),
        );
        registry.register(
            "kube_doctor_http_connections_refused",
            "HTTP connections closed at once because --max-connections (and the health reserve) were taken",
            connections_refused.clone(),
        );
        registry.register(
            "kube_doctor_http_connections_timed_out",
            "HTTP connections closed for not sending a whole request head within --header-timeout",
            connections_timed_out.clone(),
        );
        registry.register(
            "rest_client_requests",
            "kube-doctor's own Kubernetes API requests, by status code, method and host",
            api_requests,
        );
        ServeMetrics {
            registry,
            investigations,
            duration,
            queue_depth,
            alerts,
            reports_kept,
            reports_bytes,
            connections_open,
            connections_refused,
            connections_timed_out,
        }
    }

    pub fn alert(&self, result: &str) {
        self.alerts
            .get_or_create(&AlertLabels {
                result: result.to_string(),
            })
            .inc();
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_outside_the_contract_are_other_and_label_sets_are_capped() {
        let m = ServeMetrics::new(ApiRequestCounter::default());
        m.alert("queued");
        m.alert("x\"} 1\nevil_metric 99");
        for i in 0..10_000 {
            m.investigations
                .get_or_create(&InvestigationLabels {
                    outcome: format!("outcome-{i}"),
                    cause: format!("cause-{i}"),
                })
                .inc();
        }
        for cause in ["authorization", "none", "server_side"] {
            m.investigations
                .get_or_create(&InvestigationLabels {
                    outcome: "diagnosed".into(),
                    cause: cause.into(),
                })
                .inc();
        }
        let text = m.encode();
        assert!(!text.contains("evil_metric"), "{text}");
        assert!(
            text.contains("kube_doctor_alerts_total{result=\"other\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "kube_doctor_investigations_total{outcome=\"other\",cause=\"other\"} 10000"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "kube_doctor_investigations_total{outcome=\"diagnosed\",cause=\"authorization\"} 1"
            ),
            "{text}"
        );
        assert!(text.lines().count() < 100, "{text}");
    }

    #[test]
    fn past_the_cap_new_label_sets_count_as_overflow() {
        #[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
        struct Free {
            v: String,
        }
        impl BoundedLabels for Free {
            fn bounded(&self) -> Self {
                self.clone()
            }
            fn overflow() -> Self {
                Free { v: "other".into() }
            }
        }
        let c = BoundedCounters::<Free>::new();
        for i in 0..1000 {
            c.get_or_create(&Free { v: i.to_string() }).inc();
        }
        // A label set seen before the cap keeps counting under its own name.
        c.get_or_create(&Free { v: "0".into() }).inc();
        assert_eq!(c.seen.lock().unwrap().len(), MAX_LABEL_SETS);
        assert_eq!(c.family.get_or_create(&Free { v: "0".into() }).get(), 2);
        assert_eq!(
            c.family.get_or_create(&Free::overflow()).get(),
            1000 - MAX_LABEL_SETS as u64
        );
    }
}
