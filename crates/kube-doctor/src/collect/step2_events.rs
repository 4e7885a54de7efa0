//! Playbook step 2: kube-system events by time - client errors, auth failures, throttling.
//! Reads the Warning events of kube-system and of each failing client's namespace, page by
//! page, namespaces at once; a namespace that cannot be read is noted and the others go on.
//! The pure half (what is kept, the cap, redaction) is
//! `kube_doctor_core::playbook::step2_events`.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams;
use kube_doctor_core::bundle::{ClientRates, EventRecord, EventsEvidence, RbacRule, ReadFailure};
use kube_doctor_core::classify::Classifier;
use kube_doctor_core::playbook::step2_events::{
    FIELD_SELECTOR, MAX_PAGES, PAGE, keep_newest, note, record, redact, since,
};

use super::context::{Context, StepEnd, StepError};
use crate::source::kube::{Perm, SourceError, StepCtx};

/// Runs step 2 for the namespaces of `failing` and kube-system.
pub async fn collect(
    cx: &Context,
    ctx: Arc<StepCtx>,
    failing: &[ClientRates],
) -> Result<StepEnd<EventsEvidence>, StepError> {
    let mut namespaces: BTreeSet<String> = BTreeSet::from(["kube-system".to_string()]);
    for f in failing {
        if let Some((ns, _)) = f.pod() {
            namespaces.insert(ns.to_string());
        }
    }
    // A failing control-plane component (the controller-manager) writes in every namespace:
    // its refusals are FailedCreate events wherever it creates. One bounded cluster-wide page.
    let components = failing
        .iter()
        .any(|f| matches!(f.target, kube_doctor_core::bundle::Target::Component { .. }));
    let classifier = Classifier::shared();
    let since = since(&cx.settings.window);
    // Namespaces concurrently (under the shared request limit); pages of one namespace in
    // order, as continue tokens require.
    let per_ns = futures::future::join_all(
        namespaces
            .iter()
            .map(|ns| scan_namespace(cx, &ctx, ns, classifier, since)),
    )
    .await;
    let mut kept = Vec::new();
    let mut scanned = 0u64;
    let mut truncated = false;
    let mut forbidden = 0;
    let mut unreadable = Vec::new();
    for (ns, r) in namespaces.iter().zip(per_ns) {
        match r {
            Ok(scan) => {
                scanned += scan.scanned;
                truncated |= scan.truncated;
                kept.extend(scan.kept);
            }
            Err(SourceError::Forbidden(rule)) => {
                ctx.note_missing(rule);
                forbidden += 1;
            }
            Err(e) => unreadable.push(ReadFailure {
                object: format!("namespace/{ns}"),
                error: e.to_string(),
            }),
        }
    }
    if components {
        match failed_creates(cx, &ctx, classifier, since).await {
            Ok(scan) => {
                scanned += scan.scanned;
                truncated |= scan.truncated;
                kept.extend(scan.kept);
            }
            Err(SourceError::Forbidden(rule)) => ctx.note_missing(rule),
            Err(e) => unreadable.push(ReadFailure {
                object: "FailedCreate events in every namespace".to_string(),
                error: e.to_string(),
            }),
        }
    }
    kept.sort_by(|a, b| {
        (&a.involved, &a.reason, a.last_seen).cmp(&(&b.involved, &b.reason, b.last_seen))
    });
    kept.dedup_by(|a, b| {
        a.involved == b.involved
            && a.reason == b.reason
            && a.last_seen == b.last_seen
            && a.message == b.message
    });
    let (kept, dropped) = keep_newest(kept);
    let mut evidence = EventsEvidence {
        namespaces: namespaces.iter().cloned().collect(),
        scanned,
        kept,
        truncated: truncated || dropped,
        unreadable,
    };
    cx.with_redactor(|r| redact(&mut evidence, r));
    let note = note(&evidence);
    if forbidden == namespaces.len() {
        let rule = ctx.missing_rules().into_iter().next().unwrap_or(RbacRule {
            api_group: String::new(),
            resource: "events".into(),
            verb: "list".into(),
            namespace: Some("kube-system".into()),
            non_resource_url: None,
        });
        return Err(SourceError::Forbidden(rule).into());
    }
    if evidence.unreadable.len() + forbidden == namespaces.len() {
        return Ok(StepEnd::Failed(Some(evidence), note));
    }
    if evidence.kept.is_empty() {
        return Ok(StepEnd::Empty(evidence, note));
    }
    Ok(StepEnd::Done(evidence, Some(note)))
}

/// Controllers' FailedCreate warnings in every namespace: one page, newest kept.
async fn failed_creates(
    cx: &Context,
    ctx: &StepCtx,
    classifier: &Classifier,
    since: Timestamp,
) -> Result<Scan, SourceError> {
    let list = cx
        .kube
        .call(
            ctx,
            Perm::cluster("", "events", "list"),
            |client| async move {
                Api::<Event>::all(client)
                    .list(
                        &ListParams::default()
                            .limit(PAGE)
                            .fields(&format!("{FIELD_SELECTOR},reason=FailedCreate")),
                    )
                    .await
            },
        )
        .await?;
    Ok(Scan {
        scanned: list.items.len() as u64,
        truncated: list
            .metadata
            .continue_
            .as_deref()
            .is_some_and(|c| !c.is_empty()),
        kept: list
            .items
            .iter()
            .filter_map(|e| record(e, classifier, since))
            .collect(),
    })
}

/// What one namespace's events gave.
struct Scan {
    scanned: u64,
    kept: Vec<EventRecord>,
    truncated: bool,
}

/// Reads one namespace's Warning events page by page.
async fn scan_namespace(
    cx: &Context,
    ctx: &StepCtx,
    ns: &str,
    classifier: &Classifier,
    since: Timestamp,
) -> Result<Scan, SourceError> {
    let mut scan = Scan {
        scanned: 0,
        kept: Vec::new(),
        truncated: false,
    };
    let mut token: Option<String> = None;
    for page in 0..MAX_PAGES {
        let tok = token.clone();
        let list = cx
            .kube
            .call(ctx, Perm::ns("", "events", "list", ns), |client| {
                let (ns, tok) = (ns.to_string(), tok.clone());
                async move {
                    let mut lp = ListParams::default().limit(PAGE).fields(FIELD_SELECTOR);
                    if let Some(t) = tok {
                        lp = lp.continue_token(&t);
                    }
                    Api::<Event>::namespaced(client, &ns).list(&lp).await
                }
            })
            .await?;
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
    Ok(scan)
}
