//! /metrics endpoints read directly, when there is no Prometheus: the API server's own (through
//! the API, `get /metrics`) and client pods' (through the API server's pod proxy; straight to
//! the pod IP when the proxy refuses, as it does for loopback and link-local pod IPs or
//! without `pods/proxy`). Bounded: a timeout per scrape and a cap on the body.

use std::time::Duration;

use kube_doctor_core::playbook::step3_client_rates::PodScrape;

use super::kube::{Kube, Perm, SourceError, StepCtx};

/// The largest /metrics body read (a client's is a few hundred KB; an API server's a few MB).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// Why a scrape failed.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    /// Through the API.
    #[error(transparent)]
    Api(#[from] SourceError),
    /// Directly.
    #[error("pod proxy failed ({proxy}) and {url} too ({reason})")]
    Direct {
        /// Why the proxy failed.
        proxy: SourceError,
        /// The URL tried.
        url: String,
        /// Why it failed.
        reason: String,
    },
}

/// A plain HTTP client for direct pod scrapes.
#[derive(Clone)]
pub struct Scraper {
    http: reqwest::Client,
}

impl Scraper {
    /// A scraper whose requests time out after `timeout`.
    pub fn new(timeout: Duration) -> Result<Scraper, SourceError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(3)))
            .user_agent(concat!("kube-doctor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SourceError::Transport(kube_doctor_core::escape::error_chain(&e, 1000)))?;
        Ok(Scraper { http })
    }

    /// The API server's /metrics.
    pub async fn apiserver(&self, kube: &Kube, ctx: &StepCtx) -> Result<String, SourceError> {
        kube.call(ctx, Perm::url("/metrics"), |client| async move {
            client
                .request_text(
                    http::Request::get("/metrics")
                        .body(Vec::new())
                        .expect("a static request is valid"),
                )
                .await
        })
        .await
    }

    /// A pod's /metrics: through the pod proxy, else straight to its IP.
    pub async fn pod(
        &self,
        kube: &Kube,
        ctx: &StepCtx,
        t: &PodScrape,
    ) -> Result<String, ScrapeError> {
        let path = t.proxy_path();
        let via_proxy = kube
            .call(
                ctx,
                Perm::ns("", "pods/proxy", "get", &t.namespace),
                |client| {
                    let path = path.clone();
                    async move {
                        client
                            .request_text(
                                http::Request::get(path)
                                    .body(Vec::new())
                                    .expect("a pod proxy path is a valid request"),
                            )
                            .await
                    }
                },
            )
            .await;
        let proxy = match (via_proxy, &t.ip) {
            (Ok(text), _) => return Ok(text),
            (Err(e), None) => return Err(e.into()),
            (Err(e), Some(_)) => e,
        };
        let url = format!("http://{}/metrics", t.instance());
        let direct = async {
            let resp = self.http.get(&url).send().await?.error_for_status()?;
            if resp.content_length().is_some_and(|n| n as usize > MAX_BODY) {
                return Ok(None);
            }
            let bytes = resp.bytes().await?;
            Ok::<_, reqwest::Error>((bytes.len() <= MAX_BODY).then_some(bytes))
        };
        match direct.await {
            Ok(Some(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Ok(None) => Err(ScrapeError::Direct {
                proxy,
                url,
                reason: format!("the body is over {MAX_BODY} bytes"),
            }),
            Err(e) => Err(ScrapeError::Direct {
                proxy,
                url,
                reason: kube_doctor_core::escape::error_chain(&e.without_url(), 1000),
            }),
        }
    }
}
