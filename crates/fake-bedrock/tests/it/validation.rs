//! Bedrock-like request validation: conversation shape, images, tool blocks.

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    ContentBlock, ConversationRole, ImageBlock, ImageFormat, ImageSource, Message, Tool,
    ToolResultBlock, ToolResultContentBlock, ToolUseBlock,
};
use aws_smithy_types::Document;

use crate::support::*;

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

    // A tool spec's constraints: a description, when sent, of at least one character; a name
    // of 1 to 64 characters from [a-zA-Z0-9_-].
    let with_spec = |name: &str, description: Option<&str>| {
        let mut config = weather_tool();
        let Some(Tool::ToolSpec(spec)) = config.tools.first_mut() else {
            unreachable!("weather_tool is one tool spec")
        };
        spec.name = name.to_owned();
        spec.description = description.map(str::to_owned);
        config
    };
    let err = converse_message(
        &client,
        HAIKU3,
        vec![user("hi")],
        Some(with_spec("get_weather", Some(""))),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        "1 validation error detected: Value '' at 'toolConfig.tools.1.member.toolSpec.description' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
    let ok = converse_message(
        &client,
        HAIKU3,
        vec![user("hi")],
        Some(with_spec("get_weather", None)),
        None,
    )
    .await;
    assert_eq!(ok.unwrap(), "Echo: hi");
    for bad in ["", "get weather", &"x".repeat(65)] {
        let err = converse_message(
            &client,
            HAIKU3,
            vec![user("hi")],
            Some(with_spec(bad, Some("d"))),
            None,
        )
        .await
        .unwrap_err();
        assert!(
            err.starts_with(&format!("1 validation error detected: Value '{bad}' at 'toolConfig.tools.1.member.toolSpec.name'")),
            "{err}"
        );
    }

    // inferenceConfig: temperature and topP within 0..=1, no empty stop sequence.
    use aws_sdk_bedrockruntime::types::InferenceConfiguration;
    for (config, needle) in [
        (
            InferenceConfiguration::builder().temperature(1.5).build(),
            "Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than or equal to 1",
        ),
        (
            InferenceConfiguration::builder().top_p(-0.5).build(),
            "Value '-0.5' at 'inferenceConfig.topP' failed to satisfy constraint: Member must have value greater than or equal to 0",
        ),
        (
            InferenceConfiguration::builder()
                .stop_sequences("x")
                .stop_sequences("")
                .build(),
            "Value '' at 'inferenceConfig.stopSequences.2.member' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ),
    ] {
        let err = client
            .converse()
            .model_id(HAIKU3)
            .messages(user("hi"))
            .inference_config(config)
            .send()
            .await
            .unwrap_err()
            .into_service_error();
        assert!(err.is_validation_exception(), "{err:?}");
        assert!(
            err.message().unwrap_or_default().ends_with(needle),
            "{err:?}"
        );
    }

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
