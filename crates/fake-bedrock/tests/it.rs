//! Integration tests: the official AWS SDK clients (and raw HTTP where bytes matter) against a
//! fake-bedrock over real HTTP on 127.0.0.1.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stdout
)]

use std::time::{Duration, Instant};

use aws_sdk_bedrock::types::{FoundationModelLifecycleStatus, InferenceType, ModelModality};
use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region, Token};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, ContentBlock, ContentBlockDelta, ContentBlockStart,
    ConversationRole, ConverseOutput, ConverseStreamOutput, ImageBlock, ImageFormat, ImageSource,
    Message, ReasoningContentBlock, ReasoningContentBlockDelta, SystemContentBlock, Tool,
    ToolConfiguration, ToolInputSchema, ToolResultBlock, ToolResultContentBlock, ToolSpecification,
    ToolUseBlock,
};
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use aws_smithy_types::Document;
use fake_bedrock::{Auth, Catalog, FakeBedrock, Fault, Pacing, Rule, StreamException, Turn, Usage};

const AK: &str = "AKIDEXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "test-bedrock-api-key";
const HAIKU3: &str = "anthropic.claude-3-haiku-20240307-v1:0";
const SONNET45: &str = "anthropic.claude-sonnet-4-5-20250929-v1:0";

async fn fake() -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(AK, SK)
        .bearer_token(TOKEN)
        .start()
        .await
        .unwrap()
}

fn retry_off() -> aws_smithy_types::retry::RetryConfig {
    aws_smithy_types::retry::RetryConfig::disabled()
}

/// A runtime client signing with SigV4 (explicit config, no process environment).
fn runtime(fake: &FakeBedrock, region: &str, secret: &str) -> aws_sdk_bedrockruntime::Client {
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .credentials_provider(Credentials::new(AK, secret, None, None, "test"))
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

fn runtime_bearer(fake: &FakeBedrock, token: &str) -> aws_sdk_bedrockruntime::Client {
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .bearer_token(Token::new(token, None))
        .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

/// A control-plane client built from an `SdkConfig`, as applications do.
fn control(fake: &FakeBedrock, region: &str) -> aws_sdk_bedrock::Client {
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_bedrock::config::SharedCredentialsProvider::new(
            Credentials::new(AK, SK, Some("session-token-xyz".into()), None, "test"),
        ))
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    aws_sdk_bedrock::Client::new(&sdk)
}

fn user(text: &str) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Text(text.into()))
        .build()
        .unwrap()
}

fn text_of(output: &ConverseOutput) -> String {
    let ConverseOutput::Message(m) = output else {
        panic!("no message")
    };
    m.content()
        .iter()
        .filter_map(|b| b.as_text().ok().cloned())
        .collect()
}

fn weather_tool() -> ToolConfiguration {
    ToolConfiguration::builder()
        .tools(Tool::ToolSpec(
            ToolSpecification::builder()
                .name("get_weather")
                .description("Weather for a city")
                .input_schema(ToolInputSchema::Json(Document::Object(
                    [
                        ("type".to_owned(), Document::from("object")),
                        (
                            "properties".to_owned(),
                            Document::Object(
                                [(
                                    "city".to_owned(),
                                    Document::Object(
                                        [("type".to_owned(), Document::from("string"))].into(),
                                    ),
                                )]
                                .into(),
                            ),
                        ),
                        (
                            "required".to_owned(),
                            Document::Array(vec![Document::from("city")]),
                        ),
                    ]
                    .into(),
                )))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap()
}

/// Everything a stream delivered, decoded by the SDK.
#[derive(Default, Debug)]
struct Collected {
    kinds: Vec<String>,
    text: String,
    reasoning: String,
    signature: String,
    redacted: Vec<u8>,
    tool_starts: Vec<(String, String)>,
    tool_input: String,
    tool_deltas: usize,
    stop_reason: Option<String>,
    usage: Option<aws_sdk_bedrockruntime::types::TokenUsage>,
    latency: Option<i64>,
    error: Option<aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError>,
    other_error: Option<String>,
}

async fn collect(
    mut stream: aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver<
        ConverseStreamOutput,
        aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError,
    >,
) -> Collected {
    let mut c = Collected::default();
    loop {
        match stream.recv().await {
            Ok(Some(event)) => match event {
                ConverseStreamOutput::MessageStart(e) => {
                    assert_eq!(e.role(), &ConversationRole::Assistant);
                    c.kinds.push("messageStart".into());
                }
                ConverseStreamOutput::ContentBlockStart(e) => {
                    c.kinds.push("contentBlockStart".into());
                    if let Some(ContentBlockStart::ToolUse(t)) = e.start() {
                        c.tool_starts
                            .push((t.tool_use_id().to_owned(), t.name().to_owned()));
                    }
                }
                ConverseStreamOutput::ContentBlockDelta(e) => {
                    c.kinds.push("contentBlockDelta".into());
                    match e.delta() {
                        Some(ContentBlockDelta::Text(t)) => c.text.push_str(t),
                        Some(ContentBlockDelta::ToolUse(t)) => {
                            c.tool_input.push_str(t.input());
                            c.tool_deltas += 1;
                        }
                        Some(ContentBlockDelta::ReasoningContent(r)) => match r {
                            ReasoningContentBlockDelta::Text(t) => c.reasoning.push_str(t),
                            ReasoningContentBlockDelta::Signature(s) => c.signature.push_str(s),
                            ReasoningContentBlockDelta::RedactedContent(b) => {
                                c.redacted.extend_from_slice(b.as_ref())
                            }
                            other => panic!("unexpected reasoning delta {other:?}"),
                        },
                        other => panic!("unexpected delta {other:?}"),
                    }
                }
                ConverseStreamOutput::ContentBlockStop(_) => {
                    c.kinds.push("contentBlockStop".into())
                }
                ConverseStreamOutput::MessageStop(e) => {
                    c.kinds.push("messageStop".into());
                    c.stop_reason = Some(e.stop_reason().as_str().to_owned());
                }
                ConverseStreamOutput::Metadata(e) => {
                    c.kinds.push("metadata".into());
                    c.usage = e.usage().cloned();
                    c.latency = e.metrics().map(|m| m.latency_ms());
                }
                other => panic!("unknown event {other:?}"),
            },
            Ok(None) => break,
            Err(err) => {
                use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError as E;
                match err.into_service_error() {
                    e @ (E::ThrottlingException(_)
                    | E::InternalServerException(_)
                    | E::ModelStreamErrorException(_)
                    | E::ValidationException(_)
                    | E::ServiceUnavailableException(_)) => c.error = Some(e),
                    other => c.other_error = Some(format!("{other:?}")),
                }
                break;
            }
        }
    }
    c
}

fn dedup(kinds: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in kinds {
        if out.last() != Some(k) {
            out.push(k.clone());
        }
    }
    out
}

// ---------------------------------------------------------------- control plane

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
    assert!(app.inference_profile_summaries().is_empty());

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

// ---------------------------------------------------------------- runtime

#[tokio::test]
async fn converse_echoes_with_sigv4_and_records_the_request() {
    let fake = fake().await;
    let client = runtime(&fake, "us-west-2", SK);
    let out = client
        .converse()
        .model_id(HAIKU3)
        .messages(user("hello there"))
        .system(SystemContentBlock::Text("be brief".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Echo: hello there");
    assert_eq!(out.stop_reason().as_str(), "end_turn");
    let usage = out.usage().unwrap();
    assert!(usage.input_tokens() > 0 && usage.output_tokens() > 0);
    assert_eq!(
        usage.total_tokens(),
        usage.input_tokens() + usage.output_tokens()
    );
    let req = &fake.requests()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.path,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    assert_eq!(req.model_id().as_deref(), Some(HAIKU3));
    assert!(
        matches!(&req.auth, Auth::SigV4 { region, session_token_present: false, .. } if region == "us-west-2")
    );
    let body = req.json().unwrap();
    assert_eq!(body["messages"][0]["content"][0]["text"], "hello there");
    assert_eq!(body["system"][0]["text"], "be brief");
    assert!(req.header("x-amzn-requestid").is_none());
    fake.clear_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn converse_stream_decodes_every_event_kind() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    fake.script(
        Turn::new()
            .with_reasoning("Let me think step by step.", "c2lnbmF0dXJl")
            .with_redacted_reasoning(vec![0u8, 1, 2, 254, 255])
            .with_text("The weather in Paris is nice.")
            .with_tool_use(
                "tooluse_abc123",
                "get_weather",
                serde_json::json!({"city": "Paris", "units": "metric"}),
            )
            .usage(Usage {
                input_tokens: 11,
                output_tokens: 22,
                cache_read_input_tokens: 33,
                cache_write_input_tokens: 44,
            })
            .latency_ms(123)
            .chunk_size(5),
    );
    let out = client
        .converse_stream()
        .model_id(format!("us.{SONNET45}"))
        .messages(user("weather?"))
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert!(c.error.is_none() && c.other_error.is_none(), "{c:?}");
    assert_eq!(c.reasoning, "Let me think step by step.");
    assert_eq!(c.signature, "c2lnbmF0dXJl");
    assert_eq!(c.redacted, vec![0u8, 1, 2, 254, 255]);
    assert_eq!(c.text, "The weather in Paris is nice.");
    assert_eq!(
        c.tool_starts,
        vec![("tooluse_abc123".to_owned(), "get_weather".to_owned())]
    );
    assert!(c.tool_deltas >= 3, "argument JSON split over deltas");
    let args: serde_json::Value = serde_json::from_str(&c.tool_input).unwrap();
    assert_eq!(
        args,
        serde_json::json!({"city": "Paris", "units": "metric"})
    );
    assert_eq!(c.stop_reason.as_deref(), Some("tool_use"));
    let usage = c.usage.unwrap();
    assert_eq!(
        (
            usage.input_tokens(),
            usage.output_tokens(),
            usage.cache_read_input_tokens(),
            usage.cache_write_input_tokens(),
            usage.total_tokens()
        ),
        (11, 22, Some(33), Some(44), 110)
    );
    assert_eq!(c.latency, Some(123));
    assert_eq!(
        dedup(&c.kinds),
        [
            "messageStart",
            "contentBlockDelta",
            "contentBlockStop",
            "contentBlockDelta",
            "contentBlockStop",
            "contentBlockDelta",
            "contentBlockStop",
            "contentBlockStart",
            "contentBlockDelta",
            "contentBlockStop",
            "messageStop",
            "metadata"
        ]
    );
    assert_eq!(
        fake.requests()[0].path,
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream"
    );
}

#[tokio::test]
async fn converse_non_stream_returns_scripted_blocks() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    fake.script(
        Turn::new()
            .with_reasoning("hmm", "sig")
            .with_redacted_reasoning(b"opaque".to_vec())
            .with_text("done")
            .stop_reason("max_tokens")
            .for_model(HAIKU3),
    );
    // The rule is for HAIKU3 only: another model gets the default answer.
    let other = client
        .converse()
        .model_id("amazon.nova-micro-v1:0")
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(other.output().unwrap()), "Echo: x");
    let out = client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.stop_reason().as_str(), "max_tokens");
    let ConverseOutput::Message(m) = out.output().unwrap() else {
        panic!()
    };
    match &m.content()[0] {
        ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(r)) => {
            assert_eq!((r.text(), r.signature()), ("hmm", Some("sig")));
        }
        other => panic!("{other:?}"),
    }
    match &m.content()[1] {
        ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(b)) => {
            assert_eq!(b.as_ref(), b"opaque");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(m.content()[2].as_text().unwrap(), "done");
}

#[tokio::test]
async fn default_generator_tools_thinking_and_cache() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    let thinking = Document::Object(
        [(
            "thinking".to_owned(),
            Document::Object(
                [
                    ("type".to_owned(), Document::from("enabled")),
                    ("budget_tokens".to_owned(), Document::from(1024u64)),
                ]
                .into(),
            ),
        )]
        .into(),
    );
    let out = client
        .converse_stream()
        .model_id(format!("global.{SONNET45}"))
        .messages(user("please use tool get_weather for Paris"))
        .tool_config(weather_tool())
        .additional_model_request_fields(thinking)
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert_eq!(
        c.reasoning,
        "Thinking about: please use tool get_weather for Paris"
    );
    assert!(!c.signature.is_empty());
    assert_eq!(c.text, "Calling get_weather.");
    assert_eq!(c.tool_starts.len(), 1);
    assert_eq!(c.tool_starts[0].1, "get_weather");
    let args: serde_json::Value = serde_json::from_str(&c.tool_input).unwrap();
    assert_eq!(args["city"], "please use tool get_weather for Paris");
    assert_eq!(c.stop_reason.as_deref(), Some("tool_use"));

    // Second turn: send the tool result back; the answer quotes it.
    let tool_id = c.tool_starts[0].0.clone();
    let messages = vec![
        user("please use tool get_weather for Paris"),
        Message::builder()
            .role(ConversationRole::Assistant)
            .content(ContentBlock::ToolUse(
                ToolUseBlock::builder()
                    .tool_use_id(&tool_id)
                    .name("get_weather")
                    .input(Document::Object(Default::default()))
                    .build()
                    .unwrap(),
            ))
            .build()
            .unwrap(),
        Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::ToolResult(
                ToolResultBlock::builder()
                    .tool_use_id(&tool_id)
                    .content(ToolResultContentBlock::Text("sunny, 21C".into()))
                    .build()
                    .unwrap(),
            ))
            .build()
            .unwrap(),
    ];
    let out = client
        .converse()
        .model_id(format!("us.{SONNET45}"))
        .set_messages(Some(messages))
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Tool result: sunny, 21C");

    // Prompt caching: first call writes the prefix, the second reads it.
    let cached = || {
        client
            .converse()
            .model_id(HAIKU3)
            .system(SystemContentBlock::Text(
                "a long and stable system prompt ".repeat(20),
            ))
            .system(SystemContentBlock::CachePoint(
                CachePointBlock::builder()
                    .r#type(CachePointType::Default)
                    .build()
                    .unwrap(),
            ))
            .messages(user("hi"))
            .send()
    };
    let first = cached().await.unwrap();
    let second = cached().await.unwrap();
    let (u1, u2) = (first.usage().unwrap(), second.usage().unwrap());
    assert!(u1.cache_write_input_tokens().unwrap_or(0) > 0);
    assert_eq!(u1.cache_read_input_tokens(), None);
    assert_eq!(u2.cache_read_input_tokens(), u1.cache_write_input_tokens());

    // maxTokens caps the answer.
    let capped = client
        .converse()
        .model_id(HAIKU3)
        .messages(user("a fairly long prompt that will not fit"))
        .inference_config(
            aws_sdk_bedrockruntime::types::InferenceConfiguration::builder()
                .max_tokens(2)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(capped.stop_reason().as_str(), "max_tokens");
    assert_eq!(text_of(capped.output().unwrap()).chars().count(), 8);
}

// ---------------------------------------------------------------- validation

async fn validation_message(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    messages: Vec<Message>,
) -> (String, String) {
    let err = client
        .converse()
        .model_id(model)
        .set_messages(Some(messages))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    (
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn runtime_validates_like_bedrock() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);

    let (code, message) = validation_message(&client, SONNET45, vec![user("hi")]).await;
    assert_eq!(code, "ValidationException");
    assert_eq!(
        message,
        format!(
            "Invocation of model ID {SONNET45} with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model."
        )
    );
    // The same model through a profile ARN works.
    let arn = format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{SONNET45}");
    let ok = client
        .converse()
        .model_id(&arn)
        .messages(user("hi"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(ok.output().unwrap()), "Echo: hi");
    let last = fake.requests().pop().unwrap();
    assert!(
        last.path
            .contains("arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus."),
        "{}",
        last.path
    );

    let err = client
        .converse()
        .model_id("acme.unknown-v1:0")
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(fake.requests().last().unwrap().status, Some(404));

    let (code, _) = validation_message(&client, &format!("eu.{SONNET45}"), vec![user("hi")]).await;
    assert_eq!(code, "ValidationException", "eu. profile from us-east-1");
    let (code, message) =
        validation_message(&client, "amazon.titan-embed-text-v2:0", vec![user("hi")]).await;
    assert_eq!(code, "ValidationException");
    assert!(message.contains("supported text or chat model"));
    let (_, message) = validation_message(&client, HAIKU3, vec![user("a"), user("b")]).await;
    assert!(
        message.contains("alternate between user and assistant"),
        "{message}"
    );
    let assistant = Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::Text("x".into()))
        .build()
        .unwrap();
    let (_, message) = validation_message(&client, HAIKU3, vec![assistant]).await;
    assert!(message.contains("must start with a user message"));

    // toolResult ids must match the previous toolUse ids.
    let tool_use = Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::ToolUse(
            ToolUseBlock::builder()
                .tool_use_id("tooluse_1")
                .name("get_weather")
                .input(Document::Object(Default::default()))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let wrong_result = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id("tooluse_2")
                .content(ToolResultContentBlock::Text("r".into()))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let err = client
        .converse()
        .model_id(HAIKU3)
        .set_messages(Some(vec![user("q"), tool_use.clone(), wrong_result]))
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception());
    assert!(err.message().unwrap().contains("tooluse_2"), "{err:?}");
    let (_, message) = validation_message(
        &client,
        HAIKU3,
        vec![user("q"), tool_use, user("no result")],
    )
    .await;
    assert!(
        message.starts_with(
            "Expected toolResult blocks at messages.2.content for the following Ids: tooluse_1"
        ),
        "{message}"
    );

    // Images over 3.75 MB are refused.
    let big = Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::Image(
            ImageBlock::builder()
                .format(ImageFormat::Png)
                .source(ImageSource::Bytes(Blob::new(vec![
                    0u8;
                    fake_bedrock::MAX_IMAGE_BYTES
                        + 1
                ])))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap();
    let (code, message) = validation_message(&client, HAIKU3, vec![big]).await;
    assert_eq!(code, "ValidationException");
    assert!(message.contains("3.75 MB"), "{message}");

    // A model without response streaming refuses converse-stream.
    let err = client
        .converse_stream()
        .model_id("ai21.j2-mid-v1")
        .messages(user("hi"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_validation_exception(), "{err:?}");
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn bearer_token_is_accepted_and_no_sigv4_is_sent() {
    let fake = fake().await;
    let client = runtime_bearer(&fake, TOKEN);
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("via api key"))
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert_eq!(c.text, "Echo: via api key");
    let req = &fake.requests()[0];
    assert_eq!(req.auth, Auth::Bearer);
    assert_eq!(req.header("authorization"), Some("Bearer <redacted>"));
    assert!(req.header("x-amz-date").is_none());
    assert!(!format!("{req:?}").contains(TOKEN));

    let bad = runtime_bearer(&fake, "wrong-key")
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad.is_access_denied_exception(), "{bad:?}");
    assert_eq!(
        bad.message(),
        Some("Authentication failed: Please make sure your API Key is valid.")
    );

    // The control plane takes bearer tokens too.
    let conf = aws_sdk_bedrock::Config::builder()
        .behavior_version(aws_sdk_bedrock::config::BehaviorVersion::latest())
        .region(aws_sdk_bedrock::config::Region::new("us-east-1"))
        .bearer_token(aws_sdk_bedrock::config::Token::new(TOKEN, None))
        .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
        .endpoint_url(fake.url())
        .build();
    let listed = aws_sdk_bedrock::Client::from_conf(conf)
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert!(!listed.model_summaries().is_empty());
    assert_eq!(fake.requests().last().unwrap().auth, Auth::Bearer);
}

#[tokio::test]
async fn wrong_secret_unknown_key_and_missing_auth_are_refused() {
    let fake = fake().await;
    let err = runtime(&fake, "us-east-1", "not-the-secret")
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    assert!(err.message().unwrap().starts_with(
        "The request signature we calculated does not match the signature you provided."
    ));
    assert_eq!(fake.requests().last().unwrap().status, Some(403));

    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDUNKNOWN", SK, None, None, "test"))
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    let err = aws_sdk_bedrockruntime::Client::from_conf(conf)
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );

    let resp = raw(&fake, "GET", "/foundation-models", &[], b"").await;
    assert_eq!(resp.status, 403);
    assert!(
        resp.header("x-amzn-errortype")
            .unwrap()
            .starts_with("MissingAuthenticationTokenException:")
    );
    assert_eq!(resp.body, br#"{"message":"Missing Authentication Token"}"#);

    let resp = raw(
        &fake,
        "GET",
        "/nope",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        b"",
    )
    .await;
    assert_eq!(resp.status, 404);
    assert!(fake.requests().iter().all(|r| r.status.is_some()));
}

// ---------------------------------------------------------------- faults

async fn converse_err(
    client: &aws_sdk_bedrockruntime::Client,
) -> aws_sdk_bedrockruntime::operation::converse::ConverseError {
    client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error()
}

#[tokio::test]
async fn http_faults_answer_with_bedrock_errors() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    fake.fault(Fault::Throttle);
    let e = converse_err(&client).await;
    assert!(e.is_throttling_exception(), "{e:?}");
    assert_eq!(fake.requests().last().unwrap().status, Some(429));
    fake.fault(Fault::InternalError);
    let e = converse_err(&client).await;
    assert!(e.is_internal_server_exception(), "{e:?}");
    fake.fault(Fault::ServiceUnavailable);
    let e = converse_err(&client).await;
    assert!(e.is_service_unavailable_exception(), "{e:?}");
    assert_eq!(fake.requests().last().unwrap().status, Some(503));
    fake.fault(Fault::Error {
        status: 400,
        error_type: "ModelNotReadyException".into(),
        message: "Model is not ready".into(),
    });
    let e = converse_err(&client).await;
    assert!(e.is_model_not_ready_exception(), "{e:?}");
    // All consumed: the next call succeeds.
    client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();

    // Control plane access denied, targeted at control-plane calls only.
    fake.fault(Rule::new(Fault::AccessDenied).control_plane());
    client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    let e = control(&fake, "us-east-1")
        .list_foundation_models()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_access_denied_exception(), "{e:?}");
    assert!(
        e.message()
            .unwrap()
            .contains("bedrock:ListFoundationModels")
    );
}

#[tokio::test]
async fn throttling_first_calls_is_retried_by_the_sdk() {
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(HAIKU3).times(2));
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(AK, SK, None, None, "test"))
        .endpoint_url(fake.url())
        .retry_config(
            aws_smithy_types::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let out = client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Echo: x");
    let statuses: Vec<_> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(200)]);
}

async fn stream_with(fake: &FakeBedrock, fault: Fault) -> Collected {
    fake.fault(fault);
    let client = runtime(fake, "us-east-1", SK);
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("a prompt long enough for several deltas"))
        .send()
        .await
        .unwrap();
    collect(out.stream).await
}

#[tokio::test]
async fn stream_exception_frames_of_every_kind() {
    use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError as E;
    let fake = FakeBedrock::builder().chunk_size(4).start().await.unwrap();
    for kind in [
        StreamException::Throttling,
        StreamException::InternalServer,
        StreamException::ModelStreamError,
        StreamException::Validation,
        StreamException::ServiceUnavailable,
    ] {
        let c = stream_with(
            &fake,
            Fault::StreamException {
                after_events: 3,
                kind,
                message: format!("boom {kind:?}"),
            },
        )
        .await;
        assert_eq!(c.kinds.len(), 3, "{kind:?}");
        let err = c
            .error
            .unwrap_or_else(|| panic!("{kind:?}: {:?}", c.other_error));
        assert_eq!(err.message(), Some(format!("boom {kind:?}").as_str()));
        let ok = match (&kind, &err) {
            (StreamException::Throttling, E::ThrottlingException(_)) => true,
            (StreamException::InternalServer, E::InternalServerException(_)) => true,
            (StreamException::ModelStreamError, E::ModelStreamErrorException(e)) => {
                e.original_status_code() == Some(500)
            }
            (StreamException::Validation, E::ValidationException(_)) => true,
            (StreamException::ServiceUnavailable, E::ServiceUnavailableException(_)) => true,
            _ => false,
        };
        assert!(ok, "{kind:?} decoded as {err:?}");
    }
}

#[tokio::test]
async fn stream_drop_corrupt_hang_and_stall() {
    let fake = FakeBedrock::builder().chunk_size(4).start().await.unwrap();
    let c = stream_with(&fake, Fault::DropConnection { after_events: 4 }).await;
    assert_eq!(c.kinds.len(), 4);
    assert!(c.other_error.is_some() || c.error.is_some(), "{c:?}");
    assert!(c.stop_reason.is_none());

    let c = stream_with(&fake, Fault::CorruptFrame { at_event: 2 }).await;
    assert_eq!(c.kinds.len(), 2, "{c:?}");
    let err = c.other_error.unwrap();
    assert!(err.contains("MessageChecksumMismatch"), "{err}");

    // A stalled stream: events stop but the connection stays open.
    fake.fault(Fault::StallStream { after_events: 2 });
    let client = runtime(&fake, "us-east-1", SK);
    let mut out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("stall"))
        .send()
        .await
        .unwrap();
    assert!(out.stream.recv().await.unwrap().is_some());
    assert!(out.stream.recv().await.unwrap().is_some());
    let waited = tokio::time::timeout(Duration::from_millis(300), out.stream.recv()).await;
    assert!(waited.is_err(), "the stream should stall");

    // A hang: no response head at all.
    fake.fault(Fault::Hang);
    let hung = tokio::time::timeout(
        Duration::from_millis(300),
        client
            .converse()
            .model_id(HAIKU3)
            .messages(user("x"))
            .send(),
    )
    .await;
    assert!(hung.is_err(), "the request should hang");
    // Shutdown releases hanging and stalled requests promptly.
    let started = Instant::now();
    fake.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn pacing_delays_first_byte_and_events() {
    let fake = FakeBedrock::builder()
        .pacing(Pacing {
            first_byte: Duration::from_millis(150),
            between_events: Duration::from_millis(20),
        })
        .start()
        .await
        .unwrap();
    fake.script(Turn::text("abcdefgh").chunk_size(2));
    let client = runtime(&fake, "us-east-1", SK);
    let started = Instant::now();
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    let c = collect(out.stream).await;
    assert_eq!(c.text, "abcdefgh");
    // 8 events (start, 4 deltas, stop, messageStop, metadata): 7 gaps of 20 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(150 + 7 * 20),
        "{:?}",
        started.elapsed()
    );
    assert!(c.latency.unwrap() >= 150);
    fake.set_pacing(Pacing::default());
}

// ---------------------------------------------------------------- bytes on the wire

struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn raw(
    fake: &FakeBedrock,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    raw_at(fake.addr(), method, path, headers, body).await
}

async fn raw_at(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> RawResponse {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    let driver = tokio::spawn(conn);
    let mut req = http::Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = sender
        .send_request(
            req.body(http_body_util::Full::new(bytes::Bytes::copy_from_slice(
                body,
            )))
            .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    driver.abort();
    RawResponse {
        status,
        headers,
        body,
    }
}

#[tokio::test]
async fn eventstream_frames_are_byte_exact() {
    let fake = fake().await;
    fake.script(Turn::text("Hi"));
    let auth = format!("Bearer {TOKEN}");
    let resp = raw(
        &fake,
        "POST",
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        br#"{"messages":[{"role":"user","content":[{"text":"x"}]}]}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("content-type"),
        Some("application/vnd.amazon.eventstream")
    );
    assert!(resp.header("x-amzn-requestid").is_some());

    // Walk every frame, checking the layout and both CRCs with an independent CRC32.
    let mut frames = Vec::new();
    let mut rest = resp.body.as_slice();
    while !rest.is_empty() {
        let total = u32::from_be_bytes(rest[0..4].try_into().unwrap()) as usize;
        let headers_len = u32::from_be_bytes(rest[4..8].try_into().unwrap()) as usize;
        let prelude_crc = u32::from_be_bytes(rest[8..12].try_into().unwrap());
        assert_eq!(prelude_crc, crc32fast::hash(&rest[0..8]));
        let message_crc = u32::from_be_bytes(rest[total - 4..total].try_into().unwrap());
        assert_eq!(message_crc, crc32fast::hash(&rest[0..total - 4]));
        let headers = &rest[12..12 + headers_len];
        let payload = &rest[12 + headers_len..total - 4];
        frames.push((headers.to_vec(), payload.to_vec()));
        rest = &rest[total..];
    }
    assert_eq!(
        frames.len(),
        5,
        "messageStart, delta, stop, messageStop, metadata"
    );

    // The first frame's headers, byte for byte: name-len, name, type 7 (string), u16 len, value.
    let mut expected = Vec::new();
    for (name, value) in [
        (":event-type", "messageStart"),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ] {
        expected.push(name.len() as u8);
        expected.extend_from_slice(name.as_bytes());
        expected.push(7);
        expected.extend_from_slice(&(value.len() as u16).to_be_bytes());
        expected.extend_from_slice(value.as_bytes());
    }
    assert_eq!(frames[0].0, expected);
    let start: serde_json::Value = serde_json::from_slice(&frames[0].1).unwrap();
    assert_eq!(start["role"], "assistant");
    assert!(start["p"].is_string());
    let delta: serde_json::Value = serde_json::from_slice(&frames[1].1).unwrap();
    assert_eq!(delta["contentBlockIndex"], 0);
    assert_eq!(delta["delta"]["text"], "Hi");
    let stop: serde_json::Value = serde_json::from_slice(&frames[3].1).unwrap();
    assert_eq!(stop["stopReason"], "end_turn");
    let meta: serde_json::Value = serde_json::from_slice(&frames[4].1).unwrap();
    assert!(meta["usage"]["totalTokens"].is_u64());
    assert!(meta["metrics"]["latencyMs"].is_u64());

    // An exception frame: same layout, `:exception-type` first, `:message-type: exception`.
    let frame =
        fake_bedrock::exception_frame("throttlingException", br#"{"message":"slow"}"#).unwrap();
    let total = frame.len();
    assert_eq!(
        u32::from_be_bytes(frame[0..4].try_into().unwrap()) as usize,
        total
    );
    assert_eq!(
        u32::from_be_bytes(frame[total - 4..].try_into().unwrap()),
        crc32fast::hash(&frame[..total - 4])
    );
    let text = String::from_utf8_lossy(&frame);
    assert!(
        text.contains(":exception-type")
            && text.contains(":message-type")
            && text.contains("exception")
    );
}

#[tokio::test]
async fn error_responses_carry_the_errortype_header() {
    let fake = fake().await;
    let auth = format!("Bearer {TOKEN}");
    let resp = raw(
        &fake,
        "POST",
        &format!("/model/{}/converse", SONNET45.replace(':', "%3A")),
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        br#"{"messages":[{"role":"user","content":[{"text":"x"}]}]}"#,
    )
    .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.header("x-amzn-errortype"),
        Some("ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/")
    );
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("on-demand throughput")
    );
}

// ---------------------------------------------------------------- catalog, binary, other SDKs

#[tokio::test]
async fn custom_catalog_from_json_file() {
    let json = r#"{"foundationModels":[{"modelId":"acme.tiny-v1:0","modelName":"Tiny","providerName":"Acme",
        "inputModalities":["TEXT"],"outputModalities":["TEXT"],"responseStreamingSupported":true,
        "customizationsSupported":[],"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}}],
        "inferenceProfiles":[]}"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, json).unwrap();
    let catalog = Catalog::from_json_file(&path).unwrap();
    let fake = FakeBedrock::builder()
        .catalog(catalog)
        .start()
        .await
        .unwrap();
    let listed = control(&fake, "us-east-1")
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert_eq!(listed.model_summaries().len(), 1);
    assert_eq!(listed.model_summaries()[0].model_id(), "acme.tiny-v1:0");
    let out = runtime(&fake, "us-east-1", SK)
        .converse()
        .model_id("acme.tiny-v1:0")
        .messages(user("hey"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Echo: hey");
    assert!(Catalog::from_json_str("{").is_err());
    let round = Catalog::from_json_str(&Catalog::default_catalog().to_json()).unwrap();
    assert_eq!(round, Catalog::default_catalog());
    assert!(Catalog::default_catalog().foundation_models.len() > 40);
}

#[tokio::test]
async fn binary_prints_its_address_and_serves() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-bedrock"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--bearer-token",
            TOKEN,
            "--pace-ms",
            "1",
            "--fault",
            r#"{"type": "throttle"}"#,
            "--script",
            r#"{"item": {"blocks": [{"type": "text", "text": "scripted by flag"}]}, "target": {"model": "anthropic.claude-3-haiku-20240307-v1:0"}}"#,
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = first.strip_prefix("listening on ").unwrap().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .bearer_token(Token::new(TOKEN, None))
        .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
        .endpoint_url(&url)
        .retry_config(retry_off())
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let stream = || {
        client
            .converse_stream()
            .model_id(HAIKU3)
            .messages(user("from the binary"))
            .send()
    };
    // `--fault` then `--script`, in order.
    let err = stream().await.unwrap_err().into_service_error();
    assert!(err.is_throttling_exception(), "{err:?}");
    assert_eq!(
        collect(stream().await.unwrap().stream).await.text,
        "scripted by flag"
    );
    assert_eq!(
        collect(stream().await.unwrap().stream).await.text,
        "Echo: from the binary"
    );
    // The admin API of the process: a fault from outside, seen by the SDK.
    let addr: std::net::SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let resp = raw_at(
        addr,
        "POST",
        "/_fake/faults",
        &[],
        br#"{"type": "service_unavailable"}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    let err = stream().await.unwrap_err().into_service_error();
    assert!(err.is_service_unavailable_exception(), "{err:?}");
    let log = raw_at(addr, "GET", "/_fake/requests", &[], b"").await;
    let log: serde_json::Value = serde_json::from_slice(&log.body).unwrap();
    let statuses: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, [429, 200, 200, 503]);
    child.start_kill().unwrap();
    let _ = child.wait().await;

    // A malformed --fault is refused before serving.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-bedrock"))
        .args(["--fault", r#"{"type": "meteor"}"#])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: invalid --fault `{\"type\": \"meteor\"}`: unknown variant `meteor`"
        ),
        "{stderr}"
    );
}

#[tokio::test]
async fn boto3_is_compatible() {
    let python = std::env::var("FAKE_BEDROCK_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let has_boto3 = std::process::Command::new(&python)
        .args(["-c", "import boto3"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_boto3 {
        println!("SKIPPED: boto3 not installed (interpreter `{python}`; set FAKE_BEDROCK_PYTHON)");
        return;
    }
    let fake = compat_fake().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk-compat/boto3_check.py"
    );
    let out = clean_sdk_command(&python, script, &fake.url())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "boto3 check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("BOTO3 OK"), "{stdout}");
    // boto3 signed with SigV4, verified by the fake.
    assert!(
        fake.requests()
            .iter()
            .any(|r| matches!(r.auth, Auth::SigV4 { .. }) && r.status == Some(200))
    );
}

/// The JavaScript v3 SDK (`@aws-sdk/client-bedrock{,-runtime}`), run by `node` from the
/// `node_modules` directory named by `FAKE_BEDROCK_NODE_MODULES` (CI installs it there).
#[tokio::test]
async fn js_sdk_is_compatible() {
    let node = std::env::var("FAKE_BEDROCK_NODE").unwrap_or_else(|_| "node".to_owned());
    let modules = std::env::var("FAKE_BEDROCK_NODE_MODULES").unwrap_or_default();
    let has_sdk = !modules.is_empty()
        && ["client-bedrock", "client-bedrock-runtime"]
            .iter()
            .all(|pkg| {
                std::path::Path::new(&modules)
                    .join("@aws-sdk")
                    .join(pkg)
                    .join("package.json")
                    .is_file()
            });
    let has_node = std::process::Command::new(&node)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_sdk || !has_node {
        println!(
            "SKIPPED: JS v3 SDK check needs `{node}` (set FAKE_BEDROCK_NODE) and \
             FAKE_BEDROCK_NODE_MODULES pointing at a node_modules with @aws-sdk/client-bedrock \
             and @aws-sdk/client-bedrock-runtime (node found: {has_node}, SDK found: {has_sdk})"
        );
        return;
    }
    let fake = compat_fake().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk-compat/js_check.mjs");
    let out = clean_sdk_command(&node, script, &fake.url())
        .arg(TOKEN)
        .env("FAKE_BEDROCK_NODE_MODULES", &modules)
        .env("NODE_NO_WARNINGS", "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "JS SDK check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("JS OK"), "{stdout}");
    let requests = fake.requests();
    // The runtime client spoke HTTP/2 and signed `:authority`; the fake verified it.
    assert!(
        requests.iter().any(|r| r.status == Some(200)
            && r.path.ends_with("/converse-stream")
            && matches!(r.auth, Auth::SigV4 { .. })
            && r.headers.iter().any(|(name, value)| name == "authorization"
                && value.contains("SignedHeaders=:authority;"))),
        "no verified request signed over `:authority`"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.auth == Auth::Bearer && r.status == Some(200))
    );
    // Both wrong-secret calls were refused.
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.status == Some(403) && matches!(r.auth, Auth::SigV4 { .. }))
            .count(),
        2
    );
}

// ---------------------------------------------------------------- tool validation

fn tool_use_message(id: &str) -> Message {
    Message::builder()
        .role(ConversationRole::Assistant)
        .content(ContentBlock::ToolUse(
            ToolUseBlock::builder()
                .tool_use_id(id)
                .name("get_weather")
                .input(Document::Object(Default::default()))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap()
}

fn tool_result_message(id: &str, content: Vec<ToolResultContentBlock>) -> Message {
    Message::builder()
        .role(ConversationRole::User)
        .content(ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id(id)
                .set_content(Some(content))
                .build()
                .unwrap(),
        ))
        .build()
        .unwrap()
}

async fn converse_message(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    messages: Vec<Message>,
    tool_config: Option<ToolConfiguration>,
    fields: Option<Document>,
) -> Result<String, String> {
    client
        .converse()
        .model_id(model)
        .set_messages(Some(messages))
        .set_tool_config(tool_config)
        .set_additional_model_request_fields(fields)
        .send()
        .await
        .map(|out| text_of(out.output().unwrap()))
        .map_err(|e| {
            let e = e.into_service_error();
            assert!(e.is_validation_exception(), "{e:?}");
            e.message().unwrap_or_default().to_owned()
        })
}

#[tokio::test]
async fn tool_blocks_are_validated_like_bedrock() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    let exchange = |content: Vec<ToolResultContentBlock>| {
        vec![
            user("weather?"),
            tool_use_message("tooluse_1"),
            tool_result_message("tooluse_1", content),
        ]
    };
    let sunny = || vec![ToolResultContentBlock::Text("sunny".into())];

    // A complete, valid tool exchange without toolConfig: Bedrock's exact message.
    let err = converse_message(&client, HAIKU3, exchange(sunny()), None, None)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    );
    // The same exchange with a toolConfig is accepted.
    let ok = converse_message(
        &client,
        HAIKU3,
        exchange(sunny()),
        Some(weather_tool()),
        None,
    )
    .await
    .unwrap();
    assert_eq!(ok, "Tool result: sunny");

    // A tool result without content, or with blank text, is refused.
    let err = converse_message(
        &client,
        HAIKU3,
        exchange(vec![]),
        Some(weather_tool()),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        err.starts_with(
            "The content field in the ToolResultBlock object at messages.2.content.0.toolResult is empty."
        ),
        "{err}"
    );
    let err = converse_message(
        &client,
        HAIKU3,
        exchange(vec![ToolResultContentBlock::Text(" \n".into())]),
        Some(weather_tool()),
        None,
    )
    .await
    .unwrap_err();
    assert!(err.contains("toolResult.content.0 is blank"), "{err}");

    // A forced tool choice with Claude extended thinking is refused (Anthropic's rule).
    let thinking = Document::Object(
        [(
            "thinking".to_owned(),
            Document::Object(
                [
                    ("type".to_owned(), Document::from("enabled")),
                    ("budget_tokens".to_owned(), Document::from(1024u64)),
                ]
                .into(),
            ),
        )]
        .into(),
    );
    let forced = |choice: aws_sdk_bedrockruntime::types::ToolChoice| {
        let mut config = weather_tool();
        config.tool_choice = Some(choice);
        config
    };
    use aws_sdk_bedrockruntime::types::{AnyToolChoice, AutoToolChoice, ToolChoice};
    let err = converse_message(
        &client,
        &format!("us.{SONNET45}"),
        vec![user("weather?")],
        Some(forced(ToolChoice::Any(AnyToolChoice::builder().build()))),
        Some(thinking.clone()),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        "The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use."
    );
    // Auto with thinking, and Any without thinking, are fine.
    converse_message(
        &client,
        &format!("us.{SONNET45}"),
        vec![user("weather?")],
        Some(forced(ToolChoice::Auto(AutoToolChoice::builder().build()))),
        Some(thinking),
    )
    .await
    .unwrap();
    converse_message(
        &client,
        &format!("us.{SONNET45}"),
        vec![user("weather?")],
        Some(forced(ToolChoice::Any(AnyToolChoice::builder().build()))),
        None,
    )
    .await
    .unwrap();
}

// ---------------------------------------------------------------- admin API and disconnects

async fn admin(fake: &FakeBedrock, method: &str, route: &str, body: &str) -> RawResponse {
    raw(
        fake,
        method,
        &format!("/_fake/{route}"),
        &[("content-type", "application/json")],
        body.as_bytes(),
    )
    .await
}

fn body_json(resp: &RawResponse) -> serde_json::Value {
    serde_json::from_slice(&resp.body).unwrap()
}

#[tokio::test]
async fn admin_api_scripts_faults_and_lists_requests_without_auth() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);

    // A fault rule over raw HTTP (no credentials); the SDK sees the injected error.
    let resp = admin(
        &fake,
        "POST",
        "faults",
        r#"{"item": {"type": "error", "status": 400, "error_type": "ModelNotReadyException", "message": "warming up"}, "target": {"model": "anthropic.claude-3-haiku-20240307-v1:0"}, "remaining": 2}"#,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(
        body_json(&resp),
        serde_json::json!({"queued": 1, "pending": 1})
    );
    let listed = body_json(&admin(&fake, "GET", "faults", "").await);
    assert_eq!(listed[0]["item"]["type"], "error");
    assert_eq!(listed[0]["remaining"], 2);
    for _ in 0..2 {
        let e = converse_err(&client).await;
        assert!(e.is_model_not_ready_exception(), "{e:?}");
        assert_eq!(e.message(), Some("warming up"));
    }
    // Consumed: the next call is answered normally.
    assert_eq!(
        text_of(
            client
                .converse()
                .model_id(HAIKU3)
                .messages(user("x"))
                .send()
                .await
                .unwrap()
                .output()
                .unwrap()
        ),
        "Echo: x"
    );

    // Bare faults in an array; a stream fault reaches the SDK's event decoder.
    let resp = admin(
        &fake,
        "POST",
        "faults",
        r#"[{"type": "throttle"}, {"type": "stream_exception", "after_events": 2, "kind": "model_stream_error", "message": "boom"}]"#,
    )
    .await;
    assert_eq!(body_json(&resp)["queued"], 2);
    assert!(converse_err(&client).await.is_throttling_exception());
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert_eq!(c.kinds.len(), 2);
    assert!(
        matches!(
            c.error,
            Some(aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError::ModelStreamErrorException(_))
        ),
        "{c:?}"
    );

    // A scripted turn (every block kind) for the next stream.
    let resp = admin(
        &fake,
        "POST",
        "scripts",
        r#"{"blocks": [
            {"type": "reasoning", "text": "hmm", "signature": "c2ln"},
            {"type": "redacted_reasoning", "data": "AQID"},
            {"type": "text", "text": "Scripted over HTTP."},
            {"type": "tool_use", "id": "tooluse_http", "name": "get_weather", "input": {"city": "Oslo"}}
        ], "usage": {"input_tokens": 7, "output_tokens": 9}, "chunk_size": 4}"#,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert_eq!(c.reasoning, "hmm");
    assert_eq!(c.signature, "c2ln");
    assert_eq!(c.redacted, vec![1u8, 2, 3]);
    assert_eq!(c.text, "Scripted over HTTP.");
    assert_eq!(
        c.tool_starts,
        vec![("tooluse_http".to_owned(), "get_weather".to_owned())]
    );
    assert_eq!(c.stop_reason.as_deref(), Some("tool_use"));
    let usage = c.usage.unwrap();
    assert_eq!((usage.input_tokens(), usage.output_tokens()), (7, 9));

    // The request log: Bedrock calls only (admin calls are not recorded), secrets redacted.
    let log = body_json(&admin(&fake, "GET", "requests", "").await);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), fake.requests().len());
    assert_eq!(log.len(), 6);
    assert!(
        log.iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("/_fake"))
    );
    let last = log.last().unwrap();
    assert_eq!(last["model_id"], HAIKU3);
    assert_eq!(last["status"], 200);
    assert_eq!(last["auth"]["type"], "sigv4");
    assert_eq!(last["auth"]["region"], "us-east-1");
    assert_eq!(last["json"]["messages"][0]["content"][0]["text"], "x");
    assert_eq!(last["client_disconnected"], false);
    assert!(!String::from_utf8_lossy(&admin(&fake, "GET", "requests", "").await.body).contains(SK));

    // Errors: bad JSON, unknown fault type, unknown route.
    let resp = admin(&fake, "POST", "faults", r#"{"type": "meteor"}"#).await;
    assert_eq!(resp.status, 400);
    let message = body_json(&resp)["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("invalid fault rule in the request body: unknown variant `meteor`"),
        "{message}"
    );
    assert_eq!(admin(&fake, "POST", "scripts", "{").await.status, 400);
    assert_eq!(admin(&fake, "GET", "nope", "").await.status, 404);

    // Pacing, clearing and reset.
    let resp = admin(&fake, "PUT", "pacing", r#"{"first_byte_ms": 120}"#).await;
    assert_eq!(
        body_json(&resp),
        serde_json::json!({"first_byte_ms": 120, "between_events_ms": 0})
    );
    let started = Instant::now();
    converse_message(&client, HAIKU3, vec![user("slow")], None, None)
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(120));
    admin(
        &fake,
        "POST",
        "faults",
        r#"{"item": {"type": "throttle"}, "remaining": null}"#,
    )
    .await;
    admin(
        &fake,
        "POST",
        "scripts",
        r#"{"blocks": [{"type": "text", "text": "never"}]}"#,
    )
    .await;
    assert_eq!(
        body_json(&admin(&fake, "DELETE", "scripts", "").await),
        serde_json::json!({"cleared": 1})
    );
    let resp = admin(&fake, "POST", "reset", "").await;
    assert_eq!(resp.status, 200);
    assert!(fake.requests().is_empty());
    assert_eq!(
        body_json(&admin(&fake, "GET", "faults", "").await),
        serde_json::json!([])
    );
    let started = Instant::now();
    assert_eq!(
        converse_message(&client, HAIKU3, vec![user("fast")], None, None)
            .await
            .unwrap(),
        "Echo: fast",
        "the forever-throttle is gone"
    );
    assert!(
        started.elapsed() < Duration::from_millis(120),
        "pacing reset"
    );
    assert_eq!(
        body_json(&admin(&fake, "DELETE", "requests", "").await),
        serde_json::json!({"cleared": 1})
    );
}

/// Polls the recorded request until `client_disconnected` is set (or 5 s pass).
async fn wait_disconnected(fake: &FakeBedrock, index: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if fake.requests()[index].client_disconnected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn a_client_closing_a_stream_early_is_recorded() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(10),
    });

    // Fully read: not disconnected.
    fake.script(Turn::text("complete answer").chunk_size(4));
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    collect(out.stream).await;
    assert!(!fake.requests()[0].client_disconnected);

    // Dropped after two events: the fake sees the connection go.
    fake.script(Turn::text("y".repeat(500)).chunk_size(1));
    let mut out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert!(out.stream.recv().await.unwrap().is_some());
    assert!(out.stream.recv().await.unwrap().is_some());
    assert!(!fake.requests()[1].client_disconnected, "still reading");
    drop(out);
    assert!(
        wait_disconnected(&fake, 1).await,
        "the fake did not notice the client closing the stream"
    );
    // Over the admin API too.
    let log = body_json(&admin(&fake, "GET", "requests", "").await);
    assert_eq!(log[1]["client_disconnected"], true);

    // An injected connection drop is the server's doing, not the client's.
    fake.set_pacing(Pacing::default());
    let c = stream_with(&fake, Fault::DropConnection { after_events: 2 }).await;
    assert_eq!(c.kinds.len(), 2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!fake.requests()[2].client_disconnected);

    // A client giving up on a hanging request is recorded as well.
    fake.fault(Fault::Hang);
    let hung = tokio::time::timeout(
        Duration::from_millis(200),
        client
            .converse()
            .model_id(HAIKU3)
            .messages(user("x"))
            .send(),
    )
    .await;
    assert!(hung.is_err());
    assert!(
        wait_disconnected(&fake, 3).await,
        "the fake did not notice the client giving up a hanging request"
    );
}

/// A fake with the mid-stream throttling fault the other-language SDK checks expect.
async fn compat_fake() -> FakeBedrock {
    let fake = fake().await;
    fake.fault(
        Fault::StreamException {
            after_events: 2,
            kind: StreamException::Throttling,
            message: "Too many tokens, please wait before trying again.".into(),
        }
        .for_model("meta.llama3-8b-instruct-v1:0"),
    );
    fake
}

/// `program script url` with an explicit environment: only `PATH` and the fake's test keys, so
/// no AWS setting of the host leaks into another language's SDK.
fn clean_sdk_command(program: &str, script: &str, url: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command
        .arg(script)
        .arg(url)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    command
}
