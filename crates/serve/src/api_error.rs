//! Errors in OpenAI's JSON shape (`{"error":{"message","type","param","code"}}`) with their
//! HTTP status, and the mapping of upstream (Bedrock) failures, by their [`ErrorKind`], to
//! statuses.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use openclaw_stream::{Content, ErrorInfo, ErrorKind, Message};
use serde_json::{Value, json};

/// Seconds a throttled client is asked to wait (`Retry-After`). Bedrock sends no hint, and its
/// token buckets refill within seconds.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Seconds a client is asked to wait (`Retry-After`) when Bedrock is unavailable
/// (`ServiceUnavailableException`, `ModelNotReadyException`). Longer than a throttle's wait: the
/// gateway's Bedrock client already retried with backoff before answering, and a model being
/// loaded or a service recovering takes seconds, not a bucket refill; short enough that the
/// official SDKs (which honour a wait of up to a minute) retry promptly.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 5;

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

    /// 401: missing or wrong gateway token, saying how the client's API takes it: Anthropic's
    /// (when `anthropic`) as `x-api-key` or a bearer token, OpenAI's as a bearer token.
    pub fn unauthorized(anthropic: bool) -> Self {
        let how = if anthropic {
            "missing or invalid API key: send `x-api-key: <gateway token>` or `Authorization: Bearer <gateway token>`"
        } else {
            "missing or invalid bearer token: send `Authorization: Bearer <gateway token>`"
        };
        Self::new(
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            "invalid_api_key",
            format!("{how} (gateway.auth.token or OPENCLAW_GATEWAY_TOKEN)"),
        )
    }

    /// 400: nothing of the conversation would reach the model: every user turn is blank
    /// (`refuse_blank`); `at` names the first blank user content, such as
    /// `messages[0].content`.
    pub fn blank_conversation(at: &str) -> Self {
        Self::invalid(
            format!(
                "{at} is blank: nothing would be left to send to the model (expected a user message with non-blank text, an image, a document or a tool result)"
            ),
            Some(at),
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

    /// 404: unknown route; the message lists `routes`, every route the gateway serves (the
    /// routes module's one list, which a test checks against the router; passed in so this
    /// module does not import the router's).
    pub fn not_found(path: &str, routes: &[&str]) -> Self {
        let expected = match routes.split_last() {
            Some((last, [])) => (*last).to_string(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        Self::new(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "not_found",
            format!(
                "no route for `{}`: expected {expected}",
                crate::log::escape(path)
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

    /// 429: every stream slot is taken and the queue for one is full (or off).
    pub fn too_many_streams(limit: usize, queued: usize) -> Self {
        ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limit_error",
                "concurrency_limit_exceeded",
                format!(
                    "too many concurrent requests: the gateway serves at most {limit} at a time and queues at most {queued} more (--max-concurrent-streams, --max-queued-streams)"
                ),
            )
        }
    }

    /// 503: a queued request got no stream slot within the queue wait.
    pub fn queue_timeout(wait: std::time::Duration) -> Self {
        ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "overloaded",
                format!(
                    "the gateway is overloaded: no stream slot became free within {}ms (--queue-wait); retry later",
                    wait.as_millis()
                ),
            )
        }
    }

    /// 503: the connection limit is reached (written on the raw socket, before any request).
    pub fn too_many_connections(limit: usize) -> Self {
        ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "too_many_connections",
                format!(
                    "too many open connections: the gateway holds at most {limit} (--max-connections); retry later"
                ),
            )
        }
    }

    /// 503: too many request bodies are being read, or too many of their bytes, to admit this
    /// one now (`what` names the limit and its flag).
    pub fn admission_refused(what: &str) -> Self {
        ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "server_busy",
                format!("the gateway is busy receiving other requests ({what}); retry later"),
            )
        }
    }

    /// 408: the body did not arrive in time.
    pub fn body_timeout(timeout: std::time::Duration) -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request_error",
            "request_timeout",
            format!(
                "the request body did not arrive within {}s (the gateway's --body-read-timeout)",
                timeout.as_secs_f64()
            ),
        )
    }

    /// 400: the body could not be read (a broken chunked encoding, a connection cut, ...).
    pub fn unreadable_body(reason: &str) -> Self {
        Self::invalid(format!("could not read the request body: {reason}"), None)
    }

    /// 503: shutdown started while the body was being read.
    pub fn shutting_down() -> Self {
        ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "shutting_down",
                "the gateway is shutting down: retry on another instance".into(),
            )
        }
    }

    /// 500: the task that ran the request ended without answering (it panicked, or its worker
    /// stopped).
    pub fn request_lost() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "internal_error",
            "the gateway lost this request before answering it: retry".into(),
        )
    }

    /// 415: a body that is not declared as JSON.
    pub fn unsupported_media_type(given: Option<&str>) -> Self {
        let given = given.map_or("none".to_string(), |g| {
            format!("`{}`", crate::log::escape(g))
        });
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request_error",
            "unsupported_media_type",
            format!("expected `Content-Type: application/json`, got {given}"),
        )
    }

    /// 403: a `Host` the gateway does not serve (DNS rebinding protection).
    pub fn host_not_allowed(host: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "host_not_allowed",
            format!(
                "the Host `{}` is not served: expected localhost, 127.0.0.1 or [::1], or a host of --allowed-host",
                crate::log::escape(host)
            ),
        )
    }

    /// 403: a browser origin that is not allowed (cross-site request).
    pub fn origin_not_allowed(origin: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "permission_error",
            "origin_not_allowed",
            format!(
                "requests from the web origin `{}` are not allowed: expected no Origin header, or an origin of --cors-allow-origin",
                crate::log::escape(origin)
            ),
        )
    }

    /// 405: a known route with another method.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            "method_not_allowed",
            format!(
                "method {} is not allowed on `{}`",
                crate::log::escape(method),
                crate::log::escape(path)
            ),
        )
    }

    /// 431: the request head is larger than allowed.
    pub fn headers_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "invalid_request_error",
            "headers_too_large",
            format!("request headers larger than {limit} bytes (the gateway's --max-header-bytes)"),
        )
    }

    /// 503: the model is not in the served listing and discovery is failing, so whether it
    /// exists is unknown.
    pub fn discovery_unavailable(model: &str) -> Self {
        ApiError {
            param: Some("model".into()),
            retry_after: Some(RETRY_AFTER_SECS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "discovery_unavailable",
                format!(
                    "the model `{}` is not configured and Bedrock model discovery is failing, so it cannot be looked up now (see GET /readyz); retry later or name it as `amazon-bedrock/<model id>`",
                    crate::log::escape(model)
                ),
            )
        }
    }

    /// The answer in the shape of the client API `path` belongs to: Anthropic's
    /// `{"type":"error","error":{"type","message"}}` under `/v1/messages`, OpenAI's otherwise.
    /// For refusals made before a handler knows its API (middleware, fallbacks).
    pub fn into_response_for(self, path: &str) -> Response {
        if is_anthropic_path(path) {
            self.into_anthropic_response()
        } else {
            self.into_response()
        }
    }

    /// [`ApiError::into_response_for`], with the request's headers: on the models routes,
    /// which both APIs share, an Anthropic client (see [`speaks_anthropic`]) gets Anthropic's
    /// shape (see [`anthropic_shape`]).
    pub fn into_response_for_request(self, path: &str, headers: &HeaderMap) -> Response {
        self.into_response_as(anthropic_shape(path, headers))
    }

    /// The answer in Anthropic's shape (`anthropic`) or OpenAI's.
    pub(crate) fn into_response_as(self, anthropic: bool) -> Response {
        if anthropic {
            self.into_anthropic_response()
        } else {
            self.into_response()
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

/// Whether user content holds something the model is sent: the Converse request builder
/// leaves out blank text (and cache points only mark places), so a message of nothing else is
/// dropped whole.
pub(crate) fn is_blank(content: &[Content]) -> bool {
    content.iter().all(|c| match c {
        Content::Text { text } => text.trim().is_empty(),
        Content::CachePoint(_) => true,
        _ => false,
    })
}

/// Refuses (400) a conversation with no user turn left once blank content is dropped:
/// Bedrock needs one and would answer that the conversation must start with a user message.
/// A tool result always counts (it is sent even when empty). `first_blank` names the first
/// user content found blank; without one nothing was dropped and the request goes on as it
/// is (whatever is wrong with it, Bedrock says).
pub(crate) fn refuse_blank(
    messages: &[Message],
    first_blank: Option<&str>,
) -> Result<(), ApiError> {
    let user_turn_left = messages.iter().any(|m| match m {
        Message::User(user) => !is_blank(&user.content),
        Message::ToolResult(_) => true,
        Message::Assistant(_) => false,
    });
    match first_blank {
        Some(at) if !user_turn_left => Err(ApiError::blank_conversation(at)),
        _ => Ok(()),
    }
}

/// Whether a request speaks Anthropic's API: it sends `anthropic-version` or `x-api-key`.
pub(crate) fn speaks_anthropic(headers: &HeaderMap) -> bool {
    headers.contains_key("anthropic-version") || headers.contains_key("x-api-key")
}

/// Whether an answer to a request takes Anthropic's shape: under `/v1/messages`, and on the
/// models routes (which both APIs share) when the request speaks Anthropic's API.
pub(crate) fn anthropic_shape(path: &str, headers: &HeaderMap) -> bool {
    let models = path == "/v1/models" || path.starts_with("/v1/models/");
    is_anthropic_path(path) || (models && speaks_anthropic(headers))
}

/// Whether `path` belongs to the Anthropic Messages API (its errors have Anthropic's shape).
pub(crate) fn is_anthropic_path(path: &str) -> bool {
    path == "/v1/messages" || path.starts_with("/v1/messages/")
}

/// Longest Bedrock error text forwarded to a client (the log keeps the whole text).
pub const UPSTREAM_MESSAGE_MAX: usize = 1024;

/// Bedrock's error text as a client may see it: ARNs and 12-digit AWS account ids replaced by
/// `<redacted>` (they name the gateway's account and resources), control characters dropped,
/// at most [`UPSTREAM_MESSAGE_MAX`] bytes (cut on a character boundary, marked with `...`).
pub fn client_safe_upstream_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(UPSTREAM_MESSAGE_MAX + 3));
    let mut rest = message;
    while let Some(c) = rest.chars().next() {
        if let Some(len) = arn_len(rest).or_else(|| account_id_len(rest, &out)) {
            out.push_str("<redacted>");
            rest = &rest[len..];
            continue;
        }
        if !c.is_control() {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    if out.len() > UPSTREAM_MESSAGE_MAX {
        let mut cut = UPSTREAM_MESSAGE_MAX;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

/// The length of an ARN at the start of `text` (`arn:` up to the next space, quote or
/// bracket).
fn arn_len(text: &str) -> Option<usize> {
    if !text.starts_with("arn:") {
        return None;
    }
    Some(
        text.find(|c: char| {
            c.is_whitespace() || matches!(c, '"' | '\'' | ')' | ']' | '}' | ',' | '`')
        })
        .unwrap_or(text.len()),
    )
}

/// The length of a 12-digit account id at the start of `text`, when it stands alone (not
/// part of a longer number or word; `before` is what precedes it).
fn account_id_len(text: &str, before: &str) -> Option<usize> {
    if before
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let after = text[digits..].chars().next();
    (digits == 12 && !after.is_some_and(|c| c.is_ascii_alphanumeric())).then_some(12)
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
    let msg = format!(
        "upstream (bedrock) error: {}",
        client_safe_upstream_message(message)
    );
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
        retry_after: match info.kind {
            ErrorKind::Throttled => Some(info.retry_after_secs.unwrap_or(RETRY_AFTER_SECS)),
            ErrorKind::Unavailable => Some(
                info.retry_after_secs
                    .unwrap_or(UNAVAILABLE_RETRY_AFTER_SECS),
            ),
            _ => None,
        },
        upstream: Some(Box::new(UpstreamFailure::of(info))),
        ..ApiError::new(status, error_type, code, msg)
    }
}

/// Anthropic's status for an overloaded service.
const OVERLOADED: u16 = 529;

impl ApiError {
    /// Anthropic's status and error `type` for this error (529 `overloaded_error` when Bedrock
    /// says it is unavailable).
    fn anthropic_kind(&self) -> (StatusCode, &'static str) {
        let status = self.status;
        let kind = match status.as_u16() {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            413 => "request_too_large",
            429 => "rate_limit_error",
            503 if self.upstream.is_some() => {
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

    /// The body in Anthropic's shape: `{"type":"error","error":{"type","message"}}`.
    pub fn anthropic_body(&self) -> Value {
        let (_, kind) = self.anthropic_kind();
        json!({"type": "error", "error": {"type": kind, "message": self.message}})
    }

    /// The answer in Anthropic's shape, with its status and `Retry-After`.
    pub fn into_anthropic_response(self) -> Response {
        let (status, _) = self.anthropic_kind();
        let mut response = (status, axum::Json(self.anthropic_body())).into_response();
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
            let wait = match status {
                429 => Some(RETRY_AFTER_SECS),
                503 => Some(UNAVAILABLE_RETRY_AFTER_SECS),
                _ => None,
            };
            assert_eq!(e.retry_after, wait, "{info:?}");
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

    #[test]
    fn upstream_text_is_redacted_and_bounded() {
        let said = "User: arn:aws:iam::123456789012:role/gw is not authorized to perform bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1:123456789012:inference-profile/x (account 123456789012, request 9876543210987)\n";
        let safe = client_safe_upstream_message(said);
        assert_eq!(
            safe,
            "User: <redacted> is not authorized to perform bedrock:InvokeModel on resource: <redacted> (account <redacted>, request 9876543210987)"
        );
        let long = "é".repeat(2000);
        let safe = client_safe_upstream_message(&long);
        assert!(safe.len() <= UPSTREAM_MESSAGE_MAX + 3, "{}", safe.len());
        assert!(safe.ends_with("..."));
        let e = upstream(&ErrorInfo::new(ErrorKind::Validation), said);
        assert!(!e.message.contains("123456789012"), "{}", e.message);
        assert!(!e.message.contains('\n'));
    }

    #[test]
    fn refusals_take_the_shape_of_the_api_of_their_path() {
        let anthropic = ApiError::unsupported_media_type(None).into_response_for("/v1/messages");
        assert_eq!(anthropic.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let openai =
            ApiError::unsupported_media_type(None).into_response_for("/v1/chat/completions");
        assert_eq!(openai.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(is_anthropic_path("/v1/messages/count_tokens"));
        assert!(!is_anthropic_path("/v1/messagesx"));
        assert!(!is_anthropic_path("/v1/chat/completions"));
    }
}
