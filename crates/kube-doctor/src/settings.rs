//! Resolved settings: what was typed (`cli.rs`), plus the environment and the kubeconfig,
//! turned once, before any work, into the one [`Settings`] every part reads. Nothing after
//! this re-derives the window, the threshold, the correlation windows, Prometheus access,
//! the cluster or the limits. `serve` builds one per alert with [`Settings::for_alert`].
//!
//! Errors are [`SettingsError`]: one line naming the flag or file and what to do.

use std::path::PathBuf;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube_doctor_core::bundle::Window;
use kube_doctor_core::bundle::{AlertForm, AlertInfo};
use kube_doctor_core::clients::Threshold;
use kube_doctor_core::diagnose::{self, ServerThresholds, Windows};

use crate::cli::{ClusterArgs, LimitArgs, RateArgs, WindowArgs};

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `--threshold` is not a ratio. The message is the whole story (no `#[source]`: the
    /// chain printed on error would say it twice).
    #[error("--threshold {0}")]
    Threshold(kube_doctor_core::clients::judge::ThresholdError),
    /// `--since` or a window flag is out of range.
    #[error("{flag} {value:?} is not a usable duration: {why}")]
    Duration {
        /// The flag.
        flag: &'static str,
        /// As typed.
        value: String,
        /// What is wrong.
        why: &'static str,
    },
    /// `--prometheus` is not a URL kube-doctor can use.
    #[error(
        "--prometheus {0}: not an http(s) URL; give it like http://prometheus.monitoring:9090, k8s://monitoring/prometheus-operated:9090, auto or none"
    )]
    PrometheusUrl(String),
    /// `--prometheus k8s://...` is not a Service reference.
    #[error(
        "--prometheus {0}: not a Service reference; give it like k8s://monitoring/prometheus-operated:9090 (k8s://NAMESPACE/SERVICE:PORT[/PATH], https:SERVICE:PORT for a TLS port)"
    )]
    PrometheusService(String),
    /// A Prometheus access flag that cannot be used as given.
    #[error("{flag}: {why}")]
    PrometheusFlag {
        /// The flag (and file, when one is named).
        flag: String,
        /// What is wrong and what to do.
        why: String,
    },
    /// `--prometheus auto` found more than one Prometheus of the same kind.
    #[error(
        "--prometheus auto found {0}: pass the one to use as --prometheus k8s://NAMESPACE/SERVICE:PORT"
    )]
    PrometheusAmbiguous(String),
    /// The kubeconfig file could not be read or used.
    #[error("cannot use kubeconfig {path}: {reason}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// Why (one line).
        reason: String,
    },
    /// No cluster configuration at all.
    #[error(
        "no cluster configuration found ({0}); pass --kubeconfig, set KUBECONFIG, or run in a pod"
    )]
    NoCluster(String),
    /// No cluster, an audit log to read alone, and a Prometheus asked for as well.
    #[error(
        "no cluster configuration found ({0}); with --audit-log and no cluster, pass --prometheus none to read the audit log alone, or --kubeconfig"
    )]
    NoClusterButPrometheus(String),
    /// The audit log cannot be read.
    #[error("cannot read audit log {path}: {reason}")]
    AuditLog {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

impl From<kube_doctor_core::clients::judge::ThresholdError> for SettingsError {
    fn from(e: kube_doctor_core::clients::judge::ThresholdError) -> Self {
        SettingsError::Threshold(e)
    }
}

/// Where Prometheus is (DESIGN.md "Prometheus access").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrometheusTarget {
    /// Not used: client rates come from /metrics scrapes and the audit log.
    None,
    /// A base URL (its path and query string kept; userinfo used for basic auth, never shown).
    Url(url::Url),
    /// A Service reached through the API server's service proxy, with kube-doctor's own
    /// credentials.
    Service(ServiceRef),
    /// Find it in the cluster (resolved by [`resolve`] before any work; never left for the
    /// collectors).
    Auto,
}

/// `k8s://NAMESPACE/[SCHEME:]SERVICE:PORT[/PATH][?QUERY]`: a Service, its port (name or number),
/// and the path and query string Prometheus' API sits under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    /// Namespace.
    pub namespace: String,
    /// `https` when the port serves TLS (the proxy then speaks TLS to it); `None` for http.
    pub scheme: Option<String>,
    /// Service name.
    pub name: String,
    /// Port name or number.
    pub port: String,
    /// Path under the service ("" or "/prometheus"), no trailing slash.
    pub path: String,
    /// Query string kept on every request (VictoriaMetrics' `extra_label=`), without `?`.
    pub query: Option<String>,
}

impl ServiceRef {
    /// The API server path of its proxy, up to Prometheus' base path:
    /// `/api/v1/namespaces/NS/services/[https:]NAME:PORT/proxy/PATH`.
    pub fn proxy_base(&self) -> String {
        let scheme = self
            .scheme
            .as_deref()
            .map(|s| format!("{s}:"))
            .unwrap_or_default();
        format!(
            "/api/v1/namespaces/{}/services/{scheme}{}:{}/proxy{}",
            self.namespace, self.name, self.port, self.path
        )
    }
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = self
            .scheme
            .as_deref()
            .map(|s| format!("{s}:"))
            .unwrap_or_default();
        write!(
            f,
            "k8s://{}/{scheme}{}:{}{}",
            self.namespace, self.name, self.port, self.path
        )?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        Ok(())
    }
}

/// How kube-doctor authenticates to Prometheus and trusts it. Only paths: every file is read
/// when it is used (a rotated token is picked up), never stored in settings, bundles or
/// reports, never printed or logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct PrometheusAuth {
    /// `--prometheus-bearer-token-file`.
    pub bearer_token_file: Option<PathBuf>,
    /// `--prometheus-basic-auth-file` (`user:password`).
    pub basic_auth_file: Option<PathBuf>,
    /// `--prometheus-header`: (name, value); values are sent, never shown.
    pub headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// `--prometheus-ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `--prometheus-cert-file`.
    pub cert_file: Option<PathBuf>,
    /// `--prometheus-key-file`.
    pub key_file: Option<PathBuf>,
    /// `--prometheus-insecure-skip-tls-verify`.
    pub insecure_skip_tls_verify: bool,
}

impl std::fmt::Debug for PrometheusAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Header names only: a value may be a credential.
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("PrometheusAuth")
            .field("bearer_token_file", &self.bearer_token_file)
            .field("basic_auth_file", &self.basic_auth_file)
            .field("headers", &names)
            .field("ca_file", &self.ca_file)
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("insecure_skip_tls_verify", &self.insecure_skip_tls_verify)
            .finish()
    }
}

/// What every Prometheus query is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromScope {
    /// `--cluster`: the value of `cluster_label` every query matches.
    pub cluster: Option<String>,
    /// `--cluster-label` (a valid label name).
    pub cluster_label: String,
    /// `--apiserver-job`; detected from the data when `None`.
    pub apiserver_job: Option<String>,
    /// Why an alert's cluster does not scope the queries, when it does not (`serve`: the
    /// label is Prometheus' external label, on none of its series), for step 3's note.
    pub cluster_note: Option<String>,
}

impl PromScope {
    /// The cluster matcher of every query, when the run is scoped to one.
    pub fn matchers(&self) -> kube_doctor_core::prometheus::Matchers {
        match &self.cluster {
            Some(c) => kube_doctor_core::prometheus::Matchers::none().eq(&self.cluster_label, c),
            None => kube_doctor_core::prometheus::Matchers::none(),
        }
    }

    /// The refusal to blend clusters: `seen` (values of `cluster_label` in an answer) holds
    /// several clusters and no `--cluster` was given. `None` when there is one cluster (or
    /// none named).
    pub fn blended(&self, seen: &[String]) -> Option<String> {
        let named: Vec<&String> = seen.iter().filter(|v| !v.is_empty()).collect();
        if self.cluster.is_some() || named.len() < 2 {
            return None;
        }
        let values: Vec<String> = named
            .iter()
            .map(|v| {
                format!(
                    "{}={}",
                    self.cluster_label,
                    kube_doctor_core::prometheus::string_literal(
                        &kube_doctor_core::escape::one_line(v, 100)
                    )
                )
            })
            .collect();
        Some(format!(
            "this Prometheus holds the series of {} clusters ({}): kube-doctor does not blend them; pass --cluster NAME (and --cluster-label if the label is not {})",
            named.len(),
            values.join(", "),
            self.cluster_label
        ))
    }
}

impl Default for PromScope {
    fn default() -> Self {
        PromScope {
            cluster: None,
            cluster_label: "cluster".to_string(),
            apiserver_job: None,
            cluster_note: None,
        }
    }
}

/// How to reach Prometheus: where, with which credentials, scoped to what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrometheusAccess {
    /// Where.
    pub target: PrometheusTarget,
    /// Credentials and TLS (paths only).
    pub auth: PrometheusAuth,
    /// Cluster and API server job.
    pub scope: PromScope,
    /// What `auto` found (or why it found nothing), for the steps' notes.
    pub discovery: Option<String>,
}

impl PrometheusAccess {
    /// The URL for display and for the bundle: without userinfo (and no credential is ever
    /// part of it otherwise). `k8s://...` for a Service.
    pub fn display(&self) -> Option<String> {
        match &self.target {
            PrometheusTarget::None => None,
            PrometheusTarget::Auto => Some("auto".to_string()),
            PrometheusTarget::Url(u) => {
                let mut u = u.clone();
                let _ = u.set_username("");
                let _ = u.set_password(None);
                // Secret-looking query values (a tenant token in the URL) go too.
                Some(kube_doctor_core::redact::redact_url(
                    u.as_str().trim_end_matches('/'),
                ))
            }
            PrometheusTarget::Service(s) => Some(s.to_string()),
        }
    }
}

/// The cluster, as the kubeconfig (or the in-cluster configuration) resolves it.
#[derive(Clone)]
pub struct ClusterConfig {
    /// kube-rs' resolved configuration.
    pub config: kube::Config,
    /// The context used, when one was named.
    pub context: Option<String>,
    /// The API server URL.
    pub server: String,
}

/// Which clients the run is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// `--client`: a pod (ns/name or name), a job/instance, an id or a user.
    pub client: Option<String>,
    /// `-n`: where to look for client pods to scrape without Prometheus.
    pub namespace: Option<String>,
    /// `--audit-log`.
    pub audit_log: Option<PathBuf>,
}

/// How hard kube-doctor may lean on a struggling API server and Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Kubernetes API requests in flight at once.
    pub max_inflight: usize,
    /// Time budget of each playbook step.
    pub step_timeout: Duration,
    /// Log bytes read per container instance.
    pub log_bytes: usize,
    /// Time between /metrics scrapes without Prometheus.
    pub scrape_interval: Duration,
    /// Prometheus queries in flight at once (all steps together).
    pub prometheus_inflight: usize,
    /// One Prometheus query's timeout.
    pub prometheus_timeout: Duration,
}

impl Limits {
    /// Prometheus queries in flight at once: a sick Prometheus gets at most this many.
    pub const PROMETHEUS_INFLIGHT: usize = 8;
}

/// Everything a run reads, resolved once.
#[derive(Clone)]
pub struct Settings {
    /// The window looked at.
    pub window: Window,
    /// The error ratio over which a client fails (collection picks the clients to
    /// investigate with it; diagnosis judges with it).
    pub threshold: Threshold,
    /// How diagnosis judges: this threshold, the correlation windows, server thresholds.
    pub diagnosis: diagnose::Settings,
    /// The cluster (`None` for offline work: an audit log alone).
    pub cluster: Option<ClusterConfig>,
    /// Prometheus.
    pub prometheus: PrometheusAccess,
    /// Which clients.
    pub scope: Scope,
    /// Load discipline.
    pub limits: Limits,
    /// The alert that started this run (`serve`), for the report and the scope.
    pub alert: Option<kube_doctor_core::bundle::AlertInfo>,
}

pub use crate::cli::{MAX_SINCE, MIN_SINCE};

/// Why an alert cannot be investigated with these settings.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertRefused {
    /// The alert is about another cluster than the one this kube-doctor investigates.
    #[error(
        "the alert is about cluster {alert:?}, and this kube-doctor investigates cluster {ours:?} (--cluster): not investigated on another cluster"
    )]
    OtherCluster {
        /// The alert's `cluster` label.
        alert: String,
        /// `--cluster`.
        ours: String,
    },
}

impl Settings {
    /// The same settings for one alert, at `now`: a window that reaches back from the alert's
    /// `startsAt` far enough to hold the onset its rule's `for:` and lookback imply (and at
    /// least `--since` long), the alert's client, its cluster as the Prometheus scope, and the
    /// alert itself (for the report). Refused when the alert names another cluster than
    /// `--cluster`.
    pub fn for_alert(
        &self,
        alert: &AlertContext,
        now: Timestamp,
    ) -> Result<Settings, AlertRefused> {
        let mut s = self.clone();
        let since = self.window.length().unsigned_abs();
        let mut window = Window::ending_at(now, since);
        if let Some(from) = alert.onset_bound()
            && from < window.from
        {
            // Never beyond the longest window kube-doctor reads.
            let earliest = now
                .checked_sub(SignedDuration::try_from(MAX_SINCE).unwrap_or(SignedDuration::ZERO))
                .unwrap_or(Timestamp::MIN);
            window.from = from.max(earliest);
        }
        s.window = window;
        s.scope.client = Some(alert.key.clone());
        if let Some(c) = &alert.cluster {
            match &self.prometheus.scope.cluster {
                Some(ours) if ours != c => {
                    return Err(AlertRefused::OtherCluster {
                        alert: kube_doctor_core::escape::one_line(c, 100),
                        ours: ours.clone(),
                    });
                }
                _ => s.prometheus.scope.cluster = Some(c.clone()),
            }
        }
        s.alert = Some(alert.info());
        Ok(s)
    }
}

/// The pieces every command shares: threshold, window, correlation windows.
pub fn judging(
    threshold: f64,
    windows: Option<&WindowArgs>,
) -> Result<(Threshold, diagnose::Settings), SettingsError> {
    let threshold = Threshold::new(threshold)?;
    let windows = match windows {
        Some(w) => correlation_windows(w)?,
        None => Windows::default(),
    };
    Ok((
        threshold,
        diagnose::Settings {
            threshold: Some(threshold),
            windows,
            server: ServerThresholds::default(),
        },
    ))
}

/// The correlation windows, each at most a day.
pub fn correlation_windows(w: &WindowArgs) -> Result<Windows, SettingsError> {
    let d = |flag: &'static str, x: Duration| -> Result<SignedDuration, SettingsError> {
        if x > Duration::from_secs(24 * 3600) {
            return Err(SettingsError::Duration {
                flag,
                value: compact_duration(x),
                why: "longer than a day: give at most 24h",
            });
        }
        SignedDuration::try_from(x).map_err(|_| SettingsError::Duration {
            flag,
            value: format!("{x:?}"),
            why: "out of range",
        })
    };
    Ok(Windows {
        server: d("--server-window", w.server_window)?,
        auth: d("--auth-window", w.auth_window)?,
        apf: d("--apf-window", w.apf_window)?,
        network: d("--network-window", w.network_window)?,
    })
}

/// A duration as a user writes it on the command line, whole seconds: `30d`, `1h30m`, `45s`,
/// `0s` (humantime's own format spells units out: `30days`).
pub fn compact_duration(d: Duration) -> String {
    let mut left = d.as_secs();
    if left == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    for (unit, secs) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if left >= secs {
            out.push_str(&format!("{}{unit}", left / secs));
            left %= secs;
        }
    }
    out
}

/// The window of the last `since`, ending now.
pub fn window(since: Duration, now: Timestamp) -> Result<Window, SettingsError> {
    if since < MIN_SINCE || since > MAX_SINCE {
        return Err(SettingsError::Duration {
            flag: "--since",
            value: compact_duration(since),
            why: "give between 1s and 7d",
        });
    }
    Ok(Window::ending_at(now, since))
}

/// `--prometheus` (or `PROMETHEUS_URL`) alone: an http(s) URL, `k8s://...`, `auto` (also when
/// absent), or `none` (also ""). Credentials and scope default; see [`prometheus_access`].
#[cfg(test)]
pub fn prometheus(arg: Option<&str>) -> Result<PrometheusAccess, SettingsError> {
    Ok(PrometheusAccess {
        target: prometheus_target(arg)?,
        auth: PrometheusAuth::default(),
        scope: PromScope::default(),
        discovery: None,
    })
}

/// Where Prometheus is, from `--prometheus`.
pub fn prometheus_target(arg: Option<&str>) -> Result<PrometheusTarget, SettingsError> {
    let Some(raw) = arg.map(str::trim) else {
        return Ok(PrometheusTarget::Auto);
    };
    if raw.is_empty() || raw == "none" {
        return Ok(PrometheusTarget::None);
    }
    if raw == "auto" {
        return Ok(PrometheusTarget::Auto);
    }
    let shown = || kube_doctor_core::escape::one_line(&without_userinfo(raw), 200);
    if let Some(rest) = raw.strip_prefix("k8s://") {
        return service_ref(rest)
            .map(PrometheusTarget::Service)
            .ok_or_else(|| SettingsError::PrometheusService(shown()));
    }
    let u = url::Url::parse(raw).map_err(|_| SettingsError::PrometheusUrl(shown()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(SettingsError::PrometheusUrl(shown()));
    }
    Ok(PrometheusTarget::Url(u))
}

/// `NAMESPACE/[SCHEME:]SERVICE:PORT[/PATH][?QUERY]`, each name a DNS label (the port a name or a
/// number).
fn service_ref(rest: &str) -> Option<ServiceRef> {
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q.to_string()).filter(|q| !q.is_empty())),
        None => (rest, None),
    };
    let (namespace, rest) = rest.split_once('/')?;
    let (svc_port, path) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let parts: Vec<&str> = svc_port.split(':').collect();
    let (scheme, name, port) = match parts.as_slice() {
        [name, port] => (None, *name, *port),
        [scheme @ ("http" | "https"), name, port] => (Some(scheme.to_string()), *name, *port),
        _ => return None,
    };
    let label = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    // A number, or a port name (IANA_SVC_NAME: at most 15 characters, at least one letter).
    let port_ok = match port.parse::<u16>() {
        Ok(p) => p > 0,
        Err(_) => label(port) && port.len() <= 15 && port.chars().any(|c| c.is_ascii_lowercase()),
    };
    let path_ok = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/-._~%".contains(c))
        && !path.contains("..");
    (label(namespace) && label(name) && port_ok && path_ok).then(|| ServiceRef {
        namespace: namespace.to_string(),
        scheme: scheme.filter(|s| s == "https"),
        name: name.to_string(),
        port: port.to_string(),
        path: path.to_string(),
        query,
    })
}

/// The whole of Prometheus access from the flags: where, credentials (paths, each checked to
/// be readable now, read again at every use), scope. One line naming the flag on any error.
pub fn prometheus_access(
    target: Option<&str>,
    a: &crate::cli::PrometheusArgs,
) -> Result<PrometheusAccess, SettingsError> {
    let target = prometheus_target(target)?;
    let readable = |flag: &str, path: &Option<PathBuf>| -> Result<(), SettingsError> {
        if let Some(p) = path {
            std::fs::File::open(p).map_err(|e| SettingsError::PrometheusFlag {
                flag: format!("{flag} {}", p.display()),
                why: format!("cannot read it ({e})"),
            })?;
        }
        Ok(())
    };
    readable(
        "--prometheus-bearer-token-file",
        &a.prometheus_bearer_token_file,
    )?;
    readable(
        "--prometheus-basic-auth-file",
        &a.prometheus_basic_auth_file,
    )?;
    readable("--prometheus-ca-file", &a.prometheus_ca_file)?;
    readable("--prometheus-cert-file", &a.prometheus_cert_file)?;
    readable("--prometheus-key-file", &a.prometheus_key_file)?;
    if a.prometheus_bearer_token_file.is_some() && a.prometheus_basic_auth_file.is_some() {
        return Err(SettingsError::PrometheusFlag {
            flag: "--prometheus-bearer-token-file".into(),
            why: "give it or --prometheus-basic-auth-file, not both (both are an Authorization header)".into(),
        });
    }
    if a.prometheus_cert_file.is_some() != a.prometheus_key_file.is_some() {
        return Err(SettingsError::PrometheusFlag {
            flag: "--prometheus-cert-file".into(),
            why: "a client certificate needs its key: give --prometheus-cert-file and --prometheus-key-file together".into(),
        });
    }
    let mut headers = Vec::new();
    for h in a.prometheus_headers.iter().filter(|h| !h.trim().is_empty()) {
        headers.push(header(h)?);
    }
    if matches!(
        target,
        PrometheusTarget::Service(_) | PrometheusTarget::Auto
    ) {
        // Through the API server, its own credentials and TLS are used: the API server takes
        // the Authorization header for itself, and speaks TLS to the Service on its own.
        let direct_only = [
            (
                "--prometheus-bearer-token-file",
                a.prometheus_bearer_token_file.is_some(),
            ),
            (
                "--prometheus-basic-auth-file",
                a.prometheus_basic_auth_file.is_some(),
            ),
            ("--prometheus-ca-file", a.prometheus_ca_file.is_some()),
            ("--prometheus-cert-file", a.prometheus_cert_file.is_some()),
            (
                "--prometheus-insecure-skip-tls-verify",
                a.prometheus_insecure_skip_tls_verify,
            ),
        ];
        if let Some((flag, _)) = direct_only.iter().find(|(_, set)| *set) {
            return Err(SettingsError::PrometheusFlag {
                flag: flag.to_string(),
                why: "only for an http(s) --prometheus URL: through the API server's service proxy (k8s://, auto) kube-doctor's own credentials are used; give the URL Prometheus is reached at".into(),
            });
        }
    }
    if !kube_doctor_core::prometheus::valid_label_name(&a.cluster_label) {
        return Err(SettingsError::PrometheusFlag {
            flag: format!(
                "--cluster-label {}",
                kube_doctor_core::escape::one_line(&a.cluster_label, 80)
            ),
            why: "not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)".into(),
        });
    }
    let nonempty = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(PrometheusAccess {
        target,
        auth: PrometheusAuth {
            bearer_token_file: a.prometheus_bearer_token_file.clone(),
            basic_auth_file: a.prometheus_basic_auth_file.clone(),
            headers,
            ca_file: a.prometheus_ca_file.clone(),
            cert_file: a.prometheus_cert_file.clone(),
            key_file: a.prometheus_key_file.clone(),
            insecure_skip_tls_verify: a.prometheus_insecure_skip_tls_verify,
        },
        scope: PromScope {
            cluster: nonempty(&a.cluster),
            cluster_label: a.cluster_label.clone(),
            apiserver_job: nonempty(&a.apiserver_job),
            cluster_note: None,
        },
        discovery: None,
    })
}

/// `Name: value` as a header; the value never appears in an error.
fn header(raw: &str) -> Result<(http::HeaderName, http::HeaderValue), SettingsError> {
    let bad = |why: &str| SettingsError::PrometheusFlag {
        flag: "--prometheus-header".into(),
        why: why.to_string(),
    };
    let (name, value) = raw
        .split_once(':')
        .ok_or_else(|| bad("give it as 'Name: value' (for example 'X-Scope-OrgID: tenant-a')"))?;
    let name = http::HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
        bad(&format!(
            "{:?} is not a header name",
            kube_doctor_core::escape::one_line(name.trim(), 60)
        ))
    })?;
    if name == http::header::HOST {
        return Err(bad("Host cannot be set"));
    }
    let mut value = http::HeaderValue::from_str(value.trim()).map_err(|_| {
        bad(&format!(
            "the value of {name} has characters a header cannot carry"
        ))
    })?;
    value.set_sensitive(true);
    Ok((name, value))
}

/// `raw` with anything between `://` and an `@` before the path removed, for messages about a
/// URL that did not parse (a parsed one is shown through [`PrometheusAccess::display`]).
fn without_userinfo(raw: &str) -> String {
    let Some(start) = raw.find("://").map(|i| i + 3) else {
        return raw.to_string();
    };
    let rest = &raw[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &raw[..start], &rest[at + 1..]),
        None => raw.to_string(),
    }
}

/// The cluster from `--kubeconfig`/`--context`, else `KUBECONFIG`/`~/.kube/config`, else the
/// in-cluster ServiceAccount, as kubectl and kube-rs resolve them.
pub async fn cluster(args: &ClusterArgs) -> Result<ClusterConfig, SettingsError> {
    let options = KubeConfigOptions {
        context: args.context.clone(),
        ..Default::default()
    };
    let one = config_error;
    let config = match &args.kubeconfig {
        Some(path) => {
            let shown = path.display().to_string();
            // Said here rather than in kube-rs' words, which quote the path twice.
            match std::fs::metadata(path) {
                Err(e) => {
                    return Err(SettingsError::Kubeconfig {
                        path: shown,
                        reason: one(&e),
                    });
                }
                Ok(m) if m.is_dir() => {
                    return Err(SettingsError::Kubeconfig {
                        path: shown,
                        reason: "it is a directory, not a kubeconfig file".to_string(),
                    });
                }
                Ok(_) => {}
            }
            let kc = Kubeconfig::read_from(path).map_err(|e| SettingsError::Kubeconfig {
                path: shown.clone(),
                reason: one(&e),
            })?;
            unknown_context(&kc, args.context.as_deref()).map_err(|reason| {
                SettingsError::Kubeconfig {
                    path: shown.clone(),
                    reason,
                }
            })?;
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .map_err(|e| SettingsError::Kubeconfig {
                    path: shown,
                    reason: one(&e),
                })?
        }
        None if args.context.is_some() => {
            let shown = "(KUBECONFIG or ~/.kube/config)".to_string();
            if let Ok(kc) = Kubeconfig::read() {
                unknown_context(&kc, args.context.as_deref()).map_err(|reason| {
                    SettingsError::Kubeconfig {
                        path: shown.clone(),
                        reason,
                    }
                })?;
            }
            kube::Config::from_kubeconfig(&options).await.map_err(|e| {
                SettingsError::Kubeconfig {
                    path: shown,
                    reason: one(&e),
                }
            })?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| SettingsError::NoCluster(no_cluster_why(&e)))?,
    };
    Ok(ClusterConfig {
        server: config.cluster_url.to_string(),
        context: args.context.clone(),
        config,
    })
}

/// A kubeconfig error on one line without the file's content: a YAML parser's message can
/// quote the lines around the fault (a `token:` or `client-key-data:` among them), so only the
/// first line of each error in the chain is kept (what and where: "... at line 6 column 5"),
/// and that is redacted and escaped, at most 300 characters.
/// `--context NAME` that the kubeconfig does not hold: the reason, naming the contexts it
/// holds (at most ten, escaped), as `kubectl config get-contexts` would show them.
fn unknown_context(kc: &Kubeconfig, context: Option<&str>) -> Result<(), String> {
    let Some(want) = context else { return Ok(()) };
    if kc.contexts.iter().any(|c| c.name == want) {
        return Ok(());
    }
    let names: Vec<String> = kc
        .contexts
        .iter()
        .take(10)
        .map(|c| kube_doctor_core::escape::one_line(&c.name, 100))
        .collect();
    Err(format!(
        "it has no context {}; its contexts: {}{}",
        kube_doctor_core::escape::one_line(want, 100),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        },
        if kc.contexts.len() > 10 { ", ..." } else { "" }
    ))
}

/// Why kube found no configuration, in one line: `not in a pod, and kubeconfig
/// /root/.kube/config: No such file or directory (os error 2)` (kube's own text nests both
/// attempts and quotes the path twice). Other kubeconfig errors go through [`config_error`].
fn no_cluster_why(e: &kube::config::InferConfigError) -> String {
    use kube::config::KubeconfigError;
    let kubeconfig = std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<KubeconfigError>())
        .map(|k| match k {
            KubeconfigError::ReadConfig(io, path) => format!(
                "kubeconfig {}: {}",
                kube_doctor_core::escape::one_line(&path.display().to_string(), 200),
                kube_doctor_core::escape::one_line(&io.to_string(), 200)
            ),
            other => format!("kubeconfig: {}", config_error(other)),
        })
        .unwrap_or_else(|| config_error(e));
    format!("not in a pod, and {kubeconfig}")
}

fn config_error(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cur = Some(e);
    while let Some(err) = cur {
        let first = err
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        if !first.is_empty() && !parts.iter().any(|p| p.contains(&first)) {
            parts.push(first);
        }
        cur = err.source();
    }
    let (redacted, _) = kube_doctor_core::redact::redact(&parts.join(": "));
    kube_doctor_core::escape::one_line(&redacted, 300)
}

/// The scope flags, checking that an audit log can be opened.
pub fn scope(cluster: &ClusterArgs, rates: &RateArgs) -> Result<Scope, SettingsError> {
    if let Some(path) = &rates.audit_log {
        let refuse = |reason: String| SettingsError::AuditLog {
            path: kube_doctor_core::escape::one_line(&path.display().to_string(), 200),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|e| refuse(e.to_string()))?;
        // A file or a pipe; a device such as /dev/zero or /dev/urandom would be read for ever
        // (no line ends in it, so no line cap stops the reading).
        let kind = file
            .metadata()
            .map_err(|e| refuse(e.to_string()))?
            .file_type();
        {
            use std::os::unix::fs::FileTypeExt;
            if kind.is_char_device() || kind.is_block_device() || kind.is_dir() || kind.is_socket()
            {
                return Err(refuse(
                    "not a file: give the API server's audit log file (--audit-log-path)".into(),
                ));
            }
        }
    }
    Ok(Scope {
        client: rates.client.clone(),
        namespace: cluster.namespace.clone(),
        audit_log: rates.audit_log.clone(),
    })
}

/// The limits flags.
pub fn limits(l: &LimitArgs, scrape_interval: Duration) -> Limits {
    Limits {
        max_inflight: l.max_inflight.max(1),
        step_timeout: l.step_timeout,
        log_bytes: l.log_bytes,
        scrape_interval,
        prometheus_inflight: Limits::PROMETHEUS_INFLIGHT,
        prometheus_timeout: l.step_timeout.min(Duration::from_secs(10)),
    }
}

/// Resolves the settings of a command that collects (`investigate`, `collect`, `clients`,
/// `serve`), now. `need_cluster` is false when the command can work from an audit log
/// alone; then a missing cluster configuration is not an error.
pub async fn resolve(
    cluster_args: &ClusterArgs,
    rates: &RateArgs,
    windows: Option<&WindowArgs>,
    limit_args: &LimitArgs,
    scrape_interval: Duration,
) -> Result<Settings, SettingsError> {
    let (threshold, diagnosis) = judging(rates.threshold, windows)?;
    let window = window(rates.since, Timestamp::now())?;
    let prometheus = prometheus_access(rates.prometheus.as_deref(), &rates.access)?;
    let scope = scope(cluster_args, rates)?;
    let offline_ok = scope.audit_log.is_some()
        && matches!(
            prometheus.target,
            PrometheusTarget::None | PrometheusTarget::Auto
        );
    let cluster = match cluster(cluster_args).await {
        Ok(c) => Some(c),
        Err(SettingsError::NoCluster(_)) if offline_ok => None,
        Err(SettingsError::NoCluster(why)) if scope.audit_log.is_some() => {
            return Err(SettingsError::NoClusterButPrometheus(why));
        }
        Err(e) => return Err(e),
    };
    Ok(Settings {
        window,
        threshold,
        diagnosis,
        cluster,
        prometheus,
        scope,
        limits: limits(limit_args, scrape_interval),
        alert: None,
    })
}

/// Slack before the onset bound: a rule evaluation interval and a scrape interval of margin.
pub const ONSET_SLACK: Duration = Duration::from_secs(2 * 60);

/// One alert, as the investigation uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertContext {
    /// `alertname`.
    pub name: String,
    /// The client: `job/instance`, `namespace/pod` or `namespace` (what `--client` takes).
    pub key: String,
    /// The de-duplication key: the client key with the cluster in front.
    pub dedup_key: String,
    /// `startsAt`.
    pub starts_at: Option<Timestamp>,
    /// Which form of the rule fired.
    pub form: AlertForm,
    /// The rule's expression.
    pub expression: Option<String>,
    /// The rule's `for:`.
    pub for_: Duration,
    /// Where `for_` came from.
    pub for_source: String,
    /// The longest range its expression reads.
    pub lookback: Duration,
    /// The rule group's evaluation interval (zero when unknown).
    pub interval: Duration,
    /// `cluster`.
    pub cluster: Option<String>,
    /// `namespace`.
    pub namespace: Option<String>,
    /// `pod`, when the alert names no `job`/`instance`.
    pub pod: Option<String>,
    /// `instance`.
    pub instance: Option<String>,
    /// `job`.
    pub job: Option<String>,
}

impl AlertContext {
    /// The earliest time the errors that fired the alert can have begun: the rule held for
    /// `for:` before `startsAt`, and its expression looked `lookback` further back, plus one
    /// evaluation interval and [`ONSET_SLACK`]. `None` without a `startsAt`.
    pub fn onset_bound(&self) -> Option<Timestamp> {
        let back = self.for_ + self.lookback + self.interval + ONSET_SLACK;
        self.starts_at?
            .checked_sub(SignedDuration::try_from(back).ok()?)
            .ok()
    }

    /// The alert as the bundle records it.
    pub fn info(&self) -> AlertInfo {
        let one = |s: &str| kube_doctor_core::escape::one_line(s, 300);
        let scope_labels = [
            ("cluster", &self.cluster),
            ("namespace", &self.namespace),
            ("pod", &self.pod),
            ("job", &self.job),
            ("instance", &self.instance),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k.to_string(), one(v.as_deref()?))))
        .collect();
        AlertInfo {
            name: one(&self.name),
            starts_at: self.starts_at,
            form: self.form,
            expression: self
                .expression
                .as_deref()
                .map(|e| kube_doctor_core::escape::one_line(e, 1000)),
            for_seconds: self.for_.as_secs_f64(),
            lookback_seconds: self.lookback.as_secs_f64(),
            for_source: self.for_source.clone(),
            scope_labels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_echoed_as_written() {
        let secs = Duration::from_secs;
        assert_eq!(compact_duration(secs(30 * 86_400)), "30d");
        assert_eq!(compact_duration(secs(5_400)), "1h30m");
        assert_eq!(compact_duration(secs(45)), "45s");
        assert_eq!(compact_duration(Duration::ZERO), "0s");
        let e = window(secs(30 * 86_400), Timestamp::UNIX_EPOCH)
            .unwrap_err()
            .to_string();
        assert!(e.contains("30d") && !e.contains("days"), "{e}");
    }

    /// A kubeconfig the parser refuses: its error names the file and where, never the lines
    /// around the fault (a token, a password, a key) nor the content of a file that is not a
    /// kubeconfig at all.
    #[tokio::test]
    async fn a_broken_kubeconfig_is_named_without_its_content() {
        let dir = std::env::temp_dir().join(format!("kd-kubeconfig-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cases = [
            (
                "indent",
                "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: sk-SUPERSECRETTOKEN-abcdef0123456789\n   password: hunter2-PASSWORD-xyz\n",
            ),
            (
                "passwd",
                "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
            ),
            (
                "key",
                "apiVersion: v1\nusers:\n- name: u\n  user:\n    client-key-data: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2Z0lCQURBTkJna3Foa2lHOXcwQkFRRUZBQVND\n  token: [zzzmarker\n",
            ),
        ];
        for (name, text) in cases {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            let args = crate::cli::ClusterArgs {
                kubeconfig: Some(path.clone()),
                context: None,
                namespace: None,
            };
            let e = cluster(&args).await.err().expect("refused").to_string();
            for secret in [
                "SUPERSECRET",
                "hunter2",
                "root:x",
                "daemon",
                "LS0tLS1CRUdJTi",
                "zzzmarker",
            ] {
                assert!(!e.contains(secret), "{name}: {secret} in {e}");
            }
            assert!(e.contains(&path.display().to_string()), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn prometheus_urls_keep_their_query_and_lose_their_userinfo_on_display() {
        // Absent is `auto` (DESIGN.md "Prometheus access"); "", " " and "none" are none.
        assert_eq!(prometheus(None).unwrap().target, PrometheusTarget::Auto);
        assert_eq!(
            prometheus(Some(" ")).unwrap().target,
            PrometheusTarget::None
        );
        assert_eq!(
            prometheus(Some("none")).unwrap().target,
            PrometheusTarget::None
        );
        let p = prometheus(Some(
            "https://u:p@vm.example:8481/select/0/prometheus?extra_label=cluster%3Da",
        ))
        .unwrap();
        assert_eq!(
            p.display().unwrap(),
            "https://vm.example:8481/select/0/prometheus?extra_label=cluster%3Da"
        );
        for bad in ["prometheus:9090", "ftp://x", "http://", "://x", "k8s:/x"] {
            let e = prometheus(Some(bad)).unwrap_err().to_string();
            assert!(
                e.starts_with("--prometheus") && e.contains("http://prometheus"),
                "{e}"
            );
        }
        let e = prometheus(Some("ftp://user:hunter2@x"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn windows_and_thresholds_are_checked_once() {
        let now: Timestamp = "2026-11-01T10:00:00Z".parse().unwrap();
        let w = window(Duration::from_secs(900), now).unwrap();
        assert_eq!(w.seconds(), 900.0);
        assert_eq!(w.to, now);
        assert!(window(Duration::ZERO, now).is_err());
        assert!(window(Duration::from_secs(30 * 24 * 3600), now).is_err());
        let e = judging(1.5, None).unwrap_err().to_string();
        assert!(e.starts_with("--threshold 1.5 is not a ratio"), "{e}");
        // As main prints it: the error and its causes. Said once.
        let err = anyhow::Error::from(judging(2.0, None).unwrap_err());
        let chain: Vec<String> = err.chain().map(|c| c.to_string()).collect();
        assert_eq!(chain.len(), 1, "{chain:?}");
        assert_eq!(chain[0].matches("not a ratio").count(), 1, "{chain:?}");
        let (t, d) = judging(0.05, None).unwrap();
        assert_eq!(d.threshold, Some(t));
        assert_eq!(d.windows, Windows::default());
    }

    fn args() -> crate::cli::PrometheusArgs {
        crate::cli::PrometheusArgs {
            cluster_label: "cluster".into(),
            ..Default::default()
        }
    }

    #[test]
    fn service_references_are_checked() {
        let s = |raw: &str| match prometheus_target(Some(raw)) {
            Ok(PrometheusTarget::Service(s)) => Ok(s),
            Ok(other) => panic!("{raw}: {other:?}"),
            Err(e) => Err(e.to_string()),
        };
        let r = s("k8s://monitoring/prometheus-operated:9090").unwrap();
        assert_eq!(
            r.proxy_base(),
            "/api/v1/namespaces/monitoring/services/prometheus-operated:9090/proxy"
        );
        let r = s("k8s://openshift-monitoring/https:thanos-querier:web/api/prom/?x=1").unwrap();
        assert_eq!(r.scheme.as_deref(), Some("https"));
        assert_eq!(r.path, "/api/prom");
        assert_eq!(r.query.as_deref(), Some("x=1"));
        assert_eq!(
            r.to_string(),
            "k8s://openshift-monitoring/https:thanos-querier:web/api/prom?x=1"
        );
        for bad in [
            "k8s://monitoring/prometheus",
            "k8s://Monitoring/p:9090",
            "k8s://monitoring/p:0",
            "k8s://monitoring/p:9090/../../api/v1/secrets",
            "k8s://p:9090",
            "k8s://ns/ftp:p:9090",
        ] {
            let e = s(bad).unwrap_err();
            assert!(
                e.starts_with("--prometheus")
                    && e.contains("k8s://monitoring/prometheus-operated:9090"),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            prometheus_target(Some("auto")).unwrap(),
            PrometheusTarget::Auto
        );
    }

    #[test]
    fn access_flags_are_checked_once_and_never_show_a_value() {
        let dir = std::env::temp_dir().join(format!("kd-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "s3cret").unwrap();
        let mut a = args();
        a.prometheus_bearer_token_file = Some(token.clone());
        a.prometheus_headers = vec!["X-Scope-OrgID: tenant-a".into(), " ".into()];
        a.cluster = Some(" prod ".into());
        let p = prometheus_access(Some("https://thanos:9091"), &a).unwrap();
        assert_eq!(p.scope.cluster.as_deref(), Some("prod"));
        assert_eq!(p.auth.headers.len(), 1);
        assert!(p.auth.headers[0].1.is_sensitive());
        let shown = format!("{p:?}");
        assert!(
            !shown.contains("tenant-a") && !shown.contains("s3cret"),
            "{shown}"
        );
        // Through the service proxy the API server's credentials are used.
        let e = prometheus_access(Some("k8s://monitoring/p:9090"), &a)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--prometheus-bearer-token-file: only for an http(s)"),
            "{e}"
        );
        let e = prometheus_access(None, &a).unwrap_err().to_string();
        assert!(e.contains("only for an http(s)"), "auto too: {e}");
        // Headers: shape, name, Host, and a bad value never echoed.
        for (h, says) in [
            ("no colon", "'Name: value'"),
            ("Bad Name: x", "is not a header name"),
            ("Host: x", "Host cannot be set"),
            ("X-Token: a\u{7f}secret", "characters a header cannot carry"),
        ] {
            let mut a = args();
            a.prometheus_headers = vec![h.into()];
            let e = prometheus_access(Some("http://p:9090"), &a)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("--prometheus-header") && e.contains(says),
                "{h}: {e}"
            );
            assert!(!e.contains("secret"), "{e}");
        }
        // Files: missing, both kinds of Authorization, a certificate without its key.
        let mut a = args();
        a.prometheus_ca_file = Some(dir.join("missing.crt"));
        let e = prometheus_access(Some("http://p:9090"), &a)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("--prometheus-ca-file") && e.contains("missing.crt"),
            "{e}"
        );
        let mut a = args();
        a.prometheus_bearer_token_file = Some(token.clone());
        a.prometheus_basic_auth_file = Some(token.clone());
        assert!(prometheus_access(Some("http://p:9090"), &a).is_err());
        let mut a = args();
        a.prometheus_cert_file = Some(token.clone());
        let e = prometheus_access(Some("http://p:9090"), &a)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--prometheus-key-file"), "{e}");
        let mut a = args();
        a.cluster_label = "k8s-cluster".into();
        let e = prometheus_access(Some("http://p:9090"), &a)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--cluster-label k8s-cluster"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn settings(now: Timestamp) -> Settings {
        let (threshold, diagnosis) = judging(0.01, None).unwrap();
        let mut prometheus = prometheus_access(Some("http://p:9090"), &args()).unwrap();
        prometheus.scope.cluster = None;
        Settings {
            window: window(Duration::from_secs(900), now).unwrap(),
            threshold,
            diagnosis,
            cluster: None,
            prometheus,
            scope: Scope::default(),
            limits: limits(
                &crate::cli::LimitArgs {
                    max_inflight: 4,
                    step_timeout: Duration::from_secs(20),
                    log_bytes: 1024,
                },
                Duration::from_secs(5),
            ),
            alert: None,
        }
    }

    /// An alert 15 minutes old from a `for: 15m` rule over `[5m]`: the window reaches back
    /// past the errors' start (startsAt - 15m - 5m), the alert's cluster scopes the queries,
    /// and another cluster than --cluster is refused.
    #[test]
    fn the_alert_gives_the_window_and_the_scope() {
        use crate::serve::alerts::{Alert, RuleTiming};
        let now: Timestamp = "2026-11-22T03:15:00Z".parse().unwrap();
        let alert = Alert {
            status: "firing".into(),
            labels: [
                ("alertname", "KubeClientErrors"),
                ("cluster", "prod"),
                ("job", "apiserver"),
                ("instance", "10.0.0.1:6443"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            fingerprint: String::new(),
            starts_at: Some("2026-11-22T03:00:00Z".into()),
            generator_url: None,
        };
        let rule = RuleTiming {
            for_: Duration::from_secs(900),
            interval: Some(Duration::from_secs(30)),
            query: "sum(rate(rest_client_requests_total{code=~\"5..\"}[5m])) by (job, instance) / sum(rate(rest_client_requests_total[5m])) by (job, instance) > 0.01".into(),
        };
        let ctx = alert.context(Some(&rule)).unwrap();
        let base = settings(now);
        let s = base.for_alert(&ctx, now).unwrap();
        let errors_began: Timestamp = "2026-11-22T02:40:00Z".parse().unwrap();
        assert!(s.window.from < errors_began, "{:?}", s.window);
        assert_eq!(s.window.to, now);
        assert_eq!(s.scope.client.as_deref(), Some("apiserver/10.0.0.1:6443"));
        assert_eq!(s.prometheus.scope.cluster.as_deref(), Some("prod"));
        assert_eq!(
            s.alert.as_ref().map(|a| a.form),
            Some(kube_doctor_core::bundle::AlertForm::ServerErrors)
        );
        // A fresh alert: --since (15m) is longer than what the alert needs.
        let mut fresh = ctx.clone();
        fresh.starts_at = Some(now);
        fresh.for_ = Duration::from_secs(60);
        fresh.lookback = Duration::from_secs(60);
        assert_eq!(base.for_alert(&fresh, now).unwrap().window.seconds(), 900.0);
        // --cluster names another cluster: refused, never investigated on this one.
        let mut other = base.clone();
        other.prometheus.scope.cluster = Some("staging".into());
        let e = other.for_alert(&ctx, now).err().unwrap().to_string();
        assert!(e.contains("\"prod\"") && e.contains("\"staging\""), "{e}");
    }
}
