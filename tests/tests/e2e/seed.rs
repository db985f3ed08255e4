use openclaw_e2e::{FakeProcess, Sandbox, static_keys};

const SET_ENABLED: &[&str] = &["config", "set", "models.bedrockDiscovery.enabled", "true"];
const SET_REGION: &[&str] = &[
    "config",
    "set",
    "models.bedrockDiscovery.region",
    "us-east-1",
];

fn seed_commands(sandbox: &Sandbox) {
    sandbox.run(SET_ENABLED, &[], None).ok();
    sandbox.run(SET_REGION, &[], None).ok();
    let got = sandbox.run(&["config", "get", "models.bedrockDiscovery"], &[], None);
    let value: serde_json::Value = serde_json::from_str(got.ok()).unwrap();
    assert_eq!(
        value,
        serde_json::json!({"enabled": true, "region": "us-east-1"})
    );
}

#[test]
fn seed_commands_on_a_missing_file() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    seed_commands(&sandbox);
    let out = sandbox.run(&["models", "list"], &static_keys(), None);
    let table = out.ok();
    assert!(table.starts_with("Model "), "{table}");
    assert!(table.contains("amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0"));
    assert!(table.contains("amazon-bedrock/us.amazon.nova-pro-v1:0"));
}

#[test]
fn seed_commands_on_an_empty_file() {
    let sandbox = Sandbox::new(None);
    sandbox.write_config("");
    seed_commands(&sandbox);
}

#[test]
fn seed_commands_on_a_file_that_keeps_discovery_where_newer_openclaw_does() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(
        "{\n  plugins: { entries: { 'amazon-bedrock': { config: {\n    discovery: { enabled: false }, // newer OpenClaw\n  } } } },\n}\n",
    );
    let out = sandbox.run(SET_ENABLED, &[], None);
    assert!(
        out.ok().starts_with(
            "Updated models.bedrockDiscovery.enabled (as plugins.entries.amazon-bedrock.config.discovery.enabled) in "
        ),
        "{out:?}"
    );
    seed_commands(&sandbox);
    let text = sandbox.read_config();
    assert!(!text.contains("bedrockDiscovery"), "{text}");
    assert!(text.contains("// newer OpenClaw"), "{text}");
    sandbox.run(&["config", "validate"], &[], None).ok();
    let table = sandbox.run(&["models", "list"], &static_keys(), None);
    assert!(
        table
            .ok()
            .contains("amazon-bedrock/us.amazon.nova-pro-v1:0"),
        "{table:?}"
    );
}

#[test]
fn seed_commands_keep_comments_of_a_json5_file() {
    let sandbox = Sandbox::new(None);
    sandbox.write_config(
        "// my OpenClaw settings\n{\n  channels: { telegram: { enabled: false } }, // not ours\n  models: {\n    // discovery below\n  },\n}\n",
    );
    seed_commands(&sandbox);
    let text = sandbox.read_config();
    for kept in [
        "// my OpenClaw settings",
        "// not ours",
        "// discovery below",
        "telegram",
    ] {
        assert!(text.contains(kept), "lost {kept:?}:\n{text}");
    }
    sandbox.run(&["config", "validate"], &[], None).ok();
    sandbox
        .run(
            &["config", "unset", "models.bedrockDiscovery.region"],
            &[],
            None,
        )
        .ok();
    let gone = sandbox.run(
        &["config", "get", "models.bedrockDiscovery.region"],
        &[],
        None,
    );
    assert_eq!(gone.code, Some(1), "{gone:?}");
}

#[test]
fn config_file_schema_and_strict_json() {
    let sandbox = Sandbox::new(None);
    let file = sandbox.run(&["config", "file"], &[], None);
    assert_eq!(
        file.ok().trim(),
        sandbox.config_path().display().to_string()
    );
    let schema: serde_json::Value =
        serde_json::from_str(sandbox.run(&["config", "schema"], &[], None).ok()).unwrap();
    assert!(schema["properties"]["models"].is_object());
    let strict = sandbox.run(
        &[
            "config",
            "set",
            "models.bedrockDiscovery.region",
            "us-east-1",
            "--strict-json",
        ],
        &[],
        None,
    );
    assert_eq!(strict.code, Some(3), "{strict:?}");
}
