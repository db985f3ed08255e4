//! Property tests of the Anthropic Messages mapping: any JSON body is mapped or refused with a
//! 4xx, never a panic; every well-formed request maps, with one cache point per
//! `cache_control` the client placed.

use base64::Engine as _;
use openclaw_config::ModelDefinition;
use openclaw_stream::{AssistantContent, Content, Message, SystemBlock};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::openai::proptests::{field, json_value, object, one_of, required};

const LIMITS: ConvertLimits = ConvertLimits {
    max_image_bytes: 1024,
};

fn model() -> ModelDefinition {
    let mut m = ModelDefinition::new("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Sonnet");
    m.reasoning = true;
    m
}

/// The well-formed value seven times in eight, else the wrong one.
fn mostly(good: Value, bad: Value) -> impl Strategy<Value = Value> + Clone {
    prop_oneof![7 => Just(good), 1 => Just(bad)]
}

fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `cache_control`, well-formed or not.
fn fuzz_cache_control() -> impl Strategy<Value = Value> {
    (
        required(mostly(json!("ephemeral"), json!("persistent"))),
        field(one_of(vec![
            json!("5m"),
            json!("1h"),
            json!("5m"),
            json!("1h"),
            json!("1d"),
        ])),
    )
        .prop_map(|(kind, ttl)| object(vec![("type", kind), ("ttl", ttl)]))
}

fn fuzz_source() -> impl Strategy<Value = Value> {
    (
        required(one_of(vec![json!("base64"), json!("text"), json!("url")])),
        field(one_of(vec![
            json!("image/png"),
            json!("image/tiff"),
            json!("application/pdf"),
            json!("text/plain"),
            json!("video/mp4"),
        ])),
        required(prop_oneof![
            prop::collection::vec(any::<u8>(), 0..48).prop_map(|b| Value::from(base64_of(&b))),
            prop::collection::vec(any::<u8>(), 1000..1400).prop_map(|b| Value::from(base64_of(&b))),
            any::<String>().prop_map(Value::from),
        ]),
    )
        .prop_map(|(kind, media_type, data)| {
            object(vec![
                ("type", kind),
                ("media_type", media_type),
                ("data", data),
            ])
        })
}

/// A content block of any type, fields possibly wrong or missing.
fn fuzz_block() -> impl Strategy<Value = Value> {
    let leaf = (
        required(one_of(vec![
            json!("text"),
            json!("image"),
            json!("document"),
            json!("tool_result"),
            json!("tool_use"),
            json!("thinking"),
            json!("redacted_thinking"),
            json!("server_tool_use"),
        ])),
        field(any::<String>().prop_map(Value::from)),
        field(fuzz_source()),
        field(fuzz_cache_control()),
        (
            field("[a-z0-9_]{0,6}".prop_map(Value::from)),
            field("[a-z_]{0,6}".prop_map(Value::from)),
            field(json_value()),
            field(any::<bool>().prop_map(Value::from)),
            field(prop_oneof![
                prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| Value::from(base64_of(&b))),
                any::<String>().prop_map(Value::from),
            ]),
        ),
    )
        .prop_map(|(kind, text, source, cache_control, rest)| {
            let (id, name, input, is_error, data) = rest;
            object(vec![
                ("type", kind.clone()),
                ("text", text.clone()),
                ("thinking", text),
                ("source", source),
                ("cache_control", cache_control),
                ("id", id.clone()),
                ("tool_use_id", id),
                ("name", name),
                ("input", input),
                ("is_error", is_error),
                ("data", data),
            ])
        });
    // A tool result holds blocks of its own.
    leaf.prop_recursive(1, 8, 3, |inner| {
        (
            prop::collection::vec(inner, 0..3),
            "[a-z0-9_]{0,6}",
            field(fuzz_cache_control()),
        )
            .prop_map(|(content, id, cache_control)| {
                object(vec![
                    ("type", Some(json!("tool_result"))),
                    ("tool_use_id", Some(json!(id))),
                    ("content", Some(Value::Array(content))),
                    ("cache_control", cache_control),
                ])
            })
    })
}

fn fuzz_message() -> impl Strategy<Value = Value> {
    (
        required(one_of(vec![
            json!("user"),
            json!("assistant"),
            json!("user"),
            json!("assistant"),
            json!("user"),
            json!("assistant"),
            json!("system"),
        ])),
        required(prop_oneof![
            any::<String>().prop_map(Value::from),
            prop::collection::vec(fuzz_block(), 0..4).prop_map(Value::Array),
        ]),
    )
        .prop_map(|(role, content)| object(vec![("role", role), ("content", content)]))
}

fn fuzz_tool() -> impl Strategy<Value = Value> {
    (
        field(mostly(json!("custom"), json!("web_search_20250305"))),
        required("[a-z_]{1,8}".prop_map(Value::from)),
        field(any::<String>().prop_map(Value::from)),
        field(json_value()),
        field(fuzz_cache_control()),
    )
        .prop_map(|(kind, name, description, schema, cache_control)| {
            object(vec![
                ("type", kind),
                ("name", name),
                ("description", description),
                ("input_schema", schema),
                ("cache_control", cache_control),
            ])
        })
}

fn fuzz_request() -> impl Strategy<Value = Value> {
    let sampling = (
        required(mostly(json!(1024), json!(0))),
        field(any::<f32>().prop_map(Value::from)),
        field(any::<f32>().prop_map(Value::from)),
        field(any::<u32>().prop_map(Value::from)),
        field(prop::collection::vec(any::<String>(), 0..3).prop_map(Value::from)),
        field(any::<bool>().prop_map(Value::from)),
    );
    let rest = (
        field(prop_oneof![
            any::<String>().prop_map(Value::from),
            prop::collection::vec(
                (
                    required(mostly(json!("text"), json!("image"))),
                    field(any::<String>().prop_map(Value::from)),
                    field(fuzz_cache_control()),
                )
                    .prop_map(|(kind, text, cc)| object(vec![
                        ("type", kind),
                        ("text", text),
                        ("cache_control", cc),
                    ])),
                0..3,
            )
            .prop_map(Value::Array),
        ]),
        field(prop::collection::vec(fuzz_tool(), 0..3).prop_map(Value::Array)),
        field(
            (
                required(one_of(vec![
                    json!("auto"),
                    json!("any"),
                    json!("tool"),
                    json!("none"),
                    json!("auto"),
                    json!("any"),
                    json!("none"),
                    json!("some"),
                ])),
                field("[a-z_]{1,6}".prop_map(Value::from)),
            )
                .prop_map(|(kind, name)| object(vec![("type", kind), ("name", name)])),
        ),
        field(
            (
                required(one_of(vec![
                    json!("enabled"),
                    json!("adaptive"),
                    json!("disabled"),
                    json!("enabled"),
                    json!("adaptive"),
                    json!("disabled"),
                    json!("on"),
                ])),
                field(one_of(vec![json!(1023), json!(1024), json!(32000)])),
            )
                .prop_map(|(kind, budget)| object(vec![("type", kind), ("budget_tokens", budget)])),
        ),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "metadata",
                    "service_tier",
                    "guardrail",
                    "additional_model_request_fields",
                    "additional_model_response_field_paths",
                    "container",
                    "unknown_field",
                ]),
                prop_oneof![
                    Just(Value::Null),
                    Just(json!({"user_id": "u"})),
                    Just(json!({"identifier": "gr-1", "version": "1"})),
                    Just(json!(["/a"])),
                    json_value(),
                ],
            ),
            0..2,
        ),
    );
    (
        required("[a-z./:-]{0,24}".prop_map(Value::from)),
        required(prop::collection::vec(fuzz_message(), 0..4).prop_map(Value::Array)),
        sampling,
        rest,
    )
        .prop_map(|(model, messages, sampling, rest)| {
            let (max_tokens, temperature, top_p, top_k, stop, stream) = sampling;
            let (system, tools, tool_choice, thinking, others) = rest;
            let mut body = object(vec![
                ("model", model),
                ("messages", messages),
                ("max_tokens", max_tokens),
                ("temperature", temperature),
                ("top_p", top_p),
                ("top_k", top_k),
                ("stop_sequences", stop),
                ("stream", stream),
                ("system", system),
                ("tools", tools),
                ("tool_choice", tool_choice),
                ("thinking", thinking),
            ]);
            if let Value::Object(map) = &mut body {
                for (key, value) in others {
                    map.insert(key.to_string(), value);
                }
            }
            body
        })
}

/// Maps a body as the route does; the property: Ok, or an error with a 4xx status.
fn map_or_refuse(body: &Value, for_count: bool) -> Result<(), TestCaseError> {
    let Ok(request) = serde_json::from_value::<MessagesRequest>(body.clone()) else {
        // The route answers a body that does not deserialize with a 400.
        return Ok(());
    };
    let _ = (request.is_stream(), request.user_id());
    if let Err(err) = to_stream_request(&request, model(), Vec::new(), LIMITS, for_count) {
        prop_assert!(
            err.status.is_client_error(),
            "{:?} for {}",
            err.status,
            body
        );
        prop_assert!(!err.message.is_empty());
    }
    Ok(())
}

// ---- Well-formed requests.

/// A valid `cache_control`, or none; the flag says whether one was placed.
fn cache_control() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(json!({"type": "ephemeral"}))),
        1 => Just(Some(json!({"type": "ephemeral", "ttl": "5m"}))),
        1 => Just(Some(json!({"type": "ephemeral", "ttl": "1h"}))),
    ]
}

fn with_cache_control(mut block: Value, cc: Option<Value>) -> Value {
    if let Some(cc) = cc {
        block["cache_control"] = cc;
    }
    block
}

/// A block a user turn may hold (tool results apart).
fn user_block() -> impl Strategy<Value = Value> {
    let block = prop_oneof![
        any::<String>().prop_map(|t| json!({"type": "text", "text": t})),
        (
            prop::sample::select(vec!["image/jpeg", "image/png", "image/gif", "image/webp"]),
            prop::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(mime, b)| json!({"type": "image", "source":
                {"type": "base64", "media_type": mime, "data": base64_of(&b)}})),
        (
            prop::sample::select(vec!["application/pdf", "text/csv", "text/markdown"]),
            prop::collection::vec(any::<u8>(), 0..64),
            prop::option::of(any::<String>()),
        )
            .prop_map(|(mime, b, title)| {
                let mut doc = json!({"type": "document", "source":
                    {"type": "base64", "media_type": mime, "data": base64_of(&b)}});
                if let Some(title) = title {
                    doc["title"] = json!(title);
                }
                doc
            }),
        any::<String>().prop_map(|t| json!({"type": "document", "source":
            {"type": "text", "media_type": "text/plain", "data": t}})),
    ];
    (block, cache_control()).prop_map(|(b, cc)| with_cache_control(b, cc))
}

fn assistant_block() -> impl Strategy<Value = Value> {
    let block = prop_oneof![
        any::<String>().prop_map(|t| json!({"type": "text", "text": t})),
        (any::<String>(), "[A-Za-z0-9+/=]{0,16}")
            .prop_map(|(t, sig)| json!({"type": "thinking", "thinking": t, "signature": sig})),
        prop::collection::vec(any::<u8>(), 1..32)
            .prop_map(|b| json!({"type": "redacted_thinking", "data": base64_of(&b)})),
        ("[a-z_]{1,8}", prop::option::of(json_value())).prop_map(|(name, input)| {
            let mut call = json!({"type": "tool_use", "id": "", "name": name});
            if let Some(input) = input {
                call["input"] = input;
            }
            call
        }),
    ];
    (block, cache_control()).prop_map(|(b, cc)| with_cache_control(b, cc))
}

/// The number of `cache_control`s in a list of blocks, nested tool-result blocks included.
fn placed(blocks: &[Value]) -> usize {
    blocks
        .iter()
        .map(|b| {
            usize::from(b.get("cache_control").is_some())
                + b.get("content")
                    .and_then(Value::as_array)
                    .map_or(0, |inner| placed(inner))
        })
        .sum()
}

/// A conversation of user and assistant turns; each assistant tool call is answered by a tool
/// result in the next user turn.
fn valid_messages() -> impl Strategy<Value = Vec<Value>> {
    let turn = (
        prop::collection::vec(user_block(), 1..4),
        prop::collection::vec(assistant_block(), 0..4),
        prop_oneof![
            any::<String>().prop_map(Value::from),
            prop::collection::vec(
                any::<String>().prop_map(|t| json!({"type": "text", "text": t})),
                0..3
            )
            .prop_map(Value::Array),
        ],
        cache_control(),
        any::<bool>(),
    );
    prop::collection::vec(turn, 1..4).prop_map(|turns| {
        let mut messages = Vec::new();
        let mut open_calls: Vec<String> = Vec::new();
        let mut call_no = 0;
        for (user, mut assistant, result, result_cc, is_error) in turns {
            let mut blocks: Vec<Value> = open_calls
                .drain(..)
                .map(|id| {
                    with_cache_control(
                        json!({"type": "tool_result", "tool_use_id": id,
                               "content": result.clone(), "is_error": is_error}),
                        result_cc.clone(),
                    )
                })
                .collect();
            blocks.extend(user);
            if messages.is_empty() {
                // Something for the model to answer (only blank user turns are refused).
                blocks.push(json!({"type": "text", "text": "go on"}));
            }
            messages.push(json!({"role": "user", "content": blocks}));
            for block in &mut assistant {
                if block["type"] == "tool_use" {
                    call_no += 1;
                    let id = format!("toolu_{call_no}");
                    block["id"] = json!(id);
                    open_calls.push(id);
                }
            }
            messages.push(json!({"role": "assistant", "content": assistant}));
        }
        messages
    })
}

fn valid_request() -> impl Strategy<Value = Value> {
    (
        valid_messages(),
        prop::option::of(prop_oneof![
            any::<String>().prop_map(Value::from),
            prop::collection::vec(
                (any::<String>(), cache_control())
                    .prop_map(|(t, cc)| with_cache_control(json!({"type": "text", "text": t}), cc)),
                0..3
            )
            .prop_map(Value::Array),
        ]),
        prop::collection::vec(
            (
                "[a-z_]{1,8}",
                prop::option::of(json_value()),
                cache_control(),
            ),
            0..3,
        ),
        prop::option::of(one_of(vec![
            json!({"type": "auto"}),
            json!({"type": "any", "disable_parallel_tool_use": true}),
            json!({"type": "none"}),
            json!({"type": "tool", "name": "t"}),
        ])),
        prop::option::of(one_of(vec![
            json!({"type": "enabled", "budget_tokens": 1024}),
            json!({"type": "adaptive"}),
            json!({"type": "disabled"}),
        ])),
        (1u32..64_000, any::<bool>()),
    )
        .prop_map(
            |(messages, system, tools, tool_choice, thinking, (max_tokens, stream))| {
                let tools: Vec<Value> = tools
                    .into_iter()
                    .map(|(name, schema, cc)| {
                        let mut tool = json!({"name": name});
                        if let Some(schema) = schema {
                            tool["input_schema"] = schema;
                        }
                        with_cache_control(tool, cc)
                    })
                    .collect();
                let mut body = json!({
                    "model": "claude-sonnet-4-5",
                    "max_tokens": max_tokens,
                    "stream": stream,
                    "messages": messages,
                    "tools": tools,
                    "metadata": {"user_id": "u-1"},
                });
                for (key, value) in [
                    ("system", system),
                    ("tool_choice", tool_choice),
                    ("thinking", thinking),
                ] {
                    if let Some(value) = value {
                        body[key] = value;
                    }
                }
                body
            },
        )
}

/// The cache points of a mapped request: system, tools (at most one), messages.
fn cache_points(request: &StreamRequest) -> usize {
    let system = request
        .system_blocks
        .iter()
        .filter(|b| matches!(b, SystemBlock::CachePoint(_)))
        .count();
    let messages: usize = request
        .messages
        .iter()
        .map(|m| match m {
            Message::User(u) => u
                .content
                .iter()
                .filter(|c| matches!(c, Content::CachePoint(_)))
                .count(),
            Message::ToolResult(r) => r
                .content
                .iter()
                .filter(|c| matches!(c, Content::CachePoint(_)))
                .count(),
            Message::Assistant(a) => a
                .content
                .iter()
                .filter(|c| matches!(c, AssistantContent::CachePoint(_)))
                .count(),
        })
        .sum();
    system + messages + usize::from(request.tools_cache_point.is_some())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_body_maps_or_is_refused_with_a_4xx(body in json_value(), for_count in any::<bool>()) {
        map_or_refuse(&body, for_count)?;
    }

    #[test]
    fn request_shaped_bodies_map_or_are_refused_with_a_4xx(
        body in fuzz_request(),
        for_count in any::<bool>(),
    ) {
        map_or_refuse(&body, for_count)?;
    }

    #[test]
    fn well_formed_requests_map_with_a_cache_point_per_breakpoint(body in valid_request()) {
        let request: MessagesRequest = serde_json::from_value(body.clone())
            .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        let mapped = to_stream_request(&request, model(), Vec::new(), LIMITS, false)
            .map_err(|e| TestCaseError::fail(format!("{}: {body}", e.message)))?;
        let empty = Vec::new();
        let messages = body["messages"].as_array().unwrap_or(&empty);
        let in_messages: usize = messages
            .iter()
            .map(|m| m["content"].as_array().map_or(0, |b| placed(b)))
            .sum();
        let in_system = body["system"].as_array().map_or(0, |b| placed(b));
        let in_tools = usize::from(body["tools"].as_array().is_some_and(|t| placed(t) > 0));
        prop_assert_eq!(cache_points(&mapped), in_messages + in_system + in_tools, "{}", body);
        // Each tool result answers a call of the turn before, by name.
        for m in &mapped.messages {
            if let Message::ToolResult(r) = m {
                prop_assert!(!r.tool_name.is_empty(), "{:?}", r);
            }
        }
        // Every turn is carried: a user turn is its tool results plus one user message.
        let assistants = messages.iter().filter(|m| m["role"] == "assistant").count();
        let mapped_assistants = mapped
            .messages
            .iter()
            .filter(|m| matches!(m, Message::Assistant(_)))
            .count();
        prop_assert_eq!(assistants, mapped_assistants);
    }
}
