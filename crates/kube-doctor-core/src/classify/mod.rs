//! Log-line classification (playbook step 5, and `kube-doctor classify`): which kind of API
//! client error a line is, the HTTP code it carries, which client library wrote it, and for
//! RBAC denials who was denied what.
//!
//! Most lines of a real log are not errors, so the classifier is built around a cheap first
//! pass: a small set of trigger stems ([`TRIGGERS`]) is searched over whole blocks of text at
//! once; only lines holding a trigger get the full phrase analysis. A test proves that every
//! category phrase contains a trigger, so the first pass can never hide an error line.
//!
//! The decision, per candidate line:
//! 1. collect every phrase of [`patterns::PHRASES`] in the line;
//! 2. the client is the highest-ranked client marker found;
//! 3. the URLs the line names (`url.rs`): one with an API path is API context; when the others
//!    point at another service (a public service's host, a path the API server does not
//!    serve), TLS, network, timeout and 5xx phrases after them describe
//!    that service's request and do not count, nor do error words;
//! 4. the category is the first in [`patterns::PRECEDENCE`] among `Specific` phrases and, when the
//!    line is about the API (a client or context phrase), `Contextual` ones; `Weak` phrases only
//!    when nothing stronger matched; transport phrases after a relayed failure (`error dialing
//!    backend: tls: ...`) describe the API server's own call and do not count; a 403 whose
//!    `is forbidden: <reason>` is not RBAC's (`User "u" cannot ...`) is admission's;
//! 5. with API context and a generic error word but no category, the line is `other`, unless its
//!    level is info or debug and it states no status (a retry notice); otherwise `none`;
//! 6. the HTTP code is the one the line states (`(403)`, `code: 403`, `"code":403`, `403
//!    Forbidden`...) or, failing that, the one its canonical Status text implies; a stated
//!    code settles what the words leave open (a 422 whose field error says `Forbidden:` is an
//!    invalid request).

pub mod accuracy;
pub mod authz;
pub mod events;
#[cfg(test)]
mod kinds;
pub mod level;
pub mod patterns;
pub mod render;
pub mod stream;
pub mod target;
mod url;

use aho_corasick::automaton::{Automaton, OverlappingState};
use aho_corasick::dfa::DFA;
use aho_corasick::{Input, MatchKind, packed};
use regex::bytes::Regex;
use serde::{Deserialize, Serialize};

use crate::category::Category;
pub use authz::AuthzDenial;
pub use events::{Event, EventAssembler, EventVerdict, Events};
pub use patterns::ClientLib;
use patterns::{PHRASES, PRECEDENCE, Strength};

/// Lowercase stems, at least one of which every error phrase contains (checked by a test). The
/// first pass looks only for these, so it stays small enough for the SIMD (Teddy) searcher.
/// Teddy screens on a pattern's first three bytes, so each stem starts where ordinary log text
/// rarely does ("orbidden", not "forbidden": "for" is everywhere); the stems were chosen by
/// counting first trigrams in real control-plane and application logs.
pub const TRIGGERS: &[&str] = &[
    "err",
    "fail",
    "exception",
    "unable",
    "cannot",
    "could not",
    "orbidden",
    "rbac: ",
    "unauthorized",
    "credential",
    "invalid",
    "expired",
    "x509",
    "cert",
    "quota",
    "webhook",
    "denied",
    "usage per",
    "specify",
    "too many",
    "manyrequest",
    "sponse code",
    "throttl",
    "te limit",
    "telimit",
    "etcdserver",
    "unavailable",
    "not found",
    "not allow",
    "not sync",
    "notfound",
    "no matches",
    "doesn't have",
    "nflict",
    "has been modified",
    "already exist",
    "immutable",
    "unprocessable",
    "bad ",
    "too old",
    "dial ",
    "fused",
    "no route",
    "no such host",
    "unreach",
    "reset",
    "broken pipe",
    "broken: ",
    "rejected our",
    "fatal alert",
    "socket disconnected",
    "eof",
    "ion lost",
    "ion closed",
    "no cached",
    "goaway",
    "aborted",
    "closed network",
    "orce closed",
    "deadline",
    "meout",
    "med out",
    "medout",
    "did not complete",
    "not ready after",
    "anceled",
];

/// Bytes of a block scanned at once by every trigger group in turn (small enough to stay in
/// the CPU's L2 cache between the passes).
const SCAN_PIECE: usize = 128 * 1024;

/// Triggers per packed searcher (see `Classifier::trigger_groups`). Chosen by measurement on
/// the benchmark log whenever triggers are added: with 66 triggers, groups of 11 (six full
/// passes) ran 0.38 s on 256 MiB against 0.43 s for groups of 12 (a sixth pass of 6), 0.41 s
/// for 10 and 0.47 s for 14 (median of 5, bench/classify.sh's log).
const TRIGGER_GROUP: usize = 11;

/// The verdict on one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classification {
    /// The error category, `none` for ordinary lines.
    pub category: Category,
    /// The HTTP status the line states or implies, when there is one.
    pub http_code: Option<u16>,
    /// The client library that wrote the line, when it can be told.
    pub client: Option<ClientLib>,
    /// Expected noise: a watch stream that ended and will be re-established, a 410 relist.
    pub expected: bool,
    /// For RBAC denials: who was denied what.
    pub authz: Option<AuthzDenial>,
}

impl Classification {
    /// An ordinary line.
    pub const NONE: Classification = Classification {
        category: Category::None,
        http_code: None,
        client: None,
        expected: false,
        authz: None,
    };
}

/// Serialises `ClientLib` with the contract's words.
impl Serialize for ClientLib {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ClientLib {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        ClientLib::parse(&word)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown client library {word:?}")))
    }
}

/// Rank of client markers when a line holds several: the most specific wins (kubectl prints
/// client-go errors; controller-runtime logs through client-go).
fn client_rank(c: ClientLib) -> u8 {
    match c {
        ClientLib::Kubectl => 0,
        ClientLib::ControllerRuntime => 1,
        ClientLib::KubeRs => 2,
        ClientLib::Fabric8 => 3,
        ClientLib::Java => 4,
        ClientLib::Dotnet => 5,
        ClientLib::ClientNode => 6,
        ClientLib::Python => 7,
        ClientLib::ClientGo => 8,
    }
}

/// The classifier: build once, share freely (it is `Sync`).
pub struct Classifier {
    /// Triggers, ASCII case-insensitive: for single lines. The concrete DFA type, not the
    /// `AhoCorasick` wrapper: the wrapper steps through a trait object for every byte, which
    /// made the phrase search below five times slower (measured on the labelled lines).
    triggers: DFA,
    /// Triggers, case-sensitive over lowercased text, in small groups: the SIMD (Teddy)
    /// searcher screens on nibbles of a pattern's first bytes, and with many letter-only
    /// patterns in one searcher nearly every byte passes the screen. Groups of about a dozen
    /// keep the screen tight; several fast passes beat one slow one (measured: 0.6 s/GB
    /// against 1.1 s/GB for all triggers in one searcher).
    trigger_groups: Vec<packed::Searcher>,
    phrases: DFA,
    code_re: Regex,
    status_re: Regex,
    authz: authz::AuthzExtractor,
}

/// Matches collected per line (more are ignored: a line with more phrases than this is decided
/// by its first ones).
const MAX_MATCHES: usize = 64;
/// Neutral ranges kept per line.
const MAX_NEUTRAL: usize = 8;

/// One line read by [`Classifier::analyse`].
#[derive(Debug, Clone, Default)]
pub(crate) struct Analysis {
    /// The line's verdict on its own.
    pub classification: Classification,
    /// The client library the line names, even when it is no error (a stack frame).
    pub client: Option<ClientLib>,
    /// The HTTP code the line states (not one a phrase implies).
    pub explicit: Option<u16>,
}

impl Default for Classification {
    fn default() -> Self {
        Classification::NONE
    }
}

/// HTTP reason phrases (letters only, lower case) and .NET `HttpStatusCode` names.
const STATUS_NAMES: &[(&str, u16)] = &[
    ("ok", 200),
    ("created", 201),
    ("accepted", 202),
    ("nocontent", 204),
    ("badrequest", 400),
    ("unauthorized", 401),
    ("forbidden", 403),
    ("notfound", 404),
    ("methodnotallowed", 405),
    ("notacceptable", 406),
    ("requesttimeout", 408),
    ("conflict", 409),
    ("gone", 410),
    ("preconditionfailed", 412),
    ("requestentitytoolarge", 413),
    ("unsupportedmediatype", 415),
    ("unprocessableentity", 422),
    ("toomanyrequests", 429),
    ("internalservererror", 500),
    ("notimplemented", 501),
    ("badgateway", 502),
    ("serviceunavailable", 503),
    ("gatewaytimeout", 504),
];

/// Where a line names a status by its reason phrase (see `Classifier::status_name`).
const STATUS_PATTERN: &str = r#"(?ix)
      invalid\s+status\s+code\s+'(?P<net>[a-z]+)'
    | (?:exception|(?P<error>error)):\s*'?(?P<tail>forbidden|unauthorized|not\s?found|conflict|bad\s?request
        |unprocessable\s?entity|too\s?many\s?requests|internal\s?server\s?error
        |service\s?unavailable|gateway\s?timeout|bad\s?gateway|gone)'?[.!]?\s*$
"#;

/// Whether a line ends in a bracketed three-digit status, `(404)`.
fn ends_in_bracketed_code(line: &[u8]) -> bool {
    let t = line.trim_ascii_end();
    t.len() >= 5
        && t[t.len() - 5] == b'('
        && t[t.len() - 1] == b')'
        && t[t.len() - 4..t.len() - 1].iter().all(u8::is_ascii_digit)
}

/// Whether a line is a `kubectl describe` field `Reason:` padded to its column and holding one
/// word (`Reason:                ReconcileError`, `Reason:       NotFound`): a condition's or a
/// container state's reason, a name for a state rather than a failure the line states (the
/// Python client's `Reason: Not Found` has one space).
fn is_describe_reason(line: &[u8]) -> bool {
    let Some(rest) = line.trim_ascii().strip_prefix(b"Reason:") else {
        return false;
    };
    rest.starts_with(b"  ") && !rest.trim_ascii().iter().any(|b| b.is_ascii_whitespace())
}

/// Whether a line is a stack frame: Java/Node/.NET `at ...(...)`, Python `File "...", line N`.
fn is_frame(line: &[u8]) -> bool {
    let t = skip_timestamp(line.trim_ascii_start()).trim_ascii_start();
    if let Some(rest) = t.strip_prefix(b"at ") {
        return memchr::memmem::find(rest, b": ").is_none();
    }
    if t.starts_with(b"File \"") {
        return memchr::memmem::find(t, b"\", line ").is_some();
    }
    // A traceback's source line (`raise ApiException(http_resp=r)`) is code, not a message.
    t.starts_with(b"raise ") || (t.starts_with(b"... ") && t.ends_with(b" more"))
}

/// `line` after a leading RFC 3339 timestamp (`2023-05-19T12:20:44.599029363Z `, as
/// `kubectl logs --timestamps` and container runtimes prefix each line), or `line` itself.
fn skip_timestamp(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(line.len());
    let token = &line[..end];
    let looks_like_time = token.len() >= 20
        && token[..4].iter().all(u8::is_ascii_digit)
        && token[4] == b'-'
        && token[10] == b'T'
        && token
            .iter()
            .all(|b| b.is_ascii_digit() || b"-:.TZ+".contains(b));
    if looks_like_time { &line[end..] } else { line }
}

/// Whether a line is Prometheus text exposition (`# HELP`/`# TYPE` comments and `name{labels}
/// value [timestamp]` samples): a counter named `..._errors_total` states no failure.
fn is_metric_sample(line: &[u8]) -> bool {
    let t = line.trim_ascii();
    if t.starts_with(b"# HELP ") || t.starts_with(b"# TYPE ") {
        return true;
    }
    let name_len = t
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_' || *b == b':'))
        .unwrap_or(t.len());
    if name_len == 0 || t[0].is_ascii_digit() {
        return false;
    }
    let mut rest = &t[name_len..];
    // Exposition names are snake_case or carry labels: `Error 500` is no sample.
    if !t[..name_len].contains(&b'_') && rest.first() != Some(&b'{') {
        return false;
    }
    if rest.first() == Some(&b'{') {
        let Some(close) = memchr::memrchr(b'}', rest) else {
            return false;
        };
        rest = &rest[close + 1..];
    }
    if !rest.first().is_some_and(u8::is_ascii_whitespace) {
        return false;
    }
    let mut fields = rest
        .split(u8::is_ascii_whitespace)
        .filter(|f| !f.is_empty());
    let is_number = |f: &[u8]| {
        matches!(f, b"NaN" | b"+Inf" | b"-Inf")
            || (f.iter().any(u8::is_ascii_digit)
                && f.iter()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')))
    };
    match (fields.next(), fields.next(), fields.next()) {
        (Some(v), None, None) => is_number(v),
        (Some(v), Some(ts), None) => is_number(v) && ts.iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

impl Default for Classifier {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classifier")
            .field("phrases", &PHRASES.len())
            .finish()
    }
}

/// Explicit HTTP codes as clients print them. Only 4xx and 5xx are taken.
const CODE_PATTERN: &str = r#"(?ix)
      \((?P<a>[45]\d\d)\)                                   # python ApiException: (403)
    | \bcode["']?\s*[:=]\s*"?(?P<b>[45]\d\d)\b              # code: 403, "code":403, 'code': 403, code=403
    | statuscode["']?\s*[:=]\s*(?P<c>[45]\d\d)\b            # statusCode: 403
    | http-code:\s*(?P<d>[45]\d\d)\b                        # client-node ApiException
    | \bhttp[\s/:]+(?:\d(?:\.\d)?\s+)?(?:status\()?"?(?P<e>[45]\d\d)\b  # HTTP 403, HTTP/1.1 Status(403)
    | \bstatus(?:\s+code)?\s*:?\s*'?(?P<f>[45]\d\d)\b          # status 403, status code 403, status code '500'
    | \b(?P<g>[45]\d\d)[\s:,]+(?:client\s+error|forbidden|unauthorized|not\s+found|too\s+many\s+requests|conflict|internal\s+server\s+error|service\s+unavailable|bad\s+request|unprocessable\s+entity|gateway\s+timeout|bad\s+gateway|message=)
    | clientresponseerror:\s*(?P<h>[45]\d\d)\b              # aiohttp
    | received\s+a\s+(?P<i>[45]\d\d)\b
    | \bcode:(?P<j>[45]\d\d)\b
    | response\s*(?:code)?\s*:\s*(?P<k>[45]\d\d)\b     # HTTP response code: 404, ResponseCode: 503, server response: 403
"#;

impl Classifier {
    /// The process's one classifier, built on first use. Building one compiles its automata
    /// (several milliseconds of CPU), so everything that classifies a few lines (events, log
    /// samples, step notes, every investigation `serve` runs) shares this one.
    pub fn shared() -> &'static Classifier {
        static SHARED: std::sync::LazyLock<Classifier> = std::sync::LazyLock::new(Classifier::new);
        &SHARED
    }

    /// Builds the automata and regexes. Cheap enough to call once per process.
    pub fn new() -> Classifier {
        let triggers = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostFirst)
            .build(TRIGGERS)
            .expect("trigger stems are valid patterns");
        let mut sorted: Vec<&str> = TRIGGERS.to_vec();
        sorted.sort_unstable();
        let trigger_groups = sorted
            .chunks(TRIGGER_GROUP)
            .map(|group| {
                let mut config = packed::Config::new();
                config
                    .match_kind(packed::MatchKind::LeftmostFirst)
                    .builder()
                    .extend(group)
                    .build()
                    .expect("the packed searcher takes small groups of patterns")
            })
            .collect();
        let phrases = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(PHRASES.iter().map(|p| p.text))
            .expect("phrases are valid patterns");
        let code_re = Regex::new(CODE_PATTERN).expect("code pattern is valid");
        let status_re = Regex::new(STATUS_PATTERN).expect("status pattern is valid");
        Classifier {
            triggers,
            trigger_groups,
            phrases,
            code_re,
            status_re,
            authz: authz::AuthzExtractor::new(),
        }
    }

    /// Whether a line holds any trigger stem, i.e. could be an error line at all.
    pub fn is_candidate(&self, line: &[u8]) -> bool {
        // An unanchored search of a DFA built this way cannot fail; if it could, the line would
        // be looked at in full rather than dropped.
        self.triggers
            .try_find(&Input::new(line).earliest(true))
            .map_or(true, |m| m.is_some())
    }

    /// Classifies one line (without its newline). Lines that hold no trigger are `none` at the
    /// cost of one search.
    pub fn classify(&self, line: &[u8]) -> Classification {
        if !self.is_candidate(line) {
            return Classification::NONE;
        }
        self.classify_candidate(line)
    }

    /// Calls `on_candidate` for every line of `block` that holds a trigger, with its byte range
    /// in `block` and its classification, in order. Lines without a trigger are skipped without
    /// being split out, which is what makes whole-file counting fast. `block` holds whole
    /// lines; `scratch` is reused between calls (it receives a lowercased copy of the block).
    pub fn for_each_candidate(
        &self,
        block: &[u8],
        scratch: &mut Vec<u8>,
        mut on_candidate: impl FnMut(std::ops::Range<usize>, Classification),
    ) {
        for start in self.candidate_starts(block, scratch) {
            let end = memchr::memchr(b'\n', &block[start..]).map_or(block.len(), |i| start + i);
            let line = trim_cr(&block[start..end]);
            on_candidate(start..start + line.len(), self.classify_candidate(line));
        }
    }

    /// The first pass alone: the start offsets of `block`'s lines that hold a trigger, in
    /// order (see [`Classifier::for_each_candidate`]).
    pub fn candidate_starts(&self, block: &[u8], scratch: &mut Vec<u8>) -> Vec<usize> {
        // Start offsets of candidate lines, from every group's pass. The block is scanned in
        // pieces that stay in the CPU's cache across the group passes (whole lines each).
        let mut starts: Vec<usize> = Vec::new();
        let mut from = 0;
        while from < block.len() {
            let mut to = (from + SCAN_PIECE).min(block.len());
            if to < block.len() {
                to = memchr::memrchr(b'\n', &block[from..to]).map_or_else(
                    || memchr::memchr(b'\n', &block[to..]).map_or(block.len(), |i| to + i + 1),
                    |i| from + i + 1,
                );
            }
            scratch.clear();
            scratch.extend(block[from..to].iter().map(u8::to_ascii_lowercase));
            for group in &self.trigger_groups {
                let mut at = 0;
                while at < scratch.len() {
                    let Some(m) = group.find(&scratch[at..]) else {
                        break;
                    };
                    let hit = at + m.start();
                    let line_start = memchr::memrchr(b'\n', &scratch[..hit]).map_or(0, |i| i + 1);
                    starts.push(from + line_start);
                    at = memchr::memchr(b'\n', &scratch[hit..])
                        .map_or(scratch.len(), |i| hit + i + 1);
                }
            }
            from = to;
        }
        starts.sort_unstable();
        starts.dedup();
        starts
    }

    fn classify_candidate(&self, line: &[u8]) -> Classification {
        self.analyse(line).classification
    }

    /// Reads one candidate line: its classification, and the client library named on it even
    /// when the line itself is not an error (a stack frame of a multi-line block).
    pub(crate) fn analyse(&self, line: &[u8]) -> Analysis {
        self.analyse_with(line, true)
    }

    /// For a line [`Classifier::classify`] calls `none` because the failure it states is about
    /// a request to another service (a URL whose host or path is not the API's, see `url.rs`):
    /// the category the failure would have had. `None` for every other line, at the cost of a
    /// substring search when the line names no URL. Step 5 counts such lines per host instead
    /// of dropping them.
    pub fn failure_elsewhere(&self, line: &[u8]) -> Option<Category> {
        if memchr::memmem::find(line, b"://").is_none()
            && memchr::memmem::find(line, b"with url: /").is_none()
        {
            return None;
        }
        if !self.is_candidate(line)
            || self
                .analyse_with(line, true)
                .classification
                .category
                .is_error()
        {
            return None;
        }
        Some(self.analyse_with(line, false).classification.category).filter(|c| c.is_error())
    }

    /// [`Classifier::analyse`], reading the line's URLs or not (`use_urls`).
    fn analyse_with(&self, line: &[u8], use_urls: bool) -> Analysis {
        if is_metric_sample(line) || is_describe_reason(line) {
            return Analysis::default();
        }
        // Matches first, then the decision: a neutral phrase ("Rate Limited Requeue") ends after
        // the phrases inside it, so they can only be discounted once all matches are known.
        let mut found = [(0u16, 0usize, 0usize); MAX_MATCHES];
        let mut n_found = 0;
        let mut neutral: [std::ops::Range<usize>; MAX_NEUTRAL] = Default::default();
        let mut n_neutral = 0;
        let input = Input::new(line);
        let mut state = OverlappingState::start();
        loop {
            if self
                .phrases
                .try_find_overlapping(&input, &mut state)
                .is_err()
            {
                break;
            }
            let Some(m) = state.get_match() else {
                break;
            };
            let id = m.pattern().as_usize();
            if PHRASES[id].neutral {
                if n_neutral < MAX_NEUTRAL {
                    neutral[n_neutral] = m.range();
                    n_neutral += 1;
                }
            } else if n_found < MAX_MATCHES {
                found[n_found] = (id as u16, m.start(), m.end());
                n_found += 1;
            }
        }
        let neutral = &neutral[..n_neutral];
        let mut strong_client: Option<ClientLib> = None;
        // Where the strong marker matched: a longer marker around it wins whatever the ranks
        // (`k8s.Exceptions.KubernetesClientException` is .NET's, not fabric8's).
        let mut strong_at = 0..0;
        // Whether the strong marker names a library itself (see [`Phrase::library`]).
        let mut strong_library = false;
        let mut weak_client: Option<ClientLib> = None;
        let mut context = false;
        // Context from anything but a controller-runtime marker (see below).
        let mut api_context = false;
        // Where generic error words are (a level header may discount them, see below).
        let mut error_words = [0usize; 4];
        let mut n_error_words = 0;
        let mut strong_error = false;
        let mut expected = false;
        let mut not_api = false;
        let mut relayed = false;
        // Best category per strength: index into PRECEDENCE, lower is stronger.
        let mut specific: Option<usize> = None;
        let mut contextual: Option<usize> = None;
        let mut weak: Option<usize> = None;
        // The HTTP code implied by the phrases of each category; `leaked` is the first code a
        // Specific phrase implies, whatever its category (a webhook failure arrives as "Internal
        // error occurred", which implies 500).
        let mut implied = [None::<u16>; PRECEDENCE.len()];
        let mut leaked: Option<u16> = None;
        // kubectl's `Error from server (InternalError): ...` names the status the client got;
        // a code in the message after it (`unexpected response: 400`) is someone else's.
        let mut kubectl_status: Option<u16> = None;
        // A relayed phrase with a category (`error dialing backend`) names the failure; the
        // transport words after it (TLS, network, timeout) describe the API server's own
        // outbound call (`tls: failed to verify certificate` of the kubelet's serving
        // certificate), not the client's connection.
        let relayed_from = found[..n_found]
            .iter()
            .filter(|(id, ..)| {
                let ph = &PHRASES[*id as usize];
                ph.relayed && ph.category.is_some()
            })
            .map(|&(_, _, end)| end)
            .min();
        // Codes after an admission webhook's call or denial are the webhook's (its reason, or
        // what it answered the API server); the client got the API server's answer (500 for a
        // webhook it could not call, the denial's own status otherwise). An aggregated API's
        // code relayed by the aggregator's log is that API's answer, and stays.
        let webhook_from = found[..n_found]
            .iter()
            .filter(|(id, ..)| {
                let ph = &PHRASES[*id as usize];
                ph.relayed
                    && ph
                        .category
                        .is_some_and(|(c, _)| c == Category::QuotaOrAdmission)
            })
            .map(|&(_, _, end)| end)
            .min();
        // The URLs the line names (only on lines with a phrase, a few per line): one that the API
        // serves makes the line about the API; when every URL with a path points elsewhere,
        // the failure words after it describe that request (another service's), not the API's.
        let mut url_buf = [url::Found {
            start: 0,
            target: url::Target::Unknown,
        }; url::MAX_URLS];
        let n_urls = if use_urls && n_found > 0 {
            url::urls(line, &mut url_buf)
        } else {
            0
        };
        let urls = &url_buf[..n_urls];
        let api_url = urls.iter().any(|u| u.target == url::Target::Api);
        // requests' HTTPError names its URL last (`404 Client Error: Not Found for url:
        // https://...`): the whole line is about that request.
        const FOR_URL: &[u8] = b" for url: ";
        let for_url = (!urls.is_empty())
            .then(|| memchr::memmem::find(line, FOR_URL))
            .flatten()
            .map(|at| at + FOR_URL.len());
        let elsewhere_from = urls
            .iter()
            .find(|u| u.target == url::Target::Elsewhere)
            .map(|u| {
                // urllib3's `Max retries exceeded with url: /x (Caused by ...)` names the
                // request the whole line is about, as requests' `for url:` does.
                if for_url == Some(u.start) || line[u.start..].starts_with(b"with url: ") {
                    0
                } else {
                    u.start
                }
            })
            .or_else(|| use_urls.then(|| url::dial_elsewhere(line)).flatten())
            .filter(|_| !api_url && relayed_from.is_none());
        context |= api_url;
        // A failure of another service's request does not make the line `other` either.
        let about_elsewhere = elsewhere_from.is_some();
        for &(id, start, end) in &found[..n_found] {
            if neutral.iter().any(|r| r.start <= start && end <= r.end) {
                continue;
            }
            let ph = &PHRASES[id as usize];
            // A status word after it is the backend's answer to the API server too (`Error
            // from server: Get "https://node:10250/containerLogs/...": Forbidden`: the kubelet
            // refused the API server, which failed the client's request).
            // (Not a precise phrase: `Authorization error (user=kube-apiserver-kubelet-client`
            // names the kubelet's authorizer, which the client is told about as such.)
            let after_relay = relayed_from.is_some_and(|at| start >= at)
                && ph.category.is_some_and(|(c, s)| {
                    matches!(
                        c,
                        Category::TlsCertificate | Category::NetworkUnreachable | Category::Timeout
                    ) || matches!(c, Category::Authorization | Category::Authentication)
                        && s != Strength::Specific
                })
                || elsewhere_from.is_some_and(|at| start >= at)
                    && ph.category.is_some_and(|(c, _)| {
                        matches!(
                            c,
                            Category::TlsCertificate
                                | Category::NetworkUnreachable
                                | Category::Timeout
                                | Category::ServerError
                                | Category::Authentication
                                | Category::Authorization
                                | Category::NotFound
                                | Category::InvalidRequest
                                | Category::RateLimited
                        )
                    });
            let in_word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
            if ph.word
                && (line.get(start.wrapping_sub(1)).is_some_and(in_word)
                    || line.get(end).is_some_and(in_word))
            {
                continue;
            }
            if ph.at_start && !line[..start].trim_ascii().is_empty() {
                continue;
            }
            if ph.exact_case && &line[start..end] != ph.text.as_bytes() {
                continue;
            }
            // A status word joined to a name by a hyphen is the name (`ConfigMap
            // unauthorized-users`, a pod `forbidden-app`): Kubernetes names are hyphenated.
            if ph.category.is_some()
                && ph.text.bytes().all(|b| b.is_ascii_alphabetic())
                && (line.get(start.wrapping_sub(1)) == Some(&b'-') || line.get(end) == Some(&b'-'))
            {
                continue;
            }
            // On an info or debug line, a status word that is the whole value of a name field
            // (`object="Unauthorized"`, `Name:"Forbidden"`) is an object's name.
            let quoted = ph.text.len() > 2
                && (ph.text.starts_with('"') && ph.text.ends_with('"')
                    || ph.text.starts_with('\'') && ph.text.ends_with('\''));
            let (word_start, word_end) = if quoted {
                (start + 1, end - 1)
            } else {
                (start, end)
            };
            if ph.category.is_some()
                && line[word_start..word_end]
                    .iter()
                    .all(|b| b.is_ascii_alphabetic())
                && is_name_value(line, word_start, word_end)
                && level::level(line).0.is_quiet()
            {
                continue;
            }
            if ph.veto {
                return Analysis::default();
            }
            if let Some(c) = ph
                .client
                .filter(|_| !is_foreign_api_exception(line, start, ph))
            {
                if ph.weak_client {
                    if weak_client.is_none_or(|have| client_rank(c) < client_rank(have)) {
                        weak_client = Some(c);
                    }
                } else {
                    let around = start <= strong_at.start
                        && strong_at.end <= end
                        && end - start > strong_at.len();
                    let inside = strong_at.start <= start
                        && end <= strong_at.end
                        && strong_at.len() > end - start;
                    // A library's own name beats a transport's or the language's, whatever
                    // the ranks (the official Java client runs on okhttp too).
                    let outranks = ph.library && !strong_library;
                    if around
                        || outranks
                        || !inside
                            && (ph.library || !strong_library)
                            && strong_client.is_none_or(|have| client_rank(c) < client_rank(have))
                    {
                        strong_client = Some(c);
                        strong_at = start..end;
                        strong_library = ph.library;
                    }
                }
            }
            context |= ph.context && !ph.weak_client;
            // controller-runtime's `Reconciler error` wraps whatever the reconciler returned:
            // the operator's own failures (a missing container, its database) as well as the
            // API's. It is context for a failure a phrase names, not for a bare error word.
            api_context |= ph.context
                && !ph.weak_client
                && ph.client != Some(ClientLib::ControllerRuntime)
                && ph.text != "reconcile";
            // An error word inside a snake_case name (`k8s_watch_requests_failed`, a metric or
            // field name) states no failure.
            // Nor does one inside a camelCase name (`testHttpErrorReconnect`, a test method).
            if ph.error_word
                && n_error_words < error_words.len()
                && line.get(start.wrapping_sub(1)) != Some(&b'_')
                && !(line
                    .get(start.wrapping_sub(1))
                    .is_some_and(u8::is_ascii_lowercase)
                    && line[start].is_ascii_uppercase()
                    && line.get(end).is_some_and(u8::is_ascii_uppercase))
            {
                error_words[n_error_words] = start;
                n_error_words += 1;
            }
            if ph.text.starts_with("error from server (") && kubectl_status.is_none() {
                kubectl_status = ph.implied_code;
            }
            strong_error |= ph.strong_error;
            expected |= ph.expected;
            not_api |= ph.not_api;
            relayed |= ph.relayed;
            if let Some((category, strength)) = ph.category.filter(|_| !after_relay) {
                let rank = precedence(category);
                if implied[rank].is_none() {
                    implied[rank] = ph.implied_code;
                }
                if strength == Strength::Specific
                    && leaked.is_none()
                    && webhook_from.is_none_or(|at| start < at)
                {
                    leaked = ph.implied_code;
                }
                let slot = match strength {
                    Strength::Specific => &mut specific,
                    Strength::Contextual => &mut contextual,
                    Strength::Weak => &mut weak,
                };
                if slot.is_none_or(|have| rank < have) {
                    *slot = Some(rank);
                }
            }
        }
        // Go transport text after "failed calling webhook" is the API server's, not the
        // client's; a weak marker counts only when nothing stronger names the writer.
        let client = strong_client.or(weak_client.filter(|_| !relayed));
        if is_frame(line) {
            // A stack frame states no failure; it only tells whose code was running.
            return Analysis {
                classification: Classification::NONE,
                client: strong_client.or(weak_client),
                explicit: None,
            };
        }
        // Transport text alone (Go's `i/o timeout`, Node's `ECONNREFUSED`) names a library, not
        // the Kubernetes API: a DNS server's `read udp ...: i/o timeout` is not API evidence.
        context |= strong_client.is_some();
        // apimachinery's NotFound message ends the line: `services "jenkins" not found`
        // (k8s.io/apimachinery/pkg/api/errors.NewNotFound, `%s %q not found`). The quoted name
        // at the end makes it the API's answer, a 404; text that goes on ("... not found in
        // metrics") is someone else's lookup.
        // Inside a structured field the message ends the field's string instead: zap's
        // `"error": "CFSpace.korifi.cloudfoundry.org \"cf-space-custom\" not found"}`; in a
        // logrus text line the `key=value` fields follow it (`Reconciler error clusters.x.io
        // "y" not found  Node= controller=...`).
        // A sentence's comma or full stop after it, or the quote that closes a YAML string
        // (`message: 'Failed to apply manifest: namespaces "app" not found'`), ends it too.
        let t = line.trim_ascii_end();
        if t.ends_with(b"\" not found")
            || t.ends_with(b"\" not found.")
            || t.ends_with(b"\" not found'")
            || memchr::memmem::find(line, b"\" not found, ").is_some()
            || memchr::memmem::find(line, b"\\\" not found\"").is_some()
            || memchr::memmem::find(line, b"\" not found ").is_some_and(|at| {
                let rest = line[at + b"\" not found ".len()..].trim_ascii_start();
                let word = rest
                    .iter()
                    .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')))
                    .unwrap_or(rest.len());
                word > 0 && rest.get(word) == Some(&b'=')
            })
        {
            context = true;
            implied[precedence(Category::NotFound)].get_or_insert(404);
        }
        // apimachinery's AlreadyExists message ends the same way (`%s %q already exists`,
        // errors.NewAlreadyExists), in an Event table's message column too; an info line that
        // says so reports progress (cert-manager's `I0206 ... Certificate "x" ... already
        // exists`).
        if (line.trim_ascii_end().ends_with(b"\" already exists")
            || memchr::memmem::find(line, b"\\\" already exists\"").is_some())
            && !level::level(line).0.is_quiet()
        {
            context = true;
        }
        // apimachinery's Invalid Status cut before its field errors ends the line the same
        // way: `pods "pod1" is invalid` (errors.NewInvalid, `%s %q is invalid: %v`).
        if line.trim_ascii_end().ends_with(b"\" is invalid")
            || line.trim_ascii_end().ends_with(b"\" is invalid.")
        {
            context = true;
        }
        // The level is read only when the decision depends on it (most candidates are decided
        // by a category phrase).
        let mut level_cache: Option<(level::Level, Option<std::ops::Range<usize>>)> = None;
        let mut level_of = || {
            level_cache
                .get_or_insert_with(|| level::level(line))
                .clone()
        };
        let strong = match (specific, contextual.filter(|_| context)) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // `failed calling webhook ...: code 503: 503 Service Unavailable` is what the webhook's
        // proxy answered the API server.
        let mut explicit = kubectl_status
            .or_else(|| self.explicit_code(webhook_from.map_or(line, |at| &line[..at])));
        let weak = weak.filter(|_| strong.is_none() && context && !level_of().0.is_quiet());
        let (category, implied_code) = match strong.or(weak) {
            Some(rank) => (
                PRECEDENCE[rank],
                implied[rank].or(leaked.filter(|_| strong.is_some())),
            ),
            // Only lines with `Exception:`/`Error:` or .NET's `status code '` can name one.
            None => match (strong_error || memchr::memmem::find(line, b"status code '").is_some())
                .then(|| self.status_name(line))
                .flatten()
                // A bare `Error: not found` says nothing of the API without context (a
                // daemon's own lookup, round 15); `Exception: Not Found` is a client's.
                .filter(|_| context || !self.status_is_error_word(line))
            {
                // `HttpOperationException: ... invalid status code 'UnprocessableEntity'`,
                // `ApiException: Not Found`, `Error: Forbidden`.
                Some(code) => {
                    let c = Category::from_http(code);
                    if c.is_error() {
                        explicit = explicit.or(Some(code));
                        (c, None)
                    } else {
                        (Category::Other, None)
                    }
                }
                None if api_context
                    && !not_api
                    && !about_elsewhere
                    && n_error_words > 0
                    && (strong_error || {
                        // An info line's "error" names a field or an object, not a failure;
                        // .NET's `fail:` header is a level, the message is on the next line.
                        let (level, header) = level_of();
                        !level.is_quiet()
                            && error_words[..n_error_words]
                                .iter()
                                .any(|at| header.as_ref().is_none_or(|h| !h.contains(at)))
                    }) =>
                {
                    (Category::Other, None)
                }
                // A line a client library wrote that states an HTTP error status and nothing
                // else (the Java client's `HTTP response code: 404` line of a multi-line
                // ApiException): the status is the failure. client-go's response trace is an
                // info line (round_trippers.go at -v=6: `POST https://.../apis/... 409 Conflict
                // in 131 milliseconds`), and still the response's status.
                // The Python client's ApiException says its status first, alone: `(404)`,
                // and programs log just that (`ERROR k8s_client (404)`, `Exception occurred:
                // (429)`): an error line ending in a bracketed 4xx/5xx.
                None if !about_elsewhere
                    && explicit.is_some_and(|code| Category::from_http(code).is_error())
                    && ends_in_bracketed_code(line)
                    && (level_of().0 == level::Level::Error
                        || strong_error
                        || n_error_words > 0 && !level_of().0.is_quiet()) =>
                {
                    (Category::Other, None)
                }
                None if strong_client.is_some()
                    && !about_elsewhere
                    && explicit.is_some_and(|code| Category::from_http(code).is_error())
                    && (!level_of().0.is_quiet()
                        || memchr::memmem::find(line, b" milliseconds").is_some()) =>
                {
                    (Category::Other, None)
                }
                None => {
                    return Analysis {
                        classification: Classification::NONE,
                        client,
                        explicit,
                    };
                }
            },
        };
        if explicit.is_none() && category != Category::Other {
            // `ApiException: Not Found`: the reason phrase is the status.
            explicit = self
                .status_name(line)
                .filter(|code| Category::from_http(*code).is_error());
        }
        let http_code = explicit.or(implied_code);
        // A stated code settles what words leave open: a bare "ApiException: (401)" is an
        // authentication failure, and "Status(403) ... Unauthorized" is a 403.
        let category = match (category, explicit.map(Category::from_http)) {
            (Category::Other, Some(from_code)) if from_code.is_error() => from_code,
            // A request that got a status got through: the transport word describes what came
            // after (.NET's `WebSocketException: The server returned status code '500' when
            // status code '101' was expected`).
            (Category::NetworkUnreachable, Some(from_code)) if from_code.is_error() => from_code,
            // `Forbidden:` in a field error of a 422 Invalid Status is the field's, not RBAC's.
            (Category::Authorization, Some(Category::InvalidRequest)) => Category::InvalidRequest,
            (Category::Authentication, Some(Category::Authorization))
            | (Category::Authorization, Some(Category::Authentication)) => {
                Category::from_http(explicit.unwrap_or_default())
            }
            (c, _) => c,
        };
        let (category, http_code) =
            if category == Category::Authorization && is_field_forbidden(line) {
                // `StatefulSet.apps "x" is invalid: spec: Forbidden: updates to statefulset
                // spec ...`: a field error of a 422 Invalid Status, not RBAC's.
                (
                    Category::InvalidRequest,
                    explicit.filter(|c| *c != 403).or(Some(422)),
                )
            } else if category == Category::Authorization && is_admission_forbidden(line) {
                (Category::QuotaOrAdmission, http_code)
            } else {
                (category, http_code)
            };
        // An info or debug line that names no kind of failure and no status reports progress
        // (kube_runtime's `DEBUG ... Error received, backing off`: the retry of an error
        // logged where it happened), not a failure of its own.
        if category == Category::Other
            && http_code.is_none()
            && !strong_error
            && level_of().0.is_quiet()
        {
            return Analysis {
                classification: Classification::NONE,
                client,
                explicit,
            };
        }
        let authz = if matches!(category, Category::Authorization) {
            self.authz.extract(line)
        } else {
            None
        };
        Analysis {
            classification: Classification {
                category,
                http_code,
                client,
                expected,
                authz,
            },
            client,
            explicit,
        }
    }

    /// The HTTP status a line names by its reason phrase alone: .NET's `invalid status code
    /// 'NotFound'` (any status, 2xx included), or a line ending in `Exception: Not Found` /
    /// `Error: Forbidden`.
    fn status_name(&self, line: &[u8]) -> Option<u16> {
        let caps = self.status_re.captures(line)?;
        let name = caps.name("net").or_else(|| caps.name("tail"))?.as_bytes();
        let mut key = [0u8; 32];
        let mut n = 0;
        for b in name.iter().filter(|b| b.is_ascii_alphabetic()) {
            if n == key.len() {
                return None;
            }
            key[n] = b.to_ascii_lowercase();
            n += 1;
        }
        STATUS_NAMES
            .iter()
            .find(|(word, _)| word.as_bytes() == &key[..n])
            .map(|(_, code)| *code)
    }

    /// Whether [`Classifier::status_name`] read `not found` after `Error:` (not `Exception:`):
    /// the most generic of the status words.
    fn status_is_error_word(&self, line: &[u8]) -> bool {
        self.status_re.captures(line).is_some_and(|c| {
            c.name("error").is_some()
                && c.name("tail")
                    .is_some_and(|t| t.as_bytes()[..3].eq_ignore_ascii_case(b"not"))
        })
    }

    /// The first 4xx/5xx code the line states.
    pub(crate) fn explicit_code(&self, line: &[u8]) -> Option<u16> {
        // Every form holds three digits starting with 4 or 5: most lines have none, and the
        // regex has no literal to skip ahead with.
        let has_code = memchr::memchr2_iter(b'4', b'5', line).any(|i| {
            line.get(i + 1..i + 3)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
                && (i == 0 || !line[i - 1].is_ascii_digit())
                && !line.get(i + 3).is_some_and(u8::is_ascii_digit)
        });
        if !has_code {
            return None;
        }
        let caps = self.code_re.captures(line)?;
        caps.iter()
            .skip(1)
            .flatten()
            .next()
            .and_then(|m| std::str::from_utf8(m.as_bytes()).ok())
            .and_then(|s| s.parse().ok())
    }
}

/// Keys whose value names an object (klog's `object=`/`pod=`, zap's `"name":`, Go's
/// `%#v` `Name:`), compared in ASCII lower case.
const NAME_KEYS: &[&[u8]] = &[
    b"name",
    b"object",
    b"obj",
    b"key",
    b"item",
    b"pod",
    b"secret",
    b"configmap",
    b"node",
    b"namespace",
    b"service",
    b"serviceaccount",
    b"deployment",
    b"role",
    b"rolebinding",
];

/// Whether `line[start..end]` is the whole value of a name field: `object="Unauthorized"`,
/// `"name":"Forbidden"`, `Name:"Unauthorized"`, `pod=Forbidden` (quotes optional, JSON's
/// escaped quotes too), also after a namespace (`object="demo/Unauthorized"`), followed by a
/// quote, a separator or the line's end; or a quoted name after a kind (`secret "Forbidden"`).
fn is_name_value(line: &[u8], start: usize, end: usize) -> bool {
    if !line
        .get(end)
        .is_none_or(|b| matches!(b, b'"' | b'\'' | b'\\' | b',' | b'}' | b')' | b' ' | b'\t'))
    {
        return false;
    }
    let mut before = &line[..start];
    // `namespace/` before the name.
    if let Some(slash) = before.strip_suffix(b"/") {
        let ns_start = slash
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.')))
            .map_or(0, |i| i + 1);
        if ns_start < slash.len() {
            before = &slash[..ns_start];
        }
    }
    // A quoted name after a kind word: `secret "Forbidden"`.
    if line.get(end) == Some(&b'"')
        && let Some(kind) = before.strip_suffix(b" \"")
    {
        let kind_start = kind
            .iter()
            .rposition(|b| !b.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        if NAME_KEYS
            .iter()
            .any(|k| k.eq_ignore_ascii_case(&kind[kind_start..]))
        {
            return true;
        }
    }
    for q in [&b"\\\""[..], b"\"", b"'"] {
        if let Some(rest) = before.strip_suffix(q) {
            before = rest;
            break;
        }
    }
    let before = before.trim_ascii_end();
    let Some(before) = before
        .strip_suffix(b"=")
        .or_else(|| before.strip_suffix(b":"))
    else {
        return false;
    };
    let before = before
        .strip_suffix(b"\\\"")
        .or_else(|| before.strip_suffix(b"\""))
        .unwrap_or(before);
    let key_start = before
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map_or(0, |i| i + 1);
    let key = &before[key_start..];
    NAME_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Whether the Python client marker `phrase` at `start` is another OpenAPI-generated package's
/// `ApiException` (`kubevirt.rest.ApiException`, `argo_workflows.exceptions.ApiException`):
/// the Kubernetes client's sits under `client` (`kubernetes.client.rest.`,
/// `kubernetes_asyncio.client.exceptions.`) or stands bare.
fn is_foreign_api_exception(line: &[u8], start: usize, phrase: &patterns::Phrase) -> bool {
    if !phrase.text.starts_with("apiexception") {
        return false;
    }
    let before = &line[..start];
    let Some(pkg) = before
        .strip_suffix(b".rest.")
        .or_else(|| before.strip_suffix(b".exceptions."))
    else {
        return false;
    };
    let last = pkg
        .iter()
        .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .map_or(pkg, |i| &pkg[i + 1..]);
    !last.eq_ignore_ascii_case(b"client")
}

/// Whether the line's `Forbidden` is a field error of an Invalid Status (apimachinery
/// `field.Forbidden`, listed after `is invalid: ` as `<path>: Forbidden: <detail>`) rather than
/// a 403.
fn is_field_forbidden(line: &[u8]) -> bool {
    memchr::memmem::find(line, b" is invalid: ").is_some_and(|at| {
        memchr::memmem::find(&line[at..], b": Forbidden: ").is_some()
            && memchr::memmem::find(&line[..at], b"is forbidden").is_none()
    })
}

/// Whether a 403's `"x" is forbidden: <reason>` gives a reason that is not RBAC's: the RBAC
/// authorizer's denial always says who cannot do what (`User "u" cannot list resource ...`,
/// k8s.io/apiserver `authorization.go`), while admission plugins and webhooks say their own
/// reason after the colon (`violates PodSecurity`, `exceeded quota`, `unable to create new
/// content in namespace`, `admission control is denying all modifications`).
fn is_admission_forbidden(line: &[u8]) -> bool {
    const AT: &[u8] = b"is forbidden: ";
    let Some(at) = memchr::memmem::find(line, AT) else {
        return false;
    };
    let reason = &line[at + AT.len()..];
    // RBAC's escalation check (`roles.rbac.authorization.k8s.io "x" is forbidden: attempt to
    // grant extra privilege`) is RBAC's own denial.
    if reason.starts_with(b"attempt to grant extra privilege") {
        return false;
    }
    let head = &reason[..reason.len().min(5)];
    !head.eq_ignore_ascii_case(b"user ")
        && memchr::memmem::find(reason, b"cannot ").is_none()
        && !reason.is_empty()
}

fn precedence(category: Category) -> usize {
    PRECEDENCE
        .iter()
        .position(|c| *c == category)
        .unwrap_or(PRECEDENCE.len() - 1)
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(line: &str) -> Classification {
        Classifier::new().classify(line.as_bytes())
    }

    #[test]
    fn metric_samples_are_told_from_log_lines() {
        for line in [
            "# TYPE controller_runtime_reconcile_errors_total counter",
            "controller_runtime_reconcile_errors_total{controller=\"configmap\"} 221",
            "apiserver_request_total{code=\"403\",verb=\"LIST\"} 7 1700000000000",
            "rest_client_requests_total 1.5e+03",
        ] {
            assert!(is_metric_sample(line.as_bytes()), "{line}");
        }
        for line in [
            "Error 500",
            "error_total: connection refused",
            "Error from server (Forbidden): pods is forbidden 403",
            "E0101 00:00:00.000000 1 reflector.go:1] failed 5",
        ] {
            assert!(!is_metric_sample(line.as_bytes()), "{line}");
        }
    }

    #[test]
    fn node_error_codes_count_only_as_words() {
        let got = c("Error: getaddrinfo ENOTFOUND api.internal");
        assert_eq!(got.category, Category::NetworkUnreachable);
        assert_eq!(got.client, Some(ClientLib::ClientNode));
        // `ResourceNotFoundError` holds `enotfound` but names no Node error.
        assert_ne!(
            c("Kubeclient::ResourceNotFoundError (HTTP status code 404)").client,
            Some(ClientLib::ClientNode)
        );
    }

    #[test]
    fn triggers_fit_the_simd_searcher() {
        // Every group builds a packed (Teddy) searcher.
        let c = Classifier::new();
        assert_eq!(
            c.trigger_groups.len(),
            TRIGGERS.len().div_ceil(TRIGGER_GROUP)
        );
    }

    #[test]
    fn every_phrase_that_decides_holds_a_trigger() {
        for ph in PHRASES {
            // Context, client, neutral and veto phrases and the `expected` flag never make a
            // line an error on their own.
            if ph.category.is_none() && !ph.error_word {
                continue;
            }
            assert!(
                TRIGGERS.iter().any(|t| ph.text.contains(t)),
                "phrase {:?} holds no trigger stem: the first pass would miss it",
                ph.text
            );
        }
    }

    #[test]
    fn phrases_and_triggers_are_lowercase() {
        for t in TRIGGERS {
            assert_eq!(*t, t.to_ascii_lowercase());
        }
        for ph in PHRASES {
            assert_eq!(ph.text, ph.text.to_ascii_lowercase(), "{:?}", ph.text);
        }
    }

    #[test]
    fn ordinary_lines_are_none() {
        for line in [
            "I0101 00:00:00.000000 1 shared_informer.go:320] Caches are synced for endpoint",
            "hello world",
            "",
            "{\"level\":\"info\",\"msg\":\"Starting workers\",\"worker count\":1}",
        ] {
            assert_eq!(c(line), Classification::NONE, "{line}");
        }
    }

    /// gRPC (tonic) statuses are vetoed by their code names; k8s-openapi's `Status { code:
    /// Some(403), .. }` (written here in the shape its `{:?}` prints) is still the API's answer.
    /// Status words inside hyphenated names are names (lines a new user wrote to try it).
    #[test]
    fn status_words_in_hyphenated_names_are_names() {
        for line in [
            "2026-11-30T03:12:44Z INFO  reconciled ConfigMap unauthorized-users (status 200)",
            r#"INFO kubernetes.client.rest: response body: {"kind":"PodList","items":[{"metadata":{"name":"forbidden-app"}}]}"#,
        ] {
            assert_eq!(c(line).category, Category::None, "{line}");
        }
        assert_eq!(
            c("E0101 request.go:1] Unauthorized").category,
            Category::Authentication
        );
    }

    /// On info and debug lines a status word that is a name field's whole value is a name
    /// (lines a new user wrote to try it); as a reason, or on an error line, it is the status.
    #[test]
    fn status_words_as_name_values_on_quiet_lines_are_names() {
        for line in [
            r#"I0101 12:00:00.000000 1 controller.go:10] "Reconciling" object="Unauthorized""#,
            r#"{"level":"info","msg":"synced","name":"Unauthorized"}"#,
            r#"I0101 12:00:00.000000 1 event.go:10] Event(v1.ObjectReference{Name:"Forbidden"})"#,
            "level=debug msg=sync pod=Forbidden",
            // A second new-user check: a namespaced value, a quoted name after its kind.
            r#"I0101 12:00:00.000000 1 event.go:10] "Event occurred" object="demo/Unauthorized" kind="Secret""#,
            r#"I0101 12:00:00.000000 1 sync.go:10] Synced secret "Forbidden" in namespace "unauthorized-apps""#,
        ] {
            assert_eq!(c(line).category, Category::None, "{line}");
        }
        for line in [
            r#"{"level":"info","msg":"x","reason":"Unauthorized"}"#,
            r#"{"level":"error","msg":"synced","name":"Unauthorized"}"#,
            "E0101 12:00:00.000000 1 reflector.go:10] failed to list: Unauthorized",
        ] {
            assert_eq!(c(line).category, Category::Authentication, "{line}");
        }
    }

    #[test]
    fn grpc_statuses_are_not_kubernetes_statuses() {
        let c = |l: &str| Classifier::shared().classify(l.as_bytes());
        let openapi = c(
            r#"ERROR exec failed: Status { code: Some(403), details: None, message: Some("pods \"web-0\" is forbidden: User \"system:serviceaccount:demo:app\" cannot create resource \"pods/exec\" in API group \"\" in the namespace \"demo\""), reason: Some("Forbidden"), status: Some("Failure") }"#,
        );
        assert_eq!(
            (openapi.category, openapi.http_code),
            (Category::Authorization, Some(403))
        );
        let grpc = c(
            r#"ERROR call failed: Status { code: Unavailable, message: "error trying to connect: tcp connect error: Connection refused (os error 111)" }"#,
        );
        assert_eq!(grpc.category, Category::None);
    }

    #[test]
    fn generic_errors_without_api_context_are_none() {
        // A database client refusing a connection is not a Kubernetes API client error.
        assert_eq!(c("db pool: connection refused").category, Category::None);
        assert_eq!(c("error: file not found").category, Category::None);
    }

    #[test]
    fn api_context_turns_generic_words_into_categories() {
        let r = c(
            "E0101 reflector.go:1] failed to list *v1.Pod: Get \"https://10.96.0.1:443/api/v1/pods\": dial tcp 10.96.0.1:443: connect: connection refused",
        );
        assert_eq!(r.category, Category::NetworkUnreachable);
        assert_eq!(r.client, Some(ClientLib::ClientGo));
        assert_eq!(r.http_code, None);
    }

    #[test]
    fn dial_timeout_is_network_and_read_timeout_is_timeout() {
        assert_eq!(
            c("Get \"https://k/api\": dial tcp 10.0.0.1:443: i/o timeout").category,
            Category::NetworkUnreachable
        );
        assert_eq!(
            c("Get \"https://k/api\": context deadline exceeded").category,
            Category::Timeout
        );
    }

    #[test]
    fn quota_beats_forbidden_and_webhook_beats_internal_error() {
        let r = c(
            "Error from server (Forbidden): pods \"x\" is forbidden: exceeded quota: q, requested: pods=1",
        );
        assert_eq!(r.category, Category::QuotaOrAdmission);
        assert_eq!(r.http_code, Some(403));
        let r = c(
            "Internal error occurred: failed calling webhook \"w.example.com\": Post \"https://w/validate\": context deadline exceeded",
        );
        assert_eq!(r.category, Category::QuotaOrAdmission);
        assert_eq!(r.http_code, Some(500));
    }

    #[test]
    fn explicit_codes_are_read() {
        assert_eq!(
            c("kubernetes.client.exceptions.ApiException: (429)").http_code,
            Some(429)
        );
        assert_eq!(
            c("ApiError: x: Forbidden (ErrorResponse { status: \"Failure\", message: \"x\", reason: \"Forbidden\", code: 403 })").http_code,
            Some(403)
        );
        assert_eq!(
            c(r#"{"kind":"Status","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#).http_code,
            Some(401)
        );
    }

    #[test]
    fn watch_relists_are_marked_expected() {
        let r =
            c("W0101 reflector.go:1] watch of *v1.Pod ended with: too old resource version: 1 (2)");
        assert!(r.expected);
        assert_eq!(r.http_code, Some(410));
    }

    #[test]
    fn candidates_in_a_block_are_found_with_their_ranges() {
        let cl = Classifier::new();
        let block = b"ok line\nE0101 reflector.go:1] pods is forbidden: User \"u\" cannot list resource \"pods\" in API group \"\" at the cluster scope\r\nanother ok\n";
        let mut seen = vec![];
        cl.for_each_candidate(block, &mut Vec::new(), |r, cls| {
            seen.push((r, cls.category))
        });
        assert_eq!(seen.len(), 1);
        let (range, cat) = &seen[0];
        assert_eq!(*cat, Category::Authorization);
        assert!(block[range.clone()].starts_with(b"E0101"));
        assert!(block[range.clone()].ends_with(b"scope"));
    }
}

#[cfg(test)]
mod speed {
    use super::*;

    /// Where the time of one candidate goes: `cargo test --release -p kube-doctor-core --lib
    /// classify::speed -- --ignored --nocapture`.
    #[test]
    #[ignore = "a measurement, run by hand in release mode"]
    fn phrase_search_speed() {
        let text = include_str!("../../tests/fixtures/classify/labelled-2.tsv");
        let lines: Vec<&[u8]> = text
            .lines()
            .filter_map(|l| l.splitn(5, '\t').nth(4))
            .map(str::as_bytes)
            .collect();
        let bytes: usize = lines.iter().map(|l| l.len()).sum::<usize>() * 200;
        let cl = Classifier::new();
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(PHRASES.iter().map(|p| p.text))
            .unwrap();
        // CPU time of this thread: the machine may be busy.
        let cpu = || -> f64 {
            std::fs::read_to_string("/proc/thread-self/schedstat")
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(0.0, |ns| ns / 1e9)
        };
        let time = |name: &str, f: &dyn Fn(&[u8]) -> usize| {
            let t = cpu();
            let mut n = 0;
            for _ in 0..200 {
                for l in &lines {
                    n += f(l);
                }
            }
            let s = cpu() - t;
            println!("{name:<20} {:>8.1} MB/s ({n})", bytes as f64 / s / 1e6);
        };
        let overlapping = |aut: &dyn Fn(&Input, &mut OverlappingState) -> bool, l: &[u8]| {
            let input = Input::new(l);
            let mut st = OverlappingState::start();
            let mut n = 0;
            while aut(&input, &mut st) && st.get_match().is_some() {
                n += 1;
            }
            n
        };
        time("dfa overlapping", &|l| {
            overlapping(&|i, s| dfa.try_find_overlapping(i, s).is_ok(), l)
        });
        time("level", &|l| level::level(l).0 as usize);
        time("explicit code", &|l| cl.explicit_code(l).is_some() as usize);
        time("status name", &|l| cl.status_name(l).is_some() as usize);
        time("authz", &|l| cl.authz.extract(l).is_some() as usize);
        time("is_frame", &|l| is_frame(l) as usize);
        time("analyse", &|l| {
            cl.analyse(l).classification.category as usize
        });
    }
}
