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
