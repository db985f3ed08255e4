//! The admin API (`/_fake/`) and client disconnects.

use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use fake_bedrock::{FakeBedrock, Fault, Pacing, Turn};

use crate::support::*;

#[tokio::test]
async fn admin_api_scripts_faults_and_lists_requests_without_auth() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);

    // A fault rule over raw HTTP (no credentials); the SDK sees the injected error.
    let resp = admin(
        &fake,
        "POST",
        "faults",
        r#"{"item": {"type": "error", "status": 400, "error_type": "ModelNotReadyException", "message": "warming up"}, "target": {"model": "anthropic.claude-3-haiku-20240307-v1:0"}, "remaining": 2}"#,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(
        body_json(&resp),
        serde_json::json!({"queued": 1, "pending": 1})
    );
    let listed = body_json(&admin(&fake, "GET", "faults", "").await);
    assert_eq!(listed[0]["item"]["type"], "error");
    assert_eq!(listed[0]["remaining"], 2);
    for _ in 0..2 {
        let e = converse_err(&client).await;
        assert!(e.is_model_not_ready_exception(), "{e:?}");
        assert_eq!(e.message(), Some("warming up"));
    }
    // Consumed: the next call is answered normally.
    assert_eq!(
        text_of(
            client
                .converse()
                .model_id(HAIKU3)
                .messages(user("x"))
                .send()
                .await
                .unwrap()
                .output()
                .unwrap()
        ),
        "Echo: x"
    );

    // Bare faults in an array; a stream fault reaches the SDK's event decoder.
    let resp = admin(
        &fake,
        "POST",
        "faults",
        r#"[{"type": "throttle"}, {"type": "stream_exception", "after_events": 2, "kind": "model_stream_error", "message": "boom"}]"#,
    )
    .await;
    assert_eq!(body_json(&resp)["queued"], 2);
    assert!(converse_err(&client).await.is_throttling_exception());
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert_eq!(c.kinds.len(), 2);
    assert!(
        matches!(
            c.error,
            Some(aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError::ModelStreamErrorException(_))
        ),
        "{c:?}"
    );

    // A scripted turn (every block kind) for the next stream.
    let resp = admin(
        &fake,
        "POST",
        "scripts",
        r#"{"blocks": [
            {"type": "reasoning", "text": "hmm", "signature": "c2ln"},
            {"type": "redacted_reasoning", "data": "AQID"},
            {"type": "text", "text": "Scripted over HTTP."},
            {"type": "tool_use", "id": "tooluse_http", "name": "get_weather", "input": {"city": "Oslo"}}
        ], "usage": {"input_tokens": 7, "output_tokens": 9}, "chunk_size": 4}"#,
    )
    .await;
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .tool_config(weather_tool())
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert_eq!(c.reasoning, "hmm");
    assert_eq!(c.signature, "c2ln");
    assert_eq!(c.redacted, vec![1u8, 2, 3]);
    assert_eq!(c.text, "Scripted over HTTP.");
    assert_eq!(
        c.tool_starts,
        vec![("tooluse_http".to_owned(), "get_weather".to_owned())]
    );
    assert_eq!(c.stop_reason.as_deref(), Some("tool_use"));
    let usage = c.usage.unwrap();
    assert_eq!((usage.input_tokens(), usage.output_tokens()), (7, 9));

    // The request log: Bedrock calls only (admin calls are not recorded), secrets redacted.
    let log = body_json(&admin(&fake, "GET", "requests", "").await);
    let log = log.as_array().unwrap();
    assert_eq!(log.len(), fake.requests().len());
    assert_eq!(log.len(), 6);
    assert!(
        log.iter()
            .all(|r| !r["path"].as_str().unwrap().starts_with("/_fake"))
    );
    let last = log.last().unwrap();
    assert_eq!(last["model_id"], HAIKU3);
    assert_eq!(last["status"], 200);
    assert_eq!(last["auth"]["type"], "sigv4");
    assert_eq!(last["auth"]["region"], "us-east-1");
    assert_eq!(last["json"]["messages"][0]["content"][0]["text"], "x");
    assert_eq!(last["client_disconnected"], false);
    assert!(!String::from_utf8_lossy(&admin(&fake, "GET", "requests", "").await.body).contains(SK));

    // Errors: bad JSON, unknown fault type, unknown route.
    let resp = admin(&fake, "POST", "faults", r#"{"type": "meteor"}"#).await;
    assert_eq!(resp.status, 400);
    let message = body_json(&resp)["message"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with("invalid fault rule in the request body: unknown variant `meteor`"),
        "{message}"
    );
    assert_eq!(admin(&fake, "POST", "scripts", "{").await.status, 400);
    assert_eq!(admin(&fake, "GET", "nope", "").await.status, 404);

    // Pacing, clearing and reset.
    let resp = admin(&fake, "PUT", "pacing", r#"{"first_byte_ms": 120}"#).await;
    assert_eq!(
        body_json(&resp),
        serde_json::json!({"first_byte_ms": 120, "between_events_ms": 0})
    );
    let started = Instant::now();
    converse_message(&client, HAIKU3, vec![user("slow")], None, None)
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(120));
    admin(
        &fake,
        "POST",
        "faults",
        r#"{"item": {"type": "throttle"}, "remaining": null}"#,
    )
    .await;
    admin(
        &fake,
        "POST",
        "scripts",
        r#"{"blocks": [{"type": "text", "text": "never"}]}"#,
    )
    .await;
    assert_eq!(
        body_json(&admin(&fake, "DELETE", "scripts", "").await),
        serde_json::json!({"cleared": 1})
    );
    let resp = admin(&fake, "POST", "reset", "").await;
    assert_eq!(resp.status, 200);
    assert!(fake.requests().is_empty());
    assert_eq!(
        body_json(&admin(&fake, "GET", "faults", "").await),
        serde_json::json!([])
    );
    let started = Instant::now();
    assert_eq!(
        converse_message(&client, HAIKU3, vec![user("fast")], None, None)
            .await
            .unwrap(),
        "Echo: fast",
        "the forever-throttle is gone"
    );
    assert!(
        started.elapsed() < Duration::from_millis(120),
        "pacing reset"
    );
    assert_eq!(
        body_json(&admin(&fake, "DELETE", "requests", "").await),
        serde_json::json!({"cleared": 1})
    );
}

/// Polls the recorded request until `client_disconnected` is set (or 5 s pass).
async fn wait_disconnected(fake: &FakeBedrock, index: usize) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if fake.requests()[index].client_disconnected {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    false
}

#[tokio::test]
async fn a_client_closing_a_stream_early_is_recorded() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(10),
    });

    // Fully read: not disconnected.
    fake.script(Turn::text("complete answer").chunk_size(4));
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    collect(out.stream).await;
    assert!(!fake.requests()[0].client_disconnected);

    // Dropped after two events: the fake sees the connection go.
    fake.script(Turn::text("y".repeat(500)).chunk_size(1));
    let mut out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert!(out.stream.recv().await.unwrap().is_some());
    assert!(out.stream.recv().await.unwrap().is_some());
    assert!(!fake.requests()[1].client_disconnected, "still reading");
    drop(out);
    assert!(
        wait_disconnected(&fake, 1).await,
        "the fake did not notice the client closing the stream"
    );
    // Over the admin API too.
    let log = body_json(&admin(&fake, "GET", "requests", "").await);
    assert_eq!(log[1]["client_disconnected"], true);

    // An injected connection drop is the server's doing, not the client's.
    fake.set_pacing(Pacing::default());
    let c = stream_with(&fake, Fault::DropConnection { after_events: 2 }).await;
    assert_eq!(c.kinds.len(), 2);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!fake.requests()[2].client_disconnected);

    // A client giving up on a hanging request is recorded as well.
    fake.fault(Fault::Hang);
    let hung = tokio::time::timeout(
        Duration::from_millis(200),
        client
            .converse()
            .model_id(HAIKU3)
            .messages(user("x"))
            .send(),
    )
    .await;
    assert!(hung.is_err());
    assert!(
        wait_disconnected(&fake, 3).await,
        "the fake did not notice the client giving up a hanging request"
    );
}
