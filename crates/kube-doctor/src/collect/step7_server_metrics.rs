//! Playbook step 7: API server errors and latency - client-side or server-side? Fetches, at
//! once, the API server's callees (webhook configurations, APIServices) from the API and its
//! metrics from Prometheus: first which job holds the API server's series (`--apiserver-job`,
//! else the job whose targets are the kubernetes Service's endpoints, else the one with the
//! most `apiserver_request_total` traffic) and whether kube-prometheus-stack's recording rules
//! are there, then every query scoped to that job and `--cluster` (instant queries over the
//! window, range queries for the series, and the same per instance, the alert's instance
//! first). A Prometheus with no API server series says so and the step reads one scrape of
//! the API server's /metrics instead, as it does without Prometheus (cumulative since it
//! started: what the numbers can and cannot say is noted). Series of several clusters without
//! `--cluster` are refused, as in step 3. A Prometheus that fails makes the step fail. The
//! pure half (the queries, the detection, the one aggregation, the callees) is
//! `kube_doctor_core::playbook::step7_server_metrics`.

use std::sync::Arc;

use kube_doctor_core::bundle::{ApiServerSeries, Callees, RateSource, ServerMetrics};
use kube_doctor_core::clients::exposition;
use kube_doctor_core::playbook::step7_server_metrics::{
    CODE_RESOURCE_RULE, InstantQueries, JobChoice, SCRAPED_METRICS, SLI_QUANTILE_RULE,
    ServerSamples, aggregate, detect_apiserver_job, endpoint_jobs_query,
    instance_error_ratio_query, instance_queries, instances, jobs_query, note, promql_duration,
    recording_rules_query, sample_label_values, samples_from_scrape, scoped_range_queries,
    series_grid, series_of,
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
    if let Some(found) = &cx.settings.prometheus.discovery {
        notes.push(format!("Prometheus {found}"));
    }
    let (callees, metrics) = tokio::join!(callees(cx, &ctx, &mut notes), async {
        match &cx.prometheus {
            Some(prom) => Some(from_prometheus(cx, &ctx, prom).await),
            None => None,
        }
    });
    let mut m = match metrics {
        Some(Ok(Found::Metrics(m))) => *m,
        Some(Ok(Found::Blended(why))) => {
            let mut m = failed_metrics(cx);
            m.callees = callees;
            m.notes = notes;
            return Ok(StepEnd::Failed(Some(m), why));
        }
        Some(Ok(Found::NoApiServer(scope))) => {
            // Blind is not healthy: say so, and read the API server's own /metrics instead.
            let said =
                "this Prometheus has no API server series (no job exports apiserver_request_total)";
            match from_scrape(cx, &ctx).await {
                Ok(mut m) => {
                    m.notes.insert(
                        0,
                        format!(
                            "{said}: numbers from one scrape of the API server's /metrics instead"
                        ),
                    );
                    m.apiserver_series = Some(scope);
                    m.callees = callees;
                    m.notes.extend(notes);
                    let n = note(&m);
                    return Ok(StepEnd::Done(
                        m,
                        Some(format!("{said}; read its /metrics instead: {n}")),
                    ));
                }
                Err(e) => {
                    let mut m = failed_metrics(cx);
                    m.apiserver_series = Some(scope);
                    m.callees = callees;
                    m.notes = notes;
                    return Ok(StepEnd::Failed(
                        Some(m),
                        format!("{said}, and its /metrics could not be read either: {e}"),
                    ));
                }
            }
        }
        Some(Err(e)) => {
            let mut m = failed_metrics(cx);
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
    let mut note = note(&m);
    if let Some(a) = &m.apiserver_series {
        note.push_str(&format!("; {}", describe_series(a)));
    }
    Ok(StepEnd::Done(m, Some(note)))
}

/// Empty metrics from Prometheus, for a step that failed.
fn failed_metrics(cx: &Context) -> ServerMetrics {
    aggregate(
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
    )
}

/// One phrase for the step note: the job, why, and the instances (the alert's first).
fn describe_series(a: &ApiServerSeries) -> String {
    let Some(job) = &a.job else {
        return "this Prometheus has no API server series".to_string();
    };
    let mut s = format!(
        "job {} ({})",
        kube_doctor_core::escape::one_line(job, 80),
        a.chosen_because
    );
    if !a.instances.is_empty() {
        let shown: Vec<String> = a
            .instances
            .iter()
            .take(5)
            .map(|i| {
                format!(
                    "{}{} {:.1} % 5xx{}",
                    kube_doctor_core::escape::one_line(&i.instance, 80),
                    if i.alerted { " (the alert's)" } else { "" },
                    i.ratio_5xx * 100.0,
                    // A stopped instance's target fails its scrapes, or leaves the
                    // kubernetes Service's endpoints first: its numbers stop there.
                    if i.lowest_up.is_some_and(|u| u < 1.0) {
                        " (down: a scrape of it failed in the window)"
                    } else if i.scraped_at_end == Some(false) {
                        " (gone: no longer scraped at the window's end, as when an API server stops and leaves the kubernetes Service's endpoints)"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        s.push_str(&format!(
            "; {} instance(s): {}",
            a.instances.len(),
            shown.join(", ")
        ));
    }
    if !a.recording_rules.is_empty() {
        s.push_str(&format!(
            "; recording rules {}",
            a.recording_rules.join(", ")
        ));
    }
    s
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

/// What Prometheus held for step 7.
enum Found {
    /// The API server's metrics.
    Metrics(Box<ServerMetrics>),
    /// Several clusters' series and no `--cluster`: why not.
    Blended(String),
    /// No job exports `apiserver_request_total`.
    NoApiServer(ApiServerSeries),
}

/// The alert's API server instance, if the run is about one: the alert's `instance` label, or
/// the instance of `--client JOB/INSTANCE`.
fn focus_instance(cx: &Context) -> Option<String> {
    let s = &cx.settings;
    if let Some(i) = s
        .alert
        .as_ref()
        .and_then(|a| a.scope_labels.get("instance"))
    {
        return Some(i.clone());
    }
    s.scope
        .client
        .as_deref()
        .and_then(|c| c.rsplit_once('/'))
        .map(|(_, i)| i.to_string())
}

/// First the job and the recording rules (one small wave), then every query at once, in one
/// wave: the step costs its slowest query, not the sum. At most [`LANES`] of them hold one of
/// the client's in-flight slots, so the chain's own queries (step 3's error rates, which
/// everything else waits for) never queue behind these; the heaviest (latency histograms) go
/// first.
async fn from_prometheus(
    cx: &Context,
    ctx: &StepCtx,
    prom: &Prometheus,
) -> Result<Found, PromError> {
    let s = &cx.settings;
    let window = s.window;
    let at = window.to;
    let (series_from, step) = series_grid(&window);
    let r = format!("{}s", step.as_secs());
    let w = promql_duration(&window);
    let cluster = s.prometheus.scope.matchers();
    let label = &s.prometheus.scope.cluster_label;

    // Which job, which clusters, which recording rules.
    let endpoints: Vec<String> = match &s.prometheus.scope.apiserver_job {
        Some(_) => Vec::new(),
        None => cx
            .kubernetes_endpoints(ctx)
            .await
            .map(|e| {
                e.endpoints
                    .iter()
                    .map(|a| match a.address.parse::<std::net::Ipv6Addr>() {
                        Ok(_) => format!("[{}]:{}", a.address, a.port),
                        Err(_) => format!("{}:{}", a.address, a.port),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    };
    let endpoint_query = endpoint_jobs_query(&cluster, &endpoints);
    let jobs = jobs_query(&cluster, &w, label);
    let rules_query = recording_rules_query(&cluster);
    let (traffic, endpoint_jobs, rules) = tokio::join!(
        prom.instant(ctx, &jobs, at),
        async {
            match &endpoint_query {
                Some(q) => prom.instant(ctx, q, at).await.map(Some),
                None => Ok(None),
            }
        },
        prom.instant(ctx, &rules_query, at),
    );
    let traffic = traffic?;
    if let Some(why) = s
        .prometheus
        .scope
        .blended(&sample_label_values(&traffic, label))
    {
        return Ok(Found::Blended(why));
    }
    let endpoint_jobs: Vec<String> = endpoint_jobs
        .ok()
        .flatten()
        .map(|v| sample_label_values(&v, "job"))
        .unwrap_or_default();
    let all_jobs = sample_label_values(&traffic, "job");
    let (job, because) = match &s.prometheus.scope.apiserver_job {
        Some(j) => (j.clone(), JobChoice::Flag),
        None => match detect_apiserver_job(&traffic, &endpoint_jobs) {
            Some(found) => found,
            None => {
                return Ok(Found::NoApiServer(ApiServerSeries {
                    job: None,
                    chosen_because: "no job exports apiserver_request_total".to_string(),
                    ..Default::default()
                }));
            }
        },
    };
    // kube-prometheus-stack's rules are written for job "apiserver".
    let rules_present: Vec<String> = rules
        .map(|v| sample_label_values(&v, "__name__"))
        .unwrap_or_default()
        .into_iter()
        .filter(|n| n == SLI_QUANTILE_RULE || n == CODE_RESOURCE_RULE)
        .collect();
    let sli = (job == "apiserver" && rules_present.iter().any(|n| n == SLI_QUANTILE_RULE))
        .then_some(&cluster);

    let m = cluster.clone().eq("job", &job);
    let q = InstantQueries::scoped(&w, &m);
    let lanes = tokio::sync::Semaphore::new(LANES);
    let inst = |query: &str| {
        let query = query.to_string();
        let lanes = &lanes;
        async move { in_lane(lanes, prom.instant(ctx, &query, at)).await }
    };
    let ranges = scoped_range_queries(&r, &m, "", sli);
    let range_answers =
        futures::future::join_all(ranges.iter().map(|(_, query)| {
            in_lane(&lanes, prom.range(ctx, query, series_from, window.to, step))
        }));
    let [per_requests, per_p99, per_up, per_up_at_end] = instance_queries(&w, &m);
    let per_series_query = instance_error_ratio_query(&r, &m);
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
    let per_instance = async {
        tokio::try_join!(
            inst(&per_requests),
            inst(&per_p99),
            inst(&per_up),
            inst(&per_up_at_end),
            in_lane(
                &lanes,
                prom.range(ctx, &per_series_query, series_from, window.to, step)
            ),
        )
    };
    let (range_answers, instants, per_instance) =
        tokio::join!(range_answers, instants, per_instance);
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
    let (per_requests, per_p99, per_up, per_up_at_end, per_series) = per_instance?;
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
    let mut metrics = aggregate(
        &samples,
        Some(window.seconds().max(60.0)),
        RateSource::Prometheus {
            url: prom.url().to_string(),
        },
        series,
        Vec::new(),
    );
    let focus = focus_instance(cx);
    metrics.apiserver_series = Some(ApiServerSeries {
        chosen_because: because.to_string(),
        other_jobs: all_jobs.into_iter().filter(|j| *j != job).collect(),
        recording_rules: if sli.is_some() {
            vec![SLI_QUANTILE_RULE.to_string()]
        } else {
            Vec::new()
        },
        instances: instances(
            &per_requests,
            &per_p99,
            &per_up,
            Some(&per_up_at_end),
            per_series,
            window.seconds().max(60.0),
            focus.as_deref(),
        ),
        job: Some(job),
    });
    Ok(Found::Metrics(Box::new(metrics)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Recorded on the kube-prometheus-stack lab, `apiserver-down --instance 1` of three: the
    /// note names the stopped instance among the three.
    #[test]
    fn a_stopped_instance_is_named_in_the_note() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kube-doctor-core/tests/fixtures/bundles/kps-apiserver-down-1.json");
        let b = kube_doctor_core::bundle::Bundle::from_json(&std::fs::read(path).unwrap()).unwrap();
        let a = b.server_metrics.unwrap().apiserver_series.unwrap();
        let note = describe_series(&a);
        assert!(
            note.contains("3 instance(s)")
                && note.contains("198.18.7.11:26443 0.0 % 5xx (down: a scrape of it failed")
                && !note.contains("198.18.7.10:26443 0.0 % 5xx (down")
                && !note.contains("198.18.7.12:26443 0.0 % 5xx (down"),
            "{note}"
        );
    }

    /// The same instance stopped between two scrapes and left the kubernetes Service's
    /// endpoints before one failed (every `up` 1, none at the window's end): still named.
    #[test]
    fn an_instance_that_left_the_targets_is_named_as_gone() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../kube-doctor-core/tests/fixtures/bundles/kps-apiserver-down-1.json");
        let b = kube_doctor_core::bundle::Bundle::from_json(&std::fs::read(path).unwrap()).unwrap();
        let mut a = b.server_metrics.unwrap().apiserver_series.unwrap();
        for i in &mut a.instances {
            i.scraped_at_end = Some(!i.instance.starts_with("198.18.7.11:"));
            i.lowest_up = Some(1.0);
        }
        let note = describe_series(&a);
        assert!(
            note.contains("198.18.7.11:26443 0.0 % 5xx (gone: no longer scraped")
                && !note.contains("(down")
                && note.matches("(gone").count() == 1,
            "{note}"
        );
    }
}
