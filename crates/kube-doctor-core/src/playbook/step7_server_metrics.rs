//! Playbook step 7, pure half: the API server's side. The PromQL asked (instant queries over
//! the window and range queries for the series), one aggregation of the answers into
//! [`ServerMetrics`] whether they came from Prometheus or from one scrape of the API server's
//! /metrics, and the API server's callees (webhook configurations, APIServices) read from
//! their objects. Whether any of it is trouble is diagnosis' call (`diagnose::signals`).

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, RuleWithOperations, ValidatingWebhookConfiguration,
    WebhookClientConfig,
};
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;

use crate::bundle::{
    ApfStat, ApiServerInstance, ApiServiceInfo, Callees, EtcdStat, LatencyQuantiles, RateSource,
    ServerMeasure, ServerMetrics, ServerSeries, ServiceRef, WebhookConfig, WebhookStat, Window,
};
use crate::clients::exposition::{self, Sample};
use crate::prometheus::{InstantSample, RangeSeries};

/// The job names the API server's own metrics are scraped under, by stack: kube-prometheus and
/// kube-prometheus-stack, and OpenShift's cluster monitoring (`apiserver`); the
/// prometheus-community `prometheus` chart (`kubernetes-apiservers`); its older example
/// configuration (`kubernetes-api-servers`); kube-doctor's lab and plain scrape
/// configurations (`kube-apiserver`); Grafana's k8s-monitoring chart
/// (`integrations/kubernetes/kube-apiserver`); VictoriaMetrics' k8s-stack and other control
/// plane charts (`controlplane-apiserver`); k3s' single server binary (`k3s-server`). Step 7
/// detects the job from the data ([`detect_apiserver_job`]); this list only ranks candidates
/// and lets the `up` series of an API server that serves no traffic be found.
pub const KNOWN_APISERVER_JOBS: [&str; 7] = [
    "apiserver",
    "kube-apiserver",
    "kubernetes-apiservers",
    "kubernetes-api-servers",
    "controlplane-apiserver",
    "integrations/kubernetes/kube-apiserver",
    "k3s-server",
];

/// The same as a regular expression (as the first version of step 7 used it).
pub const APISERVER_JOBS: &str = "kube-apiserver|apiserver|kubernetes-apiservers";

/// How the API server's job was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobChoice {
    /// `--apiserver-job`.
    Flag,
    /// Its `up` targets are the `default/kubernetes` Service's endpoints.
    Endpoints,
    /// It exports `apiserver_request_total` with the most traffic of `of` jobs.
    Traffic {
        /// Jobs that export it.
        of: usize,
    },
}

impl std::fmt::Display for JobChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobChoice::Flag => f.write_str("given by --apiserver-job"),
            JobChoice::Endpoints => {
                f.write_str("its targets are the kubernetes Service's endpoints")
            }
            JobChoice::Traffic { of: 1 } => {
                f.write_str("the only job exporting apiserver_request_total")
            }
            JobChoice::Traffic { of } => write!(
                f,
                "the most apiserver_request_total traffic of {of} jobs exporting it"
            ),
        }
    }
}

/// The query that finds the API server's job and the clusters in the data: requests per job
/// (and `cluster_label`) over the window `w`. `m` holds the cluster matcher, if any.
pub fn jobs_query(m: &crate::prometheus::Matchers, w: &str, cluster_label: &str) -> String {
    let by = if crate::prometheus::valid_label_name(cluster_label) {
        format!("job, {cluster_label}")
    } else {
        "job".to_string()
    };
    format!(
        "sum by ({by}) (increase({}[{w}]))",
        m.selector("apiserver_request_total", &[])
    )
}

/// The query for the jobs whose `up` targets are the given `host:port` endpoints.
pub fn endpoint_jobs_query(
    m: &crate::prometheus::Matchers,
    endpoints: &[String],
) -> Option<String> {
    if endpoints.is_empty() {
        return None;
    }
    let refs: Vec<&str> = endpoints.iter().map(String::as_str).collect();
    let m = m.clone().one_of("instance", &refs);
    Some(format!("count by (job) ({})", m.selector("up", &[])))
}

/// The API server's job from [`jobs_query`]'s answer and the jobs whose targets are the
/// kubernetes Service's endpoints: an endpoint job that exports `apiserver_request_total` first
/// (the most traffic among them), else the job with the most traffic (aggregated API servers
/// and extension servers export the metric too, with far less traffic). `None` when no job
/// exports it: this Prometheus has no API server series.
pub fn detect_apiserver_job(
    traffic: &[InstantSample],
    endpoint_jobs: &[String],
) -> Option<(String, JobChoice)> {
    let mut per_job: BTreeMap<String, f64> = BTreeMap::new();
    for s in traffic {
        if let Some(job) = s.labels.get("job")
            && s.value.is_finite()
        {
            *per_job.entry(job.clone()).or_default() += s.value;
        }
    }
    let best = |jobs: Vec<(&String, &f64)>| {
        jobs.into_iter()
            .max_by(|a, b| {
                a.1.total_cmp(b.1)
                    // Equal traffic: a known API server job name first, then by name.
                    .then(
                        KNOWN_APISERVER_JOBS
                            .contains(&a.0.as_str())
                            .cmp(&KNOWN_APISERVER_JOBS.contains(&b.0.as_str())),
                    )
                    .then(b.0.cmp(a.0))
            })
            .map(|(j, _)| j.clone())
    };
    let on_endpoints: Vec<(&String, &f64)> = per_job
        .iter()
        .filter(|(j, _)| endpoint_jobs.contains(j))
        .collect();
    if let Some(job) = best(on_endpoints) {
        return Some((job, JobChoice::Endpoints));
    }
    let of = per_job.len();
    best(per_job.iter().collect()).map(|job| (job, JobChoice::Traffic { of }))
}

/// The values of `label` in instant samples, sorted, each once (`""` for samples without it).
pub fn sample_label_values(samples: &[InstantSample], label: &str) -> Vec<String> {
    let mut v: Vec<String> = samples
        .iter()
        .map(|s| s.labels.get(label).cloned().unwrap_or_default())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// kube-prometheus-stack's recording rule for the API server's SLI latency quantiles
/// (kubernetes-mixin `kube-apiserver-histogram.rules`, per cluster, verb read/write and
/// resource, over 5 minutes, job `apiserver`).
pub const SLI_QUANTILE_RULE: &str =
    "cluster_quantile:apiserver_request_sli_duration_seconds:histogram_quantile";
/// kube-prometheus-stack's recording rule for request rates by code and resource (job
/// `apiserver`, over 5 minutes).
pub const CODE_RESOURCE_RULE: &str = "code_resource:apiserver_request_total:rate5m";

/// The query that tells which of kube-prometheus-stack's recording rules this Prometheus
/// has (answer: one sample per metric name present).
pub fn recording_rules_query(m: &crate::prometheus::Matchers) -> String {
    let names = format!("{SLI_QUANTILE_RULE}|{CODE_RESOURCE_RULE}");
    let extra = format!("__name__=~{}", crate::prometheus::string_literal(&names));
    format!("count by (__name__) ({})", m.selector("", &[&extra]))
}

/// etcd operations kept (the slowest by p99).
pub const ETCD_TOP: usize = 5;

/// The instant queries of step 7, each over the window (`w` is its length as `900s`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstantQueries {
    /// `apiserver_request_total` increase by code.
    pub requests: String,
    /// Request latency bucket rates by verb and le (watches excluded).
    pub request_buckets: String,
    /// Requests in flight by kind (now).
    pub inflight: String,
    /// APF rejections by FlowSchema, priority level and reason.
    pub apf_rejected: String,
    /// APF requests in queue (now).
    pub apf_inqueue: String,
    /// Admission webhook rejections by name, type and error type.
    pub webhook_rejections: String,
    /// Admission webhook latency bucket rates by name, type and le.
    pub webhook_buckets: String,
    /// The slowest etcd operations: p99 by operation and object type (computed by
    /// Prometheus: the buckets by object type are large, hundreds of KB on a small cluster).
    pub etcd_p99: String,
}

impl InstantQueries {
    /// The queries for a window of `w` (a PromQL duration), unscoped.
    pub fn new(w: &str) -> InstantQueries {
        InstantQueries::scoped(w, &crate::prometheus::Matchers::none())
    }

    /// The queries for a window of `w`, every selector scoped by `m` (the API server's job, the
    /// cluster).
    pub fn scoped(w: &str, m: &crate::prometheus::Matchers) -> InstantQueries {
        let sel = |metric: &str, extra: &[&str]| m.selector(metric, extra);
        let no_watch = "verb!~\"WATCH|CONNECT\"";
        InstantQueries {
            requests: format!(
                "sum by (code) (increase({}[{w}]))",
                sel("apiserver_request_total", &[])
            ),
            request_buckets: format!(
                "sum by (verb, le) (rate({}[{w}]))",
                sel("apiserver_request_duration_seconds_bucket", &[no_watch])
            ),
            inflight: format!(
                "sum by (request_kind) ({})",
                sel("apiserver_current_inflight_requests", &[])
            ),
            apf_rejected: format!(
                "sum by (flow_schema, priority_level, reason) (increase({}[{w}]))",
                sel("apiserver_flowcontrol_rejected_requests_total", &[])
            ),
            apf_inqueue: format!(
                "sum by (flow_schema, priority_level) ({})",
                sel("apiserver_flowcontrol_current_inqueue_requests", &[])
            ),
            webhook_rejections: format!(
                "sum by (name, type, error_type) (increase({}[{w}]))",
                sel("apiserver_admission_webhook_rejection_count", &[])
            ),
            webhook_buckets: format!(
                "sum by (name, type, le) (rate({}[{w}]))",
                sel(
                    "apiserver_admission_webhook_admission_duration_seconds_bucket",
                    &[]
                )
            ),
            // The object type is `resource` (with `group`) since Kubernetes 1.31, `type` before.
            etcd_p99: format!(
                "topk({ETCD_TOP}, histogram_quantile(0.99, sum by (operation, resource, type, le) (rate({}[{w}]))))",
                sel("etcd_request_duration_seconds_bucket", &[])
            ),
        }
    }
}

/// The per-instance queries of step 7 over the window `w`, scoped by `m` (job and cluster):
/// requests by instance and code, p99 latency by instance, the lowest `up` by instance, and
/// (an instant query at the window's end) `up` by instance: which targets are still scraped.
pub fn instance_queries(w: &str, m: &crate::prometheus::Matchers) -> [String; 4] {
    [
        format!(
            "sum by (instance, code) (increase({}[{w}]))",
            m.selector("apiserver_request_total", &[])
        ),
        format!(
            "histogram_quantile(0.99, sum by (instance, le) (rate({}[{w}])))",
            m.selector(
                "apiserver_request_duration_seconds_bucket",
                &["verb!~\"WATCH|CONNECT\""]
            )
        ),
        format!(
            "min by (instance) (min_over_time({}[{w}]))",
            m.selector("up", &[])
        ),
        format!("min by (instance) ({})", m.selector("up", &[])),
    ]
}

/// The per-instance 5xx ratio series (`r` the step, as in [`range_queries`]).
pub fn instance_error_ratio_query(r: &str, m: &crate::prometheus::Matchers) -> String {
    format!(
        "sum by (instance) (rate({}[{r}])) / sum by (instance) (rate({}[{r}]))",
        m.selector("apiserver_request_total", &["code=~\"5..\""]),
        m.selector("apiserver_request_total", &[])
    )
}

/// Step 7's per-instance view from [`instance_queries`]' answers (requests by instance and
/// code, p99 by instance, lowest `up` by instance, `up` at the window's end by instance: `None`
/// when not asked) and [`instance_error_ratio_query`]'s series, over a window of `seconds`.
/// An instance seen in the window but without an `up` at its end left the scrape targets. `focus` (the alert's instance) comes first, then the
/// instances by 5xx ratio, highest first.
pub fn instances(
    requests: &[InstantSample],
    p99: &[InstantSample],
    up: &[InstantSample],
    up_at_end: Option<&[InstantSample]>,
    error_series: Vec<RangeSeries>,
    seconds: f64,
    focus: Option<&str>,
) -> Vec<ApiServerInstance> {
    let per = if seconds > 0.0 { seconds } else { 1.0 };
    let mut by: BTreeMap<String, ApiServerInstance> = BTreeMap::new();
    let entry = |by: &mut BTreeMap<String, ApiServerInstance>, i: &str| {
        by.entry(i.to_string())
            .or_insert_with(|| ApiServerInstance {
                instance: i.to_string(),
                ..Default::default()
            })
            .instance
            .clone()
    };
    let mut totals: BTreeMap<String, (f64, f64, f64)> = BTreeMap::new();
    for x in requests {
        let i = label(x, "instance");
        entry(&mut by, &i);
        let code = label(x, "code");
        let t = totals.entry(i).or_default();
        t.0 += x.value;
        if code.starts_with('5') {
            t.1 += x.value;
        }
        if code == "429" {
            t.2 += x.value;
        }
    }
    for (i, (total, r5, r429)) in totals {
        if let Some(e) = by.get_mut(&i) {
            e.requests_per_second = total / per;
            if total > 0.0 {
                e.ratio_5xx = r5 / total;
                e.ratio_429 = r429 / total;
            }
        }
    }
    for x in p99.iter().filter(|x| x.value.is_finite()) {
        let i = entry(&mut by, &label(x, "instance"));
        if let Some(e) = by.get_mut(&i) {
            e.p99_seconds = Some(x.value);
        }
    }
    for x in up {
        let i = entry(&mut by, &label(x, "instance"));
        if let Some(e) = by.get_mut(&i) {
            e.lowest_up = Some(x.value);
        }
    }
    for s in error_series {
        let i = entry(&mut by, s.labels.get("instance").map_or("", String::as_str));
        if let Some(e) = by.get_mut(&i) {
            e.error_ratio_series = s.points.into_iter().filter(|(_, v)| !v.is_nan()).collect();
        }
    }
    let scraped: Option<std::collections::BTreeSet<String>> =
        up_at_end.map(|u| u.iter().map(|x| label(x, "instance")).collect());
    let mut out: Vec<ApiServerInstance> = by.into_values().collect();
    for e in &mut out {
        e.alerted = focus.is_some_and(|f| f == e.instance);
        e.scraped_at_end = scraped.as_ref().map(|s| s.contains(&e.instance));
    }
    out.sort_by(|a, b| {
        b.alerted
            .cmp(&a.alerted)
            .then(b.ratio_5xx.total_cmp(&a.ratio_5xx))
            .then(a.instance.cmp(&b.instance))
    });
    out
}

/// The range queries of step 7, with what each measures (`r` is the step as `60s`: each point
/// is the rate over the step before it, so the windows tile and Prometheus reads each sample
/// once), unscoped (the first version: `up` and process start of the usual job names).
pub fn range_queries(r: &str) -> Vec<(ServerMeasure, String)> {
    let jobs = crate::prometheus::Matchers::none();
    let up = format!("job=~\"{APISERVER_JOBS}\"");
    scoped_range_queries(r, &jobs, &up, None)
}

/// The range queries of step 7, every selector scoped by `m` (the API server's job and the
/// cluster). `up_extra` is put on the `up` and process selectors besides `m` (the first
/// version's job regex; empty when `m` holds the job). `sli_rule`: kube-prometheus-stack's
/// SLI quantile rule exists (for this job and cluster): the p99 series reads it (a few series
/// per cluster, 5-minute windows) instead of every latency bucket.
pub fn scoped_range_queries(
    r: &str,
    m: &crate::prometheus::Matchers,
    up_extra: &str,
    sli_rule: Option<&crate::prometheus::Matchers>,
) -> Vec<(ServerMeasure, String)> {
    let sel = |metric: &str, extra: &[&str]| m.selector(metric, extra);
    let up_sel = |metric: &str| {
        if up_extra.is_empty() {
            m.selector(metric, &[])
        } else {
            m.selector(metric, &[up_extra])
        }
    };
    let p99 = match sli_rule {
        Some(rm) => format!(
            "max({})",
            rm.selector(SLI_QUANTILE_RULE, &["quantile=\"0.99\""])
        ),
        None => format!(
            "histogram_quantile(0.99, sum by (le) (rate({}[{r}])))",
            sel(
                "apiserver_request_duration_seconds_bucket",
                &["verb!~\"WATCH|CONNECT\""]
            )
        ),
    };
    vec![
        (ServerMeasure::RequestP99Seconds, p99),
        (
            ServerMeasure::EtcdP99Seconds,
            format!(
                "histogram_quantile(0.99, sum by (le) (rate({}[{r}])))",
                sel("etcd_request_duration_seconds_bucket", &[])
            ),
        ),
        (
            ServerMeasure::ServerErrorRatio,
            format!(
                "sum(rate({}[{r}])) / sum(rate({}[{r}]))",
                sel("apiserver_request_total", &["code=~\"5..\""]),
                sel("apiserver_request_total", &[])
            ),
        ),
        (
            ServerMeasure::ApfRejectedPerSecond,
            format!(
                "sum by (flow_schema, priority_level) (rate({}[{r}]))",
                sel("apiserver_flowcontrol_rejected_requests_total", &[])
            ),
        ),
        (
            ServerMeasure::WebhookErrorsPerSecond,
            format!(
                "sum by (name) (rate({}[{r}]))",
                sel(
                    "apiserver_admission_webhook_rejection_count",
                    &["error_type=\"calling_webhook_error\""]
                )
            ),
        ),
        // Any failed scrape within each step, not only the one at the point's instant.
        (
            ServerMeasure::ApiServerUp,
            format!("min(min_over_time({}[{r}]))", up_sel("up")),
        ),
        (
            ServerMeasure::ProcessStartSeconds,
            format!(
                "max by (instance) ({})",
                up_sel("process_start_time_seconds")
            ),
        ),
    ]
}

/// The grid the series are asked on: a point per step of at least a minute (server trouble is
/// correlated in minutes), whole seconds so windows tile, ending exactly at the window's end
/// (a range starting at `from` would end up to a step before `to` and miss a fault that just
/// began). Returns (start, step).
pub fn series_grid(window: &Window) -> (Timestamp, Duration) {
    let step_secs = (window.series_step().as_secs_f64().ceil() as i64).max(60);
    let points = (window.seconds().max(1.0) / step_secs as f64).ceil() as i64;
    let from = window
        .to
        .checked_sub(SignedDuration::from_secs(points * step_secs))
        .unwrap_or(Timestamp::MIN);
    (from, Duration::from_secs(step_secs as u64))
}

/// The window's length as a PromQL duration, at least a minute.
pub fn promql_duration(window: &Window) -> String {
    format!("{}s", window.seconds().max(60.0).round() as i64)
}

/// What step 7 read, as labelled values, from either source: Prometheus' instant answers
/// (increases and rates over the window) or one scrape (cumulative since the API server
/// started).
#[derive(Debug, Clone, Default)]
pub struct ServerSamples {
    /// `apiserver_request_total` by `code`.
    pub requests: Vec<InstantSample>,
    /// `apiserver_request_duration_seconds_bucket` by `verb`, `le` (no WATCH or CONNECT).
    pub request_buckets: Vec<InstantSample>,
    /// `apiserver_current_inflight_requests` by `request_kind`.
    pub inflight: Vec<InstantSample>,
    /// `apiserver_flowcontrol_rejected_requests_total` by `flow_schema`, `priority_level`,
    /// `reason`.
    pub apf_rejected: Vec<InstantSample>,
    /// `apiserver_flowcontrol_current_inqueue_requests` by `flow_schema`, `priority_level`.
    pub apf_inqueue: Vec<InstantSample>,
    /// `apiserver_admission_webhook_rejection_count` by `name`, `type`, `error_type`.
    pub webhook_rejections: Vec<InstantSample>,
    /// `apiserver_admission_webhook_admission_duration_seconds_bucket` by `name`, `type`, `le`.
    pub webhook_buckets: Vec<InstantSample>,
    /// etcd p99 latency in seconds by `operation` and `resource` (or `type` before Kubernetes
    /// 1.31): from Prometheus' `histogram_quantile`, or from a scrape's buckets through
    /// [`bucket_quantiles`], which interpolates as it does.
    pub etcd_p99: Vec<InstantSample>,
}

/// The metric names a scrape needs.
pub const SCRAPED_METRICS: [&str; 8] = [
    "apiserver_request_total",
    "apiserver_request_duration_seconds_bucket",
    "apiserver_current_inflight_requests",
    "apiserver_flowcontrol_rejected_requests_total",
    "apiserver_flowcontrol_current_inqueue_requests",
    "apiserver_admission_webhook_rejection_count",
    "apiserver_admission_webhook_admission_duration_seconds_bucket",
    "etcd_request_duration_seconds_bucket",
];

/// One scrape's samples, sorted into [`ServerSamples`].
pub fn samples_from_scrape(samples: Vec<Sample>) -> ServerSamples {
    let mut out = ServerSamples::default();
    let mut etcd_buckets = Vec::new();
    for s in samples {
        let target = match s.name.as_str() {
            "apiserver_request_total" => &mut out.requests,
            "apiserver_request_duration_seconds_bucket" => {
                if matches!(
                    s.labels.get("verb").map(String::as_str),
                    Some("WATCH" | "CONNECT")
                ) {
                    continue;
                }
                &mut out.request_buckets
            }
            "apiserver_current_inflight_requests" => &mut out.inflight,
            "apiserver_flowcontrol_rejected_requests_total" => &mut out.apf_rejected,
            "apiserver_flowcontrol_current_inqueue_requests" => &mut out.apf_inqueue,
            "apiserver_admission_webhook_rejection_count" => &mut out.webhook_rejections,
            "apiserver_admission_webhook_admission_duration_seconds_bucket" => {
                &mut out.webhook_buckets
            }
            "etcd_request_duration_seconds_bucket" => &mut etcd_buckets,
            _ => continue,
        };
        target.push(InstantSample {
            labels: s.labels,
            value: s.value,
        });
    }
    out.etcd_p99 = bucket_quantiles(etcd_buckets.iter().map(|x| {
        (
            vec![label(x, "operation"), object_type(x)],
            label(x, "le"),
            x.value,
        )
    }))
    .into_iter()
    .filter_map(|(key, _, p99)| {
        Some(InstantSample {
            labels: [("operation", &key[0]), ("resource", &key[1])]
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value: p99?,
        })
    })
    .collect();
    out
}

/// The object type of an etcd sample: `resource` since Kubernetes 1.31, `type` before.
fn object_type(x: &InstantSample) -> String {
    x.labels
        .get("resource")
        .or_else(|| x.labels.get("type"))
        .cloned()
        .unwrap_or_default()
}

fn label(s: &InstantSample, k: &str) -> String {
    s.labels.get(k).cloned().unwrap_or_default()
}

/// The one aggregation of step 7's samples. `seconds` is the window's length when the samples
/// are increases over it (Prometheus): request classes are then per second; `None` when they
/// are cumulative (a scrape): request classes are counts since the API server started.
pub fn aggregate(
    s: &ServerSamples,
    seconds: Option<f64>,
    source: RateSource,
    series: Vec<ServerSeries>,
    notes: Vec<String>,
) -> ServerMetrics {
    let per = seconds.filter(|x| *x > 0.0).unwrap_or(1.0);
    let mut requests_by_class: BTreeMap<String, f64> = BTreeMap::new();
    let (mut total, mut r5xx, mut r429) = (0.0, 0.0, 0.0);
    for x in &s.requests {
        let code = label(x, "code");
        let class = format!("{}xx", code.chars().next().unwrap_or('?'));
        *requests_by_class.entry(class).or_default() += x.value / per;
        total += x.value;
        if code.starts_with('5') {
            r5xx += x.value;
        }
        if code == "429" {
            r429 += x.value;
        }
    }
    let ratio = |x: f64| if total > 0.0 { x / total } else { 0.0 };

    let latency = bucket_quantiles(
        s.request_buckets
            .iter()
            .map(|x| (vec![label(x, "verb")], label(x, "le"), x.value)),
    )
    .into_iter()
    .map(|(mut key, p50, p99)| LatencyQuantiles {
        verb: key.remove(0),
        p50,
        p99,
    })
    .collect();

    let mut inflight: BTreeMap<String, f64> = BTreeMap::new();
    for x in &s.inflight {
        *inflight.entry(label(x, "request_kind")).or_default() += x.value;
    }

    let mut apf: BTreeMap<(String, String), ApfStat> = BTreeMap::new();
    for x in s.apf_rejected.iter().filter(|x| x.value > 0.0) {
        let key = (label(x, "flow_schema"), label(x, "priority_level"));
        let e = apf.entry(key.clone()).or_insert(ApfStat {
            flow_schema: key.0,
            priority_level: key.1,
            rejected: 0.0,
            reasons: BTreeMap::new(),
            in_queue: 0.0,
        });
        e.rejected += x.value;
        *e.reasons.entry(label(x, "reason")).or_default() += x.value;
    }
    for x in &s.apf_inqueue {
        let key = (label(x, "flow_schema"), label(x, "priority_level"));
        if let Some(e) = apf.get_mut(&key) {
            e.in_queue += x.value;
        }
    }

    let mut webhooks: BTreeMap<(String, String), WebhookStat> = BTreeMap::new();
    let mut hook = |name: String, kind: String| -> (String, String) {
        let key = (name, kind);
        webhooks.entry(key.clone()).or_insert(WebhookStat {
            name: key.0.clone(),
            kind: key.1.clone(),
            rejections: 0.0,
            errors: 0.0,
            p99_seconds: None,
        });
        key
    };
    let mut rejections = Vec::new();
    for x in &s.webhook_rejections {
        let key = hook(label(x, "name"), label(x, "type"));
        rejections.push((
            key,
            x.value,
            label(x, "error_type") == "calling_webhook_error",
        ));
    }
    let quantiles = bucket_quantiles(s.webhook_buckets.iter().map(|x| {
        (
            vec![label(x, "name"), label(x, "type")],
            label(x, "le"),
            x.value,
        )
    }));
    let mut latencies = Vec::new();
    for (key, _, p99) in quantiles {
        let key = hook(key[0].clone(), key[1].clone());
        latencies.push((key, p99));
    }
    for (key, v, calling) in rejections {
        if let Some(e) = webhooks.get_mut(&key) {
            e.rejections += v;
            if calling {
                e.errors += v;
            }
        }
    }
    for (key, p99) in latencies {
        if let Some(e) = webhooks.get_mut(&key) {
            e.p99_seconds = p99;
        }
    }

    let mut etcd: Vec<EtcdStat> = s
        .etcd_p99
        .iter()
        .filter(|x| x.value.is_finite())
        .map(|x| EtcdStat {
            operation: label(x, "operation"),
            object_type: object_type(x),
            p99_seconds: Some(x.value),
        })
        .collect();
    etcd.sort_by(|a, b| {
        b.p99_seconds
            .unwrap_or(0.0)
            .total_cmp(&a.p99_seconds.unwrap_or(0.0))
            .then(a.operation.cmp(&b.operation))
            .then(a.object_type.cmp(&b.object_type))
    });
    etcd.truncate(ETCD_TOP);

    ServerMetrics {
        source,
        requests_by_class,
        ratio_5xx: ratio(r5xx),
        ratio_429: ratio(r429),
        latency,
        inflight,
        apf: apf.into_values().collect(),
        webhooks: webhooks
            .into_values()
            .filter(|w| w.rejections > 0.0 || w.p99_seconds.is_some())
            .collect(),
        etcd,
        series,
        recorded_signals: None,
        callees: Callees::default(),
        notes,
        apiserver_series: None,
    }
}

/// Range answers as server series of one measure (the labels that tell series apart kept).
pub fn series_of(measure: ServerMeasure, answer: Vec<RangeSeries>) -> Vec<ServerSeries> {
    answer
        .into_iter()
        .map(|s| ServerSeries {
            measure,
            labels: s.labels,
            points: s.points.into_iter().filter(|(_, v)| !v.is_nan()).collect(),
        })
        .collect()
}

/// p50 and p99 per key from `(key, le, cumulative count or rate)` triples, summed per key and
/// bucket bound and interpolated as Prometheus's `histogram_quantile` does. No traffic gives
/// `None`, as Prometheus answers NaN.
pub fn bucket_quantiles(
    triples: impl Iterator<Item = (Vec<String>, String, f64)>,
) -> Vec<(Vec<String>, Option<f64>, Option<f64>)> {
    let mut buckets: BTreeMap<Vec<String>, BTreeMap<String, f64>> = BTreeMap::new();
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

fn rules(rules: Option<&[RuleWithOperations]>) -> Vec<String> {
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

/// What the API server dials for a webhook: its URL or service, and the `host` label its
/// client metrics carry for it (`host:port`; `name.namespace.svc:port` for services).
fn client(cc: &WebhookClientConfig) -> (String, Option<String>) {
    match (&cc.url, &cc.service) {
        (Some(raw), _) => {
            let host = url::Url::parse(raw).ok().and_then(|u| {
                let h = u.host_str()?.to_string();
                Some(format!("{h}:{}", u.port_or_known_default().unwrap_or(443)))
            });
            (crate::escape::one_line(raw, 300), host)
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
    }
}

/// The Service a webhook calls.
fn service_ref(cc: &WebhookClientConfig) -> Option<ServiceRef> {
    let s = cc.service.as_ref()?;
    Some(ServiceRef {
        namespace: s.namespace.clone(),
        name: s.name.clone(),
        port: s.port.and_then(|p| u16::try_from(p).ok()).unwrap_or(443),
        path: s.path.clone(),
    })
}

/// A webhook's selectors as terms (`ns:key=value`, `ns:key In (a,b)`, `obj:...`).
fn selectors(
    ns: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
    obj: Option<&k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (what, sel) in [("namespace", ns), ("object", obj)] {
        let Some(sel) = sel else { continue };
        for (k, v) in sel.match_labels.iter().flatten() {
            out.push(format!("{what}: {k}={v}"));
        }
        for e in sel.match_expressions.iter().flatten() {
            out.push(format!(
                "{what}: {} {} ({})",
                e.key,
                e.operator,
                e.values.clone().unwrap_or_default().join(",")
            ));
        }
    }
    out
}

/// The Service an APIService is served by.
pub fn api_service_ref(a: &APIService) -> Option<ServiceRef> {
    let svc = a.spec.as_ref()?.service.as_ref()?;
    Some(ServiceRef {
        namespace: svc.namespace.clone()?,
        name: svc.name.clone()?,
        port: svc.port.and_then(|p| u16::try_from(p).ok()).unwrap_or(443),
        path: None,
    })
}

macro_rules! webhook_configs {
    ($name:ident, $ty:ty, $kind:literal) => {
        /// The webhooks of one configuration, as [`WebhookConfig`]s.
        pub fn $name(cfg: &$ty) -> Vec<WebhookConfig> {
            let name = cfg.metadata.name.clone().unwrap_or_default();
            let created = cfg.metadata.creation_timestamp.as_ref().map(|t| t.0);
            cfg.webhooks
                .iter()
                .flatten()
                .map(|w| {
                    let (client, host) = client(&w.client_config);
                    WebhookConfig {
                        configuration: name.clone(),
                        kind: $kind.to_string(),
                        webhook: w.name.clone(),
                        client,
                        host,
                        timeout_seconds: w.timeout_seconds,
                        failure_policy: w.failure_policy.clone(),
                        created_at: created,
                        rules: rules(w.rules.as_deref()),
                        service: service_ref(&w.client_config),
                        ca_bundle: w
                            .client_config
                            .ca_bundle
                            .as_ref()
                            .and_then(|b| {
                                crate::credentials::certificates_from_pem(&b.0, None).ok()
                            })
                            .and_then(|v| v.into_iter().next()),
                        selectors: selectors(
                            w.namespace_selector.as_ref(),
                            w.object_selector.as_ref(),
                        ),
                    }
                })
                .collect()
        }
    };
}

// Validating and mutating configurations are two k8s-openapi types with the same fields.
webhook_configs!(
    validating_webhooks,
    ValidatingWebhookConfiguration,
    "validating"
);
webhook_configs!(mutating_webhooks, MutatingWebhookConfiguration, "mutating");

/// An APIService served by another server (`None` for the ones the API server serves itself).
pub fn api_service(a: &APIService) -> Option<ApiServiceInfo> {
    let svc = a.spec.as_ref()?.service.as_ref()?;
    let available = a
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == "Available"));
    Some(ApiServiceInfo {
        name: a.metadata.name.clone().unwrap_or_default(),
        service: Some(format!(
            "{}/{}",
            svc.namespace.clone().unwrap_or_default(),
            svc.name.clone().unwrap_or_default()
        )),
        available: available.is_some_and(|c| c.status == "True"),
        reason: available.and_then(|c| c.reason.clone()),
        message: available.and_then(|c| c.message.clone()),
        changed_at: available.and_then(|c| c.last_transition_time.as_ref().map(|t| t.0)),
    })
}

/// The step's note: what was read, not what it means.
pub fn note(m: &ServerMetrics) -> String {
    use super::count;
    format!(
        "{}, {} rejecting, {}, {} ({} not available)",
        count(m.series.len(), "series", "series"),
        count(m.apf.len(), "APF flow", "APF flows"),
        count(m.callees.webhooks.len(), "webhook", "webhooks"),
        count(m.callees.api_services.len(), "APIService", "APIServices"),
        m.callees
            .api_services
            .iter()
            .filter(|a| !a.available)
            .count()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::{fixture, fixture_items};

    fn key(k: &str) -> Vec<String> {
        vec![k.to_string()]
    }

    /// Buckets of one key arrive as several series (one per `le`, and per label summed away);
    /// they are summed per bound and interpolated like Prometheus's `histogram_quantile`.
    #[test]
    fn bucket_quantiles_sum_per_key_and_interpolate() {
        let t = |k: &str, le: &str, v: f64| (key(k), le.to_string(), v);
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
        assert_eq!(verb, &key("GET"));
        assert!((p50.unwrap() - 0.0625).abs() < 1e-9, "{p50:?}");
        assert!(
            (p99.unwrap() - (0.1 + 0.9 * 19.0 / 20.0)).abs() < 1e-9,
            "{p99:?}"
        );
        assert_eq!(q[1], (key("LIST"), None, None));
    }

    /// The same aggregation for a scrape: the lab API server's /metrics during apf-throttle.
    #[test]
    fn a_recorded_scrape_aggregates() {
        let text = String::from_utf8(fixture("apiserver-metrics-apf-throttle.txt")).unwrap();
        let samples = exposition::parse(&text, |n| SCRAPED_METRICS.contains(&n)).unwrap();
        let s = samples_from_scrape(samples);
        assert!(
            s.request_buckets
                .iter()
                .all(|x| x.labels["verb"] != "WATCH")
        );
        let m = aggregate(
            &s,
            None,
            RateSource::Scrape {
                interval_seconds: 0.0,
            },
            Vec::new(),
            Vec::new(),
        );
        assert!(m.requests_by_class.get("2xx").is_some_and(|n| *n > 0.0));
        assert!(
            m.apf
                .iter()
                .any(|a| a.flow_schema == "lab-squeeze-demo-clientgo" && a.rejected > 0.0),
            "{:?}",
            m.apf
        );
        assert!(
            m.latency
                .iter()
                .any(|l| l.verb == "LIST" && l.p99.is_some())
        );
        assert!(m.etcd.len() <= ETCD_TOP && !m.etcd.is_empty());
        assert!(
            m.etcd.iter().all(|e| !e.object_type.is_empty()),
            "{:?}",
            m.etcd
        );
        assert!(m.ratio_429 > 0.0, "the jail answers 429");
    }

    /// And for Prometheus: recorded instant answers of the same queries.
    #[test]
    fn recorded_prometheus_answers_aggregate() {
        let parse = |name: &str| crate::prometheus::parse_instant(200, &fixture(name)).unwrap();
        let s = ServerSamples {
            requests: parse("prom-apiserver-requests-by-code.json"),
            request_buckets: parse("prom-apiserver-request-buckets.json"),
            etcd_p99: parse("prom-etcd-p99.json"),
            ..Default::default()
        };
        let m = aggregate(
            &s,
            Some(900.0),
            RateSource::Prometheus {
                url: "http://p".into(),
            },
            Vec::new(),
            Vec::new(),
        );
        let total: f64 = m.requests_by_class.values().sum();
        assert!(total > 0.0 && total < 1000.0, "per second: {total}");
        assert!(!m.latency.is_empty());
        assert!(
            m.etcd
                .windows(2)
                .all(|w| w[0].p99_seconds >= w[1].p99_seconds)
        );
    }

    #[test]
    fn the_grid_ends_at_the_window_end() {
        let to: Timestamp = "2026-11-01T10:00:30Z".parse().unwrap();
        let w = Window::ending_at(to, Duration::from_secs(15 * 60));
        let (from, step) = series_grid(&w);
        assert_eq!(step, Duration::from_secs(60));
        assert_eq!(to.duration_since(from).as_secs() % 60, 0);
        assert!(from <= w.from);
        assert_eq!(promql_duration(&w), "900s");
        let short = Window::ending_at(to, Duration::from_secs(20));
        assert_eq!(promql_duration(&short), "60s");
    }

    #[test]
    fn recorded_webhook_configurations_name_their_hosts() {
        let cfgs: Vec<ValidatingWebhookConfiguration> =
            fixture_items("validatingwebhookconfigurations.json");
        let hooks: Vec<WebhookConfig> = cfgs.iter().flat_map(validating_webhooks).collect();
        assert!(!hooks.is_empty());
        for h in &hooks {
            assert_eq!(h.kind, "validating");
            assert!(h.host.as_deref().is_some_and(|x| x.contains(':')), "{h:?}");
        }
        let svc: ValidatingWebhookConfiguration = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "cfg"},
            "webhooks": [{"name": "w.example.com", "admissionReviewVersions": ["v1"], "sideEffects": "None",
                "clientConfig": {"service": {"namespace": "ns", "name": "svc", "port": 8443, "path": "/validate"}},
                "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["configmaps"]}]}]
        }))
        .unwrap();
        let h = &validating_webhooks(&svc)[0];
        assert_eq!(h.host.as_deref(), Some("svc.ns.svc:8443"));
        assert_eq!(
            h.service.as_ref().map(|s| s.dns_name()),
            Some("svc.ns.svc".to_string())
        );
        assert_eq!(h.service.as_ref().map(|s| s.port), Some(8443));
        assert_eq!(h.client, "ns/svc:8443/validate");
        assert_eq!(h.rules, vec!["CREATE configmaps"]);
    }

    #[test]
    fn api_services_served_elsewhere_are_kept() {
        let list: Vec<APIService> = fixture_items("apiservices.json");
        // The lab serves every APIService itself: none is kept.
        assert!(list.iter().filter_map(api_service).count() == 0);
        let a: APIService = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"group": "metrics.k8s.io", "version": "v1beta1", "groupPriorityMinimum": 100, "versionPriority": 100,
                     "service": {"namespace": "kube-system", "name": "metrics-server"}},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints",
                "message": "endpoints for service/metrics-server in \"kube-system\" have no addresses",
                "lastTransitionTime": "2026-11-01T10:00:00Z"}]}
        }))
        .unwrap();
        let info = api_service(&a).unwrap();
        assert!(!info.available);
        assert_eq!(info.service.as_deref(), Some("kube-system/metrics-server"));
        assert_eq!(info.reason.as_deref(), Some("MissingEndpoints"));
    }

    fn sample(labels: &[(&str, &str)], value: f64) -> InstantSample {
        InstantSample {
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            value,
        }
    }

    /// The job with the API server's own traffic wins over aggregated API servers; a job whose
    /// targets are the kubernetes Service's endpoints wins over traffic; none is none.
    #[test]
    fn the_apiserver_job_is_found_in_the_data() {
        let traffic = vec![
            sample(&[("job", "apiserver")], 90_000.0),
            sample(&[("job", "metrics-server")], 300.0),
            sample(&[("job", "kube-apiserver")], 100.0),
        ];
        assert_eq!(
            detect_apiserver_job(&traffic, &[]),
            Some(("apiserver".to_string(), JobChoice::Traffic { of: 3 }))
        );
        assert_eq!(
            detect_apiserver_job(&traffic, &["kube-apiserver".to_string()]),
            Some(("kube-apiserver".to_string(), JobChoice::Endpoints))
        );
        assert_eq!(detect_apiserver_job(&[], &["apiserver".to_string()]), None);
        assert_eq!(
            JobChoice::Traffic { of: 3 }.to_string(),
            "the most apiserver_request_total traffic of 3 jobs exporting it"
        );
        let m = crate::prometheus::Matchers::none().eq("cluster", "a");
        assert_eq!(
            jobs_query(&m, "900s", "cluster"),
            "sum by (job, cluster) (increase(apiserver_request_total{cluster=\"a\"}[900s]))"
        );
        assert_eq!(
            endpoint_jobs_query(&m, &["10.0.0.1:6443".to_string()]).unwrap(),
            "count by (job) (up{cluster=\"a\", instance=~\"10\\\\.0\\\\.0\\\\.1:6443\"})"
        );
        assert_eq!(endpoint_jobs_query(&m, &[]), None);
    }

    #[test]
    fn scoped_queries_carry_the_job_and_cluster_everywhere() {
        let m = crate::prometheus::Matchers::none()
            .eq("cluster", "a")
            .eq("job", "apiserver");
        let q = InstantQueries::scoped("900s", &m);
        for query in [
            &q.requests,
            &q.request_buckets,
            &q.inflight,
            &q.apf_rejected,
            &q.apf_inqueue,
            &q.webhook_rejections,
            &q.webhook_buckets,
            &q.etcd_p99,
        ] {
            assert!(
                query.contains("{cluster=\"a\", job=\"apiserver\""),
                "{query}"
            );
        }
        for (_, query) in scoped_range_queries("60s", &m, "", None) {
            assert!(
                query.contains("cluster=\"a\", job=\"apiserver\""),
                "{query}"
            );
        }
        // The unscoped form is the first version's, job regex on up.
        assert_eq!(
            InstantQueries::new("900s").requests,
            "sum by (code) (increase(apiserver_request_total[900s]))"
        );
        assert!(
            range_queries("60s")
                .iter()
                .any(|(m, q)| *m == ServerMeasure::ApiServerUp
                    && q == &format!("min(min_over_time(up{{job=~\"{APISERVER_JOBS}\"}}[60s]))"))
        );
        // With kube-prometheus-stack's SLI rule the p99 series reads it.
        let c = crate::prometheus::Matchers::none().eq("cluster", "a");
        let with_rule = scoped_range_queries("60s", &m, "", Some(&c));
        assert_eq!(
            with_rule[0].1,
            format!("max({SLI_QUANTILE_RULE}{{cluster=\"a\", quantile=\"0.99\"}})")
        );
        assert_eq!(
            recording_rules_query(&c),
            format!(
                "count by (__name__) ({{cluster=\"a\", __name__=~\"{SLI_QUANTILE_RULE}|{CODE_RESOURCE_RULE}\"}})"
            )
        );
    }

    /// The alert's instance first, then the worst; ratios and rates per instance.
    #[test]
    fn instances_put_the_alerts_first() {
        let requests = vec![
            sample(&[("instance", "a:6443"), ("code", "200")], 900.0),
            sample(&[("instance", "b:6443"), ("code", "200")], 800.0),
            sample(&[("instance", "b:6443"), ("code", "500")], 200.0),
            sample(&[("instance", "c:6443"), ("code", "200")], 990.0),
            sample(&[("instance", "c:6443"), ("code", "429")], 10.0),
        ];
        let p99 = vec![sample(&[("instance", "b:6443")], 1.5)];
        let up = vec![sample(&[("instance", "c:6443")], 0.0)];
        let up_at_end = vec![
            sample(&[("instance", "b:6443")], 1.0),
            sample(&[("instance", "c:6443")], 1.0),
        ];
        let v = instances(
            &requests,
            &p99,
            &up,
            Some(&up_at_end),
            Vec::new(),
            100.0,
            Some("c:6443"),
        );
        let order: Vec<&str> = v.iter().map(|i| i.instance.as_str()).collect();
        assert_eq!(order, vec!["c:6443", "b:6443", "a:6443"]);
        assert!(v[0].alerted && !v[1].alerted);
        assert_eq!(v[0].lowest_up, Some(0.0));
        // a:6443 served in the window and has no `up` at its end: it left the targets.
        assert_eq!(
            v.iter().map(|i| i.scraped_at_end).collect::<Vec<_>>(),
            vec![Some(true), Some(true), Some(false)]
        );
        assert!((v[0].ratio_429 - 0.01).abs() < 1e-9);
        assert!((v[1].ratio_5xx - 0.2).abs() < 1e-9);
        assert_eq!(v[1].requests_per_second, 10.0);
        assert_eq!(v[1].p99_seconds, Some(1.5));
    }

    /// Recorded answers about three real API servers under each stack's job name
    /// (`tests/fixtures/prometheus/`, recorded by `lab/record-prometheus-fixtures`; see its
    /// README): the job is found from the traffic (beside an aggregated API server's smaller
    /// traffic) and from the `up` targets that are the kubernetes Service's endpoints; the
    /// per-instance view holds the three, the alert's first.
    #[test]
    fn recorded_answers_under_every_known_job_name() {
        let root =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/prometheus");
        let read = |stack: &str, file: &str| -> Vec<u8> {
            std::fs::read(root.join(stack).join(file))
                .unwrap_or_else(|e| panic!("{stack}/{file}: {e}"))
        };
        let stacks = [
            ("kube-prometheus-stack", "apiserver"),
            ("openshift", "apiserver"),
            ("prometheus-chart", "kubernetes-apiservers"),
            ("prometheus-chart-28", "kubernetes-api-servers"),
            ("aks-managed", "controlplane-apiserver"),
            (
                "grafana-k8s-monitoring",
                "integrations/kubernetes/kube-apiserver",
            ),
            ("k3s", "k3s-server"),
            ("kubernetes-mixin", "kube-apiserver"),
        ];
        for (stack, job) in stacks {
            assert!(
                KNOWN_APISERVER_JOBS.contains(&job),
                "{job} is a known job name"
            );
            let up = crate::prometheus::parse_instant(200, &read(stack, "up.json")).unwrap();
            let endpoints: Vec<String> = sample_label_values(&up, "instance");
            assert_eq!(endpoints.len(), 3, "{stack}: three API servers");
            // Requests per job and per instance and code over the recorded window, from the
            // per-second rates (each point covers one step).
            let rates = crate::prometheus::parse_range(
                200,
                &read(stack, "apiserver_request_rate_range.json"),
            )
            .unwrap();
            let step = 15.0;
            let mut by_job: BTreeMap<String, f64> = BTreeMap::new();
            let mut requests = Vec::new();
            for r in &rates {
                let n: f64 = r.points.iter().map(|(_, v)| v * step).sum();
                *by_job.entry(r.labels["job"].clone()).or_default() += n;
                requests.push(sample(
                    &[
                        ("instance", &r.labels["instance"]),
                        ("code", &r.labels["code"]),
                    ],
                    n,
                ));
            }
            let mut traffic: Vec<InstantSample> = by_job
                .iter()
                .map(|(j, n)| sample(&[("job", j)], *n))
                .collect();
            let total: f64 = by_job.values().sum();
            traffic.push(sample(&[("job", "metrics-server")], total / 50.0));
            assert_eq!(
                detect_apiserver_job(&traffic, &[]),
                Some((job.to_string(), JobChoice::Traffic { of: 2 })),
                "{stack}"
            );
            let on_endpoints: Vec<InstantSample> = up
                .iter()
                .filter(|s| endpoints.contains(&s.labels["instance"]))
                .cloned()
                .collect();
            assert_eq!(
                detect_apiserver_job(&traffic, &sample_label_values(&on_endpoints, "job")),
                Some((job.to_string(), JobChoice::Endpoints)),
                "{stack}"
            );
            let p99: Vec<InstantSample> = crate::prometheus::parse_range(
                200,
                &read(stack, "apiserver_request_p99_range.json"),
            )
            .unwrap()
            .into_iter()
            .filter_map(|r| {
                let v = r.points.iter().rev().find(|(_, v)| v.is_finite())?.1;
                Some(InstantSample {
                    labels: r.labels,
                    value: v,
                })
            })
            .collect();
            let focus = endpoints[1].clone();
            let view = instances(&requests, &p99, &up, None, Vec::new(), 300.0, Some(&focus));
            assert_eq!(view.len(), 3, "{stack}: {view:?}");
            assert_eq!(
                view[0].instance, focus,
                "{stack}: the alert's instance first"
            );
            assert!(view[0].alerted && view.iter().filter(|i| i.alerted).count() == 1);
            for i in &view {
                assert!(
                    i.requests_per_second > 0.0,
                    "{stack} {}: traffic",
                    i.instance
                );
                assert_eq!(i.lowest_up, Some(1.0), "{stack} {}", i.instance);
            }
        }
    }
}
