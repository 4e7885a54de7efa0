//! Writing what commands produce: reports in the four formats (colour only on a terminal),
//! bundles as files, and per-step progress on stderr while collecting (only on a terminal).

use std::io::{IsTerminal, Write};
use std::path::Path;

use std::process::ExitCode;

use kube_doctor_core::bundle::{Bundle, MAX_BUNDLE_BYTES, StepRecord, StepStatus, step_title};
use kube_doctor_core::escape::one_line;
use kube_doctor_core::report::{self, Outcome, Report};

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
    // A temporary file beside it (tempfile: a fresh name, never another file of the user's),
    // renamed over it once complete. Errors name the path the user gave.
    let shown = one_line(&path.display().to_string(), 200);
    // The OS's reason only: tempfile's errors end with ` at path "<its temporary file>"`.
    let cannot = |e: std::io::Error| {
        let text = e.to_string();
        let why = text
            .split(" at path \"")
            .next()
            .unwrap_or(&text)
            .to_string();
        anyhow::anyhow!("cannot write bundle {shown}: {}", one_line(&why, 200))
    };
    // An existing path is written only if it is a regular file, or a symlink to one (then the
    // file it points to is replaced, the link kept): renaming over a device, a FIFO or a
    // directory would replace it with a plain file (`--out /dev/full` did, as root).
    let resolved;
    let path = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => {
            resolved = std::fs::canonicalize(path).map_err(cannot)?;
            resolved.as_path()
        }
        Ok(_) => anyhow::bail!(
            "cannot write bundle {shown}: it exists and is not a regular file; give a file path"
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::fs::symlink_metadata(path).is_ok() {
                anyhow::bail!(
                    "cannot write bundle {shown}: it is a symlink to nothing; give a file path"
                );
            }
            path
        }
        Err(e) => return Err(cannot(e)),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".kube-doctor-bundle-")
        .tempfile_in(dir)
        .map_err(cannot)?;
    tmp.write_all(&json).map_err(cannot)?;
    tmp.persist(path).map_err(|e| cannot(e.error))?;
    Ok(())
}

/// Reads a bundle file (`-` for stdin), with an error that names it. A file bigger than a
/// bundle can be is refused before it is read.
pub fn read_bundle(path: &Path) -> anyhow::Result<Bundle> {
    let shown = one_line(&path.display().to_string(), 200);
    let cannot = |e: std::io::Error| anyhow::anyhow!("cannot read bundle {shown}: {e}");
    let mut bytes = Vec::new();
    let limit = MAX_BUNDLE_BYTES + 1;
    if path.as_os_str() == "-" {
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), limit),
            &mut bytes,
        )
        .map_err(cannot)?;
    } else {
        let file = std::fs::File::open(path).map_err(cannot)?;
        if let Ok(m) = file.metadata()
            && m.len() > MAX_BUNDLE_BYTES
        {
            anyhow::bail!(
                "{shown}: {} bytes is too big for a kube-doctor bundle (at most {MAX_BUNDLE_BYTES}); is it the right file?",
                m.len()
            );
        }
        std::io::Read::read_to_end(&mut std::io::Read::take(file, limit), &mut bytes)
            .map_err(cannot)?;
    }
    Bundle::from_json(&bytes)
        .map_err(|e| anyhow::anyhow!("{shown}: {}", one_line(&e.to_string(), 500)))
}

/// The exit code of a report (contract, DESIGN.md "Exit codes"): 1 a problem was diagnosed,
/// 0 the client error rates were read and nothing is wrong, 2 nothing can be said (the reason
/// is said on stderr in one line). `steps_said`: the run already printed each failed step's
/// error on stderr (`investigate`), so the line points at it instead of repeating it.
pub fn exit_code(r: &Report, steps_said: bool) -> ExitCode {
    match r.outcome() {
        Outcome::Diagnosed => ExitCode::from(1),
        Outcome::Clean => ExitCode::SUCCESS,
        Outcome::Blind(why) => {
            // A selector that matched nothing is said in step 3's own note, with what to do.
            let check = if why.contains("for --client") {
                "check --client"
            } else {
                "check that Prometheus (--prometheus) and the API server (--kubeconfig) answer"
            };
            let why = if steps_said && why.contains("step 3 failed") {
                "client error rates were not read (step 3's error above)".to_string()
            } else {
                one_line(&why, 500)
            };
            eprintln!("kube-doctor: nothing can be said about the clients: {why}; {check}");
            ExitCode::from(2)
        }
    }
}

/// Why a bundle holds no client error rates, if it does not.
pub fn rates_unread(b: &Bundle) -> Option<String> {
    kube_doctor_core::bundle::rates_unread(&b.steps)
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
            r.status.as_str(),
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
                s.status.as_str(),
                one_line(s.note.as_deref().unwrap_or("no detail"), 500)
            ),
            _ if !s.missing_rules.is_empty() => format!("partly forbidden: grant {rules}"),
            _ => continue,
        };
        eprintln!("kube-doctor: step {} ({}) {what}", s.step, s.title);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Bundle {
        read_bundle(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/incident-bundle.json"
        )))
        .expect("the example bundle")
    }

    /// The bundle lands whole under the name given, nothing else is left beside it, and an
    /// error names the path the user gave, not a temporary file.
    #[test]
    fn a_bundle_is_written_whole_and_errors_name_the_given_path() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("b.json");
        // A user's file whose name a `with_extension("tmp")` would have taken.
        std::fs::write(dir.path().join("b.tmp"), "mine").unwrap();
        write_bundle(&out, &example()).unwrap();
        assert_eq!(read_bundle(&out).unwrap(), example());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["b.json", "b.tmp"]);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("b.tmp")).unwrap(),
            "mine"
        );

        // A symlink to a regular file: the file is replaced, the link kept.
        let target = dir.path().join("target.json");
        std::fs::write(&target, "old").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write_bundle(&link, &example()).unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(read_bundle(&target).unwrap(), example());
        // A directory, a FIFO (as a device would be), a dangling link: refused, nothing
        // replaced.
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        for not_a_file in [dir.path(), fifo.as_path()] {
            let e = write_bundle(not_a_file, &example())
                .unwrap_err()
                .to_string();
            assert!(e.contains("is not a regular file"), "{e}");
        }
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink(dir.path().join("nothing"), &dangling).unwrap();
        let e = write_bundle(&dangling, &example()).unwrap_err().to_string();
        assert!(e.contains("symlink to nothing"), "{e}");

        let missing = dir.path().join("no/such/dir/b.json");
        let e = write_bundle(&missing, &example()).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("cannot write bundle {}: ", missing.display())),
            "{e}"
        );
        assert!(
            !e.contains(".kube-doctor-bundle") && !e.contains("at path"),
            "{e}"
        );
    }
}
