//! `cargo xtask dist`: release builds of `openclaw` and `fake-bedrock`, packed as
//! `target/dist/openclaw-bedrock-<version>-<target>.tar.gz` with a `.sha256` beside it: one for
//! the host, and one static build for `x86_64-unknown-linux-musl` when that target is installed
//! (else the output says why it was skipped).
//!
//! Packing shells out to the system `tar` (present on every build host) instead of adding an
//! archive crate to xtask; the checksum uses `sha2`, in the format `sha256sum -c` reads.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::project_root;

/// The binaries shipped.
const BINARIES: &[(&str, &str)] = &[
    ("openclaw-gateway", "openclaw"),
    ("fake-bedrock", "fake-bedrock"),
];

/// The static Linux target tried besides the host build.
const STATIC_TARGET: &str = "x86_64-unknown-linux-musl";

/// Runs the task: the host build, then the static (musl) build when its target is installed.
pub fn run() -> Result<()> {
    let root = project_root();
    let version = workspace_version(&std::fs::read_to_string(root.join("Cargo.toml"))?)?;
    let host = host_target()?;
    let mut built = vec![build_and_pack(&root, &version, &host, None)?];
    match static_target_missing(&host)? {
        None => built.push(build_and_pack(
            &root,
            &version,
            STATIC_TARGET,
            Some(STATIC_TARGET),
        )?),
        Some(why) => println!(
            "static build SKIPPED: {why}; the {host} build is shipped instead. It links glibc \
             dynamically (build on the oldest glibc you support; the Containerfile builds on \
             Debian bookworm and runs on distroless cc-debian12, which carry the same glibc)"
        ),
    }
    for (archive, sum) in built {
        println!("{}\n{}", archive.display(), sum.display());
    }
    Ok(())
}

/// Why the static build cannot run here, or `None` when it can: the host must be x86_64 Linux
/// and the musl target's standard library installed (`rustup target add` needs the network).
fn static_target_missing(host: &str) -> Result<Option<String>> {
    if host != "x86_64-unknown-linux-gnu" {
        return Ok(Some(format!(
            "the host is {host}, and only x86_64 Linux hosts build {STATIC_TARGET} here"
        )));
    }
    let out = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .context("running rustc --print sysroot")?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let std = sysroot.join("lib/rustlib").join(STATIC_TARGET);
    if std.is_dir() {
        return Ok(None);
    }
    Ok(Some(format!(
        "the {STATIC_TARGET} target is not installed (`rustup target add {STATIC_TARGET}` \
         downloads it, and this machine cannot reach the rustup servers)"
    )))
}

/// Builds the shipped binaries for `target` (`None`: the host, into `target/release`) and packs
/// them; returns the archive and its checksum file.
fn build_and_pack(
    root: &Path,
    version: &str,
    target: &str,
    cross: Option<&str>,
) -> Result<(PathBuf, PathBuf)> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut build = Command::new(cargo);
    build
        .current_dir(root)
        .args(["build", "--release", "--locked", "--bins"]);
    if let Some(triple) = cross {
        build.args(["--target", triple]);
    }
    for (package, _) in BINARIES {
        build.args(["-p", package]);
    }
    let status = build.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build --release for {target} failed");
    }
    let target_dir = root.join("target");
    let out_dir = match cross {
        Some(triple) => target_dir.join(triple).join("release"),
        None => target_dir.join("release"),
    };
    let name = archive_name(version, target);
    let dist = target_dir.join("dist");
    let stage = dist.join(&name);
    if stage.exists() {
        std::fs::remove_dir_all(&stage)?;
    }
    std::fs::create_dir_all(&stage)?;
    for (_, bin) in BINARIES {
        let file = format!("{bin}{}", std::env::consts::EXE_SUFFIX);
        std::fs::copy(out_dir.join(&file), stage.join(&file))
            .with_context(|| format!("copying {file}"))?;
    }
    for doc in [
        "README.md",
        "CHANGELOG.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "Containerfile",
    ] {
        if root.join(doc).is_file() {
            std::fs::copy(root.join(doc), stage.join(doc))?;
        }
    }
    let archive = dist.join(format!("{name}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&archive)
        .arg("-C")
        .arg(&dist)
        .arg(&name)
        .status()
        .context("running tar")?;
    if !status.success() {
        bail!("tar failed");
    }
    std::fs::remove_dir_all(&stage)?;
    let sum = sha256_line(&archive)?;
    let sum_path = PathBuf::from(format!("{}.sha256", archive.display()));
    std::fs::write(&sum_path, &sum)?;
    Ok((archive, sum_path))
}

/// `openclaw-bedrock-<version>-<target>`.
pub fn archive_name(version: &str, target: &str) -> String {
    format!("openclaw-bedrock-{version}-{target}")
}

/// The `[workspace.package]` version of a root manifest.
pub fn workspace_version(manifest: &str) -> Result<String> {
    let table: toml::Table = toml::from_str(manifest)?;
    table
        .get("workspace")
        .and_then(|w| w.get("package"))
        .and_then(|p| p.get("version"))
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .context("no [workspace.package] version in Cargo.toml")
}

/// The host target triple, from `rustc -vV`.
fn host_target() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("running rustc -vV")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_string)
        .context("no host line in rustc -vV")
}

/// `<hex>  <file name>\n`, as `sha256sum` prints it.
fn sha256_line(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path)?;
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(format!("{}  {file}\n", hex(&Sha256::digest(&bytes))))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_versions() {
        assert_eq!(
            archive_name("0.1.0", "x86_64-unknown-linux-gnu"),
            "openclaw-bedrock-0.1.0-x86_64-unknown-linux-gnu"
        );
        let version = workspace_version("[workspace.package]\nversion = \"1.2.3\"\n").unwrap();
        assert_eq!(version, "1.2.3");
        assert!(workspace_version("[workspace]\n").is_err());
    }

    #[test]
    fn checksum_line_matches_sha256sum_format() {
        let dir = tempfile_dir();
        let file = dir.join("a.tar.gz");
        std::fs::write(&file, b"abc").unwrap();
        assert_eq!(
            sha256_line(&file).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  a.tar.gz\n"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("xtask-dist-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
