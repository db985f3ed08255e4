//! Recorded requests, with secrets redacted.

use bytes::Bytes;
use http::HeaderMap;

use crate::auth::Auth;

/// What replaces a secret in recorded headers.
pub const REDACTED: &str = "<redacted>";

/// One request as the fake received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Raw path, percent-encoded as received (e.g. `/model/anthropic.claude-v2%3A1/converse`).
    pub path: String,
    /// Raw query string without `?` (empty when none).
    pub query: String,
    /// Headers in arrival order (lowercase names); the SigV4 signature, a bearer token,
    /// `x-amz-security-token` and an SSO access token are replaced by [`REDACTED`].
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Bytes,
    /// The authentication the request carried (as claimed; see `status` for the outcome).
    pub auth: Auth,
    /// The HTTP status answered (`None` while the request is still being served).
    pub status: Option<u16>,
    /// The `x-amzn-requestid` the fake answered with.
    pub request_id: String,
    /// True when the client went away before the fake finished answering: it closed (or
    /// reset) the connection while a stream was still being sent, or while the request was
    /// pending (a hang, a first-byte delay). A server shutdown and injected faults
    /// (`DropConnection`, ...) do not count.
    pub client_disconnected: bool,
    /// The HTTP version the request came in: `HTTP/1.1` or `HTTP/2.0` (cleartext HTTP/2 by
    /// prior knowledge, or HTTPS where the client offered `h2` in ALPN).
    pub http_version: &'static str,
}

/// The JSON shape of a [`RecordedRequest`] (`GET /_fake/requests`).
#[derive(serde::Serialize)]
pub(crate) struct RecordedJson<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    model_id: Option<String>,
    headers: &'a [(String, String)],
    /// The body as text (lossy UTF-8).
    body: String,
    /// The body parsed as JSON, when it is JSON.
    json: Option<serde_json::Value>,
    auth: &'a Auth,
    status: Option<u16>,
    request_id: &'a str,
    client_disconnected: bool,
    http_version: &'static str,
}

impl<'a> From<&'a RecordedRequest> for RecordedJson<'a> {
    fn from(r: &'a RecordedRequest) -> Self {
        RecordedJson {
            method: &r.method,
            path: &r.path,
            query: &r.query,
            model_id: r.model_id(),
            headers: &r.headers,
            body: String::from_utf8_lossy(&r.body).into_owned(),
            json: r.json(),
            auth: &r.auth,
            status: r.status,
            request_id: &r.request_id,
            client_disconnected: r.client_disconnected,
            http_version: r.http_version,
        }
    }
}

impl RecordedRequest {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON (`None` when empty or not JSON).
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The model identifier of a runtime request, percent-decoded (`None` for other routes).
    pub fn model_id(&self) -> Option<String> {
        let rest = self.path.strip_prefix("/model/")?;
        let (id, _) = rest.split_once('/')?;
        Some(
            percent_encoding::percent_decode_str(id)
                .decode_utf8_lossy()
                .into_owned(),
        )
    }

    /// The query parameters, percent-decoded, in order.
    pub fn query_params(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|s| !s.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                let d = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned()
                };
                (d(k), d(v))
            })
            .collect()
    }
}

/// Copies headers, replacing secrets.
pub(crate) fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = name.as_str().to_owned();
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            let value = match name.as_str() {
                "authorization" => redact_authorization(&value),
                "x-amz-security-token" | "x-amz-sso_bearer_token" => REDACTED.to_owned(),
                _ => value,
            };
            (name, value)
        })
        .collect()
}

fn redact_authorization(value: &str) -> String {
    if value.len() >= 7 && value[..7].eq_ignore_ascii_case("bearer ") {
        return format!("{} {REDACTED}", &value[..6]);
    }
    match value.find("Signature=") {
        Some(at) => {
            let start = at + "Signature=".len();
            let end = value[start..].find(',').map_or(value.len(), |e| start + e);
            format!("{}{REDACTED}{}", &value[..start], &value[end..])
        }
        None if value.starts_with("AWS4-") => value.to_owned(),
        None => REDACTED.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_signature_and_bearer() {
        assert_eq!(
            redact_authorization(
                "AWS4-HMAC-SHA256 Credential=AK/2/r/bedrock/aws4_request, SignedHeaders=host, Signature=deadbeef"
            ),
            "AWS4-HMAC-SHA256 Credential=AK/2/r/bedrock/aws4_request, SignedHeaders=host, Signature=<redacted>"
        );
        assert_eq!(redact_authorization("Bearer abc.def"), "Bearer <redacted>");
        assert_eq!(redact_authorization("Basic Zm9v"), "<redacted>");
    }
}
