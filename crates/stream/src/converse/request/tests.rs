use openclaw_config::ModelDefinition;

use super::model::{Thinking, same_family, supports_caching, thinking};
use super::*;
use crate::types::ReasoningLevel;

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
    // Capped by the model: 8192 + 16384 > 20000, budget kept (20000 > 16384).
    let small = claude("anthropic.claude-3-7-sonnet-20250219-v1:0", 20000);
    assert_eq!(
        thinking(&small, ReasoningLevel::High, Some(8192)),
        Thinking::Budget {
            max_tokens: 20000,
            budget_tokens: 16384,
            interleaved: true
        }
    );
    // No room: budget shrinks to max - 1024.
    let tiny = claude("anthropic.claude-3-7-sonnet-20250219-v1:0", 8192);
    assert_eq!(
        thinking(&tiny, ReasoningLevel::Medium, Some(4096)),
        Thinking::Budget {
            max_tokens: 8192,
            budget_tokens: 7168,
            interleaved: true
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
    let mut priced = ModelDefinition::new("meta.llama3-70b-instruct-v1:0", "x");
    priced.cost.cache_read = 0.1;
    assert!(supports_caching(&priced));
}

#[test]
fn documents_round_trip() {
    let v = serde_json::json!({"a": [1, -2, 2.5, null, true, "s"], "b": {}});
    assert_eq!(from_document(&to_document(&v)), v);
}

#[test]
fn unsupported_image_is_a_clear_error() {
    let mut m = ModelDefinition::new("anthropic.claude-3-5-haiku-20241022-v1:0", "x");
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
