//! `kube-doctor completions SHELL` and `kube-doctor man`: shell completion scripts
//! (clap_complete) and roff man pages (clap_mangen), generated from the same clap definitions
//! the binary parses with, so they can never drift from the real flags.
//!
//! Not part of the diagnosis pipeline: these only describe the command line. Release archives
//! ship their output (`scripts/release.sh`); users of a bare binary generate them themselves:
//!
//! ```sh
//! kube-doctor completions bash > ~/.local/share/bash-completion/completions/kube-doctor
//! kube-doctor man --out-dir ~/.local/share/man/man1
//! ```

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs, Shell};

/// Writes the completion script for `args.shell` to standard output. Exit code 0.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
        Shell::Elvish => clap_complete::Shell::Elvish,
        Shell::Powershell => clap_complete::Shell::PowerShell,
    };
    if args.bin_name.is_empty()
        || !args
            .bin_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        anyhow::bail!(
            "--bin-name {:?} is not a command name; use letters, digits, '-' and '_' only",
            args.bin_name
        );
    }
    let out = if shell == clap_complete::Shell::Bash && args.bin_name.contains('-') {
        bash_for_hyphenated_name(&args.bin_name)
    } else {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), &args.bin_name, &mut out);
        out
    };
    std::io::stdout()
        .lock()
        .write_all(&out)
        .context("failed to write the completion script to standard output")?;
    Ok(ExitCode::SUCCESS)
}

/// clap_complete's bash script never completes a subcommand's flags when the command's name
/// has a hyphen (clap-rs/clap#6421, open in clap_complete 4.6.12: its dispatch loop and its
/// case labels spell the state differently). So the script is generated for the name with
/// `_` for `-`, where both agree, and only the `complete` lines, which bind the function to
/// the command the user types, are given the real name back.
fn bash_for_hyphenated_name(bin_name: &str) -> Vec<u8> {
    let stand_in = bin_name.replace('-', "_");
    let mut raw = Vec::new();
    clap_complete::generate(
        clap_complete::Shell::Bash,
        &mut Cli::command(),
        &stand_in,
        &mut raw,
    );
    let script = String::from_utf8_lossy(&raw);
    let suffix = format!(" {stand_in}");
    let mut out = String::with_capacity(script.len());
    for line in script.lines() {
        match line.strip_suffix(&suffix) {
            Some(head) if line.trim_start().starts_with("complete ") => {
                out.push_str(head);
                out.push(' ');
                out.push_str(bin_name);
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// Writes man pages: every command's page into `args.out_dir`, or the top-level page to
/// standard output. Exit code 0; a directory that cannot be written is an error naming it.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let command = Cli::command();
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("failed to create the directory {}", dir.display()))?;
            clap_mangen::generate_to(command, &dir)
                .with_context(|| format!("failed to write the man pages into {}", dir.display()))?;
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .context("failed to render the man page")?;
            std::io::stdout()
                .lock()
                .write_all(&out)
                .context("failed to write the man page to standard output")?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
