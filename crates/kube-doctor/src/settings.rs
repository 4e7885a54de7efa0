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
use kube_doctor_core::clients::Threshold;
use kube_doctor_core::diagnose::{self, ServerThresholds, Windows};

use crate::cli::{ClusterArgs, LimitArgs, RateArgs, WindowArgs};

/// Why settings could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// `--threshold` is not a ratio.
    #[error("--threshold {0}")]
    Threshold(#[from] kube_doctor_core::clients::judge::ThresholdError),
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
        "--prometheus {0}: not an http(s) URL; give it like http://prometheus.monitoring:9090 (or none)"
    )]
    PrometheusUrl(String),
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
    /// The audit log cannot be read.
    #[error("cannot read audit log {path}: {reason}")]
    AuditLog {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// How to reach Prometheus. (Issue 14 extends this with the service proxy, discovery and
/// credentials; the contract is DESIGN.md "Prometheus access".)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrometheusAccess {
    /// Not used: client rates come from /metrics scrapes and the audit log.
    None,
    /// A base URL (query string kept).
    Url(url::Url),
}

impl PrometheusAccess {
    /// The URL for display and for the bundle: without userinfo.
    pub fn display(&self) -> Option<String> {
        match self {
            PrometheusAccess::None => None,
            PrometheusAccess::Url(u) => {
                let mut u = u.clone();
                let _ = u.set_username("");
                let _ = u.set_password(None);
                // Secret-looking query values (a tenant token in the URL) go too.
                Some(kube_doctor_core::redact::redact_url(
                    u.as_str().trim_end_matches('/'),
                ))
            }
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
}

/// The longest `--since`: the API server keeps events an hour by default, Prometheus'
/// default retention is 15 days; a week is far beyond any useful incident window and keeps
/// range queries bounded.
pub const MAX_SINCE: Duration = Duration::from_secs(7 * 24 * 3600);

impl Settings {
    /// The same settings for one alert: a fresh window ending `now` and the alert's client.
    pub fn for_alert(&self, client: String, now: Timestamp) -> Settings {
        let mut s = self.clone();
        s.window = Window::ending_at(now, self.window.length().unsigned_abs());
        s.scope.client = Some(client);
        s
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
                value: humantime::format_duration(x).to_string(),
                why: "longer than a day",
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

/// The window of the last `since`, ending now.
pub fn window(since: Duration, now: Timestamp) -> Result<Window, SettingsError> {
    if since.is_zero() || since > MAX_SINCE {
        return Err(SettingsError::Duration {
            flag: "--since",
            value: humantime::format_duration(since).to_string(),
            why: "give between 1s and 7d",
        });
    }
    Ok(Window::ending_at(now, since))
}

/// `--prometheus` (or `PROMETHEUS_URL`): an http(s) URL, or nothing ("" and "none" too).
pub fn prometheus(arg: Option<&str>) -> Result<PrometheusAccess, SettingsError> {
    let Some(raw) = arg.map(str::trim).filter(|s| !s.is_empty() && *s != "none") else {
        return Ok(PrometheusAccess::None);
    };
    let shown = || kube_doctor_core::escape::one_line(&without_userinfo(raw), 200);
    let u = url::Url::parse(raw).map_err(|_| SettingsError::PrometheusUrl(shown()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(SettingsError::PrometheusUrl(shown()));
    }
    Ok(PrometheusAccess::Url(u))
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
    let one = |e: &dyn std::error::Error| kube_doctor_core::escape::error_chain(e, 300);
    let config =
        match &args.kubeconfig {
            Some(path) => {
                let shown = path.display().to_string();
                let kc = Kubeconfig::read_from(path).map_err(|e| SettingsError::Kubeconfig {
                    path: shown.clone(),
                    reason: one(&e),
                })?;
                kube::Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .map_err(|e| SettingsError::Kubeconfig {
                        path: shown,
                        reason: one(&e),
                    })?
            }
            None if args.context.is_some() => kube::Config::from_kubeconfig(&options)
                .await
                .map_err(|e| SettingsError::Kubeconfig {
                    path: "(KUBECONFIG or ~/.kube/config)".into(),
                    reason: one(&e),
                })?,
            None => kube::Config::infer()
                .await
                .map_err(|e| SettingsError::NoCluster(one(&e)))?,
        };
    Ok(ClusterConfig {
        server: config.cluster_url.to_string(),
        context: args.context.clone(),
        config,
    })
}

/// The scope flags, checking that an audit log can be opened.
pub fn scope(cluster: &ClusterArgs, rates: &RateArgs) -> Result<Scope, SettingsError> {
    if let Some(path) = &rates.audit_log {
        std::fs::File::open(path).map_err(|e| SettingsError::AuditLog {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
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
    let prometheus = prometheus(rates.prometheus.as_deref())?;
    let scope = scope(cluster_args, rates)?;
    let offline_ok = scope.audit_log.is_some() && prometheus == PrometheusAccess::None;
    let cluster = match cluster(cluster_args).await {
        Ok(c) => Some(c),
        Err(SettingsError::NoCluster(_)) if offline_ok => None,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_urls_keep_their_query_and_lose_their_userinfo_on_display() {
        assert_eq!(prometheus(None).unwrap(), PrometheusAccess::None);
        assert_eq!(prometheus(Some(" ")).unwrap(), PrometheusAccess::None);
        assert_eq!(prometheus(Some("none")).unwrap(), PrometheusAccess::None);
        let p = prometheus(Some(
            "https://u:p@vm.example:8481/select/0/prometheus?extra_label=cluster%3Da",
        ))
        .unwrap();
        assert_eq!(
            p.display().unwrap(),
            "https://vm.example:8481/select/0/prometheus?extra_label=cluster%3Da"
        );
        for bad in ["prometheus:9090", "ftp://x", "http://", "://x"] {
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
        let (t, d) = judging(0.05, None).unwrap();
        assert_eq!(d.threshold, Some(t));
        assert_eq!(d.windows, Windows::default());
    }
}
