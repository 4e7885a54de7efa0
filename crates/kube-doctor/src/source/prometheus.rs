//! Prometheus' HTTP API: instant and range queries and the rules API, bounded by a timeout and
//! by a shared limit on queries in flight, counted per step, reached either directly (a URL,
//! with a bearer token, basic auth, headers, a CA, a client certificate) or through the API
//! server's service proxy with kube-doctor's own credentials (`k8s://`). Also `--prometheus
//! auto`: finding the in-cluster Prometheus. This file sends; the answers are parsed by
//! `kube_doctor_core::prometheus`. A Prometheus that is down or answers garbage gives one
//! clear error naming the URL (never its credentials). A 429 (or a 5xx with `Retry-After`)
//! from Prometheus or a query front end is waited out as the Kubernetes client does it
//! (`super::retry`: at most three times, never past the step's budget, each try counted).
//!
//! Credentials are read at each use from their files (a rotated token is picked up) and never
//! logged: `RUST_LOG=kube_doctor=debug` traces every query (which, how long it queued behind
//! the in-flight bound, how long it took, how many bytes came back) and nothing of its
//! headers.

use std::path::Path;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Service;
use kube_doctor_core::prometheus::{
    self as answer, AlertRule, AnswerError, InstantSample, RangeSeries,
};

use super::kube::{Kube, Perm, StepCtx};
use super::retry;
use crate::settings::{
    ClusterConfig, Limits, PrometheusAccess, PrometheusAuth, PrometheusTarget, ServiceRef,
    Settings, SettingsError,
};

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// Connection refused, DNS, TLS, timeout, the service proxy's own refusal.
    #[error("Prometheus at {url} is unreachable: {reason}")]
    Unreachable {
        /// Base URL (no credentials).
        url: String,
        /// Why.
        reason: String,
    },
    /// An answer that is not a usable Prometheus answer.
    #[error("Prometheus at {url}: {source}")]
    Answer {
        /// Base URL (no credentials).
        url: String,
        /// What was wrong with it.
        #[source]
        source: AnswerError,
    },
    /// Prometheus (or a proxy in front of it) refused kube-doctor's credentials.
    #[error("Prometheus at {url} answered HTTP {status}: {what}")]
    Refused {
        /// Base URL (no credentials).
        url: String,
        /// 401 or 403.
        status: u16,
        /// What to check.
        what: String,
    },
    /// A credential or TLS file could not be used.
    #[error("{flag} {path}: {reason}")]
    File {
        /// The flag naming the file.
        flag: &'static str,
        /// The file.
        path: String,
        /// Why (never its content).
        reason: String,
    },
}

/// How requests reach Prometheus.
#[derive(Clone)]
enum Transport {
    /// Straight to a URL.
    Direct {
        http: reqwest::Client,
        base: url::Url,
    },
    /// Through the API server's service proxy.
    Proxy { kube: Kube, service: ServiceRef },
}

/// A Prometheus endpoint.
#[derive(Clone)]
pub struct Prometheus {
    transport: Transport,
    auth: PrometheusAuth,
    shown: String,
    timeout: Duration,
    inflight: std::sync::Arc<tokio::sync::Semaphore>,
}

/// `path`'s bytes, or a [`PromError::File`] naming `flag` (never the content).
fn read(flag: &'static str, path: &Path) -> Result<Vec<u8>, PromError> {
    std::fs::read(path).map_err(|e| PromError::File {
        flag,
        path: path.display().to_string(),
        reason: format!("cannot read it ({e})"),
    })
}

impl Prometheus {
    /// A client for `access`, or `None` when Prometheus is not used. `kube` is needed for a
    /// Service reached through the API server's service proxy.
    pub fn new(
        access: &PrometheusAccess,
        limits: &Limits,
        kube: Option<&Kube>,
    ) -> Result<Option<Prometheus>, PromError> {
        let shown = access.display().unwrap_or_default();
        let transport = match &access.target {
            PrometheusTarget::None | PrometheusTarget::Auto => return Ok(None),
            PrometheusTarget::Url(base) => Transport::Direct {
                http: http_client(&access.auth, limits, &shown)?,
                base: base.clone(),
            },
            PrometheusTarget::Service(service) => Transport::Proxy {
                kube: kube
                    .ok_or_else(|| PromError::Unreachable {
                        url: shown.clone(),
                        reason: "no cluster configuration to reach the API server's service proxy"
                            .to_string(),
                    })?
                    .clone(),
                service: service.clone(),
            },
        };
        Ok(Some(Prometheus {
            transport,
            auth: access.auth.clone(),
            shown,
            timeout: limits.prometheus_timeout,
            inflight: std::sync::Arc::new(tokio::sync::Semaphore::new(
                limits.prometheus_inflight.max(1),
            )),
        }))
    }

    /// The base URL, without credentials (what the bundle and messages show).
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// `base` + `api_path`, keeping the base's own path and query (VictoriaMetrics'
    /// `extra_label=`, a tenant path) and adding `params` after them.
    fn endpoint(base: &url::Url, api_path: &str, params: &[(&str, String)]) -> url::Url {
        let mut u = base.clone();
        let path = format!("{}{api_path}", u.path().trim_end_matches('/'));
        u.set_path(&path);
        {
            let mut q = u.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k, v);
            }
        }
        u
    }

    /// The service proxy path of `api_path` with the Service's own query and `params`.
    fn proxy_path(service: &ServiceRef, api_path: &str, params: &[(&str, String)]) -> String {
        let mut q =
            url::form_urlencoded::Serializer::new(service.query.clone().unwrap_or_default());
        for (k, v) in params {
            q.append_pair(k, v);
        }
        format!("{}{api_path}?{}", service.proxy_base(), q.finish())
    }

    /// The Authorization header of this request, read from its file now.
    fn authorization(&self) -> Result<Option<http::HeaderValue>, PromError> {
        let value = if let Some(p) = &self.auth.bearer_token_file {
            let token = read("--prometheus-bearer-token-file", p)?;
            let token = String::from_utf8_lossy(&token).trim().to_string();
            if token.is_empty() {
                return Err(empty("--prometheus-bearer-token-file", p));
            }
            format!("Bearer {token}")
        } else if let Some(p) = &self.auth.basic_auth_file {
            use base64::Engine;
            let raw = read("--prometheus-basic-auth-file", p)?;
            let raw = String::from_utf8_lossy(&raw).trim().to_string();
            if !raw.contains(':') {
                return Err(PromError::File {
                    flag: "--prometheus-basic-auth-file",
                    path: p.display().to_string(),
                    reason: "it must hold user:password".to_string(),
                });
            }
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            )
        } else {
            return Ok(None);
        };
        let mut v = http::HeaderValue::from_str(&value).map_err(|_| PromError::File {
            flag: if self.auth.bearer_token_file.is_some() {
                "--prometheus-bearer-token-file"
            } else {
                "--prometheus-basic-auth-file"
            },
            path: self
                .auth
                .bearer_token_file
                .as_ref()
                .or(self.auth.basic_auth_file.as_ref())
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            reason: "it holds characters a header cannot carry".to_string(),
        })?;
        v.set_sensitive(true);
        Ok(Some(v))
    }

    async fn get(
        &self,
        ctx: &StepCtx,
        api_path: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), PromError> {
        let mut retries = 0;
        let (status, bytes, started, queued) = loop {
            ctx.count_prometheus();
            let queued = std::time::Instant::now();
            // The semaphore is never closed, so acquiring cannot fail; if it ever did, going
            // on without a permit is still correct, only less gentle.
            let permit = self.inflight.acquire().await.ok();
            let started = std::time::Instant::now();
            let (status, bytes, retry_after) = match &self.transport {
                Transport::Direct { http, base } => {
                    let unreachable = |e: reqwest::Error| PromError::Unreachable {
                        url: self.shown.clone(),
                        reason: kube_doctor_core::escape::error_chain(&e.without_url(), 300),
                    };
                    let mut req = http.get(Self::endpoint(base, api_path, params));
                    for (name, value) in &self.auth.headers {
                        req = req.header(name.clone(), value.clone());
                    }
                    if let Some(auth) = self.authorization()? {
                        req = req.header(http::header::AUTHORIZATION, auth);
                    }
                    let resp = req.send().await.map_err(unreachable)?;
                    let status = resp.status().as_u16();
                    let retry_after = retry::parse_retry_after(resp.headers());
                    let bytes = resp.bytes().await.map_err(unreachable)?.to_vec();
                    (status, bytes, retry_after)
                }
                Transport::Proxy { kube, service } => {
                    self.via_proxy(ctx, kube, service, api_path, params).await?
                }
            };
            drop(permit);
            // A 429 (or a 5xx with Retry-After) from Prometheus or a query front end in front
            // of it: waited out as the Kubernetes client does (`super::retry`).
            match retry::wait_for(status, retry_after) {
                Some(wait) if retries < retry::MAX_RETRIES && wait < ctx.remaining() => {
                    tracing::warn!(
                        step = ctx.step,
                        status,
                        ?wait,
                        "Prometheus asked to retry; waiting as it asked"
                    );
                    tokio::time::sleep(wait).await;
                    retries += 1;
                }
                _ => break (status, bytes, started, queued),
            }
        };
        tracing::debug!(
            path = api_path,
            query = params.first().map(|p| p.1.as_str()).unwrap_or_default(),
            status,
            bytes = bytes.len(),
            queued_ms = (started - queued).as_millis() as u64,
            took_ms = started.elapsed().as_millis() as u64,
            "prometheus"
        );
        if matches!(status, 401 | 403) {
            return Err(PromError::Refused {
                url: self.shown.clone(),
                status,
                what: match (&self.transport, status) {
                    (Transport::Proxy { service, .. }, 403) => format!(
                        "the API server refused its service proxy: grant \"get services/proxy (core) in namespace {}\"",
                        service.namespace
                    ),
                    (_, 401) if self.auth.bearer_token_file.is_none() && self.auth.basic_auth_file.is_none() => {
                        "it needs credentials: give --prometheus-bearer-token-file or --prometheus-basic-auth-file".to_string()
                    }
                    (_, 401) => "the credentials were not accepted: check the token or password file".to_string(),
                    _ => "the credentials are not allowed to query: check the identity's permissions (for kube-rbac-proxy, its SubjectAccessReview)".to_string(),
                },
            });
        }
        Ok((status, bytes))
    }

    /// One request through the API server's service proxy, under the Kubernetes client's load
    /// discipline. A refusal of the API server itself (no endpoints, the Service is missing)
    /// is said in its own words.
    async fn via_proxy(
        &self,
        ctx: &StepCtx,
        kube: &Kube,
        service: &ServiceRef,
        api_path: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>, Option<Duration>), PromError> {
        let path = Self::proxy_path(service, api_path, params);
        let headers = self.auth.headers.clone();
        let timeout = self.timeout;
        let perm = Perm::ns("", "services/proxy", "get", &service.namespace);
        let answer = tokio::time::timeout(
            timeout,
            kube.call(ctx, perm, |client| {
                let (path, headers) = (path.clone(), headers.clone());
                async move {
                    let mut req = http::Request::get(&path);
                    for (name, value) in &headers {
                        req = req.header(name.clone(), value.clone());
                    }
                    let req = req
                        .body(kube::client::Body::empty())
                        .map_err(kube::Error::HttpError)?;
                    let resp = client.send(req).await?;
                    let status = resp.status().as_u16();
                    let retry_after = super::retry::parse_retry_after(resp.headers());
                    let body = resp.into_body().collect_bytes().await?;
                    Ok((status, body.to_vec(), retry_after))
                }
            }),
        )
        .await;
        let (status, body, retry_after) = match answer {
            Err(_) => {
                return Err(PromError::Unreachable {
                    url: self.shown.clone(),
                    reason: format!("no answer within {timeout:?}"),
                });
            }
            Ok(Err(e)) => {
                return Err(PromError::Unreachable {
                    url: self.shown.clone(),
                    reason: e.to_string(),
                });
            }
            Ok(Ok(x)) => x,
        };
        // The API server's own Status (503 no endpoints, 404 no such Service) is not
        // Prometheus' answer.
        if status >= 400
            && let Ok(st) = serde_json::from_slice::<serde_json::Value>(&body)
            && st.get("kind").and_then(|k| k.as_str()) == Some("Status")
            && status != 403
        {
            return Err(PromError::Unreachable {
                url: self.shown.clone(),
                reason: format!(
                    "the API server's service proxy answered {status}: {}",
                    kube_doctor_core::escape::one_line(
                        st.get("message").and_then(|m| m.as_str()).unwrap_or("?"),
                        300
                    )
                ),
            });
        }
        Ok((status, body, retry_after))
    }

    fn answer<T>(&self, r: Result<T, AnswerError>) -> Result<T, PromError> {
        r.map_err(|source| PromError::Answer {
            url: self.shown.clone(),
            source,
        })
    }

    /// A range query from `start` to `end` every `step` (at least a second).
    pub async fn range(
        &self,
        ctx: &StepCtx,
        query: &str,
        start: Timestamp,
        end: Timestamp,
        step: Duration,
    ) -> Result<Vec<RangeSeries>, PromError> {
        let params = [
            ("query", query.to_string()),
            ("start", answer::seconds(start)),
            ("end", answer::seconds(end)),
            ("step", format!("{}", step.as_secs_f64().max(1.0))),
        ];
        let (status, body) = self.get(ctx, "/api/v1/query_range", &params).await?;
        self.answer(answer::parse_range(status, &body))
    }

    /// An instant query at `at`.
    pub async fn instant(
        &self,
        ctx: &StepCtx,
        query: &str,
        at: Timestamp,
    ) -> Result<Vec<InstantSample>, PromError> {
        let params = [("query", query.to_string()), ("time", answer::seconds(at))];
        let (status, body) = self.get(ctx, "/api/v1/query", &params).await?;
        self.answer(answer::parse_instant(status, &body))
    }

    /// The alerting rules (`/api/v1/rules?type=alert`): what `serve` reads of the rule that
    /// fired (its `for:`, interval and expression).
    pub async fn rules(&self, ctx: &StepCtx) -> Result<Vec<AlertRule>, PromError> {
        let params = [("type", "alert".to_string())];
        let (status, body) = self.get(ctx, "/api/v1/rules", &params).await?;
        self.answer(answer::parse_rules(status, &body))
    }
}

fn empty(flag: &'static str, p: &Path) -> PromError {
    PromError::File {
        flag,
        path: p.display().to_string(),
        reason: "it is empty".to_string(),
    }
}

/// The HTTP client for a direct URL: timeouts, the CA, the client certificate, or no
/// verification. The files are read here, once per client.
fn http_client(
    auth: &PrometheusAuth,
    limits: &Limits,
    shown: &str,
) -> Result<reqwest::Client, PromError> {
    let mut b = reqwest::Client::builder()
        .timeout(limits.prometheus_timeout)
        .connect_timeout(Duration::from_secs(5).min(limits.prometheus_timeout))
        .user_agent(concat!("kube-doctor/", env!("CARGO_PKG_VERSION")));
    if let Some(p) = &auth.ca_file {
        let certs = reqwest::Certificate::from_pem_bundle(&read("--prometheus-ca-file", p)?)
            .map_err(|_| PromError::File {
                flag: "--prometheus-ca-file",
                path: p.display().to_string(),
                reason: "not PEM certificates".to_string(),
            })?;
        if certs.is_empty() {
            return Err(PromError::File {
                flag: "--prometheus-ca-file",
                path: p.display().to_string(),
                reason: "holds no certificate".to_string(),
            });
        }
        b = b.tls_certs_merge(certs);
    }
    if let (Some(cert), Some(key)) = (&auth.cert_file, &auth.key_file) {
        let mut pem = read("--prometheus-cert-file", cert)?;
        pem.push(b'\n');
        pem.extend(read("--prometheus-key-file", key)?);
        let id = reqwest::Identity::from_pem(&pem).map_err(|_| PromError::File {
            flag: "--prometheus-cert-file",
            path: format!("{} (key {})", cert.display(), key.display()),
            reason: "not a PEM certificate and its PEM key".to_string(),
        })?;
        b = b.identity(id);
    }
    if auth.insecure_skip_tls_verify {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| PromError::Unreachable {
        url: shown.to_string(),
        reason: kube_doctor_core::escape::error_chain(&e, 1000),
    })
}

/// A Prometheus Service `auto` found, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Where.
    pub service: ServiceRef,
    /// Rank: 0 `prometheus-operated` (prometheus-operator), 1 a chart's labels.
    pub rank: u8,
    /// Why it was taken for Prometheus.
    pub why: String,
}

/// The label selectors of the common charts' Prometheus Services, in order:
/// kube-prometheus-stack, the prometheus-community `prometheus` chart (current and before
/// 15.0), Bitnami's kube-prometheus.
pub const CHART_SELECTORS: [&str; 4] = [
    "app=kube-prometheus-stack-prometheus",
    "app.kubernetes.io/name=prometheus,app.kubernetes.io/component=server",
    "app=prometheus,component=server",
    "app.kubernetes.io/name=kube-prometheus,app.kubernetes.io/component=prometheus",
];

/// The port of a Prometheus Service: named `web` or `http-web` (prometheus-operator, charts),
/// else 9090, else `http`, else its only port.
pub fn prometheus_port(svc: &Service) -> Option<String> {
    let ports = svc.spec.as_ref()?.ports.as_ref()?;
    let named = |n: &str| {
        ports
            .iter()
            .find(|p| p.name.as_deref() == Some(n))
            .and_then(|p| p.name.clone())
    };
    named("web")
        .or_else(|| named("http-web"))
        .or_else(|| {
            ports
                .iter()
                .find(|p| p.port == 9090)
                .map(|p| p.port.to_string())
        })
        .or_else(|| named("http"))
        .or_else(|| match ports.as_slice() {
            [only] => Some(
                only.name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| only.port.to_string()),
            ),
            _ => None,
        })
}

/// Candidates from Services found by `why` at `rank`.
pub fn candidates(services: &[Service], rank: u8, why: &str) -> Vec<Candidate> {
    services
        .iter()
        .filter_map(|s| {
            let port = prometheus_port(s)?;
            Some(Candidate {
                service: ServiceRef {
                    namespace: s.metadata.namespace.clone()?,
                    scheme: None,
                    name: s.metadata.name.clone()?,
                    port,
                    path: String::new(),
                    query: None,
                },
                rank,
                why: why.to_string(),
            })
        })
        .collect()
}

/// Picks among candidates: the best rank wins; two or more at the best rank is ambiguous
/// (`Err` names them all). `Ok(None)` when there is none.
pub fn choose(mut found: Vec<Candidate>) -> Result<Option<(Candidate, Vec<Candidate>)>, String> {
    found.sort_by(|a, b| {
        a.rank
            .cmp(&b.rank)
            .then(a.service.namespace.cmp(&b.service.namespace))
            .then(a.service.name.cmp(&b.service.name))
    });
    found.dedup_by(|a, b| a.service == b.service);
    let Some(best) = found.first().cloned() else {
        return Ok(None);
    };
    let top: Vec<&Candidate> = found.iter().filter(|c| c.rank == best.rank).collect();
    if top.len() > 1 {
        let names: Vec<String> = top
            .iter()
            .map(|c| format!("{} ({})", c.service, c.why))
            .collect();
        return Err(format!(
            "{} Prometheus Services of the same kind: {}",
            top.len(),
            names.join(", ")
        ));
    }
    let others = found.into_iter().skip(1).collect();
    Ok(Some((best, others)))
}

/// Resolves `--prometheus auto` in `settings` (after [`crate::settings::resolve`]): the target
/// [`discover`] finds in the cluster, and what it said in `settings.prometheus.discovery`; with
/// no cluster (an audit log alone), none. Other targets are left as they are.
///
/// # Errors
/// Those of [`discover`] (two candidates of a kind).
pub async fn resolve_auto(settings: &mut Settings) -> Result<(), SettingsError> {
    if settings.prometheus.target != PrometheusTarget::Auto {
        return Ok(());
    }
    let (target, found) = match &settings.cluster {
        Some(c) => discover(c).await?,
        None => (
            PrometheusTarget::None,
            "no cluster to look for Prometheus in".to_string(),
        ),
    };
    tracing::info!(prometheus = %found, "--prometheus auto");
    settings.prometheus.target = target;
    settings.prometheus.discovery = Some(found);
    Ok(())
}

/// `--prometheus auto`: looks for Prometheus through the API server — prometheus-operator's
/// `prometheus-operated` Service first, then the common charts' labels ([`CHART_SELECTORS`]) —
/// and says which it chose (reached through the service proxy), or why it found none. Two of
/// the same kind are an error naming both. A cluster that cannot be asked (forbidden,
/// unreachable) is not an error: the run goes on without Prometheus and says why.
pub async fn discover(
    cluster: &ClusterConfig,
) -> Result<(PrometheusTarget, String), SettingsError> {
    let client = match kube::Client::try_from(cluster.config.clone()) {
        Ok(c) => c,
        Err(e) => {
            return Ok((
                PrometheusTarget::None,
                format!(
                    "auto: cannot build an API client to look for Prometheus ({})",
                    kube_doctor_core::escape::error_chain(&e, 200)
                ),
            ));
        }
    };
    let api: kube::Api<Service> = kube::Api::all(client);
    let list = |lp: kube::api::ListParams| {
        let api = api.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(10), api.list(&lp.limit(50)))
                .await
                .map_err(|_| "no answer within 10s".to_string())?
                .map(|l| l.items)
                .map_err(|e| match e {
                    kube::Error::Api(s) if s.code == 403 => {
                        "forbidden: grant \"list services (core) cluster-wide\" (see deploy/rbac.yaml)".to_string()
                    }
                    e => kube_doctor_core::escape::error_chain(&e, 200),
                })
        }
    };
    let operated = match list(
        kube::api::ListParams::default().fields("metadata.name=prometheus-operated"),
    )
    .await
    {
        Ok(items) => items,
        Err(why) => {
            return Ok((
                PrometheusTarget::None,
                format!(
                    "auto: cannot look for Prometheus: {why}; pass --prometheus URL or k8s://NAMESPACE/SERVICE:PORT"
                ),
            ));
        }
    };
    let mut found = candidates(
        &operated,
        0,
        "prometheus-operator's prometheus-operated Service",
    );
    if found.is_empty() {
        for sel in CHART_SELECTORS {
            if let Ok(items) = list(kube::api::ListParams::default().labels(sel)).await {
                found.extend(candidates(&items, 1, &format!("labelled {sel}")));
            }
        }
    }
    match choose(found).map_err(SettingsError::PrometheusAmbiguous)? {
        None => Ok((
            PrometheusTarget::None,
            format!(
                "auto: no Prometheus found (no prometheus-operated Service, none labelled {}): client rates from /metrics scrapes; pass --prometheus to use one",
                CHART_SELECTORS.join(" or ")
            ),
        )),
        Some((c, others)) => {
            let mut note = format!(
                "auto: {} ({}), through the API server's service proxy",
                c.service, c.why
            );
            if !others.is_empty() {
                let names: Vec<String> = others.iter().map(|o| o.service.to_string()).collect();
                note.push_str(&format!("; also seen, ranked lower: {}", names.join(", ")));
            }
            Ok((PrometheusTarget::Service(c.service), note))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        crate::settings::limits(
            &crate::cli::LimitArgs {
                max_inflight: 4,
                step_timeout: Duration::from_secs(5),
                log_bytes: 1024,
            },
            Duration::from_secs(5),
        )
    }

    #[test]
    fn endpoints_keep_the_base_path_and_query() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let access = crate::settings::prometheus(Some(
            "https://u:p@vm:8481/select/0/prometheus/?extra_label=cluster%3Da",
        ))
        .unwrap();
        let p = Prometheus::new(&access, &limits(), None).unwrap().unwrap();
        assert_eq!(
            p.url(),
            "https://vm:8481/select/0/prometheus/?extra_label=cluster%3Da"
        );
        let PrometheusTarget::Url(base) = &access.target else {
            panic!("a URL")
        };
        let u = Prometheus::endpoint(base, "/api/v1/query", &[("query", "up{a=\"b\"}".into())]);
        assert_eq!(u.path(), "/select/0/prometheus/api/v1/query");
        let q: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        assert_eq!(
            q,
            vec![
                ("extra_label".to_string(), "cluster=a".to_string()),
                ("query".to_string(), "up{a=\"b\"}".to_string())
            ]
        );
        assert!(
            Prometheus::new(
                &crate::settings::prometheus(Some("none")).unwrap(),
                &limits(),
                None
            )
            .unwrap()
            .is_none()
        );
    }

    #[test]
    fn service_proxy_paths_keep_the_service_path_and_query() {
        let access = crate::settings::prometheus(Some(
            "k8s://monitoring/https:thanos-querier:web/select?extra_label=cluster%3Da",
        ))
        .unwrap();
        let PrometheusTarget::Service(s) = &access.target else {
            panic!("a Service")
        };
        assert_eq!(
            Prometheus::proxy_path(s, "/api/v1/query", &[("query", "up".into())]),
            "/api/v1/namespaces/monitoring/services/https:thanos-querier:web/proxy/select/api/v1/query?extra_label=cluster%3Da&query=up"
        );
        assert_eq!(
            access.display().unwrap(),
            "k8s://monitoring/https:thanos-querier:web/select?extra_label=cluster%3Da"
        );
        // Without a cluster there is no proxy to go through.
        let e = Prometheus::new(&access, &limits(), None).err().unwrap();
        assert!(e.to_string().contains("no cluster configuration"), "{e}");
    }

    fn svc(ns: &str, name: &str, ports: serde_json::Value) -> Service {
        serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": ns, "name": name},
            "spec": {"ports": ports}
        }))
        .unwrap()
    }

    #[test]
    fn auto_ranks_the_operator_first_and_refuses_two_of_a_kind() {
        let operated = svc(
            "monitoring",
            "prometheus-operated",
            serde_json::json!([{"name": "web", "port": 9090}]),
        );
        let chart = svc(
            "observability",
            "prometheus-server",
            serde_json::json!([{"name": "http", "port": 80}]),
        );
        let mut found = candidates(std::slice::from_ref(&operated), 0, "operator");
        found.extend(candidates(std::slice::from_ref(&chart), 1, "chart"));
        let (best, others) = choose(found).unwrap().unwrap();
        assert_eq!(
            best.service.to_string(),
            "k8s://monitoring/prometheus-operated:web"
        );
        assert_eq!(others.len(), 1);
        // Two operator-managed Prometheus (OpenShift: platform and user workload).
        let second = svc(
            "user-monitoring",
            "prometheus-operated",
            serde_json::json!([{"name": "web", "port": 9090}]),
        );
        let e = choose(candidates(&[operated, second], 0, "operator")).unwrap_err();
        assert!(
            e.contains("k8s://monitoring/prometheus-operated:web")
                && e.contains("k8s://user-monitoring/prometheus-operated:web"),
            "{e}"
        );
        assert_eq!(choose(Vec::new()).unwrap(), None);
        // Ports: 9090 by number, a single unnamed port, none usable.
        assert_eq!(
            prometheus_port(&svc(
                "a",
                "b",
                serde_json::json!([{"name": "grpc", "port": 10901}, {"name": "x", "port": 9090}])
            )),
            Some("9090".into())
        );
        assert_eq!(
            prometheus_port(&svc("a", "b", serde_json::json!([{"port": 8428}]))),
            Some("8428".into())
        );
        assert_eq!(
            prometheus_port(&svc(
                "a",
                "b",
                serde_json::json!([{"name": "grpc", "port": 10901}, {"name": "y", "port": 1}])
            )),
            None
        );
    }

    #[test]
    fn credentials_are_read_at_use_and_never_shown() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = std::env::temp_dir().join(format!("kd-prom-auth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let token = dir.join("token");
        std::fs::write(&token, "first-token\n").unwrap();
        let mut access = crate::settings::prometheus(Some("http://127.0.0.1:9")).unwrap();
        access.auth.bearer_token_file = Some(token.clone());
        let p = Prometheus::new(&access, &limits(), None).unwrap().unwrap();
        let a = p.authorization().unwrap().unwrap();
        assert_eq!(a.to_str().unwrap(), "Bearer first-token");
        assert!(a.is_sensitive());
        // Rotated: the next request sends the new one.
        std::fs::write(&token, "second-token").unwrap();
        assert_eq!(
            p.authorization().unwrap().unwrap().to_str().unwrap(),
            "Bearer second-token"
        );
        // Gone: the error names the flag and the file, not the content.
        std::fs::remove_file(&token).unwrap();
        let e = p.authorization().unwrap_err().to_string();
        assert!(e.starts_with("--prometheus-bearer-token-file"), "{e}");
        assert!(!e.contains("second-token"));
        // Basic auth: user:password, base64, never shown in Debug.
        let basic = dir.join("basic");
        std::fs::write(&basic, "grafana-instance:glc_secret").unwrap();
        access.auth.bearer_token_file = None;
        access.auth.basic_auth_file = Some(basic);
        let p = Prometheus::new(&access, &limits(), None).unwrap().unwrap();
        let v = p.authorization().unwrap().unwrap();
        assert!(v.to_str().unwrap().starts_with("Basic "));
        assert!(!format!("{:?}", access).contains("glc_secret"));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A query front end's 429 with Retry-After (header only, text body) is waited out and the
    /// query answered; a bare 503 is asked once and its code named.
    #[tokio::test]
    async fn a_429_is_waited_out_and_a_bare_503_is_not_retried() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\n\n{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
        let (port, seen) = retry::scripted(vec![
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-type: text/plain\n\nslow down",
            ok,
        ])
        .await;
        let access =
            crate::settings::prometheus(Some(&format!("http://127.0.0.1:{port}"))).unwrap();
        let p = Prometheus::new(&access, &limits(), None).unwrap().unwrap();
        let ctx = StepCtx::new(3, Duration::from_secs(10));
        let started = std::time::Instant::now();
        let got = p.instant(&ctx, "up", Timestamp::now()).await.unwrap();
        assert!(got.is_empty());
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(
            (
                ctx.prometheus_queries(),
                seen.load(std::sync::atomic::Ordering::SeqCst)
            ),
            (2, 2)
        );

        let (port, seen) = retry::scripted(vec![
            "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\n\nno healthy upstream",
        ])
        .await;
        let access =
            crate::settings::prometheus(Some(&format!("http://127.0.0.1:{port}"))).unwrap();
        let p = Prometheus::new(&access, &limits(), None).unwrap().unwrap();
        let ctx = StepCtx::new(3, Duration::from_secs(10));
        let e = p
            .instant(&ctx, "up", Timestamp::now())
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("503"), "{e}");
        assert_eq!(
            (
                ctx.prometheus_queries(),
                seen.load(std::sync::atomic::Ordering::SeqCst)
            ),
            (1, 1)
        );
    }
}
