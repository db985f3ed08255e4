use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::{AssistantMessage, Message, StopReason, Usage};

/// A stream that answers each call with the next script (the last one repeats) and counts
/// calls.
struct Scripted {
    scripts: Vec<Vec<StreamEvent>>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(scripts: Vec<Vec<StreamEvent>>) -> Arc<Self> {
        Arc::new(Scripted {
            scripts,
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl ModelStream for Scripted {
    fn stream(&self, request: StreamRequest, _: StreamOptions) -> EventStream {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        let script = self.scripts[n.min(self.scripts.len() - 1)].clone();
        let model = request.model.id;
        Box::pin(futures::stream::iter(script).map(move |e| match e {
            StreamEvent::Start { .. } => StreamEvent::Start {
                model: model.clone(),
            },
            other => other,
        }))
    }
}

fn error(kind: ErrorKind) -> StreamEvent {
    let info = ErrorInfo::new(kind);
    StreamEvent::Error {
        reason: info.reason(),
        message: format!("{kind} failure"),
        info,
        partial: None,
    }
}

fn answer(text: &str) -> Vec<StreamEvent> {
    let mut message = AssistantMessage::new("test", "test", "m");
    message
        .content
        .push(crate::AssistantContent::Text { text: text.into() });
    vec![
        StreamEvent::Start {
            model: String::new(),
        },
        StreamEvent::TextStart { index: 0 },
        StreamEvent::TextDelta {
            index: 0,
            delta: text.into(),
        },
        StreamEvent::TextEnd {
            index: 0,
            text: text.into(),
        },
        StreamEvent::Done {
            stop_reason: StopReason::Stop,
            message: Box::new(message),
            usage: Usage::default(),
        },
    ]
}

fn failing(kind: ErrorKind) -> Vec<StreamEvent> {
    vec![
        StreamEvent::Start {
            model: String::new(),
        },
        error(kind),
    ]
}

fn settings(failures: u32, cool_down: Duration) -> Arc<Breakers> {
    Arc::new(Breakers::new(FailoverSettings {
        first_token_timeout: Some(Duration::from_secs(5)),
        breaker_failures: failures,
        breaker_cool_down: cool_down,
    }))
}

fn chain(a: &Arc<Scripted>, b: &Arc<Scripted>, breakers: &Arc<Breakers>) -> Failover {
    Failover::new(
        vec![
            Target::new("p/a", ModelDefinition::new("a", "A"), a.clone()),
            Target::new("p/b", ModelDefinition::new("b", "B"), b.clone()),
        ],
        breakers.clone(),
    )
}

fn request() -> StreamRequest {
    StreamRequest::new(
        ModelDefinition::new("a", "A"),
        vec![Message::user_text("hi")],
    )
}

async fn run(failover: &Failover) -> (Vec<StreamEvent>, Report) {
    let (stream, report) = failover.start(request(), StreamOptions::default());
    (stream.collect().await, report)
}

#[test]
fn classification() {
    for kind in [
        ErrorKind::Throttled,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Upstream,
        ErrorKind::NotFound,
    ] {
        assert!(fails_over(&ErrorInfo::new(kind)), "{kind}");
    }
    for kind in [ErrorKind::Validation, ErrorKind::Aborted, ErrorKind::Auth] {
        assert!(!fails_over(&ErrorInfo::new(kind)), "{kind}");
    }
    assert!(fails_over(
        &ErrorInfo::new(ErrorKind::Auth).with_code("AccessDeniedException")
    ));
    assert!(!fails_over(
        &ErrorInfo::new(ErrorKind::Auth).with_code("ExpiredTokenException")
    ));
}

#[test]
fn global_profiles() {
    assert_eq!(
        global_profile("us.anthropic.claude-sonnet-4-5-20250929-v1:0").as_deref(),
        Some("global.anthropic.claude-sonnet-4-5-20250929-v1:0")
    );
    assert_eq!(global_profile("eu.x.y").as_deref(), Some("global.x.y"));
    assert_eq!(global_profile("global.x.y"), None);
    assert_eq!(global_profile("anthropic.claude-v2"), None);
}

#[tokio::test]
async fn a_throttled_primary_fails_over_and_the_served_model_starts_the_stream() {
    let a = Scripted::new(vec![failing(ErrorKind::Throttled)]);
    let b = Scripted::new(vec![answer("from b")]);
    let (events, report) = run(&chain(&a, &b, &settings(3, Duration::from_secs(60)))).await;
    assert_eq!(
        events.first(),
        Some(&StreamEvent::Start { model: "b".into() })
    );
    assert!(matches!(events.last(), Some(StreamEvent::Done { .. })));
    assert_eq!(report.served().as_deref(), Some("p/b"));
    assert_eq!(report.calls(), 2);
    assert_eq!(report.attempts()[0].reason(), "throttled");
    assert_eq!((a.calls(), b.calls()), (1, 1));
}

#[tokio::test]
async fn validation_errors_and_failures_after_content_do_not_fail_over() {
    let breakers = settings(3, Duration::from_secs(60));
    let a = Scripted::new(vec![failing(ErrorKind::Validation)]);
    let b = Scripted::new(vec![answer("from b")]);
    let (events, report) = run(&chain(&a, &b, &breakers)).await;
    assert!(
        matches!(events.last(), Some(StreamEvent::Error { info, .. }) if info.kind == ErrorKind::Validation)
    );
    assert_eq!(report.served(), None);
    assert_eq!(b.calls(), 0);

    let mut late = answer("partial");
    late.truncate(3);
    late.push(error(ErrorKind::Throttled));
    let a = Scripted::new(vec![late]);
    let (events, report) = run(&chain(&a, &b, &breakers)).await;
    assert!(
        matches!(events.last(), Some(StreamEvent::Error { info, .. }) if info.kind == ErrorKind::Throttled)
    );
    assert_eq!(report.served().as_deref(), Some("p/a"));
    assert_eq!(b.calls(), 0);
}

#[tokio::test]
async fn every_target_failing_gives_the_primarys_error_with_every_attempt() {
    let a = Scripted::new(vec![failing(ErrorKind::Throttled)]);
    let b = Scripted::new(vec![failing(ErrorKind::Unavailable)]);
    let (events, _) = run(&chain(&a, &b, &settings(3, Duration::from_secs(60)))).await;
    let [StreamEvent::Error { info, message, .. }] = events.as_slice() else {
        panic!("one error: {events:#?}");
    };
    assert_eq!(info.kind, ErrorKind::Throttled);
    assert!(
        message.starts_with("every model failed (2 attempts: p/a: throttled; p/b: unavailable)"),
        "{message}"
    );
}

#[tokio::test]
async fn the_breaker_skips_an_open_target_then_probes_it() {
    let breakers = settings(2, Duration::from_millis(50));
    let a = Scripted::new(vec![
        failing(ErrorKind::Throttled),
        failing(ErrorKind::Throttled),
        answer("a is back"),
    ]);
    let b = Scripted::new(vec![answer("from b")]);
    let failover = chain(&a, &b, &breakers);
    run(&failover).await;
    run(&failover).await;
    assert_eq!(breakers.snapshot()[0].state, BreakerState::Open);
    let (_, report) = run(&failover).await;
    assert_eq!(report.attempts()[0].outcome, Outcome::Skipped);
    assert_eq!(a.calls(), 2);
    tokio::time::sleep(Duration::from_millis(60)).await;
    let (_, report) = run(&failover).await;
    assert_eq!(report.served().as_deref(), Some("p/a"));
    assert_eq!(a.calls(), 3);
    let status = &breakers.snapshot()[0];
    assert_eq!(
        (status.state, status.opened_total, status.skipped_total),
        (BreakerState::Closed, 1, 1)
    );
}

#[tokio::test]
async fn a_target_silent_past_the_first_token_timeout_is_abandoned() {
    struct Silent;
    impl ModelStream for Silent {
        fn stream(&self, _: StreamRequest, _: StreamOptions) -> EventStream {
            Box::pin(
                futures::stream::iter([StreamEvent::Start { model: "a".into() }])
                    .chain(futures::stream::pending()),
            )
        }
    }
    let breakers = Arc::new(Breakers::new(FailoverSettings {
        first_token_timeout: Some(Duration::from_millis(20)),
        ..FailoverSettings::default()
    }));
    let b = Scripted::new(vec![answer("from b")]);
    let failover = Failover::new(
        vec![
            Target::new("p/a", ModelDefinition::new("a", "A"), Arc::new(Silent)),
            Target::new("p/b", ModelDefinition::new("b", "B"), b.clone()),
        ],
        breakers,
    );
    let (events, report) = run(&failover).await;
    assert_eq!(
        events.first(),
        Some(&StreamEvent::Start { model: "b".into() })
    );
    assert_eq!(
        report.attempts()[0].reason(),
        "timeout (first_token_timeout)"
    );
}
