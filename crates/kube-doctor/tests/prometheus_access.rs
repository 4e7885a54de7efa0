//! Prometheus as users run it, against the real lab and real components in front of it
//! (`lab/prom-access/up`, started here once; idempotent): kube-rbac-proxy checking a bearer
//! token or a client certificate with TokenReview and SubjectAccessReview; a Prometheus behind
//! basic auth holding two clusters' series (one as an unmerged HA pair) with prom-label-proxy
//! enforcing a header-selected tenant; the lab Prometheus reached as `k8s://` through the API
//! server's service proxy and found by `--prometheus auto`; and `serve` driven by a real
//! Alertmanager with an alert whose `startsAt` is 15 minutes old. Ignored by a plain `cargo
//! test`; run one at a time against one lab (scripts/test-all.sh does):
//!
//! ```text
//! lab/up && cargo test -p kube-doctor --test prometheus_access -- --include-ignored --test-threads=1
//! ```

#[allow(dead_code)]
mod common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// The exports of `lab/prom-access/up`, which is run once.
fn pa() -> &'static BTreeMap<String, String> {
    static PA: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    PA.get_or_init(|| {
        let _ = env();
        let mut cmd = Command::new(repo_root().join("lab/prom-access/up"));
        // lab/env's exports point the script at the same lab (LAB_STATE and the ports come
        // from the caller's environment, as for lab/env itself).
        let out = cmd.output().expect("run lab/prom-access/up");
        assert!(
            out.status.success(),
            "lab/prom-access/up failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    })
}

fn p(name: &str) -> &'static str {
    pa().get(name)
        .unwrap_or_else(|| panic!("lab/prom-access/up does not export {name}"))
}

/// What one run of the binary left.
struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("no JSON on stdout ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

/// Runs kube-doctor with the lab's environment but no PROMETHEUS_URL (so `--prometheus` and
/// its default are what the test says), at `log` (RUST_LOG), and checks that no credential of
/// the lab (`secrets()`) shows in its output.
fn run(args: &[&str], log: &str) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kube-doctor"));
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("PROMETHEUS_URL");
    for (k, v) in env() {
        if k != "PROMETHEUS_URL" {
            cmd.env(k, v);
        }
    }
    if !log.is_empty() {
        cmd.env("RUST_LOG", log);
    }
    let out: Output = cmd.output().expect("run kube-doctor");
    let ran = Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).to_string(),
    };
    no_credentials(
        &format!("kube-doctor {args:?} (RUST_LOG={log})"),
        &ran.stdout,
    );
    no_credentials(
        &format!("kube-doctor {args:?} (RUST_LOG={log}), stderr"),
        &ran.stderr,
    );
    ran
}

/// The credentials the access modes use, in every form they could leak in.
fn secrets() -> Vec<String> {
    use base64::Engine;
    let mut out = Vec::new();
    for f in [
        "PA_READER_TOKEN_FILE",
        "PA_NOBODY_TOKEN_FILE",
        "PA_BASIC_AUTH_FILE",
    ] {
        let raw = std::fs::read_to_string(p(f)).expect("a credential file");
        let raw = raw.trim().to_string();
        out.push(base64::engine::general_purpose::STANDARD.encode(&raw));
        if let Some((_, password)) = raw.split_once(':') {
            out.push(password.to_string());
        }
        out.push(raw);
    }
    out
}

fn no_credentials(what: &str, text: &str) {
    for s in secrets() {
        assert!(!text.contains(&s), "{what} shows a credential");
    }
    assert_no_secret(what, text);
}

fn bundle_path(tag: &str) -> PathBuf {
    artifacts().join(format!("prom-access-{tag}.bundle.json"))
}

/// `collect` into a bundle; returns the bundle, checked for credentials.
fn collect(tag: &str, args: &[&str]) -> Value {
    let path = bundle_path(tag);
    let out = path.to_string_lossy().to_string();
    let mut all = vec!["collect", "--out", &out, "--since", "3m"];
    all.extend_from_slice(args);
    let ran = run(&all, "kube_doctor=debug");
    // 2: the bundle was written but holds no client rates (a cluster with no series).
    assert!(
        ran.code == 0 || (ran.code == 2 && path.exists()),
        "collect {args:?} failed ({}): {}",
        ran.code,
        ran.stderr
    );
    let text = std::fs::read_to_string(&path).expect("the bundle");
    no_credentials(&format!("bundle {tag}"), &text);
    serde_json::from_str(&text).expect("bundle JSON")
}

fn step(b: &Value, n: u64) -> &Value {
    b["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|x| x["step"] == n))
        .unwrap_or_else(|| panic!("no step {n} in {b}"))
}

fn client_ids(v: &Value) -> Vec<String> {
    v["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_str().map(str::to_string))
        .collect()
}

/// kube-rbac-proxy, as OpenShift guards its Thanos querier: 401 without a token, 403 with
/// one that may not, the right diagnosis with one that may (and with the lab's client
/// certificate); TLS verified against the CA file, or not at all when told. No credential in
/// any output at any log level.
#[test]
#[ignore = "needs the lab: lab/up"]
fn kube_rbac_proxy_bearer_token_and_client_certificate() {
    let url = p("PA_RBAC_PROXY_URL");
    let ca = p("PA_RBAC_PROXY_CA");
    let base = ["clients", "-o", "json", "--all", "--prometheus", url];

    let mut args = base.to_vec();
    args.extend(["--prometheus-ca-file", ca]);
    let no_token = run(&args, "");
    assert_eq!(no_token.code, 2, "{}", no_token.stderr);
    assert!(
        no_token.stderr.contains("HTTP 401")
            && no_token.stderr.contains("--prometheus-bearer-token-file"),
        "{}",
        no_token.stderr
    );

    let mut args = base.to_vec();
    args.extend([
        "--prometheus-ca-file",
        ca,
        "--prometheus-bearer-token-file",
        p("PA_NOBODY_TOKEN_FILE"),
    ]);
    let nobody = run(&args, "trace");
    assert_eq!(nobody.code, 2, "{}", nobody.stderr);
    assert!(nobody.stderr.contains("HTTP 403"), "{}", nobody.stderr);

    // Without the CA, TLS fails; with --prometheus-insecure-skip-tls-verify it does not.
    let mut args = base.to_vec();
    args.extend(["--prometheus-bearer-token-file", p("PA_READER_TOKEN_FILE")]);
    let untrusted = run(&args, "");
    assert_eq!(untrusted.code, 2, "{}", untrusted.stderr);
    assert!(
        untrusted.stderr.contains("unreachable"),
        "{}",
        untrusted.stderr
    );
    args.push("--prometheus-insecure-skip-tls-verify");
    let skipped = run(&args, "");
    assert!(skipped.code <= 1, "{}", skipped.stderr);

    // The reader's token, at every log level.
    for log in ["", "debug", "trace"] {
        let mut args = base.to_vec();
        args.extend([
            "--prometheus-ca-file",
            ca,
            "--prometheus-bearer-token-file",
            p("PA_READER_TOKEN_FILE"),
        ]);
        let ok = run(&args, log);
        assert!(ok.code <= 1, "RUST_LOG={log}: {}", ok.stderr);
        let ids = client_ids(&ok.json());
        assert!(
            ids.iter().any(|i| i.starts_with("demo-clients/")),
            "the lab's clients through kube-rbac-proxy: {ids:?}"
        );
    }

    // The lab's kube-doctor client certificate, checked by SubjectAccessReview too.
    let pki = PathBuf::from(var("LAB_STATE")).join("pki");
    let (crt, key) = (pki.join("kube-doctor.crt"), pki.join("kube-doctor.key"));
    let (crt, key) = (
        crt.to_string_lossy().to_string(),
        key.to_string_lossy().to_string(),
    );
    let mut args = base.to_vec();
    args.extend([
        "--prometheus-ca-file",
        ca,
        "--prometheus-cert-file",
        &crt,
        "--prometheus-key-file",
        &key,
    ]);
    let cert = run(&args, "");
    assert!(cert.code <= 1, "client certificate: {}", cert.stderr);
    assert!(!client_ids(&cert.json()).is_empty());

    // The right diagnosis through it.
    let fault = Fault::inject("rbac-revoked");
    std::thread::sleep(Duration::from_secs(25));
    let window = since(fault.injected, Duration::from_secs(10));
    let bundle = bundle_path("rbac-proxy-investigate")
        .to_string_lossy()
        .to_string();
    let inv = run(
        &[
            "investigate",
            "-o",
            "json",
            "--since",
            &window,
            "--client",
            "demo/demo-kubers",
            "--prometheus",
            url,
            "--prometheus-ca-file",
            ca,
            "--prometheus-bearer-token-file",
            p("PA_READER_TOKEN_FILE"),
            "--save-bundle",
            &bundle,
        ],
        "debug",
    );
    assert_eq!(inv.code, 1, "{}", inv.stderr);
    let report = inv.json();
    assert_eq!(report["verdicts"][0]["cause"], "authorization", "{report}");
    let b = std::fs::read_to_string(&bundle).unwrap();
    no_credentials("the rbac-proxy bundle", &b);
    let b: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(b["clients"]["source"]["url"], url.trim_end_matches('/'));
}

/// Basic auth (a Grafana Cloud-like endpoint) and a tenant chosen by header through
/// prom-label-proxy: each tenant sees its own cluster only; without the header the proxy
/// refuses; the HA pair's duplicated series are counted once.
#[test]
#[ignore = "needs the lab: lab/up"]
fn basic_auth_and_a_header_selected_tenant() {
    let proxy = p("PA_LABEL_PROXY_URL");
    let auth = p("PA_BASIC_AUTH_FILE");
    let tenant = |t: &str| {
        let header = format!("X-Scope-OrgID: {t}");
        let ran = run(
            &[
                "clients",
                "-o",
                "json",
                "--all",
                "--since",
                "2m",
                "--prometheus",
                proxy,
                "--prometheus-basic-auth-file",
                auth,
                "--prometheus-header",
                &header,
            ],
            "trace",
        );
        assert!(ran.code <= 1, "tenant {t}: {}", ran.stderr);
        ran.json()
    };
    let a = tenant("lab-a");
    let b = tenant("lab-b");
    for (v, want) in [(&a, "lab-a"), (&b, "lab-b")] {
        assert_eq!(
            v["scope"]["clusters_seen"],
            serde_json::json!([want]),
            "{v}"
        );
    }
    // The same targets, scraped twice in lab-a (replicas) and once in lab-b: the request
    // counts agree, they are not doubled. Two Prometheus servers scrape at different moments,
    // so their increase() over two minutes differs (seen up to 1.40 on a loaded fresh-machine
    // run); counted twice would be 2.0.
    let requests = |v: &Value| -> f64 {
        v["clients"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| {
                c["target"]["name"] == "demo-kubers"
                    || c["instance"]
                        .as_str()
                        .is_some_and(|i| i.ends_with(":18082"))
            })
            .filter_map(|c| c["requests"].as_f64())
            .sum()
    };
    let (ra, rb) = (requests(&a), requests(&b));
    assert!(rb > 0.0, "{b}");
    assert!(
        (0.6..1.65).contains(&(ra / rb)),
        "the HA pair's series counted {:.2} times: lab-a {ra}, lab-b {rb}",
        ra / rb
    );
    // No tenant header: prom-label-proxy refuses, and kube-doctor says so in one line.
    let none = run(
        &[
            "clients",
            "-o",
            "json",
            "--prometheus",
            proxy,
            "--prometheus-basic-auth-file",
            auth,
        ],
        "",
    );
    assert_eq!(none.code, 2, "{}", none.stderr);
    assert!(none.stderr.contains(proxy), "{}", none.stderr);
    // A wrong password: 401, named as such.
    let wrong = std::env::temp_dir().join(format!("kd-wrong-basic-{}", std::process::id()));
    std::fs::write(&wrong, "lab-instance:not-the-password").unwrap();
    let denied = run(
        &[
            "clients",
            "-o",
            "json",
            "--prometheus",
            p("PA_FLEET_URL"),
            "--prometheus-basic-auth-file",
            &wrong.to_string_lossy(),
        ],
        "",
    );
    let _ = std::fs::remove_file(&wrong);
    assert_eq!(denied.code, 2, "{}", denied.stderr);
    assert!(
        denied.stderr.contains("HTTP 401") && denied.stderr.contains("not accepted"),
        "{}",
        denied.stderr
    );
}

/// Two clusters' series in one Prometheus: refused and named without --cluster; with it,
/// step 7 is scoped to the cluster's API server job (detected), reported per instance with
/// the alert's instance first; --apiserver-job overrides; a cluster with no API server series
/// says so.
#[test]
#[ignore = "needs the lab: lab/up"]
fn clusters_are_never_blended_and_step7_is_per_instance() {
    let fleet = p("PA_FLEET_URL");
    let auth = p("PA_BASIC_AUTH_FILE");
    let blended = run(
        &[
            "clients",
            "-o",
            "json",
            "--prometheus",
            fleet,
            "--prometheus-basic-auth-file",
            auth,
        ],
        "",
    );
    assert_eq!(blended.code, 2, "{}", blended.stderr);
    assert!(
        blended.stderr.contains("2 clusters")
            && blended.stderr.contains("cluster=\"lab-a\"")
            && blended.stderr.contains("cluster=\"lab-b\"")
            && blended.stderr.contains("--cluster"),
        "{}",
        blended.stderr
    );

    // The fleet Prometheus needs a few scrapes after lab/prom-access/up before the API server
    // series have rates (seen: "no job exports apiserver_request_total" right after it).
    let deadline = Instant::now() + Duration::from_secs(120);
    let a = loop {
        let a = collect(
            "cluster-lab-a",
            &[
                "--prometheus",
                fleet,
                "--prometheus-basic-auth-file",
                auth,
                "--cluster",
                "lab-a",
                "--client",
                "apiserver/apiserver-1.lab-a:6443",
            ],
        );
        if a["server_metrics"]["apiserver_series"]["job"] == "apiserver"
            || Instant::now() > deadline
        {
            break a;
        }
        std::thread::sleep(Duration::from_secs(10));
    };
    let series = &a["server_metrics"]["apiserver_series"];
    assert_eq!(series["job"], "apiserver", "{series}");
    let instances: Vec<&str> = series["instances"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["instance"].as_str())
        .collect();
    assert_eq!(instances.len(), 3, "{series}");
    assert_eq!(
        instances[0], "apiserver-1.lab-a:6443",
        "the alert's instance first: {series}"
    );
    assert_eq!(series["instances"][0]["alerted"], true);
    assert!(series["instances"][0]["requests_per_second"].as_f64() > Some(0.0));
    assert!(
        step(&a, 7)["note"]
            .as_str()
            .unwrap()
            .contains("job apiserver"),
        "{}",
        step(&a, 7)
    );
    assert_eq!(a["clients"]["scope"]["cluster"], "lab-a");
    assert!(
        step(&a, 3)["note"]
            .as_str()
            .unwrap()
            .contains("scoped to cluster=lab-a"),
        "{}",
        step(&a, 3)
    );

    let b = collect(
        "cluster-lab-b",
        &[
            "--prometheus",
            fleet,
            "--prometheus-basic-auth-file",
            auth,
            "--cluster",
            "lab-b",
        ],
    );
    assert_eq!(
        b["server_metrics"]["apiserver_series"]["job"],
        "kubernetes-apiservers"
    );
    assert_eq!(
        b["server_metrics"]["apiserver_series"]["chosen_because"],
        "the only job exporting apiserver_request_total"
    );

    let forced = collect(
        "cluster-lab-a-forced",
        &[
            "--prometheus",
            fleet,
            "--prometheus-basic-auth-file",
            auth,
            "--cluster",
            "lab-a",
            "--apiserver-job",
            "kubernetes-apiservers",
        ],
    );
    assert_eq!(
        forced["server_metrics"]["apiserver_series"]["chosen_because"],
        "given by --apiserver-job"
    );
    assert_eq!(
        forced["server_metrics"]["apiserver_series"]["instances"],
        serde_json::json!([]),
        "lab-a has no kubernetes-apiservers series"
    );

    let none = collect(
        "cluster-none",
        &[
            "--prometheus",
            fleet,
            "--prometheus-basic-auth-file",
            auth,
            "--cluster",
            "lab-none",
        ],
    );
    let note = step(&none, 7)["note"].as_str().unwrap().to_string();
    assert!(
        note.contains("this Prometheus has no API server series"),
        "{note}"
    );
    assert!(!note.starts_with("0 "), "{note}");
    assert_eq!(
        none["server_metrics"]["apiserver_series"]["job"],
        Value::Null
    );
}

/// The lab Prometheus through the API server's service proxy (kube-doctor's own credentials),
/// and `--prometheus auto`: found (and said), two of a kind (refused, both named), none
/// (said; rates from scrapes).
#[test]
#[ignore = "needs the lab: lab/up"]
fn service_proxy_and_auto_discovery() {
    let svc = p("PA_SERVICE");
    let ran = run(
        &["clients", "-o", "json", "--all", "--prometheus", svc],
        "trace",
    );
    assert!(ran.code <= 1, "{}", ran.stderr);
    let v = ran.json();
    assert_eq!(v["source"]["url"], svc, "{v}");
    assert!(
        client_ids(&v)
            .iter()
            .any(|i| i.starts_with("demo-clients/")),
        "{v}"
    );

    let kubectl = |args: &[&str]| {
        let out = Command::new(var("LAB_KUBECTL"))
            .args(["--kubeconfig", var("LAB_ADMIN_KUBECONFIG")])
            .args(args)
            .output()
            .expect("kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let operated = kubectl(&[
        "get",
        "services",
        "-A",
        "--field-selector",
        "metadata.name=prometheus-operated",
        "-o",
        "jsonpath={range .items[*]}{.metadata.namespace}{\"\\n\"}{end}",
    ]);
    let namespaces: Vec<&str> = operated.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(
        namespaces.len(),
        1,
        "one prometheus-operated Service in the lab: {namespaces:?}"
    );

    // Found: no --prometheus at all.
    let auto = run(&["clients", "-o", "json", "--all"], "");
    assert!(auto.code <= 1, "{}", auto.stderr);
    let v = auto.json();
    let notes = v["notes"].to_string();
    assert!(
        notes.contains("auto: k8s://") && notes.contains("prometheus-operated"),
        "auto says what it chose: {notes}"
    );
    assert_eq!(v["source"]["kind"], "prometheus", "{v}");

    // Two of a kind: refused, both named.
    let second = "kd-prom-access-2";
    let manifest = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {second}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: prometheus-operated, namespace: {second}}}\nspec: {{ports: [{{name: web, port: 9090}}]}}\n"
    );
    let file = artifacts().join("prom-access-second-operated.yaml");
    std::fs::write(&file, manifest).unwrap();
    kubectl(&["apply", "-f", &file.to_string_lossy()]);
    let two = run(&["clients", "-o", "json"], "");
    kubectl(&["delete", "namespace", second, "--timeout=120s"]);
    assert_eq!(two.code, 2, "{}", two.stderr);
    assert!(
        two.stderr
            .contains(&format!("k8s://{}/prometheus-operated", namespaces[0]))
            && two
                .stderr
                .contains(&format!("k8s://{second}/prometheus-operated"))
            && two.stderr.contains("--prometheus k8s://"),
        "{}",
        two.stderr
    );

    // None: only when the Service is this test's own (the lab's own operator's is left alone).
    if namespaces[0] == p("PA_NAMESPACE") {
        let ns = p("PA_NAMESPACE");
        kubectl(&["-n", ns, "delete", "service", "prometheus-operated"]);
        let none = run(
            &[
                "clients",
                "-o",
                "json",
                "--all",
                "-n",
                "demo",
                "--scrape-interval",
                "2s",
            ],
            "",
        );
        // Put it back before asserting.
        let up = Command::new(repo_root().join("lab/prom-access/up"))
            .output()
            .unwrap();
        assert!(
            up.status.success(),
            "{}",
            String::from_utf8_lossy(&up.stderr)
        );
        assert!(none.code <= 1, "{}", none.stderr);
        let v = none.json();
        assert!(
            v["notes"].to_string().contains("auto: no Prometheus found"),
            "{v}"
        );
        assert_eq!(v["source"]["kind"], "scrape", "{v}");
    } else {
        eprintln!(
            "the lab runs its own prometheus-operated in {}: the none case is left out",
            namespaces[0]
        );
    }
}

/// `serve` with an alert whose `startsAt` is 15 minutes old, from a real rule (for: 1m) through
/// a real Alertmanager: the report's window holds the onset, which is within one scrape
/// interval (and one step) of the client's first refused request; the report says which form
/// fired and the alert's scope.
#[test]
#[ignore = "needs the lab: lab/up"]
fn serve_reaches_back_to_the_onset_of_a_15_minute_old_alert() {
    let started: jiff::Timestamp = p("PA_ONSET_STARTED").parse().expect("onset-started");
    // The rule fires about a minute after the first error; wait until that is 15 minutes old.
    let old_enough = started + jiff::SignedDuration::from_secs(16 * 60 + 30);
    let now = jiff::Timestamp::now();
    if now < old_enough {
        let wait = old_enough.duration_since(now).unsigned_abs();
        eprintln!("waiting {wait:?} for the onset client's alert to be 15 minutes old");
        std::thread::sleep(wait);
    }
    let listen = p("PA_SERVE_LISTEN");
    let token_file = p("PA_SERVE_TOKEN_FILE");
    let token = std::fs::read_to_string(token_file)
        .unwrap()
        .trim()
        .to_string();
    let log_path = artifacts().join("prom-access-serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kube-doctor"));
    for (k, v) in env() {
        if k != "PROMETHEUS_URL" {
            cmd.env(k, v);
        }
    }
    let child = cmd
        .args([
            "serve",
            "--listen",
            listen,
            "--token-file",
            token_file,
            "--no-events",
            "--prometheus",
            p("PA_FLEET_URL"),
            "--prometheus-basic-auth-file",
            p("PA_BASIC_AUTH_FILE"),
            "--cluster",
            "lab-a",
        ])
        .env_remove("PROMETHEUS_URL")
        .env("RUST_LOG", "kube_doctor=debug")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start serve");
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = Command::new("kill")
                .args(["-TERM", &self.0.id().to_string()])
                .status();
            let _ = self.0.wait();
        }
    }
    let _serve = Stop(child);
    let base = format!("http://{listen}");
    let deadline = Instant::now() + Duration::from_secs(240);
    let report = loop {
        assert!(
            Instant::now() < deadline,
            "no report for kd-onset within 4 minutes; see {}",
            log_path.display()
        );
        std::thread::sleep(Duration::from_secs(5));
        let Ok(list) = http_json(&format!("{base}/api/reports"), &token) else {
            continue;
        };
        let Some(id) = list.as_array().and_then(|l| {
            l.iter()
                .find(|r| r["client"].as_str().is_some_and(|c| c.contains(":18089")))
                .and_then(|r| r["id"].as_str().map(str::to_string))
        }) else {
            continue;
        };
        let full = http_json(&format!("{base}/api/reports/{id}"), &token).expect("the report");
        break full;
    };
    let r = &report["report"];
    let from: jiff::Timestamp = r["window"]["from"].as_str().unwrap().parse().unwrap();
    let to: jiff::Timestamp = r["window"]["to"].as_str().unwrap().parse().unwrap();
    assert!(
        to.duration_since(started) > jiff::SignedDuration::from_secs(15 * 60),
        "{r}"
    );
    assert!(
        from < started,
        "the window {from}..{to} holds the onset at {started}"
    );
    let client = r["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"].as_str().is_some_and(|i| i.ends_with(":18089")))
        .unwrap_or_else(|| panic!("kd-onset in the report: {r}"));
    let onset: jiff::Timestamp = client["onset"].as_str().expect("an onset").parse().unwrap();
    let lag = onset.duration_since(started).as_secs_f64();
    // One scrape (5 s) and one step of the series (the window / 120, at least 5 s), and the
    // second of rounding in onset-started.
    let step = (to.duration_since(from).as_secs_f64() / 120.0).max(5.0);
    assert!(
        (-1.0..=5.0 + step + 1.0).contains(&lag),
        "onset {onset} is {lag:.1} s from the first refused request at {started} (step {step:.1} s)"
    );
    let note = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == 3)
        .and_then(|s| s["note"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        note.contains("alert KubeClientErrors fired on the non-2xx form"),
        "{note}"
    );
    assert!(note.contains("namespace=kd-prom-access"), "{note}");
    assert!(note.contains("for: 60s, the rules API"), "{note}");
    let serve_log = std::fs::read_to_string(&log_path).unwrap_or_default();
    no_credentials("serve's log", &serve_log);
    no_credentials("the served report", &report.to_string());
}

fn http_json(url: &str, token: &str) -> Result<Value, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = reqwest::Client::new()
            .get(url)
            .bearer_auth(token)
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {body}"));
        }
        serde_json::from_str(&body).map_err(|e| e.to_string())
    })
}
