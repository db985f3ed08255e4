//! Injected faults: HTTP errors, SDK retries, exception frames, dropped and corrupt streams, hangs,
//! stalls, pacing.

use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use fake_bedrock::{FakeBedrock, Fault, Pacing, Rule, StreamException, Turn};

use crate::support::*;

#[tokio::test]
async fn http_faults_answer_with_bedrock_errors() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    fake.fault(Fault::Throttle);
    let e = converse_err(&client).await;
    assert!(e.is_throttling_exception(), "{e:?}");
    assert_eq!(fake.requests().last().unwrap().status, Some(429));
    fake.fault(Fault::InternalError);
    let e = converse_err(&client).await;
    assert!(e.is_internal_server_exception(), "{e:?}");
    fake.fault(Fault::ServiceUnavailable);
    let e = converse_err(&client).await;
    assert!(e.is_service_unavailable_exception(), "{e:?}");
    assert_eq!(fake.requests().last().unwrap().status, Some(503));
    fake.fault(Fault::Error {
        status: 400,
        error_type: "ModelNotReadyException".into(),
        message: "Model is not ready".into(),
    });
    let e = converse_err(&client).await;
    assert!(e.is_model_not_ready_exception(), "{e:?}");
    // All consumed: the next call succeeds.
    client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();

    // Control plane access denied, targeted at control-plane calls only.
    fake.fault(Rule::new(Fault::AccessDenied).control_plane());
    client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    let e = control(&fake, "us-east-1")
        .list_foundation_models()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(e.is_access_denied_exception(), "{e:?}");
    assert!(
        e.message()
            .unwrap()
            .contains("bedrock:ListFoundationModels")
    );
}

#[tokio::test]
async fn throttling_first_calls_is_retried_by_the_sdk() {
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(HAIKU3).times(2));
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(AK, SK, None, None, "test"))
        .endpoint_url(fake.url())
        .retry_config(
            aws_smithy_types::retry::RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let out = client
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Echo: x");
    let statuses: Vec<_> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(429), Some(200)]);
}

#[tokio::test]
async fn stream_exception_frames_of_every_kind() {
    use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError as E;
    let fake = FakeBedrock::builder().chunk_size(4).start().await.unwrap();
    for kind in [
        StreamException::Throttling,
        StreamException::InternalServer,
        StreamException::ModelStreamError,
        StreamException::Validation,
        StreamException::ServiceUnavailable,
    ] {
        let c = stream_with(
            &fake,
            Fault::StreamException {
                after_events: 3,
                kind,
                message: format!("boom {kind:?}"),
            },
        )
        .await;
        assert_eq!(c.kinds.len(), 3, "{kind:?}");
        let err = c
            .error
            .unwrap_or_else(|| panic!("{kind:?}: {:?}", c.other_error));
        assert_eq!(err.message(), Some(format!("boom {kind:?}").as_str()));
        let ok = match (&kind, &err) {
            (StreamException::Throttling, E::ThrottlingException(_)) => true,
            (StreamException::InternalServer, E::InternalServerException(_)) => true,
            (StreamException::ModelStreamError, E::ModelStreamErrorException(e)) => {
                e.original_status_code() == Some(500)
            }
            (StreamException::Validation, E::ValidationException(_)) => true,
            (StreamException::ServiceUnavailable, E::ServiceUnavailableException(_)) => true,
            _ => false,
        };
        assert!(ok, "{kind:?} decoded as {err:?}");
    }
}

#[tokio::test]
async fn stream_drop_corrupt_hang_and_stall() {
    let fake = FakeBedrock::builder().chunk_size(4).start().await.unwrap();
    let c = stream_with(&fake, Fault::DropConnection { after_events: 4 }).await;
    assert_eq!(c.kinds.len(), 4);
    assert!(c.other_error.is_some() || c.error.is_some(), "{c:?}");
    assert!(c.stop_reason.is_none());

    let c = stream_with(&fake, Fault::CorruptFrame { at_event: 2 }).await;
    assert_eq!(c.kinds.len(), 2, "{c:?}");
    let err = c.other_error.unwrap();
    assert!(err.contains("MessageChecksumMismatch"), "{err}");

    // A stalled stream: events stop but the connection stays open.
    fake.fault(Fault::StallStream { after_events: 2 });
    let client = runtime(&fake, "us-east-1", SK);
    let mut out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("stall"))
        .send()
        .await
        .unwrap();
    assert!(out.stream.recv().await.unwrap().is_some());
    assert!(out.stream.recv().await.unwrap().is_some());
    let waited = tokio::time::timeout(Duration::from_millis(300), out.stream.recv()).await;
    assert!(waited.is_err(), "the stream should stall");

    // A hang: no response head at all.
    fake.fault(Fault::Hang);
    let hung = tokio::time::timeout(
        Duration::from_millis(300),
        client
            .converse()
            .model_id(HAIKU3)
            .messages(user("x"))
            .send(),
    )
    .await;
    assert!(hung.is_err(), "the request should hang");
    // Shutdown releases hanging and stalled requests promptly.
    let started = Instant::now();
    fake.shutdown().await;
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn pacing_delays_first_byte_and_events() {
    let fake = FakeBedrock::builder()
        .pacing(Pacing {
            first_byte: Duration::from_millis(150),
            between_events: Duration::from_millis(20),
        })
        .start()
        .await
        .unwrap();
    fake.script(Turn::text("abcdefgh").chunk_size(2));
    let client = runtime(&fake, "us-east-1", SK);
    let started = Instant::now();
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(150));
    let c = collect(out.stream).await;
    assert_eq!(c.text, "abcdefgh");
    // 8 events (start, 4 deltas, stop, messageStop, metadata): 7 gaps of 20 ms.
    assert!(
        started.elapsed() >= Duration::from_millis(150 + 7 * 20),
        "{:?}",
        started.elapsed()
    );
    assert!(c.latency.unwrap() >= 150);
    fake.set_pacing(Pacing::default());
}

/// The answer text, or the error code.
async fn ask(client: &aws_sdk_bedrockruntime::Client, model: &str) -> Result<String, String> {
    client
        .converse()
        .model_id(model)
        .messages(user("ping"))
        .send()
        .await
        .map(|out| text_of(out.output().unwrap()))
        .map_err(|e| e.into_service_error().code().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn a_model_targeted_fault_spares_the_other_models() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    let model_b = "amazon.nova-micro-v1:0";

    // Model A throttled forever (given as its foundation-model ARN: it matches by the id).
    fake.fault(
        Fault::Throttle
            .for_model(format!(
                "arn:aws:bedrock:us-east-1::foundation-model/{HAIKU3}"
            ))
            .forever(),
    );
    for _ in 0..3 {
        assert_eq!(
            ask(&client, HAIKU3).await,
            Err("ThrottlingException".into())
        );
        assert_eq!(ask(&client, model_b).await, Ok("Echo: ping".into()));
    }
    // Through a profile to A, or A's ARN: still A.
    assert_eq!(
        ask(&client, "us.anthropic.claude-3-haiku-20240307-v1:0").await,
        Err("ThrottlingException".into())
    );
    let arn_a = format!("arn:aws:bedrock:us-east-1::foundation-model/{HAIKU3}");
    assert_eq!(
        ask(&client, &arn_a).await,
        Err("ThrottlingException".into())
    );
    // A stream to B and the control plane are served normally.
    let out = client
        .converse_stream()
        .model_id(model_b)
        .messages(user("stream me"))
        .send()
        .await
        .unwrap();
    assert_eq!(collect(out.stream).await.text, "Echo: stream me");
    control(&fake, "us-east-1")
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    let statuses: Vec<_> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [
            Some(429),
            Some(200),
            Some(429),
            Some(200),
            Some(429),
            Some(200),
            Some(429),
            Some(429),
            Some(200),
            Some(200)
        ]
    );
    fake.clear_faults();
    assert_eq!(ask(&client, HAIKU3).await, Ok("Echo: ping".into()));
}

#[tokio::test]
async fn a_profile_targeted_fault_spares_other_profiles_of_the_same_model() {
    let fake = fake().await;
    let client = runtime(&fake, "us-east-1", SK);
    let us = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let global = "global.anthropic.claude-sonnet-4-5-20250929-v1:0";
    let us_arn = format!("arn:aws:bedrock:us-east-1:123456789012:inference-profile/{us}");

    // The admin API's JSON form: `"target": {"model": ..}`, `"remaining": null` is forever.
    let resp = admin(
        &fake,
        "POST",
        "faults",
        &serde_json::json!({
            "item": {"type": "service_unavailable"},
            "target": {"model": us},
            "remaining": null
        })
        .to_string(),
    )
    .await;
    assert_eq!(resp.status, 200);
    for model in [us, us_arn.as_str(), us] {
        assert_eq!(
            ask(&client, model).await,
            Err("ServiceUnavailableException".into()),
            "{model}"
        );
    }
    // The failover target: another profile of the same foundation model answers.
    assert_eq!(ask(&client, global).await, Ok("Echo: ping".into()));
    let pending = body_json(&admin(&fake, "GET", "faults", "").await);
    assert_eq!(
        pending,
        serde_json::json!([{
            "item": {"type": "service_unavailable"},
            "target": {"model": us},
            "remaining": null
        }])
    );
}
