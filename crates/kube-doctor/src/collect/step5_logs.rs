//! Playbook step 5: the failing clients' logs, classified. Every container of each failing
//! pod, the current and the previous instance, from the window's start on (lines the kubelet
//! returns from before it are dropped by their timestamps), capped in bytes (`--log-bytes`). Lines are classified with `kube_doctor_core::classify`; the bundle keeps counts
//! per category, first and last times, HTTP codes, client libraries, RBAC denials, and a few
//! sample lines, redacted before they are stored.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;
use kube_doctor_core::bundle::{
    AuthzDenialCount, CategoryStats, ClientRates, ContainerLogs, ObjectRef, PodLogs,
};
use kube_doctor_core::classify::{Classification, Classifier};
use kube_doctor_core::redact::Redactor;

use super::{Collector, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Sample lines kept per category.
const SAMPLES: usize = 3;
/// Characters kept of a sample line.
const SAMPLE_CHARS: usize = 600;

pub async fn collect(
    c: &Collector,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
) -> Result<StepEnd<Vec<PodLogs>>, StepError> {
    let pods: Vec<(String, String)> = failing
        .iter()
        .filter_map(|f| f.pod().map(|(ns, n)| (ns.to_string(), n.to_string())))
        .collect();
    if pods.is_empty() {
        return Ok(StepEnd::Skipped("no failing client is a pod".to_string()));
    }
    let classifier = Classifier::shared();
    let since = c.window.from;
    let since_seconds = (c.window.to - since)
        .total(jiff::Unit::Second)
        .unwrap_or(900.0)
        .ceil() as i64;
    let mut out = Vec::new();
    for (ns, name) in &pods {
        let (ns2, n2) = (ns.clone(), name.clone());
        let pod = match c
            .kube
            .call(&ctx, Perm::ns("", "pods", "get", ns), |client| {
                let (ns, n) = (ns2.clone(), n2.clone());
                async move { Api::<Pod>::namespaced(client, &ns).get(&n).await }
            })
            .await
        {
            Ok(p) => p,
            Err(SourceError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        let containers: Vec<String> = pod
            .spec
            .as_ref()
            .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default();
        let mut logs = Vec::new();
        for container in containers {
            for previous in [false, true] {
                let lp = LogParams {
                    container: Some(container.clone()),
                    previous,
                    since_seconds: (!previous).then_some(since_seconds),
                    limit_bytes: Some(c.log_bytes as i64),
                    timestamps: true,
                    ..Default::default()
                };
                let (ns3, n3) = (ns.clone(), name.clone());
                let text = c
                    .kube
                    .call(&ctx, Perm::ns("", "pods/log", "get", ns), |client| {
                        let (ns, n, lp) = (ns3.clone(), n3.clone(), lp.clone());
                        async move { Api::<Pod>::namespaced(client, &ns).logs(&n, &lp).await }
                    })
                    .await;
                match text {
                    Ok(text) => logs.push(classify(
                        classifier,
                        &container,
                        previous,
                        &text,
                        c.log_bytes,
                        since,
                    )),
                    // No previous instance: the container never restarted.
                    Err(SourceError::Api { code: 400, .. } | SourceError::NotFound(_))
                        if previous => {}
                    Err(SourceError::Forbidden(r)) => return Err(SourceError::Forbidden(r).into()),
                    Err(e) => logs.push(ContainerLogs {
                        container: container.clone(),
                        previous,
                        bytes_read: 0,
                        truncated: false,
                        lines: 0,
                        error_lines: 0,
                        categories: BTreeMap::new(),
                        authz_denials: Vec::new(),
                        fetch_error: Some(e.to_string()),
                    }),
                }
            }
        }
        out.push(PodLogs {
            pod: ObjectRef::namespaced("Pod", ns, name),
            containers: logs,
        });
    }
    let errors: u64 = out
        .iter()
        .flat_map(|p| &p.containers)
        .map(|c| c.error_lines)
        .sum();
    let note = format!("{} pods, {errors} API client error lines", out.len());
    Ok(StepEnd::Done(out, Some(note)))
}

/// Splits the kubelet's timestamp prefix ("2026-11-22T02:13:24.849645Z rest").
fn split_timestamp(line: &str) -> (Option<Timestamp>, &str) {
    match line.split_once(' ') {
        Some((ts, rest)) => match ts.parse::<Timestamp>() {
            Ok(t) => (Some(t), rest),
            Err(_) => (None, line),
        },
        None => (None, line),
    }
}

/// Classifies one container instance's log.
pub fn classify(
    classifier: &Classifier,
    container: &str,
    previous: bool,
    text: &str,
    cap: usize,
    since: Timestamp,
) -> ContainerLogs {
    let mut out = ContainerLogs {
        container: container.to_string(),
        previous,
        bytes_read: text.len() as u64,
        truncated: text.len() >= cap,
        lines: 0,
        error_lines: 0,
        categories: BTreeMap::new(),
        authz_denials: Vec::new(),
        fetch_error: None,
    };
    let mut denials: BTreeMap<kube_doctor_core::classify::AuthzDenial, AuthzDenialCount> =
        BTreeMap::new();
    for raw in text.lines() {
        let (at, line) = split_timestamp(raw);
        if at.is_some_and(|t| t < since) {
            continue;
        }
        out.lines += 1;
        let Classification {
            category,
            http_code,
            client,
            expected,
            authz,
        } = classifier.classify(line.as_bytes());
        if !category.is_error() {
            continue;
        }
        out.error_lines += 1;
        let s: &mut CategoryStats = out.categories.entry(category).or_default();
        s.count += 1;
        if expected {
            s.expected += 1;
        }
        if let Some(t) = at {
            s.first_at = Some(s.first_at.map_or(t, |f| f.min(t)));
            s.last_at = Some(s.last_at.map_or(t, |l| l.max(t)));
        }
        if let Some(code) = http_code {
            *s.http_codes.entry(code).or_default() += 1;
        }
        if let Some(cl) = client {
            *s.clients.entry(cl.as_str().to_string()).or_default() += 1;
        }
        if s.samples.len() < SAMPLES {
            s.samples.push(line.chars().take(SAMPLE_CHARS).collect());
        }
        if let Some(d) = authz {
            let e = denials.entry(d.clone()).or_insert(AuthzDenialCount {
                denial: d,
                count: 0,
                first_at: None,
                last_at: None,
            });
            e.count += 1;
            if let Some(t) = at {
                e.first_at = Some(e.first_at.map_or(t, |f| f.min(t)));
                e.last_at = Some(e.last_at.map_or(t, |l| l.max(t)));
            }
        }
    }
    out.authz_denials = denials.into_values().collect();
    out
}

/// Sample lines come from the cluster: redact them before they reach the bundle.
pub fn redact(mut logs: Vec<PodLogs>, redactor: &mut Redactor) -> Vec<PodLogs> {
    for p in &mut logs {
        for c in &mut p.containers {
            for s in c.categories.values_mut() {
                for line in &mut s.samples {
                    *line = redactor.redact(line);
                }
            }
        }
    }
    logs
}
