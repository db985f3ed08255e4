//! Unified event sequences, stop reasons, in-stream exceptions, usage and cost.

use fake_bedrock::{Fault, StreamException, Turn, Usage as FakeUsage};
use insta::assert_json_snapshot;
use openclaw_stream::{
    AdapterOptions, AssistantContent, ErrorInfo, ErrorKind, ErrorReason, Message, ModelStream,
    ReasoningLevel, StopReason, StreamEvent, StreamRequest,
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
                info,
                partial,
            } => json!({
                "type": "error", "reason": reason, "message": message, "info": info,
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
    for (kind, expected, code) in [
        (
            StreamException::InternalServer,
            ErrorKind::Upstream,
            "InternalServerException",
        ),
        (
            StreamException::ModelStreamError,
            ErrorKind::Upstream,
            "ModelStreamErrorException",
        ),
        (
            StreamException::Validation,
            ErrorKind::Validation,
            "ValidationException",
        ),
        (
            StreamException::Throttling,
            ErrorKind::Throttled,
            "ThrottlingException",
        ),
        (
            StreamException::ServiceUnavailable,
            ErrorKind::Unavailable,
            "ServiceUnavailableException",
        ),
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
            info,
            partial,
        } = terminal(&events)
        else {
            panic!("{events:?}")
        };
        assert_eq!(*reason, ErrorReason::Error);
        // In-stream: the HTTP status was 200, so none is reported.
        assert_eq!(*info, ErrorInfo::new(expected).with_code(code), "{kind:?}");
        out.insert(
            kind.wire_name().into(),
            json!({
                "types": types, "message": message, "info": info,
                "partial_text": partial.as_ref().map(|p| p.text()),
            }),
        );
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
    assert!(
        matches!(terminal(&events), StreamEvent::Error { info, .. } if *info == ErrorInfo::new(ErrorKind::Validation)),
        "{events:?}"
    );
    assert!(h.fake.requests().is_empty());
}

#[tokio::test]
async fn http_errors_before_the_stream_are_readable() {
    let h = harness().await;
    h.fake.fault(Fault::AccessDenied.times(1));
    let events = h.run(request("x")).await;
    assert_eq!(
        *error_info(&events),
        ErrorInfo::new(ErrorKind::Auth)
            .with_code("AccessDeniedException")
            .with_status(403)
    );
    assert_json_snapshot!("access_denied_events", events, {"[0].message" => insta::dynamic_redaction(|v, _| {
        // The fake's message is its own; keep our prefix.
        let s = v.as_str().unwrap().to_owned();
        assert!(s.starts_with("bedrock rejected the request (HTTP 403, AccessDeniedException)"), "{s}");
        "[bedrock rejected the request (HTTP 403, AccessDeniedException): ...]"
    })});
}

fn error_info(events: &[StreamEvent]) -> &ErrorInfo {
    match terminal(events) {
        StreamEvent::Error { info, .. } => info,
        other => panic!("expected error, got {other:#?}"),
    }
}

/// Every error response before the stream starts, as the real SDK parses it from the fake:
/// kind, AWS code and HTTP status, with retries off so each fault is seen as is.
#[tokio::test]
async fn http_errors_are_classified_from_the_sdk_error() {
    let h = harness_with(AdapterOptions {
        max_attempts: 1,
        ..fast_options()
    })
    .await;
    let error = |status: u16, error_type: &str| Fault::Error {
        status,
        error_type: error_type.into(),
        message: format!("injected {error_type}"),
    };
    let cases = [
        (
            Fault::Throttle,
            ErrorKind::Throttled,
            "ThrottlingException",
            429,
        ),
        (
            Fault::InternalError,
            ErrorKind::Upstream,
            "InternalServerException",
            500,
        ),
        (
            Fault::ServiceUnavailable,
            ErrorKind::Unavailable,
            "ServiceUnavailableException",
            503,
        ),
        (
            Fault::AccessDenied,
            ErrorKind::Auth,
            "AccessDeniedException",
            403,
        ),
        (
            error(400, "ValidationException"),
            ErrorKind::Validation,
            "ValidationException",
            400,
        ),
        (
            error(429, "ModelNotReadyException"),
            ErrorKind::Unavailable,
            "ModelNotReadyException",
            429,
        ),
        (
            error(408, "ModelTimeoutException"),
            ErrorKind::Timeout,
            "ModelTimeoutException",
            408,
        ),
        (
            error(424, "ModelErrorException"),
            ErrorKind::Upstream,
            "ModelErrorException",
            424,
        ),
        (
            error(400, "ServiceQuotaExceededException"),
            ErrorKind::Throttled,
            "ServiceQuotaExceededException",
            400,
        ),
        (
            error(403, "UnrecognizedClientException"),
            ErrorKind::Auth,
            "UnrecognizedClientException",
            403,
        ),
    ];
    let n = cases.len();
    for (fault, kind, code, status) in cases {
        h.fake.fault(fault.clone().times(1));
        let events = h.run(request("x")).await;
        assert_eq!(
            *error_info(&events),
            ErrorInfo::new(kind).with_code(code).with_status(status),
            "{fault:?}"
        );
        assert!(
            matches!(
                terminal(&events),
                StreamEvent::Error {
                    reason: ErrorReason::Error,
                    partial: None,
                    ..
                }
            ),
            "{events:?}"
        );
    }
    assert_eq!(h.fake.requests().len(), n, "nothing retried");
}

#[tokio::test]
async fn unknown_model_is_not_found() {
    let h = harness().await;
    let req = StreamRequest::new(
        model("no.such-model-v1:0", false, false),
        vec![Message::user_text("x")],
    );
    let events = h.run(req).await;
    assert_eq!(
        *error_info(&events),
        ErrorInfo::new(ErrorKind::NotFound)
            .with_code("ResourceNotFoundException")
            .with_status(404)
    );
}

#[tokio::test]
async fn validation_refused_by_bedrock_is_validation() {
    let h = harness().await;
    // An empty conversation: the fake refuses it like Bedrock does.
    let events = h.run(StreamRequest::new(sonnet(), Vec::new())).await;
    assert_eq!(
        *error_info(&events),
        ErrorInfo::new(ErrorKind::Validation)
            .with_code("ValidationException")
            .with_status(400),
        "{events:?}"
    );
}

#[tokio::test]
async fn refused_signature_is_auth() {
    let fake = fake_bedrock::FakeBedrock::builder()
        .credentials(AK, "a-different-secret-key-than-the-client-has00")
        .start()
        .await
        .unwrap();
    let adapter = openclaw_stream::ConverseStream::new(sdk_config(&fake.url()), fast_options());
    let events = collect(openclaw_stream::ModelStream::stream(
        &adapter,
        request("x"),
        Default::default(),
    ))
    .await;
    let info = error_info(&events);
    assert_eq!(
        (info.kind, info.code.as_deref(), info.status),
        (
            ErrorKind::Auth,
            Some("InvalidSignatureException"),
            Some(403)
        ),
        "{events:?}"
    );
}

#[tokio::test]
async fn deltas_only_streams_every_delta_and_keeps_no_text_over_the_sdk() {
    let h = harness().await;
    let turn = || {
        Turn::new()
            .with_reasoning("The user wants the weather.", "sig-EqQBCkgIARABGAIiQL")
            .with_text("Let me check.")
            .with_tool_use("tooluse_w1", "get_weather", json!({"city": "Paris"}))
            .chunk_size(4)
            .usage(usage(50, 20, 0, 0))
    };
    h.fake.script(turn());
    let full = h.run(request("Weather in Paris?")).await;
    h.fake.script(turn());
    let options = openclaw_stream::StreamOptions {
        deltas_only: true,
        ..Default::default()
    };
    let lean = collect(h.adapter.stream(request("Weather in Paris?"), options)).await;

    let joined = |events: &[StreamEvent]| -> (String, String) {
        let (mut text, mut thinking) = (String::new(), String::new());
        for event in events {
            match event {
                StreamEvent::TextDelta { delta, .. } => text.push_str(delta),
                StreamEvent::ThinkingDelta { delta, .. } => thinking.push_str(delta),
                _ => {}
            }
        }
        (text, thinking)
    };
    // The same deltas, in the same events.
    assert_eq!(
        joined(&lean),
        ("Let me check.".into(), "The user wants the weather.".into())
    );
    assert_eq!(joined(&full), joined(&lean));
    assert_eq!(full.len(), lean.len());
    // No text kept: the end events and the message carry none; the rest is whole.
    for event in &lean {
        match event {
            StreamEvent::TextEnd { text, .. } => assert_eq!(text, ""),
            StreamEvent::ThinkingEnd {
                thinking,
                signature,
                ..
            } => {
                assert_eq!(thinking, "");
                assert_eq!(signature.as_deref(), Some("sig-EqQBCkgIARABGAIiQL"));
            }
            _ => {}
        }
    }
    let (full_message, lean_message) = (done_message(&full), done_message(&lean));
    assert_eq!(full_message.usage, lean_message.usage);
    assert_eq!(full_message.content.len(), lean_message.content.len());
    for (full_block, lean_block) in full_message.content.iter().zip(&lean_message.content) {
        match (full_block, lean_block) {
            (AssistantContent::Text { text: a }, AssistantContent::Text { text: b }) => {
                assert_eq!(a, "Let me check.");
                assert_eq!(b, "");
            }
            (
                AssistantContent::Thinking { thinking: a, .. },
                AssistantContent::Thinking { thinking: b, .. },
            ) => {
                assert_eq!(a, "The user wants the weather.");
                assert_eq!(b, "");
            }
            (a, b) => assert_eq!(a, b, "tool calls stay whole"),
        }
    }
}
