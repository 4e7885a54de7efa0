//! Build information for `kube-doctor --version`: the crate version, the git commit the binary
//! was built from, and whether its sources differed from that commit ("dirty").
//!
//! Sources of the commit, first that answers:
//! 1. `KUBE_DOCTOR_BUILD_COMMIT` in the build's environment (for builders of a source tarball
//!    who know the commit; `KUBE_DOCTOR_BUILD_DIRTY=1` marks it dirty);
//! 2. git, when this crate sits in a git work tree whose top is this workspace (so a tarball
//!    unpacked inside some unrelated repository is never stamped with that repository's commit);
//! 3. `.cargo_vcs_info.json`, which `cargo package` writes into a packaged crate;
//! 4. otherwise "unknown". A missing git, or no repository at all, is never a build failure.
//!
//! "Dirty" means tracked or untracked-but-not-ignored changes under the paths that make up the
//! binary (the crates' `src/`, `Cargo.toml`s, this script, `Cargo.lock`), which are also the
//! paths whose changes re-run this script; edits elsewhere (README, lab, tests, fixtures)
//! neither rebuild the binary nor mark it dirty.
//!
//! Emits `KUBE_DOCTOR_VERSION_LONG` (e.g. `0.1.0 (commit 1a2b3c4d5e6f, dirty)`), the one string
//! `--version` prints, plus `KUBE_DOCTOR_GIT_COMMIT` (full hash or "unknown") and
//! `KUBE_DOCTOR_GIT_DIRTY` ("true", "false", or "unknown").

use std::path::{Path, PathBuf};
use std::process::Command;

/// Paths (relative to the workspace root) whose contents make up the binary.
const SOURCE_PATHS: [&str; 7] = [
    "crates/kube-doctor/src",
    "crates/kube-doctor/Cargo.toml",
    "crates/kube-doctor/build.rs",
    "crates/kube-doctor-core/src",
    "crates/kube-doctor-core/Cargo.toml",
    "Cargo.toml",
    "Cargo.lock",
];

struct Revision {
    commit: String,
    dirty: Option<bool>,
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| manifest_dir.clone());
    println!("cargo:rerun-if-env-changed=KUBE_DOCTOR_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=KUBE_DOCTOR_BUILD_DIRTY");

    let revision = from_env()
        .or_else(|| from_git(&workspace))
        .or_else(|| from_cargo_vcs_info(&manifest_dir))
        .unwrap_or(Revision {
            commit: "unknown".to_owned(),
            dirty: None,
        });

    let version = std::env::var("CARGO_PKG_VERSION").expect("set by cargo");
    let short: String = revision.commit.chars().take(12).collect();
    let long = match revision.dirty {
        Some(true) => format!("{version} (commit {short}, dirty)"),
        _ => format!("{version} (commit {short})"),
    };
    let dirty = match revision.dirty {
        Some(true) => "true",
        Some(false) => "false",
        None => "unknown",
    };
    println!("cargo:rustc-env=KUBE_DOCTOR_VERSION_LONG={long}");
    println!("cargo:rustc-env=KUBE_DOCTOR_GIT_COMMIT={}", revision.commit);
    println!("cargo:rustc-env=KUBE_DOCTOR_GIT_DIRTY={dirty}");
}

fn from_env() -> Option<Revision> {
    let commit = std::env::var("KUBE_DOCTOR_BUILD_COMMIT").ok()?;
    let commit = commit.trim();
    if commit.is_empty() || !commit.chars().all(|c| c.is_ascii_alphanumeric()) {
        println!("cargo:warning=KUBE_DOCTOR_BUILD_COMMIT={commit:?} is not a commit hash; ignored");
        return None;
    }
    let dirty = std::env::var("KUBE_DOCTOR_BUILD_DIRTY").is_ok_and(|v| v == "1" || v == "true");
    Some(Revision {
        commit: commit.to_owned(),
        dirty: Some(dirty),
    })
}

/// Runs git in `dir` without taking optional locks (a build must never contend with the
/// user's own git commands); None when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
}

fn from_git(workspace: &Path) -> Option<Revision> {
    let top = git(workspace, &["rev-parse", "--show-toplevel"])?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same(Path::new(&top), workspace) {
        return None;
    }
    let commit = git(workspace, &["rev-parse", "HEAD"])?;
    watch_git(workspace);
    for path in SOURCE_PATHS {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    let mut status = vec!["status", "--porcelain", "--"];
    status.extend(SOURCE_PATHS);
    let dirty = git(workspace, &status).map(|s| !s.is_empty());
    Some(Revision { commit, dirty })
}

/// Re-run when HEAD moves (checkout, commit) or the index changes (add, reset): the files
/// that record them, wherever this work tree keeps them (`.git` may be a file in a worktree).
fn watch_git(workspace: &Path) {
    let git_dir = git(workspace, &["rev-parse", "--absolute-git-dir"]);
    let common = git(workspace, &["rev-parse", "--git-common-dir"])
        .map(|c| workspace.join(c))
        .filter(|c| c.is_dir());
    let head_ref = git(workspace, &["symbolic-ref", "-q", "HEAD"]);
    let mut watched: Vec<PathBuf> = Vec::new();
    if let Some(git_dir) = git_dir.map(PathBuf::from) {
        watched.push(git_dir.join("HEAD"));
        watched.push(git_dir.join("index"));
    }
    if let Some(common) = common {
        watched.push(common.join("packed-refs"));
        if let Some(head_ref) = head_ref {
            watched.push(common.join(head_ref));
        }
    }
    // A path that does not exist would make cargo re-run this script on every build.
    for path in watched.into_iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// `cargo package` records `{"git": {"sha1": "...", "dirty": true}}`; read without a JSON
/// dependency, since build scripts should stay light.
fn from_cargo_vcs_info(manifest_dir: &Path) -> Option<Revision> {
    let text = std::fs::read_to_string(manifest_dir.join(".cargo_vcs_info.json")).ok()?;
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join(".cargo_vcs_info.json").display()
    );
    let after = text.split("\"sha1\"").nth(1)?;
    let commit: String = after
        .chars()
        .skip_while(|c| *c != '"')
        .skip(1)
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    if commit.len() < 7 {
        return None;
    }
    let dirty = text.contains("\"dirty\": true") || text.contains("\"dirty\":true");
    Some(Revision {
        commit,
        dirty: Some(dirty),
    })
}
