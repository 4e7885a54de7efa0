//! The real binary on inputs that need no cluster: recorded bundles, an API server and a
//! Prometheus that are not there, and bad input. Exit codes and the one-line messages are the
//! contract (DESIGN.md "Exit codes").

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kube-doctor"))
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn run(args: &[&str]) -> Output {
    bin()
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run kube-doctor")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A kubeconfig in its own temporary directory (`kd-cli-TAG-PID`) whose API server is
/// 127.0.0.1:1, where nothing answers, with a token that is not real and these `contexts`
/// (the first is the current one).
fn dead_kubeconfig(tag: &str, contexts: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kd-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    let listed: Vec<String> = contexts
        .iter()
        .map(|c| format!("{{name: {c}, context: {{cluster: c, user: u}}}}"))
        .collect();
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: \"https://127.0.0.1:1\"}}}}]\nusers: [{{name: u, user: {{token: not-a-real-token}}}}]\ncontexts: [{}]\ncurrent-context: {}\n",
            listed.join(", "),
            contexts[0]
        ),
    )
    .unwrap();
    kubeconfig
}

fn one_line_error(o: &Output) -> String {
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "exit 2: {err}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    assert!(lines[0].starts_with("kube-doctor: error: "), "{err}");
    lines[0].to_string()
}

#[test]
fn the_shipped_example_is_diagnosed() {
    let o = run(&[
        "diagnose",
        repo("examples/incident-bundle.json").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("authorization"));
}

#[test]
fn an_old_bundle_judged_at_another_threshold_needs_no_cluster() {
    let bundle = repo("crates/kube-doctor-core/tests/fixtures/bundles/rbac-revoked.json");
    let o = run(&[
        "diagnose",
        "--threshold",
        "0.9",
        bundle.to_str().unwrap(),
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["outcome"]["state"], "clean");
    assert_eq!(r["verdicts"].as_array().map(Vec::len), Some(0));
}

#[test]
fn a_bundle_without_client_rates_is_blind_not_healthy() {
    let bundle = repo("crates/kube-doctor-core/tests/fixtures/bundles/healthy.json");
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(bundle).unwrap()).unwrap();
    for s in v["steps"].as_array_mut().unwrap() {
        if s["step"] == 3 {
            s["status"] = "failed".into();
            s["note"] =
                "Prometheus at http://prometheus:9090 is unreachable: connection refused".into();
        }
    }
    v["clients"] = serde_json::Value::Null;
    let dir = std::env::temp_dir().join(format!("kd-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("blind.json");
    std::fs::write(&path, v.to_string()).unwrap();
    for format in ["text", "markdown", "html", "json"] {
        let o = run(&["diagnose", path.to_str().unwrap(), "-o", format]);
        let out = text(&o.stdout);
        assert_eq!(o.status.code(), Some(2), "{format}: {}", text(&o.stderr));
        assert!(!out.contains("No problem diagnosed"), "{format}: {out}");
        assert!(!out.contains("No API client is over"), "{format}: {out}");
        assert!(
            out.contains("unreachable"),
            "{format}: the reason is named: {out}"
        );
        let err = text(&o.stderr);
        assert!(err.starts_with("kube-doctor: nothing can be said"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

/// kube-doctor is an API client too: no API server and no Prometheus is a finding about the
/// API server (exit 1), named, fast, with kube-doctor's own words first on stderr.
#[test]
fn nothing_answering_is_reported_not_called_healthy() {
    let kubeconfig = dead_kubeconfig("dead", &["x"]);
    for prometheus in ["http://127.0.0.1:2", "none"] {
        let started = Instant::now();
        let o = run(&[
            "investigate",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--prometheus",
            prometheus,
            "--since",
            "5m",
        ]);
        let out = text(&o.stdout);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{prometheus}: {out}{err}");
        assert!(!out.contains("No problem diagnosed"), "{out}");
        assert!(out.contains("kube-doctor itself gets no answer"), "{out}");
        assert!(out.contains("Connection refused"), "which failure: {out}");
        assert!(!err.contains("kube_client"), "library logs stay out: {err}");
        assert!(err.starts_with("kube-doctor: "), "{err}");
        assert!(!err.contains("not-a-real-token") && !out.contains("not-a-real-token"));
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{prometheus}: took {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn bad_input_gets_one_line_naming_it() {
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["diagnose", "/nonexistent/bundle.json"],
            "/nonexistent/bundle.json",
        ),
        (vec!["diagnose", "Cargo.toml"], "not a kube-doctor bundle"),
        (
            vec![
                "investigate",
                "--threshold",
                "2",
                "--kubeconfig",
                "/nonexistent",
            ],
            "--threshold 2",
        ),
        (
            vec![
                "investigate",
                "--prometheus",
                "prometheus:9090",
                "--kubeconfig",
                "/nonexistent",
            ],
            "--prometheus",
        ),
        (
            vec!["investigate", "--kubeconfig", "/nonexistent/kubeconfig"],
            "/nonexistent/kubeconfig",
        ),
        (
            vec![
                "investigate",
                "--since",
                "0s",
                "--kubeconfig",
                "/nonexistent",
            ],
            "--since",
        ),
    ];
    for (args, names) in cases {
        let o = bin().args(&args).current_dir(repo(".")).output().unwrap();
        let line = one_line_error(&o);
        assert!(line.contains(names), "{args:?}: {line}");
    }
}

/// The review's flag cases against the real binary: one line on stderr, exit 2, naming the
/// flag and the value and what to give; never clap's usage block or a panic.
#[test]
fn bad_flag_values_get_one_line_naming_the_flag_and_what_to_give() {
    let bundle = repo("examples/incident-bundle.json");
    let bundle = bundle.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (
            vec!["diagnose", bundle, "--threshold", "2"],
            &["--threshold 2:", "write 2%"],
        ),
        (
            vec!["diagnose", bundle, "--threshold", "1"],
            &["--threshold 1:", "100 %", "write 1%", "0.01"],
        ),
        (
            vec!["clients", "--since", "-5m"],
            &["--since -5m:", "negative", "15m"],
        ),
        (
            vec!["clients", "--since", "5"],
            &["--since 5:", "write 5s, 5m or 5h"],
        ),
        (
            vec![
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--max-connections",
                "-1",
            ],
            &["--max-connections -1:", "at least 1"],
        ),
        (
            vec!["classify", "--max-line-bytes", "0"],
            &["--max-line-bytes 0:", "1MiB"],
        ),
        (
            vec!["clients", "--since", "abc"],
            &["--since abc:", "a number and a unit", "15m"],
        ),
        (
            vec![
                "clients",
                "--kubeconfig",
                "/nonexistent/kc",
                "--prometheus",
                "none",
            ],
            &["kubeconfig /nonexistent/kc: No such file"],
        ),
        (
            vec!["collect", "--out", "b.json", "--step-timeout", "0s"],
            &["--step-timeout 0s:", "longer than 0"],
        ),
        (
            vec!["diagnose", bundle, "--server-window", "2d"],
            &["--server-window", "at most 24h"],
        ),
    ];
    for (args, wanted) in cases {
        let o = run(&args);
        let line = one_line_error(&o);
        for w in wanted {
            assert!(line.contains(w), "{args:?}: {w:?} in {line}");
        }
        assert!(!line.contains("panicked"), "{line}");
    }
    // A percentage is a threshold too: 1% is the alert's own.
    let o = run(&["diagnose", bundle, "--threshold", "1%"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
}

#[test]
fn an_oversized_bundle_is_refused_before_it_is_read() {
    let dir = std::env::temp_dir().join(format!("kd-cli-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.json");
    let f = std::fs::File::create(&path).unwrap();
    // Sparse: no disk is used.
    f.set_len(2 * 1024 * 1024 * 1024).unwrap();
    let started = Instant::now();
    let o = run(&["diagnose", path.to_str().unwrap()]);
    let line = one_line_error(&o);
    assert!(line.contains("too big for a kube-doctor bundle"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(2));
    std::fs::remove_file(&path).unwrap();
}

/// A reader that goes away after one line (`2>&1 | head -1`) ends the run quietly by SIGPIPE,
/// as it ends grep: no panic written to the closed pipe, no exit 101 (seen: the error about the
/// broken stdout, printed to the same closed pipe, panicked).
#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let dir = std::env::temp_dir().join(format!("kd-pipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("big.log");
    // Far more output than a pipe's 64 KiB buffer holds.
    let line = "E1129 10:00:00.000000       1 reflector.go:158] pods is forbidden: User \"system:serviceaccount:demo:x\" cannot list resource \"pods\" in API group \"\" in the namespace \"demo\"\n";
    std::fs::write(&log, line.repeat(20_000)).unwrap();
    let script = format!(
        "{} classify {} 2>&1 | head -1 >/dev/null; echo \"exit=${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_kube-doctor"),
        log.display()
    );
    let out = std::process::Command::new("bash")
        .args(["-c", &script])
        .output()
        .expect("bash");
    let said = text(&out.stdout) + &text(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(!said.contains("panicked"), "{said}");
    // 141: ended by SIGPIPE (128 + 13), as `yes | head -1` ends.
    assert!(said.contains("exit=141"), "{said}");
}

/// A directory given to classify is named as one (not "cannot read it after line 0"), the
/// other inputs still run, and the exit code says one was skipped.
#[test]
fn classify_names_a_directory_as_one() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let log = dir.join("a.log");
    std::fs::write(&log, "E0101 reflector.go:1] failed: connection refused\n").unwrap();
    let o = run(&[
        "classify",
        dir.to_str().unwrap(),
        log.to_str().unwrap(),
        "-o",
        "summary",
    ]);
    let err = text(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.contains("is a directory: give log files") && !err.contains("after line"),
        "{err}"
    );
    assert!(
        text(&o.stdout).contains("\"error_lines\": 1"),
        "{}",
        text(&o.stdout)
    );
}

/// `-` among the files is standard input, as for cat and grep.
#[test]
fn classify_reads_standard_input_for_a_dash() {
    use std::io::Write;
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("a.log");
    std::fs::write(&log, "E0101 reflector.go:1] failed: connection refused\n").unwrap();
    let mut child = bin()
        .args(["classify", "-o", "summary", "-", log.to_str().unwrap()])
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kube-doctor");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Error from server (Forbidden): pods is forbidden: User \"u\" cannot list resource \"pods\"\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("\"error_lines\": 2"), "{out}");
    assert!(out.contains("\"authorization\": 1"), "{out}");
}

/// An empty `--client` is refused (it would silently match nothing).
#[test]
fn an_empty_client_selector_is_refused() {
    let out = run(&["clients", "--client", " ", "--prometheus", "none"]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--client") && err.contains("empty"), "{err}");
}

/// A device or a directory given as the audit log is refused at once (a device such as
/// /dev/zero has no line ends: it would be read for ever).
#[test]
fn an_audit_log_that_is_no_file_is_refused_at_once() {
    for path in ["/dev/zero", "/dev/urandom", "/tmp"] {
        let out = run(&["clients", "--audit-log", path, "--prometheus", "none"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(
            err.contains(&format!("cannot read audit log {path}: not a file")),
            "{err}"
        );
    }
}

/// `collect --audit-log` with no cluster and a Prometheus asked for says how to read the audit
/// log alone.
#[test]
fn an_audit_log_without_a_cluster_says_how_to_read_it_alone() {
    let dir = std::env::temp_dir().join(format!("kd-audit-alone-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("audit.log");
    std::fs::write(&log, "").unwrap();
    let out = bin()
        .args(["collect", "--audit-log", &log.to_string_lossy()])
        .args(["--prometheus", "http://127.0.0.1:9", "--out"])
        .arg(dir.join("b.json"))
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", &dir)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("--prometheus none"), "{err}");
}

/// No kubeconfig and not in a pod: one line that names the file it looked for and why it could
/// not use it (kube's own text nested both attempts and quoted the path twice).
#[test]
fn no_cluster_configuration_is_one_plain_line() {
    let o = bin()
        .args(["clients"])
        .env_remove("RUST_LOG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env("KUBECONFIG", "/nonexistent/kubeconfig")
        .output()
        .expect("run kube-doctor");
    let line = one_line_error(&o);
    assert_eq!(
        line,
        "kube-doctor: error: no cluster configuration found (not in a pod, and kubeconfig /nonexistent/kubeconfig: No such file or directory (os error 2)); pass --kubeconfig, set KUBECONFIG, or run in a pod"
    );
}

/// `--context` that the kubeconfig does not hold: one line naming the contexts it does hold.
#[test]
fn an_unknown_context_names_the_ones_there_are() {
    let kubeconfig = dead_kubeconfig("ctx", &["ctx-a", "ctx-b"]);
    let o = run(&[
        "clients",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--context",
        "nosuch",
    ]);
    let line = one_line_error(&o);
    assert!(
        line.ends_with("it has no context nosuch; its contexts: ctx-a, ctx-b"),
        "{line}"
    );
    let o = bin()
        .args(["clients", "--context", "nosuch"])
        .env_remove("RUST_LOG")
        .env("KUBECONFIG", &kubeconfig)
        .output()
        .expect("run kube-doctor");
    let line = one_line_error(&o);
    assert!(line.ends_with("its contexts: ctx-a, ctx-b"), "{line}");
    assert!(!line.contains("not-a-real-token"), "{line}");
}

/// `clients` with a Prometheus that does not answer: exit 2, one line saying so, and no empty
/// table before it ("no client over 1.0 % errors among 0 clients" read as an answer).
#[test]
fn clients_with_no_prometheus_answer_print_only_why() {
    let kubeconfig = dead_kubeconfig("noprom", &["x"]);
    let o = run(&[
        "clients",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--prometheus",
        "http://127.0.0.1:2",
    ]);
    let line = one_line_error(&o);
    assert!(
        line.contains("Prometheus at http://127.0.0.1:2 is unreachable"),
        "{line}"
    );
    assert_eq!(text(&o.stdout), "", "no table of nothing");
}
