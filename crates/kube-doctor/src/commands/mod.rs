//! One module per subcommand; `run` dispatches. Each command returns its exit code; errors
//! that stop a command are returned as `anyhow::Error` and printed in one line by `main`.

mod classify;

use std::process::ExitCode;

use crate::cli::Command;

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Classify(args) => classify::run(args),
        other => anyhow::bail!("{other:?} is not available yet"),
    }
}
