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

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    // Without RUST_LOG only kube-doctor's own warnings: the libraries' errors are about
    // requests kube-doctor reports itself, in its own words, first.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off,kube_doctor=warn")),
        )
        .with_writer(std::io::stderr)
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
