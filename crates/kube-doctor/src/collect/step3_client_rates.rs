//! Playbook step 3: client error rates. Which API clients exceed the threshold, since when,
//! steadily or now and then, and who they are in the cluster.
//!
//! Sources, in order of preference: Prometheus (`rest_client_requests_total` as a range query
//! over the window); without it, repeated scrapes of the API server's /metrics and of client
//! pods' /metrics (through the API server's pod proxy, directly to the pod IP if the proxy is
//! refused); and the audit log when given (the only source that names users). The arithmetic
//! is `kube_doctor_core::clients`; this file fetches and attributes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{Callees, ClientRates, ClientsEvidence, RateSource, Target, Window};
use kube_doctor_core::clients::{self, Analysis, CounterSeries, audit, callee, exposition};

use super::{Collector, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

const METRIC: &str = "rest_client_requests_total";

/// Resolution of the rate series: about 120 points over the window, never finer than 5 s.
pub fn series_step(window: &Window) -> Duration {
    let secs = (window.to - window.from)
        .total(jiff::Unit::Second)
        .unwrap_or(900.0);
    Duration::from_secs_f64((secs / 120.0).max(5.0))
}

pub async fn collect(
    c: &Collector,
    ctx: Arc<StepCtx>,
) -> Result<StepEnd<ClientsEvidence>, StepError> {
    let mut notes = Vec::new();
    let step = series_step(&c.window);
    let mut evidence = None;
    if let Some(prom) = &c.prometheus {
        match prometheus_series(c, &ctx, prom, step).await {
            Ok(series) => {
                let analysis = Analysis {
                    window: c.window,
                    threshold: c.threshold,
                    min_intervals: 3,
                };
                evidence = Some(ClientsEvidence {
                    source: RateSource::Prometheus {
                        url: prom.url().to_string(),
                    },
                    threshold: c.threshold,
                    step_seconds: step.as_secs_f64(),
                    clients: clients::analyze(&series, &analysis),
                    notes: Vec::new(),
                });
            }
            Err(e) => notes.push(format!("{e}; scraping /metrics instead")),
        }
    }
    let mut evidence = match evidence {
        Some(e) => e,
        None => scrape(c, &ctx, &mut notes).await?,
    };
    if let Some(path) = &c.audit_log {
        match read_audit(c, path, step) {
            Ok((mut from_audit, note)) => {
                evidence.clients.append(&mut from_audit);
                notes.extend(note);
            }
            Err(e) => notes.push(e),
        }
    }
    evidence.clients.retain(|r| c.selected(r));
    attribute(c, &ctx, &mut evidence.clients, &mut notes).await;
    evidence.notes.extend(notes);
    let failing = evidence
        .clients
        .iter()
        .filter(|r| r.is_failing(c.threshold))
        .count();
    if evidence.clients.is_empty() {
        let note = "no API client metrics found".to_string();
        return Ok(StepEnd::Empty(evidence, note));
    }
    let note = format!(
        "{} clients, {failing} over {:.1} % errors",
        evidence.clients.len(),
        c.threshold * 100.0
    );
    Ok(StepEnd::Done(evidence, Some(note)))
}

async fn prometheus_series(
    c: &Collector,
    ctx: &StepCtx,
    prom: &crate::source::prometheus::Prometheus,
    step: Duration,
) -> Result<Vec<CounterSeries>, crate::source::prometheus::PromError> {
    let query = format!("sum by (job, instance, code, namespace, pod, host) ({METRIC})");
    let series = prom
        .range(ctx, &query, c.window.from, c.window.to, step)
        .await?;
    Ok(series
        .into_iter()
        .map(|s| {
            let get = |k: &str| s.labels.get(k).cloned().unwrap_or_default();
            let mut labels = BTreeMap::new();
            for k in ["namespace", "pod"] {
                if let Some(v) = s.labels.get(k) {
                    labels.insert(k.to_string(), v.clone());
                }
            }
            CounterSeries {
                job: get("job"),
                instance: get("instance"),
                code: get("code"),
                host: s.labels.get("host").cloned(),
                labels,
                points: s.points,
            }
        })
        .collect())
}

/// A /metrics endpoint to scrape.
struct ScrapeTarget {
    job: String,
    instance: String,
    labels: BTreeMap<String, String>,
    how: Scrape,
}

enum Scrape {
    /// The API server's own /metrics.
    ApiServer,
    /// A pod's port: through the API server's pod proxy, or directly.
    Pod {
        namespace: String,
        name: String,
        port: u16,
        ip: Option<String>,
    },
}

/// Without Prometheus: three scrapes, `scrape_interval` apart.
async fn scrape(
    c: &Collector,
    ctx: &StepCtx,
    notes: &mut Vec<String>,
) -> Result<ClientsEvidence, StepError> {
    let mut targets = vec![ScrapeTarget {
        job: "kube-apiserver".to_string(),
        instance: server_authority(&c.kube.server),
        labels: BTreeMap::new(),
        how: Scrape::ApiServer,
    }];
    match scrape_namespace(c) {
        Some(ns) => match pod_targets(c, ctx, &ns).await {
            Ok(mut t) => targets.append(&mut t),
            Err(e) => notes.push(format!("cannot list pods in {ns} to scrape: {e}")),
        },
        None => notes.push(
            "client pods were not scraped: without Prometheus give -n NAMESPACE or --client NS/POD"
                .to_string(),
        ),
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .map_err(|e| StepError::Other(format!("cannot build an HTTP client: {e}")))?;
    // (target index, code, host) -> samples.
    type Key = (usize, String, Option<String>);
    let mut samples: BTreeMap<Key, Vec<(Timestamp, f64)>> = BTreeMap::new();
    let mut reachable = vec![true; targets.len()];
    const SCRAPES: usize = 3;
    let mut first_at = None;
    let mut last_at = None;
    for round in 0..SCRAPES {
        if round > 0 {
            tokio::time::sleep(c.scrape_interval).await;
        }
        let at = Timestamp::now();
        first_at.get_or_insert(at);
        last_at = Some(at);
        for (i, t) in targets.iter().enumerate() {
            if !reachable[i] {
                continue;
            }
            match scrape_one(c, ctx, &http, t).await {
                Ok(text) => match exposition::parse(&text, |n| n == METRIC) {
                    Ok(found) => {
                        for s in found {
                            let code = s.labels.get("code").cloned().unwrap_or_default();
                            let host = s.labels.get("host").cloned();
                            samples
                                .entry((i, code, host))
                                .or_default()
                                .push((at, s.value));
                        }
                    }
                    Err(e) => {
                        notes.push(format!("{}/{}: {e}", t.job, t.instance));
                        reachable[i] = false;
                    }
                },
                Err(e) => {
                    if matches!(e, StepError::Source(SourceError::Forbidden(_))) && i == 0 {
                        return Err(e);
                    }
                    notes.push(format!("cannot scrape {}/{}: {e}", t.job, t.instance));
                    reachable[i] = false;
                }
            }
        }
    }
    // Sum over method (and other labels) per (code, host), as the Prometheus query does.
    let mut series = Vec::new();
    for ((i, code, host), mut points) in samples {
        points.sort_by_key(|p| p.0);
        let mut merged: Vec<(Timestamp, f64)> = Vec::new();
        for (at, v) in points {
            match merged.last_mut() {
                Some(last) if last.0 == at => last.1 += v,
                _ => merged.push((at, v)),
            }
        }
        let t = &targets[i];
        series.push(CounterSeries {
            job: t.job.clone(),
            instance: t.instance.clone(),
            code,
            host,
            labels: t.labels.clone(),
            points: merged,
        });
    }
    let from = first_at.unwrap_or(c.window.to);
    let to = last_at.unwrap_or(c.window.to);
    let window = Window {
        from: from - jiff::SignedDuration::from_millis(1),
        to,
    };
    let analysis = Analysis {
        window,
        threshold: c.threshold,
        min_intervals: (SCRAPES - 1) as u32,
    };
    notes.push(format!(
        "rates from {SCRAPES} scrapes {:?} apart ending {to}, not the whole window: onsets are only bounded by the scrapes",
        c.scrape_interval
    ));
    Ok(ClientsEvidence {
        source: RateSource::Scrape {
            interval_seconds: c.scrape_interval.as_secs_f64(),
        },
        threshold: c.threshold,
        step_seconds: c.scrape_interval.as_secs_f64(),
        clients: clients::analyze(&series, &analysis),
        notes: Vec::new(),
    })
}

fn scrape_namespace(c: &Collector) -> Option<String> {
    if let Some(ns) = &c.namespace {
        return Some(ns.clone());
    }
    c.client_selector
        .as_deref()
        .and_then(|s| s.split_once('/'))
        .map(|(ns, _)| ns.to_string())
}

async fn pod_targets(
    c: &Collector,
    ctx: &StepCtx,
    ns: &str,
) -> Result<Vec<ScrapeTarget>, SourceError> {
    let ns_owned = ns.to_string();
    let pods = c
        .kube
        .call(ctx, Perm::ns("", "pods", "list", ns), |client| {
            let ns = ns_owned.clone();
            async move {
                Api::<Pod>::namespaced(client, &ns)
                    .list(&ListParams::default().limit(200))
                    .await
            }
        })
        .await?;
    let mut out = Vec::new();
    for pod in pods.items {
        let name = pod.metadata.name.clone().unwrap_or_default();
        let annotations = pod.metadata.annotations.clone().unwrap_or_default();
        let ip = pod.status.as_ref().and_then(|s| s.pod_ip.clone());
        let annotated_port = annotations
            .get("prometheus.io/port")
            .and_then(|p| p.parse::<u16>().ok());
        let named_port = pod.spec.as_ref().and_then(|s| {
            s.containers.iter().find_map(|c| {
                c.ports.as_ref()?.iter().find_map(|p| {
                    (p.name.as_deref() == Some("metrics")).then_some(p.container_port as u16)
                })
            })
        });
        let Some(port) = annotated_port.or(named_port) else {
            continue;
        };
        let instance = format!("{}:{port}", ip.clone().unwrap_or_else(|| name.clone()));
        out.push(ScrapeTarget {
            job: "pod-metrics".to_string(),
            instance,
            labels: BTreeMap::from([
                ("namespace".to_string(), ns.to_string()),
                ("pod".to_string(), name.clone()),
            ]),
            how: Scrape::Pod {
                namespace: ns.to_string(),
                name,
                port,
                ip,
            },
        });
    }
    Ok(out)
}

async fn scrape_one(
    c: &Collector,
    ctx: &StepCtx,
    http: &reqwest::Client,
    t: &ScrapeTarget,
) -> Result<String, StepError> {
    match &t.how {
        Scrape::ApiServer => Ok(c
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
            .await?),
        Scrape::Pod {
            namespace,
            name,
            port,
            ip,
        } => {
            let path = format!("/api/v1/namespaces/{namespace}/pods/{name}:{port}/proxy/metrics");
            let via_proxy = c
                .kube
                .call(
                    ctx,
                    Perm::ns("", "pods/proxy", "get", namespace),
                    |client| {
                        let path = path.clone();
                        async move {
                            client
                                .request_text(
                                    http::Request::get(path)
                                        .body(Vec::new())
                                        .expect("valid request"),
                                )
                                .await
                        }
                    },
                )
                .await;
            match (via_proxy, ip) {
                (Ok(text), _) => Ok(text),
                // The proxy may refuse (loopback or link-local pod IPs, or no pods/proxy
                // permission); kube-doctor running in the cluster can reach the pod itself.
                (Err(proxy_err), Some(ip)) => {
                    let url = format!("http://{ip}:{port}/metrics");
                    let resp = http.get(&url).send().await.map_err(|e| {
                        StepError::Other(format!(
                            "pod proxy failed ({proxy_err}) and {url} too ({e})"
                        ))
                    })?;
                    resp.text()
                        .await
                        .map_err(|e| StepError::Other(format!("{url}: {e}")))
                }
                (Err(e), None) => Err(e.into()),
            }
        }
    }
}

fn server_authority(server: &str) -> String {
    server
        .split("://")
        .nth(1)
        .unwrap_or(server)
        .trim_end_matches('/')
        .to_string()
}

fn read_audit(
    c: &Collector,
    path: &std::path::Path,
    step: Duration,
) -> Result<(Vec<ClientRates>, Option<String>), String> {
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read audit log {}: {e}", path.display()))?;
    let counts = audit::read_audit(
        std::io::BufReader::new(file),
        c.window,
        jiff::SignedDuration::try_from(step).unwrap_or(jiff::SignedDuration::from_secs(15)),
    )
    .map_err(|e| format!("cannot read audit log {}: {e}", path.display()))?;
    let analysis = Analysis {
        window: c.window,
        threshold: c.threshold,
        min_intervals: 3,
    };
    let mut rates = clients::analyze(&counts.series, &analysis);
    for r in &mut rates {
        r.id = format!("user:{}", r.instance);
        r.user = Some(r.instance.clone());
        r.user_agent = counts.user_agents.get(&r.instance).cloned();
        r.target = Target::User {
            name: r.instance.clone(),
        };
    }
    let note = (counts.unreadable > 0).then(|| {
        format!(
            "audit log {}: {} of {} lines were not audit events (first: line {})",
            path.display(),
            counts.unreadable,
            counts.lines,
            counts.first_unreadable.unwrap_or(0)
        )
    });
    Ok((rates, note))
}

/// Fills in who failing clients are: a pod's ServiceAccount and node, or the pod behind an
/// instance IP. Bounded: one request per failing client.
async fn attribute(
    c: &Collector,
    ctx: &StepCtx,
    rates: &mut [ClientRates],
    notes: &mut Vec<String>,
) {
    for r in rates.iter_mut().filter(|r| r.is_failing(c.threshold)) {
        match r.target.clone() {
            Target::Pod {
                namespace, name, ..
            } => {
                let (ns, n) = (namespace.clone(), name.clone());
                match c
                    .kube
                    .call(ctx, Perm::ns("", "pods", "get", &namespace), |client| {
                        let (ns, n) = (ns.clone(), n.clone());
                        async move { Api::<Pod>::namespaced(client, &ns).get(&n).await }
                    })
                    .await
                {
                    Ok(pod) => {
                        r.target = pod_target(&pod);
                        r.user = pod_user(&pod);
                    }
                    Err(e) => notes.push(format!("cannot read pod {namespace}/{name}: {e}")),
                }
            }
            Target::Unknown => {
                let ip = r
                    .instance
                    .rsplit_once(':')
                    .map_or(r.instance.as_str(), |(h, _)| h)
                    .to_string();
                if ip.parse::<std::net::IpAddr>().is_err() {
                    continue;
                }
                let selector = format!("status.podIP={ip}");
                match c
                    .kube
                    .call(ctx, Perm::cluster("", "pods", "list"), |client| {
                        let selector = selector.clone();
                        async move {
                            Api::<Pod>::all(client)
                                .list(&ListParams::default().fields(&selector).limit(5))
                                .await
                        }
                    })
                    .await
                {
                    Ok(list) => {
                        // Host-network pods share the node's IP: only a single match is an answer.
                        if let [pod] = list.items.as_slice() {
                            r.target = pod_target(pod);
                            r.user = pod_user(pod);
                        }
                    }
                    Err(e) => notes.push(format!("cannot map {} to a pod: {e}", r.instance)),
                }
            }
            _ => {}
        }
    }
}

fn pod_target(pod: &Pod) -> Target {
    Target::Pod {
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        service_account: pod
            .spec
            .as_ref()
            .and_then(|s| s.service_account_name.clone()),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
    }
}

/// The user a pod's requests come as, if it uses its ServiceAccount.
fn pod_user(pod: &Pod) -> Option<String> {
    let ns = pod.metadata.namespace.as_deref()?;
    let sa = pod.spec.as_ref()?.service_account_name.as_deref()?;
    Some(format!("system:serviceaccount:{ns}:{sa}"))
}

/// Names the callees of API-server clients (which webhook, which APIService) from step 7's
/// configuration lists.
pub fn name_callees(evidence: &mut ClientsEvidence, callees: &Callees) {
    for r in &mut evidence.clients {
        for h in &mut r.by_host {
            h.callee = callee::name_callee(&h.host, &callees.webhooks, &callees.api_services);
        }
    }
}
