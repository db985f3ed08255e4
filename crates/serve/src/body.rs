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
        let message = client_terms(&e.inner().to_string());
        match known_path(e.path()) {
            Some(path) => ApiError::invalid(
                format!("invalid request body: {path}: {message}"),
                Some(&path),
            ),
            None => ApiError::invalid(format!("invalid request body: {message}"), None),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::invalid(
            format!("invalid request body: expected one JSON value, got more after it ({e})"),
            None,
        )
    })?;
    Ok(value)
}

/// The JSON path of a parse error (`messages[0].content`) up to its first segment serde could
/// not name (`?`, as in a syntax error inside an object); `None` when nothing is left (the
/// error is about the body as a whole).
fn known_path(path: &serde_path_to_error::Path) -> Option<String> {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Unknown => break,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// serde's error text in the client's terms: what it names by Rust type (`struct ChatRequest`,
/// `u32`, `f32`, `sequence`, `map`, `unit value`) in JSON's words (`an object`, `a
/// non-negative integer`, `a number`, `array`, `object`, `null`).
///
/// Rewritten here, once, for every request type: serde builds these texts from the derived
/// `Deserialize` impls and the primitive types, so naming each expectation at its source would
/// take a hand-written visitor per field (or an attribute per type, which cannot reach `u32`);
/// this keeps serde's sentence (and its line and column) and replaces only the type names.
pub(crate) fn client_terms(message: &str) -> String {
    /// Whole-word replacements: what serde says, and what the client is told.
    const WORDS: [(&str, &str); 16] = [
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected u16", "expected an integer from 0 to 65535"),
        (
            "expected u32",
            "expected a non-negative integer (at most 4294967295)",
        ),
        ("expected u64", "expected a non-negative integer"),
        ("expected usize", "expected a non-negative integer"),
        ("expected i32", "expected an integer"),
        ("expected i64", "expected an integer"),
        ("expected f32", "expected a number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected an object"),
        ("expected a borrowed string", "expected a string"),
        ("expected unit", "expected null"),
        ("invalid type: sequence", "invalid type: array"),
        ("invalid type: map", "invalid type: object"),
        // Only serde's own words: a client's string `"unit value"` is quoted as it was.
        ("invalid type: unit value", "invalid type: null"),
    ];
    /// Phrases followed by a Rust type name, which goes with them.
    const NAMED: [(&str, &str); 5] = [
        ("expected struct ", "expected an object"),
        ("expected internally tagged enum ", "expected an object"),
        ("expected adjacently tagged enum ", "expected an object"),
        ("expected enum ", "expected one of the accepted values"),
        (
            "data did not match any variant of untagged enum ",
            "expected another kind of value",
        ),
    ];
    let mut out = message.replace("floating point `", "number `");
    for (phrase, with) in NAMED {
        while let Some(at) = out.find(phrase) {
            let name_end = out[at + phrase.len()..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(out.len(), |n| at + phrase.len() + n);
            out.replace_range(at..name_end, with);
        }
    }
    for (word, with) in WORDS {
        let mut from = 0;
        while let Some(found) = out[from..].find(word) {
            let at = from + found;
            let end = at + word.len();
            // Whole words only: `expected u32` but not `expected u32x`.
            if out[end..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                from = end;
                continue;
            }
            out.replace_range(at..end, with);
            from = at + with.len();
        }
    }
    out
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

    #[test]
    fn serde_texts_are_told_in_json_terms() {
        let cases = [
            (
                "invalid type: sequence, expected struct ChatRequest at line 1 column 0",
                "invalid type: array, expected an object at line 1 column 0",
            ),
            (
                "invalid type: floating point `1.5`, expected u32",
                "invalid type: number `1.5`, expected a non-negative integer (at most 4294967295)",
            ),
            (
                "invalid type: map, expected f32",
                "invalid type: object, expected a number",
            ),
            (
                "invalid type: unit value, expected a sequence",
                "invalid type: null, expected an array",
            ),
            (
                "data did not match any variant of untagged enum Other",
                "expected another kind of value",
            ),
            (
                "invalid type: string \"x\", expected internally tagged enum ChatMessage",
                "invalid type: string \"x\", expected an object",
            ),
            (
                "invalid type: string \"unit value\", expected u32",
                "invalid type: string \"unit value\", expected a non-negative integer (at most 4294967295)",
            ),
            // Not a type name: left alone.
            (
                "expected u32x or expected structure",
                "expected u32x or expected structure",
            ),
            ("missing field `model`", "missing field `model`"),
        ];
        for (serde, client) in cases {
            assert_eq!(client_terms(serde), client, "{serde}");
        }
    }

    #[tokio::test]
    async fn a_parse_error_names_its_path_or_none() {
        let e = read(Some("application/json"), "{nope").await.unwrap_err();
        assert_eq!(e.param, None, "{e:?}");
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            items: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            n: u32,
        }
        let bad = r#"{"items": [{"n": 1}, {"n": "two"}]}"#;
        let e = read_json::<Body>(request(Some("application/json"), bad), &Limits::default())
            .await
            .unwrap_err();
        assert_eq!(e.param.as_deref(), Some("items[1].n"));
        assert!(
            e.message
                .starts_with("invalid request body: items[1].n: invalid type: string \"two\""),
            "{}",
            e.message
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
