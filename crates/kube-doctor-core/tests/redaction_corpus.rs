//! The redaction corpus (tests/fixtures/secrets/corpus.tsv): 80 kinds of invented secrets,
//! each planted in its own line template and then in every context a cluster string reaches
//! kube-doctor in: the plain line, JSON-encoded (once and twice), with terminal escapes and
//! control characters around it, at the end of a long line, at every cut position of a
//! truncation edge, and inside URLs (userinfo, query, through `redact_url`). No part of any
//! secret may survive: no 8-character window of it (the whole secret when shorter), and at a
//! cut, nothing of it before the ellipsis. Ordinary log lines
//! (not-secrets.txt) must come through unchanged.

use kube_doctor_core::redact::{Redactor, redact, redact_truncated, redact_url};

struct Plant {
    kind: String,
    secret: String,
    template: String,
}

fn unescape(t: &str) -> String {
    let mut out = String::new();
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('\\') => out.push('\\'),
                Some(o) => {
                    out.push('\\');
                    out.push(o);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn corpus() -> Vec<Plant> {
    let text = include_str!("fixtures/secrets/corpus.tsv");
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut f = l.split('\t');
            let (Some(kind), Some(secret), Some(template), None) =
                (f.next(), f.next(), f.next(), f.next())
            else {
                panic!("corpus line is not kind<TAB>secret<TAB>template: {l}");
            };
            let template = unescape(template);
            assert!(template.contains("{S}"), "{kind}: template has no {{S}}");
            Plant {
                kind: kind.to_string(),
                secret: secret.to_string(),
                template,
            }
        })
        .collect()
}

/// The pieces of a secret that must not survive: every 8-character window (or the whole
/// secret when it is shorter).
fn windows(secret: &str) -> Vec<String> {
    let chars: Vec<char> = secret.chars().collect();
    if chars.len() <= 8 {
        return vec![secret.to_string()];
    }
    chars.windows(8).map(|w| w.iter().collect()).collect()
}

/// Every way `s` can appear in output: as is, JSON-escaped, percent-encoded.
fn forms(s: &str) -> Vec<String> {
    let json = serde_json::to_string(s).unwrap();
    let json = json[1..json.len() - 1].to_string();
    let pct: String = s
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '.' | '_' | '~' => c.to_string(),
            _ => format!("%{:02X}", c as u32),
        })
        .collect();
    let mut v = vec![s.to_string(), json, pct];
    v.dedup();
    v
}

/// Fails with the context when any window of `secret` (in any form) is in `out`.
fn assert_gone(kind: &str, context: &str, secret: &str, input: &str, out: &str) {
    for w in windows(secret) {
        for f in forms(&w) {
            assert!(
                !out.contains(&f),
                "{kind} survived in {context}: {f:?} is still in\n  output: {out:?}\n  input:  {input:?}"
            );
        }
    }
}

fn contexts(line: &str) -> Vec<(&'static str, String)> {
    let json = serde_json::to_string(&serde_json::json!({"level":"error","msg": line})).unwrap();
    let json_twice =
        serde_json::to_string(&serde_json::json!({"log": json.clone(), "stream": "stderr"}))
            .unwrap();
    vec![
        ("plain", line.to_string()),
        ("json", json),
        ("json in json", json_twice),
        (
            "control characters",
            format!("\u{1b}[1;31mERROR\u{1b}[0m\t{line}\u{0}\u{7}\r"),
        ),
        (
            "ansi right before",
            format!("level=error msg=\u{1b}[33m{line}\u{1b}[0m"),
        ),
        (
            "escaped ansi and newline escapes",
            format!("\\u001b[31m{}\\u001b[0m\\n", line.replace('\n', "\\n")),
        ),
        (
            "long line",
            format!(
                "{} {line} {}",
                "lorem ipsum ".repeat(300),
                "dolor ".repeat(300)
            ),
        ),
        ("crlf", format!("{}\r\n", line.replace('\n', "\r\n"))),
    ]
}

#[test]
fn corpus_has_at_least_forty_kinds() {
    let c = corpus();
    let mut kinds: Vec<&str> = c.iter().map(|p| p.kind.as_str()).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert!(kinds.len() >= 40, "{} kinds", kinds.len());
    assert_eq!(kinds.len(), c.len(), "kinds are unique");
}

#[test]
fn no_secret_survives_in_any_context() {
    let mut redactor = Redactor::default();
    for p in corpus() {
        let line = p.template.replace("{S}", &p.secret);
        for (context, input) in contexts(&line) {
            let (out, counts) = redact(&input);
            assert_gone(&p.kind, context, &p.secret, &input, &out);
            assert!(
                !counts.is_empty(),
                "{}: nothing counted in {context}",
                p.kind
            );
        }
        let out = redactor.redact(&line);
        assert_gone(&p.kind, "Redactor", &p.secret, &line, &out);
    }
    let report = redactor.report();
    assert!(report.iter().all(|r| r.count > 0 && !r.kind.is_empty()));
}

#[test]
fn no_secret_survives_a_truncation_edge() {
    for p in corpus() {
        let line = p.template.replace("{S}", &p.secret);
        let filler = "word ".repeat(40);
        let input = format!("{filler}{line}");
        let at = filler.chars().count() + p.template.split("{S}").next().unwrap().chars().count();
        let len = p.secret.chars().count();
        // Cuts from just before the secret to just after it, and through the template.
        for cut in at.saturating_sub(3)..=at + len + 3 {
            let (out, _) = redact_truncated(&input, cut);
            assert!(
                out.chars().count() <= cut,
                "{}: cut {cut} gave {} chars",
                p.kind,
                out.chars().count()
            );
            let context = format!("a cut at {cut} (secret at {at}..{})", at + len);
            assert_gone(&p.kind, &context, &p.secret, &input, &out);
            // Text kept unredacted up to the cut must stop before the secret begins.
            let body = out.strip_suffix('…').unwrap_or(&out);
            if input.starts_with(body) {
                assert!(
                    body.chars().count() <= at,
                    "{}: {context} kept the secret's first {} characters: {out:?}",
                    p.kind,
                    body.chars().count() - at
                );
            }
        }
    }
}

#[test]
fn no_secret_survives_inside_a_url() {
    for p in corpus() {
        let url_safe = p
            .secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
        if !url_safe {
            continue;
        }
        for url in [
            format!("https://ci:{}@prometheus.example.com:9090/", p.secret),
            format!("https://{}@git.example.com/org/repo.git", p.secret),
            format!(
                "http://prom:9090/api/v1/query?dedup=true&access_token={}",
                p.secret
            ),
        ] {
            let out = redact_url(&url);
            assert_gone(&p.kind, "redact_url", &p.secret, &url, &out);
            let (out, _) = redact(&format!("POST {url} failed: 502"));
            assert_gone(&p.kind, "a URL in a line", &p.secret, &url, &out);
        }
        // A webhook path: only long credential-like segments are recognisable there.
        if p.secret.len() >= 20 && p.secret.bytes().any(|b| b.is_ascii_digit()) {
            let url = format!("https://hooks.example.com/services/{}", p.secret);
            assert_gone(
                &p.kind,
                "redact_url path",
                &p.secret,
                &url,
                &redact_url(&url),
            );
        }
    }
}

#[test]
fn ordinary_lines_come_through_unchanged() {
    let text = include_str!("fixtures/secrets/not-secrets.txt");
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (out, counts) = redact(line);
        assert_eq!(out, line, "over-redacted ({counts:?})");
        let (cut, _) = redact_truncated(line, 10_000);
        assert_eq!(cut, line);
    }
}

#[test]
fn prometheus_and_webhook_urls_keep_what_is_not_secret() {
    assert_eq!(
        redact_url("https://prometheus.example.com:9090/prom/?dedup=true&partial_response=false"),
        "https://prometheus.example.com:9090/prom/?dedup=true&partial_response=false"
    );
    assert_eq!(
        redact_url("http://alice:s3cret@127.0.0.1:9090"),
        "http://[REDACTED:url credentials]@127.0.0.1:9090"
    );
    let hook =
        redact_url("https://chat.example.com/hooks/8f3a9c2e71b64d05a1e2f3b4c5d6e7f8?thread=ops");
    assert_eq!(
        hook,
        "https://chat.example.com/hooks/[REDACTED:url path secret]?thread=ops"
    );
}
