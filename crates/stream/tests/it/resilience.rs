//! Retries, timeouts, dropped connections, aborts and dropped consumers.

use std::time::{Duration, Instant};

use fake_bedrock::{Fault, Pacing, Turn};
use futures::StreamExt;
use insta::assert_json_snapshot;
use openclaw_stream::{
    AbortController, AdapterOptions, ErrorInfo, ErrorKind, ErrorReason, Message, ModelStream,
    StreamEvent, StreamOptions, StreamRequest,
};

use crate::support::*;

fn request() -> StreamRequest {
    StreamRequest::new(sonnet(), vec![Message::user_text("Hi")])
}

fn error_message(events: &[StreamEvent]) -> (ErrorReason, String) {
    match terminal(events) {
        StreamEvent::Error {
            reason, message, ..
        } => (*reason, message.clone()),
        other => panic!("expected error, got {other:#?}"),
    }
}

fn error_info(events: &[StreamEvent]) -> ErrorInfo {
    match terminal(events) {
        StreamEvent::Error { info, .. } => info.clone(),
        other => panic!("expected error, got {other:#?}"),
    }
}

#[tokio::test]
async fn throttled_then_success_is_retried_by_the_sdk() {
    let h = harness().await;
    h.fake.fault(Fault::Throttle.times(2));
    h.fake.script(Turn::text("made it"));
    let events = h.run(request()).await;
    assert_eq!(done_message(&events).text(), "made it");
    // The retries are invisible in the events: one clean answer.
    assert_json_snapshot!("throttled_then_success_events", events);
    // Two throttled attempts and the successful one, all seen by the fake.
    let statuses: Vec<_> = h.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(200)]);
}

#[tokio::test]
async fn server_error_then_success_is_retried() {
    let h = harness().await;
    h.fake.fault(Fault::InternalError.times(1));
    h.fake.script(Turn::text("recovered"));
    let events = h.run(request()).await;
    assert_eq!(done_message(&events).text(), "recovered");
    assert_eq!(h.fake.requests().len(), 2);
}

#[tokio::test]
async fn retries_are_bounded_by_max_attempts() {
    let h = harness_with(AdapterOptions {
        max_attempts: 2,
        ..fast_options()
    })
    .await;
    h.fake.fault(Fault::Throttle.times(5));
    let events = h.run(request()).await;
    let (reason, message) = error_message(&events);
    assert_eq!(reason, ErrorReason::Error);
    assert!(
        message.starts_with("bedrock rejected the request (HTTP 429, ThrottlingException)"),
        "{message}"
    );
    assert_eq!(
        error_info(&events),
        ErrorInfo::new(ErrorKind::Throttled)
            .with_code("ThrottlingException")
            .with_status(429)
    );
    assert_eq!(h.fake.requests().len(), 2);
}

#[tokio::test]
async fn connection_drop_mid_stream_is_an_error_event() {
    let h = harness().await;
    h.fake
        .script(Turn::text("a long answer that will be cut").chunk_size(4));
    h.fake.fault(Fault::DropConnection { after_events: 4 });
    let events = h.run(request()).await;
    // The transport's wording of the cut is not ours: keep our prefix.
    fn ours(v: insta::internals::Content, _: insta::internals::ContentPath<'_>) -> &'static str {
        let s = v.as_str().unwrap().to_owned();
        assert!(s.starts_with("bedrock stream failed: "), "{s}");
        "[bedrock stream failed: ...]"
    }
    assert_json_snapshot!("connection_drop_events", events, {
        "[].message" => insta::dynamic_redaction(ours),
        "[].partial.error.message" => insta::dynamic_redaction(ours),
    });
    let types: Vec<_> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["type"].clone())
        .collect();
    assert_eq!(&types[..2], ["start", "text_start"]);
    let (reason, message) = error_message(&events);
    assert_eq!(reason, ErrorReason::Error);
    assert!(message.starts_with("bedrock"), "{message}");
    // One readable line: the cause chain, not the SDK's Debug dump of the error.
    assert!(
        !message.contains('\n') && !message.contains("DispatchFailure("),
        "{message}"
    );
    assert_eq!(error_info(&events), ErrorInfo::new(ErrorKind::Upstream));
    assert_eq!(
        h.fake.requests().len(),
        1,
        "nothing is retried after the first event"
    );
}

#[tokio::test]
async fn corrupt_frame_is_an_error_event() {
    let h = harness().await;
    h.fake.script(Turn::text("some answer text").chunk_size(4));
    h.fake.fault(Fault::CorruptFrame { at_event: 3 });
    let events = h.run(request()).await;
    let (reason, message) = error_message(&events);
    assert_eq!(reason, ErrorReason::Error);
    assert!(message.starts_with("bedrock stream failed"), "{message}");
    assert_eq!(error_info(&events), ErrorInfo::new(ErrorKind::Upstream));
}

#[tokio::test]
async fn stalled_stream_hits_the_idle_timeout() {
    let h = harness_with(AdapterOptions {
        idle_timeout: Duration::from_millis(300),
        ..fast_options()
    })
    .await;
    h.fake
        .script(Turn::text("this stream goes silent").chunk_size(4));
    h.fake.fault(Fault::StallStream { after_events: 3 });
    let started = Instant::now();
    let events = h.run(request()).await;
    let elapsed = started.elapsed();
    assert_json_snapshot!("idle_timeout_events", events);
    assert_eq!(error_info(&events), ErrorInfo::new(ErrorKind::Timeout));
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn hang_hits_the_first_event_timeout() {
    let h = harness_with(AdapterOptions {
        first_event_timeout: Duration::from_millis(300),
        ..fast_options()
    })
    .await;
    h.fake.fault(Fault::Hang);
    let started = Instant::now();
    let events = h.run(request()).await;
    assert_json_snapshot!("first_event_timeout_events", events);
    assert_eq!(error_info(&events), ErrorInfo::new(ErrorKind::Timeout));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn abort_mid_stream_reports_aborted_with_partial() {
    let h = harness().await;
    h.fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(20),
    });
    h.fake.script(Turn::text("x".repeat(400)).chunk_size(2));
    let controller = AbortController::new();
    let options = StreamOptions {
        abort: Some(controller.signal()),
        ..StreamOptions::default()
    };
    let mut stream = h.adapter.stream(request(), options);
    let mut events = Vec::new();
    while let Some(e) = stream.next().await {
        if matches!(e, StreamEvent::TextDelta { .. }) && !controller.signal().is_aborted() {
            controller.abort();
        }
        events.push(e);
    }
    let StreamEvent::Error {
        reason,
        message,
        info,
        partial,
    } = terminal(&events)
    else {
        panic!("{events:?}")
    };
    assert_eq!(*reason, ErrorReason::Aborted);
    assert_eq!(*info, ErrorInfo::new(ErrorKind::Aborted));
    assert_eq!(message, "request was aborted");
    assert!(partial.as_ref().unwrap().text().starts_with("xx"));
    assert!(events.len() < 20, "stopped promptly: {}", events.len());
}

#[tokio::test]
async fn dropped_consumer_closes_the_connection() {
    let h = harness().await;
    h.fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(20),
    });
    h.fake.script(Turn::text("y".repeat(2000)).chunk_size(1));
    let mut stream = h.adapter.stream(request(), StreamOptions::default());
    for _ in 0..4 {
        assert!(stream.next().await.is_some());
    }
    let disconnected = || h.fake.requests()[0].client_disconnected;
    assert!(!disconnected(), "connection still open while consuming");
    drop(stream);
    // The fake records the client closing the stream before it was complete.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !disconnected() {
        assert!(
            Instant::now() < deadline,
            "the client did not close its connection after the drop"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.fake.requests()[0].status, Some(200));
}

#[tokio::test]
async fn one_client_per_region_and_endpoint() {
    let h = harness().await;
    h.fake.script(Turn::text("ok").times(3));
    h.run(request()).await;
    h.run(request()).await;
    assert_eq!(h.adapter.client_count(), 1);
    let options = StreamOptions {
        region: Some("us-west-2".into()),
        ..StreamOptions::default()
    };
    let events = collect(h.adapter.stream(request(), options)).await;
    assert_eq!(done_message(&events).text(), "ok");
    assert_eq!(h.adapter.client_count(), 2);
    let scope = h
        .fake
        .requests()
        .last()
        .unwrap()
        .header("authorization")
        .unwrap()
        .to_owned();
    assert!(scope.contains("/us-west-2/bedrock/aws4_request"), "{scope}");
}

/// The caller's trace context reaches Bedrock as a (signed) `traceparent` header, and
/// Bedrock's request id comes back through the slot, for answers and for refusals alike.
#[tokio::test]
async fn traceparent_goes_to_bedrock_and_its_request_id_comes_back() {
    let h = harness().await;
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let slot = openclaw_stream::RequestIdSlot::new();
    let options = StreamOptions {
        traceparent: Some(traceparent.into()),
        request_id: Some(slot.clone()),
        ..StreamOptions::default()
    };
    let events = collect(h.adapter.stream(request(), options.clone())).await;
    assert!(matches!(terminal(&events), StreamEvent::Done { .. }));
    let sent = h.fake.requests();
    assert_eq!(sent[0].header("traceparent"), Some(traceparent));
    assert_eq!(slot.get().as_deref(), Some(sent[0].request_id.as_str()));

    h.fake.fault(Fault::Throttle.times(5));
    let slot = openclaw_stream::RequestIdSlot::new();
    let refused = StreamOptions {
        // Not a traceparent (a header injection attempt): not sent.
        traceparent: Some(format!("{traceparent}\r\nx-evil: 1")),
        request_id: Some(slot.clone()),
        ..StreamOptions::default()
    };
    let events = collect(h.adapter.stream(request(), refused)).await;
    assert!(matches!(terminal(&events), StreamEvent::Error { .. }));
    let sent = h.fake.requests();
    let last = sent.last().unwrap();
    assert_eq!(last.header("traceparent"), None);
    assert_eq!(last.header("x-evil"), None);
    assert_eq!(slot.get().as_deref(), Some(last.request_id.as_str()));
    assert_ne!(sent[0].request_id, last.request_id);
}
