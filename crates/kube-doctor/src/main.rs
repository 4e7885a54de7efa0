//! The switchboard: parse the command line, set up tracing (`RUST_LOG`), run one command,
//! turn its outcome into an exit code. Exit codes (contract): 0 nothing wrong found, 1 a
//! problem was diagnosed, 2 could not run (one line on stderr says why).

mod cli;
mod collect;
mod commands;
mod report_out;
mod serve;
mod settings;
mod source;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(line) => {
            eprintln!("kube-doctor: error: {line}");
            return ExitCode::from(2);
        }
    };
    // A reader that goes away (`| head`) ends a command quietly, as it ends grep or ls,
    // instead of a panic of `println!`/`eprintln!` on the closed pipe. Not for `serve`: it
    // writes to sockets, whose peers go away as a matter of course.
    if !matches!(cli.command, cli::Command::Serve(_)) {
        default_sigpipe();
    }
    // Without RUST_LOG only kube-doctor's own warnings: the libraries' errors are about
    // requests kube-doctor reports itself, in its own words, first.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off,kube_doctor=warn")),
        )
        .with_writer(RedactedStderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match commands::run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            // One line: the error and its causes, outermost first.
            let chain: Vec<String> = err.chain().map(|e| e.to_string()).collect();
            eprintln!(
                "kube-doctor: error: {}",
                kube_doctor_core::escape::one_line(&chain.join(": "), 2000)
            );
            ExitCode::from(2)
        }
    }
}

/// Restores SIGPIPE's default action (end the process), which the Rust runtime sets to
/// "ignore" before `main`.
#[cfg(unix)]
fn default_sigpipe() {
    // SAFETY: `signal` with a valid signal number and `SIG_DFL` has no memory effects; it is
    // called once, before any thread of ours exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn default_sigpipe() {}

/// Log lines go through the redactor on their way to stderr: libraries log cluster text that
/// kube-doctor never sees (kube-rs prints a whole API answer it cannot decode - pod
/// annotations, event messages - at `WARN kube_client`), and secrets in it must not reach a
/// terminal or a log collector at any `RUST_LOG` level.
struct RedactedStderr;

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for RedactedStderr {
    type Writer = RedactedLine;

    fn make_writer(&'a self) -> RedactedLine {
        RedactedLine(Vec::new())
    }
}

/// One log event, buffered whole, redacted and written when dropped (a secret is never
/// split between two writes).
struct RedactedLine(Vec<u8>);

impl std::io::Write for RedactedLine {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for RedactedLine {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let (clean, _) = kube_doctor_core::redact::redact(&String::from_utf8_lossy(&self.0));
        let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), clean.as_bytes());
    }
}
