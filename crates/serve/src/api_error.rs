//! Errors in OpenAI's JSON shape (`{"error":{"message","type","param","code"}}`) with their
//! HTTP status, and the mapping of upstream (Bedrock) failures, by their [`ErrorKind`], to
//! statuses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use openclaw_stream::{ErrorInfo, ErrorKind};
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
    pub error_type: &'static str,
    /// The request field at fault, if any.
    pub param: Option<String>,
    /// A machine-readable code.
    pub code: &'static str,
    /// `Retry-After` seconds, if any.
    pub retry_after: Option<u64>,
    /// Labels for the upstream-error metric, when the failure came from Bedrock (boxed: most
    /// errors have none, and it would double the size of every `Result<_, ApiError>`).
    pub upstream: Option<Box<UpstreamFailure>>,
}

impl ApiError {
    fn new(
        status: StatusCode,
        error_type: &'static str,
        code: &'static str,
        message: String,
    ) -> Self {
        ApiError {
            status,
            message,
            error_type,
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
            "type": self.error_type,
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
        if let Some(failure) = self.upstream {
            response.extensions_mut().insert(*failure);
        }
        response
    }
}

/// Marks a response as an upstream failure (for the metric): its kind and AWS error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamFailure {
    /// The failure's kind.
    pub kind: ErrorKind,
    /// The AWS error code (or stop reason), when there was one.
    pub code: Option<String>,
}

impl UpstreamFailure {
    /// The metric labels of a stream failure.
    pub fn of(info: &ErrorInfo) -> Self {
        UpstreamFailure {
            kind: info.kind,
            code: info.code.clone(),
        }
    }
}

/// The AWS error code of a refused model access (IAM, or model access not enabled): the
/// client asked for a model this account may not use, so it is told 403. Other
/// authentication failures mean the gateway's own AWS credentials are missing or refused,
/// which the client cannot fix: 502.
const ACCESS_DENIED: &str = "AccessDeniedException";

/// Maps a terminal stream error to an answer, from its classification (`openclaw-stream`
/// fills [`ErrorInfo`] from the SDK's typed errors); `message` is only shown.
///
/// - [`ErrorKind::Throttled`] → 429 with `Retry-After` (Bedrock's value when it sent one,
///   else [`RETRY_AFTER_SECS`]);
/// - [`ErrorKind::Timeout`] (first-event, idle, connect, model timeout) → 504;
/// - [`ErrorKind::Auth`]: `AccessDeniedException` → 403, the gateway's credentials missing or
///   refused → 502;
/// - [`ErrorKind::NotFound`] → 404; [`ErrorKind::Validation`] → 400;
/// - [`ErrorKind::Unavailable`] → 503;
/// - [`ErrorKind::Upstream`] (5xx, model stream errors, dropped connections) and
///   [`ErrorKind::Aborted`] → 502.
pub fn upstream(info: &ErrorInfo, message: &str) -> ApiError {
    let msg = format!("upstream (bedrock) error: {message}");
    let (status, error_type, code) = match info.kind {
        ErrorKind::Throttled => (
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "upstream_throttled",
        ),
        ErrorKind::Timeout => (
            StatusCode::GATEWAY_TIMEOUT,
            "timeout_error",
            "upstream_timeout",
        ),
        ErrorKind::Auth if info.code.as_deref() == Some(ACCESS_DENIED) => (
            StatusCode::FORBIDDEN,
            "permission_error",
            "upstream_access_denied",
        ),
        ErrorKind::Auth => (
            StatusCode::BAD_GATEWAY,
            "upstream_error",
            "upstream_auth_failed",
        ),
        ErrorKind::NotFound => (
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "model_not_found",
        ),
        ErrorKind::Validation => (
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "upstream_validation",
        ),
        ErrorKind::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            "server_error",
            "upstream_unavailable",
        ),
        ErrorKind::Upstream | ErrorKind::Aborted => {
            (StatusCode::BAD_GATEWAY, "upstream_error", "upstream_error")
        }
    };
    ApiError {
        retry_after: (status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| info.retry_after_secs.unwrap_or(RETRY_AFTER_SECS)),
        upstream: Some(Box::new(UpstreamFailure::of(info))),
        ..ApiError::new(status, error_type, code, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_kinds_map_to_statuses() {
        let info = |kind, code: Option<&str>| ErrorInfo {
            kind,
            code: code.map(str::to_string),
            ..ErrorInfo::default()
        };
        let cases = [
            (
                info(ErrorKind::Throttled, Some("ThrottlingException")),
                429,
                "upstream_throttled",
            ),
            (info(ErrorKind::Timeout, None), 504, "upstream_timeout"),
            (
                info(ErrorKind::Auth, Some("AccessDeniedException")),
                403,
                "upstream_access_denied",
            ),
            (
                info(ErrorKind::Auth, Some("UnrecognizedClientException")),
                502,
                "upstream_auth_failed",
            ),
            (info(ErrorKind::Auth, None), 502, "upstream_auth_failed"),
            (
                info(ErrorKind::NotFound, Some("ResourceNotFoundException")),
                404,
                "model_not_found",
            ),
            (
                info(ErrorKind::Validation, Some("ValidationException")),
                400,
                "upstream_validation",
            ),
            (
                info(ErrorKind::Unavailable, Some("ModelNotReadyException")),
                503,
                "upstream_unavailable",
            ),
            (
                info(ErrorKind::Upstream, Some("InternalServerException")),
                502,
                "upstream_error",
            ),
            (info(ErrorKind::Upstream, None), 502, "upstream_error"),
            (info(ErrorKind::Aborted, None), 502, "upstream_error"),
        ];
        for (info, status, code) in cases {
            // The message plays no part: the same text for every case.
            let e = upstream(&info, "bedrock said something");
            assert_eq!(e.status.as_u16(), status, "{info:?}");
            assert_eq!(e.code, code, "{info:?}");
            assert_eq!(
                e.retry_after,
                (status == 429).then_some(RETRY_AFTER_SECS),
                "{info:?}"
            );
            assert_eq!(e.upstream.as_deref(), Some(&UpstreamFailure::of(&info)));
            assert_eq!(
                e.message,
                "upstream (bedrock) error: bedrock said something"
            );
        }
    }

    #[test]
    fn throttling_passes_bedrocks_retry_after_on() {
        let mut info = ErrorInfo::new(ErrorKind::Throttled);
        info.retry_after_secs = Some(9);
        let response = upstream(&info, "slow").into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "9");
        assert_eq!(
            response.extensions().get::<UpstreamFailure>(),
            Some(&UpstreamFailure {
                kind: ErrorKind::Throttled,
                code: None
            })
        );
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
