use openclaw_config::ModelDefinition;
use openclaw_stream::{
    AssistantContent, AssistantMessage, CachePlacement, CachePoint, CacheTtl, Content, ErrorInfo,
    ErrorKind, ErrorReason, Message, StopReason, StreamEvent, SystemBlock, ThinkingBudget,
    ToolCall, ToolChoice, Usage,
};
use serde_json::{Value, json};

use super::sse::{MessageWriter, message};
use super::*;
use crate::sse::EventWriter;

fn parse(body: Value) -> MessagesRequest {
    serde_json::from_value(body).unwrap()
}

fn model() -> ModelDefinition {
    let mut m = ModelDefinition::new("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Sonnet");
    m.reasoning = true;
    m.input = vec![
        openclaw_config::InputModality::Text,
        openclaw_config::InputModality::Image,
    ];
    m
}

fn convert(body: Value) -> Result<StreamRequest, ApiError> {
    to_stream_request(
        &parse(body),
        model(),
        vec!["interleaved-thinking-2025-05-14".into()],
        ConvertLimits {
            max_image_bytes: 1024,
        },
        false,
    )
}

const ONE_HOUR: CachePoint = CachePoint {
    ttl: CacheTtl::OneHour,
};

#[test]
fn cache_control_becomes_cache_points_where_the_client_put_them() {
    let req = convert(json!({
        "model": "m", "max_tokens": 100,
        "system": [
            {"type": "text", "text": "you are terse", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "second"},
        ],
        "tools": [{"name": "t", "description": "d", "input_schema": {"type": "object"},
                   "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}},
        ]}],
    }))
    .unwrap();
    assert_eq!(req.cache_placement, CachePlacement::Explicit);
    assert_eq!(
        req.system_blocks,
        [
            SystemBlock::Text("you are terse".into()),
            SystemBlock::CachePoint(ONE_HOUR),
            SystemBlock::Text("second".into()),
        ]
    );
    assert_eq!(req.tools_cache_point, Some(CachePoint::default()));
    assert_eq!(
        req.messages,
        [Message::User(openclaw_stream::UserMessage {
            content: vec![
                Content::Text {
                    text: "hello".into()
                },
                Content::CachePoint(CachePoint::default()),
            ]
        })]
    );
    assert_eq!(req.anthropic_beta, ["interleaved-thinking-2025-05-14"]);
}

#[test]
fn tool_round_trip_with_image_result_and_thinking_replay() {
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG....");
    let req = convert(json!({
        "model": "m", "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "tool_choice": {"type": "tool", "name": "look", "disable_parallel_tool_use": true},
        "messages": [
            {"role": "user", "content": "what is on screen?"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should look", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": base64::engine::general_purpose::STANDARD.encode(b"secret")},
                {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {"zoom": 2}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": false, "content": [
                    {"type": "text", "text": "a cat"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
                ], "cache_control": {"type": "ephemeral", "ttl": "1h"}},
                {"type": "text", "text": "and now?"},
            ]},
        ],
    }))
    .unwrap();
    assert_eq!(req.thinking, Some(ThinkingBudget::Tokens(2048)));
    assert_eq!(req.tool_choice, ToolChoice::Tool("look".into()));
    let Message::Assistant(assistant) = &req.messages[1] else {
        panic!("{:?}", req.messages[1]);
    };
    assert_eq!(assistant.provider, "amazon-bedrock");
    assert_eq!(
        assistant.content,
        [
            AssistantContent::Thinking {
                thinking: "I should look".into(),
                signature: Some("sig-1".into()),
                redacted: None
            },
            AssistantContent::Thinking {
                thinking: String::new(),
                signature: None,
                redacted: Some(b"secret".to_vec())
            },
            AssistantContent::ToolCall(ToolCall {
                id: "toolu_1".into(),
                name: "look".into(),
                arguments: json!({"zoom": 2}),
                invalid_arguments: None
            }),
        ]
    );
    let Message::ToolResult(result) = &req.messages[2] else {
        panic!("{:?}", req.messages[2]);
    };
    assert_eq!(result.tool_name, "look");
    assert_eq!(result.content.len(), 3);
    assert_eq!(result.content[2], Content::CachePoint(ONE_HOUR));
    assert!(matches!(&req.messages[3], Message::User(u) if u.content.len() == 1));
}

#[test]
fn documents_pdf_and_text() {
    let req = convert(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": [
            {"type": "document", "title": "Q3 report", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}},
            {"type": "text", "text": "summarise"},
        ]}],
    }))
    .unwrap();
    let Message::User(user) = &req.messages[0] else {
        panic!()
    };
    assert!(
        matches!(&user.content[0], Content::Document { format, name, data }
        if format == "pdf" && name == "Q3 report" && data == b"%PDF-")
    );
    assert!(
        matches!(&user.content[1], Content::Document { format, data, .. }
        if format == "txt" && data == b"plain words")
    );
}

#[test]
fn refusals_name_the_field() {
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]}]}),
            "messages[0].content[0].source",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "top_logprobs": 3, "messages": [{"role": "user", "content": "x"}]}),
            "top_logprobs",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "thinking": {"type": "enabled", "budget_tokens": 10},
                   "messages": [{"role": "user", "content": "x"}]}),
            "thinking.budget_tokens",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "tools": [{"type": "web_search_20250305", "name": "web_search"}],
                   "messages": [{"role": "user", "content": "x"}]}),
            "tools[0]",
        ),
        (
            json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
                {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                 "data": base64::engine::general_purpose::STANDARD.encode([0u8; 2048])}}]}]}),
            "messages[0].content[0]",
        ),
    ];
    for (body, param) in cases {
        let e = convert(body.clone()).unwrap_err();
        assert_eq!(e.param.as_deref(), Some(param), "{body}: {}", e.message);
    }
    // Fields Anthropic defines that Bedrock has no use for are accepted.
    assert!(
        convert(
            json!({"model": "m", "max_tokens": 5, "metadata": {"user_id": "u"},
                       "messages": [{"role": "user", "content": "x"}]})
        )
        .is_ok()
    );
}

fn render(events: &[StreamEvent]) -> Vec<(String, Value)> {
    let mut writer = MessageWriter::new("msg_1".into(), "m".into());
    let mut out = Vec::new();
    for e in events {
        writer.write(e, &mut out);
    }
    String::from_utf8(out)
        .unwrap()
        .split("\n\n")
        .filter(|s| !s.is_empty())
        .map(|chunk| {
            let (event, data) = chunk.split_once('\n').unwrap();
            (
                event.strip_prefix("event: ").unwrap().to_string(),
                serde_json::from_str(data.strip_prefix("data: ").unwrap()).unwrap(),
            )
        })
        .collect()
}

fn done(message: AssistantMessage, stop: StopReason) -> StreamEvent {
    let usage = Usage {
        input: 10,
        output: 5,
        cache_read: 3,
        cache_write: 2,
        ..Usage::default()
    };
    StreamEvent::Done {
        stop_reason: stop,
        message: Box::new(message),
        usage,
    }
}

#[test]
fn sse_has_anthropics_event_sequence() {
    let mut final_message = AssistantMessage::new("a", "p", "m");
    final_message.stop_sequence = Some("END".into());
    let events = render(&[
        StreamEvent::Start { model: "m".into() },
        StreamEvent::ThinkingStart { index: 0 },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: "hmm".into(),
        },
        StreamEvent::ThinkingEnd {
            index: 0,
            thinking: "hmm".into(),
            signature: Some("sig".into()),
            redacted: None,
        },
        StreamEvent::ThinkingStart { index: 1 },
        StreamEvent::ThinkingEnd {
            index: 1,
            thinking: String::new(),
            signature: None,
            redacted: Some(b"xyz".to_vec()),
        },
        StreamEvent::TextStart { index: 2 },
        StreamEvent::TextDelta {
            index: 2,
            delta: "Hi".into(),
        },
        StreamEvent::TextEnd {
            index: 2,
            text: "Hi".into(),
        },
        StreamEvent::ToolCallStart {
            index: 3,
            id: "toolu_1".into(),
            name: "look".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 3,
            delta: "{\"a\":".into(),
            partial_arguments: json!({}),
        },
        StreamEvent::ToolCallEnd {
            index: 3,
            call: ToolCall {
                id: "toolu_1".into(),
                name: "look".into(),
                arguments: json!({"a": 1}),
                invalid_arguments: None,
            },
        },
        done(final_message, StopReason::Stop),
    ]);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(events[1].1["content_block"]["type"], "thinking");
    assert_eq!(
        events[3].1["delta"],
        json!({"type": "signature_delta", "signature": "sig"})
    );
    assert_eq!(
        events[5].1["content_block"],
        json!({"type": "redacted_thinking", "data": "eHl6"})
    );
    assert_eq!(events[5].1["index"], 1);
    assert_eq!(
        events[8].1["delta"],
        json!({"type": "text_delta", "text": "Hi"})
    );
    assert_eq!(events[10].1["content_block"]["type"], "tool_use");
    assert_eq!(
        events[11].1["delta"],
        json!({"type": "input_json_delta", "partial_json": "{\"a\":"})
    );
    assert_eq!(events[11].1["index"], 3);
    assert_eq!(
        events[13].1,
        json!({"type": "message_delta", "delta": {"stop_reason": "stop_sequence", "stop_sequence": "END"},
               "usage": {"input_tokens": 10, "output_tokens": 5, "cache_creation_input_tokens": 2, "cache_read_input_tokens": 3}})
    );
}

#[test]
fn errors_after_start_are_error_events_and_guardrails_are_refusals() {
    let throttled = ErrorInfo::new(ErrorKind::Throttled);
    let events = render(&[
        StreamEvent::Start { model: "m".into() },
        StreamEvent::Error {
            reason: ErrorReason::Error,
            message: "slow down".into(),
            info: throttled,
            partial: None,
        },
    ]);
    assert_eq!(events.last().unwrap().0, "error");
    assert_eq!(
        events.last().unwrap().1["error"]["type"],
        "rate_limit_error"
    );

    let guardrail = ErrorInfo::new(ErrorKind::Upstream).with_code("guardrail_intervened");
    let events = render(&[
        StreamEvent::Start { model: "m".into() },
        StreamEvent::Error {
            reason: ErrorReason::Error,
            message: "blocked".into(),
            info: guardrail,
            partial: None,
        },
    ]);
    let delta = &events.iter().find(|(n, _)| n == "message_delta").unwrap().1;
    assert_eq!(delta["delta"]["stop_reason"], "refusal");
}

#[test]
fn non_streaming_message_shape() {
    let mut m = AssistantMessage::new("a", "p", "m");
    m.content.push(AssistantContent::Text { text: "hi".into() });
    m.content.push(AssistantContent::ToolCall(ToolCall {
        id: "toolu_9".into(),
        name: "t".into(),
        arguments: json!({"x": 1}),
        invalid_arguments: None,
    }));
    let usage = Usage {
        input: 7,
        output: 3,
        ..Usage::default()
    };
    let body = message("msg_1", "m", StopReason::ToolUse, &m, &usage);
    assert_eq!(
        body,
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
               "content": [{"type": "text", "text": "hi"}, {"type": "tool_use", "id": "toolu_9", "name": "t", "input": {"x": 1}}],
               "stop_reason": "tool_use", "stop_sequence": null,
               "usage": {"input_tokens": 7, "output_tokens": 3, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}})
    );
}
