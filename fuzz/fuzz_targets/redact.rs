//! The redactor. Properties: never panics on any text, cut or URL; a secret planted in
//! arbitrary text (one of 16 shapes, its random part drawn by the fuzzer) never survives
//! `redact`, `redact_truncated` at any cut, or redaction of the line JSON-encoded; a cut
//! never keeps a secret's prefix; the output is never longer than the cut.
#![no_main]

use arbitrary::Arbitrary;
use kube_doctor_core::redact::{redact, redact_truncated, redact_url};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct In<'a> {
    prefix: &'a str,
    suffix: &'a str,
    shape: u8,
    body: Vec<u8>,
    separator: u8,
    cut: u16,
    json: bool,
}

const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const B64: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
const B64URL: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
const AWS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const PASSWORD: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%()*+-./:<=>?@^_|~";

/// (text before, alphabet, length, text after) of each planted shape.
const SHAPES: &[(&str, &[u8], usize, &str)] = &[
    ("ghp_", ALNUM, 36, ""),
    ("AKIA", AWS, 16, ""),
    ("xoxb-1234567890-1234567890123-", ALNUM, 24, ""),
    ("password=", PASSWORD, 12, ""),
    ("Authorization: Bearer 7", ALNUM, 24, ""),
    ("https://deploy:", ALNUM, 14, "@git.example.com/repo"),
    ("--token ", ALNUM, 20, ""),
    (
        "eyJhbGciOiJSUzI1NiJ9.eyJ",
        B64URL,
        40,
        ".c2lnbmF0dXJlLXBhcnQ",
    ),
    (
        "-----BEGIN PRIVATE KEY-----\n",
        B64,
        64,
        "\n-----END PRIVATE KEY-----",
    ),
    ("glpat-", B64URL, 20, ""),
    ("{\"token\":\"", PASSWORD, 16, "\"}"),
    ("sk_live_", ALNUM, 24, ""),
    ("hvs.", B64URL, 90, ""),
    ("AIza", B64URL, 35, ""),
    ("Cookie: session=", ALNUM, 24, "; Path=/"),
    ("pw=", PASSWORD, 10, ""),
];

const SEPARATORS: &[&str] = &[" ", "\n", "\t", "\r\n", " \u{1b}[0m ", "\u{0} "];

fuzz_target!(|input: In<'_>| {
    // Never panics, whatever the text (the planted line below covers `redact` and
    // `redact_truncated` on the prefix too).
    let _ = redact_url(input.prefix);

    let (before, alphabet, len, after) = SHAPES[usize::from(input.shape) % SHAPES.len()];
    if input.body.len() < len {
        return;
    }
    let secret: String = input.body[..len]
        .iter()
        .map(|b| alphabet[usize::from(*b) % alphabet.len()] as char)
        .collect();
    let sep = SEPARATORS[usize::from(input.separator) % SEPARATORS.len()];
    let planted = format!("{before}{secret}{after}");
    let mut line = format!("{}{sep}{planted}{sep}{}", input.prefix, input.suffix);
    if input.json {
        line = serde_json::to_string(&line).unwrap();
    }
    // The property holds only when the rest of the text does not carry the secret itself.
    if input.prefix.contains(&secret[..8]) || input.suffix.contains(&secret[..8]) {
        return;
    }
    let (out, _) = redact(&line);
    assert!(
        !out.contains(&secret),
        "planted secret survived:\n  in:  {line:?}\n  out: {out:?}"
    );
    let cut = usize::from(input.cut);
    let (short, _) = redact_truncated(&line, cut);
    assert!(
        short.chars().count() <= cut.max(0),
        "longer than the cut {cut}"
    );
    assert!(
        !short.contains(&secret),
        "planted secret survived a cut at {cut}: {short:?}"
    );
    let kept = short.strip_suffix('…').unwrap_or(&short);
    if !input.json && line.starts_with(kept) {
        // Where it was planted (not `find`: the text before it may end like it begins).
        let secret_at = input.prefix.len() + sep.len() + before.len();
        assert!(
            kept.len() <= secret_at,
            "a cut at {cut} kept the secret's first {} bytes: {short:?}",
            kept.len() - secret_at
        );
    }
});
