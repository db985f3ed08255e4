//! Property tests of the OpenAI request mapping: any JSON body is mapped or refused with a 4xx,
//! never a panic; every well-formed request maps.

use base64::Engine as _;
use openclaw_config::ModelDefinition;
use openclaw_stream::{Content, Message};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;

const LIMITS: ConvertLimits = ConvertLimits {
    max_image_bytes: 1024,
};

fn model() -> ModelDefinition {
    let mut m = ModelDefinition::new("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Sonnet");
    m.reasoning = true;
    m
}

/// Any JSON value, bounded in depth and size (shared with the Anthropic property tests).
pub(crate) fn json_value() -> impl Strategy<Value = Value> + Clone {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
        "[a-z_]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,10}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// An object made of the given optional fields (shared with the Anthropic property tests).
pub(crate) fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), v?)))
            .collect(),
    )
}

/// An optional field: absent, plausible, or rarely any JSON at all (shared with the Anthropic
/// tests). Rare enough that most bodies deserialize and reach the mapping.
pub(crate) fn field(
    plausible: impl Strategy<Value = Value> + 'static,
) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        8 => Just(None),
        80 => plausible.prop_map(Some),
        1 => json_value().prop_map(Some),
    ]
    .boxed()
}

/// A required field: plausible, or rarely absent or any JSON at all.
pub(crate) fn required(
    plausible: impl Strategy<Value = Value> + 'static,
) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        1 => Just(None),
        120 => plausible.prop_map(Some),
        1 => json_value().prop_map(Some),
    ]
    .boxed()
}

/// Picks one of the values.
pub(crate) fn one_of(values: Vec<Value>) -> impl Strategy<Value = Value> + Clone {
    prop::sample::select(values)
}

fn base64_of(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Data URLs, well-formed or not.
fn image_url() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..48)
            .prop_map(|b| Value::from(format!("data:image/png;base64,{}", base64_of(&b)))),
        prop::collection::vec(any::<u8>(), 0..2048)
            .prop_map(|b| Value::from(format!("data:IMAGE/JPEG;base64,{}", base64_of(&b)))),
        "data:[a-z/;,+=]{0,24}".prop_map(Value::from),
        "https?://[a-z.]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ]
}

fn part() -> impl Strategy<Value = Value> {
    (
        field(one_of(vec![
            json!("text"),
            json!("image_url"),
            json!("refusal"),
            json!("input_audio"),
        ])),
        field(any::<String>().prop_map(Value::from)),
        field(prop_oneof![
            image_url().prop_map(|url| json!({"url": url})),
            image_url(),
        ]),
        field(any::<String>().prop_map(Value::from)),
    )
        .prop_map(|(kind, text, image_url, refusal)| {
            object(vec![
                ("type", kind),
                ("text", text),
                ("image_url", image_url),
                ("refusal", refusal),
            ])
        })
}

fn content() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<String>().prop_map(Value::from),
        prop::collection::vec(part(), 0..4).prop_map(Value::Array),
    ]
}

fn tool_call() -> impl Strategy<Value = Value> {
    (
        required("[a-z0-9_]{0,8}".prop_map(Value::from)),
        required("[a-z_]{1,8}".prop_map(Value::from)),
        field(prop_oneof![
            json_value().prop_map(|v| Value::from(v.to_string())),
            any::<String>().prop_map(Value::from),
        ]),
    )
        .prop_map(|(id, name, arguments)| {
            json!({"id": id, "type": "function",
                   "function": object(vec![("name", name), ("arguments", arguments)])})
        })
}

fn fuzz_message() -> impl Strategy<Value = Value> {
    (
        required(one_of(vec![
            json!("system"),
            json!("developer"),
            json!("user"),
            json!("assistant"),
            json!("tool"),
        ])),
        required(content()),
        field(prop::collection::vec(tool_call(), 0..3).prop_map(Value::Array)),
        field(any::<String>().prop_map(Value::from)),
        field(any::<String>().prop_map(Value::from)),
        field(prop_oneof![
            prop::collection::vec(any::<u8>(), 0..16).prop_map(|b| Value::from(base64_of(&b))),
            any::<String>().prop_map(Value::from),
        ]),
        field("[a-z0-9_]{0,8}".prop_map(Value::from)),
    )
        .prop_map(
            |(role, content, tool_calls, reasoning, signature, redacted, tool_call_id)| {
                object(vec![
                    ("role", role),
                    ("content", content),
                    ("tool_calls", tool_calls),
                    ("reasoning_content", reasoning),
                    ("reasoning_signature", signature),
                    ("reasoning_redacted", redacted),
                    ("tool_call_id", tool_call_id),
                ])
            },
        )
}

fn tool() -> impl Strategy<Value = Value> {
    (
        required(one_of(vec![json!("function"), json!("custom")])),
        required("[a-z_]{1,8}".prop_map(Value::from)),
        field(json_value()),
    )
        .prop_map(|(kind, name, parameters)| {
            object(vec![
                ("type", kind),
                (
                    "function",
                    Some(object(vec![("name", name), ("parameters", parameters)])),
                ),
            ])
        })
}

fn response_format() -> impl Strategy<Value = Value> {
    (
        field(one_of(vec![
            json!("text"),
            json!("json_object"),
            json!("json_schema"),
            json!("xml"),
        ])),
        field(
            (
                field("[a-zA-Z0-9_.-]{0,70}".prop_map(Value::from)),
                field(prop_oneof![Just(json!({"type": "object"})), json_value()]),
            )
                .prop_map(|(name, schema)| object(vec![("name", name), ("schema", schema)])),
        ),
    )
        .prop_map(|(kind, schema)| object(vec![("type", kind), ("json_schema", schema)]))
}

/// Request-shaped JSON where any part may be wrong.
fn fuzz_request() -> impl Strategy<Value = Value> {
    let sampling = (
        field(any::<f32>().prop_map(Value::from)),
        field(any::<u32>().prop_map(Value::from)),
        field(any::<u32>().prop_map(Value::from)),
        field(prop_oneof![
            any::<String>().prop_map(Value::from),
            prop::collection::vec(any::<String>(), 0..3).prop_map(Value::from),
        ]),
        field(one_of(vec![
            json!("none"),
            json!("low"),
            json!("high"),
            json!("xhigh"),
            json!("max"),
        ])),
        field(any::<bool>().prop_map(Value::from)),
        field(any::<bool>().prop_map(|b| json!({"include_usage": b}))),
        field(one_of(vec![
            json!(1),
            json!(1),
            json!(1),
            json!(1),
            json!(1),
            json!(1),
            json!(0),
            json!(2),
        ])),
        field(any::<f32>().prop_map(Value::from)),
        field(any::<u32>().prop_map(Value::from)),
    );
    let rest = (
        field(one_of(vec![
            json!("auto"),
            json!("none"),
            json!("required"),
            json!("any"),
            json!({"type": "function", "function": {"name": "t"}}),
            json!({"type": "function"}),
        ])),
        field(prop::collection::vec(tool(), 0..3).prop_map(Value::Array)),
        field(response_format()),
        field(Just(json!({"identifier": "gr-1", "version": "1"}))),
        field(
            prop::collection::btree_map("[a-z_]{1,8}", json_value(), 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ),
        field(prop::collection::vec("[a-z/]{0,8}", 0..3).prop_map(Value::from)),
        prop::collection::vec(
            (
                prop::sample::select(vec![
                    "user",
                    "metadata",
                    "store",
                    "logprobs",
                    "parallel_tool_calls",
                    "seed",
                    "presence_penalty",
                    "logit_bias",
                    "service_tier",
                    "modalities",
                    "functions",
                    "unknown_field",
                ]),
                prop_oneof![
                    Just(Value::Null),
                    Just(Value::Bool(false)),
                    Just(Value::Bool(true)),
                    Just(json!(0)),
                    json_value()
                ],
            ),
            0..2,
        ),
    );
    (
        required("[a-z./:-]{0,24}".prop_map(Value::from)),
        required(prop::collection::vec(fuzz_message(), 0..5).prop_map(Value::Array)),
        sampling,
        rest,
    )
        .prop_map(|(model, messages, sampling, rest)| {
            let (
                temperature,
                max_tokens,
                max_completion,
                stop,
                effort,
                stream,
                options,
                n,
                top_p,
                top_k,
            ) = sampling;
            let (tool_choice, tools, format, guardrail, extra, paths, others) = rest;
            let mut body = object(vec![
                ("model", model),
                ("messages", messages),
                ("temperature", temperature),
                ("max_tokens", max_tokens),
                ("max_completion_tokens", max_completion),
                ("stop", stop),
                ("reasoning_effort", effort),
                ("stream", stream),
                ("stream_options", options),
                ("n", n),
                ("top_p", top_p),
                ("top_k", top_k),
                ("tool_choice", tool_choice),
                ("tools", tools),
                ("response_format", format),
                ("guardrail", guardrail),
                ("additional_model_request_fields", extra),
                ("additional_model_response_field_paths", paths),
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
fn map_or_refuse(body: &Value) -> Result<Option<StreamRequest>, TestCaseError> {
    let Ok(request) = serde_json::from_value::<ChatRequest>(body.clone()) else {
        // The route answers a body that does not deserialize with a 400.
        return Ok(None);
    };
    // The accessors the route calls before mapping.
    let _ = (
        request.is_stream(),
        request.response_tool(),
        request.include_usage(),
    );
    match to_stream_request(&request, model(), LIMITS) {
        Ok(mapped) => Ok(Some(mapped)),
        Err(err) => {
            prop_assert!(
                err.status.is_client_error(),
                "{:?} for {}",
                err.status,
                body
            );
            prop_assert!(!err.message.is_empty());
            Ok(None)
        }
    }
}

// ---- Well-formed requests.

/// A conversation that is valid by construction (ending with a user turn that is not blank),
/// with the number of turns that are not system prompts.
fn valid_conversation() -> impl Strategy<Value = (Vec<Value>, usize, bool)> {
    let text_or_parts = prop_oneof![
        any::<String>().prop_map(Value::from),
        prop::collection::vec(
            prop_oneof![
                any::<String>().prop_map(|t| json!({"type": "text", "text": t})),
                prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| json!({
                    "type": "image_url",
                    "image_url": {"url": format!("data:image/png;base64,{}", base64_of(&b))}
                })),
            ],
            1..3,
        )
        .prop_map(Value::Array),
    ];
    let system_text = prop_oneof![
        any::<String>().prop_map(Value::from),
        prop::collection::vec(any::<String>(), 1..3).prop_map(|texts| {
            Value::Array(
                texts
                    .into_iter()
                    .map(|t| json!({"type": "text", "text": t}))
                    .collect(),
            )
        }),
    ];
    let turn = prop_oneof![
        (
            prop::sample::select(vec!["system", "developer"]),
            system_text
        )
            .prop_map(|(role, content)| (json!({"role": role, "content": content}), false)),
        text_or_parts
            .clone()
            .prop_map(|content| (json!({"role": "user", "content": content}), true)),
        (
            prop::option::of(any::<String>()),
            prop::collection::vec(("[a-z_]{1,8}", json_value()), 0..3),
            prop::option::of(any::<String>()),
            prop::option::of(prop::collection::vec(any::<u8>(), 1..16)),
            text_or_parts,
        )
            .prop_map(|(text, calls, reasoning, redacted, result)| {
                let calls: Vec<Value> = calls
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, args))| {
                        json!({"id": format!("call_{i}"), "type": "function",
                               "function": {"name": name, "arguments": args.to_string()}})
                    })
                    .collect();
                let mut message = json!({"role": "assistant", "content": text});
                if let Some(r) = reasoning {
                    message["reasoning_content"] = json!(r);
                    message["reasoning_signature"] = json!("sig");
                }
                if let Some(b) = redacted {
                    message["reasoning_redacted"] = json!(base64_of(&b));
                }
                let has_calls = !calls.is_empty();
                if has_calls {
                    message["tool_calls"] = Value::Array(calls);
                }
                // A tool result answering the first call.
                let answer = json!({"role": "tool", "tool_call_id": "call_0", "content": result});
                (message, has_calls.then_some(answer))
            })
            .prop_map(|(message, answer)| (json!([message, answer]), true)),
    ];
    prop::collection::vec(turn, 1..6).prop_map(|turns| {
        let mut messages = Vec::new();
        let mut count = 0;
        let mut has_system = false;
        for (turn, counted) in turns {
            match turn {
                Value::Array(pair) => {
                    for m in pair.into_iter().filter(|m| !m.is_null()) {
                        count += 1;
                        messages.push(m);
                    }
                }
                m => {
                    if counted {
                        count += 1;
                    } else {
                        has_system = true;
                    }
                    messages.push(m);
                }
            }
        }
        // Something for the model to answer (a conversation of blank user turns is refused).
        messages.push(json!({"role": "user", "content": "go on"}));
        count += 1;
        (messages, count, has_system)
    })
}

fn valid_request() -> impl Strategy<Value = (Value, usize, bool)> {
    (
        valid_conversation(),
        prop::collection::vec(("[a-z_]{1,8}", prop::option::of(json_value())), 0..3),
        prop::option::of(one_of(vec![
            json!("auto"),
            json!("none"),
            json!("required"),
            json!({"type": "function", "function": {"name": "t"}}),
        ])),
        prop::option::of(one_of(vec![
            json!({"type": "text"}),
            json!({"type": "json_object"}),
            json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}),
        ])),
        prop::option::of(one_of(vec![
            json!("none"),
            json!("minimal"),
            json!("low"),
            json!("medium"),
            json!("high"),
            json!("xhigh"),
        ])),
        (
            prop::option::of(0.0f32..2.0),
            prop::option::of(1u32..100_000),
            prop::option::of(any::<bool>()),
            prop::option::of(prop::collection::vec(any::<String>(), 0..3)),
        ),
    )
        .prop_map(
            |((messages, count, has_system), tools, choice, format, effort, sampling)| {
                let (temperature, max_tokens, stream, stop) = sampling;
                let tools: Vec<Value> = tools
                    .into_iter()
                    .map(|(name, parameters)| {
                        let mut function = json!({"name": name});
                        if let Some(p) = parameters {
                            function["parameters"] = p;
                        }
                        json!({"type": "function", "function": function})
                    })
                    .collect();
                let mut body = json!({
                    "model": "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                    "messages": messages,
                    "tools": tools,
                    "user": "someone",
                    "parallel_tool_calls": true,
                    "store": false,
                });
                for (key, value) in [
                    ("tool_choice", choice),
                    ("response_format", format),
                    ("reasoning_effort", effort),
                    ("temperature", temperature.map(Value::from)),
                    ("max_completion_tokens", max_tokens.map(Value::from)),
                    ("stream", stream.map(Value::from)),
                    ("stop", stop.map(Value::from)),
                ] {
                    if let Some(value) = value {
                        body[key] = value;
                    }
                }
                (body, count, has_system)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_json_body_maps_or_is_refused_with_a_4xx(body in json_value()) {
        map_or_refuse(&body)?;
    }

    #[test]
    fn request_shaped_bodies_map_or_are_refused_with_a_4xx(body in fuzz_request()) {
        map_or_refuse(&body)?;
    }

    #[test]
    fn well_formed_requests_map((body, count, has_system) in valid_request()) {
        let request: ChatRequest = serde_json::from_value(body.clone())
            .map_err(|e| TestCaseError::fail(format!("{e}: {body}")))?;
        let mapped = to_stream_request(&request, model(), LIMITS)
            .map_err(|e| TestCaseError::fail(format!("{}: {body}", e.message)))?;
        prop_assert_eq!(mapped.messages.len(), count);
        prop_assert_eq!(mapped.system.is_some(), has_system);
        // Every image and text of the user turns is carried.
        let user_parts: usize = body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["role"] == "user")
            .map(|m| m["content"].as_array().map_or(1, Vec::len))
            .sum();
        let mapped_parts: usize = mapped
            .messages
            .iter()
            .filter_map(|m| match m {
                Message::User(u) => Some(
                    u.content
                        .iter()
                        .filter(|c| matches!(c, Content::Text { .. } | Content::Image { .. }))
                        .count(),
                ),
                _ => None,
            })
            .sum();
        prop_assert_eq!(user_parts, mapped_parts);
    }
}
