use std::path::Path;

use openclaw_config::{Config, ConfigDocument, ValueMode};

const LOOSE: ValueMode = ValueMode::Json5WithStringFallback;

#[test]
fn a_missing_file_is_an_empty_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nope/openclaw.json");
    assert_eq!(Config::load(&path).unwrap(), Config::default());
    let doc = ConfigDocument::load(&path).unwrap();
    assert_eq!(doc.text(), "");
    assert_eq!(doc.path(), Some(path.as_path()));
}

#[test]
fn load_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "{\n  gateway: { port: true },\n}\n").unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}:2:20: `gateway.port`", path.display())),
        "{err}"
    );
}

#[test]
fn seed_commands_on_a_missing_file_create_it_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/openclaw.json");
    let mut doc = ConfigDocument::load(&path).unwrap();
    doc.set("models.bedrockDiscovery.enabled", "true", LOOSE)
        .unwrap();
    doc.set("models.bedrockDiscovery.region", "us-east-1", LOOSE)
        .unwrap();
    doc.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    insta::assert_snapshot!(text);
    let config = Config::load(&path).unwrap();
    assert_eq!(config.bedrock_discovery().enabled, Some(true));
    assert_mode(&path, 0o600);
    assert_mode(path.parent().unwrap(), 0o700);
    // No temporary files are left behind; the lock file stays (removing it would race).
    let mut names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, [".openclaw.json.lock", "openclaw.json"]);
}

#[test]
fn seed_commands_on_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "").unwrap();
    let mut doc = ConfigDocument::load(&path).unwrap();
    doc.set("models.bedrockDiscovery.enabled", "true", LOOSE)
        .unwrap();
    doc.set("models.bedrockDiscovery.region", "us-east-1", LOOSE)
        .unwrap();
    doc.save().unwrap();
    assert!(Config::load(&path).unwrap().bedrock_discovery().enabled == Some(true));
}

#[test]
fn saving_keeps_existing_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "{ gateway: { port: 1 } }").unwrap();
    set_mode(&path, 0o640);
    let mut doc = ConfigDocument::load(&path).unwrap();
    doc.set("gateway.port", "2", LOOSE).unwrap();
    doc.save().unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "{ gateway: { port: 2 } }"
    );
    assert_mode(&path, 0o640);
}

#[test]
fn a_refused_edit_leaves_the_file_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    let original = "// mine\n{ models: { bedrockDiscovery: { enabled: false } } }\n";
    std::fs::write(&path, original).unwrap();
    let mut doc = ConfigDocument::load(&path).unwrap();
    assert!(
        doc.set("models.bedrockDiscovery.enabled", "maybe", LOOSE)
            .is_err()
    );
    assert!(
        doc.set("models.bedrockDiscovery.extra", "1", LOOSE)
            .is_err()
    );
    doc.save().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), original.as_bytes());
}

#[test]
fn a_symlinked_config_writes_through_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    let link = dir.path().join("openclaw.json");
    std::fs::write(&target, "{}").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let mut doc = ConfigDocument::load(&link).unwrap();
        doc.set("gateway.port", "5", LOOSE).unwrap();
        doc.save().unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert!(
            std::fs::read_to_string(&target)
                .unwrap()
                .contains("\"port\": 5")
        );
    }
}

/// Every document loads the same file, then all save: each save must find the others' edits
/// and keep them (a plain read-modify-write keeps only the last one).
#[test]
fn concurrent_load_set_save_keeps_every_edit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "// mine\n{ agents: { defaults: {} } }\n").unwrap();
    let n = 12;
    let loaded = std::sync::Barrier::new(n);
    std::thread::scope(|scope| {
        for i in 0..n {
            let (path, loaded) = (&path, &loaded);
            scope.spawn(move || {
                let mut doc = ConfigDocument::load(path).unwrap();
                doc.set(
                    &format!("agents.defaults.key_{i:02}"),
                    &format!("v{i}"),
                    LOOSE,
                )
                .unwrap();
                loaded.wait();
                doc.save().unwrap();
                // The document holds what was written: its own edit on top of the others'.
                assert!(doc.text().contains(&format!("key_{i:02}")));
            });
        }
    });
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("// mine\n"), "{text}");
    let doc = ConfigDocument::load(&path).unwrap();
    for i in 0..n {
        assert_eq!(
            doc.get(&format!("agents.defaults.key_{i:02}")).unwrap(),
            Some(serde_json::json!(format!("v{i}"))),
            "key_{i:02} lost:\n{text}"
        );
    }
}

/// `edit` reads under the lock: concurrent edits see each other, and a failed edit writes
/// nothing.
#[test]
fn concurrent_edits_are_serialised() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/openclaw.json");
    std::thread::scope(|scope| {
        for i in 0..8 {
            let path = &path;
            scope.spawn(move || {
                ConfigDocument::edit(path, |doc| {
                    let before = doc.get("agents.defaults").unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    doc.set(&format!("agents.defaults.k{i}"), "1", LOOSE)?;
                    Ok::<_, openclaw_config::Error>(before)
                })
                .unwrap();
            });
        }
    });
    let doc = ConfigDocument::load(&path).unwrap();
    let defaults = doc.get("agents.defaults").unwrap().unwrap();
    assert_eq!(defaults.as_object().unwrap().len(), 8, "{defaults}");
    let before = std::fs::read(&path).unwrap();
    let err = ConfigDocument::edit(&path, |doc| {
        doc.set("gateway.port", "1", LOOSE)?;
        doc.set("gateway.port", "not a port", LOOSE)
    })
    .unwrap_err();
    assert!(err.to_string().contains("gateway.port"), "{err}");
    let refused = ConfigDocument::edit(&path, |doc| {
        doc.set("gateway.port", "1", LOOSE)?;
        Err::<(), _>(openclaw_config::Error::Edit {
            path: "x".into(),
            reason: "the caller's own check failed".into(),
        })
    });
    assert!(refused.is_err());
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn a_read_only_file_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "{}").unwrap();
    set_mode(&path, 0o444);
    let mut doc = ConfigDocument::load(&path).unwrap();
    doc.set("gateway.port", "2", LOOSE).unwrap();
    let err = doc.save().unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: the file is read-only (mode 0444); refusing to replace it (make it writable, e.g. `chmod u+w`, to edit it)",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
    assert_mode(&path, 0o444);
    assert_no_temporary_files(dir.path());
}

#[cfg(unix)]
#[test]
fn a_file_of_another_user_is_refused() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    std::fs::write(&path, "{}").unwrap();
    let me = std::fs::metadata(&path).unwrap().uid();
    let other = if me == 4242 { 4243 } else { 4242 };
    if std::os::unix::fs::chown(&path, Some(other), None).is_err() {
        // Only root can give a file away; then the rule is covered by the read-only bits.
        assert_ne!(me, 0, "root could not chown");
        return;
    }
    let err = ConfigDocument::edit(&path, |doc| doc.set("gateway.port", "2", LOOSE))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: the file belongs to uid {other}, not to the current user (uid {me}); refusing to replace it, which would change its owner",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{}");
}

#[cfg(unix)]
#[test]
fn a_dangling_symlink_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("gone/real.json");
    let link = dir.path().join("openclaw.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    // Reading it is reading a missing file.
    assert_eq!(Config::load(&link).unwrap(), Config::default());
    let mut doc = ConfigDocument::load(&link).unwrap();
    doc.set("gateway.port", "2", LOOSE).unwrap();
    let err = doc.save().unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: a symbolic link to {}, which does not exist; refusing to replace the link with a regular file (create the target or remove the link)",
            link.display(),
            target.display()
        )
    );
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(!target.exists());
}

#[cfg(unix)]
#[test]
fn devices_are_not_configuration_files() {
    for err in [
        Config::load("/dev/zero").unwrap_err(),
        ConfigDocument::load("/dev/zero").unwrap_err(),
    ] {
        assert_eq!(
            err.to_string(),
            "/dev/zero: expected a regular configuration file, found a character device"
        );
    }
}

#[test]
fn oversized_files_are_refused_without_reading_them_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openclaw.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(openclaw_config::MAX_CONFIG_BYTES + 1).unwrap();
    let err = Config::load(&path).unwrap_err().to_string();
    assert!(err.contains("at most 16 MiB"), "{err}");
    assert!(err.starts_with(&path.display().to_string()), "{err}");
}

fn assert_no_temporary_files(dir: &Path) {
    let temps: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(temps.is_empty(), "{temps:?}");
}

#[cfg(unix)]
fn assert_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    let actual = std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(actual, mode, "{}: {actual:o}", path.display());
}

#[cfg(not(unix))]
fn assert_mode(_: &Path, _: u32) {}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}
