//! The router, the handlers and the middleware (auth, access log and request metrics).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use openclaw_config::ModelDefinition;
use openclaw_stream::{ErrorInfo, ErrorKind, StreamEvent};
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tracing::Instrument as _;

use crate::anthropic;
use crate::api_error::{ApiError, UpstreamFailure, anthropic_shape, upstream};
use crate::body::read_json;
use crate::guard;
use crate::ids::{response_id, unix_now};
use crate::log::{LOG_TARGET, escape};
use crate::openai::{self, ChatRequest, ChunkMapper, ConvertLimits};
use crate::sse;
use crate::state::{App, ModelLabel};
use crate::telemetry::{self, AccessLine, Logged, RequestTelemetry};

/// The route of one model (`GET /v1/models/{id}`), as the 404 names it and the metrics label
/// it: the pattern, never the id (the labels stay a bounded set).
const MODEL_ROUTE: &str = "/v1/models/{id}";

/// Every route the router serves: the metrics' route labels (anything else is counted as
/// `other`) and the list a 404 names. A test checks that each is routed.
pub(crate) const ROUTES: [&str; 8] = [
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/models",
    MODEL_ROUTE,
    "/healthz",
    "/readyz",
    "/metrics",
];

pub(crate) fn router(app: Arc<App>) -> Router {
    let protected = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/messages", post(anthropic::route::messages))
        .route(
            "/v1/messages/count_tokens",
            post(anthropic::route::count_tokens),
        )
        .route("/v1/models", get(models))
        // A wildcard: ids hold slashes, sent raw or percent-encoded (`%2F`).
        .route("/v1/models/{*id}", get(model))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(app.clone(), guard::admit))
        .route_layer(middleware::from_fn_with_state(app.clone(), auth));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(protected)
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), guard::protect))
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// The route serving `path`, as the metrics and the request span name it: one of [`ROUTES`]
/// (a model's id is not part of it), else `other`.
fn route_of(path: &str) -> &'static str {
    if let Some(route) = ROUTES.iter().find(|r| **r == path) {
        return route;
    }
    match path.strip_prefix("/v1/models/") {
        Some(id) if !id.is_empty() => MODEL_ROUTE,
        _ => "other",
    }
}

/// 404 in the shape of the request's API.
async fn not_found(req: Request) -> Response {
    let path = req.uri().path();
    ApiError::not_found(path, &ROUTES).into_response_for_request(path, req.headers())
}

/// 405 in the shape of the request's API.
async fn method_not_allowed(req: Request) -> Response {
    let path = req.uri().path();
    ApiError::method_not_allowed(req.method().as_str(), path)
        .into_response_for_request(path, req.headers())
}

/// Request id, request span, access log line and request metrics, for every request. No
/// bodies, headers or query strings are logged, so no secret can appear.
async fn observe(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = route_of(req.uri().path());
    // Known routes log their static name; only other paths (and a model's) are copied.
    let path: std::borrow::Cow<'static, str> = match route {
        "other" | MODEL_ROUTE => req.uri().path().to_owned().into(),
        known => known.into(),
    };
    let request_id = telemetry::request_id(req.headers());
    let span = telemetry::request_span(method.as_str(), route, &request_id);
    if let Some(propagation) = &app.options.trace_propagation {
        propagation.set_parent(&span, req.headers());
    }
    let request = RequestTelemetry::new(request_id, span.clone());
    let response = request
        .clone()
        .scope(next.run(req))
        .instrument(span.clone())
        .await;
    let took = start.elapsed();
    let status = response.status().as_u16();
    app.metrics.request(route, status, took);
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
    if let Some(failure) = response.extensions().get::<UpstreamFailure>() {
        app.metrics.upstream_error(failure);
    }
    let model = response
        .extensions()
        .get::<ModelLabel>()
        .map(|m| m.0.clone());
    // Model calls made (more than 1 when the request failed over), set by the handlers.
    let attempts = response
        .headers()
        .get(crate::failover::ATTEMPTS_HEADER)
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let (mut parts, body) = response.into_parts();
    if let Some(value) = telemetry::header_value(&request.id) {
        parts.headers.insert(telemetry::REQUEST_ID_HEADER, value);
    }
    // The access line is written when the body ends: for a stream, once it is over.
    let line = AccessLine {
        telemetry: request,
        method: method.to_string(),
        path: path.into_owned(),
        status,
        model,
        attempts,
        start,
    };
    Response::from_parts(parts, Body::new(Logged::new(body, line)))
}

/// The token a client sent: `Authorization: Bearer <token>` (the scheme in any case), or
/// Anthropic's `x-api-key: <token>`.
fn client_token(headers: &axum::http::HeaderMap) -> &str {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(rest)
        });
    let api_key = || headers.get("x-api-key").and_then(|v| v.to_str().ok());
    bearer.or_else(api_key).map(str::trim).unwrap_or_default()
}

/// Token check (constant time) when a token is configured; a refusal comes in the shape of
/// the client's API (see `api_error::anthropic_shape`).
async fn auth(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.options.token {
        let given = client_token(req.headers());
        let ok: bool = given.as_bytes().ct_eq(token.expose().as_bytes()).into();
        if !ok {
            let anthropic = anthropic_shape(req.uri().path(), req.headers());
            let mut response = ApiError::unauthorized(anthropic).into_response_as(anthropic);
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(req).await
}

async fn healthz() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn readyz(State(app): State<Arc<App>>) -> Response {
    let draining = app.is_draining();
    let credentials = app.models.credentials();
    let has_credentials = credentials.is_none_or(|c| c.is_present());
    // Asked only when required: asking starts a pending discovery.
    let listed = !app.options.ready_after_discovery || app.models.has_listing();
    let ready = has_credentials && !draining && listed;
    let credentials = match credentials {
        None => "not needed".to_string(),
        Some(c) if c.is_present() => c.to_string(),
        Some(_) => "none detected".to_string(),
    };
    let body = json!({
        "ready": ready,
        "checks": {
            "config": "loaded",
            "credentials": credentials,
            "discovery": app.models.discovery_status(),
            "shutting_down": draining,
            "models_listed": listed,
        },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let mut body = app.metrics.render();
    app.render_failover_metrics(&mut body);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

/// `GET /v1/models`: every listed model, in the shape of the client's API (Anthropic's, a page
/// of them, when the request sends `anthropic-version` or `x-api-key`).
async fn models(State(app): State<Arc<App>>, headers: HeaderMap, uri: axum::http::Uri) -> Response {
    if anthropic::route::is_anthropic(&headers) {
        return anthropic::route::models(&app, &uri).await;
    }
    let providers = app.models.providers().await;
    let mut data = Vec::new();
    for (pid, provider) in &providers {
        if !app.models.serves(pid) {
            continue;
        }
        for m in &provider.models {
            data.push(openai_model(&app, pid, m));
        }
    }
    axum::Json(json!({"object": "list", "data": data})).into_response()
}

/// A model in OpenAI's shape, as the listing holds it (with its aliases).
fn openai_model(app: &App, pid: &str, m: &ModelDefinition) -> Value {
    let aliases: Vec<&String> = app
        .options
        .aliases
        .iter()
        .filter(|(_, target)| target.provider() == pid && target.model() == m.id)
        .map(|(alias, _)| alias)
        .collect();
    json!({
        "id": format!("{pid}/{}", m.id),
        "object": "model",
        "created": 0,
        "owned_by": pid,
        "name": m.name,
        "context_window": m.context_window,
        "max_tokens": m.max_tokens,
        "reasoning": m.reasoning,
        "input": m.input.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
        "aliases": aliases,
    })
}

/// `GET /v1/models/{id}`: one listed model, named as the listing names it (`provider/id`) or
/// by an alias (the answer names the model itself), in the shape of the client's API (chosen
/// as for the listing). Anything else is a 404 (`model_not_found`, or Anthropic's
/// `not_found_error`): a model the listing lacks is not described, even if Bedrock has it.
async fn model(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    let anthropic = anthropic::route::is_anthropic(&headers);
    let id = match id {
        Ok(Path(id)) => id,
        Err(_) => {
            let e = ApiError::invalid(
                "model id: expected UTF-8 text once percent-decoded (GET /v1/models/{id})",
                None,
            );
            return e.into_response_as(anthropic);
        }
    };
    // The listing's table: aliases, `provider/id`, a bare id of the default provider.
    let Some((key, resolved)) = app.resolve_model(&id).await else {
        let mut e = ApiError::model_not_found(&id);
        e.message = format!(
            "the model `{}` is not listed: expected an id or an alias that GET /v1/models lists",
            escape(&id)
        );
        return e.into_response_as(anthropic);
    };
    if anthropic {
        return axum::Json(anthropic::route::model_entry(&key, &resolved.def.name)).into_response();
    }
    let pid = key.split_once('/').map_or(key.as_str(), |(pid, _)| pid);
    axum::Json(openai_model(&app, pid, &resolved.def)).into_response()
}

async fn chat(State(app): State<Arc<App>>, req: Request) -> Response {
    let start = Instant::now();
    let mut model = None;
    let mut response = match chat_inner(&app, req, start, &mut model).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    if let Some(m) = model {
        response.extensions_mut().insert(ModelLabel(m));
    }
    response
}

async fn chat_inner(
    app: &Arc<App>,
    req: Request,
    start: Instant,
    model_label: &mut Option<String>,
) -> Result<Response, ApiError> {
    let failover = crate::failover::allowed(req.headers());
    let body: ChatRequest = read_json(req, &app.options.limits).await?;
    *model_label = Some(body.model.clone());
    let found = app.find_model(&body.model).await?;
    let (key, resolved) = app.with_fallbacks(found, failover).await;
    *model_label = Some(key.clone());
    let request = openai::to_stream_request(
        &body,
        resolved.def.clone(),
        ConvertLimits {
            max_image_bytes: app.options.limits.max_image_bytes,
        },
    )?;
    let started = match sse::start(app, &resolved, request, &key, body.is_stream()).await {
        Ok(started) => started,
        Err(e) => {
            let mut response = e.into_response();
            resolved.served(&key).decorate_failure(&mut response);
            return Ok(response);
        }
    };
    // The answer names the model that answered (a fallback, maybe).
    let served = resolved.served(&key);
    *model_label = Some(served.key.clone());
    let id = response_id("chatcmpl-");
    let created = unix_now();
    if body.is_stream() {
        let mapper = ChunkMapper::new(id, created, served.key.clone(), body.include_usage())
            .with_response_tool(body.response_tool());
        let mut response = sse::response(started, mapper, start);
        served.decorate(&mut response);
        return Ok(response);
    }
    let mut response = match sse::finish(started, start).await {
        StreamEvent::Done {
            stop_reason,
            message,
            usage,
        } => axum::Json(openai::completion(
            &id,
            created,
            &served.key,
            &message,
            stop_reason,
            &usage,
            body.response_tool().as_deref(),
        ))
        .into_response(),
        StreamEvent::Error { info, partial, .. } if openai::is_content_filter(&info) => {
            axum::Json(openai::content_filter_completion(
                &id,
                created,
                &served.key,
                partial.as_deref(),
                body.response_tool().as_deref(),
            ))
            .into_response()
        }
        StreamEvent::Error { message, info, .. } => {
            tracing::warn!(target: LOG_TARGET, "bedrock stream for {} failed ({}): {message}", escape(&key), info.kind);
            upstream(&info, &message).into_response()
        }
        _ => upstream(
            &ErrorInfo::new(ErrorKind::Upstream),
            "bedrock stream ended without a terminal event",
        )
        .into_response(),
    };
    served.decorate(&mut response);
    Ok(response)
}
