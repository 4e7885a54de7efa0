//! The bundle: everything diagnosis needs and nothing secret, as one versioned JSON document
//! (`kube-doctor/bundle/v1`). Collectors write it, `diagnose` reads it; a bundle attached to a
//! ticket gives the same report later as the live run did.
//!
//! Wire format: `serde_json` of [`Bundle`]. Fields are snake_case; optional evidence is `null`
//! when its step did not run; timestamps are RFC 3339 UTC. Readers reject other `schema`
//! values with a clear error ([`Bundle::from_json`]). Secrets never enter this type: the
//! collector turns certificates into [`CertMetadata`] and tokens into [`TokenClaims`] before
//! anything is stored, and log samples go through [`crate::redact`].

mod evidence;

pub use evidence::*;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The schema word this version writes and reads.
pub const BUNDLE_SCHEMA: &str = "kube-doctor/bundle/v1";

/// The hand-off between collect and diagnose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// Always [`BUNDLE_SCHEMA`].
    pub schema: String,
    /// The kube-doctor version that collected it.
    pub tool_version: String,
    /// When collection finished; diagnosis uses it as "now".
    pub collected_at: Timestamp,
    /// The time window the evidence covers.
    pub window: Window,
    /// Which cluster, as the kubeconfig named it (no credentials).
    pub cluster: ClusterInfo,
    /// The settings of the run that matter to diagnosis.
    pub settings: CollectSettings,
    /// One record per playbook step, in step order.
    pub steps: Vec<StepRecord>,
    /// Step 1.
    pub apiserver: Option<ApiServerEvidence>,
    /// Step 2.
    pub events: Option<EventsEvidence>,
    /// Step 3.
    pub clients: Option<ClientsEvidence>,
    /// Step 4, per erroring client pod.
    pub network: Vec<NetworkPath>,
    /// Step 5, per erroring client pod.
    pub logs: Vec<PodLogs>,
    /// Step 6, per erroring client pod.
    pub credentials: Vec<PodCredentials>,
    /// Step 7.
    pub server_metrics: Option<ServerMetrics>,
    /// Step 8.
    pub quota_and_flow_control: Option<QuotaAndFlowControl>,
    /// What redaction removed, by kind and count (never the removed values).
    #[serde(default)]
    pub redactions: Vec<Redaction>,
}

/// Errors reading a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not JSON, or not a bundle's shape.
    #[error("not a kube-doctor bundle: {0}")]
    Parse(#[source] serde_json::Error),
    /// A bundle of another schema version.
    #[error(
        "bundle schema {found:?} is not supported (this kube-doctor reads {BUNDLE_SCHEMA:?}); re-collect it with this version"
    )]
    Schema {
        /// The schema word found.
        found: String,
    },
}

impl Bundle {
    /// An empty bundle for a window; collectors fill it.
    pub fn new(
        window: Window,
        cluster: ClusterInfo,
        settings: CollectSettings,
        now: Timestamp,
    ) -> Self {
        Bundle {
            schema: BUNDLE_SCHEMA.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            collected_at: now,
            window,
            cluster,
            settings,
            steps: Vec::new(),
            apiserver: None,
            events: None,
            clients: None,
            network: Vec::new(),
            logs: Vec::new(),
            credentials: Vec::new(),
            server_metrics: None,
            quota_and_flow_control: None,
            redactions: Vec::new(),
        }
    }

    /// Reads a bundle, checking the schema word before anything else so an old or foreign
    /// file gets a message that says so rather than a field-level parse error.
    pub fn from_json(bytes: &[u8]) -> Result<Bundle, BundleError> {
        #[derive(Deserialize)]
        struct Head {
            schema: Option<String>,
        }
        let head: Head = serde_json::from_slice(bytes).map_err(BundleError::Parse)?;
        match head.schema.as_deref() {
            Some(BUNDLE_SCHEMA) => {}
            other => {
                return Err(BundleError::Schema {
                    found: other.unwrap_or("(none)").to_string(),
                });
            }
        }
        serde_json::from_slice(bytes).map_err(BundleError::Parse)
    }

    /// The record of one step, if the step ran.
    pub fn step(&self, step: u8) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.step == step)
    }
}

/// A time window, `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Start.
    pub from: Timestamp,
    /// End: the moment of collection.
    pub to: Timestamp,
}

/// The cluster, as named by the kubeconfig.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The API server URL.
    pub server: String,
    /// The kubeconfig context, if any.
    pub context: Option<String>,
    /// The API server's version (`/version` gitVersion), if it answered.
    pub version: Option<String>,
}

/// The settings that shaped the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectSettings {
    /// Error ratio above which a client counts as failing (the alert's 1 %).
    pub threshold: f64,
    /// The client selector the run was scoped to, if any.
    pub client_selector: Option<String>,
    /// Where client error rates came from.
    pub rate_source: Option<RateSource>,
}

/// How a playbook step ended (contract: DESIGN.md report `steps[].status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Evidence gathered.
    Ok,
    /// Ran fine and found nothing to report.
    Empty,
    /// The API server refused (403); `missing_rule` says what RBAC rule was lacking.
    Forbidden,
    /// Failed for another reason; `note` says why.
    Failed,
    /// Ran out of its time budget.
    Timeout,
    /// Not run (nothing to do, or turned off); `note` says why.
    Skipped,
}

/// An RBAC rule a step lacked, as a ClusterRole rule would spell it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RbacRule {
    /// API group ("" for core).
    pub api_group: String,
    /// Resource, with subresource ("pods/log").
    pub resource: String,
    /// Verb.
    pub verb: String,
    /// Namespace, `None` for cluster scope.
    pub namespace: Option<String>,
    /// A non-resource URL ("/metrics") instead of a resource.
    pub non_resource_url: Option<String>,
}

impl std::fmt::Display for RbacRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(url) = &self.non_resource_url {
            return write!(f, "{} {}", self.verb, url);
        }
        let group = if self.api_group.is_empty() {
            "core".to_string()
        } else {
            self.api_group.clone()
        };
        write!(f, "{} {} ({group})", self.verb, self.resource)?;
        match &self.namespace {
            Some(ns) => write!(f, " in namespace {ns}"),
            None => write!(f, " cluster-wide"),
        }
    }
}

/// What one playbook step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1 to 8.
    pub step: u8,
    /// The step's title.
    pub title: String,
    /// How it ended.
    pub status: StepStatus,
    /// Wall time.
    pub duration_ms: u64,
    /// Kubernetes API requests made (Prometheus queries are counted in `prometheus_queries`).
    pub api_requests: u32,
    /// Prometheus queries made.
    #[serde(default)]
    pub prometheus_queries: u32,
    /// What happened, in a sentence: why it failed, was skipped, or what it fell back to.
    pub note: Option<String>,
    /// The RBAC rules it lacked, when forbidden (or partly forbidden).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_rules: Vec<RbacRule>,
}

/// The titles of the eight steps, by number.
pub fn step_title(step: u8) -> &'static str {
    match step {
        1 => "API server pods",
        2 => "Events",
        3 => "Client error rates",
        4 => "Network path",
        5 => "Client logs",
        6 => "Credentials",
        7 => "API server metrics",
        8 => "Quota and flow control",
        _ => "unknown step",
    }
}

/// One kind of removed data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// What was removed ("bearer token in log sample", "secret data").
    pub kind: String,
    /// How many times.
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_checked_before_shape() {
        let err = Bundle::from_json(br#"{"schema":"kube-doctor/bundle/v0"}"#).unwrap_err();
        assert!(err.to_string().contains("kube-doctor/bundle/v0"), "{err}");
        let err = Bundle::from_json(b"{}").unwrap_err();
        assert!(err.to_string().contains("(none)"), "{err}");
        let err = Bundle::from_json(b"{\"schema\": ").unwrap_err();
        assert!(
            err.to_string().starts_with("not a kube-doctor bundle"),
            "{err}"
        );
    }

    #[test]
    fn rbac_rules_read_like_role_rules() {
        let r = RbacRule {
            api_group: String::new(),
            resource: "pods/log".into(),
            verb: "get".into(),
            namespace: Some("demo".into()),
            non_resource_url: None,
        };
        assert_eq!(r.to_string(), "get pods/log (core) in namespace demo");
    }
}
