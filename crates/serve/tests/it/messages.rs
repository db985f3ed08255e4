//! Anthropic's Messages API against Bedrock (the real Converse adapter and the fake): the SSE
//! sequence, the Converse request Bedrock receives for cache_control, thinking replay,
//! documents and tool results, Anthropic model names, count_tokens, errors in Anthropic's
//! shape, and the paged model list.

use base64::Engine as _;
use fake_bedrock::{Fault, Rule, Turn, Usage};
use serde_json::{Value, json};

use crate::support::*;

const HEADERS: &[(&str, &str)] = &[
    ("anthropic-version", "2023-06-01"),
    (
        "anthropic-beta",
        "claude-code-20250219,interleaved-thinking-2025-05-14,context-1m-2025-08-07",
    ),
];

async fn post(target: &Target, path: &str, body: &Value) -> Resp {
    let body = serde_json::to_vec(body).expect("json");
    target.request("POST", path, HEADERS, Some(body)).await
}

/// The SSE events as (name, data).
fn events(raw: &str) -> Vec<(String, Value)> {
    raw.split("\n\n")
        .filter(|chunk| !chunk.trim().is_empty())
        .map(|chunk| {
            let mut name = String::new();
            let mut data = Value::Null;
            for line in chunk.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).expect("json data");
                }
            }
            (name, data)
        })
        .collect()
}

/// The JSON body of the last runtime request the fake received, object keys sorted (the SDK
/// writes `additionalModelRequestFields` from a hash map, in no fixed order).
fn last_converse(fake: &fake_bedrock::FakeBedrock) -> (String, Value) {
    let request = converse_streams(fake)
        .pop()
        .expect("a converse-stream request");
    let body: Value = serde_json::from_slice(&request.body).expect("json body");
    (request.path.clone(), sorted(body))
}

fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[tokio::test]
async fn streams_thinking_and_text_with_cache_points_where_the_client_put_them() {
    let fake = fake().await;
    fake.script(
        Turn::new()
            .with_reasoning("Let me think.", "sig-abc")
            .with_text("Four.")
            .usage(Usage {
                input_tokens: 12,
                output_tokens: 6,
                cache_read_input_tokens: 100,
                cache_write_input_tokens: 20,
            }),
    );
    let served = serve(Setup::default().bedrock(&fake)).await;
    let body = json!({
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 4096,
        "stream": true,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "metadata": {"user_id": "user-1"},
        "system": [
            {"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
            {"type": "text", "text": "Answer in English."},
        ],
        "tools": [{"name": "calc", "description": "Adds", "input_schema": {"type": "object"},
                   "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is 2+2?", "cache_control": {"type": "ephemeral"}},
            ]},
        ],
    });
    let resp = post(&served.target(), "/v1/messages", &body).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers["content-type"], "text/event-stream");
    let events = events(&resp.text().await);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(&names[names.len() - 2..], ["message_delta", "message_stop"]);
    let thinking: String = events
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "thinking_delta")
        .map(|(_, d)| d["delta"]["thinking"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(thinking, "Let me think.");
    assert!(
        events
            .iter()
            .any(|(_, d)| d["delta"] == json!({"type": "signature_delta", "signature": "sig-abc"}))
    );
    let text: String = events
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "text_delta")
        .map(|(_, d)| d["delta"]["text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(text, "Four.");
    let delta = &events[events.len() - 2].1;
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(
        delta["usage"],
        json!({"input_tokens": 12, "output_tokens": 6, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 100})
    );

    // The Anthropic name went to the region's inference profile, and Bedrock got exactly the
    // client's cache points, the passed betas and the thinking budget.
    let (path, converse) = last_converse(&fake);
    assert_eq!(
        path,
        "/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/converse-stream"
    );
    insta::assert_json_snapshot!("messages_cache_points_and_thinking", converse);
}

#[tokio::test]
async fn tool_round_trip_with_image_result_pdf_and_redacted_thinking_replay() {
    let fake = fake().await;
    fake.script(Turn::text("It is a cat reading a PDF."));
    let served = serve(Setup::default().bedrock(&fake)).await;
    let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nimage-bytes");
    let pdf = base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.4 tiny");
    let secret = base64::engine::general_purpose::STANDARD.encode(b"encrypted-thinking");
    let body = json!({
        "model": MODEL,
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "tools": [weather_like_tool()],
        "messages": [
            {"role": "user", "content": [
                {"type": "document", "title": "Report", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf}},
                {"type": "text", "text": "Look at the screen."},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": secret},
                {"type": "tool_use", "id": "toolu_01", "name": "screenshot", "input": {}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": [
                    {"type": "text", "text": "here"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": png}},
                ]},
            ]},
        ],
    });
    let resp = post(&served.target(), "/v1/messages", &body).await;
    assert_eq!(resp.status, 200);
    let message = resp.json().await;
    assert_eq!(message["type"], "message");
    assert_eq!(message["role"], "assistant");
    assert_eq!(message["stop_reason"], "end_turn");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "It is a cat reading a PDF."}])
    );
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    let (_, converse) = last_converse(&fake);
    insta::assert_json_snapshot!("messages_tool_round_trip_pdf_image_redacted", converse);
}

fn weather_like_tool() -> Value {
    json!({"name": "screenshot", "description": "Takes a screenshot", "input_schema": {"type": "object", "properties": {}}})
}

#[tokio::test]
async fn streamed_tool_use_and_count_tokens() {
    let fake = fake().await;
    fake.script(Turn::new().with_tool_use("toolu_7", "screenshot", json!({"zoom": 2})));
    let served = serve(Setup::default().bedrock(&fake)).await;
    let body = json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1000,
        "stream": true,
        "tools": [weather_like_tool()],
        "messages": [{"role": "user", "content": "Take a screenshot"}],
    });
    let resp = post(&served.target(), "/v1/messages", &body).await;
    assert_eq!(resp.status, 200);
    let events = events(&resp.text().await);
    let start = events
        .iter()
        .find(|(n, d)| n == "content_block_start" && d["content_block"]["type"] == "tool_use")
        .expect("tool_use block");
    assert_eq!(start.1["content_block"]["id"], "toolu_7");
    assert_eq!(start.1["content_block"]["name"], "screenshot");
    let args: String = events
        .iter()
        .filter(|(_, d)| d["delta"]["type"] == "input_json_delta")
        .map(|(_, d)| d["delta"]["partial_json"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"zoom": 2})
    );
    assert_eq!(
        events[events.len() - 2].1["delta"]["stop_reason"],
        "tool_use"
    );

    let count = json!({
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": "How many tokens is this?"}],
    });
    let resp = post(&served.target(), "/v1/messages/count_tokens", &count).await;
    assert_eq!(resp.status, 200);
    let counted = resp.json().await;
    assert!(counted["input_tokens"].as_u64().unwrap() > 0, "{counted}");
    let request = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/count-tokens"))
        .expect("a CountTokens call");
    // Bedrock counts by foundation model, not by inference profile.
    assert_eq!(
        request.path,
        "/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/count-tokens"
    );
}

#[tokio::test]
async fn errors_take_anthropics_shape_and_statuses() {
    let fake = fake().await;
    let mut setup = Setup::default();
    setup.adapter.max_attempts = 1;
    let served = serve(setup.bedrock(&fake)).await;
    let target = served.target();
    let ask = |model: &str| json!({"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});

    // Unknown model: 404 not_found_error with a did-you-mean.
    let resp = post(&target, "/v1/messages", &ask("claude-sonet-4-5")).await;
    assert_eq!(resp.status, 404);
    let body = resp.json().await;
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "not_found_error");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("did you mean `claude-sonnet-4-5`"),
        "{message}"
    );

    // Invalid request: 400 invalid_request_error naming the field.
    let resp = post(
        &target,
        "/v1/messages",
        &json!({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(resp.status, 400);
    let body = resp.json().await;
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_tokens")
    );

    // Throttling: 429 rate_limit_error with retry-after.
    fake.fault(Rule::new(Fault::Throttle).runtime().times(1));
    let resp = post(&target, "/v1/messages", &ask(MODEL)).await;
    assert_eq!(resp.status, 429);
    assert!(resp.headers.contains_key("retry-after"));
    assert_eq!(resp.json().await["error"]["type"], "rate_limit_error");

    // Bedrock unavailable: 529 overloaded_error, with a short wait the SDKs honour.
    fake.fault(Rule::new(Fault::ServiceUnavailable).runtime().times(1));
    let resp = post(&target, "/v1/messages", &ask(MODEL)).await;
    assert_eq!(resp.status, 529);
    assert_eq!(resp.headers["retry-after"], "5");
    assert_eq!(resp.json().await["error"]["type"], "overloaded_error");
    fake.fault(model_not_ready_once());
    let resp = post(&target, "/v1/messages", &ask(MODEL)).await;
    assert_eq!(resp.status, 529);
    assert_eq!(resp.headers["retry-after"], "5");
    assert_eq!(resp.json().await["error"]["type"], "overloaded_error");

    // Bedrock 5xx: api_error.
    fake.fault(Rule::new(Fault::InternalError).runtime().times(1));
    let resp = post(&target, "/v1/messages", &ask(MODEL)).await;
    assert_eq!(resp.status, 502);
    assert_eq!(resp.json().await["error"]["type"], "api_error");

    // Access denied for the model: 403 permission_error.
    fake.fault(Rule::new(Fault::AccessDenied).runtime().times(1));
    let resp = post(&target, "/v1/messages", &ask(MODEL)).await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.json().await["error"]["type"], "permission_error");

    // A newer API version (the SDKs send their release date) is served as well.
    fake.script(Turn::text("ok"));
    let resp = target
        .request(
            "POST",
            "/v1/messages",
            &[("anthropic-version", "2026-10-21")],
            Some(serde_json::to_vec(&ask(MODEL)).unwrap()),
        )
        .await;
    assert_eq!(resp.status, 200);
}

#[tokio::test]
async fn x_api_key_authenticates_and_models_list_in_anthropics_shape() {
    let fake = fake().await;
    fake.script(Turn::text("ok"));
    let mut setup = Setup::default();
    setup.options.token = Some(openclaw_config::Secret::new("gw-token"));
    let served = serve(setup.bedrock(&fake)).await;
    let target = served.target();
    let body = serde_json::to_vec(
        &json!({"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap();
    let resp = target
        .request(
            "POST",
            "/v1/messages",
            &[("x-api-key", "wrong"), ("anthropic-version", "2023-06-01")],
            Some(body.clone()),
        )
        .await;
    assert_eq!(resp.status, 401);
    let error = resp.json().await;
    assert_eq!(error["error"]["type"], "authentication_error");
    // Anthropic's clients send `x-api-key`: the message names both ways this API takes.
    let said = error["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("`x-api-key: <gateway token>` or `Authorization: Bearer <gateway token>`"),
        "{said}"
    );
    let resp = target
        .request(
            "POST",
            "/v1/messages",
            &[
                ("x-api-key", "gw-token"),
                ("anthropic-version", "2023-06-01"),
            ],
            Some(body),
        )
        .await;
    assert_eq!(resp.status, 200);

    let resp = target
        .get(
            "/v1/models",
            &[
                ("x-api-key", "gw-token"),
                ("anthropic-version", "2023-06-01"),
            ],
        )
        .await;
    assert_eq!(resp.status, 200);
    let list = resp.json().await;
    assert_eq!(list["has_more"], false);
    let first = &list["data"][0];
    assert_eq!(first["type"], "model");
    assert!(first["id"].as_str().unwrap().starts_with("amazon-bedrock/"));
    assert!(first["display_name"].is_string());
}

/// Anthropic's `GET /v1/models` pages: `limit` (default 20, 1 to 1000), `after_id` forward,
/// `before_id` back, with `first_id`, `last_id` and `has_more`, as the SDK's paginator reads them.
#[tokio::test]
async fn the_anthropic_model_list_pages_forward_and_back() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let target = served.target();
    let list = |query: String| {
        let target = &target;
        async move {
            let resp = target.get(&format!("/v1/models{query}"), HEADERS).await;
            (resp.status, resp.json().await)
        }
    };
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, whole) = list("?limit=1000".into()).await;
    assert_eq!(status, 200);
    assert_eq!(whole["has_more"], false);
    let all = ids(&whole);
    assert!(all.len() > 2, "{all:?}");
    // Forward by two, as the SDK follows `last_id`.
    let mut seen = Vec::new();
    let mut query = "?limit=2".to_string();
    let mut pages = Vec::new();
    loop {
        let (status, page) = list(query).await;
        assert_eq!(status, 200, "{page}");
        let got = ids(&page);
        assert!(got.len() <= 2);
        assert_eq!(page["first_id"].as_str(), got.first().map(String::as_str));
        assert_eq!(page["last_id"].as_str(), got.last().map(String::as_str));
        seen.extend(got);
        pages.push(page.clone());
        if page["has_more"] == false {
            break;
        }
        let last = page["last_id"].as_str().unwrap();
        query = format!("?limit=2&after_id={}", urlencode(last));
    }
    assert_eq!(seen, all);
    assert_eq!(pages.len(), all.len().div_ceil(2));
    // Back from the second page: the first one, with nothing before it.
    let second_first = pages[1]["first_id"].as_str().unwrap();
    let (status, back) = list(format!("?limit=2&before_id={}", urlencode(second_first))).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&back), ids(&pages[0]));
    assert_eq!(back["has_more"], false);
    // Out of range or unknown: 400 in Anthropic's shape.
    for query in [
        "?limit=0",
        "?limit=1001",
        "?limit=x",
        "?after_id=amazon-bedrock%2Fnope",
    ] {
        let (status, body) = list(query.into()).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(body["type"], "error", "{query}: {body}");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    }
}

/// A query value as the SDKs encode it.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
