//! `cargo xtask release <version>`: bump the workspace version and write a changelog section.
//!
//! Offline: it edits `Cargo.toml` (the `[workspace.package]` version and the `version` of every
//! internal crate in `[workspace.dependencies]`) and prepends a section to `CHANGELOG.md` built
//! from `git log` since the last tag (or the first commit). It neither commits, tags nor pushes:
//! review the diff, then `git commit` and `git tag v<version>`.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::project_root;

/// Runs the task.
pub fn run(version: &str) -> Result<()> {
    check_version(version)?;
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

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(19_782), "2024-02-29");
    }
}
