//! Unified event sequences, stop reasons, in-stream exceptions, usage and cost.

use fake_bedrock::{Fault, StreamException, Turn, Usage as FakeUsage};
use insta::assert_json_snapshot;
use openclaw_stream::{
    ErrorReason, Message, ReasoningLevel, StopReason, StreamEvent, StreamRequest,
};
use serde_json::{Value, json};

use crate::support::*;

fn usage(input: u32, output: u32, cache_read: u32, cache_write: u32) -> FakeUsage {
    FakeUsage {
        input_tokens: input,
        output_tokens: output,
        cache_read_input_tokens: cache_read,
        cache_write_input_tokens: cache_write,
    }
}

fn request(text: &str) -> StreamRequest {
    StreamRequest::new(sonnet(), vec![Message::user_text(text)])
}

#[tokio::test]
async fn plain_text_events_usage_and_cost() {
    let h = harness().await;
    h.fake.script(
        Turn::text("Hello there, world!")
            .chunk_size(6)
            .usage(usage(1200, 340, 5000, 800)),
    );
    let events = h.run(request("Say hello")).await;
    assert_json_snapshot!("plain_text_events", events);
    let StreamEvent::Done {
        stop_reason,
        usage,
        message,
    } = terminal(&events)
    else {
        panic!()
    };
    assert_eq!(*stop_reason, StopReason::Stop);
    assert_eq!(message.text(), "Hello there, world!");
    assert_eq!(
        (
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_write
        ),
        (1200, 340, 5000, 800)
    );
    assert_eq!(usage.total_tokens, 7340);
    // By hand: 1200 * 3 / 1e6 = 0.0036; 340 * 15 / 1e6 = 0.0051; 5000 * 0.3 / 1e6 = 0.0015;
    // 800 * 3.75 / 1e6 = 0.003; total 0.0132.
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(usage.cost.input, 0.0036), "{:?}", usage.cost);
    assert!(close(usage.cost.output, 0.0051), "{:?}", usage.cost);
    assert!(close(usage.cost.cache_read, 0.0015), "{:?}", usage.cost);
    assert!(close(usage.cost.cache_write, 0.003), "{:?}", usage.cost);
    assert!(close(usage.cost.total, 0.0132), "{:?}", usage.cost);
    assert_eq!(message.provider, "amazon-bedrock");
    assert_eq!(message.api, "bedrock-converse-stream");
    assert_eq!(
        message.model,
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    );
}

#[tokio::test]
async fn tool_use_events_with_progressive_arguments() {
    let h = harness().await;
    h.fake.script(
        Turn::text("Let me check.")
            .with_tool_use(
                "tooluse_w1",
                "get_weather",
                json!({"city": "Paris", "units": "metric"}),
            )
            .chunk_size(8)
            .usage(usage(50, 20, 0, 0)),
    );
    let events = h.run(request("Weather in Paris?")).await;
    assert_json_snapshot!("tool_use_events", events);
    let message = done_message(&events);
    let StreamEvent::Done { stop_reason, .. } = terminal(&events) else {
        panic!()
    };
    assert_eq!(*stop_reason, StopReason::ToolUse);
    assert!(
        matches!(&message.content[1], openclaw_stream::AssistantContent::ToolCall(c)
        if c.arguments == json!({"city": "Paris", "units": "metric"}))
    );
}

#[tokio::test]
async fn thinking_with_signature_and_redacted_events() {
    let h = harness().await;
    h.fake.script(
        Turn::new()
            .with_reasoning("The user wants a greeting.", "sig-EqQBCkgIARABGAIiQL")
            .with_redacted_reasoning(vec![1u8, 2, 3, 4, 5])
            .with_text("Hi!")
            .chunk_size(10)
            .usage(usage(10, 30, 0, 0)),
    );
    let mut req = request("Greet me");
    req.reasoning = ReasoningLevel::Medium;
    let events = h.run(req).await;
    assert_json_snapshot!("thinking_events", events);

    // Replaying the answer to the same model sends the signature and the redacted payload back.
    let message = done_message(&events);
    h.fake.script(Turn::text("again"));
    let mut replay = request("Greet me");
    replay.messages.push(Message::Assistant(message));
    replay.messages.push(Message::user_text("Again"));
    replay.reasoning = ReasoningLevel::Medium;
    h.run(replay).await;
    assert_eq!(
        h.last_body()["messages"][1]["content"],
        json!([
            {"reasoningContent": {"reasoningText": {"text": "The user wants a greeting.", "signature": "sig-EqQBCkgIARABGAIiQL"}}},
            {"reasoningContent": {"redactedContent": "AQIDBAU="}},
            {"text": "Hi!"}
        ])
    );
}

#[tokio::test]
async fn every_stop_reason() {
    let h = harness().await;
    let mut out = serde_json::Map::new();
    for reason in [
        "end_turn",
        "stop_sequence",
        "max_tokens",
        "model_context_window_exceeded",
        "tool_use",
        "guardrail_intervened",
        "content_filtered",
        "malformed_tool_use",
    ] {
        h.fake.script(
            Turn::text("partial answer")
                .stop_reason(reason)
                .usage(usage(5, 3, 0, 0)),
        );
        let events = h.run(request("x")).await;
        let summary = match terminal(&events) {
            StreamEvent::Done { stop_reason, .. } => {
                json!({"type": "done", "stop_reason": stop_reason})
            }
            StreamEvent::Error {
                reason,
                message,
                partial,
            } => json!({
                "type": "error", "reason": reason, "message": message,
                "partial_text": partial.as_ref().map(|p| p.text()),
            }),
            other => panic!("{other:?}"),
        };
        out.insert(reason.into(), summary);
    }
    assert_json_snapshot!("stop_reasons", out);
}

#[tokio::test]
async fn every_in_stream_exception_is_a_readable_error() {
    let h = harness().await;
    let mut out = serde_json::Map::new();
    for kind in [
        StreamException::InternalServer,
        StreamException::ModelStreamError,
        StreamException::Validation,
        StreamException::Throttling,
        StreamException::ServiceUnavailable,
    ] {
        h.fake
            .script(Turn::text("some text before the failure").chunk_size(5));
        h.fake.fault(Fault::StreamException {
            after_events: 3,
            kind,
            message: format!("injected {}", kind.wire_name()),
        });
        let events = h.run(request("x")).await;
        let types: Vec<Value> = events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap()["type"].clone())
            .collect();
        let StreamEvent::Error {
            reason,
            message,
            partial,
        } = terminal(&events)
        else {
            panic!("{events:?}")
        };
        assert_eq!(*reason, ErrorReason::Error);
        out.insert(kind.wire_name().into(), json!({
            "types": types, "message": message, "partial_text": partial.as_ref().map(|p| p.text()),
        }));
    }
    // Nothing after the first event is retried: one request per exception.
    assert_eq!(h.bodies().len(), 5);
    assert_json_snapshot!("in_stream_exceptions", out);
}

#[tokio::test]
async fn unsupported_image_type_fails_before_sending() {
    let h = harness().await;
    let req = StreamRequest::new(
        sonnet(),
        vec![Message::User(openclaw_stream::UserMessage {
            content: vec![openclaw_stream::Content::Image {
                mime_type: "image/bmp".into(),
                data: vec![1],
            }],
        })],
    );
    let events = h.run(req).await;
    assert_json_snapshot!("unsupported_image_events", events);
    assert!(h.fake.requests().is_empty());
}

#[tokio::test]
async fn http_errors_before_the_stream_are_readable() {
    let h = harness().await;
    h.fake.fault(Fault::AccessDenied.times(1));
    let events = h.run(request("x")).await;
    assert_json_snapshot!("access_denied_events", events, {"[0].message" => insta::dynamic_redaction(|v, _| {
        // The fake's message is its own; keep our prefix.
        let s = v.as_str().unwrap().to_owned();
        assert!(s.starts_with("bedrock rejected the request (HTTP 403, AccessDeniedException)"), "{s}");
        "[bedrock rejected the request (HTTP 403, AccessDeniedException): ...]"
    })});
}
