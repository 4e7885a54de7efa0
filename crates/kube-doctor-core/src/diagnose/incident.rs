//! Diagnosis rule 1: error patterns and affected clients, from steps 3 and 5. One incident per
//! client over the threshold: its onset (from the rates; from the first error line when the
//! rates have none), its pattern, its ratios, and its error categories - from the log lines
//! when the logs were read, since they say more than status codes (an x509 failure and a
//! refused connection are both `code="<error>"`), else from the codes.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::bundle::{
    Bundle, Callee, CategoryStats, ClientRates, Episode, ErrorRatios, HostRates, Noise, ObjectRef,
    Pattern, RatioPoint, Target,
};
use crate::category::Category;
use crate::clients::{Judgement, Threshold, judge};
use crate::report::{CategoriesUnit, Evidence};

use super::{ev, fmt_time};

/// One failing client, with everything the other rules correlate against.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Client id.
    pub client: String,
    /// Who it is.
    pub target: Target,
    /// Its pod, when it is one: a workload pod, or a control-plane component's mirror pod.
    pub pod: Option<ObjectRef>,
    /// When errors started.
    pub onset: Option<Timestamp>,
    /// Consistent or intermittent.
    pub pattern: Pattern,
    /// Ratios.
    pub ratios: ErrorRatios,
    /// Requests per status code.
    pub codes: BTreeMap<String, f64>,
    /// Errors per category (log lines, else requests).
    pub categories: BTreeMap<Category, u64>,
    /// What `categories` counts: classified log lines, or failed requests by status code.
    pub categories_unit: CategoriesUnit,
    /// Log lines per category, merged over containers and instances.
    pub logs: BTreeMap<Category, CategoryStats>,
    /// Expected noise (see `ClientRates::noise`).
    pub noise: bool,
    /// Which noise, when it is.
    pub noise_kind: Option<Noise>,
    /// Its error episodes as the alert sees them, oldest first.
    pub episodes: Vec<Episode>,
    /// Failing now (an episode goes on at the window's end), not only in the past.
    pub live: bool,
    /// The rates series.
    pub series: Vec<RatioPoint>,
    /// For the API server as a client: its callees.
    pub by_host: Vec<HostRates>,
    /// What rule 1 saw: the rates and the log counts.
    pub evidence: Vec<Evidence>,
    /// The user step 3 attributed to it (its pod's ServiceAccount, an audit-log user).
    pub user: Option<String>,
}

impl Incident {
    /// Requests answered with `code` in the window.
    pub fn code(&self, code: &str) -> f64 {
        self.codes.get(code).copied().unwrap_or(0.0)
    }

    /// Log lines of a category that are not expected noise.
    pub fn log_count(&self, c: Category) -> u64 {
        self.logs.get(&c).map_or(0, |s| s.count - s.expected)
    }

    /// First log line of a category.
    pub fn log_first(&self, c: Category) -> Option<Timestamp> {
        self.logs.get(&c).and_then(|s| s.first_at)
    }

    /// Whether a log sample of a category mentions `needle` (case-insensitive).
    pub fn log_mentions(&self, c: Category, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        self.logs.get(&c).is_some_and(|s| {
            s.samples
                .iter()
                .any(|l| l.to_ascii_lowercase().contains(&needle))
        })
    }

    /// A log sample of a category, for citing.
    pub fn sample(&self, c: Category) -> Option<&str> {
        self.logs
            .get(&c)
            .and_then(|s| s.samples.first())
            .map(String::as_str)
    }

    /// Whether any of its log samples, in any category, mentions `needle` (case-insensitive).
    pub fn log_mentions_any(&self, needle: &str) -> bool {
        let needle = needle.to_ascii_lowercase();
        self.logs.values().any(|s| {
            s.samples
                .iter()
                .any(|l| l.to_ascii_lowercase().contains(&needle))
        })
    }

    /// The kinds of failure it saw, from its status codes and its log lines.
    pub fn failure_kinds(&self) -> FailureKinds {
        let code = |p: &str| self.codes.iter().any(|(c, n)| c.starts_with(p) && *n > 0.0);
        FailureKinds {
            server: code("5") || self.log_count(Category::ServerError) > 0,
            timeout: self.log_count(Category::Timeout) > 0 || self.code("504") > 0.0,
            transport: self.code("<error>") > 0.0
                || self.log_count(Category::NetworkUnreachable) > 0
                || self.log_count(Category::Timeout) > 0
                || self.log_count(Category::TlsCertificate) > 0,
            denied: code("401") || code("403"),
        }
    }

    /// Whether it is a control-plane component (controller-manager, scheduler...).
    pub fn is_component(&self) -> bool {
        matches!(self.target, Target::Component { .. })
    }

    /// The namespace it runs in.
    pub fn namespace(&self) -> Option<&str> {
        self.pod.as_ref().and_then(|p| p.namespace.as_deref())
    }

    /// The identities its requests may come as, from the cluster's objects (never its logs):
    /// see [`crate::playbook::step6_credentials::client_identities`].
    pub fn identities(&self, b: &Bundle) -> std::collections::BTreeSet<String> {
        crate::playbook::step6_credentials::identities(
            &self.target,
            self.user.as_deref(),
            &b.credentials,
        )
    }
}

/// What kinds of failure a client saw: which server-side trouble can explain it depends on
/// them (a webhook's 500s do not explain read timeouts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureKinds {
    /// 5xx answers, or server-error lines.
    pub server: bool,
    /// Timeouts (lines, or 504).
    pub timeout: bool,
    /// No answer at all (connection refused or reset, timeouts, TLS).
    pub transport: bool,
    /// 401 or 403.
    pub denied: bool,
}

/// The incidents of a bundle at `threshold`: every client over it ([`judge`]), noise
/// included (the benign rule speaks for those).
pub fn incidents(bundle: &Bundle, threshold: Threshold) -> Vec<Incident> {
    let Some(clients) = &bundle.clients else {
        return Vec::new();
    };
    clients
        .clients
        .iter()
        .filter_map(|c| {
            let j = judge(c, threshold, clients.min_intervals);
            j.over.then(|| incident(bundle, c, &j))
        })
        .collect()
}

fn incident(bundle: &Bundle, c: &ClientRates, j: &Judgement) -> Incident {
    // A workload pod, or a control-plane component's mirror pod (its logs).
    let pod = c
        .log_pod()
        .map(|(ns, n)| ObjectRef::namespaced("Pod", ns, n));
    let mut logs: BTreeMap<Category, CategoryStats> = BTreeMap::new();
    if let Some(p) = &pod {
        for pl in bundle.logs.iter().filter(|l| &l.pod == p) {
            for cl in &pl.containers {
                for (cat, s) in &cl.categories {
                    let m = logs.entry(*cat).or_default();
                    m.count += s.count;
                    m.expected += s.expected;
                    m.first_at = min_opt(m.first_at, s.first_at);
                    m.last_at = max_opt(m.last_at, s.last_at);
                    for (k, v) in &s.http_codes {
                        *m.http_codes.entry(*k).or_default() += v;
                    }
                    for (k, v) in &s.clients {
                        *m.clients.entry(k.clone()).or_default() += v;
                    }
                    for line in &s.samples {
                        if m.samples.len() < 3 {
                            m.samples.push(line.clone());
                        }
                    }
                }
            }
        }
    }
    let (categories, categories_unit): (BTreeMap<Category, u64>, _) =
        if logs.values().any(|s| s.count > s.expected) {
            (
                logs.iter()
                    .filter(|(_, s)| s.count > s.expected)
                    .map(|(c, s)| (*c, s.count - s.expected))
                    .collect(),
                CategoriesUnit::LogLines,
            )
        } else {
            (c.categories.clone(), CategoriesUnit::Requests)
        };
    // Watch streams ending and reconnecting: every error the client logged is one the
    // classifier calls expected, and every failed request got no status (code="<error>").
    let watch_reconnects = !logs.is_empty()
        && logs.values().all(|s| s.count == s.expected)
        && c.codes
            .iter()
            .filter(|(code, n)| !code.starts_with('2') && **n > 0.0)
            .all(|(code, _)| code == "<error>");
    // Codes that look like existence checks or conflicts beside log lines of another failure
    // (an RBAC denial, a TLS error) are not noise: the log says what the codes do not.
    // A workload's log only: a control-plane component's holds every kind of line.
    let logs_disagree = |allowed: &[Category]| {
        c.pod().is_some()
            && logs
                .iter()
                .any(|(cat, s)| s.count > s.expected && !allowed.contains(cat))
    };
    let noise = j
        .noise
        .filter(|n| match n {
            Noise::NotFoundChecks => !logs_disagree(&[Category::NotFound]),
            Noise::Conflicts => !logs_disagree(&[Category::InvalidRequest]),
            Noise::NotFoundAndConflicts => {
                !logs_disagree(&[Category::NotFound, Category::InvalidRequest])
            }
            _ => true,
        })
        .or(watch_reconnects.then_some(Noise::WatchReconnects));
    let first_log_error = logs
        .values()
        .filter(|s| s.count > s.expected)
        .filter_map(|s| s.first_at)
        .min();
    let onset = j.onset.or(first_log_error);
    // A client whose every episode ended failed from its onset to the last end, not "since".
    let ended = (!j.episodes.is_empty() && j.episodes.iter().all(|e| e.end.is_some()))
        .then(|| j.episodes.iter().filter_map(|e| e.end).max())
        .flatten();
    let mut evidence = vec![ev(
        3,
        rate_reference(&c.id, None),
        j.onset,
        format!(
            "{:.1} % of {:.0} requests failed (5xx {:.1} %, no response {:.1} %), {}{}",
            c.ratios.non_2xx * 100.0,
            c.requests,
            c.ratios.server_5xx * 100.0,
            c.ratios.transport * 100.0,
            match j.pattern {
                Pattern::Consistent => format!(
                    "consistently ({:.0} % of intervals)",
                    j.pattern_stat.coverage * 100.0
                ),
                // Over in every interval, but too few intervals to call it consistent.
                Pattern::Intermittent if j.pattern_stat.coverage >= 0.999 => format!(
                    "in all {} of its intervals with traffic (too few to call consistent)",
                    j.pattern_stat.intervals_with_traffic
                ),
                Pattern::Intermittent => format!(
                    "intermittently ({:.0} % of intervals)",
                    j.pattern_stat.coverage * 100.0
                ),
                Pattern::None => "below the threshold".to_string(),
            },
            match ended {
                // Never over in any interval: no time to give.
                _ if j.pattern == Pattern::None && j.onset.is_none() => String::new(),
                Some(end) => format!(
                    " from {} to {}",
                    j.onset.map_or("before the window".to_string(), fmt_time),
                    fmt_time(end)
                ),
                None => format!(
                    " since {}",
                    j.onset.map_or("before the window".to_string(), fmt_time)
                ),
            }
        ),
    )];
    // Earlier episodes are history; an incident whose errors all ended is said to be past.
    let live_at = j.episodes.iter().find(|e| e.end.is_none()).map(|e| e.start);
    for e in j.episodes.iter().filter(|e| e.end.is_some()) {
        evidence.push(ev(
            3,
            rate_reference(&c.id, None),
            Some(e.start),
            history(e),
        ));
    }
    if live_at.is_none() && !j.episodes.is_empty() {
        evidence.push(ev(
            3,
            rate_reference(&c.id, None),
            j.episodes.last().and_then(|e| e.end),
            "not failing now: every episode in the window ended".to_string(),
        ));
    }
    if let Some(p) = &pod
        && !logs.is_empty()
    {
        let mut top: Vec<(&Category, &CategoryStats)> = logs.iter().collect();
        top.sort_by_key(|t| std::cmp::Reverse(t.1.count));
        let summary: Vec<String> = top
            .iter()
            .take(3)
            .map(|(c, s)| format!("{c} {}", s.count))
            .collect();
        evidence.push(ev(
            5,
            p.to_string(),
            first_log_error,
            format!("error lines in its log: {}", summary.join(", ")),
        ));
    }
    Incident {
        client: c.id.clone(),
        target: c.target.clone(),
        pod,
        onset,
        pattern: j.pattern,
        ratios: c.ratios,
        codes: c.codes.clone(),
        categories,
        categories_unit,
        logs,
        noise: noise.is_some(),
        noise_kind: noise,
        episodes: j.episodes.clone(),
        live: j.live(),
        series: c.series.clone(),
        by_host: own_calls_are_loopback(c),
        evidence,
        user: c.user.clone(),
    }
}

/// The client's calls by host, with an API server's calls to its own `instance` named
/// [`Callee::Loopback`] (its loopback client dials its own bind address when it does not bind
/// every address). Bundles collected before step 3 named them so carry `unknown` there.
fn own_calls_are_loopback(c: &ClientRates) -> Vec<HostRates> {
    let mut hosts = c.by_host.clone();
    if let Target::ApiServer { instance } = &c.target {
        for h in hosts
            .iter_mut()
            .filter(|h| h.callee == Callee::Unknown && h.host == *instance)
        {
            h.callee = Callee::Loopback;
        }
    }
    hosts
}

/// An ended episode as one line of evidence: from when to when, or the one sample it was.
fn history(e: &crate::bundle::Episode) -> String {
    match e.end {
        // One sample over the threshold: a moment, not a span from X to X.
        Some(end) if end == e.start => format!(
            "history: over the threshold in one sample at {} (the alert's 5-minute ratio peaked at {:.1} %), then recovered",
            fmt_time(e.start),
            e.peak_ratio * 100.0
        ),
        end => format!(
            "history: over the threshold from {} to {} (the alert's 5-minute ratio peaked at {:.1} %), then recovered",
            fmt_time(e.start),
            end.map_or("?".to_string(), fmt_time),
            e.peak_ratio * 100.0
        ),
    }
}

fn min_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_opt(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// How a client's rates are cited as evidence: `rest_client_requests_total{client="ID"}` for
/// rates from Prometheus or /metrics, `audit events{user="NAME"}` for a client read from an
/// audit log (its id is `user:NAME`), with `code="C"` (or `code=~"A|B"`) when given.
pub(crate) fn rate_reference(client: &str, code: Option<&str>) -> String {
    let code = match code {
        None | Some("") => String::new(),
        Some(c) if c.contains('|') => format!(",code=~\"{c}\""),
        Some(c) => format!(",code=\"{c}\""),
    };
    match client.strip_prefix("user:") {
        Some(user) => format!("audit events{{user=\"{user}\"{code}}}"),
        None => format!("rest_client_requests_total{{client=\"{client}\"{code}}}"),
    }
}

#[cfg(test)]
mod tests {
    use super::{Threshold, history, incidents, rate_reference};
    use crate::bundle::Episode;

    /// An episode of one sample is said as a moment, not "from X to X".
    #[test]
    fn an_episode_of_one_sample_is_a_moment() {
        let at: jiff::Timestamp = "2026-11-30T01:05:07Z".parse().unwrap();
        let later: jiff::Timestamp = "2026-11-30T01:08:07Z".parse().unwrap();
        let one = history(&Episode {
            start: at,
            end: Some(at),
            peak_ratio: 0.031,
        });
        assert!(
            one.contains("in one sample at 2026-11-30 01:05:07 UTC") && !one.contains(" to "),
            "{one}"
        );
        let span = history(&Episode {
            start: at,
            end: Some(later),
            peak_ratio: 0.031,
        });
        assert!(
            span.contains("from 2026-11-30 01:05:07 UTC to 2026-11-30 01:08:07 UTC"),
            "{span}"
        );
    }

    /// Rates from an audit log are cited as audit events of the user, not as a metric.
    /// A client whose errors all ended is said to have failed from its onset to the end, not
    /// "since" (a new user read a recovered client as failing still).
    #[test]
    fn a_recovered_client_failed_from_to() {
        let id = "demo-kubers/198.18.7.131:28082";
        let mut b = crate::diagnose::testing::bundle("kps-webhook-5xx");
        let c = b
            .clients
            .as_mut()
            .unwrap()
            .clients
            .iter_mut()
            .find(|c| c.id == id)
            .unwrap();
        // Ten clean minutes after the errors (longer than the alert's rate window).
        let last = *c.series.last().unwrap();
        for i in 1..=40 {
            c.series.push(crate::bundle::RatioPoint {
                at: last.at + jiff::SignedDuration::from_secs(15 * i),
                errors: 0.0,
                server_errors: 0.0,
                transport_errors: 0.0,
                ..last
            });
        }
        b.window.to = c.series.last().unwrap().at;
        b.collected_at = b.window.to;
        let incs = incidents(&b, Threshold::default());
        let inc = incs.iter().find(|i| i.client == id).unwrap();
        let first = &inc.evidence[0].detail;
        assert!(
            first.contains(" from ") && first.contains(" to "),
            "{first}"
        );
        assert!(!first.contains("since"), "{first}");
        let live = crate::diagnose::testing::bundle("kps-webhook-5xx");
        let incs = incidents(&live, Threshold::default());
        let inc = incs.iter().find(|i| i.client == id).unwrap();
        assert!(
            inc.evidence[0].detail.contains(" since "),
            "{}",
            inc.evidence[0].detail
        );
    }

    /// A new user's edit: the 403s renamed 404 (existence checks, so noise) while the log
    /// names RBAC denials. The log says what the codes do not: not noise.
    #[test]
    fn existence_check_codes_beside_denials_in_the_log_are_not_noise() {
        let mut b = crate::diagnose::testing::bundle("rbac-revoked");
        let c = &mut b.clients.as_mut().unwrap().clients[0];
        let n = c.codes.remove("403").unwrap();
        c.codes.insert("404".into(), n);
        let incs = incidents(&b, Threshold::default());
        assert!(
            incs.iter().all(|i| !i.noise),
            "{:?}",
            incs.iter().map(|i| i.noise).collect::<Vec<_>>()
        );
    }

    /// "intermittently (100 % of intervals)" read as a contradiction to a new user: over in
    /// every interval, but too few intervals to call it consistent, says so.
    #[test]
    fn every_interval_of_too_few_is_said_so() {
        let b = crate::diagnose::testing::bundle("apf-throttle");
        let incs = incidents(&b, Threshold::default());
        let details: Vec<&str> = incs.iter().map(|i| i.evidence[0].detail.as_str()).collect();
        assert!(
            details.iter().any(|d| d
                .contains("in all 2 of its intervals with traffic (too few to call consistent)")),
            "{details:?}"
        );
        assert!(
            details.iter().all(|d| !d.contains("intermittently (100 %")),
            "{details:?}"
        );
    }

    #[test]
    fn rates_are_cited_by_where_they_came_from() {
        assert_eq!(
            rate_reference("demo/10.0.0.1:8080", Some("403")),
            "rest_client_requests_total{client=\"demo/10.0.0.1:8080\",code=\"403\"}"
        );
        assert_eq!(
            rate_reference("user:system:serviceaccount:demo:x", Some("403")),
            "audit events{user=\"system:serviceaccount:demo:x\",code=\"403\"}"
        );
        assert_eq!(
            rate_reference("job/i", Some("404|409")),
            "rest_client_requests_total{client=\"job/i\",code=~\"404|409\"}"
        );
        assert_eq!(
            rate_reference("job/i", None),
            "rest_client_requests_total{client=\"job/i\"}"
        );
    }
}
