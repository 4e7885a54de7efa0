//! kube-doctor's own API client metrics: a tower layer in the kube-rs client stack counts every
//! request as client-go does (`rest_client_requests_total{code,method,host}`, `code="<error>"`
//! when no response came back), so the KubeClientErrors rule that kube-doctor serves can
//! watch kube-doctor too. `serve` exports them on /metrics. The same layer notes each answer's
//! `Retry-After` for [`super::retry`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use tower::{Layer, Service};

/// Labels of `rest_client_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// Status code, or "<error>".
    pub code: String,
    /// HTTP method.
    pub method: String,
    /// The API server host.
    pub host: String,
}

/// The shared counter family (cheap to clone).
pub type ApiRequestCounter = Family<RequestLabels, Counter>;

/// Counts requests into an [`ApiRequestCounter`].
#[derive(Clone)]
pub struct CountingLayer {
    counter: ApiRequestCounter,
    host: String,
}

impl CountingLayer {
    /// A layer counting into `counter`, labelling requests with the API server's `host`
    /// (requests reach this layer with relative URIs).
    pub fn new(counter: ApiRequestCounter, host: String) -> Self {
        CountingLayer { counter, host }
    }
}

impl<S> Layer<S> for CountingLayer {
    type Service = CountingService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        CountingService {
            inner,
            counter: self.counter.clone(),
            host: self.host.clone(),
        }
    }
}

/// The service the layer wraps around the client's stack.
#[derive(Clone)]
pub struct CountingService<S> {
    inner: S,
    counter: ApiRequestCounter,
    host: String,
}

/// Counts on drop, so a request abandoned by a timeout is counted as "<error>".
struct Outcome {
    counter: ApiRequestCounter,
    method: String,
    host: String,
    code: Option<String>,
}

impl Drop for Outcome {
    fn drop(&mut self) {
        self.counter
            .get_or_create(&RequestLabels {
                code: self.code.take().unwrap_or_else(|| "<error>".to_string()),
                method: std::mem::take(&mut self.method),
                host: std::mem::take(&mut self.host),
            })
            .inc();
    }
}

impl<S, B, R> Service<http::Request<B>> for CountingService<S>
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
        let mut outcome = Outcome {
            counter: self.counter.clone(),
            method: req.method().as_str().to_string(),
            host: self.host.clone(),
            code: None,
        };
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await;
            outcome.code = Some(match &res {
                Ok(r) => {
                    super::retry::note_retry_after(r.headers());
                    r.status().as_u16().to_string()
                }
                Err(_) => "<error>".to_string(),
            });
            drop(outcome);
            res
        })
    }
}
