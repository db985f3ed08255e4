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
        // `creds` uses `config`'s data types (`Secret`); `config` knows nothing of `creds`.
        "openclaw-creds" => &["openclaw-config"],
        "openclaw-discovery" => &["openclaw-config", "openclaw-creds"],
        "openclaw-stream" => &["openclaw-config", "openclaw-creds"],
        "openclaw-serve" => &[
            "openclaw-config",
            "openclaw-creds",
            "openclaw-discovery",
            "openclaw-stream",
        ],
        "openclaw-gateway" => &[
            "openclaw-config",
            "openclaw-creds",
            "openclaw-discovery",
            "openclaw-stream",
            "openclaw-serve",
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
    "openclaw-serve",
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

/// Library crates.
const LIBRARIES: [&str; 5] = [
    "openclaw-config",
    "openclaw-creds",
    "openclaw-discovery",
    "openclaw-stream",
    "openclaw-serve",
];

/// `serve` is the only library crate that knows HTTP serving; only `gateway` knows the CLI and
/// the terminal, and it serves HTTP only through `serve` (no direct axum). Only the fake (and
/// the test/bench tooling) may serve HTTP besides them.
#[test]
fn only_serve_knows_http_serving_and_only_gateway_the_cli() {
    let serving = ["axum", "hyper-util"];
    let terminal = ["clap", "clap_complete", "indicatif", "tracing-subscriber"];
    let mut problems = Vec::new();
    for krate in crates() {
        let package = krate.package.as_str();
        let deps = krate.normal_deps();
        if LIBRARIES.contains(&package) {
            for dep in terminal.iter().filter(|d| deps.contains(**d)) {
                problems.push(format!(
                    "library crate {package} depends on {dep} (CLI and terminal belong to openclaw-gateway)"
                ));
            }
            if deps.contains("anyhow") {
                problems.push(format!(
                    "library crate {package} uses anyhow (one thiserror enum)"
                ));
            }
        }
        if (LIBRARIES.contains(&package) && package != "openclaw-serve")
            || package == "openclaw-gateway"
        {
            for dep in serving.iter().filter(|d| deps.contains(**d)) {
                problems.push(format!(
                    "{package} depends on {dep} (HTTP serving belongs to openclaw-serve)"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// No two modules of one crate import each other (directly or through others): shared types
/// live in leaf modules. The crate root, which declares the modules, is not a node.
#[test]
fn no_module_import_cycles() {
    let mut problems = Vec::new();
    for krate in crates() {
        if !["openclaw-gateway", "openclaw-serve", "fake-bedrock"].contains(&krate.package.as_str())
        {
            continue;
        }
        let graph = module_graph(&krate.dir.join("src"));
        if let Some(cycle) = find_cycle(&graph) {
            problems.push(format!(
                "{}: modules import each other: {}",
                krate.package,
                cycle.join(" -> ")
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Module path (`commands::chat`) to the modules its non-test code names through `crate::` or
/// `super::`.
fn module_graph(src: &Path) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    let mut modules = BTreeSet::new();
    let mut texts = Vec::new();
    for file in files {
        let rel = file.strip_prefix(src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts.is_empty()
            || parts == ["lib"]
            || parts == ["main"]
            || parts.iter().any(|p| p == "tests" || p.ends_with("_tests"))
        {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        // Unit tests may use anything; comments (doc links included) are not imports.
        let code: String = text
            .split("#[cfg(test)]")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .map(|line| format!("{line}\n"))
            .collect();
        modules.insert(parts.join("::"));
        texts.push((parts, code));
    }
    let mut graph = std::collections::BTreeMap::new();
    for (parts, code) in texts {
        let me = parts.join("::");
        let mut edges = BTreeSet::new();
        let parent = parts[..parts.len() - 1].join("::");
        for (prefix, base) in [("crate::", String::new()), ("super::", parent)] {
            for (at, _) in code.match_indices(prefix) {
                let rest = &code[at + prefix.len()..];
                let path: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let mut segs: Vec<&str> = base.split("::").filter(|s| !s.is_empty()).collect();
                segs.extend(path.split("::").filter(|s| !s.is_empty()));
                // The longest prefix that is a module is the one depended on.
                while !segs.is_empty() && !modules.contains(&segs.join("::")) {
                    segs.pop();
                }
                let target = segs.join("::");
                // A module naming its own submodules is its own business.
                if !target.is_empty()
                    && target != me
                    && !target.starts_with(&format!("{me}::"))
                    && !me.starts_with(&format!("{target}::"))
                {
                    edges.insert(target);
                }
            }
        }
        graph.insert(me, edges);
    }
    graph
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn find_cycle(graph: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[pos..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

#[test]
fn module_cycles_are_found() {
    let graph = std::collections::BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    let acyclic = std::collections::BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::new()),
    ]);
    assert_eq!(find_cycle(&acyclic), None);
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

/// Crates a team can depend on: every library crate is publishable on its own, and the tools
/// are not. A published manifest names what it is (description, README, keywords, categories)
/// and what its package holds (`include`); a dev-dependency on a workspace crate is path-only,
/// so `cargo package` drops it and the crate packages without that crate on the registry; a file
/// the library embeds (`include_str!`, `include_bytes!`) lives inside the crate and its package.
#[test]
fn library_crates_are_publishable_and_the_tools_are_not() {
    const UNPUBLISHED: [&str; 4] = [
        "openclaw-gateway",
        "openclaw-bench",
        "openclaw-e2e",
        "xtask",
    ];
    let all = crates();
    let members: BTreeSet<&str> = all.iter().map(|k| k.package.as_str()).collect();
    let mut problems = Vec::new();
    for krate in &all {
        let name = krate.package.as_str();
        let package = krate.manifest["package"].as_table().unwrap();
        let publish_false = package.get("publish").and_then(|p| p.as_bool()) == Some(false);
        if UNPUBLISHED.contains(&name) {
            if !publish_false {
                problems.push(format!(
                    "{name}: expected `publish = false` (not a library)"
                ));
            }
            continue;
        }
        if publish_false {
            problems.push(format!(
                "{name}: library crates are published (drop `publish = false`, or list it in UNPUBLISHED with a reason)"
            ));
            continue;
        }
        for field in [
            "description",
            "repository",
            "readme",
            "keywords",
            "categories",
            "include",
        ] {
            if !package.contains_key(field) {
                problems.push(format!("{name}: published, but no `{field}` in [package]"));
            }
        }
        let dev = krate
            .manifest
            .get("dev-dependencies")
            .and_then(|d| d.as_table());
        for (dep, spec) in dev.into_iter().flatten() {
            let dep_package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(dep);
            if !members.contains(dep_package) {
                continue;
            }
            let path_only = spec.get("path").is_some()
                && spec.get("version").is_none()
                && spec.get("workspace").is_none();
            if !path_only {
                problems.push(format!(
                    "{name}: dev-dependency {dep} should be path-only (`{{ path = \"../...\" }}`, no version, not `.workspace`)"
                ));
            }
        }
        let include: Vec<String> = package
            .get("include")
            .and_then(|i| i.as_array())
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        // The license texts travel in each package: cargo packages no file outside the crate
        // directory, so each crate holds copies of the root's, identical to them.
        for license in ["LICENSE-MIT", "LICENSE-APACHE"] {
            let root = std::fs::read(project_root().join(license)).unwrap();
            if std::fs::read(krate.dir.join(license)).ok().as_ref() != Some(&root) {
                problems.push(format!(
                    "{name}: expected {license} identical to the repository root's (copy it)"
                ));
            }
            if !include.iter().any(|p| include_matches(p, license)) {
                problems.push(format!("{name}: {license} is not in `include` {include:?}"));
            }
        }
        let mut sources = Vec::new();
        collect_rs(&krate.dir.join("src"), &mut sources);
        for source in sources {
            let text = std::fs::read_to_string(&source).unwrap();
            for embedded in embedded_files(&text) {
                let Some(dir) = source.parent() else { continue };
                let resolved = normalize(&dir.join(&embedded));
                let Ok(inside) = resolved.strip_prefix(&krate.dir) else {
                    problems.push(format!(
                        "{name}: {} embeds {embedded}, which is outside the crate (move it in)",
                        file_name(&source)
                    ));
                    continue;
                };
                let inside = inside.to_string_lossy().replace('\\', "/");
                if !include.is_empty() && !include.iter().any(|p| include_matches(p, &inside)) {
                    problems.push(format!(
                        "{name}: {inside} is embedded but not in `include` {include:?}"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The string literals of `include_str!("...")` and `include_bytes!("...")` in `text`.
fn embedded_files(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for mac in ["include_str!(\"", "include_bytes!(\""] {
        for (at, _) in text.match_indices(mac) {
            let rest = &text[at + mac.len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

/// `a/b/../c` -> `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Whether an `include` pattern of the forms the workspace uses (`dir/**/*`, `dir/**`, an exact
/// file) matches `path`, relative to the crate.
fn include_matches(pattern: &str, path: &str) -> bool {
    match pattern
        .strip_suffix("/**/*")
        .or_else(|| pattern.strip_suffix("/**"))
    {
        Some(dir) => path.starts_with(&format!("{dir}/")),
        None => pattern == path,
    }
}

#[test]
fn embedded_files_and_include_patterns() {
    let text = r#"const A: &str = include_str!("../data/x.json"); const B: &[u8] = include_bytes!("y.bin");"#;
    assert_eq!(embedded_files(text), ["../data/x.json", "y.bin"]);
    assert_eq!(
        normalize(Path::new("/w/crates/d/src/../data/x.json")),
        Path::new("/w/crates/d/data/x.json")
    );
    assert!(include_matches("data/**/*", "data/x.json"));
    assert!(include_matches("src/**", "src/a/b.json"));
    assert!(include_matches("README.md", "README.md"));
    assert!(!include_matches("src/**/*", "data/x.json"));
    assert!(!include_matches("data/**/*", "database.json"));
}
