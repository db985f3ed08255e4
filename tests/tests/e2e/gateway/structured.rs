//! Structured outputs and guardrails through the official `openai` Python client.

use fake_bedrock::Turn;
use serde_json::json;

use super::support::{Gateway, MODEL, fake};
use super::{python_with, run_python};

/// `client.chat.completions.parse` with a pydantic model: the gateway turns the JSON schema
/// into a forced Bedrock tool and answers with its arguments as the content, which the client
/// validates; a request guardrail (extension field) ends with `content_filter`; `seed` is a
/// 400 naming it.
#[tokio::test]
async fn official_openai_python_client_parse_and_guardrail() {
    let Some(python) = python_with("openai") else {
        return;
    };
    let fake = fake().await;
    fake.script(
        Turn::new()
            .with_tool_use(
                "tooluse_parse",
                "Person",
                json!({"name": "Ada Lovelace", "age": 36}),
            )
            .chunk_size(4),
    );
    let token = "gw-python-parse-31bb";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let base_url = format!("http://{}/v1", gw.addr);
    let result = run_python(
        &python,
        "openai_parse.py",
        &[
            ("OPENAI_BASE_URL", &base_url),
            ("OPENAI_API_KEY", token),
            ("MODEL", MODEL),
            ("GUARDRAIL_ID", fake_bedrock::GUARDRAIL_ID),
            ("GUARDRAIL_TRIGGER", fake_bedrock::GUARDRAIL_TRIGGER),
        ],
    )
    .await;
    assert_eq!(result["parsed"], json!({"name": "Ada Lovelace", "age": 36}));
    assert_eq!(
        result["content"],
        json!({"name": "Ada Lovelace", "age": 36})
    );
    assert_eq!(result["finish_reason"], "stop");
    assert_eq!(result["tool_calls"], json!(null));
    let sent: serde_json::Value = fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/converse-stream"))
        .find_map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).ok())
        .expect("a converse-stream request");
    assert_eq!(
        sent["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "Person"}})
    );
    assert_eq!(result["guardrail_finish_reason"], "content_filter");
    assert_eq!(
        result["guardrail_content"],
        fake_bedrock::GUARDRAIL_BLOCKED_MESSAGE
    );
    assert_eq!(result["guardrail_trace"], true);
    assert_eq!(result["seed_status"], 400);
    assert_eq!(result["seed_param"], "seed");
}

/// The official `anthropic` Python client with a request guardrail (`extra_body`): the
/// intervention is `stop_reason: "refusal"` with the guardrail's message, streamed and not.
#[tokio::test]
async fn official_anthropic_python_client_guardrail_refusal() {
    let Some(python) = python_with("anthropic") else {
        return;
    };
    let fake = fake().await;
    let token = "gw-anthropic-guardrail-62cc";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let base_url = format!("http://{}", gw.addr);
    let result = run_python(
        &python,
        "anthropic_guardrail.py",
        &[
            ("ANTHROPIC_BASE_URL", &base_url),
            ("ANTHROPIC_API_KEY", token),
            ("MODEL", MODEL),
            ("GUARDRAIL_ID", fake_bedrock::GUARDRAIL_ID),
            ("GUARDRAIL_TRIGGER", fake_bedrock::GUARDRAIL_TRIGGER),
        ],
    )
    .await;
    assert_eq!(result["stop_reason"], "refusal");
    assert_eq!(result["text"], fake_bedrock::GUARDRAIL_BLOCKED_MESSAGE);
    assert_eq!(result["trace"], true);
    assert_eq!(result["streamed_stop_reason"], "refusal");
    assert_eq!(
        result["streamed_text"],
        fake_bedrock::GUARDRAIL_BLOCKED_MESSAGE
    );
}
