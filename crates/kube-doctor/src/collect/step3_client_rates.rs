//! Playbook step 3: which clients exceed the threshold, since when. Fetches
//! `rest_client_requests_total` from Prometheus (a range query over the window: each series'
//! increases, summed per client, scoped to `--cluster`; series of several clusters are never
//! blended: the step refuses and names them); without
//! Prometheus, three scrapes of the API server's /metrics and of client pods' /metrics; and
//! the audit log when given (the only source that names users). Then looks up who the failing
//! clients are (a pod's ServiceAccount and node, or the pod behind an instance IP). A
//! Prometheus that fails makes the step fail: its clients are unknown, never "none failing".
//! The pure half is `kube_doctor_core::playbook::step3_client_rates`.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{ClientRates, ClientsEvidence, PrometheusScope, RateSource, Window};
use kube_doctor_core::clients::{self, Analysis, audit, exposition};
use kube_doctor_core::playbook::step3_client_rates::{
    METRIC, ScrapedTarget, audit_clients, increases_query, instance_ip, label_values, note,
    pod_scrapes, pod_target, pod_user, selected, series_from_increases, series_from_scrapes,
};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Scrapes made without Prometheus.
const SCRAPES: usize = 3;

/// Runs step 3.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
) -> Result<StepEnd<ClientsEvidence>, StepError> {
    let s = &cx.settings;
    let mut notes = Vec::new();
    // What could not be looked at: with nothing over the threshold, the step says so instead
    // of letting "no client fails" stand (issue 12: "could not look" is never "healthy").
    let mut blind = Vec::new();
    if let Some(found) = &s.prometheus.discovery {
        notes.push(format!("Prometheus {found}"));
    }
    let (mut evidence, failure) = match &cx.prometheus {
        Some(prom) => from_prometheus(cx, &ctx, prom).await,
        None => (scrape(cx, &ctx, &mut notes, &mut blind).await?, None),
    };
    if let Some(path) = &s.scope.audit_log {
        match read_audit(path, s.window, s.threshold) {
            Ok((mut from_audit, note)) => {
                evidence.clients.append(&mut from_audit);
                notes.extend(note);
            }
            Err(e) => notes.push(e),
        }
    }
    let client = s.scope.client.as_deref();
    clients::scope(&mut evidence, |r| selected(client, r), s.threshold);
    attribute(cx, &ctx, &mut evidence, &mut notes).await;
    evidence.notes.extend(notes);
    if let Some(why) = failure {
        return Ok(StepEnd::Failed(Some(evidence), why));
    }
    // What the run was scoped to goes into the step's note, so every rendering of the report
    // says it: the cluster, and the alert (which form fired, since when, its labels).
    let mut scope = Vec::new();
    if let Some(c) = &s.prometheus.scope.cluster
        && cx.prometheus.is_some()
    {
        scope.push(format!(
            "scoped to {}={}",
            s.prometheus.scope.cluster_label,
            kube_doctor_core::escape::one_line(c, 100)
        ));
    }
    if let Some(why) = &s.prometheus.scope.cluster_note {
        scope.push(why.clone());
    }
    if let Some(alert) = &s.alert {
        scope.push(alert.describe());
    }
    let with_scope = |n: String| {
        if scope.is_empty() {
            n
        } else {
            format!("{n}; {}", scope.join("; "))
        }
    };
    if !blind.is_empty()
        && kube_doctor_core::playbook::step3_client_rates::failing(&evidence, s.threshold)
            .is_empty()
    {
        let why = format!(
            "no client is over the threshold among those read, but these could not be read: {}",
            blind.join("; ")
        );
        return Ok(StepEnd::Failed(Some(evidence), with_scope(why)));
    }
    if evidence.clients.is_empty() {
        let note = match client {
            Some(c) => {
                let seen = evidence.others.as_ref().map_or(0, |o| o.with_traffic);
                format!(
                    "no API client metrics found for --client {}: it matched none of the {seen} clients seen (`kube-doctor clients` without --client lists them)",
                    kube_doctor_core::escape::one_line(c, 100)
                )
            }
            None => "no API client metrics found".to_string(),
        };
        return Ok(StepEnd::Empty(evidence, with_scope(note)));
    }
    // Clients read, but not one request counted in the window: a window shorter than two of
    // Prometheus' scrapes (`--since 1s`) has no rate to judge, which is not "healthy".
    if let Some(why) = kube_doctor_core::playbook::step3_client_rates::nothing_counted(&evidence) {
        return Ok(StepEnd::Empty(evidence, with_scope(why)));
    }
    let note = note(&evidence, s.threshold);
    Ok(StepEnd::Done(evidence, Some(with_scope(note))))
}

fn empty_evidence(source: RateSource, s: &crate::settings::Settings) -> ClientsEvidence {
    ClientsEvidence {
        source,
        threshold: s.threshold.ratio(),
        step_seconds: s.window.series_step().as_secs_f64(),
        min_intervals: 3,
        clients: Vec::new(),
        others: None,
        notes: Vec::new(),
        scope: None,
    }
}

/// Client rates from Prometheus: the evidence, and why it failed when it did.
async fn from_prometheus(
    cx: &Context,
    ctx: &StepCtx,
    prom: &crate::source::prometheus::Prometheus,
) -> (ClientsEvidence, Option<String>) {
    let s = &cx.settings;
    let step = s.window.series_step();
    let source = RateSource::Prometheus {
        url: prom.url().to_string(),
    };
    let m = s.prometheus.scope.matchers();
    let query = increases_query(&m, step, &s.prometheus.scope.cluster_label);
    let series = match prom
        .range(ctx, &query, s.window.from, s.window.to, step)
        .await
    {
        Ok(series) => series,
        Err(e) => {
            return (
                empty_evidence(source, s),
                Some(format!("client error rates could not be read: {e}")),
            );
        }
    };
    let seen = label_values(&series, &s.prometheus.scope.cluster_label);
    let scope = PrometheusScope {
        cluster_label: s.prometheus.scope.cluster_label.clone(),
        cluster: s.prometheus.scope.cluster.clone(),
        clusters_seen: seen.clone(),
        alert: s.alert.clone(),
    };
    if let Some(why) = s.prometheus.scope.blended(&seen) {
        let mut e = empty_evidence(source, s);
        e.scope = Some(scope);
        return (e, Some(why));
    }
    let analysis = Analysis {
        window: s.window,
        threshold: s.threshold,
        min_intervals: 3,
    };
    let mut notes = Vec::new();
    if seen.len() > 1 {
        notes.push(format!(
            "some client series carry {}={}, others no cluster label: they are read together",
            s.prometheus.scope.cluster_label,
            kube_doctor_core::escape::one_line(seen.last().map_or("", String::as_str), 100)
        ));
    }
    if series.is_empty()
        && let Some(c) = &s.prometheus.scope.cluster
    {
        notes.push(format!(
            "no client series with {}={}",
            s.prometheus.scope.cluster_label,
            kube_doctor_core::prometheus::string_literal(c)
        ));
    }
    let counters = series_from_increases(series, s.window.from, step);
    (
        ClientsEvidence {
            source,
            threshold: s.threshold.ratio(),
            step_seconds: step.as_secs_f64(),
            min_intervals: analysis.min_intervals,
            clients: clients::analyze(&counters, &analysis),
            others: None,
            notes,
            scope: Some(scope),
        },
        None,
    )
}

/// Without Prometheus: [`SCRAPES`] scrapes, `scrape_interval` apart, of the API server and of
/// the pods of `-n` (or of `--client`'s namespace).
async fn scrape(
    cx: &Context,
    ctx: &StepCtx,
    notes: &mut Vec<String>,
    blind: &mut Vec<String>,
) -> Result<ClientsEvidence, StepError> {
    let s = &cx.settings;
    let mut api = ScrapedTarget {
        job: "kube-apiserver".to_string(),
        instance: crate::source::kube::authority(&cx.kube.server),
        ..Default::default()
    };
    let namespace = s.scope.namespace.clone().or_else(|| {
        s.scope
            .client
            .as_deref()
            .and_then(|c| c.split_once('/'))
            .map(|(ns, _)| ns.to_string())
    });
    let pods = match &namespace {
        Some(ns) => {
            let ns_owned = ns.clone();
            match cx
                .kube
                .call(ctx, Perm::ns("", "pods", "list", ns), |client| {
                    let ns = ns_owned.clone();
                    async move {
                        Api::<Pod>::namespaced(client, &ns)
                            .list(&ListParams::default().limit(200))
                            .await
                    }
                })
                .await
            {
                Ok(list) => pod_scrapes(&list.items),
                Err(e) => {
                    notes.push(format!("cannot list pods in {ns} to scrape: {e}"));
                    blind.push(format!("the pods in {ns} (not listed)"));
                    Vec::new()
                }
            }
        }
        None => {
            notes.push(
                "client pods were not scraped: without Prometheus give -n NAMESPACE or --client NS/POD"
                    .to_string(),
            );
            blind.push(
                "the client pods (no Prometheus: give --prometheus, or -n NAMESPACE / --client NS/POD to scrape them)"
                    .to_string(),
            );
            Vec::new()
        }
    };
    let mut targets: Vec<(ScrapedTarget, bool)> = pods
        .iter()
        .map(|p| {
            (
                ScrapedTarget {
                    job: "pod-metrics".to_string(),
                    instance: p.instance(),
                    labels: [("namespace", &p.namespace), ("pod", &p.name)]
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    ..Default::default()
                },
                true,
            )
        })
        .collect();
    let mut api_ok = true;
    let mut first_at = None;
    let mut last_at = None;
    for round in 0..SCRAPES {
        if round > 0 {
            tokio::time::sleep(s.limits.scrape_interval).await;
        }
        let at = Timestamp::now();
        first_at.get_or_insert(at);
        last_at = Some(at);
        if api_ok {
            match cx.scraper.apiserver(&cx.kube, ctx).await {
                Ok(text) => add(&mut api, at, &text, notes, &mut api_ok),
                Err(SourceError::Forbidden(r)) => return Err(SourceError::Forbidden(r).into()),
                Err(e) => {
                    notes.push(format!("cannot scrape the API server: {e}"));
                    api_ok = false;
                }
            }
        }
        for ((t, ok), p) in targets.iter_mut().zip(&pods) {
            if !*ok {
                continue;
            }
            match cx.scraper.pod(&cx.kube, ctx, p).await {
                Ok(text) => add(t, at, &text, notes, ok),
                Err(e) => {
                    notes.push(format!("cannot scrape {}/{}: {e}", t.job, t.instance));
                    *ok = false;
                }
            }
        }
    }
    if !api_ok {
        blind.push("the API server's own /metrics".to_string());
    }
    blind.extend(
        targets
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(t, _)| format!("{}/{}", t.job, t.instance)),
    );
    let mut all = vec![api];
    all.extend(targets.into_iter().map(|(t, _)| t));
    let series = series_from_scrapes(all);
    let to = last_at.unwrap_or(s.window.to);
    let window = Window {
        from: first_at.unwrap_or(to) - SignedDuration::from_millis(1),
        to,
    };
    let analysis = Analysis {
        window,
        threshold: s.threshold,
        min_intervals: (SCRAPES - 1) as u32,
    };
    notes.push(format!(
        "rates from {SCRAPES} scrapes {:?} apart ending {to}, not the whole window: onsets are only bounded by the scrapes",
        s.limits.scrape_interval
    ));
    Ok(ClientsEvidence {
        source: RateSource::Scrape {
            interval_seconds: s.limits.scrape_interval.as_secs_f64(),
        },
        threshold: s.threshold.ratio(),
        step_seconds: s.limits.scrape_interval.as_secs_f64(),
        min_intervals: analysis.min_intervals,
        clients: clients::analyze(&series, &analysis),
        others: None,
        notes: Vec::new(),
        scope: None,
    })
}

/// Adds one scrape's text to a target; a body that is not the exposition format stops
/// scraping that target and says so.
fn add(t: &mut ScrapedTarget, at: Timestamp, text: &str, notes: &mut Vec<String>, ok: &mut bool) {
    match exposition::parse(text, |n| n == METRIC) {
        Ok(samples) => t.add_scrape(at, &samples),
        Err(e) => {
            notes.push(format!("{}/{}: {e}", t.job, t.instance));
            *ok = false;
        }
    }
}

/// Clients from an audit log in `window` (one per user), and a note on lines that were not
/// audit events. Used by the step and by offline runs without a cluster.
pub fn read_audit(
    path: &std::path::Path,
    window: Window,
    threshold: kube_doctor_core::clients::Threshold,
) -> Result<(Vec<ClientRates>, Option<String>), String> {
    let shown = path.display();
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read audit log {shown}: {e}"))?;
    let step =
        SignedDuration::try_from(window.series_step()).unwrap_or(SignedDuration::from_secs(15));
    let counts = audit::read_audit(std::io::BufReader::new(file), window, step)
        .map_err(|e| format!("cannot read audit log {shown}: {e}"))?;
    let rates = audit_clients(&counts, window, threshold);
    let mut notes = Vec::new();
    if counts.unreadable > 0 {
        notes.push(format!(
            "{} of {} lines were not audit events (first: line {})",
            counts.unreadable,
            counts.lines,
            counts.first_unreadable.unwrap_or(0)
        ));
    }
    let d = &counts.dropped;
    if d.long_lines > 0 {
        notes.push(format!(
            "{} lines over the line cap were skipped unread (first: line {})",
            d.long_lines,
            d.first_long_line.unwrap_or(0)
        ));
    }
    if d.users_evicted > 0 {
        notes.push(format!(
            "{} users with the fewest errors were left out to bound memory ({} of their events)",
            d.users_evicted, d.events_evicted
        ));
    }
    let note = (!notes.is_empty()).then(|| format!("audit log {shown}: {}", notes.join("; ")));
    Ok((rates, note))
}

/// Fills in who failing clients are: a pod's ServiceAccount and node, or the pod behind an
/// instance IP. Bounded: one request per failing client.
async fn attribute(
    cx: &Context,
    ctx: &StepCtx,
    evidence: &mut ClientsEvidence,
    notes: &mut Vec<String>,
) {
    let threshold = cx.settings.threshold;
    let min = evidence.min_intervals;
    for r in evidence
        .clients
        .iter_mut()
        .filter(|r| clients::judge(r, threshold, min).failing())
    {
        match r.target.clone() {
            kube_doctor_core::bundle::Target::Pod {
                namespace, name, ..
            } => {
                let (ns, n) = (namespace.clone(), name.clone());
                match cx
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
            kube_doctor_core::bundle::Target::Unknown => {
                let Some(ip) = instance_ip(&r.instance) else {
                    continue;
                };
                let selector = format!("status.podIP={ip}");
                match cx
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
