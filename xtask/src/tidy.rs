//! House rules checked by plain `cargo test` (rust-analyzer's `tidy`).
//!
//! These turn the **Architecture Invariants** of `ARCHITECTURE.md` into failing tests: the
//! dependency direction between crates, which crates may know HTTP serving and CLI parsing, and
//! the documentation rules every library crate follows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::project_root;

/// A workspace crate as the tidy checks see it.
struct Crate {
    dir: PathBuf,
    package: String,
    manifest: toml::Table,
}

impl Crate {
    /// Names of every dependency (normal, dev and build), under their package names.
    fn deps(&self, section: &str) -> BTreeSet<String> {
        let Some(table) = self.manifest.get(section).and_then(|v| v.as_table()) else {
            return BTreeSet::new();
        };
        table
            .iter()
            .map(|(name, spec)| {
                spec.get("package")
                    .and_then(|p| p.as_str())
                    .unwrap_or(name)
                    .to_string()
            })
            .collect()
    }

    fn normal_deps(&self) -> BTreeSet<String> {
        self.deps("dependencies")
    }
}

fn crates() -> Vec<Crate> {
    let root = project_root();
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect();
    dirs.push(root.join("xtask"));
    dirs.push(root.join("tests"));
    dirs.sort();
    for dir in dirs {
        let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        let manifest: toml::Table = toml::from_str(&text).unwrap();
        let package = manifest["package"]["name"].as_str().unwrap().to_string();
        out.push(Crate {
            dir,
            package,
            manifest,
        });
    }
    out
}

/// Which internal crates each crate may depend on (normal dependencies).
fn allowed_internal(package: &str) -> Option<&'static [&'static str]> {
    Some(match package {
        "openclaw-config" => &[],
        "openclaw-creds" => &[],
        "openclaw-discovery" => &["openclaw-config", "openclaw-creds"],
        "openclaw-stream" => &["openclaw-config", "openclaw-creds"],
        "openclaw-gateway" => &[
            "openclaw-config",
            "openclaw-creds",
            "openclaw-discovery",
            "openclaw-stream",
            "fake-bedrock",
        ],
        // The fake shares no wire-mapping code with the product: a mapping bug must not be able
        // to hide by being on both sides of a test.
        "fake-bedrock" => &[],
        // The bench measures the binaries from outside, over HTTP: linking the product crates
        // would let it measure something other than what users run.
        "openclaw-bench" => &[],
        "xtask" | "openclaw-e2e" => return None,
        _ => return None,
    })
}

const INTERNAL: &[&str] = &[
    "openclaw-config",
    "openclaw-creds",
    "openclaw-discovery",
    "openclaw-stream",
    "openclaw-gateway",
    "fake-bedrock",
];

#[test]
fn dependency_direction() {
    let mut problems = Vec::new();
    for krate in crates() {
        let known = ["xtask", "openclaw-e2e"].contains(&krate.package.as_str())
            || allowed_internal(&krate.package).is_some();
        if !known {
            problems.push(format!(
                "{} has no place in ARCHITECTURE.md's dependency rules: add it to `allowed_internal`",
                krate.package
            ));
        }
        let Some(allowed) = allowed_internal(&krate.package) else {
            continue;
        };
        for dep in krate.normal_deps() {
            if INTERNAL.contains(&dep.as_str()) && !allowed.contains(&dep.as_str()) {
                problems.push(format!(
                    "{} depends on {dep}, which ARCHITECTURE.md forbids (allowed: {allowed:?})",
                    krate.package
                ));
            }
        }
        // fake-bedrock may not even use the product crates in its tests.
        if krate.package == "fake-bedrock" {
            for dep in krate.deps("dev-dependencies") {
                if INTERNAL.contains(&dep.as_str()) {
                    problems.push(format!("fake-bedrock dev-depends on {dep}"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Only `gateway` knows HTTP serving, CLI parsing and terminal output; only the fake (and the
/// test/bench tooling) may serve HTTP besides it.
#[test]
fn only_the_top_crate_knows_serving_and_cli() {
    let serving = ["axum", "clap", "clap_complete", "indicatif", "hyper-util"];
    let library = [
        "openclaw-config",
        "openclaw-creds",
        "openclaw-discovery",
        "openclaw-stream",
    ];
    let mut problems = Vec::new();
    for krate in crates() {
        if !library.contains(&krate.package.as_str()) {
            continue;
        }
        for dep in krate.normal_deps() {
            if serving.contains(&dep.as_str()) {
                problems.push(format!("library crate {} depends on {dep}", krate.package));
            }
        }
        if krate.normal_deps().contains("anyhow") {
            problems.push(format!(
                "library crate {} uses anyhow (one thiserror enum)",
                krate.package
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// `config` sits at the bottom: it knows nothing of AWS.
#[test]
fn config_knows_nothing_of_aws() {
    for krate in crates() {
        if krate.package == "openclaw-config" {
            let aws: Vec<_> = krate
                .normal_deps()
                .into_iter()
                .filter(|d| d.starts_with("aws-"))
                .collect();
            assert!(aws.is_empty(), "openclaw-config depends on {aws:?}");
        }
    }
}

#[test]
fn every_crate_uses_workspace_lints_and_package_fields() {
    let mut problems = Vec::new();
    for krate in crates() {
        let lints = krate.manifest.get("lints").and_then(|l| l.get("workspace"));
        if lints.and_then(|v| v.as_bool()) != Some(true) {
            problems.push(format!(
                "{}: missing `[lints] workspace = true`",
                krate.package
            ));
        }
        let package = krate.manifest["package"].as_table().unwrap();
        for field in ["version", "edition", "license"] {
            let inherited = package
                .get(field)
                .and_then(|v| v.get("workspace"))
                .and_then(|v| v.as_bool());
            if inherited != Some(true) {
                problems.push(format!(
                    "{}: `{field}` not inherited from the workspace",
                    krate.package
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Library crates are consumed one by one: each has a README, a crate doc and
/// `#![deny(missing_docs)]`.
#[test]
fn library_crates_are_documented() {
    let mut problems = Vec::new();
    for krate in crates() {
        let lib = krate.dir.join("src").join("lib.rs");
        if !lib.is_file() || krate.package == "openclaw-e2e" {
            continue;
        }
        let text = std::fs::read_to_string(&lib).unwrap();
        if !text.trim_start().starts_with("//!") {
            problems.push(format!(
                "{}: lib.rs does not open with a `//!` crate doc",
                krate.package
            ));
        }
        if !text.contains("#![deny(missing_docs)]") {
            problems.push(format!(
                "{}: lib.rs lacks `#![deny(missing_docs)]`",
                krate.package
            ));
        }
        if !krate.dir.join("README.md").is_file() {
            problems.push(format!("{}: no README.md", krate.package));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// No integration-test sprawl: at most one integration-test binary per crate.
#[test]
fn at_most_one_integration_test_binary_per_crate() {
    let mut problems = Vec::new();
    for krate in crates() {
        let dir = krate.dir.join("tests");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let rs: Vec<String> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .map(|p| file_name(&p))
            .collect();
        if rs.len() > 1 {
            problems.push(format!(
                "{}: several integration-test binaries {rs:?}",
                krate.package
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}
