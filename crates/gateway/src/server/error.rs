//! Errors in OpenAI's JSON shape (`{"error":{"message","type","param","code"}}`) with their
//! HTTP status, and the classification of upstream (Bedrock) failures.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Seconds a throttled client is asked to wait (`Retry-After`). Bedrock sends no hint, and its
/// token buckets refill within seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

/// An error answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Readable message (never a secret).
    pub message: String,
    /// OpenAI's `type`.
    pub kind: &'static str,
    /// The request field at fault, if any.
    pub param: Option<String>,
    /// A machine-readable code.
    pub code: &'static str,
    /// `Retry-After` seconds, if any.
    pub retry_after: Option<u64>,
    /// Label for the upstream-error metric, when the failure came from Bedrock.
    pub upstream: Option<&'static str>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, code: &'static str, message: String) -> Self {
        ApiError {
            status,
            message,
            kind,
            param: None,
            code,
            retry_after: None,
            upstream: None,
        }
    }

    /// 400: the request is invalid.
    pub fn invalid(message: impl Into<String>, param: Option<&str>) -> Self {
        ApiError {
            param: param.map(str::to_string),
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "invalid_request",
                message.into(),
            )
        }
    }

    /// 401: missing or wrong bearer token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_api_key",
            "missing or invalid bearer token: send `Authorization: Bearer <gateway token>` (gateway.auth.token or OPENCLAW_GATEWAY_TOKEN)".into(),
        )
    }

    /// 404: unknown model.
    pub fn model_not_found(model: &str) -> Self {
        ApiError {
            param: Some("model".into()),
            ..Self::new(
                StatusCode::NOT_FOUND,
                "invalid_request_error",
                "model_not_found",
                format!(
                    "the model `{model}` does not exist: expected `amazon-bedrock/<model id>`, a bare Bedrock model id or an alias (see GET /v1/models)"
                ),
            )
        }
    }

    /// 404: unknown route.
    pub fn not_found(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            format!(
                "no route for `{path}`: expected /v1/chat/completions, /v1/models, /healthz, /readyz or /metrics"
            ),
        )
    }

    /// 413: the body is larger than allowed.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request_error",
            "request_too_large",
            format!("request body larger than {limit} bytes (the gateway's --max-body-bytes)"),
        )
    }

    /// 413: an image is larger than allowed.
    pub fn image_too_large(limit: usize, param: &str) -> Self {
        ApiError {
            param: Some(param.to_string()),
            ..Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request_error",
                "image_too_large",
                format!("image larger than {limit} bytes (the gateway's --max-image-bytes)"),
            )
        }
    }

    /// 429: too many concurrent streams.
    pub fn too_many_streams(limit: usize) -> Self {
        ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "concurrency_limit_exceeded",
                format!(
                    "too many concurrent requests: the gateway serves at most {limit} at a time (--max-concurrent-streams)"
                ),
            )
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        json!({"error": {
            "message": self.message,
            "type": self.kind,
            "param": self.param,
            "code": self.code,
        }})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Some(label) = self.upstream {
            response.extensions_mut().insert(UpstreamFailure(label));
        }
        response
    }
}

/// Marks a response as an upstream failure (for the metric), with its label.
#[derive(Debug, Clone, Copy)]
pub struct UpstreamFailure(pub &'static str);

/// AWS error codes meaning the gateway's own AWS credentials were refused.
const CREDENTIAL_CODES: [&str; 6] = [
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "MissingAuthenticationTokenException",
    "IncompleteSignatureException",
    "No API key resolved",
];

/// Maps a terminal stream error (its message: `openclaw-stream` names the AWS error code and
/// HTTP status, or the timeout) to an answer.
///
/// - throttling (`ThrottlingException`, HTTP 429, in-stream throttling, quota) → 429 with
///   `Retry-After`;
/// - first-event, idle or connect timeouts → 504;
/// - `AccessDeniedException` (model access not enabled, IAM) → 403;
/// - the gateway's AWS credentials refused → 502 (the client cannot fix it);
/// - `ResourceNotFoundException` → 404; validation errors → 400;
/// - `ServiceUnavailableException`, `ModelNotReadyException`, HTTP 503 → 503;
/// - anything else (5xx, model stream errors, dropped or unreachable connections) → 502.
pub fn classify(message: &str) -> ApiError {
    let has = |s: &str| message.contains(s);
    let msg = format!("upstream (bedrock) error: {message}");
    let (status, kind, code, label) = if has("ThrottlingException")
        || has("(HTTP 429")
        || has("throttling error")
        || has("ServiceQuotaExceededException")
    {
        (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "upstream_throttled",
            "throttling",
        )
    } else if has("timeout)") || has("timed out") {
        (
            StatusCode::GATEWAY_TIMEOUT,
            "timeout_error",
            "upstream_timeout",
            "timeout",
        )
    } else if has("AccessDeniedException") {
        (
            StatusCode::FORBIDDEN,
            "permission_error",
            "upstream_access_denied",
            "access_denied",
        )
    } else if CREDENTIAL_CODES.iter().any(|c| has(c)) || has("(HTTP 401") || has("(HTTP 403") {
        (
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "upstream_auth_failed",
            "auth",
        )
    } else if has("ResourceNotFoundException") {
        (
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
            "not_found",
        )
    } else if has("ValidationException")
        || has("validation error")
        || has("(HTTP 400")
        || has("unsupported image type")
        || has("could not build the converse request")
    {
        (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "upstream_validation",
            "validation",
        )
    } else if has("ServiceUnavailableException")
        || has("ModelNotReadyException")
        || has("(HTTP 503")
        || has("service unavailable")
    {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "upstream_unavailable",
            "unavailable",
        )
    } else {
        (
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "upstream_error",
            "error",
        )
    };
    ApiError {
        retry_after: (status == StatusCode::TOO_MANY_REQUESTS).then_some(RETRY_AFTER_SECS),
        upstream: Some(label),
        ..ApiError::new(status, kind, code, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_errors_map_to_statuses() {
        let cases = [
            (
                "bedrock rejected the request (HTTP 429, ThrottlingException): slow down",
                429,
            ),
            ("bedrock throttling error: slow", 429),
            (
                "no response from bedrock within 1s (first-event timeout)",
                504,
            ),
            ("no event from bedrock for 30s (idle timeout)", 504),
            (
                "bedrock rejected the request (HTTP 403, AccessDeniedException): no access",
                403,
            ),
            (
                "bedrock rejected the request (HTTP 403, UnrecognizedClientException): bad key",
                502,
            ),
            (
                "bedrock rejected the request (HTTP 404, ResourceNotFoundException): no model",
                404,
            ),
            (
                "bedrock rejected the request (HTTP 400, ValidationException): bad",
                400,
            ),
            (
                "bedrock rejected the request (HTTP 503, ServiceUnavailableException): down",
                503,
            ),
            (
                "bedrock rejected the request (HTTP 500, InternalServerException): oops",
                502,
            ),
            ("bedrock model stream error: boom", 502),
            ("could not reach bedrock: connection refused", 502),
        ];
        for (message, status) in cases {
            let e = classify(message);
            assert_eq!(e.status.as_u16(), status, "{message}");
            assert_eq!(e.retry_after.is_some(), status == 429, "{message}");
            assert!(e.upstream.is_some());
        }
    }

    #[test]
    fn body_has_openai_shape() {
        let e = ApiError::invalid("bad", Some("messages[0]"));
        assert_eq!(
            e.body(),
            json!({"error": {"message": "bad", "type": "invalid_request_error", "param": "messages[0]", "code": "invalid_request"}})
        );
    }
}
