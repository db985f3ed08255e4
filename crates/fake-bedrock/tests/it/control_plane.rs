//! The control plane through the official `aws-sdk-bedrock` client: listing, filters, pagination,
//! regions.

use aws_sdk_bedrock::types::{FoundationModelLifecycleStatus, InferenceType, ModelModality};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use fake_bedrock::Auth;

use crate::support::*;

#[tokio::test]
async fn control_plane_lists_and_filters_foundation_models() {
    let fake = fake().await;
    let client = control(&fake, "us-east-1");
    let all = client.list_foundation_models().send().await.unwrap();
    let models = all.model_summaries();
    assert_eq!(models.len(), fake.catalog().foundation_models.len());
    let haiku = models.iter().find(|m| m.model_id() == HAIKU3).unwrap();
    assert_eq!(
        haiku.model_arn(),
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU3}")
    );
    assert_eq!(haiku.provider_name(), Some("Anthropic"));
    assert_eq!(haiku.response_streaming_supported(), Some(true));
    assert_eq!(
        haiku.input_modalities(),
        [ModelModality::Text, ModelModality::Image]
    );
    assert_eq!(
        haiku.model_lifecycle().unwrap().status(),
        &FoundationModelLifecycleStatus::Active
    );
    let sonnet = models.iter().find(|m| m.model_id() == SONNET45).unwrap();
    assert_eq!(
        sonnet.inference_types_supported(),
        [InferenceType::from("INFERENCE_PROFILE")]
    );
    // Image generators carry no responseStreamingSupported at all, like the real listing.
    let canvas = models
        .iter()
        .find(|m| m.model_id() == "amazon.nova-canvas-v1:0")
        .unwrap();
    assert_eq!(canvas.response_streaming_supported(), None);
    assert!(
        models
            .iter()
            .any(|m| m.model_lifecycle().unwrap().status()
                == &FoundationModelLifecycleStatus::Legacy)
    );
    let providers: std::collections::BTreeSet<_> =
        models.iter().filter_map(|m| m.provider_name()).collect();
    for p in [
        "Amazon",
        "Anthropic",
        "Meta",
        "Mistral AI",
        "Cohere",
        "DeepSeek",
    ] {
        assert!(providers.contains(p), "{p}");
    }

    let by_provider = client
        .list_foundation_models()
        .by_provider("mistral ai")
        .send()
        .await
        .unwrap();
    assert!(!by_provider.model_summaries().is_empty());
    assert!(
        by_provider
            .model_summaries()
            .iter()
            .all(|m| m.provider_name() == Some("Mistral AI"))
    );
    let embedding = client
        .list_foundation_models()
        .by_output_modality(ModelModality::Embedding)
        .send()
        .await
        .unwrap();
    assert!(embedding.model_summaries().len() >= 3);
    assert!(
        embedding
            .model_summaries()
            .iter()
            .all(|m| !m.output_modalities().contains(&ModelModality::Text))
    );
    let provisioned = client
        .list_foundation_models()
        .by_inference_type(InferenceType::Provisioned)
        .send()
        .await
        .unwrap();
    assert!(provisioned.model_summaries().iter().all(|m| {
        m.inference_types_supported()
            .contains(&InferenceType::Provisioned)
    }));
    assert!(!provisioned.model_summaries().is_empty());
    let fine = client
        .list_foundation_models()
        .by_customization_type(aws_sdk_bedrock::types::ModelCustomization::FineTuning)
        .send()
        .await
        .unwrap();
    assert!(!fine.model_summaries().is_empty());

    let bad = client
        .list_foundation_models()
        .by_output_modality(ModelModality::from("AUDIO"))
        .send()
        .await
        .unwrap_err();
    let bad = bad.into_service_error();
    assert!(bad.is_validation_exception(), "{bad:?}");
    assert!(bad.message().unwrap().contains("byOutputModality"));

    let detail = client
        .get_foundation_model()
        .model_identifier(HAIKU3)
        .send()
        .await
        .unwrap();
    assert_eq!(detail.model_details().unwrap().model_id(), HAIKU3);
    let missing = client
        .get_foundation_model()
        .model_identifier("nope.model-v1:0")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");

    // Recorded: raw encoded path, query, SigV4 with session token, secrets redacted.
    let reqs = fake.requests();
    let get = reqs
        .iter()
        .find(|r| r.path.starts_with("/foundation-models/anthropic"))
        .unwrap();
    assert_eq!(
        get.path,
        "/foundation-models/anthropic.claude-3-haiku-20240307-v1%3A0"
    );
    assert_eq!(get.status, Some(200));
    assert_eq!(
        get.auth,
        Auth::SigV4 {
            access_key_id: AK.into(),
            region: "us-east-1".into(),
            service: "bedrock".into(),
            session_token_present: true,
        }
    );
    assert_eq!(
        get.header("x-amz-security-token"),
        Some(fake_bedrock::REDACTED)
    );
    assert!(
        get.header("authorization")
            .unwrap()
            .ends_with("Signature=<redacted>")
    );
    let filtered = reqs
        .iter()
        .find(|r| r.query.contains("byProvider"))
        .unwrap();
    assert_eq!(
        filtered.query_params(),
        vec![("byProvider".to_owned(), "mistral ai".to_owned())]
    );
    for r in &reqs {
        let dump = format!("{r:?}");
        assert!(!dump.contains(SK) && !dump.contains("session-token-xyz"));
    }
}

#[tokio::test]
async fn control_plane_paginates_inference_profiles_per_region() {
    let fake = fake().await;
    let client = control(&fake, "us-east-1");
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut token = None;
    loop {
        let page = client
            .list_inference_profiles()
            .max_results(5)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        pages += 1;
        assert!(page.inference_profile_summaries().len() <= 5);
        ids.extend(
            page.inference_profile_summaries()
                .iter()
                .map(|p| p.inference_profile_id().to_owned()),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert!(pages > 2);
    assert!(ids.iter().any(|i| i.starts_with("us.")));
    assert!(ids.iter().any(|i| i.starts_with("global.")));
    assert!(
        !ids.iter().any(|i| i.starts_with("eu.")),
        "eu profiles are not listed in us-east-1"
    );
    let all = client.list_inference_profiles().send().await.unwrap();
    assert_eq!(all.inference_profile_summaries().len(), ids.len());
    assert!(all.next_token().is_none());
    let us = all
        .inference_profile_summaries()
        .iter()
        .find(|p| p.inference_profile_id() == format!("us.{SONNET45}"))
        .unwrap();
    assert_eq!(
        us.inference_profile_arn(),
        format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET45}")
    );
    assert_eq!(
        us.r#type(),
        &aws_sdk_bedrock::types::InferenceProfileType::SystemDefined
    );
    assert_eq!(
        us.status(),
        &aws_sdk_bedrock::types::InferenceProfileStatus::Active
    );
    assert_eq!(us.models().len(), 3);
    assert!(
        us.models()[0]
            .model_arn()
            .unwrap()
            .ends_with(&format!(":foundation-model/{SONNET45}"))
    );
    assert!(us.created_at().is_some());

    let app = client
        .list_inference_profiles()
        .type_equals(aws_sdk_bedrock::types::InferenceProfileType::Application)
        .send()
        .await
        .unwrap();
    assert!(
        app.inference_profile_summaries()
            .iter()
            .all(|p| p.r#type() == &aws_sdk_bedrock::types::InferenceProfileType::Application)
    );

    let eu = control(&fake, "eu-west-1")
        .list_inference_profiles()
        .send()
        .await
        .unwrap();
    let eu_ids: Vec<_> = eu
        .inference_profile_summaries()
        .iter()
        .map(|p| p.inference_profile_id())
        .collect();
    assert!(eu_ids.iter().any(|i| i.starts_with("eu.")));
    assert!(!eu_ids.iter().any(|i| i.starts_with("us.")));
    assert!(
        eu.inference_profile_summaries()[0]
            .inference_profile_arn()
            .starts_with("arn:aws:bedrock:eu-west-1:")
    );

    let one = client
        .get_inference_profile()
        .inference_profile_identifier(format!("global.{SONNET45}"))
        .send()
        .await
        .unwrap();
    assert_eq!(one.inference_profile_id(), format!("global.{SONNET45}"));
    let bad = client
        .list_inference_profiles()
        .max_results(0)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad.is_validation_exception(), "{bad:?}");
}
