//! The OpenAI <-> ModelStream mapping, driven by an in-memory `ModelStream`.

use futures::StreamExt;
use openclaw_config::ModelDefinition;
use openclaw_stream::{
    AssistantContent, AssistantMessage, Content, ErrorReason, EventStream, Message, ModelStream,
    ReasoningLevel, StopReason, StreamEvent, StreamOptions, StreamRequest, ToolCall, ToolChoice,
    Usage,
};
use serde_json::{Value, json};

use super::*;

const LIMITS: ConvertLimits = ConvertLimits {
    max_image_bytes: 1024,
};

fn model() -> ModelDefinition {
    let mut m = ModelDefinition::new("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Sonnet");
    m.reasoning = true;
    m
}

fn parse(body: Value) -> ChatRequest {
    serde_json::from_value(body).unwrap()
}

fn convert(body: Value) -> Result<StreamRequest, ApiError> {
    to_stream_request(&parse(body), model(), LIMITS)
}

/// A `ModelStream` that replays fixed events and records the request it got.
struct Scripted {
    events: Vec<StreamEvent>,
    seen: std::sync::Mutex<Vec<StreamRequest>>,
}

impl ModelStream for Scripted {
    fn stream(&self, request: StreamRequest, _: StreamOptions) -> EventStream {
        self.seen.lock().unwrap().push(request);
        Box::pin(futures::stream::iter(self.events.clone()))
    }
}

fn done(message: AssistantMessage, stop: StopReason) -> StreamEvent {
    let usage = Usage {
        input: 10,
        output: 5,
        cache_read: 3,
        cache_write: 2,
        total_tokens: 20,
        ..Usage::default()
    };
    StreamEvent::Done {
        stop_reason: stop,
        message: Box::new(message),
        usage,
    }
}

fn tool_turn() -> Vec<StreamEvent> {
    let call = ToolCall {
        id: "tooluse_1".into(),
        name: "get_weather".into(),
        arguments: json!({"city": "Paris"}),
        invalid_arguments: None,
    };
    let mut message = AssistantMessage::new("bedrock-converse-stream", "amazon-bedrock", "m");
    message.content = vec![
        AssistantContent::Thinking {
            thinking: "Hmm.".into(),
            signature: Some("sig==".into()),
            redacted: None,
        },
        AssistantContent::Text {
            text: "Calling.".into(),
        },
        AssistantContent::ToolCall(call.clone()),
    ];
    vec![
        StreamEvent::Start { model: "m".into() },
        StreamEvent::ThinkingStart { index: 0 },
        StreamEvent::ThinkingDelta {
            index: 0,
            delta: "Hmm.".into(),
        },
        StreamEvent::ThinkingEnd {
            index: 0,
            thinking: "Hmm.".into(),
            signature: Some("sig==".into()),
            redacted: None,
        },
        StreamEvent::TextStart { index: 1 },
        StreamEvent::TextDelta {
            index: 1,
            delta: "Calling.".into(),
        },
        StreamEvent::TextEnd {
            index: 1,
            text: "Calling.".into(),
        },
        StreamEvent::ToolCallStart {
            index: 2,
            id: "tooluse_1".into(),
            name: "get_weather".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 2,
            delta: "{\"city\":".into(),
            partial_arguments: json!({}),
        },
        StreamEvent::ToolCallDelta {
            index: 2,
            delta: "\"Paris\"}".into(),
            partial_arguments: json!({"city": "Paris"}),
        },
        StreamEvent::ToolCallEnd { index: 2, call },
        done(message, StopReason::ToolUse),
    ]
}

async fn chunks(events: Vec<StreamEvent>, include_usage: bool) -> Vec<SseItem> {
    let fake = Scripted {
        events,
        seen: Default::default(),
    };
    let request =
        convert(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})).unwrap();
    let mut stream = fake.stream(request, StreamOptions::default());
    let mut mapper = ChunkMapper::new(
        "chatcmpl-1".into(),
        7,
        "amazon-bedrock/m".into(),
        include_usage,
    );
    let mut out = Vec::new();
    while let Some(event) = stream.next().await {
        out.extend(mapper.map(&event));
    }
    assert_eq!(fake.seen.lock().unwrap().len(), 1);
    out
}

fn deltas(items: &[SseItem]) -> Vec<Value> {
    items
        .iter()
        .filter_map(|i| match i {
            SseItem::Data(v) => Some(v.clone()),
            SseItem::Done => None,
        })
        .map(|v| {
            v["choices"]
                .get(0)
                .map(|c| json!({"delta": c["delta"], "finish_reason": c["finish_reason"]}))
                .unwrap_or_else(|| json!({"usage": v["usage"]}))
        })
        .collect()
}

#[tokio::test]
async fn tool_turn_streams_role_reasoning_text_tool_calls_finish_usage_done() {
    let items = chunks(tool_turn(), true).await;
    assert_eq!(items.last(), Some(&SseItem::Done));
    assert_eq!(
        deltas(&items),
        vec![
            json!({"delta": {"role": "assistant", "content": ""}, "finish_reason": null}),
            json!({"delta": {"reasoning_content": "Hmm."}, "finish_reason": null}),
            json!({"delta": {"reasoning_signature": "sig=="}, "finish_reason": null}),
            json!({"delta": {"content": "Calling."}, "finish_reason": null}),
            json!({"delta": {"tool_calls": [{"index": 0, "id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": ""}}]}, "finish_reason": null}),
            json!({"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}, "finish_reason": null}),
            json!({"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}, "finish_reason": null}),
            json!({"delta": {}, "finish_reason": "tool_calls"}),
            json!({"usage": {"prompt_tokens": 15, "completion_tokens": 5, "total_tokens": 20, "prompt_tokens_details": {"cached_tokens": 3, "cache_write_tokens": 2}}}),
        ]
    );
    let SseItem::Data(first) = &items[0] else {
        panic!("expected data")
    };
    assert_eq!(first["object"], "chat.completion.chunk");
    assert_eq!(first["id"], "chatcmpl-1");
    assert_eq!(first["model"], "amazon-bedrock/m");
}

#[tokio::test]
async fn second_tool_call_gets_index_one_and_no_usage_chunk_unless_asked() {
    let mut events = tool_turn();
    let done_event = events.pop().unwrap();
    events.push(StreamEvent::ToolCallStart {
        index: 3,
        id: "tooluse_2".into(),
        name: "b".into(),
    });
    events.push(done_event);
    let items = chunks(events, false).await;
    let d = deltas(&items);
    assert_eq!(d[d.len() - 2]["delta"]["tool_calls"][0]["index"], 1);
    assert!(d.iter().all(|c| c.get("usage").is_none()));
}

#[tokio::test]
async fn error_mid_stream_becomes_error_event_without_done() {
    let events = vec![
        StreamEvent::Start { model: "m".into() },
        StreamEvent::TextDelta {
            index: 0,
            delta: "Hel".into(),
        },
        StreamEvent::Error {
            reason: ErrorReason::Error,
            message: "bedrock model stream error: boom".into(),
            info: openclaw_stream::ErrorInfo::new(openclaw_stream::ErrorKind::Upstream)
                .with_code("ModelStreamErrorException"),
            partial: None,
        },
    ];
    let items = chunks(events, true).await;
    assert!(!items.contains(&SseItem::Done));
    let SseItem::Data(last) = items.last().unwrap() else {
        panic!("expected data")
    };
    assert_eq!(last["error"]["code"], "upstream_error");
    assert!(last["error"]["message"].as_str().unwrap().contains("boom"));
}

#[test]
fn writes_exact_sse_bytes_with_escaped_id_model_and_text() {
    let mut mapper = ChunkMapper::new("chatcmpl-\"1".into(), 7, "a/m\\n".into(), true);
    let mut out = Vec::new();
    mapper.write(
        &StreamEvent::TextDelta {
            index: 0,
            delta: "Hi \"there\"\n".into(),
        },
        &mut out,
    );
    mapper.write(
        &StreamEvent::ThinkingDelta {
            index: 1,
            delta: "é".into(),
        },
        &mut out,
    );
    mapper.write(
        &done(AssistantMessage::new("a", "b", "m"), StopReason::Stop),
        &mut out,
    );
    let head =
        r#"{"id":"chatcmpl-\"1","object":"chat.completion.chunk","created":7,"model":"a/m\\n""#;
    let expected = [
        format!(
            r#"data: {head},"choices":[{{"index":0,"delta":{{"role":"assistant","content":""}},"finish_reason":null}}]}}"#
        ),
        format!(
            r#"data: {head},"choices":[{{"index":0,"delta":{{"content":"Hi \"there\"\n"}},"finish_reason":null}}]}}"#
        ),
        format!(
            r#"data: {head},"choices":[{{"index":0,"delta":{{"reasoning_content":"é"}},"finish_reason":null}}]}}"#
        ),
        format!(r#"data: {head},"choices":[{{"index":0,"delta":{{}},"finish_reason":"stop"}}]}}"#),
        format!(
            r#"data: {head},"choices":[],"usage":{{"prompt_tokens":15,"completion_tokens":5,"total_tokens":20,"prompt_tokens_details":{{"cached_tokens":3,"cache_write_tokens":2}}}}}}"#
        ),
        "data: [DONE]".to_owned(),
    ];
    let mut text = expected.join("\n\n");
    text.push_str("\n\n");
    assert_eq!(String::from_utf8(out).unwrap(), text);
}

#[test]
fn finish_reasons() {
    assert_eq!(finish_reason(StopReason::Stop), "stop");
    assert_eq!(finish_reason(StopReason::Length), "length");
    assert_eq!(finish_reason(StopReason::ToolUse), "tool_calls");
}

#[test]
fn non_streaming_completion_carries_reasoning_signature_and_tool_calls() {
    let StreamEvent::Done {
        message,
        usage,
        stop_reason,
    } = tool_turn().pop().unwrap()
    else {
        panic!("expected done")
    };
    let body = completion(
        "id1",
        9,
        "amazon-bedrock/m",
        &message,
        stop_reason,
        &usage,
        None,
    );
    assert_eq!(body["object"], "chat.completion");
    let msg = &body["choices"][0]["message"];
    assert_eq!(msg["content"], "Calling.");
    assert_eq!(msg["reasoning_content"], "Hmm.");
    assert_eq!(msg["reasoning_signature"], "sig==");
    assert_eq!(
        msg["tool_calls"][0]["function"]["arguments"],
        "{\"city\":\"Paris\"}"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
}

#[test]
fn request_maps_system_tools_choice_sampling_and_reasoning() {
    let r = convert(json!({
        "model": "m",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric."}]},
            {"role": "user", "content": "Weather?"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "w", "parameters": {"type": "object"}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "temperature": 0.5,
        "max_tokens": 100,
        "max_completion_tokens": 200,
        "stop": "END",
        "reasoning_effort": "high",
        "user": "ignored",
    }))
    .unwrap();
    assert_eq!(r.system.as_deref(), Some("Be brief.\n\nUse metric."));
    assert_eq!(r.tools.len(), 1);
    assert_eq!(r.tools[0].name, "get_weather");
    assert_eq!(r.tool_choice, ToolChoice::Tool("get_weather".into()));
    assert_eq!(r.temperature, Some(0.5));
    assert_eq!(r.max_tokens, Some(200));
    assert_eq!(r.stop_sequences, vec!["END".to_string()]);
    assert_eq!(r.reasoning, ReasoningLevel::High);
    assert_eq!(r.messages, vec![Message::user_text("Weather?")]);
}

#[test]
fn tool_choice_strings() {
    for (wire, choice) in [
        ("auto", ToolChoice::Auto),
        ("none", ToolChoice::None),
        ("required", ToolChoice::Any),
    ] {
        let r = convert(json!({"model": "m", "tool_choice": wire, "messages": [{"role": "user", "content": "x"}]}))
            .unwrap();
        assert_eq!(r.tool_choice, choice);
    }
    let err = convert(json!({"model": "m", "tool_choice": "sometimes", "messages": [{"role": "user", "content": "x"}]}))
        .unwrap_err();
    assert_eq!(err.param.as_deref(), Some("tool_choice"));
}

#[test]
fn assistant_round_trip_keeps_signature_and_tool_results_get_names() {
    let r = convert(json!({
        "model": "m",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "reasoning_content": "Hmm.", "reasoning_signature": "sig==",
             "tool_calls": [{"id": "tooluse_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "tooluse_1", "content": "18C"},
        ],
    }))
    .unwrap();
    let Message::Assistant(a) = &r.messages[1] else {
        panic!("expected assistant")
    };
    assert_eq!(
        a.content,
        vec![
            AssistantContent::Thinking {
                thinking: "Hmm.".into(),
                signature: Some("sig==".into()),
                redacted: None
            },
            AssistantContent::ToolCall(ToolCall {
                id: "tooluse_1".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris"}),
                invalid_arguments: None,
            }),
        ]
    );
    assert_eq!(
        a.model,
        model().id,
        "replayed to the requested model's family"
    );
    let Message::ToolResult(t) = &r.messages[2] else {
        panic!("expected tool result")
    };
    assert_eq!(t.tool_name, "get_weather");
    assert_eq!(t.content, vec![Content::Text { text: "18C".into() }]);
}

#[test]
fn images_from_data_urls_only() {
    let r = convert(json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
    ]}]}))
    .unwrap();
    let Message::User(u) = &r.messages[0] else {
        panic!("expected user")
    };
    assert_eq!(
        u.content[1],
        Content::Image {
            mime_type: "image/png".into(),
            data: vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a],
        }
    );

    let remote = convert(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        ]}]}),
    )
    .unwrap_err();
    assert_eq!(remote.status.as_u16(), 400);
    assert!(
        remote
            .message
            .contains("remote image URLs (https:) are not supported")
    );
    assert_eq!(
        remote.param.as_deref(),
        Some("messages[0].content[0].image_url.url")
    );

    let big = format!("data:image/png;base64,{}", "A".repeat(4000));
    let err = convert(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": big}},
        ]}]}),
    )
    .unwrap_err();
    assert_eq!(err.status.as_u16(), 413);

    let tiff = convert(
        json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "data:image/tiff;base64,AAAA"}},
        ]}]}),
    )
    .unwrap_err();
    assert!(tiff.message.contains("unsupported image type `image/tiff`"));
}

#[test]
fn invalid_requests_name_the_field() {
    let err =
        convert(json!({"model": "m", "n": 2, "messages": [{"role": "user", "content": "x"}]}))
            .unwrap_err();
    assert_eq!(err.param.as_deref(), Some("n"));
    let err = convert(json!({"model": "m", "messages": []})).unwrap_err();
    assert_eq!(err.param.as_deref(), Some("messages"));
    let err = convert(json!({"model": "m", "reasoning_effort": "max", "messages": [{"role": "user", "content": "x"}]}))
        .unwrap_err();
    assert!(err.message.contains("unknown reasoning_effort `max`"));
    let err = convert(
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}),
    )
    .unwrap_err();
    assert_eq!(err.param.as_deref(), Some("messages[0].content[0].type"));
}

#[test]
fn unimplemented_fields_are_mapped_or_refused_by_name() {
    // No-op values pass.
    let ok = convert(json!({
        "model": "m", "messages": [{"role": "user", "content": "hi"}],
        "user": "u1", "metadata": {"a": "b"}, "store": false, "logprobs": false,
        "parallel_tool_calls": true, "presence_penalty": 0, "frequency_penalty": 0.0,
        "logit_bias": {}, "service_tier": "auto", "modalities": ["text"], "seed": null,
        "top_p": 0.9, "top_k": 40,
    }))
    .unwrap();
    assert_eq!((ok.top_p, ok.top_k), (Some(0.9), Some(40)));
    for (field, value) in [
        ("seed", json!(7)),
        ("logprobs", json!(true)),
        ("top_logprobs", json!(2)),
        ("presence_penalty", json!(0.5)),
        ("frequency_penalty", json!(-1)),
        ("logit_bias", json!({"50256": -100})),
        ("store", json!(true)),
        ("parallel_tool_calls", json!(false)),
        ("service_tier", json!("flex")),
        ("modalities", json!(["text", "audio"])),
        ("audio", json!({"voice": "alloy"})),
        ("prediction", json!({"type": "content", "content": "x"})),
        ("web_search_options", json!({})),
        ("functions", json!([])),
        ("frobnicate", json!(1)),
    ] {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        body[field] = value;
        let err = convert(body).unwrap_err();
        let body = err.body();
        assert_eq!(body["error"]["param"], field, "{field}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(field),
            "{body}"
        );
    }
}

#[test]
fn extensions_reach_the_stream_request() {
    let req = convert(json!({
        "model": "m", "messages": [{"role": "user", "content": "hi"}],
        "guardrail": {"identifier": "gr1", "version": "DRAFT", "trace": "enabled"},
        "additional_model_request_fields": {"x": 1},
        "additional_model_response_field_paths": ["/x"],
    }))
    .unwrap();
    let g = req.guardrail.unwrap();
    assert_eq!(
        (g.identifier.as_str(), g.version.as_str()),
        ("gr1", "DRAFT")
    );
    assert_eq!(req.additional_fields["x"], 1);
    assert_eq!(req.additional_response_field_paths, ["/x"]);
}

#[test]
fn response_format_is_a_forced_tool() {
    let schema =
        json!({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]});
    let req = convert(json!({
        "model": "m", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "Count", "schema": schema, "strict": true}},
    }))
    .unwrap();
    assert_eq!(req.tools.len(), 1);
    assert_eq!(req.tools[0].name, "Count");
    assert_eq!(req.tools[0].parameters, schema);
    assert_eq!(req.tool_choice, ToolChoice::Tool("Count".into()));

    let req = convert(json!({
        "model": "m", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_object"},
        "tools": [{"type": "function", "function": {"name": "get_weather"}}],
    }))
    .unwrap();
    assert_eq!(req.tools.len(), 2);
    assert_eq!(req.tool_choice, ToolChoice::Any);

    let req = convert(
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "text"}}),
    )
    .unwrap();
    assert!(req.tools.is_empty());
    for (format, param) in [
        (json!({"type": "xml"}), "response_format.type"),
        (
            json!({"type": "json_schema"}),
            "response_format.json_schema",
        ),
        (
            json!({"type": "json_schema", "json_schema": {"name": "a b"}}),
            "response_format.json_schema.name",
        ),
    ] {
        let err = convert(
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
            "response_format": format}),
        )
        .unwrap_err();
        assert_eq!(err.body()["error"]["param"], param);
    }
}

fn answer_turn() -> Vec<StreamEvent> {
    let call = ToolCall {
        id: "tooluse_9".into(),
        name: "Count".into(),
        arguments: json!({"n": 3}),
        invalid_arguments: None,
    };
    let mut message = AssistantMessage::new("bedrock-converse-stream", "amazon-bedrock", "m");
    message.content = vec![AssistantContent::ToolCall(call.clone())];
    message.response_fields = Some(json!({"x": 1}));
    vec![
        StreamEvent::Start { model: "m".into() },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "tooluse_9".into(),
            name: "Count".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            delta: "{\"n\":".into(),
            partial_arguments: json!({}),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            delta: " 3}".into(),
            partial_arguments: json!({"n": 3}),
        },
        StreamEvent::ToolCallEnd { index: 0, call },
        done(message, StopReason::ToolUse),
    ]
}

#[test]
fn the_answer_tool_streams_as_content_and_finishes_with_stop() {
    let mut mapper =
        ChunkMapper::new("c".into(), 1, "m".into(), false).with_response_tool(Some("Count".into()));
    let items: Vec<SseItem> = answer_turn().iter().flat_map(|e| mapper.map(e)).collect();
    let content: String = deltas(&items)
        .iter()
        .filter_map(|d| d["delta"].get("content").and_then(Value::as_str))
        .collect();
    assert_eq!(content, "{\"n\": 3}");
    assert!(
        deltas(&items)
            .iter()
            .all(|d| d["delta"].get("tool_calls").is_none())
    );
    let SseItem::Data(last) = &items[items.len() - 2] else {
        panic!("{items:?}")
    };
    assert_eq!(last["choices"][0]["finish_reason"], "stop");
    assert_eq!(last["additional_model_response_fields"], json!({"x": 1}));
    assert_eq!(items.last(), Some(&SseItem::Done));

    let StreamEvent::Done { message, usage, .. } = answer_turn().pop().unwrap() else {
        panic!()
    };
    let body = completion(
        "c",
        1,
        "m",
        &message,
        StopReason::ToolUse,
        &usage,
        Some("Count"),
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["choices"][0]["message"]["content"], "{\"n\":3}");
    assert!(body["choices"][0]["message"].get("tool_calls").is_none());
}

#[test]
fn guardrail_interventions_finish_with_content_filter_and_the_trace() {
    let mut partial = AssistantMessage::new("bedrock-converse-stream", "amazon-bedrock", "m");
    partial.content = vec![AssistantContent::Text {
        text: "Sorry.".into(),
    }];
    partial.guardrail_trace = Some(json!({"actionReason": "Guardrail blocked."}));
    let info = openclaw_stream::ErrorInfo::new(openclaw_stream::ErrorKind::Upstream)
        .with_code("guardrail_intervened");
    assert!(is_content_filter(&info));
    let error = StreamEvent::Error {
        reason: ErrorReason::Error,
        message: "a guardrail intervened".into(),
        info,
        partial: Some(Box::new(partial.clone())),
    };
    let mut mapper = ChunkMapper::new("c".into(), 1, "m".into(), true);
    let mut items = mapper.map(&StreamEvent::TextDelta {
        index: 0,
        delta: "Sorry.".into(),
    });
    items.extend(mapper.map(&error));
    let SseItem::Data(finish) = &items[2] else {
        panic!("{items:?}")
    };
    assert_eq!(finish["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        finish["guardrail_trace"]["actionReason"],
        "Guardrail blocked."
    );
    assert!(matches!(&items[3], SseItem::Data(u) if u.get("usage").is_some()));
    assert_eq!(items.last(), Some(&SseItem::Done));

    let body = content_filter_completion("c", 1, "m", Some(&partial), None);
    assert_eq!(body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(body["choices"][0]["message"]["content"], "Sorry.");
    assert_eq!(
        body["guardrail_trace"]["actionReason"],
        "Guardrail blocked."
    );
}
