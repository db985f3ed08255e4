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
use openclaw_serve::{Gateway, LOG_TARGET, Limits, ModelSource, ServeOptions, Timeouts};
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
    let token = gateway_token(&ctx.env, setup.config.gateway.auth.token.as_ref())?;
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
            // Not a setting yet: the serving defaults.
            max_queued_streams: Limits::default().max_queued_streams,
            queue_wait: Limits::default().queue_wait,
            max_pending_bodies: serve.max_pending_bodies,
            max_buffered_body_bytes: serve.max_buffered_body_bytes,
            max_connections: serve.max_connections,
            max_header_bytes: serve.max_header_bytes,
        },
        timeouts: Timeouts {
            header_read: positive_secs(serve.header_read_timeout, "--header-read-timeout")?,
            body_read: positive_secs(serve.body_read_timeout, "--body-read-timeout")?,
            keep_alive: positive_secs(serve.keep_alive_timeout, "--keep-alive-timeout")?,
        },
        shutdown_grace: secs(serve.shutdown_grace, "--shutdown-grace")?,
        allowed_hosts: serve.allowed_hosts.clone(),
        cors_allowed_origins: serve.cors_allowed_origins.clone(),
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

/// The client token: `OPENCLAW_GATEWAY_TOKEN` (trimmed), else `gateway.auth.token`; empty
/// means none. A token of only whitespace is a mistake, not "no token": refused instead of
/// serving without one.
fn gateway_token(
    env: &openclaw_creds::Env,
    configured: Option<&Secret>,
) -> CmdResult<Option<Secret>> {
    let blank = |t: &str| !t.is_empty() && t.trim().is_empty();
    if env.get(TOKEN_ENV).is_some_and(blank) || configured.is_some_and(|t| blank(t.expose())) {
        return Err(Failure::new(
            ExitKind::Config,
            format!(
                "the gateway token is only whitespace: expected a non-blank {TOKEN_ENV} or gateway.auth.token (or neither, on loopback)"
            ),
        ));
    }
    Ok(env
        .get_nonempty(TOKEN_ENV)
        .map(Secret::new)
        .or_else(|| configured.filter(|t| !t.expose().is_empty()).cloned()))
}

fn secs(value: f64, flag: &str) -> CmdResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        Failure::new(
            ExitKind::Config,
            format!("invalid {flag} `{value}`: expected a non-negative number of seconds"),
        )
    })
}

/// A timeout of more than zero seconds (zero would cut every connection at once).
fn positive_secs(value: f64, flag: &str) -> CmdResult<Duration> {
    match Duration::try_from_secs_f64(value) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(Failure::new(
            ExitKind::Config,
            format!("invalid {flag} `{value}`: expected a positive number of seconds"),
        )),
    }
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

#[cfg(test)]
mod tests {
    use openclaw_creds::Env;

    use super::*;

    #[test]
    fn a_blank_token_is_refused_and_an_empty_one_is_none() {
        for (env, configured) in [("   ", None), ("", Some("\t ")), ("\n", Some("fine"))] {
            let env = Env::from_pairs([(TOKEN_ENV, env)]);
            let configured = configured.map(Secret::new);
            let err = gateway_token(&env, configured.as_ref()).unwrap_err();
            assert_eq!(err.kind, ExitKind::Config);
            assert!(
                err.error.to_string().contains("only whitespace"),
                "{}",
                err.error
            );
        }
        let none = gateway_token(&Env::from_pairs([(TOKEN_ENV, "")]), None).unwrap();
        assert!(none.is_none());
        let env = Env::from_pairs([(TOKEN_ENV, " s3cret ")]);
        assert_eq!(
            gateway_token(&env, None).unwrap().unwrap().expose(),
            "s3cret"
        );
        let configured = Secret::new("c0nf");
        let token = gateway_token(&Env::from_pairs([("X", "y")]), Some(&configured)).unwrap();
        assert_eq!(token.unwrap().expose(), "c0nf");
    }

    #[test]
    fn timeouts_must_be_positive() {
        assert!(positive_secs(0.0, "--body-read-timeout").is_err());
        assert!(positive_secs(-1.0, "--body-read-timeout").is_err());
        assert_eq!(
            positive_secs(1.5, "--x").unwrap(),
            Duration::from_millis(1500)
        );
    }
}
