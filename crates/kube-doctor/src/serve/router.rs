//! `serve`'s HTTP surface (contract: DESIGN.md "serve HTTP"): `POST /api/alerts` (Alertmanager
//! webhook, version 4), `GET /api/reports`, `GET /api/reports/{id}` (JSON, or HTML with
//! `Accept: text/html`) - these three behind `Authorization: Bearer <token>` when a token is
//! set - and `GET /metrics`, `/healthz`, `/readyz` without. Alerts are acknowledged at once;
//! investigations run from the bounded queue.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::alerts;
use super::metrics::ServeMetrics;
use super::state::{Admission, ServeState};

/// Everything the handlers share.
pub struct App {
    pub state: Arc<ServeState>,
    pub metrics: Arc<ServeMetrics>,
    pub token: Option<String>,
    pub max_body: usize,
    pub ready: Arc<AtomicBool>,
}

pub fn router(app: Arc<App>) -> Router {
    let limit = app.max_body;
    Router::new()
        .route("/api/alerts", post(post_alerts))
        .route("/api/reports", get(list_reports))
        .route("/api/reports/{id}", get(get_report))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(app)
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

async fn post_alerts(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        app.metrics.alert("unauthorized");
        return *r;
    }
    let body = match body {
        Ok(b) => b,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            app.metrics.alert("too_large");
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body exceeds {} bytes", app.max_body),
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
        let admission = app.state.admit(&key, now);
        tracing::debug!(group = %payload.group_key, fingerprint = %a.fingerprint, client = %key, ?admission, "alert");
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
    app.metrics.queue_depth.set(app.state.queue_depth() as i64);
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

async fn list_reports(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return *r;
    }
    axum::Json(app.state.list()).into_response()
}

async fn get_report(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = authorized(&app, &headers) {
        return *r;
    }
    let Some(stored) = app.state.get(&id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("no report {id:?} (it may have been dropped: only recent reports are kept)"),
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
        _ => axum::Json(stored).into_response(),
    }
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    app.metrics.queue_depth.set(app.state.queue_depth() as i64);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.encode(),
    )
        .into_response()
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    if app.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}
