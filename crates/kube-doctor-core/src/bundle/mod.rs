//! The bundle: everything diagnosis needs and nothing secret, as one versioned JSON document
//! (`kube-doctor/bundle/v2`). Collectors write it, `diagnose` reads it; a bundle attached to a
//! ticket gives the same report later as the live run did.
//!
//! Wire format: `serde_json` of [`Bundle`]. Fields are snake_case; optional evidence is `null`
//! when its step did not run; timestamps are RFC 3339 UTC. Readers reject unknown `schema`
//! values with a clear error ([`Bundle::from_json`]); `kube-doctor/bundle/v1` bundles are
//! migrated on load ([`migrate`]). Secrets never enter this type: the collector turns
//! certificates into [`CertMetadata`] and tokens into [`TokenClaims`] before anything is
//! stored, and log samples go through [`crate::redact`].
//!
//! **Measurements, not judgement (v2).** The bundle holds what was measured: counters turned
//! into per-interval series, histograms turned into quantile series, objects as they were.
//! Whether a client is over the threshold, when its errors began, whether a series is server
//! trouble, which topic an event is about and whether a quota is exhausted are decided by
//! [`crate::diagnose`] with its own settings, so `diagnose --threshold 0.05 OLD-BUNDLE`
//! re-judges an old bundle. A few fields keep the collector's own view at the collection
//! threshold for people reading the file (`ClientRates::onset`, `pattern`, `pattern_stat`,
//! `noise`; `QuotaResource::exhausted`); diagnosis never reads them.

mod evidence;
pub mod migrate;

pub use evidence::*;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A field-level parse error, with where it happened when the path says anything.
fn field_error(e: serde_path_to_error::Error<serde_json::Error>) -> BundleError {
    let path = e.path().to_string();
    let source = e.into_inner();
    if path.is_empty() || path == "." {
        BundleError::Parse(source)
    } else {
        BundleError::Field {
            path: crate::escape::one_line(&path, 120),
            source,
        }
    }
}

/// The longest client id a bundle may hold, in bytes.
pub const MAX_ID_BYTES: usize = 1024;

/// The schema word this version writes and reads.
pub const BUNDLE_SCHEMA: &str = "kube-doctor/bundle/v2";
/// The first version's schema word: still read, through [`migrate::v1_to_v2`].
pub const BUNDLE_SCHEMA_V1: &str = "kube-doctor/bundle/v1";

/// The hand-off between collect and diagnose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    /// Always [`BUNDLE_SCHEMA`].
    pub schema: String,
    /// The kube-doctor version that collected it.
    pub tool_version: String,
    /// When collection finished; diagnosis uses it as "now".
    pub collected_at: Timestamp,
    /// The time window the evidence covers.
    pub window: Window,
    /// Which cluster, as the kubeconfig named it (no credentials).
    pub cluster: ClusterInfo,
    /// The settings of the run that matter to diagnosis.
    pub settings: CollectSettings,
    /// One record per playbook step, in step order.
    pub steps: Vec<StepRecord>,
    /// Step 1.
    pub apiserver: Option<ApiServerEvidence>,
    /// Step 2.
    pub events: Option<EventsEvidence>,
    /// Step 3.
    pub clients: Option<ClientsEvidence>,
    /// Step 4, per erroring client pod.
    pub network: Vec<NetworkPath>,
    /// Step 4 for the API server as the client: its path to each callee it fails to call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub callee_paths: Vec<CalleePath>,
    /// Step 5, per erroring client pod.
    pub logs: Vec<PodLogs>,
    /// Step 6, per erroring client pod.
    pub credentials: Vec<PodCredentials>,
    /// Step 7.
    pub server_metrics: Option<ServerMetrics>,
    /// Step 8.
    pub quota_and_flow_control: Option<QuotaAndFlowControl>,
    /// What redaction removed, by kind and count (never the removed values).
    #[serde(default)]
    pub redactions: Vec<Redaction>,
}

/// Errors reading a bundle.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Not JSON, or not a bundle's shape.
    #[error("not a kube-doctor bundle: {0}")]
    Parse(#[source] serde_json::Error),
    /// JSON of a bundle's shape with a wrong value at one field.
    #[error("not a kube-doctor bundle: at {path}: {source}")]
    Field {
        /// Where (`window.from`, `clients.clients[0].codes`), escaped and cut.
        path: String,
        /// What serde_json said.
        #[source]
        source: serde_json::Error,
    },
    /// A bundle of another schema version.
    #[error(
        "bundle schema {found:?} is not supported (this kube-doctor reads {BUNDLE_SCHEMA:?} and {BUNDLE_SCHEMA_V1:?}); {advice}"
    )]
    Schema {
        /// The schema word found (escaped, at most 80 characters).
        found: String,
        /// What to do: upgrade kube-doctor for a newer bundle, re-collect otherwise.
        advice: &'static str,
    },
    /// Nothing in it.
    #[error("the file is empty: give the file `kube-doctor collect --out` wrote")]
    Empty,
    /// Parsed, but its parts contradict each other or hold impossible values (a ratio over 1,
    /// a window that ends before it starts): damaged or edited, so nothing in it is trusted.
    #[error("the bundle does not hold together: {what}; it was damaged or edited: re-collect it")]
    Inconsistent {
        /// What is wrong, escaped.
        what: String,
    },
    /// Compressed or in another text encoding (gzip, UTF-16): what it is, and what to do.
    #[error("the file is {what}, not a bundle's JSON: {advice}")]
    Encoding {
        /// What the file starts like (`gzip-compressed`, `UTF-16 text`).
        what: &'static str,
        /// What to do about it.
        advice: &'static str,
    },
    /// Bigger than a bundle can be ([`MAX_BUNDLE_BYTES`]).
    #[error(
        "{size} bytes is too big for a kube-doctor bundle (at most {MAX_BUNDLE_BYTES}); is it the right file?"
    )]
    TooBig {
        /// The size found, in bytes.
        size: u64,
    },
}

/// The largest bundle read, in bytes (256 MiB). A bundle holds counts, metadata and a few
/// redacted samples: the lab's recorded ones are 30-60 KB, one from a 5,000-pod cluster well
/// under 1 MB; anything near this bound is not a bundle.
pub const MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;

impl Bundle {
    /// An empty bundle for a window; collectors fill it.
    pub fn new(
        window: Window,
        cluster: ClusterInfo,
        settings: CollectSettings,
        now: Timestamp,
    ) -> Self {
        Bundle {
            schema: BUNDLE_SCHEMA.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            collected_at: now,
            window,
            cluster,
            settings,
            steps: Vec::new(),
            apiserver: None,
            events: None,
            clients: None,
            network: Vec::new(),
            callee_paths: Vec::new(),
            logs: Vec::new(),
            credentials: Vec::new(),
            server_metrics: None,
            quota_and_flow_control: None,
            redactions: Vec::new(),
        }
    }

    /// Reads a bundle, checking the schema word before anything else so an old or foreign
    /// file gets a message that says so rather than a field-level parse error. Version 1
    /// bundles are migrated ([`migrate::v1_to_v2`]).
    ///
    /// Errors: [`BundleError::TooBig`] over [`MAX_BUNDLE_BYTES`], [`BundleError::Parse`] for
    /// anything that is not JSON of a bundle's shape, [`BundleError::Schema`] for another
    /// schema word. Messages are one line; values from the file are escaped and cut.
    pub fn from_json(bytes: &[u8]) -> Result<Bundle, BundleError> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(BundleError::TooBig {
                size: bytes.len() as u64,
            });
        }
        if bytes.trim_ascii().is_empty() {
            return Err(BundleError::Empty);
        }
        // A UTF-8 byte order mark (some Windows editors write one) is not JSON; skip it.
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        if bytes.starts_with(&[0x1f, 0x8b]) {
            return Err(BundleError::Encoding {
                what: "gzip-compressed",
                advice: "decompress it first (gunzip -k FILE)",
            });
        }
        if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
            return Err(BundleError::Encoding {
                what: "UTF-16 text",
                advice: "convert it to UTF-8 first (iconv -f UTF-16 -t UTF-8 FILE)",
            });
        }
        let bundle = Self::parse(bytes)?;
        bundle.check()?;
        Ok(bundle)
    }

    /// What the rest of kube-doctor assumes of a bundle, checked once at reading: the window
    /// ends after it starts, no later than collection finished (5 min of clock skew allowed)
    /// and spans at most 8 days; step 3 read the rates exactly when the bundle holds them, as
    /// many clients as its note counted, over the threshold its note names; the threshold is a
    /// ratio in (0, 1], the one the run's settings name; each client's id is unique and not
    /// blank (nor only invisible characters), its ratios are in [0, 1], its request and code
    /// counts finite and not negative, its codes add up to its requests and its ratios to its
    /// codes (the collector derives all three from the same increases), its codes are HTTP
    /// statuses or `<error>`, its id at most [`MAX_ID_BYTES`]; its series, in time order and
    /// inside the window (which has a length), adds up to its totals and has no point with more
    /// errors than requests or more 5xx and no-response errors than errors.
    ///
    /// # Errors
    /// [`BundleError::Inconsistent`] naming the first contradiction found.
    pub fn check(&self) -> Result<(), BundleError> {
        let bad = |what: String| {
            Err(BundleError::Inconsistent {
                what: crate::escape::one_line(&what, 300),
            })
        };
        if self.window.to < self.window.from {
            return bad(format!(
                "its window ends ({}) before it starts ({})",
                self.window.to, self.window.from
            ));
        }
        let skew = jiff::SignedDuration::from_mins(5);
        if self
            .collected_at
            .checked_add(skew)
            .is_ok_and(|t| self.window.to > t)
        {
            return bad(format!(
                "its window ends ({}) after the collection finished ({})",
                self.window.to, self.collected_at
            ));
        }
        let has_points = self
            .clients
            .iter()
            .flat_map(|c| &c.clients)
            .any(|r| !r.series.is_empty());
        if self.window.to == self.window.from && has_points {
            return bad(format!(
                "its window has no length ({} to {}) but holds client rates",
                self.window.from, self.window.to
            ));
        }
        if self.window.length() > jiff::SignedDuration::from_hours(8 * 24) {
            return bad(format!(
                "its window ({} to {}) is longer than the 7 days kube-doctor reads",
                self.window.from, self.window.to
            ));
        }
        let rates_read = rates_unread(&self.steps).is_none();
        let step3_note = self.step(3).and_then(|s| s.note.as_deref());
        let Some(c) = &self.clients else {
            if rates_read {
                return bad("step 3 says it read the client error rates, but the bundle holds none (`clients` is missing)".into());
            }
            return Ok(());
        };
        if rates_read && c.clients.is_empty() {
            return bad("step 3 says it read the client error rates, but the bundle lists no client (collect records that as `empty`)".into());
        }
        if !(c.threshold > 0.0 && c.threshold <= 1.0) {
            return bad(format!(
                "its threshold {} is not a ratio in (0, 1]",
                c.threshold
            ));
        }
        if (c.threshold - self.settings.threshold).abs() > 1e-9 {
            return bad(format!(
                "step 3's threshold {} is not the run's threshold {}",
                c.threshold, self.settings.threshold
            ));
        }
        // Step 3's note names the threshold it counted with (`1 over 1.0 % errors`, one
        // decimal).
        if let Some(pct) = step3_note
            .and_then(|n| n.split_once(" over ").map(|(_, rest)| rest))
            .and_then(|rest| rest.split_once(" %").map(|(p, _)| p))
            .and_then(|p| p.trim().parse::<f64>().ok())
            && (pct - c.threshold * 100.0).abs() > 0.051
        {
            return bad(format!(
                "step 3's note counted clients over {pct} % but its threshold is {} %",
                c.threshold * 100.0
            ));
        }
        let ratio = |x: f64| (0.0..=1.0).contains(&x);
        // Sums of the same increases in another order differ only by rounding.
        let near = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0);
        let count = |x: f64| x.is_finite() && x >= 0.0;
        let mut ids = std::collections::BTreeSet::new();
        for r in &c.clients {
            if r.id
                .chars()
                .all(|ch| ch.is_whitespace() || crate::escape::needs_escape(ch))
            {
                return bad("a client has a blank id".into());
            }
            if r.id.len() > MAX_ID_BYTES {
                return bad(format!(
                    "a client id is {} bytes long (a Prometheus job/instance or user name is far shorter than {MAX_ID_BYTES})",
                    r.id.len()
                ));
            }
            if let Some(code) = r.codes.keys().find(|code| {
                code.as_str() != "<error>"
                    && !code
                        .parse::<u16>()
                        .is_ok_and(|n| (100..=599).contains(&n) && code.len() == 3)
            }) {
                return bad(format!(
                    "client {:?} counts requests under code {code:?} (an HTTP status 100-599 or <error> is expected)",
                    r.id
                ));
            }
            if !ids.insert(r.id.as_str()) {
                return bad(format!("client {:?} is listed twice", r.id));
            }
            let ErrorRatios {
                server_5xx,
                non_2xx,
                transport,
            } = r.ratios;
            if ![server_5xx, non_2xx, transport].into_iter().all(ratio) {
                return bad(format!(
                    "client {:?} has an error ratio outside [0, 1] (5xx {server_5xx}, non-2xx {non_2xx}, no response {transport})",
                    r.id
                ));
            }
            if !count(r.requests) || !count(r.request_rate) || !r.codes.values().all(|n| count(*n))
            {
                return bad(format!(
                    "client {:?} has a request count that is negative or not a number",
                    r.id
                ));
            }
            if !r.codes.is_empty() {
                let sum = |keep: fn(&str) -> bool| -> f64 {
                    r.codes
                        .iter()
                        .filter(|(code, _)| keep(code))
                        .fold(0.0, |a, (_, n)| a + n)
                };
                let all = sum(|_| true);
                if !near(all, r.requests) {
                    return bad(format!(
                        "client {:?} has {all} requests by code but {} in all",
                        r.id, r.requests
                    ));
                }
                let non_2xx = sum(|code| !code.starts_with('2'));
                if !near(non_2xx, r.ratios.non_2xx * r.requests) {
                    return bad(format!(
                        "client {:?} has {non_2xx} non-2xx requests by code but a non-2xx ratio of {}",
                        r.id, r.ratios.non_2xx
                    ));
                }
                let server = sum(|code| code.starts_with('5'));
                let transport = sum(|code| code == "<error>");
                if !near(server, r.ratios.server_5xx * r.requests)
                    || !near(transport, r.ratios.transport * r.requests)
                {
                    return bad(format!(
                        "client {:?} has {server} 5xx and {transport} unanswered requests by code but ratios of {} and {}",
                        r.id, r.ratios.server_5xx, r.ratios.transport
                    ));
                }
            }
            if let Some(p) = r.series.iter().find(|p| {
                ![p.requests, p.errors, p.server_errors, p.transport_errors]
                    .into_iter()
                    .all(count)
                    || p.errors > p.requests * (1.0 + 1e-9)
                    || p.server_errors + p.transport_errors > p.errors * (1.0 + 1e-9) + 1e-9
            }) {
                return bad(format!(
                    "client {:?} has a point at {} with {} errors ({} 5xx, {} no response) of {} requests",
                    r.id, p.at, p.errors, p.server_errors, p.transport_errors, p.requests
                ));
            }
            if let Some(p) = r.series.iter().find(|p| {
                self.window
                    .to
                    .checked_add(skew)
                    .is_ok_and(|latest| p.at > latest)
                    || self
                        .window
                        .from
                        .checked_sub(skew)
                        .is_ok_and(|earliest| p.at < earliest)
            }) {
                return bad(format!(
                    "client {:?} has a point at {}, outside its window ({} to {})",
                    r.id, p.at, self.window.from, self.window.to
                ));
            }
            if let Some(w) = r.series.windows(2).find(|w| w[1].at <= w[0].at) {
                return bad(format!(
                    "client {:?} has its series out of time order ({} then {})",
                    r.id, w[0].at, w[1].at
                ));
            }
            // The series holds the window's intervals, the totals their sum (the collector
            // adds the same increases to both).
            let (series_requests, series_errors) = r
                .series
                .iter()
                .fold((0.0, 0.0), |(q, e), p| (q + p.requests, e + p.errors));
            let apart =
                |series: f64, total: f64| (series - total).abs() > total.max(series) * 1e-3 + 0.5;
            if !r.series.is_empty()
                && (apart(series_requests, r.requests)
                    || apart(series_errors, r.ratios.non_2xx * r.requests))
            {
                return bad(format!(
                    "client {:?} has {series_errors} errors of {series_requests} requests in its series but {} of {} in all",
                    r.id,
                    r.ratios.non_2xx * r.requests,
                    r.requests
                ));
            }
        }
        // Step 3's note opens with the clients it counted (`6 clients, 1 over 1.0 % errors`).
        if rates_read
            && let Some(counted) = self
                .step(3)
                .and_then(|s| s.note.as_deref())
                .and_then(|n| n.split_once(" client"))
                .and_then(|(n, _)| n.parse::<usize>().ok())
            && counted != c.clients.len()
        {
            return bad(format!(
                "step 3 counted {counted} clients but the bundle lists {}",
                c.clients.len()
            ));
        }
        Ok(())
    }

    /// The bundle's JSON, of either schema, without the checks of [`Bundle::check`].
    fn parse(bytes: &[u8]) -> Result<Bundle, BundleError> {
        #[derive(Deserialize)]
        struct Head {
            schema: Option<serde_json::Value>,
        }
        let head: Head = serde_json::from_slice(bytes).map_err(BundleError::Parse)?;
        match head.schema.as_ref().and_then(|s| s.as_str()) {
            Some(BUNDLE_SCHEMA) => {
                let de = &mut serde_json::Deserializer::from_slice(bytes);
                serde_path_to_error::deserialize(de).map_err(field_error)
            }
            Some(BUNDLE_SCHEMA_V1) => {
                let v: serde_json::Value =
                    serde_json::from_slice(bytes).map_err(BundleError::Parse)?;
                serde_path_to_error::deserialize(migrate::v1_to_v2(v)).map_err(field_error)
            }
            _ => {
                let newer = head
                    .schema
                    .as_ref()
                    .and_then(|s| s.as_str())
                    .and_then(|s| s.strip_prefix("kube-doctor/bundle/v"))
                    .and_then(|v| v.parse::<u32>().ok())
                    .is_some_and(|v| v > 2);
                Err(BundleError::Schema {
                    found: match &head.schema {
                        None => "(none)".to_string(),
                        Some(serde_json::Value::String(s)) => crate::escape::one_line(s, 80),
                        Some(other) => crate::escape::one_line(&other.to_string(), 80),
                    },
                    advice: if newer {
                        "a newer kube-doctor wrote it: read it with that version (or upgrade)"
                    } else {
                        "re-collect it with this version"
                    },
                })
            }
        }
    }

    /// The record of one step, if the step ran.
    pub fn step(&self, step: u8) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.step == step)
    }
}

/// A time window, `from` to `to`: the one type that knows the window's length, so nothing
/// recomputes it (or falls back to a guess).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Start.
    pub from: Timestamp,
    /// End: the moment of collection.
    pub to: Timestamp,
}

impl Window {
    /// The window of `length` ending at `to`. A negative or zero length gives an empty window
    /// at `to`; a length beyond what a timestamp can hold starts at the earliest timestamp.
    pub fn ending_at(to: Timestamp, length: std::time::Duration) -> Window {
        let len = jiff::SignedDuration::try_from(length).unwrap_or(jiff::SignedDuration::MAX);
        let from = to.checked_sub(len).unwrap_or(Timestamp::MIN);
        Window { from, to }
    }

    /// Its length (zero when `to` is before `from`).
    pub fn length(&self) -> jiff::SignedDuration {
        self.to
            .duration_since(self.from)
            .max(jiff::SignedDuration::ZERO)
    }

    /// Its length in seconds (fractional, zero or more).
    pub fn seconds(&self) -> f64 {
        self.length().as_secs_f64()
    }

    /// Whether `t` lies inside it (both ends included).
    pub fn contains(&self, t: Timestamp) -> bool {
        self.from <= t && t <= self.to
    }

    /// The resolution of client rate series over this window: about 120 points, never finer
    /// than 5 s (Prometheus' usual scrape interval is 15-30 s; finer steps only repeat
    /// samples).
    pub fn series_step(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64((self.seconds() / 120.0).max(5.0))
    }

    /// The same window, `by` earlier at its start (`by` may be negative to narrow it).
    pub fn widened_before(&self, by: jiff::SignedDuration) -> Window {
        Window {
            from: self.from.checked_sub(by).unwrap_or(Timestamp::MIN),
            to: self.to,
        }
    }
}

/// The cluster, as named by the kubeconfig.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterInfo {
    /// The API server URL.
    pub server: String,
    /// The kubeconfig context, if any.
    pub context: Option<String>,
    /// The API server's version (`/version` gitVersion), if it answered.
    pub version: Option<String>,
}

/// The settings that shaped the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectSettings {
    /// The error ratio at collection: clients over it were investigated in depth (steps 2
    /// and 4-8). `diagnose` judges with its own threshold, this one by default.
    pub threshold: f64,
    /// The client selector the run was scoped to, if any.
    pub client_selector: Option<String>,
    /// Where client error rates came from.
    pub rate_source: Option<RateSource>,
}

/// How a playbook step ended (contract: DESIGN.md report `steps[].status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Evidence gathered.
    Ok,
    /// Ran fine and found nothing to report.
    Empty,
    /// The API server refused (403); `missing_rule` says what RBAC rule was lacking.
    Forbidden,
    /// Failed for another reason; `note` says why.
    Failed,
    /// Ran out of its time budget.
    Timeout,
    /// Not run (nothing to do, or turned off); `note` says why.
    Skipped,
}

impl StepStatus {
    /// The contract word (`ok`, `empty`, `forbidden`, `failed`, `timeout`, `skipped`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Ok => "ok",
            StepStatus::Empty => "empty",
            StepStatus::Forbidden => "forbidden",
            StepStatus::Failed => "failed",
            StepStatus::Timeout => "timeout",
            StepStatus::Skipped => "skipped",
        }
    }
}

/// An RBAC rule a step lacked, as a ClusterRole rule would spell it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RbacRule {
    /// API group ("" for core).
    pub api_group: String,
    /// Resource, with subresource ("pods/log").
    pub resource: String,
    /// Verb.
    pub verb: String,
    /// Namespace, `None` for cluster scope.
    pub namespace: Option<String>,
    /// A non-resource URL ("/metrics") instead of a resource.
    pub non_resource_url: Option<String>,
}

impl std::fmt::Display for RbacRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(url) = &self.non_resource_url {
            return write!(f, "{} {}", self.verb, url);
        }
        let group = if self.api_group.is_empty() {
            "core".to_string()
        } else {
            self.api_group.clone()
        };
        write!(f, "{} {} ({group})", self.verb, self.resource)?;
        match &self.namespace {
            Some(ns) => write!(f, " in namespace {ns}"),
            None => write!(f, " cluster-wide"),
        }
    }
}

/// What one playbook step did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 1 to 8.
    pub step: u8,
    /// The step's title.
    pub title: String,
    /// How it ended.
    pub status: StepStatus,
    /// Wall time.
    pub duration_ms: u64,
    /// Kubernetes API requests made (Prometheus queries are counted in `prometheus_queries`).
    pub api_requests: u32,
    /// Prometheus queries made.
    #[serde(default)]
    pub prometheus_queries: u32,
    /// What happened, in a sentence: why it failed, was skipped, or what it fell back to.
    pub note: Option<String>,
    /// The RBAC rules it lacked, when forbidden (or partly forbidden).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_rules: Vec<RbacRule>,
}

/// Why the client error rates were not read, if they were not: step 3 of `steps` is not
/// `ok` (failed, forbidden, timed out, found no client at all, or did not run). The one test
/// of "could we look?" that reports and exit codes use.
pub fn rates_unread(steps: &[StepRecord]) -> Option<String> {
    match steps.iter().find(|s| s.step == 3) {
        Some(s) if s.status == StepStatus::Ok => None,
        // Read, but nothing to judge (no client matched, no request counted): the note says why.
        Some(s) if s.status == StepStatus::Empty => Some(format!(
            "no client error rates to judge (step 3: {})",
            crate::escape::one_line(s.note.as_deref().unwrap_or("no detail"), 600)
        )),
        Some(s) => Some(format!(
            "client error rates were not read (step 3 {}: {})",
            s.status.as_str(),
            crate::escape::one_line(s.note.as_deref().unwrap_or("no detail"), 600)
        )),
        None => Some("client error rates were not read (step 3 did not run)".into()),
    }
}

/// The titles of the eight steps, by number.
pub fn step_title(step: u8) -> &'static str {
    match step {
        1 => "API server pods",
        2 => "Events",
        3 => "Client error rates",
        4 => "Network path",
        5 => "Client logs",
        6 => "Credentials",
        7 => "API server metrics",
        8 => "Quota and flow control",
        _ => "unknown step",
    }
}

/// One kind of removed data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    /// What was removed ("bearer token in log sample", "secret data").
    pub kind: String,
    /// How many times.
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_checked_before_shape() {
        let err = Bundle::from_json(br#"{"schema":"kube-doctor/bundle/v0"}"#).unwrap_err();
        assert!(err.to_string().contains("kube-doctor/bundle/v0"), "{err}");
        let err = Bundle::from_json(b"{}").unwrap_err();
        assert!(err.to_string().contains("(none)"), "{err}");
        let err = Bundle::from_json(b"{\"schema\": ").unwrap_err();
        assert!(
            err.to_string().starts_with("not a kube-doctor bundle"),
            "{err}"
        );
    }

    #[test]
    fn rbac_rules_read_like_role_rules() {
        let r = RbacRule {
            api_group: String::new(),
            resource: "pods/log".into(),
            verb: "get".into(),
            namespace: Some("demo".into()),
            non_resource_url: None,
        };
        assert_eq!(r.to_string(), "get pods/log (core) in namespace demo");
    }
}
