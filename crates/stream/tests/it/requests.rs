//! The Converse request JSON the fake received, snapshotted.

use fake_bedrock::Turn;
use insta::assert_json_snapshot;
use openclaw_stream::converse::{API, PROVIDER};
use openclaw_stream::{
    AssistantContent, AssistantMessage, CacheRetention, Content, Message, ReasoningLevel,
    StreamRequest, ToolCall, ToolChoice, ToolDefinition, ToolResultMessage, UserMessage,
};
use serde_json::{Value, json};

use crate::support::*;

const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG: &[u8] = &[0xff, 0xd8, 0xff, 0xe0];

fn weather_tool() -> ToolDefinition {
    ToolDefinition {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        parameters: json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    }
}

fn assistant(model: &str, content: Vec<AssistantContent>) -> Message {
    let mut m = AssistantMessage::new(API, PROVIDER, model);
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

fn result(id: &str, text: &str) -> Message {
    Message::ToolResult(ToolResultMessage {
        tool_call_id: id.into(),
        tool_name: "get_weather".into(),
        content: vec![Content::Text { text: text.into() }],
        is_error: false,
    })
}

/// The request minus what other snapshots cover.
fn pick(body: &Value, keys: &[&str]) -> Value {
    Value::Object(
        keys.iter()
            .filter_map(|k| body.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect(),
    )
}

#[tokio::test]
async fn plain_text_request() {
    let h = harness().await;
    h.fake.script(Turn::text("Hello!"));
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("Say hello")]);
    req.system = Some("You are terse.".into());
    req.temperature = Some(0.5);
    req.max_tokens = Some(1000);
    req.stop_sequences = vec!["END".into()];
    h.run(req).await;
    let requests = h.fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].path,
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream"
    );
    assert_json_snapshot!("plain_text_request", h.last_body());
}

#[tokio::test]
async fn multi_turn_with_tools_merged_results_orphans_and_ids() {
    let h = harness().await;
    h.fake.script(Turn::text("Bye!"));
    let long_id = format!("toolu_{}", "x".repeat(80));
    let me = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let messages = vec![
        Message::user_text("Weather in Paris and London?"),
        assistant(
            me,
            vec![
                AssistantContent::Text {
                    text: "Checking both.".into(),
                },
                AssistantContent::Text {
                    text: "  \n".into(),
                },
                call("call|paris.1", "Paris"),
                call(&long_id, "London"),
            ],
        ),
        result("call|paris.1", "18°C"),
        result(&long_id, "12°C"),
        assistant(
            me,
            vec![AssistantContent::Text {
                text: "Paris 18°C, London 12°C.".into(),
            }],
        ),
        Message::user_text("Now Rome."),
        assistant(me, vec![call("call_rome", "Rome")]),
        Message::user_text("Never mind, say bye."),
        Message::User(UserMessage {
            content: vec![Content::Text { text: "   ".into() }],
        }),
    ];
    let mut req = StreamRequest::new(sonnet(), messages);
    req.tools = vec![weather_tool()];
    req.cache_retention = CacheRetention::None;
    h.run(req).await;
    assert_json_snapshot!("multi_turn_tools_request", h.last_body());
}

#[tokio::test]
async fn failed_assistant_turns_are_not_replayed_and_roles_alternate() {
    let h = harness().await;
    let me = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let mut failed = AssistantMessage::new(API, PROVIDER, me);
    failed.content = vec![AssistantContent::Text {
        text: "half an ans".into(),
    }];
    failed.error = Some(openclaw_stream::MessageError {
        reason: openclaw_stream::ErrorReason::Aborted,
        message: "request was aborted".into(),
        info: openclaw_stream::ErrorInfo::new(openclaw_stream::ErrorKind::Aborted),
    });
    let req = StreamRequest::new(
        sonnet(),
        vec![
            Message::user_text("First"),
            Message::Assistant(failed),
            Message::user_text("Second"),
        ],
    );
    h.run(StreamRequest {
        cache_retention: CacheRetention::None,
        ..req
    })
    .await;
    assert_eq!(
        h.last_body()["messages"],
        json!([{"role": "user", "content": [{"text": "First"}, {"text": "Second"}]}])
    );
}

#[tokio::test]
async fn tool_choice_variants() {
    let h = harness().await;
    let mut out = serde_json::Map::new();
    let history = vec![
        Message::user_text("Weather?"),
        assistant(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            vec![call("c1", "Paris")],
        ),
        result("c1", "18°C"),
    ];
    for (name, choice, messages) in [
        (
            "auto",
            ToolChoice::Auto,
            vec![Message::user_text("Weather?")],
        ),
        ("any", ToolChoice::Any, vec![Message::user_text("Weather?")]),
        (
            "tool",
            ToolChoice::Tool("get_weather".into()),
            vec![Message::user_text("Weather?")],
        ),
        (
            "none_without_tool_history",
            ToolChoice::None,
            vec![Message::user_text("Weather?")],
        ),
        ("none_with_tool_history", ToolChoice::None, history),
    ] {
        h.fake.script(Turn::text("ok"));
        let mut req = StreamRequest::new(sonnet(), messages);
        req.tools = vec![weather_tool()];
        req.tool_choice = choice;
        // `none` sends no tools (Converse has no "none", and tools without a choice let the
        // model call them): a tool history goes as text, which Bedrock accepts.
        assert_accepted(&h.run(req).await);
        out.insert(
            name.into(),
            h.last_body()
                .get("toolConfig")
                .cloned()
                .unwrap_or(Value::Null),
        );
    }
    assert_json_snapshot!("tool_choice_variants", out);
}

fn image_conversation() -> Vec<Message> {
    vec![
        Message::User(UserMessage {
            content: vec![
                Content::Text {
                    text: "What is in these?".into(),
                },
                Content::Image {
                    mime_type: "image/png".into(),
                    data: PNG.to_vec(),
                },
            ],
        }),
        assistant(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            vec![call("shot", "Paris")],
        ),
        Message::ToolResult(ToolResultMessage {
            tool_call_id: "shot".into(),
            tool_name: "get_weather".into(),
            content: vec![
                Content::Text {
                    text: "a webcam picture".into(),
                },
                Content::Image {
                    mime_type: "image/jpeg".into(),
                    data: JPEG.to_vec(),
                },
            ],
            is_error: false,
        }),
    ]
}

#[tokio::test]
async fn images_for_vision_and_text_only_models() {
    let h = harness().await;
    h.fake.script(Turn::text("A PNG.").times(2));
    let mut req = StreamRequest::new(sonnet(), image_conversation());
    req.tools = vec![weather_tool()];
    req.cache_retention = CacheRetention::None;
    h.run(req.clone()).await;
    assert_json_snapshot!("images_vision_request", pick(&h.last_body(), &["messages"]));

    req.model = model("us.meta.llama3-3-70b-instruct-v1:0", false, false);
    h.run(req).await;
    assert_json_snapshot!(
        "images_text_only_request",
        pick(&h.last_body(), &["messages"])
    );
}

fn thinking_reply_conversation(producer: &str, content: Vec<AssistantContent>) -> Vec<Message> {
    vec![
        Message::user_text("Think first."),
        assistant(producer, content),
        Message::user_text("And now?"),
    ]
}

#[tokio::test]
async fn thinking_fields_budget_and_adaptive() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(3));
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("Think.")]);
    req.reasoning = ReasoningLevel::High;
    req.temperature = Some(0.5);
    req.max_tokens = Some(4000);
    h.run(req.clone()).await;
    let budget = pick(
        &h.last_body(),
        &["inferenceConfig", "additionalModelRequestFields"],
    );

    req.model = model("us.anthropic.claude-opus-4-6-v1", true, true);
    req.reasoning = ReasoningLevel::XHigh;
    h.run(req.clone()).await;
    let adaptive = pick(
        &h.last_body(),
        &["inferenceConfig", "additionalModelRequestFields"],
    );

    req.model = model("us.meta.llama3-3-70b-instruct-v1:0", false, true);
    h.run(req).await;
    let other = pick(
        &h.last_body(),
        &["inferenceConfig", "additionalModelRequestFields"],
    );
    assert_json_snapshot!(
        "thinking_fields",
        json!({"budget_high": budget, "adaptive_xhigh": adaptive, "non_claude": other})
    );
}

#[tokio::test]
async fn thinking_replay_same_family_and_other_family() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(4));
    let thinking = vec![
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
        AssistantContent::Thinking {
            thinking: " ".into(),
            signature: None,
            redacted: None,
        },
        AssistantContent::Text {
            text: "Answer.".into(),
        },
    ];
    let producer = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let mut out = serde_json::Map::new();
    for (name, target) in [
        ("same_model", sonnet()),
        (
            "same_family_other_region",
            model(
                "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                true,
                true,
            ),
        ),
        (
            "other_claude",
            model("us.anthropic.claude-opus-4-1-20250805-v1:0", true, true),
        ),
        (
            "non_claude",
            model("us.meta.llama3-3-70b-instruct-v1:0", false, false),
        ),
    ] {
        let req = StreamRequest {
            cache_retention: CacheRetention::None,
            ..StreamRequest::new(
                target,
                thinking_reply_conversation(producer, thinking.clone()),
            )
        };
        h.run(req).await;
        out.insert(name.into(), h.last_body()["messages"][1].clone());
    }
    assert_json_snapshot!("thinking_replay", out);
}

#[tokio::test]
async fn prompt_caching_short_long_none_and_unsupported() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(7));
    // fake-bedrock's application profile over Claude Sonnet 4.5.
    let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";
    let mut app_with_base = model(app, false, false);
    app_with_base.base_model = Some("anthropic.claude-sonnet-4-5-20250929-v1:0".into());
    // Sonnet 4.5 caches segments of at least 1024 tokens (estimated as bytes / 4): this system
    // prompt is 1080, the user message alone is not.
    let system = "Long stable system prompt. ".repeat(160);
    let mut out = serde_json::Map::new();
    for (name, retention, m, system) in [
        ("short", CacheRetention::Short, sonnet(), system.as_str()),
        ("long", CacheRetention::Long, sonnet(), &system),
        ("none", CacheRetention::None, sonnet(), &system),
        (
            "unsupported_model",
            CacheRetention::Long,
            model("us.meta.llama3-3-70b-instruct-v1:0", false, false),
            &system,
        ),
        (
            "application_profile_without_base_model",
            CacheRetention::Long,
            model(app, false, false),
            &system,
        ),
        (
            "application_profile_with_base_model",
            CacheRetention::Long,
            app_with_base,
            &system,
        ),
        (
            "below_the_minimum",
            CacheRetention::Short,
            sonnet(),
            "Short system prompt.",
        ),
    ] {
        let mut req = StreamRequest::new(m, vec![Message::user_text("Hi")]);
        req.system = Some(system.to_owned());
        req.cache_retention = retention;
        let events = h.run(req).await;
        assert!(
            matches!(terminal(&events), openclaw_stream::StreamEvent::Done { .. }),
            "{name}: {:#?}",
            terminal(&events)
        );
        let mut body = pick(&h.last_body(), &["system", "messages"]);
        if let Some(text) = body.pointer_mut("/system/0/text")
            && text.as_str().is_some_and(|t| t.len() > 1000)
        {
            *text = json!(format!("<{} bytes>", text.as_str().map_or(0, str::len)));
        }
        out.insert(name.into(), body);
    }
    assert_json_snapshot!("prompt_caching", out);
}

/// The terminal event is `done`: the fake (validating like Bedrock) accepted the request.
fn assert_accepted(events: &[openclaw_stream::StreamEvent]) {
    assert!(
        matches!(terminal(events), openclaw_stream::StreamEvent::Done { .. }),
        "bedrock refused the request: {:#?}",
        terminal(events)
    );
}

#[tokio::test]
async fn empty_tool_results_get_a_placeholder() {
    let h = harness().await;
    h.fake.script(Turn::text("ok"));
    let me = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let empty = |id: &str, content: Vec<Content>, is_error: bool| {
        Message::ToolResult(ToolResultMessage {
            tool_call_id: id.into(),
            tool_name: "get_weather".into(),
            content,
            is_error,
        })
    };
    let mut req = StreamRequest::new(
        sonnet(),
        vec![
            Message::user_text("Weather?"),
            assistant(me, vec![call("c1", "Paris"), call("c2", "Rome")]),
            empty("c1", vec![], false),
            empty("c2", vec![Content::Text { text: " \n".into() }], true),
        ],
    );
    req.tools = vec![weather_tool()];
    req.cache_retention = CacheRetention::None;
    let events = h.run(req).await;
    assert_accepted(&events);
    assert_json_snapshot!(
        "empty_tool_results_request",
        h.last_body()["messages"][2].clone()
    );
}

#[tokio::test]
async fn tool_history_without_tools_becomes_text() {
    let h = harness().await;
    h.fake.script(Turn::text("ok"));
    let me = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let messages = vec![
        Message::user_text("Weather in Paris and Rome?"),
        assistant(
            me,
            vec![
                AssistantContent::Text {
                    text: "Checking.".into(),
                },
                call("c1", "Paris"),
                call("c2", "Rome"),
            ],
        ),
        result("c1", "18°C"),
        Message::ToolResult(ToolResultMessage {
            tool_call_id: "c2".into(),
            tool_name: "get_weather".into(),
            content: vec![
                Content::Text {
                    text: "service down".into(),
                },
                Content::Image {
                    mime_type: "image/png".into(),
                    data: PNG.to_vec(),
                },
            ],
            is_error: true,
        }),
        assistant(
            me,
            vec![AssistantContent::Text {
                text: "Paris is 18°C; Rome failed.".into(),
            }],
        ),
        Message::user_text("Summarise without tools."),
    ];
    let mut req = StreamRequest::new(sonnet(), messages);
    assert!(req.tools.is_empty());
    req.cache_retention = CacheRetention::None;
    let events = h.run(req).await;
    assert_accepted(&events);
    let body = h.last_body();
    assert!(body.get("toolConfig").is_none(), "{body:#}");
    assert_json_snapshot!(
        "tool_history_without_tools_request",
        body["messages"].clone()
    );
}

#[tokio::test]
async fn forced_tool_choice_with_thinking_falls_back_to_auto() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(3));
    let mut out = serde_json::Map::new();
    for (name, choice, reasoning) in [
        ("any_with_thinking", ToolChoice::Any, ReasoningLevel::Medium),
        (
            "named_with_thinking",
            ToolChoice::Tool("get_weather".into()),
            ReasoningLevel::Low,
        ),
        ("any_without_thinking", ToolChoice::Any, ReasoningLevel::Off),
    ] {
        let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("Weather?")]);
        req.tools = vec![weather_tool()];
        req.tool_choice = choice;
        req.reasoning = reasoning;
        let events = h.run(req).await;
        assert_accepted(&events);
        let body = h.last_body();
        out.insert(
            name.into(),
            json!({
                "toolChoice": body["toolConfig"]["toolChoice"],
                "thinking": body["additionalModelRequestFields"]["thinking"],
            }),
        );
    }
    assert_json_snapshot!("forced_tool_choice_with_thinking", out);
}

#[tokio::test]
async fn a_tool_without_a_description_is_sent_without_one() {
    // Clients often declare tools without a description; Bedrock refuses an empty one.
    let h = harness().await;
    h.fake.script(Turn::text("ok"));
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("Weather?")]);
    let mut blank = weather_tool();
    blank.description = " ".into();
    let mut described = weather_tool();
    described.name = "get_time".into();
    req.tools = vec![blank, described];
    let events = h.run(req).await;
    assert_accepted(&events);
    let tools = &h.last_body()["toolConfig"]["tools"];
    assert!(tools[0]["toolSpec"].get("description").is_none(), "{tools}");
    assert_eq!(tools[0]["toolSpec"]["name"], "get_weather");
    assert_eq!(
        tools[1]["toolSpec"]["description"],
        "Current weather for a city"
    );
}

#[tokio::test]
async fn empty_stop_sequences_are_left_out() {
    // OpenAI's API accepts `stop: ""`; Bedrock refuses an empty stop sequence.
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(2));
    let mut req = StreamRequest::new(sonnet(), vec![Message::user_text("hi")]);
    req.stop_sequences = vec![String::new(), "END".into()];
    assert_accepted(&h.run(req.clone()).await);
    assert_eq!(
        h.last_body()["inferenceConfig"]["stopSequences"],
        json!(["END"])
    );
    req.stop_sequences = vec![String::new()];
    assert_accepted(&h.run(req).await);
    let body = h.last_body();
    assert!(
        body["inferenceConfig"].get("stopSequences").is_none(),
        "{body:#}"
    );
    assert!(
        body.get("additionalModelResponseFieldPaths").is_none(),
        "{body:#}"
    );
}
