//! `-o markdown`: the report for a ticket. Every string from the cluster is escaped, so an
//! object named `*bold*` or `</details>` renders as written and cannot break the document.

use std::io::{self, Write};

use super::Report;
use crate::diagnose::fmt_time;

/// Escapes Markdown and HTML-in-Markdown metacharacters.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '!' | '|'
            | '~' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            // Control, bidirectional and zero-width characters (`escape::needs_escape`).
            c if crate::escape::needs_escape(c) => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

/// A code fence longer than any run of backticks in `body`.
fn fence(body: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in body.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// Writes the Markdown report.
pub fn render(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    writeln!(out, "# kube-doctor report\n")?;
    writeln!(
        out,
        "Cluster {} · window {} → {}\n",
        escape(&r.cluster.server),
        fmt_time(r.window.from),
        fmt_time(r.window.to)
    )?;
    writeln!(out, "## {}\n", super::clients_heading(r))?;
    let (clients_line, verdicts_line) = super::headlines(r);
    if r.clients.is_empty() {
        writeln!(out, "{}\n", escape(&clients_line))?;
    } else {
        writeln!(out, "| client | errors | onset | pattern | categories |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for c in &r.clients {
            let [client, errors, onset, pattern, cats] = super::client_cells(c);
            writeln!(
                out,
                "| {} | {errors} | {onset} | {pattern} | {} |",
                escape(&client),
                escape(&cats)
            )?;
        }
        writeln!(out)?;
    }
    if let Some(quiet) = r.under_threshold.sentence() {
        writeln!(out, "{}\n", escape(&quiet))?;
    }
    writeln!(out, "## Diagnosis\n")?;
    if r.verdicts.is_empty() {
        writeln!(out, "{}\n", escape(&verdicts_line))?;
    }
    for (i, v) in r.verdicts.iter().enumerate() {
        writeln!(
            out,
            "### {}. `{}` ({:.0} %) — {}\n",
            i + 1,
            v.cause.as_str(),
            v.confidence * 100.0,
            v.cause.title()
        )?;
        writeln!(out, "{}\n", escape(&v.summary))?;
        writeln!(out, "**Evidence**\n")?;
        writeln!(out, "| step | object | at | detail |")?;
        writeln!(out, "|---|---|---|---|")?;
        for e in &v.evidence {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                e.step,
                escape(&e.reference),
                e.at.map_or(String::new(), fmt_time),
                escape(&e.detail)
            )?;
        }
        writeln!(out, "\n**What to do**\n")?;
        for step in &v.remediation {
            let mut parts = step.splitn(2, '\n');
            let first = parts.next().unwrap_or_default();
            writeln!(out, "- {}", escape(first))?;
            if let Some(body) = parts.next() {
                let f = fence(body);
                writeln!(out, "\n  {f}yaml")?;
                for l in body.lines() {
                    writeln!(out, "  {l}")?;
                }
                writeln!(out, "  {f}\n")?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "## Playbook steps\n")?;
    writeln!(out, "| step | title | status | ms | API requests | note |")?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for s in &r.steps {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            s.step,
            s.title,
            format!("{:?}", s.status).to_lowercase(),
            s.duration_ms,
            s.api_requests,
            escape(s.note.as_deref().unwrap_or_default())
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_are_inert() {
        assert_eq!(escape("*x*|<b>"), "\\*x\\*\\|&lt;b&gt;");
        assert_eq!(escape("a\nb"), "a b");
        // Trojan Source: a right-to-left override from a log line must not reorder the report.
        assert_eq!(escape("a\u{202e}b\u{2066}c\u{200b}d"), "a?b?c?d");
        assert_eq!(fence("x ``` y"), "````");
    }
}
