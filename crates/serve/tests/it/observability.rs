//! Request ids (`x-request-id`), the access-log line carrying them and Bedrock's request id,
//! and the `traceparent` handed to Bedrock.

use std::sync::{Arc, Mutex};

use fake_bedrock::Turn;
use openclaw_serve::{ServeOptions, TracePropagation};

use crate::support::*;

#[tokio::test]
async fn a_sane_client_request_id_is_kept_and_logged_with_bedrock_s() {
    let (logs, _guard) = Logs::capture();
    let fake = fake().await;
    fake.script(Turn::text("Hello"));
    let served = serve_shared(Setup::default().bedrock(&fake)).await;
    let resp = served
        .target()
        .chat(&streaming(user("hi")), &[("x-request-id", "client-id-42")])
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.headers["x-request-id"], "client-id-42");
    let _ = resp.sse().await;
    let bedrock_id = converse_streams(&fake)[0].request_id.clone();
    let log = logs.text();
    let line = log
        .lines()
        .find(|l| l.contains("POST /v1/chat/completions 200"))
        .unwrap_or_else(|| panic!("an access line: {log}"));
    assert!(line.contains("request_id=client-id-42"), "{line}");
    assert!(
        line.contains(&format!("bedrock_request_id={bedrock_id}")),
        "{line}"
    );
}

#[tokio::test]
async fn a_missing_or_insane_request_id_is_replaced_by_a_fresh_one() {
    let fake = fake().await;
    let gw = Target::from(&Setup::default().bedrock(&fake));
    let long = "x".repeat(129);
    let mut seen = Vec::new();
    for headers in [
        &[][..],
        &[("x-request-id", "has spaces in it")],
        &[("x-request-id", long.as_str())],
        &[("x-request-id", "")],
    ] {
        let resp = gw.get("/healthz", headers).await;
        let id = resp.headers["x-request-id"].to_str().unwrap().to_owned();
        assert!(id.starts_with("req_"), "{headers:?} -> {id}");
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "fresh ids: {seen:?}");
    // Every answer carries one, errors included.
    let resp = gw.get("/nope", &[("x-request-id", "abc")]).await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.headers["x-request-id"], "abc");
}

/// A propagation that hands Bedrock a fixed trace context and remembers the client's.
#[derive(Debug, Default)]
struct Recording(Mutex<Vec<String>>);

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

impl TracePropagation for Recording {
    fn set_parent(&self, _: &tracing::Span, headers: &axum::http::HeaderMap) {
        if let Some(v) = headers.get("traceparent") {
            self.0.lock().unwrap().push(v.to_str().unwrap().to_owned());
        }
    }
    fn traceparent(&self, _: &tracing::Span) -> Option<String> {
        Some(TRACEPARENT.into())
    }
}

#[tokio::test]
async fn the_trace_context_goes_from_the_client_to_bedrock() {
    let fake = fake().await;
    let propagation = Arc::new(Recording::default());
    let mut setup = Setup::default();
    setup.options = ServeOptions {
        trace_propagation: Some(propagation.clone()),
        ..setup.options
    };
    let gw = Target::from(&setup.bedrock(&fake));
    let client = "00-11111111111111111111111111111111-2222222222222222-01";
    let resp = gw.chat(&user("hi"), &[("traceparent", client)]).await;
    assert_eq!(resp.status, 200);
    assert_eq!(*propagation.0.lock().unwrap(), vec![client.to_string()]);
    assert_eq!(
        converse_streams(&fake)[0].header("traceparent"),
        Some(TRACEPARENT)
    );
}
