//! lab-kubers-client: a real kube-rs workload for the lab. It lists the namespace's pods every
//! second, renews a Lease every five, and keeps a watcher on pods, logging through `tracing`
//! as kube-rs programs do. A tower layer in its client stack counts every request the way
//! client-go does (`rest_client_requests_total{code,method,host}`, `code="<error>"` when no
//! response came back), so the same KubeClientErrors rule watches it; /metrics serves them.
//!
//! Usage: lab-kubers-client --kubeconfig FILE --namespace demo --metrics-addr ADDR

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tower::{Layer, Service};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    code: String,
    method: String,
    host: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    verb: String,
    host: String,
}

#[derive(Clone)]
struct Metrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<LatencyLabels, Histogram>,
    host: Arc<str>,
}

/// Counts requests like client-go's `rest_client_requests_total`.
#[derive(Clone)]
struct MetricsLayer(Metrics);

impl<S> Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.0.clone(),
        }
    }
}

#[derive(Clone)]
struct MetricsService<S> {
    inner: S,
    metrics: Metrics,
}

impl<S, B, R> Service<http::Request<B>> for MetricsService<S>
where
    S: Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req.method().as_str().to_string();
        let metrics = self.metrics.clone();
        let started = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            // A request abandoned by a caller's timeout never completes: the guard counts it
            // as "<error>" when the future is dropped, as client-go counts a timed-out request.
            let mut guard = Outcome {
                metrics,
                method,
                started,
                code: None,
            };
            let res = fut.await;
            guard.code = Some(match &res {
                Ok(resp) => resp.status().as_u16().to_string(),
                Err(_) => "<error>".to_string(),
            });
            res
        })
    }
}

/// Records one request when dropped: with its status code, or "<error>" if it never finished.
struct Outcome {
    metrics: Metrics,
    method: String,
    started: Instant,
    code: Option<String>,
}

impl Drop for Outcome {
    fn drop(&mut self) {
        let code = self.code.take().unwrap_or_else(|| "<error>".to_string());
        let host = self.metrics.host.to_string();
        self.metrics
            .requests
            .get_or_create(&RequestLabels {
                code,
                method: self.method.clone(),
                host: host.clone(),
            })
            .inc();
        self.metrics
            .latency
            .get_or_create(&LatencyLabels {
                verb: std::mem::take(&mut self.method),
                host,
            })
            .observe(self.started.elapsed().as_secs_f64());
    }
}

/// Every call this client makes gives up after this long, like client-go's `Timeout`.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call failed: the API's own error, or our deadline.
enum CallError {
    Kube(kube::Error),
    Elapsed(tokio::time::error::Elapsed),
}

/// Logged as kube-rs programs log errors: the `kube::Error` Debug form as it is.
impl std::fmt::Debug for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Kube(e) => write!(f, "{e:?}"),
            CallError::Elapsed(e) => write!(f, "request timed out after {CALL_TIMEOUT:?}: {e:?}"),
        }
    }
}

async fn with_timeout<T>(
    fut: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, CallError> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(CallError::Kube(e)),
        Err(e) => Err(CallError::Elapsed(e)),
    }
}

struct Args {
    kubeconfig: String,
    namespace: String,
    metrics_addr: String,
    lease: String,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        kubeconfig: std::env::var("KUBECONFIG").unwrap_or_default(),
        namespace: "demo".into(),
        metrics_addr: "127.0.0.1:18082".into(),
        lease: "kubers".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .with_context(|| format!("flag {flag} needs a value"))?;
        match flag.as_str() {
            "--kubeconfig" => args.kubeconfig = value,
            "--namespace" => args.namespace = value,
            "--metrics-addr" => args.metrics_addr = value,
            "--lease" => args.lease = value,
            other => anyhow::bail!("unknown flag {other}"),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,kube=info".into()),
        )
        .with_ansi(false)
        .init();
    let args = parse_args()?;
    let kubeconfig = Kubeconfig::read_from(&args.kubeconfig)
        .with_context(|| format!("failed to read kubeconfig {}", args.kubeconfig))?;
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .context("failed to load kubeconfig")?;
    // Longer than the server's watch timeout, so healthy watches are not cut.
    config.read_timeout = Some(Duration::from_secs(300));
    config.connect_timeout = Some(Duration::from_secs(5));
    let host = config
        .cluster_url
        .authority()
        .map(|a| a.to_string())
        .unwrap_or_else(|| "none".into());

    let mut registry = Registry::default();
    let metrics = Metrics {
        requests: Family::default(),
        latency: Family::new_with_constructor(|| {
            Histogram::new([
                0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0,
            ])
        }),
        host: host.into(),
    };
    registry.register(
        "rest_client_requests",
        "Number of HTTP requests, partitioned by status code, method, and host.",
        metrics.requests.clone(),
    );
    registry.register(
        "rest_client_request_duration_seconds",
        "Request latency in seconds. Broken down by verb and host.",
        metrics.latency.clone(),
    );
    let registry = Arc::new(registry);

    let client: Client = kube::client::ClientBuilder::try_from(config)
        .context("failed to build the client")?
        .with_layer(&MetricsLayer(metrics))
        .build();

    let listener = tokio::net::TcpListener::bind(&args.metrics_addr)
        .await
        .with_context(|| format!("failed to listen on {}", args.metrics_addr))?;
    tracing::info!(addr = %args.metrics_addr, "serving metrics");
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let registry = registry.clone();
            async move {
                let mut body = String::new();
                match prometheus_client::encoding::text::encode(&mut body, &registry) {
                    Ok(()) => (
                        [(
                            http::header::CONTENT_TYPE,
                            "application/openmetrics-text; version=1.0.0; charset=utf-8",
                        )],
                        body,
                    ),
                    Err(e) => (
                        [(http::header::CONTENT_TYPE, "text/plain")],
                        format!("failed to encode metrics: {e}"),
                    ),
                }
            }
        }),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "metrics server stopped");
        }
    });

    let pods: Api<Pod> = Api::namespaced(client.clone(), &args.namespace);
    let leases: Api<Lease> = Api::namespaced(client.clone(), &args.namespace);

    // Watcher errors are soft (the stream retries) but never silent.
    let watch_pods = pods.clone();
    tokio::spawn(async move {
        let mut stream = watcher(watch_pods, watcher::Config::default()).boxed();
        while let Some(event) = stream.next().await {
            if let Err(err) = event {
                tracing::warn!("watcher error: {err:?}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    });

    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut i: u64 = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => {
                tracing::info!("shutting down");
                return Ok(());
            }
        }
        match with_timeout(pods.list(&ListParams::default().limit(50))).await {
            Ok(list) if i.is_multiple_of(30) => {
                tracing::info!(count = list.items.len(), "listed pods")
            }
            Ok(_) => {}
            Err(e) => tracing::error!("failed to list pods: {e:?}"),
        }
        if i.is_multiple_of(5)
            && let Err(e) = with_timeout(renew(&leases, &args.lease)).await
        {
            tracing::error!("failed to renew lease {}: {e:?}", args.lease);
        }
        i += 1;
    }
}

async fn renew(leases: &Api<Lease>, name: &str) -> Result<(), kube::Error> {
    let now = MicroTime(k8s_openapi::jiff::Timestamp::now());
    match leases.get_opt(name).await? {
        Some(mut lease) => {
            let spec = lease.spec.get_or_insert_with(Default::default);
            spec.holder_identity = Some("lab-kubers-client".into());
            spec.renew_time = Some(now);
            leases.replace(name, &PostParams::default(), &lease).await?;
        }
        None => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(name.into()),
                    ..Default::default()
                },
                spec: Some(k8s_openapi::api::coordination::v1::LeaseSpec {
                    holder_identity: Some("lab-kubers-client".into()),
                    renew_time: Some(now),
                    ..Default::default()
                }),
            };
            leases.create(&PostParams::default(), &lease).await?;
        }
    }
    Ok(())
}
