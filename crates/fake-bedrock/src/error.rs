//! Errors: [`Error`] (the fake's own failures) and [`ApiError`] (the error answers Bedrock
//! sends), with the JSON helpers every answer uses. A leaf module: it imports nothing else of the
//! crate, so every other module may depend on it.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde::Serialize;

/// Errors of the fake itself (not the API errors it serves).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A catalog did not parse.
    #[error("invalid catalog in {origin}: {source}")]
    Catalog {
        /// Where the catalog came from.
        origin: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// An I/O operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HTTPS identity (self-signed certificate, rustls configuration) could not be made.
    #[error("{context}: {message}")]
    Tls {
        /// What was being done.
        context: String,
        /// The TLS library's error.
        message: String,
    },
    /// An eventstream frame could not be encoded.
    #[error("cannot encode an eventstream frame: {0}")]
    Frame(String),
}

/// The JSON error body (`{"message": ...}`), also the payload of most exception frames.
#[derive(Serialize)]
pub(crate) struct ErrorBody<'a> {
    pub message: &'a str,
}

/// An error response as Bedrock sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Error type, e.g. `ValidationException`.
    pub error_type: String,
    /// Human-readable message.
    pub message: String,
    /// The coral namespace in `x-amzn-errortype` (`com.amazon.bedrock` or
    /// `com.amazon.coral.service` for front-door errors).
    namespace: &'static str,
    /// Bedrock API-key failures use `Message` (capitalised) in the body.
    capital_message: bool,
}

impl ApiError {
    pub(crate) fn new(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            status,
            error_type: error_type.to_owned(),
            message: message.to_owned(),
            namespace: "com.amazon.bedrock",
            capital_message: error_type == "AccessDeniedException"
                && message.starts_with("Authentication failed"),
        }
    }

    /// A front-door (authentication) error.
    pub(crate) fn coral(status: u16, error_type: &str, message: &str) -> Self {
        Self {
            namespace: "com.amazon.coral.service",
            ..Self::new(status, error_type, message)
        }
    }

    pub(crate) fn validation(message: &str) -> Self {
        Self::new(400, "ValidationException", message)
    }

    pub(crate) fn into_response(self, request_id: &str) -> Response {
        let body = if self.capital_message {
            #[derive(Serialize)]
            struct Capital<'a> {
                #[serde(rename = "Message")]
                message: &'a str,
            }
            serde_json::to_vec(&Capital {
                message: &self.message,
            })
        } else {
            serde_json::to_vec(&ErrorBody {
                message: &self.message,
            })
        }
        .unwrap_or_default();
        let mut response = Response::new(Body::from(body));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(&format!(
            "{}:http://internal.amazon.com/coral/{}/",
            self.error_type, self.namespace
        )) {
            headers.insert("x-amzn-errortype", v);
        }
        insert_request_id(headers, request_id);
        response
    }
}

pub(crate) fn insert_request_id(headers: &mut HeaderMap, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
}

/// Serialises an answer body; a failure is an `InternalServerException`.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(value).map_err(|e| {
        ApiError::new(
            500,
            "InternalServerException",
            &format!("fake-bedrock could not serialise a response: {e}"),
        )
    })
}

/// A 200 answer with a JSON body.
pub(crate) fn json_response(body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}
