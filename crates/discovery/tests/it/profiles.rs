//! Application inference profiles: listed by ARN with their base model's traits, a denied
//! `APPLICATION` listing as a warning, profiles listed without models described with
//! `GetInferenceProfile`, and `Discovery::describe` for ARNs discovery did not list.

use fake_bedrock::{Catalog, InferenceProfile, Tag};
use insta::assert_json_snapshot;
use openclaw_discovery::{DiscoveryOptions, ErrorKind};

use crate::errors::scripted_server;
use crate::support::*;

const SONNET45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const SEARCH_ARN: &str =
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";

fn ids(catalog: &openclaw_discovery::Catalog) -> Vec<&str> {
    catalog.models.iter().map(|m| m.id.as_str()).collect()
}

#[tokio::test]
async fn application_profiles_follow_the_base_models_provider_filter() {
    let fake = fake(Catalog::default_catalog()).await;
    let d = discovery(plane(&fake.url()), DiscoveryOptions::default());
    let anthropic = d
        .discover(&request(
            "{models: {bedrockDiscovery: {providerFilter: ['anthropic']}}}",
            "us-east-1",
        ))
        .await
        .unwrap();
    assert!(
        ids(&anthropic).contains(&SEARCH_ARN),
        "{:?}",
        ids(&anthropic)
    );
    let apps: Vec<_> = anthropic
        .models
        .iter()
        .filter(|m| m.id.contains(":application-inference-profile/"))
        .collect();
    assert_json_snapshot!("application_profiles", apps);
    let amazon = d
        .discover(&request(
            "{models: {bedrockDiscovery: {providerFilter: ['amazon']}}}",
            "us-east-1",
        ))
        .await
        .unwrap();
    assert!(
        !ids(&amazon)
            .iter()
            .any(|id| id.contains(":application-inference-profile/")),
        "{:?}",
        ids(&amazon)
    );
    // Another region has none of us-east-1's application profiles.
    let west = discovery(
        openclaw_discovery::SdkControlPlane::from_settings(&settings(&fake.url(), "us-west-2")),
        DiscoveryOptions::default(),
    )
    .discover(&request("{}", "us-west-2"))
    .await
    .unwrap();
    assert!(
        !ids(&west)
            .iter()
            .any(|id| id.contains(":application-inference-profile/"))
    );
}

const MODELS: &str = r#"{"modelSummaries":[{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0","modelId":"anthropic.claude-3-haiku-20240307-v1:0","modelName":"Claude 3 Haiku","providerName":"Anthropic","inputModalities":["TEXT","IMAGE"],"outputModalities":["TEXT"],"responseStreamingSupported":true,"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}}]}"#;
const SYSTEM: &str = r#"{"inferenceProfileSummaries":[{"inferenceProfileName":"US Claude 3 Haiku","inferenceProfileArn":"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0","models":[{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"}],"inferenceProfileId":"us.anthropic.claude-3-haiku-20240307-v1:0","status":"ACTIVE","type":"SYSTEM_DEFINED"}]}"#;
const APP_WITHOUT_MODELS: &str = r#"{"inferenceProfileSummaries":[{"inferenceProfileName":"team-x","inferenceProfileArn":"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123","models":[],"inferenceProfileId":"abc123","status":"ACTIVE","type":"APPLICATION"}]}"#;
const APP_DESCRIBED: &str = r#"{"inferenceProfileName":"team-x","inferenceProfileArn":"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123","models":[{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"}],"inferenceProfileId":"abc123","status":"ACTIVE","type":"APPLICATION"}"#;

#[tokio::test]
async fn a_denied_application_listing_is_a_warning_and_system_profiles_are_still_served() {
    let (url, server) = scripted_server(|path| {
        if path.starts_with("/foundation-models") {
            (200, "", MODELS)
        } else if path.contains("type=APPLICATION") {
            (
                403,
                "AccessDeniedException",
                r#"{"message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: bedrock:ListInferenceProfiles"}"#,
            )
        } else {
            (200, "", SYSTEM)
        }
    })
    .await;
    let catalog = discovery(plane(&url), DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap();
    server.abort();
    assert_eq!(
        ids(&catalog),
        [
            "anthropic.claude-3-haiku-20240307-v1:0",
            "us.anthropic.claude-3-haiku-20240307-v1:0"
        ]
    );
    assert_eq!(catalog.warnings.len(), 1, "{:?}", catalog.warnings);
    assert!(catalog.warnings[0].contains("`bedrock:ListInferenceProfiles`"));
}

#[tokio::test]
async fn an_application_profile_listed_without_models_is_described() {
    let (url, server) = scripted_server(|path| {
        if path.starts_with("/foundation-models") {
            (200, "", MODELS)
        } else if path.starts_with("/inference-profiles/") {
            // GetInferenceProfile by the ARN, percent-encoded in the path.
            assert!(
                path.contains("application-inference-profile%2Fabc123"),
                "{path}"
            );
            (200, "", APP_DESCRIBED)
        } else if path.contains("type=APPLICATION") {
            (200, "", APP_WITHOUT_MODELS)
        } else {
            (200, "", SYSTEM)
        }
    })
    .await;
    let catalog = discovery(plane(&url), DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap();
    server.abort();
    let app = catalog.models.iter().find(|m| m.name == "team-x").unwrap();
    assert_eq!(
        app.id,
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    );
    assert_eq!(
        app.base_model.as_deref(),
        Some("anthropic.claude-3-haiku-20240307-v1:0")
    );
    assert!(catalog.warnings.is_empty());
}

#[tokio::test]
async fn describe_gives_traits_for_arns_discovery_did_not_list() {
    let fake = fake(Catalog::default_catalog()).await;
    let d = discovery(plane(&fake.url()), DiscoveryOptions::default());
    let req = request("{}", "us-east-1");
    d.discover(&req).await.unwrap();
    // Created after discovery ran: only GetInferenceProfile knows it.
    fake.create_inference_profile(InferenceProfile {
        inference_profile_id: "late00profile".into(),
        inference_profile_name: "team-late-sonnet".into(),
        description: None,
        model_id: SONNET45.into(),
        regions: vec!["us-east-1".into()],
        created_at: None,
        updated_at: None,
        status: "ACTIVE".into(),
        profile_type: "APPLICATION".into(),
        home_region: None,
        account_id: None,
        tags: vec![Tag {
            key: "team".into(),
            value: "late".into(),
        }],
    });
    fake.clear_requests();
    let late = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/late00profile";
    let eu_system =
        format!("arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{SONNET45}");
    let foundation = format!("arn:aws:bedrock:us-east-1::foundation-model/{SONNET45}");
    let provisioned = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7q2w9e4r1t";
    let mut described = serde_json::Map::new();
    for arn in [late, eu_system.as_str(), foundation.as_str(), provisioned] {
        let definition = d.describe(&req, arn).await.unwrap().unwrap();
        assert_eq!(definition.id, arn);
        described.insert(arn.to_string(), serde_json::to_value(definition).unwrap());
    }
    assert_json_snapshot!("described_arns", described);
    // Described once, then remembered.
    d.describe(&req, late).await.unwrap().unwrap();
    let gets: Vec<_> = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/inference-profiles/"))
        .map(|r| r.path.clone())
        .collect();
    assert_json_snapshot!("describe_paths", gets);

    assert!(
        d.describe(&req, SONNET45).await.unwrap().is_none(),
        "not an ARN"
    );
    let other_account = d
        .describe(
            &req,
            "arn:aws:bedrock:us-east-1:210987654321:application-inference-profile/k3v9xq2m7p1a",
        )
        .await
        .unwrap_err();
    assert_eq!(
        other_account.kind(),
        ErrorKind::AccessDenied,
        "{other_account}"
    );
    let unknown = d
        .describe(
            &req,
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/nope",
        )
        .await
        .unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::Other, "{unknown}");
}
