//! Audit-log lines (`clients --audit-log`), read from a file the user names but written by
//! anyone who can make requests. Properties: never panics; every line is accounted for;
//! the user cap holds; nothing counted is lost without being reported; stored names carry no
//! control characters.
#![no_main]

use jiff::{SignedDuration, Timestamp};
use kube_doctor_core::bundle::Window;
use kube_doctor_core::clients::audit::{AuditLimits, read_audit_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let from: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let to: Timestamp = "2026-01-01T00:15:00Z".parse().unwrap();
    // The first byte picks small limits, so eviction and long lines are reached.
    let (knob, log) = data.split_first().map_or((0, data), |(k, r)| (*k, r));
    let limits = AuditLimits {
        max_users: 2 + usize::from(knob % 8),
        max_line_bytes: 64 + usize::from(knob) * 16,
        max_cells: 4 + usize::from(knob % 16),
    };
    // A small buffer makes lines cross buffer boundaries.
    let reader = std::io::BufReader::with_capacity(1 + usize::from(knob % 64), log);
    let c = read_audit_with(
        reader,
        Window { from, to },
        SignedDuration::from_secs(15),
        limits,
    )
    .expect("reading a slice cannot fail");
    assert!(c.counted + c.unreadable + c.dropped.long_lines <= c.lines);
    assert_eq!(
        c.lines as usize,
        log.split(|b| *b == b'\n').count() - usize::from(log.ends_with(b"\n") || log.is_empty())
    );
    let users: std::collections::BTreeSet<&str> =
        c.series.iter().map(|s| s.instance.as_str()).collect();
    assert!(
        users.len() <= limits.max_users,
        "{} users over a cap of {}",
        users.len(),
        limits.max_users
    );
    let kept: f64 = c
        .series
        .iter()
        .map(|s| s.points.last().map_or(0.0, |p| p.1))
        .sum();
    assert_eq!(kept as u64 + c.dropped.events_evicted, c.counted);
    for s in &c.series {
        assert!(
            !s.instance.chars().any(char::is_control),
            "{:?}",
            s.instance
        );
    }
    for a in c.user_agents.values() {
        assert!(!a.chars().any(char::is_control), "{a:?}");
    }
});
