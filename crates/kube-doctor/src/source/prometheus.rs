//! Prometheus' HTTP API: instant and range queries, bounded by a timeout and by a shared limit
//! on queries in flight, counted per step. This file sends; the answers are parsed by
//! `kube_doctor_core::prometheus`. A Prometheus that is down or answers garbage gives one clear
//! error naming the URL (never its credentials).
//!
//! `RUST_LOG=kube_doctor=debug` traces every query: which, how long it queued behind the
//! in-flight bound, how long it took, how many bytes came back.

use std::time::Duration;

use jiff::Timestamp;
use kube_doctor_core::prometheus::{self as answer, AnswerError, InstantSample, RangeSeries};

use super::kube::StepCtx;
use crate::settings::{Limits, PrometheusAccess};

/// Why a query failed.
#[derive(Debug, thiserror::Error)]
pub enum PromError {
    /// Connection refused, DNS, TLS, timeout.
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
}

/// A Prometheus endpoint.
#[derive(Clone)]
pub struct Prometheus {
    http: reqwest::Client,
    base: url::Url,
    shown: String,
    inflight: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Prometheus {
    /// A client for `access`, or `None` when Prometheus is not used.
    pub fn new(
        access: &PrometheusAccess,
        limits: &Limits,
    ) -> Result<Option<Prometheus>, PromError> {
        let PrometheusAccess::Url(base) = access else {
            return Ok(None);
        };
        let shown = access.display().unwrap_or_default();
        let http = reqwest::Client::builder()
            .timeout(limits.prometheus_timeout)
            .connect_timeout(Duration::from_secs(5).min(limits.prometheus_timeout))
            .user_agent(concat!("kube-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PromError::Unreachable {
                url: shown.clone(),
                reason: kube_doctor_core::escape::error_chain(&e, 1000),
            })?;
        Ok(Some(Prometheus {
            http,
            base: base.clone(),
            shown,
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
    fn endpoint(&self, api_path: &str, params: &[(&str, String)]) -> url::Url {
        let mut u = self.base.clone();
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

    async fn get(
        &self,
        ctx: &StepCtx,
        api_path: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), PromError> {
        ctx.count_prometheus();
        let queued = std::time::Instant::now();
        // The semaphore is never closed, so acquiring cannot fail; if it ever did, going on
        // without a permit is still correct, only less gentle.
        let _permit = self.inflight.acquire().await.ok();
        let started = std::time::Instant::now();
        let url = self.endpoint(api_path, params);
        let unreachable = |e: reqwest::Error| PromError::Unreachable {
            url: self.shown.clone(),
            reason: kube_doctor_core::escape::error_chain(&e.without_url(), 300),
        };
        let resp = self.http.get(url).send().await.map_err(unreachable)?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(unreachable)?;
        tracing::debug!(
            path = api_path,
            query = params.first().map(|p| p.1.as_str()).unwrap_or_default(),
            status,
            bytes = bytes.len(),
            queued_ms = (started - queued).as_millis() as u64,
            took_ms = started.elapsed().as_millis() as u64,
            "prometheus"
        );
        Ok((status, bytes.to_vec()))
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
        let p = Prometheus::new(&access, &limits()).unwrap().unwrap();
        assert_eq!(
            p.url(),
            "https://vm:8481/select/0/prometheus/?extra_label=cluster%3Da"
        );
        let u = p.endpoint("/api/v1/query", &[("query", "up{a=\"b\"}".into())]);
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
            Prometheus::new(&PrometheusAccess::None, &limits())
                .unwrap()
                .is_none()
        );
    }
}
