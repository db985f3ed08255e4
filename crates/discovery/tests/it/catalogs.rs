//! Discovery output snapshots. Each test runs a full discovery through the SDK against the fake
//! and snapshots the merged providers (timestamps redacted).

use fake_bedrock::Catalog;
use insta::assert_json_snapshot;
use openclaw_discovery::DiscoveryOptions;

use crate::support::*;

/// Discovers `catalog` in `region` with the configuration `config` and returns the snapshot view.
async fn discover(catalog: Catalog, config: &str, region: &str) -> serde_json::Value {
    let fake = fake(catalog).await;
    let discovery = discovery(plane(&fake.url()), DiscoveryOptions::default());
    let catalog = discovery.discover(&request(config, region)).await.unwrap();
    assert_eq!(foundation_calls(&fake), 1);
    view(&catalog, config)
}

fn model(id: &str, provider: &str, streaming: bool, types: &[&str], lifecycle: &str) -> String {
    let types = types
        .iter()
        .map(|t| format!("\"{t}\""))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"modelId":"{id}","modelName":"Model {id}","providerName":"{provider}",
            "inputModalities":["TEXT","IMAGE"],"outputModalities":["TEXT"],
            "responseStreamingSupported":{streaming},"inferenceTypesSupported":[{types}],
            "modelLifecycle":{{"status":"{lifecycle}"}}}}"#
    )
}

fn profile(id: &str, base: &str, regions: &str) -> String {
    format!(
        r#"{{"inferenceProfileId":"{id}","inferenceProfileName":"Profile {id}","modelId":"{base}",
            "regions":{regions},"status":"ACTIVE","type":"SYSTEM_DEFINED"}}"#
    )
}

fn catalog(models: &[String], profiles: &[String]) -> Catalog {
    Catalog::from_json_str(&format!(
        r#"{{"foundationModels":[{}],"inferenceProfiles":[{}]}}"#,
        models.join(","),
        profiles.join(",")
    ))
    .unwrap()
}

const REDACT: &str = "[timestamp]";

#[tokio::test]
async fn default_catalog() {
    let v = discover(Catalog::default_catalog(), "{}", "us-east-1").await;
    assert_json_snapshot!("default_catalog", v, { ".fetchedAt" => REDACT });
}

#[tokio::test]
async fn default_catalog_eu_west_1() {
    // Another region: the `eu.` profiles and the `global.` ones are visible, the `us.` ones not.
    let v = discover(Catalog::default_catalog(), "{}", "eu-west-1").await;
    assert_json_snapshot!("default_catalog_eu_west_1", v, { ".fetchedAt" => REDACT });
}

#[tokio::test]
async fn filter_by_provider_name() {
    // "Mistral AI" as written in the console, and "mistral" (OpenClaw misses this one).
    let a = discover(
        Catalog::default_catalog(),
        "{models: {bedrockDiscovery: {providerFilter: ['Mistral AI']}}}",
        "us-east-1",
    )
    .await;
    let b = discover(
        Catalog::default_catalog(),
        "{models: {bedrockDiscovery: {providerFilter: ['  MISTRAL ', 'mistral']}}}",
        "us-east-1",
    )
    .await;
    assert_eq!(a["providers"], b["providers"]);
    assert_json_snapshot!("filter_by_provider_name", a, { ".fetchedAt" => REDACT });
}

#[tokio::test]
async fn filter_by_id_prefix_and_several_entries() {
    // `meta` is the id prefix of `meta.llama…`; `ai21` is the prefix of `AI21 Labs` models; the
    // discovery block is read from the newer plugin location.
    let v = discover(
        Catalog::default_catalog(),
        "{plugins: {entries: {'amazon-bedrock': {config: {discovery: {providerFilter: ['meta', 'AI21']}}}}}}",
        "us-east-1",
    )
    .await;
    assert_json_snapshot!("filter_by_id_prefix", v, { ".fetchedAt" => REDACT });
}

#[tokio::test]
async fn defaults_overridden_and_floored() {
    // Cohere and AI21 models are not in the known-limits table: they take the configured
    // defaults; Claude models keep their known limits.
    let v = discover(
        Catalog::default_catalog(),
        "{models: {bedrockDiscovery: {providerFilter: ['cohere', 'ai21'], defaultContextWindow: 100000, defaultMaxTokens: 2000}}}",
        "us-east-1",
    )
    .await;
    assert_json_snapshot!("defaults_overridden", v, { ".fetchedAt" => REDACT });
    // The config parser rejects 0; a programmatic configuration may still carry it: floored.
    let fake = fake(Catalog::default_catalog()).await;
    let zero_config = openclaw_config::BedrockDiscoveryConfig {
        provider_filter: vec!["cohere".into()],
        default_context_window: 0,
        default_max_tokens: 0,
        ..Default::default()
    };
    let catalog = discovery(plane(&fake.url()), DiscoveryOptions::default())
        .discover(&openclaw_discovery::DiscoveryRequest::from_config(
            &zero_config,
            "us-east-1",
        ))
        .await
        .unwrap();
    let zero = view(&catalog, "{}");
    let models = zero["providers"]["amazon-bedrock"]["models"]
        .as_array()
        .unwrap()
        .clone();
    assert!(!models.is_empty());
    for m in models {
        assert_eq!(
            (m["contextWindow"].as_u64(), m["maxTokens"].as_u64()),
            (Some(32000), Some(4096))
        );
    }
}

#[tokio::test]
async fn legacy_and_non_streaming_models() {
    let c = catalog(
        &[
            model("acme.active-v1", "Acme", true, &["ON_DEMAND"], "ACTIVE"),
            model(
                "acme.legacy-v1",
                "Acme",
                true,
                &["ON_DEMAND", "INFERENCE_PROFILE"],
                "LEGACY",
            ),
            model(
                "acme.batch-only-v1",
                "Acme",
                false,
                &["ON_DEMAND"],
                "ACTIVE",
            ),
        ],
        // A profile of the LEGACY model is dropped with it.
        &[profile(
            "us.acme.legacy-v1",
            "acme.legacy-v1",
            r#"["us-east-1"]"#,
        )],
    );
    let v = discover(c, "{}", "us-east-1").await;
    assert_json_snapshot!("legacy_and_non_streaming", v, { ".fetchedAt" => REDACT });
}

#[tokio::test]
async fn profile_only_model() {
    // INFERENCE_PROFILE only: never listed by its bare id, listed through its profiles (the
    // `eu.` one is not visible from us-east-1).
    let c = catalog(
        &[
            model(
                "anthropic.claude-sonnet-4-20250514-v1:0",
                "Anthropic",
                true,
                &["INFERENCE_PROFILE"],
                "ACTIVE",
            ),
            model(
                "acme.unknown-v1",
                "Acme",
                true,
                &["INFERENCE_PROFILE"],
                "ACTIVE",
            ),
        ],
        &[
            profile(
                "us.anthropic.claude-sonnet-4-20250514-v1:0",
                "anthropic.claude-sonnet-4-20250514-v1:0",
                r#"["us-east-1","us-west-2"]"#,
            ),
            profile(
                "global.anthropic.claude-sonnet-4-20250514-v1:0",
                "anthropic.claude-sonnet-4-20250514-v1:0",
                r#"["global"]"#,
            ),
            profile(
                "eu.anthropic.claude-sonnet-4-20250514-v1:0",
                "anthropic.claude-sonnet-4-20250514-v1:0",
                r#"["eu-west-1"]"#,
            ),
            profile("us.acme.unknown-v1", "acme.unknown-v1", r#"["us-east-1"]"#),
        ],
    );
    let v = discover(c, "{}", "us-east-1").await;
    let ids: Vec<_> = v["providers"]["amazon-bedrock"]["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !ids.iter()
            .any(|id| id == "anthropic.claude-sonnet-4-20250514-v1:0")
    );
    assert!(!ids.iter().any(|id| id.starts_with("eu.")));
    assert_json_snapshot!("profile_only_model", v, { ".fetchedAt" => REDACT });
}

#[tokio::test]
async fn profile_pagination_across_pages() {
    let fake = fake(Catalog::default_catalog()).await;
    let whole = discovery(plane(&fake.url()), DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap();
    assert_eq!(profile_calls(&fake), 1);
    assert_eq!(app_profile_calls(&fake), 1);
    fake.clear_requests();

    let paged = discovery(
        plane(&fake.url()).with_page_size(4),
        DiscoveryOptions::default(),
    )
    .discover(&request("{}", "us-east-1"))
    .await
    .unwrap();
    let visible = fake
        .catalog()
        .inference_profiles
        .iter()
        .filter(|p| p.visible_in("us-east-1") && p.profile_type == "SYSTEM_DEFINED")
        .count();
    let pages: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path == "/inference-profiles")
        .filter(|r| {
            r.query_params()
                .contains(&("type".into(), "SYSTEM_DEFINED".into()))
        })
        .map(|r| {
            let mut q = r.query_params();
            q.sort();
            q.into_iter()
                .map(|(k, v)| {
                    if k == "nextToken" {
                        (k, "[token]".to_string())
                    } else {
                        (k, v)
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(pages.len(), visible.div_ceil(4));
    assert!(pages.len() >= 3, "{} pages", pages.len());
    let apps = fake
        .catalog()
        .inference_profiles
        .iter()
        .filter(|p| p.visible_in("us-east-1") && p.profile_type == "APPLICATION")
        .count();
    assert!(apps >= 2);
    assert_eq!(app_profile_calls(&fake), apps.div_ceil(4).max(1));
    // Same models whether paged or not.
    assert_eq!(paged.models, whole.models);
    assert_json_snapshot!("profile_pages", pages);
}

#[tokio::test]
async fn explicit_provider_merged_in() {
    // Explicit fields override the implicit ones; an empty models list keeps the discovered
    // models; other providers pass through.
    let config = r#"{
        models: {
            bedrockDiscovery: { providerFilter: ['deepseek'] },
            providers: {
                'amazon-bedrock': { baseUrl: 'https://bedrock-runtime.us-west-2.amazonaws.com' },
                'other': { baseUrl: 'http://127.0.0.1:11434', api: 'ollama', models: [{ id: 'llama3', name: 'Llama 3' }] },
            },
        },
    }"#;
    let v = discover(Catalog::default_catalog(), config, "us-east-1").await;
    assert_json_snapshot!("explicit_provider_merged", v, { ".fetchedAt" => REDACT });
}

#[tokio::test]
async fn explicit_models_replace_discovered_ones() {
    let config = r#"{
        models: { providers: { 'amazon-bedrock': {
            api: 'bedrock-converse-stream',
            auth: 'aws-sdk',
            models: [{ id: 'us.anthropic.claude-opus-4-6-v1:0', name: 'Claude Opus 4.6 (Bedrock)', reasoning: true,
                       input: ['text', 'image'], contextWindow: 200000, maxTokens: 8192 }],
        } } },
    }"#;
    let v = discover(Catalog::default_catalog(), config, "us-east-1").await;
    assert!(v["modelCount"].as_u64().unwrap() > 10);
    assert_json_snapshot!("explicit_models_replace", v["providers"]);
}
