//! Redaction of text that reaches the bundle, a report or a log from the cluster (log
//! samples, event messages, annotations, errors) or from the user (Prometheus and webhook
//! URLs). Secrets are replaced by `[REDACTED:kind]`, and the kinds are counted so the bundle
//! can say what was removed (never the values). Secret *data* never gets this far (collectors
//! read Secrets into metadata only); this is the second line of defence, for secrets that
//! leak into logs and messages.
//!
//! Two sets of rules, applied together:
//! - **context rules** (this file): what surrounds a secret says it is one: PEM blocks, JWTs,
//!   URL userinfo (`https://user:pass@`), `Authorization:` headers, `Bearer`/`Basic`
//!   credentials, cookies, `--token VALUE` / `--password=VALUE` flags, `password=`/`pw=`/
//!   `auth=`/`secret:`/`apikey`... keys with quoted, bare or JSON-escaped values, long base64.
//! - **provider shapes** ([`patterns`]): tokens recognisable by their prefix, a reviewed table
//!   adapted from gitleaks' maintained rule set (GitHub, GitLab, Slack, AWS, Google, Vault,
//!   Stripe... and Slack, Teams and Discord webhook URLs).
//!
//! All rules are matched against the original text, and also against a view of it in which
//! terminal escape sequences, control characters and the JSON escapes `\n`, `\t`, `\r`,
//! `\u001b[...m` are blanked, so a secret right after a colour code or a newline escape is
//! still found. The matches are merged and replaced in one pass: a replacement is never
//! matched again, and overlapping finds count once.
//!
//! **Redact, then cut.** [`redact_truncated`] redacts before it shortens, on a char boundary,
//! never inside a `[REDACTED:...]` marker, so a token at the cut never keeps its prefix.
//! Text longer than the cut is only redacted up to the cut plus [`LOOKAHEAD`] bytes (enough
//! for any secret these rules know to be seen whole), so its cost is bounded by the cut, not
//! by the input.

#[path = "redact_patterns.rs"]
pub mod patterns;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use base64::Engine;
use regex::Regex;

use patterns::PROVIDER_PATTERNS;

/// How far past the cut [`redact_truncated`] looks, in bytes, so that a secret crossing the
/// cut is seen whole before the text is shortened.
pub const LOOKAHEAD: usize = 64 * 1024;

/// Checks a match beyond its pattern: `(whole text, secret span)`.
type Check = fn(&str, std::ops::Range<usize>) -> bool;

struct Rule {
    kind: &'static str,
    re: Regex,
    check: Option<Check>,
    min_entropy: Option<f32>,
    /// Every match holds one of these (ASCII case ignored); empty: always run.
    keywords: &'static [&'static str],
}

/// A quoted, escaped-quoted or bare value after a key, in capture groups 1 to 4.
/// `\"x\"` (JSON inside a JSON string, to any depth: `\\\"x\\\"`), `"x"`, `'x'`, or bare up
/// to a space, quote, `,;&}]`.
const VALUE: &str = r#"(?:\\+"((?:[^"\\\r\n]|\\+[^"\\\r\n])*)\\+"|"((?:[^"\\\r\n]|\\.)*)"|'([^'\r\n]*)'|((?:[^\s"'\\,;&}\]]|\\[^\s"'])+))"#;

/// Between a key and its value: optional (escaped) closing quote, `:`, `=`, `:=` or `=>`
/// (spaces allowed before `=`, not before `:`, which in prose ends a quoted name), optional `[` (Go's printing of header maps: `Authorization:[Bearer x]`).
const SEP: &str = r#"\\*["']?(?:\s*(?:=>|=)|:=|:)\s*\[?"#;

/// Key words whose value is a secret, with any prefix or suffix (`db_password`,
/// `clientSecret`, `x-auth-token`, `aws_secret_access_key`).
const LONG_KEYS: &str = r"(?:password|passwd|passphrase|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|client[_.-]?key|signing[_.-]?key|encryption[_.-]?key|master[_.-]?key|account[_.-]?key|storage[_.-]?key|shared[_.-]?access[_.-]?key|license[_.-]?key|credentials?|signature|session[_.-]?id|sessionid|jsessionid|phpsessid|csrf[_.-]?token|xsrf[_.-]?token)";

/// Words of which every [`LONG_KEYS`] key holds one.
const LONG_KEY_WORDS: &[&str] = &[
    "pass",
    "secret",
    "token",
    "api",
    "access",
    "private",
    "client",
    "signing",
    "encryption",
    "master",
    "account",
    "storage",
    "shared",
    "license",
    "credential",
    "signature",
    "session",
    "sessid",
    "csrf",
    "xsrf",
];

/// Words of which every [`SHORT_KEYS`] key holds one.
const SHORT_KEY_WORDS: &[&str] = &["pass", "pw", "pswd", "auth", "sig", "psk", "otp", "sid"];

/// Short key words, taken only as whole words or after `_`, `-`, `.` (`db_pass`, not `bypass`).
const SHORT_KEYS: &str = r"(?:pass|pw|pwd|pswd|auth|sig|psk|otp|sid)";

/// Key suffixes that name metadata about a secret, not the secret (`secretName`, `token_file`,
/// `password_policy`): `key=value` with such a key is left alone.
const METADATA_SUFFIXES: &[&str] = &[
    "name",
    "names",
    "file",
    "files",
    "path",
    "paths",
    "ref",
    "refs",
    "dir",
    "count",
    "len",
    "length",
    "ttl",
    "type",
    "types",
    "kind",
    "expiry",
    "expires",
    "expiration",
    "namespace",
    "url",
    "uri",
    "version",
    "policy",
    "enabled",
    "required",
    "source",
    "mount",
    "volume",
    "affinity",
    "timeout",
    "duration",
    "seconds",
    "status",
    "reason",
    "error",
    "rotation",
    "provider",
    "label",
    "field",
    "format",
    "mode",
    "size",
    "audience",
    "issuer",
    "lifetime",
    "at",
    "age",
];

/// Values that are placeholders, not secrets.
const PLACEHOLDERS: &[&str] = &[
    "null",
    "nil",
    "<nil>",
    "none",
    "true",
    "false",
    "*",
    "**",
    "***",
    "****",
    "redacted",
    "[redacted]",
    "<redacted>",
    "hidden",
    "masked",
    "xxx",
    "xxxx",
    "<none>",
    "{}",
    "[]",
    "undefined",
    "empty",
];

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let rule = |kind, keywords, pattern: &str, check| Rule {
        kind,
        re: Regex::new(pattern).unwrap_or_else(|e| panic!("redaction pattern {kind}: {e}")),
        check,
        min_entropy: None,
        keywords,
    };
    let kv_long = format!(r"(?i)([0-9a-z_.-]*{LONG_KEYS}[0-9a-z_.-]*){SEP}\s*{VALUE}");
    let kv_short = format!(r"(?i)(?:^|[^0-9a-z])((?:[0-9a-z]+[_.-])?{SHORT_KEYS}){SEP}\s*{VALUE}");
    let mut rules = vec![
        rule(
            "private key",
            &["-----begin"],
            r"(?i)-----BEGIN[ A-Z0-9_-]{0,100}?PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[ A-Z0-9_-]{0,100}?PRIVATE KEY(?: BLOCK)?-----|\z)",
            None,
        ),
        rule(
            "pem block",
            &["-----begin"],
            r"-----BEGIN [A-Z0-9 _-]{1,100}?-----[\s\S]*?(?:-----END [A-Z0-9 _-]{1,100}?-----|\z)",
            None,
        ),
        rule(
            "jwt",
            &["eyj"],
            r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            None,
        ),
        rule(
            "url credentials",
            &[":/", ":\\/"],
            r#"(?i)[a-z][a-z0-9+.-]{0,30}:\\?/\\?/([^\s/?#"'<>\\]+)@"#,
            None,
        ),
        rule(
            "bearer token",
            &["bearer"],
            r"(?i)bearer\s+([A-Za-z0-9._~+/=-]{8,})",
            Some(looks_random),
        ),
        rule(
            "authorization header",
            &["authorization"],
            r#"(?i)(?:proxy-)?authorization\\*["']?\s*[:=]\s*\[?\\*["']?\s*(?:basic|bearer|token|negotiate|ntlm|apikey|api-key|ssws|key|sharedkey|sharedkeylite|splunk|gensecret)\s+((?:[^\s"'\\,;\]]|\\[^"'])+)"#,
            None,
        ),
        rule(
            "authorization header",
            &["authorization"],
            r#"(?i)(?:proxy-)?authorization\\*["']?\s*[:=]\s*\[?\\*["']?\s*(?:digest|aws4-hmac-sha256|hmac-sha256|signature|oauth)\s+((?:[^\r\n"\\\]]|\\[^"])+)"#,
            None,
        ),
        rule(
            "authorization header",
            &["authorization"],
            r#"(?i)(?:proxy-)?authorization\\*["']?\s*[:=]\s*\[?\\*["']?((?:[^\s"'\\,;\]]|\\[^"'])+)"#,
            Some(looks_random),
        ),
        rule(
            "basic auth",
            &["basic"],
            r"(?-u:\b)Basic\s+([A-Za-z0-9+/]{4,}={0,2})",
            Some(decodes_to_user_password),
        ),
        rule(
            "cookie",
            &["cookie"],
            r#"(?i)(?:set-)?cookie2?\\*["']?\s*[:=]\s*\[?\\*["']?\s*((?:[^\r\n"\\\]]|\\[^"])+)"#,
            None,
        ),
        rule(
            "command-line secret",
            &[
                "token",
                "pass",
                "pwd",
                "secret",
                "api",
                "access",
                "private",
                "auth",
                "credential",
                "bearer",
            ],
            r#"(?i)(?:^|[\s"'\[,(=])--?(?:[a-z0-9]+-)*(?:token|password|passwd|pass|pwd|secret|api-?key|access-?key|secret-?key|private-?key|auth|credentials?|bearer|passphrase)(?:\s*=\s*|\s+)(?:\\+"((?:[^"\\\r\n]|\\+[^"\\\r\n])*)\\+"|"([^"\r\n]*)"|'([^'\r\n]*)'|((?:[^\s"'\\]|\\[^"'\s])+))"#,
            None,
        ),
        rule(
            "credential value",
            LONG_KEY_WORDS,
            &kv_long,
            Some(key_value_is_secret),
        ),
        rule(
            "credential value",
            SHORT_KEY_WORDS,
            &kv_short,
            Some(key_value_is_secret),
        ),
        rule(
            "base64 blob",
            &[],
            r"[A-Za-z0-9+/]{64,}={0,2}",
            Some(not_a_digest),
        ),
    ];
    for p in PROVIDER_PATTERNS {
        let check: Option<Check> = if p.id == "kube-doctor:bootstrap-token" {
            Some(bootstrap_secret_has_digit)
        } else {
            None
        };
        rules.push(Rule {
            kind: p.kind(),
            re: Regex::new(p.pattern).unwrap_or_else(|e| panic!("provider pattern {}: {e}", p.id)),
            check,
            min_entropy: p.min_entropy,
            keywords: p.keywords,
        });
    }
    rules
});

/// All rules' keywords in one automaton, and for each keyword the rules it enables: one scan
/// of the text picks the few rules worth running (gitleaks' keyword prefilter). Measured on
/// a 264-byte log line: 48 µs with one RegexSet of all rules, 78 µs running every rule,
/// a few µs with this.
static KEYWORDS: LazyLock<(AhoCorasick, Vec<Vec<usize>>)> = LazyLock::new(|| {
    let mut words: Vec<&'static str> = Vec::new();
    let mut enables: Vec<Vec<usize>> = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        for w in rule.keywords {
            match words.iter().position(|x| x == w) {
                Some(k) => enables[k].push(i),
                None => {
                    words.push(w);
                    enables.push(vec![i]);
                }
            }
        }
    }
    let ac = AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&words)
        .expect("keywords are valid patterns");
    (ac, enables)
});

/// Which rules can match `view`: those without keywords and those with one present.
fn candidate_rules(view: &str) -> Vec<bool> {
    let (ac, enables) = &*KEYWORDS;
    let mut on: Vec<bool> = RULES.iter().map(|r| r.keywords.is_empty()).collect();
    for m in ac.find_overlapping_iter(view) {
        for &i in &enables[m.pattern().as_usize()] {
            on[i] = true;
        }
    }
    on
}

/// Shannon entropy of `s` in bits per character.
fn entropy(s: &str) -> f32 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = s.len() as f32;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = *c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// A credential rather than a word: a digit, or both cases over 16 characters.
fn looks_random(text: &str, span: std::ops::Range<usize>) -> bool {
    let s = &text[span];
    let digit = s.bytes().any(|b| b.is_ascii_digit());
    let mixed =
        s.bytes().any(|b| b.is_ascii_uppercase()) && s.bytes().any(|b| b.is_ascii_lowercase());
    digit || (mixed && s.len() >= 16) || s.len() >= 32
}

/// `Basic x`: only when x is base64 of `user:password` (so "Basic authentication" stays).
fn decodes_to_user_password(text: &str, span: std::ops::Range<usize>) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(&text[span])
        .is_ok_and(|d| d.contains(&b':'))
}

/// A 64+ character run that is a hash named as such (`sha256:<hex>`, image digests) is kept.
fn not_a_digest(text: &str, span: std::ops::Range<usize>) -> bool {
    let s = &text[span.clone()];
    let before = &text.as_bytes()[..span.start];
    let tail = &before[before.len().saturating_sub(7)..];
    let hash_prefix = [
        &b"sha256:"[..],
        b"sha512:",
        b"sha384:",
        b"sha1:",
        b"sha256=",
        b"sha512=",
    ]
    .iter()
    .any(|p| tail.len() >= p.len() && tail[tail.len() - p.len()..].eq_ignore_ascii_case(p));
    !(hash_prefix && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn bootstrap_secret_has_digit(text: &str, span: std::ops::Range<usize>) -> bool {
    text[span]
        .split_once('.')
        .is_some_and(|(_, secret)| secret.bytes().any(|b| b.is_ascii_digit()))
}

/// `key=value`: not when the key names metadata (`secretName=`) or the value is a
/// placeholder (`password=null`).
fn key_value_is_secret(text: &str, span: std::ops::Range<usize>) -> bool {
    // `Key: value` in prose ("failed to list *v1.Secret: secrets is forbidden") is not an
    // assignment: after a colon and a space, an unquoted value counts only when it looks
    // like a credential rather than a word.
    let before = text[..span.start].trim_end_matches([' ', '\t', '[']);
    let after_colon_space = before.ends_with(':') && text[..span.start].ends_with([' ', '\t', '[']);
    if after_colon_space && !value_looks_like_credential(&text[span.clone()]) {
        return false;
    }
    let value = text[span].trim();
    if value.is_empty() {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    !PLACEHOLDERS.contains(&lower.as_str())
        && !lower.trim_start_matches('[').starts_with("redacted")
}

/// Not a plain word: a digit, a symbol, or a long mixed-case run.
fn value_looks_like_credential(v: &str) -> bool {
    v.bytes()
        .any(|b| b.is_ascii_digit() || (b.is_ascii_punctuation() && b != b'.'))
        || (v.len() >= 12
            && v.bytes().any(|b| b.is_ascii_uppercase())
            && v.bytes().any(|b| b.is_ascii_lowercase()))
}

/// Whether the key of a key=value match names metadata about a secret.
fn key_is_metadata(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    let lower = lower.trim_end_matches(['"', '\'', '\\']);
    METADATA_SUFFIXES.iter().any(|suffix| {
        lower.len() > suffix.len() && lower.ends_with(suffix) && {
            // The suffix must follow the secret word or a separator: `secretName`,
            // `token_file`, `password-policy`; not the tail of `apikey` itself.
            let head = &lower[..lower.len() - suffix.len()];
            let head = head.trim_end_matches(['_', '.', '-']);
            head.ends_with("secret")
                || head.ends_with("token")
                || head.ends_with("password")
                || head.ends_with("passwd")
                || head.ends_with("credential")
                || head.ends_with("credentials")
                || head.ends_with("key")
                || head.ends_with("signature")
                || head.ends_with("auth")
        }
    })
}

/// A view of `text` of the same length in which terminal escape sequences, control
/// characters and the JSON escapes `\n`, `\r`, `\t`, `\u001b[...m` (also `\x1b[`, `\033[`,
/// `\e[`) are spaces, so rules that need a boundary see one. `None` when it would equal
/// `text`.
fn blanked_view(text: &str) -> Option<String> {
    let b = text.as_bytes();
    if !b
        .iter()
        .any(|c| *c < 0x20 || *c == 0x7f || *c == b'\\' || *c == 0xc2)
    {
        return None;
    }
    let mut out = b.to_vec();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // ESC [ params final, ESC ] ... BEL/ST, ESC x.
        if c == 0x1b {
            let end = csi_end(b, i + 1);
            out[i..end].fill(b' ');
            i = end;
            continue;
        }
        if c == b'\\' {
            let rest = &b[i + 1..];
            let intro = [&b"u001b"[..], b"u001B", b"x1b", b"x1B", b"033", b"e"]
                .iter()
                .find(|p| rest.starts_with(p))
                .map(|p| p.len());
            if let Some(n) = intro
                && rest.get(n) == Some(&b'[')
            {
                let end = csi_end(b, i + 1 + n);
                out[i..end].fill(b' ');
                i = end;
                continue;
            }
            if matches!(rest.first(), Some(b'n' | b'r' | b't')) {
                out[i] = b' ';
                out[i + 1] = b' ';
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        if c < 0x20 || c == 0x7f {
            out[i] = b' ';
        } else if c == 0xc2 && matches!(b.get(i + 1), Some(0x80..=0x9f)) {
            // C1 control characters (U+0080..U+009F).
            out[i] = b' ';
            out[i + 1] = b' ';
            i += 1;
        }
        i += 1;
    }
    // Only ASCII bytes were written over whole characters, so this is still UTF-8.
    String::from_utf8(out).ok()
}

/// End (exclusive) of an escape sequence whose introducer ends just before `at` (`at` is
/// after ESC, or after the letters of a written-out escape).
fn csi_end(b: &[u8], at: usize) -> usize {
    match b.get(at) {
        Some(b'[') => {
            let mut j = at + 1;
            while j < b.len() && (0x20..=0x3f).contains(&b[j]) {
                j += 1;
            }
            // A backslash is not taken as the final byte: in written-out escapes
            // (`\u001b[\t...`) it starts the next escape.
            if j < b.len() && (0x40..=0x7e).contains(&b[j]) && b[j] != b'\\' {
                j + 1
            } else {
                j
            }
        }
        Some(b']') => {
            let mut j = at + 1;
            while j < b.len() && b[j] != 0x07 && b[j] != 0x1b && b[j] != b'\n' {
                j += 1;
            }
            (j + 1).min(b.len())
        }
        Some(c) if c.is_ascii() => at + 1,
        _ => at,
    }
}

/// One found secret: a byte range of the text and its rule's kind.
#[derive(Debug, Clone, Copy)]
struct Find {
    start: usize,
    end: usize,
    kind: &'static str,
}

/// Every secret in `view` (a same-length view of the text), appended to `finds`.
fn find_all(view: &str, finds: &mut Vec<Find>) {
    let on = candidate_rules(view);
    for (rule, _) in RULES.iter().zip(on).filter(|(_, on)| *on) {
        // Not `captures_iter`: when a match is rejected (a metadata key, a placeholder, a
        // word), the search resumes inside it, at its value, so `nameenabled: password=x`
        // still finds `password=x` (found by fuzzing).
        let mut at = 0;
        while at <= view.len()
            && let Some(caps) = rule.re.captures_at(view, at)
        {
            let whole = caps.get(0).expect("group 0 always takes part");
            let next_char = whole.start()
                + view[whole.start()..]
                    .chars()
                    .next()
                    .map_or(1, char::len_utf8);
            at = whole.end().max(next_char);
            // The secret is the first group that took part; the key (group 1 of key=value
            // rules) is context, not secret.
            let is_kv = rule.kind == "credential value";
            let groups = if is_kv { 2 } else { 1 };
            let secret = (groups..caps.len()).find_map(|g| caps.get(g)).or(if is_kv {
                None
            } else {
                Some(whole)
            });
            let Some(secret) = secret else {
                at = next_char;
                continue;
            };
            let retry = secret.start().max(next_char);
            if secret.is_empty() {
                at = retry;
                continue;
            }
            if is_kv && caps.get(1).is_some_and(|k| key_is_metadata(k.as_str())) {
                at = retry;
                continue;
            }
            if let Some(check) = rule.check
                && !check(view, secret.range())
            {
                at = retry;
                continue;
            }
            if let Some(min) = rule.min_entropy
                && entropy(secret.as_str()) < min
            {
                at = retry;
                continue;
            }
            let mut start = secret.start();
            // `pw=>x`: the separator may be `=` and the value `>x` (a bare value right after
            // `=>`, with no space, is ambiguous), so the `>` goes too.
            let bare = caps.get(caps.len() - 1).is_some_and(|g| g.start() == start);
            if is_kv && bare && view[..start].ends_with("=>") {
                start -= 1;
            }
            finds.push(Find {
                start,
                end: secret.end(),
                kind: rule.kind,
            });
        }
    }
}

/// The redacted text, the counts by kind, and where each marker landed in the output.
fn redact_spans(text: &str) -> (String, BTreeMap<&'static str, u64>, Vec<(usize, usize)>) {
    let mut finds = Vec::new();
    find_all(text, &mut finds);
    if let Some(view) = blanked_view(text) {
        find_all(&view, &mut finds);
    }
    let mut counts = BTreeMap::new();
    if finds.is_empty() {
        return (text.to_string(), counts, Vec::new());
    }
    // Widen to char boundaries of the original (the blanked view can split a C1 control).
    for f in &mut finds {
        while !text.is_char_boundary(f.start) {
            f.start -= 1;
        }
        while !text.is_char_boundary(f.end) {
            f.end += 1;
        }
    }
    finds.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut merged: Vec<Find> = Vec::with_capacity(finds.len());
    for f in finds {
        match merged.last_mut() {
            Some(last) if f.start < last.end => last.end = last.end.max(f.end),
            _ => merged.push(f),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut markers = Vec::with_capacity(merged.len());
    let mut at = 0;
    for f in merged {
        out.push_str(&text[at..f.start]);
        let start = out.len();
        out.push_str("[REDACTED:");
        out.push_str(f.kind);
        out.push(']');
        markers.push((start, out.len()));
        *counts.entry(f.kind).or_insert(0) += 1;
        at = f.end;
    }
    out.push_str(&text[at..]);
    (out, counts, markers)
}

/// Redacts one piece of text; returns the text and how many of each kind were removed.
pub fn redact(text: &str) -> (String, BTreeMap<&'static str, u64>) {
    let (out, counts, _) = redact_spans(text);
    (out, counts)
}

/// Redacts `text` and then shortens it to at most `max_chars` characters (a final `…`
/// included when it was cut), on a char boundary and never inside a `[REDACTED:...]`
/// marker. Redaction comes first, so a secret crossing the cut is removed whole rather than
/// leaving its prefix. Only the first `max_chars` characters plus [`LOOKAHEAD`] bytes are
/// examined, so a huge input costs no more than a short one. `max_chars` of 0 gives "".
pub fn redact_truncated(text: &str, max_chars: usize) -> (String, BTreeMap<&'static str, u64>) {
    if max_chars == 0 {
        return (String::new(), BTreeMap::new());
    }
    // Byte offset just past max_chars characters, then the look-ahead.
    let cut_bytes = text
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| i);
    let mut window_end = cut_bytes.saturating_add(LOOKAHEAD).min(text.len());
    while !text.is_char_boundary(window_end) {
        window_end -= 1;
    }
    let (out, counts, markers) = redact_spans(&text[..window_end]);
    let longer = window_end < text.len() || out.chars().count() > max_chars;
    if !longer {
        return (out, counts);
    }
    // Keep max_chars - 1 characters and the ellipsis.
    let mut keep = out
        .char_indices()
        .nth(max_chars - 1)
        .map_or(out.len(), |(i, _)| i);
    // Never cut a marker: drop it whole (its count stays, the secret was removed).
    if let Some((start, _)) = markers.iter().find(|(s, e)| *s < keep && keep < *e) {
        keep = *start;
    }
    // Markers past the cut still removed their secrets, so the counts keep them.
    let mut cut = out[..keep].to_string();
    cut.push('…');
    (cut, counts)
}

/// Query and fragment keys whose values are secrets in a URL (`?access_token=`, `?key=`,
/// `?sig=`, `X-Amz-Signature`).
fn url_key_is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase().replace(['-', '.'], "_");
    let exact = [
        "key",
        "sig",
        "code",
        "auth",
        "pass",
        "pw",
        "pwd",
        "jwt",
        "sid",
        "session",
        "apikey",
        "x_amz_credential",
        "x_goog_credential",
        "client_id",
    ];
    exact.contains(&k.as_str())
        || [
            "token",
            "secret",
            "password",
            "passwd",
            "api_key",
            "apikey",
            "signature",
            "credential",
            "access_key",
            "private_key",
            "sessionid",
            "session_id",
            "auth_",
            "_auth",
        ]
        .iter()
        .any(|w| k.contains(w))
}

/// A path segment that looks like a credential: long, with letters and digits mixed.
fn segment_is_secret(seg: &str) -> bool {
    seg.len() >= 20
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~=+%".contains(&b))
        && seg.bytes().any(|b| b.is_ascii_digit())
        && seg.bytes().any(|b| b.is_ascii_alphabetic())
}

static URL_RE: LazyLock<Regex> = LazyLock::new(|| {
    // RFC 3986, Appendix B: the generic splitting of a URI reference.
    Regex::new(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$")
        .expect("RFC 3986 pattern is valid")
});

/// A URL given to kube-doctor (a Prometheus URL, a webhook URL), made safe to print and
/// store: userinfo is dropped (`https://[REDACTED:url credentials]@host`), secret-looking
/// query and fragment values become `[REDACTED:url query secret]` (other query parameters are
/// kept), path segments that look like credentials (long, mixed letters and digits, as in
/// Slack or generic webhook paths) become `[REDACTED:url path secret]`, and the text redactor runs over the result. Not a parser for making
/// requests: the URL is split as RFC 3986 Appendix B does and never normalised.
pub fn redact_url(url: &str) -> String {
    redact_url_counted(url).0
}

/// [`redact_url`], with the counts by kind.
pub fn redact_url_counted(url: &str) -> (String, BTreeMap<&'static str, u64>) {
    let mut counts: BTreeMap<&'static str, u64> = BTreeMap::new();
    let Some(c) = URL_RE.captures(url.trim()) else {
        return redact(url);
    };
    let mut out = String::with_capacity(url.len());
    if let Some(scheme) = c.get(1) {
        out.push_str(scheme.as_str());
        out.push(':');
    }
    if let Some(auth) = c.get(2) {
        out.push_str("//");
        match auth.as_str().rsplit_once('@') {
            Some((_, host)) => {
                out.push_str("[REDACTED:url credentials]@");
                out.push_str(host);
                *counts.entry("url credentials").or_insert(0) += 1;
            }
            None => out.push_str(auth.as_str()),
        }
    }
    let path = c.get(3).map_or("", |m| m.as_str());
    let mut first = true;
    for seg in path.split('/') {
        if !first {
            out.push('/');
        }
        first = false;
        if segment_is_secret(seg) {
            out.push_str("[REDACTED:url path secret]");
            *counts.entry("url path secret").or_insert(0) += 1;
        } else {
            out.push_str(seg);
        }
    }
    let mut params = |text: &str, out: &mut String| {
        let mut first = true;
        for pair in text.split('&') {
            if !first {
                out.push('&');
            }
            first = false;
            match pair.split_once('=') {
                Some((k, v)) if !v.is_empty() && url_key_is_secret(k) => {
                    out.push_str(k);
                    out.push_str("=[REDACTED:url query secret]");
                    *counts.entry("url query secret").or_insert(0) += 1;
                }
                _ => out.push_str(pair),
            }
        }
    };
    if let Some(q) = c.get(4) {
        out.push('?');
        params(q.as_str(), &mut out);
    }
    if let Some(f) = c.get(5) {
        out.push('#');
        params(f.as_str(), &mut out);
    }
    let (out, more) = redact(&out);
    for (k, n) in more {
        *counts.entry(k).or_insert(0) += n;
    }
    (out, counts)
}

/// Collects redaction counts across many calls.
#[derive(Debug, Default, Clone)]
pub struct Redactor {
    counts: BTreeMap<&'static str, u64>,
}

impl Redactor {
    fn add(&mut self, counts: BTreeMap<&'static str, u64>) {
        for (k, n) in counts {
            *self.counts.entry(k).or_insert(0) += n;
        }
    }

    /// Redacts `text`, remembering what was removed.
    pub fn redact(&mut self, text: &str) -> String {
        let (out, counts) = redact(text);
        self.add(counts);
        out
    }

    /// Redacts `text`, then cuts it to `max_chars` characters ([`redact_truncated`]),
    /// remembering what was removed.
    pub fn redact_truncated(&mut self, text: &str, max_chars: usize) -> String {
        let (out, counts) = redact_truncated(text, max_chars);
        self.add(counts);
        out
    }

    /// A URL made safe to print and store ([`redact_url`]), remembering what was removed.
    pub fn redact_url(&mut self, url: &str) -> String {
        let (out, counts) = redact_url_counted(url);
        self.add(counts);
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
        let line = r#"curl -H "Authorization: Bearer abcdefghijklmnop1" token=s3cr3tvalue eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"#;
        let (out, counts) = redact(line);
        assert!(!out.contains("abcdefghijklmnop1"), "{out}");
        assert!(!out.contains("s3cr3tvalue"), "{out}");
        assert!(!out.contains("eyJzdWIiOiJ4In0"), "{out}");
        assert_eq!(counts.get("jwt"), Some(&1));
        assert_eq!(counts.get("bearer token"), Some(&1));
    }

    #[test]
    fn ordinary_error_lines_survive() {
        for line in [
            r#"E0101 reflector.go:1] pods is forbidden: User "system:serviceaccount:demo:app" cannot list resource "pods" in API group "" in the namespace "demo""#,
            r#"I0101 12:00:00.000000 1 event.go:1] "Event occurred" object="demo/app" kind="Pod" reason="FailedMount" message="MountVolume.SetUp failed for volume \"token\" : secret \"app-token\" not found""#,
            "Unauthorized: invalid bearer token, token lookup failed",
            "webhook bypass=false compass=north authority=example.com",
            r#"Failed to pull image "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef""#,
            r#"{"msg":"reconciled","secretName":"db-creds","tokenFile":"/var/run/secrets/token"}"#,
            "Basic authentication failed for user admin",
        ] {
            let (out, counts) = redact(line);
            assert_eq!(out, line, "{counts:?}");
        }
    }

    #[test]
    fn private_keys_are_removed() {
        let (out, _) =
            redact("x -----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY----- y");
        assert_eq!(out, "x [REDACTED:private key] y");
    }

    #[test]
    fn replacements_are_not_matched_again_and_overlaps_count_once() {
        let (out, counts) = redact("password=ghp_0123456789abcdefghijABCDEFGHIJ012345");
        assert_eq!(out, "password=[REDACTED:credential value]");
        assert_eq!(counts.values().sum::<u64>(), 1, "{counts:?}");
    }

    #[test]
    fn truncation_never_keeps_a_prefix_or_cuts_a_marker() {
        let token = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let line = format!("{}{token} tail", "x ".repeat(295));
        for cut in 591..640 {
            let (out, counts) = redact_truncated(&line, cut);
            assert!(!out.contains("ghp_"), "cut {cut}: {out}");
            assert!(out.chars().count() <= cut, "cut {cut}");
            assert_eq!(counts.get("github-pat"), Some(&1));
            assert!(!out.contains("[REDACTED:git…"), "{out}");
        }
        let (short, _) = redact_truncated("short", 600);
        assert_eq!(short, "short");
        let (cut, _) = redact_truncated("äöü", 2);
        assert_eq!(cut, "ä…");
    }

    #[test]
    fn urls_lose_credentials_and_keep_the_rest() {
        assert_eq!(
            redact_url("http://user:pa%40ss@prometheus:9090/api?dedup=true&access_token=abc"),
            "http://[REDACTED:url credentials]@prometheus:9090/api?dedup=true&access_token=[REDACTED:url query secret]"
        );
        assert_eq!(
            redact_url("k8s://monitoring/prometheus-k8s:9090"),
            "k8s://monitoring/prometheus-k8s:9090"
        );
        let hook = redact_url(
            "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/abcdefGHIJKL0123456789xy",
        );
        assert!(!hook.contains("abcdefGHIJKL0123456789xy"), "{hook}");
        assert_eq!(redact_url("not a url at all"), "not a url at all");
    }

    /// The keyword prefilter is sound on real text: every match of every rule, run without
    /// the prefilter over the secret corpus and ordinary lines, holds one of its keywords.
    #[test]
    fn every_match_holds_a_keyword_of_its_rule() {
        let corpus = include_str!("../tests/fixtures/secrets/corpus.tsv");
        let plain = include_str!("../tests/fixtures/secrets/not-secrets.txt");
        let mut texts: Vec<String> = Vec::new();
        for l in corpus.lines().filter(|l| !l.starts_with('#')) {
            let mut f = l.split('\t');
            let (_, Some(secret), Some(template)) = (f.next(), f.next(), f.next()) else {
                continue;
            };
            let line = template.replace("\\n", "\n").replace("{S}", secret);
            texts.push(serde_json::to_string(&line).unwrap());
            texts.push(line);
        }
        texts.extend(plain.lines().map(str::to_string));
        let mut checked = 0;
        for rule in RULES.iter().filter(|r| !r.keywords.is_empty()) {
            for text in &texts {
                for m in rule.re.find_iter(text) {
                    let found = m.as_str().to_ascii_lowercase();
                    assert!(
                        rule.keywords.iter().any(|k| found.contains(k)),
                        "{}: match {:?} holds none of {:?}",
                        rule.kind,
                        m.as_str(),
                        rule.keywords
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 100, "{checked} matches checked");
        // And every keyword is lowercase, as the check above assumes.
        for rule in RULES.iter() {
            for k in rule.keywords {
                assert_eq!(*k, k.to_ascii_lowercase(), "{}", rule.kind);
            }
        }
    }
}
