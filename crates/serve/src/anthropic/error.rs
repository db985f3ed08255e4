//! Errors in Anthropic's shape: `{"type":"error","error":{"type":...,"message":...}}`, with
//! the statuses Anthropic uses (529 `overloaded_error` when Bedrock says it is unavailable).

use axum::response::Response;
use serde_json::Value;

use crate::api_error::ApiError;

/// The JSON body of an error event or answer.
pub(crate) fn body(error: &ApiError) -> Value {
    error.anthropic_body()
}

/// The HTTP answer of an error, in Anthropic's shape.
pub(crate) fn response(error: ApiError) -> Response {
    error.into_anthropic_response()
}

#[cfg(test)]
mod tests {
    use openclaw_stream::{ErrorInfo, ErrorKind};

    use axum::http::{StatusCode, header};

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
            body(&ApiError::unauthorized(true))["error"]["type"],
            "authentication_error"
        );
        // Other client errors (405, 408, 415, 431, ...) are invalid requests.
        let mut slow = ApiError::invalid("slow body", None);
        slow.status = StatusCode::REQUEST_TIMEOUT;
        assert_eq!(body(&slow)["error"]["type"], "invalid_request_error");
    }
}
