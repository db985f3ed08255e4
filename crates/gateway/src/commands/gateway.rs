//! `openclaw gateway`: the OpenAI-compatible HTTP gateway of `openclaw-serve`, run until
//! SIGINT/SIGTERM.
//!
//! This module only wires: flags and configuration into [`ServeOptions`], one
//! [`ConverseStream`] per Bedrock provider and the shared discovery into a [`ModelSource`],
//! the refusal of a non-loopback bind without a token, the `listening on` line, and the signals
//! that start the drain.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use openclaw_config::{GatewayBind, ModelApi, Secret};
use openclaw_discovery::PROVIDER_ID;
use openclaw_serve::{Gateway, LOG_TARGET, Limits, ModelSource, ServeOptions};
use openclaw_stream::{AdapterOptions, ConverseStream, ModelStream};

use crate::cli::GatewayArgs;
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure};
use crate::setup::{Setup, provider_settings};

/// The environment variable holding the gateway token (wins over `gateway.auth.token`).
pub const TOKEN_ENV: &str = "OPENCLAW_GATEWAY_TOKEN";

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
    let authenticated = token.is_some();
    let options = ServeOptions {
        token,
        aliases: setup.config.model_aliases(),
        limits: Limits {
            max_body_bytes: serve.max_body_bytes,
            max_image_bytes: serve.max_image_bytes,
            max_concurrent_streams: serve.max_concurrent_streams,
        },
        shutdown_grace: secs(serve.shutdown_grace, "--shutdown-grace")?,
    };
    let mut models = ModelSource::new(
        setup.config.models.providers.clone(),
        setup.region.region.clone(),
    )
    .with_credentials(setup.source.clone());
    for (id, stream) in build_streams(ctx, &setup, adapter)? {
        models = models.with_stream(id, stream);
    }
    if let Some((discovery, request)) = setup.enabled_discovery(ctx) {
        models = models.with_discovery(Arc::new(discovery), request);
    }
    let gateway = Gateway::new(models, options);

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
    let warm = gateway.warm_up();
    ctx.out.line(&format!("listening on http://{local}"));
    if !authenticated {
        tracing::info!(target: LOG_TARGET, "no gateway token set: clients are not authenticated (loopback only)");
    }
    let result = gateway
        .serve(listener, wait_for_signal())
        .await
        .map_err(|e| Failure::new(ExitKind::Other, e));
    warm.abort();
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
            Some(api) => api == ModelApi::BedrockConverseStream,
            None => id == PROVIDER_ID,
        };
        if !bedrock {
            tracing::info!(target: LOG_TARGET, "provider `{id}` does not speak bedrock-converse-stream: not served");
            continue;
        }
        let settings = provider_settings(&ctx.env, provider)?;
        streams.insert(
            id.clone(),
            Arc::new(ConverseStream::from_settings(&settings, options)),
        );
    }
    Ok(streams)
}

/// Completes on SIGINT or SIGTERM.
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
