//! Application inference profiles and ARNs: listing every page by type, `GetInferenceProfile`
//! by id and ARN, tags, runtime calls by every kind of Bedrock ARN (percent-encoded in the
//! path), profiles created through the admin API, and the refusals for another region or
//! account.

use aws_sdk_bedrock::error::ProvideErrorMetadata as _;
use aws_sdk_bedrock::types::InferenceProfileType;
use fake_bedrock::{InferenceProfile, Tag};

use crate::support::*;

const SEARCH_ARN: &str =
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";
const SUPPORT_ARN: &str =
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/n8w2r5t4y6u0";

async fn list_all(
    client: &aws_sdk_bedrock::Client,
    kind: InferenceProfileType,
) -> Vec<aws_sdk_bedrock::types::InferenceProfileSummary> {
    let mut pages = client
        .list_inference_profiles()
        .type_equals(kind)
        .into_paginator()
        .page_size(1)
        .send();
    let mut out = Vec::new();
    let mut count = 0;
    while let Some(page) = pages.next().await {
        out.extend(page.unwrap().inference_profile_summaries().iter().cloned());
        count += 1;
    }
    assert_eq!(count, out.len().max(1), "one profile per page");
    out
}

#[tokio::test]
async fn application_profiles_are_listed_by_type_on_every_page_with_their_arns() {
    let fake = fake().await;
    let client = control(&fake, "us-east-1");
    let apps = list_all(&client, InferenceProfileType::Application).await;
    let summary: Vec<_> = apps
        .iter()
        .map(|p| {
            serde_json::json!({
                "id": p.inference_profile_id(),
                "name": p.inference_profile_name(),
                "arn": p.inference_profile_arn(),
                "type": p.r#type().as_str(),
                "status": p.status().as_str(),
                "models": p.models().iter().map(|m| m.model_arn().unwrap()).collect::<Vec<_>>(),
            })
        })
        .collect();
    insta::assert_json_snapshot!(summary);

    let system = list_all(&client, InferenceProfileType::SystemDefined).await;
    assert!(system.len() > 5);
    assert!(
        system
            .iter()
            .all(|p| p.r#type() == &InferenceProfileType::SystemDefined)
    );
    // Another region lists none of us-east-1's application profiles.
    let west = control(&fake, "us-west-2");
    assert!(
        list_all(&west, InferenceProfileType::Application)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn get_inference_profile_by_id_and_by_arn_and_its_tags() {
    let fake = fake().await;
    let client = control(&fake, "us-east-1");
    for identifier in ["k3v9xq2m7p1a", SEARCH_ARN] {
        let one = client
            .get_inference_profile()
            .inference_profile_identifier(identifier)
            .send()
            .await
            .unwrap();
        assert_eq!(one.inference_profile_name(), "team-search-sonnet");
        assert_eq!(one.inference_profile_arn(), SEARCH_ARN);
        assert_eq!(one.r#type(), &InferenceProfileType::Application);
        assert_eq!(one.status().as_str(), "ACTIVE");
        assert_eq!(
            one.models()[0].model_arn(),
            Some(
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"
            )
        );
        assert!(one.created_at().is_some());
    }
    let system_arn =
        format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET45}");
    let system = client
        .get_inference_profile()
        .inference_profile_identifier(&system_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(system.r#type(), &InferenceProfileType::SystemDefined);
    assert_eq!(system.inference_profile_arn(), system_arn);

    let tags = client
        .list_tags_for_resource()
        .resource_arn(SUPPORT_ARN)
        .send()
        .await
        .unwrap();
    let tags: Vec<_> = tags.tags().iter().map(|t| (t.key(), t.value())).collect();
    assert_eq!(tags, [("team", "support"), ("cost-center", "cc-2077")]);
}

#[tokio::test]
async fn get_inference_profile_refuses_other_accounts_other_regions_and_unknown_profiles() {
    let fake = fake().await;
    let client = control(&fake, "us-east-1");
    let get = |identifier: &'static str| {
        let client = client.clone();
        async move {
            client
                .get_inference_profile()
                .inference_profile_identifier(identifier)
                .send()
                .await
                .unwrap_err()
                .into_service_error()
        }
    };
    let other_account =
        get("arn:aws:bedrock:us-east-1:210987654321:application-inference-profile/k3v9xq2m7p1a")
            .await;
    assert!(
        other_account.is_access_denied_exception(),
        "{other_account:?}"
    );
    let other_region =
        get("arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/k3v9xq2m7p1a")
            .await;
    assert!(other_region.is_validation_exception(), "{other_region:?}");
    assert!(other_region.message().unwrap().contains("eu-west-1"));
    let unknown = get("zz0000000000").await;
    assert!(unknown.is_resource_not_found_exception(), "{unknown:?}");
    // From another region, the us-east-1 profile's bare id is unknown.
    let west = control(&fake, "us-west-2")
        .get_inference_profile()
        .inference_profile_identifier("k3v9xq2m7p1a")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(west.is_resource_not_found_exception(), "{west:?}");
}

#[tokio::test]
async fn the_runtime_answers_every_kind_of_arn_percent_encoded_in_the_path() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    let arns = [
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU3}"),
        format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET45}"),
        SEARCH_ARN.to_owned(),
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7q2w9e4r1t".to_owned(),
        "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.nova-micro-v1:0:128k/cm3x8v1b6n2m".to_owned(),
        "arn:aws:bedrock:us-east-1:123456789012:imported-model/im5k1j8h3g0f".to_owned(),
        "arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1".to_owned(),
        "arn:aws:bedrock:us-east-1:123456789012:prompt-router/pr4d9s2a6f8g".to_owned(),
    ];
    for arn in &arns {
        let out = client
            .converse_stream()
            .model_id(arn)
            .messages(user("hi"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{arn}: {:?}", e.into_service_error()));
        let collected = collect(out.stream).await;
        assert!(collected.error.is_none(), "{arn}: {:?}", collected.error);
    }
    let paths: Vec<_> = fake.requests().iter().map(|r| r.path.clone()).collect();
    insta::assert_json_snapshot!(paths);
    let ids: Vec<_> = fake
        .requests()
        .iter()
        .map(|r| r.model_id().unwrap())
        .collect();
    assert_eq!(ids, arns, "the recorded model id is the ARN decoded");
}

#[tokio::test]
async fn the_runtime_refuses_arns_of_other_accounts_and_regions_and_bare_application_ids() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    let err = |model: &'static str| {
        let client = client.clone();
        async move {
            client
                .converse()
                .model_id(model)
                .messages(user("hi"))
                .send()
                .await
                .unwrap_err()
                .into_service_error()
        }
    };
    let other_account =
        err("arn:aws:bedrock:us-east-1:210987654321:application-inference-profile/k3v9xq2m7p1a")
            .await;
    assert!(
        other_account.is_access_denied_exception(),
        "{other_account:?}"
    );
    assert_eq!(
        other_account.message(),
        Some("You don't have access to the model with the specified model ID.")
    );
    let other_region =
        err("arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/k3v9xq2m7p1a")
            .await;
    assert!(other_region.is_validation_exception(), "{other_region:?}");
    assert_eq!(
        other_region.message(),
        Some("The provided model identifier is invalid.")
    );
    let bare = err("k3v9xq2m7p1a").await;
    assert!(bare.is_resource_not_found_exception(), "{bare:?}");
    let unknown = err("arn:aws:bedrock:us-east-1:123456789012:provisioned-model/nope").await;
    assert!(unknown.is_resource_not_found_exception(), "{unknown:?}");
    let bad_kind = err("arn:aws:bedrock:us-east-1:123456789012:agent/abc").await;
    assert!(bad_kind.is_validation_exception(), "{bad_kind:?}");
}

#[tokio::test]
async fn application_profiles_are_created_through_the_api_and_the_admin_api() {
    let fake = fake().await;
    fake.create_inference_profile(InferenceProfile {
        inference_profile_id: "ab12cd34ef56".into(),
        inference_profile_name: "team-data-nova".into(),
        description: None,
        model_id: "amazon.nova-pro-v1:0".into(),
        regions: vec!["us-east-1".into()],
        created_at: None,
        updated_at: None,
        status: "ACTIVE".into(),
        profile_type: "APPLICATION".into(),
        home_region: None,
        account_id: None,
        tags: vec![Tag {
            key: "team".into(),
            value: "data".into(),
        }],
    });
    let created = admin(
        &fake,
        "POST",
        "inference-profiles",
        r#"{"inferenceProfileId": "zz98yy76xx54", "inferenceProfileName": "team-ops-haiku",
            "modelId": "anthropic.claude-3-haiku-20240307-v1:0", "regions": ["us-west-2"],
            "tags": [{"key": "team", "value": "ops"}]}"#,
    )
    .await;
    assert_eq!(created.status, 200);
    assert_eq!(
        body_json(&created),
        serde_json::json!({"created": 1, "total": 2})
    );
    let bad = admin(&fake, "POST", "inference-profiles", r#"{"name": "x"}"#).await;
    assert_eq!(bad.status, 400);

    let east = list_all(
        &control(&fake, "us-east-1"),
        InferenceProfileType::Application,
    )
    .await;
    assert!(
        east.iter()
            .any(|p| p.inference_profile_id() == "ab12cd34ef56")
    );
    let west = list_all(
        &control(&fake, "us-west-2"),
        InferenceProfileType::Application,
    )
    .await;
    let ids: Vec<_> = west.iter().map(|p| p.inference_profile_id()).collect();
    assert_eq!(ids, ["zz98yy76xx54"]);
    assert_eq!(
        west[0].inference_profile_arn(),
        "arn:aws:bedrock:us-west-2:123456789012:application-inference-profile/zz98yy76xx54"
    );
    let out = runtime(&fake, "us-west-2", SK)
        .converse()
        .model_id(west[0].inference_profile_arn())
        .messages(user("hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Echo: hello");

    let listed = admin(&fake, "GET", "inference-profiles", "").await;
    assert_eq!(body_json(&listed).as_array().unwrap().len(), 2);
    let reset = admin(&fake, "POST", "reset", "").await;
    assert_eq!(reset.status, 200);
    let west = list_all(
        &control(&fake, "us-west-2"),
        InferenceProfileType::Application,
    )
    .await;
    assert!(west.is_empty());
}

#[tokio::test]
async fn create_inference_profile_through_the_sdk() {
    use aws_sdk_bedrock::types::{InferenceProfileModelSource, Tag as SdkTag};
    let fake = fake().await;
    let client = control(&fake, "us-east-1");
    let created = client
        .create_inference_profile()
        .inference_profile_name("team-data-sonnet")
        .description("Data team")
        .model_source(InferenceProfileModelSource::CopyFrom(format!(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET45}"
        )))
        .tags(SdkTag::builder().key("team").value("data").build().unwrap())
        .send()
        .await
        .unwrap();
    let arn = created.inference_profile_arn().to_owned();
    assert!(
        arn.starts_with("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/"),
        "{arn}"
    );
    assert_eq!(created.status().map(|s| s.as_str()), Some("ACTIVE"));
    let got = client
        .get_inference_profile()
        .inference_profile_identifier(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(got.inference_profile_name(), "team-data-sonnet");
    assert_eq!(
        got.models().len(),
        3,
        "the regions of the copied system profile"
    );
    let tags = client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap();
    assert_eq!(tags.tags()[0].value(), "data");
    let out = runtime(&fake, "us-east-1", SK)
        .converse()
        .model_id(&arn)
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Echo: hi");

    let create = |name: &'static str, source: String| {
        let client = client.clone();
        async move {
            client
                .create_inference_profile()
                .inference_profile_name(name)
                .model_source(InferenceProfileModelSource::CopyFrom(source))
                .send()
                .await
                .unwrap_err()
                .into_service_error()
        }
    };
    let taken = create(
        "team-data-sonnet",
        format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU3}"),
    )
    .await;
    assert!(taken.is_conflict_exception(), "{taken:?}");
    let unknown = create(
        "team-x",
        "arn:aws:bedrock:us-east-1::foundation-model/acme.none-v1:0".to_owned(),
    )
    .await;
    assert!(unknown.is_resource_not_found_exception(), "{unknown:?}");
    let elsewhere = create(
        "team-y",
        format!("arn:aws:bedrock:eu-west-1::foundation-model/{HAIKU3}"),
    )
    .await;
    assert!(elsewhere.is_validation_exception(), "{elsewhere:?}");
}
