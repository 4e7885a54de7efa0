//! Writing what commands produce: reports in the four formats (colour only on a terminal),
//! bundles as files, and per-step progress on stderr while collecting (only on a terminal).

use std::io::{IsTerminal, Write};
use std::path::Path;

use kube_doctor_core::bundle::{Bundle, StepRecord, StepStatus, step_title};
use kube_doctor_core::report::{self, Report};

use crate::cli::ReportFormat;
use crate::collect::{Progress, Quiet};

/// Renders `r` to stdout in `format`.
pub fn print_report(r: &Report, format: ReportFormat) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut out = std::io::BufWriter::new(stdout.lock());
    render(&mut out, r, format, color)?;
    out.flush()?;
    Ok(())
}

/// Renders `r` into `out`.
pub fn render(
    out: &mut dyn Write,
    r: &Report,
    format: ReportFormat,
    color: bool,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Text => report::text::render(out, r, color),
        ReportFormat::Json => report::write_json(out, r),
        ReportFormat::Markdown => report::markdown::render(out, r),
        ReportFormat::Html => report::html::render(out, r),
    }
}

/// Writes a bundle file (`-` for stdout), atomically for files.
pub fn write_bundle(path: &Path, bundle: &Bundle) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(bundle)?;
    if path.as_os_str() == "-" {
        std::io::stdout().lock().write_all(&json)?;
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, &json)
        .map_err(|e| anyhow::anyhow!("cannot write bundle {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .map_err(|e| anyhow::anyhow!("cannot write bundle {}: {e}", path.display()))?;
    Ok(())
}

/// Reads a bundle file (`-` for stdin), with an error that names it.
pub fn read_bundle(path: &Path) -> anyhow::Result<Bundle> {
    let bytes = if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut v)?;
        v
    } else {
        std::fs::read(path)
            .map_err(|e| anyhow::anyhow!("cannot read bundle {}: {e}", path.display()))?
    };
    Bundle::from_json(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Per-step progress on stderr.
struct StderrProgress;

impl Progress for StderrProgress {
    fn started(&self, step: u8) {
        eprintln!("  … step {step} {}", step_title(step));
    }
    fn finished(&self, r: &StepRecord) {
        eprintln!(
            "  ✓ step {} {:<24} {:<9} {:>6} ms {:>3} API requests",
            r.step,
            r.title,
            format!("{:?}", r.status).to_lowercase(),
            r.duration_ms,
            r.api_requests
        );
    }
}

/// Progress on stderr when it is a terminal, nothing otherwise.
pub fn progress() -> Box<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Box::new(StderrProgress)
    } else {
        Box::new(Quiet)
    }
}

/// One line on stderr per step that did not fully succeed (failed, timed out, forbidden or
/// partly forbidden), so an incomplete bundle is never silent even when stdout is a file.
pub fn warn_incomplete(bundle: &Bundle) {
    for s in &bundle.steps {
        let rules = s
            .missing_rules
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let what = match s.status {
            StepStatus::Forbidden => format!("forbidden: grant {rules}"),
            StepStatus::Failed | StepStatus::Timeout => format!(
                "{}: {}",
                format!("{:?}", s.status).to_lowercase(),
                s.note.as_deref().unwrap_or("no detail")
            ),
            _ if !s.missing_rules.is_empty() => format!("partly forbidden: grant {rules}"),
            _ => continue,
        };
        eprintln!("kube-doctor: step {} ({}) {what}", s.step, s.title);
    }
}
