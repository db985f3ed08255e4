use openclaw_config::ModelDefinition;

use super::model::{Thinking, same_family, supports_caching, thinking};
use super::*;
use crate::types::{ReasoningLevel, ThinkingBudget};

fn claude(id: &str, max_tokens: u32) -> ModelDefinition {
    let mut m = ModelDefinition::new(id, id);
    m.reasoning = true;
    m.max_tokens = max_tokens;
    m
}

#[test]
fn tool_call_ids_are_sanitised_consistently() {
    assert_eq!(sanitize_tool_call_id("call_abc-123"), "call_abc-123");
    assert_eq!(sanitize_tool_call_id("fc|item:1.2"), "fc_item_1_2");
    assert_eq!(sanitize_tool_call_id(""), "_");
    let long_a = format!("{}a", "x".repeat(100));
    let long_b = format!("{}b", "x".repeat(100));
    let (a, b) = (
        sanitize_tool_call_id(&long_a),
        sanitize_tool_call_id(&long_b),
    );
    assert_eq!(a.len(), 64);
    assert_ne!(a, b);
    assert_eq!(a, sanitize_tool_call_id(&long_a));
    assert!(
        a.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    );
}

#[test]
fn thinking_budgets_follow_pi_ai() {
    let m = claude("us.anthropic.claude-sonnet-4-5-20250929-v1:0", 64000);
    assert_eq!(
        thinking(&m, ReasoningLevel::Off, None),
        Thinking::Off { max_tokens: 32000 }
    );
    for (level, budget) in [
        (ReasoningLevel::Minimal, 1024),
        (ReasoningLevel::Low, 2048),
        (ReasoningLevel::Medium, 8192),
        (ReasoningLevel::High, 16384),
        (ReasoningLevel::XHigh, 16384),
    ] {
        assert_eq!(
            thinking(&m, level, Some(4000)),
            Thinking::Budget {
                max_tokens: 4000 + budget,
                budget_tokens: budget,
                interleaved: true
            }
        );
    }
    // Claude 3.7 Sonnet has no interleaved thinking (a Claude 4 feature): no beta.
    // Capped by the model: 8192 + 16384 > 20000, budget kept (20000 > 16384).
    let small = claude("anthropic.claude-3-7-sonnet-20250219-v1:0", 20000);
    assert_eq!(
        thinking(&small, ReasoningLevel::High, Some(8192)),
        Thinking::Budget {
            max_tokens: 20000,
            budget_tokens: 16384,
            interleaved: false
        }
    );
    // No room: budget shrinks to max - 1024.
    let tiny = claude("anthropic.claude-3-7-sonnet-20250219-v1:0", 8192);
    assert_eq!(
        thinking(&tiny, ReasoningLevel::Medium, Some(4096)),
        Thinking::Budget {
            max_tokens: 8192,
            budget_tokens: 7168,
            interleaved: false
        }
    );
    // Below Claude's minimum: off.
    let micro = claude("anthropic.claude-3-7-sonnet-20250219-v1:0", 1500);
    assert_eq!(
        thinking(&micro, ReasoningLevel::Low, Some(1000)),
        Thinking::Off { max_tokens: 1000 }
    );
}

#[test]
fn adaptive_thinking_for_4_6_models_and_none_for_non_claude() {
    let opus = claude("us.anthropic.claude-opus-4-6-v1:0", 32000);
    assert_eq!(
        thinking(&opus, ReasoningLevel::XHigh, None),
        Thinking::Adaptive {
            max_tokens: 32000,
            effort: Some("max")
        }
    );
    let sonnet = claude("global.anthropic.claude-sonnet-4-6", 64000);
    assert_eq!(
        thinking(&sonnet, ReasoningLevel::Minimal, Some(100)),
        Thinking::Adaptive {
            max_tokens: 100,
            effort: Some("low")
        }
    );
    let deepseek = claude("us.deepseek.r1-v1:0", 32000);
    assert_eq!(
        thinking(&deepseek, ReasoningLevel::High, None),
        Thinking::Off { max_tokens: 32000 }
    );
    let mut no_reasoning = claude("anthropic.claude-3-5-haiku-20241022-v1:0", 8192);
    no_reasoning.reasoning = false;
    assert_eq!(
        thinking(&no_reasoning, ReasoningLevel::High, None),
        Thinking::Off { max_tokens: 8192 }
    );
}

#[test]
fn families_and_caching_rules() {
    assert!(same_family(
        "us.anthropic.claude-sonnet-4-5-x",
        "eu.anthropic.claude-sonnet-4-5-x"
    ));
    assert!(same_family(
        "anthropic.claude-sonnet-4-5-x",
        "global.anthropic.claude-sonnet-4-5-x"
    ));
    assert!(!same_family(
        "us.anthropic.claude-sonnet-4-5-x",
        "us.anthropic.claude-opus-4-1-x"
    ));
    for id in [
        "us.anthropic.claude-opus-4-6-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "us.amazon.nova-pro-v1:0",
    ] {
        assert!(supports_caching(&ModelDefinition::new(id, id)), "{id}");
    }
    for id in [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "meta.llama3-70b-instruct-v1:0",
    ] {
        assert!(!supports_caching(&ModelDefinition::new(id, id)), "{id}");
    }
    // A cache price does not turn caching on where the family has none (Bedrock refuses the
    // points), nor for a model the table does not know.
    let mut priced = ModelDefinition::new("meta.llama3-70b-instruct-v1:0", "x");
    priced.cost.cache_read = 0.1;
    assert!(!supports_caching(&priced));
    priced.id = "acme.future-model-v1:0".into();
    assert!(!supports_caching(&priced));
}

#[test]
fn documents_round_trip() {
    let v = serde_json::json!({"a": [1, -2, 2.5, null, true, "s"], "b": {}});
    assert_eq!(from_document(&to_document(&v)), v);
}

#[test]
fn unsupported_image_is_a_clear_error() {
    let mut m = ModelDefinition::new(SONNET, "x");
    m.input.push(InputModality::Image);
    let msg = Message::User(crate::types::UserMessage {
        content: vec![Content::Image {
            mime_type: "image/tiff".into(),
            data: vec![0],
        }],
    });
    let err = build(&StreamRequest::new(m, vec![msg])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported image type `image/tiff` in the conversation: expected image/jpeg, image/png, image/gif or image/webp"
    );
}

/// A compact view of a block: `text:<text>`, `toolResult:<id>`, `toolUse:<id>`, `cachePoint`
/// (`cachePoint:1h` with the one-hour TTL), `document:<name>`, `other`.
fn describe(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(t) => format!("text:{t}"),
        ContentBlock::ToolResult(r) => format!("toolResult:{}", r.tool_use_id()),
        ContentBlock::ToolUse(u) => format!("toolUse:{}", u.tool_use_id()),
        ContentBlock::CachePoint(p) if p.ttl() == Some(&WireCacheTtl::OneHour) => {
            "cachePoint:1h".into()
        }
        ContentBlock::CachePoint(_) => "cachePoint".into(),
        ContentBlock::Document(d) => format!("document:{}", d.name()),
        _ => "other".into(),
    }
}

fn described(input: &ConverseInput) -> Vec<Vec<String>> {
    input
        .messages
        .iter()
        .map(|m| m.content().iter().map(describe).collect())
        .collect()
}

const SONNET: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const ONE_HOUR: CachePoint = CachePoint {
    ttl: CacheTtl::OneHour,
};

fn explicit(model: ModelDefinition, messages: Vec<Message>) -> StreamRequest {
    let mut req = StreamRequest::new(model, messages);
    req.cache_placement = CachePlacement::Explicit;
    req.tools = vec![crate::types::ToolDefinition {
        name: "get_weather".into(),
        description: "Weather".into(),
        parameters: serde_json::json!({"type": "object"}),
    }];
    req
}

fn call(id: &str) -> AssistantContent {
    AssistantContent::ToolCall(crate::types::ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: serde_json::json!({}),
        invalid_arguments: None,
    })
}

fn assistant(content: Vec<AssistantContent>) -> Message {
    let mut m = AssistantMessage::new(API, PROVIDER, SONNET);
    m.content = content;
    Message::Assistant(m)
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
    Message::User(crate::types::UserMessage { content })
}

#[test]
fn markers_stay_after_their_tool_results_when_results_merge() {
    let messages = vec![
        Message::user_text("Weather?"),
        assistant(vec![call("a"), call("b"), call("c")]),
        tool_result(
            "a",
            vec![text("18C"), Content::CachePoint(CachePoint::default())],
        ),
        // A marker before the result's text still follows the toolResult block.
        tool_result("b", vec![Content::CachePoint(ONE_HOUR), text("12C")]),
        tool_result("c", vec![text("9C")]),
        user(vec![text("Thanks."), Content::CachePoint(ONE_HOUR)]),
    ];
    let input = build(&explicit(claude(SONNET, 64000), messages)).unwrap();
    assert_eq!(
        described(&input)[2],
        [
            "toolResult:a",
            "cachePoint",
            "toolResult:b",
            "cachePoint:1h",
            "toolResult:c",
            "text:Thanks.",
            "cachePoint:1h"
        ]
    );
}

#[test]
fn orphan_answers_go_after_the_marked_results() {
    // `a` gets no result: its synthetic error result joins the user message after `b`'s
    // result and marker, which stay together.
    let messages = vec![
        Message::user_text("Weather?"),
        assistant(vec![call("a"), call("b")]),
        tool_result("b", vec![text("12C"), Content::CachePoint(ONE_HOUR)]),
        user(vec![text("Go on.")]),
    ];
    let input = build(&explicit(claude(SONNET, 64000), messages)).unwrap();
    assert_eq!(
        described(&input)[2],
        [
            "toolResult:b",
            "cachePoint:1h",
            "toolResult:a",
            "text:Go on."
        ]
    );
}

#[test]
fn stray_markers_are_dropped_and_assistant_markers_kept() {
    let messages = vec![
        user(vec![
            Content::CachePoint(ONE_HOUR),
            text(" "),
            Content::CachePoint(ONE_HOUR),
            text("Hi"),
            Content::CachePoint(ONE_HOUR),
            Content::CachePoint(ONE_HOUR),
        ]),
        assistant(vec![
            AssistantContent::Text {
                text: "Hello".into(),
            },
            AssistantContent::Text { text: "\n".into() },
            AssistantContent::CachePoint(CachePoint::default()),
        ]),
        Message::user_text("Again"),
    ];
    let input = build(&explicit(claude(SONNET, 64000), messages)).unwrap();
    assert_eq!(
        described(&input),
        [
            vec!["text:Hi", "cachePoint:1h"],
            vec!["text:Hello", "cachePoint"],
            vec!["text:Again"]
        ]
    );
}

#[test]
fn explicit_placement_has_no_automatic_points_and_markers_need_caching() {
    let mut req = explicit(claude(SONNET, 64000), vec![Message::user_text("Hi")]);
    req.system = Some("System.".into());
    req.cache_retention = CacheRetention::Long;
    let input = build(&req).unwrap();
    assert_eq!(
        input.system,
        vec![SystemContentBlock::Text("System.".into())]
    );
    assert_eq!(described(&input), [vec!["text:Hi"]]);

    // A model without prompt caching: every marker dropped.
    let mut req = explicit(
        claude("us.meta.llama3-3-70b-instruct-v1:0", 8192),
        vec![user(vec![text("Hi"), Content::CachePoint(ONE_HOUR)])],
    );
    req.system_blocks = vec![
        SystemBlock::Text("System.".into()),
        SystemBlock::CachePoint(ONE_HOUR),
    ];
    req.tools_cache_point = Some(ONE_HOUR);
    let input = build(&req).unwrap();
    assert_eq!(
        input.system,
        vec![SystemContentBlock::Text("System.".into())]
    );
    assert_eq!(described(&input), [vec!["text:Hi"]]);
    let tools = input.tool_config.unwrap();
    assert!(tools.tools().iter().all(|t| matches!(t, Tool::ToolSpec(_))));

    // Automatic placement ignores markers (the adapter places its own, where the segment
    // reaches the model's minimum: none for a short prompt).
    let mut req = explicit(
        claude(SONNET, 64000),
        vec![user(vec![text("Hi"), Content::CachePoint(ONE_HOUR)])],
    );
    req.cache_placement = CachePlacement::Automatic;
    req.tools_cache_point = Some(ONE_HOUR);
    let input = build(&req).unwrap();
    assert_eq!(described(&input), [vec!["text:Hi"]]);
    let long = "x".repeat(4 * 1024);
    let mut req = explicit(
        claude(SONNET, 64000),
        vec![user(vec![text(&long), Content::CachePoint(ONE_HOUR)])],
    );
    req.cache_placement = CachePlacement::Automatic;
    let input = build(&req).unwrap();
    assert_eq!(
        described(&input),
        [vec![format!("text:{long}"), "cachePoint".to_owned()]]
    );
}

#[test]
fn system_markers_need_text_before_them() {
    let mut req = explicit(claude(SONNET, 64000), vec![Message::user_text("Hi")]);
    req.system_blocks = vec![
        SystemBlock::CachePoint(ONE_HOUR),
        SystemBlock::Text("A".into()),
        SystemBlock::Text("  ".into()),
        SystemBlock::CachePoint(ONE_HOUR),
        SystemBlock::CachePoint(CachePoint::default()),
    ];
    let input = build(&req).unwrap();
    assert_eq!(input.system.len(), 2);
    assert_eq!(input.system[0], SystemContentBlock::Text("A".into()));
    assert!(
        matches!(&input.system[1], SystemContentBlock::CachePoint(p) if p.ttl() == Some(&WireCacheTtl::OneHour))
    );
}

#[test]
fn document_names_are_sanitised() {
    for (name, want) in [
        ("report.pdf", "report pdf"),
        (
            "Q3  results (final) [v2]-draft",
            "Q3 results (final) [v2]-draft",
        ),
        ("  tab\there\n", "tab here"),
        ("Ünïcode_name", "n code name"),
        ("...", "document"),
        ("", "document"),
    ] {
        assert_eq!(document_name(name), want, "{name:?}");
    }
    let err = build(&StreamRequest::new(
        claude(SONNET, 64000),
        vec![user(vec![Content::Document {
            format: "rtf".into(),
            name: "x".into(),
            data: vec![1],
        }])],
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported document format `rtf` in the conversation: expected pdf, csv, doc, docx, xls, xlsx, html, txt or md"
    );
}

#[test]
fn additional_fields_merge_and_conflicts_name_the_key() {
    let mut req = StreamRequest::new(claude(SONNET, 64000), vec![Message::user_text("Hi")]);
    req.thinking = Some(ThinkingBudget::Tokens(2048));
    req.additional_fields.insert(
        "thinking".into(),
        serde_json::json!({"type": "enabled", "budget_tokens": 2048}),
    );
    req.additional_fields
        .insert("custom".into(), serde_json::json!(1));
    let fields = from_document(&build(&req).unwrap().additional_fields.unwrap());
    assert_eq!(fields["custom"], 1);
    assert_eq!(fields["thinking"]["budget_tokens"], 2048);

    req.additional_fields.insert(
        "thinking".into(),
        serde_json::json!({"type": "enabled", "budget_tokens": 4096}),
    );
    let err = build(&req).unwrap_err();
    assert_eq!(err.kind(), crate::types::ErrorKind::Validation);
    assert_eq!(
        err.to_string(),
        "additional model request field `thinking` from the request conflicts with the value the adapter sets for extended thinking: expected the same value or no such field"
    );

    // The model configuration's fields: merged under the request's, conflicts named too.
    req.additional_fields.clear();
    let mut model = claude(SONNET, 64000);
    model.additional_model_request_fields = Some(
        serde_json::json!({"custom": 1, "thinking": {"type": "disabled"}})
            .as_object()
            .unwrap()
            .clone(),
    );
    req.model = model;
    let err = build(&req).unwrap_err();
    assert_eq!(
        err.to_string(),
        "additional model request field `thinking` from the model configuration conflicts with the value the adapter sets for extended thinking: expected the same value or no such field"
    );
    req.thinking = None;
    req.additional_fields
        .insert("custom".into(), serde_json::json!(2));
    let fields = from_document(&build(&req).unwrap().additional_fields.unwrap());
    assert_eq!(
        fields,
        serde_json::json!({"custom": 2, "thinking": {"type": "disabled"}})
    );
}

#[test]
fn explicit_thinking_budgets() {
    use super::model::thinking_for;
    let sonnet = claude(SONNET, 64000);
    let tokens = Some(ThinkingBudget::Tokens(2048));
    assert_eq!(
        thinking_for(&sonnet, tokens, ReasoningLevel::High, Some(4000)),
        Thinking::Budget {
            max_tokens: 4000,
            budget_tokens: 2048,
            interleaved: true
        }
    );
    // Adaptive on a model without adaptive thinking: the medium level.
    assert_eq!(
        thinking_for(
            &sonnet,
            Some(ThinkingBudget::Adaptive),
            ReasoningLevel::Off,
            Some(4000)
        ),
        thinking(&sonnet, ReasoningLevel::Medium, Some(4000))
    );
    let opus = claude("us.anthropic.claude-opus-4-6-v1", 128000);
    assert_eq!(
        thinking_for(
            &opus,
            Some(ThinkingBudget::Adaptive),
            ReasoningLevel::Low,
            Some(4000)
        ),
        Thinking::Adaptive {
            max_tokens: 4000,
            effort: None
        }
    );
    // A budget on an adaptive model is a budget.
    assert!(matches!(
        thinking_for(&opus, tokens, ReasoningLevel::Off, Some(4000)),
        Thinking::Budget {
            budget_tokens: 2048,
            ..
        }
    ));
    // No thinking for a model without reasoning.
    let mut plain = claude(SONNET, 64000);
    plain.reasoning = false;
    assert_eq!(
        thinking_for(&plain, tokens, ReasoningLevel::Off, Some(4000)),
        Thinking::Off { max_tokens: 4000 }
    );
}

#[test]
fn top_k_and_betas_only_for_claude() {
    let mut req = StreamRequest::new(claude(SONNET, 64000), vec![Message::user_text("Hi")]);
    req.top_k = Some(40);
    req.top_p = Some(0.9);
    req.anthropic_beta = vec!["context-1m-2025-08-07".into()];
    let input = build(&req).unwrap();
    assert_eq!(input.inference.top_p(), Some(0.9));
    assert_eq!(
        from_document(&input.additional_fields.unwrap()),
        serde_json::json!({"top_k": 40, "anthropic_beta": ["context-1m-2025-08-07"]})
    );
    // With thinking: top_k is not sent, the interleaved beta comes first.
    req.thinking = Some(ThinkingBudget::Tokens(2048));
    let fields = from_document(&build(&req).unwrap().additional_fields.unwrap());
    assert!(fields.get("top_k").is_none());
    assert_eq!(
        fields["anthropic_beta"],
        serde_json::json!(["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"])
    );
    req.model = claude("us.meta.llama3-3-70b-instruct-v1:0", 8192);
    req.model.reasoning = false;
    let input = build(&req).unwrap();
    assert!(input.additional_fields.is_none());
    assert_eq!(input.inference.top_p(), Some(0.9));
}

#[test]
fn explicit_budget_keeps_a_total_above_it() {
    use super::model::thinking_for;
    let mut sonnet = ModelDefinition::new("anthropic.claude-sonnet-4-5-20250929-v1:0", "Sonnet");
    sonnet.reasoning = true;
    sonnet.max_tokens = 64_000;
    let tokens = Some(ThinkingBudget::Tokens(31_999));
    // Claude Code's request: 32000 in all, 31999 of them thinking.
    assert_eq!(
        thinking_for(&sonnet, tokens, ReasoningLevel::Off, Some(32_000)),
        Thinking::Budget {
            max_tokens: 32_000,
            budget_tokens: 31_999,
            interleaved: true
        }
    );
    // A total at or below the budget is raised as for levels.
    assert_eq!(
        thinking_for(
            &sonnet,
            Some(ThinkingBudget::Tokens(2048)),
            ReasoningLevel::Off,
            Some(1000)
        )
        .max_tokens(),
        3048
    );
    // Capped by the model.
    sonnet.max_tokens = 8192;
    assert_eq!(
        thinking_for(&sonnet, tokens, ReasoningLevel::Off, Some(32_000)),
        Thinking::Budget {
            max_tokens: 8192,
            budget_tokens: 7168,
            interleaved: true
        }
    );
}

#[test]
fn capabilities_decide_cache_points_parameters_and_media() {
    use crate::types::ToolDefinition;
    let long = "y".repeat(4 * 4096);
    let tool = ToolDefinition {
        name: "lookup".into(),
        description: long.clone(),
        parameters: serde_json::json!({"type": "object"}),
    };
    // Automatic: after the tools, the system prompt and the last user message, each segment
    // at least the minimum (Sonnet 4.5: 1024 tokens, estimated as bytes / 4).
    let mut req = StreamRequest::new(claude(SONNET, 64000), vec![Message::user_text(&long)]);
    req.system = Some(long.clone());
    req.tools = vec![tool.clone()];
    let input = build(&req).unwrap();
    let tools = input.tool_config.clone().unwrap();
    assert!(matches!(tools.tools().last(), Some(Tool::CachePoint(_))));
    assert!(matches!(
        input.system.last(),
        Some(SystemContentBlock::CachePoint(_))
    ));
    assert_eq!(described(&input)[0].last().unwrap(), "cachePoint");

    // Short segments: no point; a short system prompt joins the messages' segment.
    let mut req = StreamRequest::new(claude(SONNET, 64000), vec![Message::user_text(&long)]);
    req.system = Some("Short.".into());
    let input = build(&req).unwrap();
    assert_eq!(input.system.len(), 1);
    assert_eq!(described(&input)[0].last().unwrap(), "cachePoint");

    // Amazon Nova caches system and messages, never after the tools.
    let mut req = StreamRequest::new(
        ModelDefinition::new("us.amazon.nova-pro-v1:0", "nova"),
        vec![Message::user_text(&long)],
    );
    req.tools = vec![tool.clone()];
    let input = build(&req).unwrap();
    let tools = input.tool_config.clone().unwrap();
    assert!(tools.tools().iter().all(|t| matches!(t, Tool::ToolSpec(_))));
    assert_eq!(described(&input)[0].last().unwrap(), "cachePoint");

    // An application profile ARN is unknown without its base model: no cache points, no
    // thinking fields; with `baseModel` it is decided exactly as the base model.
    let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
    let mut req = StreamRequest::new(claude(arn, 64000), vec![Message::user_text(&long)]);
    req.system = Some(long.clone());
    req.reasoning = ReasoningLevel::High;
    req.tools = vec![tool];
    req.top_k = Some(5);
    let input = build(&req).unwrap();
    assert_eq!(input.system.len(), 1);
    assert!(described(&input)[0].iter().all(|b| b != "cachePoint"));
    assert!(input.additional_fields.is_none());
    let mut base = req.clone();
    base.model.base_model = Some("anthropic.claude-sonnet-4-5-20250929-v1:0".into());
    let mut same = req.clone();
    same.model = claude(SONNET, 64000);
    let (a, b) = (build(&base).unwrap(), build(&same).unwrap());
    assert_eq!(a.model_id, arn);
    assert_eq!(a.system, b.system);
    assert_eq!(a.messages, b.messages);
    assert_eq!(a.tool_config, b.tool_config);
    assert_eq!(a.additional_fields, b.additional_fields);
    assert_eq!(a.inference, b.inference);

    // temperature and top_p together: Sonnet 4.5 takes one (temperature kept), Sonnet 4 both.
    let mut req = StreamRequest::new(claude(SONNET, 64000), vec![Message::user_text("Hi")]);
    req.temperature = Some(0.5);
    req.top_p = Some(0.9);
    let input = build(&req).unwrap();
    assert_eq!(input.inference.temperature(), Some(0.5));
    assert_eq!(input.inference.top_p(), None);
    req.model = claude("anthropic.claude-sonnet-4-20250514-v1:0", 64000);
    assert_eq!(build(&req).unwrap().inference.top_p(), Some(0.9));
    // top_p below 0.95 while thinking: not sent; 0.95 and above: sent.
    req.temperature = None;
    req.reasoning = ReasoningLevel::Low;
    assert_eq!(build(&req).unwrap().inference.top_p(), None);
    req.top_p = Some(0.97);
    assert_eq!(build(&req).unwrap().inference.top_p(), Some(0.97));

    // Documents: a family without them gets a placeholder text.
    let doc = Content::Document {
        format: "pdf".into(),
        name: "a".into(),
        data: vec![1],
    };
    let req = StreamRequest::new(
        ModelDefinition::new("amazon.nova-micro-v1:0", "micro"),
        vec![user(vec![text("Read"), doc])],
    );
    assert_eq!(
        described(&build(&req).unwrap()),
        [vec![
            "text:Read".to_owned(),
            format!("text:{DOCUMENT_OMITTED}")
        ]]
    );
}

#[test]
fn guardrails_and_response_field_paths() {
    use openclaw_config::{GuardrailConfig, GuardrailStreamMode, GuardrailTrace};
    let mut model = claude(SONNET, 64000);
    model.guardrail = Some(GuardrailConfig {
        identifier: "gr-model".into(),
        version: "1".into(),
        trace: None,
        stream_processing_mode: None,
    });
    model.additional_model_response_field_paths = vec!["/stop_sequence".into(), "/a".into()];
    let mut req = StreamRequest::new(model, vec![Message::user_text("Hi")]);
    req.stop_sequences = vec!["END".into()];
    req.additional_response_field_paths = vec!["/b".into(), "/a".into()];
    let input = build(&req).unwrap();
    let g = input.guardrail.unwrap();
    assert_eq!(g.guardrail_identifier(), "gr-model");
    assert_eq!(g.trace().as_str(), "disabled");
    assert_eq!(g.stream_processing_mode().as_str(), "sync");
    assert_eq!(
        input.response_field_paths.unwrap(),
        ["/stop_sequence", "/a", "/b"]
    );
    req.guardrail = Some(GuardrailConfig {
        identifier: "gr-request".into(),
        version: "DRAFT".into(),
        trace: Some(GuardrailTrace::Enabled),
        stream_processing_mode: Some(GuardrailStreamMode::Async),
    });
    let g = build(&req).unwrap().guardrail.unwrap();
    assert_eq!(g.guardrail_identifier(), "gr-request");
    assert_eq!(g.guardrail_version(), "DRAFT");
    assert_eq!(g.trace().as_str(), "enabled");
    assert_eq!(g.stream_processing_mode().as_str(), "async");
}

/// Counts WARN events on the thread it is the default subscriber of.
#[derive(Default)]
struct WarnCounter(std::sync::atomic::AtomicUsize);

impl tracing::Subscriber for WarnCounter {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if *event.metadata().level() == tracing::Level::WARN {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn an_unknown_model_is_warned_about_once() {
    let counter = std::sync::Arc::new(WarnCounter::default());
    tracing::subscriber::with_default(counter.clone(), || {
        for id in [
            "acme.warn-once-test-model-v1:0",
            "acme.warn-once-test-model-v1:0",
            "acme.warn-once-test-model-v1:0",
            "acme.warn-once-other-model-v1:0",
        ] {
            let req = StreamRequest::new(claude(id, 8192), vec![Message::user_text("Hi")]);
            let input = build(&req).unwrap();
            assert!(input.additional_fields.is_none());
        }
        // A known model: no warning.
        build(&StreamRequest::new(
            claude(SONNET, 8192),
            vec![Message::user_text("Hi")],
        ))
        .unwrap();
    });
    assert_eq!(counter.0.load(std::sync::atomic::Ordering::Relaxed), 2);
}
