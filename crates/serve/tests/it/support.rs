//! The harness.
//!
//! - Gateways: [`Setup::bedrock`] wires a gateway the way `openclaw gateway` does (the real
//!   `ConverseStream` and discovery through `openclaw_creds::AwsSettings`, pointed at an
//!   in-process `fake-bedrock`); [`scripted`] serves an in-memory [`Scripted`] stream.
//! - Clients: [`Target::Router`] sends each request through `tower::ServiceExt::oneshot` on
//!   `Gateway::router()`; [`serve`] runs `Gateway::serve` on a loopback listener (each
//!   connection on one of two worker threads, as the binary does; [`serve_shared`] on the
//!   test's runtime, for tests that read the server's logs) and
//!   [`Target::Tcp`] talks HTTP/1.1 to it over hyper, one connection per request (dropping the
//!   response closes it).
//! - SSE parsing ([`chunks`], [`joined`]) and captured logs ([`Logs`]).

use std::collections::{BTreeMap, VecDeque};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use bytes::Bytes;
use fake_bedrock::FakeBedrock;
use futures::channel::mpsc;
use http_body_util::{BodyExt, Full};
use hyper::HeaderMap;
use hyper_util::rt::TokioIo;
use openclaw_config::{BedrockDiscoveryConfig, ModelDefinition, ModelRef, ProviderConfig};
use openclaw_creds::{AwsSettings, Env, detect, resolve_region};
use openclaw_discovery::{
    Discovery, DiscoveryOptions, DiscoveryRequest, PROVIDER_ID, SdkControlPlane,
};
use openclaw_serve::{Error, Gateway, ModelSource, ServeOptions, Workers};
use openclaw_stream::{
    AdapterOptions, AssistantContent, AssistantMessage, ConverseStream, EventStream, ModelStream,
    StopReason, StreamEvent, StreamOptions, StreamRequest, Usage,
};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tower::ServiceExt;

/// The static keys the fake accepts (the secret must never appear in a log).
pub const AK: &str = "AKIDSERVETEST";
pub const SK: &str = "servetestsecretkeyservetestsecretkey0000";

/// The model most tests use (an inference profile of the fake's catalog, reasoning-capable).
pub const MODEL: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
/// The model behind the `haiku` alias.
pub const HAIKU: &str = "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0";

/// The fake, accepting [`AK`] / [`SK`].
pub async fn fake() -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(AK, SK)
        .start()
        .await
        .expect("start fake")
}

/// The environment `openclaw gateway` would read: the fake as both Bedrock endpoints, the
/// region, static keys when `keys`; no shared files, no instance metadata.
pub fn env(url: &str, keys: bool) -> Env {
    let env = Env::from_pairs([
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_BEDROCK", url),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/openclaw-serve-test/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/openclaw-serve-test/credentials",
        ),
        ("HOME", "/nonexistent/openclaw-serve-test"),
    ]);
    if keys {
        env.with("AWS_ACCESS_KEY_ID", AK)
            .with("AWS_SECRET_ACCESS_KEY", SK)
    } else {
        env
    }
}

/// A gateway over Bedrock, as `openclaw gateway` builds it from the configuration
/// `models.bedrockDiscovery = {enabled: true, region: "us-east-1", providerFilter: ["anthropic"]}`
/// with the alias `haiku` for [`HAIKU`], and from its flags ([`Setup::options`] and
/// [`Setup::adapter`], the binary's defaults unless a test changes them).
pub struct Setup {
    pub options: ServeOptions,
    pub adapter: AdapterOptions,
    /// Static keys in the environment (else no credentials at all).
    pub keys: bool,
}

impl Default for Setup {
    fn default() -> Self {
        let haiku = HAIKU.parse::<ModelRef>().expect("model ref");
        Setup {
            options: ServeOptions {
                aliases: BTreeMap::from([("haiku".to_string(), haiku)]),
                ..ServeOptions::default()
            },
            adapter: AdapterOptions::default(),
            keys: true,
        }
    }
}

impl Setup {
    /// The gateway: one `ConverseStream` for `amazon-bedrock`, discovery merged in, the
    /// credential source reported by `/readyz`.
    pub fn bedrock(self, fake: &FakeBedrock) -> Gateway {
        self.build(fake, None)
    }

    /// The same gateway with failover ([`ModelSource::with_failover`]).
    pub fn bedrock_with_failover(
        self,
        fake: &FakeBedrock,
        failover: openclaw_serve::FailoverOptions,
    ) -> Gateway {
        self.build(fake, Some(failover))
    }

    fn build(
        self,
        fake: &FakeBedrock,
        failover: Option<openclaw_serve::FailoverOptions>,
    ) -> Gateway {
        let env = env(&fake.url(), self.keys);
        let region = resolve_region(Some("us-east-1"), None, &env).expect("region");
        let settings = AwsSettings::from_env(&env, &region, None).expect("aws settings");
        let discovery_config = BedrockDiscoveryConfig {
            enabled: Some(true),
            region: Some("us-east-1".into()),
            provider_filter: vec!["anthropic".into()],
            ..BedrockDiscoveryConfig::default()
        };
        let discovery = Discovery::new(
            Arc::new(SdkControlPlane::from_settings(&settings)),
            DiscoveryOptions::default(),
        );
        let request = DiscoveryRequest::from_config(&discovery_config, &region.region);
        let stream = ConverseStream::from_settings(&settings, self.adapter);
        let models = ModelSource::new(BTreeMap::new(), region.region.clone())
            .with_credentials(detect(&env))
            .with_stream(PROVIDER_ID, Arc::new(stream))
            .with_discovery(Arc::new(discovery), request);
        let models = match failover {
            Some(failover) => models.with_failover(failover),
            None => models,
        };
        Gateway::new(models, self.options)
    }
}

/// The provider of [`scripted`] gateways.
pub const LOCAL: &str = "local";
/// The model of [`scripted`] gateways.
pub const LOCAL_MODEL: &str = "local/scripted-1";

/// A gateway serving `local/scripted-1` through `stream` (no Bedrock, no credentials).
pub fn scripted(stream: Arc<Scripted>, options: ServeOptions) -> Gateway {
    let mut provider = ProviderConfig::default();
    provider
        .models
        .push(ModelDefinition::new("scripted-1", "Scripted"));
    let models = ModelSource::new(BTreeMap::from([(LOCAL.to_string(), provider)]), "us-east-1")
        .with_stream(LOCAL, stream);
    Gateway::new(models, options)
}

/// One answer of a [`Scripted`] stream.
pub enum Script {
    /// These events, all ready at once.
    Events(Vec<StreamEvent>),
    /// The events the test sends, as it sends them; the stream ends when the sender is
    /// dropped.
    Live(mpsc::UnboundedReceiver<StreamEvent>),
}

/// An in-memory [`ModelStream`]: each call answers with the next queued [`Script`] and records
/// the request it got. With nothing queued it answers with an error event.
#[derive(Default)]
pub struct Scripted {
    scripts: Mutex<VecDeque<Script>>,
    requests: Mutex<Vec<StreamRequest>>,
    deltas_only: Mutex<Vec<bool>>,
}

impl Scripted {
    pub fn new() -> Arc<Self> {
        Arc::new(Scripted::default())
    }

    /// Queues an answer made of `events`.
    pub fn push(&self, events: Vec<StreamEvent>) {
        self.scripts
            .lock()
            .unwrap()
            .push_back(Script::Events(events));
    }

    /// Queues an answer fed through the returned sender.
    pub fn live(&self) -> mpsc::UnboundedSender<StreamEvent> {
        let (tx, rx) = mpsc::unbounded();
        self.scripts.lock().unwrap().push_back(Script::Live(rx));
        tx
    }

    /// The requests received so far.
    pub fn requests(&self) -> Vec<StreamRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// `StreamOptions::deltas_only` of each call so far.
    pub fn deltas_only(&self) -> Vec<bool> {
        self.deltas_only.lock().unwrap().clone()
    }
}

impl ModelStream for Scripted {
    fn stream(&self, request: StreamRequest, options: StreamOptions) -> EventStream {
        self.requests.lock().unwrap().push(request);
        self.deltas_only.lock().unwrap().push(options.deltas_only);
        match self.scripts.lock().unwrap().pop_front() {
            Some(Script::Events(events)) => Box::pin(futures::stream::iter(events)),
            Some(Script::Live(rx)) => Box::pin(rx),
            None => Box::pin(futures::stream::iter([error_event(
                openclaw_stream::ErrorInfo::new(openclaw_stream::ErrorKind::Upstream),
                "nothing scripted",
            )])),
        }
    }
}

/// A terminal error event.
pub fn error_event(info: openclaw_stream::ErrorInfo, message: &str) -> StreamEvent {
    StreamEvent::Error {
        reason: info.reason(),
        message: message.into(),
        info,
        partial: None,
    }
}

/// The events of a text answer streamed as `pieces`, ending with `Done`.
pub fn text_answer(pieces: &[&str], stop_reason: StopReason, usage: Usage) -> Vec<StreamEvent> {
    let text: String = pieces.concat();
    let mut events = vec![
        StreamEvent::Start {
            model: "scripted-1".into(),
        },
        StreamEvent::TextStart { index: 0 },
    ];
    events.extend(pieces.iter().map(|p| StreamEvent::TextDelta {
        index: 0,
        delta: (*p).to_string(),
    }));
    events.push(StreamEvent::TextEnd {
        index: 0,
        text: text.clone(),
    });
    let mut message = AssistantMessage::new("scripted", LOCAL, "scripted-1");
    message.content.push(AssistantContent::Text { text });
    message.usage = usage;
    events.push(StreamEvent::Done {
        stop_reason,
        message: Box::new(message),
        usage,
    });
    events
}

/// A gateway served on a loopback listener by `Gateway::serve`, until [`Served::shutdown`]
/// (or the end of the test: the server task is aborted on drop).
pub struct Served {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), Error>>>,
}

/// Serves `gateway` on `127.0.0.1:0` the way `openclaw gateway` does: each connection on one
/// of two worker threads (`Gateway::with_workers`).
pub async fn serve(gateway: Gateway) -> Served {
    serve_shared(gateway.with_workers(Workers::start(2).expect("worker threads"))).await
}

/// Serves `gateway` on `127.0.0.1:0` on the test's own runtime (no workers: what the server
/// logs is written on the test's thread, where [`Logs::capture`] sees it).
pub async fn serve_shared(gateway: Gateway) -> Served {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let gateway = Arc::new(gateway);
    let (tx, rx) = oneshot::channel::<()>();
    let server = gateway.clone();
    let task = tokio::spawn(async move {
        server
            .serve(listener, async move {
                let _ = rx.await;
            })
            .await
    });
    Served {
        addr,
        gateway,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl Served {
    /// A client of this server.
    pub fn target(&self) -> Target {
        Target::Tcp(self.addr)
    }

    /// Completes the shutdown future given to `serve`.
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// The server task, to await `serve`'s return.
    pub fn task(&mut self) -> JoinHandle<Result<(), Error>> {
        self.task.take().expect("server task taken once")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Where requests go.
#[derive(Clone)]
pub enum Target {
    /// In process: `oneshot` on the router.
    Router(axum::Router),
    /// Over loopback TCP, a fresh HTTP/1.1 connection per request.
    Tcp(SocketAddr),
}

impl From<&Gateway> for Target {
    fn from(gateway: &Gateway) -> Self {
        Target::Router(gateway.router())
    }
}

/// A response; over TCP it owns its connection (closed when dropped).
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Body,
    _conn: Option<ConnGuard>,
}

/// Aborts the connection task (closing the socket) when dropped.
struct ConnGuard(JoinHandle<()>);

impl Drop for ConnGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Target {
    /// Sends one request (a JSON body gets `content-type` and `content-length`).
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Resp {
        let mut builder = hyper::Request::builder().method(method).uri(path);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        if let Some(body) = &body {
            builder = builder
                .header("content-type", "application/json")
                .header("content-length", body.len());
        }
        let bytes = Bytes::from(body.unwrap_or_default());
        match self {
            Target::Router(router) => {
                let req = builder.body(Body::from(bytes)).expect("request");
                let response = router.clone().oneshot(req).await.expect("infallible");
                let (parts, body) = response.into_parts();
                Resp {
                    status: parts.status.as_u16(),
                    headers: parts.headers,
                    body,
                    _conn: None,
                }
            }
            Target::Tcp(addr) => {
                let stream = TcpStream::connect(addr).await.expect("connect to gateway");
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(stream))
                        .await
                        .expect("handshake");
                let conn = tokio::spawn(async move {
                    let _ = conn.await;
                });
                let req = builder
                    .header("host", addr.to_string())
                    .body(Full::new(bytes))
                    .expect("request");
                let response = sender.send_request(req).await.expect("send request");
                let (parts, body) = response.into_parts();
                Resp {
                    status: parts.status.as_u16(),
                    headers: parts.headers,
                    body: Body::new(body),
                    _conn: Some(ConnGuard(conn)),
                }
            }
        }
    }

    /// `POST /v1/chat/completions` with a JSON body.
    pub async fn chat(&self, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let body = serde_json::to_vec(body).expect("json");
        self.request("POST", "/v1/chat/completions", headers, Some(body))
            .await
    }

    /// `POST /v1/messages` (the Anthropic API) with a JSON body.
    pub async fn messages(&self, body: &Value, headers: &[(&str, &str)]) -> Resp {
        let body = serde_json::to_vec(body).expect("json");
        self.request("POST", "/v1/messages", headers, Some(body))
            .await
    }

    /// `POST /v1/chat/completions` with a JSON body in 1 KiB chunks and no `content-length`
    /// (in process only).
    pub async fn chat_chunked(&self, body: &Value) -> Resp {
        let Target::Router(router) = self else {
            panic!("chat_chunked sends through the router")
        };
        let body = serde_json::to_vec(body).expect("json");
        let pieces: Vec<Result<Bytes, std::io::Error>> = body
            .chunks(1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let req = hyper::Request::builder()
            .method("POST")
            .uri("/v1/chat/completions")
            .header("content-type", "application/json")
            .body(Body::from_stream(futures::stream::iter(pieces)))
            .expect("request");
        let response = router.clone().oneshot(req).await.expect("infallible");
        let (parts, body) = response.into_parts();
        Resp {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
            _conn: None,
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request("GET", path, headers, None).await
    }
}

impl Resp {
    /// The whole body as text.
    pub async fn text(self) -> String {
        let Resp { body, _conn, .. } = self;
        let bytes = body.collect().await.expect("read body").to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The whole body as JSON.
    pub async fn json(self) -> Value {
        let text = self.text().await;
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// The next SSE `data:` payloads available (at least one, unless the stream ended).
    pub async fn next_events(&mut self, buf: &mut String) -> Option<Vec<String>> {
        loop {
            if let Some(end) = buf.find("\n\n") {
                let mut out = Vec::new();
                let mut rest = buf.split_off(end + 2);
                std::mem::swap(buf, &mut rest);
                for line in rest.lines() {
                    if let Some(data) = line.strip_prefix("data: ") {
                        out.push(data.to_string());
                    }
                }
                return Some(out);
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        buf.push_str(&String::from_utf8_lossy(&data));
                    }
                }
                _ => return None,
            }
        }
    }

    /// All SSE `data:` payloads until the stream ends.
    pub async fn sse(mut self) -> Vec<String> {
        let mut buf = String::new();
        let mut out = Vec::new();
        while let Some(events) = self.next_events(&mut buf).await {
            out.extend(events);
        }
        assert_eq!(buf, "", "a partial SSE event at the end");
        out
    }

    /// Status, `Retry-After` and body of an error answer, checking OpenAI's error shape.
    pub async fn error(self) -> (u16, Option<String>, Value) {
        let status = self.status;
        let retry = self
            .headers
            .get("retry-after")
            .map(|v| v.to_str().unwrap().to_string());
        let body = self.json().await;
        for key in ["message", "type", "param", "code"] {
            assert!(
                body["error"].get(key).is_some(),
                "OpenAI error shape lacks {key}: {body}"
            );
        }
        (status, retry, body)
    }
}

/// Parses SSE payloads: JSON chunks, and whether `[DONE]` came last.
pub fn chunks(events: &[String]) -> (Vec<Value>, bool) {
    let done = events.last().is_some_and(|e| e == "[DONE]");
    let chunks = events
        .iter()
        .filter(|e| *e != "[DONE]")
        .map(|e| serde_json::from_str(e).unwrap_or_else(|err| panic!("bad chunk {e}: {err}")))
        .collect();
    (chunks, done)
}

/// Concatenates a delta field over chunks.
pub fn joined(chunks: &[Value], field: &str) -> String {
    chunks
        .iter()
        .filter_map(|c| {
            c["choices"].get(0)?["delta"][field]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

/// A user message to [`MODEL`].
pub fn user(text: &str) -> Value {
    serde_json::json!({"model": MODEL, "messages": [{"role": "user", "content": text}]})
}

/// The same request, streamed with the usage chunk.
pub fn streaming(mut body: Value) -> Value {
    body["stream"] = serde_json::json!(true);
    body["stream_options"] = serde_json::json!({"include_usage": true});
    body
}

/// The weather tool in OpenAI's shape.
/// A fault rule: Bedrock answers the next runtime call `ModelNotReadyException` (429).
pub fn model_not_ready_once() -> fake_bedrock::Rule<fake_bedrock::Fault> {
    fake_bedrock::Rule::new(fake_bedrock::Fault::Error {
        status: 429,
        error_type: "ModelNotReadyException".into(),
        message: "the model is not ready".into(),
    })
    .runtime()
    .times(1)
}

pub fn weather_tool() -> Value {
    serde_json::json!({"type": "function", "function": {"name": "get_weather",
      "description": "Current weather", "parameters": {"type": "object",
      "properties": {"city": {"type": "string"}}, "required": ["city"]}}})
}

/// The converse-stream requests the fake received.
pub fn converse_streams(fake: &FakeBedrock) -> Vec<fake_bedrock::RecordedRequest> {
    fake.requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/converse-stream"))
        .collect()
}

/// The log lines written on this thread while the guard of [`Logs::capture`] lives (the tests
/// run on tokio's current-thread runtime, so the server's tasks log on the test's thread).
///
/// One global subscriber writes each line to the buffer of the thread that logged it: scoped
/// subscribers (`set_default`) on parallel test threads race on tracing's cached callsite
/// interest and can miss lines.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static SINK: std::cell::RefCell<Option<Arc<Mutex<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

/// Writes to this thread's [`Logs`] buffer, if one is capturing.
struct ThreadSink;

impl Write for ThreadSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        SINK.with(|sink| {
            if let Some(logs) = &*sink.borrow() {
                logs.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Stops capturing on drop.
pub struct LogGuard;

impl Drop for LogGuard {
    fn drop(&mut self) {
        SINK.with(|sink| *sink.borrow_mut() = None);
    }
}

impl Logs {
    /// Starts capturing this thread's log lines (info and above, no colours).
    pub fn capture() -> (Logs, LogGuard) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let subscriber = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_max_level(tracing::Level::INFO)
                .with_writer(|| ThreadSink)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        });
        let logs = Logs::default();
        SINK.with(|sink| *sink.borrow_mut() = Some(logs.0.clone()));
        (logs, LogGuard)
    }

    /// Everything logged so far, checked for the test secret.
    pub fn text(&self) -> String {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        assert!(!text.contains(SK), "secret leaked in:\n{text}");
        text
    }
}
