//! kube-apiserver audit log lines (JSON, one event per line) turned into per-user request
//! counters: the only source that names users and user agents, so the only one that gives
//! per-user error ratios. Reads from any `BufRead`; only `ResponseComplete` and `Panic`
//! stages count (a request is counted once, when it ended).
//!
//! **Bounded, whatever the input.** An audit log is written by the API server but its
//! contents come from anyone who can send a request (user names, user agents), and it can be
//! gigabytes long. Memory is bounded by [`AuditLimits`]:
//! - a line longer than `max_line_bytes` is skipped without being held (counted in
//!   [`AuditDropped::long_lines`]);
//! - at most `max_users` users are tracked. When a new user would exceed that, the half with
//!   the fewest errors (then fewest requests) is evicted, so the users that matter for
//!   diagnosis, those with errors and the busiest, stay. An evicted user that comes back is
//!   counted again from then on. Evictions and the events they dropped are counted;
//! - at most `max_cells` (user, code, interval) counters are kept in all, evicting the same
//!   way when exceeded;
//! - each user keeps at most [`MAX_AGENTS_PER_USER`] user agents (the most frequent win).
//!
//! **Never echoes hostile values raw.** User names and agents are stored with control
//! characters (C0, C1, DEL, bidirectional overrides) escaped as `\u{..}` and cut to
//! [`MAX_VALUE_CHARS`] characters; errors carry line numbers, never line content.
//!
//! **Fast.** Lines are parsed in place (no copy for a line that lies within the reader's
//! buffer, borrowed strings), only the five fields needed are decoded, and lines of other
//! stages are skipped after that decode.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::io::BufRead;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::CounterSeries;
use crate::bundle::Window;

/// Longest user name or user agent kept, in characters; longer ones are cut and end in `…`.
pub const MAX_VALUE_CHARS: usize = 256;

/// User agents remembered per user.
pub const MAX_AGENTS_PER_USER: usize = 4;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event<'a> {
    #[serde(borrow)]
    stage: Option<Cow<'a, str>>,
    #[serde(borrow)]
    user: Option<User<'a>>,
    #[serde(borrow)]
    user_agent: Option<Cow<'a, str>>,
    response_status: Option<ResponseStatus>,
    #[serde(borrow)]
    stage_timestamp: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct ResponseStatus {
    code: Option<u16>,
}

/// Bounds on what reading an audit log may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditLimits {
    /// Users tracked at once (default 10,000).
    pub max_users: usize,
    /// Longest line read, in bytes (default 4 MiB: RequestResponse-level events of large
    /// lists can be megabytes; Metadata-level ones are about 1 KB).
    pub max_line_bytes: usize,
    /// (user, code, interval) counters kept in all (default 2,000,000, about 64 MB).
    pub max_cells: usize,
}

impl Default for AuditLimits {
    fn default() -> Self {
        AuditLimits {
            max_users: 10_000,
            max_line_bytes: 4 << 20,
            max_cells: 2_000_000,
        }
    }
}

/// What the limits made the reader leave out.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AuditDropped {
    /// Lines longer than `max_line_bytes`, skipped unread.
    pub long_lines: u64,
    /// 1-based number of the first such line.
    pub first_long_line: Option<u64>,
    /// Users evicted to stay within `max_users` or `max_cells` (a user evicted twice counts
    /// twice).
    pub users_evicted: u64,
    /// Counted events whose counts left with evicted users.
    pub events_evicted: u64,
    /// User names and agents cut to [`MAX_VALUE_CHARS`].
    pub values_cut: u64,
}

impl AuditDropped {
    /// Whether anything was left out.
    pub fn any(&self) -> bool {
        self.long_lines > 0 || self.users_evicted > 0 || self.values_cut > 0
    }
}

/// What an audit log gave.
#[derive(Debug, Default)]
pub struct AuditCounts {
    /// Cumulative counters per (user, code), `job="audit"`, `instance=user` (escaped, see the
    /// module doc), sorted by user then code.
    pub series: Vec<CounterSeries>,
    /// The most frequent user agent per user (escaped).
    pub user_agents: BTreeMap<String, String>,
    /// Lines read.
    pub lines: u64,
    /// Events counted (in the window, completed), including those of users evicted later.
    pub counted: u64,
    /// Lines that were not audit events.
    pub unreadable: u64,
    /// 1-based number of the first unreadable line.
    pub first_unreadable: Option<u64>,
    /// What the limits left out.
    pub dropped: AuditDropped,
}

/// Reads audit events in `window` into counters sampled every `step`, with the default
/// [`AuditLimits`].
pub fn read_audit(
    reader: impl BufRead,
    window: Window,
    step: SignedDuration,
) -> std::io::Result<AuditCounts> {
    read_audit_with(reader, window, step, AuditLimits::default())
}

/// Reads audit events in `window` into counters sampled every `step` (15 s when zero or
/// negative), holding no more than `limits` allow. Fails only when the reader does.
pub fn read_audit_with(
    mut reader: impl BufRead,
    window: Window,
    step: SignedDuration,
    limits: AuditLimits,
) -> std::io::Result<AuditCounts> {
    let step = if step.is_zero() || step.is_negative() {
        SignedDuration::from_secs(15)
    } else {
        step
    };
    let mut t = Tally::new(window, step, limits);
    let mut carry: Vec<u8> = Vec::new();
    let mut skipping = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let len = buf.len();
        let mut at = 0;
        while at < len {
            let Some(nl) = memchr::memchr(b'\n', &buf[at..]) else {
                // A partial line: keep it (within the limit) for the next buffer.
                if !skipping {
                    if carry.len() + (len - at) > limits.max_line_bytes {
                        skipping = true;
                        carry.clear();
                    } else {
                        carry.extend_from_slice(&buf[at..]);
                    }
                }
                break;
            };
            let line = &buf[at..at + nl];
            at += nl + 1;
            if skipping {
                skipping = false;
                t.long_line();
            } else if !carry.is_empty() {
                if carry.len() + line.len() > limits.max_line_bytes {
                    t.long_line();
                } else {
                    carry.extend_from_slice(line);
                    t.line(&carry);
                }
                carry.clear();
            } else if line.len() > limits.max_line_bytes {
                t.long_line();
            } else {
                t.line(line);
            }
        }
        reader.consume(len);
    }
    if skipping {
        t.long_line();
    } else if !carry.is_empty() {
        t.line(&carry);
    }
    Ok(t.finish())
}

/// One tracked user.
struct UserState {
    name: Box<str>,
    requests: u64,
    errors: u64,
    /// (agent, count), at most MAX_AGENTS_PER_USER.
    agents: Vec<(Box<str>, u64)>,
    /// Distinct codes seen, the index into which is the cell key's code part.
    codes: Vec<Code>,
}

/// A response code: the HTTP status, or 0 for "no status" (`<error>`).
type Code = u16;

struct Tally {
    window: Window,
    step: SignedDuration,
    limits: AuditLimits,
    out: AuditCounts,
    /// Escaped name -> slot in `users`.
    index: HashMap<Box<str>, u32>,
    users: Vec<Option<UserState>>,
    free: Vec<u32>,
    /// (user slot, code index, interval) -> count.
    cells: HashMap<(u32, u16, u32), u32>,
}

impl Tally {
    fn new(window: Window, step: SignedDuration, limits: AuditLimits) -> Self {
        Tally {
            window,
            step,
            limits: AuditLimits {
                max_users: limits.max_users.max(2),
                max_line_bytes: limits.max_line_bytes.max(1),
                max_cells: limits.max_cells.max(2),
            },
            out: AuditCounts::default(),
            index: HashMap::new(),
            users: Vec::new(),
            free: Vec::new(),
            cells: HashMap::new(),
        }
    }

    fn long_line(&mut self) {
        self.out.lines += 1;
        self.out.dropped.long_lines += 1;
        self.out
            .dropped
            .first_long_line
            .get_or_insert(self.out.lines);
    }

    fn line(&mut self, line: &[u8]) {
        self.out.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let Ok(ev) = serde_json::from_slice::<Event<'_>>(line) else {
            self.out.unreadable += 1;
            self.out.first_unreadable.get_or_insert(self.out.lines);
            return;
        };
        let stage = ev.stage.as_deref().unwrap_or("");
        let panic = stage == "Panic";
        if stage != "ResponseComplete" && !panic {
            return;
        }
        let Some(at) = ev
            .stage_timestamp
            .as_deref()
            .and_then(|t| t.parse::<Timestamp>().ok())
        else {
            return;
        };
        if at <= self.window.from || at > self.window.to {
            return;
        }
        let code: Code = if panic {
            500
        } else {
            ev.response_status.and_then(|r| r.code).unwrap_or(0)
        };
        let name = ev
            .user
            .and_then(|u| u.username)
            .filter(|n| !n.is_empty())
            .unwrap_or(Cow::Borrowed("(unknown)"));
        let interval = bucket_index(self.window.from, at, self.step);
        self.count(&name, ev.user_agent.as_deref(), code, interval);
    }

    fn count(&mut self, raw_name: &str, agent: Option<&str>, code: Code, interval: u32) {
        let name = self.escape(raw_name);
        let slot = match self.index.get(name.as_ref()) {
            Some(s) => *s,
            None => {
                if self.index.len() >= self.limits.max_users {
                    self.evict();
                }
                let state = UserState {
                    name: name.clone().into_owned().into_boxed_str(),
                    requests: 0,
                    errors: 0,
                    agents: Vec::new(),
                    codes: Vec::new(),
                };
                let slot = match self.free.pop() {
                    Some(s) => {
                        self.users[s as usize] = Some(state);
                        s
                    }
                    None => {
                        self.users.push(Some(state));
                        (self.users.len() - 1) as u32
                    }
                };
                self.index.insert(name.into_owned().into_boxed_str(), slot);
                slot
            }
        };
        let agent = agent.map(|a| self.escape(a));
        let u = self.users[slot as usize]
            .as_mut()
            .expect("an indexed slot holds a user");
        u.requests += 1;
        if !(200..300).contains(&code) {
            u.errors += 1;
        }
        let code_idx = match u.codes.iter().position(|c| *c == code) {
            Some(i) => i,
            None => {
                u.codes.push(code);
                u.codes.len() - 1
            }
        } as u16;
        if let Some(agent) = agent {
            let known = u
                .agents
                .iter()
                .position(|(a, _)| a.as_ref() == agent.as_ref());
            match known {
                Some(i) => u.agents[i].1 += 1,
                None if u.agents.len() < MAX_AGENTS_PER_USER => {
                    u.agents.push((agent.into_owned().into_boxed_str(), 1))
                }
                None => {
                    // Space-saving: the least frequent agent's slot goes to the newcomer,
                    // which inherits its count (an overestimate, as the algorithm allows).
                    if let Some(min) = u.agents.iter_mut().min_by_key(|(_, n)| *n) {
                        *min = (agent.into_owned().into_boxed_str(), min.1 + 1);
                    }
                }
            }
        }
        *self.cells.entry((slot, code_idx, interval)).or_insert(0) += 1;
        self.out.counted += 1;
        if self.cells.len() > self.limits.max_cells {
            self.evict();
        }
    }

    /// Control characters escaped, cut to MAX_VALUE_CHARS.
    fn escape<'s>(&mut self, s: &'s str) -> Cow<'s, str> {
        let (out, cut) = escape_value(s);
        if cut {
            self.out.dropped.values_cut += 1;
        }
        out
    }

    /// Drops the half of the users with the fewest errors, then fewest requests.
    fn evict(&mut self) {
        let mut live: Vec<(u64, u64, u32)> = self
            .users
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.as_ref().map(|u| (u.errors, u.requests, i as u32)))
            .collect();
        if live.is_empty() {
            return;
        }
        live.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
        let keep = live.len() / 2;
        let mut gone = vec![false; self.users.len()];
        for &(_, requests, slot) in &live[keep..] {
            gone[slot as usize] = true;
            if let Some(u) = self.users[slot as usize].take() {
                self.index.remove(&u.name);
            }
            self.free.push(slot);
            self.out.dropped.users_evicted += 1;
            self.out.dropped.events_evicted += requests;
        }
        self.cells.retain(|(slot, _, _), _| !gone[*slot as usize]);
    }

    fn finish(mut self) -> AuditCounts {
        let n_buckets = bucket_index(self.window.from, self.window.to, self.step);
        // Per user: per code, the counts per interval.
        let mut per: HashMap<(u32, u16), BTreeMap<u32, u32>> = HashMap::new();
        for ((slot, code, i), n) in self.cells.drain() {
            per.entry((slot, code)).or_default().insert(i, n);
        }
        let mut series = Vec::new();
        let mut agents = BTreeMap::new();
        for (slot, u) in self.users.iter().enumerate() {
            let Some(u) = u else { continue };
            for (ci, code) in u.codes.iter().enumerate() {
                let Some(counts) = per.get(&(slot as u32, ci as u16)) else {
                    continue;
                };
                let mut cum = 0.0;
                let mut points = Vec::with_capacity(n_buckets as usize + 1);
                points.push((self.window.from, 0.0));
                for i in 1..=n_buckets {
                    cum += f64::from(counts.get(&i).copied().unwrap_or(0));
                    let at = (self.window.from + self.step * (i as i32)).min(self.window.to);
                    points.push((at, cum));
                }
                series.push(CounterSeries {
                    job: "audit".to_string(),
                    instance: u.name.to_string(),
                    code: if *code == 0 {
                        "<error>".to_string()
                    } else {
                        code.to_string()
                    },
                    host: None,
                    labels: BTreeMap::from([("user".to_string(), u.name.to_string())]),
                    points,
                });
            }
            if let Some((a, _)) = u
                .agents
                .iter()
                .max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0)))
            {
                agents.insert(u.name.to_string(), a.to_string());
            }
        }
        series.sort_by(|a, b| a.instance.cmp(&b.instance).then(a.code.cmp(&b.code)));
        self.out.series = series;
        self.out.user_agents = agents;
        self.out
    }
}

/// Whether `c` must not reach a terminal or a report raw ([`crate::escape::needs_escape`]:
/// controls, bidirectional and invisible characters).
fn is_hostile_char(c: char) -> bool {
    crate::escape::needs_escape(c)
}

/// `s` with hostile characters escaped as `\u{..}` (and `\` as `\\` when anything was
/// escaped, so the escaping can be read back), cut to MAX_VALUE_CHARS characters ending in
/// `…`. Returns whether it was cut.
fn escape_value(s: &str) -> (Cow<'_, str>, bool) {
    let clean = !s.chars().any(is_hostile_char);
    if clean && s.len() <= MAX_VALUE_CHARS {
        return (Cow::Borrowed(s), false);
    }
    let mut out = String::with_capacity(s.len().min(MAX_VALUE_CHARS * 4));
    let mut n = 0;
    for c in s.chars() {
        let piece = if is_hostile_char(c) {
            format!("\\u{{{:x}}}", c as u32)
        } else if c == '\\' && !clean {
            "\\\\".to_string()
        } else {
            c.to_string()
        };
        let len = piece.chars().count();
        if n + len > MAX_VALUE_CHARS - 1 {
            out.push('…');
            return (Cow::Owned(out), true);
        }
        out.push_str(&piece);
        n += len;
    }
    (Cow::Owned(out), false)
}

/// The 1-based interval an event at `at` falls in: (from + (i-1)·step, from + i·step].
fn bucket_index(from: Timestamp, at: Timestamp, step: SignedDuration) -> u32 {
    let since = at.duration_since(from).as_nanos();
    let step = step.as_nanos().max(1);
    u32::try_from((since + step - 1) / step).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: &str, user: &str, code: u16, stage: &str) -> String {
        format!(
            r#"{{"kind":"Event","stage":"{stage}","user":{{"username":"{user}"}},"userAgent":"ua/{user}","responseStatus":{{"code":{code}}},"stageTimestamp":"{t}"}}"#
        )
    }

    fn window() -> Window {
        Window {
            from: "2026-01-01T00:00:00Z".parse().unwrap(),
            to: "2026-01-01T00:01:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn counts_completed_requests_per_user_and_code() {
        let log = [
            ev("2026-01-01T00:00:05Z", "alice", 200, "ResponseComplete"),
            ev("2026-01-01T00:00:05Z", "alice", 200, "ResponseStarted"),
            ev("2026-01-01T00:00:25Z", "alice", 403, "ResponseComplete"),
            ev("2026-01-01T00:00:35Z", "bob", 200, "ResponseComplete"),
            ev("2026-01-01T00:02:00Z", "bob", 500, "ResponseComplete"),
            "not json".to_string(),
        ]
        .join("\n");
        let c = read_audit(log.as_bytes(), window(), SignedDuration::from_secs(15)).unwrap();
        assert_eq!(c.counted, 3);
        assert_eq!(c.unreadable, 1);
        assert_eq!(c.first_unreadable, Some(6));
        let alice403 = c
            .series
            .iter()
            .find(|s| s.instance == "alice" && s.code == "403")
            .unwrap();
        assert_eq!(alice403.points.last().unwrap().1, 1.0);
        assert_eq!(alice403.points.len(), 5);
        assert_eq!(c.user_agents["bob"], "ua/bob");
        assert!(!c.dropped.any());
    }

    #[test]
    fn long_lines_are_skipped_and_counted_whatever_the_buffer() {
        let good = ev("2026-01-01T00:00:05Z", "alice", 200, "ResponseComplete");
        let long = format!(r#"{{"pad":"{}"}}"#, "x".repeat(5000));
        let log = format!("{good}\n{long}\n{good}\n{long}");
        let limits = AuditLimits {
            max_line_bytes: 1000,
            ..AuditLimits::default()
        };
        // A tiny buffer makes every line cross buffer boundaries.
        let reader = std::io::BufReader::with_capacity(7, log.as_bytes());
        let c = read_audit_with(reader, window(), SignedDuration::from_secs(15), limits).unwrap();
        assert_eq!(c.lines, 4);
        assert_eq!(c.counted, 2);
        assert_eq!(c.dropped.long_lines, 2);
        assert_eq!(c.dropped.first_long_line, Some(2));
    }

    #[test]
    fn users_beyond_the_cap_are_evicted_keeping_those_with_errors() {
        let mut log = String::new();
        for i in 0..50 {
            log.push_str(&ev(
                "2026-01-01T00:00:05Z",
                &format!("u{i}"),
                200,
                "ResponseComplete",
            ));
            log.push('\n');
        }
        for _ in 0..3 {
            log.push_str(&ev(
                "2026-01-01T00:00:06Z",
                "failing",
                403,
                "ResponseComplete",
            ));
            log.push('\n');
        }
        for i in 50..100 {
            log.push_str(&ev(
                "2026-01-01T00:00:07Z",
                &format!("u{i}"),
                200,
                "ResponseComplete",
            ));
            log.push('\n');
        }
        let limits = AuditLimits {
            max_users: 10,
            ..AuditLimits::default()
        };
        let c = read_audit_with(
            log.as_bytes(),
            window(),
            SignedDuration::from_secs(15),
            limits,
        )
        .unwrap();
        let users: std::collections::BTreeSet<&str> =
            c.series.iter().map(|s| s.instance.as_str()).collect();
        assert!(users.len() <= 10, "{}", users.len());
        assert!(users.contains("failing"));
        assert_eq!(c.counted, 103);
        assert!(c.dropped.users_evicted >= 90);
        assert_eq!(
            c.dropped.events_evicted
                + c.series
                    .iter()
                    .map(|s| s.points.last().unwrap().1 as u64)
                    .sum::<u64>(),
            103
        );
    }

    #[test]
    fn hostile_names_are_escaped_and_cut() {
        let name = format!("evil\\u001b]0;pwned\\u0007\\n{}", "a".repeat(1000));
        let log = ev("2026-01-01T00:00:05Z", &name, 403, "ResponseComplete");
        let c = read_audit(log.as_bytes(), window(), SignedDuration::from_secs(15)).unwrap();
        let user = &c.series[0].instance;
        assert!(!user.chars().any(char::is_control), "{user:?}");
        assert!(
            user.starts_with("evil\\u{1b}]0;pwned\\u{7}\\u{a}"),
            "{user:?}"
        );
        assert_eq!(user.chars().count(), MAX_VALUE_CHARS);
        assert_eq!(c.dropped.values_cut, 2);
    }

    #[test]
    fn missing_code_is_a_transport_error_and_panic_a_500() {
        let log = [
            r#"{"stage":"ResponseComplete","user":{"username":"a"},"stageTimestamp":"2026-01-01T00:00:05Z"}"#,
            r#"{"stage":"Panic","user":{"username":"a"},"responseStatus":{"code":200},"stageTimestamp":"2026-01-01T00:00:05Z"}"#,
        ]
        .join("\n");
        let c = read_audit(log.as_bytes(), window(), SignedDuration::from_secs(15)).unwrap();
        let codes: Vec<&str> = c.series.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["500", "<error>"]);
    }
}
