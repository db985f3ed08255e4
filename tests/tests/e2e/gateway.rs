//! `openclaw gateway`: the built binary serving OpenAI's Chat Completions API over a fake Bedrock
//! (in-process here, so tests can script turns and inject faults), over real HTTP on loopback.
//!
//! Tests: streaming and non-streaming text, usage with cached tokens, streamed tool calls with a
//! tool round trip, images (data URLs; remote URLs refused), reasoning with the signature round
//! trip, aliases, /v1/models, /healthz, /readyz, /metrics, every error status (400, 401, 404,
//! 413, 429 upstream and concurrency, 502, 503, 504, error event after the stream started), auth
//! on/off, non-loopback refusal, disconnect cancellation, graceful shutdown, and the official
//! `openai` Python client.

mod support;

use std::time::{Duration, Instant};

use fake_bedrock::{Fault, Pacing, Rule, StreamException, Turn, Usage};
use serde_json::{Value, json};
use support::{Gateway, MODEL, chat, chunks, fake, get, joined};

fn user(text: &str) -> Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": text}]})
}

fn streaming(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    body
}

const WEATHER_TOOL: &str = r#"{"type": "function", "function": {"name": "get_weather",
  "description": "Current weather", "parameters": {"type": "object",
  "properties": {"city": {"type": "string"}}, "required": ["city"]}}}"#;

#[tokio::test]
async fn streams_text_with_role_first_usage_and_done() {
    let fake = fake().await;
    fake.script(
        Turn::text("Hello from Bedrock, streamed in pieces.")
            .chunk_size(5)
            .usage(Usage {
                input_tokens: 11,
                output_tokens: 7,
                cache_read_input_tokens: 40,
                cache_write_input_tokens: 3,
            }),
    );
    let gw = Gateway::start(&fake.url(), &[], &[]);
    let resp = chat(&gw.addr, &streaming(user("hi")), &[]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers["content-type"], "text/event-stream");
    let events = resp.sse().await;
    let (chunks, done) = chunks(&events);
    assert!(done, "[DONE] last: {events:?}");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert!(
        chunks
            .iter()
            .all(|c| c["object"] == "chat.completion.chunk")
    );
    assert!(chunks.iter().all(|c| c["model"] == MODEL));
    assert_eq!(
        joined(&chunks, "content"),
        "Hello from Bedrock, streamed in pieces."
    );
    let content_chunks = chunks
        .iter()
        .filter(|c| {
            c["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        })
        .count();
    assert!(content_chunks >= 5, "streamed as deltas: {content_chunks}");
    let finish = &chunks[chunks.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["prompt_tokens"], 54);
    assert_eq!(usage["usage"]["completion_tokens"], 7);
    assert_eq!(usage["usage"]["total_tokens"], 61);
    assert_eq!(usage["usage"]["prompt_tokens_details"]["cached_tokens"], 40);
    // The access log names the request, not its body.
    let log = gw.stderr();
    assert!(
        log.contains("POST /v1/chat/completions 200") && log.contains(MODEL),
        "{log}"
    );
    assert!(!log.contains("hi\""), "no bodies in logs: {log}");
}

#[tokio::test]
async fn non_streaming_answer_and_length_finish() {
    let fake = fake().await;
    let gw = Gateway::start(&fake.url(), &[], &[]);
    let body = chat(&gw.addr, &user("Hello there"), &[]).await.json().await;
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Echo: Hello there"
    );
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert!(body["usage"]["total_tokens"].as_u64().unwrap() > 0);

    fake.script(Turn::text("cut").stop_reason("max_tokens"));
    let mut req = user("long please");
    req["max_completion_tokens"] = json!(5);
    req["temperature"] = json!(0.2);
    req["stop"] = json!(["END"]);
    let body = chat(&gw.addr, &req, &[]).await.json().await;
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    let sent = fake.requests().last().unwrap().json().unwrap();
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 5);
    assert_eq!(sent["inferenceConfig"]["stopSequences"], json!(["END"]));
}

#[tokio::test]
async fn streamed_tool_call_and_tool_round_trip() {
    let fake = fake().await;
    fake.script(
        Turn::new()
            .with_text("Let me check.")
            .with_tool_use(
                "tooluse_abc",
                "get_weather",
                json!({"city": "Paris", "unit": "celsius"}),
            )
            .chunk_size(4),
    );
    let gw = Gateway::start(&fake.url(), &[], &[]);
    let mut req = streaming(user("Weather in Paris?"));
    req["tools"] = json!([serde_json::from_str::<Value>(WEATHER_TOOL).unwrap()]);
    req["tool_choice"] = json!("auto");
    let (chunks, done) = chunks(&chat(&gw.addr, &req, &[]).await.sse().await);
    assert!(done);
    let calls: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"].get(0)?["delta"].get("tool_calls"))
        .collect();
    assert!(
        calls.len() >= 3,
        "id/name first, then argument fragments: {calls:?}"
    );
    assert_eq!(calls[0][0]["index"], 0);
    assert_eq!(calls[0][0]["id"], "tooluse_abc");
    assert_eq!(calls[0][0]["function"]["name"], "get_weather");
    let args: String = calls
        .iter()
        .map(|c| c[0]["function"]["arguments"].as_str().unwrap())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"city": "Paris", "unit": "celsius"})
    );
    assert!(calls[1..].iter().all(|c| c[0].get("id").is_none()));
    let finish = chunks
        .iter()
        .find_map(|c| c["choices"].get(0)?["finish_reason"].as_str())
        .unwrap();
    assert_eq!(finish, "tool_calls");

    // Round trip: the client sends the call back with its result.
    let req = json!({"model": MODEL, "tools": req["tools"], "messages": [
        {"role": "user", "content": "Weather in Paris?"},
        {"role": "assistant", "content": "Let me check.", "tool_calls": [{"id": "tooluse_abc", "type": "function",
          "function": {"name": "get_weather", "arguments": args}}]},
        {"role": "tool", "tool_call_id": "tooluse_abc", "content": "18C and sunny"},
    ]});
    let body = chat(&gw.addr, &req, &[]).await.json().await;
    assert_eq!(
        body["choices"][0]["message"]["content"],
        "Tool result: 18C and sunny"
    );
    let sent = fake.requests().last().unwrap().json().unwrap();
    let messages = sent["messages"].as_array().unwrap();
    assert_eq!(
        messages[1]["content"][1]["toolUse"]["toolUseId"],
        "tooluse_abc"
    );
    assert_eq!(
        messages[1]["content"][1]["toolUse"]["input"],
        json!({"city": "Paris", "unit": "celsius"})
    );
    assert_eq!(
        messages[2]["content"][0]["toolResult"]["toolUseId"],
        "tooluse_abc"
    );
}

#[tokio::test]
async fn images_as_data_urls_and_remote_urls_refused() {
    let fake = fake().await;
    let gw = Gateway::start(&fake.url(), &["--max-image-bytes", "64"], &[]);
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    let req = json!({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": format!("data:image/png;base64,{png}")}},
    ]}]});
    let resp = chat(&gw.addr, &req, &[]).await;
    assert_eq!(
        resp.status, 413,
        "the 70-byte PNG is over the 64-byte limit"
    );
    let err = resp.json().await;
    assert_eq!(err["error"]["code"], "image_too_large");
    drop(gw);

    let gw = Gateway::start(&fake.url(), &[], &[]);
    let resp = chat(&gw.addr, &req, &[]).await;
    assert_eq!(resp.status, 200);
    let sent = fake.requests().last().unwrap().json().unwrap();
    let image = &sent["messages"][0]["content"][1]["image"];
    assert_eq!(image["format"], "png");
    assert_eq!(image["source"]["bytes"], png);

    let remote = json!({"model": MODEL, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]}]});
    let resp = chat(&gw.addr, &remote, &[]).await;
    assert_eq!(resp.status, 400);
    let err = resp.json().await;
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("remote image URLs (https:) are not supported"),
        "{err}"
    );
    assert_eq!(
        err["error"]["param"],
        "messages[0].content[0].image_url.url"
    );
}

#[tokio::test]
async fn reasoning_streams_and_signature_round_trips() {
    let fake = fake().await;
    fake.script(
        Turn::new()
            .with_reasoning("The user wants weather; call the tool.", "c2lnbmF0dXJlLTE=")
            .with_tool_use("tooluse_r1", "get_weather", json!({"city": "Oslo"})),
    );
    let gw = Gateway::start(&fake.url(), &[], &[]);
    let mut req = streaming(user("Weather in Oslo?"));
    req["reasoning_effort"] = json!("high");
    req["tools"] = json!([serde_json::from_str::<Value>(WEATHER_TOOL).unwrap()]);
    let (chunks, done) = chunks(&chat(&gw.addr, &req, &[]).await.sse().await);
    assert!(done);
    let reasoning = joined(&chunks, "reasoning_content");
    assert_eq!(reasoning, "The user wants weather; call the tool.");
    let signature = joined(&chunks, "reasoning_signature");
    assert_eq!(signature, "c2lnbmF0dXJlLTE=");
    let sent = fake.requests().last().unwrap().json().unwrap();
    assert_eq!(
        sent["additionalModelRequestFields"]["thinking"]["type"], "enabled",
        "reasoning_effort turns thinking on: {sent}"
    );

    // The client replays reasoning and signature with the tool result: Bedrock gets them back.
    let req = json!({"model": MODEL, "reasoning_effort": "high", "tools": req["tools"], "messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": null, "reasoning_content": reasoning, "reasoning_signature": signature,
         "tool_calls": [{"id": "tooluse_r1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Oslo\"}"}}]},
        {"role": "tool", "tool_call_id": "tooluse_r1", "content": "-3C"},
    ]});
    let body = chat(&gw.addr, &req, &[]).await.json().await;
    assert_eq!(body["choices"][0]["message"]["content"], "Tool result: -3C");
    let sent = fake.requests().last().unwrap().json().unwrap();
    let replayed = &sent["messages"][1]["content"][0]["reasoningContent"]["reasoningText"];
    assert_eq!(replayed["text"], "The user wants weather; call the tool.");
    assert_eq!(replayed["signature"], "c2lnbmF0dXJlLTE=");
    // Non-streaming answers carry the documented fields too.
    assert!(body["choices"][0]["message"]["reasoning_content"].is_string());
    assert!(body["choices"][0]["message"]["reasoning_signature"].is_string());
}

#[tokio::test]
async fn models_health_ready_metrics_and_aliases() {
    let fake = fake().await;
    let gw = Gateway::start(&fake.url(), &[], &[]);
    let models = get(&gw.addr, "/v1/models", &[]).await.json().await;
    assert_eq!(models["object"], "list");
    let ids: Vec<&str> = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&MODEL), "{ids:?}");
    assert!(ids.iter().all(|id| id.starts_with("amazon-bedrock/")));
    assert!(
        ids.iter().all(|id| id.contains("anthropic")),
        "filter applied"
    );
    let haiku = models["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["aliases"] == json!(["haiku"]))
        .unwrap();
    assert_eq!(
        haiku["id"],
        "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"
    );

    // Bare id and alias.
    let mut req = user("bare");
    req["model"] = json!("us.anthropic.claude-sonnet-4-5-20250929-v1:0");
    assert_eq!(chat(&gw.addr, &req, &[]).await.status, 200);
    req["model"] = json!("haiku");
    let body = chat(&gw.addr, &req, &[]).await.json().await;
    assert_eq!(
        body["model"],
        "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"
    );
    assert!(
        fake.requests()
            .last()
            .unwrap()
            .path
            .contains("us.anthropic.claude-haiku-4-5")
    );

    assert_eq!(
        get(&gw.addr, "/healthz", &[]).await.json().await["status"],
        "ok"
    );
    let ready = get(&gw.addr, "/readyz", &[]).await;
    assert_eq!(ready.status, 200);
    let ready = ready.json().await;
    assert_eq!(ready["ready"], true);
    assert_eq!(
        ready["checks"]["credentials"],
        "env: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY"
    );
    let metrics = get(&gw.addr, "/metrics", &[]).await;
    assert!(
        metrics.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = metrics.text().await;
    for needle in [
        "openclaw_gateway_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 2",
        "openclaw_gateway_requests_total{route=\"/v1/models\",status=\"200\"} 1",
        "openclaw_gateway_stream_duration_seconds_count 2",
        "openclaw_gateway_time_to_first_token_seconds_count 2",
        "openclaw_gateway_tokens_total{kind=\"output\"}",
        "openclaw_gateway_streams_in_flight 0",
    ] {
        assert!(text.contains(needle), "missing {needle} in\n{text}");
    }
}

#[tokio::test]
async fn readyz_fails_without_credentials() {
    let fake = fake().await;
    let gw = Gateway::try_start(&fake.url(), &[], &[], false).unwrap();
    let ready = get(&gw.addr, "/readyz", &[]).await;
    assert_eq!(ready.status, 503);
    assert_eq!(ready.json().await["ready"], false);
}

async fn error_of(resp: support::Resp) -> (u16, Option<String>, Value) {
    let status = resp.status;
    let retry = resp
        .headers
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let body = resp.json().await;
    for key in ["message", "type", "param", "code"] {
        assert!(
            body["error"].get(key).is_some(),
            "OpenAI error shape lacks {key}: {body}"
        );
    }
    (status, retry, body)
}

#[tokio::test]
async fn request_errors_400_404_413() {
    let fake = fake().await;
    let gw = Gateway::start(&fake.url(), &["--max-body-bytes", "2000"], &[]);
    let bad = support::request(
        &gw.addr,
        "POST",
        "/v1/chat/completions",
        &[],
        Some(b"{nope".to_vec()),
    )
    .await;
    let (status, _, body) = error_of(bad).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let (status, _, body) = error_of(
        chat(
            &gw.addr,
            &json!({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}),
            &[],
        )
        .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "messages[0].role");

    let mut req = user("x");
    req["model"] = json!("amazon-bedrock/no.such-model-v1:0");
    let (status, _, body) = error_of(chat(&gw.addr, &req, &[]).await).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["param"], "model");

    let (status, _, body) = error_of(chat(&gw.addr, &user(&"x".repeat(5000)), &[]).await).await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "request_too_large");
    assert!(fake.requests().iter().all(|r| !r.path.contains("converse")));
}

#[tokio::test]
async fn upstream_errors_429_502_503_504() {
    let fake = fake().await;
    let gw = Gateway::start(
        &fake.url(),
        &["--upstream-attempts", "1", "--upstream-timeout", "1"],
        &[],
    );
    fake.fault(Rule::new(Fault::Throttle).runtime().times(1));
    let (status, retry, body) = error_of(chat(&gw.addr, &streaming(user("x")), &[]).await).await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "upstream_throttled");

    fake.fault(Rule::new(Fault::InternalError).runtime().times(1));
    let (status, _, body) = error_of(chat(&gw.addr, &user("x"), &[]).await).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["code"], "upstream_error");

    fake.fault(Rule::new(Fault::ServiceUnavailable).runtime().times(1));
    let (status, _, _) = error_of(chat(&gw.addr, &streaming(user("x")), &[]).await).await;
    assert_eq!(status, 503);

    fake.fault(Rule::new(Fault::Hang).runtime().times(1));
    let started = Instant::now();
    let (status, _, body) = error_of(chat(&gw.addr, &user("x"), &[]).await).await;
    assert_eq!(status, 504);
    assert_eq!(body["error"]["code"], "upstream_timeout");
    assert!(started.elapsed() < Duration::from_secs(10));

    // After the stream started: an error event OpenAI clients raise, then the stream closes.
    fake.fault(
        Rule::new(Fault::StreamException {
            after_events: 3,
            kind: StreamException::ModelStreamError,
            message: "the model broke".into(),
        })
        .runtime()
        .times(1),
    );
    let resp = chat(&gw.addr, &streaming(user("a longer prompt to stream")), &[]).await;
    assert_eq!(resp.status, 200);
    let events = resp.sse().await;
    assert_ne!(events.last().map(String::as_str), Some("[DONE]"));
    let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
    assert!(
        last["error"]["message"]
            .as_str()
            .unwrap()
            .contains("the model broke"),
        "{last}"
    );
    let metrics = get(&gw.addr, "/metrics", &[]).await.text().await;
    // By kind and AWS code: before the stream (429, 500, 503, first-event timeout) and after
    // it started (the model stream error).
    for labels in [
        r#"type="throttled",code="ThrottlingException""#,
        r#"type="upstream",code="InternalServerException""#,
        r#"type="unavailable",code="ServiceUnavailableException""#,
        r#"type="timeout",code="""#,
        r#"type="upstream",code="ModelStreamErrorException""#,
    ] {
        assert!(
            metrics.contains(&format!(
                "openclaw_gateway_upstream_errors_total{{{labels}}} 1"
            )),
            "{labels} missing:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn concurrency_limit_answers_429() {
    let fake = fake().await;
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(100),
    });
    fake.script(Turn::text("slow ".repeat(20)).chunk_size(5));
    let gw = Gateway::start(&fake.url(), &["--max-concurrent-streams", "1"], &[]);
    let mut first = chat(&gw.addr, &streaming(user("one")), &[]).await;
    assert_eq!(first.status, 200);
    let mut buf = String::new();
    assert!(first.next_events(&mut buf).await.is_some());
    let (status, retry, body) = error_of(chat(&gw.addr, &user("two"), &[]).await).await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "concurrency_limit_exceeded");
    drop(first);
    // The permit comes back when the first stream is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = chat(&gw.addr, &user("three"), &[]).await;
        if resp.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "permit never released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn auth_token_from_env_is_required_when_set() {
    let fake = fake().await;
    let token = "gw-test-token-5ec2e7";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let (status, _, body) = error_of(chat(&gw.addr, &user("x"), &[]).await).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["type"], "authentication_error");
    let wrong = [("authorization", "Bearer gw-test-token-5ec2e8")];
    assert_eq!(chat(&gw.addr, &user("x"), &wrong).await.status, 401);
    assert_eq!(get(&gw.addr, "/v1/models", &[]).await.status, 401);
    assert_eq!(get(&gw.addr, "/metrics", &[]).await.status, 401);
    // Probes stay open.
    assert_eq!(get(&gw.addr, "/healthz", &[]).await.status, 200);
    let auth = format!("Bearer {token}");
    let ok = [("authorization", auth.as_str())];
    let body = chat(&gw.addr, &user("authorised"), &ok).await.json().await;
    assert_eq!(body["choices"][0]["message"]["content"], "Echo: authorised");
    assert_eq!(get(&gw.addr, "/v1/models", &ok).await.status, 200);
    let log = gw.stderr();
    assert!(!log.contains(token), "token leaked: {log}");
    assert!(log.contains("POST /v1/chat/completions 401"), "{log}");
}

#[tokio::test]
async fn without_token_loopback_serves_and_lan_is_refused() {
    let fake = fake().await;
    let err = Gateway::try_start(&fake.url(), &["--bind", "lan"], &[], true)
        .err()
        .expect("must refuse");
    assert_eq!(err.0, Some(3), "configuration exit code: {}", err.1);
    assert!(
        err.1.contains("refusing to listen on 0.0.0.0") && err.1.contains("OPENCLAW_GATEWAY_TOKEN"),
        "{}",
        err.1
    );
    let err = Gateway::try_start(&fake.url(), &["--bind", "192.0.2.10"], &[], true)
        .err()
        .expect("must refuse");
    assert_eq!(err.0, Some(3));
    let gw = Gateway::start(&fake.url(), &["--bind", "loopback"], &[]);
    assert!(gw.addr.starts_with("127.0.0.1:"));
    assert_eq!(chat(&gw.addr, &user("x"), &[]).await.status, 200);
}

#[tokio::test]
async fn client_disconnect_cancels_the_bedrock_stream() {
    let fake = fake().await;
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(100),
    });
    // 100 deltas at 100 ms: 10 s if nobody cancels.
    fake.script(Turn::text("word ".repeat(80)).chunk_size(4));
    let gw = Gateway::start(&fake.url(), &[], &[]);
    let mut resp = chat(&gw.addr, &streaming(user("talk for a long time")), &[]).await;
    let mut buf = String::new();
    let mut seen = 0;
    while seen < 3 {
        seen += resp.next_events(&mut buf).await.unwrap().len();
    }
    // The fake records the gateway closing its Bedrock connection before the answer ended.
    let disconnected = || {
        let requests = fake.requests();
        let streams: Vec<_> = requests
            .iter()
            .filter(|r| r.path.ends_with("/converse-stream"))
            .collect();
        assert_eq!(streams.len(), 1, "one bedrock stream");
        streams[0].client_disconnected
    };
    assert!(!disconnected(), "bedrock connection open while streaming");
    let dropped_at = Instant::now();
    drop(resp);
    loop {
        if disconnected() {
            break;
        }
        assert!(
            dropped_at.elapsed() < Duration::from_secs(3),
            "the gateway kept its Bedrock connection open after the client left"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = dropped_at.elapsed();
    assert!(took < Duration::from_secs(1), "cancelled after {took:?}");
    let metrics = get(&gw.addr, "/metrics", &[]).await.text().await;
    assert!(
        metrics.contains("openclaw_gateway_streams_in_flight 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn graceful_shutdown_finishes_open_streams_and_refuses_new_connections() {
    let fake = fake().await;
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(60),
    });
    fake.script(Turn::text("finishing nicely ".repeat(4)).chunk_size(4));
    let mut gw = Gateway::start(&fake.url(), &["--shutdown-grace", "20"], &[]);
    let addr = gw.addr.clone();
    let mut resp = chat(&addr, &streaming(user("x")), &[]).await;
    let mut buf = String::new();
    let mut events = resp.next_events(&mut buf).await.unwrap();
    gw.terminate();
    // The listener closes promptly.
    let deadline = Instant::now() + Duration::from_secs(3);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The open stream runs to its end.
    while let Some(more) = resp.next_events(&mut buf).await {
        events.extend(more);
    }
    let (chunks, done) = chunks(&events);
    assert!(done, "stream cut short: {events:?}");
    assert_eq!(joined(&chunks, "content"), "finishing nicely ".repeat(4));
    drop(resp);
    assert_eq!(gw.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(gw.stderr().contains("shutting down"));
}

/// The official `openai` Python client, unchanged, against the gateway: a streamed chat and a
/// streamed tool call. Skipped (loudly) when the interpreter in `OPENCLAW_TEST_PYTHON`
/// (default `python3`) cannot `import openai`.
#[tokio::test]
async fn official_openai_python_client() {
    let python = std::env::var("OPENCLAW_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let has_openai = std::process::Command::new(&python)
        .args(["-c", "import openai"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_openai {
        eprintln!(
            "SKIPPED: openai python package not installed (interpreter `{python}`; set OPENCLAW_TEST_PYTHON)"
        );
        return;
    }
    let fake = fake().await;
    fake.script(Turn::text("Echo: Hello from the openai package").chunk_size(6));
    fake.script(
        Turn::new()
            .with_tool_use("tooluse_py1", "get_weather", json!({"city": "Lisbon"}))
            .chunk_size(3),
    );
    let token = "gw-python-token-77aa";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let script = openclaw_e2e::workspace_root().join("tests/tests/e2e/gateway/openai_client.py");
    let output = tokio::process::Command::new(&python)
        .arg(&script)
        .env("OPENAI_BASE_URL", format!("http://{}/v1", gw.addr))
        .env("OPENAI_API_KEY", token)
        .env("MODEL", MODEL)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python failed:\n{stdout}\n{stderr}"
    );
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(result["text"], "Echo: Hello from the openai package");
    assert_eq!(result["tool_name"], "get_weather");
    assert_eq!(result["tool_id"], "tooluse_py1");
    assert_eq!(result["tool_args"], json!({"city": "Lisbon"}));
    assert_eq!(result["finish_reason"], "tool_calls");
    assert_eq!(result["after_tool"], "Tool result: 21C");
    assert_eq!(result["error_status"], 404);
}
