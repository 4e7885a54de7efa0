//! `serve`'s HTTP surface (contract: DESIGN.md "serve HTTP"): `POST /api/alerts` (Alertmanager
//! webhook, version 4), `GET /api/reports`, `GET /api/reports/{id}` (JSON, or HTML with
//! `Accept: text/html`) - these three behind `Authorization: Bearer <token>` when a token is
//! set - and `GET /metrics`, `/healthz`, `/readyz` without. Alerts are acknowledged at once;
//! investigations run from the bounded queue.
//!
//! Who before what: the token is checked by a layer on the request head, before the body
//! extractor; a request without the right token is answered 401 and its body is never read
//! (hyper then closes the connection rather than read it). Only then: at most
//! [`ALERT_BODIES_AT_ONCE`] alert bodies are read at once (more wait their turn without
//! reading), each within `--max-body-bytes` and `--body-timeout` (a deadline for the whole
//! body from its turn, 408 past it); every request, its wait included, is answered within
//! [`App::body_timeout`] plus [`ANSWER_MARGIN`] (408). Connection-level bounds are in
//! [`super::conn`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kube_doctor_core::escape::one_line;
use serde_json::json;
use tower_http::timeout::{RequestBodyDeadlineLayer, TimeoutLayer};
use tower_http::validate_request::{ValidateRequest, ValidateRequestHeaderLayer};

use super::alerts;
use super::metrics::ServeMetrics;
use super::queue::{Admission, Queue};
use super::ready::Readiness;
use super::store::ReportStore;

/// Alert bodies read at once (so at most this many times `--max-body-bytes` of bodies are
/// held); more wait, without reading, for a turn.
pub const ALERT_BODIES_AT_ONCE: usize = 32;

/// Time beyond the body deadline within which any request is answered.
pub const ANSWER_MARGIN: Duration = Duration::from_secs(5);

/// Longest job or instance label taken from an alert, in characters; longer ones are ignored.
pub const MAX_CLIENT_KEY_CHARS: usize = 512;

/// Everything the handlers share.
pub struct App {
    pub queue: Arc<Queue>,
    pub store: Arc<ReportStore>,
    pub metrics: Arc<ServeMetrics>,
    pub token: Option<String>,
    pub max_body: usize,
    /// Deadline for a whole request body, from the end of its head.
    pub body_timeout: Duration,
    /// Serving, and able to reach the API server (`/readyz`).
    pub ready: Arc<Readiness>,
}

/// The full surface.
pub fn router(app: Arc<App>) -> Router {
    let limit = app.max_body;
    let bodies = tower::limit::GlobalConcurrencyLimitLayer::new(ALERT_BODIES_AT_ONCE);
    let alerts = Router::new()
        .route("/api/alerts", post(post_alerts))
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyDeadlineLayer::new(app.body_timeout))
        .layer(bodies)
        .layer(ValidateRequestHeaderLayer::custom(Bearer {
            app: app.clone(),
            count_as_alert: true,
        }));
    let reports = Router::new()
        .route("/api/reports", get(list_reports))
        .route("/api/reports/{id}", get(get_report))
        .layer(ValidateRequestHeaderLayer::custom(Bearer {
            app: app.clone(),
            count_as_alert: false,
        }));
    let answer_within = app.body_timeout + ANSWER_MARGIN;
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(alerts)
        .merge(reports)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            answer_within,
        ))
        .with_state(app)
}

/// What a connection beyond `--max-connections` may ask (the health reserve of
/// [`super::conn`]): health, readiness and metrics; anything else is 503 with Retry-After.
pub fn health_router(app: Arc<App>) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .fallback(|| async {
            let mut r = error(
                StatusCode::SERVICE_UNAVAILABLE,
                "too many connections: every slot is taken; retry later",
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("5"));
            r
        })
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            ANSWER_MARGIN,
        ))
        .with_state(app)
}

/// The bearer-token check, run on the request head before anything reads the body.
#[derive(Clone)]
struct Bearer {
    app: Arc<App>,
    /// Count refusals in `kube_doctor_alerts_total{result="unauthorized"}`.
    count_as_alert: bool,
}

impl<B> ValidateRequest<B> for Bearer {
    type ResponseBody = Body;

    fn validate(&mut self, request: &mut Request<B>) -> Result<(), Response> {
        authorized(&self.app, request.headers()).map_err(|refusal| {
            if self.count_as_alert {
                self.app.metrics.alert("unauthorized");
            }
            *refusal
        })
    }
}

/// Whether the body failed for its deadline ([`RequestBodyDeadlineLayer`]).
fn is_deadline(e: &axum::extract::rejection::BytesRejection) -> bool {
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cur = err.source();
    }
    false
}

fn error(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, axum::Json(json!({"error": msg.into()}))).into_response()
}

/// Constant-time comparison, so the token cannot be guessed byte by byte from timings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorized(app: &App, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(token) = &app.token else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match given {
        Some(g) if same(g.trim().as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(Box::new(unauthorized("the bearer token is wrong"))),
        None => Err(Box::new(unauthorized(
            "an Authorization: Bearer token is required",
        ))),
    }
}

fn unauthorized(msg: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, msg);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

/// The token was checked by [`Bearer`] before the body was read.
async fn post_alerts(
    State(app): State<Arc<App>>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            app.metrics.alert("too_large");
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body exceeds {} bytes", app.max_body),
            );
        }
        Err(e) if is_deadline(&e) => {
            return error(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the body did not arrive within {}",
                    humantime::format_duration(app.body_timeout)
                ),
            );
        }
        Err(e) => return error(e.status(), e.body_text()),
    };
    let payload = match alerts::parse(&body) {
        Ok(p) => p,
        Err(e @ alerts::PayloadError::Malformed(_)) => {
            app.metrics.alert("malformed");
            return error(StatusCode::BAD_REQUEST, e.to_string());
        }
        Err(e @ alerts::PayloadError::Version(_)) => {
            app.metrics.alert("malformed");
            return error(StatusCode::UNPROCESSABLE_ENTITY, e.to_string());
        }
    };
    let now = Instant::now();
    let (mut queued, mut dedup, mut dropped, mut ignored) = (0, 0, 0, 0);
    for a in &payload.alerts {
        if a.status != "firing" {
            app.metrics.alert("resolved");
            ignored += 1;
            continue;
        }
        let (true, Some(key)) = (a.is_client_errors(), a.client_key()) else {
            app.metrics.alert("ignored");
            ignored += 1;
            continue;
        };
        if key.chars().count() > 3 * MAX_CLIENT_KEY_CHARS + 2 || key.chars().any(char::is_control) {
            tracing::warn!(client = %one_line(&key, 200), "alert ignored: the label that names its client (job/instance, namespace/pod or namespace) is too long or holds control characters");
            app.metrics.alert("ignored");
            ignored += 1;
            continue;
        }
        if let Some(raw) = a.starts_at.as_deref().filter(|_| a.starts_at().is_none())
            && !raw.starts_with("0001-01-01")
        {
            tracing::warn!(client = %one_line(&key, 200), starts_at = %one_line(raw, 80), "the alert's startsAt is not an RFC 3339 time: its window is --since long, ending now (not reaching back to the onset its rule implies)");
        }
        let admission = app.queue.admit_alert(&key, Some(a.clone()), now);
        tracing::debug!(group = %one_line(&payload.group_key, 200), fingerprint = %one_line(&a.fingerprint, 100), client = %key, ?admission, "alert");
        match admission {
            Admission::Queued => {
                queued += 1;
                app.metrics.alert("queued");
            }
            Admission::Deduplicated => {
                dedup += 1;
                app.metrics.alert("deduplicated");
            }
            Admission::Dropped => {
                dropped += 1;
                app.metrics.alert("dropped");
            }
        }
    }
    app.metrics.queue_depth.set(app.queue.queue_depth() as i64);
    let body =
        json!({"queued": queued, "deduplicated": dedup, "dropped": dropped, "ignored": ignored});
    if dropped > 0 && queued == 0 && dedup == 0 {
        let mut r = (StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response();
        r.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
        return r;
    }
    (StatusCode::ACCEPTED, axum::Json(body)).into_response()
}

async fn list_reports(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.store.list()).into_response()
}

async fn get_report(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(stored) = app.store.get(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no report \"{}\" (it may have been dropped: only recent reports are kept)",
                one_line(&id, 100)
            ),
        );
    };
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match (&stored.report, wants_html) {
        (Some(r), true) => {
            let mut html = Vec::new();
            if kube_doctor_core::report::html::render(&mut html, r).is_err() {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "could not render the report",
                );
            }
            Response::builder()
                .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(Body::from(html))
                .unwrap_or_else(|_| {
                    error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "could not build the response",
                    )
                })
        }
        _ => axum::Json(&*stored).into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    app.metrics.queue_depth.set(app.queue.queue_depth() as i64);
    let (kept, bytes) = app.store.usage();
    app.metrics.reports_kept.set(kept as i64);
    app.metrics.reports_bytes.set(bytes as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.encode(),
    )
        .into_response()
}

/// `/readyz`: 200 `ok` while serving and the API server answers (checked at most once per
/// [`super::ready::CACHE_FOR`]), else 503 with one line saying why.
async fn readyz(State(app): State<Arc<App>>) -> Response {
    match app.ready.check().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(why) => (StatusCode::SERVICE_UNAVAILABLE, why.0).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::metrics::ApiRequestCounter;
    use futures::{FutureExt, StreamExt};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;
    use tower::ServiceExt;

    const TOKEN: &str = "s3cret-token";

    /// Serving, with no API server to check.
    fn serving_without_a_check() -> Arc<Readiness> {
        let r = Readiness::new("https://api:6443", None, Duration::ZERO, Duration::ZERO);
        r.set_serving(true);
        r
    }

    fn app(
        queue: usize,
    ) -> (
        Arc<App>,
        tokio::sync::mpsc::Receiver<super::super::queue::Job>,
    ) {
        app_with(queue, serving_without_a_check())
    }

    /// The test app with `ready` as its readiness.
    fn app_with(
        queue: usize,
        ready: Arc<Readiness>,
    ) -> (
        Arc<App>,
        tokio::sync::mpsc::Receiver<super::super::queue::Job>,
    ) {
        let (q, rx) = Queue::new(queue, Duration::from_secs(300));
        let app = Arc::new(App {
            queue: Arc::new(q),
            store: Arc::new(ReportStore::new(10)),
            metrics: Arc::new(ServeMetrics::new(ApiRequestCounter::default())),
            token: Some(TOKEN.to_string()),
            max_body: 64 * 1024,
            body_timeout: Duration::from_secs(30),
            ready,
        });
        (app, rx)
    }

    fn alert_body(clients: &[(&str, &str)], status: &str) -> String {
        let alerts: Vec<serde_json::Value> = clients
            .iter()
            .map(|(job, instance)| {
                json!({"status": status, "fingerprint": format!("{job}{instance}"),
                       "labels": {"alertname": "KubeClientErrors", "job": job, "instance": instance, "severity": "warning"},
                       "annotations": {}, "startsAt": "2026-11-22T03:00:00Z", "endsAt": "0001-01-01T00:00:00Z"})
            })
            .collect();
        json!({"version": "4", "groupKey": "{}:{alertname=\"KubeClientErrors\"}", "status": status,
               "receiver": "kube-doctor", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
               "externalURL": "http://alertmanager", "truncatedAlerts": 0, "alerts": alerts})
        .to_string()
    }

    async fn post(
        app: &Arc<App>,
        body: impl Into<Body>,
        token: Option<&str>,
    ) -> (StatusCode, String) {
        let mut req = Request::post("/api/alerts").header(header::CONTENT_TYPE, "application/json");
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let resp = router(app.clone())
            .oneshot(req.body(body.into()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&bytes).to_string())
    }

    #[tokio::test]
    async fn bad_requests_get_the_right_4xx_and_queue_nothing() {
        let (app, _rx) = app(16);
        let good = alert_body(&[("demo", "10.0.0.1:8080")], "firing");
        let cases: Vec<(Option<&str>, String, StatusCode, &str)> = vec![
            (
                None,
                good.clone(),
                StatusCode::UNAUTHORIZED,
                "Bearer token is required",
            ),
            (
                Some("wrong"),
                good.clone(),
                StatusCode::UNAUTHORIZED,
                "token is wrong",
            ),
            (
                Some(TOKEN),
                "{not json".into(),
                StatusCode::BAD_REQUEST,
                "not an Alertmanager webhook payload",
            ),
            (
                Some(TOKEN),
                r#"{"version":"4"}"#.into(),
                StatusCode::BAD_REQUEST,
                "alerts",
            ),
            (
                Some(TOKEN),
                good.replace("\"version\":\"4\"", "\"version\":\"3\""),
                StatusCode::UNPROCESSABLE_ENTITY,
                "is not supported",
            ),
            (
                Some(TOKEN),
                "x".repeat(100 * 1024),
                StatusCode::PAYLOAD_TOO_LARGE,
                "exceeds 65536 bytes",
            ),
        ];
        for (token, body, want, says) in cases {
            let (status, text) = post(&app, body, token).await;
            assert_eq!(status, want, "{text}");
            assert!(text.contains(says), "{want}: {text}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
        assert_eq!(app.queue.queue_depth(), 0, "nothing queued by bad requests");
        // Reports need the token too; health does not.
        let resp = router(app.clone())
            .oneshot(Request::get("/api/reports").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let resp = router(app.clone())
            .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        let resp = router(app.clone())
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let text = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&text);
        assert!(
            text.contains("kube_doctor_alerts_total{result=\"unauthorized\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("kube_doctor_alerts_total{result=\"too_large\"} 1"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn a_storm_of_one_alert_is_one_investigation() {
        let (app, mut rx) = app(16);
        let body = alert_body(&[("demo", "10.0.0.1:8080")], "firing");
        let mut queued = 0;
        for _ in 0..1000 {
            let (status, text) = post(&app, body.clone(), Some(TOKEN)).await;
            assert_eq!(status, StatusCode::ACCEPTED, "{text}");
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            queued += v["queued"].as_u64().unwrap();
        }
        // Resolves and other alerts are not investigated.
        let (_, text) = post(
            &app,
            alert_body(&[("demo", "10.0.0.1:8080")], "resolved"),
            Some(TOKEN),
        )
        .await;
        assert!(text.contains("\"ignored\":1"), "{text}");
        assert_eq!(queued, 1);
        assert_eq!(rx.try_recv().unwrap().client, "demo/10.0.0.1:8080");
        assert!(rx.try_recv().is_err(), "exactly one job");
    }

    #[tokio::test]
    async fn fifty_clients_fill_the_queue_and_the_rest_is_refused_with_retry_after() {
        let (app, _rx) = app(16);
        let instances: Vec<String> = (0..50).map(|i| format!("10.0.1.{i}:8080")).collect();
        let mut statuses = Vec::new();
        for inst in &instances {
            let resp = router(app.clone())
                .oneshot(
                    Request::post("/api/alerts")
                        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                        .body(Body::from(alert_body(&[("demo", inst)], "firing")))
                        .unwrap(),
                )
                .await
                .unwrap();
            statuses.push((
                resp.status(),
                resp.headers().get(header::RETRY_AFTER).cloned(),
            ));
        }
        assert_eq!(app.queue.queue_depth(), 16, "the queue's bound");
        let refused: Vec<_> = statuses
            .iter()
            .filter(|(s, _)| *s == StatusCode::SERVICE_UNAVAILABLE)
            .collect();
        assert_eq!(refused.len(), 34);
        assert!(
            refused.iter().all(|(_, r)| r.is_some()),
            "503s carry Retry-After"
        );
    }

    #[tokio::test]
    async fn the_token_is_checked_before_any_body_byte_is_read() {
        let (app, _rx) = app(16);
        let body = alert_body(&[("demo", "10.0.0.1:8080")], "firing");
        for (token, want) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some("wrong"), StatusCode::UNAUTHORIZED),
            (Some(TOKEN), StatusCode::ACCEPTED),
        ] {
            let read = Arc::new(AtomicBool::new(false));
            let flag = read.clone();
            let bytes = body.clone();
            let stream = futures::stream::once(async move {
                flag.store(true, Ordering::SeqCst);
                Ok::<_, std::io::Error>(bytes)
            });
            let (status, text) = post(&app, Body::from_stream(stream), token).await;
            assert_eq!(status, want, "{text}");
            assert_eq!(
                read.load(Ordering::SeqCst),
                want == StatusCode::ACCEPTED,
                "{token:?}: the body is read only with the right token"
            );
        }
    }

    #[tokio::test]
    async fn a_body_that_stops_coming_is_answered_408_at_its_deadline() {
        let (q, _rx) = Queue::new(4, Duration::from_secs(300));
        let app = Arc::new(App {
            queue: Arc::new(q),
            store: Arc::new(ReportStore::new(10)),
            metrics: Arc::new(ServeMetrics::new(ApiRequestCounter::default())),
            token: Some(TOKEN.to_string()),
            max_body: 64 * 1024,
            body_timeout: Duration::from_millis(200),
            ready: serving_without_a_check(),
        });
        let first = futures::stream::once(async { Ok::<_, std::io::Error>("{\"version\"") });
        let stalled = first.chain(futures::stream::pending());
        let started = Instant::now();
        let (status, text) = post(&app, Body::from_stream(stalled), Some(TOKEN)).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT, "{text}");
        assert!(text.contains("did not arrive within 200ms"), "{text}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn readyz_says_why_when_the_api_server_cannot_be_reached_and_healthz_does_not_ask() {
        let calls = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let c = calls.clone();
        let probe: super::super::ready::Probe = Arc::new(move || {
            c.fetch_add(1, Ordering::Relaxed);
            async {
                Err(
                    "error trying to connect: tcp connect error: Connection refused (os error 111)"
                        .to_string(),
                )
            }
            .boxed()
        });
        let ready = Readiness::new(
            "https://10.0.0.1:6443",
            Some(probe),
            Duration::from_secs(2),
            Duration::from_secs(60),
        );
        ready.set_serving(true);
        let (app, _rx) = app_with(4, ready);
        for make in [router, health_router] {
            let resp = make(app.clone())
                .oneshot(Request::get("/healthz").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "liveness only");
            let resp = make(app.clone())
                .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
            let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
            let text = String::from_utf8_lossy(&body);
            assert!(
                text.contains("cannot reach the API server at https://10.0.0.1:6443")
                    && text.contains("Connection refused"),
                "{text}"
            );
        }
        assert_eq!(calls.load(Ordering::Relaxed), 1, "asked once, then cached");
    }

    #[tokio::test]
    async fn the_health_reserve_answers_probes_and_refuses_the_rest() {
        let (app, _rx) = app(16);
        for (path, want) in [
            ("/healthz", StatusCode::OK),
            ("/readyz", StatusCode::OK),
            ("/metrics", StatusCode::OK),
            ("/api/reports", StatusCode::SERVICE_UNAVAILABLE),
            ("/api/alerts", StatusCode::SERVICE_UNAVAILABLE),
        ] {
            let resp = health_router(app.clone())
                .oneshot(Request::get(path).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), want, "{path}");
            if want == StatusCode::SERVICE_UNAVAILABLE {
                assert!(resp.headers().contains_key(header::RETRY_AFTER), "{path}");
            }
        }
    }
}
