//! kube-doctor on the lab as kube-prometheus-stack users' clusters are (issue 13): the chart's
//! real operator, rules and labels (`job="apiserver"`, KubeClientErrors for the API server's
//! own client calls, `cluster` as Prometheus' external label), three API servers behind
//! HAProxy, kubeadm-style control-plane pods. Ignored by a plain `cargo test`; each test refuses
//! (one line) on a lab in another shape. Run them one at a time against one running lab:
//!
//! ```text
//! LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 lab/up
//! cargo test -p kube-doctor --test lab_kps -- --include-ignored --test-threads=1 kps_
//! ```
//!
//! The `managed_` tests need the managed shape instead (`LAB_MANAGED=1`, same command with
//! `managed_`).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SHAPE: &str = "needs the lab in kube-prometheus-stack shape: LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 lab/up";
const MANAGED_SHAPE: &str = "needs the lab in its managed kube-prometheus-stack shape: LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 LAB_MANAGED=1 lab/up";

/// Refuses, with the one-line reason, a lab in another shape.
fn require_shape() {
    require("0", SHAPE);
}

fn require(managed: &str, shape: &str) {
    let (m, a, g) = (
        var("LAB_MONITORING"),
        var("LAB_APISERVERS"),
        var("LAB_MANAGED"),
    );
    if m != "kube-prometheus-stack" || a != "3" || g != managed {
        panic!(
            "{shape} (this lab: LAB_MONITORING={m} LAB_APISERVERS={a} LAB_MANAGED={g}; lab/down first)"
        );
    }
    settle();
}

/// The lab's own start-up errors (each API server's calls to itself answered 404, 409 and 500
/// while it bootstraps, 429s while not ready) must be over before a fault's window opens:
/// waits until lab/up wrote `urls.env` (near its end, before its readiness checks) at least
/// [`SETTLE`] ago.
fn settle() {
    let urls = std::path::Path::new(var("LAB_STATE")).join("urls.env");
    let age = std::fs::metadata(&urls)
        .and_then(|m| m.modified())
        .map(|t| t.elapsed().unwrap_or_default())
        .unwrap_or(SETTLE);
    if age < SETTLE {
        eprintln!(
            "waiting {:.0?} for the lab's start-up errors to end",
            SETTLE - age
        );
        std::thread::sleep(SETTLE - age);
    }
}

/// How long after lab/up the lab's own start-up errors are over (seen: up to 30 s after it).
const SETTLE: Duration = Duration::from_secs(75);

fn get(url: &str, token: Option<&str>) -> Result<(u16, String), String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(10));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.map_err(|e| e.to_string())?))
    })
}

fn get_json(url: &str, token: Option<&str>) -> Result<Value, String> {
    let (status, body) = get(url, token)?;
    if !(200..300).contains(&status) {
        return Err(format!("{status}: {body}"));
    }
    serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
}

/// The API server instances KubeClientErrors (the chart's rule: `job="apiserver"`) fires for
/// whose calls to the policy webhook fail now (500s in the last minute): the fault's own
/// alerts, not an earlier fault's that still fires. Waits at most `secs`.
fn firing_instances(secs: u64) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let instances = |q: &str| -> Vec<String> {
            prom_query(q)
                .iter()
                .filter_map(|a| a["metric"]["instance"].as_str().map(str::to_string))
                .collect()
        };
        let firing = instances(
            r#"ALERTS{alertname="KubeClientErrors",alertstate="firing",job="apiserver"}"#,
        );
        let failing = instances(
            r#"sum by (instance) (increase(rest_client_requests_total{job="apiserver",code="500",host=~"policy-webhook.*"}[1m])) > 0"#,
        );
        let both: Vec<String> = firing
            .iter()
            .filter(|i| failing.contains(i))
            .cloned()
            .collect();
        if !both.is_empty() {
            return both;
        }
        assert!(
            Instant::now() < deadline,
            "within {secs} s, KubeClientErrors fired for {firing:?} and the webhook failed for {failing:?}: none both"
        );
        std::thread::sleep(Duration::from_secs(5));
    }
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The result vector of an instant query against the lab's Prometheus.
fn prom_query(q: &str) -> Vec<Value> {
    let url = format!(
        "{}/api/v1/query?query={}",
        var("PROMETHEUS_URL"),
        url_escape(q)
    );
    let v = get_json(&url, None).unwrap_or_else(|e| panic!("Prometheus query {q}: {e}"));
    v["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// The first verdict that says something failed: `benign` verdicts (409 conflicts, expected
/// noise) say nothing is broken and may rank first when nothing else failed.
fn first_failure(run: &Run) -> Option<&Value> {
    run.report["verdicts"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["cause"] != "benign"))
}

/// Everything a verdict says, as one text: summary, evidence, remediation.
fn verdict_text(v: &Value) -> String {
    let mut s = v["summary"].as_str().unwrap_or_default().to_string();
    for e in v["evidence"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "\n[{}] {} {}",
            e["step"],
            e["ref"].as_str().unwrap_or_default(),
            e["detail"].as_str().unwrap_or_default()
        ));
    }
    for r in v["remediation"].as_array().into_iter().flatten() {
        s.push_str(&format!("\n- {}", r.as_str().unwrap_or_default()));
    }
    s
}

/// What a webhook-5xx verdict must name: the webhook, its configuration, its Service, its
/// failurePolicy and timeout (lab/manifests: ValidatingWebhookConfiguration lab-policy).
const WEBHOOK_NAMES: [&str; 5] = [
    "admission webhook policy.lab.kube-doctor.io",
    "validatingwebhookconfiguration/lab-policy",
    "service/policy/policy-webhook",
    "failurePolicy Fail",
    "timeoutSeconds 5",
];

/// A `kube-doctor serve` child process, stopped (SIGTERM) when dropped.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Starts `serve` where the lab's Alertmanager posts (LAB_ALERT_WEBHOOK_URL); returns it, its
/// base URL and its token.
fn start_serve() -> (Server, String, String) {
    let url = var("LAB_ALERT_WEBHOOK_URL");
    let listen = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let token_file = var("LAB_SERVE_TOKEN_FILE");
    let token = std::fs::read_to_string(token_file)
        .expect("the lab's serve token")
        .trim()
        .to_string();
    let log = std::fs::File::create(artifacts().join("kps-serve.log")).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kube-doctor"));
    for (k, v) in env() {
        cmd.env(k, v);
    }
    let child = cmd
        .args([
            "serve",
            "--listen",
            &listen,
            "--token-file",
            token_file,
            "--since",
            "3m",
            "--cooldown",
            "20s",
        ])
        .env("RUST_LOG", "kube_doctor=info")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start serve");
    let server = Server(child);
    let base = format!("http://{listen}");
    let ready = Instant::now() + Duration::from_secs(30);
    while get(&format!("{base}/readyz"), None).map(|(s, _)| s) != Ok(200) {
        assert!(
            Instant::now() < ready,
            "serve did not become ready on {listen}; see target/lab-artifacts/kps-serve.log"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    (server, base, token)
}

/// webhook-5xx: the API server is the failing client (its calls to the policy webhook answer
/// 500). `investigate` once KubeClientErrors fires: the top cause is server_side, about the
/// API server instance(s) the alert fires for, naming the webhook, its configuration, Service,
/// failurePolicy and timeout; step 7 reports each of the three instances. Then `serve`, fed by
/// the lab's real Alertmanager with the alert as the chart's rule and Prometheus' external
/// labels make it (`cluster="lab"` on the alert, on none of the series): the report for the
/// alert's instance says the same.
#[test]
#[ignore = "needs the lab in kube-prometheus-stack shape: LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 lab/up"]
fn kps_webhook_5xx_investigate_and_serve() {
    require_shape();
    lab("fault", &["clear", "all"]);
    let t0 = Instant::now();
    let (_server, base, token) = start_serve();
    let started = jiff::Timestamp::now();
    let fault = Fault::inject("webhook-5xx");

    // for: 1m in the lab, after the 5m rate window holds more than 1 % of 5xx.
    let firing = firing_instances(240);
    let fired_after = fault.injected.elapsed();
    let window = since(fault.injected, Duration::from_secs(10));
    let run = investigate("kps-webhook-5xx", &["--since", &window]);
    assert_eq!(run.code, 1, "a diagnosed problem exits 1: {}", run.stderr);
    let top = run.top();
    let text = verdict_text(top);
    assert_eq!(run.top_cause(), Some("server_side"), "{text}");
    let clients: Vec<&str> = top["clients"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        firing
            .iter()
            .any(|i| clients.contains(&format!("apiserver/{i}").as_str())),
        "the top verdict is about {clients:?}, KubeClientErrors fires for {firing:?}"
    );
    for want in WEBHOOK_NAMES {
        assert!(
            text.contains(want),
            "{want:?} not in the top verdict:\n{text}"
        );
    }
    let steps = evidence_steps(top);
    assert!(
        steps.contains(&3) && steps.contains(&4) && steps.contains(&7),
        "evidence from steps 3 (rates), 4 (the webhook's Service) and 7 (its configuration): {steps:?}"
    );
    record(&run, "kps-webhook-5xx");
    assert!(
        text.contains(r#"rest_client_requests_total{job="apiserver",instance=""#),
        "the API server's own series, by its real job and instance:\n{text}"
    );
    let step7 = run.report["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["step"] == 7))
        .and_then(|s| s["note"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(step7.contains("job apiserver"), "{step7}");
    assert!(step7.contains("3 instance(s)"), "{step7}");
    for url in var("LAB_APISERVER_URLS").split(',') {
        let instance = url.trim_start_matches("https://");
        assert!(
            step7.contains(instance),
            "{instance} not in step 7: {step7}"
        );
    }
    let investigated = fault.injected.elapsed();

    // serve: Alertmanager posts the firing alert; the report for one of its instances.
    let deadline = Instant::now() + Duration::from_secs(180);
    let report = loop {
        let list = get_json(&format!("{base}/api/reports"), Some(&token)).unwrap_or_default();
        let hit = list.as_array().into_iter().flatten().find_map(|s| {
            let client = s["client"].as_str()?;
            let about = firing
                .iter()
                .any(|i| client.ends_with(&format!("apiserver/{i}")));
            let fresh = s["created_at"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .is_some_and(|t| t >= started);
            (about && fresh && s["cause"] == "server_side").then(|| s["id"].clone())
        });
        if let Some(id) = hit {
            let id = id.as_str().unwrap().to_string();
            break get_json(&format!("{base}/api/reports/{id}"), Some(&token))
                .expect("GET /api/reports/{id}");
        }
        assert!(
            Instant::now() < deadline,
            "no server_side report from serve for {firing:?} within 3 minutes of the alert firing: {}",
            list
        );
        std::thread::sleep(Duration::from_secs(5));
    };
    let served = &report["report"];
    let text = verdict_text(&served["verdicts"][0]);
    for want in WEBHOOK_NAMES {
        assert!(
            text.contains(want),
            "{want:?} not in serve's report:\n{text}"
        );
    }
    let step3 = served["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["step"] == 3))
        .and_then(|s| s["note"].as_str())
        .unwrap_or_default();
    assert!(
        step3.contains("not scoped to the alert's cluster=\"lab\""),
        "the alert's cluster is Prometheus' external label: {step3}"
    );
    assert!(step3.contains("alert KubeClientErrors fired"), "{step3}");
    // The API server as the client has no pod of its own: serve's Event goes on the
    // `default/kubernetes` Service.
    let out = Command::new(var("LAB_KUBECTL"))
        .args(["--kubeconfig", var("LAB_ADMIN_KUBECONFIG"), "-n", "default"])
        .args(["get", "events", "-o", "json", "--field-selector"])
        .arg(
            "reason=KubeDoctorDiagnosis,involvedObject.kind=Service,involvedObject.name=kubernetes",
        )
        .output()
        .expect("kubectl get events");
    let events: Value = serde_json::from_slice(&out.stdout).expect("events JSON");
    assert!(
        events["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|e| e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("server_side")))),
        "no KubeDoctorDiagnosis Event on the kubernetes Service saying server_side: {events}"
    );
    assert_no_secret("serve's report", &report.to_string());
    assert_no_secret("the report", &run.report.to_string());
    eprintln!(
        "webhook-5xx: KubeClientErrors firing for {firing:?} after {fired_after:.0?}; investigate right at {investigated:.0?}; serve's report at {:.0?}; test {:.0?}",
        fault.injected.elapsed(),
        t0.elapsed()
    );
    drop(fault);
    std::thread::sleep(Duration::from_secs(20));
}

/// A workload fault on the kube-prometheus-stack lab: rbac-revoked on the kube-rs client,
/// scraped through its ServiceMonitor (`job="demo-kubers"`, `instance=<pod IP>:<port>`): the
/// right top cause (authorization) for the pod, and the controller-manager and scheduler,
/// whose series carry a `pod` label there, are control-plane components, not workloads.
#[test]
#[ignore = "needs the lab in kube-prometheus-stack shape: LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 lab/up"]
fn kps_rbac_revoked_and_components() {
    require_shape();
    lab("fault", &["clear", "all"]);
    let fault = Fault::inject("rbac-revoked");
    let (run, waited) = investigate_until(
        &fault,
        "demo/demo-kubers",
        "authorization",
        Duration::from_secs(120),
    );
    assert_eq!(
        run.top_cause(),
        Some("authorization"),
        "after {waited:.0?}: {}",
        verdict_text(run.top())
    );
    let text = verdict_text(run.top());
    assert!(
        text.contains("system:serviceaccount:demo:kubers-client"),
        "{text}"
    );
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(&run.bundle_path).expect("read bundle"))
            .expect("bundle is JSON");
    assert_no_secret("the bundle", &bundle.to_string());
    drop(fault);

    // The whole cluster's clients (no --client), as they are attributed.
    let run = investigate("kps-components", &["--since", "2m"]);
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(&run.bundle_path).expect("read bundle"))
            .expect("bundle is JSON");
    let clients = bundle["clients"]["clients"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for (job, pod) in [
        (
            "kube-controller-manager",
            "kube-controller-manager-lab-control-plane-0",
        ),
        ("kube-scheduler", "kube-scheduler-lab-control-plane-0"),
    ] {
        let c = clients
            .iter()
            .find(|c| c["job"] == job)
            .unwrap_or_else(|| panic!("no client of job {job} in {clients:?}"));
        assert_eq!(c["target"]["kind"], "component", "{job}: {c}");
        assert_eq!(c["target"]["name"], job, "{c}");
        assert_eq!(c["target"]["pod"]["namespace"], "kube-system", "{c}");
        assert_eq!(c["target"]["pod"]["name"], pod, "{c}");
    }
    let kubers = clients
        .iter()
        .find(|c| c["job"] == "demo-kubers")
        .expect("the kube-rs client");
    assert_eq!(kubers["target"]["kind"], "pod", "{kubers}");
    assert_eq!(kubers["target"]["name"], "demo-kubers", "{kubers}");
    eprintln!("rbac-revoked: authorization after {waited:.0?}");
    std::thread::sleep(Duration::from_secs(20));
}

/// apiserver-down on one of three: HAProxy and the `kubernetes` EndpointSlice drop it, the
/// other two serve. Whoever's requests were on it when it stopped (429 "apiserver is shutting
/// down", or no answer) is failing, and the top cause is server_side naming the stopped
/// instance's pod; step 1 counts it not ready either way.
#[test]
#[ignore = "needs the lab in kube-prometheus-stack shape: LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 lab/up"]
fn kps_apiserver_down_on_one_instance() {
    require_shape();
    lab("fault", &["clear", "all"]);
    let fault = Fault {
        name: "apiserver-down",
        injected: Instant::now(),
    };
    lab("fault", &["apiserver-down", "--instance", "1"]);
    let pod = "kube-apiserver-lab-control-plane-1";
    std::thread::sleep(Duration::from_secs(20));
    // Whoever had a request on it fails as it stops, at once: a short poll.
    let deadline = Instant::now() + Duration::from_secs(45);
    let run = loop {
        let window = since(fault.injected, Duration::from_secs(10));
        let run = investigate("kps-apiserver-down-1", &["--since", &window]);
        let top = first_failure(&run);
        let named = top.is_some_and(|v| verdict_text(v).contains(pod));
        if (top.is_some_and(|v| v["cause"] == "server_side") && named) || Instant::now() > deadline
        {
            break run;
        }
        std::thread::sleep(Duration::from_secs(8));
    };
    let step1 = run.report["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["step"] == 1))
        .and_then(|s| s["note"].as_str())
        .unwrap_or_default()
        .to_string();
    assert!(
        step1.contains("3 API server pods, 1 not ready or restarted: kube-apiserver-lab-control-plane-1 not ready"),
        "step 1 names the stopped instance's pod: {step1}"
    );
    let instance = var("LAB_APISERVER_URLS")
        .split(',')
        .nth(1)
        .expect("three API server URLs")
        .trim_start_matches("https://");
    let step7 = run.report["steps"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["step"] == 7))
        .and_then(|s| s["note"].as_str())
        .unwrap_or_default()
        .to_string();
    let said = step7
        .split_once(instance)
        .map(|(_, rest)| rest.split(", ").next().unwrap_or_default())
        .unwrap_or_default();
    // Down if a scrape of it failed first, gone if it left the endpoints between scrapes.
    assert!(
        said.contains("(down: a scrape of it failed") || said.contains("(gone: no longer scraped"),
        "step 7 names {instance} as down or gone: {step7}"
    );
    if let Some(top) = first_failure(&run) {
        let text = verdict_text(top);
        assert_eq!(top["cause"].as_str(), Some("server_side"), "{text}");
        assert!(text.contains(pod), "{pod} not named:\n{text}");
        record(&run, "kps-apiserver-down-1");
        assert!(
            !text.contains("kube-apiserver-lab-control-plane-0 ")
                && !text.contains("kube-apiserver-lab-control-plane-2 "),
            "only the stopped instance is named:\n{text}"
        );
    } else {
        // No client had a request on it as it stopped: nothing failed, and nothing is
        // blamed (a `benign` verdict - an API server's own 409 conflict in the window, seen in
        // CI on 2026-11-30 - says nothing is broken); the instance is still reported down.
        eprintln!("apiserver-down --instance 1: no client failing; step 1: {step1}");
    }
    eprintln!(
        "apiserver-down --instance 1: {:?} after {:.0?}",
        run.top_cause(),
        fault.injected.elapsed()
    );
    drop(fault);
    // The instance comes back; its own startup makes it a failing client for a minute.
    std::thread::sleep(Duration::from_secs(30));
}

/// The managed shape (no control-plane pods, Prometheus does not scrape the API server,
/// `/metrics` forbidden to kube-doctor's role), webhook-5xx: a diagnosis from what is visible.
/// The kube-rs client's writes fail with 500; its log names the webhook; the top cause is
/// server_side naming the webhook, its configuration, Service, failurePolicy and timeout; and
/// each thing kube-doctor could not see is said (no API server series, /metrics forbidden, no
/// control-plane pods), never "0 server signals" as if the server were healthy.
#[test]
#[ignore = "needs the lab in its managed kube-prometheus-stack shape: LAB_MONITORING=kube-prometheus-stack LAB_APISERVERS=3 LAB_MANAGED=1 lab/up"]
fn managed_webhook_5xx_from_what_is_visible() {
    require("1", MANAGED_SHAPE);
    lab("fault", &["clear", "all"]);
    let fault = Fault::inject("webhook-5xx");
    let (run, waited) = investigate_until(
        &fault,
        "demo/demo-kubers",
        "server_side",
        Duration::from_secs(120),
    );
    let top = run.top();
    let text = verdict_text(top);
    assert_eq!(
        run.top_cause(),
        Some("server_side"),
        "after {waited:.0?}:\n{text}"
    );
    for want in WEBHOOK_NAMES.iter().filter(|w| !w.starts_with("service/")) {
        assert!(
            text.contains(want),
            "{want:?} not in the top verdict:\n{text}"
        );
    }
    assert!(text.contains("Service policy/policy-webhook"), "{text}");
    let note = |n: u64| {
        run.report["steps"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["step"] == n))
            .map(|s| {
                (
                    s["status"].clone(),
                    s["note"].as_str().unwrap_or_default().to_string(),
                )
            })
            .unwrap_or_default()
    };
    let (_, step1) = note(1);
    assert!(
        step1.contains("no kube-apiserver pods in kube-system (managed control plane"),
        "step 1: {step1}"
    );
    let (status7, step7) = note(7);
    assert_eq!(status7, "failed", "step 7: {step7}");
    assert!(
        step7.contains("this Prometheus has no API server series") && step7.contains("forbidden"),
        "step 7 says what it could not see: {step7}"
    );
    assert!(
        !step7.contains("0 series"),
        "never a count of nothing: {step7}"
    );
    eprintln!("managed webhook-5xx: server_side after {waited:.0?}");
    drop(fault);
    std::thread::sleep(Duration::from_secs(20));
}
