//! Diagnosis over bundles recorded from the real lab (`tests/fixtures/bundles/`, one per fault,
//! recorded by `KUBE_DOCTOR_RECORD=1` in the lab tests), renderer snapshots, and bad bundles.

use std::path::PathBuf;

use kube_doctor_core::bundle::{Bundle, BundleError};
use kube_doctor_core::diagnose::{Settings, diagnose};
use kube_doctor_core::report::{self, Cause, Report};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bundles")
}

fn load(name: &str) -> Bundle {
    let path = fixtures().join(format!("{name}.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Bundle::from_json(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(name: &str) -> Report {
    diagnose(&load(name), &Settings::default())
}

/// Each lab fault and the cause its recorded bundle must be diagnosed as.
const FAULTS: &[(&str, Cause)] = &[
    ("expired-client-cert", Cause::Authentication),
    ("apiserver-cert-expired", Cause::Authentication),
    ("rbac-revoked", Cause::Authorization),
    ("apf-throttle", Cause::RateLimiting),
    ("apiserver-down", Cause::ServerSide),
    ("apiserver-slow", Cause::ServerSide),
    ("network-blackhole", Cause::Network),
    ("token-invalid", Cause::Authentication),
    ("quota-exceeded", Cause::Quota),
    // A new user's lab run: rbac-revoked cleared a minute before quota-exceeded (and a Warning
    // Event with HTML, Markdown, ANSI and bidi text planted in kube-system).
    ("quota-after-rbac", Cause::Quota),
    // Recorded on the kube-prometheus-stack lab with three API servers (issue 13).
    ("kps-webhook-5xx", Cause::ServerSide),
    ("kps-apiserver-down-1", Cause::ServerSide),
    // The managed shape: no API server metrics, no control-plane pods.
    ("kps-managed-webhook-5xx", Cause::ServerSide),
];

#[test]
fn every_recorded_fault_gets_the_right_top_verdict() {
    for (fault, cause) in FAULTS {
        let r = run(fault);
        let top = r.top().unwrap_or_else(|| panic!("{fault}: no verdict"));
        assert_eq!(
            top.cause, *cause,
            "{fault}: top verdict {:?}: {}",
            top.cause, top.summary
        );
        assert!(r.problem_found(), "{fault}");
        for v in &r.verdicts {
            assert!(
                !v.evidence.is_empty(),
                "{fault}: a verdict without evidence: {}",
                v.summary
            );
            assert!(
                !v.remediation.is_empty(),
                "{fault}: a verdict without remediation: {}",
                v.summary
            );
            assert!(
                !v.clients.is_empty(),
                "{fault}: a verdict about no client: {}",
                v.summary
            );
            assert!(
                (0.0..=1.0).contains(&v.confidence),
                "{fault}: confidence {}",
                v.confidence
            );
        }
    }
}

#[test]
fn the_healthy_bundle_has_no_verdict() {
    let r = run("healthy");
    assert!(
        r.verdicts.is_empty(),
        "verdicts on the healthy lab: {:?}",
        r.verdicts.iter().map(|v| &v.summary).collect::<Vec<_>>()
    );
    assert!(!r.problem_found());
}

#[test]
fn diagnosis_is_deterministic() {
    for (fault, _) in FAULTS {
        let a = serde_json::to_string(&run(fault)).unwrap();
        let b = serde_json::to_string(&run(fault)).unwrap();
        assert_eq!(a, b, "{fault}: two diagnoses of one bundle differ");
    }
}

#[test]
fn remediation_names_what_to_change() {
    let r = run("rbac-revoked");
    let v = r
        .verdicts
        .iter()
        .find(|v| v.cause == Cause::Authorization)
        .unwrap();
    let fix = v.remediation.join("\n");
    assert!(
        fix.contains("kind: Role") || fix.contains("kind: ClusterRole"),
        "{fix}"
    );
    assert!(fix.contains("RoleBinding"), "{fix}");
    assert!(fix.contains("kubers-client"), "{fix}");

    let r = run("apf-throttle");
    let fix = r.top().unwrap().remediation.join("\n");
    assert!(
        fix.contains("lab-squeeze-demo-clientgo") && fix.contains("lab-jail"),
        "{fix}"
    );

    let r = run("network-blackhole");
    let fix = r.top().unwrap().remediation.join("\n");
    assert!(fix.contains("deny-egress-demo-kubers"), "{fix}");

    let r = run("quota-exceeded");
    let fix = r.top().unwrap().remediation.join("\n");
    assert!(
        fix.contains("demo-configmaps") && fix.contains("count/configmaps"),
        "{fix}"
    );

    let r = run("expired-client-cert");
    let fix = r.top().unwrap().remediation.join("\n");
    assert!(fix.contains("demo-clientgo"), "{fix}");
}

fn rendered(r: &Report, format: &str) -> String {
    let mut out = Vec::new();
    match format {
        "text" => report::text::render(&mut out, r, false),
        "markdown" => report::markdown::render(&mut out, r),
        "html" => report::html::render(&mut out, r),
        "json" => report::write_json(&mut out, r),
        _ => unreachable!(),
    }
    .unwrap();
    String::from_utf8(out).expect("reports are UTF-8")
}

#[test]
fn renderer_snapshots() {
    for fault in ["rbac-revoked", "healthy"] {
        let r = run(fault);
        for format in ["text", "markdown", "html", "json"] {
            insta::assert_snapshot!(format!("{fault}.{format}"), rendered(&r, format));
        }
    }
}

#[test]
fn html_is_self_contained_with_a_chart() {
    let html = rendered(&run("apf-throttle"), "html");
    assert!(html.starts_with("<!DOCTYPE html>") || html.starts_with("<!doctype html>"));
    assert!(html.contains("<svg"), "an SVG timeline chart");
    for external in [" src=", "<link", "url(http", "@import", "href=\"http"] {
        assert!(
            !html.contains(external),
            "HTML loads something from outside: {external}"
        );
    }
}

#[test]
fn text_has_no_colour_unless_asked() {
    let r = run("rbac-revoked");
    assert!(!rendered(&r, "text").contains('\x1b'));
    let mut out = Vec::new();
    report::text::render(&mut out, &r, true).unwrap();
    assert!(String::from_utf8(out).unwrap().contains("\x1b["));
}

// --- bad bundles ---

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(format!("{name}.json"))).unwrap()
}

#[test]
fn a_truncated_bundle_is_a_clear_error() {
    let bytes = fixture_bytes("rbac-revoked");
    let empty = Bundle::from_json(b" \n").expect_err("an empty file is refused");
    assert!(matches!(empty, BundleError::Empty), "{empty}");
    for cut in [1, 10, bytes.len() / 2, bytes.len() - 2] {
        let err = Bundle::from_json(&bytes[..cut]).expect_err("a truncated bundle is refused");
        let msg = err.to_string();
        assert!(
            msg.starts_with("not a kube-doctor bundle"),
            "cut at {cut}: {msg}"
        );
        assert!(!msg.contains('\n'), "one line: {msg}");
    }
}

/// A value of the wrong kind names its field (a new user got `failed to parse four digit
/// integer as year` with no field for an edited window).
#[test]
fn a_wrong_value_names_its_field() {
    let base: serde_json::Value = serde_json::from_slice(&fixture_bytes("rbac-revoked")).unwrap();
    for (edit, want) in [
        (
            ("window", "from", "20x6-11-22T03:38:25Z"),
            "at window.from: ",
        ),
        (("clients", "source", "none"), "at clients.source"),
    ] {
        let mut v = base.clone();
        let ((top, key, value), want) = (edit, want);
        if top == "clients" {
            v[top][key]["kind"] = value.into();
        } else {
            v[top][key] = value.into();
        }
        let err = Bundle::from_json(v.to_string().as_bytes()).unwrap_err();
        assert!(matches!(err, BundleError::Field { .. }), "{err}");
        assert!(err.to_string().contains(want), "{err}");
    }
}

#[test]
fn another_schema_version_says_so() {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture_bytes("rbac-revoked")).unwrap();
    v["schema"] = "kube-doctor/bundle/v9".into();
    let err = Bundle::from_json(v.to_string().as_bytes()).unwrap_err();
    assert!(matches!(err, BundleError::Schema { .. }));
    assert!(
        err.to_string().contains("kube-doctor/bundle/v9")
            && err.to_string().contains("a newer kube-doctor wrote it"),
        "{err}"
    );
    v["schema"] = "kube-doctor/bundle/v0".into();
    let err = Bundle::from_json(v.to_string().as_bytes()).unwrap_err();
    assert!(err.to_string().contains("re-collect"), "{err}");

    let err = Bundle::from_json(br#"{"apiVersion":"v1","kind":"Pod"}"#).unwrap_err();
    assert!(err.to_string().contains("(none)"), "{err}");
    let err = Bundle::from_json(b"\x00\x01\xff binary").unwrap_err();
    assert!(
        err.to_string().starts_with("not a kube-doctor bundle"),
        "{err}"
    );
}

#[test]
fn a_wrong_field_type_is_refused_not_guessed() {
    let mut v: serde_json::Value = serde_json::from_slice(&fixture_bytes("rbac-revoked")).unwrap();
    v["steps"] = "all of them".into();
    let err = Bundle::from_json(v.to_string().as_bytes()).unwrap_err();
    assert!(
        err.to_string().contains("steps") || err.to_string().contains("sequence"),
        "{err}"
    );
}

/// Strings from the cluster (pod names, log samples, event messages, user names) are attacker
/// controlled: they must be escaped in Markdown and HTML and defanged in text.
#[test]
fn hostile_strings_are_escaped() {
    const EVIL: &str =
        "<script>alert(1)</script>|[x](javascript:alert(2))\x1b[2J`\nFAKE LINE: all healthy";
    let mut v: serde_json::Value = serde_json::from_slice(&fixture_bytes("rbac-revoked")).unwrap();
    // Poison the free-text fields that come from the cluster.
    const FREE_TEXT: &[&str] = &[
        "name",
        "user",
        "message",
        "reason",
        "note",
        "source",
        "subject",
        "issuer",
        "common_name",
        "resource",
        "line",
        "samples",
        "namespace",
    ];
    fn poison(v: &mut serde_json::Value, hit: bool) {
        match v {
            serde_json::Value::String(s) if hit => s.push_str(EVIL),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| poison(x, hit)),
            serde_json::Value::Object(o) => o
                .iter_mut()
                .for_each(|(k, v)| poison(v, FREE_TEXT.contains(&k.as_str()))),
            _ => {}
        }
    }
    for section in ["logs", "credentials", "events", "network"] {
        poison(&mut v[section], false);
    }
    v["cluster"]["server"] = format!("https://evil{EVIL}").into();
    let bundle =
        Bundle::from_json(v.to_string().as_bytes()).expect("a poisoned bundle still parses");
    let r = diagnose(&bundle, &Settings::default());
    let html = rendered(&r, "html");
    assert!(!html.contains("<script>alert(1)"), "raw <script> in HTML");
    assert!(
        !html.contains("href=\"javascript"),
        "a javascript: link in HTML"
    );
    assert!(
        html.contains("&lt;script&gt;alert(1)"),
        "the hostile string is shown, escaped"
    );
    // Inside code fences (longer than any backtick run in them) nothing is interpreted.
    let md_all = rendered(&r, "markdown");
    let mut in_fence = false;
    let md: String = md_all
        .lines()
        .filter(|l| {
            if l.trim_start().starts_with("```") {
                in_fence = !in_fence;
                return false;
            }
            !in_fence
        })
        .collect::<Vec<_>>()
        .join("\n");
    let raw: Vec<&str> = md.lines().filter(|l| l.contains("<script>")).collect();
    assert!(raw.is_empty(), "raw HTML in Markdown: {raw:?}");
    assert!(!md.contains("](javascript:"), "a live link in Markdown");
    let text = rendered(&r, "text");
    assert!(
        !text.contains('\x1b'),
        "escape sequences reach the terminal"
    );
    // A newline in cluster text does not start a line of the report's own.
    for (format, out) in [("text", &text), ("markdown", &md)] {
        let forged: Vec<&str> = out
            .lines()
            .filter(|l| l.trim_start().starts_with("FAKE LINE"))
            .collect();
        assert!(forged.is_empty(), "{format}: forged lines {forged:?}");
    }
    assert!(
        text.contains("\\nFAKE LINE"),
        "the newline is shown escaped"
    );
}

/// Step 2's events near the onset become evidence of the matching rule.
#[test]
fn events_near_the_onset_are_cited() {
    let mut v: serde_json::Value =
        serde_json::from_slice(&fixture_bytes("quota-exceeded")).unwrap();
    let onset = v["clients"]["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c["onset"].as_str().map(str::to_string))
        .expect("an onset");
    let event = serde_json::json!({
        "involved": {"kind": "ReplicaSet", "namespace": "demo", "name": "web-7d9f"},
        "reason": "FailedCreate",
        "message": "Error creating: pods \"web-7d9f-x\" is forbidden: exceeded quota: demo-configmaps",
        "event_type": "Warning",
        "count": 4,
        "first_seen": onset,
        "last_seen": onset,
        "source": "replicaset-controller",
        "topic": "quota"
    });
    let far = {
        let mut e = event.clone();
        e["involved"]["name"] = "old-rs".into();
        e["first_seen"] = "2020-01-01T00:00:00Z".into();
        e["last_seen"] = "2020-01-01T00:00:00Z".into();
        e
    };
    v["events"]["kept"] = serde_json::json!([event, far]);
    let bundle = Bundle::from_json(v.to_string().as_bytes()).unwrap();
    let r = diagnose(&bundle, &Settings::default());
    let top = r.top().unwrap();
    assert_eq!(top.cause, Cause::Quota);
    let cited: Vec<_> = top.evidence.iter().filter(|e| e.step == 2).collect();
    assert_eq!(cited.len(), 1, "only the event near the onset: {cited:?}");
    assert!(
        cited[0].reference.contains("FailedCreate") && cited[0].detail.contains("(x4)"),
        "{:?}",
        cited[0]
    );
}

/// Judgement belongs to diagnosis: an old bundle judged again with another threshold gives
/// another report, with no cluster.
#[test]
fn a_recorded_bundle_is_judged_again_with_another_threshold() {
    use kube_doctor_core::clients::Threshold;
    let b = load("rbac-revoked");
    let kubers = "demo-clients/127.0.1.3:18082";
    let ratio = b
        .clients
        .as_ref()
        .unwrap()
        .clients
        .iter()
        .find(|c| c.id == kubers)
        .unwrap()
        .ratios
        .non_2xx;
    let at = |t: f64| {
        diagnose(
            &b,
            &Settings {
                threshold: Some(Threshold::new(t).unwrap()),
                ..Settings::default()
            },
        )
    };
    let low = at(0.01);
    assert_eq!(low.top().unwrap().cause, Cause::Authorization);
    assert_eq!(low.clients[0].id, kubers);
    // Just above the client's own ratio: nothing fails, nothing is diagnosed.
    let high = at(ratio + 0.01);
    assert!(high.clients.is_empty(), "{:?}", high.clients);
    assert!(high.verdicts.is_empty());
    assert!(!high.problem_found());
    // In between: still failing, but its errors first crossed the higher threshold later.
    let mid = at(ratio / 2.0);
    assert_eq!(mid.clients[0].id, kubers);
    assert!(mid.clients[0].onset >= low.clients[0].onset);
}

/// A listed client whose whole-window ratio is small says the 5-minute peak that listed it, and
/// that it recovered; a client still failing at about its window's ratio adds nothing.
#[test]
fn a_recovered_client_says_its_peak() {
    let mut r = run("rbac-revoked");
    let plain = rendered(&r, "text");
    assert!(!plain.contains("5-min peak"), "{plain}");
    assert!(plain.contains("since 2026-11-22 03:38:45 UTC"), "{plain}");
    let c = &mut r.clients[0];
    c.live = false;
    c.error_ratio = 0.003;
    let onset = c.onset.unwrap();
    c.episodes = vec![kube_doctor_core::bundle::Episode {
        start: onset,
        end: Some(onset + jiff::SignedDuration::from_secs(5)),
        peak_ratio: 0.031,
    }];
    let text = rendered(&r, "text");
    assert!(
        text.contains("0.3 % errors (5-min peak 3.1 %, recovered)"),
        "{text}"
    );
    // A recovered client's row says when its errors ran, not "since".
    assert!(
        text.contains("2026-11-22 03:38:45 UTC → 2026-11-22 03:38:50 UTC"),
        "{text}"
    );
    let row = text
        .lines()
        .find(|l| l.contains("(pod demo/demo-kubers)"))
        .unwrap();
    assert!(!row.contains("since"), "{row}");
    let md = rendered(&r, "markdown");
    assert!(
        md.contains("| 0.3 % (5-min peak 3.1 %, recovered) |"),
        "{md}"
    );
    // The HTML report has the client table too (a new user missed it there).
    let html = rendered(&r, "html");
    assert!(
        html.contains("<td>0.3 % (5-min peak 3.1 %, recovered)</td>"),
        "{html}"
    );
    assert!(html.find("<th>client</th>") < html.find("<h2>Diagnosis</h2>"));
}

/// Values no collector writes are refused with what is wrong (a new user's edited bundles were
/// reported healthy or showed `750.0% errors`): a missing `clients` under an `ok` step 3, a
/// ratio over 1, a threshold outside (0, 1], a duplicated client, a reversed window; and (a
/// second new-user check) a window in 2099 or over 7 days, a threshold other than the run's, a
/// blank id, a ratio of 0 beside 403s, codes that do not add up, a point with more errors than
/// requests.
#[test]
fn a_bundle_that_does_not_hold_together_is_refused() {
    let base: serde_json::Value = serde_json::from_slice(&fixture_bytes("rbac-revoked")).unwrap();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "holds none",
            Box::new(|v| v["clients"] = serde_json::Value::Null),
        ),
        (
            "lists no client",
            Box::new(|v| v["clients"]["clients"] = serde_json::json!([])),
        ),
        (
            "counted 1 clients but the bundle lists 2",
            Box::new(|v| {
                let c = v["clients"]["clients"][0].clone();
                let mut other = c.clone();
                other["id"] = "someone/else".into();
                v["clients"]["clients"] = serde_json::json!([other, c]);
            }),
        ),
        (
            "outside [0, 1]",
            Box::new(|v| v["clients"]["clients"][0]["ratios"]["non_2xx"] = 7.5.into()),
        ),
        (
            "not a ratio in (0, 1]",
            Box::new(|v| v["clients"]["threshold"] = 5.into()),
        ),
        (
            "not a ratio in (0, 1]",
            Box::new(|v| v["clients"]["threshold"] = 0.into()),
        ),
        (
            "listed twice",
            Box::new(|v| {
                let c = v["clients"]["clients"][0].clone();
                v["clients"]["clients"].as_array_mut().unwrap().push(c);
            }),
        ),
        (
            "negative or not a number",
            Box::new(|v| v["clients"]["clients"][0]["requests"] = (-3).into()),
        ),
        (
            "before it starts",
            Box::new(|v| {
                let from = v["window"]["from"].clone();
                v["window"]["from"] = v["window"]["to"].clone();
                v["window"]["to"] = from;
            }),
        ),
        (
            "after the collection finished",
            Box::new(|v| {
                v["window"]["from"] = "2099-01-01T00:00:00Z".into();
                v["window"]["to"] = "2099-01-01T00:15:00Z".into();
            }),
        ),
        (
            "longer than the 7 days",
            Box::new(|v| v["window"]["from"] = "2000-01-01T00:00:00Z".into()),
        ),
        (
            "is not the run's threshold",
            Box::new(|v| v["settings"]["threshold"] = 0.05.into()),
        ),
        (
            "blank id",
            Box::new(|v| v["clients"]["clients"][0]["id"] = " ".into()),
        ),
        (
            "non-2xx requests by code but a non-2xx ratio of 0",
            Box::new(|v| v["clients"]["clients"][0]["ratios"]["non_2xx"] = 0.into()),
        ),
        (
            "requests by code but",
            Box::new(|v| {
                let c = &mut v["clients"]["clients"][0];
                c["requests"] = (c["requests"].as_f64().unwrap() * 2.0).into();
            }),
        ),
        (
            "errors (0 5xx, 0 no response) of",
            Box::new(|v| {
                let p = &mut v["clients"]["clients"][0]["series"][0];
                p["errors"] = (p["requests"].as_f64().unwrap() + 5.0).into();
            }),
        ),
        // A third new-user check: a series that contradicts its totals, 5xx over the errors, a
        // point after the window, a note over another threshold, an id of invisible characters.
        (
            "in its series but",
            Box::new(|v| {
                for p in v["clients"]["clients"][0]["series"].as_array_mut().unwrap() {
                    p["errors"] = p["requests"].clone();
                }
            }),
        ),
        (
            "5xx",
            Box::new(|v| {
                let p = &mut v["clients"]["clients"][0]["series"][0];
                p["server_errors"] = (p["errors"].as_f64().unwrap() + 3.0).into();
            }),
        ),
        (
            "outside its window",
            Box::new(|v| {
                let n = v["clients"]["clients"][0]["series"]
                    .as_array()
                    .unwrap()
                    .len();
                v["clients"]["clients"][0]["series"][n - 1]["at"] = "2031-01-01T00:00:00Z".into();
            }),
        ),
        (
            "counted clients over 1 % but its threshold is 90 %",
            Box::new(|v| {
                v["clients"]["threshold"] = 0.9.into();
                v["settings"]["threshold"] = 0.9.into();
            }),
        ),
        (
            "blank id",
            Box::new(|v| v["clients"]["clients"][0]["id"] = "\u{200b}\u{ad}".into()),
        ),
        // A second new-user check: a series with fewer errors than its totals, a 5xx ratio
        // without 5xx codes, a series out of time order, a code that is no HTTP status, a point
        // before the window, a window without length, an id of 100,000 characters.
        (
            "in its series but",
            Box::new(|v| {
                for p in v["clients"]["clients"][0]["series"].as_array_mut().unwrap() {
                    p["errors"] = 0.into();
                }
            }),
        ),
        (
            "has 0 5xx and 0 unanswered requests by code but ratios of 0.5",
            Box::new(|v| v["clients"]["clients"][0]["ratios"]["server_5xx"] = 0.5.into()),
        ),
        (
            "out of time order",
            Box::new(|v| {
                v["clients"]["clients"][0]["series"]
                    .as_array_mut()
                    .unwrap()
                    .reverse();
            }),
        ),
        (
            "under code \"999\"",
            Box::new(|v| {
                let c = &mut v["clients"]["clients"][0]["codes"];
                let n = c["403"].take();
                c.as_object_mut().unwrap().remove("403");
                c["999"] = n;
            }),
        ),
        (
            "outside its window",
            Box::new(|v| {
                v["clients"]["clients"][0]["series"][0]["at"] = "2020-01-01T00:00:00Z".into();
            }),
        ),
        (
            "has no length",
            Box::new(|v| v["window"]["from"] = v["window"]["to"].clone()),
        ),
        (
            "bytes long",
            Box::new(|v| v["clients"]["clients"][0]["id"] = "x".repeat(100_000).into()),
        ),
    ];
    for (want, edit) in cases {
        let mut v = base.clone();
        edit(&mut v);
        let err = Bundle::from_json(v.to_string().as_bytes()).expect_err(want);
        assert!(
            matches!(err, BundleError::Inconsistent { .. }),
            "{want}: {err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(want) && msg.ends_with("re-collect it"),
            "{want}: {msg}"
        );
    }
    // The recorded bundles hold together, also behind a UTF-8 byte order mark (a Windows
    // editor's save; serde_json alone says `expected value at line 1 column 1`).
    assert!(Bundle::from_json(base.to_string().as_bytes()).is_ok());
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(base.to_string().as_bytes());
    assert!(Bundle::from_json(&bom).is_ok());
    // Compressed or UTF-16 files say what they are and what to do.
    for (start, want) in [
        (&[0x1f, 0x8b, 0x08][..], "gzip-compressed"),
        (&[0xff, 0xfe, b'{', 0][..], "UTF-16"),
    ] {
        let err = Bundle::from_json(start).expect_err(want).to_string();
        assert!(err.contains(want), "{err}");
    }
}

/// Recorded while the kube-prometheus-stack lab's three API servers started and one admission
/// webhook answered 500: the advice names the webhook's backend once (not once per signal that
/// points at it), and an API server's calls to its own address are its loopback, even in a
/// bundle collected before step 3 named them so.
#[test]
fn a_failing_webhook_is_advised_once_and_own_calls_are_loopback() {
    let r = run("kps-webhook-5xx-at-start");
    let top = r.top().unwrap();
    assert_eq!(top.cause, Cause::ServerSide);
    let about_backend: Vec<&String> = top
        .remediation
        .iter()
        .filter(|f| f.contains("policy.lab.kube-doctor.io") && f.contains("backend"))
        .collect();
    assert_eq!(about_backend.len(), 1, "{:#?}", top.remediation);
    assert!(
        about_backend[0].contains("Service policy/policy-webhook"),
        "{}",
        about_backend[0]
    );
    assert!(
        about_backend[0].contains("kubectl get validatingwebhookconfiguration lab-policy -o yaml"),
        "{}",
        about_backend[0]
    );
    // The mitigation (failurePolicy: Ignore) once, in the failurePolicy finding.
    let ignore = top
        .remediation
        .iter()
        .filter(|f| f.contains("failurePolicy: Ignore"))
        .count();
    assert_eq!(ignore, 1, "{:#?}", top.remediation);
    // A webhook called by URL: its server, not a Service.
    let slow = run("apiserver-slow");
    let fix = slow.top().unwrap().remediation.join("\n");
    assert!(
        fix.contains("check the server it calls by URL, https://127.0.0.1:17443/validate"),
        "{fix}"
    );
    assert!(!fix.contains("backend Service"), "{fix}");
    assert!(
        top.summary.contains("its calls to itself (loopback)"),
        "{}",
        top.summary
    );
    // A valid serving certificate is evidence when it was seen, not at its notAfter a year on.
    let cert = top
        .evidence
        .iter()
        .find(|e| e.reference == "tls://198.18.7.10:26443")
        .unwrap();
    assert_eq!(cert.at, Some(r.generated_at), "{cert:?}");
    assert!(
        !top.summary.contains("calls to host 198.18.7.10:26443"),
        "{}",
        top.summary
    );
}

/// The healthy lab's report names the clients it read under the threshold (worst first, at
/// most five, and how many more), and a listed client's category counts say their unit.
#[test]
fn clients_under_the_threshold_are_named_and_counts_have_units() {
    let r = run("healthy");
    assert!(r.clients.is_empty());
    assert_eq!(r.under_threshold.total, 6);
    assert_eq!(
        r.under_threshold.worst.len(),
        kube_doctor_core::report::UNDER_THRESHOLD_SHOWN
    );
    assert!(
        r.under_threshold
            .worst
            .windows(2)
            .all(|w| w[0].error_ratio >= w[1].error_ratio)
    );
    let text = rendered(&r, "text");
    assert!(
        text.contains("6 clients read, under the threshold: demo-clients/127.0.1.1:18081 (pod demo/demo-clientgo) 0.0 % of 180 requests")
            && text.contains(" and 1 more"),
        "{text}"
    );

    // rbac-revoked's client log was read: its counts are log lines.
    let r = run("rbac-revoked");
    let c = &r.clients[0];
    assert_eq!(
        c.categories_unit,
        Some(kube_doctor_core::report::CategoriesUnit::LogLines)
    );
    assert!(rendered(&r, "text").contains("consistent · log lines: authorization 19"));
    // apiserver-down: kube-doctor could not read the client's log (the API server was down),
    // so its counts are failed requests by status code.
    let r = run("apiserver-down");
    assert_eq!(
        r.clients[0].categories_unit,
        Some(kube_doctor_core::report::CategoriesUnit::Requests)
    );
    assert!(rendered(&r, "text").contains(" · requests: network_unreachable"));
}
