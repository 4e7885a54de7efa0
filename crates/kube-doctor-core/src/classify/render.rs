//! Output of `kube-doctor classify`: one JSON object per input line (the contract), a text
//! table, or a summary of counts. Writers take `&mut dyn Write`; nothing here prints.
//!
//! JSON lines (contract, DESIGN.md "Error-line categories"):
//! `{"line":"...","category":"...","http_code":403|null,"client":"client-go"|null}`, in input
//! order, exactly one per input line. Extensions, present only when they apply:
//! `"expected":true` (watch reconnects and 410 relists), `"authz":{user,verb,resource,...}`
//! (RBAC denials), `"truncated":true` (a line cut at the size limit), `"continues":N` (the line
//! belongs to the multi-line error event that starts on line N, which carries the event's
//! verdict; the line itself is `none` so that the event counts once), `"nul_prefix":N` (N NUL
//! bytes opening the line were skipped). Invalid UTF-8 is replaced with U+FFFD; NUL and other
//! control bytes are JSON-escaped.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::Classification;
use crate::category::Category;

/// What a line's JSON or text carries besides its verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineExtras {
    /// The line was cut at the size limit.
    pub truncated: bool,
    /// The line continues the error event that starts on this line number.
    pub continues: Option<u64>,
    /// NUL bytes opening the line that were skipped.
    pub nul_prefix: u64,
}

/// Writes one JSON line for `line`.
pub fn write_jsonl(
    out: &mut dyn Write,
    line: &[u8],
    c: &Classification,
    truncated: bool,
) -> io::Result<()> {
    let extras = LineExtras {
        truncated,
        ..LineExtras::default()
    };
    write_jsonl_with(out, line, c, &extras)
}

/// Writes one JSON line for `line`, with the extensions in `extras`.
pub fn write_jsonl_with(
    out: &mut dyn Write,
    line: &[u8],
    c: &Classification,
    extras: &LineExtras,
) -> io::Result<()> {
    out.write_all(b"{\"line\":")?;
    write_json_str(out, line)?;
    out.write_all(b",\"category\":\"")?;
    out.write_all(c.category.as_str().as_bytes())?;
    out.write_all(b"\",\"http_code\":")?;
    match c.http_code {
        Some(code) => write!(out, "{code}")?,
        None => out.write_all(b"null")?,
    }
    out.write_all(b",\"client\":")?;
    match c.client {
        Some(cl) => write!(out, "\"{}\"", cl.as_str())?,
        None => out.write_all(b"null")?,
    }
    if c.expected {
        out.write_all(b",\"expected\":true")?;
    }
    if let Some(a) = &c.authz {
        out.write_all(b",\"authz\":")?;
        crate::escape::write_safe_json(&mut *out, a, false).map_err(io::Error::other)?;
    }
    if extras.truncated {
        out.write_all(b",\"truncated\":true")?;
    }
    if let Some(head) = extras.continues {
        write!(out, ",\"continues\":{head}")?;
    }
    if extras.nul_prefix > 0 {
        write!(out, ",\"nul_prefix\":{}", extras.nul_prefix)?;
    }
    out.write_all(b"}\n")
}

/// Writes one text line: `category  code  client  line`.
pub fn write_text(
    out: &mut dyn Write,
    line: &[u8],
    c: &Classification,
    truncated: bool,
) -> io::Result<()> {
    let extras = LineExtras {
        truncated,
        ..LineExtras::default()
    };
    write_text_with(out, line, c, &extras)
}

/// Writes one text line: `category  code  client  line`, the line's control characters
/// escaped (it is cluster text: a terminal must not interpret it), then the extras in brackets.
pub fn write_text_with(
    out: &mut dyn Write,
    line: &[u8],
    c: &Classification,
    extras: &LineExtras,
) -> io::Result<()> {
    let code = c.http_code.map_or("-".to_string(), |c| c.to_string());
    let client = c.client.map_or("-", |c| c.as_str());
    write!(
        out,
        "{:<19} {:>3} {:<18} ",
        c.category.as_str(),
        code,
        client
    )?;
    out.write_all(escape_text(&String::from_utf8_lossy(line)).as_bytes())?;
    if extras.truncated {
        out.write_all(b" [truncated]")?;
    }
    if let Some(head) = extras.continues {
        write!(out, " [continues line {head}]")?;
    }
    if extras.nul_prefix > 0 {
        write!(out, " [{} NUL bytes skipped]", extras.nul_prefix)?;
    }
    out.write_all(b"\n")
}

/// `text` with control characters (C0, DEL, C1), line separators, bidirectional controls and
/// zero-width characters (the set the report renderers replace, `crate::escape`) escaped as
/// `\u{..}`, and backslashes doubled: safe to print on a terminal, one line.
pub fn escape_text(text: &str) -> String {
    let needs = |ch: char| ch == '\\' || crate::escape::needs_escape(ch);
    if !text.chars().any(needs) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if needs(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A message for stderr: escaped ([`escape_text`]) and cut to `max` characters, so that it
/// stays one line of bounded length whatever the input named in it.
pub fn one_line(text: &str, max: usize) -> String {
    let escaped = escape_text(text);
    if escaped.chars().count() <= max {
        return escaped;
    }
    let mut cut: String = escaped.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Writes `bytes` as a JSON string, fast when nothing needs escaping.
pub fn write_json_str(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    // ASCII without quotes, backslashes or controls needs no escaping; anything else goes
    // through [`crate::escape::SafeJson`] (bidirectional and invisible characters too).
    let plain = bytes
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x80);
    if plain {
        out.write_all(b"\"")?;
        out.write_all(bytes)?;
        return out.write_all(b"\"");
    }
    let text = String::from_utf8_lossy(bytes);
    crate::escape::write_safe_json(out, text.as_ref(), false).map_err(io::Error::other)
}

/// Counts for `-o summary`: what the benchmark compares with `grep -c`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// API client errors (category other than `none`), a multi-line event counted once.
    pub error_lines: u64,
    /// Of those, events that spanned several lines.
    pub multi_line_errors: u64,
    /// Lines cut at the size limit.
    pub truncated_lines: u64,
    /// Lines per category (errors only).
    pub categories: BTreeMap<Category, u64>,
    /// Lines per client library (errors only).
    pub clients: BTreeMap<String, u64>,
    /// Lines per HTTP code (errors only).
    pub http_codes: BTreeMap<u16, u64>,
}

impl Summary {
    /// Adds one event (its lines are counted in `lines` by the caller).
    pub fn add_event(&mut self, e: &super::EventVerdict) {
        if e.is_error() && e.lines() > 1 {
            self.multi_line_errors += 1;
        }
        self.add(e.classification());
    }

    /// Adds one classified error line.
    pub fn add(&mut self, c: &Classification) {
        if !c.category.is_error() {
            return;
        }
        self.error_lines += 1;
        *self.categories.entry(c.category).or_default() += 1;
        if let Some(cl) = c.client {
            *self.clients.entry(cl.as_str().to_string()).or_default() += 1;
        }
        if let Some(code) = c.http_code {
            *self.http_codes.entry(code).or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {

    /// `classify -o text` hides nothing the reports would replace: bidirectional marks (U+200E,
    /// U+200F, U+061C), zero-width characters, the byte-order mark and line separators are
    /// written as escapes (a new user found them passed through raw).
    #[test]
    fn text_output_escapes_invisible_and_bidi_characters() {
        let line = "a\u{200e}b\u{200f}c\u{61c}d\u{200b}e\u{feff}f\u{2028}g\u{2029}h\u{2066}i";
        assert_eq!(
            escape_text(line),
            "a\\u{200e}b\\u{200f}c\\u{61c}d\\u{200b}e\\u{feff}f\\u{2028}g\\u{2029}h\\u{2066}i"
        );
        assert_eq!(escape_text("plain \\ text"), "plain \\\\ text");
    }
    use super::*;
    use crate::classify::Classifier;

    fn jsonl(line: &[u8]) -> serde_json::Value {
        let c = Classifier::new().classify(line);
        let mut out = vec![];
        write_jsonl(&mut out, line, &c, false).unwrap();
        assert_eq!(out.last(), Some(&b'\n'));
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn contract_fields_are_present_for_ordinary_lines() {
        let v = jsonl(b"all good");
        assert_eq!(
            v,
            serde_json::json!({"line": "all good", "category": "none", "http_code": null, "client": null})
        );
    }

    #[test]
    fn quotes_controls_and_invalid_utf8_are_escaped() {
        let v = jsonl(b"say \"hi\"\t\\ \xff end");
        assert_eq!(v["line"], "say \"hi\"\t\\ \u{fffd} end");
        let v = jsonl("caf\u{e9} ok".as_bytes());
        assert_eq!(v["line"], "caf\u{e9} ok");
    }

    #[test]
    fn extras_are_written_only_when_they_apply() {
        let c = Classification::NONE;
        let mut out = vec![];
        let extras = LineExtras {
            truncated: false,
            continues: Some(7),
            nul_prefix: 3,
        };
        write_jsonl_with(&mut out, b"\0x", &c, &extras).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["continues"], 7);
        assert_eq!(v["nul_prefix"], 3);
        assert_eq!(v["line"], "\u{0}x");
        let mut out = vec![];
        write_text_with(&mut out, b"a\x1b[31mred\x00\xff", &c, &extras).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("a\\u{1b}[31mred\\u{0}\u{fffd}"), "{text}");
        assert!(
            text.ends_with("[continues line 7] [3 NUL bytes skipped]\n"),
            "{text}"
        );
    }

    #[test]
    fn stderr_messages_are_one_bounded_line() {
        assert_eq!(one_line("a\nb\u{202e}c", 100), "a\\nb\\u{202e}c");
        let long = "x".repeat(500);
        assert_eq!(one_line(&long, 10).chars().count(), 10);
    }

    #[test]
    fn error_lines_carry_code_client_and_authz() {
        let v = jsonl(br#"E0101 reflector.go:1] pods is forbidden: User "u" cannot list resource "pods" in API group "" in the namespace "demo""#);
        assert_eq!(v["category"], "authorization");
        assert_eq!(v["http_code"], 403);
        assert_eq!(v["client"], "client-go");
        assert_eq!(v["authz"]["verb"], "list");
        assert_eq!(v["authz"]["namespace"], "demo");
    }
}
