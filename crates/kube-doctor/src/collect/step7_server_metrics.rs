//! Playbook step 7: API server errors and latency - client-side or server-side? Fetches, at
//! once, the API server's callees (webhook configurations, APIServices) from the API and its
//! metrics from Prometheus (instant queries over the window, range queries for the series);
//! without Prometheus, one scrape of its /metrics (cumulative since it started: what the
//! numbers can and cannot say is noted). A Prometheus that fails makes the step fail, as
//! step 3. The pure half (the queries, the one aggregation, the callees) is
//! `kube_doctor_core::playbook::step7_server_metrics`.

use std::sync::Arc;

use kube_doctor_core::bundle::{Callees, RateSource, ServerMetrics};
use kube_doctor_core::clients::exposition;
use kube_doctor_core::playbook::step7_server_metrics::{
    InstantQueries, SCRAPED_METRICS, ServerSamples, aggregate, note, promql_duration,
    range_queries, samples_from_scrape, series_grid, series_of,
};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::StepCtx;
use crate::source::prometheus::{PromError, Prometheus};

/// Step 7's share of the Prometheus client's in-flight slots: the rest are left to the
/// chain's steps, which wait on their answers.
const LANES: usize = 6;

/// Runs step 7.
pub async fn collect(cx: &Context, ctx: Arc<StepCtx>) -> Result<StepEnd<ServerMetrics>, StepError> {
    let mut notes = Vec::new();
    // The callees (Kubernetes API) and the metrics (Prometheus) at once.
    let (callees, metrics) = tokio::join!(callees(cx, &ctx, &mut notes), async {
        match &cx.prometheus {
            Some(prom) => Some(from_prometheus(cx, &ctx, prom).await),
            None => None,
        }
    });
    let mut m = match metrics {
        Some(Ok(m)) => m,
        Some(Err(e)) => {
            let mut m = aggregate(
                &ServerSamples::default(),
                None,
                RateSource::Prometheus {
                    url: cx
                        .prometheus
                        .as_ref()
                        .map(|p| p.url().to_string())
                        .unwrap_or_default(),
                },
                Vec::new(),
                Vec::new(),
            );
            m.callees = callees;
            m.notes = notes;
            return Ok(StepEnd::Failed(
                Some(m),
                format!("API server metrics could not be read: {e}"),
            ));
        }
        None => from_scrape(cx, &ctx).await?,
    };
    m.callees = callees;
    m.notes.extend(notes);
    let note = note(&m);
    Ok(StepEnd::Done(m, Some(note)))
}

async fn callees(cx: &Context, ctx: &StepCtx, notes: &mut Vec<String>) -> Callees {
    let configs = cx.callee_configs(ctx).await;
    notes.extend(configs.notes.iter().cloned());
    configs.callees.clone()
}

/// Runs `fut` once one of `lanes` is free.
async fn in_lane<T>(
    lanes: &tokio::sync::Semaphore,
    fut: impl std::future::Future<Output = T>,
) -> T {
    // The semaphore is never closed; without a permit the query still runs, only less gently.
    let _lane = lanes.acquire().await.ok();
    fut.await
}

/// Every query at once, in one wave: the step costs its slowest query, not the sum. At most
/// [`LANES`] of them hold one of the client's in-flight slots, so the chain's own queries
/// (step 3's error rates, which everything else waits for) never queue behind these; the
/// heaviest (latency histograms) go first.
async fn from_prometheus(
    cx: &Context,
    ctx: &StepCtx,
    prom: &Prometheus,
) -> Result<ServerMetrics, PromError> {
    let window = cx.settings.window;
    let at = window.to;
    let (series_from, step) = series_grid(&window);
    let r = format!("{}s", step.as_secs());
    let q = InstantQueries::new(&promql_duration(&window));
    let lanes = tokio::sync::Semaphore::new(LANES);
    let inst = |query: &str| {
        let query = query.to_string();
        let lanes = &lanes;
        async move { in_lane(lanes, prom.instant(ctx, &query, at)).await }
    };
    let ranges = range_queries(&r);
    let range_answers =
        futures::future::join_all(ranges.iter().map(|(_, query)| {
            in_lane(&lanes, prom.range(ctx, query, series_from, window.to, step))
        }));
    let instants = async {
        tokio::try_join!(
            inst(&q.request_buckets),
            inst(&q.etcd_p99),
            inst(&q.webhook_buckets),
            inst(&q.requests),
            inst(&q.inflight),
            inst(&q.apf_rejected),
            inst(&q.apf_inqueue),
            inst(&q.webhook_rejections),
        )
    };
    let (range_answers, instants) = tokio::join!(range_answers, instants);
    let (
        request_buckets,
        etcd_p99,
        webhook_buckets,
        requests,
        inflight,
        apf_rejected,
        apf_inqueue,
        webhook_rejections,
    ) = instants?;
    let mut series = Vec::new();
    for ((measure, _), answer) in ranges.into_iter().zip(range_answers) {
        series.extend(series_of(measure, answer?));
    }
    let samples = ServerSamples {
        requests,
        request_buckets,
        inflight,
        apf_rejected,
        apf_inqueue,
        webhook_rejections,
        webhook_buckets,
        etcd_p99,
    };
    Ok(aggregate(
        &samples,
        Some(window.seconds().max(60.0)),
        RateSource::Prometheus {
            url: prom.url().to_string(),
        },
        series,
        Vec::new(),
    ))
}

async fn from_scrape(cx: &Context, ctx: &StepCtx) -> Result<ServerMetrics, StepError> {
    let text = cx.scraper.apiserver(&cx.kube, ctx).await?;
    let samples = exposition::parse(&text, |n| SCRAPED_METRICS.contains(&n)).map_err(|source| {
        StepError::Exposition {
            what: "API server /metrics".to_string(),
            source,
        }
    })?;
    Ok(aggregate(
        &samples_from_scrape(samples),
        None,
        RateSource::Scrape {
            interval_seconds: 0.0,
        },
        Vec::new(),
        vec![
            "no Prometheus: numbers are cumulative since the API server started, and signals have no start time"
                .to_string(),
        ],
    ))
}
