//! The report: the one model every renderer draws from (text, JSON, Markdown, HTML), sorted
//! before any renderer sees it.
//!
//! JSON wire format (contract, DESIGN.md "Report", `-o json`): `schema`
//! `"kube-doctor/report/v1"`; `window {from, to}`; `clients[] {id, error_ratio, onset, pattern,
//! categories}`; `verdicts[] {cause, confidence, summary, evidence[] {step, ref, at, detail},
//! remediation[]}` sorted by confidence, highest first; `steps[] {step, title, status,
//! duration_ms, api_requests, note}`. Extensions (never removals): `generated_at`, `cluster`,
//! per client `ratios`, `target`, `series` (for charts); per verdict `clients`, `title`; per
//! step `prometheus_queries`, `missing_rules`.

pub mod html;
pub mod markdown;
pub mod text;

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::bundle::{
    ClientsEvidence, ClusterInfo, ErrorRatios, Pattern, RatioPoint, StepRecord, Target, Window,
};
use crate::category::Category;
use crate::clients::{Threshold, judge};

/// The schema word of the JSON report.
pub const REPORT_SCHEMA: &str = "kube-doctor/report/v1";

/// What diagnosis concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// The window diagnosed.
    pub window: Window,
    /// When the evidence was collected (the diagnosis' "now").
    pub generated_at: Timestamp,
    /// The cluster.
    pub cluster: ClusterInfo,
    /// Clients over the threshold (or noisy), worst first.
    pub clients: Vec<ReportClient>,
    /// The clients step 3 read that are under the threshold: the worst
    /// [`UNDER_THRESHOLD_SHOWN`] by error ratio (what the client list leaves out, so a reader
    /// whose alert names another client sees that it was read, and at what ratio). Absent in
    /// the JSON report when there are none.
    #[serde(default, skip_serializing_if = "UnderThreshold::is_empty")]
    pub under_threshold: UnderThreshold,
    /// Causes, most confident first.
    pub verdicts: Vec<Verdict>,
    /// What each playbook step did.
    pub steps: Vec<StepRecord>,
}

/// How many clients under the threshold a report names (the worst by error ratio).
pub const UNDER_THRESHOLD_SHOWN: usize = 5;

/// The clients read but under the threshold (see [`Report::under_threshold`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UnderThreshold {
    /// How many there are in all.
    pub total: usize,
    /// The worst of them, highest error ratio first (at most [`UNDER_THRESHOLD_SHOWN`]).
    pub worst: Vec<QuietClient>,
}

impl UnderThreshold {
    /// No client under the threshold was read.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// One line for every renderer, unescaped (client ids are cluster text): `"6 clients read,
    /// under the threshold: demo/10.0.0.7:8080 (pod demo/api-0) 0.4 % of 1200 requests, ...
    /// and 1 more"`; `None` when there are none.
    pub fn sentence(&self) -> Option<String> {
        if self.is_empty() {
            return None;
        }
        let worst: Vec<String> = self
            .worst
            .iter()
            .map(|c| {
                format!(
                    "{}{} {:.1} % of {:.0} requests",
                    c.id,
                    c.who.as_ref().map_or(String::new(), |w| format!(" ({w})")),
                    c.error_ratio * 100.0,
                    c.requests
                )
            })
            .collect();
        let more = self.total - self.worst.len();
        Some(format!(
            "{} {} read, under the threshold: {}{}",
            self.total,
            if self.total == 1 { "client" } else { "clients" },
            worst.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ))
    }
}

/// A client under the threshold: its id, non-2xx ratio (0.0-1.0) and requests in the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuietClient {
    /// Client id (job/instance, or user:NAME).
    pub id: String,
    /// Non-2xx ratio in the window, 0.0-1.0.
    pub error_ratio: f64,
    /// Requests in the window.
    pub requests: f64,
    /// Who it is when its id does not say (`"pod demo/api-0"`, as the failing clients' list
    /// says it); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
}

/// The headlines every renderer shows for a report without verdicts: (about the clients,
/// about the diagnosis). A report that could not read the client error rates never says
/// that nothing is wrong.
pub fn headlines(r: &Report) -> (String, String) {
    let clients = match r.rates_unread() {
        Some(why) => format!("Could not look: {}.", crate::escape::one_line(&why, 600)),
        None => "No API client is over the error threshold.".to_string(),
    };
    let verdicts = match r.outcome() {
        Outcome::Blind(_) => {
            "Nothing can be said about the clients: nothing is diagnosed, and nothing is known to be healthy."
        }
        _ => "No problem diagnosed.",
    };
    (clients, verdicts.to_string())
}

/// What a report amounts to (see [`Report::outcome`]); in the JSON report as
/// `"outcome": {"state": "diagnosed" | "clean" | "blind", "reason": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// A problem was diagnosed (exit 1).
    Diagnosed,
    /// The client error rates were read and nothing is wrong (exit 0).
    Clean,
    /// Nothing can be said: the reason, in one line (exit 2).
    Blind(String),
}

/// A client in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportClient {
    /// Client id (job/instance, or user:NAME).
    pub id: String,
    /// Non-2xx ratio (the view that sees every failure).
    pub error_ratio: f64,
    /// When errors started.
    pub onset: Option<Timestamp>,
    /// consistent, intermittent or none.
    pub pattern: Pattern,
    /// Errors per category, counted in [`ReportClient::categories_unit`].
    pub categories: BTreeMap<Category, u64>,
    /// What `categories` counts: `"log_lines"` (the client's log was read and classified) or
    /// `"requests"` (failed requests by status code). Absent in reports written before it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories_unit: Option<CategoriesUnit>,
    /// All three ratios.
    pub ratios: ErrorRatios,
    /// Who it is.
    pub target: Target,
    /// Error ratio over time.
    pub series: Vec<RatioPoint>,
    /// Its episodes over the threshold as the alert sees them (oldest first).
    #[serde(default)]
    pub episodes: Vec<crate::bundle::Episode>,
    /// Failing at the window's end (`false`: it recovered; its verdicts speak of history).
    #[serde(default = "yes")]
    pub live: bool,
    /// Over the threshold but expected noise (only 404s, only 409s, watch reconnects, little
    /// traffic): listed so the list matches the alert, not investigated by steps 4-6. Absent
    /// in the JSON report when it is not noise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<crate::bundle::Noise>,
}

/// What a client's category counts count (see [`ReportClient::categories_unit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoriesUnit {
    /// Classified lines of the client's log.
    LogLines,
    /// Failed requests, by status code.
    Requests,
}

impl CategoriesUnit {
    /// The words a renderer puts before the counts: `"log lines"`, `"requests"`.
    pub fn words(self) -> &'static str {
        match self {
            CategoriesUnit::LogLines => "log lines",
            CategoriesUnit::Requests => "requests",
        }
    }
}

/// The category counts of a listed client with their unit: `"log lines: not_found 132,
/// server_error 18"`; the counts alone when the unit is unknown. `limit` caps how many
/// categories (largest first).
pub(crate) fn categories_text(c: &ReportClient, limit: usize) -> String {
    let mut cats: Vec<(&Category, &u64)> = c.categories.iter().collect();
    cats.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let cats: Vec<String> = cats
        .iter()
        .take(limit)
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    match c.categories_unit {
        Some(u) if !cats.is_empty() => format!("{}: {}", u.words(), cats.join(", ")),
        _ => cats.join(", "),
    }
}

/// Who a listed client is, when its id (the metric series' job/instance) does not say:
/// `"pod demo/demo-kubers"`, `"kube-apiserver"`, `"node n1"`; `None` when the id already
/// names it or nothing is known. Unescaped: cluster text, for the renderer to escape.
pub(crate) fn who(c: &ReportClient) -> Option<String> {
    who_is(&c.id, &c.target)
}

/// [`who`] for a client `id` and its `target`.
pub(crate) fn who_is(id: &str, target: &crate::bundle::Target) -> Option<String> {
    use crate::bundle::Target;
    let who = match target {
        Target::Pod {
            namespace, name, ..
        } => format!("pod {namespace}/{name}"),
        Target::ApiServer { .. } if id.contains("apiserver") => return None,
        Target::ApiServer { .. } => "kube-apiserver".to_string(),
        Target::Component { pod: Some(p), .. } => match &p.namespace {
            Some(ns) => format!("pod {ns}/{}", p.name),
            None => format!("pod {}", p.name),
        },
        Target::Component { name, .. } => name.clone(),
        Target::Node { name } => format!("node {name}"),
        _ => return None,
    };
    (!id.contains(who.trim_start_matches("pod ").trim_start_matches("node "))).then_some(who)
}

/// A listed client's tag after its ratio: `" · expected noise: only 404 existence checks"`,
/// or empty when it is a real failure.
pub(crate) fn noise_note(c: &ReportClient) -> String {
    c.noise
        .map(|n| format!(" · expected noise: {}", n.short()))
        .unwrap_or_default()
}

/// The cells of a client's row in the Markdown and HTML tables, unescaped: the client (with who
/// it is), its errors (with peak and noise notes), onset, pattern, categories.
pub(crate) fn client_cells(c: &ReportClient) -> [String; 5] {
    [
        match who(c) {
            Some(who) => format!("{} ({who})", c.id),
            None => c.id.clone(),
        },
        format!(
            "{:.1} %{}{}",
            c.error_ratio * 100.0,
            peak_note(c),
            noise_note(c)
        ),
        onset_text(c, ""),
        format!("{:?}", c.pattern).to_lowercase(),
        categories_text(c, usize::MAX),
    ]
}

/// The heading of the client list: "Failing clients", or, when every listed client is
/// expected noise, a heading that does not call them failing.
pub(crate) fn clients_heading(r: &Report) -> &'static str {
    if !r.clients.is_empty() && r.clients.iter().all(|c| c.noise.is_some()) {
        "Over the threshold, all expected noise"
    } else {
        "Failing clients"
    }
}

fn yes() -> bool {
    true
}

/// What the window's ratio alone does not say about a listed client: its highest 5-minute
/// ratio (the alert's view, which put it on the list even when the whole window's ratio is
/// under the threshold) and whether it has recovered. Empty when it has no episode, or when it
/// is still failing and the peak is within 1.5 times the window's ratio (nothing to add).
/// When a listed client's errors ran: `"since T"` while they go on at the window's end, `"T →
/// E"` for a client that recovered (E: the last sample over the threshold), `"onset before the
/// window"` when its errors began before it. `since` is the word before a live onset (`""` in
/// table cells).
pub(crate) fn onset_text(c: &ReportClient, since: &str) -> String {
    let Some(onset) = c.onset else {
        return "onset before the window".to_string();
    };
    let ended = c.episodes.last().and_then(|e| e.end).filter(|_| !c.live);
    match ended {
        Some(end) if end >= onset => format!(
            "{} → {}",
            crate::diagnose::fmt_time(onset),
            crate::diagnose::fmt_time(end)
        ),
        _ => format!("{since}{}", crate::diagnose::fmt_time(onset)),
    }
}

pub(crate) fn peak_note(c: &ReportClient) -> String {
    let Some(peak) = c
        .episodes
        .iter()
        .map(|e| e.peak_ratio)
        .max_by(f64::total_cmp)
    else {
        return String::new();
    };
    if c.live && peak <= c.error_ratio * 1.5 {
        return String::new();
    }
    format!(
        " (5-min peak {:.1} %{})",
        peak * 100.0,
        if c.live { "" } else { ", recovered" }
    )
}

/// The causes diagnosis can name (contract).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The API server (or its etcd, webhooks, aggregated APIs) is failing.
    ServerSide,
    /// Certificates or tokens.
    Authentication,
    /// RBAC.
    Authorization,
    /// APF or client-side rate limiting.
    RateLimiting,
    /// The path to the API server.
    Network,
    /// ResourceQuota.
    Quota,
    /// Consistent errors, no more specific cause.
    Configuration,
    /// Intermittent errors, no more specific cause.
    Transient,
    /// Expected noise.
    Benign,
    /// Nothing correlates.
    Unknown,
}

impl Cause {
    /// The contract word.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::ServerSide => "server_side",
            Cause::Authentication => "authentication",
            Cause::Authorization => "authorization",
            Cause::RateLimiting => "rate_limiting",
            Cause::Network => "network",
            Cause::Quota => "quota",
            Cause::Configuration => "configuration",
            Cause::Transient => "transient",
            Cause::Benign => "benign",
            Cause::Unknown => "unknown",
        }
    }

    /// A short human title.
    pub fn title(self) -> &'static str {
        match self {
            Cause::ServerSide => "The API server is failing",
            Cause::Authentication => "A certificate or token is rejected",
            Cause::Authorization => "RBAC denies the client",
            Cause::RateLimiting => "The client is rate limited",
            Cause::Network => "The network path to the API server is broken",
            Cause::Quota => "A ResourceQuota is exhausted",
            Cause::Configuration => "Consistent errors without a more specific cause",
            Cause::Transient => "Intermittent errors without a more specific cause",
            Cause::Benign => "The errors over the threshold are expected noise",
            Cause::Unknown => "Nothing correlates with the errors",
        }
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of evidence a verdict cites.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Evidence {
    /// The playbook step it comes from (1-8).
    pub step: u8,
    /// What: `kind/ns/name`, or a metric.
    #[serde(rename = "ref")]
    pub reference: String,
    /// When, if it has a time.
    pub at: Option<Timestamp>,
    /// What it says.
    pub detail: String,
}

/// A cause with its evidence and what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The cause.
    pub cause: Cause,
    /// 0 to 1.
    pub confidence: f64,
    /// One paragraph.
    pub summary: String,
    /// What it rests on (never empty).
    pub evidence: Vec<Evidence>,
    /// What to do, in order.
    pub remediation: Vec<String>,
    /// The clients it explains.
    pub clients: Vec<String>,
}

impl Report {
    /// Sorts everything deterministically: verdicts by confidence then cause, evidence by
    /// time, clients by error ratio.
    pub fn sort(&mut self) {
        // Real failures before expected noise, then the most confident first.
        self.verdicts.sort_by(|a, b| {
            (a.cause == Cause::Benign)
                .cmp(&(b.cause == Cause::Benign))
                .then(b.confidence.total_cmp(&a.confidence))
                .then(a.cause.cmp(&b.cause))
                .then(a.clients.cmp(&b.clients))
        });
        for v in &mut self.verdicts {
            v.evidence.sort_by(|a, b| {
                a.at.cmp(&b.at)
                    .then(a.step.cmp(&b.step))
                    .then(a.reference.cmp(&b.reference))
            });
            v.evidence.dedup();
            v.clients.sort();
            v.clients.dedup();
        }
        self.clients.sort_by(|a, b| {
            a.noise
                .is_some()
                .cmp(&b.noise.is_some())
                .then(b.error_ratio.total_cmp(&a.error_ratio))
                .then(a.id.cmp(&b.id))
        });
        self.steps.sort_by_key(|s| s.step);
    }

    /// Whether a problem was found (exit code 1): any verdict but `benign`.
    pub fn problem_found(&self) -> bool {
        self.verdicts.iter().any(|v| v.cause != Cause::Benign)
    }

    /// What the report amounts to: a problem, nothing wrong, or nothing can be said because
    /// the client error rates were not read. The exit code and every renderer read this.
    pub fn outcome(&self) -> Outcome {
        if self.problem_found() {
            return Outcome::Diagnosed;
        }
        match self.rates_unread() {
            None => Outcome::Clean,
            Some(why) => Outcome::Blind(why),
        }
    }

    /// Why the client error rates were not read, if they were not (step 3 not `ok`).
    pub fn rates_unread(&self) -> Option<String> {
        crate::bundle::rates_unread(&self.steps)
    }

    /// The top verdict.
    pub fn top(&self) -> Option<&Verdict> {
        self.verdicts.first()
    }
}

/// `-o text` of `kube-doctor clients`: a table of clients.
pub fn clients_table(
    out: &mut dyn std::io::Write,
    e: &ClientsEvidence,
    threshold: Threshold,
    all: bool,
) -> std::io::Result<()> {
    let rows: Vec<_> = e
        .clients
        .iter()
        .map(|c| (c, judge(c, threshold, e.min_intervals)))
        .filter(|(_, j)| all || j.over)
        .collect();
    writeln!(
        out,
        "{:<44} {:<30} {:>8} {:>6} {:>8} {:>9} {:<20} {:<12} TOP ERRORS",
        "CLIENT", "WHO", "REQ/S", "5XX%", "NON-2XX%", "NO-RESP%", "ONSET", "PATTERN"
    )?;
    for (c, j) in &rows {
        let who = match &c.target {
            Target::Pod {
                namespace, name, ..
            } => format!("pod {namespace}/{name}"),
            Target::ApiServer { .. } => "kube-apiserver".to_string(),
            Target::Component { name, .. } => name.clone(),
            Target::Node { name } => format!("node {name}"),
            Target::User { name } => format!("user {name}"),
            Target::Unknown => "?".to_string(),
        };
        let mut cats: Vec<(&Category, &u64)> = c.categories.iter().collect();
        cats.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = cats
            .iter()
            .take(3)
            .map(|(k, v)| format!("{k}:{v}"))
            .collect();
        let mut note = top.join(" ");
        if let Some(n) = j.noise {
            note.push_str(&format!(" (noise: {n:?})"));
        }
        for h in c
            .by_host
            .iter()
            .filter(|h| threshold.exceeded_by(h.ratios.non_2xx))
        {
            note.push_str(&format!(
                " [calls to {}: {:.1}% fail]",
                h.host,
                h.ratios.non_2xx * 100.0
            ));
        }
        writeln!(
            out,
            "{:<44} {:<30} {:>8.2} {:>6.1} {:>8.1} {:>9.1} {:<20} {:<12} {}",
            truncate(&c.id, 44),
            truncate(&who, 30),
            c.request_rate,
            c.ratios.server_5xx * 100.0,
            c.ratios.non_2xx * 100.0,
            c.ratios.transport * 100.0,
            j.onset.map_or("-".to_string(), |t| t
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string()),
            format!("{:?}", j.pattern).to_lowercase(),
            note.trim()
        )?;
    }
    if rows.is_empty() {
        writeln!(
            out,
            "(no client over {threshold} errors among {} clients; --all lists them)",
            e.clients.len()
        )?;
    }
    Ok(())
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

/// One point of the timeline: a client's onset, or a piece of evidence with a time.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelineEvent {
    /// When.
    pub at: Timestamp,
    /// What.
    pub label: String,
    /// An onset (not evidence).
    pub onset: bool,
}

/// Onsets and timed evidence of the verdicts, in time order, without repeats.
pub fn timeline(r: &Report) -> Vec<TimelineEvent> {
    let mut events: Vec<TimelineEvent> = r
        .clients
        .iter()
        .filter_map(|c| {
            Some(TimelineEvent {
                at: c.onset?,
                label: format!("errors start: {}", c.id),
                onset: true,
            })
        })
        .collect();
    for v in &r.verdicts {
        for e in &v.evidence {
            if let Some(at) = e.at
                && e.step != 3
                && at >= r.window.from - jiff::SignedDuration::from_hours(1)
                && at <= r.generated_at
            {
                events.push(TimelineEvent {
                    at,
                    label: format!("[{}] {} {}", e.step, e.reference, truncate(&e.detail, 100)),
                    onset: false,
                });
            }
        }
    }
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.label.cmp(&b.label)));
    events.dedup_by(|a, b| a.label == b.label);
    events
}

/// Writes the JSON report: the [`Report`] with its `outcome` added.
pub fn write_json(out: &mut dyn std::io::Write, r: &Report) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Wire<'a> {
        #[serde(flatten)]
        report: &'a Report,
        outcome: Outcome,
    }
    let wire = Wire {
        report: r,
        outcome: r.outcome(),
    };
    crate::escape::write_safe_json(&mut *out, &wire, true).map_err(std::io::Error::other)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A long evidence detail is cut in the timeline with an ellipsis, so a reader sees it was
    /// cut (a new user read `ERROR lab_pytho` as the whole text).
    #[test]
    fn the_timeline_marks_cut_details() {
        let b = crate::bundle::Bundle::from_json(
            &std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/bundles/rbac-revoked.json"),
            )
            .unwrap(),
        )
        .unwrap();
        let mut r = crate::diagnose::diagnose(&b, &crate::diagnose::Settings::default());
        let long = "x".repeat(300);
        r.verdicts[0].evidence[0].detail = long;
        let t = timeline(&r);
        let cut = t
            .iter()
            .find(|e| e.label.contains("xxxx"))
            .expect("the evidence is on the timeline");
        assert!(cut.label.ends_with("x…"), "{}", cut.label);
        assert_eq!(cut.label.matches('x').count(), 99);
    }
}
