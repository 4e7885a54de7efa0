//! Playbook step 7: the API server's side. Error ratio and latency of what it serves, requests
//! in flight, API Priority and Fairness rejections per FlowSchema, admission webhook failures
//! and latency, etcd latency - and, as signals with the time they started, whatever of that
//! is trouble, so that diagnosis can correlate it with client onsets. Also the API server's
//! callees (webhook configurations, APIServices), which are the evidence when the failing
//! client is the API server itself.
//!
//! From Prometheus when given (range queries give the start time of each signal); otherwise
//! one scrape of the API server's /metrics (cumulative since it started: signals then have no
//! start time, and the step says so).

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{
    ApfStat, ApiServiceInfo, Callees, EtcdStat, LatencyQuantiles, RateSource, ServerMetrics,
    ServerSignal, SignalKind, WebhookConfig, WebhookStat,
};
use kube_doctor_core::clients::exposition::{self, Sample};

use super::{Collector, StepEnd, StepError};
use crate::source::kube::{Perm, StepCtx};
use crate::source::prometheus::{Prometheus, RangeSeries};

/// 5xx ratio above which the API server is in trouble.
const SERVER_5XX: f64 = 0.01;
/// p99 latency (seconds) of non-watch requests above which the API server is slow.
const SLOW_P99: f64 = 1.0;
/// etcd p99 (seconds) above which etcd is slow.
const ETCD_SLOW_P99: f64 = 0.5;

pub async fn collect(
    c: &Collector,
    ctx: Arc<StepCtx>,
) -> Result<StepEnd<ServerMetrics>, StepError> {
    let mut notes = Vec::new();
    // The callees (Kubernetes API) and the metrics (Prometheus) at once.
    let (callees, from_prom) = tokio::join!(callees(c, &ctx, &mut notes), async {
        match &c.prometheus {
            Some(prom) => Some(from_prometheus(c, &ctx, prom).await),
            None => None,
        }
    });
    let mut metrics = None;
    match from_prom {
        Some(Ok(m)) => metrics = Some(m),
        Some(Err(e)) => notes.push(format!("{e}; reading the API server's /metrics instead")),
        None => {}
    }
    let mut m = match metrics {
        Some(m) => m,
        None => from_scrape(c, &ctx).await?,
    };
    for a in &callees.api_services {
        if !a.available {
            m.signals.push(ServerSignal {
                kind: SignalKind::ApiServiceUnavailable,
                subject: a.name.clone(),
                first_seen: a.changed_at,
                last_seen: Some(c.window.to),
                peak: 1.0,
                detail: format!(
                    "APIService {} is not Available: {}",
                    a.name,
                    a.message.clone().unwrap_or_default()
                ),
            });
        }
    }
    m.callees = callees;
    m.notes.extend(notes);
    let note = format!("{} server signals", m.signals.len());
    Ok(StepEnd::Done(m, Some(note)))
}

async fn callees(c: &Collector, ctx: &StepCtx, notes: &mut Vec<String>) -> Callees {
    let mut out = Callees::default();
    let lp = ListParams::default().limit(500);
    // The three lists at once (they share the request limit).
    let (validating, mutating, services) = tokio::join!(
        c.kube.call(
            ctx,
            Perm::cluster(
                "admissionregistration.k8s.io",
                "validatingwebhookconfigurations",
                "list",
            ),
            |client| {
                let lp = lp.clone();
                async move {
                    Api::<ValidatingWebhookConfiguration>::all(client)
                        .list(&lp)
                        .await
                }
            },
        ),
        c.kube.call(
            ctx,
            Perm::cluster(
                "admissionregistration.k8s.io",
                "mutatingwebhookconfigurations",
                "list",
            ),
            |client| {
                let lp = lp.clone();
                async move {
                    Api::<MutatingWebhookConfiguration>::all(client)
                        .list(&lp)
                        .await
                }
            },
        ),
        c.kube.call(
            ctx,
            Perm::cluster("apiregistration.k8s.io", "apiservices", "list"),
            |client| {
                let lp = lp.clone();
                async move { Api::<APIService>::all(client).list(&lp).await }
            },
        ),
    );
    // Validating and mutating configurations are two k8s-openapi types with the same fields.
    macro_rules! read_webhooks {
        ($result:expr, $kind:literal) => {
            match $result {
                Ok(list) => {
                    for cfg in list.items {
                        let name = cfg.metadata.name.clone().unwrap_or_default();
                        let created = cfg.metadata.creation_timestamp.as_ref().map(|t| t.0);
                        for w in cfg.webhooks.unwrap_or_default() {
                            out.webhooks.push(webhook(
                                &name,
                                $kind,
                                &w.name,
                                &w.client_config,
                                w.timeout_seconds,
                                w.failure_policy.clone(),
                                created,
                                rules(w.rules.as_deref()),
                            ));
                        }
                    }
                }
                Err(e) => notes.push(format!(concat!($kind, " webhook configurations: {}"), e)),
            }
        };
    }
    read_webhooks!(validating, "validating");
    read_webhooks!(mutating, "mutating");
    match services {
        Ok(list) => {
            for a in list.items {
                let Some(svc) = a.spec.as_ref().and_then(|s| s.service.as_ref()) else {
                    continue; // served by the API server itself
                };
                let available = a
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .and_then(|cs| cs.iter().find(|c| c.type_ == "Available"));
                out.api_services.push(ApiServiceInfo {
                    name: a.metadata.name.clone().unwrap_or_default(),
                    service: Some(format!(
                        "{}/{}",
                        svc.namespace.clone().unwrap_or_default(),
                        svc.name.clone().unwrap_or_default()
                    )),
                    available: available.is_some_and(|c| c.status == "True"),
                    reason: available.and_then(|c| c.reason.clone()),
                    message: available.and_then(|c| c.message.clone()),
                    changed_at: available
                        .and_then(|c| c.last_transition_time.as_ref().map(|t| t.0)),
                });
            }
        }
        Err(e) => notes.push(format!("APIServices: {e}")),
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn webhook(
    configuration: &str,
    kind: &str,
    name: &str,
    cc: &k8s_openapi::api::admissionregistration::v1::WebhookClientConfig,
    timeout: Option<i32>,
    failure_policy: Option<String>,
    created_at: Option<Timestamp>,
    rules: Vec<String>,
) -> WebhookConfig {
    let (client, host) = match (&cc.url, &cc.service) {
        (Some(url), _) => {
            let host = url
                .split("://")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .map(|h| {
                    if h.contains(':') {
                        h.to_string()
                    } else {
                        format!("{h}:443")
                    }
                });
            (url.clone(), host)
        }
        (None, Some(s)) => {
            let port = s.port.unwrap_or(443);
            (
                format!(
                    "{}/{}:{port}{}",
                    s.namespace,
                    s.name,
                    s.path.clone().unwrap_or_default()
                ),
                Some(format!("{}.{}.svc:{port}", s.name, s.namespace)),
            )
        }
        (None, None) => (String::new(), None),
    };
    WebhookConfig {
        configuration: configuration.to_string(),
        kind: kind.to_string(),
        webhook: name.to_string(),
        client,
        host,
        timeout_seconds: timeout,
        failure_policy,
        created_at,
        rules,
    }
}

fn rules(
    rules: Option<&[k8s_openapi::api::admissionregistration::v1::RuleWithOperations]>,
) -> Vec<String> {
    rules
        .unwrap_or_default()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.operations.clone().unwrap_or_default().join(","),
                r.resources.clone().unwrap_or_default().join(",")
            )
        })
        .collect()
}

fn window_str(c: &Collector) -> String {
    let secs = (c.window.to - c.window.from)
        .total(jiff::Unit::Second)
        .unwrap_or(900.0)
        .max(60.0);
    format!("{}s", secs.round() as i64)
}

fn label(s: &BTreeMap<String, String>, k: &str) -> String {
    s.get(k).cloned().unwrap_or_default()
}

/// First and last time a series exceeds `threshold`, and its peak.
fn over(points: &[(Timestamp, f64)], threshold: f64) -> Option<(Timestamp, Timestamp, f64)> {
    let hits: Vec<&(Timestamp, f64)> = points
        .iter()
        .filter(|(_, v)| *v > threshold && v.is_finite())
        .collect();
    let first = hits.first()?;
    let last = hits.last()?;
    let peak = hits.iter().map(|(_, v)| *v).fold(f64::MIN, f64::max);
    Some((first.0, last.0, peak))
}

/// Step 7's share of the Prometheus client's in-flight slots (`MAX_INFLIGHT` = 8): the rest are
/// left to the chain's steps, which wait on their answers.
const STEP7_LANES: usize = 6;

/// Runs `fut` once one of `lanes` is free.
async fn in_lane<T>(
    lanes: &tokio::sync::Semaphore,
    fut: impl std::future::Future<Output = T>,
) -> T {
    // The semaphore is never closed; without a permit the query still runs, only less gently.
    let _lane = lanes.acquire().await.ok();
    fut.await
}

async fn from_prometheus(
    c: &Collector,
    ctx: &StepCtx,
    prom: &Prometheus,
) -> Result<ServerMetrics, crate::source::prometheus::PromError> {
    let w = window_str(c);
    let at = c.window.to;
    // Server signals are correlated in minutes: a point a minute is enough. Each point is the
    // rate over the minute before it, so the windows tile the range and Prometheus reads every
    // sample once; the latency histograms are the most expensive series it evaluates for us,
    // and overlapping windows (a point per 15 s over [1m]) made it read each sample four times.
    let step_secs = super::step3_client_rates::series_step(&c.window)
        .as_secs_f64()
        .ceil()
        .max(60.0) as i64;
    let step = std::time::Duration::from_secs(step_secs as u64);
    let r = format!("{step_secs}s");
    let secs = (c.window.to - c.window.from)
        .total(jiff::Unit::Second)
        .unwrap_or(900.0)
        .max(1.0);
    // The points end exactly at the window's end, so the newest minute is always in (a range
    // starting at `from` would end up to a step before `to` and miss a fault that just began).
    let points = (secs / step_secs as f64).ceil() as i64;
    let series_from = c.window.to - jiff::SignedDuration::from_secs(points * step_secs);

    // Every query at once, in one wave: the step costs its slowest query, not the sum. At most
    // STEP7_LANES of them hold one of the client's in-flight slots, so the chain's own queries
    // (step 3's error rates, which everything else waits for) never queue behind these; the
    // heaviest (latency histograms) go first.
    let lanes = tokio::sync::Semaphore::new(STEP7_LANES);
    let inst = |q: String| in_lane(&lanes, async move { prom.instant(ctx, &q, at).await });
    let range = |q: String| {
        in_lane(&lanes, async move {
            prom.range(ctx, &q, series_from, c.window.to, step).await
        })
    };
    // p50 and p99 per verb come from one evaluation of the buckets, interpolated here as
    // Prometheus's histogram_quantile does, instead of two evaluations of the heaviest series.
    let (
        slow,
        etcd_slow,
        buckets,
        etcd_p99,
        r5,
        by_code,
        inflight,
        apf_rejected,
        apf_queued,
        wh_rejected,
        wh_latency,
        rejected,
        wh,
        up,
        starts,
    ) = tokio::try_join!(
        range(format!(
            "histogram_quantile(0.99, sum by (le) (rate(apiserver_request_duration_seconds_bucket{{verb!~\"WATCH|CONNECT\"}}[{r}])))"
        )),
        range(format!(
            "histogram_quantile(0.99, sum by (le) (rate(etcd_request_duration_seconds_bucket[{r}])))"
        )),
        inst(format!(
            "sum by (verb, le) (rate(apiserver_request_duration_seconds_bucket{{verb!~\"WATCH|CONNECT\"}}[{w}]))"
        )),
        inst(format!(
            "topk(5, histogram_quantile(0.99, sum by (operation, type, le) (rate(etcd_request_duration_seconds_bucket[{w}]))))"
        )),
        range(format!(
            "sum(rate(apiserver_request_total{{code=~\"5..\"}}[{r}])) / sum(rate(apiserver_request_total[{r}]))"
        )),
        inst(format!(
            "sum by (code) (increase(apiserver_request_total[{w}]))"
        )),
        inst("sum by (request_kind) (apiserver_current_inflight_requests)".to_string()),
        inst(format!(
            "sum by (flow_schema, priority_level, reason) (increase(apiserver_flowcontrol_rejected_requests_total[{w}]))"
        )),
        inst(
            "sum by (flow_schema, priority_level) (apiserver_flowcontrol_current_inqueue_requests)"
                .to_string()
        ),
        inst(format!(
            "sum by (name, type, error_type) (increase(apiserver_admission_webhook_rejection_count[{w}]))"
        )),
        inst(format!(
            "histogram_quantile(0.99, sum by (name, type, le) (rate(apiserver_admission_webhook_admission_duration_seconds_bucket[{w}])))"
        )),
        range(format!(
            "sum by (flow_schema, priority_level) (rate(apiserver_flowcontrol_rejected_requests_total[{r}]))"
        )),
        range(format!(
            "sum by (name) (rate(apiserver_admission_webhook_rejection_count{{error_type=\"calling_webhook_error\"}}[{r}]))"
        )),
        // Any failed scrape within each minute, not only the one at the point's instant.
        range(format!(
            "min(min_over_time(up{{job=~\"kube-apiserver|apiserver|kubernetes-apiservers\"}}[{r}]))"
        )),
        range(
            "max by (instance) (process_start_time_seconds{job=~\"kube-apiserver|apiserver|kubernetes-apiservers\"})"
                .to_string()
        ),
    )?;
    let mut requests_by_class: BTreeMap<String, f64> = BTreeMap::new();
    let mut total = 0.0;
    let mut r5xx = 0.0;
    let mut r429 = 0.0;
    for s in &by_code {
        let code = label(&s.labels, "code");
        let class = format!("{}xx", code.chars().next().unwrap_or('?'));
        *requests_by_class.entry(class).or_default() += s.value / secs;
        total += s.value;
        if code.starts_with('5') {
            r5xx += s.value;
        }
        if code == "429" {
            r429 += s.value;
        }
    }
    let ratio = |x: f64| if total > 0.0 { x / total } else { 0.0 };

    let latency: BTreeMap<String, LatencyQuantiles> = bucket_quantiles(
        buckets
            .iter()
            .map(|s| (label(&s.labels, "verb"), label(&s.labels, "le"), s.value)),
    )
    .into_iter()
    .map(|(verb, p50, p99)| (verb.clone(), LatencyQuantiles { verb, p50, p99 }))
    .collect();

    let inflight: BTreeMap<String, f64> = inflight
        .into_iter()
        .map(|s| (label(&s.labels, "request_kind"), s.value))
        .collect();

    let mut apf: BTreeMap<(String, String), ApfStat> = BTreeMap::new();
    for s in apf_rejected {
        if s.value <= 0.0 {
            continue;
        }
        let key = (
            label(&s.labels, "flow_schema"),
            label(&s.labels, "priority_level"),
        );
        let e = apf.entry(key.clone()).or_insert(ApfStat {
            flow_schema: key.0,
            priority_level: key.1,
            rejected: 0.0,
            reasons: BTreeMap::new(),
            in_queue: 0.0,
        });
        e.rejected += s.value;
        *e.reasons.entry(label(&s.labels, "reason")).or_default() += s.value;
    }
    for s in apf_queued {
        let key = (
            label(&s.labels, "flow_schema"),
            label(&s.labels, "priority_level"),
        );
        if let Some(e) = apf.get_mut(&key) {
            e.in_queue = s.value;
        }
    }

    let mut webhooks: BTreeMap<(String, String), WebhookStat> = BTreeMap::new();
    for s in wh_rejected {
        let key = (label(&s.labels, "name"), label(&s.labels, "type"));
        let e = webhooks.entry(key.clone()).or_insert(WebhookStat {
            name: key.0,
            kind: key.1,
            rejections: 0.0,
            errors: 0.0,
            p99_seconds: None,
        });
        e.rejections += s.value;
        if label(&s.labels, "error_type") == "calling_webhook_error" {
            e.errors += s.value;
        }
    }
    for s in wh_latency {
        let key = (label(&s.labels, "name"), label(&s.labels, "type"));
        let e = webhooks.entry(key.clone()).or_insert(WebhookStat {
            name: key.0,
            kind: key.1,
            rejections: 0.0,
            errors: 0.0,
            p99_seconds: None,
        });
        e.p99_seconds = s.value.is_finite().then_some(s.value);
    }

    let mut etcd: Vec<EtcdStat> = etcd_p99
        .into_iter()
        .filter(|s| s.value.is_finite())
        .map(|s| EtcdStat {
            operation: label(&s.labels, "operation"),
            object_type: label(&s.labels, "type"),
            p99_seconds: Some(s.value),
        })
        .collect();
    etcd.sort_by(|a, b| {
        b.p99_seconds
            .unwrap_or(0.0)
            .total_cmp(&a.p99_seconds.unwrap_or(0.0))
    });

    // Signals: when did each kind of trouble start?
    let mut signals = Vec::new();
    for s in &r5 {
        if let Some((first, last, peak)) = over(&s.points, SERVER_5XX) {
            signals.push(ServerSignal {
                kind: SignalKind::Server5xx,
                subject: "apiserver_request_total".to_string(),
                first_seen: Some(first),
                last_seen: Some(last),
                peak,
                detail: format!(
                    "the API server answered {:.1} % of requests with 5xx at peak",
                    peak * 100.0
                ),
            });
        }
    }
    for s in &slow {
        if let Some((first, last, peak)) = over(&s.points, SLOW_P99) {
            signals.push(ServerSignal {
                kind: SignalKind::HighLatency,
                subject: "apiserver_request_duration_seconds".to_string(),
                first_seen: Some(first),
                last_seen: Some(last),
                peak,
                detail: format!("p99 request latency reached {peak:.2} s"),
            });
        }
    }
    for s in &rejected {
        if let Some((first, last, peak)) = over(&s.points, 0.0) {
            let fs = label(&s.labels, "flow_schema");
            let pl = label(&s.labels, "priority_level");
            signals.push(ServerSignal {
                kind: SignalKind::ApfRejections,
                subject: format!("flow_schema={fs} priority_level={pl}"),
                first_seen: Some(first),
                last_seen: Some(last),
                peak,
                detail: format!("APF rejected up to {peak:.2} requests/s of FlowSchema {fs} (priority level {pl})"),
            });
        }
    }
    for s in &wh {
        if let Some((first, last, peak)) = over(&s.points, 0.0) {
            let name = label(&s.labels, "name");
            signals.push(ServerSignal {
                kind: SignalKind::WebhookErrors,
                subject: name.clone(),
                first_seen: Some(first),
                last_seen: Some(last),
                peak,
                detail: format!("calls to admission webhook {name} failed up to {peak:.2}/s"),
            });
        }
    }
    for s in &etcd_slow {
        if let Some((first, last, peak)) = over(&s.points, ETCD_SLOW_P99) {
            signals.push(ServerSignal {
                kind: SignalKind::EtcdLatency,
                subject: "etcd_request_duration_seconds".to_string(),
                first_seen: Some(first),
                last_seen: Some(last),
                peak,
                detail: format!("etcd p99 request latency reached {peak:.2} s"),
            });
        }
    }
    // Prometheus could not scrape the API server: it was down, or its certificate failed.
    for s in &up {
        let down: Vec<(Timestamp, f64)> = s.points.iter().map(|(t, v)| (*t, 1.0 - v)).collect();
        if let Some((first, last, _)) = over(&down, 0.5) {
            signals.push(ServerSignal {
                kind: SignalKind::ApiServerUnreachable,
                subject: "up{job=\"kube-apiserver\"}".to_string(),
                first_seen: Some(first),
                last_seen: Some(last),
                peak: 1.0,
                detail: "Prometheus could not scrape the API server (down, or its serving certificate failed)".to_string(),
            });
        }
    }
    signals.extend(restarts(&starts));

    Ok(ServerMetrics {
        source: RateSource::Prometheus {
            url: prom.url().to_string(),
        },
        requests_by_class,
        ratio_5xx: ratio(r5xx),
        ratio_429: ratio(r429),
        latency: latency.into_values().collect(),
        inflight,
        apf: apf.into_values().collect(),
        webhooks: webhooks
            .into_values()
            .filter(|w| w.rejections > 0.0 || w.p99_seconds.is_some())
            .collect(),
        etcd,
        signals,
        callees: Callees::default(),
        notes: Vec::new(),
    })
}

/// A process start time that changes inside the window is a restart at that time.
fn restarts(series: &[RangeSeries]) -> Vec<ServerSignal> {
    let mut out = Vec::new();
    for s in series {
        for w in s.points.windows(2) {
            if w[1].1 > w[0].1 + 0.5 {
                let started = Timestamp::from_second(w[1].1 as i64).unwrap_or(w[1].0);
                out.push(ServerSignal {
                    kind: SignalKind::ApiServerRestart,
                    subject: label(&s.labels, "instance"),
                    first_seen: Some(started),
                    last_seen: Some(w[1].0),
                    peak: 1.0,
                    detail: format!(
                        "kube-apiserver {} restarted at {started}",
                        label(&s.labels, "instance")
                    ),
                });
            }
        }
    }
    out
}

async fn from_scrape(c: &Collector, ctx: &StepCtx) -> Result<ServerMetrics, StepError> {
    let text = c
        .kube
        .call(ctx, Perm::url("/metrics"), |client| async move {
            client
                .request_text(
                    http::Request::get("/metrics")
                        .body(Vec::new())
                        .expect("valid request"),
                )
                .await
        })
        .await?;
    let want = |n: &str| {
        n == "apiserver_request_total"
            || n == "apiserver_current_inflight_requests"
            || n == "apiserver_flowcontrol_rejected_requests_total"
            || n == "apiserver_flowcontrol_current_inqueue_requests"
            || n == "apiserver_admission_webhook_rejection_count"
            || n == "apiserver_request_duration_seconds_bucket"
            || n == "etcd_request_duration_seconds_bucket"
    };
    let samples = exposition::parse(&text, want)
        .map_err(|e| StepError::Other(format!("API server /metrics: {e}")))?;
    let now = c.window.to;
    fn by<'a>(samples: &'a [Sample], name: &'a str) -> impl Iterator<Item = &'a Sample> {
        samples.iter().filter(move |s| s.name == name)
    }
    let mut requests_by_class: BTreeMap<String, f64> = BTreeMap::new();
    let (mut total, mut r5, mut r429) = (0.0, 0.0, 0.0);
    for s in by(&samples, "apiserver_request_total") {
        let code = s.labels.get("code").cloned().unwrap_or_default();
        *requests_by_class
            .entry(format!("{}xx", code.chars().next().unwrap_or('?')))
            .or_default() += s.value;
        total += s.value;
        if code.starts_with('5') {
            r5 += s.value;
        }
        if code == "429" {
            r429 += s.value;
        }
    }
    let ratio = |x: f64| if total > 0.0 { x / total } else { 0.0 };
    let inflight = by(&samples, "apiserver_current_inflight_requests")
        .map(|s| {
            (
                s.labels.get("request_kind").cloned().unwrap_or_default(),
                s.value,
            )
        })
        .collect();
    let mut apf: BTreeMap<(String, String), ApfStat> = BTreeMap::new();
    for s in by(&samples, "apiserver_flowcontrol_rejected_requests_total") {
        let key = (
            s.labels.get("flow_schema").cloned().unwrap_or_default(),
            s.labels.get("priority_level").cloned().unwrap_or_default(),
        );
        let e = apf.entry(key.clone()).or_insert(ApfStat {
            flow_schema: key.0,
            priority_level: key.1,
            rejected: 0.0,
            reasons: BTreeMap::new(),
            in_queue: 0.0,
        });
        e.rejected += s.value;
        *e.reasons
            .entry(s.labels.get("reason").cloned().unwrap_or_default())
            .or_default() += s.value;
    }
    let mut signals = Vec::new();
    for a in apf.values().filter(|a| a.rejected > 0.0) {
        signals.push(ServerSignal {
            kind: SignalKind::ApfRejections,
            subject: format!("flow_schema={} priority_level={}", a.flow_schema, a.priority_level),
            first_seen: None,
            last_seen: Some(now),
            peak: a.rejected,
            detail: format!(
                "APF has rejected {} requests of FlowSchema {} (priority level {}) since the API server started",
                a.rejected, a.flow_schema, a.priority_level
            ),
        });
    }
    if ratio(r5) > SERVER_5XX {
        signals.push(ServerSignal {
            kind: SignalKind::Server5xx,
            subject: "apiserver_request_total".to_string(),
            first_seen: None,
            last_seen: Some(now),
            peak: ratio(r5),
            detail: format!(
                "{:.1} % of requests since start were answered 5xx",
                ratio(r5) * 100.0
            ),
        });
    }
    let mut webhooks: BTreeMap<(String, String), WebhookStat> = BTreeMap::new();
    for s in by(&samples, "apiserver_admission_webhook_rejection_count") {
        let key = (
            s.labels.get("name").cloned().unwrap_or_default(),
            s.labels.get("type").cloned().unwrap_or_default(),
        );
        let e = webhooks.entry(key.clone()).or_insert(WebhookStat {
            name: key.0,
            kind: key.1,
            rejections: 0.0,
            errors: 0.0,
            p99_seconds: None,
        });
        e.rejections += s.value;
        if s.labels.get("error_type").map(String::as_str) == Some("calling_webhook_error") {
            e.errors += s.value;
        }
    }
    for w in webhooks.values().filter(|w| w.errors > 0.0) {
        signals.push(ServerSignal {
            kind: SignalKind::WebhookErrors,
            subject: w.name.clone(),
            first_seen: None,
            last_seen: Some(now),
            peak: w.errors,
            detail: format!(
                "{} calls to admission webhook {} failed since the API server started",
                w.errors, w.name
            ),
        });
    }
    let latency = quantiles_by(
        &samples,
        "apiserver_request_duration_seconds_bucket",
        "verb",
        |s| {
            !matches!(
                s.labels.get("verb").map(String::as_str),
                Some("WATCH" | "CONNECT")
            )
        },
    )
    .into_iter()
    .map(|(verb, p50, p99)| LatencyQuantiles { verb, p50, p99 })
    .collect();
    let etcd = quantiles_by(
        &samples,
        "etcd_request_duration_seconds_bucket",
        "operation",
        |_| true,
    )
    .into_iter()
    .map(|(op, _, p99)| EtcdStat {
        operation: op,
        object_type: String::new(),
        p99_seconds: p99,
    })
    .collect();
    Ok(ServerMetrics {
        source: RateSource::Scrape { interval_seconds: 0.0 },
        requests_by_class,
        ratio_5xx: ratio(r5),
        ratio_429: ratio(r429),
        latency,
        inflight,
        apf: apf.into_values().collect(),
        webhooks: webhooks.into_values().collect(),
        etcd,
        signals,
        callees: Callees::default(),
        notes: vec![
            "no Prometheus: numbers are cumulative since the API server started, and signals have no start time".to_string(),
        ],
    })
}

/// p50 and p99 per value of `by`, from cumulative histogram buckets.
fn quantiles_by(
    samples: &[Sample],
    name: &str,
    by: &str,
    keep: impl Fn(&Sample) -> bool,
) -> Vec<(String, Option<f64>, Option<f64>)> {
    bucket_quantiles(
        samples
            .iter()
            .filter(|s| s.name == name && keep(s))
            .map(|s| {
                let get = |k: &str| s.labels.get(k).cloned().unwrap_or_default();
                (get(by), get("le"), s.value)
            }),
    )
}

/// p50 and p99 per key from `(key, le, cumulative count or rate)` triples, summed per key and
/// bucket bound and interpolated as Prometheus's `histogram_quantile` does.
fn bucket_quantiles(
    triples: impl Iterator<Item = (String, String, f64)>,
) -> Vec<(String, Option<f64>, Option<f64>)> {
    let mut buckets: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for (key, le, v) in triples {
        *buckets.entry(key).or_default().entry(le).or_default() += v;
    }
    buckets
        .into_iter()
        .map(|(k, les)| {
            let b: Vec<(f64, f64)> = les
                .into_iter()
                .filter_map(|(le, n)| {
                    let bound = if le == "+Inf" {
                        f64::INFINITY
                    } else {
                        le.parse().ok()?
                    };
                    Some((bound, n))
                })
                .collect();
            (
                k,
                exposition::histogram_quantile(0.5, &b),
                exposition::histogram_quantile(0.99, &b),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Buckets of one key arrive as several series (one per `le`, and per label summed away);
    /// they are summed per bound and interpolated like Prometheus's `histogram_quantile`.
    #[test]
    fn bucket_quantiles_sum_per_key_and_interpolate() {
        let t = |k: &str, le: &str, v: f64| (k.to_string(), le.to_string(), v);
        let q = bucket_quantiles(
            [
                t("GET", "0.1", 40.0),
                t("GET", "0.1", 40.0),
                t("GET", "1", 90.0),
                t("GET", "1", 10.0),
                t("GET", "+Inf", 100.0),
                t("LIST", "0.5", 0.0),
                t("LIST", "+Inf", 0.0),
            ]
            .into_iter(),
        );
        assert_eq!(q.len(), 2);
        let (verb, p50, p99) = &q[0];
        assert_eq!(verb, "GET");
        // 80 of 100 at or under 0.1 s: the median lies in the first bucket, at 0.1 * 50/80.
        assert!((p50.unwrap() - 0.0625).abs() < 1e-9, "{p50:?}");
        // 99 is the 19th of the 20 between 0.1 and 1 s.
        assert!(
            (p99.unwrap() - (0.1 + 0.9 * 19.0 / 20.0)).abs() < 1e-9,
            "{p99:?}"
        );
        // No requests: no quantile, as Prometheus answers NaN.
        assert_eq!(q[1], ("LIST".to_string(), None, None));
    }
}
