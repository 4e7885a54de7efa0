//! `-o text`: the report for a terminal. Colour (ANSI) only when asked for (a TTY); a compact
//! timeline of onsets and evidence at the end.

use std::io::{self, Write};

use super::{Report, timeline};
use crate::diagnose::fmt_time;

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
}

/// Strips control characters from cluster-provided text, so a hostile string cannot move the
/// cursor or recolour the terminal.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() && c != '\n' { '?' } else { c })
        .collect()
}

/// A one-line field (a summary, an evidence detail, a label, a note): cluster text in it, a
/// newline included, is escaped ([`crate::escape::one_line`]), so an Event message or a log
/// line cannot start a line of its own that reads like the report's.
fn line(s: &str) -> String {
    crate::escape::one_line(s, 100_000)
}

/// Writes the text report.
pub fn render(out: &mut dyn Write, r: &Report, color: bool) -> io::Result<()> {
    let st = Style { on: color };
    writeln!(
        out,
        "{} {} {}",
        st.bold("kube-doctor"),
        st.dim(&line(&r.cluster.server)),
        st.dim(&format!(
            "window {} → {}",
            fmt_time(r.window.from),
            fmt_time(r.window.to)
        ))
    )?;
    writeln!(out)?;
    let (clients_line, verdicts_line) = super::headlines(r);
    let blind = matches!(r.outcome(), super::Outcome::Blind(_));
    let headline = |s: &str| if blind { st.yellow(s) } else { st.green(s) };
    if r.clients.is_empty() {
        writeln!(out, "{}", headline(&line(&clients_line)))?;
    } else {
        writeln!(out, "{}", st.bold(super::clients_heading(r)))?;
        for c in &r.clients {
            let id = match super::who(c) {
                Some(who) => format!("{} ({})", c.id, who),
                None => c.id.clone(),
            };
            writeln!(
                out,
                "  {}  {}  {}  {}",
                st.bold(&line(&id)),
                st.red(&format!(
                    "{:.1} % errors{}{}",
                    c.error_ratio * 100.0,
                    super::peak_note(c),
                    super::noise_note(c)
                )),
                super::onset_text(c, "since "),
                st.dim(&format!(
                    "{} · {}",
                    format!("{:?}", c.pattern).to_lowercase(),
                    line(&super::categories_text(c, 3))
                ))
            )?;
        }
    }
    if let Some(quiet) = r.under_threshold.sentence() {
        writeln!(out, "  {}", st.dim(&line(&quiet)))?;
    }
    writeln!(out)?;
    if r.verdicts.is_empty() {
        writeln!(out, "{}", headline(&verdicts_line))?;
        writeln!(out)?;
    }
    for (i, v) in r.verdicts.iter().enumerate() {
        let conf = format!("{:.0}% confidence", v.confidence * 100.0);
        let conf = if v.confidence >= 0.7 {
            st.red(&conf)
        } else {
            st.yellow(&conf)
        };
        writeln!(
            out,
            "{} {} {} — {}",
            st.bold(&format!("{}.", i + 1)),
            st.bold(v.cause.as_str()),
            conf,
            v.cause.title()
        )?;
        writeln!(out, "   {}", line(&v.summary))?;
        writeln!(out, "   {}", st.dim("Evidence:"))?;
        for e in &v.evidence {
            writeln!(
                out,
                "     [{}] {} {} {}",
                e.step,
                line(&e.reference),
                st.dim(&e.at.map_or(String::new(), fmt_time)),
                line(&e.detail)
            )?;
        }
        writeln!(out, "   {}", st.dim("Do:"))?;
        for step in &v.remediation {
            let mut lines = step.lines();
            if let Some(first) = lines.next() {
                writeln!(out, "     - {}", clean(first))?;
            }
            for l in lines {
                writeln!(out, "         {}", clean(l))?;
            }
        }
        writeln!(out)?;
    }
    let events = timeline(r);
    if !events.is_empty() {
        writeln!(out, "{}", st.bold("Timeline"))?;
        for t in events.iter().take(20) {
            writeln!(out, "  {}  {}", st.dim(&fmt_time(t.at)), line(&t.label))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "{}", st.bold("Steps"))?;
    for s in &r.steps {
        let status = format!("{:?}", s.status).to_lowercase();
        let status = match s.status {
            crate::bundle::StepStatus::Ok | crate::bundle::StepStatus::Empty => st.green(&status),
            crate::bundle::StepStatus::Skipped => st.dim(&status),
            _ => st.red(&status),
        };
        writeln!(
            out,
            "  {} {:<24} {:<9} {:>6} ms {:>3} req {}",
            s.step,
            s.title,
            status,
            s.duration_ms,
            s.api_requests,
            st.dim(&line(s.note.as_deref().unwrap_or_default()))
        )?;
        for rule in &s.missing_rules {
            writeln!(out, "      missing RBAC: {rule}")?;
        }
    }
    Ok(())
}
