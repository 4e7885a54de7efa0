//! Prometheus' HTTP API: instant and range queries, bounded by a timeout, counted per step.
//! A Prometheus that is down or answers garbage gives one clear error naming the URL; the
//! caller records it in the step and falls back to scraping /metrics.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::Timestamp;
use serde::Deserialize;

use super::kube::StepCtx;

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// Connection refused, DNS, TLS, timeout.
    #[error("Prometheus at {url} is unreachable: {reason}")]
    Unreachable {
        /// Base URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Not the Prometheus API.
    #[error("{url} did not answer like the Prometheus API ({reason})")]
    NotPrometheus {
        /// Base URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Prometheus refused the query.
    #[error("Prometheus rejected the query {query:?}: {message}")]
    Query {
        /// The PromQL.
        query: String,
        /// Its error.
        message: String,
    },
    /// The URL given is not a URL.
    #[error("--prometheus {0:?} is not a URL; give it like http://prometheus:9090")]
    BadUrl(String),
}

/// One series of a range query.
#[derive(Debug, Clone)]
pub struct RangeSeries {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// (time, value).
    pub points: Vec<(Timestamp, f64)>,
}

/// One sample of an instant query.
#[derive(Debug, Clone)]
pub struct InstantSample {
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Value.
    pub value: f64,
}

/// Queries in flight to Prometheus at once, across all steps.
const MAX_INFLIGHT: usize = 8;

/// A Prometheus endpoint.
#[derive(Clone)]
pub struct Prometheus {
    http: reqwest::Client,
    base: String,
    inflight: std::sync::Arc<tokio::sync::Semaphore>,
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<Data>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct MatrixEntry {
    metric: BTreeMap<String, String>,
    values: Vec<(f64, String)>,
}

#[derive(Deserialize)]
struct VectorEntry {
    metric: BTreeMap<String, String>,
    value: (f64, String),
}

impl Prometheus {
    /// A client for `base` (e.g. http://127.0.0.1:9090).
    pub fn new(base: &str, timeout: Duration) -> Result<Prometheus, PromError> {
        let parsed = reqwest::Url::parse(base).map_err(|_| PromError::BadUrl(base.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PromError::BadUrl(base.to_string()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("kube-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PromError::Unreachable {
                url: base.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Prometheus {
            http,
            base: base.trim_end_matches('/').to_string(),
            inflight: std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_INFLIGHT)),
        })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn get(
        &self,
        ctx: &StepCtx,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<Data, PromError> {
        ctx.count_prometheus();
        // The semaphore is never closed, so acquiring cannot fail; if it ever did, going on
        // without a permit is still correct, only less gentle.
        let queued = std::time::Instant::now();
        let _permit = self.inflight.acquire().await.ok();
        let started = std::time::Instant::now();
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .query(params)
            .send()
            .await
            .map_err(|e| PromError::Unreachable {
                url: self.base.clone(),
                reason: crate::source::kube::error_chain(&e),
            })?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| PromError::Unreachable {
            url: self.base.clone(),
            reason: e.to_string(),
        })?;
        // The request-level trace of Prometheus, as `RUST_LOG=kube=debug` gives for the API
        // server: which query, how long it queued behind the in-flight bound, how long it took.
        tracing::debug!(
            path,
            query = params.first().map(|p| p.1.as_str()).unwrap_or_default(),
            %status,
            bytes = bytes.len(),
            queued_ms = (started - queued).as_millis() as u64,
            took_ms = started.elapsed().as_millis() as u64,
            "prometheus"
        );
        let env: Envelope =
            serde_json::from_slice(&bytes).map_err(|_| PromError::NotPrometheus {
                url: self.base.clone(),
                reason: format!(
                    "HTTP {status}, body starts {:?}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(60)])
                ),
            })?;
        if env.status != "success" {
            return Err(PromError::Query {
                query: params.first().map(|p| p.1.clone()).unwrap_or_default(),
                message: env
                    .error
                    .unwrap_or_else(|| format!("status {}", env.status)),
            });
        }
        env.data.ok_or_else(|| PromError::NotPrometheus {
            url: self.base.clone(),
            reason: "no data in a successful answer".to_string(),
        })
    }

    /// A range query.
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
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", format!("{}", step.as_secs_f64().max(1.0))),
        ];
        let data = self.get(ctx, "/api/v1/query_range", &params).await?;
        if data.result_type != "matrix" {
            return Err(self.shape(&data.result_type, "matrix"));
        }
        let entries: Vec<MatrixEntry> = serde_json::from_value(data.result)
            .map_err(|e| self.shape(&e.to_string(), "matrix"))?;
        Ok(entries
            .into_iter()
            .map(|e| RangeSeries {
                labels: e.metric,
                points: e
                    .values
                    .into_iter()
                    .filter_map(|(t, v)| Some((from_seconds(t)?, v.parse().ok()?)))
                    .collect(),
            })
            .collect())
    }

    /// An instant query.
    pub async fn instant(
        &self,
        ctx: &StepCtx,
        query: &str,
        at: Timestamp,
    ) -> Result<Vec<InstantSample>, PromError> {
        let params = [("query", query.to_string()), ("time", seconds(at))];
        let data = self.get(ctx, "/api/v1/query", &params).await?;
        if data.result_type != "vector" {
            return Err(self.shape(&data.result_type, "vector"));
        }
        let entries: Vec<VectorEntry> = serde_json::from_value(data.result)
            .map_err(|e| self.shape(&e.to_string(), "vector"))?;
        Ok(entries
            .into_iter()
            .filter_map(|e| {
                Some(InstantSample {
                    labels: e.metric,
                    value: e.value.1.parse().ok()?,
                })
            })
            .collect())
    }

    fn shape(&self, got: &str, want: &str) -> PromError {
        PromError::NotPrometheus {
            url: self.base.clone(),
            reason: format!("expected a {want}, got {got}"),
        }
    }
}

fn seconds(t: Timestamp) -> String {
    format!("{:.3}", t.as_millisecond() as f64 / 1000.0)
}

fn from_seconds(t: f64) -> Option<Timestamp> {
    Timestamp::from_millisecond((t * 1000.0).round() as i64).ok()
}
