//! The only way kube-doctor talks to the Kubernetes API. Every call goes through [`Kube::call`],
//! which enforces the load discipline a sick API server deserves:
//! - a shared limit on requests in flight (`--max-inflight`);
//! - the server's requests to wait are honoured as client-go honours them (a 429, or a 5xx with
//!   `Retry-After`: wait what the Status details or the header say), at most three times and
//!   never past the step's deadline; nothing else is asked twice (see [`super::retry`]);
//! - every request is counted, per step and in the process-wide metrics that `serve` exports;
//! - a 403 becomes [`SourceError::Forbidden`] carrying the exact RBAC rule that was lacking,
//!   so the step can report what to grant instead of a bare "forbidden".
//!
//! `RUST_LOG=kube=debug` (or `trace`) shows every HTTP request kube-rs makes.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use kube::Client;
use kube_doctor_core::bundle::RbacRule;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use super::metrics::{ApiRequestCounter, CountingLayer};
use super::retry;
use crate::settings::{ClusterConfig, Limits};

/// Why a call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SourceError {
    /// 403: the identity lacks this rule.
    #[error("forbidden: missing RBAC rule \"{0}\"")]
    Forbidden(RbacRule),
    /// 404.
    #[error("not found: {0}")]
    NotFound(String),
    /// The API answered with another error status.
    #[error("API error {code}: {message}")]
    Api {
        /// HTTP status.
        code: u16,
        /// The Status message.
        message: String,
    },
    /// No answer (connection, TLS, protocol).
    #[error("no answer from the API server: {0}")]
    Transport(String),
    /// An answer that could not be decoded (cut short, not the expected JSON): the API server
    /// answered, so other requests still go ahead.
    #[error("the API server's answer could not be read: {0}")]
    Decode(String),
    /// The step's time budget ran out.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Still rejected (429) after honouring Retry-After this many times (or its wait would
    /// have run past the step's budget).
    #[error("rate limited by the API server (429) after {0} retries")]
    RateLimited(u32),
    /// Not asked: an earlier request of the run found the API server not answering.
    #[error("not asked: the API server stopped answering ({0})")]
    ServerGone(String),
}

/// What a call needs permission for, stated up front so a 403 can be reported precisely.
#[derive(Debug, Clone)]
pub struct Perm {
    /// API group ("" for core).
    pub group: &'static str,
    /// Resource (with subresource).
    pub resource: &'static str,
    /// Verb.
    pub verb: &'static str,
    /// Namespace, `None` for cluster scope.
    pub namespace: Option<String>,
}

impl Perm {
    /// A namespaced permission.
    pub fn ns(group: &'static str, resource: &'static str, verb: &'static str, ns: &str) -> Perm {
        Perm {
            group,
            resource,
            verb,
            namespace: Some(ns.to_string()),
        }
    }

    /// A cluster-scoped permission.
    pub fn cluster(group: &'static str, resource: &'static str, verb: &'static str) -> Perm {
        Perm {
            group,
            resource,
            verb,
            namespace: None,
        }
    }

    /// A non-resource URL.
    pub fn url(url: &'static str) -> Perm {
        Perm {
            group: "",
            resource: url,
            verb: "get",
            namespace: None,
        }
    }

    fn rule(&self) -> RbacRule {
        if self.resource.starts_with('/') {
            return RbacRule {
                api_group: String::new(),
                resource: String::new(),
                verb: self.verb.to_string(),
                namespace: None,
                non_resource_url: Some(self.resource.to_string()),
            };
        }
        RbacRule {
            api_group: self.group.to_string(),
            resource: self.resource.to_string(),
            verb: self.verb.to_string(),
            namespace: self.namespace.clone(),
            non_resource_url: None,
        }
    }
}

/// What every step of one run shares about the API server: whether it has stopped answering.
/// The first request to find it gone (no answer, or no answer within its step's budget) says
/// so here; every other request of the run, waiting or about to start, stops at once with
/// [`SourceError::ServerGone`] instead of waiting out its own budget.
#[derive(Debug)]
pub struct RunState {
    gone: tokio::sync::watch::Sender<Option<String>>,
}

impl Default for RunState {
    fn default() -> Self {
        RunState {
            gone: tokio::sync::watch::channel(None).0,
        }
    }
}

impl RunState {
    /// Records that the API server did not answer, and why (the first reason wins).
    pub fn mark_gone(&self, why: &str) {
        self.gone.send_if_modified(|g| {
            if g.is_none() {
                *g = Some(why.to_string());
                true
            } else {
                false
            }
        });
    }

    /// Resolves when the API server is found gone (never, if it keeps answering).
    async fn wait_gone(&self) -> String {
        let mut rx = self.gone.subscribe();
        let why = match rx.wait_for(Option::is_some).await {
            Ok(g) => g.clone(),
            Err(_) => None,
        };
        match why {
            Some(why) => why,
            // The sender lives as long as `self`: this is not reached.
            None => std::future::pending().await,
        }
    }
}

/// Per-step accounting and budget.
#[derive(Debug)]
pub struct StepCtx {
    /// Step number.
    pub step: u8,
    requests: AtomicU32,
    prometheus_queries: AtomicU32,
    deadline: Instant,
    budget: Duration,
    missing: std::sync::Mutex<Vec<RbacRule>>,
    run: Arc<RunState>,
}

impl StepCtx {
    /// A step with `budget` to spend, starting now, alone in its run.
    pub fn new(step: u8, budget: Duration) -> Arc<StepCtx> {
        StepCtx::in_run(step, budget, Arc::new(RunState::default()))
    }

    /// A step of the run `run`, with `budget` to spend, starting now.
    pub fn in_run(step: u8, budget: Duration, run: Arc<RunState>) -> Arc<StepCtx> {
        Arc::new(StepCtx {
            step,
            requests: AtomicU32::new(0),
            prometheus_queries: AtomicU32::new(0),
            deadline: Instant::now() + budget,
            budget,
            missing: std::sync::Mutex::new(Vec::new()),
            run,
        })
    }

    /// API requests made so far.
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Prometheus queries made so far.
    pub fn prometheus_queries(&self) -> u32 {
        self.prometheus_queries.load(Ordering::Relaxed)
    }

    /// Counts one Prometheus query.
    pub fn count_prometheus(&self) {
        self.prometheus_queries.fetch_add(1, Ordering::Relaxed);
    }

    /// Time left.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The step's whole budget.
    pub fn budget(&self) -> Duration {
        self.budget
    }

    /// Records a rule the step lacked (a sub-call was forbidden but the step went on).
    pub fn note_missing(&self, rule: RbacRule) {
        let mut m = self.missing.lock().expect("missing-rules lock");
        if !m.contains(&rule) {
            m.push(rule);
        }
    }

    /// The rules the step lacked.
    pub fn missing_rules(&self) -> Vec<RbacRule> {
        let mut m = self.missing.lock().expect("missing-rules lock").clone();
        m.sort();
        m
    }
}

/// The API client with kube-doctor's discipline around it.
#[derive(Clone)]
pub struct Kube {
    /// The kube-rs client (its tower stack counts requests by code).
    pub client: Client,
    inflight: Arc<Semaphore>,
    /// The API server URL.
    pub server: String,
    /// The context used, if any.
    pub context: Option<String>,
}

impl Kube {
    /// A client for a resolved cluster, under `limits`, counting its requests into
    /// `counter`.
    pub fn connect(
        cluster: &ClusterConfig,
        limits: &Limits,
        counter: ApiRequestCounter,
    ) -> Result<Kube, SourceError> {
        let mut config = cluster.config.clone();
        // kube-rs' own retry layer (15 tries on 429/503/504) knows no step deadline and counts
        // no tries: `call` retries instead, under client-go's rule (see `super::retry`).
        config.default_retry = false;
        config.read_timeout = Some(limits.step_timeout);
        config.connect_timeout = Some(Duration::from_secs(5).min(limits.step_timeout));
        let host = config
            .cluster_url
            .authority()
            .map_or_else(|| "none".to_string(), |a| a.to_string());
        let client = kube::client::ClientBuilder::try_from(config)
            .map_err(|e| {
                SourceError::Transport(format!(
                    "cannot build the API client: {}",
                    kube_doctor_core::escape::error_chain(&e, 1000)
                ))
            })?
            .with_layer(&CountingLayer::new(counter, host))
            .build();
        Ok(Kube {
            client,
            inflight: Arc::new(Semaphore::new(limits.max_inflight.max(1))),
            server: cluster.server.clone(),
            context: cluster.context.clone(),
        })
    }

    /// Makes one API call under the load discipline. `f` is called again for each retry.
    /// A call that gets no answer (transport error, or no answer within the step's budget)
    /// marks the run's API server gone; from then on every call of the run returns
    /// [`SourceError::ServerGone`] at once.
    pub async fn call<T, F, Fut>(&self, ctx: &StepCtx, perm: Perm, f: F) -> Result<T, SourceError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        tokio::select! {
            biased;
            why = ctx.run.wait_gone() => Err(SourceError::ServerGone(why)),
            // Boxed: a call's retry loop holds the request's future across waits.
            r = Box::pin(self.call_inner(ctx, perm, f)) => {
                match &r {
                    Err(SourceError::Transport(why)) => ctx.run.mark_gone(why),
                    Err(SourceError::Timeout(_)) => ctx.run.mark_gone(&format!(
                        "no answer within step {}'s budget of {:?}",
                        ctx.step, ctx.budget
                    )),
                    _ => {}
                }
                r
            }
        }
    }

    async fn call_inner<T, F, Fut>(&self, ctx: &StepCtx, perm: Perm, f: F) -> Result<T, SourceError>
    where
        F: Fn(Client) -> Fut,
        Fut: Future<Output = Result<T, kube::Error>>,
    {
        let mut retries = 0;
        loop {
            let remaining = ctx.remaining();
            if remaining.is_zero() {
                return Err(SourceError::Timeout(ctx.budget()));
            }
            let permit = tokio::time::timeout(remaining, self.inflight.acquire())
                .await
                .map_err(|_| SourceError::Timeout(ctx.budget()))?
                .expect("the semaphore is never closed");
            ctx.requests.fetch_add(1, Ordering::Relaxed);
            let (result, retry_after) = retry::scope(tokio::time::timeout(
                ctx.remaining(),
                f(self.client.clone()),
            ))
            .await;
            drop(permit);
            let err = match result {
                Err(_) => return Err(SourceError::Timeout(ctx.budget())),
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => e,
            };
            match err {
                kube::Error::Api(status) => {
                    // The server's own wait: the Status' retryAfterSeconds, else the header.
                    let asked = status
                        .details
                        .as_ref()
                        .map(|d| d.retry_after_seconds)
                        .filter(|s| *s > 0)
                        .map(|s| Duration::from_secs(u64::from(s)))
                        .or(retry_after);
                    if let Some(wait) = retry::wait_for(status.code, asked)
                        && retries < retry::MAX_RETRIES
                        && wait < ctx.remaining()
                    {
                        tracing::warn!(
                            step = ctx.step,
                            code = status.code,
                            ?wait,
                            "the API server asked to retry; waiting as it asked"
                        );
                        tokio::time::sleep(wait).await;
                        retries += 1;
                        continue;
                    }
                    return Err(match status.code {
                        429 => SourceError::RateLimited(retries),
                        403 => {
                            let rule = perm.rule();
                            ctx.note_missing(rule.clone());
                            SourceError::Forbidden(rule)
                        }
                        404 => SourceError::NotFound(kube_doctor_core::escape::one_line(
                            &status.message,
                            300,
                        )),
                        code => SourceError::Api {
                            code,
                            message: match retries {
                                0 => kube_doctor_core::escape::one_line(&status.message, 1000),
                                n => format!(
                                    "{} (after {n} retries)",
                                    kube_doctor_core::escape::one_line(&status.message, 1000)
                                ),
                            },
                        },
                    });
                }
                kube::Error::SerdeError(e) => {
                    return Err(SourceError::Decode(kube_doctor_core::escape::error_chain(
                        &e, 1000,
                    )));
                }
                other => {
                    return Err(SourceError::Transport(
                        kube_doctor_core::escape::error_chain(&other, 1000),
                    ));
                }
            }
        }
    }
}

/// The `host:port` of an API server URL, as the `instance` label of its scrape would read.
pub fn authority(server: &str) -> String {
    match url::Url::parse(server) {
        Ok(u) => match (u.host_str(), u.port_or_known_default()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_string(),
            _ => server.to_string(),
        },
        Err(_) => server.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kubeconfig for a server on `port` of loopback, without credentials.
    fn cluster(port: u16) -> ClusterConfig {
        let kc: kube::config::Kubeconfig = serde_json::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": format!("http://127.0.0.1:{port}")}}],
            "users": [{"name": "u", "user": {}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x"
        }))
        .unwrap();
        let config = futures::executor::block_on(kube::Config::from_custom_kubeconfig(
            kc,
            &Default::default(),
        ))
        .unwrap();
        ClusterConfig {
            server: config.cluster_url.to_string(),
            context: None,
            config,
        }
    }

    /// An API server that accepts connections and never answers (etcd gone): the first
    /// request to run out of its budget stops the other steps of the run at once.
    #[tokio::test]
    async fn a_server_that_stops_answering_stops_the_whole_run() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            loop {
                let (sock, _) = listener.accept().await.unwrap();
                open.push(sock);
            }
        });
        let limits = crate::settings::limits(
            &crate::cli::LimitArgs {
                max_inflight: 4,
                step_timeout: Duration::from_secs(30),
                log_bytes: 1,
            },
            Duration::from_secs(1),
        );
        let kube = Kube::connect(&cluster(port), &limits, ApiRequestCounter::default()).unwrap();
        let run = Arc::new(RunState::default());
        let short = StepCtx::in_run(1, Duration::from_secs(1), run.clone());
        let long = StepCtx::in_run(2, Duration::from_secs(30), run.clone());
        let started = Instant::now();
        let get = |ctx: Arc<StepCtx>| {
            let kube = kube.clone();
            async move {
                kube.call(&ctx, Perm::url("/version"), |c| async move {
                    c.apiserver_version().await
                })
                .await
            }
        };
        let (a, b) = tokio::join!(get(short), get(long));
        assert!(matches!(a, Err(SourceError::Timeout(_))), "{a:?}");
        assert!(matches!(b, Err(SourceError::ServerGone(_))), "{b:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the long step did not wait out its 30 s: {:?}",
            started.elapsed()
        );
        // A later request of the same run is not even sent.
        let later = StepCtx::in_run(3, Duration::from_secs(30), run);
        assert!(matches!(
            get(later.clone()).await,
            Err(SourceError::ServerGone(_))
        ));
        assert_eq!(later.requests(), 0);
        held.abort();
    }

    const VERSION: &str = "HTTP/1.1 200 OK\r\ncontent-type: application/json\n\n{\"major\":\"1\",\"minor\":\"34\",\"gitVersion\":\"v1.34.4\",\"gitCommit\":\"\",\"gitTreeState\":\"\",\"buildDate\":\"\",\"goVersion\":\"\",\"compiler\":\"\",\"platform\":\"\"}";

    async fn version(port: u16, budget: Duration) -> (Result<String, SourceError>, u32, Duration) {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let limits = crate::settings::limits(
            &crate::cli::LimitArgs {
                max_inflight: 4,
                step_timeout: budget,
                log_bytes: 1,
            },
            Duration::from_secs(1),
        );
        let kube = Kube::connect(&cluster(port), &limits, ApiRequestCounter::default()).unwrap();
        let ctx = StepCtx::new(1, budget);
        let started = Instant::now();
        let r = kube
            .call(&ctx, Perm::url("/version"), |c| async move {
                c.apiserver_version().await
            })
            .await
            .map(|v| v.git_version);
        (r, ctx.requests(), started.elapsed())
    }

    /// A proxy's 429 with Retry-After as a header only (a text body, no Status details) is
    /// waited out, once, and the second try's answer is used.
    #[tokio::test]
    async fn a_retry_after_header_is_waited_out() {
        let (port, seen) = retry::scripted(vec![
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-type: text/plain\n\nslow down",
            VERSION,
        ])
        .await;
        let (r, requests, took) = version(port, Duration::from_secs(10)).await;
        assert_eq!(r.unwrap(), "v1.34.4");
        assert_eq!((requests, seen.load(Ordering::SeqCst)), (2, 2));
        assert!(took >= Duration::from_secs(1), "did not wait: {took:?}");
    }

    /// A 504 (no Retry-After) is the server's answer: asked once (kube-rs' own retry layer
    /// would have asked 16 times), reported with its code, and the run goes on.
    #[tokio::test]
    async fn a_bare_504_is_asked_once_and_named() {
        let (port, seen) = retry::scripted(vec![
            "HTTP/1.1 504 Gateway Timeout\r\ncontent-type: text/plain\n\nupstream timed out",
        ])
        .await;
        let (r, requests, _) = version(port, Duration::from_secs(10)).await;
        match r {
            Err(e @ SourceError::Api { code: 504, .. }) => {
                assert!(e.to_string().contains("504"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!((requests, seen.load(Ordering::SeqCst)), (1, 1));
    }

    /// A 503 that keeps asking to wait: three retries at most, then the code; and a 429 whose
    /// wait would pass the step's budget is not waited for.
    #[tokio::test]
    async fn retries_are_bounded_by_count_and_budget() {
        let (port, seen) = retry::scripted(vec![
            "HTTP/1.1 503 Service Unavailable\r\nretry-after: 0\r\ncontent-type: text/plain\n\nbusy",
        ])
        .await;
        let (r, requests, _) = version(port, Duration::from_secs(10)).await;
        let e = r.unwrap_err();
        assert!(
            matches!(e, SourceError::Api { code: 503, .. })
                && e.to_string().contains("after 3 retries"),
            "{e}"
        );
        assert_eq!((requests, seen.load(Ordering::SeqCst)), (4, 4));

        let (port, seen) = retry::scripted(vec![
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 30\r\ncontent-type: text/plain\n\nlater",
        ])
        .await;
        let (r, requests, took) = version(port, Duration::from_secs(3)).await;
        let e = r.unwrap_err();
        assert!(matches!(e, SourceError::RateLimited(0)), "{e:?}");
        assert!(e.to_string().contains("429"), "{e}");
        assert_eq!((requests, seen.load(Ordering::SeqCst)), (1, 1));
        assert!(took < Duration::from_secs(2), "{took:?}");
    }
}
