//! The HTTP side: the router (one handler that records, authenticates, injects faults and
//! routes by the raw, still percent-encoded, path, as Bedrock's REST-JSON protocol does) and the
//! server task.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request};
use axum::response::Response;
use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use percent_encoding::percent_decode_str;
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

/// How accepted connections are served.
pub(crate) struct Transport {
    /// `Some`: HTTPS with this configuration (ALPN `h2`, `http/1.1`); `None`: cleartext, where
    /// HTTP/1.1 and HTTP/2 (prior knowledge) are told apart by the connection preface.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// The SETTINGS_MAX_CONCURRENT_STREAMS advertised on HTTP/2 connections (`None`: hyper's
    /// default).
    pub h2_max_concurrent_streams: Option<u32>,
}

/// How long a TLS handshake may take before the connection is dropped: a client that connects
/// and sends nothing must not hold a task for ever.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The connection builders, made once: hyper-util's auto builder (cleartext: HTTP/1.1 or HTTP/2
/// by the preface) and its HTTP/1.1-only and HTTP/2-only forms (TLS: by the negotiated ALPN).
struct Builders {
    auto: auto::Builder<TokioExecutor>,
    h1: auto::Builder<TokioExecutor>,
    h2: auto::Builder<TokioExecutor>,
}

/// The router as a hyper service.
type App = TowerToHyperService<axum::Router>;

/// Serves `shared` on `listener` until `stop` turns true (`TCP_NODELAY` on every socket),
/// counting the connections open in `open`. On stop, no connection is accepted any more and
/// the open ones shut down gracefully (requests in flight finish); the task ends when the last
/// one has closed.
pub(crate) fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    open: Arc<AtomicUsize>,
    mut stop: watch::Receiver<bool>,
    transport: Transport,
) -> JoinHandle<()> {
    let app = TowerToHyperService::new(axum::Router::new().fallback(handle).with_state(shared));
    let mut auto = auto::Builder::new(TokioExecutor::new());
    if let Some(max) = transport.h2_max_concurrent_streams {
        auto.http2().max_concurrent_streams(max);
    }
    let builders = Arc::new(Builders {
        h1: auto.clone().http1_only(),
        h2: auto.clone().http2_only(),
        auto,
    });
    let acceptor = transport.tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        // Every connection task holds a receiver; the sender sees them all gone when the last
        // connection has closed.
        let (closed, connection_alive) = watch::channel(());
        loop {
            let tcp = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, _)) => tcp,
                    Err(err) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!("fake-bedrock cannot accept a connection: {err}");
                        tokio::select! {
                            () = tokio::time::sleep(Duration::from_millis(100)) => continue,
                            () = stopped(&mut stop) => break,
                        }
                    }
                },
                () = stopped(&mut stop) => break,
            };
            // Many small writes per stream: without this, Nagle + delayed ACK add ~40 ms stalls.
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY: {err}");
            }
            let counted = OpenConnection::new(&open);
            let connection = Connection {
                builders: builders.clone(),
                app: app.clone(),
                stop: stop.clone(),
                _alive: connection_alive.clone(),
                _counted: counted,
            };
            let acceptor = acceptor.clone();
            tokio::spawn(connection.run(tcp, acceptor));
        }
        // Stop listening at once: new connections are refused while open ones finish.
        drop(listener);
        drop(connection_alive);
        closed.closed().await;
    })
}

/// Resolves once the server is stopping (`stop` turned true, or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// One accepted connection, counted in the listener's `open` until its task ends (what
/// [`crate::FakeBedrock::open_connections`] reads: a client's connection pool observed from the
/// server side).
struct Connection {
    builders: Arc<Builders>,
    app: App,
    stop: watch::Receiver<bool>,
    _alive: watch::Receiver<()>,
    _counted: OpenConnection,
}

impl Connection {
    async fn run(
        mut self,
        tcp: tokio::net::TcpStream,
        acceptor: Option<tokio_rustls::TlsAcceptor>,
    ) {
        let Some(acceptor) = acceptor else {
            let builders = self.builders.clone();
            return self.serve(&builders.auto, TokioIo::new(tcp)).await;
        };
        let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp));
        let tls = tokio::select! {
            done = handshake => match done {
                Ok(Ok(tls)) => tls,
                Ok(Err(err)) => {
                    tracing::debug!("TLS handshake failed: {err}");
                    return;
                }
                Err(_) => {
                    tracing::debug!("TLS handshake timed out");
                    return;
                }
            },
            () = stopped(&mut self.stop) => return,
        };
        let h2 = tls.get_ref().1.alpn_protocol() == Some(crate::tls::ALPN_H2);
        let builders = self.builders.clone();
        let builder = if h2 { &builders.h2 } else { &builders.h1 };
        self.serve(builder, TokioIo::new(tls)).await;
    }

    /// Serves requests on `io` until the client closes it, or, once the server stops, until the
    /// requests in flight have finished.
    async fn serve<I>(&mut self, builder: &auto::Builder<TokioExecutor>, io: I)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let conn = builder.serve_connection(io, self.app.clone());
        let mut conn = std::pin::pin!(conn);
        let mut stopping = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::trace!("connection ended with an error: {err}");
                    }
                    return;
                }
                () = stopped(&mut self.stop), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Counts one open connection in its listener's counter while it lives.
struct OpenConnection {
    open: Arc<AtomicUsize>,
}

impl OpenConnection {
    fn new(open: &Arc<AtomicUsize>) -> Self {
        open.fetch_add(1, Ordering::SeqCst);
        Self { open: open.clone() }
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::SeqCst);
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

/// How a request's HTTP version is recorded.
fn http_version(version: http::Version) -> &'static str {
    match version {
        http::Version::HTTP_09 => "HTTP/0.9",
        http::Version::HTTP_10 => "HTTP/1.0",
        http::Version::HTTP_11 => "HTTP/1.1",
        http::Version::HTTP_2 => "HTTP/2.0",
        http::Version::HTTP_3 => "HTTP/3.0",
        _ => "unknown",
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
            http_version: http_version(parts.version),
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
