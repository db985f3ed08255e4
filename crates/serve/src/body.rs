//! Reading a JSON request body within the limits (every client API reads its body here).

use axum::extract::Request;
use axum::http::header;
use serde::de::DeserializeOwned;

use crate::api_error::ApiError;
use crate::options::Limits;

/// Reads and parses a JSON body: a declared `Content-Length` over the limit is refused before
/// reading, a body growing past it while read too; a parse error names the field at fault.
pub(crate) async fn read_json<T: DeserializeOwned>(
    req: Request,
    limits: &Limits,
) -> Result<T, ApiError> {
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
        .map_err(|_| ApiError::body_too_large(limit))?;
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::invalid(
            format!("invalid request body: {}", e.inner()),
            (path != ".").then_some(path.as_str()),
        )
    })
}
