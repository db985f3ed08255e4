//! Request authentication: SigV4 verified by recomputing the signature, or a bearer token.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SessionTokenMode, SignableBody, SignableRequest, SigningParams, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::HeaderMap;

use crate::server::ApiError;

/// How a recorded request was authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// A verified SigV4 signature.
    SigV4 {
        /// The access key id from the credential scope.
        access_key_id: String,
        /// The region from the credential scope.
        region: String,
        /// The service from the credential scope (always `bedrock` when accepted).
        service: String,
        /// Whether `x-amz-security-token` was sent.
        session_token_present: bool,
    },
    /// A configured bearer token (`Authorization: Bearer ...`).
    Bearer,
    /// No credentials (the request was refused).
    None,
}

/// The SigV4 service name Bedrock signs with, for both the control plane and the runtime.
pub const SIGNING_NAME: &str = "bedrock";

/// How far the signing time may be from the server clock, as AWS allows.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

pub(crate) struct Verifier<'a> {
    pub keys: &'a HashMap<String, String>,
    pub tokens: &'a [String],
}

pub(crate) struct Received<'a> {
    pub method: &'a str,
    /// Raw path and query as received (percent-encoded).
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// What authentication the request tried, even when it failed (for the record).
pub(crate) fn claimed(headers: &HeaderMap) -> Auth {
    let Some(value) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Auth::None;
    };
    if value.len() > 7 && value[..7].eq_ignore_ascii_case("bearer ") {
        return Auth::Bearer;
    }
    match parse_sigv4(value) {
        Some(parsed) => Auth::SigV4 {
            access_key_id: parsed.access_key_id.to_owned(),
            region: parsed.region.to_owned(),
            service: parsed.service.to_owned(),
            session_token_present: headers.contains_key("x-amz-security-token"),
        },
        None => Auth::None,
    }
}

struct ParsedAuthorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn parse_sigv4(value: &str) -> Option<ParsedAuthorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed_headers = Some(val),
            "Signature" => signature = Some(val),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let access_key_id = scope.next()?;
    let date = scope.next()?;
    let region = scope.next()?;
    let service = scope.next()?;
    if scope.next()? != "aws4_request" {
        return None;
    }
    Some(ParsedAuthorization {
        access_key_id,
        date,
        region,
        service,
        signed_headers: signed_headers?.split(';').collect(),
        signature: signature?,
    })
}

impl Verifier<'_> {
    /// Authenticates the request like Bedrock does; the error is the response AWS would send.
    pub(crate) fn verify(&self, req: &Received<'_>) -> Result<Auth, ApiError> {
        let Some(value) = req.headers.get(http::header::AUTHORIZATION) else {
            return Err(ApiError::coral(
                403,
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ));
        };
        let value = value.to_str().unwrap_or_default();
        if value.len() > 7 && value[..7].eq_ignore_ascii_case("bearer ") {
            let token = value[7..].trim();
            if self
                .tokens
                .iter()
                .any(|t| constant_time_eq(t.as_bytes(), token.as_bytes()))
            {
                return Ok(Auth::Bearer);
            }
            return Err(ApiError::new(
                403,
                "AccessDeniedException",
                "Authentication failed: Please make sure your API Key is valid.",
            ));
        }
        let Some(parsed) = parse_sigv4(value) else {
            return Err(ApiError::coral(
                400,
                "IncompleteSignatureException",
                &format!(
                    "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={}",
                    value.split_whitespace().next().unwrap_or_default()
                ),
            ));
        };
        let Some(secret) = self.keys.get(parsed.access_key_id) else {
            return Err(ApiError::coral(
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        };
        if parsed.service != SIGNING_NAME {
            return Err(ApiError::coral(
                403,
                "InvalidSignatureException",
                &format!("Credential should be scoped to correct service: '{SIGNING_NAME}'. "),
            ));
        }
        let Some(amz_date) = req.headers.get("x-amz-date").and_then(|v| v.to_str().ok()) else {
            return Err(ApiError::coral(
                400,
                "IncompleteSignatureException",
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            ));
        };
        let Some(time) = parse_amz_date(amz_date) else {
            return Err(ApiError::coral(
                400,
                "IncompleteSignatureException",
                &format!("Date must be in ISO-8601 'basic format'. Got '{amz_date}'."),
            ));
        };
        if !amz_date.starts_with(parsed.date) {
            return Err(ApiError::coral(
                403,
                "InvalidSignatureException",
                &format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                    parsed.date,
                    amz_date.get(..8).unwrap_or_default()
                ),
            ));
        }
        let now = SystemTime::now();
        let skew = now
            .duration_since(time)
            .or_else(|_| time.duration_since(now))
            .unwrap_or_default();
        if skew > MAX_SKEW {
            return Err(ApiError::coral(
                403,
                "InvalidSignatureException",
                &format!("Signature expired: {amz_date} is now outside the 15 minute window."),
            ));
        }
        let session_token = req
            .headers
            .get("x-amz-security-token")
            .and_then(|v| v.to_str().ok());
        let expected = self
            .compute(req, &parsed, secret, session_token, time)
            .map_err(|e| {
                ApiError::coral(
                    400,
                    "IncompleteSignatureException",
                    &format!("The request could not be canonicalised: {e}"),
                )
            })?;
        if !constant_time_eq(expected.as_bytes(), parsed.signature.as_bytes()) {
            return Err(ApiError::coral(
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
            ));
        }
        Ok(Auth::SigV4 {
            access_key_id: parsed.access_key_id.to_owned(),
            region: parsed.region.to_owned(),
            service: parsed.service.to_owned(),
            session_token_present: session_token.is_some(),
        })
    }

    /// Recomputes the signature with `aws-sigv4` over exactly the headers the client signed.
    fn compute(
        &self,
        req: &Received<'_>,
        parsed: &ParsedAuthorization<'_>,
        secret: &str,
        session_token: Option<&str>,
        time: SystemTime,
    ) -> Result<String, String> {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        for name in &parsed.signed_headers {
            for value in req.headers.get_all(*name) {
                headers.push((name, value.to_str().map_err(|e| e.to_string())?));
            }
        }
        let unsigned_payload = req
            .headers
            .get("x-amz-content-sha256")
            .is_some_and(|v| v.as_bytes() == b"UNSIGNED-PAYLOAD");
        let body = if unsigned_payload {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Bytes(req.body)
        };
        let uri = format!("http://fake-bedrock.invalid{}", req.path_and_query);
        let signable = SignableRequest::new(req.method, uri, headers.into_iter(), body)
            .map_err(|e| e.to_string())?;
        let mut settings = SigningSettings::default();
        // Sign exactly what the client listed: no header is excluded on our side.
        settings.excluded_headers = Some(Vec::new());
        settings.session_token_mode = if parsed.signed_headers.contains(&"x-amz-security-token") {
            SessionTokenMode::Include
        } else {
            SessionTokenMode::Exclude
        };
        let credentials = Credentials::new(
            parsed.access_key_id,
            secret,
            session_token.map(str::to_owned),
            None,
            "fake-bedrock",
        );
        let identity: Identity = credentials.into();
        let params: SigningParams<'_> = v4::SigningParams::builder()
            .identity(&identity)
            .region(parsed.region)
            .name(SIGNING_NAME)
            .time(time)
            .settings(settings)
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let output = sign(signable, &params).map_err(|e| e.to_string())?;
        Ok(output.signature().to_owned())
    }
}

/// Compares without an early exit, so timing does not reveal the matching prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Parses `YYYYMMDDTHHMMSSZ`. Hand-written: ten lines do not justify a date-time dependency.
pub(crate) fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_amz_dates() {
        let t = parse_amz_date("20240229T123456Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_709_210_096
        );
        assert!(parse_amz_date("2024-02-29T12:34:56Z").is_none());
        assert!(parse_amz_date("20241329T123456Z").is_none());
    }

    #[test]
    fn parses_authorization_header() {
        let p = parse_sigv4("AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd").unwrap();
        assert_eq!(p.access_key_id, "AKID");
        assert_eq!(p.region, "eu-west-1");
        assert_eq!(p.signed_headers, vec!["host", "x-amz-date"]);
        assert_eq!(p.signature, "abcd");
        assert!(parse_sigv4("AWS4-HMAC-SHA256 Credential=AKID/x, Signature=a").is_none());
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
