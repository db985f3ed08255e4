//! Errors in Anthropic's shape: `{"type":"error","error":{"type":...,"message":...}}`, with
//! the statuses Anthropic uses (529 `overloaded_error` when Bedrock says it is unavailable).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api_error::ApiError;

/// Anthropic's status for an overloaded service.
const OVERLOADED: u16 = 529;

/// Anthropic's error `type` and status for an error.
fn classify(error: &ApiError) -> (StatusCode, &'static str) {
    let status = error.status;
    let kind = match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 if error.upstream.is_some() => {
            return (
                StatusCode::from_u16(OVERLOADED).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
                "overloaded_error",
            );
        }
        503 => "overloaded_error",
        504 => "timeout_error",
        400..=499 => "invalid_request_error",
        _ => "api_error",
    };
    (status, kind)
}

/// The JSON body of an error event or answer.
pub(crate) fn body(error: &ApiError) -> Value {
    let (_, kind) = classify(error);
    json!({"type": "error", "error": {"type": kind, "message": error.message}})
}

/// The HTTP answer of an error, in Anthropic's shape.
pub(crate) fn response(error: ApiError) -> Response {
    let (status, _) = classify(&error);
    let mut response = (status, axum::Json(body(&error))).into_response();
    if let Some(secs) = error.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    if let Some(failure) = error.upstream {
        response.extensions_mut().insert(*failure);
    }
    response
}

#[cfg(test)]
mod tests {
    use openclaw_stream::{ErrorInfo, ErrorKind};

    use super::*;
    use crate::api_error::upstream;

    #[test]
    fn statuses_and_types_follow_anthropic() {
        let cases = [
            (ErrorKind::Throttled, 429, "rate_limit_error"),
            (ErrorKind::Unavailable, 529, "overloaded_error"),
            (ErrorKind::Validation, 400, "invalid_request_error"),
            (ErrorKind::NotFound, 404, "not_found_error"),
            (ErrorKind::Timeout, 504, "timeout_error"),
            (ErrorKind::Upstream, 502, "api_error"),
        ];
        for (kind, status, error_type) in cases {
            let response = response(upstream(&ErrorInfo::new(kind), "boom"));
            assert_eq!(response.status().as_u16(), status, "{kind:?}");
            let b = body(&upstream(&ErrorInfo::new(kind), "boom"));
            assert_eq!(b["type"], "error");
            assert_eq!(b["error"]["type"], error_type, "{kind:?}");
        }
        let throttled = response(upstream(&ErrorInfo::new(ErrorKind::Throttled), "slow"));
        assert_eq!(throttled.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            body(&ApiError::unauthorized())["error"]["type"],
            "authentication_error"
        );
        // Other client errors (405, 408, 415, 431, ...) are invalid requests.
        let mut slow = ApiError::invalid("slow body", None);
        slow.status = StatusCode::REQUEST_TIMEOUT;
        assert_eq!(body(&slow)["error"]["type"], "invalid_request_error");
    }
}
