//! `serve`'s own metrics on /metrics: investigations by outcome and cause, their duration,
//! the queue depth, alerts received by what became of them, and kube-doctor's own Kubernetes
//! API requests as `rest_client_requests_total` (so KubeClientErrors can watch kube-doctor).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::source::metrics::ApiRequestCounter;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InvestigationLabels {
    pub outcome: String,
    pub cause: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub result: String,
}

/// All of serve's metrics.
pub struct ServeMetrics {
    pub registry: Registry,
    pub investigations: Family<InvestigationLabels, Counter>,
    pub duration: Histogram,
    pub queue_depth: Gauge,
    pub alerts: Family<AlertLabels, Counter>,
}

impl ServeMetrics {
    pub fn new(api_requests: ApiRequestCounter) -> ServeMetrics {
        let mut registry = Registry::default();
        let investigations = Family::<InvestigationLabels, Counter>::default();
        let duration = Histogram::new([0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0]);
        let queue_depth = Gauge::default();
        let alerts = Family::<AlertLabels, Counter>::default();
        registry.register(
            "kube_doctor_investigations",
            "Investigations run, by outcome (problem, clean, failed) and top cause",
            investigations.clone(),
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
            "Alerts received, by what became of them (queued, deduplicated, dropped, resolved, ignored)",
            alerts.clone(),
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
