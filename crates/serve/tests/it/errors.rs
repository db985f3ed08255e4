//! Error answers in OpenAI's shape: invalid requests (400, 404, 413, refused before Bedrock),
//! Bedrock failures injected by the fake (429, 502, 503, 504, an error event after the stream
//! started) with their metric labels, and the concurrency limit (429 until a stream ends).

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

    fake.fault(Rule::new(Fault::ServiceUnavailable).runtime().times(1));
    let (status, _, _) = gw.chat(&streaming(user("x")), &[]).await.error().await;
    assert_eq!(status, 503);

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
