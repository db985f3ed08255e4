//! Reading a JSON request body within the limits (every client API reads its body here).

use axum::extract::Request;
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::admission::BodyStop;
use crate::api_error::ApiError;
use crate::options::Limits;

/// Reads and parses a JSON body.
///
/// - the `Content-Type` must be `application/json` (parameters such as `charset` allowed):
///   415 otherwise, before reading (a browser form or `text/plain` post is no API call);
/// - a declared `Content-Length` over the limit is refused before reading, a body growing
///   past it while read too (413);
/// - a body that cannot be read (a broken chunked encoding, the client gone) is a 400, one
///   too slow a 408, one cut by shutdown a 503 (see [`crate::guard`]);
/// - the JSON must be one value with nothing but whitespace after it; a parse error names the
///   field at fault (400).
pub(crate) async fn read_json<T: DeserializeOwned>(
    req: Request,
    limits: &Limits,
) -> Result<T, ApiError> {
    let content_type = req.headers().get(header::CONTENT_TYPE);
    if !content_type.is_some_and(|v| is_json(v.as_bytes())) {
        let given = content_type.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        return Err(ApiError::unsupported_media_type(given.as_deref()));
    }
    let limit = limits.max_body_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::body_too_large(limit));
    }
    let bytes = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|e| body_error(&e, limit))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(
            format!("invalid request body: {}", e.inner()),
            (path != ".").then_some(path.as_str()),
        )
    })?;
    de.end().map_err(|e| {
        ApiError::invalid(
            format!("invalid request body: expected one JSON value, got more after it ({e})"),
            None,
        )
    })?;
    Ok(value)
}

/// Whether a `Content-Type` value is `application/json`, with or without parameters.
fn is_json(value: &[u8]) -> bool {
    let media = value.split(|b| *b == b';').next().unwrap_or_default();
    media.trim_ascii().eq_ignore_ascii_case(b"application/json")
}

/// The answer to a body that could not be read: only exceeding the size limit is a 413.
fn body_error(err: &axum::Error, limit: usize) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return ApiError::body_too_large(limit);
        }
        if let Some(stop) = e.downcast_ref::<BodyStop>() {
            return stop.api_error();
        }
        source = e.source();
    }
    ApiError::unreadable_body(&err.to_string())
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::StatusCode;
    use serde_json::Value;

    use super::*;

    fn request(content_type: Option<&str>, body: impl Into<Body>) -> Request {
        let mut builder = axum::http::Request::builder().method("POST").uri("/x");
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        builder.body(body.into()).unwrap()
    }

    async fn read(content_type: Option<&str>, body: impl Into<Body>) -> Result<Value, ApiError> {
        read_json(request(content_type, body), &Limits::default()).await
    }

    #[test]
    fn json_media_types() {
        for ok in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            " application/json ;x=y",
        ] {
            assert!(is_json(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
            "multipart/form-data",
            "",
        ] {
            assert!(!is_json(bad.as_bytes()), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_body_not_declared_json_is_415_before_reading() {
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let e = read(ct, "{}").await.unwrap_err();
            assert_eq!(e.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        }
        assert_eq!(
            read(Some("application/json; charset=utf-8"), "{}")
                .await
                .unwrap(),
            serde_json::json!({})
        );
    }

    #[tokio::test]
    async fn trailing_data_after_the_json_is_400() {
        for body in ["{} {}", "{}x", "[1]]", "{}\n\u{0}"] {
            let e = read(Some("application/json"), body).await.unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{body:?}");
            assert!(e.message.contains("more after it"), "{}", e.message);
        }
        assert!(read(Some("application/json"), "{} \r\n\t").await.is_ok());
    }

    #[tokio::test]
    async fn a_broken_body_is_400_and_only_the_size_limit_413() {
        let broken = futures::stream::iter([
            Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"{\"a\":")),
            Err(std::io::Error::other("connection reset")),
        ]);
        let e = read(Some("application/json"), Body::from_stream(broken))
            .await
            .unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST, "{e:?}");
        assert_eq!(e.code, "invalid_request");

        let limits = Limits {
            max_body_bytes: 4,
            ..Limits::default()
        };
        let long = futures::stream::iter([Ok::<_, std::io::Error>(
            axum::body::Bytes::from_static(b"[1,2,3]"),
        )]);
        let e = read_json::<Value>(
            request(Some("application/json"), Body::from_stream(long)),
            &limits,
        )
        .await
        .unwrap_err();
        assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
