use openclaw_config::{
    AuthMode, Config, ConfigDocument, InputModality, ModelApi, ModelRef, ValueMode,
};

/// SPEC section 1, "Automatic model discovery", wrapped in `{ models: { ... } }`.
pub const DISCOVERY_SEED: &str = r#"{ models: { bedrockDiscovery: {
  enabled: true,                        // default: true when AWS credentials are present
  region: "us-east-1",                  // default: AWS_REGION, then AWS_DEFAULT_REGION, then us-east-1
  providerFilter: ["anthropic", "amazon"], // Bedrock provider names
  refreshInterval: 3600,                // seconds; 0 disables caching
  defaultContextWindow: 32000,          // used for discovered models
  defaultMaxTokens: 4096,               // used for discovered models
} } }
"#;

/// SPEC section 1, "Manual configuration".
pub const MANUAL_SEED: &str = r#"{
  models: { providers: { "amazon-bedrock": {
    baseUrl: "https://bedrock-runtime.us-east-1.amazonaws.com",
    api: "bedrock-converse-stream",
    auth: "aws-sdk",
    models: [{
      id: "us.anthropic.claude-opus-4-6-v1:0",
      name: "Claude Opus 4.6 (Bedrock)",
      reasoning: true,
      input: ["text", "image"],
      cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
      contextWindow: 200000,
      maxTokens: 8192,
    }],
  } } },
  agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0" } } },
}
"#;

/// What json5 (the reference JSON5 parser) makes of a text, to cross-check ours.
fn json5_value(text: &str) -> serde_json::Value {
    json5::from_str(text).unwrap()
}

#[test]
fn discovery_seed_parses_and_validates() {
    let config = Config::from_text(DISCOVERY_SEED).unwrap();
    let d = config.bedrock_discovery();
    assert_eq!(d.enabled, Some(true));
    assert_eq!(d.region.as_deref(), Some("us-east-1"));
    assert_eq!(d.provider_filter, ["anthropic", "amazon"]);
    assert_eq!(d.refresh_interval, 3600);
    assert_eq!(d.default_context_window, 32000);
    assert_eq!(d.default_max_tokens, 4096);
}

#[test]
fn manual_seed_parses_and_validates() {
    let config = Config::from_text(MANUAL_SEED).unwrap();
    let provider = config.provider("amazon-bedrock").unwrap();
    assert_eq!(
        provider.base_url.as_deref(),
        Some("https://bedrock-runtime.us-east-1.amazonaws.com")
    );
    assert_eq!(provider.api, Some(ModelApi::BedrockConverseStream));
    assert_eq!(provider.auth, Some(AuthMode::AwsSdk));
    assert!(provider.api_key.is_none());
    let model = &provider.models[0];
    assert_eq!(model.id, "us.anthropic.claude-opus-4-6-v1:0");
    assert_eq!(model.name, "Claude Opus 4.6 (Bedrock)");
    assert!(model.reasoning);
    assert_eq!(model.input, [InputModality::Text, InputModality::Image]);
    assert_eq!(model.cost.cache_write, 0.0);
    assert_eq!((model.context_window, model.max_tokens), (200000, 8192));
    let primary: &ModelRef = config.primary_model().unwrap();
    assert_eq!(primary.provider(), "amazon-bedrock");
    assert_eq!(primary.model(), "us.anthropic.claude-opus-4-6-v1:0");
}

#[test]
fn seeds_round_trip_through_json() {
    for seed in [DISCOVERY_SEED, MANUAL_SEED] {
        let config = Config::from_text(seed).unwrap();
        let json = config.to_json_string();
        let again = Config::from_text(&json).unwrap();
        assert_eq!(config, again);
        // Our JSON5 reading agrees with the reference JSON5 parser.
        let doc = ConfigDocument::from_text(seed).unwrap();
        assert_eq!(
            doc.get("models").unwrap(),
            json5_value(seed).get("models").cloned()
        );
    }
}

#[test]
fn seeds_round_trip_through_the_editor_unchanged() {
    for seed in [DISCOVERY_SEED, MANUAL_SEED] {
        let mut doc = ConfigDocument::from_text(seed).unwrap();
        assert_eq!(doc.text(), seed);
        // Re-setting a value to what it is changes nothing in the text.
        doc.set(
            "models.bedrockDiscovery.refreshInterval",
            "3600",
            ValueMode::StrictJson,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let config = doc.config().unwrap();
        assert_eq!(config.bedrock_discovery().refresh_interval, 3600);
    }
    let mut doc = ConfigDocument::from_text(DISCOVERY_SEED).unwrap();
    doc.set(
        "models.bedrockDiscovery.refreshInterval",
        "3600",
        ValueMode::StrictJson,
    )
    .unwrap();
    assert_eq!(doc.text(), DISCOVERY_SEED);
}
