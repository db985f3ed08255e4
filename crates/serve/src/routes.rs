//! The router, the handlers and the middleware (auth, access log and request metrics).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::{FutureExt as _, StreamExt};
use openclaw_stream::{ErrorInfo, ErrorKind, EventStream, StreamEvent, StreamOptions};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::sync::OwnedSemaphorePermit;

use crate::api_error::{ApiError, UpstreamFailure, upstream};
use crate::body::read_json;
use crate::ids::{response_id, unix_now};
use crate::log::{ACCESS_TARGET, LOG_TARGET};
use crate::openai::{self, ChatRequest, ChunkMapper, ConvertLimits};
use crate::state::App;

/// The model a response was for (access log).
#[derive(Debug, Clone)]
struct ModelLabel(String);

/// Routes known to the metrics (anything else is counted as `other`).
const ROUTES: [&str; 5] = [
    "/v1/chat/completions",
    "/v1/models",
    "/healthz",
    "/readyz",
    "/metrics",
];

pub(crate) fn router(app: Arc<App>) -> Router {
    let protected = Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/v1/models", get(models))
        .route("/metrics", get(metrics))
        .route_layer(middleware::from_fn_with_state(app.clone(), auth));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .merge(protected)
        .fallback(|req: Request| async move { ApiError::not_found(req.uri().path()) })
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .with_state(app)
}

/// Access log line and request metrics, for every request. No bodies, headers or query strings
/// are logged, so no secret can appear.
async fn observe(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let route = ROUTES
        .iter()
        .find(|r| **r == req.uri().path())
        .copied()
        .unwrap_or("other");
    // Known routes log their static name; only other paths are copied.
    let path: std::borrow::Cow<'static, str> = match route {
        "other" => req.uri().path().to_owned().into(),
        known => known.into(),
    };
    let response = next.run(req).await;
    let took = start.elapsed();
    let status = response.status().as_u16();
    app.metrics.request(route, status, took);
    if let Some(failure) = response.extensions().get::<UpstreamFailure>() {
        app.metrics.upstream_error(failure);
    }
    let model = response
        .extensions()
        .get::<ModelLabel>()
        .map(|m| m.0.as_str())
        .unwrap_or("-");
    tracing::info!(
        target: ACCESS_TARGET,
        "{method} {path} {status} {}ms model={model}",
        took.as_millis()
    );
    response
}

/// Bearer-token check (constant time) when a token is configured.
async fn auth(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    if let Some(token) = &app.options.token {
        let given = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .unwrap_or_default();
        let ok: bool = given.as_bytes().ct_eq(token.expose().as_bytes()).into();
        if !ok {
            let mut response = ApiError::unauthorized().into_response();
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
    let ready = has_credentials && !draining;
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
            "shutting_down": draining,
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
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        app.metrics.render(),
    )
        .into_response()
}

async fn models(State(app): State<Arc<App>>) -> Response {
    let providers = app.models.providers().await;
    let mut data = Vec::new();
    for (pid, provider) in &providers {
        if !app.models.serves(pid) {
            continue;
        }
        for m in &provider.models {
            let key = format!("{pid}/{}", m.id);
            let aliases: Vec<&String> = app
                .options
                .aliases
                .iter()
                .filter(|(_, target)| target.provider() == pid && target.model() == m.id)
                .map(|(alias, _)| alias)
                .collect();
            data.push(json!({
                "id": key,
                "object": "model",
                "created": 0,
                "owned_by": pid,
                "name": m.name,
                "context_window": m.context_window,
                "max_tokens": m.max_tokens,
                "reasoning": m.reasoning,
                "input": m.input.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
                "aliases": aliases,
            }));
        }
    }
    axum::Json(json!({"object": "list", "data": data})).into_response()
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
    let body: ChatRequest = read_json(req, &app.options.limits).await?;
    *model_label = Some(body.model.clone());
    let Some((key, resolved)) = app.resolve_model(&body.model).await else {
        return Err(ApiError::model_not_found(&body.model));
    };
    *model_label = Some(key.clone());
    let request = openai::to_stream_request(
        &body,
        resolved.def.clone(),
        ConvertLimits {
            max_image_bytes: app.options.limits.max_image_bytes,
        },
    )?;
    let permit = app
        .permits
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::too_many_streams(app.options.limits.max_concurrent_streams))?;
    let guard = StreamGuard::new(app.clone(), permit);
    let mut events = resolved.stream.stream(request, StreamOptions::default());
    // Wait for Bedrock's first event before answering, so a failure before the stream
    // starts gets its own HTTP status instead of a 200 with an error inside.
    let first = events
        .next()
        .await
        .unwrap_or_else(|| no_terminal("bedrock stream ended without any event"));
    if let StreamEvent::Error { message, info, .. } = &first {
        tracing::warn!(target: LOG_TARGET, "bedrock call for {key} failed ({}): {message}", info.kind);
        return Err(upstream(info, message));
    }
    let id = response_id("chatcmpl-");
    let created = unix_now();
    if !body.is_stream() {
        return Ok(collect(app, events, first, guard, start, &id, created, &key).await);
    }
    let mut state = Sse {
        events,
        mapper: ChunkMapper::new(id, created, key, body.include_usage()),
        buf: Vec::new(),
        done: false,
        first_token: false,
        start,
        guard,
    };
    state.push(&first);
    let body = Body::from_stream(futures::stream::unfold(state, |mut s| async move {
        loop {
            // Everything Bedrock has already delivered goes out in one body frame (one write
            // on the socket); nothing waits for events that are not there yet.
            s.drain_ready();
            if !s.buf.is_empty() {
                let frame = Bytes::from(std::mem::take(&mut s.buf));
                return Some((Ok::<Bytes, Infallible>(frame), s));
            }
            if s.done {
                return None;
            }
            let event = s.events.next().await;
            s.push_next(event);
        }
    }));
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// A non-streaming answer: reads the whole stream.
#[allow(clippy::too_many_arguments)]
async fn collect(
    app: &Arc<App>,
    mut events: EventStream,
    first: StreamEvent,
    _guard: StreamGuard,
    start: Instant,
    id: &str,
    created: u64,
    model: &str,
) -> Response {
    let mut first_token = false;
    let mut next = Some(first);
    loop {
        let event = match next.take() {
            Some(e) => e,
            None => match events.next().await {
                Some(e) => e,
                None => {
                    let message = "bedrock stream ended without a terminal event";
                    return upstream(&ErrorInfo::new(ErrorKind::Upstream), message).into_response();
                }
            },
        };
        if !first_token && is_token(&event) {
            first_token = true;
            app.metrics.first_token(start.elapsed());
        }
        match event {
            StreamEvent::Done {
                stop_reason,
                message,
                usage,
            } => {
                app.metrics.tokens(&usage);
                let body = openai::completion(id, created, model, &message, stop_reason, &usage);
                return axum::Json(body).into_response();
            }
            StreamEvent::Error { message, info, .. } => {
                tracing::warn!(target: LOG_TARGET, "bedrock stream for {model} failed ({}): {message}", info.kind);
                return upstream(&info, &message).into_response();
            }
            _ => {}
        }
    }
}

/// The terminal event standing in for one a misbehaving [`openclaw_stream::ModelStream`]
/// never sent.
fn no_terminal(message: &str) -> StreamEvent {
    let info = ErrorInfo::new(ErrorKind::Upstream);
    StreamEvent::Error {
        reason: info.reason(),
        message: message.into(),
        info,
        partial: None,
    }
}

fn is_token(event: &StreamEvent) -> bool {
    matches!(
        event,
        StreamEvent::TextDelta { .. }
            | StreamEvent::ThinkingDelta { .. }
            | StreamEvent::ToolCallStart { .. }
    )
}

/// The state of one SSE response. Dropping it (end of stream or client disconnect) drops the
/// model stream, which closes the Bedrock connection, and releases the concurrency permit.
struct Sse {
    events: EventStream,
    mapper: ChunkMapper,
    /// SSE bytes rendered and not yet handed to hyper.
    buf: Vec<u8>,
    done: bool,
    first_token: bool,
    start: Instant,
    guard: StreamGuard,
}

/// Most events gathered into one body frame (beyond, the frame goes out and the rest follows).
const FRAME_EVENTS: usize = 64;
/// Most bytes gathered into one body frame.
const FRAME_BYTES: usize = 16 * 1024;

impl Sse {
    /// Renders the events the model stream has ready now (without waiting), up to a frame's
    /// worth.
    fn drain_ready(&mut self) {
        let mut n = 0;
        while !self.done && n < FRAME_EVENTS && self.buf.len() < FRAME_BYTES {
            match self.events.next().now_or_never() {
                Some(event) => self.push_next(event),
                None => return,
            }
            n += 1;
        }
    }

    /// Renders the model stream's next item (`None`: it ended without a terminal event).
    fn push_next(&mut self, event: Option<StreamEvent>) {
        match event {
            Some(event) => self.push(&event),
            None => self.push(&no_terminal(
                "bedrock stream ended without a terminal event",
            )),
        }
    }

    fn push(&mut self, event: &StreamEvent) {
        let metrics = &self.guard.app.metrics;
        if !self.first_token && is_token(event) {
            self.first_token = true;
            metrics.first_token(self.start.elapsed());
        }
        match event {
            StreamEvent::Done { usage, .. } => metrics.tokens(usage),
            StreamEvent::Error { message, info, .. } => {
                tracing::warn!(target: LOG_TARGET, "bedrock stream failed after it started ({}): {message}", info.kind);
                metrics.upstream_error(&UpstreamFailure::of(info));
            }
            _ => {}
        }
        if event.is_terminal() {
            self.done = true;
        }
        self.mapper.write(event, &mut self.buf);
    }
}

/// Holds a concurrency permit and measures the stream's duration until dropped.
struct StreamGuard {
    app: Arc<App>,
    started: Instant,
    _permit: OwnedSemaphorePermit,
}

impl StreamGuard {
    fn new(app: Arc<App>, permit: OwnedSemaphorePermit) -> Self {
        app.metrics.stream_started();
        StreamGuard {
            app,
            started: Instant::now(),
            _permit: permit,
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let took: Duration = self.started.elapsed();
        self.app.metrics.stream_ended(took);
        tracing::debug!(target: LOG_TARGET, "model stream closed after {}ms", took.as_millis());
    }
}
