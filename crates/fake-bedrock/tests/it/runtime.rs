//! `Converse` and `ConverseStream` through the official runtime client: echoes, every event kind,
//! scripted turns, the default generator.

use aws_sdk_bedrockruntime::types::{
    CachePointBlock, CachePointType, ContentBlock, ConversationRole, ConverseOutput, Message,
    ReasoningContentBlock, SystemContentBlock, ToolResultBlock, ToolResultContentBlock,
    ToolUseBlock,
};
use aws_smithy_types::Document;
use fake_bedrock::{Auth, Turn, Usage};

use crate::support::*;

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
