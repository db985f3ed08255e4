//! The HTTP side: the router (one handler that records, authenticates, injects faults and
//! routes by the raw, still percent-encoded, path, as Bedrock's REST-JSON protocol does) and the
//! server task.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request};
use axum::response::Response;
use bytes::Bytes;
use percent_encoding::percent_decode_str;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::admin;
use crate::auth::{self, Auth, Received, Verifier};
use crate::control::Ctx;
use crate::error::{ApiError, insert_request_id, json_response};
use crate::faults::{fault_error, model_names, take_rule, target_matches};
use crate::record::{RecordedRequest, redact_headers};
use crate::runtime;
use crate::script::Fault;
use crate::state::{DisconnectWatch, Shared, pause};

/// The largest request body accepted (Bedrock's Converse payload limit is of this order).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Serves `shared` on `listener` until `stop` turns true (`TCP_NODELAY` on every socket),
/// counting the connections open in `open`.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    open: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let app = axum::Router::new().fallback(handle).with_state(shared);
    let listener = CountingListener {
        inner: listener,
        open,
    };
    tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stop.wait_for(|stop| *stop).await;
        });
        if let Err(err) = serve.await {
            tracing::warn!("fake-bedrock server stopped: {err}");
        }
    })
}

/// A listener whose connections count themselves while they are open (what
/// [`crate::FakeBedrock::open_connections`] reads): a client's connection pool observed from
/// the server side. Sets `TCP_NODELAY` on every socket.
struct CountingListener {
    inner: tokio::net::TcpListener,
    open: Arc<AtomicUsize>,
}

impl axum::serve::Listener for CountingListener {
    type Io = Counted;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let (io, addr) = axum::serve::Listener::accept(&mut self.inner).await;
        // Many small writes per stream: without this, Nagle + delayed ACK add ~40 ms stalls.
        if let Err(err) = io.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {err}");
        }
        self.open.fetch_add(1, Ordering::SeqCst);
        let open = self.open.clone();
        (Counted { io, open }, addr)
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted connection, counted in its listener's `open` until the server drops it.
struct Counted {
    io: tokio::net::TcpStream,
    open: Arc<AtomicUsize>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
    }
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// What a request asks for, decided from the method and the raw path.
enum Route {
    ListFoundationModels,
    GetFoundationModel(String),
    ListInferenceProfiles,
    CreateInferenceProfile,
    GetInferenceProfile(String),
    ListTagsForResource,
    Converse { model: String, stream: bool },
    CountTokens(String),
    Unknown,
}

impl Route {
    fn parse(method: &str, path: &str) -> Self {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        match (method, segments.as_slice()) {
            ("GET", ["foundation-models"]) => Self::ListFoundationModels,
            ("GET", ["foundation-models", id]) if !id.is_empty() => {
                Self::GetFoundationModel(decode(id))
            }
            ("GET", ["inference-profiles"]) => Self::ListInferenceProfiles,
            ("POST", ["inference-profiles"]) => Self::CreateInferenceProfile,
            ("GET", ["inference-profiles", id]) if !id.is_empty() => {
                Self::GetInferenceProfile(decode(id))
            }
            ("POST", ["listTagsForResource"]) => Self::ListTagsForResource,
            ("POST", ["model", id, "converse"]) => Self::Converse {
                model: decode(id),
                stream: false,
            },
            ("POST", ["model", id, "converse-stream"]) => Self::Converse {
                model: decode(id),
                stream: true,
            },
            ("POST", ["model", id, "count-tokens"]) => Self::CountTokens(decode(id)),
            _ => Self::Unknown,
        }
    }

    fn action(&self) -> &'static str {
        match self {
            Self::ListFoundationModels => "ListFoundationModels",
            Self::GetFoundationModel(_) => "GetFoundationModel",
            Self::ListInferenceProfiles => "ListInferenceProfiles",
            Self::CreateInferenceProfile => "CreateInferenceProfile",
            Self::GetInferenceProfile(_) => "GetInferenceProfile",
            Self::ListTagsForResource => "ListTagsForResource",
            Self::Converse { stream: false, .. } => "InvokeModel",
            Self::Converse { stream: true, .. } => "InvokeModelWithResponseStream",
            Self::CountTokens(_) => "CountTokens",
            Self::Unknown => "Unknown",
        }
    }
}

/// The single entry point for every request.
async fn handle(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let (mut parts, body) = req.into_parts();
    if admin::is_admin_path(parts.uri.path()) {
        let body = axum::body::to_bytes(body, MAX_BODY)
            .await
            .unwrap_or_default();
        return admin::handle(&shared, parts.method.as_str(), parts.uri.path(), &body);
    }
    // HTTP/2 carries the host in the `:authority` pseudo-header, which hyper puts in the URI.
    // Give it a `Host` header as an HTTP/1.1 gateway would (RFC 9113 section 8.3.1), so the
    // record and the SigV4 check see one shape whatever protocol the client spoke.
    if !parts.headers.contains_key(http::header::HOST)
        && let Some(authority) = parts.uri.authority()
        && let Ok(value) = HeaderValue::from_str(authority.as_str())
    {
        parts.headers.insert(http::header::HOST, value);
    }
    let body = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    let method = parts.method.as_str().to_owned();
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p.to_owned(), q.to_owned()),
        None => (path_and_query.clone(), String::new()),
    };

    let request_id = {
        let mut state = shared.lock();
        state.request_counter += 1;
        let request_id = format!("fa4eb0c4-0000-4000-8000-{:012x}", state.request_counter);
        state.requests.push(RecordedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            headers: redact_headers(&parts.headers),
            body: body.clone(),
            auth: auth::claimed(&parts.headers),
            status: None,
            request_id: request_id.clone(),
            client_disconnected: false,
        });
        request_id
    };

    let mut watch = DisconnectWatch::new(shared.clone(), request_id.clone());
    let response = respond(
        &shared,
        &method,
        &path_and_query,
        &path,
        &query,
        &parts.headers,
        &body,
        &request_id,
        started,
    )
    .await;
    watch.disarm();
    let mut state = shared.lock();
    // Found by id: the list may have been cleared or reset meanwhile.
    if let Some(recorded) = state
        .requests
        .iter_mut()
        .rev()
        .find(|r| r.request_id == request_id)
    {
        recorded.status = Some(response.status().as_u16());
    }
    response
}

#[allow(clippy::too_many_arguments)]
async fn respond(
    shared: &Arc<Shared>,
    method: &str,
    path_and_query: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    request_id: &str,
    started: Instant,
) -> Response {
    let config = &shared.config;
    // Unsigned credential-issuing services (SSO portal, STS web identity, container endpoint).
    if let Some(response) =
        crate::identity::respond(config, method, path, query, headers, body, request_id)
    {
        return response;
    }
    let verifier = Verifier {
        keys: &config.keys,
        tokens: &config.tokens,
    };
    let auth = match verifier.verify(&Received {
        method,
        path_and_query,
        headers,
        body,
    }) {
        Ok(auth) => auth,
        Err(err) => return err.into_response(request_id),
    };
    let region = match &auth {
        Auth::SigV4 { region, .. } => region.clone(),
        _ => config.default_region.clone(),
    };
    let route = Route::parse(method, path);
    let created = shared.lock().created_profiles.clone();
    let ctx = Ctx {
        catalog: &config.catalog,
        region: &region,
        account: &config.account_id,
        extra: &created,
    };

    // Names a model-targeted rule can match: the id as sent and the model it resolves to.
    let (runtime, model_names) = match &route {
        Route::Converse { model, .. } | Route::CountTokens(model) => {
            (true, model_names(&ctx, model))
        }
        _ => (false, Vec::new()),
    };
    let stream = matches!(route, Route::Converse { stream: true, .. });
    let fault = take_rule(&mut shared.lock().faults, |rule| {
        target_matches(&rule.target, runtime, &model_names) && (!rule.item.stream_only() || stream)
    });
    let pacing = shared.lock().pacing;
    if let Some(fault) = &fault {
        if *fault == Fault::Hang {
            shared.until_shutdown().await;
            return ApiError::new(
                503,
                "ServiceUnavailableException",
                "fake-bedrock is stopping",
            )
            .into_response(request_id);
        }
        if let Some(err) = fault_error(fault, route.action(), &config.account_id) {
            pause(pacing.first_byte).await;
            return err.into_response(request_id);
        }
    }

    let result = match route {
        Route::ListFoundationModels => ctx.list_foundation_models(query).map(json_response),
        Route::GetFoundationModel(id) => ctx.get_foundation_model(&id).map(json_response),
        Route::ListInferenceProfiles => ctx.list_inference_profiles(query).map(json_response),
        Route::GetInferenceProfile(id) => ctx.get_inference_profile(&id).map(json_response),
        Route::ListTagsForResource => ctx.list_tags(body).map(json_response),
        Route::CreateInferenceProfile => {
            let id = format!("fake{:08x}", created.len() + 1);
            ctx.create_inference_profile(body, id)
                .map(|(profile, answer)| {
                    shared.lock().created_profiles.push(profile);
                    json_response(answer)
                })
        }
        Route::Converse { model, stream } => {
            runtime::converse(
                shared, &ctx, &model, stream, body, fault, pacing, started, request_id,
            )
            .await
        }
        Route::CountTokens(model) => runtime::count_tokens(&ctx, &model, body, pacing).await,
        Route::Unknown => Err(ApiError::coral(
            404,
            "UnknownOperationException",
            "The requested operation is not recognized by the service.",
        )),
    };
    match result {
        Ok(mut response) => {
            insert_request_id(response.headers_mut(), request_id);
            response
        }
        Err(err) => err.into_response(request_id),
    }
}
