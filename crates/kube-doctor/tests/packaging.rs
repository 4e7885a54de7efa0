//! What kube-doctor ships, checked as a user meets it: `--version`, completions, man pages,
//! the kubectl plugin, the Helm chart, the release archives, the OCI image, and `serve` run
//! in-cluster with only the chart's identity and RBAC.
//!
//! Groups, by what they need (scripts/test-packaging.sh provides it and runs them all):
//! - `offline_*`: nothing but this crate's binary; always run.
//! - `kubectl_*`: a kubectl (on PATH, or `LAB_KUBECTL`).
//! - `helm_*`: helm (`scripts/go-tool.sh helm` builds it; `HELM` names it).
//! - `release_*`, `image_*`: the output of `scripts/release.sh` and `scripts/build-image.sh`.
//! - `lab_*`: a running lab (`eval "$(lab/env)"`) and root (mount namespaces, chroot).

use std::borrow::BorrowMut;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

// ---------------------------------------------------------------------------------------------
// Helpers

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kube-doctor")
}

fn version() -> String {
    let toml = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    let ws = toml.split("[workspace.package]").nth(1).unwrap();
    ws.lines()
        .find_map(|l| l.strip_prefix("version = "))
        .unwrap()
        .trim_matches('"')
        .to_owned()
}

fn source_url() -> String {
    let env = std::fs::read_to_string(repo().join("scripts/release.env")).unwrap();
    let line = env.lines().find(|l| l.starts_with("SOURCE_URL=")).unwrap();
    line.rsplit(":-")
        .next()
        .unwrap()
        .trim_end_matches('}')
        .to_owned()
}

fn run(mut cmd: impl BorrowMut<Command>) -> Output {
    let cmd = cmd.borrow_mut();
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs and requires exit 0; returns stdout.
fn ok(mut cmd: impl BorrowMut<Command>) -> String {
    let cmd = cmd.borrow_mut();
    let out = run(&mut *cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("kd-packaging-")
        .tempdir()
        .unwrap()
}

fn git_head() -> Option<String> {
    let out = Command::new("git")
        .current_dir(repo())
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| text(&out.stdout).trim().to_owned())
}

fn helm() -> PathBuf {
    if let Ok(h) = std::env::var("HELM") {
        return PathBuf::from(h);
    }
    let out = ok(Command::new(repo().join("scripts/go-tool.sh")).arg("helm"));
    PathBuf::from(out.trim())
}

fn chart() -> PathBuf {
    repo().join("deploy/helm/kube-doctor")
}

/// `helm template` of the chart (release `kd`, namespace `kd-ns`) with these extra arguments,
/// parsed into its objects.
fn template(args: &[&str]) -> Vec<Value> {
    let out = ok(Command::new(helm())
        .args(["template", "kd"])
        .arg(chart())
        .args(["--namespace", "kd-ns"])
        .args(args));
    docs(&out)
}

fn docs(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(yaml)
        .unwrap_or_else(|e| panic!("not YAML: {e}\n{yaml}"))
        .into_iter()
        .filter(|v| !v.is_null())
        .collect()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| {
            let have: Vec<String> = objs
                .iter()
                .map(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]))
                .collect();
            panic!("no {kind} {name} among {have:?}")
        })
}

fn kinds(objs: &[Value]) -> Vec<String> {
    let mut k: Vec<String> = objs
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_owned())
        .collect();
    k.sort();
    k
}

fn container(objs: &[Value]) -> &Value {
    &find(objs, "Deployment", "kd-kube-doctor")["spec"]["template"]["spec"]["containers"][0]
}

fn args_of(objs: &[Value]) -> Vec<String> {
    container(objs)["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect()
}

fn kubectl() -> String {
    if let Ok(k) = std::env::var("LAB_KUBECTL") {
        return k;
    }
    let found = Command::new("sh")
        .args(["-c", "command -v kubectl"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| text(&o.stdout).trim().to_owned());
    found.expect("needs kubectl: on PATH, or LAB_KUBECTL (lab/env sets it)")
}

// ---------------------------------------------------------------------------------------------
// offline: --version, completions, man pages

#[test]
fn offline_version_names_the_commit() {
    let out = ok(Command::new(bin()).arg("--version"));
    let prefix = format!("kube-doctor {} (commit ", version());
    assert!(out.starts_with(&prefix), "--version says {out:?}");
    match git_head() {
        // Built from this work tree: the short hash of HEAD (dirty or not).
        Some(head) => assert!(
            out.contains(&format!("(commit {}", &head[..12])),
            "--version {out:?} does not name HEAD {head}"
        ),
        None => assert!(out.contains("(commit unknown)"), "{out:?}"),
    }
    // -V says the same.
    assert_eq!(ok(Command::new(bin()).arg("-V")), out);
}

#[test]
fn offline_bash_completion_completes_subcommands_and_flags() {
    let script = ok(Command::new(bin()).args(["completions", "bash"]));
    let dir = tempdir();
    let file = dir.path().join("kube-doctor.bash");
    std::fs::write(&file, script).unwrap();
    // What bash does on TAB: call the completion function with COMP_WORDS set.
    let complete = |words: &str| -> String {
        ok(Command::new("bash").arg("-c").arg(format!(
            "source {f}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}}-1)); \
             COMP_LINE=\"${{COMP_WORDS[*]}}\"; COMP_POINT=${{#COMP_LINE}}; \
             fn=$(complete -p kube-doctor | sed -n 's/.* -F \\([^ ]*\\) .*/\\1/p'); \
             \"$fn\" kube-doctor \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            f = file.display()
        )))
    };
    let subcommands = complete("kube-doctor in");
    assert_eq!(subcommands.trim(), "investigate", "{subcommands}");
    let flags = complete("kube-doctor serve --tok");
    assert_eq!(flags.trim(), "--token-file", "{flags}");
    let formats = complete("kube-doctor diagnose b.json -o ''");
    for f in ["text", "json", "markdown", "html"] {
        assert!(formats.lines().any(|l| l == f), "-o offers {formats:?}");
    }
    // The plugin's name: the same function under kubectl-client_doctor.
    let plugin = ok(Command::new(bin()).args([
        "completions",
        "bash",
        "--bin-name",
        "kubectl-client_doctor",
    ]));
    assert!(plugin.contains("kubectl-client_doctor"), "{plugin}");
}

#[test]
fn offline_zsh_fish_completions_and_bad_input() {
    let zsh = ok(Command::new(bin()).args(["completions", "zsh"]));
    assert!(zsh.starts_with("#compdef kube-doctor"), "{zsh:.80}");
    let fish = ok(Command::new(bin()).args(["completions", "fish"]));
    assert!(
        fish.contains(
            "complete -c kube-doctor -n \"__fish_kube_doctor_needs_command\" -f -a \"investigate\""
        ),
        "{fish}"
    );
    // An unknown shell: exit 2, one line naming the input and the choices.
    let out = run(Command::new(bin()).args(["completions", "tcsh"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("'tcsh'") && err.contains("bash"), "{err}");
    let out = run(Command::new(bin()).args(["completions", "bash", "--bin-name", "a b;rm"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("--bin-name"), "{err}");
}

#[test]
fn offline_man_pages_for_every_command() {
    let page = ok(Command::new(bin()).arg("man"));
    assert!(page.starts_with(".ie \\n(.g .ds Aq"), "{page:.120}");
    assert!(page.contains(".TH kube-doctor 1"), "{page:.400}");
    assert!(
        page.contains("investigate"),
        "the page lists the subcommands"
    );
    let dir = tempdir();
    ok(Command::new(bin())
        .args(["man", "--out-dir"])
        .arg(dir.path().join("man1")));
    for cmd in [
        "kube-doctor",
        "kube-doctor-investigate",
        "kube-doctor-collect",
        "kube-doctor-diagnose",
        "kube-doctor-clients",
        "kube-doctor-classify",
        "kube-doctor-serve",
        "kube-doctor-completions",
    ] {
        let f = dir.path().join("man1").join(format!("{cmd}.1"));
        let body = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(
            body.contains(&format!(".TH {cmd} 1")),
            "{cmd}.1: {body:.200}"
        );
    }
    // groff renders the serve page with its flags (the page a user reads with man).
    let groff = run(Command::new("groff")
        .args(["-man", "-Tutf8"])
        .arg(dir.path().join("man1/kube-doctor-serve.1")));
    if groff.status.success() {
        let shown = text(&groff.stdout);
        assert!(shown.contains("Address to listen on"), "{shown}");
        assert!(shown.contains("bearer token required on /api/*"), "{shown}");
    }
    // A directory that cannot be made: one line naming it, exit 2.
    let out = run(Command::new(bin()).args(["man", "--out-dir", "/proc/kube-doctor-man"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/proc/kube-doctor-man"));
}

// ---------------------------------------------------------------------------------------------
// kubectl plugin

#[test]
#[ignore = "needs kubectl (scripts/test-packaging.sh)"]
fn kubectl_plugin_runs_as_client_doctor() {
    let dir = tempdir();
    let link = dir.path().join("kubectl-client_doctor");
    std::os::unix::fs::symlink(bin(), &link).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let kubectl = kubectl();
    let version = ok(Command::new(&kubectl)
        .env("PATH", &path)
        .args(["client-doctor", "--version"]));
    assert_eq!(version, ok(Command::new(bin()).arg("--version")));
    let list = ok(Command::new(&kubectl)
        .env("PATH", &path)
        .args(["plugin", "list"]));
    assert!(list.contains(&link.display().to_string()), "{list}");
    // The real job through kubectl: diagnose the example bundle (exit 1: a problem found).
    let out = run(Command::new(&kubectl)
        .env("PATH", &path)
        .args(["client-doctor", "diagnose", "-o", "json"])
        .arg(repo().join("examples/incident-bundle.json")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["verdicts"][0]["cause"], "authorization");
}

// ---------------------------------------------------------------------------------------------
// helm chart

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_lint_is_clean_with_defaults_and_every_option() {
    for set in [
        vec![],
        vec![
            "--set",
            "serviceMonitor.enabled=true,prometheusRule.enabled=true,prometheusRule.forms={non2xx,5xx}",
            "--set",
            "prometheus.url=k8s://monitoring/prometheus-k8s:9090,cluster.name=prod-eu-1",
            "--set",
            "prometheus.bearerToken.existingSecret=prom-token,prometheus.tls.caSecret=prom-ca",
        ],
    ] {
        let out = ok(Command::new(helm())
            .args(["lint", "--strict"])
            .arg(chart())
            .args(&set));
        assert!(
            out.contains("1 chart(s) linted, 0 chart(s) failed"),
            "{out}"
        );
    }
}

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_defaults_render_a_locked_down_serve() {
    let objs = template(&[]);
    assert_eq!(
        kinds(&objs),
        [
            "ClusterRole",
            "ClusterRole",
            "ClusterRoleBinding",
            "ClusterRoleBinding",
            "Deployment",
            "Secret",
            "Service",
            "ServiceAccount"
        ],
        "defaults (no operator CRDs): no ServiceMonitor, PrometheusRule or AlertmanagerConfig"
    );
    let deploy = find(&objs, "Deployment", "kd-kube-doctor");
    let pod = &deploy["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "kd-kube-doctor");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["runAsUser"], 65532);
    let c = container(&objs);
    assert_eq!(c["image"], format!("kube-doctor:{}", version()));
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["resources"]["limits"]["memory"], "256Mi");
    assert_eq!(c["resources"]["requests"]["cpu"], "50m");
    // The token Secret, mounted where --token-file reads it.
    let secret = find(&objs, "Secret", "kd-kube-doctor-token");
    let token = secret["data"]["token"].as_str().unwrap();
    assert_eq!(token.len(), 64, "48 random characters, base64: {token}");
    assert_eq!(
        pod["volumes"][0]["secret"]["secretName"],
        "kd-kube-doctor-token"
    );
    assert_eq!(
        c["volumeMounts"][0]["mountPath"],
        "/var/run/kube-doctor/token"
    );
    let args = args_of(&objs);
    assert_eq!(
        &args[..3],
        [
            "serve",
            "--listen=0.0.0.0:8080",
            "--token-file=/var/run/kube-doctor/token/token"
        ]
    );
    // Optional flags only when set: the binary's own defaults otherwise.
    assert!(
        !args
            .iter()
            .any(|a| a.starts_with("--prometheus") || a.starts_with("--cluster")),
        "{args:?}"
    );
    // Every rendered flag is one `kube-doctor serve` accepts today.
    let help = ok(Command::new(bin()).args(["serve", "--help"]));
    for a in &args[1..] {
        let flag = a.split('=').next().unwrap();
        assert!(help.contains(flag), "serve has no {flag}");
    }
    // Service and bindings point at what the chart made.
    let svc = find(&objs, "Service", "kd-kube-doctor");
    assert_eq!(svc["spec"]["ports"][0]["targetPort"], "http");
    for name in ["kd-kube-doctor", "kd-kube-doctor-events"] {
        let b = find(&objs, "ClusterRoleBinding", name);
        assert_eq!(b["roleRef"]["name"], name);
        assert_eq!(b["subjects"][0]["name"], "kd-kube-doctor");
        assert_eq!(b["subjects"][0]["namespace"], "kd-ns");
    }
}

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_roles_read_and_create_events_only() {
    let objs = template(&[]);
    let read = find(&objs, "ClusterRole", "kd-kube-doctor");
    // "create" appears only for the two review APIs, which write nothing.
    for rule in read["rules"].as_array().unwrap() {
        for verb in rule["verbs"].as_array().unwrap() {
            let v = verb.as_str().unwrap();
            let reviews = rule["resources"].as_array().is_some_and(|r| {
                r.iter()
                    .all(|r| r == "tokenreviews" || r == "subjectaccessreviews")
            });
            assert!(
                v == "get" || v == "list" || (v == "create" && reviews),
                "a write in the read-only role: {rule}"
            );
        }
        // Secrets are got one by one, never listed.
        if rule["resources"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "secrets"))
        {
            assert_eq!(rule["verbs"], serde_json::json!(["get"]), "{rule}");
        }
    }
    let events = find(&objs, "ClusterRole", "kd-kube-doctor-events");
    assert_eq!(
        events["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["events"], "verbs": ["create"]}])
    );
    // serve.events=false: no events role, no binding, and serve is told not to try.
    let quiet = template(&["--set", "serve.events=false"]);
    assert!(
        !quiet
            .iter()
            .any(|o| o["metadata"]["name"] == "kd-kube-doctor-events")
    );
    assert!(args_of(&quiet).contains(&"--no-events".to_owned()));
    // The raw manifests in deploy/ are this chart, rendered (scripts/render-manifests.sh).
    ok(Command::new(repo().join("scripts/render-manifests.sh"))
        .arg("--check")
        .env("HELM", helm()));
}

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_prometheus_access_values_become_flags_and_mounts() {
    let objs = template(&[
        "--set",
        "prometheus.url=k8s://monitoring/prometheus-k8s:9090/prom",
        "--set",
        "prometheus.apiserverJob=apiserver,cluster.name=prod-eu-1,cluster.label=k8s_cluster",
        "--set",
        "prometheus.bearerToken.existingSecret=prom-token",
        "--set",
        "prometheus.basicAuth.existingSecret=prom-basic",
        "--set",
        "prometheus.tls.caSecret=prom-ca,prometheus.tls.clientCertSecret=prom-client",
        "--set",
        "prometheus.tls.insecureSkipVerify=true",
        "--set-json",
        r#"prometheus.headers=["X-Scope-OrgID: tenant-1","X-Extra: a: b"]"#,
        "--set",
        "serve.notifyWebhook.existingSecret=slack",
        "--set",
        "token.existingSecret=my-token,token.key=bearer",
    ]);
    let args = args_of(&objs);
    for want in [
        "--prometheus=k8s://monitoring/prometheus-k8s:9090/prom",
        "--apiserver-job=apiserver",
        "--cluster=prod-eu-1",
        "--cluster-label=k8s_cluster",
        "--prometheus-bearer-token-file=/var/run/kube-doctor/prometheus/bearer-token/token",
        "--prometheus-basic-auth-file=/var/run/kube-doctor/prometheus/basic-auth/auth",
        "--prometheus-ca-file=/var/run/kube-doctor/prometheus/ca/ca.crt",
        "--prometheus-cert-file=/var/run/kube-doctor/prometheus/client-cert/tls.crt",
        "--prometheus-key-file=/var/run/kube-doctor/prometheus/client-cert/tls.key",
        "--prometheus-insecure-skip-tls-verify",
        "--prometheus-header=X-Scope-OrgID: tenant-1",
        "--prometheus-header=X-Extra: a: b",
        "--notify-webhook=$(KUBE_DOCTOR_NOTIFY_WEBHOOK)",
        "--token-file=/var/run/kube-doctor/token/bearer",
    ] {
        assert!(args.iter().any(|a| a == want), "no {want} in {args:?}");
    }
    let c = container(&objs);
    let env = c["env"].as_array().unwrap();
    assert!(env.iter().any(|e| e["name"] == "KUBE_DOCTOR_NOTIFY_WEBHOOK"
        && e["valueFrom"]["secretKeyRef"]["name"] == "slack"));
    let pod = &find(&objs, "Deployment", "kd-kube-doctor")["spec"]["template"]["spec"];
    let mounts: Vec<&str> = c["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    for dir in ["bearer-token", "basic-auth", "ca", "client-cert"] {
        assert!(
            mounts.contains(&format!("/var/run/kube-doctor/prometheus/{dir}").as_str()),
            "{mounts:?}"
        );
    }
    let secrets: Vec<&str> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["secret"]["secretName"].as_str().unwrap())
        .collect();
    assert_eq!(
        secrets,
        [
            "my-token",
            "prom-token",
            "prom-basic",
            "prom-ca",
            "prom-client"
        ]
    );
    // With an existing token Secret the chart makes none.
    assert!(!objs.iter().any(|o| o["kind"] == "Secret"));
}

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_schema_refuses_bad_values_naming_them() {
    for (set, names) in [
        ("serve.threshold=2", "threshold"),
        ("serve.wokers=3", "wokers"),
        ("prometheus.url=ftp://prometheus", "url"),
        ("serve.cooldown=five minutes", "cooldown"),
        ("prometheusRule.forms={4xx}", "forms"),
        ("image.digest=latest", "digest"),
    ] {
        let out = run(Command::new(helm())
            .args(["template", "kd"])
            .arg(chart())
            .args(["--set", set]));
        assert!(!out.status.success(), "{set} was accepted");
        let err = text(&out.stderr);
        assert!(
            err.contains("values don't meet the specifications of the schema"),
            "{set}: {err}"
        );
        assert!(
            err.contains(names),
            "{set}: the error does not name {names}: {err}"
        );
    }
}

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_operator_objects_follow_values_and_capabilities() {
    // Without the operator's v1alpha1 API: no AlertmanagerConfig, even when enabled.
    let plain = template(&["--set", "alertmanagerConfig.enabled=true"]);
    assert!(!plain.iter().any(|o| o["kind"] == "AlertmanagerConfig"));
    // With it: routes KubeClientErrors to the Service with the token Secret.
    let objs = template(&[
        "--api-versions",
        "monitoring.coreos.com/v1alpha1",
        "--set",
        "serviceMonitor.enabled=true,serviceMonitor.labels.release=kps",
        "--set",
        "prometheusRule.enabled=true,prometheusRule.forms={non2xx,5xx},prometheusRule.for=3m",
    ]);
    let amc = find(&objs, "AlertmanagerConfig", "kd-kube-doctor");
    let hook = &amc["spec"]["receivers"][0]["webhookConfigs"][0];
    assert_eq!(
        hook["url"],
        "http://kd-kube-doctor.kd-ns.svc:8080/api/alerts"
    );
    assert_eq!(
        hook["httpConfig"]["authorization"]["credentials"]["name"],
        "kd-kube-doctor-token"
    );
    assert_eq!(
        amc["spec"]["route"]["matchers"][0]["value"],
        "KubeClientErrors"
    );
    let sm = find(&objs, "ServiceMonitor", "kd-kube-doctor");
    assert_eq!(sm["metadata"]["labels"]["release"], "kps");
    assert_eq!(sm["spec"]["endpoints"][0]["port"], "http");
    // The rule's expressions are those of deploy/prometheus/kubeclienterrors.rules.yaml.
    let rule = find(&objs, "PrometheusRule", "kd-kube-doctor-kubeclienterrors");
    let ours = rule["spec"]["groups"][0]["rules"].as_array().unwrap();
    let shipped: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(repo().join("deploy/prometheus/kubeclienterrors.rules.yaml"))
            .unwrap(),
    )
    .unwrap();
    let shipped = shipped["groups"][0]["rules"].as_array().unwrap();
    assert_eq!(ours.len(), 2);
    for r in ours {
        let form = &r["labels"]["form"];
        let same = shipped
            .iter()
            .find(|s| s["labels"]["form"] == *form)
            .unwrap();
        assert_eq!(r["expr"], same["expr"], "form {form}");
        assert_eq!(
            r["annotations"]["description"],
            same["annotations"]["description"]
        );
        assert_eq!(r["for"], "3m");
    }
}

/// NOTES.txt as `helm install` prints it. `helm install --dry-run` needs a cluster even on the
/// client side, so the chart is copied with NOTES.txt as a template and rendered alone
/// (`--debug`, since it is text, not YAML).
fn notes(args: &[&str]) -> String {
    let dir = tempdir();
    let copy = dir.path().join("kube-doctor");
    ok(Command::new("cp").arg("-r").arg(chart()).arg(&copy));
    std::fs::copy(
        copy.join("templates/NOTES.txt"),
        copy.join("templates/notes.yaml"),
    )
    .unwrap();
    let out = run(Command::new(helm())
        .args(["template", "kd"])
        .arg(&copy)
        .args([
            "--namespace",
            "kd-ns",
            "--debug",
            "--show-only",
            "templates/notes.yaml",
        ])
        .args(args));
    let rendered = text(&out.stdout);
    rendered
        .split("# Source: kube-doctor/templates/notes.yaml\n")
        .nth(1)
        .unwrap_or_else(|| panic!("NOTES did not render: {}", text(&out.stderr)))
        .to_owned()
}

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_notes_give_the_alertmanager_snippet_without_the_operator() {
    let plain = notes(&[]);
    assert!(
        plain.contains("url: http://kd-kube-doctor.kd-ns.svc:8080/api/alerts"),
        "{plain}"
    );
    assert!(
        plain.contains("matchers: [alertname=\"KubeClientErrors\"]"),
        "{plain}"
    );
    // The snippet is valid YAML of the shape alertmanager.yml takes.
    let snippet: String = plain
        .lines()
        .skip_while(|l| !l.starts_with("route:"))
        .collect::<Vec<_>>()
        .join("\n");
    let parsed: Value =
        serde_saphyr::from_str(&snippet).unwrap_or_else(|e| panic!("{e}: {snippet}"));
    assert_eq!(parsed["receivers"][0]["name"], "kube-doctor");
    assert_eq!(parsed["route"]["routes"][0]["receiver"], "kube-doctor");
    assert_eq!(
        parsed["receivers"][0]["webhook_configs"][0]["http_config"]["authorization"]["type"],
        "Bearer"
    );
    // With the operator: the AlertmanagerConfig, and what the operator needs to route to it.
    let operator = notes(&["--api-versions", "monitoring.coreos.com/v1alpha1"]);
    assert!(
        operator.contains("AlertmanagerConfig kd-ns/kd-kube-doctor"),
        "{operator}"
    );
    assert!(
        operator.contains("alertmanagerConfigMatcherStrategy: {type: None}"),
        "{operator}"
    );
    assert!(!operator.contains("route:"), "{operator}");
}

#[test]
#[ignore = "needs helm (scripts/go-tool.sh helm)"]
fn helm_chart_versions_and_source_agree_with_the_workspace() {
    let chart_yaml: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(chart().join("Chart.yaml")).unwrap())
            .unwrap();
    assert_eq!(chart_yaml["version"], version());
    assert_eq!(chart_yaml["appVersion"], version());
    assert_eq!(chart_yaml["home"], source_url());
    assert_eq!(chart_yaml["sources"][0], source_url());
}

// ---------------------------------------------------------------------------------------------
// release archives (scripts/release.sh) and the image (scripts/build-image.sh)

fn dist() -> PathBuf {
    repo().join("target/dist")
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// name -> (mode, uid, bytes) of every entry of a tar (gzip when `gz`).
fn tar_entries(bytes: &[u8], gz: bool) -> std::collections::BTreeMap<String, (u32, u64, Vec<u8>)> {
    let reader: Box<dyn std::io::Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(bytes))
    } else {
        Box::new(bytes)
    };
    let mut archive = tar::Archive::new(reader);
    let mut out = std::collections::BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let name = path
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_owned();
        let mode = entry.header().mode().unwrap();
        let uid = entry.header().uid().unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        out.insert(name, (mode, uid, data));
    }
    out
}

#[test]
#[ignore = "needs scripts/release.sh"]
fn release_archive_checksums_and_krew_manifest() {
    let v = version();
    let sums = std::fs::read_to_string(dist().join(format!("kube-doctor-{v}-SHA256SUMS")))
        .expect("run scripts/release.sh first");
    let name = format!("kube-doctor-{v}-x86_64-unknown-linux-musl.tar.gz");
    let bytes = std::fs::read(dist().join(&name)).unwrap();
    let sum = sha256_hex(&bytes);
    assert!(
        sums.lines().any(|l| l == format!("{sum}  {name}")),
        "{sums}"
    );
    // sha256sum -c agrees.
    ok(Command::new("sha256sum")
        .current_dir(dist())
        .args(["-c", &format!("kube-doctor-{v}-SHA256SUMS")]));
    let files = tar_entries(&bytes, true);
    let (mode, uid, exe) = &files["kube-doctor"];
    assert_eq!((mode & 0o777, *uid), (0o755, 0));
    assert!(exe.starts_with(b"\x7fELF"));
    for f in [
        "README.md",
        "completions/kube-doctor.bash",
        "completions/_kube-doctor",
        "completions/kube-doctor.fish",
        "man/kube-doctor.1",
        "man/kube-doctor-serve.1",
    ] {
        assert!(
            files.contains_key(f),
            "{f} not in {name}: {:?}",
            files.keys()
        );
    }
    // The krew manifest names this archive by its checksum, with nothing left unfilled.
    let manifest = std::fs::read_to_string(dist().join("client-doctor.yaml")).unwrap();
    assert!(!manifest.contains('@'), "unfilled placeholder: {manifest}");
    let krew: Value = serde_saphyr::from_str(&manifest).unwrap();
    assert_eq!(krew["metadata"]["name"], "client-doctor");
    assert_eq!(krew["spec"]["version"], format!("v{v}"));
    let amd64 = krew["spec"]["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["selector"]["matchLabels"]["arch"] == "amd64")
        .unwrap();
    assert_eq!(amd64["sha256"], sum);
    assert!(amd64["uri"].as_str().unwrap().ends_with(&name));
    assert_eq!(amd64["bin"], "kube-doctor");
}

#[test]
#[ignore = "needs scripts/release.sh and krew (scripts/go-tool.sh krew)"]
fn release_krew_installs_the_plugin_from_the_archive() {
    let krew = std::env::var("KREW")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(ok(Command::new(repo().join("scripts/go-tool.sh")).arg("krew")).trim())
        });
    let v = version();
    let root = tempdir();
    // What `kubectl krew install` does, from the local archive instead of the release URL.
    ok(Command::new(&krew)
        .env("KREW_ROOT", root.path())
        .arg("install")
        .arg(format!(
            "--manifest={}",
            dist().join("client-doctor.yaml").display()
        ))
        .arg(format!(
            "--archive={}",
            dist()
                .join(format!("kube-doctor-{v}-x86_64-unknown-linux-musl.tar.gz"))
                .display()
        )));
    let plugin = root.path().join("bin/kubectl-client_doctor");
    let out = ok(Command::new(&plugin).arg("--version"));
    assert!(
        out.starts_with(&format!("kube-doctor {v} (commit ")),
        "{out}"
    );
    // krew's record of it (`krew list` would need the index from the network).
    let receipt = std::fs::read_to_string(root.path().join("receipts/client-doctor.yaml")).unwrap();
    assert!(receipt.contains(&format!("version: v{v}")), "{receipt}");
}

fn image_archive() -> Vec<u8> {
    std::fs::read(repo().join(format!("target/image/kube-doctor-{}-oci.tar", version())))
        .expect("run scripts/build-image.sh first")
}

#[test]
#[ignore = "needs scripts/build-image.sh"]
fn image_config_user_entrypoint_labels_and_digests() {
    let layout = tar_entries(&image_archive(), false);
    assert_eq!(
        serde_json::from_slice::<Value>(&layout["oci-layout"].2).unwrap()["imageLayoutVersion"],
        "1.0.0"
    );
    let blob = |digest: &str| -> &Vec<u8> {
        let hex = digest.strip_prefix("sha256:").unwrap();
        let data = &layout[&format!("blobs/sha256/{hex}")].2;
        assert_eq!(
            sha256_hex(data),
            hex,
            "blob {digest} does not match its digest"
        );
        data
    };
    let index: Value = serde_json::from_slice(&layout["index.json"].2).unwrap();
    let m = &index["manifests"][0];
    assert_eq!(
        m["annotations"]["org.opencontainers.image.ref.name"],
        version()
    );
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    let manifest: Value = serde_json::from_slice(blob(m["digest"].as_str().unwrap())).unwrap();
    assert_eq!(manifest["schemaVersion"], 2);
    let config: Value =
        serde_json::from_slice(blob(manifest["config"]["digest"].as_str().unwrap())).unwrap();
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["os"], "linux");
    let c = &config["config"];
    assert_eq!(c["User"], "65532:65532");
    assert_eq!(
        c["Entrypoint"],
        serde_json::json!(["/usr/local/bin/kube-doctor"])
    );
    let labels = &c["Labels"];
    assert_eq!(labels["org.opencontainers.image.version"], version());
    assert_eq!(labels["org.opencontainers.image.source"], source_url());
    let revision = labels["org.opencontainers.image.revision"]
        .as_str()
        .unwrap();
    match git_head() {
        Some(head) => assert!(
            revision.starts_with(&head),
            "revision {revision}, HEAD {head}"
        ),
        None => assert_eq!(revision, "unknown"),
    }
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.version"],
        version()
    );
    // One layer; its files are those of a distroless-static-like base and the binary.
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{manifest}");
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    let layer = blob(layers[0]["digest"].as_str().unwrap());
    // The config's diff_id is the digest of the uncompressed layer.
    let mut raw = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&layer[..]), &mut raw).unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"][0],
        format!("sha256:{}", sha256_hex(&raw))
    );
    let files = tar_entries(&raw, false);
    let (mode, uid, exe) = &files["usr/local/bin/kube-doctor"];
    assert_eq!((mode & 0o7777, *uid), (0o755, 0));
    assert!(exe.starts_with(b"\x7fELF"));
    let passwd = text(&files["etc/passwd"].2);
    assert!(
        passwd
            .lines()
            .any(|l| l.starts_with("nonroot:x:65532:65532:")),
        "{passwd}"
    );
    let certs = text(&files["etc/ssl/certs/ca-certificates.crt"].2);
    assert!(
        certs.matches("BEGIN CERTIFICATE").count() > 100,
        "Debian ships ~140 roots"
    );
    assert_eq!(files["tmp"].0 & 0o7777, 0o1777);
    assert_eq!(files["home/nonroot"].1, 65532);
    // No shell, no package manager, no libc: nothing else in bin/ or lib/.
    for name in files.keys() {
        assert!(
            !(name.starts_with("bin")
                || name.starts_with("sbin")
                || name.starts_with("lib")
                || name.starts_with("usr/bin")
                || name.starts_with("usr/lib")),
            "{name} in the image"
        );
    }
}

/// Runs the image's binary from its unpacked root file system, chrooted, as user 65532.
fn in_rootfs(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let rootfs = repo().join("target/image/rootfs");
    assert!(
        rootfs.join("usr/local/bin/kube-doctor").exists(),
        "run scripts/build-image.sh first"
    );
    let mut cmd = Command::new("/usr/sbin/chroot");
    cmd.arg("--userspec=65532:65532")
        .arg(&rootfs)
        .args(args)
        .env_clear()
        .env("PATH", "/usr/local/bin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("chroot (needs root)");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(data) = stdin {
        pipe.write_all(data).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

#[test]
#[ignore = "needs scripts/build-image.sh and root"]
fn image_rootfs_runs_version_and_diagnose() {
    let out = in_rootfs(&["/usr/local/bin/kube-doctor", "--version"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with(&format!("kube-doctor {} (commit ", version())));
    let bundle = std::fs::read(repo().join("examples/incident-bundle.json")).unwrap();
    let out = in_rootfs(
        &["/usr/local/bin/kube-doctor", "diagnose", "-", "-o", "json"],
        Some(&bundle),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema"], "kube-doctor/report/v1");
    assert_eq!(report["verdicts"][0]["cause"], "authorization");
    // No shell to fall back on.
    let out = in_rootfs(&["/bin/sh", "-c", "true"], None);
    assert!(!out.status.success());
}

#[test]
#[ignore = "needs scripts/build-image.sh"]
fn image_sbom_lists_the_crates_and_the_debian_package() {
    let path = repo().join(format!("target/image/kube-doctor-{}.cdx.json", version()));
    let sbom: Value =
        serde_json::from_slice(&std::fs::read(&path).expect("run scripts/build-image.sh")).unwrap();
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["metadata"]["component"]["name"], "kube-doctor");
    let components = sbom["components"].as_array().unwrap();
    let lock = std::fs::read_to_string(repo().join("Cargo.lock")).unwrap();
    for krate in [
        "kube-client",
        "rustls",
        "ring",
        "tokio",
        "axum",
        "kube-doctor-core",
    ] {
        let c = components
            .iter()
            .find(|c| c["name"] == krate)
            .unwrap_or_else(|| panic!("{krate} not in the SBOM"));
        let v = c["version"].as_str().unwrap();
        assert!(
            lock.contains(&format!("name = \"{krate}\"\nversion = \"{v}\"")),
            "{krate} {v} is not the version in Cargo.lock"
        );
    }
    assert!(components.iter().any(|c| {
        c["name"] == "ca-certificates"
            && c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/debian/ca-certificates@"))
    }));
}

// ---------------------------------------------------------------------------------------------
// against the lab

fn var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: eval \"$(lab/env)\" first"))
}

#[test]
#[ignore = "needs the lab with the prometheus-operator CRDs (scripts/test-packaging.sh --lab)"]
fn lab_chart_applies_server_side() {
    let kubeconfig = var("LAB_ADMIN_KUBECONFIG");
    // Capabilities from the lab's API server (--validate asks it), all options on.
    for extra in [
        vec![],
        vec![
            "--set",
            "serviceMonitor.enabled=true,prometheusRule.enabled=true,prometheusRule.forms={non2xx,5xx}",
            "--set",
            "prometheus.url=k8s://monitoring/prometheus-k8s:9090,cluster.name=lab",
            "--set",
            "prometheus.bearerToken.existingSecret=prom-token,prometheus.tls.caSecret=prom-ca",
            "--set",
            "serve.notifyWebhook.existingSecret=slack,serve.events=false",
        ],
    ] {
        let rendered = ok(Command::new(helm())
            .args(["template", "kd-dryrun"])
            .arg(chart())
            .args([
                "--namespace",
                "default",
                "--validate",
                "--kubeconfig",
                &kubeconfig,
            ])
            .args(&extra));
        let objs = docs(&rendered);
        assert!(
            objs.iter().any(|o| o["kind"] == "AlertmanagerConfig"),
            "the lab has monitoring.coreos.com/v1alpha1: an AlertmanagerConfig is expected"
        );
        let mut child = Command::new(kubectl())
            .args([
                "--kubeconfig",
                &kubeconfig,
                "apply",
                "--dry-run=server",
                "-f",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(rendered.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "server-side dry run: {}",
            text(&out.stderr)
        );
        let applied = text(&out.stdout);
        // "clusterrole.rbac.authorization.k8s.io/NAME created (server dry run)", one per object.
        for o in &objs {
            let kind = o["kind"].as_str().unwrap().to_lowercase();
            let tail = format!(
                "/{} created (server dry run)",
                o["metadata"]["name"].as_str().unwrap()
            );
            assert!(
                applied.lines().any(|l| l.ends_with(&tail)
                    && (l.starts_with(&format!("{kind}/")) || l.starts_with(&format!("{kind}.")))),
                "{kind}{tail} not in: {applied}"
            );
        }
    }
}

/// `scripts/serve-incluster.sh stop` when dropped.
struct InCluster(PathBuf);
impl Drop for InCluster {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/serve-incluster.sh"))
            .arg("stop")
            .arg(&self.0)
            .status();
    }
}

fn http(method: &str, url: &str, token: Option<&str>) -> Result<String, String> {
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--max-time",
        "10",
        "-X",
        method,
        "-w",
        "\n%{http_code}",
    ]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    let out = cmd.arg(url).output().map_err(|e| e.to_string())?;
    let body = text(&out.stdout);
    let (body, code) = body.rsplit_once('\n').unwrap_or(("", "000"));
    if code.starts_with('2') {
        Ok(body.to_owned())
    } else {
        Err(format!(
            "{method} {url}: HTTP {code}: {body}{}",
            text(&out.stderr)
        ))
    }
}

#[test]
#[ignore = "needs the lab, root and scripts/build-image.sh (scripts/test-packaging.sh --lab)"]
fn lab_serve_in_cluster_with_the_charts_identity_diagnoses_a_fault() {
    let state = repo().join("target/lab-artifacts/incluster");
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(&state).unwrap();
    let guard = InCluster(state.clone());
    ok(Command::new(repo().join("scripts/serve-incluster.sh"))
        .arg("start")
        .arg(&state));
    let read = |f: &str| {
        std::fs::read_to_string(state.join(f))
            .unwrap()
            .trim()
            .to_owned()
    };
    let base = read("base-url");
    let token = read("alert-token");
    let sa_user = read("sa-user");
    let started = jiff::Timestamp::now();

    // A real fault; the lab's real Prometheus and Alertmanager drive serve.
    let fault = repo().join("lab/fault");
    ok(Command::new(&fault).arg("rbac-revoked"));
    struct Clear(PathBuf);
    impl Drop for Clear {
        fn drop(&mut self) {
            let _ = Command::new(&self.0)
                .args(["clear", "rbac-revoked"])
                .status();
        }
    }
    let _clear = Clear(fault);

    let deadline = Instant::now() + Duration::from_secs(300);
    let report = loop {
        assert!(
            Instant::now() < deadline,
            "no report on demo-kubers within 5 minutes; serve log: {}",
            state.join("serve.log").display()
        );
        std::thread::sleep(Duration::from_secs(10));
        let list: Value = serde_json::from_str(
            &http("GET", &format!("{base}/api/reports"), Some(&token)).unwrap(),
        )
        .unwrap();
        let hit = list.as_array().unwrap().iter().find_map(|s| {
            let full: Value = serde_json::from_str(
                &http(
                    "GET",
                    &format!("{base}/api/reports/{}", s["id"].as_str()?),
                    Some(&token),
                )
                .ok()?,
            )
            .ok()?;
            let r = full.get("report").filter(|r| !r.is_null())?;
            let about = r["clients"]
                .as_array()?
                .iter()
                .any(|c| c["target"]["name"] == "demo-kubers");
            about.then(|| full.clone())
        });
        if let Some(h) = hit {
            break h;
        }
    };
    std::fs::write(state.join("report.json"), report.to_string()).unwrap();
    let r = &report["report"];
    assert_eq!(r["verdicts"][0]["cause"], "authorization", "{r}");
    for step in r["steps"].as_array().unwrap() {
        assert!(
            step["status"] != "forbidden" && step["status"] != "failed",
            "step {} was {} under the chart's RBAC: {}",
            step["step"],
            step["status"],
            step["note"]
        );
    }
    // The Event on the pod, created as the chart's ServiceAccount.
    let events: Value = serde_json::from_str(&ok(Command::new(kubectl())
        .args([
            "--kubeconfig",
            &var("LAB_ADMIN_KUBECONFIG"),
            "-n",
            "demo",
            "get",
            "events",
        ])
        .args([
            "--field-selector",
            "reason=KubeDoctorDiagnosis,involvedObject.name=demo-kubers",
            "-o",
            "json",
        ])))
    .unwrap();
    assert!(
        events["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["eventTime"]
                .as_str()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                .is_some_and(|t| t >= started)),
        "no new KubeDoctorDiagnosis Event on demo-kubers: {events}"
    );
    // The API server's audit log: every request of the chart's ServiceAccount was allowed,
    // and the only writes were Events (the two reviews write nothing).
    drop(guard);
    let audit = std::fs::read_to_string(var("LAB_AUDIT_LOG")).unwrap();
    let mut seen = 0;
    for line in audit.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if e["user"]["username"] != sa_user.as_str() || e["stage"] != "ResponseComplete" {
            continue;
        }
        seen += 1;
        let code = e["responseStatus"]["code"].as_u64().unwrap_or(0);
        let resource = e["objectRef"]["resource"].as_str().unwrap_or("");
        assert_ne!(
            code, 403,
            "forbidden for the chart's ServiceAccount: {line}"
        );
        let verb = e["verb"].as_str().unwrap_or("");
        if !matches!(verb, "get" | "list" | "watch") {
            assert!(
                verb == "create"
                    && matches!(
                        resource,
                        "events"
                            | "tokenreviews"
                            | "subjectaccessreviews"
                            | "selfsubjectaccessreviews"
                            | "selfsubjectrulesreviews"
                    ),
                "a write other than an Event: {line}"
            );
        }
    }
    assert!(seen > 10, "only {seen} audited requests from {sa_user}");
}
