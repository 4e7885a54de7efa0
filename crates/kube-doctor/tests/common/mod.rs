//! Shared helpers of the lab tests: the lab's environment, faults that clear themselves, and
//! running the real `kube-doctor` binary against the real lab.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// The exports of `lab/env`, read once.
pub fn env() -> &'static BTreeMap<String, String> {
    static ENV: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let out = Command::new(repo_root().join("lab/env"))
            .output()
            .expect("run lab/env");
        assert!(
            out.status.success(),
            "the lab is not up: {}; run lab/up first",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

pub fn var(name: &str) -> &'static str {
    env()
        .get(name)
        .unwrap_or_else(|| panic!("lab/env does not export {name}"))
}

/// Where the tests leave what they produced (bundles, reports, screenshots).
pub fn artifacts() -> PathBuf {
    let dir = repo_root().join("target/lab-artifacts");
    std::fs::create_dir_all(&dir).expect("create target/lab-artifacts");
    dir
}

/// Run `lab/<cmd> args...` and insist that it works.
pub fn lab(cmd: &str, args: &[&str]) {
    let out = Command::new(repo_root().join("lab").join(cmd))
        .args(args)
        .output()
        .expect("run lab command");
    assert!(
        out.status.success(),
        "lab/{cmd} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An injected fault; cleared when dropped, also when the test fails.
pub struct Fault {
    pub name: &'static str,
    pub injected: Instant,
}

impl Fault {
    pub fn inject(name: &'static str) -> Fault {
        lab("fault", &[name]);
        Fault {
            name,
            injected: Instant::now(),
        }
    }
}

impl Drop for Fault {
    fn drop(&mut self) {
        let out = Command::new(repo_root().join("lab/fault"))
            .args(["clear", self.name])
            .output();
        if !matches!(&out, Ok(o) if o.status.success()) {
            eprintln!("could not clear fault {}: {out:?}", self.name);
        }
    }
}

/// Runs the real binary with the lab's environment (kube-doctor's own read-only identity).
pub fn kube_doctor(args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kube-doctor"));
    cmd.args(args).env_remove("RUST_LOG");
    for (k, v) in env() {
        cmd.env(k, v);
    }
    cmd.output().expect("run kube-doctor")
}

/// `--since` covering the time since `t` plus a margin, so that earlier faults' residue stays
/// out of the window, as an SRE would look at the minutes since the alert.
pub fn since(t: Instant, margin: Duration) -> String {
    format!("{}s", (t.elapsed() + margin).as_secs().max(30))
}

/// The outcome of one `investigate -o json` run.
pub struct Run {
    pub report: Value,
    pub bundle_path: PathBuf,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    pub fn top_cause(&self) -> Option<&str> {
        self.report["verdicts"]
            .get(0)
            .and_then(|v| v["cause"].as_str())
    }

    pub fn top(&self) -> &Value {
        &self.report["verdicts"][0]
    }
}

pub fn investigate(tag: &str, extra: &[&str]) -> Run {
    let bundle_path = artifacts().join(format!("{tag}.bundle.json"));
    let bundle = bundle_path.to_string_lossy().to_string();
    let prom = var("PROMETHEUS_URL");
    let mut args = vec![
        "investigate",
        "-o",
        "json",
        "--prometheus",
        prom,
        "--save-bundle",
        &bundle,
    ];
    args.extend_from_slice(extra);
    let out = kube_doctor(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "investigate {args:?} could not run (exit {code}): {stderr}"
    );
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("investigate printed no JSON report ({e}): {stdout}\n{stderr}"));
    std::fs::write(artifacts().join(format!("{tag}.report.json")), &stdout).expect("save report");
    Run {
        report,
        bundle_path,
        stderr,
        code,
    }
}

/// Polls `investigate` for the fault's client until its top verdict is `want`, at most until
/// `deadline` after the injection. Returns the last run either way; the caller asserts.
pub fn investigate_until(
    fault: &Fault,
    client: &str,
    want: &str,
    deadline: Duration,
) -> (Run, Duration) {
    investigate_until_ready(fault, client, want, deadline, |_| true)
}

/// Like [`investigate_until`], but also waits until `ready` holds for the run (for example,
/// until the bundle's server metrics show the fault: Prometheus' `increase` over a counter
/// needs two scrapes inside the window, which can come after the verdict does). Returns the
/// last run at the deadline, whatever it says, so the caller's assertions name what is missing.
pub fn investigate_until_ready(
    fault: &Fault,
    client: &str,
    want: &str,
    deadline: Duration,
    ready: impl Fn(&Run) -> bool,
) -> (Run, Duration) {
    // Give Prometheus a few scrapes of the fault first, so the verdict rests on the fault's
    // own evidence rather than on what the window held before it.
    std::thread::sleep(Duration::from_secs(15).saturating_sub(fault.injected.elapsed()));
    loop {
        let window = since(fault.injected, Duration::from_secs(10));
        let run = investigate(fault.name, &["--since", &window, "--client", client]);
        let waited = fault.injected.elapsed();
        let done = run.top_cause() == Some(want) && ready(&run);
        if done || waited + Duration::from_secs(10) > deadline {
            return (run, waited);
        }
        std::thread::sleep(Duration::from_secs(8));
    }
}

/// If `KUBE_DOCTOR_RECORD=1`, copies the bundle into the repository's fixtures.
pub fn record(run: &Run, name: &str) {
    if std::env::var("KUBE_DOCTOR_RECORD").as_deref() == Ok("1") {
        let dest = repo_root()
            .join("crates/kube-doctor-core/tests/fixtures/bundles")
            .join(format!("{name}.json"));
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&run.bundle_path, &dest).expect("record bundle");
        eprintln!("recorded {}", dest.display());
    }
}

/// The planted secret value (lab/manifests/base.yaml) in every form it could leak in.
pub fn planted_forms() -> Vec<String> {
    use base64::Engine;
    let raw = "KD-PLANTED-SECRET-7f3a9c1e";
    vec![
        raw.to_string(),
        base64::engine::general_purpose::STANDARD.encode(raw),
    ]
}

/// Asserts that no planted secret, private key or token leaked into `text`.
pub fn assert_no_secret(what: &str, text: &str) {
    for form in planted_forms() {
        assert!(
            !text.contains(&form),
            "{what} contains the planted secret ({form})"
        );
    }
    assert!(
        !text.contains("PRIVATE KEY"),
        "{what} contains a private key"
    );
    assert!(
        !text.contains("-----BEGIN CERTIFICATE"),
        "{what} contains a certificate body"
    );
    // A JWT: three base64url parts starting with the JSON header '{"'.
    assert!(!text.contains("eyJhbGciOi"), "{what} contains a JWT");
}

/// The steps (numbers) the verdict's evidence comes from.
pub fn evidence_steps(verdict: &Value) -> std::collections::BTreeSet<u64> {
    verdict["evidence"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["step"].as_u64()).collect())
        .unwrap_or_default()
}
