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
    // No temporary files are left behind.
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["openclaw.json"]);
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
