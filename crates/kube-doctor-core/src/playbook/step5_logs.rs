//! Playbook step 5, pure half: one container instance's log, classified. Lines before the
//! window (by the kubelet's timestamp prefix) are dropped; the rest are classified
//! ([`crate::classify`]) into counts per category, first and last times, HTTP codes, client
//! libraries, RBAC denials and a few sample lines - redacted before they are cut and kept.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::bundle::{AuthzDenialCount, CategoryStats, ContainerLogs};
use crate::classify::target::{ApiServerHosts, Target, request_target};
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
    /// The API server's host names and addresses, when known: an error line whose request
    /// went elsewhere is counted in `other_hosts`, not as API client evidence. `None` (an
    /// offline read, or a webhook backend's log, which serves rather than calls) counts every
    /// error line.
    pub api_server: Option<&'a ApiServerHosts>,
}

/// Hosts other than the API server kept per container in `other_hosts`; more are summed
/// under `"..."`.
pub const OTHER_HOSTS: usize = 16;

/// The `other_hosts` key of a host that redaction removed from its line (with the secret-bearing
/// URL it was part of).
pub const REDACTED_HOST: &str = "(redacted)";

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
        other_hosts: BTreeMap::new(),
    };
    let mut denials: BTreeMap<AuthzDenial, AuthzDenialCount> = BTreeMap::new();
    let mut lines_read = 0u64;
    let lines = read
        .text
        .lines()
        .map(split_timestamp)
        .filter(|(at, _)| !at.is_some_and(|t| t < read.since))
        .inspect(|_| lines_read += 1);
    // One event per error, however many lines the client printed it over (a Python
    // ApiException with its headers and body, a Java `Caused by:` chain): counted once, at its
    // first line's time, with the status from any of its lines.
    for event in classifier.events(lines) {
        let (at, line) = (event.tag, event.head);
        let Classification {
            category,
            http_code,
            client,
            expected,
            authz,
        } = event.classification;
        // A failure the classifier already put down to another service by its URL (a
        // registry's `/v2/`, a cloud API's host) is counted per host like the others below.
        let elsewhere = !category.is_error()
            && read.api_server.is_some()
            && classifier.failure_elsewhere(line.as_bytes()).is_some();
        if !category.is_error() && !elsewhere {
            continue;
        }
        if let Some(Target::Other(host)) = read.api_server.map(|h| request_target(line, h)) {
            // A host is shown only where redaction keeps it: a URL that carries a secret (a
            // chat webhook, a presigned link) goes whole, its host with it.
            let host = if redactor.redact(line).contains(&host) {
                host
            } else {
                REDACTED_HOST.to_string()
            };
            let key = if out.other_hosts.len() < OTHER_HOSTS || out.other_hosts.contains_key(&host)
            {
                host
            } else {
                "...".to_string()
            };
            *out.other_hosts.entry(key).or_default() += 1;
            continue;
        }
        if elsewhere {
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
    out.lines = lines_read;
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
        other_hosts: BTreeMap::new(),
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
    let elsewhere: u64 = logs
        .iter()
        .flat_map(|p| &p.containers)
        .flat_map(|c| c.other_hosts.values())
        .sum();
    let mut note = format!(
        "{}, {}",
        super::count(logs.len(), "pod", "pods"),
        super::count(
            errors as usize,
            "API client error line",
            "API client error lines"
        )
    );
    if elsewhere > 0 {
        note.push_str(&format!(
            "; {} about requests to other hosts than the API server left out",
            super::count(elsewhere as usize, "error line", "error lines")
        ));
    }
    if unread > 0 {
        let mut why: Vec<&str> = logs
            .iter()
            .filter_map(|p| p.read_error.as_deref())
            .chain(
                logs.iter()
                    .flat_map(|p| &p.containers)
                    .filter_map(|c| c.fetch_error.as_deref()),
            )
            .collect();
        why.sort_unstable();
        why.dedup();
        let shown = why.len().min(3);
        note.push_str(&format!(
            "; {unread} pods or logs could not be read ({}{})",
            why[..shown].join("; "),
            if why.len() > shown { "; ..." } else { "" }
        ));
    }
    note
}

/// Whether no log at all was read: every pod's read failed, or every container's current log
/// (the previous instance's may be absent for good reasons). The step then failed rather than
/// found nothing: its evidence is missing, not empty.
pub fn nothing_read(logs: &[crate::bundle::PodLogs]) -> bool {
    !logs.is_empty()
        && logs.iter().all(|p| {
            p.read_error.is_some()
                || p.containers
                    .iter()
                    .filter(|c| !c.previous)
                    .all(|c| c.fetch_error.is_some())
        })
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
            api_server: None,
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
                api_server: None,
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

    #[test]
    fn errors_of_requests_to_other_hosts_are_not_api_client_evidence() {
        // A client-go pod that also talks to a database and a registry: only the lines about
        // the API server (its ClusterIP, its in-cluster name, an EndpointSlice address, a
        // line naming no host) count; the others are kept per host, out of the categories.
        let text = [
            r#"2026-11-01T10:00:01Z E1101 reflector.go:158] Failed to watch *v1.Pod: Get "https://10.96.0.1:443/api/v1/pods?watch=true": dial tcp 10.96.0.1:443: connect: connection refused"#,
            r#"2026-11-01T10:00:02Z E1101 request.go:1] Get "https://kubernetes.default.svc/api/v1/namespaces/demo/configmaps": net/http: TLS handshake timeout"#,
            r#"2026-11-01T10:00:03Z E1101 reflector.go:158] Failed to list *v1.Secret: Get "https://192.0.2.10:6443/api/v1/secrets": dial tcp 192.0.2.10:6443: i/o timeout"#,
            r#"2026-11-01T10:00:04Z E1101 request.go:1] Get "https://10.0.5.7:8200/v1/secret/app": dial tcp 10.0.5.7:8200: connect: connection refused"#,
            r#"2026-11-01T10:00:05Z E1101 request.go:1] Get "https://registry.example.com/v2/": dial tcp 203.0.113.9:443: i/o timeout"#,
            r#"2026-11-01T10:00:06Z E1101 request.go:1] Get "https://10.0.5.7:8200/v1/secret/app": dial tcp 10.0.5.7:8200: connect: connection refused"#,
            r#"2026-11-01T10:00:07Z E1101 request.go:1] the server has asked for the client to provide credentials 401"#,
            r#"2026-11-01T10:00:08Z E1101 request.go:1] Post "https://hooks.slack.com/services/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": dial tcp 203.0.113.7:443: i/o timeout"#,
        ]
        .join("\n");
        let mut hosts = ApiServerHosts::new();
        hosts.add("10.96.0.1");
        hosts.add("192.0.2.10");
        let read = LogRead {
            container: "c",
            previous: false,
            text: &text,
            cap: usize::MAX,
            since: "2026-11-01T10:00:00Z".parse().unwrap(),
            api_server: Some(&hosts),
        };
        let out = classify_log(Classifier::shared(), &mut Redactor::default(), read);
        assert_eq!(
            out.other_hosts.get("10.0.5.7"),
            Some(&2),
            "{:?}",
            out.other_hosts
        );
        assert_eq!(
            out.other_hosts.get("registry.example.com"),
            Some(&1),
            "{:?}",
            out.other_hosts
        );
        assert_eq!(out.error_lines, 4, "{:?}", out.categories);
        // The chat webhook's URL is a secret: its host is not shown either.
        assert_eq!(
            out.other_hosts.get(REDACTED_HOST),
            Some(&1),
            "{:?}",
            out.other_hosts
        );
        assert!(!format!("{:?}", out.other_hosts).contains("slack"));
        let note = note(&[crate::bundle::PodLogs {
            pod: crate::bundle::ObjectRef::namespaced("Pod", "demo", "p"),
            role: None,
            containers: vec![out.clone()],
            read_error: None,
        }]);
        assert!(
            note.contains("4 error lines about requests to other hosts than the API server"),
            "{note}"
        );
        // Without the API server's addresses the URLs alone still tell: the four requests to
        // paths the API server does not serve (`/v1/secret/app`, `/v2/`, `/services/...`) are
        // not API errors, and nothing is counted per host.
        let all = classify_log(
            Classifier::shared(),
            &mut Redactor::default(),
            LogRead {
                api_server: None,
                ..read
            },
        );
        assert_eq!(all.error_lines, 4);
        assert!(all.other_hosts.is_empty());
    }

    #[test]
    fn an_error_printed_over_several_lines_counts_once_with_its_status() {
        // The official Java client's ApiException as the kubelet serves it: every line with
        // its own timestamp, the status only on the second line.
        let block = [
            "io.kubernetes.client.openapi.ApiException: Message: ",
            "HTTP response code: 403",
            r#"HTTP response body: {"kind":"Status","status":"Failure","message":"pods is forbidden: User \"system:serviceaccount:demo:app\" cannot list resource \"pods\" in API group \"\" in the namespace \"demo\"","reason":"Forbidden","code":403}"#,
            "HTTP response headers: {audit-id=[x]}",
            "\tat io.kubernetes.client.openapi.ApiClient.handleResponse(ApiClient.java:974)",
        ];
        let text: String = block
            .iter()
            .map(|l| format!("2026-11-01T10:00:01.5Z {l}\n"))
            .chain(std::iter::once(
                "2026-11-01T10:00:02Z INFO reconciled\n".to_string(),
            ))
            .collect();
        let out = classify_log(
            Classifier::shared(),
            &mut Redactor::default(),
            LogRead {
                container: "c",
                previous: false,
                text: &text,
                cap: usize::MAX,
                since: "2026-11-01T10:00:00Z".parse().unwrap(),
                api_server: None,
            },
        );
        assert_eq!(out.lines, 6);
        assert_eq!(out.error_lines, 1, "one event: {:?}", out.categories);
        let authz = &out.categories[&Category::Authorization];
        assert_eq!(authz.http_codes.get(&403), Some(&1));
        assert_eq!(
            authz.first_at,
            Some("2026-11-01T10:00:01.5Z".parse().unwrap())
        );
    }

    /// Logs that could not be read make the step failed (not "0 error lines"), and the note
    /// names why, each distinct reason once.
    #[test]
    fn unread_logs_are_named_and_fail_the_step() {
        let pod = |containers: Vec<crate::bundle::ContainerLogs>| crate::bundle::PodLogs {
            pod: crate::bundle::ObjectRef::namespaced("Pod", "demo", "p"),
            role: None,
            containers,
            read_error: None,
        };
        let e503 = "API error 503: unavailable".to_string();
        let unread = vec![pod(vec![
            unreadable("app", false, e503.clone()),
            unreadable("app", true, e503.clone()),
            unreadable("sidecar", false, e503.clone()),
        ])];
        assert!(nothing_read(&unread));
        let n = note(&unread);
        assert!(
            n.ends_with("3 pods or logs could not be read (API error 503: unavailable)"),
            "{n}"
        );
        // One current log read: partial, not failed.
        let mut read = unreadable("sidecar", false, String::new());
        read.fetch_error = None;
        let partial = vec![pod(vec![unreadable("app", false, e503), read])];
        assert!(!nothing_read(&partial));
        assert!(!nothing_read(&[]));
    }
}
