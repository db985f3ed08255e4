//! `cargo xtask release <version> [--dry-run]`: bump the workspace version and write a changelog
//! section, or check that every published crate packages.
//!
//! Offline: it edits `Cargo.toml` (the `[workspace.package]` version and the `version` of every
//! internal crate in `[workspace.dependencies]`) and prepends a section to `CHANGELOG.md` built
//! from `git log` since the last tag (or the first commit). It neither commits, tags nor pushes:
//! review the diff, then `git commit` and `git tag v<version>`.
//!
//! `--dry-run` changes no file: it finds the published crates in `cargo metadata` (every workspace
//! member without `publish = false`), orders them so each comes after the workspace crates it
//! depends on, and runs one `cargo package` over all of them. One invocation, because cargo then
//! verifies each crate against the packages of the others (a local registry overlay) instead of
//! crates.io, where a new version of its workspace dependencies is not yet. Verification compiles
//! every crate again from its package, so it takes minutes and CI does not run it. Besides
//! `target/package`, the only things it deletes are cargo's cached copies and builds of earlier
//! dry runs of these same packages (see `forget_earlier_packages`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::project_root;

/// Runs the task: the release edits, or with `dry_run` only the package checks.
pub fn run(version: &str, dry_run: bool) -> Result<()> {
    check_version(version)?;
    if dry_run {
        return self::dry_run(version);
    }
    let root = project_root();
    let manifest_path = root.join("Cargo.toml");
    let manifest = std::fs::read_to_string(&manifest_path)?;
    let (bumped, old) = bump_versions(&manifest, version)?;
    std::fs::write(&manifest_path, bumped)?;

    let since = last_tag();
    let range = since
        .as_deref()
        .map_or_else(|| "HEAD".to_string(), |tag| format!("{tag}..HEAD"));
    let log = git(&["log", "--no-merges", "--pretty=format:%s", &range])?;
    let subjects: Vec<String> = log.lines().map(str::to_string).collect();
    let section = changelog_section(version, &today(), &subjects);
    let changelog_path = root.join("CHANGELOG.md");
    let existing = std::fs::read_to_string(&changelog_path).unwrap_or_default();
    std::fs::write(&changelog_path, prepend_changelog(&existing, &section))?;
    println!(
        "bumped {old} -> {version}; CHANGELOG.md has {} entries since {}",
        subjects.len(),
        since.as_deref().unwrap_or("the first commit")
    );
    println!("next: cargo check (updates Cargo.lock), review, git commit, git tag v{version}");
    Ok(())
}

/// A workspace crate that is published, as `cargo metadata` describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The package name.
    pub name: String,
    /// The version in its manifest.
    pub version: String,
}

/// What a release publishes: the publishable crates in an order where each comes after the
/// workspace crates it needs from the registry, and the members that stay unpublished.
#[derive(Debug, PartialEq, Eq)]
pub struct PublishPlan {
    /// Publishable crates, dependencies first.
    pub order: Vec<Published>,
    /// Members with `publish = false`, by name.
    pub unpublished: Vec<String>,
}

/// Orders the publishable workspace members of `cargo metadata --format-version 1 --no-deps`
/// output. A dependency on another member counts when it stays in the packaged manifest: normal
/// and build dependencies, and dev-dependencies that carry a version (cargo drops a path-only
/// dev-dependency, shown as requirement `*`). Such a dependency on an unpublished member is an
/// error, and so is a cycle; ties are broken by name so the order is stable.
pub fn publish_plan(metadata: &Value) -> Result<PublishPlan> {
    let members: BTreeSet<&str> = metadata["workspace_members"]
        .as_array()
        .context("cargo metadata: no `workspace_members` array")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let packages: Vec<&Value> = metadata["packages"]
        .as_array()
        .context("cargo metadata: no `packages` array")?
        .iter()
        .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(id)))
        .collect();
    let field = |p: &Value, key: &str| -> Result<String> {
        p[key]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("cargo metadata: a workspace package without `{key}`"))
    };
    // `publish`: null means any registry, a list names the allowed ones, `[]` is `false`.
    let mut publishable = BTreeMap::new();
    let mut unpublished = Vec::new();
    for package in &packages {
        let name = field(package, "name")?;
        if package["publish"].as_array().is_some_and(Vec::is_empty) {
            unpublished.push(name);
        } else {
            let version = field(package, "version")?;
            publishable.insert(name, (version, *package));
        }
    }
    unpublished.sort();
    let member_names: BTreeSet<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();

    let mut needs: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for (name, (_, package)) in &publishable {
        let mut deps = BTreeSet::new();
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let Some(dep_name) = dep["name"].as_str() else {
                continue;
            };
            if dep["path"].is_null() || !member_names.contains(dep_name) || dep_name == name {
                continue;
            }
            let dev = dep["kind"].as_str() == Some("dev");
            if dev && dep["req"].as_str() == Some("*") {
                continue;
            }
            if !publishable.contains_key(dep_name) {
                let what = if dev { "dev-depends" } else { "depends" };
                problems.push(format!(
                    "{name} {what} on {dep_name}, which has `publish = false` (publish it{})",
                    if dev {
                        ", or make the dev-dependency path-only, without a version"
                    } else {
                        ""
                    }
                ));
                continue;
            }
            deps.insert(dep_name.to_string());
        }
        needs.insert(name.as_str(), deps);
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }

    let mut order = Vec::new();
    let mut done = BTreeSet::new();
    while done.len() < needs.len() {
        let ready: Vec<&str> = needs
            .iter()
            .filter(|(name, deps)| !done.contains(**name) && deps.iter().all(|d| done.contains(d)))
            .map(|(name, _)| *name)
            .collect();
        if ready.is_empty() {
            let stuck: Vec<&str> = needs
                .keys()
                .filter(|n| !done.contains(**n))
                .copied()
                .collect();
            bail!("the published crates depend on each other in a cycle: {stuck:?}");
        }
        for name in ready {
            done.insert(name.to_string());
            let version = publishable
                .get(name)
                .map(|(v, _)| v.clone())
                .unwrap_or_default();
            order.push(Published {
                name: name.to_string(),
                version,
            });
        }
    }
    Ok(PublishPlan { order, unpublished })
}

/// `--dry-run`: package and verify every published crate, then say what would be published.
fn dry_run(version: &str) -> Result<()> {
    let root = project_root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))
        .with_context(|| format!("reading {}", root.join("Cargo.toml").display()))?;
    // Only to learn the current version: nothing is written.
    let (_, old) = bump_versions(&manifest, version)?;
    let metadata = cargo_metadata(&root)?;
    let plan = publish_plan(&metadata)?;
    if plan.order.is_empty() {
        bail!("no workspace crate is publishable: every member says `publish = false`");
    }
    let names: Vec<&str> = plan.order.iter().map(|p| p.name.as_str()).collect();
    println!("release {old} -> {version}, dry run: no file is changed");
    println!(
        "packaging and verifying, in dependency order: {}",
        names.join(", ")
    );
    if git(&["status", "--porcelain"]).is_ok_and(|s| !s.trim().is_empty()) {
        println!("note: the working tree has uncommitted changes; they are packaged as they are");
    }

    let target = PathBuf::from(
        metadata["target_directory"]
            .as_str()
            .context("cargo metadata: no `target_directory`")?,
    );
    forget_earlier_packages(&target, &plan.order)?;

    let started = Instant::now();
    let mut package = Command::new(cargo());
    package
        .current_dir(&root)
        .args(["package", "--locked", "--allow-dirty"]);
    for name in &names {
        package.args(["-p", name]);
    }
    let status = package.status().context("running cargo package")?;
    if !status.success() {
        bail!(
            "cargo package failed ({status}); its error is above; nothing was published or changed"
        );
    }
    let elapsed = started.elapsed().as_secs();

    println!(
        "\nwould publish {version}, in this order (packaged and verified as {old} in {}m {:02}s):",
        elapsed / 60,
        elapsed % 60
    );
    println!(
        "  {:<22} {:<10} {:>6} {:>12}",
        "crate", "version", "files", ".crate size"
    );
    for crate_ in &plan.order {
        let files = package_files(&root, &crate_.name)?;
        let archive = crate_file(&target, crate_);
        let size = std::fs::metadata(&archive)
            .with_context(|| format!("reading {}", archive.display()))?
            .len();
        println!(
            "  {:<22} {:<10} {:>6} {:>12}",
            crate_.name,
            version,
            files,
            kib(size)
        );
    }
    println!("not published: {}", plan.unpublished.join(", "));
    println!(
        "next: cargo xtask release {version}, review, commit, tag v{version}, then \
         `cargo publish -p <crate>` in the order above (or `cargo publish --workspace`)"
    );
    Ok(())
}

/// Removes what earlier dry runs left in cargo's caches for these crates at these versions.
///
/// Verification builds each crate against the others' packages through a local registry, and
/// cargo treats a registry package of a given name and version as immutable: it reuses the copy
/// it unpacked last time (under `$CARGO_HOME/registry/src`) and the library it built from it. A
/// second dry run of the same version would then verify against stale code. So this deletes
/// those unpacked copies (in every registry but crates.io's), the local registry, and the
/// fingerprints of the builds made from registry copies, which makes cargo build them again.
/// Builds of the workspace sources are left alone.
fn forget_earlier_packages(target: &Path, crates: &[Published]) -> Result<()> {
    let remove_dir = |dir: &Path| -> Result<()> {
        if dir.is_dir() {
            std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
        }
        Ok(())
    };
    remove_dir(&target.join("package").join("tmp-registry"))?;
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    if let Some(sources) = cargo_home.map(|h| h.join("registry").join("src")) {
        for registry in read_dir(&sources)? {
            let is_crates_io = registry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("index.crates.io-"));
            if is_crates_io {
                continue;
            }
            for crate_ in crates {
                remove_dir(&registry.join(format!("{}-{}", crate_.name, crate_.version)))?;
            }
        }
    }
    let deps = target.join("debug").join("deps");
    for file in read_dir(&deps)? {
        let Some(file_name) = file.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            continue;
        };
        let Some(stem) = file_name.strip_suffix(".d") else {
            continue;
        };
        for crate_ in crates {
            let lib = crate_.name.replace('-', "_");
            let Some(hash) = stem.strip_prefix(&format!("{lib}-")) else {
                continue;
            };
            let dep_info = std::fs::read_to_string(&file).unwrap_or_default();
            if dep_info.contains("/registry/src/") {
                let fingerprint = format!("{}-{hash}", crate_.name);
                remove_dir(&target.join("debug").join(".fingerprint").join(fingerprint))?;
            }
        }
    }
    Ok(())
}

/// The entries of `dir`, none when it does not exist.
fn read_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.filter_map(|e| e.ok().map(|e| e.path())).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

fn cargo_metadata(root: &Path) -> Result<Value> {
    let out = Command::new(cargo())
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed ({})", out.status);
    }
    serde_json::from_slice(&out.stdout).context("reading cargo metadata output")
}

/// How many files `cargo package` puts in the crate's package.
fn package_files(root: &Path, name: &str) -> Result<usize> {
    let out = Command::new(cargo())
        .current_dir(root)
        .args(["package", "--list", "--locked", "--allow-dirty", "-p", name])
        .stderr(Stdio::inherit())
        .output()
        .context("running cargo package --list")?;
    if !out.status.success() {
        bail!("cargo package --list -p {name} failed ({})", out.status);
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count())
}

/// Where `cargo package` leaves the `.crate` archive.
fn crate_file(target: &Path, crate_: &Published) -> PathBuf {
    target
        .join("package")
        .join(format!("{}-{}.crate", crate_.name, crate_.version))
}

/// A size in KiB with one decimal.
fn kib(bytes: u64) -> String {
    format!("{}.{} KiB", bytes / 1024, (bytes % 1024) * 10 / 1024)
}

fn git(args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(project_root())
        .output()
        .context("running git")?;
    if !out.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn last_tag() -> Option<String> {
    git(&["describe", "--tags", "--abbrev=0"])
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

/// Accepts `MAJOR.MINOR.PATCH` with an optional `-prerelease` (letters, digits, dots, dashes).
pub fn check_version(version: &str) -> Result<()> {
    let (core, pre) = match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version, None),
    };
    let parts: Vec<&str> = core.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let pre_ok = pre.is_none_or(|p| {
        !p.is_empty()
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    });
    if parts.len() != 3 || !parts.iter().all(numeric) || !pre_ok {
        bail!("invalid version `{version}`: expected MAJOR.MINOR.PATCH, e.g. 0.2.0 or 1.0.0-rc.1");
    }
    Ok(())
}

/// Sets `version` in `[workspace.package]` and on every internal (path) dependency in
/// `[workspace.dependencies]`, editing lines in place so comments and layout stay. Returns the
/// new text and the old version.
pub fn bump_versions(manifest: &str, version: &str) -> Result<(String, String)> {
    let mut section = String::new();
    let mut old = None;
    let mut out = Vec::new();
    for line in manifest.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            section = trimmed.to_string();
        }
        let new_line = if section == "[workspace.package]" && trimmed.starts_with("version") {
            let current =
                quoted_after(trimmed, "version").context("unreadable workspace version")?;
            old = Some(current.to_string());
            line.replacen(&format!("\"{current}\""), &format!("\"{version}\""), 1)
        } else if section == "[workspace.dependencies]" && trimmed.contains("path = \"crates/") {
            match quoted_after(trimmed, "version") {
                Some(current) => line.replacen(
                    &format!("version = \"{current}\""),
                    &format!("version = \"{version}\""),
                    1,
                ),
                None => line.to_string(),
            }
        } else {
            line.to_string()
        };
        out.push(new_line);
    }
    let old = old.context("no `version` in [workspace.package]")?;
    let mut text = out.join("\n");
    if manifest.ends_with('\n') {
        text.push('\n');
    }
    Ok((text, old))
}

/// The string in quotes after `key =` in `text`.
fn quoted_after<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let start = text.find(key)? + key.len();
    let rest = text[start..]
        .trim_start()
        .strip_prefix('=')?
        .trim_start()
        .strip_prefix('"')?;
    rest.split('"').next()
}

/// A changelog section: commits grouped by their `scope: ` prefix (the crate), in first-seen
/// order; commits without a scope go under "Other".
pub fn changelog_section(version: &str, date: &str, subjects: &[String]) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for subject in subjects {
        let subject = subject.trim();
        if subject.is_empty() {
            continue;
        }
        let (scope, text) = match subject.split_once(": ") {
            Some((scope, text)) if !scope.contains(' ') => (scope.to_string(), text.to_string()),
            _ => ("Other".to_string(), subject.to_string()),
        };
        match groups.iter_mut().find(|(s, _)| *s == scope) {
            Some((_, items)) => items.push(text),
            None => groups.push((scope, vec![text])),
        }
    }
    let mut out = format!("## {version} ({date})\n");
    if groups.is_empty() {
        out.push_str("\nNo changes.\n");
    }
    for (scope, items) in groups {
        out.push_str(&format!("\n### {scope}\n\n"));
        for item in items {
            out.push_str(&format!("- {item}\n"));
        }
    }
    out
}

/// Puts `section` at the top of the changelog, under its `# Changelog` title.
pub fn prepend_changelog(existing: &str, section: &str) -> String {
    let body = existing
        .strip_prefix("# Changelog")
        .map(|rest| rest.trim_start_matches('\n'))
        .unwrap_or(existing);
    if body.trim().is_empty() {
        format!("# Changelog\n\n{section}")
    } else {
        format!("# Changelog\n\n{section}\n{body}")
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_date(i64::try_from(secs / 86_400).unwrap_or(0))
}

/// Days since 1970-01-01 to `YYYY-MM-DD` (Howard Hinnant's `civil_from_days`; a dozen lines do
/// not warrant a date crate in xtask).
pub fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"[workspace]
members = ["crates/*"]

[workspace.package]
version = "0.1.0" # bumped by cargo xtask release
edition = "2024"

[workspace.dependencies]
openclaw-config = { path = "crates/config", version = "0.1.0" }
fake-bedrock = { path = "crates/fake-bedrock", version = "0.1.0" }
serde = { version = "0.1.0" }
"#;

    #[test]
    fn bumps_package_and_internal_versions_only() {
        let (text, old) = bump_versions(MANIFEST, "0.2.0").unwrap();
        assert_eq!(old, "0.1.0");
        assert!(text.contains("version = \"0.2.0\" # bumped by cargo xtask release"));
        assert!(
            text.contains("openclaw-config = { path = \"crates/config\", version = \"0.2.0\" }")
        );
        assert!(
            text.contains("fake-bedrock = { path = \"crates/fake-bedrock\", version = \"0.2.0\" }")
        );
        assert!(
            text.contains("serde = { version = \"0.1.0\" }"),
            "external crates untouched"
        );
        assert!(text.ends_with("}\n"));
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["workspace"]["package"]["version"].as_str(),
            Some("0.2.0")
        );
    }

    #[test]
    fn versions_are_checked() {
        for ok in ["0.2.0", "1.0.0-rc.1", "10.20.30"] {
            assert!(check_version(ok).is_ok(), "{ok}");
        }
        for bad in ["1.0", "v1.0.0", "1.0.0-", "1.x.0", ""] {
            assert!(check_version(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn changelog_groups_by_scope() {
        let subjects = [
            "gateway: openclaw binary".to_string(),
            "config: schema".to_string(),
            "gateway: demo".to_string(),
            "workspace skeleton and CI".to_string(),
        ];
        assert_eq!(
            changelog_section("0.2.0", "2026-01-31", &subjects),
            "## 0.2.0 (2026-01-31)\n\n### gateway\n\n- openclaw binary\n- demo\n\n### config\n\n- schema\n\n### Other\n\n- workspace skeleton and CI\n"
        );
        assert!(changelog_section("0.2.0", "d", &[]).contains("No changes."));
    }

    #[test]
    fn changelog_is_prepended_under_the_title() {
        let first = prepend_changelog("", "## 0.1.0 (d)\n\n- a\n");
        assert_eq!(first, "# Changelog\n\n## 0.1.0 (d)\n\n- a\n");
        let second = prepend_changelog(&first, "## 0.2.0 (e)\n\n- b\n");
        assert_eq!(
            second,
            "# Changelog\n\n## 0.2.0 (e)\n\n- b\n\n## 0.1.0 (d)\n\n- a\n"
        );
    }

    /// A dependency of a fixture package: `(name, kind, req)`, always a path dependency.
    type Dep<'a> = (&'a str, Option<&'a str>, &'a str);

    /// A `cargo metadata --no-deps` document: `(name, publish, dependencies)` per member.
    fn metadata(packages: &[(&str, bool, &[Dep<'_>])]) -> Value {
        let packages: Vec<Value> = packages
            .iter()
            .map(|(name, publish, deps)| {
                let deps: Vec<Value> = deps
                    .iter()
                    .map(|(dep, kind, req)| {
                        serde_json::json!({
                            "name": dep, "kind": kind, "req": req,
                            "path": format!("/w/crates/{dep}"),
                        })
                    })
                    .collect();
                serde_json::json!({
                    "id": format!("path+file:///w/crates/{name}#0.1.0"),
                    "name": name,
                    "version": "0.1.0",
                    "publish": if *publish { Value::Null } else { serde_json::json!([]) },
                    "dependencies": deps,
                })
            })
            .collect();
        let members: Vec<Value> = packages.iter().map(|p| p["id"].clone()).collect();
        serde_json::json!({ "packages": packages, "workspace_members": members })
    }

    fn names(plan: &PublishPlan) -> Vec<&str> {
        plan.order.iter().map(|p| p.name.as_str()).collect()
    }

    #[test]
    fn publish_order_puts_dependencies_first_and_skips_unpublished() {
        let m = metadata(&[
            (
                "stream",
                true,
                &[("config", None, "^0.1.0"), ("creds", None, "^0.1.0")],
            ),
            (
                "gateway",
                false,
                &[("stream", None, "^0.1.0"), ("fake", None, "^0.1.0")],
            ),
            (
                "creds",
                true,
                &[("config", None, "^0.1.0"), ("fake", Some("dev"), "*")],
            ),
            ("config", true, &[]),
            ("fake", true, &[]),
            (
                "serve",
                true,
                &[("stream", None, "^0.1.0"), ("fake", Some("dev"), "^0.1.0")],
            ),
            (
                "build-helper-user",
                true,
                &[("config", Some("build"), "^0.1.0")],
            ),
        ]);
        let plan = publish_plan(&m).unwrap();
        // Ties by name; a path-only dev-dependency (`*`) puts no constraint, a versioned one does.
        assert_eq!(
            names(&plan),
            [
                "config",
                "fake",
                "build-helper-user",
                "creds",
                "stream",
                "serve"
            ]
        );
        assert_eq!(plan.unpublished, ["gateway"]);
        assert!(plan.order.iter().all(|p| p.version == "0.1.0"));
    }

    #[test]
    fn publish_order_refuses_needing_an_unpublished_crate() {
        let m = metadata(&[
            ("lib", true, &[("tool", None, "^0.1.0")]),
            ("tool", false, &[]),
        ]);
        let err = publish_plan(&m).unwrap_err().to_string();
        assert_eq!(
            err,
            "lib depends on tool, which has `publish = false` (publish it)"
        );

        let m = metadata(&[
            ("lib", true, &[("fake", Some("dev"), "^0.1.0")]),
            ("fake", false, &[]),
        ]);
        let err = publish_plan(&m).unwrap_err().to_string();
        assert!(err.contains("lib dev-depends on fake"), "{err}");
        assert!(err.contains("path-only, without a version"), "{err}");

        // Path-only: dropped by `cargo package`, so fine.
        let m = metadata(&[
            ("lib", true, &[("fake", Some("dev"), "*")]),
            ("fake", false, &[]),
        ]);
        assert_eq!(names(&publish_plan(&m).unwrap()), ["lib"]);
    }

    #[test]
    fn publish_order_reports_a_cycle() {
        let m = metadata(&[
            ("a", true, &[("b", None, "^0.1.0")]),
            ("b", true, &[("a", Some("dev"), "^0.1.0")]),
            ("c", true, &[]),
        ]);
        let err = publish_plan(&m).unwrap_err().to_string();
        assert_eq!(
            err,
            r#"the published crates depend on each other in a cycle: ["a", "b"]"#
        );
    }

    /// The real workspace: every library crate is published after the workspace crates it
    /// needs, and the binary, bench, e2e tests and xtask are not published.
    #[test]
    fn the_workspace_publishes_its_library_crates_in_dependency_order() {
        let metadata = cargo_metadata(&project_root()).unwrap();
        let plan = publish_plan(&metadata).unwrap();
        let order = names(&plan);
        for library in [
            "openclaw-config",
            "openclaw-creds",
            "openclaw-discovery",
            "openclaw-stream",
            "openclaw-serve",
            "fake-bedrock",
        ] {
            assert!(
                order.contains(&library),
                "{library} is not published: {order:?}"
            );
        }
        for internal in [
            "openclaw-gateway",
            "openclaw-bench",
            "openclaw-e2e",
            "xtask",
        ] {
            assert!(plan.unpublished.iter().any(|u| u == internal), "{internal}");
        }
        let at = |name: &str| order.iter().position(|n| *n == name).unwrap();
        assert!(at("openclaw-config") < at("openclaw-discovery"));
        assert!(at("openclaw-creds") < at("openclaw-discovery"));
        assert!(at("openclaw-stream") < at("openclaw-serve"));
    }

    #[test]
    fn sizes_in_kib() {
        assert_eq!(kib(0), "0.0 KiB");
        assert_eq!(kib(38_912), "38.0 KiB");
        assert_eq!(kib(1_536), "1.5 KiB");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
    }
}
