//! One module per subcommand; [`run`] dispatches. Each command returns its exit code; errors
//! that stop a command are returned as `anyhow::Error` and printed in one line by `main`.

mod classify;
mod clients;
mod collect;
pub mod completions;
mod diagnose;
mod investigate;
mod serve;

use std::process::ExitCode;

use crate::cli::Command;

/// Runs one command.
pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    // rustls needs one process-wide crypto provider; ring is the one kube-rs uses here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match command {
        Command::Classify(args) => classify::run(args),
        Command::Diagnose(args) => diagnose::run(args),
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
        other => {
            // Worker threads get the main thread's 8 MiB stack, not tokio's 2 MiB: serve polls
            // a whole investigation on one (its step futures are boxed too).
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .thread_stack_size(8 * 1024 * 1024)
                .enable_all()
                .build()
                .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
            runtime.block_on(async move {
                match other {
                    Command::Investigate(a) => investigate::run(a).await,
                    Command::Collect(a) => collect::run(a).await,
                    Command::Clients(a) => clients::run(a).await,
                    Command::Serve(a) => serve::run(a).await,
                    Command::Classify(_)
                    | Command::Diagnose(_)
                    | Command::Completions(_)
                    | Command::Man(_) => unreachable!("handled before the runtime starts"),
                }
            })
        }
    }
}
