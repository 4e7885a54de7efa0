//! kube-doctor under a failing API server and Prometheus (issue 12), against the real lab with
//! fault proxies between kube-doctor and the real components (`lab/faultproxy`):
//! - toxiproxy, a real TCP proxy: latency, stalls (`timeout`), resets (`reset_peer`), streams
//!   cut after some bytes (`limit_data`) and sliced into small delayed pieces (`slicer`);
//! - lab-inject, an HTTP proxy that is a fake on purpose, for the answers the real API server
//!   and Prometheus cannot be made to give on demand: 429 with Retry-After, 500/503/504, JSON
//!   cut short. Everything it does not inject comes from the real components.
//!
//! A real lab fault (`rbac-revoked`: the kube-rs client gets 403s) runs all the while, so every
//! playbook step has work to do. For each proxy fault the real binary runs `investigate -o
//! json --step-timeout 6s`, and the test checks what issue 12 asks: a report within the step
//! budget plus 5 s; the steps the fault hits are `failed` or `timeout` with the reason in their
//! note, the others end as in a normal run; no retry storm (API requests at most twice a normal
//! run's, counted by kube-doctor per step and, for lab-inject, at the proxy); a 429 with
//! Retry-After is waited out (the wait shows in the step's time) a bounded number of times; no
//! panic (exit 0, 1 or 2, never 101, no "panicked" on stderr); and never a clean bill of
//! health ("No problem diagnosed", outcome `clean`) while the real fault is on.
//!
//! ```text
//! lab/up && cargo test -p kube-doctor --test trust_proxy -- --include-ignored --test-threads=1
//! ```
//! Each case's figures go to stderr and `target/lab-artifacts/trust-proxy.tsv`.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod trust_lab;

use std::fmt::Write as _;
use std::time::Duration;

use common::{Fault, artifacts, investigate_until, since};
use serde_json::{Value, json};
use trust_lab::*;

/// The step budget given to every run.
const BUDGET: Duration = Duration::from_secs(6);
/// Issue 12: the report within the step budget plus this.
const SLACK: Duration = Duration::from_secs(5);

/// Which proxy a case goes through.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Via {
    Toxiproxy,
    Inject,
}

/// What a case expects.
struct Case {
    name: &'static str,
    via: Via,
    /// Sets the fault up (toxics or rules); the proxies are clean before.
    setup: fn(),
    /// Steps that must end `failed` or `timeout` with one of `reasons` in their note.
    must_fail: &'static [u64],
    reasons: &'static [&'static str],
    /// Steps that must end as in the normal run.
    must_complete: &'static [u64],
    /// The outcome must be `blind` (the client error rates could not be read: exit 2).
    blind: bool,
    /// A step that must have waited at least this long (a 429's Retry-After honoured).
    waited: Option<(u64, Duration)>,
    /// Requests lab-inject answered with the injected status, at most (a bound on retries).
    max_injected: Option<u64>,
}

fn tcp_cases() -> Vec<Case> {
    vec![
        Case {
            name: "apiserver latency 300 ms",
            via: Via::Toxiproxy,
            setup: || {
                toxic(
                    "apiserver",
                    "latency",
                    "downstream",
                    json!({"latency": 300, "jitter": 50}),
                )
            },
            must_fail: &[],
            reasons: &[],
            must_complete: &[1, 2, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "apiserver stalls",
            via: Via::Toxiproxy,
            setup: || toxic("apiserver", "timeout", "downstream", json!({"timeout": 0})),
            must_fail: &[1],
            reasons: &[
                "no answer",
                "did not finish",
                "timed out",
                "stopped answering",
            ],
            must_complete: &[7],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "apiserver resets connections",
            via: Via::Toxiproxy,
            setup: || {
                toxic(
                    "apiserver",
                    "reset_peer",
                    "downstream",
                    json!({"timeout": 0}),
                )
            },
            must_fail: &[1],
            reasons: &["reset", "no answer", "stopped answering"],
            must_complete: &[7],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "apiserver streams cut after 16 KB",
            via: Via::Toxiproxy,
            setup: || {
                toxic(
                    "apiserver",
                    "limit_data",
                    "downstream",
                    json!({"bytes": 16384}),
                )
            },
            must_fail: &[],
            reasons: &[
                "no answer",
                "closed",
                "stopped answering",
                "EOF",
                "incomplete",
            ],
            must_complete: &[7],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "apiserver stream sliced into 64-byte pieces",
            via: Via::Toxiproxy,
            setup: || {
                toxic(
                    "apiserver",
                    "slicer",
                    "downstream",
                    json!({"average_size": 64, "size_variation": 32, "delay": 200}),
                )
            },
            must_fail: &[],
            reasons: &[],
            must_complete: &[1, 2, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "prometheus latency 300 ms",
            via: Via::Toxiproxy,
            setup: || {
                toxic(
                    "prometheus",
                    "latency",
                    "downstream",
                    json!({"latency": 300, "jitter": 50}),
                )
            },
            must_fail: &[],
            reasons: &[],
            must_complete: &[1, 2, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "prometheus stalls",
            via: Via::Toxiproxy,
            setup: || toxic("prometheus", "timeout", "downstream", json!({"timeout": 0})),
            must_fail: &[3, 7],
            reasons: &["Prometheus", "timed out", "did not finish"],
            must_complete: &[1],
            blind: true,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "prometheus resets connections",
            via: Via::Toxiproxy,
            setup: || {
                toxic(
                    "prometheus",
                    "reset_peer",
                    "downstream",
                    json!({"timeout": 0}),
                )
            },
            must_fail: &[3, 7],
            reasons: &["Prometheus"],
            must_complete: &[1],
            blind: true,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "prometheus streams cut after 600 bytes",
            via: Via::Toxiproxy,
            setup: || {
                toxic(
                    "prometheus",
                    "limit_data",
                    "downstream",
                    json!({"bytes": 600}),
                )
            },
            must_fail: &[3],
            reasons: &["Prometheus"],
            must_complete: &[1],
            blind: true,
            waited: None,
            max_injected: None,
        },
    ]
}

/// The Warning events' list (step 2), the pods' logs (step 5).
const EVENTS: &str = "^/api/v1/namespaces/[^/]+/events$";
const LOGS: &str = "^/api/v1/namespaces/[^/]+/pods/[^/]+/log$";

fn http_cases() -> Vec<Case> {
    vec![
        Case {
            name: "apiserver 429 Retry-After 2 s (twice on events)",
            via: Via::Inject,
            setup: || {
                inject(
                    "apiserver",
                    json!([{"name": "429-events", "path": EVENTS, "answer": "status",
                            "code": 429, "retry_after": 2, "times": 2}]),
                )
            },
            must_fail: &[],
            reasons: &[],
            must_complete: &[1, 2, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: Some((2, Duration::from_secs(2))),
            max_injected: Some(2),
        },
        Case {
            name: "apiserver 429 Retry-After 1 s, always, on events",
            via: Via::Inject,
            setup: || {
                inject(
                    "apiserver",
                    json!([{"name": "429-events-always", "path": EVENTS, "answer": "status",
                            "code": 429, "retry_after": 1}]),
                )
            },
            must_fail: &[2],
            reasons: &["429"],
            must_complete: &[1, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: Some((2, Duration::from_secs(3))),
            // Each events read: the first try and three retries.
            max_injected: Some(4 * 4),
        },
        Case {
            name: "apiserver 429 Retry-After 2 s as a header only (text body), twice on events",
            via: Via::Inject,
            setup: || {
                inject(
                    "apiserver",
                    json!([{"name": "429-header-only", "path": EVENTS, "answer": "status",
                            "code": 429, "retry_after": 2, "body": "text", "times": 2}]),
                )
            },
            must_fail: &[],
            reasons: &[],
            must_complete: &[1, 2, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: Some((2, Duration::from_secs(2))),
            max_injected: Some(2),
        },
        Case {
            name: "apiserver 500 on events",
            via: Via::Inject,
            setup: || {
                inject(
                    "apiserver",
                    json!([{"name": "500-events", "path": EVENTS, "answer": "status", "code": 500}]),
                )
            },
            must_fail: &[2],
            reasons: &["500"],
            must_complete: &[1, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: None,
            max_injected: Some(4),
        },
        Case {
            name: "apiserver 503 on pod logs",
            via: Via::Inject,
            setup: || {
                inject(
                    "apiserver",
                    json!([{"name": "503-logs", "path": LOGS, "answer": "status", "code": 503}]),
                )
            },
            must_fail: &[5],
            reasons: &["503"],
            must_complete: &[1, 2, 3, 4, 7, 8],
            blind: false,
            waited: None,
            max_injected: Some(4),
        },
        Case {
            name: "apiserver 504 on everything",
            via: Via::Inject,
            setup: || {
                inject(
                    "apiserver",
                    json!([{"name": "504-all", "path": "^/", "answer": "status", "code": 504}]),
                )
            },
            must_fail: &[1],
            reasons: &["504"],
            must_complete: &[7],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "apiserver events answered with JSON cut in half",
            via: Via::Inject,
            setup: || {
                inject(
                    "apiserver",
                    json!([{"name": "cut-events", "path": EVENTS, "answer": "truncate", "keep": 0.5}]),
                )
            },
            must_fail: &[2],
            reasons: &["EOF", "decod", "deserializ", "JSON", "json"],
            must_complete: &[1, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: None,
            max_injected: Some(4),
        },
        Case {
            name: "prometheus 429 Retry-After 2 s (once on range queries)",
            via: Via::Inject,
            setup: || {
                inject(
                    "prometheus",
                    json!([{"name": "429-range", "path": "/api/v1/query_range$", "answer": "status",
                            "code": 429, "retry_after": 2, "body": "text", "times": 1}]),
                )
            },
            must_fail: &[],
            reasons: &[],
            must_complete: &[1, 2, 3, 4, 5, 6, 7, 8],
            blind: false,
            waited: Some((3, Duration::from_secs(2))),
            max_injected: Some(1),
        },
        Case {
            name: "prometheus 503 on range queries",
            via: Via::Inject,
            setup: || {
                inject(
                    "prometheus",
                    json!([{"name": "503-range", "path": "/api/v1/query_range$", "answer": "status", "code": 503}]),
                )
            },
            must_fail: &[3],
            reasons: &["503"],
            must_complete: &[1],
            blind: true,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "prometheus 500 on everything",
            via: Via::Inject,
            setup: || {
                inject(
                    "prometheus",
                    json!([{"name": "500-all", "path": "^/", "answer": "status", "code": 500}]),
                )
            },
            must_fail: &[3, 7],
            reasons: &["500"],
            must_complete: &[1],
            blind: true,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "prometheus 504 on instant queries",
            via: Via::Inject,
            setup: || {
                inject(
                    "prometheus",
                    json!([{"name": "504-instant", "path": "/api/v1/query$", "answer": "status", "code": 504}]),
                )
            },
            must_fail: &[],
            reasons: &["504"],
            must_complete: &[1],
            blind: false,
            waited: None,
            max_injected: None,
        },
        Case {
            name: "prometheus range answers with JSON cut in half",
            via: Via::Inject,
            setup: || {
                inject(
                    "prometheus",
                    json!([{"name": "cut-range", "path": "/api/v1/query_range$", "answer": "truncate", "keep": 0.5}]),
                )
            },
            must_fail: &[3],
            reasons: &["EOF", "JSON", "json", "parse"],
            must_complete: &[1],
            blind: true,
            waited: None,
            max_injected: None,
        },
    ]
}

/// One run's figures.
struct Outcome {
    report: Value,
    timed: Timed,
    /// Requests lab-inject saw (API server and Prometheus), and how many it answered itself.
    proxy_api: u64,
    proxy_prom: u64,
    injected: u64,
}

fn run(via: Via, tag: &str, window: &str) -> Outcome {
    let (kubeconfig, prometheus) = match via {
        Via::Toxiproxy => (
            proxy_var("LAB_TOXI_KUBECONFIG"),
            proxy_var("LAB_TOXI_PROMETHEUS_URL"),
        ),
        Via::Inject => (
            proxy_var("LAB_INJECT_KUBECONFIG"),
            proxy_var("LAB_INJECT_PROMETHEUS_URL"),
        ),
    };
    reset_inject_stats("apiserver");
    reset_inject_stats("prometheus");
    let bundle = artifacts().join(format!("trust-proxy-{tag}.bundle.json"));
    let budget = format!("{}s", BUDGET.as_secs());
    let timed = run_kd(
        &[
            "investigate",
            "-o",
            "json",
            "--kubeconfig",
            kubeconfig,
            "--prometheus",
            prometheus,
            "--since",
            window,
            "--client",
            "demo/demo-kubers",
            "--step-timeout",
            &budget,
            "--save-bundle",
            &bundle.to_string_lossy(),
        ],
        None,
    );
    let report: Value = serde_json::from_slice(&timed.out.stdout).unwrap_or(Value::Null);
    let (api, prom) = (inject_stats("apiserver"), inject_stats("prometheus"));
    Outcome {
        report,
        proxy_api: api["requests"].as_u64().unwrap_or(0),
        proxy_prom: prom["requests"].as_u64().unwrap_or(0),
        injected: api["injected"].as_u64().unwrap_or(0) + prom["injected"].as_u64().unwrap_or(0),
        timed,
    }
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Checks one case against the normal run; returns what is wrong.
fn check(case: &Case, normal: &Outcome, got: &Outcome) -> Vec<String> {
    let mut bad = Vec::new();
    let code = got.timed.code();
    let stderr = got.timed.stderr();
    if ![0, 1, 2].contains(&code) {
        bad.push(format!("exit {code} (not 0, 1 or 2)"));
    }
    if stderr.contains("panicked") {
        bad.push(format!("panicked: {stderr}"));
    }
    if got.timed.elapsed > BUDGET + SLACK {
        bad.push(format!(
            "report after {:?}, over the budget {BUDGET:?} + {SLACK:?}",
            got.timed.elapsed
        ));
    }
    let r = &got.report;
    if r.is_null() {
        bad.push(format!("no JSON report on stdout; stderr: {stderr}"));
        return bad;
    }
    let stdout = got.timed.stdout();
    if stdout.contains("No problem diagnosed") || r["outcome"]["state"] == "clean" {
        bad.push("called clean while rbac-revoked is on".into());
    }
    let blind = r["outcome"]["state"] == "blind";
    if blind != case.blind {
        bad.push(format!(
            "outcome {} (exit {code}), expected {}",
            r["outcome"],
            if case.blind { "blind" } else { "not blind" }
        ));
    }
    if blind && code != 2 {
        bad.push(format!("blind but exit {code}"));
    }
    for n in 1..=8u64 {
        let s = step(r, n);
        let status = s["status"].as_str().unwrap_or("?");
        let note = s["note"].as_str().unwrap_or("");
        let failed = status == "failed" || status == "timeout";
        if failed && note.trim().is_empty() {
            bad.push(format!("step {n} {status} without a reason"));
        }
        if case.must_fail.contains(&n) {
            if !failed {
                bad.push(format!("step {n} is {status}, not failed/timeout: {note}"));
            } else if !case.reasons.iter().any(|w| note.contains(w)) {
                bad.push(format!(
                    "step {n}'s note does not name the reason ({:?}): {note}",
                    case.reasons
                ));
            }
        }
        // Steps 4-6 look at the failing clients: with the rates unread, none is known, and
        // they must say so.
        if blind && (4..=6).contains(&n) && !case.must_complete.contains(&n) {
            if status != "skipped" || !note.contains("step 3 could not read") {
                bad.push(format!(
                    "step {n} is {status} with the rates unread, expected skipped saying why: {note}"
                ));
            }
            continue;
        }
        let was = step(&normal.report, n)["status"].as_str().unwrap_or("?");
        if case.must_complete.contains(&n) && status != was {
            bad.push(format!(
                "step {n} is {status} (normal run: {was}), expected to complete: {note}"
            ));
        }
        // Anything else: as in the normal run, or failed/timeout with a reason (above).
        if !failed && status != was && !case.must_complete.contains(&n) {
            bad.push(format!("step {n} is {status} (normal run: {was}): {note}"));
        }
    }
    let (api, normal_api) = (
        steps_sum(r, "api_requests"),
        steps_sum(&normal.report, "api_requests"),
    );
    if api > 2 * normal_api {
        bad.push(format!(
            "{api} API requests, more than twice a normal run's {normal_api}"
        ));
    }
    let (prom, normal_prom) = (
        steps_sum(r, "prometheus_queries"),
        steps_sum(&normal.report, "prometheus_queries"),
    );
    if prom > 2 * normal_prom {
        bad.push(format!(
            "{prom} Prometheus queries, more than twice a normal run's {normal_prom}"
        ));
    }
    if case.via == Via::Inject {
        if got.proxy_api > 2 * normal.proxy_api {
            bad.push(format!(
                "lab-inject saw {} API requests, more than twice a normal run's {}",
                got.proxy_api, normal.proxy_api
            ));
        }
        if got.proxy_prom > 2 * normal.proxy_prom {
            bad.push(format!(
                "lab-inject saw {} Prometheus requests, more than twice a normal run's {}",
                got.proxy_prom, normal.proxy_prom
            ));
        }
        if got.injected == 0 {
            bad.push("lab-inject injected nothing: the case did not test its fault".into());
        }
        if let Some(max) = case.max_injected
            && got.injected > max
        {
            bad.push(format!(
                "{} injected answers, more than {max}: retries unbounded",
                got.injected
            ));
        }
    }
    if let Some((n, at_least)) = case.waited {
        let ms = step(r, n)["duration_ms"].as_u64().unwrap_or(0);
        if ms < at_least.as_millis() as u64 {
            bad.push(format!(
                "step {n} took {ms} ms: the Retry-After of {at_least:?} was not waited out"
            ));
        }
    }
    bad
}

fn row(name: &str, o: &Outcome) -> String {
    format!(
        "{name}\t{}\t{:.2}\t{}\t{}\t{}\t{}\t{}\t{}",
        o.timed.code(),
        o.timed.elapsed.as_secs_f64(),
        steps_sum(&o.report, "api_requests"),
        steps_sum(&o.report, "prometheus_queries"),
        o.proxy_api,
        o.proxy_prom,
        o.injected,
        statuses(&o.report)
    )
}

fn run_cases(via: Via, cases: Vec<Case>, table: &str) {
    let _clean = CleanProxies::now();
    let fault = Fault::inject("rbac-revoked");
    // Wait (directly, no proxy) until the lab's Prometheus shows the fault, so every step runs.
    let (direct, waited) = investigate_until(
        &fault,
        "demo/demo-kubers",
        "authorization",
        Duration::from_secs(120),
    );
    assert_eq!(
        direct.top_cause(),
        Some("authorization"),
        "rbac-revoked not diagnosed directly after {waited:?}"
    );
    let window = since(fault.injected, Duration::from_secs(30));
    let normal = run(via, "normal", &window);
    assert_eq!(
        normal.timed.code(),
        1,
        "the normal run through {via:?} diagnoses rbac-revoked: {}{}",
        normal.timed.stdout(),
        normal.timed.stderr()
    );
    let mut tsv = String::from(
        "case\texit\tseconds\tapi_requests\tprometheus_queries\tproxy_api\tproxy_prometheus\tinjected\tsteps\n",
    );
    tsv.push_str(&row(&format!("normal ({via:?})"), &normal));
    tsv.push('\n');
    let mut failures = String::new();
    for case in &cases {
        clear_faults();
        (case.setup)();
        let got = run(via, &slug(case.name), &window);
        clear_faults();
        tsv.push_str(&row(case.name, &got));
        tsv.push('\n');
        let notes: Vec<String> = (1..=8)
            .map(|n| step(&got.report, n))
            .filter(|s| s["status"] != "ok" && s["status"] != "empty")
            .map(|s| format!("    step {} {}: {}", s["step"], s["status"], s["note"]))
            .collect();
        eprintln!("{}\n{}", row(case.name, &got), notes.join("\n"));
        let bad = check(case, &normal, &got);
        if !bad.is_empty() {
            let _ = writeln!(failures, "{}:\n  {}", case.name, bad.join("\n  "));
        }
    }
    std::fs::write(artifacts().join(table), &tsv).expect("write the table");
    eprintln!("{tsv}");
    assert!(failures.is_empty(), "{failures}");
}

/// toxiproxy between kube-doctor and the real API server and Prometheus.
#[test]
#[ignore = "needs the lab: lab/up"]
fn tcp_faults_from_toxiproxy_are_reported_within_the_budget() {
    run_cases(Via::Toxiproxy, tcp_cases(), "trust-proxy-tcp.tsv");
}

/// lab-inject's HTTP answers between kube-doctor and the real API server and Prometheus.
#[test]
#[ignore = "needs the lab: lab/up"]
fn http_faults_from_lab_inject_are_reported_and_429s_honoured() {
    run_cases(Via::Inject, http_cases(), "trust-proxy-http.tsv");
}
