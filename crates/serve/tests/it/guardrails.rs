//! Guardrails, `response_format` and pass-through fields on both client APIs, against Bedrock
//! (the real Converse adapter and fake-bedrock's guardrail).

use fake_bedrock::{GUARDRAIL_BLOCKED_MESSAGE, GUARDRAIL_ID, GUARDRAIL_TRIGGER, Turn};
use serde_json::{Value, json};

use crate::support::*;

const ANTHROPIC: &[(&str, &str)] = &[("anthropic-version", "2023-06-01")];

fn guardrail() -> Value {
    json!({"identifier": GUARDRAIL_ID, "version": "1", "trace": "enabled"})
}

fn last_body(fake: &fake_bedrock::FakeBedrock) -> Value {
    let request = converse_streams(fake)
        .pop()
        .expect("a converse-stream request");
    serde_json::from_slice(&request.body).expect("json body")
}

/// A guardrail intervention ends OpenAI answers with `content_filter` (streamed and not) and
/// Anthropic answers with `refusal`, the guardrail's message as content and its trace attached.
#[tokio::test]
async fn guardrail_interventions_on_both_routes() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let target = served.target();
    let prompt = format!("Tell me about the {GUARDRAIL_TRIGGER}.");

    let body = json!({"model": HAIKU, "guardrail": guardrail(),
        "messages": [{"role": "user", "content": prompt}]});
    let resp = target.chat(&body, &[]).await;
    assert_eq!(resp.status, 200);
    let completion = resp.json().await;
    assert_eq!(completion["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        completion["choices"][0]["message"]["content"],
        GUARDRAIL_BLOCKED_MESSAGE
    );
    assert_eq!(
        completion["guardrail_trace"]["inputAssessment"][GUARDRAIL_ID]["wordPolicy"]["customWords"]
            [0]["match"],
        GUARDRAIL_TRIGGER
    );
    assert_eq!(
        last_body(&fake)["guardrailConfig"],
        json!({"guardrailIdentifier": GUARDRAIL_ID, "guardrailVersion": "1", "trace": "enabled",
               "streamProcessingMode": "sync"})
    );

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let events = target.chat(&streamed, &[]).await.sse().await;
    let (chunks, done) = chunks(&events);
    assert!(done, "{events:?}");
    assert_eq!(joined(&chunks, "content"), GUARDRAIL_BLOCKED_MESSAGE);
    let last = chunks
        .iter()
        .rfind(|c| c["choices"][0]["finish_reason"].is_string())
        .expect("a finish chunk");
    assert_eq!(last["choices"][0]["finish_reason"], "content_filter");
    assert!(last["guardrail_trace"].is_object(), "{last}");

    let body = json!({"model": HAIKU, "max_tokens": 100, "guardrail": guardrail(),
        "messages": [{"role": "user", "content": prompt}]});
    let resp = target.messages(&body, ANTHROPIC).await;
    assert_eq!(resp.status, 200);
    let message = resp.json().await;
    assert_eq!(message["stop_reason"], "refusal");
    assert_eq!(message["content"][0]["text"], GUARDRAIL_BLOCKED_MESSAGE);
    assert_eq!(
        message["guardrail_trace"]["actionReason"],
        "Guardrail blocked."
    );

    // An unknown guardrail is Bedrock's ResourceNotFoundException: 404 on both routes.
    let body = json!({"model": HAIKU, "guardrail": {"identifier": "nosuchguardrail", "version": "1"},
        "messages": [{"role": "user", "content": "Hi"}]});
    let (status, _, error) = target.chat(&body, &[]).await.error().await;
    assert_eq!(status, 404, "{error}");
}

/// `response_format` with a JSON schema: a forced tool on Bedrock, the tool's arguments as
/// the content, `finish_reason: "stop"`.
#[tokio::test]
async fn response_format_json_schema_answers_with_json_content() {
    let fake = fake().await;
    fake.script(
        Turn::new()
            .with_tool_use("tooluse_1", "Person", json!({"name": "Ada", "age": 36}))
            .times(2),
    );
    let served = serve(Setup::default().bedrock(&fake)).await;
    let target = served.target();
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"},
        "age": {"type": "integer"}}, "required": ["name", "age"], "additionalProperties": false});
    let body = json!({"model": HAIKU, "messages": [{"role": "user", "content": "Who?"}],
        "response_format": {"type": "json_schema",
            "json_schema": {"name": "Person", "schema": schema, "strict": true}}});
    let completion = target.chat(&body, &[]).await.json().await;
    assert_eq!(completion["choices"][0]["finish_reason"], "stop");
    let content: Value = serde_json::from_str(
        completion["choices"][0]["message"]["content"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(content, json!({"name": "Ada", "age": 36}));
    let sent = last_body(&fake);
    assert_eq!(
        sent["toolConfig"]["toolChoice"],
        json!({"tool": {"name": "Person"}})
    );
    assert_eq!(
        sent["toolConfig"]["tools"][0]["toolSpec"]["inputSchema"]["json"],
        schema
    );

    let mut streamed = body.clone();
    streamed["stream"] = json!(true);
    let (chunks, done) = chunks(&target.chat(&streamed, &[]).await.sse().await);
    assert!(done);
    let content: Value = serde_json::from_str(&joined(&chunks, "content")).unwrap();
    assert_eq!(content, json!({"name": "Ada", "age": 36}));
    assert!(
        chunks
            .iter()
            .all(|c| c["choices"][0]["delta"].get("tool_calls").is_none())
    );
}

/// Pass-through fields from the request reach Bedrock; parameters Bedrock cannot honour are
/// refused with a 400 naming them.
#[tokio::test]
async fn pass_through_fields_and_refused_parameters() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let target = served.target();
    let body = json!({"model": HAIKU, "messages": [{"role": "user", "content": "Hi"}],
        "additional_model_request_fields": {"custom": {"a": 1}},
        "additional_model_response_field_paths": ["/custom"]});
    assert_eq!(target.chat(&body, &[]).await.status, 200);
    let sent = last_body(&fake);
    assert_eq!(
        sent["additionalModelRequestFields"],
        json!({"custom": {"a": 1}})
    );
    assert_eq!(
        sent["additionalModelResponseFieldPaths"],
        json!(["/custom"])
    );

    let body = json!({"model": HAIKU, "max_tokens": 50,
        "messages": [{"role": "user", "content": "Hi"}],
        "additional_model_request_fields": {"custom": true}});
    let resp = target.messages(&body, ANTHROPIC).await;
    assert_eq!(resp.status, 200);
    assert_eq!(
        last_body(&fake)["additionalModelRequestFields"],
        json!({"custom": true})
    );

    let body = json!({"model": HAIKU, "messages": [{"role": "user", "content": "Hi"}], "seed": 42});
    let (status, _, error) = target.chat(&body, &[]).await.error().await;
    assert_eq!(status, 400);
    assert_eq!(error["error"]["param"], "seed", "{error}");
}

/// An application profile ARN (discovered, with its base model) gets the cache points and
/// thinking fields of its base model: the Converse body Bedrock receives is the same but for
/// the model in the path.
#[tokio::test]
async fn an_application_profile_is_decided_as_its_base_model() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let target = served.target();
    let app = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";
    let base = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let mut bodies = Vec::new();
    for model in [app, base] {
        let body = json!({"model": model, "reasoning_effort": "low", "max_tokens": 2000,
            "messages": [
                {"role": "system", "content": "Stable instructions. ".repeat(300)},
                {"role": "user", "content": "Hi"}]});
        let resp = target.chat(&body, &[]).await;
        assert_eq!(resp.status, 200, "{model}");
        let mut sent = last_body(&fake);
        sent.as_object_mut().unwrap().remove("modelId");
        bodies.push(sent);
    }
    assert_eq!(bodies[0], bodies[1]);
    assert!(
        bodies[0]["system"][1]["cachePoint"].is_object(),
        "{}",
        bodies[0]
    );
    assert_eq!(
        bodies[0]["additionalModelRequestFields"]["thinking"]["type"],
        "enabled"
    );
}

/// A model the capabilities table cannot place (a provisioned throughput ARN, no base model
/// known) gets no cache point and no thinking fields, and Bedrock answers.
#[tokio::test]
async fn a_model_unknown_to_the_table_gets_no_cache_point_and_no_400() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let arn = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7q2w9e4r1t";
    let body = json!({"model": arn, "reasoning_effort": "high",
        "messages": [
            {"role": "system", "content": "Stable instructions. ".repeat(300)},
            {"role": "user", "content": "Hi"}]});
    let resp = served.target().chat(&body, &[]).await;
    assert_eq!(resp.status, 200);
    let sent = last_body(&fake);
    assert_eq!(sent["system"].as_array().map(Vec::len), Some(1), "{sent}");
    assert!(sent.get("additionalModelRequestFields").is_none(), "{sent}");
    assert!(
        sent["messages"][0]["content"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b.get("cachePoint").is_none())
    );
}

/// Streamed on the Messages route: the refusal is the `message_delta` stop reason, with the
/// guardrail's trace beside it.
#[tokio::test]
async fn a_streamed_messages_refusal_carries_the_trace() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let body = json!({"model": HAIKU, "max_tokens": 100, "stream": true, "guardrail": guardrail(),
        "messages": [{"role": "user", "content": format!("About the {GUARDRAIL_TRIGGER}")}]});
    let resp = served
        .target()
        .request(
            "POST",
            "/v1/messages",
            ANTHROPIC,
            Some(serde_json::to_vec(&body).unwrap()),
        )
        .await;
    assert_eq!(resp.status, 200);
    let raw = resp.text().await;
    let delta: Value = raw
        .split("\n\n")
        .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|d| d["type"] == "message_delta")
        .expect("a message_delta event");
    assert_eq!(delta["delta"]["stop_reason"], "refusal");
    assert_eq!(
        delta["guardrail_trace"]["actionReason"],
        "Guardrail blocked."
    );
    assert!(raw.contains(&GUARDRAIL_BLOCKED_MESSAGE[..5]), "{raw}");
    assert!(raw.contains("event: message_stop"), "{raw}");
}
