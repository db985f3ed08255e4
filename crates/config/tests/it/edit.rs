use openclaw_config::{ConfigDocument, Error, ValueMode};
use serde_json::json;

use crate::seeds::{DISCOVERY_SEED, MANUAL_SEED};

const LOOSE: ValueMode = ValueMode::Json5WithStringFallback;

/// The seed commands `config set models.bedrockDiscovery.enabled true` and
/// `config set models.bedrockDiscovery.region us-east-1`.
fn seed_commands(doc: &mut ConfigDocument) {
    doc.set("models.bedrockDiscovery.enabled", "true", LOOSE)
        .unwrap();
    doc.set("models.bedrockDiscovery.region", "us-east-1", LOOSE)
        .unwrap();
    let config = doc.config().unwrap();
    assert_eq!(config.bedrock_discovery().enabled, Some(true));
    assert_eq!(
        config.bedrock_discovery().region.as_deref(),
        Some("us-east-1")
    );
}

const COMMENTED: &str = r#"// My OpenClaw configuration.
{
  /* Channels are OpenClaw's business. */
  channels: {
    telegram: { enabled: true }, // keep me
  },
  models: {
    // discovery settings go here
    bedrockDiscovery: {
      providerFilter: ['anthropic'], // only Claude
    },
  },
  gateway: { port: 18789 },
}
"#;

#[test]
fn seed_commands_on_an_empty_text() {
    let mut doc = ConfigDocument::from_text("").unwrap();
    seed_commands(&mut doc);
    insta::assert_snapshot!(doc.text());
}

#[test]
fn seed_commands_on_a_commented_json5_text() {
    let mut doc = ConfigDocument::from_text(COMMENTED).unwrap();
    seed_commands(&mut doc);
    let text = doc.text();
    for comment in [
        "// My OpenClaw configuration.",
        "/* Channels are OpenClaw's business. */",
        "// keep me",
        "// discovery settings go here",
        "// only Claude",
    ] {
        assert!(text.contains(comment), "{comment} lost:\n{text}");
    }
    // The file writes keys bare, so do we.
    assert!(
        text.contains("enabled: true,\n") || text.contains("enabled: true\n"),
        "{text}"
    );
    assert!(!text.contains("\"region\""), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn seed_commands_on_a_json_text_keep_quoted_keys() {
    let mut doc =
        ConfigDocument::from_text("{\n  \"gateway\": {\n    \"port\": 18789\n  }\n}\n").unwrap();
    seed_commands(&mut doc);
    insta::assert_snapshot!(doc.text());
}

/// A file that keeps its discovery settings where newer OpenClaw does.
const PLUGIN_LAYOUT: &str = r#"{
  plugins: { entries: { "amazon-bedrock": { config: {
    // discovery, the newer OpenClaw way
    discovery: { enabled: false },
  } } } },
}
"#;

#[test]
fn seed_commands_edit_discovery_where_the_file_keeps_it() {
    // Only the plugin block: the seed commands edit it (a second block would differ from it
    // and make the file invalid).
    let mut doc = ConfigDocument::from_text(PLUGIN_LAYOUT).unwrap();
    assert_eq!(
        doc.edit_paths("models.bedrockDiscovery.region").unwrap(),
        ["plugins.entries.amazon-bedrock.config.discovery.region"]
    );
    seed_commands(&mut doc);
    let text = doc.text();
    assert!(!text.contains("bedrockDiscovery"), "{text}");
    assert!(
        text.contains("// discovery, the newer OpenClaw way"),
        "{text}"
    );
    assert_eq!(
        doc.get("models.bedrockDiscovery.region").unwrap(),
        Some(json!("us-east-1"))
    );
    assert!(doc.unset("models.bedrockDiscovery.region").unwrap());
    assert_eq!(doc.get("models.bedrockDiscovery.region").unwrap(), None);
    assert_eq!(doc.config().unwrap().bedrock_discovery().region, None);

    // Both blocks (equal, as a valid file has them): an edit goes to both.
    let both = PLUGIN_LAYOUT.replacen(
        "{\n",
        "{\n  models: { bedrockDiscovery: { enabled: false } },\n",
        1,
    );
    let mut doc = ConfigDocument::from_text(both).unwrap();
    assert_eq!(
        doc.edit_paths("models.bedrockDiscovery.region")
            .unwrap()
            .len(),
        2
    );
    seed_commands(&mut doc);
    let config = doc.config().unwrap();
    assert_eq!(
        config.models.bedrock_discovery.as_ref(),
        config.plugin_discovery()
    );
    assert_eq!(
        config.plugin_discovery().unwrap().region.as_deref(),
        Some("us-east-1")
    );

    // Only `models.bedrockDiscovery`: a plugin-path edit goes there; a file with neither
    // gets the path as written.
    let mut doc = ConfigDocument::from_text("{ models: { bedrockDiscovery: {} } }").unwrap();
    doc.set(
        "plugins.entries.amazon-bedrock.config.discovery.enabled",
        "true",
        LOOSE,
    )
    .unwrap();
    assert_eq!(
        doc.get("models.bedrockDiscovery.enabled").unwrap(),
        Some(json!(true))
    );
    assert!(!doc.text().contains("plugins"), "{}", doc.text());
    let doc = ConfigDocument::from_text("{}").unwrap();
    assert_eq!(
        doc.edit_paths("plugins.entries.amazon-bedrock.config.discovery.region")
            .unwrap(),
        ["plugins.entries.amazon-bedrock.config.discovery.region"]
    );

    // A block itself is not routed: the settings can move from one place to the other.
    let mut doc =
        ConfigDocument::from_text("{ models: { bedrockDiscovery: { enabled: true } } }").unwrap();
    doc.set(
        "plugins.entries.amazon-bedrock.config.discovery",
        "{ enabled: true }",
        LOOSE,
    )
    .unwrap();
    assert!(doc.unset("models.bedrockDiscovery").unwrap());
    let config = doc.config().unwrap();
    assert_eq!(config.models.bedrock_discovery, None);
    assert_eq!(config.plugin_discovery().unwrap().enabled, Some(true));
    // A read of a block itself finds it where the file keeps it.
    assert_eq!(
        doc.get("models.bedrockDiscovery").unwrap(),
        Some(json!({"enabled": true}))
    );
}

#[test]
fn set_replaces_in_place_and_keeps_neighbours() {
    let mut doc = ConfigDocument::from_text(DISCOVERY_SEED).unwrap();
    doc.set("models.bedrockDiscovery.refreshInterval", "0", LOOSE)
        .unwrap();
    doc.set(
        "models.bedrockDiscovery.providerFilter",
        "['anthropic', 'meta']",
        LOOSE,
    )
    .unwrap();
    assert_eq!(
        doc.get("models.bedrockDiscovery.refreshInterval").unwrap(),
        Some(json!(0))
    );
    insta::assert_snapshot!(doc.text());
}

#[test]
fn set_in_arrays_and_bracketed_keys() {
    let mut doc = ConfigDocument::from_text(MANUAL_SEED).unwrap();
    doc.set(
        "models.providers.amazon-bedrock.models[0].maxTokens",
        "16384",
        LOOSE,
    )
    .unwrap();
    doc.set(
        r#"models.providers["amazon-bedrock"].models.0.name"#,
        "Opus",
        LOOSE,
    )
    .unwrap();
    doc.set(
        "models.providers.amazon-bedrock.models[1]",
        "{ id: 'amazon.nova-pro-v1:0', name: 'Nova Pro' }",
        LOOSE,
    )
    .unwrap();
    doc.set(
        "agents.defaults.model.fallbacks",
        "['amazon-bedrock/amazon.nova-pro-v1:0']",
        LOOSE,
    )
    .unwrap();
    let config = doc.config().unwrap();
    let models = &config.provider("amazon-bedrock").unwrap().models;
    assert_eq!(models[0].max_tokens, 16384);
    assert_eq!(models[0].name, "Opus");
    assert_eq!(models[1].id, "amazon.nova-pro-v1:0");
    assert_eq!(config.agents.defaults.model.fallbacks.len(), 1);
    insta::assert_snapshot!(doc.text());
}

#[test]
fn unset_removes_and_keeps_comments() {
    let mut doc = ConfigDocument::from_text(COMMENTED).unwrap();
    assert!(doc.unset("models.bedrockDiscovery.providerFilter").unwrap());
    assert!(doc.unset("gateway.port").unwrap());
    assert!(!doc.unset("gateway.auth.token").unwrap());
    assert!(!doc.unset("nothing.here").unwrap());
    assert_eq!(doc.get("gateway.port").unwrap(), None);
    assert!(doc.text().contains("// keep me"));
    insta::assert_snapshot!(doc.text());
}

#[test]
fn unknown_sections_survive_edits() {
    let mut doc = ConfigDocument::from_text(COMMENTED).unwrap();
    doc.set("gateway.bind", "lan", LOOSE).unwrap();
    assert_eq!(
        doc.get("channels.telegram.enabled").unwrap(),
        Some(json!(true))
    );
    // Unknown sections can be edited too: the file is OpenClaw's as much as ours.
    doc.set("channels.telegram.enabled", "false", LOOSE)
        .unwrap();
    assert_eq!(
        doc.get("channels.telegram.enabled").unwrap(),
        Some(json!(false))
    );
}

#[test]
fn value_modes() {
    let mut doc = ConfigDocument::from_text("").unwrap();
    doc.set("models.bedrockDiscovery.region", "eu-west-1", LOOSE)
        .unwrap();
    assert_eq!(
        doc.get("models.bedrockDiscovery.region").unwrap(),
        Some(json!("eu-west-1"))
    );
    let err = doc
        .set(
            "models.bedrockDiscovery.region",
            "eu-west-2",
            ValueMode::StrictJson,
        )
        .unwrap_err();
    assert!(matches!(err, Error::InvalidValue { .. }), "{err}");
    assert!(
        err.to_string().contains("`models.bedrockDiscovery.region`"),
        "{err}"
    );
    doc.set(
        "models.bedrockDiscovery.region",
        "'eu-west-2'",
        ValueMode::StrictJson,
    )
    .unwrap();
    assert_eq!(
        doc.get("models.bedrockDiscovery.region").unwrap(),
        Some(json!("eu-west-2"))
    );
    doc.set(
        "models.bedrockDiscovery.refreshInterval",
        "0x10",
        ValueMode::StrictJson,
    )
    .unwrap();
    assert_eq!(
        doc.get("models.bedrockDiscovery.refreshInterval").unwrap(),
        Some(json!(16))
    );
}

#[test]
fn refused_edits_change_nothing_and_explain_why() {
    let mut doc = ConfigDocument::from_text(COMMENTED).unwrap();
    let before = doc.text().to_string();
    for (path, value, needle) in [
        (
            "models.bedrockDiscovery.enabled",
            "yes",
            "expected a boolean, found string \"yes\"",
        ),
        (
            "models.bedrockDiscovery.refreshInteval",
            "60",
            "did you mean `refreshInterval`?",
        ),
        (
            "agents.defaults.model.primary",
            "claude",
            "no `/` between provider and model id",
        ),
        ("gateway.port", "-1", "expected an integer from 0 to 65535"),
        (
            "models.bedrockDiscovery",
            "7",
            "expected an object, found integer 7",
        ),
    ] {
        let err = doc.set(path, value, LOOSE).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(needle), "{path}: {shown}");
        // The refused value is in no text on disk: no line and column, the key path says where.
        assert!(
            shown.starts_with(&format!("<text>: `{path}`: ")),
            "{path}: {shown}"
        );
        assert_eq!(err.line(), None, "{path}: {shown}");
        assert_eq!(doc.text(), before);
    }
    // A problem already in the file keeps its position there, even when the edit moves lines.
    let broken = "{\n  models: {},\n  gateway: { port: -1 },\n}\n";
    let mut broken_doc = ConfigDocument::from_text(broken).unwrap();
    let err = broken_doc
        .set("models", "{\n a: 1,\n b: 2,\n}", ValueMode::StrictJson)
        .unwrap_err();
    assert_eq!(err.line(), Some(3), "{err}");
    assert!(err.to_string().starts_with("<text>:3:"), "{err}");
    assert_eq!(broken_doc.text(), broken);
    // The same key edited to another bad value: its message names the new value, at the old
    // value's position.
    let err = broken_doc
        .set("gateway.port", "80000", ValueMode::StrictJson)
        .unwrap_err();
    assert!(err.to_string().starts_with("<text>:3:"), "{err}");
    assert!(err.to_string().contains("found integer 80000"), "{err}");
    // Shape errors.
    let err = doc.set("gateway.port.x", "1", LOOSE).unwrap_err();
    assert!(
        err.to_string()
            .contains("`gateway.port` is a number, not an object or array"),
        "{err}"
    );
    let err = doc.set("models[0]", "1", LOOSE).unwrap_err();
    assert!(
        err.to_string()
            .contains("`models` is an object, not an array"),
        "{err}"
    );
    // A model id split at its dots.
    let err = doc
        .set(
            "agents.defaults.models.amazon-bedrock/us.amazon.nova-pro-v1:0.alias",
            "nova",
            LOOSE,
        )
        .unwrap_err();
    assert!(
        err.to_string().contains(
            r#"put the model in brackets: agents.defaults.models["amazon-bedrock/us.amazon.nova-pro-v1:0"].alias"#
        ),
        "{err}"
    );
    // A whole entry of a dotted id, and a bare Bedrock id, split the same way.
    for (path, value, fix) in [
        (
            "agents.defaults.models.amazon-bedrock/amazon.nova-pro-v1:0",
            "{alias: 'nova'}",
            r#"agents.defaults.models["amazon-bedrock/amazon.nova-pro-v1:0"]"#,
        ),
        (
            "agents.defaults.models.us.amazon.nova-pro-v1:0.fallbacks[0]",
            "a/b",
            r#"agents.defaults.models["us.amazon.nova-pro-v1:0"].fallbacks[0]"#,
        ),
    ] {
        let err = doc.set(path, value, LOOSE).unwrap_err();
        assert!(
            err.to_string()
                .ends_with(&format!("put the model in brackets: {fix}")),
            "{err}"
        );
    }
    // The bracketed form, and an entry key after a model without dots, are fine.
    let mut ok = ConfigDocument::from_text("{}").unwrap();
    ok.set(
        r#"agents.defaults.models["amazon-bedrock/us.amazon.nova-pro-v1:0"].alias"#,
        "nova",
        LOOSE,
    )
    .unwrap();
    ok.set("agents.defaults.models.local/m.fallbacks[0]", "a/b", LOOSE)
        .unwrap();
    ok.set(
        r#"agents.defaults.models["local/m"].other.nested"#,
        "1",
        LOOSE,
    )
    .unwrap();
    assert_eq!(
        ok.config().unwrap().model_aliases().len(),
        1,
        "{}",
        ok.text()
    );
    let err = doc.set("a..b", "1", LOOSE).unwrap_err();
    assert!(matches!(err, Error::InvalidKeyPath { .. }), "{err}");
    assert_eq!(doc.text(), before);
}

#[test]
fn get_reads_values_and_paths() {
    let doc = ConfigDocument::from_text(MANUAL_SEED).unwrap();
    assert_eq!(
        doc.get("models.providers.amazon-bedrock.models[0].id")
            .unwrap(),
        Some(json!("us.anthropic.claude-opus-4-6-v1:0"))
    );
    assert_eq!(
        doc.get("models.providers['amazon-bedrock'].models.0.cost")
            .unwrap(),
        Some(json!({ "input": 0, "output": 0, "cacheRead": 0, "cacheWrite": 0 }))
    );
    assert_eq!(doc.get("models.providers.nope").unwrap(), None);
    assert_eq!(
        doc.get("models.providers.amazon-bedrock.models[5]")
            .unwrap(),
        None
    );
}

#[test]
fn keys_with_dots_are_bracketed() {
    let mut doc = ConfigDocument::from_text("{}").unwrap();
    doc.set(
        r#"models.providers["my.proxy"].baseUrl"#,
        "http://127.0.0.1:4000",
        LOOSE,
    )
    .unwrap();
    doc.set(
        r#"models.providers["my.proxy"].api"#,
        "openai-completions",
        LOOSE,
    )
    .unwrap();
    let config = doc.config().unwrap();
    assert_eq!(
        config.provider("my.proxy").unwrap().base_url.as_deref(),
        Some("http://127.0.0.1:4000")
    );
    assert_eq!(
        doc.get("models.providers['my.proxy'].api").unwrap(),
        Some(json!("openai-completions"))
    );
    assert!(doc.text().contains("\"my.proxy\": {"), "{}", doc.text());
}

#[test]
fn appended_array_elements_line_up_with_their_siblings() {
    // Elements on their own lines, no trailing comma: the new one lines up, no comma added.
    let mut doc = ConfigDocument::from_text(
        "{\n  agents: { defaults: { model: {\n    fallbacks: [\n      'a/b',\n      'a/c'\n    ],\n  } } },\n}\n",
    )
    .unwrap();
    doc.set("agents.defaults.model.fallbacks[2]", "a/d", LOOSE)
        .unwrap();
    assert_eq!(
        doc.text(),
        "{\n  agents: { defaults: { model: {\n    fallbacks: [\n      'a/b',\n      'a/c',\n      \"a/d\"\n    ],\n  } } },\n}\n"
    );

    // An array on one line stays on one line.
    let mut doc = ConfigDocument::from_text(
        "{ models: { providers: { p: { models: [{ id: 'a', name: 'A', input: ['text'] }] } } } }",
    )
    .unwrap();
    doc.set("models.providers.p.models[0].input[1]", "image", LOOSE)
        .unwrap();
    assert!(
        doc.text().contains(r#"input: ['text', "image"]"#),
        "{}",
        doc.text()
    );

    // Objects on their own lines with trailing commas: the new object lines up with them and
    // keeps the trailing comma.
    let mut doc = ConfigDocument::from_text(
        "{\n  models: { providers: { p: {\n    models: [\n      {\n        id: 'a',\n        name: 'A',\n      },\n    ],\n  } } },\n}\n",
    )
    .unwrap();
    doc.set(
        "models.providers.p.models[1]",
        "{ id: 'b', name: 'B' }",
        LOOSE,
    )
    .unwrap();
    assert_eq!(
        doc.text(),
        "{\n  models: { providers: { p: {\n    models: [\n      {\n        id: 'a',\n        name: 'A',\n      },\n      {\n        id: \"b\",\n        name: \"B\",\n      },\n    ],\n  } } },\n}\n"
    );
}
