//! kube-apiserver audit log lines (JSON, one event per line) turned into per-user request
//! counters: the only source that names users and user agents, so the only one that gives
//! per-user error ratios. Reads from any `BufRead`; only `ResponseComplete` and `Panic`
//! stages count (a request is counted once, when it ended).

use std::collections::BTreeMap;
use std::io::BufRead;

use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

use super::CounterSeries;
use crate::bundle::Window;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    stage: Option<String>,
    user: Option<User>,
    user_agent: Option<String>,
    response_status: Option<ResponseStatus>,
    stage_timestamp: Option<Timestamp>,
}

#[derive(Deserialize)]
struct User {
    username: Option<String>,
}

#[derive(Deserialize)]
struct ResponseStatus {
    code: Option<u16>,
}

/// What an audit log gave.
#[derive(Debug, Default)]
pub struct AuditCounts {
    /// Cumulative counters per (user, code), `job="audit"`, `instance=user`.
    pub series: Vec<CounterSeries>,
    /// The most frequent user agent per user.
    pub user_agents: BTreeMap<String, String>,
    /// Lines read.
    pub lines: u64,
    /// Events counted (in the window, completed).
    pub counted: u64,
    /// Lines that were not audit events, and the first one's number.
    pub unreadable: u64,
    /// 1-based number of the first unreadable line.
    pub first_unreadable: Option<u64>,
}

/// Reads audit events in `window` into counters sampled every `step`.
pub fn read_audit(
    reader: impl BufRead,
    window: Window,
    step: SignedDuration,
) -> std::io::Result<AuditCounts> {
    let step = if step.is_zero() || step.is_negative() {
        SignedDuration::from_secs(15)
    } else {
        step
    };
    let mut out = AuditCounts::default();
    // (user, code) -> counts per bucket index.
    let mut buckets: BTreeMap<(String, String), BTreeMap<i64, f64>> = BTreeMap::new();
    let mut agents: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for line in reader.split(b'\n') {
        let line = line?;
        out.lines += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Ok(ev) = serde_json::from_slice::<Event>(&line) else {
            out.unreadable += 1;
            out.first_unreadable.get_or_insert(out.lines);
            continue;
        };
        let stage = ev.stage.as_deref().unwrap_or("");
        if stage != "ResponseComplete" && stage != "Panic" {
            continue;
        }
        let Some(at) = ev.stage_timestamp else {
            continue;
        };
        if at <= window.from || at > window.to {
            continue;
        }
        let user = ev
            .user
            .and_then(|u| u.username)
            .unwrap_or_else(|| "(unknown)".to_string());
        let code = match (stage, ev.response_status.and_then(|r| r.code)) {
            ("Panic", _) => "500".to_string(),
            (_, Some(c)) => c.to_string(),
            (_, None) => "<error>".to_string(),
        };
        let idx = bucket_index(window.from, at, step);
        *buckets
            .entry((user.clone(), code))
            .or_default()
            .entry(idx)
            .or_default() += 1.0;
        if let Some(ua) = ev.user_agent {
            *agents.entry(user).or_default().entry(ua).or_default() += 1;
        }
        out.counted += 1;
    }
    let n_buckets = bucket_index(window.from, window.to, step);
    for ((user, code), counts) in buckets {
        let mut cum = 0.0;
        let mut points = vec![(window.from, 0.0)];
        for i in 1..=n_buckets {
            cum += counts.get(&i).copied().unwrap_or(0.0);
            let at = (window.from + step * (i as i32)).min(window.to);
            points.push((at, cum));
        }
        out.series.push(CounterSeries {
            job: "audit".to_string(),
            instance: user.clone(),
            code,
            host: None,
            labels: BTreeMap::from([("user".to_string(), user)]),
            points,
        });
    }
    out.user_agents = agents
        .into_iter()
        .filter_map(|(u, m)| m.into_iter().max_by_key(|(_, n)| *n).map(|(ua, _)| (u, ua)))
        .collect();
    Ok(out)
}

/// The 1-based interval an event at `at` falls in: (from + (i-1)·step, from + i·step].
fn bucket_index(from: Timestamp, at: Timestamp, step: SignedDuration) -> i64 {
    let since = at.duration_since(from).as_nanos();
    let step = step.as_nanos().max(1);
    ((since + step - 1) / step) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_completed_requests_per_user_and_code() {
        let from: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let to: Timestamp = "2026-01-01T00:01:00Z".parse().unwrap();
        let ev = |t: &str, user: &str, code: u16, stage: &str| {
            format!(
                r#"{{"kind":"Event","stage":"{stage}","user":{{"username":"{user}"}},"userAgent":"ua/{user}","responseStatus":{{"code":{code}}},"stageTimestamp":"{t}"}}"#
            )
        };
        let log = [
            ev("2026-01-01T00:00:05Z", "alice", 200, "ResponseComplete"),
            ev("2026-01-01T00:00:05Z", "alice", 200, "ResponseStarted"),
            ev("2026-01-01T00:00:25Z", "alice", 403, "ResponseComplete"),
            ev("2026-01-01T00:00:35Z", "bob", 200, "ResponseComplete"),
            ev("2026-01-01T00:02:00Z", "bob", 500, "ResponseComplete"),
            "not json".to_string(),
        ]
        .join("\n");
        let c = read_audit(
            log.as_bytes(),
            Window { from, to },
            SignedDuration::from_secs(15),
        )
        .unwrap();
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
    }
}
