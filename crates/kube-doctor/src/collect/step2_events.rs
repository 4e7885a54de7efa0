//! Playbook step 2: events. Events of kube-system and of each failing client's namespace,
//! Warnings only (filtered by the API server), paginated, sorted by last timestamp (lastTimestamp, eventTime or series, whichever the
//! event carries), limited to the window (with ten minutes before it, the widest correlation
//! window), and kept only when they are about client errors, authentication, throttling,
//! webhooks, quota, network policy or the API server - decided by the same classifier as
//! log lines, plus a few event reasons.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::Category;
use kube_doctor_core::bundle::{ClientRates, EventRecord, EventTopic, EventsEvidence, ObjectRef};
use kube_doctor_core::classify::Classifier;
use kube_doctor_core::redact::Redactor;

use super::{Collector, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Server-side filter: only what is not Normal (Warnings: failed creates, quota, webhooks,
/// throttling, evictions). Normal events (Scheduled, Pulled, Started...) are most of a
/// cluster's events and say nothing about failing API clients; not serializing them keeps
/// this step cheap for the API server on a big cluster.
const SELECTORS: [&str; 1] = ["type!=Normal"];

/// Events kept at most (newest first).
const KEEP: usize = 200;
/// Events a page. Twice client-go's pager default (500): the API server's cost is per event,
/// so bigger pages only save round trips (measured at 5,000 pods: 0.54 s -> 0.52 s, 14 -> 7
/// requests, +4 MiB peak RSS).
const PAGE: u32 = 1000;
/// Pages read per namespace at most: 10,000 Warning events.
const MAX_PAGES: usize = 10;

pub async fn collect(
    c: &Collector,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
) -> Result<StepEnd<EventsEvidence>, StepError> {
    let mut namespaces: BTreeSet<String> = BTreeSet::from(["kube-system".to_string()]);
    for f in failing {
        if let Some((ns, _)) = f.pod() {
            namespaces.insert(ns.to_string());
        }
    }
    let classifier = Classifier::shared();
    let since = c.window.from - SignedDuration::from_mins(10);
    // Namespaces concurrently (under the shared request limit); pages of one namespace in
    // order, as continue tokens require.
    let per_ns = futures::future::join_all(namespaces.iter().flat_map(|ns| {
        SELECTORS
            .iter()
            .map(|sel| scan_namespace(c, &ctx, ns, sel, classifier, since))
            .collect::<Vec<_>>()
    }))
    .await;
    let mut kept = Vec::new();
    let mut scanned = 0u64;
    let mut truncated = false;
    let mut forbidden = 0;
    for r in per_ns {
        match r? {
            None => forbidden += 1,
            Some(scan) => {
                scanned += scan.scanned;
                truncated |= scan.truncated;
                kept.extend(scan.kept);
            }
        }
    }
    if forbidden == namespaces.len() * SELECTORS.len() {
        return Err(
            SourceError::Forbidden(ctx.missing_rules().into_iter().next().unwrap_or_else(|| {
                kube_doctor_core::bundle::RbacRule {
                    api_group: String::new(),
                    resource: "events".into(),
                    verb: "list".into(),
                    namespace: Some("kube-system".into()),
                    non_resource_url: None,
                }
            }))
            .into(),
        );
    }
    kept.sort_by_key(|e: &EventRecord| std::cmp::Reverse(e.last_seen));
    if kept.len() > KEEP {
        kept.truncate(KEEP);
        truncated = true;
    }
    let evidence = EventsEvidence {
        namespaces: namespaces.into_iter().collect(),
        scanned,
        kept,
        truncated,
    };
    let cut = if evidence.truncated {
        format!(
            " (stopped at {MAX_PAGES} pages of {PAGE} per namespace, or {KEEP} kept: the rest was not read)"
        )
    } else {
        String::new()
    };
    if evidence.kept.is_empty() {
        let note = format!("{scanned} events read, none about API client trouble{cut}");
        return Ok(StepEnd::Empty(evidence, note));
    }
    let note = format!("{} of {scanned} events kept{cut}", evidence.kept.len());
    Ok(StepEnd::Done(evidence, Some(note)))
}

/// What one namespace's events gave.
struct Scan {
    scanned: u64,
    kept: Vec<EventRecord>,
    truncated: bool,
}

/// Reads one namespace's events page by page; `None` when listing them is forbidden.
async fn scan_namespace(
    c: &Collector,
    ctx: &StepCtx,
    ns: &str,
    selector: &'static str,
    classifier: &Classifier,
    since: Timestamp,
) -> Result<Option<Scan>, StepError> {
    let mut scan = Scan {
        scanned: 0,
        kept: Vec::new(),
        truncated: false,
    };
    let mut token: Option<String> = None;
    for page in 0..MAX_PAGES {
        let tok = token.clone();
        let result = c
            .kube
            .call(ctx, Perm::ns("", "events", "list", ns), |client| {
                let (ns, tok) = (ns.to_string(), tok.clone());
                async move {
                    let mut lp = ListParams::default().limit(PAGE).fields(selector);
                    if let Some(t) = tok {
                        lp = lp.continue_token(&t);
                    }
                    Api::<Event>::namespaced(client, &ns).list(&lp).await
                }
            })
            .await;
        let list = match result {
            Ok(l) => l,
            Err(SourceError::Forbidden(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        for ev in &list.items {
            scan.scanned += 1;
            if let Some(r) = record(ev, classifier, since) {
                scan.kept.push(r);
            }
        }
        token = list.metadata.continue_.clone().filter(|t| !t.is_empty());
        if token.is_none() {
            break;
        }
        if page + 1 == MAX_PAGES {
            scan.truncated = true;
        }
    }
    Ok(Some(scan))
}

fn last_seen(ev: &Event) -> Option<Timestamp> {
    ev.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| ev.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| ev.event_time.as_ref().map(|t| t.0))
        .or_else(|| ev.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| ev.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

fn topic(reason: &str, message: &str, classifier: &Classifier) -> Option<EventTopic> {
    let text = format!("{reason}: {message}");
    let lower = text.to_ascii_lowercase();
    if lower.contains("networkpolicy") || lower.contains("network policy") {
        return Some(EventTopic::NetworkPolicy);
    }
    if lower.contains("leaderelection") || lower.contains("apiserver") || lower.contains("etcd") {
        return Some(EventTopic::ApiServer);
    }
    match classifier.classify(text.as_bytes()).category {
        Category::TlsCertificate | Category::Authentication => Some(EventTopic::Authentication),
        Category::Authorization => Some(EventTopic::Authorization),
        Category::RateLimited => Some(EventTopic::Throttling),
        Category::QuotaOrAdmission if lower.contains("webhook") || lower.contains("admission") => {
            Some(EventTopic::Webhook)
        }
        Category::QuotaOrAdmission => Some(EventTopic::Quota),
        Category::ServerError => Some(EventTopic::ApiServer),
        Category::NetworkUnreachable | Category::Timeout | Category::Other => {
            Some(EventTopic::ClientError)
        }
        Category::NotFound | Category::InvalidRequest | Category::None => {
            (reason == "FailedCreate" && lower.contains("quota")).then_some(EventTopic::Quota)
        }
    }
}

fn record(ev: &Event, classifier: &Classifier, since: Timestamp) -> Option<EventRecord> {
    // kube-doctor serve's own verdicts are not evidence of anything.
    if ev.reason.as_deref() == Some("KubeDoctorDiagnosis") {
        return None;
    }
    let last = last_seen(ev);
    if last.is_some_and(|t| t < since) {
        return None;
    }
    let reason = ev.reason.clone().unwrap_or_default();
    let message = ev.message.clone().unwrap_or_default();
    let topic = topic(&reason, &message, classifier)?;
    let inv = &ev.involved_object;
    Some(EventRecord {
        involved: ObjectRef {
            kind: inv.kind.clone().unwrap_or_default(),
            namespace: inv.namespace.clone(),
            name: inv.name.clone().unwrap_or_default(),
        },
        reason,
        message,
        event_type: ev.type_.clone().unwrap_or_default(),
        count: ev
            .series
            .as_ref()
            .and_then(|s| s.count.map(|c| c as u32))
            .or(ev.count.map(|c| c as u32))
            .unwrap_or(1),
        first_seen: ev
            .first_timestamp
            .as_ref()
            .map(|t| t.0)
            .or_else(|| ev.event_time.as_ref().map(|t| t.0)),
        last_seen: last,
        source: ev
            .source
            .as_ref()
            .and_then(|s| s.component.clone())
            .or_else(|| ev.reporting_component.clone()),
        topic,
    })
}

/// Event messages come from the cluster: redact them before they reach the bundle.
pub fn redact(mut e: EventsEvidence, redactor: &mut Redactor) -> EventsEvidence {
    for r in &mut e.kept {
        r.message = redactor.redact(&r.message);
    }
    e
}
