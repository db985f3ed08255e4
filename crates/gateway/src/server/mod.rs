//! `openclaw gateway`: an OpenAI-compatible streaming HTTP gateway over Bedrock (axum).
//!
//! - **Endpoints**: `POST /v1/chat/completions` (streaming SSE or one JSON answer),
//!   `GET /v1/models`, `GET /healthz`, `GET /readyz`, `GET /metrics` (Prometheus text).
//!   The wire mapping is in [`openai`], errors in [`error`], metrics in [`metrics`], the
//!   handlers and middleware in [`routes`].
//! - **Start-up wiring, once**: configuration, credentials and region (`catalog::Setup`), one
//!   [`ModelStream`] per provider that speaks `bedrock-converse-stream`, and one shared
//!   [`Discovery`] (single-flight, TTL cache) that `GET /v1/models` and model resolution read.
//!   No SDK configuration is loaded per request.
//! - **Auth**: `Authorization: Bearer <token>` on `/v1/*` and `/metrics` when a token is set
//!   (`OPENCLAW_GATEWAY_TOKEN`, else `gateway.auth.token`), compared in constant time; `/healthz`
//!   and `/readyz` stay open for probes. A non-loopback bind without a token is refused.
//! - **Cancellation**: a streaming response owns its model stream; a client disconnect drops
//!   the body, which drops the stream, which closes the Bedrock connection.
//! - **Shutdown**: on SIGINT/SIGTERM the listener closes at once (new connections are refused),
//!   open responses run to completion for up to `--shutdown-grace` seconds, then the process
//!   exits.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use axum::serve::ListenerExt;
use openclaw_config::{ConfigDocument, GatewayBind, ModelDefinition, ProviderConfig, Secret};
use openclaw_creds::CredentialSource;
use openclaw_discovery::{
    Discovery, DiscoveryOptions, DiscoveryRequest, PROVIDER_ID, SdkControlPlane, resolve_providers,
    should_discover,
};
use openclaw_stream::{AdapterOptions, ConverseStream, ModelStream};
use tokio::sync::{Semaphore, watch};

use crate::catalog::{Setup, parse_model_ref};
use crate::cli::GatewayArgs;
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure};

pub mod error;
pub mod metrics;
pub mod openai;
mod routes;

/// Log target of the gateway's own lines (shown by default).
pub const LOG_TARGET: &str = "openclaw::gateway";
/// Log target of the access log (one line per request).
pub const ACCESS_TARGET: &str = "openclaw::gateway::access";

/// The environment variable holding the gateway token (wins over `gateway.auth.token`).
pub const TOKEN_ENV: &str = "OPENCLAW_GATEWAY_TOKEN";

/// Limits and timeouts of `openclaw gateway` (flattened into its arguments).
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Largest accepted request body, in bytes (413 above).
    #[arg(long, value_name = "BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest accepted image (decoded), in bytes (413 above; Bedrock's own limit is 3.75 MB).
    #[arg(long, value_name = "BYTES", default_value_t = 3_932_160)]
    pub max_image_bytes: usize,
    /// Chat completions served at once (429 above).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_concurrent_streams: usize,
    /// Seconds open responses may take to finish after SIGINT/SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub shutdown_grace: f64,
    /// Seconds to wait for Bedrock's first event (504 after).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub upstream_timeout: f64,
    /// Longest silence between two Bedrock events, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub idle_timeout: f64,
    /// Attempts per Bedrock call for throttling and 5xx answers before the stream starts.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub upstream_attempts: u32,
}

/// Limits applied by the handlers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub max_body_bytes: usize,
    pub max_image_bytes: usize,
    pub max_concurrent_streams: usize,
}

/// Everything the handlers share.
pub(crate) struct App {
    pub explicit: BTreeMap<String, ProviderConfig>,
    pub source: CredentialSource,
    pub discovery: Option<(Arc<Discovery>, DiscoveryRequest)>,
    pub fallback_region: String,
    pub streams: BTreeMap<String, Arc<dyn ModelStream>>,
    pub aliases: BTreeMap<String, String>,
    pub token: Option<Secret>,
    pub limits: Limits,
    pub metrics: metrics::Metrics,
    pub permits: Arc<Semaphore>,
    pub draining: watch::Receiver<bool>,
    /// The resolved models, while fresh (see [`App::resolve_model`]).
    pub models: RwLock<Option<Arc<ModelTable>>>,
}

impl App {
    /// Configured plus discovered providers (discovery served from the shared cache).
    pub async fn providers(&self) -> BTreeMap<String, ProviderConfig> {
        match &self.discovery {
            None => self.explicit.clone(),
            Some((discovery, request)) => match discovery.discover(request).await {
                Ok(catalog) => catalog.providers(&self.explicit),
                Err(err) => {
                    tracing::warn!(target: LOG_TARGET, "bedrock discovery failed, serving configured models only: {err}");
                    resolve_providers(&self.explicit, None, &self.fallback_region)
                }
            },
        }
    }

    /// Resolves a request's model name: an alias, `provider/id`, or a bare Bedrock id.
    ///
    /// Reads a prebuilt table (model definition and adapter per `provider/id`), rebuilt only
    /// when the catalog behind it may have changed, so a request costs a lookup and an `Arc`
    /// clone instead of a merge of every provider's model list.
    pub async fn resolve_model(&self, name: &str) -> Option<(String, Arc<ResolvedModel>)> {
        let name = self.aliases.get(name).map(String::as_str).unwrap_or(name);
        let model_ref = parse_model_ref(name).ok()?;
        let table = self.model_table().await;
        let model = table.get(model_ref.provider(), model_ref.model())?;
        Some((model_ref.to_string(), model))
    }

    /// The model table, from the cache while it is fresh.
    async fn model_table(&self) -> Arc<ModelTable> {
        let cached = self
            .models
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(table) = cached.filter(|t| t.is_fresh()) {
            return table;
        }
        let table = match &self.discovery {
            None => Arc::new(ModelTable::new(&self.explicit, &self.streams, Some(None))),
            Some((discovery, request)) => match discovery.discover(request).await {
                Ok(catalog) => {
                    // Discovery answers with this same listing until it is `ttl` old (and
                    // nothing else asks it to refresh): the table stays valid as long.
                    let valid = match (request.ttl, &catalog.stale_error) {
                        (Some(ttl), None) => Some(catalog.fetched_at.checked_add(ttl)),
                        _ => None,
                    };
                    let providers = catalog.providers(&self.explicit);
                    Arc::new(ModelTable::new(&providers, &self.streams, valid))
                }
                Err(err) => {
                    tracing::warn!(target: LOG_TARGET, "bedrock discovery failed, serving configured models only: {err}");
                    let providers = resolve_providers(&self.explicit, None, &self.fallback_region);
                    Arc::new(ModelTable::new(&providers, &self.streams, None))
                }
            },
        };
        if table.valid.is_some() {
            *self.models.write().unwrap_or_else(|p| p.into_inner()) = Some(table.clone());
        }
        table
    }
}

/// A servable model: its definition and the adapter of its provider.
pub(crate) struct ResolvedModel {
    pub def: ModelDefinition,
    pub stream: Arc<dyn ModelStream>,
}

/// Every servable model by provider and id.
pub(crate) struct ModelTable {
    models: HashMap<String, HashMap<String, Arc<ResolvedModel>>>,
    /// `None`: valid for this request only; `Some(None)`: for ever (no discovery);
    /// `Some(Some(t))`: until `t`.
    valid: Option<Option<SystemTime>>,
}

impl ModelTable {
    fn new(
        providers: &BTreeMap<String, ProviderConfig>,
        streams: &BTreeMap<String, Arc<dyn ModelStream>>,
        valid: Option<Option<SystemTime>>,
    ) -> Self {
        let mut models: HashMap<String, HashMap<String, Arc<ResolvedModel>>> = HashMap::new();
        for (pid, provider) in providers {
            let Some(stream) = streams.get(pid) else {
                continue;
            };
            let by_id = models.entry(pid.clone()).or_default();
            for def in &provider.models {
                // The first definition of an id wins, as a linear search would find it.
                by_id.entry(def.id.clone()).or_insert_with(|| {
                    Arc::new(ResolvedModel {
                        def: def.clone(),
                        stream: stream.clone(),
                    })
                });
            }
        }
        ModelTable { models, valid }
    }

    fn get(&self, provider: &str, id: &str) -> Option<Arc<ResolvedModel>> {
        self.models.get(provider)?.get(id).cloned()
    }

    fn is_fresh(&self) -> bool {
        match self.valid {
            None => false,
            Some(None) => true,
            Some(Some(until)) => SystemTime::now() < until,
        }
    }
}

/// Runs `openclaw gateway` until SIGINT/SIGTERM.
pub async fn run(ctx: &Context, args: &GatewayArgs) -> CmdResult {
    let setup = Setup::new(ctx)?;
    let serve = &args.serve;
    let bind = match &args.bind {
        Some(text) => text.parse::<GatewayBind>()?,
        None => setup.config.gateway.bind,
    };
    let port = args.port.unwrap_or(setup.config.gateway.port);
    let token = ctx
        .env
        .get_nonempty(TOKEN_ENV)
        .map(Secret::new)
        .or_else(|| {
            setup
                .config
                .gateway
                .auth
                .token
                .clone()
                .filter(|t| !t.expose().is_empty())
        });
    let ip = bind.ip();
    if !ip.is_loopback() && token.is_none() {
        return Err(Failure::new(
            ExitKind::Config,
            format!(
                "refusing to listen on {ip} (bind `{bind}`) without a token: anyone on the network could use your AWS credentials; set {TOKEN_ENV} or gateway.auth.token, or bind loopback"
            ),
        ));
    }

    let adapter = AdapterOptions {
        max_attempts: serve.upstream_attempts.max(1),
        first_event_timeout: secs(serve.upstream_timeout, "--upstream-timeout")?,
        idle_timeout: secs(serve.idle_timeout, "--idle-timeout")?,
        ..AdapterOptions::default()
    };
    let grace = secs(serve.shutdown_grace, "--shutdown-grace")?;
    let streams = build_streams(ctx, &setup, adapter)?;
    let discovery = should_discover(&setup.discovery, &setup.source).then(|| {
        let mut options = DiscoveryOptions::default();
        if let Some(state) = &ctx.state_dir {
            options = options.with_state_dir(state);
        }
        let discovery = Discovery::new(
            Arc::new(SdkControlPlane::from_settings(&setup.settings)),
            options,
        );
        let request = DiscoveryRequest::from_config(&setup.discovery, &setup.region.region);
        (Arc::new(discovery), request)
    });
    let (drain_tx, drain_rx) = watch::channel(false);
    let app = Arc::new(App {
        explicit: setup.config.models.providers.clone(),
        source: setup.source.clone(),
        discovery,
        fallback_region: setup.region.region.clone(),
        streams,
        aliases: aliases(ctx),
        token,
        limits: Limits {
            max_body_bytes: serve.max_body_bytes,
            max_image_bytes: serve.max_image_bytes,
            max_concurrent_streams: serve.max_concurrent_streams,
        },
        metrics: metrics::Metrics::default(),
        permits: Arc::new(Semaphore::new(serve.max_concurrent_streams)),
        draining: drain_rx.clone(),
        models: RwLock::new(None),
    });

    let addr = SocketAddr::new(ip, port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| Failure::new(ExitKind::Other, format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr().map_err(|e| {
        Failure::new(
            ExitKind::Other,
            format!("cannot read the listening address: {e}"),
        )
    })?;
    // Fill the discovery cache in the background so the first request does not wait for it.
    let warm = app.discovery.as_ref().map(|(discovery, request)| {
        let (discovery, request) = (discovery.clone(), request.clone());
        tokio::spawn(async move {
            if let Err(err) = discovery.discover(&request).await {
                tracing::warn!(target: LOG_TARGET, "bedrock discovery failed: {err}");
            }
        })
    });
    ctx.out.line(&format!("listening on http://{local}"));
    if app.token.is_none() {
        tracing::info!(target: LOG_TARGET, "no gateway token set: clients are not authenticated (loopback only)");
    }

    // SSE and JSON answers are many small writes: no Nagle delays (SPEC section 5).
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(target: LOG_TARGET, "could not set TCP_NODELAY: {err}");
        }
    });
    let router = routes::router(app.clone());
    let mut stop = drain_rx.clone();
    let server = axum::serve(listener, router).with_graceful_shutdown(async move {
        let _ = stop.wait_for(|draining| *draining).await;
    });
    let deadline = async {
        wait_for_signal().await;
        tracing::info!(
            target: LOG_TARGET,
            "shutting down: no new connections, open responses get {:?} to finish",
            grace
        );
        let _ = drain_tx.send(true);
        tokio::time::sleep(grace).await;
    };
    let result = tokio::select! {
        result = server.into_future() => result
            .map_err(|e| Failure::new(ExitKind::Other, format!("gateway server failed: {e}"))),
        () = deadline => {
            tracing::warn!(target: LOG_TARGET, "shutdown grace period over: closing the remaining responses");
            Ok(())
        }
    };
    if let Some(task) = warm {
        task.abort();
    }
    result
}

fn secs(value: f64, flag: &str) -> CmdResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        Failure::new(
            ExitKind::Config,
            format!("invalid {flag} `{value}`: expected a non-negative number of seconds"),
        )
    })
}

/// One [`ConverseStream`] per provider speaking `bedrock-converse-stream`: `amazon-bedrock`
/// (discovered or configured) and every explicit provider with that api.
fn build_streams(
    ctx: &Context,
    setup: &Setup,
    options: AdapterOptions,
) -> CmdResult<BTreeMap<String, Arc<dyn ModelStream>>> {
    let mut streams: BTreeMap<String, Arc<dyn ModelStream>> = BTreeMap::new();
    let explicit = &setup.config.models.providers;
    if !explicit.contains_key(PROVIDER_ID) {
        streams.insert(
            PROVIDER_ID.to_string(),
            Arc::new(ConverseStream::from_settings(&setup.settings, options)),
        );
    }
    for (id, provider) in explicit {
        let bedrock = match provider.api {
            Some(api) => api == openclaw_config::ModelApi::BedrockConverseStream,
            None => id == PROVIDER_ID,
        };
        if !bedrock {
            tracing::info!(target: LOG_TARGET, "provider `{id}` does not speak bedrock-converse-stream: not served");
            continue;
        }
        let settings = crate::catalog::provider_settings(&ctx.env, provider)?;
        streams.insert(
            id.clone(),
            Arc::new(ConverseStream::from_settings(&settings, options)),
        );
    }
    Ok(streams)
}

/// Model aliases: OpenClaw's `agents.defaults.models` map (`{"<provider>/<id>": {"alias":
/// "opus"}}`), read from the raw file since the typed configuration does not model it. A
/// request may name a model by its alias.
fn aliases(ctx: &Context) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Ok(text) = std::fs::read_to_string(&ctx.config_path) else {
        return out;
    };
    let Ok(Some(serde_json::Value::Object(models))) =
        ConfigDocument::from_text(text).and_then(|doc| doc.get("agents.defaults.models"))
    else {
        return out;
    };
    for (key, entry) in models {
        if let Some(alias) = entry.get("alias").and_then(|a| a.as_str()) {
            out.insert(alias.to_string(), key);
        }
    }
    out
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Seconds since the Unix epoch (`created` fields).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A fresh response id, `chatcmpl-<hex>`.
pub(crate) fn completion_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    // `std::process::id()` is a system call each time; the id does not change.
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let pid = *PID.get_or_init(std::process::id);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("chatcmpl-{:x}{:04x}{:x}", nanos, pid & 0xffff, n)
}
