//! Request features the Anthropic Messages route relies on (explicit cache points, documents,
//! explicit thinking budgets, sampling and model request fields, stop sequences): the Converse
//! request JSON the fake received, snapshotted, and accepted by its Bedrock-like validation.

use fake_bedrock::Turn;
use insta::assert_json_snapshot;
use openclaw_stream::converse::{API, PROVIDER};
use openclaw_stream::{
    AssistantContent, AssistantMessage, CachePlacement, CachePoint, CacheRetention, CacheTtl,
    Content, ErrorKind, Message, StreamEvent, StreamRequest, SystemBlock, ThinkingBudget, ToolCall,
    ToolDefinition, ToolResultMessage, UserMessage,
};
use serde_json::{Value, json};

use crate::support::*;

const SONNET: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const LLAMA: &str = "us.meta.llama3-3-70b-instruct-v1:0";
const PDF: &[u8] = b"%PDF-1.4 tiny";
const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
const HOUR: CachePoint = CachePoint {
    ttl: CacheTtl::OneHour,
};

fn weather_tool() -> ToolDefinition {
    ToolDefinition {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    }
}

fn assistant(content: Vec<AssistantContent>) -> Message {
    let mut m = AssistantMessage::new(API, PROVIDER, SONNET);
    m.content = content;
    Message::Assistant(m)
}

fn call(id: &str, city: &str) -> AssistantContent {
    AssistantContent::ToolCall(ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: json!({"city": city}),
        invalid_arguments: None,
    })
}

fn tool_result(id: &str, content: Vec<Content>) -> Message {
    Message::ToolResult(ToolResultMessage {
        tool_call_id: id.into(),
        tool_name: "get_weather".into(),
        content,
        is_error: false,
    })
}

fn text(t: &str) -> Content {
    Content::Text { text: t.into() }
}

fn user(content: Vec<Content>) -> Message {
    Message::User(UserMessage { content })
}

fn pick(body: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .filter_map(|k| body.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect(),
    )
}

fn assert_done(events: &[StreamEvent]) -> AssistantMessage {
    match terminal(events) {
        StreamEvent::Done { message, .. } => (**message).clone(),
        other => panic!("bedrock refused the request: {other:#?}"),
    }
}

/// Cache points at every position the caller can mark, one-hour TTLs among them.
fn marked_request(model: openclaw_config::ModelDefinition) -> StreamRequest {
    let messages = vec![
        user(vec![
            text("Weather in Paris and Rome?"),
            Content::CachePoint(HOUR),
        ]),
        assistant(vec![
            AssistantContent::Text {
                text: "Checking both.".into(),
            },
            AssistantContent::CachePoint(CachePoint::default()),
            call("c1", "Paris"),
            call("c2", "Rome"),
        ]),
        tool_result("c1", vec![text("18C"), Content::CachePoint(HOUR)]),
        tool_result("c2", vec![text("21C")]),
        user(vec![text("Which is warmer?"), Content::CachePoint(HOUR)]),
    ];
    let mut req = StreamRequest::new(model, messages);
    req.system = Some("You are terse.".into());
    req.system_blocks = vec![
        SystemBlock::Text("Answer in Celsius.".into()),
        SystemBlock::CachePoint(HOUR),
    ];
    req.tools = vec![weather_tool()];
    req.tools_cache_point = Some(HOUR);
    req.cache_placement = CachePlacement::Explicit;
    // Ignored with explicit placement.
    req.cache_retention = CacheRetention::Long;
    req
}

#[tokio::test]
async fn explicit_cache_points_at_every_position() {
    let h = harness().await;
    h.fake.script(Turn::text("Rome.").times(2));
    let events = h.run(marked_request(sonnet())).await;
    assert_done(&events);
    assert_json_snapshot!(
        "explicit_cache_points_request",
        pick(&h.last_body(), &["system", "toolConfig", "messages"])
    );

    // A model without prompt caching: no cache point anywhere (Bedrock would refuse them).
    let events = h.run(marked_request(model(LLAMA, false, false))).await;
    assert_done(&events);
    let body = h.last_body().to_string();
    assert!(!body.contains("cachePoint"), "{body}");
}

#[tokio::test]
async fn documents_in_user_messages_and_tool_results() {
    let h = harness().await;
    h.fake.script(Turn::text("Read them."));
    let messages = vec![
        user(vec![
            text("Summarise these."),
            Content::Document {
                format: "pdf".into(),
                name: "Q3 report.pdf".into(),
                data: PDF.to_vec(),
            },
            Content::Document {
                format: "TXT".into(),
                name: "notes_v2  (draft)".into(),
                data: b"plain notes".to_vec(),
            },
        ]),
        assistant(vec![call("c1", "Paris")]),
        tool_result(
            "c1",
            vec![
                text("a forecast and a radar picture"),
                Content::Document {
                    format: "md".into(),
                    name: "forecast".into(),
                    data: b"# Sunny".to_vec(),
                },
                Content::Image {
                    mime_type: "image/png".into(),
                    data: PNG.to_vec(),
                },
            ],
        ),
    ];
    let mut req = StreamRequest::new(sonnet(), messages);
    req.tools = vec![weather_tool()];
    req.cache_retention = CacheRetention::None;
    let events = h.run(req).await;
    assert_done(&events);
    assert_json_snapshot!("documents_request", h.last_body()["messages"].clone());
}

#[tokio::test]
async fn explicit_thinking_budget_with_signed_and_redacted_replay() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(3));
    let history = vec![
        Message::user_text("Think first."),
        assistant(vec![
            AssistantContent::Thinking {
                thinking: "Let me think.".into(),
                signature: Some("sig-123".into()),
                redacted: None,
            },
            AssistantContent::Thinking {
                thinking: String::new(),
                signature: None,
                redacted: Some(vec![7, 7, 7]),
            },
            AssistantContent::Text {
                text: "Answer.".into(),
            },
        ]),
        Message::user_text("And now?"),
    ];
    let mut out = serde_json::Map::new();
    for (name, m, thinking) in [
        ("tokens_2048", sonnet(), ThinkingBudget::Tokens(2048)),
        (
            "adaptive_on_opus_4_6",
            model("us.anthropic.claude-opus-4-6-v1", true, true),
            ThinkingBudget::Adaptive,
        ),
        ("adaptive_on_sonnet_4_5", sonnet(), ThinkingBudget::Adaptive),
    ] {
        let mut req = StreamRequest::new(m, history.clone());
        req.thinking = Some(thinking);
        // Overridden by `thinking`.
        req.reasoning = openclaw_stream::ReasoningLevel::High;
        req.temperature = Some(0.3);
        req.max_tokens = Some(4000);
        req.cache_retention = CacheRetention::None;
        let events = h.run(req).await;
        assert_done(&events);
        let body = h.last_body();
        let mut picked = pick(&body, &["inferenceConfig", "additionalModelRequestFields"]);
        if name == "tokens_2048" {
            picked["replayed_assistant"] = body["messages"][1].clone();
        }
        out.insert(name.into(), picked);
    }
    assert_json_snapshot!("explicit_thinking_request", out);
}

#[tokio::test]
async fn sampling_betas_and_additional_fields() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(3));
    let mut out = serde_json::Map::new();
    for (name, m) in [
        ("claude", sonnet()),
        ("non_claude", model(LLAMA, false, false)),
    ] {
        let mut req = StreamRequest::new(m, vec![Message::user_text("Hi")]);
        req.top_p = Some(0.75);
        req.top_k = Some(40);
        req.anthropic_beta = vec!["context-1m-2025-08-07".into()];
        req.additional_fields
            .insert("custom_flag".into(), json!({"on": true}));
        req.cache_retention = CacheRetention::None;
        let events = h.run(req).await;
        assert_done(&events);
        out.insert(
            name.into(),
            pick(
                &h.last_body(),
                &["inferenceConfig", "additionalModelRequestFields"],
            ),
        );
    }
    assert_json_snapshot!("sampling_and_fields_request", out);

    // A field the adapter sets, with the same value: fine.
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("Hi")]);
    req.thinking = Some(ThinkingBudget::Tokens(2048));
    req.additional_fields.insert(
        "thinking".into(),
        json!({"type": "enabled", "budget_tokens": 2048}),
    );
    assert_done(&h.run(req.clone()).await);

    // With another value: a validation error naming the key, and nothing sent.
    let sent = h.bodies().len();
    req.additional_fields.insert(
        "thinking".into(),
        json!({"type": "enabled", "budget_tokens": 9999}),
    );
    let events = h.run(req).await;
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_json_snapshot!("additional_field_conflict_events", events);
    assert!(matches!(
        terminal(&events),
        StreamEvent::Error { info, .. } if info.kind == ErrorKind::Validation
    ));
    assert_eq!(h.bodies().len(), sent);
}

#[tokio::test]
async fn stop_sequences_request_the_matched_sequence_from_claude_only() {
    let h = harness().await;
    h.fake
        .script(Turn::text("one two").stop_reason("stop_sequence").times(2));
    let mut out = serde_json::Map::new();
    for (name, m) in [
        ("claude", sonnet()),
        ("non_claude", model(LLAMA, false, false)),
    ] {
        let mut req = StreamRequest::new(m, vec![Message::user_text("Count")]);
        req.stop_sequences = vec!["three".into()];
        req.cache_retention = CacheRetention::None;
        let message = assert_done(&h.run(req).await);
        // fake-bedrock sends no additionalModelResponseFields: the stop reason is known, the
        // sequence is not.
        assert_eq!(message.stop_reason, Some(openclaw_stream::StopReason::Stop));
        assert_eq!(message.stop_sequence, None);
        out.insert(
            name.into(),
            pick(
                &h.last_body(),
                &["inferenceConfig", "additionalModelResponseFieldPaths"],
            ),
        );
    }
    assert_json_snapshot!("stop_sequence_field_paths", out);
}

fn guardrail(identifier: &str, version: &str, trace: bool) -> openclaw_config::GuardrailConfig {
    openclaw_config::GuardrailConfig {
        identifier: identifier.into(),
        version: version.into(),
        trace: trace.then_some(openclaw_config::GuardrailTrace::Enabled),
        stream_processing_mode: Some(openclaw_config::GuardrailStreamMode::Sync),
    }
}

/// A guardrail from the model definition reaches Bedrock as `guardrailConfig`; fake-bedrock's
/// guardrail blocks its trigger word: the stream ends with `guardrail_intervened`, the
/// guardrail's message as partial text and its trace on the message. A request's guardrail
/// overrides the model's; an unknown one is Bedrock's ResourceNotFoundException.
#[tokio::test]
async fn guardrails_intervene_with_a_trace_and_unknown_ones_are_refused() {
    let h = harness().await;
    let mut model = sonnet();
    model.guardrail = Some(guardrail(fake_bedrock::GUARDRAIL_ID, "1", true));
    let prompt = format!("Tell me about the {}", fake_bedrock::GUARDRAIL_TRIGGER);
    let events = h
        .run(StreamRequest::new(
            model.clone(),
            vec![Message::user_text(&prompt)],
        ))
        .await;
    assert_eq!(
        h.last_body()["guardrailConfig"],
        json!({"guardrailIdentifier": fake_bedrock::GUARDRAIL_ID, "guardrailVersion": "1",
               "trace": "enabled", "streamProcessingMode": "sync"})
    );
    let StreamEvent::Error { info, partial, .. } = terminal(&events) else {
        panic!("expected an intervention: {events:#?}");
    };
    assert_eq!(info.code.as_deref(), Some("guardrail_intervened"));
    let partial = partial.as_ref().expect("the blocked message");
    assert_eq!(partial.text(), fake_bedrock::GUARDRAIL_BLOCKED_MESSAGE);
    assert_json_snapshot!("guardrail_trace", partial.guardrail_trace);

    // Not triggered: a normal answer (the trace says only the latency).
    let events = h
        .run(StreamRequest::new(
            model.clone(),
            vec![Message::user_text("Hello")],
        ))
        .await;
    let message = assert_done(&events);
    assert!(message.guardrail_trace.is_some());

    // The request's guardrail wins; an unknown version is refused by Bedrock.
    let mut req = StreamRequest::new(model, vec![Message::user_text("Hello")]);
    req.guardrail = Some(guardrail(fake_bedrock::GUARDRAIL_ID, "9", false));
    let events = h.run(req).await;
    let StreamEvent::Error { info, .. } = terminal(&events) else {
        panic!("expected a refusal: {events:#?}");
    };
    assert_eq!(info.kind, ErrorKind::NotFound);
    assert_eq!(info.code.as_deref(), Some("ResourceNotFoundException"));
    assert_eq!(h.last_body()["guardrailConfig"]["guardrailVersion"], "9");
}

/// Configured and requested `additionalModelRequestFields` and response field paths reach
/// Bedrock merged; the fields Bedrock returns land on the message.
#[tokio::test]
async fn configured_and_requested_pass_through_fields() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").response_fields(
        json!({"stop_sequence": null, "usage_detail": {"tier": "standard"}, "other": 1}),
    ));
    let mut model = sonnet();
    model.additional_model_request_fields = Some(
        json!({"custom_flag": true, "shared": "model"})
            .as_object()
            .cloned()
            .unwrap_or_default(),
    );
    model.additional_model_response_field_paths = vec!["/usage_detail".into()];
    let mut req = StreamRequest::new(model, vec![Message::user_text("Hi")]);
    req.additional_fields
        .insert("shared".into(), json!("request"));
    req.additional_response_field_paths = vec!["/usage_detail/tier".into()];
    let events = h.run(req).await;
    let message = assert_done(&events);
    let body = h.last_body();
    assert_eq!(
        body["additionalModelRequestFields"],
        json!({"custom_flag": true, "shared": "request"})
    );
    assert_eq!(
        body["additionalModelResponseFieldPaths"],
        json!(["/usage_detail", "/usage_detail/tier"])
    );
    assert_eq!(
        message.response_fields,
        Some(json!({"usage_detail": {"tier": "standard"}}))
    );
}

/// Parameters the model refuses (fake-bedrock refuses them as Anthropic does) are not sent:
/// temperature with top_p on Sonnet 4.5 (temperature kept), temperature, top_k and a low
/// top_p with thinking.
#[tokio::test]
async fn parameters_the_model_refuses_are_not_sent() {
    let h = harness().await;
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("Hi")]);
    req.temperature = Some(0.3);
    req.top_p = Some(0.8);
    assert_done(&h.run(req.clone()).await);
    let body = h.last_body();
    assert_eq!(body["inferenceConfig"]["temperature"], json!(0.3f32));
    assert!(body["inferenceConfig"].get("topP").is_none(), "{body}");

    req.reasoning = openclaw_stream::ReasoningLevel::Low;
    req.top_k = Some(20);
    assert_done(&h.run(req).await);
    let body = h.last_body();
    assert!(
        body["inferenceConfig"].get("temperature").is_none(),
        "{body}"
    );
    assert!(body["inferenceConfig"].get("topP").is_none(), "{body}");
    assert!(
        body["additionalModelRequestFields"].get("top_k").is_none(),
        "{body}"
    );
    assert_eq!(
        body["additionalModelRequestFields"]["thinking"]["type"],
        "enabled"
    );

    // The same on Claude Sonnet 4, which takes temperature and top_p together.
    let mut req = StreamRequest::new(
        model("us.anthropic.claude-sonnet-4-20250514-v1:0", false, true),
        vec![Message::user_text("Hi")],
    );
    req.temperature = Some(0.3);
    req.top_p = Some(0.8);
    assert_done(&h.run(req).await);
    assert!(h.last_body()["inferenceConfig"].get("topP").is_some());
}

/// Automatic caching puts a point after tool definitions that reach the model's minimum
/// (1024 tokens on Sonnet 4.5, estimated as bytes / 4), and Bedrock accepts it; short tool
/// definitions get none.
#[tokio::test]
async fn automatic_cache_point_after_long_tool_definitions() {
    let h = harness().await;
    let mut tool = weather_tool();
    tool.description = "Current weather for a city, with details. ".repeat(120);
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("Weather in Oslo?")]);
    req.tools = vec![tool];
    assert_done(&h.run(req.clone()).await);
    let tools = h.last_body()["toolConfig"]["tools"].clone();
    assert_eq!(tools.as_array().map(Vec::len), Some(2), "{tools}");
    assert_eq!(tools[1], json!({"cachePoint": {"type": "default"}}));

    req.tools = vec![weather_tool()];
    assert_done(&h.run(req).await);
    let tools = h.last_body()["toolConfig"]["tools"].clone();
    assert_eq!(tools.as_array().map(Vec::len), Some(1), "{tools}");
}
