use openclaw_config::Config;
use serde_json::{Value, json};

use crate::seeds::{DISCOVERY_SEED, MANUAL_SEED};

/// The COMMITTED schema, as editors and CI see it.
fn committed_schema() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../schemas/openclaw.schema.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn json5(text: &str) -> Value {
    json5::from_str(text).unwrap()
}

fn agree(validator: &jsonschema::Validator, name: &str, value: &Value, expect_valid: bool) {
    let by_schema = validator.is_valid(value);
    let by_serde = Config::from_text(&value.to_string());
    assert_eq!(by_schema, expect_valid, "{name}: schema says {by_schema}");
    assert_eq!(
        by_serde.is_ok(),
        expect_valid,
        "{name}: serde says {:?}",
        by_serde.as_ref().err().map(ToString::to_string)
    );
}

#[test]
fn committed_schema_is_the_generated_one() {
    assert_eq!(committed_schema(), openclaw_config::schema::json_schema());
}

#[test]
fn schema_and_serde_agree() {
    let validator = jsonschema::validator_for(&committed_schema()).unwrap();
    let valid = [
        ("discovery seed", json5(DISCOVERY_SEED)),
        ("manual seed", json5(MANUAL_SEED)),
        ("empty", json!({})),
        (
            "$schema and unknown sections",
            json!({
                "$schema": "./schemas/openclaw.schema.json",
                "channels": { "telegram": {} },
                "agents": { "defaults": { "workspace": "~/w" } },
                "plugins": { "entries": { "other": { "x": 1 } } },
                "gateway": { "mode": "local", "bind": "10.0.0.1" }
            }),
        ),
        (
            "plugin discovery",
            json!({
                "plugins": { "entries": { "amazon-bedrock": { "config": { "discovery": { "enabled": false } } } } }
            }),
        ),
        ("bind ipv6", json!({ "gateway": { "bind": "::1" } })),
        (
            "model as a string",
            json!({ "agents": { "defaults": { "model": "a/b" } } }),
        ),
        (
            "model aliases with OpenClaw's other per-model settings",
            json!({ "agents": { "defaults": { "models": {
                "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0": { "alias": "opus", "params": { "temperature": 0.2 } },
                "proxy/gpt-4o": {}
            } } } }),
        ),
        (
            "a Bedrock ARN with its provider",
            json!({ "agents": { "defaults": { "model": "amazon-bedrock/arn:aws:bedrock:us-east-1:1:application-inference-profile/abc" } } }),
        ),
    ];
    for (name, value) in &valid {
        agree(&validator, name, value, true);
    }
    let invalid = [
        (
            "alias not a string",
            json!({ "agents": { "defaults": { "models": { "a/b": { "alias": 3 } } } } }),
        ),
        (
            "empty alias",
            json!({ "agents": { "defaults": { "models": { "a/b": { "alias": "" } } } } }),
        ),
        (
            "a bare ARN as the primary model",
            json!({ "agents": { "defaults": { "model": "arn:aws:bedrock:us-east-1:1:application-inference-profile/abc" } } }),
        ),
        (
            "enabled as string",
            json!({ "models": { "bedrockDiscovery": { "enabled": "yes" } } }),
        ),
        (
            "unknown discovery key",
            json!({ "models": { "bedrockDiscovery": { "refreshInteval": 1 } } }),
        ),
        (
            "negative interval",
            json!({ "models": { "bedrockDiscovery": { "refreshInterval": -1 } } }),
        ),
        (
            "context window that is not a number",
            json!({ "models": { "bedrockDiscovery": { "defaultContextWindow": "big" } } }),
        ),
        (
            "bad api",
            json!({ "models": { "providers": { "p": { "api": "soap" } } } }),
        ),
        (
            "bad auth",
            json!({ "models": { "providers": { "p": { "auth": "aws" } } } }),
        ),
        (
            "unknown provider key",
            json!({ "models": { "providers": { "p": { "apikey": "x" } } } }),
        ),
        (
            "model without id",
            json!({ "models": { "providers": { "p": { "models": [{ "name": "A" }] } } } }),
        ),
        (
            "bad modality",
            json!({ "models": { "providers": { "p": { "models": [{ "id": "a", "name": "A", "input": ["video"] }] } } } }),
        ),
        (
            "negative cost",
            json!({ "models": { "providers": { "p": { "models": [{ "id": "a", "name": "A", "cost": { "input": -1 } }] } } } }),
        ),
        (
            "unknown cost key",
            json!({ "models": { "providers": { "p": { "models": [{ "id": "a", "name": "A", "cost": { "cached": 1 } }] } } } }),
        ),
        (
            "model ref with empty id",
            json!({ "agents": { "defaults": { "model": { "fallbacks": ["a/"] } } } }),
        ),
        (
            "unknown agent model key",
            json!({ "agents": { "defaults": { "model": { "primary": "a/b", "fallback": [] } } } }),
        ),
        (
            "model as a number",
            json!({ "agents": { "defaults": { "model": 5 } } }),
        ),
        ("port too big", json!({ "gateway": { "port": 70000 } })),
        ("bad bind", json!({ "gateway": { "bind": "everywhere" } })),
        (
            "unknown gateway.auth key",
            json!({ "gateway": { "auth": { "password": "x" } } }),
        ),
        ("models not an object", json!({ "models": [] })),
    ];
    for (name, value) in &invalid {
        agree(&validator, name, value, false);
    }
    // A model named without `/` may be an alias of `agents.defaults.models`, which a schema
    // cannot look up: the schema lets it through, loading refuses it when it is no alias.
    let models = json!({ "a/b": { "alias": "fast" } });
    for (name, model, alias) in [
        ("primary alias", json!({ "primary": "fast" }), true),
        ("model string alias", json!("FAST"), true),
        (
            "fallback alias",
            json!({ "primary": "a/b", "fallbacks": ["fast"] }),
            true,
        ),
        (
            "primary without slash, no alias",
            json!({ "primary": "claude" }),
            false,
        ),
        (
            "model string without slash, no alias",
            json!("claude"),
            false,
        ),
    ] {
        let value = json!({ "agents": { "defaults": { "models": models, "model": model } } });
        assert!(validator.is_valid(&value), "{name}: schema");
        let loaded = Config::from_text(&value.to_string());
        assert_eq!(loaded.is_ok(), alias, "{name}: {:?}", loaded.err());
    }
}

#[test]
fn strict_sections_deny_unknown_keys_and_lenient_ones_allow_them() {
    let schema = committed_schema();
    let defs = schema["$defs"].as_object().unwrap();
    let strict = [
        "ProviderConfig",
        "ModelDefinition",
        "ModelCost",
        "BedrockDiscoveryConfig",
        "AgentModelObject",
        "GatewayAuth",
    ];
    let lenient = [
        "ModelsConfig",
        "AgentsConfig",
        "AgentDefaults",
        "PluginsConfig",
        "PluginEntries",
        "BedrockPluginEntry",
        "BedrockPluginConfig",
        "GatewayConfig",
    ];
    for name in strict {
        assert_eq!(defs[name]["additionalProperties"], json!(false), "{name}");
    }
    for name in lenient {
        assert!(defs[name].get("additionalProperties").is_none(), "{name}");
    }
    assert!(schema.get("additionalProperties").is_none());
    // Field docs are descriptions, defaults are there.
    let discovery = &defs["BedrockDiscoveryConfig"]["properties"];
    assert_eq!(discovery["refreshInterval"]["default"], json!(3600));
    assert_eq!(discovery["defaultContextWindow"]["default"], json!(32000));
    assert_eq!(discovery["defaultMaxTokens"]["default"], json!(4096));
    assert!(
        discovery["refreshInterval"]["description"]
            .as_str()
            .unwrap()
            .contains("0 disables caching")
    );
    assert_eq!(
        schema["$comment"],
        json!("generated by `cargo xtask codegen`, do not edit")
    );
}
