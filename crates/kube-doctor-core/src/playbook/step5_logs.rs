//! Playbook step 5, pure half: one container instance's log, classified. Lines before the
//! window (by the kubelet's timestamp prefix) are dropped; the rest are classified
//! ([`crate::classify`]) into counts per category, first and last times, HTTP codes, client
//! libraries, RBAC denials and a few sample lines - redacted before they are cut and kept.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::bundle::{AuthzDenialCount, CategoryStats, ContainerLogs};
use crate::classify::{AuthzDenial, Classification, Classifier};
use crate::redact::Redactor;

/// Sample lines kept per category.
pub const SAMPLES: usize = 3;
/// Characters kept of a sample line (after redaction).
pub const SAMPLE_CHARS: usize = 600;

/// Splits the kubelet's timestamp prefix ("2026-11-22T02:13:24.849645Z rest").
pub fn split_timestamp(line: &str) -> (Option<Timestamp>, &str) {
    match line.split_once(' ') {
        Some((ts, rest)) => match ts.parse::<Timestamp>() {
            Ok(t) => (Some(t), rest),
            Err(_) => (None, line),
        },
        None => (None, line),
    }
}

/// What is being classified: which container instance, its log text, the byte cap the read
/// was made with, and the window's start.
#[derive(Debug, Clone, Copy)]
pub struct LogRead<'a> {
    /// Container name.
    pub container: &'a str,
    /// The previous instance (before a restart).
    pub previous: bool,
    /// The log, as the kubelet returned it (with timestamps).
    pub text: &'a str,
    /// The byte cap of the read (`--log-bytes`): a log this long was cut.
    pub cap: usize,
    /// Lines before this are dropped.
    pub since: Timestamp,
}

/// Classifies one container instance's log. Sample lines are redacted with `redactor` first
/// and cut to [`SAMPLE_CHARS`] after, so a secret cut at the edge never keeps its prefix.
pub fn classify_log(
    classifier: &Classifier,
    redactor: &mut Redactor,
    read: LogRead<'_>,
) -> ContainerLogs {
    let mut out = ContainerLogs {
        container: read.container.to_string(),
        previous: read.previous,
        bytes_read: read.text.len() as u64,
        truncated: read.text.len() >= read.cap,
        lines: 0,
        error_lines: 0,
        categories: BTreeMap::new(),
        authz_denials: Vec::new(),
        fetch_error: None,
    };
    let mut denials: BTreeMap<AuthzDenial, AuthzDenialCount> = BTreeMap::new();
    for raw in read.text.lines() {
        let (at, line) = split_timestamp(raw);
        if at.is_some_and(|t| t < read.since) {
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
            s.samples
                .push(redactor.redact(line).chars().take(SAMPLE_CHARS).collect());
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

/// A container instance whose log could not be read.
pub fn unreadable(container: &str, previous: bool, error: String) -> ContainerLogs {
    ContainerLogs {
        container: container.to_string(),
        previous,
        bytes_read: 0,
        truncated: false,
        lines: 0,
        error_lines: 0,
        categories: BTreeMap::new(),
        authz_denials: Vec::new(),
        fetch_error: Some(error),
    }
}

/// The step's note.
pub fn note(logs: &[crate::bundle::PodLogs]) -> String {
    let errors: u64 = logs
        .iter()
        .flat_map(|p| &p.containers)
        .map(|c| c.error_lines)
        .sum();
    let unread = logs.iter().filter(|p| p.read_error.is_some()).count()
        + logs
            .iter()
            .flat_map(|p| &p.containers)
            .filter(|c| c.fetch_error.is_some())
            .count();
    let mut note = format!("{} pods, {errors} API client error lines", logs.len());
    if unread > 0 {
        note.push_str(&format!("; {unread} pods or logs could not be read"));
    }
    note
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Category;
    use crate::playbook::fixture;

    #[test]
    fn a_recorded_log_is_classified_from_the_window_on() {
        // The kube-rs client's log (with kubelet timestamps) during rbac-revoked.
        let text = String::from_utf8(fixture("kubers-log-rbac-revoked.txt")).unwrap();
        let first: Timestamp = split_timestamp(text.lines().next().unwrap()).0.unwrap();
        let mut redactor = Redactor::default();
        let read = LogRead {
            container: "client",
            previous: false,
            text: &text,
            cap: 2 * 1024 * 1024,
            since: first,
        };
        let all = classify_log(Classifier::shared(), &mut redactor, read);
        assert_eq!(all.lines as usize, text.lines().count());
        let authz = &all.categories[&Category::Authorization];
        assert!(authz.count > 0);
        assert!(authz.samples.len() <= SAMPLES);
        assert!(!all.authz_denials.is_empty(), "the denial is parsed");
        assert_eq!(
            all.authz_denials[0].denial.user,
            "system:serviceaccount:demo:kubers-client"
        );
        assert!(!all.truncated);
        // From a later start, fewer lines.
        let last: Timestamp = split_timestamp(text.lines().last().unwrap()).0.unwrap();
        let tail = classify_log(
            Classifier::shared(),
            &mut redactor,
            LogRead {
                since: last,
                ..read
            },
        );
        assert!(tail.lines < all.lines);
    }

    #[test]
    fn samples_are_redacted_before_they_are_cut() {
        // A bearer token that straddles the cut: redacted whole, nothing of it kept.
        let pad = "x".repeat(SAMPLE_CHARS - 30);
        let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFiYyJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVtbzp4In0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl";
        let line = format!(
            "2026-11-01T10:00:00Z E1101 request.go:1] {pad} Authorization: Bearer {token} Unauthorized 401"
        );
        let mut redactor = Redactor::default();
        let out = classify_log(
            Classifier::shared(),
            &mut redactor,
            LogRead {
                container: "c",
                previous: false,
                text: &line,
                cap: usize::MAX,
                since: Timestamp::UNIX_EPOCH,
            },
        );
        let samples: Vec<&String> = out.categories.values().flat_map(|s| &s.samples).collect();
        assert!(!samples.is_empty(), "{out:?}");
        for s in samples {
            assert!(!s.contains("eyJhbGci"), "a token prefix survived: {s}");
            assert!(s.chars().count() <= SAMPLE_CHARS);
        }
    }
}
