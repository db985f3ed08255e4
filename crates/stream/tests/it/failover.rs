//! Failover before the first token, through the real SDK against fake-bedrock with per-model
//! faults: the fake's recorded requests show which models were called, in order.

use std::sync::Arc;
use std::time::Duration;

use fake_bedrock::{Fault, Rule, StreamException, Turn};
use openclaw_stream::converse::{API, PROVIDER};
use openclaw_stream::failover::{
    BreakerState, Breakers, Failover, FailoverSettings, Outcome, Target,
};
use openclaw_stream::{
    AssistantContent, AssistantMessage, ConverseStream, ErrorKind, Message, ModelStream,
    StreamEvent, StreamOptions, StreamRequest,
};
use serde_json::Value;

use crate::support::*;

const SONNET: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const GLOBAL_SONNET: &str = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
const NOVA: &str = "us.amazon.nova-pro-v1:0";

fn settings(first_token: Duration, failures: u32, cool_down: Duration) -> Arc<Breakers> {
    Arc::new(Breakers::new(FailoverSettings {
        first_token_timeout: Some(first_token),
        breaker_failures: failures,
        breaker_cool_down: cool_down,
    }))
}

fn chain(h: &Harness, ids: &[&str], breakers: &Arc<Breakers>) -> Failover {
    let stream: Arc<dyn ModelStream> = Arc::new(ConverseStream::new(
        sdk_config(&h.fake.url()),
        fast_options(),
    ));
    let targets = ids
        .iter()
        .map(|id| {
            Target::new(
                format!("amazon-bedrock/{id}"),
                model(id, false, false),
                stream.clone(),
            )
        })
        .collect();
    Failover::new(targets, breakers.clone())
}

fn request(messages: Vec<Message>) -> StreamRequest {
    StreamRequest::new(model(SONNET, false, false), messages)
}

async fn run(
    f: &Failover,
    req: StreamRequest,
) -> (Vec<StreamEvent>, openclaw_stream::failover::Report) {
    let (stream, report) = f.start(req, StreamOptions::default());
    (collect(stream).await, report)
}

/// The model of every converse-stream request the fake received, in order.
fn called(h: &Harness) -> Vec<String> {
    h.fake
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/converse-stream"))
        .filter_map(|r| r.model_id())
        .collect()
}

fn served_model(events: &[StreamEvent]) -> String {
    match events.first() {
        Some(StreamEvent::Start { model }) => model.clone(),
        other => panic!("expected start, got {other:#?}"),
    }
}

#[tokio::test]
async fn a_primary_throttled_forever_is_served_by_the_first_fallback() {
    let h = harness().await;
    h.fake.fault(Fault::Throttle.for_model(SONNET).forever());
    let f = chain(
        &h,
        &[SONNET, NOVA],
        &settings(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let (events, report) = run(&f, request(vec![Message::user_text("Hi")])).await;
    assert_eq!(done_message(&events).text(), "Echo: Hi");
    assert_eq!(served_model(&events), NOVA);
    assert_eq!(done_message(&events).model, NOVA);
    // The SDK's own retries of the primary (3 attempts), then the fallback.
    assert_eq!(called(&h), [SONNET, SONNET, SONNET, NOVA]);
    assert_eq!(
        report.served().as_deref(),
        Some("amazon-bedrock/us.amazon.nova-pro-v1:0")
    );
    assert_eq!(report.calls(), 2);
    assert_eq!(
        report.attempts()[0].reason(),
        "throttled (ThrottlingException)"
    );
}

#[tokio::test]
async fn a_primary_silent_past_the_first_token_timeout_fails_over() {
    let h = harness().await;
    // The primary's stream opens (messageStart) and then goes silent.
    h.fake.fault(
        Fault::StallStream { after_events: 1 }
            .for_model(SONNET)
            .forever(),
    );
    let f = chain(
        &h,
        &[SONNET, NOVA],
        &settings(Duration::from_millis(500), 5, Duration::from_secs(60)),
    );
    let (events, report) = run(&f, request(vec![Message::user_text("Hi")])).await;
    assert_eq!(served_model(&events), NOVA);
    assert_eq!(called(&h), [SONNET, NOVA]);
    assert_eq!(
        report.attempts()[0].reason(),
        "timeout (first_token_timeout)"
    );
    // The abandoned attempt's connection was closed.
    let closed = async {
        while !h.fake.requests()[0].client_disconnected {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("primary connection closed");
}

#[tokio::test]
async fn a_validation_error_does_not_fail_over() {
    let h = harness().await;
    h.fake.fault(
        Fault::Error {
            status: 400,
            error_type: "ValidationException".into(),
            message: "The request is wrong".into(),
        }
        .for_model(SONNET)
        .forever(),
    );
    let f = chain(
        &h,
        &[SONNET, NOVA],
        &settings(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let (events, report) = run(&f, request(vec![Message::user_text("Hi")])).await;
    assert!(
        matches!(terminal(&events), StreamEvent::Error { info, .. } if info.kind == ErrorKind::Validation && info.status == Some(400))
    );
    assert_eq!(called(&h), [SONNET]);
    assert_eq!(report.served(), None);
}

#[tokio::test]
async fn a_failure_after_the_first_token_is_not_retried() {
    let h = harness().await;
    h.fake
        .script(Rule::new(Turn::text("a long answer cut short").chunk_size(3)).forever());
    h.fake.fault(
        Fault::StreamException {
            after_events: 4,
            kind: StreamException::Throttling,
            message: "slow down".into(),
        }
        .for_model(SONNET)
        .forever(),
    );
    let f = chain(
        &h,
        &[SONNET, NOVA],
        &settings(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let (events, report) = run(&f, request(vec![Message::user_text("Hi")])).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, StreamEvent::TextDelta { .. }))
    );
    assert!(
        matches!(terminal(&events), StreamEvent::Error { info, .. } if info.kind == ErrorKind::Throttled)
    );
    assert_eq!(called(&h), [SONNET]);
    assert_eq!(
        report.served().as_deref(),
        Some("amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
}

#[tokio::test]
async fn the_breaker_skips_the_primary_then_a_probe_closes_it() {
    let h = harness().await;
    h.fake.fault(Fault::Throttle.for_model(SONNET).forever());
    let breakers = settings(Duration::from_secs(10), 2, Duration::from_millis(300));
    let f = chain(&h, &[SONNET, NOVA], &breakers);
    let hi = || request(vec![Message::user_text("Hi")]);
    run(&f, hi()).await;
    run(&f, hi()).await;
    assert_eq!(breakers.snapshot()[0].state, BreakerState::Open);
    let before = called(&h).len();
    let (events, report) = run(&f, hi()).await;
    assert_eq!(served_model(&events), NOVA);
    assert_eq!(report.attempts()[0].outcome, Outcome::Skipped);
    // Skipped without being called: only the fallback was.
    assert_eq!(called(&h)[before..], [NOVA]);

    // The primary recovers; after the cool-down one request probes it and closes the breaker.
    h.fake.clear_faults();
    tokio::time::sleep(Duration::from_millis(350)).await;
    let before = called(&h).len();
    let (events, _) = run(&f, hi()).await;
    assert_eq!(served_model(&events), SONNET);
    assert_eq!(called(&h)[before..], [SONNET]);
    let status = &breakers.snapshot()[0];
    assert_eq!(
        (status.state, status.opened_total, status.skipped_total),
        (BreakerState::Closed, 1, 1)
    );
}

#[tokio::test]
async fn every_target_failing_gives_the_primarys_status_and_lists_the_attempts() {
    let h = harness().await;
    h.fake.fault(Fault::Throttle.for_model(SONNET).forever());
    h.fake
        .fault(Fault::ServiceUnavailable.for_model(NOVA).forever());
    let f = chain(
        &h,
        &[SONNET, NOVA],
        &settings(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let (events, _) = run(&f, request(vec![Message::user_text("Hi")])).await;
    let StreamEvent::Error { info, message, .. } = terminal(&events) else {
        panic!("expected an error: {events:#?}");
    };
    assert_eq!((info.kind, info.status), (ErrorKind::Throttled, Some(429)));
    assert!(
        message.starts_with("every model failed (2 attempts: amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0: throttled (ThrottlingException); amazon-bedrock/us.amazon.nova-pro-v1:0: unavailable (ServiceUnavailableException))"),
        "{message}"
    );
    assert_eq!(called(&h), [SONNET, SONNET, SONNET, NOVA, NOVA, NOVA]);
}

/// Whether a request body replays a reasoning block with its signature.
fn replays_signature(body: &Value) -> bool {
    body["messages"].as_array().into_iter().flatten().any(|m| {
        m["content"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["reasoningContent"]["reasoningText"]["signature"] == "sig-123")
    })
}

#[tokio::test]
async fn thinking_signatures_follow_the_model_family_across_fallbacks() {
    let h = harness().await;
    let mut signed = AssistantMessage::new(API, PROVIDER, SONNET);
    signed.content = vec![
        AssistantContent::Thinking {
            thinking: "Let me think.".into(),
            signature: Some("sig-123".into()),
            redacted: None,
        },
        AssistantContent::Text {
            text: "Answer.".into(),
        },
    ];
    let history = vec![
        Message::user_text("Think first."),
        Message::Assistant(signed),
        Message::user_text("And now?"),
    ];
    h.fake.fault(Fault::Throttle.for_model(SONNET).forever());
    // Region failover: the same model through the global profile keeps the signature.
    let f = chain(
        &h,
        &[SONNET, GLOBAL_SONNET],
        &settings(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let (events, _) = run(&f, request(history.clone())).await;
    assert_eq!(served_model(&events), GLOBAL_SONNET);
    assert!(replays_signature(&h.last_body()), "{:#}", h.last_body());
    // Another family gets the reasoning as plain text, without the signature.
    let f = chain(
        &h,
        &[SONNET, NOVA],
        &settings(Duration::from_secs(10), 5, Duration::from_secs(60)),
    );
    let (events, _) = run(&f, request(history)).await;
    assert_eq!(served_model(&events), NOVA);
    assert!(!replays_signature(&h.last_body()), "{:#}", h.last_body());
}
