//! Classification of SDK errors built by hand (what `fake-bedrock` cannot send: a
//! `Retry-After` header, codes outside the model). The faults it can send are classified in
//! the integration tests, through the real SDK.

use aws_sdk_bedrockruntime::error::ErrorMetadata;
use aws_sdk_bedrockruntime::types::error::{ThrottlingException, ValidationException};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

use super::*;
use crate::types::ErrorReason;

fn response(status: u16, headers: &[(&'static str, &'static str)]) -> Response {
    let mut raw = Response::new(
        StatusCode::try_from(status).expect("status"),
        SdkBody::empty(),
    );
    for (name, value) in headers {
        raw.headers_mut().insert(*name, *value);
    }
    raw
}

fn unhandled(code: &str) -> ConverseStreamError {
    ConverseStreamError::generic(ErrorMetadata::builder().code(code).message("m").build())
}

#[test]
fn throttling_carries_retry_after() {
    let err = ConverseStreamError::ThrottlingException(
        ThrottlingException::builder()
            .message("slow down")
            .meta(
                ErrorMetadata::builder()
                    .code("ThrottlingException")
                    .message("slow down")
                    .build(),
            )
            .build(),
    );
    let e = SdkError::service_error(err, response(429, &[("retry-after", "7")]));
    let (info, message) = send_error(&e, None);
    assert_eq!(
        info,
        ErrorInfo {
            kind: ErrorKind::Throttled,
            code: Some("ThrottlingException".into()),
            status: Some(429),
            retry_after_secs: Some(7),
        }
    );
    assert_eq!(
        message,
        "bedrock rejected the request (HTTP 429, ThrottlingException): slow down"
    );
}

#[test]
fn modelled_variant_wins_over_status() {
    let err = ConverseStreamError::ValidationException(
        ValidationException::builder().message("bad").build(),
    );
    let (info, _) = send_error(&SdkError::service_error(err, response(400, &[])), None);
    assert_eq!(
        (info.kind, info.code.as_deref(), info.retry_after_secs),
        (ErrorKind::Validation, Some("ValidationException"), None)
    );
}

#[test]
fn undeclared_codes_and_statuses_are_classified() {
    let cases = [
        ("UnrecognizedClientException", 403, ErrorKind::Auth),
        ("ExpiredTokenException", 403, ErrorKind::Auth),
        ("ServiceQuotaExceededException", 400, ErrorKind::Throttled),
        ("TooManyRequestsException", 429, ErrorKind::Throttled),
        ("SomethingNew", 401, ErrorKind::Auth),
        ("SomethingNew", 404, ErrorKind::NotFound),
        ("SomethingNew", 429, ErrorKind::Throttled),
        ("SomethingNew", 503, ErrorKind::Unavailable),
        ("SomethingNew", 504, ErrorKind::Timeout),
        ("SomethingNew", 409, ErrorKind::Validation),
        ("SomethingNew", 500, ErrorKind::Upstream),
    ];
    for (code, status, kind) in cases {
        let e = SdkError::service_error(unhandled(code), response(status, &[]));
        let (info, message) = send_error(&e, None);
        assert_eq!(info.kind, kind, "{code} {status}");
        assert_eq!(info.code.as_deref(), Some(code));
        assert_eq!(info.status, Some(status));
        assert!(
            message.contains(&format!("HTTP {status}, {code}")),
            "{message}"
        );
    }
}

#[test]
fn kinds_serialise_snake_case() {
    let value = serde_json::to_value(ErrorInfo::new(ErrorKind::NotFound)).expect("json");
    assert_eq!(value, serde_json::json!({"kind": "not_found"}));
    for kind in [
        ErrorKind::Auth,
        ErrorKind::NotFound,
        ErrorKind::Validation,
        ErrorKind::Throttled,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Upstream,
        ErrorKind::Aborted,
    ] {
        assert_eq!(serde_json::to_value(kind).expect("json"), kind.as_str());
        assert_eq!(
            ErrorInfo::new(kind).reason() == ErrorReason::Aborted,
            kind == ErrorKind::Aborted
        );
    }
}

#[test]
fn error_event_round_trips_and_old_events_default_to_upstream() {
    let event = StreamEvent::Error {
        reason: ErrorReason::Error,
        message: "m".into(),
        info: ErrorInfo::new(ErrorKind::Throttled)
            .with_code("ThrottlingException")
            .with_status(429),
        partial: None,
    };
    let json = serde_json::to_value(&event).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"type": "error", "reason": "error", "message": "m", "kind": "throttled", "code": "ThrottlingException", "status": 429})
    );
    let back: StreamEvent = serde_json::from_value(json).expect("parse");
    assert_eq!(back, event);
    let old: StreamEvent =
        serde_json::from_str(r#"{"type":"error","reason":"error","message":"m"}"#).expect("parse");
    assert!(
        matches!(old, StreamEvent::Error { info, .. } if info == ErrorInfo::new(ErrorKind::Upstream))
    );
}
