//! Tests against the real lab (`lab/up`): real kube-apiserver, etcd, Prometheus, Alertmanager
//! and client-go, kube-rs and Python clients. They are ignored by a plain `cargo test`; run them
//! one at a time against one running lab (scripts/test-all.sh does):
//!
//! ```text
//! lab/up && cargo test -p kube-doctor --test lab -- --include-ignored --test-threads=1
//! ```
//!
//! `KUBE_DOCTOR_RECORD=1` also records each fault's bundle into the core crate's fixtures.

#[allow(dead_code)]
mod common;

use std::process::Command;
use std::time::Duration;

use common::*;
use serde_json::Value;

/// Issue 5's bound: the right top cause within 2 minutes of the injection.
const DEADLINE: Duration = Duration::from_secs(120);

/// One lab fault: which client it hits, the cause kube-doctor must name, and what the bundle
/// must hold to prove it (issue 4's acceptance).
struct Case {
    fault: &'static str,
    client: &'static str,
    cause: &'static str,
    proof: fn(&Value) -> Result<(), String>,
}

fn arr<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array().ok_or_else(|| format!("bundle has no {what}"))
}

fn pod_entry<'a>(list: &'a Value, pod: &str, what: &str) -> Result<&'a Value, String> {
    arr(list, what)?
        .iter()
        .find(|e| e["pod"]["name"].as_str() == Some(pod))
        .ok_or_else(|| format!("bundle has no {what} for pod {pod}"))
}

/// Lines of `category` classified in the pod's logs (all containers).
fn log_count(b: &Value, pod: &str, category: &str) -> Result<u64, String> {
    let logs = pod_entry(&b["logs"], pod, "logs")?;
    Ok(arr(&logs["containers"], "containers")?
        .iter()
        .filter_map(|c| c["categories"][category]["count"].as_u64())
        .sum())
}

fn need(ok: bool, msg: impl Into<String>) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg.into()) }
}

fn client_row<'a>(b: &'a Value, pod: &str) -> Result<&'a Value, String> {
    arr(&b["clients"]["clients"], "clients")?
        .iter()
        .find(|c| c["target"]["name"].as_str() == Some(pod))
        .ok_or_else(|| format!("step 3 did not map any failing client to pod {pod}"))
}

/// The share of `pod`'s requests that got no answer at all (`code="<error>"`), from step 3.
fn transport_ratio(b: &Value, pod: &str) -> Result<f64, String> {
    Ok(client_row(b, pod)?["ratios"]["transport"]
        .as_f64()
        .unwrap_or(0.0))
}

/// Issue 3: the fault makes the right client cross the threshold, with error categories, and
/// an onset within two scrape intervals (5 s in the lab: one may be late) plus one sample
/// step of the first error its own log shows.
fn check_onset(b: &Value, pod: &str) -> Result<(), String> {
    let row = client_row(b, pod)?;
    let ratio = row["ratios"]["non_2xx"].as_f64().unwrap_or(0.0);
    need(ratio > 0.01, format!("{pod} is not over 1 %: {ratio}"))?;
    need(
        row["categories"].as_object().is_some_and(|c| !c.is_empty()),
        format!("no error categories for {pod}"),
    )?;
    let onset: jiff::Timestamp = row["onset"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("no onset for {pod}"))?;
    // The first error line in its log, when kube-doctor could read the log.
    let Some(logs) = b["logs"]
        .as_array()
        .and_then(|l| l.iter().find(|e| e["pod"]["name"] == pod))
    else {
        return Ok(());
    };
    let first = logs["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["categories"].as_object().into_iter().flatten())
        .filter_map(|(_, st)| {
            st["first_at"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        })
        .min();
    let Some(first) = first else { return Ok(()) };
    let step = b["clients"]["step_seconds"].as_f64().unwrap_or(5.0);
    let lag = (onset - first)
        .total(jiff::Unit::Second)
        .unwrap_or(f64::MAX);
    // The error reaches Prometheus with the next scrape (every 5 s) and shows at the end of
    // the step that holds that sample. On two cores shared with the whole lab a scrape is now
    // and then late or missed (seen: a 10 s gap in the Python client's samples right after
    // its first 401, and 12.3 s for client-go's first 500): one missed scrape is allowed.
    let scrape = 5.0;
    need(
        lag >= -step && lag <= 2.0 * scrape + step + 2.0,
        format!(
            "{pod}: onset {onset} is {lag:.1} s from its first error line {first} (step {step} s, scrape 5 s)"
        ),
    )
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            fault: "expired-client-cert",
            client: "demo/demo-clientgo",
            cause: "authentication",
            proof: |b| {
                let creds = pod_entry(&b["credentials"], "demo-clientgo", "credentials")?;
                let now = jiff::Timestamp::now();
                let expired = arr(&creds["certificates"], "certificates")?
                    .iter()
                    .any(|c| {
                        c["cert"]["not_after"]
                            .as_str()
                            .or_else(|| c["not_after"].as_str())
                            .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                            .is_some_and(|t| t < now)
                    });
                need(
                    expired,
                    "no certificate of demo-clientgo with notAfter in the past",
                )?;
                let n = log_count(b, "demo-clientgo", "authentication")?;
                need(
                    n > 0,
                    "no authentication lines classified in demo-clientgo's log",
                )
            },
        },
        Case {
            fault: "apiserver-cert-expired",
            client: "demo/demo-python",
            cause: "authentication",
            proof: |b| {
                // kube-doctor's own requests fail TLS verification as the clients' do, so the
                // proof is the TLS probe of step 4, the failed steps and the clients' metrics.
                let net = pod_entry(&b["network"], "demo-python", "network path")?;
                let now = jiff::Timestamp::now();
                let bad_cert = arr(&net["probes"], "probes")?.iter().any(|p| {
                    p["serving_cert"]["not_after"]
                        .as_str()
                        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                        .is_some_and(|t| t < now)
                });
                need(
                    bad_cert,
                    "the TLS probe did not see the expired serving certificate",
                )?;
                let steps = arr(&b["steps"], "steps")?;
                need(
                    steps.iter().any(|s| {
                        s["status"] == "failed"
                            && s["note"]
                                .as_str()
                                .is_some_and(|n| n.contains("certificate"))
                    }),
                    "no step reports the certificate failure of its own requests",
                )?;
                need(
                    transport_ratio(b, "demo-python")? > 0.0,
                    "no transport failures counted for demo-python",
                )
            },
        },
        Case {
            fault: "rbac-revoked",
            client: "demo/demo-kubers",
            cause: "authorization",
            proof: |b| {
                let logs = pod_entry(&b["logs"], "demo-kubers", "logs")?;
                let denials: Vec<&Value> = arr(&logs["containers"], "containers")?
                    .iter()
                    .flat_map(|c| c["authz_denials"].as_array().into_iter().flatten())
                    .collect();
                need(
                    denials.iter().any(|d| {
                        d["denial"]["verb"].is_string() && d["denial"]["resource"].is_string()
                    }),
                    "no 403 line with verb and resource",
                )?;
                let creds = pod_entry(&b["credentials"], "demo-kubers", "credentials")?;
                let denied = arr(&creds["access_reviews"], "access reviews")?
                    .iter()
                    .any(|r| r["denied"] == true || r["allowed"] == false);
                need(denied, "no denied SubjectAccessReview")?;
                // The lab's Role demo-client (bound to the sibling clients) is read, so the
                // advice can bind it rather than write a new Role.
                need(
                    arr(&creds["roles"], "Roles of namespace demo")?
                        .iter()
                        .any(|r| r["name"] == "demo-client"),
                    "the Role demo-client not read",
                )
            },
        },
        Case {
            fault: "apf-throttle",
            client: "demo/demo-clientgo",
            cause: "rate_limiting",
            proof: |b| {
                let apf = arr(&b["server_metrics"]["apf"], "APF metrics")?;
                need(
                    apf.iter().any(|a| {
                        a["flow_schema"] == "lab-squeeze-demo-clientgo"
                            && a["rejected"].as_f64() > Some(0.0)
                    }),
                    "no APF rejections for FlowSchema lab-squeeze-demo-clientgo",
                )?;
                let matches = arr(
                    &b["quota_and_flow_control"]["client_matches"],
                    "FlowSchema matches",
                )?;
                need(
                    matches.iter().any(|m| {
                        m["user"] == "demo-clientgo"
                            && m["flow_schema"] == "lab-squeeze-demo-clientgo"
                    }),
                    "demo-clientgo's user is not matched to its FlowSchema",
                )
            },
        },
        Case {
            fault: "apiserver-down",
            client: "demo/demo-clientgo",
            cause: "server_side",
            proof: |b| {
                let ready = &b["apiserver"]["readyz"];
                need(
                    ready["ok"] != true,
                    "step 1 says /readyz is fine while the API server is stopped",
                )?;
                need(
                    transport_ratio(b, "demo-clientgo")? > 0.0,
                    "no transport failures counted for demo-clientgo",
                )
            },
        },
        Case {
            fault: "apiserver-slow",
            client: "demo/demo-clientgo",
            cause: "server_side",
            proof: |b| {
                let hooks = arr(&b["server_metrics"]["webhooks"], "webhook metrics")?;
                need(
                    hooks.iter().any(|w| {
                        w["name"] == "slow.lab.kube-doctor.io" && w["errors"].as_f64() > Some(0.0)
                    }),
                    "no failing calls to webhook slow.lab.kube-doctor.io",
                )?;
                let row = client_row(b, "demo-clientgo")?;
                need(
                    row["ratios"]["server_5xx"].as_f64() > Some(0.0),
                    "no 5xx counted for demo-clientgo",
                )
            },
        },
        Case {
            fault: "network-blackhole",
            client: "demo/demo-kubers",
            cause: "network",
            proof: |b| {
                let net = pod_entry(&b["network"], "demo-kubers", "network path")?;
                need(
                    net["egress"]["verdict"] == "denied",
                    "the NetworkPolicy check does not say egress is denied",
                )?;
                need(
                    arr(&net["egress"]["by"], "policies")?
                        .iter()
                        .any(|p| p == "deny-egress-demo-kubers"),
                    "deny-egress-demo-kubers not named",
                )?;
                let failures = log_count(b, "demo-kubers", "timeout")?
                    + log_count(b, "demo-kubers", "network_unreachable")?;
                let transport = transport_ratio(b, "demo-kubers")?;
                need(
                    failures > 0 || transport > 0.0,
                    "no transport failures in demo-kubers' log or metrics",
                )
            },
        },
        Case {
            fault: "token-invalid",
            client: "demo/demo-python",
            cause: "authentication",
            proof: |b| {
                let creds = pod_entry(&b["credentials"], "demo-python", "credentials")?;
                need(
                    arr(&creds["tokens"], "tokens")?
                        .iter()
                        .any(|t| t["service_account_uid_matches"] == false),
                    "the token's ServiceAccount uid is not reported as mismatched",
                )?;
                let n = log_count(b, "demo-python", "authentication")?;
                need(
                    n > 0,
                    "no authentication lines classified in demo-python's log",
                )
            },
        },
        Case {
            fault: "quota-exceeded",
            client: "demo/demo-python",
            cause: "quota",
            proof: |b| {
                let quotas = arr(&b["quota_and_flow_control"]["quotas"], "quotas")?;
                need(
                    quotas
                        .iter()
                        .flat_map(|q| q["resources"].as_array().into_iter().flatten())
                        .any(|r| r["exhausted"] == true),
                    "no exhausted ResourceQuota",
                )?;
                let n = log_count(b, "demo-python", "quota_or_admission")?;
                need(n > 0, "no quota lines classified in demo-python's log")
            },
        },
    ]
}

fn run_case(case: &Case) {
    let fault = Fault::inject(case.fault);
    // The proof is part of being ready: a verdict can come a scrape before the metrics that
    // prove it (the webhook's failing calls are an `increase` over two scrapes).
    let proven = |run: &common::Run| {
        std::fs::read(&run.bundle_path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .is_some_and(|b| (case.proof)(&b).is_ok())
    };
    let (run, waited) = investigate_until_ready(&fault, case.client, case.cause, DEADLINE, proven);
    let summary = run.report["verdicts"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|v| format!("{} {}: {}", v["cause"], v["confidence"], v["summary"]))
                .collect::<Vec<_>>()
                .join("\n  ")
        })
        .unwrap_or_default();
    assert_eq!(
        run.top_cause(),
        Some(case.cause),
        "{}: top cause after {waited:?}; verdicts:\n  {summary}\nstderr: {}",
        case.fault,
        run.stderr
    );
    assert_eq!(run.code, 1, "{}: a diagnosed problem exits 1", case.fault);
    let steps = evidence_steps(run.top());
    assert!(
        steps.len() >= 2,
        "{}: the verdict cites evidence from fewer than two steps: {steps:?}",
        case.fault
    );
    assert!(
        run.top()["remediation"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "{}: no remediation",
        case.fault
    );
    if case.fault == "rbac-revoked" {
        // Only the binding was deleted: the advice binds the Role that exists.
        let first = run.top()["remediation"][0].as_str().unwrap_or_default();
        assert!(
            first.starts_with("the Role demo-client in demo already grants")
                && first.contains("kubectl create rolebinding"),
            "rbac-revoked: the first advice does not bind the existing Role: {first}"
        );
    }

    let bytes = std::fs::read(&run.bundle_path).expect("read bundle");
    // What `collect` wrote, `diagnose` reads: the bundle passes every check a file gets.
    if let Err(e) = kube_doctor_core::bundle::Bundle::from_json(&bytes) {
        panic!(
            "{}: the collected bundle does not read back: {e}",
            case.fault
        );
    }
    let bundle: Value = serde_json::from_slice(&bytes).expect("bundle is JSON");
    if let Err(e) = (case.proof)(&bundle) {
        panic!("{}: the bundle does not prove the fault: {e}", case.fault);
    }
    let text = std::fs::read_to_string(&run.bundle_path).unwrap();
    assert_no_secret("the bundle", &text);
    assert_no_secret("the report", &run.report.to_string());
    assert_no_secret("stderr", &run.stderr);
    let pod = case.client.split('/').nth(1).unwrap();
    if let Err(e) = check_onset(&bundle, pod) {
        panic!("{}: {e}", case.fault);
    }
    record(&run, case.fault);
    eprintln!(
        "{}: {} after {:.0?} (evidence from steps {steps:?})",
        case.fault, case.cause, waited
    );
    drop(fault);
    // Let the clients recover (an API server restart makes them all fail for a while) before
    // the next fault; the next test's window starts after this.
    std::thread::sleep(Duration::from_secs(30));
}

macro_rules! fault_tests {
    ($($name:ident => $fault:literal),* $(,)?) => {$(
        #[test]
        #[ignore = "needs the lab: lab/up"]
        fn $name() {
            let case = cases().into_iter().find(|c| c.fault == $fault).expect("known fault");
            run_case(&case);
        }
    )*};
}

fault_tests! {
    fault_apf_throttle => "apf-throttle",
    fault_apiserver_cert_expired => "apiserver-cert-expired",
    fault_apiserver_down => "apiserver-down",
    fault_apiserver_slow => "apiserver-slow",
    fault_expired_client_cert => "expired-client-cert",
    fault_network_blackhole => "network-blackhole",
    fault_quota_exceeded => "quota-exceeded",
    fault_rbac_revoked => "rbac-revoked",
    fault_token_invalid => "token-invalid",
}

/// With no fault active, the lab is healthy: exit 0, no verdict, no step forbidden under the
/// shipped ClusterRole. Recorded as the `healthy` fixture.
#[test]
#[ignore = "needs the lab: lab/up"]
fn healthy_lab_has_no_verdict() {
    lab("fault", &["clear", "all"]);
    // The window starts after the last fault's recovery.
    std::thread::sleep(Duration::from_secs(45));
    let run = investigate("healthy", &["--since", "40s"]);
    assert_eq!(
        run.report["verdicts"].as_array().map(Vec::len),
        Some(0),
        "verdicts on a healthy lab: {}",
        run.report["verdicts"]
    );
    assert_eq!(run.code, 0, "a healthy lab exits 0");
    for s in run.report["steps"].as_array().unwrap() {
        assert_ne!(
            s["status"], "forbidden",
            "step forbidden under deploy/rbac.yaml: {s}"
        );
        assert_ne!(s["status"], "failed", "step failed on a healthy lab: {s}");
    }
    record(&run, "healthy");
}

/// Under a narrower role (no Secrets, no FlowSchemas), the forbidden steps say which rule they
/// lacked and the rest of the bundle is complete.
#[test]
#[ignore = "needs the lab: lab/up"]
fn narrow_role_reports_missing_rules() {
    let out = artifacts().join("narrow.bundle.json");
    let res = kube_doctor(&[
        "collect",
        "--kubeconfig",
        var("LAB_NARROW_KUBECONFIG"),
        "--prometheus",
        var("PROMETHEUS_URL"),
        "--since",
        "5m",
        "--out",
        &out.to_string_lossy(),
    ]);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        res.status.success(),
        "collect under a narrow role still succeeds: {stderr}"
    );
    let b: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let steps = b["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 8, "all eight steps are reported");
    let forbidden: Vec<&Value> = steps
        .iter()
        .filter(|s| s["status"] == "forbidden")
        .collect();
    assert!(
        !forbidden.is_empty(),
        "the narrow role forbids some steps: {steps:?}"
    );
    for s in &forbidden {
        let missing = s["missing_rules"].as_array();
        assert!(
            missing.is_some_and(|m| !m.is_empty()),
            "forbidden step {} does not name the rule it lacked: {s}",
            s["step"]
        );
    }
    let ok = steps
        .iter()
        .filter(|s| s["status"] == "ok" || s["status"] == "empty")
        .count();
    assert!(ok >= 4, "the other steps complete: {steps:?}");
    assert!(
        stderr.contains("forbidden"),
        "forbidden steps are said on stderr too: {stderr}"
    );
}

/// `clients` names the failing client with its pod, from Prometheus and from direct scrapes.
#[test]
#[ignore = "needs the lab: lab/up"]
fn clients_attribute_to_pods() {
    let fault = Fault::inject("rbac-revoked");
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let window = since(fault.injected, Duration::from_secs(15));
        let out = kube_doctor(&[
            "clients",
            "-o",
            "json",
            "--prometheus",
            var("PROMETHEUS_URL"),
            "--since",
            &window,
        ]);
        assert!(
            out.status.code().is_some_and(|c| c <= 1),
            "clients failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("clients -o json");
        let rows = v["clients"].as_array().cloned().unwrap_or_default();
        let failing = |c: &&Value| {
            c["target"]["name"] == "demo-kubers" && c["ratios"]["non_2xx"].as_f64() > Some(0.01)
        };
        if let Some(row) = rows.iter().find(failing) {
            assert_eq!(row["target"]["service_account"], "kubers-client", "{row}");
            assert_eq!(
                row["user"], "system:serviceaccount:demo:kubers-client",
                "{row}"
            );
            assert!(
                row["codes"]["403"].as_f64() > Some(0.0),
                "403s counted: {row}"
            );
            assert!(row["onset"].is_string(), "an onset: {row}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "demo-kubers never crossed 1 %: {v}"
        );
        std::thread::sleep(Duration::from_secs(8));
    }
    // Without Prometheus: two direct scrapes of the API server's and the pods' /metrics.
    let out = kube_doctor(&[
        "clients",
        "-o",
        "json",
        "--prometheus",
        "",
        "--scrape-interval",
        "5s",
        "--all",
        "-n",
        "demo",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "direct clients failed: {stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("clients -o json (direct)");
    let rows = v["clients"].as_array().cloned().unwrap_or_default();
    let row = rows
        .iter()
        .find(|c| c["target"]["name"] == "demo-kubers")
        .unwrap_or_else(|| panic!("direct scrapes map demo-kubers: {v}\n{stderr}"));
    assert!(
        row["codes"]["403"].as_f64() > Some(0.0),
        "direct scrapes count its 403s: {row}"
    );
}

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

fn get_json(url: &str, token: Option<&str>) -> Result<Value, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(5));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.text().await.map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {body}"));
        }
        serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))
    })
}

fn get_text(url: &str) -> Result<String, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let resp = reqwest::get(url).await.map_err(|e| e.to_string())?;
        resp.text().await.map_err(|e| e.to_string())
    })
}

/// Real Prometheus evaluates the lab's KubeClientErrors rule, real Alertmanager posts to
/// `serve`, and for three faults on three different clients the right report is served at
/// /api/reports and announced as a KubeDoctorDiagnosis Event on the client's pod.
#[test]
#[ignore = "needs the lab: lab/up"]
fn alertmanager_drives_serve_for_three_faults() {
    let url = var("LAB_ALERT_WEBHOOK_URL");
    let listen = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let base = format!("http://{listen}");
    let token_file = var("LAB_SERVE_TOKEN_FILE");
    let token = std::fs::read_to_string(token_file)
        .expect("the lab's serve token")
        .trim()
        .to_string();
    let log = std::fs::File::create(artifacts().join("serve.log")).unwrap();
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
    let _server = Server(child);
    let ready = std::time::Instant::now() + Duration::from_secs(30);
    while get_text(&format!("{base}/readyz")).is_err() {
        assert!(
            std::time::Instant::now() < ready,
            "serve did not become ready; see target/lab-artifacts/serve.log"
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    let started = jiff::Timestamp::now();

    let want = [
        ("expired-client-cert", "demo-clientgo", "authentication"),
        ("rbac-revoked", "demo-kubers", "authorization"),
        ("quota-exceeded", "demo-python", "quota"),
    ];
    let _faults: Vec<Fault> = want.iter().map(|(f, _, _)| Fault::inject(f)).collect();

    // for: 1m in the lab, Alertmanager group_wait 5s, repeat 1m; a few minutes at most.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let mut found: std::collections::BTreeMap<&str, Value> = Default::default();
    while found.len() < want.len() {
        assert!(
            std::time::Instant::now() < deadline,
            "after 5 minutes, reports for only {:?}: {}",
            found.keys().collect::<Vec<_>>(),
            get_json(&format!("{base}/api/reports"), Some(&token))
                .map(|v| v.to_string())
                .unwrap_or_else(|e| e)
        );
        std::thread::sleep(Duration::from_secs(10));
        let list =
            get_json(&format!("{base}/api/reports"), Some(&token)).expect("GET /api/reports");
        for summary in list.as_array().unwrap() {
            let id = summary["id"].as_str().unwrap();
            let full = get_json(&format!("{base}/api/reports/{id}"), Some(&token))
                .expect("GET /api/reports/{id}");
            let Some(report) = full.get("report").filter(|r| !r.is_null()) else {
                continue;
            };
            for (_, pod, cause) in &want {
                let about_pod = report["clients"].as_array().is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c["id"] == full["client"] && c["target"]["name"] == *pod)
                });
                if about_pod && summary["cause"] == *cause {
                    found.entry(pod).or_insert_with(|| full.clone());
                }
            }
        }
    }
    // The Events on the pods, created by serve with its own identity.
    let out = Command::new(var("LAB_KUBECTL"))
        .args([
            "--kubeconfig",
            var("LAB_ADMIN_KUBECONFIG"),
            "-n",
            "demo",
            "get",
            "events",
        ])
        .args([
            "--field-selector",
            "reason=KubeDoctorDiagnosis",
            "-o",
            "json",
        ])
        .output()
        .expect("kubectl get events");
    let events: Value = serde_json::from_slice(&out.stdout).expect("events JSON");
    for (_, pod, cause) in &want {
        let hit = events["items"].as_array().unwrap().iter().any(|e| {
            e["involvedObject"]["name"] == *pod
                && e["message"].as_str().is_some_and(|m| m.starts_with(cause))
                && e["eventTime"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .is_some_and(|t| t >= started)
        });
        assert!(
            hit,
            "no KubeDoctorDiagnosis Event on {pod} saying {cause}: {events}"
        );
    }
    // HTML of one report, and serve's own metrics.
    let metrics = get_text(&format!("{base}/metrics")).unwrap();
    assert!(
        metrics.contains("kube_doctor_investigations_total"),
        "{metrics}"
    );
    assert!(metrics.contains("cause=\"authorization\""), "{metrics}");
    for report in found.values() {
        assert_no_secret("a served report", &report.to_string());
    }
    let serve_log = std::fs::read_to_string(artifacts().join("serve.log")).unwrap_or_default();
    assert_no_secret("serve's log", &serve_log);
}

/// The API server answers, Prometheus does not: the client error rates cannot be read, so
/// nothing can be said - exit 2, the reason named, never "No problem diagnosed" (issue 12).
#[test]
#[ignore = "needs the lab: lab/up"]
fn an_unreachable_prometheus_is_never_called_healthy() {
    for format in ["text", "json"] {
        let out = kube_doctor(&[
            "investigate",
            "--prometheus",
            "http://127.0.0.1:9",
            "--since",
            "2m",
            "-o",
            format,
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{format}: {stdout}{stderr}");
        assert!(!stdout.contains("No problem diagnosed"), "{stdout}");
        assert!(
            stdout.contains("Prometheus at http://127.0.0.1:9 is unreachable"),
            "the reason is named: {stdout}"
        );
        assert!(
            stderr
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("kube-doctor: nothing can be said")),
            "{stderr}"
        );
        // Step 3's error is said once (its own line), and the last line points at it.
        assert_eq!(
            stderr
                .matches("Prometheus at http://127.0.0.1:9 is unreachable")
                .count(),
            2,
            "steps 3 and 7 say it once each: {stderr}"
        );
        assert!(stderr.contains("(step 3's error above)"), "{stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// The lab itself, in whichever shape lab/up started it (LAB_MONITORING, LAB_APISERVERS,
// LAB_MANAGED; lab/env exports them): each test checks what that shape promises, so each
// asserts something in every shape.

/// `kubectl --kubeconfig <admin> ARGS -o json`, parsed.
fn kubectl_json(args: &[&str]) -> Value {
    let out = Command::new(var("LAB_KUBECTL"))
        .args(["--kubeconfig", var("LAB_ADMIN_KUBECONFIG")])
        .args(args)
        .args(["-o", "json"])
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("kubectl printed JSON")
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

fn kps() -> bool {
    var("LAB_MONITORING") == "kube-prometheus-stack"
}

fn managed() -> bool {
    var("LAB_MANAGED") == "1"
}

fn apiservers() -> usize {
    var("LAB_APISERVERS")
        .parse()
        .expect("LAB_APISERVERS is a number")
}

/// Polls `f` until it holds (Prometheus needs a few scrapes after lab/up), at most `secs`.
fn eventually(secs: u64, what: &str, f: impl Fn() -> Result<(), String>) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match f() {
            Ok(()) => return,
            Err(e) if std::time::Instant::now() > deadline => panic!("{what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_secs(3)),
        }
    }
}

/// Monitoring as configured: in the kube-prometheus-stack lab, the operator-generated rule file
/// holds KubeClientErrors exactly as the chart renders it (job="apiserver", 5xx only, `for:`
/// from the chart's values), the clients carry ServiceMonitor/PodMonitor labels, Prometheus has
/// the `cluster` external label, and it scrapes every API server (none when managed). In the
/// plain lab, the hand-written jobs and deploy/prometheus's rules.
#[test]
#[ignore = "needs the lab: lab/up"]
fn lab_monitoring_is_as_configured() {
    let rules = get_json(&format!("{}/api/v1/rules", var("PROMETHEUS_URL")), None)
        .expect("GET /api/v1/rules");
    let kce: Vec<&Value> = rules["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter(|r| r["name"] == "KubeClientErrors")
        .collect();
    if kps() {
        assert_eq!(kce.len(), 1, "one KubeClientErrors rule: {kce:?}");
        let r = kce[0];
        let q = r["query"].as_str().unwrap_or_default();
        assert!(
            q.contains(r#"rest_client_requests_total{code=~"5..",job="apiserver"}"#)
                || q.contains(r#"rest_client_requests_total{job="apiserver",code=~"5.."}"#),
            "the chart's expression: {q}"
        );
        assert!(q.contains("by (cluster, instance, job, namespace)"), "{q}");
        assert_eq!(
            r["duration"], 60,
            "for: from customRules (LAB_ALERT_FOR=1m)"
        );
        assert_eq!(r["labels"]["severity"], "warning");
        let groups = rules["data"]["groups"].as_array().unwrap();
        let file = groups
            .iter()
            .find(|g| {
                g["rules"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|x| x["name"] == "KubeClientErrors")
            })
            .and_then(|g| g["file"].as_str())
            .unwrap_or_default();
        assert!(
            file.contains("prometheus-kube-prometheus-stack-prometheus-rulefiles-"),
            "the rule comes from the operator's rule ConfigMap: {file}"
        );
        let cfg = get_json(
            &format!("{}/api/v1/status/config", var("PROMETHEUS_URL")),
            None,
        )
        .expect("GET /api/v1/status/config");
        let yaml = cfg["data"]["yaml"].as_str().unwrap_or_default();
        assert!(
            yaml.contains("cluster: lab"),
            "external label cluster: {yaml:.400}"
        );
        eventually(
            90,
            "the clients' series carry ServiceMonitor/PodMonitor labels",
            || {
                let up = prom_query(r#"up{namespace="demo"} == 1"#);
                let find = |job: &str| {
                    up.iter()
                        .find(|s| s["metric"]["job"] == job)
                        .map(|s| s["metric"].clone())
                        .ok_or_else(|| format!("no up{{job={job:?}}} == 1 in {up:?}"))
                };
                for (job, pod, container) in [
                    ("demo-clientgo", "demo-clientgo", "clientgo"),
                    ("demo-kubers", "demo-kubers", "kubers"),
                ] {
                    let m = find(job)?;
                    need(
                        m["service"] == job
                            && m["pod"] == pod
                            && m["container"] == container
                            && m["endpoint"] == "metrics"
                            && m["instance"].as_str().is_some_and(|i| i.contains(':')),
                        format!("ServiceMonitor labels on {job}: {m}"),
                    )?;
                }
                let m = find("demo/demo-python")?;
                need(
                    m["pod"] == "demo-python"
                        && m["container"] == "python"
                        && m.get("service").is_none(),
                    format!("PodMonitor labels: {m}"),
                )
            },
        );
        eventually(90, "Prometheus scrapes the API servers", || {
            let n = prom_query(r#"up{job="apiserver"} == 1"#).len();
            let want = if managed() { 0 } else { apiservers() };
            need(n == want, format!("{n} API server targets up, want {want}"))
        });
    } else {
        let forms: Vec<&str> = kce
            .iter()
            .filter_map(|r| r["labels"]["form"].as_str())
            .collect();
        assert_eq!(
            forms.len(),
            2,
            "both forms of deploy/prometheus's rule: {kce:?}"
        );
        eventually(60, "the plain lab's jobs", || {
            let n = prom_query(r#"up{job="demo-clients"} == 1"#).len();
            need(n == 3, format!("{n} demo-clients targets up"))?;
            let n = prom_query(r#"up{job="kube-apiserver"} == 1"#).len();
            let want = if managed() { 0 } else { apiservers() };
            need(
                n == want,
                format!("{n} kube-apiserver targets up, want {want}"),
            )
        });
    }
}

/// The API servers: each one's own URL serves, and with the lab on its host network the
/// `kubernetes` Service's EndpointSlice lists exactly them (through HAProxy when several).
#[test]
#[ignore = "needs the lab: lab/up"]
fn lab_apiservers_are_listed() {
    let urls: Vec<&str> = var("LAB_APISERVER_URLS").split(',').collect();
    assert_eq!(urls.len(), apiservers(), "one URL per API server: {urls:?}");
    let hosts: std::collections::BTreeSet<String> = urls
        .iter()
        .map(|u| {
            u.trim_start_matches("https://")
                .rsplit_once(':')
                .unwrap()
                .0
                .to_string()
        })
        .collect();
    if hosts.iter().all(|h| h.starts_with("127.")) {
        // The loopback lab: one API server on 127.0.0.1, no endpoint reconciler.
        assert_eq!(apiservers(), 1);
        return;
    }
    eventually(
        30,
        "the kubernetes EndpointSlice lists every API server",
        || {
            let slice = kubectl_json(&["-n", "default", "get", "endpointslice", "kubernetes"]);
            let listed: std::collections::BTreeSet<String> = slice["endpoints"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|e| e["addresses"].as_array().into_iter().flatten())
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            need(
                listed == hosts,
                format!("listed {listed:?}, running {hosts:?}"),
            )
        },
    );
}

/// Control-plane pods as kubeadm makes them (mirror pods of static pods in kube-system, one
/// kube-apiserver per control-plane node, Ready while their process runs); none in the
/// managed mode or the loopback lab (where the components run as bare processes).
#[test]
#[ignore = "needs the lab: lab/up"]
fn lab_control_plane_pods() {
    let pods = kubectl_json(&[
        "-n",
        "kube-system",
        "get",
        "pods",
        "-l",
        "tier=control-plane",
    ]);
    let items = pods["items"].as_array().cloned().unwrap_or_default();
    let host = !var("LAB_APISERVER_URLS").starts_with("https://127.");
    if managed() || !host {
        assert!(items.is_empty(), "no control-plane pods: {items:?}");
        return;
    }
    let count = |c: &str| {
        items
            .iter()
            .filter(|p| p["metadata"]["labels"]["component"] == c)
            .count()
    };
    assert_eq!(count("kube-apiserver"), apiservers(), "{items:?}");
    for c in ["kube-controller-manager", "kube-scheduler", "etcd"] {
        assert_eq!(count(c), 1, "one {c} pod");
    }
    for p in &items {
        let name = p["metadata"]["name"].as_str().unwrap_or_default();
        assert!(
            p["metadata"]["annotations"]["kubernetes.io/config.mirror"].is_string(),
            "{name} is a mirror pod"
        );
        assert_eq!(p["spec"]["hostNetwork"], true, "{name}");
        let ready = p["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True");
        assert!(ready, "{name} is Ready: {}", p["status"]);
        assert_eq!(
            p["status"]["podIP"], p["status"]["hostIP"],
            "{name}: host network"
        );
    }
}

/// kube-doctor's role may GET the API server's /metrics, except in the managed mode.
#[test]
#[ignore = "needs the lab: lab/up"]
fn lab_metrics_access_matches_mode() {
    let out = Command::new(var("LAB_KUBECTL"))
        .args([
            "--kubeconfig",
            var("KUBECONFIG"),
            "get",
            "--raw",
            "/metrics",
        ])
        .output()
        .expect("run kubectl");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if managed() {
        assert!(
            !out.status.success(),
            "GET /metrics allowed in the managed mode"
        );
        assert!(
            stderr.contains("Forbidden") || stderr.contains("forbidden"),
            "{stderr}"
        );
    } else {
        assert!(out.status.success(), "GET /metrics: {stderr}");
        assert!(String::from_utf8_lossy(&out.stdout).contains("apiserver_request_total"));
    }
}

/// webhook-5xx makes the API server itself the failing client: its own
/// `rest_client_requests_total` counts HTTP 500 from the webhook, and the rule the lab's
/// Prometheus has for the API server's client errors fires for the API server's job
/// (kube-prometheus-stack: the chart's KubeClientErrors for job="apiserver"; plain: the 5xx
/// form of deploy/prometheus's rule for job="kube-apiserver"). Not in the managed mode, whose
/// Prometheus does not scrape the API server.
#[test]
#[ignore = "needs the lab: lab/up"]
fn lab_webhook_5xx_fails_the_api_servers_calls() {
    let job = if kps() { "apiserver" } else { "kube-apiserver" };
    let fault = Fault::inject("webhook-5xx");
    if managed() {
        // Still real: the client's writes fail with 500 from the API server.
        eventually(90, "the kube-rs client's writes fail with 500", || {
            let log = std::fs::read_to_string(format!(
                "{}/podlogs/demo-kubers/current.log",
                var("LAB_STATE")
            ))
            .unwrap_or_default();
            need(
                log.contains("failed calling webhook"),
                "no 'failed calling webhook' in the kube-rs client's log",
            )
        });
    } else {
        eventually(
            90,
            "the API server's own client counts 500s from the webhook",
            || {
                let q = format!(
                    r#"sum(increase(rest_client_requests_total{{job="{job}",code="500",host=~"policy-webhook.*|127.0.0.1:.*"}}[1m])) > 0"#
                );
                need(!prom_query(&q).is_empty(), format!("nothing for {q}"))
            },
        );
        // for: 1m in the lab, after the 5m rate window holds more than 1 % of 5xx.
        eventually(
            240,
            "KubeClientErrors fires for the API server's job",
            || {
                let q = format!(
                    r#"ALERTS{{alertname="KubeClientErrors",alertstate="firing",job="{job}"}}"#
                );
                let firing = prom_query(&q);
                need(!firing.is_empty(), format!("not firing: {q}"))?;
                need(
                    firing.iter().all(|a| {
                        a["metric"]["instance"]
                            .as_str()
                            .is_some_and(|i| !i.is_empty())
                    }),
                    format!("one alert per API server instance: {firing:?}"),
                )
            },
        );
    }
    drop(fault);
    std::thread::sleep(Duration::from_secs(30));
}
