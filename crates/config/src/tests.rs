//! Unit tests of the typed model (the file-level behaviour is in `tests/it`).

use super::*;

#[test]
fn secrets_are_redacted_in_debug() {
    let config = Config::from_text(
        r#"{ gateway: { auth: { token: "s3cr3t-token" } },
             models: { providers: { x: { apiKey: "sk-live-123", baseUrl: "https://x.example" } } } }"#,
    )
    .unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains("s3cr3t-token"), "{debug}");
    assert!(!debug.contains("sk-live-123"), "{debug}");
    assert!(debug.contains("[redacted]"));
    assert_eq!(
        config.gateway.auth.token.as_ref().unwrap().expose(),
        "s3cr3t-token"
    );
}

#[test]
fn defaults() {
    let config = Config::from_text("").unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.gateway.port, 18789);
    assert_eq!(config.gateway.bind, GatewayBind::Loopback);
    let discovery = config.bedrock_discovery();
    assert_eq!(discovery.enabled, None);
    assert_eq!(discovery.refresh_interval, 3600);
    assert_eq!(discovery.default_context_window, 32000);
    assert_eq!(discovery.default_max_tokens, 4096);
    let model: ModelDefinition = serde_json::from_str(r#"{"id":"a","name":"A"}"#).unwrap();
    assert_eq!(model, ModelDefinition::new("a", "A"));
    assert_eq!(model.input, [InputModality::Text]);
}

#[test]
fn gateway_bind_values() {
    for (text, bind) in [
        ("loopback", GatewayBind::Loopback),
        ("lan", GatewayBind::Lan),
        ("10.0.0.2", GatewayBind::Ip("10.0.0.2".parse().unwrap())),
        ("::1", GatewayBind::Ip("::1".parse().unwrap())),
    ] {
        assert_eq!(text.parse::<GatewayBind>().unwrap(), bind);
        assert_eq!(bind.to_string(), text);
    }
    assert!("tailnet".parse::<GatewayBind>().is_err());
    assert_eq!(GatewayBind::Loopback.ip().to_string(), "127.0.0.1");
}

#[test]
fn discovery_from_the_plugin_location_and_normalisation() {
    let config = Config::from_text(
        r#"{ plugins: { entries: { "amazon-bedrock": { config: { discovery: {
             providerFilter: [" Anthropic ", "anthropic", "amazon"], region: "eu-west-1" } } } } } }"#,
    )
    .unwrap();
    let discovery = config.bedrock_discovery();
    assert_eq!(discovery.region.as_deref(), Some("eu-west-1"));
    assert_eq!(discovery.provider_filter, ["anthropic", "amazon"]);
    assert_eq!(
        discovery.cache_ttl(),
        Some(std::time::Duration::from_secs(3600))
    );
    // Both locations, equal after normalisation: accepted.
    Config::from_text(
        r#"{ models: { bedrockDiscovery: { providerFilter: ["anthropic"] } },
             plugins: { entries: { "amazon-bedrock": { config: { discovery: { providerFilter: ["ANTHROPIC "] } } } } } }"#,
    )
    .unwrap();
}

#[test]
fn agent_model_accepts_the_string_shorthand() {
    let config =
        Config::from_text("{ agents: { defaults: { model: 'amazon-bedrock/a.b:0' } } }").unwrap();
    assert_eq!(config.primary_model().unwrap().model(), "a.b:0");
    assert!(config.agents.defaults.model.fallbacks.is_empty());
    let err =
        Config::from_text("{ agents: { defaults: { model: { primary: 'a/b', fallback: [] } } } }")
            .unwrap_err()
            .to_string();
    assert!(err.contains("`agents.defaults.model.fallback`"), "{err}");
    assert!(err.contains("did you mean `fallbacks`?"), "{err}");
    let err = Config::from_text("{ agents: { defaults: { model: 5 } } }")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`agents.defaults.model`: expected a model reference string or an object"),
        "{err}"
    );
}

#[test]
fn lenient_sections_table_matches_the_schema() {
    let schema = schema::json_schema();
    let defs = &schema["$defs"];
    let properties = |def: &str| -> Vec<String> {
        let object = if def.is_empty() {
            &schema["properties"]
        } else {
            &defs[def]["properties"]
        };
        object.as_object().unwrap().keys().cloned().collect()
    };
    let by_section: std::collections::BTreeMap<Vec<&str>, &str> = [
        (vec![], ""),
        (vec!["models"], "ModelsConfig"),
        (vec!["agents"], "AgentsConfig"),
        (vec!["agents", "defaults"], "AgentDefaults"),
        (vec!["plugins"], "PluginsConfig"),
        (vec!["plugins", "entries"], "PluginEntries"),
        (
            vec!["plugins", "entries", "amazon-bedrock"],
            "BedrockPluginEntry",
        ),
        (
            vec!["plugins", "entries", "amazon-bedrock", "config"],
            "BedrockPluginConfig",
        ),
        (vec!["gateway"], "GatewayConfig"),
    ]
    .into_iter()
    .collect();
    assert_eq!(parse::LENIENT_SECTIONS.len(), by_section.len());
    for (section, keys) in parse::LENIENT_SECTIONS {
        let def = by_section[&section.to_vec()];
        let mut expected = properties(def);
        let mut actual: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        expected.sort();
        actual.sort();
        assert_eq!(actual, expected, "{section:?}");
        // And the schema agrees the section is lenient.
        let additional = if def.is_empty() {
            schema.get("additionalProperties")
        } else {
            defs[def].get("additionalProperties")
        };
        assert!(additional.is_none(), "{def}");
    }
}

#[test]
fn base_url_needs_a_scheme_and_a_host() {
    let with = |url: &str| {
        Config::from_text(&format!(
            "{{ models: {{ providers: {{ p: {{ baseUrl: {url:?} }} }} }} }}"
        ))
    };
    // Short hosts are hosts too (`http://x` on a private network, `localhost`).
    for ok in [
        "http://x",
        "https://localhost:8443/v1",
        "http://127.0.0.1:4000",
    ] {
        assert!(with(ok).is_ok(), "{ok}: {:?}", with(ok).err());
    }
    for (bad, expected) in [
        (
            "bedrock.example",
            "expected a URL starting with http:// or https://",
        ),
        ("https://", "expected a host after http:// or https://"),
        (
            "http://:8080/x",
            "expected a host after http:// or https://",
        ),
    ] {
        let err = with(bad).unwrap_err().to_string();
        assert!(err.contains(expected), "{bad}: {err}");
        assert!(err.contains("models.providers.p.baseUrl"), "{err}");
    }
}

const ALIASES: &str = r#"{
  agents: {
    defaults: {
      models: {
        "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0": { alias: "opus", params: { temperature: 0.2 } },
        "us.amazon.nova-pro-v1:0": { alias: " nova " },
        "proxy/openai/gpt-4o": {},
      },
    },
  },
}"#;

#[test]
fn model_aliases_map_aliases_to_model_references() {
    let config = Config::from_text(ALIASES).unwrap();
    let aliases: Vec<(String, String)> = config
        .model_aliases()
        .into_iter()
        .map(|(alias, model)| (alias, model.to_string()))
        .collect();
    assert_eq!(
        aliases,
        [
            (
                "nova".to_string(),
                "amazon-bedrock/us.amazon.nova-pro-v1:0".to_string()
            ),
            (
                "opus".to_string(),
                "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0".to_string()
            ),
        ]
    );
    // OpenClaw's other per-model settings are accepted and not modelled.
    let entry = &config.agents.defaults.models["proxy/openai/gpt-4o"];
    assert_eq!(entry.alias, None);
    assert!(Config::default().model_aliases().is_empty());
}

#[test]
fn a_non_string_alias_is_an_error_at_its_line() {
    let err = Config::from_text(&ALIASES.replace(r#"alias: " nova ""#, "alias: 3"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            r#"<text>:6:45: `agents.defaults.models["us.amazon.nova-pro-v1:0"].alias`: expected a string"#
        ),
        "{err}"
    );
}

#[test]
fn two_models_with_one_alias_is_an_error_naming_both() {
    let err = Config::from_text(&ALIASES.replace(" nova ", "opus"))
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        r#"<text>:6:45: `agents.defaults.models["us.amazon.nova-pro-v1:0"].alias`: alias `opus` is also the alias of `amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0` (line 5); expected each alias to name one model"#
    );
}

#[test]
fn alias_entries_need_a_model_reference_key_and_a_non_empty_alias() {
    let err = Config::from_text(&ALIASES.replace(" nova ", " "))
        .unwrap_err()
        .to_string();
    assert!(err.ends_with("`: expected a non-empty alias"), "{err}");
    let err = Config::from_text(&ALIASES.replace("proxy/openai", "/openai"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(
            r#"<text>:7:9: `agents.defaults.models["/openai/gpt-4o"]`: expected a model reference"#
        ),
        "{err}"
    );
    let err = Config::from_text("{ agents: { defaults: { models: [] } } }")
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected an object, found an array"), "{err}");
}

#[test]
fn secrets_never_print_and_serialize_as_the_plain_string() {
    let secret = Secret::new("sk-live-123");
    assert_eq!(format!("{secret:?}"), "Secret([redacted])");
    assert_eq!(secret.to_string(), "[redacted]");
    assert_eq!(
        format!("{secret:#?} {secret:>20}"),
        "Secret([redacted]) [redacted]"
    );
    assert_eq!(secret.expose(), "sk-live-123");
    assert_eq!(serde_json::to_string(&secret).unwrap(), "\"sk-live-123\"");
    let back: Secret = serde_json::from_str("\"sk-live-123\"").unwrap();
    assert_eq!(back, secret);
    assert_eq!(Secret::from("a"), Secret::from("a".to_string()));
    let config = Config::from_text("{ gateway: { auth: { token: 'sk-live-123' } } }").unwrap();
    assert!(!format!("{config:?}").contains("sk-live-123"));
}

#[test]
fn guardrails_and_pass_through_fields_inherit_from_the_provider() {
    let config = Config::from_text(
        r#"{ models: { providers: { "amazon-bedrock": {
              guardrail: { identifier: "gr-provider", version: "1" },
              additionalModelRequestFields: { top_k: 10, shared: "provider" },
              additionalModelResponseFieldPaths: ["/stop_sequence"],
              models: [
                { id: "a", name: "A", baseModel: "anthropic.claude-sonnet-4-5-20250929-v1:0",
                  additionalModelRequestFields: { shared: "model" },
                  additionalModelResponseFieldPaths: ["/stop_sequence", "/extra"] },
                { id: "b", name: "B",
                  guardrail: { identifier: "gr-model", version: "DRAFT", trace: "enabled_full",
                               streamProcessingMode: "async" } },
              ] } } } }"#,
    )
    .unwrap();
    let provider = &config.models.providers["amazon-bedrock"];
    let a = provider.model_with_defaults(&provider.models[0]);
    assert_eq!(a.guardrail.as_ref().unwrap().identifier, "gr-provider");
    assert_eq!(
        serde_json::Value::Object(a.additional_model_request_fields.clone().unwrap()),
        serde_json::json!({"top_k": 10, "shared": "model"})
    );
    assert_eq!(
        a.additional_model_response_field_paths,
        ["/stop_sequence", "/extra"]
    );
    assert_eq!(
        a.base_model.as_deref(),
        Some("anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
    let b = provider.model_with_defaults(&provider.models[1]);
    let guardrail = b.guardrail.unwrap();
    assert_eq!(guardrail.identifier, "gr-model");
    assert_eq!(guardrail.trace, Some(GuardrailTrace::EnabledFull));
    assert_eq!(
        guardrail
            .stream_processing_mode
            .map(GuardrailStreamMode::as_str),
        Some("async")
    );
    assert!(
        Config::from_text(
            r#"{ models: { providers: { p: { guardrail: { identifier: "g", version: "1", trace: "on" } } } } }"#
        )
        .is_err()
    );
}

#[test]
fn aliases_match_as_openclaw_matches_them() {
    let config = Config::from_text(
        r#"{ agents: { defaults: { models: { "amazon-bedrock/us.amazon.nova-pro-v1:0": { alias: "Nova" } } } } }"#,
    )
    .unwrap();
    for name in ["Nova", "nova", " NOVA "] {
        assert_eq!(
            config.alias_target(name).map(|m| m.to_string()).as_deref(),
            Some("amazon-bedrock/us.amazon.nova-pro-v1:0"),
            "{name:?}"
        );
    }
    assert_eq!(config.alias_target("amazon-bedrock/nova"), None);
    // Two models may not share an alias, in any case.
    let err = Config::from_text(
        r#"{ agents: { defaults: { models: { "a/x": { alias: "fast" }, "a/y": { alias: "FAST" } } } } }"#,
    )
    .unwrap_err();
    assert!(err.to_string().contains("alias"), "{err}");
}

#[test]
fn an_alias_names_the_primary_model_and_fallbacks_as_in_openclaw() {
    let models = r#"models: { "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0": { alias: "opus" },
                             "amazon-bedrock/us.amazon.nova-pro-v1:0": { alias: "Nova" } }"#;
    for model in [
        r#"" Opus ""#.to_string(),
        r#"{ primary: "opus", fallbacks: ["nova", "amazon-bedrock/x.y-v1:0"] }"#.to_string(),
    ] {
        let config = Config::from_text(&format!(
            "{{ agents: {{ defaults: {{ {models}, model: {model} }} }} }}"
        ))
        .unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(
            config.primary_model().unwrap().to_string(),
            "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0",
            "{model}"
        );
    }
    let config = Config::from_text(&format!(
        r#"{{ agents: {{ defaults: {{ {models}, model: {{ primary: "opus", fallbacks: ["nova"] }} }} }} }}"#
    ))
    .unwrap();
    assert_eq!(
        config.agents.defaults.model.fallbacks[0].to_string(),
        "amazon-bedrock/us.amazon.nova-pro-v1:0"
    );
    // A name without `/` that is no alias is still refused.
    let err = Config::from_text(&format!(
        r#"{{ agents: {{ defaults: {{ {models}, model: {{ primary: "claude" }} }} }} }}"#
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no `/` between provider and model id"),
        "{err}"
    );
}
