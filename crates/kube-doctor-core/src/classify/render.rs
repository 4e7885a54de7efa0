//! Output of `kube-doctor classify`: one JSON object per input line (the contract), a text
//! table, or a summary of counts. Writers take `&mut dyn Write`; nothing here prints.
//!
//! JSON lines (contract, DESIGN.md "Error-line categories"):
//! `{"line":"...","category":"...","http_code":403|null,"client":"client-go"|null}`, in input
//! order. Extensions, present only when they apply: `"expected":true` (watch reconnects and 410
//! relists), `"authz":{user,verb,resource,...}` (RBAC denials), `"truncated":true` (a line cut at
//! the size limit). Invalid UTF-8 is replaced with U+FFFD.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use super::Classification;
use crate::category::Category;

/// Writes one JSON line for `line`.
pub fn write_jsonl(
    out: &mut dyn Write,
    line: &[u8],
    c: &Classification,
    truncated: bool,
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
        serde_json::to_writer(&mut *out, a).map_err(io::Error::other)?;
    }
    if truncated {
        out.write_all(b",\"truncated\":true")?;
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
    let code = c.http_code.map_or("-".to_string(), |c| c.to_string());
    let client = c.client.map_or("-", |c| c.as_str());
    write!(
        out,
        "{:<19} {:>3} {:<18} ",
        c.category.as_str(),
        code,
        client
    )?;
    out.write_all(&String::from_utf8_lossy(line).into_owned().into_bytes())?;
    if truncated {
        out.write_all(b" [truncated]")?;
    }
    out.write_all(b"\n")
}

/// Writes `bytes` as a JSON string, fast when nothing needs escaping.
pub fn write_json_str(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    let plain = bytes
        .iter()
        .all(|&b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x80);
    if plain {
        out.write_all(b"\"")?;
        out.write_all(bytes)?;
        return out.write_all(b"\"");
    }
    let text = String::from_utf8_lossy(bytes);
    serde_json::to_writer(out, text.as_ref()).map_err(io::Error::other)
}

/// Counts for `-o summary`: what the benchmark compares with `grep -c`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Lines read.
    pub lines: u64,
    /// Lines that are API client errors (category other than `none`).
    pub error_lines: u64,
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
    fn error_lines_carry_code_client_and_authz() {
        let v = jsonl(br#"E0101 reflector.go:1] pods is forbidden: User "u" cannot list resource "pods" in API group "" in the namespace "demo""#);
        assert_eq!(v["category"], "authorization");
        assert_eq!(v["http_code"], 403);
        assert_eq!(v["client"], "client-go");
        assert_eq!(v["authz"]["verb"], "list");
        assert_eq!(v["authz"]["namespace"], "demo");
    }
}
