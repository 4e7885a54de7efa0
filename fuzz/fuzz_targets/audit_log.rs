//! Audit-log lines (`clients --audit-log`), read from a file the user names but written by
//! anyone who can make requests. Properties: never panics; every line is accounted for.
#![no_main]

use jiff::{SignedDuration, Timestamp};
use kube_doctor_core::bundle::Window;
use kube_doctor_core::clients::audit::read_audit;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let from: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
    let to: Timestamp = "2026-01-01T00:15:00Z".parse().unwrap();
    let c = read_audit(data, Window { from, to }, SignedDuration::from_secs(15)).expect("reading a slice cannot fail");
    assert!(c.counted + c.unreadable <= c.lines);
});
