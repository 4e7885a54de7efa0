//! `-o html`: one self-contained file (inline CSS, inline SVG, no scripts, no external
//! resources) with an SVG timeline chart of each failing client's error ratio and the
//! evidence events marked on it. Every string from the cluster is HTML-escaped.

use std::fmt::Write as _;
use std::io::{self, Write};

use jiff::Timestamp;

use super::{Report, timeline};
use crate::diagnose::fmt_time;

/// Escapes text for HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control, bidirectional and zero-width characters (`escape::needs_escape`).
            c if c != '\n' && crate::escape::needs_escape(c) => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

const COLORS: [&str; 6] = [
    "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];
const W: f64 = 960.0;
const H: f64 = 300.0;
const PAD_L: f64 = 56.0;
const PAD_R: f64 = 16.0;
const PAD_T: f64 = 16.0;
const PAD_B: f64 = 40.0;

fn x_of(t: Timestamp, from: Timestamp, to: Timestamp) -> f64 {
    let span = (to.as_millisecond() - from.as_millisecond()).max(1) as f64;
    let f = ((t.as_millisecond() - from.as_millisecond()) as f64 / span).clamp(0.0, 1.0);
    PAD_L + f * (W - PAD_L - PAD_R)
}

/// The y position of `ratio` on an axis that tops out at `top`.
fn y_of(ratio: f64, top: f64) -> f64 {
    PAD_T + (1.0 - (ratio / top).clamp(0.0, 1.0)) * (H - PAD_T - PAD_B)
}

/// The axis top: the smallest of 5 %, 10 %, 25 %, 50 %, 100 % above every ratio drawn, so a
/// 3 % error ratio is not a flat line at the bottom of a 100 % axis.
fn axis_top(r: &Report) -> f64 {
    let max = r
        .clients
        .iter()
        .flat_map(|c| c.series.iter().map(|p| p.ratio()).chain([c.error_ratio]))
        .fold(0.0f64, f64::max);
    [0.05, 0.1, 0.25, 0.5, 1.0]
        .into_iter()
        .find(|t| max <= *t)
        .unwrap_or(1.0)
}

/// The SVG chart: error ratio per client over the window, evidence events as markers.
pub fn chart(r: &Report) -> String {
    let (from, to) = (r.window.from, r.window.to);
    let top = axis_top(r);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" id="timeline" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-label="Error ratio over time">"#
    );
    let _ = write!(
        s,
        r##"<rect x="0" y="0" width="{W}" height="{H}" fill="#fff"/>"##
    );
    for pct in [0.0, 0.25, 0.5, 0.75, 1.0].map(|f| f * top) {
        let y = y_of(pct, top);
        let _ = write!(
            s,
            r##"<line x1="{PAD_L}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#555">{}%</text>"##,
            W - PAD_R,
            PAD_L - 6.0,
            y + 4.0,
            // 2.5 %, 12.5 %: one decimal only where needed.
            format!("{:.1}", pct * 100.0).trim_end_matches(".0")
        );
    }
    for i in 0..=4 {
        let t = Timestamp::from_millisecond(
            from.as_millisecond() + (to.as_millisecond() - from.as_millisecond()) * i / 4,
        )
        .unwrap_or(from);
        let x = x_of(t, from, to);
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#555">{}</text>"##,
            H - PAD_B + 16.0,
            t.strftime("%H:%M:%S")
        );
    }
    for (i, c) in r.clients.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let pts: Vec<String> = c
            .series
            .iter()
            .map(|p| format!("{:.1},{:.1}", x_of(p.at, from, to), y_of(p.ratio(), top)))
            .collect();
        if pts.len() > 1 {
            let _ = write!(
                s,
                r#"<polyline class="series" fill="none" stroke="{color}" stroke-width="2" points="{}"><title>{}</title></polyline>"#,
                pts.join(" "),
                escape(&c.id)
            );
        }
        if let Some(o) = c.onset {
            let x = x_of(o, from, to);
            let _ = write!(
                s,
                r#"<circle class="onset" cx="{x:.1}" cy="{:.1}" r="5" fill="{color}"><title>onset of {} at {}</title></circle>"#,
                y_of(c.error_ratio, top),
                escape(&c.id),
                fmt_time(o)
            );
        }
    }
    // Evidence from before the window (a certificate's notAfter, a policy's creation) is in
    // the tables, not on the chart.
    for e in timeline(r)
        .iter()
        .filter(|e| !e.onset && e.at >= from && e.at <= to)
    {
        let x = x_of(e.at, from, to);
        let _ = write!(
            s,
            r##"<line class="event" x1="{x:.1}" y1="{PAD_T}" x2="{x:.1}" y2="{:.1}" stroke="#888" stroke-dasharray="3,3"><title>{}</title></line><path d="M{x:.1},{:.1} l-4,-7 h8 z" fill="#444"><title>{}</title></path>"##,
            H - PAD_B,
            escape(&format!("{} {}", fmt_time(e.at), e.label)),
            PAD_T + 7.0,
            escape(&format!("{} {}", fmt_time(e.at), e.label))
        );
    }
    s.push_str("</svg>");
    s
}

/// Writes the HTML report.
pub fn render(out: &mut dyn Write, r: &Report) -> io::Result<()> {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>kube-doctor report</title><style>");
    h.push_str("body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}h1{font-size:1.5em}table{border-collapse:collapse;width:100%;margin:.5em 0}td,th{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}th{background:#f5f5f5}.cause{font-family:monospace;background:#eee;padding:1px 4px}.conf{font-weight:bold;color:#b00}pre{background:#f7f7f7;padding:8px;overflow:auto}.dim{color:#777}.legend span{margin-right:1em}");
    h.push_str("</style></head><body>");
    let _ = write!(
        h,
        "<h1>kube-doctor report</h1><p class=\"dim\">Cluster {} · window {} → {}</p>",
        escape(&r.cluster.server),
        fmt_time(r.window.from),
        fmt_time(r.window.to)
    );
    h.push_str("<h2>Error ratio and evidence</h2>");
    h.push_str(&chart(r));
    h.push_str("<p class=\"legend\">");
    for (i, c) in r.clients.iter().enumerate() {
        let _ = write!(
            h,
            "<span style=\"color:{}\">&#9632; {}{}</span>",
            COLORS[i % COLORS.len()],
            escape(&c.id),
            escape(&super::noise_note(c))
        );
    }
    h.push_str("<span class=\"dim\">dashed lines: evidence events</span></p>");
    let (clients_line, verdicts_line) = super::headlines(r);
    // The same client table as the Markdown report's.
    let _ = write!(h, "<h2>{}</h2>", escape(super::clients_heading(r)));
    if r.clients.is_empty() {
        if r.rates_unread().is_some() {
            let _ = write!(h, "<p><strong>{}</strong></p>", escape(&clients_line));
        } else {
            let _ = write!(h, "<p>{}</p>", escape(&clients_line));
        }
    } else {
        h.push_str("<table><tr><th>client</th><th>errors</th><th>onset</th><th>pattern</th><th>categories</th></tr>");
        for c in &r.clients {
            let cells = super::client_cells(c);
            h.push_str("<tr>");
            for cell in &cells {
                let _ = write!(h, "<td>{}</td>", escape(cell));
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }
    if let Some(quiet) = r.under_threshold.sentence() {
        let _ = write!(h, "<p class=\"dim\">{}</p>", escape(&quiet));
    }
    h.push_str("<h2>Diagnosis</h2>");
    if r.verdicts.is_empty() {
        let _ = write!(h, "<p>{}</p>", escape(&verdicts_line));
    }
    for (i, v) in r.verdicts.iter().enumerate() {
        let _ = write!(
            h,
            "<h3>{}. <span class=\"cause\">{}</span> <span class=\"conf\">{:.0}%</span> {}</h3><p>{}</p><table><tr><th>step</th><th>object</th><th>at</th><th>detail</th></tr>",
            i + 1,
            v.cause.as_str(),
            v.confidence * 100.0,
            escape(v.cause.title()),
            escape(&v.summary)
        );
        for e in &v.evidence {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.step,
                escape(&e.reference),
                e.at.map_or(String::new(), fmt_time),
                escape(&e.detail)
            );
        }
        h.push_str("</table><p><b>What to do</b></p><ul>");
        for step in &v.remediation {
            let mut parts = step.splitn(2, '\n');
            let _ = write!(h, "<li>{}", escape(parts.next().unwrap_or_default()));
            if let Some(body) = parts.next() {
                let _ = write!(h, "<pre>{}</pre>", escape(body));
            }
            h.push_str("</li>");
        }
        h.push_str("</ul>");
    }
    h.push_str("<h2>Playbook steps</h2><table><tr><th>step</th><th>title</th><th>status</th><th>ms</th><th>API requests</th><th>note</th></tr>");
    for s in &r.steps {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            s.step,
            escape(&s.title),
            format!("{:?}", s.status).to_lowercase(),
            s.duration_ms,
            s.api_requests,
            escape(s.note.as_deref().unwrap_or_default())
        );
    }
    h.push_str("</table></body></html>\n");
    out.write_all(h.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>\"x\"&'y'"),
            "&lt;script&gt;&quot;x&quot;&amp;&#39;y&#39;"
        );
        // Trojan Source: bidirectional overrides and isolates, zero-width characters, ESC.
        assert_eq!(
            escape("a\u{202e}b\u{2067}c\u{feff}d\u{1b}[2J\ne"),
            "a?b?c?d?[2J\ne"
        );
    }
}
