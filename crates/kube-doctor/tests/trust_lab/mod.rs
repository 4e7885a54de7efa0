//! Helpers of the trust tests (tests/trust_*.rs): the lab's fault proxies (`lab/faultproxy`:
//! toxiproxy for TCP faults, lab-inject for HTTP answers), running the real binary through them
//! with a stopwatch, and reading its report's steps.

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{env, repo_root};

/// Starts the fault proxies (idempotent) and returns the exports of `lab/faultproxy env`.
pub fn proxies() -> &'static BTreeMap<String, String> {
    static ENV: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        // The lab's own environment first (lab/env refuses when the lab is down).
        let _ = env();
        let script = repo_root().join("lab/faultproxy");
        let up = Command::new(&script)
            .arg("up")
            .output()
            .expect("run lab/faultproxy up");
        assert!(
            up.status.success(),
            "lab/faultproxy up failed: {}",
            String::from_utf8_lossy(&up.stderr)
        );
        let out = Command::new(&script)
            .arg("env")
            .output()
            .expect("run lab/faultproxy env");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

/// One export of `lab/faultproxy env`.
pub fn proxy_var(name: &str) -> &'static str {
    proxies()
        .get(name)
        .unwrap_or_else(|| panic!("lab/faultproxy env does not export {name}"))
}

/// `curl` with a JSON body; the answer's body, or a panic naming the call.
pub fn http(method: &str, url: &str, body: Option<&Value>) -> String {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--fail-with-body", "-X", method, url]);
    if let Some(b) = body {
        cmd.args(["-H", "Content-Type: application/json", "-d", &b.to_string()]);
    }
    let out = cmd.output().expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{method} {url} failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Adds a toxic to one of toxiproxy's proxies (`apiserver` or `prometheus`).
pub fn toxic(proxy: &str, kind: &str, stream: &str, attributes: Value) {
    let url = format!("{}/proxies/{proxy}/toxics", proxy_var("LAB_TOXIPROXY_URL"));
    let body = serde_json::json!({
        "name": format!("{proxy}-{kind}-{stream}"),
        "type": kind,
        "stream": stream,
        "toxicity": 1.0,
        "attributes": attributes,
    });
    http("POST", &url, Some(&body));
}

/// Sets lab-inject's rules in front of the API server (`apiserver`) or Prometheus.
pub fn inject(target: &str, rules: Value) {
    http("PUT", &format!("{}/rules", control(target)), Some(&rules));
}

fn control(target: &str) -> &'static str {
    match target {
        "apiserver" => proxy_var("LAB_INJECT_APISERVER_CONTROL"),
        "prometheus" => proxy_var("LAB_INJECT_PROMETHEUS_CONTROL"),
        other => panic!("no lab-inject in front of {other}"),
    }
}

/// What lab-inject saw since its counts were last reset: `{"requests", "injected", "log"}`.
pub fn inject_stats(target: &str) -> Value {
    serde_json::from_str(&http("GET", &format!("{}/stats", control(target)), None))
        .expect("lab-inject stats are JSON")
}

/// Resets lab-inject's counts (and its rules' use counts).
pub fn reset_inject_stats(target: &str) {
    http("DELETE", &format!("{}/stats", control(target)), None);
}

/// Removes every toxic and every injected rule; also when a test fails.
pub struct CleanProxies;

impl CleanProxies {
    pub fn now() -> CleanProxies {
        clear_faults();
        CleanProxies
    }
}

impl Drop for CleanProxies {
    fn drop(&mut self) {
        clear_faults();
    }
}

pub fn clear_faults() {
    let out = Command::new(repo_root().join("lab/faultproxy"))
        .arg("reset")
        .output();
    if !matches!(&out, Ok(o) if o.status.success()) {
        eprintln!("could not reset the fault proxies: {out:?}");
    }
}

/// One run of the real binary, timed.
pub struct Timed {
    pub out: Output,
    pub elapsed: Duration,
}

impl Timed {
    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).to_string()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).to_string()
    }
}

/// Runs `kube-doctor args...` with the lab's environment, `RUST_LOG` as given (unset: None),
/// standard input closed.
pub fn run_kd(args: &[&str], rust_log: Option<&str>) -> Timed {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kube-doctor"));
    cmd.args(args).env_remove("RUST_LOG").stdin(Stdio::null());
    for (k, v) in env() {
        cmd.env(k, v);
    }
    if let Some(level) = rust_log {
        cmd.env("RUST_LOG", level);
    }
    let started = Instant::now();
    let out = cmd.output().expect("run kube-doctor");
    Timed {
        out,
        elapsed: started.elapsed(),
    }
}

/// The report's step `n`.
pub fn step(report: &Value, n: u64) -> &Value {
    report["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["step"].as_u64() == Some(n)))
        .unwrap_or(&Value::Null)
}

/// Sum of a numeric field over the report's steps.
pub fn steps_sum(report: &Value, field: &str) -> u64 {
    report["steps"]
        .as_array()
        .map(|s| s.iter().filter_map(|s| s[field].as_u64()).sum())
        .unwrap_or(0)
}

/// `status` of every step, in order: "1 ok, 2 failed, ...".
pub fn statuses(report: &Value) -> String {
    report["steps"]
        .as_array()
        .map(|s| {
            s.iter()
                .map(|s| format!("{} {}", s["step"], s["status"].as_str().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}
