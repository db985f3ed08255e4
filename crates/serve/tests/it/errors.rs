//! Error answers in OpenAI's shape: invalid requests (400, 404, 413, refused before Bedrock),
//! Bedrock failures injected by the fake (429, 502, 503, 504, an error event after the stream
//! started) with their metric labels, the concurrency limit (429 until a stream ends) and the
//! queue for stream slots (429 at once when full, 503 when the wait runs out, on both client
//! APIs).

use std::time::{Duration, Instant};

use fake_bedrock::{Fault, Pacing, Rule, StreamException, Turn};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn request_errors_400_404_413() {
    let fake = fake().await;
    let mut setup = Setup::default();
    setup.options.limits.max_body_bytes = 2000;
    let gw = Target::from(&setup.bedrock(&fake));
    let bad = gw
        .request("POST", "/v1/chat/completions", &[], Some(b"{nope".to_vec()))
        .await;
    let (status, _, body) = bad.error().await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["type"], "invalid_request_error");

    let (status, _, body) = gw
        .chat(
            &json!({"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}),
            &[],
        )
        .await
        .error()
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["param"], "messages[0].role");

    let mut req = user("x");
    req["model"] = json!("amazon-bedrock/no-such-model");
    let (status, _, body) = gw.chat(&req, &[]).await.error().await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "model_not_found");
    assert_eq!(body["error"]["param"], "model");

    let (status, _, body) = gw.chat(&user(&"x".repeat(5000)), &[]).await.error().await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "request_too_large");

    // The same body without a declared length (chunked): still refused at the limit.
    let (status, _, body) = gw
        .chat_chunked(&user(&"x".repeat(5000)))
        .await
        .error()
        .await;
    assert_eq!(status, 413);
    assert_eq!(body["error"]["code"], "request_too_large");
    assert!(fake.requests().iter().all(|r| !r.path.contains("converse")));
}

#[tokio::test]
async fn upstream_errors_429_502_503_504() {
    let fake = fake().await;
    let mut setup = Setup::default();
    setup.adapter.max_attempts = 1;
    setup.adapter.first_event_timeout = Duration::from_secs(1);
    let gw = Target::from(&setup.bedrock(&fake));
    fake.fault(Rule::new(Fault::Throttle).runtime().times(1));
    let (status, retry, body) = gw.chat(&streaming(user("x")), &[]).await.error().await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "upstream_throttled");

    fake.fault(Rule::new(Fault::InternalError).runtime().times(1));
    let (status, _, body) = gw.chat(&user("x"), &[]).await.error().await;
    assert_eq!(status, 502);
    assert_eq!(body["error"]["code"], "upstream_error");

    // Bedrock unavailable (the service, or the model not loaded yet): 503 with a short wait
    // the SDKs honour before retrying.
    fake.fault(Rule::new(Fault::ServiceUnavailable).runtime().times(1));
    let (status, retry, body) = gw.chat(&streaming(user("x")), &[]).await.error().await;
    assert_eq!(status, 503);
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(body["error"]["code"], "upstream_unavailable");
    fake.fault(model_not_ready_once());
    let (status, retry, body) = gw.chat(&user("x"), &[]).await.error().await;
    assert_eq!(status, 503);
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(body["error"]["code"], "upstream_unavailable");

    fake.fault(Rule::new(Fault::Hang).runtime().times(1));
    let started = Instant::now();
    let (status, _, body) = gw.chat(&user("x"), &[]).await.error().await;
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
    let resp = gw
        .chat(&streaming(user("a longer prompt to stream")), &[])
        .await;
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
    let metrics = gw.get("/metrics", &[]).await.text().await;
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
    let mut setup = Setup::default();
    setup.options.limits.max_concurrent_streams = 1;
    // No queue: every request over the limit is refused at once.
    setup.options.limits.max_queued_streams = 0;
    let served = serve(setup.bedrock(&fake)).await;
    let gw = served.target();
    let mut first = gw.chat(&streaming(user("one")), &[]).await;
    assert_eq!(first.status, 200);
    let mut buf = String::new();
    assert!(first.next_events(&mut buf).await.is_some());
    let (status, retry, body) = gw.chat(&user("two"), &[]).await.error().await;
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "concurrency_limit_exceeded");
    assert_eq!(
        converse_streams(&fake).len(),
        1,
        "the refused request never reached Bedrock"
    );
    drop(first);
    // The permit comes back when the first stream is gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let resp = gw.chat(&user("three"), &[]).await;
        if resp.status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "permit never released");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Anthropic's error shape: `{"type":"error","error":{"type","message"}}`.
fn anthropic_error(body: &Value, kind: &str) {
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
}

const ANTHROPIC: &[(&str, &str)] = &[("anthropic-version", "2023-06-01")];

fn message(text: &str) -> Value {
    json!({"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": text}]})
}

async fn metric(gw: &Target, name: &str) -> Option<u64> {
    let text = gw.get("/metrics", &[]).await.text().await;
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn over_the_admission_limit_requests_are_queued_then_shed_on_both_apis() {
    let fake = fake().await;
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(100),
    });
    fake.script(Turn::text("slow ".repeat(40)).chunk_size(5));
    let mut setup = Setup::default();
    let limits = &mut setup.options.limits;
    limits.max_concurrent_streams = 1;
    limits.max_queued_streams = 2;
    limits.queue_wait = Duration::from_secs(2);
    let served = serve(setup.bedrock(&fake)).await;
    let gw = served.target();

    // One stream holds the only slot.
    let mut first = gw.chat(&streaming(user("one")), &[]).await;
    assert_eq!(first.status, 200);
    let mut buf = String::new();
    assert!(first.next_events(&mut buf).await.is_some());

    // Two requests, one per API, wait in the queue.
    let (chat_gw, msg_gw) = (gw.clone(), gw.clone());
    let queued_chat = tokio::spawn(async move {
        let t = Instant::now();
        let resp = chat_gw.chat(&user("queued"), &[]).await;
        (t.elapsed(), resp.error().await)
    });
    let queued_message = tokio::spawn(async move {
        let t = Instant::now();
        let body = serde_json::to_vec(&message("queued")).unwrap();
        let resp = msg_gw
            .request("POST", "/v1/messages", ANTHROPIC, Some(body))
            .await;
        let retry = resp.headers.get("retry-after").cloned();
        (t.elapsed(), resp.status, retry, resp.json().await)
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&gw, "openclaw_gateway_streams_queued").await != Some(2) {
        assert!(Instant::now() < deadline, "the two requests never queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The queue is full: both APIs answer 429 with Retry-After at once, in their own shape.
    let t = Instant::now();
    let (status, retry, body) = gw.chat(&user("over"), &[]).await.error().await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(status, 429);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["type"], "rate_limit_error");
    assert_eq!(body["error"]["code"], "concurrency_limit_exceeded");
    let t = Instant::now();
    let body = serde_json::to_vec(&message("over")).unwrap();
    let resp = gw
        .request("POST", "/v1/messages", ANTHROPIC, Some(body))
        .await;
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert_eq!(resp.status, 429);
    assert_eq!(
        resp.headers.get("retry-after").map(|v| v.as_bytes()),
        Some(&b"1"[..])
    );
    anthropic_error(&resp.json().await, "rate_limit_error");

    // The queued ones get no slot within the wait: 503 with Retry-After, each in its shape.
    let (took, (status, retry, body)) = queued_chat.await.unwrap();
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    assert_eq!(status, 503);
    assert_eq!(retry.as_deref(), Some("1"));
    assert_eq!(body["error"]["code"], "overloaded");
    let (took, status, retry, body) = queued_message.await.unwrap();
    assert!(took >= Duration::from_millis(1900), "{took:?}");
    assert_eq!(status, 503);
    assert_eq!(retry.as_ref().map(|v| v.as_bytes()), Some(&b"1"[..]));
    anthropic_error(&body, "overloaded_error");
    assert_eq!(
        converse_streams(&fake).len(),
        1,
        "no refused request reached Bedrock"
    );

    // A queued request gets the slot as soon as the stream holding it ends.
    let waiting = {
        let gw = gw.clone();
        tokio::spawn(async move { gw.chat(&user("next"), &[]).await.status })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    while metric(&gw, "openclaw_gateway_streams_queued").await != Some(1) {
        assert!(Instant::now() < deadline, "the request never queued");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(first);
    assert_eq!(waiting.await.unwrap(), 200);

    let text = gw.get("/metrics", &[]).await.text().await;
    for line in [
        "openclaw_gateway_streams_queued 0",
        "openclaw_gateway_streams_admitted_total{how=\"immediate\"} 1",
        "openclaw_gateway_streams_admitted_total{how=\"queued\"} 1",
        "openclaw_gateway_streams_shed_total{reason=\"queue_full\"} 2",
        "openclaw_gateway_streams_shed_total{reason=\"queue_timeout\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }
}

/// Rust type names serde would put in a message, which a client must never see.
const RUST_NAMES: [&str; 9] = [
    "struct",
    "enum",
    "u32",
    "f32",
    "sequence",
    "ChatRequest",
    "MessagesRequest",
    "Value",
    "?",
];

fn no_rust_names(message: &str) {
    for name in RUST_NAMES {
        assert!(!message.contains(name), "`{name}` in: {message}");
    }
}

#[tokio::test]
async fn malformed_bodies_are_explained_in_json_terms_on_both_apis() {
    let served = serve(scripted(
        Scripted::new(),
        openclaw_serve::ServeOptions::default(),
    ))
    .await;
    let gw = served.target();
    let post = |path: &'static str, body: &'static str| {
        let gw = gw.clone();
        async move {
            let resp = gw
                .request("POST", path, ANTHROPIC, Some(body.as_bytes().to_vec()))
                .await;
            (resp.status, resp.json().await)
        }
    };
    // OpenAI: (body, param, what the message says after the path).
    let cases = [
        ("{nope", None, "key must be a string"),
        ("[]", None, "invalid type: array, expected an object"),
        (
            r#"{"model":"m","messages":[],"max_tokens":"many"}"#,
            Some("max_tokens"),
            "max_tokens: invalid type: string \"many\", expected a non-negative integer",
        ),
        (
            r#"{"model":"m","messages":[],"max_tokens":-1}"#,
            Some("max_tokens"),
            "max_tokens: invalid value: integer `-1`, expected a non-negative integer",
        ),
        (
            r#"{"model":"m","messages":[],"temperature":"hot"}"#,
            Some("temperature"),
            "temperature: invalid type: string \"hot\", expected a number",
        ),
        (
            r#"{"model":"m","messages":{}}"#,
            Some("messages"),
            "messages: invalid type: object, expected an array",
        ),
        (
            r#"{"model":"m","messages":[{"role":"user","content":5}]}"#,
            Some("messages[0]"),
            "messages[0]: expected a string or an array of content parts",
        ),
    ];
    for (body, param, says) in cases {
        let (status, error) = post("/v1/chat/completions", body).await;
        assert_eq!(status, 400, "{body}: {error}");
        assert_eq!(error["error"]["param"], json!(param), "{body}: {error}");
        let text = error["error"]["message"].as_str().unwrap();
        assert!(text.contains(says), "{body}: {text}");
        no_rust_names(text);
    }
    // Anthropic: the same rewriting, the path in the message (its errors have no `param`).
    let cases = [
        ("[]", "invalid type: array, expected an object"),
        (
            r#"{"model":"m","messages":[],"max_tokens":1.5}"#,
            "max_tokens: invalid type: number `1.5`, expected a non-negative integer",
        ),
        (
            r#"{"model":"m","max_tokens":9,"messages":[{"role":"user","content":5}]}"#,
            "messages[0].content: expected a string or an array of content blocks",
        ),
        (
            r#"{"model":"local/scripted-1","max_tokens":9,"messages":[],"guardrail":7}"#,
            "guardrail: expected {identifier, version, trace, streamProcessingMode}: invalid type: integer `7`, expected an object",
        ),
    ];
    for (body, says) in cases {
        let (status, error) = post("/v1/messages", body).await;
        assert_eq!(status, 400, "{body}: {error}");
        anthropic_error(&error, "invalid_request_error");
        let text = error["error"]["message"].as_str().unwrap();
        assert!(text.contains(says), "{body}: {text}");
        no_rust_names(text);
    }
}

#[tokio::test]
async fn a_conversation_of_blank_messages_is_refused_before_bedrock_on_both_apis() {
    let fake = fake().await;
    let served = serve(Setup::default().bedrock(&fake)).await;
    let gw = served.target();
    let blank_chats = [
        (
            json!([{"role": "user", "content": "   "}]),
            "messages[0].content",
        ),
        (
            json!([{"role": "system", "content": "be brief"},
                   {"role": "user", "content": [{"type": "text", "text": "\n\t"}]},
                   {"role": "assistant", "content": "ok"},
                   {"role": "user", "content": ""}]),
            "messages[1].content",
        ),
    ];
    for (messages, at) in blank_chats {
        let body = json!({"model": MODEL, "messages": messages});
        let (status, _, error) = gw.chat(&body, &[]).await.error().await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["error"]["code"], "invalid_request", "{error}");
        assert_eq!(error["error"]["param"], at, "{error}");
        let text = error["error"]["message"].as_str().unwrap();
        assert!(text.starts_with(&format!("{at} is blank")), "{text}");
    }
    let blank_messages = [
        (
            json!([{"role": "user", "content": " "}]),
            "messages[0].content",
        ),
        (
            json!([{"role": "user", "content": [{"type": "text", "text": "  "}]},
                   {"role": "assistant", "content": "ok"}]),
            "messages[0].content",
        ),
    ];
    for (messages, at) in blank_messages {
        let body = json!({"model": MODEL, "max_tokens": 100, "messages": messages});
        let resp = gw.messages(&body, ANTHROPIC).await;
        assert_eq!(resp.status, 400);
        let error = resp.json().await;
        anthropic_error(&error, "invalid_request_error");
        let text = error["error"]["message"].as_str().unwrap();
        assert!(text.starts_with(&format!("{at} is blank")), "{text}");
    }
    assert!(
        converse_streams(&fake).is_empty(),
        "a blank conversation reached Bedrock"
    );

    // A blank message beside one that leaves a conversation is dropped, as before.
    let body = json!({"model": MODEL, "messages": [
        {"role": "user", "content": "  "}, {"role": "user", "content": "hello"}]});
    let answer = gw.chat(&body, &[]).await.json().await;
    assert_eq!(
        answer["choices"][0]["message"]["content"], "Echo: hello",
        "{answer}"
    );
    let body = json!({"model": MODEL, "max_tokens": 100, "messages": [{"role": "user",
        "content": [{"type": "text", "text": " "}, {"type": "text", "text": "hello"}]}]});
    let resp = gw.messages(&body, ANTHROPIC).await;
    assert_eq!(resp.status, 200);
    assert_eq!(converse_streams(&fake).len(), 2);
}
