//! The evidence of each playbook step, as stored in the bundle. Plain data: collectors fill
//! it, rules read it. Every timestamp is the cluster's (or Prometheus') own, never the local
//! clock, so that diagnosis can correlate them.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::classify::AuthzDenial;

// ---------------------------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------------------------

/// A namespaced object name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Kind ("Pod", "NetworkPolicy"...).
    pub kind: String,
    /// Namespace, `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl ObjectRef {
    /// A namespaced reference.
    pub fn namespaced(kind: &str, namespace: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: Some(namespace.to_string()),
            name: name.to_string(),
        }
    }

    /// A cluster-scoped reference.
    pub fn cluster(kind: &str, name: &str) -> Self {
        ObjectRef {
            kind: kind.to_string(),
            namespace: None,
            name: name.to_string(),
        }
    }
}

/// `kind/ns/name` (or `kind/name`), as reports cite evidence.
impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind.to_lowercase(), ns, self.name),
            None => write!(f, "{}/{}", self.kind.to_lowercase(), self.name),
        }
    }
}

/// An address the API server answers on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointAddr {
    /// IP or host.
    pub address: String,
    /// Port.
    pub port: u16,
    /// The EndpointSlice's ready condition, when stated.
    pub ready: Option<bool>,
}

/// Where client error rates came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RateSource {
    /// PromQL range queries.
    Prometheus {
        /// The Prometheus base URL.
        url: String,
    },
    /// Two scrapes of /metrics, `interval_seconds` apart.
    Scrape {
        /// Time between the scrapes.
        interval_seconds: f64,
    },
    /// kube-apiserver audit log lines.
    AuditLog {
        /// The file read.
        path: String,
    },
}

/// X.509 metadata: what a certificate says, never its key or its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertMetadata {
    /// Subject DN.
    pub subject: String,
    /// Subject common name (the user name for client certificates).
    pub common_name: Option<String>,
    /// Subject organisations (the groups for client certificates).
    pub organizations: Vec<String>,
    /// Issuer DN.
    pub issuer: String,
    /// Serial, hex.
    pub serial: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// DNS SANs.
    pub dns_names: Vec<String>,
    /// IP SANs.
    pub ip_addresses: Vec<String>,
    /// Whether it is a CA certificate.
    pub is_ca: bool,
    /// SHA-256 of the DER, hex (identifies the certificate without disclosing anything).
    pub fingerprint_sha256: String,
    /// Whether its signature verifies against the cluster CA (`kube-root-ca.crt`), when known.
    pub chains_to_cluster_ca: Option<bool>,
}

/// The claims of a ServiceAccount token (JWT): what it says, never the token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// `iss`.
    pub issuer: Option<String>,
    /// `sub` ("system:serviceaccount:ns:name").
    pub subject: Option<String>,
    /// `aud`.
    pub audiences: Vec<String>,
    /// `exp`; legacy Secret tokens have none.
    pub expires_at: Option<Timestamp>,
    /// `iat`.
    pub issued_at: Option<Timestamp>,
    /// `nbf`.
    pub not_before: Option<Timestamp>,
    /// The ServiceAccount it was issued for.
    pub service_account_name: Option<String>,
    /// The ServiceAccount's uid when the token was issued.
    pub service_account_uid: Option<String>,
    /// Namespace of that ServiceAccount.
    pub namespace: Option<String>,
    /// Bound pod, for projected tokens.
    pub pod_name: Option<String>,
    /// Bound Secret, for legacy tokens.
    pub secret_name: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Step 1
// ---------------------------------------------------------------------------------------------

/// Step 1: the API server's own health.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiServerEvidence {
    /// Where the health came from.
    pub source: ApiServerSource,
    /// `component=kube-apiserver` pods in kube-system.
    pub pods: Vec<ApiServerPod>,
    /// `/readyz?verbose`.
    pub readyz: Option<HealthReport>,
    /// `/livez?verbose`.
    pub livez: Option<HealthReport>,
    /// The `default/kubernetes` EndpointSlices' addresses.
    pub endpoints: Vec<EndpointAddr>,
}

/// Where step 1 got the API server's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApiServerSource {
    /// Static pods in kube-system.
    Pods,
    /// No pods (managed control plane, or run as a process): the health endpoints.
    HealthEndpoints,
}

/// One API server pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiServerPod {
    /// Pod name.
    pub name: String,
    /// Node.
    pub node: Option<String>,
    /// Phase.
    pub phase: Option<String>,
    /// Ready condition.
    pub ready: bool,
    /// When the Ready condition last changed.
    pub ready_changed_at: Option<Timestamp>,
    /// Container restarts.
    pub restarts: i32,
    /// The last termination, if it restarted.
    pub last_termination: Option<Termination>,
    /// When the running container started.
    pub started_at: Option<Timestamp>,
    /// Its pod IP (the node's address for a host-network static pod): which API server
    /// instance (`instance` label, `address:port`) it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_ip: Option<String>,
}

/// How a container last ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Termination {
    /// Reason ("Error", "OOMKilled").
    pub reason: Option<String>,
    /// Exit code.
    pub exit_code: i32,
    /// When.
    pub finished_at: Option<Timestamp>,
}

/// A `/readyz?verbose` or `/livez?verbose` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthReport {
    /// The endpoint said ok.
    pub ok: bool,
    /// When asked.
    pub checked_at: Timestamp,
    /// Checks that failed ("[-]etcd failed: ...").
    pub failed_checks: Vec<String>,
    /// How many checks were listed.
    pub checks: usize,
    /// The request itself failed (then `ok` is false and no checks are known).
    pub error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Step 2
// ---------------------------------------------------------------------------------------------

/// Step 2: events around the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsEvidence {
    /// Namespaces read.
    pub namespaces: Vec<String>,
    /// Events read in total.
    pub scanned: u64,
    /// Events kept (those the classifier or their reason ties to API client trouble), newest
    /// first. Which topic each is about is decided by diagnosis.
    pub kept: Vec<EventRecord>,
    /// More matched than the cap kept.
    pub truncated: bool,
    /// Namespaces whose events could not be read, and why (the others were read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<ReadFailure>,
}

/// One object (or namespace) a step could not read while it went on with the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFailure {
    /// What: `namespace/demo`, `pod/demo/web-1`, `secret/demo/tls`.
    pub object: String,
    /// Why, in one line.
    pub error: String,
}

/// One kept event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The object it is about.
    pub involved: ObjectRef,
    /// Reason.
    pub reason: String,
    /// Message, redacted.
    pub message: String,
    /// Normal or Warning.
    pub event_type: String,
    /// How many times it happened.
    pub count: u32,
    /// First time.
    pub first_seen: Option<Timestamp>,
    /// Last time (lastTimestamp, eventTime or series, whichever the event has).
    pub last_seen: Option<Timestamp>,
    /// Reporting component.
    pub source: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Step 3
// ---------------------------------------------------------------------------------------------

/// Step 3: which clients fail, how much, since when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientsEvidence {
    /// Where the numbers came from.
    pub source: RateSource,
    /// The error-ratio threshold of the collection (the alert's 1 %): the collector's own
    /// view fields of each client were computed with it.
    pub threshold: f64,
    /// Resolution of the series, seconds.
    pub step_seconds: f64,
    /// Intervals with traffic needed before errors can be called consistent: a property of
    /// the source (3 for Prometheus and audit logs, 2 for three scrapes).
    #[serde(default = "default_min_intervals")]
    pub min_intervals: u32,
    /// Every client seen, failing ones first (only those the run was scoped to, with
    /// `--client` or an alert).
    pub clients: Vec<ClientRates>,
    /// The clients left out by the scope: how many had traffic, and how many of those were
    /// over the collection threshold (the other clients' health, for a differential
    /// diagnosis). `None` when the run was not scoped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others: Option<OtherClients>,
    /// Anything the source could not do (a target unreachable, a query failed).
    #[serde(default)]
    pub notes: Vec<String>,
    /// What the Prometheus queries were scoped to (the cluster, the alert that started the
    /// run). Added in issue 14; absent in older bundles and without Prometheus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<PrometheusScope>,
}

/// What a run's Prometheus queries were scoped to (issue 14).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PrometheusScope {
    /// The label that names a cluster in this Prometheus (`--cluster-label`, `cluster`).
    pub cluster_label: String,
    /// The cluster every query was scoped to (`--cluster`, or the alert's `cluster` label).
    pub cluster: Option<String>,
    /// The values of the cluster label the series carried (`""`: series without it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clusters_seen: Vec<String>,
    /// The alert that started the run (`serve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<AlertInfo>,
}

/// The alert `serve` investigated: its identity and its time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertInfo {
    /// `alertname`.
    pub name: String,
    /// When it started firing (`startsAt`).
    pub starts_at: Option<Timestamp>,
    /// Which form of the rule fired, from its expression.
    pub form: AlertForm,
    /// The rule's expression (from `generatorURL`, or the rules API), escaped and cut.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<String>,
    /// The rule's `for:`, seconds, and where that number came from.
    pub for_seconds: f64,
    /// The longest range the expression reads (`[5m]`: 300), seconds.
    pub lookback_seconds: f64,
    /// Where `for_seconds` came from: `rules API`, or `assumed (upstream for: 15m)`.
    pub for_source: String,
    /// The labels that scope the investigation: `cluster`, `namespace`, `pod`, `job`,
    /// `instance`, as the alert carried them (escaped).
    pub scope_labels: BTreeMap<String, String>,
}

/// Which form of KubeClientErrors fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertForm {
    /// The current upstream form: 5xx answers only (`code=~"5.."`).
    ServerErrors,
    /// The original form: any answer that is not 2xx (`code!~"2.."`), no answer included.
    NonSuccess,
    /// The expression is not known (Grafana-managed rules, no `generatorURL`) or is neither.
    #[default]
    Unknown,
}

impl AlertForm {
    /// One phrase for notes and reports.
    pub fn describe(self) -> &'static str {
        match self {
            AlertForm::ServerErrors => "the 5xx-only form (code=~\"5..\")",
            AlertForm::NonSuccess => "the non-2xx form (code!~\"2..\", no answer included)",
            AlertForm::Unknown => "a form kube-doctor could not tell (no rule expression)",
        }
    }
}

/// The clients a scoped run left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherClients {
    /// With traffic in the window.
    pub with_traffic: u32,
    /// Of those, over the collection threshold.
    pub failing: u32,
}

fn default_min_intervals() -> u32 {
    3
}

/// One API client (a scrape target, or a user from the audit log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientRates {
    /// Stable id: `job/instance` or `user:NAME`.
    pub id: String,
    /// Prometheus job (or "audit").
    pub job: String,
    /// Prometheus instance (or the user agent).
    pub instance: String,
    /// What the target is in the cluster.
    pub target: Target,
    /// Requests in the window.
    pub requests: f64,
    /// Requests per second.
    pub request_rate: f64,
    /// Error ratios in the three views.
    pub ratios: ErrorRatios,
    /// Requests per status code in the window ("<error>" for no response).
    pub codes: BTreeMap<String, f64>,
    /// The collector's view at the collection threshold: when the non-2xx ratio first
    /// crossed it. Diagnosis recomputes it ([`crate::clients::judge`]).
    pub onset: Option<Timestamp>,
    /// The collector's view: consistent, intermittent or none (see [`PatternStat`]).
    pub pattern: Pattern,
    /// The numbers behind `pattern`.
    pub pattern_stat: PatternStat,
    /// Error requests per category (from the codes).
    pub categories: BTreeMap<Category, u64>,
    /// The collector's view: why the errors may be expected noise, if they are.
    pub noise: Option<Noise>,
    /// For the API server as a client: its callees, by `host`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_host: Vec<HostRates>,
    /// The error ratio over time, for correlation and charts.
    pub series: Vec<RatioPoint>,
    /// The authenticated user, when known (audit log, or the pod's identity).
    pub user: Option<String>,
    /// The user agent, when known (audit log).
    pub user_agent: Option<String>,
}

impl ClientRates {
    /// The pod whose logs tell this client's story: a workload pod, or a control-plane
    /// component's mirror pod.
    pub fn log_pod(&self) -> Option<(&str, &str)> {
        match &self.target {
            Target::Pod {
                namespace, name, ..
            } => Some((namespace, name)),
            Target::Component { pod: Some(p), .. } => Some((p.namespace.as_deref()?, &p.name)),
            _ => None,
        }
    }

    /// The workload pod behind this client, if it is one (not a control-plane component).
    pub fn pod(&self) -> Option<(&str, &str)> {
        match &self.target {
            Target::Pod {
                namespace, name, ..
            } => Some((namespace, name)),
            _ => None,
        }
    }
}

/// What a client is in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Target {
    /// A pod.
    Pod {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// Its ServiceAccount.
        service_account: Option<String>,
        /// Its node.
        node: Option<String>,
    },
    /// The API server itself (its loopback client, webhooks, aggregated APIs).
    ApiServer {
        /// Its instance.
        instance: String,
    },
    /// A control-plane component (controller-manager, scheduler...): a static pod or a host
    /// process, authenticating with a kubeconfig on its host, not a workload.
    Component {
        /// Its name (`kube-controller-manager`, `kube-scheduler`...).
        name: String,
        /// Its mirror pod, when it runs as a static pod (kubeadm).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pod: Option<ObjectRef>,
    },
    /// A kubelet.
    Node {
        /// The node.
        name: String,
    },
    /// A user from the audit log.
    User {
        /// User name.
        name: String,
    },
    /// Could not be mapped.
    Unknown,
}

/// The three error views of `rest_client_requests_total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorRatios {
    /// 5xx / all: the current kubernetes-mixin rule.
    pub server_5xx: f64,
    /// not 2xx / all: the original rule (includes 4xx and no-response).
    pub non_2xx: f64,
    /// no response (`code="<error>"`) / all: transport failures.
    pub transport: f64,
}

/// Whether errors are steady or come and go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Over the threshold in most intervals since onset: a configuration-like cause.
    Consistent,
    /// Over the threshold now and then: a transient-like cause.
    Intermittent,
    /// Never over the threshold.
    None,
}

/// The statistic behind [`Pattern`]: among intervals since onset that carried traffic, the
/// share whose error ratio exceeded the threshold ("coverage"). Consistent when coverage is at
/// least 0.8 over at least 3 intervals; intermittent when it is lower but the ratio crossed
/// the threshold at least once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PatternStat {
    /// Intervals since onset with at least one request.
    pub intervals_with_traffic: u32,
    /// Of those, intervals over the threshold.
    pub intervals_over_threshold: u32,
    /// `intervals_over_threshold / intervals_with_traffic`.
    pub coverage: f64,
}

/// Why a client's errors are expected noise rather than a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Noise {
    /// All errors are 404s: existence checks answered "not found".
    NotFoundChecks,
    /// All errors are watch streams closing and reconnecting.
    WatchReconnects,
    /// All errors are 409 conflicts: optimistic concurrency doing its job (the client reads
    /// again and retries).
    Conflicts,
    /// All errors are 404s and 409s, both of them: a controller's existence checks and its
    /// optimistic-concurrency conflicts (create-if-absent, update-and-retry).
    NotFoundAndConflicts,
    /// A handful of errors on a client with very little traffic: the ratio is over the
    /// threshold because there were few requests, not many errors.
    LowTraffic,
}

impl Noise {
    /// Which noise, in a few words for a report's client list (for example "only 404
    /// existence checks"); the `benign` verdict says it in full with the numbers.
    pub fn short(self) -> &'static str {
        match self {
            Noise::NotFoundChecks => "only 404 existence checks",
            Noise::WatchReconnects => "only watch reconnects",
            Noise::Conflicts => "only 409 conflicts",
            Noise::NotFoundAndConflicts => "only 404 checks and 409 conflicts",
            Noise::LowTraffic => "a handful of errors on very little traffic",
        }
    }
}

/// One stretch of time a client's errors were over the threshold, as the alert's own
/// expression computes them: the ratio over the rule's rate window (5 minutes upstream) at each
/// point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    /// The first point over the threshold.
    pub start: Timestamp,
    /// The last point over it; `None` while it goes on at the window's end.
    pub end: Option<Timestamp>,
    /// The highest ratio in it.
    pub peak_ratio: f64,
}

/// The API server's calls to one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostRates {
    /// The `host` label.
    pub host: String,
    /// Who that host is.
    pub callee: Callee,
    /// Requests in the window.
    pub requests: f64,
    /// Error ratios.
    pub ratios: ErrorRatios,
}

/// Who the API server was calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Callee {
    /// An admission webhook.
    Webhook {
        /// The webhook configuration.
        configuration: String,
        /// The webhook's name.
        webhook: String,
    },
    /// An aggregated API.
    ApiService {
        /// The APIService name.
        name: String,
    },
    /// Itself (loopback client).
    Loopback,
    /// Unknown.
    Unknown,
}

/// One point of a client's error series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatioPoint {
    /// End of the interval.
    pub at: Timestamp,
    /// Requests in the interval.
    pub requests: f64,
    /// Non-2xx requests in the interval.
    pub errors: f64,
    /// 5xx requests in the interval.
    pub server_errors: f64,
    /// No-response requests in the interval.
    pub transport_errors: f64,
}

impl RatioPoint {
    /// Non-2xx ratio of the interval (0 without traffic).
    pub fn ratio(&self) -> f64 {
        if self.requests > 0.0 {
            self.errors / self.requests
        } else {
            0.0
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 4
// ---------------------------------------------------------------------------------------------

/// Step 4: the path from one client pod to the API server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkPath {
    /// The pod.
    pub pod: ObjectRef,
    /// Phase.
    pub phase: Option<String>,
    /// Node.
    pub node: Option<String>,
    /// Pod IP.
    pub pod_ip: Option<String>,
    /// The pod's labels (for policy selection).
    pub labels: BTreeMap<String, String>,
    /// The `default/kubernetes` Service's cluster IP and ports.
    pub service: Option<ServiceInfo>,
    /// Its endpoints.
    pub endpoints: Vec<EndpointAddr>,
    /// When the endpoints last changed (EndpointSlice managedFields), when known.
    pub endpoints_changed_at: Option<Timestamp>,
    /// NetworkPolicies selecting the pod.
    pub policies: Vec<PolicyVerdict>,
    /// Whether egress to the API server is allowed.
    pub egress: EgressVerdict,
    /// TCP and TLS handshakes from kube-doctor to each endpoint.
    pub probes: Vec<HandshakeProbe>,
    /// The pod could not be read (then its phase, node, IP and labels are unknown and no
    /// policy was evaluated for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
}

/// A Service's address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceInfo {
    /// Cluster IP.
    pub cluster_ip: Option<String>,
    /// Ports.
    pub ports: Vec<u16>,
}

/// One NetworkPolicy that selects the pod.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVerdict {
    /// The policy.
    pub policy: ObjectRef,
    /// Its policyTypes.
    pub policy_types: Vec<String>,
    /// Created.
    pub created_at: Option<Timestamp>,
    /// Whether its egress rules admit the API server endpoints.
    pub allows_apiserver: bool,
    /// Why, in a sentence.
    pub reason: String,
}

/// Egress from the pod to the API server under its policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum EgressVerdict {
    /// No policy selects the pod for egress.
    NoPolicy,
    /// Allowed by these policies.
    Allowed {
        /// Policy names.
        by: Vec<String>,
    },
    /// Denied: egress policies select the pod and none admits the API server.
    Denied {
        /// Policy names.
        by: Vec<String>,
    },
}

/// A handshake from kube-doctor to an API server endpoint (not from the pod: a path check,
/// not a proof that the pod's own path works).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandshakeProbe {
    /// host:port.
    pub endpoint: String,
    /// TCP connect time.
    pub tcp_ms: Option<f64>,
    /// TLS handshake time.
    pub tls_ms: Option<f64>,
    /// What failed.
    pub error: Option<String>,
    /// The serving certificate presented.
    pub serving_cert: Option<CertMetadata>,
}

// ---------------------------------------------------------------------------------------------
// Step 5
// ---------------------------------------------------------------------------------------------

/// Step 5: one client pod's logs, classified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodLogs {
    /// The pod.
    pub pod: ObjectRef,
    /// Why it was read when it is not a failing client itself ("backend of admission webhook
    /// X", for the API server as the client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Per container and instance.
    pub containers: Vec<ContainerLogs>,
    /// The pod itself could not be read (then no container was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
}

/// One container instance's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerLogs {
    /// Container name.
    pub container: String,
    /// The previous instance (before a restart).
    pub previous: bool,
    /// Bytes read.
    pub bytes_read: u64,
    /// Reading stopped at the byte cap.
    pub truncated: bool,
    /// Lines read.
    pub lines: u64,
    /// Lines classified as API client errors.
    pub error_lines: u64,
    /// Per category.
    pub categories: BTreeMap<Category, CategoryStats>,
    /// RBAC denials named in the lines.
    pub authz_denials: Vec<AuthzDenialCount>,
    /// The log could not be read (then everything else is empty).
    pub fetch_error: Option<String>,
    /// Error lines whose failed request went to a host that is not the API server (a database,
    /// a registry, a webhook the pod calls itself), per host as the line names it: not API
    /// client evidence, so not in `error_lines` or `categories` (issue 15). At most
    /// [`crate::playbook::step5_logs::OTHER_HOSTS`] hosts; the rest are counted under `"..."`;
    /// a host that redaction removed with its URL is counted under `"(redacted)"`.
    /// Empty when the API server's addresses were not known (then no line was left out).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other_hosts: BTreeMap<String, u64>,
}

/// What the lines of one category say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryStats {
    /// Lines.
    pub count: u64,
    /// Of which expected noise (watch reconnects, 410 relists).
    pub expected: u64,
    /// First line's time.
    pub first_at: Option<Timestamp>,
    /// Last line's time.
    pub last_at: Option<Timestamp>,
    /// HTTP codes seen.
    pub http_codes: BTreeMap<u16, u64>,
    /// Client libraries seen.
    pub clients: BTreeMap<String, u64>,
    /// A few lines, redacted.
    pub samples: Vec<String>,
}

/// An RBAC denial and how often it was logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthzDenialCount {
    /// The denial.
    pub denial: AuthzDenial,
    /// Lines.
    pub count: u64,
    /// First line's time.
    pub first_at: Option<Timestamp>,
    /// Last line's time.
    pub last_at: Option<Timestamp>,
}

// ---------------------------------------------------------------------------------------------
// Step 6
// ---------------------------------------------------------------------------------------------

/// Step 6: one client pod's identity and credentials.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodCredentials {
    /// The pod.
    pub pod: ObjectRef,
    /// Its ServiceAccount.
    pub service_account: Option<ServiceAccountInfo>,
    /// Tokens found in Secrets the pod mounts (claims only).
    pub tokens: Vec<TokenEvidence>,
    /// Certificates found in Secrets the pod mounts (metadata only).
    pub certificates: Vec<CertEvidence>,
    /// The cluster CA (`kube-root-ca.crt`), when readable.
    pub cluster_ca: Option<CertMetadata>,
    /// TokenReviews of those tokens.
    pub token_reviews: Vec<TokenReviewResult>,
    /// SubjectAccessReviews for denials the logs named.
    pub access_reviews: Vec<AccessReviewResult>,
    /// The Roles in the namespaces of the denials a SubjectAccessReview still denies (at most
    /// [`MAX_ROLES`] per namespace): an existing Role that grants what is denied is bound
    /// rather than a new one written. Added in this version; absent in older bundles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleRules>,
    /// Secrets that could not be read, and anything else worth saying.
    pub notes: Vec<String>,
    /// The pod itself could not be read (then nothing else was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_error: Option<String>,
}

/// Roles read per namespace for [`PodCredentials::roles`].
pub const MAX_ROLES: usize = 200;

/// A namespaced Role and its rules (rbac.authorization.k8s.io/v1 `Role`, names and rules only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoleRules {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// Its rules.
    pub rules: Vec<PolicyRuleSummary>,
}

/// One rule of a Role (`PolicyRule`): what it grants. `*` matches anything, as in RBAC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyRuleSummary {
    /// API groups (`""` for core).
    pub api_groups: Vec<String>,
    /// Resources, subresources as `pods/log`.
    pub resources: Vec<String>,
    /// Verbs.
    pub verbs: Vec<String>,
    /// Object names it is limited to (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
}

impl PolicyRuleSummary {
    /// Whether the rule grants `verb` on `resource` (with `/subresource`) in `group`, for any
    /// object name (RBAC's matching: `*` matches anything; rbac/v1 `PolicyRule`).
    pub fn grants(&self, group: &str, resource: &str, verb: &str) -> bool {
        let any = |list: &[String], want: &str| list.iter().any(|x| x == "*" || x == want);
        self.resource_names.is_empty()
            && any(&self.api_groups, group)
            && any(&self.resources, resource)
            && any(&self.verbs, verb)
    }
}

/// The pod's ServiceAccount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceAccountInfo {
    /// Name.
    pub name: String,
    /// Whether it exists now.
    pub exists: bool,
    /// Its uid now.
    pub uid: Option<String>,
    /// Created (a recent creation means it was re-created).
    pub created_at: Option<Timestamp>,
    /// automountServiceAccountToken.
    pub automount: Option<bool>,
}

/// A token found in a Secret, by its claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEvidence {
    /// `secret/ns/name:key`.
    pub source: String,
    /// Its claims.
    pub claims: TokenClaims,
    /// Expired at collection time.
    pub expired: bool,
    /// Whether the uid it was issued for is the ServiceAccount's uid now.
    pub service_account_uid_matches: Option<bool>,
}

/// A certificate found in a Secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertEvidence {
    /// `secret/ns/name:key`.
    pub source: String,
    /// What it says.
    pub cert: CertMetadata,
    /// Expired at collection time.
    pub expired: bool,
    /// Not yet valid at collection time.
    pub not_yet_valid: bool,
}

/// A TokenReview's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenReviewResult {
    /// Which token.
    pub source: String,
    /// The API server accepted it.
    pub authenticated: bool,
    /// As whom.
    pub user: Option<String>,
    /// Why not.
    pub error: Option<String>,
}

/// A SubjectAccessReview's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessReviewResult {
    /// What was asked.
    pub denial: AuthzDenial,
    /// Allowed now.
    pub allowed: bool,
    /// Explicitly denied.
    pub denied: bool,
    /// The authorizer's reason.
    pub reason: Option<String>,
    /// The authorizer's evaluation error.
    pub evaluation_error: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Step 7
// ---------------------------------------------------------------------------------------------

/// Step 7: the API server's side of the story.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerMetrics {
    /// Where the numbers came from.
    pub source: RateSource,
    /// Request rate by code class ("2xx", "4xx", "5xx"...), per second.
    pub requests_by_class: BTreeMap<String, f64>,
    /// 5xx / all.
    pub ratio_5xx: f64,
    /// 429 / all.
    pub ratio_429: f64,
    /// Latency by verb.
    pub latency: Vec<LatencyQuantiles>,
    /// In-flight requests by kind (readOnly, mutating).
    pub inflight: BTreeMap<String, f64>,
    /// APF per FlowSchema and priority level.
    pub apf: Vec<ApfStat>,
    /// Admission webhooks.
    pub webhooks: Vec<WebhookStat>,
    /// etcd request latency.
    pub etcd: Vec<EtcdStat>,
    /// The server-side series over the window (from Prometheus; empty from a scrape, whose
    /// numbers are cumulative): what diagnosis judges for trouble and its start.
    #[serde(default)]
    pub series: Vec<ServerSeries>,
    /// Signals judged at collection by a version 1 bundle (kept through migration, since
    /// those bundles hold no series; diagnosis then reads them as they are). `None` in
    /// version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recorded_signals: Option<Vec<ServerSignal>>,
    /// The API server's callees.
    pub callees: Callees,
    /// Anything that could not be read.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Which API server series were read (its job, how it was chosen) and the view per
    /// instance. Added in issue 14; absent in older bundles and from a scrape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apiserver_series: Option<ApiServerSeries>,
}

/// The API server's series in Prometheus: which job, why, and each instance's numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiServerSeries {
    /// The job step 7 was scoped to; `None`: this Prometheus has no API server series.
    pub job: Option<String>,
    /// Why that job (`given by --apiserver-job`, `its targets are the kubernetes Service's
    /// endpoints`, `the most apiserver_request_total traffic of N jobs exporting it`).
    pub chosen_because: String,
    /// Other jobs exporting `apiserver_request_total` (aggregated and extension API servers).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_jobs: Vec<String>,
    /// kube-prometheus-stack recording rules read instead of raw series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recording_rules: Vec<String>,
    /// Per instance, the alert's instance first, then by 5xx ratio.
    #[serde(default)]
    pub instances: Vec<ApiServerInstance>,
}

/// One API server instance's numbers over the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiServerInstance {
    /// The `instance` label.
    pub instance: String,
    /// Requests per second.
    pub requests_per_second: f64,
    /// 5xx / all.
    pub ratio_5xx: f64,
    /// 429 / all.
    pub ratio_429: f64,
    /// p99 latency of non-watch requests, seconds.
    pub p99_seconds: Option<f64>,
    /// The lowest `up` of its target over the window (0: a scrape failed).
    pub lowest_up: Option<f64>,
    /// Whether its target was still scraped at the window's end (an `up` sample then).
    /// `Some(false)`: it left Prometheus' targets within the window, as a stopped API server
    /// leaves the `kubernetes` Service's endpoints, often before a scrape of it fails.
    /// `None`: not asked (bundles from before this field, or no Prometheus).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scraped_at_end: Option<bool>,
    /// Its 5xx ratio over time (each point covers the step before it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_ratio_series: Vec<(Timestamp, f64)>,
    /// The instance the alert named.
    #[serde(default)]
    pub alerted: bool,
}

/// One server-side series: a measurement per point in time (each point covers the step
/// before it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSeries {
    /// What is measured.
    pub measure: ServerMeasure,
    /// The series' labels that matter (instance, flow_schema, priority_level, name).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// (time, value), in time order; units per [`ServerMeasure`].
    pub points: Vec<(Timestamp, f64)>,
}

/// What a [`ServerSeries`] measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerMeasure {
    /// 5xx answers / all answers of the API server (ratio, 0-1).
    ServerErrorRatio,
    /// p99 latency of non-watch requests, seconds.
    RequestP99Seconds,
    /// p99 latency of etcd requests, seconds.
    EtcdP99Seconds,
    /// APF rejections per second, per `flow_schema` and `priority_level`.
    ApfRejectedPerSecond,
    /// Failed admission webhook calls per second, per webhook `name`.
    WebhookErrorsPerSecond,
    /// The lowest `up` of the API server's scrape targets in the step (1 up, 0 down).
    ApiServerUp,
    /// `process_start_time_seconds` per API server `instance` (Unix seconds).
    ProcessStartSeconds,
}

/// Latency quantiles for one verb.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyQuantiles {
    /// Verb.
    pub verb: String,
    /// Median, seconds.
    pub p50: Option<f64>,
    /// 99th percentile, seconds.
    pub p99: Option<f64>,
}

/// API Priority and Fairness numbers for one FlowSchema / priority level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApfStat {
    /// FlowSchema.
    pub flow_schema: String,
    /// Priority level.
    pub priority_level: String,
    /// Requests rejected in the window.
    pub rejected: f64,
    /// Rejections by reason (queue-full, concurrency-limit, time-out, cancelled).
    pub reasons: BTreeMap<String, f64>,
    /// Requests waiting in queues (latest).
    pub in_queue: f64,
}

/// One admission webhook's numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookStat {
    /// Webhook name.
    pub name: String,
    /// validating or admit (mutating).
    pub kind: String,
    /// Rejections (denials and call failures) in the window.
    pub rejections: f64,
    /// Call failures (calling_webhook_error) in the window.
    pub errors: f64,
    /// p99 latency, seconds.
    pub p99_seconds: Option<f64>,
}

/// etcd latency for one operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EtcdStat {
    /// Operation.
    pub operation: String,
    /// Object type.
    pub object_type: String,
    /// p99, seconds.
    pub p99_seconds: Option<f64>,
}

/// A kind of server trouble (judged by diagnosis from the measurements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// The API server answered 5xx.
    Server5xx,
    /// Request latency high.
    HighLatency,
    /// APF rejected requests.
    ApfRejections,
    /// Admission webhook calls failed or were slow.
    WebhookErrors,
    /// etcd slow.
    EtcdLatency,
    /// An aggregated API unavailable.
    ApiServiceUnavailable,
    /// The API server did not answer at all (down, or its certificate failed).
    ApiServerUnreachable,
    /// The API server restarted or was not ready.
    ApiServerRestart,
}

/// Server trouble observed, with its time span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSignal {
    /// Which.
    pub kind: SignalKind,
    /// About what ("flow_schema=x priority_level=y", a webhook, a verb).
    pub subject: String,
    /// First seen in the window.
    pub first_seen: Option<Timestamp>,
    /// Last seen.
    pub last_seen: Option<Timestamp>,
    /// Peak value (rate, ratio or seconds, per kind).
    pub peak: f64,
    /// One sentence.
    pub detail: String,
}

/// The API server's callees: admission webhooks and aggregated APIs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Callees {
    /// Webhook configurations.
    pub webhooks: Vec<WebhookConfig>,
    /// APIServices served by other servers.
    pub api_services: Vec<ApiServiceInfo>,
}

/// One webhook of a webhook configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookConfig {
    /// ValidatingWebhookConfiguration / MutatingWebhookConfiguration name.
    pub configuration: String,
    /// validating or mutating.
    pub kind: String,
    /// Webhook name.
    pub webhook: String,
    /// URL, or service ns/name:port/path.
    pub client: String,
    /// The host:port the API server dials (matches rest_client `host`), when known.
    pub host: Option<String>,
    /// timeoutSeconds.
    pub timeout_seconds: Option<i32>,
    /// failurePolicy.
    pub failure_policy: Option<String>,
    /// Created.
    pub created_at: Option<Timestamp>,
    /// Resources and operations it intercepts.
    pub rules: Vec<String>,
    /// The Service it calls, when it calls one (not a URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRef>,
    /// The CA its `caBundle` holds (what the API server trusts the webhook's serving
    /// certificate with), as metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<CertMetadata>,
    /// Its namespaceSelector and objectSelector, as `key=value` / `key in (a,b)` terms
    /// (empty: every namespace and object).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub selectors: Vec<String>,
}

/// A Service a webhook or an APIService calls.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ServiceRef {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Port (443 when unset).
    pub port: u16,
    /// Path, for webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl ServiceRef {
    /// The name TLS checks on its serving certificate: `name.namespace.svc`.
    pub fn dns_name(&self) -> String {
        format!("{}.{}.svc", self.name, self.namespace)
    }
}

/// Step 4 when the failing client is the API server: its path to one callee it fails to call
/// (an admission webhook's Service, an aggregated API's Service).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalleePath {
    /// The failing client (the API server instance's client id).
    pub client: String,
    /// The `host` the API server dials.
    pub host: String,
    /// Who that is.
    pub callee: Callee,
    /// Its Service, when it calls one.
    pub service: Option<ServiceRef>,
    /// Whether that Service exists (`None`: could not be read).
    pub service_exists: Option<bool>,
    /// The Service's endpoints (with their ready condition).
    pub endpoints: Vec<EndpointAddr>,
    /// The pods behind those endpoints (the webhook's or aggregated API's backend).
    pub backend_pods: Vec<ObjectRef>,
    /// A TLS handshake from kube-doctor to one endpoint, checking the serving certificate
    /// against the webhook's `caBundle` (`chains_to_cluster_ca` is against that CA here).
    pub probe: Option<HandshakeProbe>,
    /// What could not be read or done.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One aggregated API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiServiceInfo {
    /// APIService name.
    pub name: String,
    /// Backing service ns/name.
    pub service: Option<String>,
    /// Available condition.
    pub available: bool,
    /// Reason.
    pub reason: Option<String>,
    /// Message.
    pub message: Option<String>,
    /// When Available last changed.
    pub changed_at: Option<Timestamp>,
}

// ---------------------------------------------------------------------------------------------
// Step 8
// ---------------------------------------------------------------------------------------------

/// Step 8: quota and API Priority and Fairness configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaAndFlowControl {
    /// ResourceQuotas in the clients' namespaces.
    pub quotas: Vec<QuotaInfo>,
    /// FlowSchemas.
    pub flow_schemas: Vec<FlowSchemaInfo>,
    /// PriorityLevelConfigurations.
    pub priority_levels: Vec<PriorityLevelInfo>,
    /// Which FlowSchema each failing client's requests fall into.
    pub client_matches: Vec<ApfMatch>,
    /// Namespaces whose quotas could not be read, and why (the others were read).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<ReadFailure>,
}

/// One ResourceQuota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaInfo {
    /// The quota.
    pub quota: ObjectRef,
    /// Created.
    pub created_at: Option<Timestamp>,
    /// Per resource.
    pub resources: Vec<QuotaResource>,
}

/// One resource of a quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaResource {
    /// Resource name ("count/configmaps", "requests.cpu").
    pub resource: String,
    /// Hard limit, as written.
    pub hard: String,
    /// Used, as written.
    pub used: Option<String>,
    /// The collector's view: used >= hard (diagnosis recomputes it from the quantities).
    pub exhausted: bool,
}

/// A FlowSchema, with what matching needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowSchemaInfo {
    /// Name.
    pub name: String,
    /// matchingPrecedence (lower wins).
    pub precedence: i32,
    /// Priority level.
    pub priority_level: String,
    /// ByUser, ByNamespace, or none.
    pub distinguisher: Option<String>,
    /// Created.
    pub created_at: Option<Timestamp>,
    /// Rules.
    pub rules: Vec<FlowRule>,
}

/// One rule of a FlowSchema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowRule {
    /// Subjects.
    pub subjects: Vec<FlowSubject>,
    /// Resource rules.
    pub resource_rules: Vec<FlowResourceRule>,
    /// Non-resource rules.
    pub non_resource_rules: Vec<FlowNonResourceRule>,
}

/// A FlowSchema subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FlowSubject {
    /// A user ("*" for all).
    User {
        /// Name.
        name: String,
    },
    /// A group ("*" for all).
    Group {
        /// Name.
        name: String,
    },
    /// A ServiceAccount ("*" names for all in a namespace).
    ServiceAccount {
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
    },
}

/// A FlowSchema resource rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowResourceRule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// API groups.
    pub api_groups: Vec<String>,
    /// Resources.
    pub resources: Vec<String>,
    /// Namespaces.
    pub namespaces: Vec<String>,
    /// Matches cluster-scoped requests.
    pub cluster_scope: bool,
}

/// A FlowSchema non-resource rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowNonResourceRule {
    /// Verbs.
    pub verbs: Vec<String>,
    /// URLs.
    pub urls: Vec<String>,
}

/// A PriorityLevelConfiguration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorityLevelInfo {
    /// Name.
    pub name: String,
    /// Exempt or Limited.
    pub kind: String,
    /// nominalConcurrencyShares.
    pub nominal_shares: Option<i32>,
    /// lendablePercent.
    pub lendable_percent: Option<i32>,
    /// borrowingLimitPercent (None: unlimited borrowing).
    pub borrowing_limit_percent: Option<i32>,
    /// Reject, or Queue with its shape.
    pub limit_response: Option<LimitResponse>,
    /// Created.
    pub created_at: Option<Timestamp>,
    /// Nominal seats from the API server's metrics, when known.
    pub nominal_seats: Option<f64>,
}

/// What a priority level does when full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LimitResponse {
    /// Reject at once with 429.
    Reject,
    /// Queue.
    Queue {
        /// Queues.
        queues: Option<i32>,
        /// Hand size.
        hand_size: Option<i32>,
        /// Queue length limit.
        queue_length_limit: Option<i32>,
    },
}

/// Where one client's requests land in APF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApfMatch {
    /// The client (ClientRates::id).
    pub client_id: String,
    /// The user its requests come as.
    pub user: String,
    /// Its groups.
    pub groups: Vec<String>,
    /// The request matched ("list pods in demo").
    pub request: String,
    /// The FlowSchema that matches first.
    pub flow_schema: Option<String>,
    /// Its priority level.
    pub priority_level: Option<String>,
}

impl AlertInfo {
    /// One sentence about the alert for the step notes (and so for every rendering of the
    /// report): which alert, which form fired, since when, scoped to what.
    pub fn describe(&self) -> String {
        let a = self;
        let mut s = format!("alert {} fired on {}", a.name, a.form.describe());
        if let Some(t) = a.starts_at {
            s.push_str(&format!(" at {t}"));
        }
        s.push_str(&format!(
            " (for: {}s, {}; lookback {}s)",
            a.for_seconds, a.for_source, a.lookback_seconds
        ));
        if !a.scope_labels.is_empty() {
            let labels: Vec<String> = a
                .scope_labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            s.push_str(&format!("; scope {}", labels.join(" ")));
        }
        s
    }
}
