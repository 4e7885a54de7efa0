//! Verdicts that hold on real incidents (issue 17), on the real lab with faults injected as they
//! happen in clusters (`lab/fault list`):
//! - `silent-drop`: one client's path drops its packets, with no NetworkPolicy and no endpoint
//!   change, while the API server and the other clients are fine -> `network` (the differential
//!   diagnosis), not `transient`;
//! - `controller-quota`: kube-controller-manager's ReplicaSet controller is refused by a
//!   ResourceQuota in a namespace it does not live in -> `quota`, and no grant is suggested;
//! - `flapping`: errors that come and go (the RoleBinding deleted for 20 s of every 40 s) while
//!   the alert's own 5-minute rate is over 1 % -> the client is found, `authorization`;
//! - a past episode, then a new fault on the same client: the live cause is the top verdict and
//!   the earlier episode is history;
//! - `etcd-down`: the API server's storage stops; the run ends within about one step budget and
//!   the report names etcd.
//!
//! ```text
//! lab/up && cargo test -p kube-doctor --test lab_incidents -- --include-ignored --test-threads=1
//! ```

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use common::{Fault, investigate, investigate_until, kube_doctor, lab, since};
use serde_json::Value;

/// How long after an injection a verdict may take (the alert's own rule needs minutes).
const DEADLINE: Duration = Duration::from_secs(240);

fn verdicts(report: &Value) -> String {
    report["verdicts"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|v| format!("{} {}: {}", v["cause"], v["confidence"], v["summary"]))
                .collect::<Vec<_>>()
                .join("\n  ")
        })
        .unwrap_or_default()
}

/// No verdict suggests a grant: no RoleBinding or ClusterRoleBinding YAML, no "grant".
fn assert_no_grant(report: &Value, what: &str) {
    for v in report["verdicts"].as_array().into_iter().flatten() {
        let text = v.to_string();
        assert!(
            !text.contains("kind: RoleBinding") && !text.contains("kind: ClusterRoleBinding"),
            "{what}: a verdict offers a binding: {text}"
        );
        assert_ne!(v["cause"], "authorization", "{what}: {}", verdicts(report));
    }
}

fn client_entry<'a>(report: &'a Value, needle: &str) -> &'a Value {
    report["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["id"].as_str().is_some_and(|id| id.contains(needle))
                || c["target"].to_string().contains(needle)
        })
        .unwrap_or_else(|| panic!("no client {needle} in the report: {}", report["clients"]))
}

#[test]
#[ignore = "needs the lab: lab/up"]
fn a_silent_drop_on_one_clients_path_is_network() {
    lab("fault", &["clear", "all"]);
    let fault = Fault::inject("silent-drop");
    let (run, waited) = investigate_until(&fault, "demo/demo-kubers", "network", DEADLINE);
    assert_eq!(
        run.top_cause(),
        Some("network"),
        "after {waited:?}:\n  {}",
        verdicts(&run.report)
    );
    let top = run.top().to_string();
    assert!(
        top.contains("only demo/demo-kubers") || top.contains("other clients get answers"),
        "the verdict rests on the difference from the other clients: {top}"
    );
    eprintln!("silent-drop: network after {waited:.0?}");
    drop(fault);
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
#[ignore = "needs the lab: lab/up"]
fn a_controller_refused_by_a_quota_is_quota_not_rbac() {
    lab("fault", &["clear", "all"]);
    let fault = Fault::inject("controller-quota");
    let (run, waited) = investigate_until(&fault, "kube-controller-manager", "quota", DEADLINE);
    assert_eq!(
        run.top_cause(),
        Some("quota"),
        "after {waited:?}:\n  {}",
        verdicts(&run.report)
    );
    let top = run.top().to_string();
    assert!(
        top.contains("lab-quota"),
        "the quota's namespace (where the controller's writes go) is named: {top}"
    );
    assert_no_grant(&run.report, "controller-quota");
    eprintln!("controller-quota: quota after {waited:.0?}");
    drop(fault);
    std::thread::sleep(Duration::from_secs(20));
}

#[test]
#[ignore = "needs the lab: lab/up"]
fn errors_that_come_and_go_are_found_as_the_alert_finds_them() {
    lab("fault", &["clear", "all"]);
    let fault = Fault::inject("flapping");
    // Three on/off cycles, so the whole window is not over 1 % but the 5-minute rate is.
    std::thread::sleep(Duration::from_secs(130));
    let (run, waited) = investigate_until(&fault, "demo/demo-kubers", "authorization", DEADLINE);
    assert_eq!(
        run.top_cause(),
        Some("authorization"),
        "after {waited:?}:\n  {}",
        verdicts(&run.report)
    );
    let c = client_entry(&run.report, "demo-kubers");
    assert_eq!(c["pattern"], "intermittent", "errors that come and go: {c}");
    assert!(
        !c["episodes"].as_array().is_none_or(|e| e.is_empty()),
        "episodes as the alert sees them: {c}"
    );
    eprintln!("flapping: authorization after {waited:.0?}");
    drop(fault);
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
#[ignore = "needs the lab: lab/up"]
fn a_past_episode_is_history_and_the_live_fault_leads() {
    lab("fault", &["clear", "all"]);
    // An earlier episode on the same client: its packets dropped for 45 s, then recovered for
    // longer than the rule's 5-minute rate window (until then the alert's own rate is still
    // over 1 %: the same episode, as the alert sees it).
    let start = Instant::now();
    {
        let _drop = Fault::inject("silent-drop");
        std::thread::sleep(Duration::from_secs(45));
    }
    std::thread::sleep(Duration::from_secs(330));
    let fault = Fault::inject("rbac-revoked");
    // The window holds both episodes: from before the first one.
    let deadline = Instant::now() + DEADLINE;
    let run = loop {
        std::thread::sleep(Duration::from_secs(20));
        let window = since(start, Duration::from_secs(30));
        let run = investigate(
            "past-episode",
            &["--since", &window, "--client", "demo/demo-kubers"],
        );
        if run.top_cause() == Some("authorization") || Instant::now() > deadline {
            break run;
        }
    };
    assert_eq!(
        run.top_cause(),
        Some("authorization"),
        "the live cause leads:\n  {}",
        verdicts(&run.report)
    );
    let c = client_entry(&run.report, "demo-kubers");
    let episodes = c["episodes"].as_array().cloned().unwrap_or_default();
    assert!(
        episodes.len() >= 2,
        "the earlier episode and the live one: {c}"
    );
    assert!(
        episodes[..episodes.len() - 1]
            .iter()
            .all(|e| !e["end"].is_null()),
        "earlier episodes ended: {episodes:?}"
    );
    assert!(
        episodes.last().is_some_and(|e| e["end"].is_null()),
        "the last episode goes on: {episodes:?}"
    );
    // The onset is the live episode's, after the first episode ended.
    let onset: jiff::Timestamp = c["onset"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no onset: {c}"));
    let first_end: jiff::Timestamp = episodes[0]["end"].as_str().unwrap().parse().unwrap();
    assert!(
        onset > first_end,
        "the onset ({onset}) is the live episode's, not the earlier one's (ended {first_end})"
    );
    drop(fault);
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
#[ignore = "needs the lab: lab/up"]
fn with_etcd_gone_the_run_ends_soon_and_names_etcd() {
    lab("fault", &["clear", "all"]);
    let fault = Fault::inject("etcd-down");
    std::thread::sleep(Duration::from_secs(20));
    let t = Instant::now();
    let out = kube_doctor(&[
        "investigate",
        "-o",
        "json",
        "--prometheus",
        common::var("PROMETHEUS_URL"),
        "--since",
        "2m",
        "--step-timeout",
        "10s",
    ]);
    let took = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        matches!(out.status.code(), Some(1 | 2)),
        "a problem or nothing can be said, never healthy: exit {:?}\n{stderr}",
        out.status.code()
    );
    assert!(!stdout.contains("No problem diagnosed"), "{stdout}");
    // One step budget for the first step to find the server unresponsive, the others stop
    // waiting; a few seconds for the rest (Prometheus still answers).
    assert!(
        took < Duration::from_secs(40),
        "the run took {took:?} with etcd gone"
    );
    // Named from the API server's own /readyz?verbose: the failed check, not only a hint.
    assert!(
        stdout.contains("readyz failed checks: etcd"),
        "the report names the failed etcd check (from /readyz?verbose): {stdout}"
    );
    eprintln!("etcd-down: report in {took:.1?}");
    drop(fault);
    std::thread::sleep(Duration::from_secs(30));
}
