//! The handlers of `POST /v1/messages`, `POST /v1/messages/count_tokens`, and the Anthropic
//! shapes of `GET /v1/models` (paged) and `GET /v1/models/{id}`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use openclaw_stream::{ErrorInfo, ErrorKind, StreamEvent, StreamOptions};
use serde_json::json;

use super::{ConvertLimits, MessagesRequest, betas, error, names, sse as wire, to_stream_request};
use crate::api_error::{ApiError, upstream};
use crate::body::read_json;
use crate::ids::response_id;
use crate::log::{LOG_TARGET, escape};
use crate::models::ResolvedModel;
use crate::sse;
use crate::state::{App, ModelLabel};

/// Whether a request speaks Anthropic's API (it sends `anthropic-version` or `x-api-key`).
pub(crate) fn is_anthropic(headers: &HeaderMap) -> bool {
    crate::api_error::speaks_anthropic(headers)
}

/// The request's API version. Every version is served with the `2023-06-01` shapes (later
/// versions only add to them: the official SDKs send their own release date); a missing header
/// means `2023-06-01`; a value that is not text is refused.
fn check_version(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("anthropic-version").map(|v| v.to_str()) {
        None | Some(Ok(_)) => Ok(()),
        Some(Err(_)) => Err(ApiError::invalid(
            "anthropic-version: expected an ASCII header value",
            None,
        )),
    }
}

/// Finds the model: an alias, `provider/id` or a Bedrock id as it is, else an Anthropic model
/// name through the profile of the provider's region.
async fn resolve(app: &App, name: &str) -> Result<(String, Arc<ResolvedModel>), ApiError> {
    if let Some(found) = app.resolve_model(name).await {
        return Ok(found);
    }
    for candidate in names::candidates(name, app.models.region()) {
        if let Some(found) = app.resolve_model(&candidate).await {
            return Ok(found);
        }
    }
    // Unlisted: a Bedrock id is tried as it is, and a failing discovery is a 503, not a 404.
    match app.find_model(name).await {
        Ok(found) => return Ok(found),
        Err(e) if e.status != axum::http::StatusCode::NOT_FOUND => return Err(e),
        Err(_) => {}
    }
    let mut known: Vec<String> = names::known_names().map(str::to_string).collect();
    known.extend(app.models.served_keys().await);
    known.extend(app.options.aliases.keys().cloned());
    let suggestion = known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(", did you mean `{k}`?"))
        .unwrap_or_default();
    let mut e = ApiError::model_not_found(name);
    e.message = format!(
        "model: `{}` is not served here: expected a Bedrock model or inference profile id, `amazon-bedrock/<id>`, an alias or an Anthropic model name (see GET /v1/models){suggestion}",
        escape(name)
    );
    Err(e)
}

/// Reads, checks and maps a Messages request.
async fn prepare(
    app: &Arc<App>,
    req: Request,
    for_count: bool,
    label: &mut Option<String>,
) -> Result<
    (
        MessagesRequest,
        String,
        Arc<ResolvedModel>,
        openclaw_stream::StreamRequest,
    ),
    ApiError,
> {
    check_version(req.headers())?;
    let (passed, ignored) = betas::split(
        req.headers()
            .get_all("anthropic-beta")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    if !ignored.is_empty() {
        tracing::debug!(target: LOG_TARGET, "anthropic-beta flags not sent to bedrock: {}", escape(&ignored.join(",")));
    }
    let failover = crate::failover::allowed(req.headers());
    let body: MessagesRequest = read_json(req, &app.options.limits).await?;
    *label = Some(body.model.clone());
    if let Some(user) = body.user_id() {
        tracing::debug!(target: LOG_TARGET, "messages request for user {}", escape(user));
    }
    let found = resolve(app, &body.model).await?;
    let (key, resolved) = app.with_fallbacks(found, failover && !for_count).await;
    *label = Some(key.clone());
    let request = to_stream_request(
        &body,
        resolved.def.clone(),
        passed,
        ConvertLimits {
            max_image_bytes: app.options.limits.max_image_bytes,
        },
        for_count,
    )?;
    Ok((body, key, resolved, request))
}

/// `POST /v1/messages`.
pub(crate) async fn messages(State(app): State<Arc<App>>, req: Request) -> Response {
    let start = Instant::now();
    let mut label = None;
    let mut response = match messages_inner(&app, req, start, &mut label).await {
        Ok(r) => r,
        Err(e) => error::response(e),
    };
    if let Some(m) = label {
        response.extensions_mut().insert(ModelLabel(m));
    }
    response
}

async fn messages_inner(
    app: &Arc<App>,
    req: Request,
    start: Instant,
    label: &mut Option<String>,
) -> Result<Response, ApiError> {
    let (body, key, resolved, request) = prepare(app, req, false, label).await?;
    let id = response_id("msg_");
    let started = match sse::start(app, &resolved, request, &key, body.is_stream()).await {
        Ok(started) => started,
        Err(e) => {
            let mut response = error::response(e);
            resolved.served(&key).decorate_failure(&mut response);
            return Ok(response);
        }
    };
    // The answer names the model that answered (a fallback, maybe).
    let served = resolved.served(&key);
    *label = Some(served.key.clone());
    let model = served.id.clone();
    if body.is_stream() {
        let mut response = sse::response(started, wire::MessageWriter::new(id, model), start);
        served.decorate(&mut response);
        return Ok(response);
    }
    let end = sse::finish(started, start).await;
    let mut response = match &end {
        StreamEvent::Done {
            stop_reason,
            message,
            usage,
        } => axum::Json(wire::message(&id, &model, *stop_reason, message, usage)).into_response(),
        StreamEvent::Error { partial, .. } if wire::is_refusal(&end) => {
            axum::Json(wire::refusal(&id, &model, partial.as_deref())).into_response()
        }
        StreamEvent::Error { message, info, .. } => {
            tracing::warn!(target: LOG_TARGET, "bedrock stream for {} failed ({}): {message}", escape(&key), info.kind);
            error::response(upstream(info, message))
        }
        _ => error::response(upstream(
            &ErrorInfo::new(ErrorKind::Upstream),
            "bedrock stream ended without a terminal event",
        )),
    };
    served.decorate(&mut response);
    Ok(response)
}

/// `POST /v1/messages/count_tokens`, through Bedrock's CountTokens.
pub(crate) async fn count_tokens(State(app): State<Arc<App>>, req: Request) -> Response {
    let mut label = None;
    let result = async {
        let (_, _, resolved, request) = prepare(&app, req, true, &mut label).await?;
        resolved
            .stream
            .count_tokens(request, StreamOptions::default())
            .await
            .map_err(|e| upstream(&e.info, &e.message))
    }
    .await;
    let mut response = match result {
        Ok(n) => axum::Json(json!({"input_tokens": n})).into_response(),
        Err(e) => error::response(e),
    };
    if let Some(m) = label {
        response.extensions_mut().insert(ModelLabel(m));
    }
    response
}

/// A model in Anthropic's shape (`GET /v1/models` lists them, `GET /v1/models/{id}` answers
/// one).
pub(crate) fn model_entry(key: &str, name: &str) -> serde_json::Value {
    json!({
        "type": "model",
        "id": key,
        "display_name": name,
        "created_at": "1970-01-01T00:00:00Z",
    })
}

/// Models on a page of Anthropic's `GET /v1/models` when the request names no `limit`.
const PAGE_DEFAULT: usize = 20;
/// Most models on a page (a larger `limit` is refused, as Anthropic does).
const PAGE_MAX: usize = 1000;

/// The paging parameters of Anthropic's `GET /v1/models` (others are ignored).
#[derive(Debug, Default, serde::Deserialize)]
struct Paging {
    limit: Option<String>,
    after_id: Option<String>,
    before_id: Option<String>,
}

/// The page `paging` asks for out of `ids` (the listing, in its order): the range of it, and
/// whether more models lie beyond it in the direction of paging (after it, or before it for
/// `before_id`). `after_id` and `before_id` name listed ids and exclude them; at most one of
/// them may be given.
fn page(ids: &[&str], paging: &Paging) -> Result<(std::ops::Range<usize>, bool), ApiError> {
    let limit = match paging.limit.as_deref() {
        None => PAGE_DEFAULT,
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) if (1..=PAGE_MAX).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(
                    format!(
                        "limit: expected a whole number from 1 to {PAGE_MAX}, got `{}`",
                        escape(raw)
                    ),
                    Some("limit"),
                ));
            }
        },
    };
    let position = |param: &str, id: &str| {
        ids.iter().position(|k| *k == id).ok_or_else(|| {
            ApiError::invalid(
                format!(
                    "{param}: `{}` is not a listed model id (see GET /v1/models)",
                    escape(id)
                ),
                Some(param),
            )
        })
    };
    match (paging.after_id.as_deref(), paging.before_id.as_deref()) {
        (Some(_), Some(_)) => Err(ApiError::invalid(
            "after_id, before_id: expected at most one of them",
            None,
        )),
        (None, Some(before)) => {
            let end = position("before_id", before)?;
            let start = end.saturating_sub(limit);
            Ok((start..end, start > 0))
        }
        (after, None) => {
            let start = match after {
                Some(after) => position("after_id", after)? + 1,
                None => 0,
            };
            let end = ids.len().min(start + limit);
            Ok((start..end, end < ids.len()))
        }
    }
}

/// `GET /v1/models` in Anthropic's shape: a page of the listing (`limit`, default 20, at most
/// 1000; `after_id` or `before_id`), with `first_id`, `last_id` and `has_more`.
pub(crate) async fn models(app: &App, uri: &axum::http::Uri) -> Response {
    let paging = match axum::extract::Query::<Paging>::try_from_uri(uri) {
        Ok(axum::extract::Query(paging)) => paging,
        Err(_) => {
            return error::response(ApiError::invalid(
                "query: expected `limit`, `after_id` and `before_id` as URL-encoded text",
                None,
            ));
        }
    };
    let listed = app.models.served_models().await;
    let ids: Vec<&str> = listed.iter().map(|(key, _)| key.as_str()).collect();
    let (range, has_more) = match page(&ids, &paging) {
        Ok(found) => found,
        Err(e) => return error::response(e),
    };
    let data: Vec<serde_json::Value> = listed[range]
        .iter()
        .map(|(key, name)| model_entry(key, name))
        .collect();
    let first = data.first().map(|m| m["id"].clone());
    let last = data.last().map(|m| m["id"].clone());
    axum::Json(json!({
        "data": data,
        "has_more": has_more,
        "first_id": first,
        "last_id": last,
    }))
    .into_response()
}

#[cfg(test)]
mod paging_tests {
    use super::*;

    fn ask(limit: Option<&str>, after: Option<&str>, before: Option<&str>) -> Paging {
        Paging {
            limit: limit.map(str::to_string),
            after_id: after.map(str::to_string),
            before_id: before.map(str::to_string),
        }
    }

    #[test]
    fn pages_go_forward_and_back_and_refuse_what_is_out_of_range() {
        let ids = ["a", "b", "c", "d", "e"];
        let p = |paging| page(&ids, &paging);
        assert_eq!(p(ask(None, None, None)).unwrap(), (0..5, false));
        assert_eq!(p(ask(Some("2"), None, None)).unwrap(), (0..2, true));
        assert_eq!(p(ask(Some("2"), Some("b"), None)).unwrap(), (2..4, true));
        assert_eq!(p(ask(Some("2"), Some("d"), None)).unwrap(), (4..5, false));
        assert_eq!(p(ask(Some("2"), Some("e"), None)).unwrap(), (5..5, false));
        assert_eq!(p(ask(Some("2"), None, Some("e"))).unwrap(), (2..4, true));
        assert_eq!(p(ask(Some("2"), None, Some("c"))).unwrap(), (0..2, false));
        assert_eq!(p(ask(Some("1000"), None, None)).unwrap(), (0..5, false));
        for bad in ["0", "1001", "-1", "two", ""] {
            let e = p(ask(Some(bad), None, None)).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{bad}");
            assert_eq!(e.param.as_deref(), Some("limit"));
        }
        let e = p(ask(None, Some("zz"), None)).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("after_id"));
        assert!(p(ask(None, Some("a"), Some("c"))).is_err());
    }
}
