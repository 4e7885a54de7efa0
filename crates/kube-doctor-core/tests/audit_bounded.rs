//! Audit-log reading stays bounded and fast whatever the log (`clients --audit-log`):
//! 200,000 distinct users, hostile lines, a failing client hidden among them.
//!
//! Measuring (not part of the normal run):
//! ```text
//! KD_AUDIT_OUT=/tmp/audit-100mb.jsonl KD_AUDIT_BYTES=100000000 KD_AUDIT_USERS=300 \
//!   cargo test --release -p kube-doctor-core --test audit_bounded -- --ignored write_audit_log
//! KD_AUDIT_LOG=/tmp/audit-100mb.jsonl /usr/bin/time -v \
//!   cargo test --release -p kube-doctor-core --test audit_bounded -- --ignored --nocapture read_audit_log
//! ```

use std::io::{BufRead, BufReader, Read, Write};

use jiff::{SignedDuration, Timestamp};
use kube_doctor_core::bundle::Window;
use kube_doctor_core::clients::audit::{AuditLimits, read_audit, read_audit_with};

fn window() -> Window {
    Window {
        from: "2026-01-01T00:00:00Z".parse().unwrap(),
        to: "2026-01-01T00:15:00Z".parse().unwrap(),
    }
}

/// A Metadata-level audit event as kube-apiserver writes it (about 900 bytes).
fn event(n: u64, user: &str, code: u16) -> String {
    let from: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let at = from + SignedDuration::from_millis((1 + (n * 7919) % 899_000) as i64);
    let verb = ["get", "list", "watch", "update", "create"][(n % 5) as usize];
    format!(
        concat!(
            r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"{:08x}-8a3b-4c5d-9e0f-{:012x}","#,
            r#""stage":"ResponseComplete","requestURI":"/api/v1/namespaces/demo/pods?limit=500&resourceVersion=0","#,
            r#""verb":"{}","user":{{"username":"{}","uid":"{:08x}-0000-4000-8000-000000000000","groups":["system:serviceaccounts","system:serviceaccounts:demo","system:authenticated"],"#,
            r#""extra":{{"authentication.kubernetes.io/pod-name":["app-7d9f8c6b5-x2x4z"],"authentication.kubernetes.io/pod-uid":["5c1f7a2e-1111-4222-8333-944445555666"]}}}},"#,
            r#""sourceIPs":["10.244.1.17"],"userAgent":"app/v1.2.3 (linux/amd64) kubernetes/abcdef","#,
            r#""objectRef":{{"resource":"pods","namespace":"demo","apiVersion":"v1"}},"#,
            r#""responseStatus":{{"metadata":{{}},"code":{}}},"#,
            r#""requestReceivedTimestamp":"{}","stageTimestamp":"{}","#,
            r#""annotations":{{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"app\" of ClusterRole \"view\" to ServiceAccount \"app/demo\""}}}}"#,
        ),
        n, n, verb, user, n, code, at, at
    )
}

/// Lines produced on the fly: `users` distinct users round-robin, every 50th event from
/// "system:serviceaccount:demo:failing" with a 403, a RequestReceived line every 4th.
struct Gen {
    next: u64,
    total: u64,
    users: u64,
    /// Only the fields the reader needs (fast in debug builds), not the full event.
    compact: bool,
    buf: Vec<u8>,
    pos: usize,
}

impl Gen {
    fn new(total: u64, users: u64) -> Self {
        Gen {
            next: 0,
            total,
            users,
            compact: false,
            buf: Vec::new(),
            pos: 0,
        }
    }

    fn compact(mut self) -> Self {
        self.compact = true;
        self
    }
}

/// The fields the reader uses, in the API server's order.
fn compact_event(n: u64, user: &str, code: u16) -> String {
    let from: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let at = from + SignedDuration::from_millis((1 + (n * 7919) % 899_000) as i64);
    format!(
        r#"{{"stage":"ResponseComplete","user":{{"username":"{user}"}},"userAgent":"app/1","responseStatus":{{"code":{code}}},"stageTimestamp":"{at}"}}"#
    )
}

impl Read for Gen {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.buf.len() {
            if self.next == self.total {
                return Ok(0);
            }
            let n = self.next;
            self.next += 1;
            let event = if self.compact { compact_event } else { event };
            let line = if n % 50 == 49 {
                event(n, "system:serviceaccount:demo:failing", 403)
            } else if n % 4 == 3 {
                event(n, "system:serviceaccount:demo:app", 200)
                    .replace("ResponseComplete", "RequestReceived")
            } else {
                event(
                    n,
                    &format!("system:serviceaccount:tenant-{}:sa", n % self.users),
                    200,
                )
            };
            self.buf = line.into_bytes();
            self.buf.push(b'\n');
            self.pos = 0;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[test]
fn two_hundred_thousand_distinct_users_stay_within_the_cap() {
    let total = 210_000;
    let limits = AuditLimits {
        max_users: 5_000,
        ..AuditLimits::default()
    };
    let reader = BufReader::with_capacity(64 * 1024, Gen::new(total, 200_000).compact());
    let c = read_audit_with(reader, window(), SignedDuration::from_secs(15), limits).unwrap();
    let users: std::collections::BTreeSet<&str> =
        c.series.iter().map(|s| s.instance.as_str()).collect();
    assert!(users.len() <= 5_000, "{} users kept", users.len());
    // The failing client is never evicted: it has the most errors.
    let failing: f64 = c
        .series
        .iter()
        .filter(|s| s.instance == "system:serviceaccount:demo:failing")
        .map(|s| s.points.last().unwrap().1)
        .sum();
    assert_eq!(failing, (total / 50) as f64);
    assert_eq!(c.lines, total);
    // RequestReceived lines are read but not counted; nothing else is lost silently.
    let kept: f64 = c.series.iter().map(|s| s.points.last().unwrap().1).sum();
    assert_eq!(kept as u64 + c.dropped.events_evicted, c.counted);
    assert!(c.dropped.users_evicted > 100_000, "{:?}", c.dropped);
}

#[test]
fn hostile_lines_are_counted_not_echoed() {
    let mut log = Vec::new();
    log.extend_from_slice(b"\x00\x00\x00\x00garbage from a copytruncate\n");
    log.extend_from_slice(&[0xff, 0xfe, b'\n']);
    log.extend_from_slice(b"{\"stage\":\"ResponseComplete\",\"stageTimestamp\":\"not a time\"}\n");
    log.extend_from_slice(
        b"{\"stage\":\"ResponseComplete\",\"responseStatus\":{\"code\":70000}}\n",
    );
    log.extend_from_slice(&vec![b'['; 100_000]);
    log.push(b'\n');
    log.extend_from_slice(event(1, r"\u001b[2J\u202eevil", 401).as_bytes());
    let c = read_audit_with(
        &log[..],
        window(),
        SignedDuration::from_secs(15),
        AuditLimits {
            max_line_bytes: 50_000,
            ..AuditLimits::default()
        },
    )
    .unwrap();
    assert_eq!(c.lines, 6);
    assert_eq!(c.dropped.long_lines, 1);
    assert_eq!(
        c.unreadable, 3,
        "NUL garbage, invalid UTF-8, out-of-range code"
    );
    assert_eq!(c.counted, 1);
    let user = &c.series[0].instance;
    assert_eq!(user, "\\u{1b}[2J\\u{202e}evil");
}

/// Writes a generated log to `KD_AUDIT_OUT` of about `KD_AUDIT_BYTES` bytes with
/// `KD_AUDIT_USERS` distinct users (a measuring aid, see the module doc).
#[test]
#[ignore = "generates a large file for measuring"]
fn write_audit_log() {
    let path = std::env::var("KD_AUDIT_OUT").expect("KD_AUDIT_OUT");
    let bytes: u64 = std::env::var("KD_AUDIT_BYTES").map_or(100_000_000, |v| v.parse().unwrap());
    let users: u64 = std::env::var("KD_AUDIT_USERS").map_or(300, |v| v.parse().unwrap());
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut source = BufReader::new(Gen::new(u64::MAX, users));
    let mut written = 0u64;
    let mut line = Vec::new();
    while written < bytes {
        line.clear();
        source.read_until(b'\n', &mut line).unwrap();
        out.write_all(&line).unwrap();
        written += line.len() as u64;
    }
    out.flush().unwrap();
    eprintln!("wrote {written} bytes to {path}");
}

/// Reads `KD_AUDIT_LOG` and prints lines, users kept, what was dropped and the time taken.
#[test]
#[ignore = "measures a large file"]
fn read_audit_log() {
    let path = std::env::var("KD_AUDIT_LOG").expect("KD_AUDIT_LOG");
    let t0 = std::time::Instant::now();
    let file = std::fs::File::open(&path).unwrap();
    let c = read_audit(
        BufReader::with_capacity(256 * 1024, file),
        window(),
        SignedDuration::from_secs(15),
    )
    .unwrap();
    let users: std::collections::BTreeSet<&str> =
        c.series.iter().map(|s| s.instance.as_str()).collect();
    eprintln!(
        "read {path}: {} lines, {} counted, {} unreadable, {} users kept, {:?}, in {:.3} s",
        c.lines,
        c.counted,
        c.unreadable,
        users.len(),
        c.dropped,
        t0.elapsed().as_secs_f64()
    );
}
