//! Multi-line events: where a client prints one error over several lines, the lines are read
//! as one event, counted once, with the status from any of its lines.
//!
//! - Python: `kubernetes.client.exceptions.ApiException: (403)` then `Reason: Forbidden`,
//!   `HTTP response headers: ...`, `HTTP response body: {...}` (kubernetes-client/python,
//!   `ApiException.__str__`).
//! - Java: an exception line then `Caused by: ...` chains and indented `at ...` frames; the
//!   official client's `Message: ...` / `HTTP response code: 403` / `HTTP response body: ...`
//!   (kubernetes-client/java, `ApiException.getMessage`).
//! - Node: `HttpError: HTTP request failed` then the indented object dump with `body: {...}` and
//!   `statusCode: 403` (@kubernetes/client-node before 1.0), or `ApiException [Error]: HTTP-Code:
//!   404` then `Message:`, `Body:`, `Headers:` (1.x).
//!
//! An event is a head line and the continuation lines after it ([`is_continuation`]): indented
//! lines, closing brackets, and the prefixes above. It is bounded ([`MAX_EVENT_LINES`],
//! [`MAX_EVENT_BYTES`]): the line after the bound starts a new event, so memory stays constant
//! whatever the input.
//!
//! The verdict of an event: the most decisive category any of its lines names (in
//! `patterns::PRECEDENCE` order; `other` only when no line names one), the first HTTP code a
//! line states (else one the category's phrase implies), the head's client library or else the
//! first one a continuation line names (Node and Java stack frames tell whose code ran), and
//! `expected`/`authz` from any line.

use super::{Analysis, Classification, Classifier, precedence};
use crate::category::Category;

/// Most lines in one event; the next line starts a new one.
pub const MAX_EVENT_LINES: usize = 256;
/// Most bytes in an event's continuation lines; the line that would pass it starts a new event.
pub const MAX_EVENT_BYTES: usize = 64 * 1024;

/// Prefixes that continue the event above them at the start of a line.
const CONTINUATION_PREFIXES: &[&[u8]] = &[
    b"Caused by:",
    b"Suppressed:",
    b"Reason:",
    b"HTTP response headers:",
    b"HTTP response body:",
    b"HTTP response code:",
    b"HTTP-Code:",
    b"Message:",
    b"Body:",
    b"Headers:",
    b"Response details:",
];

/// Whether `line` continues the event above it: an empty or indented line, a closing bracket,
/// or one of the prefixes multi-line clients print (`Caused by:`, `Reason:`, `HTTP response
/// body:`...). Rows of `kubectl describe`'s Events table (`  Warning  FailedCreate ...`) are
/// indented but each is an event of its own.
pub fn is_continuation(line: &[u8]) -> bool {
    match line.first() {
        None => true,
        Some(b' ' | b'\t') => !is_describe_event_row(line),
        Some(b'}' | b']' | b')') => true,
        Some(b'C' | b'S' | b'R' | b'H' | b'M' | b'B') => {
            CONTINUATION_PREFIXES.iter().any(|p| line.starts_with(p))
        }
        Some(_) => false,
    }
}

fn is_describe_event_row(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    (t.starts_with(b"Warning  ") || t.starts_with(b"Normal  ")) && line.len() - t.len() <= 4
}

/// The verdict on one event. Small to move: most events are single ordinary lines, and only
/// an event that is an error (or names a client) carries a classification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventVerdict {
    lines: usize,
    classification: Option<Box<Classification>>,
}

impl EventVerdict {
    fn plain(lines: usize) -> EventVerdict {
        EventVerdict {
            lines,
            classification: None,
        }
    }

    /// How many lines the event spans (at least 1).
    pub fn lines(&self) -> usize {
        self.lines
    }

    /// The event's classification (category `none` for ordinary lines).
    pub fn classification(&self) -> &Classification {
        self.classification
            .as_deref()
            .unwrap_or(&Classification::NONE)
    }

    /// The classification, owned.
    pub fn into_classification(self) -> Classification {
        self.classification.map_or(Classification::NONE, |b| *b)
    }

    /// Whether the event is an API client error.
    pub fn is_error(&self) -> bool {
        self.classification().category.is_error()
    }
}

/// The event being assembled.
#[derive(Debug)]
struct Open {
    lines: usize,
    bytes: usize,
    /// Category of the head or any line so far, most decisive first (index into PRECEDENCE).
    best: Option<usize>,
    /// Some line is an error (possibly `other` only).
    error: bool,
    /// First stated code; first code any line's verdict carries.
    explicit: Option<u16>,
    implied: Option<u16>,
    head_client: Option<crate::classify::ClientLib>,
    other_client: Option<crate::classify::ClientLib>,
    expected: bool,
    authz: Option<crate::classify::AuthzDenial>,
}

impl Open {
    fn new() -> Open {
        Open {
            lines: 0,
            bytes: 0,
            best: None,
            error: false,
            explicit: None,
            implied: None,
            head_client: None,
            other_client: None,
            expected: false,
            authz: None,
        }
    }

    /// Whether continuation lines must be read in full (they may carry the status or the
    /// client): the event is an error.
    fn interesting(&self) -> bool {
        self.error
    }

    fn add(&mut self, a: Analysis, head: bool) {
        let c = a.classification;
        if head {
            self.head_client = a.client;
        } else if self.other_client.is_none() {
            self.other_client = a.client;
        }
        if self.explicit.is_none() {
            self.explicit = a.explicit;
        }
        if c.category.is_error() {
            self.error = true;
            if c.category != Category::Other {
                let rank = precedence(c.category);
                if self.best.is_none_or(|b| rank < b) {
                    self.best = Some(rank);
                    self.implied = c.http_code;
                }
            } else if self.implied.is_none() && self.best.is_none() {
                self.implied = c.http_code;
            }
            self.expected |= c.expected;
            if self.authz.is_none() {
                self.authz = c.authz;
            }
        }
    }

    fn verdict(self) -> EventVerdict {
        let lines = self.lines;
        if !self.error {
            return EventVerdict::plain(lines);
        }
        let mut category = self
            .best
            .map_or(Category::Other, |rank| super::PRECEDENCE[rank]);
        let http_code = self.explicit.or(self.implied);
        if let Some(code) = self.explicit {
            let from_code = Category::from_http(code);
            category = match (category, from_code) {
                (Category::Other, c) if c.is_error() => c,
                (Category::Authentication, Category::Authorization)
                | (Category::Authorization, Category::Authentication) => from_code,
                (c, _) => c,
            };
        }
        let authz = self.authz.filter(|_| category == Category::Authorization);
        EventVerdict {
            classification: Some(Box::new(Classification {
                category,
                http_code,
                client: self.head_client.or(self.other_client),
                expected: self.expected,
                authz,
            })),
            lines,
        }
    }
}

/// Groups lines into events, one line at a time, with constant memory (only the running
/// verdict of the open event is kept, never its text). Feed every line in order with
/// [`EventAssembler::push`]; it returns the event the line closed, if the line starts a new one.
/// Call [`EventAssembler::finish`] at the end of input for the last event.
///
/// The caller keeps the lines if it needs them: the verdict of an event is known only when the
/// line after it arrives.
#[derive(Debug)]
pub struct EventAssembler<'c> {
    classifier: &'c Classifier,
    state: State,
}

/// The open event. Ordinary lines (no trigger, or no error and no client) stay `Plain`, which
/// costs nothing to open and close: a log is mostly such lines.
#[derive(Debug)]
enum State {
    Empty,
    Plain { lines: usize, bytes: usize },
    Rich(Box<Open>),
}

impl<'c> EventAssembler<'c> {
    /// An assembler with nothing open.
    pub fn new(classifier: &'c Classifier) -> Self {
        EventAssembler {
            classifier,
            state: State::Empty,
        }
    }

    /// Whether an event is open (a line was pushed since the last verdict).
    pub fn is_open(&self) -> bool {
        !matches!(self.state, State::Empty)
    }

    /// How many lines the open event has so far.
    pub fn open_lines(&self) -> usize {
        match &self.state {
            State::Empty => 0,
            State::Plain { lines, .. } => *lines,
            State::Rich(o) => o.lines,
        }
    }

    /// Feeds the next line (without its newline); returns the verdict of the event it closed.
    pub fn push(&mut self, line: &[u8]) -> Option<EventVerdict> {
        self.push_inner(line, None)
    }

    /// As [`EventAssembler::push`], for a caller that has already run the first pass over a
    /// block ([`Classifier::for_each_candidate`]): `candidate` is the line's verdict when it
    /// holds a trigger, `None` when it does not.
    pub fn push_known(
        &mut self,
        line: &[u8],
        candidate: Option<&Classification>,
    ) -> Option<EventVerdict> {
        self.push_inner(line, Some(candidate))
    }

    /// Whether `line` would continue the open event rather than start a new one.
    pub fn continues(&self, line: &[u8]) -> bool {
        let (lines, bytes) = match &self.state {
            State::Empty => return false,
            State::Plain { lines, bytes } => (*lines, *bytes),
            State::Rich(o) => (o.lines, o.bytes),
        };
        lines < MAX_EVENT_LINES && bytes + line.len() <= MAX_EVENT_BYTES && is_continuation(line)
    }

    /// `known`: `None` when the caller has not run the first pass; `Some(None)` for a line
    /// without a trigger; `Some(Some(c))` for a candidate and its verdict.
    fn push_inner(
        &mut self,
        line: &[u8],
        known: Option<Option<&Classification>>,
    ) -> Option<EventVerdict> {
        let cl = self.classifier;
        if self.continues(line) {
            match &mut self.state {
                State::Rich(open) => {
                    open.lines += 1;
                    open.bytes += line.len();
                    if open.interesting() {
                        // Every line of an error event is read: `statusCode: 403` and Node or
                        // Java stack frames hold no trigger but tell the status and the client.
                        open.add(cl.analyse(line), false);
                    } else if candidate_error(cl, line, known) {
                        open.add(cl.analyse(line), false);
                    }
                }
                State::Plain { lines, bytes } => {
                    *lines += 1;
                    *bytes += line.len();
                    if candidate_error(cl, line, known) {
                        let a = cl.analyse(line);
                        if a.classification.category.is_error() {
                            let mut open = Box::new(Open::new());
                            open.lines = *lines;
                            open.bytes = *bytes;
                            open.add(a, false);
                            self.state = State::Rich(open);
                        }
                    }
                }
                State::Empty => unreachable!("continues() saw an open event"),
            }
            return None;
        }
        let closed = match std::mem::replace(&mut self.state, State::Empty) {
            State::Empty => None,
            State::Plain { lines, .. } => Some(EventVerdict::plain(lines)),
            State::Rich(open) => Some(open.verdict()),
        };
        let head = match known {
            Some(None) => None,
            Some(Some(c)) if !c.category.is_error() => None,
            // The head's code counts as stated: a continuation's code does not override it.
            Some(Some(c)) => Some(Analysis {
                classification: c.clone(),
                client: c.client,
                explicit: c.http_code,
            }),
            None if cl.is_candidate(line) => {
                let mut a = cl.analyse(line);
                a.explicit = a.classification.http_code;
                Some(a)
            }
            None => None,
        };
        self.state = match head {
            Some(a) if a.classification.category.is_error() => {
                let mut open = Box::new(Open::new());
                open.lines = 1;
                open.add(a, true);
                State::Rich(open)
            }
            _ => State::Plain { lines: 1, bytes: 0 },
        };
        closed
    }

    /// Feeds every line of `block` (whole lines, each ending in `\n` except possibly the last
    /// one of the input, as [`super::stream::Block::Lines`] hands them out), given the block's
    /// candidates in order as [`Classifier::for_each_candidate`] found them, and calls
    /// `on_error` with every error event it closes. The same events as [`push_known`] on every
    /// line, but the ordinary stretches between candidates are not walked line by line: only
    /// their newlines are counted and their last lines looked at. Returns the number of lines.
    ///
    /// [`push_known`]: EventAssembler::push_known
    pub fn push_block(
        &mut self,
        block: &[u8],
        candidates: &[(std::ops::Range<usize>, Classification)],
        mut on_error: impl FnMut(EventVerdict),
    ) -> u64 {
        let mut report = |v: Option<EventVerdict>| {
            if let Some(v) = v.filter(EventVerdict::is_error) {
                on_error(v);
            }
        };
        let mut pos = 0;
        let mut next = candidates.iter().peekable();
        let mut lines = 0u64;
        while pos < block.len() {
            let candidate = next.peek().filter(|(r, _)| r.start == pos).map(|(_, c)| c);
            if candidate.is_some() || matches!(self.state, State::Rich(_)) {
                // A candidate, or the lines after an error event's head: one at a time.
                if candidate.is_some() {
                    next.next();
                }
                let (line, after) = line_at(block, pos);
                report(self.push_known(line, candidate));
                lines += 1;
                pos = after;
                continue;
            }
            // An ordinary stretch up to the next candidate.
            let end = next.peek().map_or(block.len(), |(r, _)| r.start);
            let region = &block[pos..end];
            let mut n = memchr::memchr_iter(b'\n', region).count() as u64;
            if end == block.len() && !region.ends_with(b"\n") {
                n += 1;
            }
            lines += n;
            self.skip_plain(region);
            pos = end;
        }
        lines
    }

    /// Brings a `Plain` or `Empty` state past `region` (whole lines without a trigger), as
    /// pushing each line would: only the lines from the region's last head on matter.
    fn skip_plain(&mut self, region: &[u8]) {
        if region.is_empty() {
            return;
        }
        let body = region.strip_suffix(b"\n").unwrap_or(region);
        // Walk back over continuation lines to the last head; replay from there.
        let mut end = body.len();
        let mut steps = 0;
        let from = loop {
            let start = memchr::memrchr(b'\n', &body[..end]).map_or(0, |i| i + 1);
            if !is_continuation(trim_cr(&body[start..end])) {
                // A head starts a new event whatever was open.
                self.state = State::Empty;
                break start;
            }
            steps += 1;
            if start == 0 || steps > MAX_EVENT_LINES {
                // No head near the end: replay the whole region (long indented stretches).
                break 0;
            }
            end = start - 1;
        };
        let mut rest = &body[from..];
        loop {
            let (line, after) = match memchr::memchr(b'\n', rest) {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            let line = trim_cr(line);
            if self.continues(line) {
                if let State::Plain { lines, bytes } = &mut self.state {
                    *lines += 1;
                    *bytes += line.len();
                }
            } else {
                self.state = State::Plain { lines: 1, bytes: 0 };
            }
            match after {
                Some(a) => rest = a,
                None => break,
            }
        }
    }

    /// Closes the open event at the end of input.
    pub fn finish(&mut self) -> Option<EventVerdict> {
        match std::mem::replace(&mut self.state, State::Empty) {
            State::Empty => None,
            State::Plain { lines, .. } => Some(EventVerdict::plain(lines)),
            State::Rich(open) => Some(open.verdict()),
        }
    }
}

/// The line starting at `pos` (without `\n`/`\r`) and the start of the next one.
fn line_at(block: &[u8], pos: usize) -> (&[u8], usize) {
    let end = memchr::memchr(b'\n', &block[pos..]).map_or(block.len(), |i| pos + i);
    (trim_cr(&block[pos..end]), (end + 1).min(block.len()))
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether a continuation line of an ordinary event must be read: it holds a trigger and may
/// be an error itself.
fn candidate_error(cl: &Classifier, line: &[u8], known: Option<Option<&Classification>>) -> bool {
    match known {
        Some(None) => false,
        Some(Some(c)) => c.category.is_error(),
        None => cl.is_candidate(line),
    }
}

/// One event of [`Events`]: its head line, the caller's tag of that line, how many lines it
/// spans, and its verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<'a, T> {
    /// The tag the caller gave the head line (a timestamp, a line number...).
    pub tag: T,
    /// The head line (the first line of the event).
    pub head: &'a str,
    /// Lines in the event, at least 1.
    pub lines: usize,
    /// The event's verdict.
    pub classification: Classification,
}

/// Events over lines the caller has split and tagged: `(tag, line)` pairs in order, e.g. a
/// pod log's lines with the kubelet's timestamp split off (the tag) so that the text after it
/// is what is classified and what continuation is judged on. Every line belongs to exactly
/// one event; ordinary lines are single-line events with category `none`.
pub struct Events<'a, 'c, T, I> {
    lines: I,
    assembler: EventAssembler<'c>,
    /// The open event's head and tag.
    head: Option<(T, &'a str)>,
}

impl<'a, 'c, T, I: Iterator<Item = (T, &'a str)>> Events<'a, 'c, T, I> {
    /// Events over `lines` (anything yielding `(tag, line)`; see [`Classifier::events`]).
    pub fn new(classifier: &'c Classifier, lines: I) -> Self {
        Events {
            lines,
            assembler: EventAssembler::new(classifier),
            head: None,
        }
    }
}

impl<'a, T, I: Iterator<Item = (T, &'a str)>> Iterator for Events<'a, '_, T, I> {
    type Item = Event<'a, T>;

    fn next(&mut self) -> Option<Event<'a, T>> {
        loop {
            let Some((tag, line)) = self.lines.next() else {
                let verdict = self.assembler.finish()?;
                let (tag, head) = self.head.take()?;
                return Some(Event {
                    tag,
                    head,
                    lines: verdict.lines(),
                    classification: verdict.into_classification(),
                });
            };
            let closed = self.assembler.push(line.as_bytes());
            let Some(verdict) = closed else {
                if self.head.is_none() {
                    self.head = Some((tag, line));
                }
                continue;
            };
            let (prev_tag, prev_head) = self.head.replace((tag, line))?;
            return Some(Event {
                tag: prev_tag,
                head: prev_head,
                lines: verdict.lines(),
                classification: verdict.into_classification(),
            });
        }
    }
}

impl Classifier {
    /// Block-aware classification of a log: the events of `lines`, each `(tag, line)` (see
    /// [`Events`]). For a pod log with kubelet timestamps:
    /// `classifier.events(text.lines().map(split_timestamp))`.
    pub fn events<'a, T, I>(&self, lines: I) -> Events<'a, '_, T, I::IntoIter>
    where
        I: IntoIterator<Item = (T, &'a str)>,
    {
        Events::new(self, lines.into_iter())
    }

    /// The events of a whole text, each tagged with its head's line number (1-based).
    pub fn events_in<'a>(
        &self,
        text: &'a str,
    ) -> Events<'a, '_, usize, impl Iterator<Item = (usize, &'a str)>> {
        let lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
        Events::new(self, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::ClientLib;

    /// (head line, lines, category, code, client) per event.
    type Row = (usize, usize, Category, Option<u16>, Option<ClientLib>);

    fn events(text: &str) -> Vec<Row> {
        Classifier::new()
            .events_in(text)
            .map(|e| {
                (
                    e.tag,
                    e.lines,
                    e.classification.category,
                    e.classification.http_code,
                    e.classification.client,
                )
            })
            .collect()
    }

    /// The shape of kubernetes-client/python's ApiException (`exceptions.py`, `__str__`), as
    /// posted in kubernetes-client/python#1035.
    #[test]
    fn python_api_exception_is_one_event_with_the_body_s_category() {
        let text = "Traceback (most recent call last):\n  File \"/app/main.py\", line 12, in <module>\n    v1.create_namespaced_pod(namespace=\"default\", body=pod)\nkubernetes.client.exceptions.ApiException: (403)\nReason: Forbidden\nHTTP response headers: HTTPHeaderDict({'Audit-Id': 'x', 'Content-Type': 'application/json'})\nHTTP response body: {\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=10, limited: pods=10\",\"reason\":\"Forbidden\",\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":403}\n\nnext line\n";
        let ev = events(text);
        assert_eq!(ev[0].2, Category::None, "the traceback header is no error");
        assert_eq!(
            ev[1],
            (
                4,
                5,
                Category::QuotaOrAdmission,
                Some(403),
                Some(ClientLib::Python)
            )
        );
        assert_eq!(ev[2].0, 9);
        let errors = ev.iter().filter(|e| e.2.is_error()).count();
        assert_eq!(errors, 1, "counted once: {ev:?}");
    }

    /// The official Java client's ApiException message (`ApiException.getMessage`), with the
    /// status only on the `HTTP response code:` line.
    #[test]
    fn java_response_details_give_the_status() {
        let text = "io.kubernetes.client.openapi.ApiException: Message: \nHTTP response code: 403\nHTTP response body: {\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"pods is forbidden: User \\\"system:serviceaccount:default:default\\\" cannot list resource \\\"pods\\\" in API group \\\"\\\" in the namespace \\\"default\\\"\",\"reason\":\"Forbidden\",\"code\":403}\nHTTP response headers: {audit-id=[x]}\n\tat io.kubernetes.client.openapi.ApiClient.handleResponse(ApiClient.java:974)\n\tat io.kubernetes.client.openapi.ApiClient.execute(ApiClient.java:886)\n";
        let ev = events(text);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(
            ev[0],
            (
                1,
                6,
                Category::Authorization,
                Some(403),
                Some(ClientLib::Java)
            )
        );
    }

    /// fabric8 with a `Caused by:` chain (fabric8io/kubernetes-client#1672 shape): the cause
    /// names the failure.
    #[test]
    fn java_caused_by_names_the_failure() {
        let text = "io.fabric8.kubernetes.client.KubernetesClientException: Operation: [list]  for kind: [Pod]  with name: [null]  in namespace: [default]  failed.\n\tat io.fabric8.kubernetes.client.KubernetesClientException.launderThrowable(KubernetesClientException.java:64)\nCaused by: java.net.ConnectException: Failed to connect to /10.96.0.1:443\n\tat okhttp3.internal.connection.RealConnection.connectSocket(RealConnection.java:249)\n\t... 12 more\n2024-01-01 INFO next\n";
        let ev = events(text);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(
            ev[0],
            (
                1,
                5,
                Category::NetworkUnreachable,
                None,
                Some(ClientLib::Fabric8)
            )
        );
        assert_eq!(ev[1].2, Category::None);
    }

    /// @kubernetes/client-node's HttpError (before 1.0) prints the error, its stack and the
    /// response object; the status is in `statusCode:` and the body (kubernetes-client/
    /// javascript#654 shape).
    #[test]
    fn node_http_error_takes_status_from_the_body() {
        let text = "HttpError: HTTP request failed\n    at Request._callback (/app/node_modules/@kubernetes/client-node/dist/gen/api/coreV1Api.js:12345:36)\n  response: IncomingMessage {\n    statusCode: 403,\n    statusMessage: 'Forbidden',\n  },\n  body: {\n    kind: 'Status',\n    status: 'Failure',\n    reason: 'Forbidden',\n    code: 403\n  },\n  statusCode: 403\n}\n";
        let ev = events(text);
        assert_eq!(ev.len(), 1, "{ev:?}");
        assert_eq!(
            ev[0],
            (
                1,
                14,
                Category::Authorization,
                Some(403),
                Some(ClientLib::ClientNode)
            )
        );
    }

    #[test]
    fn a_node_stack_frame_names_the_client_of_a_bare_error() {
        let text = "Error: connect ECONNREFUSED 10.0.0.1:443\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1494:16)\n    at /app/node_modules/@kubernetes/client-node/dist/watch.js:100:5\n";
        let ev = events(text);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].2, Category::NetworkUnreachable);
        assert_eq!(ev[0].4, Some(ClientLib::ClientNode));
    }

    #[test]
    fn describe_event_rows_stay_separate() {
        let text = "Events:\n  Type     Reason        Age   From                   Message\n  Warning  FailedCreate  7s    replicaset-controller  Error creating: pods \"a\" is forbidden: exceeded quota: q\n  Warning  FailedCreate  5s    replicaset-controller  Error creating: pods \"b\" is forbidden: exceeded quota: q\n";
        let errors: Vec<_> = events(text)
            .into_iter()
            .filter(|e| e.2.is_error())
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }

    #[test]
    fn ordinary_lines_are_single_events_and_every_line_is_counted() {
        let text = "a\nb\n  c\nd";
        let ev = events(text);
        assert_eq!(ev.iter().map(|e| e.1).sum::<usize>(), 4);
        assert_eq!(ev.len(), 3);
    }

    #[test]
    fn events_are_bounded() {
        let mut text = String::from("E0101 reflector.go:1] failed to list: connection refused\n");
        for _ in 0..MAX_EVENT_LINES + 10 {
            text.push_str("  more\n");
        }
        let ev = events(&text);
        assert_eq!(ev[0].1, MAX_EVENT_LINES);
        assert_eq!(ev.iter().map(|e| e.1).sum::<usize>(), MAX_EVENT_LINES + 11);
    }

    #[test]
    fn tags_follow_the_head_line() {
        let cl = Classifier::new();
        let lines = [
            ("t1", "kubernetes.client.exceptions.ApiException: (401)"),
            ("t2", "Reason: Unauthorized"),
            ("t3", "ok"),
        ];
        let ev: Vec<_> = cl.events(lines).collect();
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].tag, "t1");
        assert_eq!(ev[0].classification.category, Category::Authentication);
        assert_eq!(ev[1].tag, "t3");
    }

    /// `push_block` skips ordinary stretches; it must find the same error events as pushing
    /// every line, whatever the block boundaries.
    #[test]
    fn push_block_agrees_with_push() {
        let cl = Classifier::new();
        let text = "start\n  indented\nkubernetes.client.exceptions.ApiException: (403)\nReason: Forbidden\nHTTP response body: {\"message\":\"exceeded quota\"}\nplain\n\n  x\nE0101 reflector.go:1] failed to list: Get \"https://10.0.0.1:443/api\": dial tcp 10.0.0.1:443: connect: connection refused\n  at frame (/app/node_modules/x.js:1:1)\nok\nHttpError: HTTP request failed\n  statusCode: 404\n}\nlast without newline";
        let mut want = vec![];
        let mut a = EventAssembler::new(&cl);
        for line in text.split('\n') {
            want.extend(a.push(line.as_bytes()).filter(EventVerdict::is_error));
        }
        want.extend(a.finish().filter(EventVerdict::is_error));
        assert_eq!(want.len(), 3, "{want:?}");
        let bytes = text.as_bytes();
        // Split into blocks at every line boundary combination of a few sizes.
        for cut_every in [1usize, 2, 3, 5, 100] {
            let mut b = EventAssembler::new(&cl);
            let mut got = vec![];
            let mut lines = 0;
            let starts: Vec<usize> = std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1))
                .filter(|i| *i < bytes.len())
                .collect();
            for chunk in starts.chunks(cut_every) {
                let from = chunk[0];
                let to = starts
                    .iter()
                    .find(|s| **s > *chunk.last().unwrap())
                    .copied()
                    .unwrap_or(bytes.len());
                let block = &bytes[from..to];
                let mut scratch = vec![];
                let mut cands = vec![];
                cl.for_each_candidate(block, &mut scratch, |r, c| cands.push((r, c)));
                lines += b.push_block(block, &cands, |v| got.push(v));
            }
            got.extend(b.finish().filter(EventVerdict::is_error));
            assert_eq!(got, want, "blocks of {cut_every} lines");
            assert_eq!(lines as usize, text.split('\n').count());
        }
    }

    #[test]
    fn push_known_agrees_with_push() {
        let cl = Classifier::new();
        let text = "HttpError: HTTP request failed\n  body: {\n    reason: 'Forbidden',\n  },\n  statusCode: 403\n}\nplain\nE0101 reflector.go:1] x: connection refused to https://10.0.0.1:443/api\n";
        let mut a = EventAssembler::new(&cl);
        let mut b = EventAssembler::new(&cl);
        let (mut va, mut vb) = (vec![], vec![]);
        for line in text.lines() {
            let c = cl
                .is_candidate(line.as_bytes())
                .then(|| cl.classify(line.as_bytes()));
            va.extend(a.push(line.as_bytes()));
            vb.extend(b.push_known(line.as_bytes(), c.as_ref()));
        }
        va.extend(a.finish());
        vb.extend(b.finish());
        assert_eq!(va, vb);
        assert_eq!(va.len(), 3);
    }
}
