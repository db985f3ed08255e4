//! `CountTokens` through the official runtime client: Converse and InvokeModel inputs, the
//! counting rule recomputed here, and the errors of unknown, profile and non-counting models.

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::operation::count_tokens::CountTokensError;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ConverseTokensRequest, CountTokensInput, ImageBlock,
    ImageFormat, ImageSource, InvokeModelTokensRequest, Message, SystemContentBlock,
};
use aws_smithy_types::Document;
use fake_bedrock::{Auth, Fault};

use crate::support::*;

/// The documented rule: `max(1, ceil(bytes / 4))` plus 1600 per media block and 100 per tool.
fn rule(bytes: usize, media: u32, tools: u32) -> i32 {
    let text = i32::try_from(bytes.div_ceil(4)).unwrap().max(1);
    text + i32::try_from(media * 1600 + tools * 100).unwrap()
}

fn converse_input(
    system: &str,
    messages: Vec<Message>,
    tools: bool,
    fields: Option<Document>,
) -> CountTokensInput {
    CountTokensInput::Converse(
        ConverseTokensRequest::builder()
            .system(SystemContentBlock::Text(system.into()))
            .set_messages(Some(messages))
            .set_tool_config(tools.then(weather_tool))
            .set_additional_model_request_fields(fields)
            .build(),
    )
}

fn invoke_input(body: &serde_json::Value) -> CountTokensInput {
    CountTokensInput::InvokeModel(
        InvokeModelTokensRequest::builder()
            .body(Blob::new(body.to_string()))
            .build()
            .unwrap(),
    )
}

async fn count_err(
    client: &aws_sdk_bedrockruntime::Client,
    model: &str,
    input: CountTokensInput,
) -> CountTokensError {
    client
        .count_tokens()
        .model_id(model)
        .input(input)
        .send()
        .await
        .unwrap_err()
        .into_service_error()
}

#[tokio::test]
async fn count_tokens_counts_converse_input_like_the_documented_rule() {
    let fake = fake().await;
    let client = runtime(&fake, "us-west-2", SK);

    // Text only: the same number Converse reports as its input tokens.
    let conversation = vec![
        user("What is the weather like in Paris today?"),
        Message::builder()
            .role(ConversationRole::Assistant)
            .content(ContentBlock::Text("Sunny, 21 °C.".into()))
            .build()
            .unwrap(),
        user("And tomorrow?"),
    ];
    let text_bytes = "Be brief.".len()
        + "What is the weather like in Paris today?".len()
        + "Sunny, 21 °C.".len()
        + "And tomorrow?".len();
    let out = client
        .count_tokens()
        .model_id(HAIKU3)
        .input(converse_input(
            "Be brief.",
            conversation.clone(),
            false,
            None,
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(out.input_tokens(), rule(text_bytes, 0, 0));
    let converse = client
        .converse()
        .model_id(HAIKU3)
        .system(SystemContentBlock::Text("Be brief.".into()))
        .set_messages(Some(conversation.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(converse.usage().unwrap().input_tokens(), out.input_tokens());

    let req = &fake.requests()[0];
    assert_eq!(req.method, "POST");
    assert_eq!(
        req.path,
        "/model/anthropic.claude-3-haiku-20240307-v1%3A0/count-tokens"
    );
    assert_eq!(req.model_id().as_deref(), Some(HAIKU3));
    assert_eq!(req.status, Some(200));
    assert!(matches!(&req.auth, Auth::SigV4 { region, .. } if region == "us-west-2"));
    let body = req.json().unwrap();
    assert_eq!(
        body["input"]["converse"]["messages"][0]["content"][0]["text"],
        "What is the weather like in Paris today?"
    );
    assert_eq!(body["input"]["converse"]["system"][0]["text"], "Be brief.");

    // A tool definition and an image; thinking fields count nothing. The model is invocable
    // only through a profile, yet counts by its foundation-model id, as on the real service.
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"]
    });
    let tool_bytes = "get_weather".len() + "Weather for a city".len() + schema.to_string().len();
    let mut with_image = conversation;
    with_image.push(
        Message::builder()
            .role(ConversationRole::Assistant)
            .content(ContentBlock::Text("Let me look.".into()))
            .build()
            .unwrap(),
    );
    with_image.push(
        Message::builder()
            .role(ConversationRole::User)
            .content(ContentBlock::Image(
                ImageBlock::builder()
                    .format(ImageFormat::Png)
                    .source(ImageSource::Bytes(Blob::new(vec![137u8, 80, 78, 71])))
                    .build()
                    .unwrap(),
            ))
            .content(ContentBlock::Text("This map.".into()))
            .build()
            .unwrap(),
    );
    let thinking = Document::Object(
        [(
            "thinking".to_owned(),
            Document::Object(
                [
                    ("type".to_owned(), Document::from("enabled")),
                    ("budget_tokens".to_owned(), Document::from(2048u64)),
                ]
                .into(),
            ),
        )]
        .into(),
    );
    let out = client
        .count_tokens()
        .model_id(SONNET45)
        .input(converse_input(
            "Be brief.",
            with_image,
            true,
            Some(thinking),
        ))
        .send()
        .await
        .unwrap();
    let bytes = text_bytes + "Let me look.".len() + "This map.".len() + tool_bytes;
    assert_eq!(out.input_tokens(), rule(bytes, 1, 1));

    // A foundation-model ARN is accepted as well.
    let arn = format!("arn:aws:bedrock:us-west-2::foundation-model/{HAIKU3}");
    let out = client
        .count_tokens()
        .model_id(arn)
        .input(converse_input("x", vec![user("hi")], false, None))
        .send()
        .await
        .unwrap();
    assert_eq!(out.input_tokens(), rule(3, 0, 0));
}

#[tokio::test]
async fn count_tokens_counts_an_invoke_model_body_with_a_bearer_token() {
    let fake = fake().await;
    let client = runtime_bearer(&fake, TOKEN);
    let body = serde_json::json!({
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 512,
        "system": "You are terse.",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "21 degrees"},
                {"type": "text", "text": "Thanks!"}
            ]}
        ],
        "tools": [{"name": "get_weather", "description": "Weather for a city", "input_schema": {"type": "object"}}]
    });
    let out = client
        .count_tokens()
        .model_id(SONNET45)
        .input(invoke_input(&body))
        .send()
        .await
        .unwrap();
    let bytes = "You are terse.".len()
        + "Weather in Paris?".len()
        + "get_weather".len()
        + r#"{"city":"Paris"}"#.len()
        + "21 degrees".len()
        + "Thanks!".len()
        + "get_weather".len()
        + "Weather for a city".len()
        + r#"{"type":"object"}"#.len();
    assert_eq!(out.input_tokens(), rule(bytes, 0, 1));
    let req = &fake.requests()[0];
    assert!(matches!(req.auth, Auth::Bearer), "{:?}", req.auth);
    let sent = req.json().unwrap();
    let decoded =
        aws_smithy_types::base64::decode(sent["input"]["invokeModel"]["body"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&decoded).unwrap(),
        body
    );

    // Bedrock's Anthropic schema check: `anthropic_version` is required.
    let err = count_err(
        &client,
        SONNET45,
        invoke_input(&serde_json::json!({"messages": [{"role": "user", "content": "hi"}]})),
    )
    .await;
    assert!(err.is_validation_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(
            "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again."
        )
    );
}

#[tokio::test]
async fn count_tokens_refuses_unknown_profile_and_non_counting_models() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    let input = || converse_input("s", vec![user("hi")], false, None);

    let err = count_err(&client, "anthropic.claude-nonexistent-v9:0", input()).await;
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    for model in [
        "meta.llama3-8b-instruct-v1:0",
        "amazon.nova-pro-v1:0",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    ] {
        let err = count_err(&client, model, input()).await;
        assert!(err.is_validation_exception(), "{model}: {err:?}");
        assert_eq!(
            err.message(),
            Some("The provided model doesn't support counting tokens."),
            "{model}"
        );
    }

    // A Converse input is validated as Converse validates it.
    let err = count_err(
        &client,
        HAIKU3,
        converse_input(
            "s",
            vec![
                Message::builder()
                    .role(ConversationRole::Assistant)
                    .content(ContentBlock::Text("first".into()))
                    .build()
                    .unwrap(),
            ],
            false,
            None,
        ),
    )
    .await;
    assert!(err.is_validation_exception(), "{err:?}");
    assert!(
        err.message()
            .unwrap()
            .starts_with("A conversation must start with a user message"),
        "{err:?}"
    );

    // Faults apply as on the other runtime routes.
    fake.fault(Fault::Throttle.for_model(HAIKU3));
    let err = count_err(&client, HAIKU3, input()).await;
    assert!(err.is_throttling_exception(), "{err:?}");
    let statuses: Vec<_> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            Some(404),
            Some(400),
            Some(400),
            Some(400),
            Some(400),
            Some(429)
        ]
    );
}

#[tokio::test]
async fn count_tokens_follows_the_catalog_trait() {
    let mut catalog = fake_bedrock::Catalog::default_catalog();
    for model in &mut catalog.foundation_models {
        if model.model_id == "meta.llama3-8b-instruct-v1:0" {
            model.count_tokens_supported = Some(true);
        }
        if model.model_id == HAIKU3 {
            model.count_tokens_supported = Some(false);
        }
    }
    let fake = fake_bedrock::FakeBedrock::builder()
        .credentials(AK, SK)
        .catalog(catalog)
        .start()
        .await
        .unwrap();
    let client = runtime(&fake, "us-east-1", SK);
    let out = client
        .count_tokens()
        .model_id("meta.llama3-8b-instruct-v1:0")
        .input(converse_input("s", vec![user("hello")], false, None))
        .send()
        .await
        .unwrap();
    assert_eq!(out.input_tokens(), rule(6, 0, 0));
    let err = count_err(
        &client,
        HAIKU3,
        converse_input("s", vec![user("hi")], false, None),
    )
    .await;
    assert!(err.is_validation_exception(), "{err:?}");
}
