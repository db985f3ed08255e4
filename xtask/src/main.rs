//! Developer tasks for the openclaw-bedrock workspace, run as `cargo xtask <task>`.
//!
//! - `cargo xtask codegen [--check]`: regenerate (or check) the committed generated files,
//!   today `schemas/openclaw.schema.json`.
//! - `cargo xtask bench [--quick] [...]`: build the release binaries and run the benchmark
//!   harness (`crates/bench`), results in `target/bench/`.
//! - `cargo xtask dist`: release builds of `openclaw` and `fake-bedrock` packed into
//!   `target/dist/openclaw-bedrock-<version>-<target>.tar.gz` plus a `.sha256`.
//! - `cargo xtask release <version>`: bump the workspace version and prepend a `CHANGELOG.md`
//!   section from `git log` since the last tag (offline; no commit, tag or push).
//! - `cargo xtask release <version> --dry-run`: change nothing; package and verify every published
//!   crate in dependency order and print what would be published.
//!
//! `xtask` keeps few dependencies on purpose: it is compiled on every contributor's machine.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bench;
mod codegen;
mod dist;
mod release;
#[cfg(test)]
mod tidy;

use anyhow::{Result, bail};

fn main() -> std::process::ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let mut args = args.into_iter();
    let Some(task) = args.next() else {
        print_help();
        bail!("no task given");
    };
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "codegen" => {
            let check = match rest.as_slice() {
                [] => false,
                [flag] if flag == "--check" => true,
                other => bail!("unexpected arguments to `codegen`: {other:?} (expected `--check`)"),
            };
            codegen::run(check)
        }
        "dist" => match rest.as_slice() {
            [] => dist::run(),
            other => bail!("unexpected arguments to `dist`: {other:?} (expected none)"),
        },
        "release" => match rest.as_slice() {
            [version] => release::run(version, false),
            [version, flag] | [flag, version] if flag == "--dry-run" => release::run(version, true),
            other => bail!("expected `release <version> [--dry-run]`, got {other:?}"),
        },
        "bench" => bench::run(rest),
        "help" | "--help" | "-h" => {
            print_help();
            Ok(())
        }
        other => {
            print_help();
            bail!("unknown task `{other}`")
        }
    }
}

fn print_help() {
    println!(
        "usage: cargo xtask <task>\n\n\
         tasks:\n  \
         codegen [--check]   regenerate generated files (or fail with a diff when stale)\n  \
         dist                release tarball + sha256 of openclaw and fake-bedrock in target/dist\n  \
         release <version>   bump workspace versions and prepend a CHANGELOG.md section\n  \
         release <version> --dry-run\n                      \
         change nothing: package and verify the published crates, list them\n  \
         bench [--quick]     build release binaries and benchmark the gateway (target/bench/)"
    );
}

/// The workspace root (the parent of `xtask/`).
pub(crate) fn project_root() -> std::path::PathBuf {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}
