//! Playbook step 2, pure half: events. Which Warning events are kept (those the classifier or
//! their reason ties to API client trouble, inside the window plus the widest correlation
//! window before it), their times, the cap on how many are kept, and the redaction of their
//! messages. Which topic an event is about is diagnosis' call (`diagnose::topics`).

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Event;

use crate::bundle::{EventRecord, EventsEvidence, ObjectRef, Window};
use crate::classify::Classifier;
use crate::redact::Redactor;

/// Server-side filter: only what is not Normal (Warnings: failed creates, quota, webhooks,
/// throttling, evictions). Normal events (Scheduled, Pulled, Started...) are most of a
/// cluster's events and say nothing about failing API clients; not serializing them keeps
/// the step cheap for the API server on a big cluster.
pub const FIELD_SELECTOR: &str = "type!=Normal";
/// Events kept at most (newest first).
pub const KEEP: usize = 200;
/// Events a page. Twice client-go's pager default (500): the API server's cost is per event,
/// so bigger pages only save round trips (measured at 5,000 pods: 0.54 s -> 0.52 s, 14 -> 7
/// requests, +4 MiB peak RSS).
pub const PAGE: u32 = 1000;
/// Pages read per namespace at most: 10,000 Warning events.
pub const MAX_PAGES: usize = 10;
/// How far before the window events are read: the widest correlation window (network, 10 min).
pub const LOOKBACK: SignedDuration = SignedDuration::from_mins(10);

/// Since when events are read for a window.
pub fn since(window: &Window) -> Timestamp {
    window.widened_before(LOOKBACK).from
}

/// The latest time an event happened: series last observation, lastTimestamp, eventTime,
/// firstTimestamp or creation, whichever the event carries (core/v1 and events.k8s.io events
/// fill different fields).
pub fn last_seen(ev: &Event) -> Option<Timestamp> {
    ev.series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref().map(|t| t.0))
        .or_else(|| ev.last_timestamp.as_ref().map(|t| t.0))
        .or_else(|| ev.event_time.as_ref().map(|t| t.0))
        .or_else(|| ev.first_timestamp.as_ref().map(|t| t.0))
        .or_else(|| ev.metadata.creation_timestamp.as_ref().map(|t| t.0))
}

/// Whether an event may be about API client trouble: the classifier calls its reason and
/// message an error, or they name NetworkPolicies, the API server, etcd, leader election, or
/// a quota refusal. A relevance filter, not a judgement: diagnosis decides what it means.
pub fn relevant(reason: &str, message: &str, classifier: &Classifier) -> bool {
    let text = format!("{reason}: {message}");
    let lower = text.to_ascii_lowercase();
    [
        "networkpolicy",
        "network policy",
        "leaderelection",
        "apiserver",
        "etcd",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || classifier.classify(text.as_bytes()).category.is_error()
        || (reason == "FailedCreate" && lower.contains("quota"))
}

/// The record of one event, if it is kept: not kube-doctor's own, not older than `since`,
/// and [`relevant`].
pub fn record(ev: &Event, classifier: &Classifier, since: Timestamp) -> Option<EventRecord> {
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
    if !relevant(&reason, &message, classifier) {
        return None;
    }
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
            .and_then(|s| s.count)
            .or(ev.count)
            .and_then(|c| u32::try_from(c).ok())
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
    })
}

/// Keeps the newest [`KEEP`] records; says whether any were dropped.
pub fn keep_newest(mut kept: Vec<EventRecord>) -> (Vec<EventRecord>, bool) {
    kept.sort_by_key(|e| std::cmp::Reverse(e.last_seen));
    let dropped = kept.len() > KEEP;
    kept.truncate(KEEP);
    (kept, dropped)
}

/// The step's note.
pub fn note(e: &EventsEvidence) -> String {
    let cut = if e.truncated {
        format!(
            " (stopped at {MAX_PAGES} pages of {PAGE} per namespace, or {KEEP} kept: the rest was not read)"
        )
    } else {
        String::new()
    };
    let unreadable = if e.unreadable.is_empty() {
        String::new()
    } else {
        format!(
            "; could not read {}",
            e.unreadable
                .iter()
                .map(|f| format!("{} ({})", f.object, f.error))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    if e.kept.is_empty() {
        format!(
            "{} events read, none about API client trouble{cut}{unreadable}",
            e.scanned
        )
    } else {
        format!(
            "{} of {} events kept{cut}{unreadable}",
            e.kept.len(),
            e.scanned
        )
    }
}

/// Characters kept of an event message (after redaction).
pub const MESSAGE_CHARS: usize = 1000;

/// Event messages come from the cluster: redacted, then cut to [`MESSAGE_CHARS`], before they
/// reach the bundle.
pub fn redact(e: &mut EventsEvidence, redactor: &mut Redactor) {
    for r in &mut e.kept {
        r.message = redactor.redact_truncated(&r.message, MESSAGE_CHARS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::fixture_items;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn recorded_warnings_are_kept_when_they_are_about_client_trouble() {
        // Warning events of namespace demo recorded from the lab during quota-exceeded and
        // rbac-revoked, plus KWOK's own warnings.
        let events: Vec<Event> = fixture_items("demo-warning-events.json");
        assert!(!events.is_empty());
        let c = Classifier::shared();
        let kept: Vec<EventRecord> = events
            .iter()
            .filter_map(|e| record(e, c, Timestamp::UNIX_EPOCH))
            .collect();
        assert!(
            kept.iter().any(|e| e.message.contains("exceeded quota")),
            "{kept:?}"
        );
        for e in &kept {
            assert!(e.last_seen.is_some(), "every kept event has a time");
            assert_eq!(e.event_type, "Warning");
        }
        // Nothing is kept from before `since`.
        let far_future = at("2100-01-01T00:00:00Z");
        assert!(events.iter().all(|e| record(e, c, far_future).is_none()));
    }

    #[test]
    fn own_verdicts_and_unrelated_warnings_are_not_kept() {
        let c = Classifier::shared();
        let mk = |reason: &str, message: &str| -> Event {
            serde_json::from_value(serde_json::json!({
                "metadata": {"name": "e", "namespace": "demo"},
                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "demo"},
                "reason": reason, "message": message, "type": "Warning",
                "lastTimestamp": "2026-11-01T10:00:00Z", "count": 7
            }))
            .unwrap()
        };
        let since = at("2026-11-01T09:00:00Z");
        assert!(
            record(
                &mk("KubeDoctorDiagnosis", "authorization (93%): x"),
                c,
                since
            )
            .is_none()
        );
        assert!(
            record(
                &mk("BackOff", "Back-off restarting failed container"),
                c,
                since
            )
            .is_none()
        );
        let r = record(
            &mk(
                "FailedCreate",
                "Error creating: pods \"x\" is forbidden: exceeded quota: q",
            ),
            c,
            since,
        )
        .expect("a quota refusal is kept");
        assert_eq!(r.count, 7);
        assert_eq!(r.involved.to_string(), "pod/demo/p");
        assert!(record(&mk("LeaderElection", "lost lease"), c, since).is_some());
    }

    #[test]
    fn only_the_newest_are_kept() {
        let r = |i: i64| EventRecord {
            involved: ObjectRef::namespaced("Pod", "demo", "p"),
            reason: "r".into(),
            message: format!("{i}"),
            event_type: "Warning".into(),
            count: 1,
            first_seen: None,
            last_seen: Some(Timestamp::from_second(i).unwrap()),
            source: None,
        };
        let (kept, dropped) = keep_newest((0..(KEEP as i64 + 5)).map(r).collect());
        assert!(dropped);
        assert_eq!(kept.len(), KEEP);
        assert_eq!(kept[0].message, format!("{}", KEEP + 4));
        let (kept, dropped) = keep_newest(vec![r(1), r(2)]);
        assert!(!dropped);
        assert_eq!(kept[0].message, "2");
    }
}
