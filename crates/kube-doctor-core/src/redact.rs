//! Redaction of text that reaches the bundle from the cluster (log samples, event messages):
//! tokens, bearer credentials, private keys, password-like key/value pairs and long base64
//! blobs are replaced by `[REDACTED:kind]`, and the kinds are counted so the bundle can say
//! what was removed. Secret *data* never gets this far (collectors read Secrets into metadata
//! only); this is the second line of defence, for secrets that leak into logs.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

struct Rule {
    kind: &'static str,
    re: Regex,
    /// Replacement; `$1` keeps a prefix such as "Bearer ".
    with: &'static str,
}

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |kind, pattern: &str, with| Rule {
        kind,
        re: Regex::new(pattern).expect("redaction pattern is valid"),
        with,
    };
    vec![
        rule(
            "private key",
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            "[REDACTED:private key]",
        ),
        rule(
            "jwt",
            r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            "[REDACTED:jwt]",
        ),
        rule(
            "bearer token",
            r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}",
            "${1}[REDACTED:bearer token]",
        ),
        rule(
            "credential value",
            r#"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|client[_-]?key|private[_-]?key)["']?\s*[:=]\s*["']?)[^\s"',;}\]]{4,}"#,
            "${1}[REDACTED:credential value]",
        ),
        rule(
            "base64 blob",
            r"[A-Za-z0-9+/]{64,}={0,2}",
            "[REDACTED:base64 blob]",
        ),
    ]
});

/// Redacts one piece of text; returns the text and how many of each kind were removed.
pub fn redact(text: &str) -> (String, BTreeMap<&'static str, u64>) {
    let mut out = text.to_string();
    let mut counts = BTreeMap::new();
    for rule in RULES.iter() {
        let n = rule.re.find_iter(&out).count() as u64;
        if n > 0 {
            out = rule.re.replace_all(&out, rule.with).into_owned();
            *counts.entry(rule.kind).or_insert(0) += n;
        }
    }
    (out, counts)
}

/// Collects redaction counts across many calls.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    counts: BTreeMap<&'static str, u64>,
}

impl Redactor {
    /// Redacts `text`, remembering what was removed.
    pub fn redact(&mut self, text: &str) -> String {
        let (out, counts) = redact(text);
        for (k, n) in counts {
            *self.counts.entry(k).or_insert(0) += n;
        }
        out
    }

    /// What was removed so far, for the bundle.
    pub fn report(&self) -> Vec<crate::bundle::Redaction> {
        self.counts
            .iter()
            .map(|(k, n)| crate::bundle::Redaction {
                kind: (*k).to_string(),
                count: *n,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_keys_are_removed() {
        let line = r#"curl -H "Authorization: Bearer abcdefghijklmnop" token=s3cr3tvalue eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"#;
        let (out, counts) = redact(line);
        assert!(!out.contains("abcdefghijklmnop"), "{out}");
        assert!(!out.contains("s3cr3tvalue"), "{out}");
        assert!(!out.contains("eyJzdWIiOiJ4In0"), "{out}");
        assert_eq!(counts.get("jwt"), Some(&1));
        assert_eq!(counts.get("bearer token"), Some(&1));
    }

    #[test]
    fn ordinary_error_lines_survive() {
        let line = r#"E0101 reflector.go:1] pods is forbidden: User "system:serviceaccount:demo:app" cannot list resource "pods" in API group "" in the namespace "demo""#;
        let (out, counts) = redact(line);
        assert_eq!(out, line);
        assert!(counts.is_empty());
    }

    #[test]
    fn private_keys_are_removed() {
        let (out, _) =
            redact("x -----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- y");
        assert_eq!(out, "x [REDACTED:private key] y");
    }
}
