//! `fake-bedrock`: a faithful local Amazon Bedrock over real HTTP, for tests, demos and
//! benchmarks.
//!
//! One server on one port answers both services the AWS SDKs talk to:
//!
//! - the control plane (`bedrock`): `ListFoundationModels` (with the `byProvider`,
//!   `byOutputModality`, `byInferenceType`, `byCustomizationType` filters),
//!   `GetFoundationModel`, `ListInferenceProfiles` (`maxResults`/`nextToken` pagination, `type`)
//!   and `GetInferenceProfile`;
//! - the runtime (`bedrock-runtime`): `Converse` and `ConverseStream`, the latter as
//!   `application/vnd.amazon.eventstream` frames (prelude and CRCs written by
//!   `aws-smithy-eventstream`), and `CountTokens` (a deterministic count, documented in the
//!   README, for Converse and Anthropic InvokeModel inputs).
//!
//! Design choices:
//!
//! - **Independent of any client code.** The JSON and frames are written from serde types of this
//!   crate that mirror the AWS API shapes, so a mapping bug in a client cannot hide by being on
//!   both sides of a test. Tests here drive it with the official AWS SDKs.
//! - **Authentication is verified, not parsed.** SigV4 signatures are recomputed with `aws-sigv4`
//!   over the received method, raw path, signed headers and body, for the scope's region and the
//!   service name `bedrock`; bearer tokens (Bedrock API keys) are compared with the configured
//!   ones. Requests that sign an HTTP/2 pseudo-header (`:authority`, as the JavaScript v3 SDK
//!   does), which `aws-sigv4` cannot express, are checked by a hand-written, spec-exact SigV4
//!   tested against `aws-sigv4` and the AWS SigV4 test suite. Failures answer with the errors
//!   AWS sends (`InvalidSignatureException`, `UnrecognizedClientException`,
//!   `MissingAuthenticationTokenException`, ...).
//! - **Any SDK, unchanged.** HTTP/1.1 and HTTP/2 (cleartext, prior knowledge, as the JavaScript
//!   v3 runtime client uses it) on the same port; boto3 and the JavaScript v3 SDK are tested
//!   against it as well as the Rust SDK.
//! - **HTTPS when asked** ([`Builder::tls`]): a self-signed certificate made at start
//!   ([`FakeBedrock::ca_certificate_pem`]), ALPN `h2` and `http/1.1` as Bedrock's endpoints
//!   offer, so a client's production transport (TLS, all streams on one HTTP/2 connection) can
//!   be tested and measured; [`Builder::h2_max_concurrent_streams`] sets the HTTP/2 stream limit
//!   a client meets. Each request records its HTTP version
//!   ([`RecordedRequest::http_version`]).
//! - **Deterministic.** Without a script, answers derive from the request (`Echo: <prompt>`, a
//!   tool call when the prompt says "use tool", reasoning when thinking is enabled), so tests
//!   can predict them; [`FakeBedrock::script`] queues exact turns and [`FakeBedrock::fault`]
//!   injects throttling, 5xx, exception frames, dropped connections, corrupt frames and hangs.
//! - **Regional like the real thing.** ARNs carry the region of the SigV4 scope (else the
//!   configured default) and an inference profile is visible only from the regions it routes to
//!   (`us.` profiles from us-* regions, `eu.` from eu-*, `global.` everywhere).
//! - **Recorded.** Every request is kept (secrets redacted) for assertions, with
//!   [`RecordedRequest::client_disconnected`] telling whether the client went away before the
//!   answer was complete (cancellation tests).
//! - **Drivable from outside.** The same port serves an unauthenticated admin API under
//!   [`ADMIN_PREFIX`] (`/_fake/`, which no Bedrock route can take): queue faults and turns as
//!   JSON, read or clear the request log, change pacing, reset. The binary also takes
//!   `--fault`/`--script` JSON flags. It is a test server: bind it to loopback.
//! - `TCP_NODELAY` is set on accepted sockets: streams are many small writes.
//!
//! ```no_run
//! # async fn demo() -> Result<(), fake_bedrock::Error> {
//! use fake_bedrock::{Catalog, Fault, FakeBedrock, Turn};
//!
//! let fake = FakeBedrock::builder()
//!     .credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
//!     .bearer_token("test-bedrock-api-key")
//!     .catalog(Catalog::default_catalog())
//!     .start()
//!     .await?;
//! // Point AWS_ENDPOINT_URL_BEDROCK and AWS_ENDPOINT_URL_BEDROCK_RUNTIME (or `.endpoint_url`)
//! // at this URL.
//! let _url = fake.url();
//! fake.script(Turn::text("Hello!").with_tool_use("tooluse_1", "get_weather", serde_json::json!({"city": "Paris"})));
//! fake.fault(Fault::Throttle.times(2));
//! // ... run the client ...
//! assert!(fake.requests().iter().all(|r| r.status.is_some()));
//! fake.shutdown().await;
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

mod admin;
mod auth;
mod catalog;
mod control;
mod count;
mod error;
mod eventstream;
mod faults;
mod frames;
mod generate;
mod guardrail;
mod identity;
mod record;
mod runtime;
mod script;
mod server;
mod state;
mod tls;
mod wire;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use admin::ADMIN_PREFIX;
pub use auth::{Auth, SIGNING_NAME};
pub use catalog::{Catalog, FoundationModel, InferenceProfile, ModelLifecycle, ModelResource, Tag};
pub use error::Error;
pub use eventstream::{event_frame, exception_frame};
pub use generate::MAX_IMAGE_BYTES;
pub use guardrail::{GUARDRAIL_BLOCKED_MESSAGE, GUARDRAIL_ID, GUARDRAIL_TRIGGER};
pub use identity::{ISSUED_SESSION_TOKEN, REFRESHED_SSO_TOKEN};
pub use record::{REDACTED, RecordedRequest};
pub use script::{Block, Fault, Pacing, Rule, StreamException, Target, Turn, Usage};

/// The access key id accepted when no credentials are configured (the AWS documentation's
/// example key).
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
/// The secret key paired with [`DEFAULT_ACCESS_KEY_ID`] (the AWS documentation's example key).
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// The region used when a request carries none (bearer tokens) and none is configured.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The account id in inference-profile ARNs unless configured.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// Characters per streamed delta unless configured.
pub const DEFAULT_CHUNK_SIZE: usize = 16;

/// Configures and starts a [`FakeBedrock`].
#[derive(Debug, Clone)]
pub struct Builder {
    keys: Vec<(String, String)>,
    tokens: Vec<String>,
    catalog: Option<Catalog>,
    region: String,
    account_id: String,
    pacing: Pacing,
    chunk_size: usize,
    listen: SocketAddr,
    tls: bool,
    h2_max_concurrent_streams: Option<u32>,
}

impl Default for Builder {
    fn default() -> Self {
        Self {
            keys: Vec::new(),
            tokens: Vec::new(),
            catalog: None,
            region: DEFAULT_REGION.to_owned(),
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            pacing: Pacing::default(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            h2_max_concurrent_streams: None,
        }
    }
}

impl Builder {
    /// Accepts SigV4 requests signed with this key pair (repeatable). When never called, the
    /// pair [`DEFAULT_ACCESS_KEY_ID`]/[`DEFAULT_SECRET_ACCESS_KEY`] is accepted.
    pub fn credentials(
        mut self,
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
    ) -> Self {
        self.keys
            .push((access_key_id.into(), secret_access_key.into()));
        self
    }

    /// Accepts `Authorization: Bearer <token>` with this token (repeatable). None by default.
    pub fn bearer_token(mut self, token: impl Into<String>) -> Self {
        self.tokens.push(token.into());
        self
    }

    /// Serves this catalog (default: [`Catalog::default_catalog`]).
    pub fn catalog(mut self, catalog: Catalog) -> Self {
        self.catalog = Some(catalog);
        self
    }

    /// The region assumed when a request has no SigV4 scope (default `us-east-1`).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// The account id in inference-profile ARNs (default `123456789012`).
    pub fn account_id(mut self, account_id: impl Into<String>) -> Self {
        self.account_id = account_id.into();
        self
    }

    /// Delays before the first byte and between stream events.
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Characters per streamed delta (default 16; scripted turns can override).
    pub fn chunk_size(mut self, chars: usize) -> Self {
        self.chunk_size = chars.max(1);
        self
    }

    /// The address to bind (default `127.0.0.1:0`, a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Serves HTTPS instead of cleartext HTTP, as Bedrock's endpoints do: a fresh self-signed
    /// certificate for `localhost`, `127.0.0.1` and `::1` is made at start
    /// ([`FakeBedrock::ca_certificate_pem`] is what a client must trust), and ALPN offers `h2`
    /// then `http/1.1`, so a client offering both (the AWS SDKs' HTTP clients do) talks HTTP/2
    /// and one offering only `http/1.1` talks HTTP/1.1. Every feature works the same over both.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// The SETTINGS_MAX_CONCURRENT_STREAMS the fake advertises on HTTP/2 connections (HTTPS with
    /// ALPN `h2`, or cleartext prior knowledge): how many streams a client may have open at once
    /// on one connection. Default: hyper's server default, 200 (hyper 1.x).
    pub fn h2_max_concurrent_streams(mut self, max: u32) -> Self {
        self.h2_max_concurrent_streams = Some(max);
        self
    }

    /// Binds and starts serving on a background task owned by the returned handle.
    pub async fn start(self) -> Result<FakeBedrock, Error> {
        let identity = if self.tls {
            Some(tls::identity()?)
        } else {
            None
        };
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .map_err(|source| Error::Io {
                context: format!("binding {}", self.listen),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| Error::Io {
            context: "reading the bound address".to_owned(),
            source,
        })?;
        let mut keys: HashMap<String, String> = self.keys.into_iter().collect();
        if keys.is_empty() {
            keys.insert(
                DEFAULT_ACCESS_KEY_ID.to_owned(),
                DEFAULT_SECRET_ACCESS_KEY.to_owned(),
            );
        }
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(state::Shared {
            config: state::Config {
                keys,
                tokens: self.tokens,
                catalog: self.catalog.unwrap_or_default(),
                default_region: self.region,
                account_id: self.account_id,
                chunk_size: self.chunk_size,
                pacing: self.pacing,
            },
            state: Mutex::new(state::Mutable {
                pacing: self.pacing,
                ..state::Mutable::default()
            }),
            shutdown: stop_rx.clone(),
        });
        let connections = Arc::new(AtomicUsize::new(0));
        let transport = server::Transport {
            tls: identity.as_ref().map(|identity| identity.config.clone()),
            h2_max_concurrent_streams: self.h2_max_concurrent_streams,
        };
        let task = server::serve(
            listener,
            shared.clone(),
            connections.clone(),
            stop_rx,
            transport,
        );
        Ok(FakeBedrock {
            addr,
            certificate_pem: identity.map(|identity| identity.certificate_pem),
            shared,
            connections,
            stop,
            task: Some(task),
        })
    }
}

/// A running fake Bedrock. Dropping it stops the server.
pub struct FakeBedrock {
    addr: SocketAddr,
    certificate_pem: Option<String>,
    shared: Arc<state::Shared>,
    connections: Arc<AtomicUsize>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeBedrock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeBedrock")
            .field("addr", &self.addr)
            .field("tls", &self.certificate_pem.is_some())
            .finish_non_exhaustive()
    }
}

impl FakeBedrock {
    /// A builder with the defaults.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Starts with all defaults (default catalog, default key pair, no bearer token).
    pub async fn start() -> Result<Self, Error> {
        Builder::default().start().await
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` (`https://` with [`Builder::tls`]), for
    /// both `AWS_ENDPOINT_URL_BEDROCK` and `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`.
    pub fn url(&self) -> String {
        let scheme = if self.certificate_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// With [`Builder::tls`], the self-signed certificate the fake presents, PEM-encoded: the
    /// one certificate a client must trust (e.g. the file `AWS_CA_BUNDLE` names). `None` when
    /// serving cleartext HTTP.
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The client connections open now (accepted and not yet closed): how a test sees a
    /// client's connection pool, e.g. idle connections kept or closed, from the server side.
    pub fn open_connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The catalog being served.
    pub fn catalog(&self) -> &Catalog {
        &self.shared.config.catalog
    }

    /// Adds an inference profile at run time (usually an `APPLICATION` one, as
    /// `POST /_fake/inference-profiles` does), served after the catalog's.
    pub fn create_inference_profile(&self, profile: InferenceProfile) {
        self.shared.lock().created_profiles.push(profile);
    }

    /// All requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Queues a scripted turn: a [`Turn`] answers the next runtime request; a [`Rule`] (from
    /// `turn.for_model(..)`, `turn.times(..)`, `Rule::new(turn).forever()`) chooses which
    /// requests and how many. Unscripted requests get the default generated answer.
    pub fn script(&self, rule: impl Into<Rule<Turn>>) {
        self.shared.lock().turns.push(rule.into());
    }

    /// Queues a fault: a [`Fault`] hits the next request (stream-only faults: the next
    /// `converse-stream`); a [`Rule`] (`fault.for_model(..)`, `fault.times(n)`,
    /// `Rule::new(fault).control_plane()`, `.forever()`) chooses which requests and how many.
    pub fn fault(&self, rule: impl Into<Rule<Fault>>) {
        self.shared.lock().faults.push(rule.into());
    }

    /// Drops all queued turns.
    pub fn clear_scripts(&self) {
        self.shared.lock().turns.clear();
    }

    /// Drops all queued faults.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Changes the pacing of the following responses.
    pub fn set_pacing(&self, pacing: Pacing) {
        self.shared.lock().pacing = pacing;
    }

    /// Stops the server: hanging requests and stalled streams are released, open connections
    /// get one second to finish, then the server task is aborted.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(1), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for FakeBedrock {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
