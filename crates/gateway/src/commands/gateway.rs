//! `openclaw gateway`: the OpenAI-compatible HTTP gateway of `openclaw-serve`, run until
//! SIGINT/SIGTERM.
//!
//! This module only wires: flags and configuration into [`ServeOptions`], the configuration's
//! models into a [`ModelSource`], the refusal of a non-loopback bind without a token, the
//! `listening on` line, and the signals that start the drain.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use clap::{Args as _, FromArgMatches as _};
use openclaw_config::{Config, GatewayConfig, Secret};
use openclaw_serve::settings::CONFIG_KEYS;
use openclaw_serve::{
    Gateway, LOG_TARGET, ModelSource, ServeOptions, ServeSettings as Settings, SettingsLayer,
};

use crate::cli::GatewayArgs;
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure};

/// The environment variable holding the gateway token (wins over `gateway.auth.token`).
pub const TOKEN_ENV: &str = "OPENCLAW_GATEWAY_TOKEN";

/// The prefix of the variables that set `openclaw gateway` flags: `--max-body-bytes` is
/// `OPENCLAW_GATEWAY_MAX_BODY_BYTES`.
pub const ENV_PREFIX: &str = "OPENCLAW_GATEWAY_";

/// The variable that sets the flag `--<long>`.
pub fn env_var(long: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        long.to_ascii_uppercase().replace('-', "_")
    )
}

/// Runs `openclaw gateway` until SIGINT/SIGTERM.
pub async fn run(ctx: &Context, args: &GatewayArgs) -> CmdResult {
    let resolver = ctx.resolver()?;
    let settings = resolve(
        args,
        &args_from_env(&ctx.env)?,
        &resolver.config().gateway,
        &ctx.config_path,
    )?;
    let resolver = resolver.with_connection_pool(settings.connection_pool);
    let config = resolver.config();
    let token = gateway_token(&ctx.env, config.gateway.auth.token.as_ref())?;
    let bind = settings.bind;
    let ip = bind.ip();
    if !ip.is_loopback() && token.is_none() {
        return Err(Failure::new(
            ExitKind::Config,
            format!(
                "refusing to listen on {ip} (bind `{bind}`) without a token: anyone on the network could use your AWS credentials; set {TOKEN_ENV} or gateway.auth.token, or bind loopback"
            ),
        ));
    }

    let authenticated = token.is_some();
    let adapter = settings.adapter;
    let port = settings.port;
    let options = ServeOptions {
        token,
        aliases: config.model_aliases(),
        limits: settings.limits,
        timeouts: settings.timeouts,
        shutdown_grace: settings.shutdown_grace,
        drain_delay: settings.drain_delay,
        ready_after_discovery: settings.ready_after_discovery,
        allowed_hosts: settings.allowed_hosts,
        cors_allowed_origins: settings.cors_allowed_origins,
        trace_propagation: Some(Arc::new(crate::telemetry::W3cPropagation)),
    };
    let models = ModelSource::from_resolver(&resolver, adapter)?;
    let mut gateway = Gateway::new(models, options);
    if settings.workers > 0 {
        let workers = openclaw_serve::Workers::start(settings.workers)
            .map_err(|e| Failure::new(ExitKind::Other, e))?;
        gateway = gateway.with_workers(workers);
    }

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

/// The `clap` command of `openclaw gateway`'s own flags (environment values are parsed by it,
/// exactly as flags are).
fn gateway_command() -> clap::Command {
    GatewayArgs::augment_args(clap::Command::new("gateway").no_binary_name(true))
}

/// The flags set by `OPENCLAW_GATEWAY_*` variables of the snapshot (an empty variable is
/// unset). A repeatable flag takes a comma-separated list.
fn args_from_env(env: &openclaw_creds::Env) -> CmdResult<GatewayArgs> {
    let mut argv = Vec::new();
    for arg in gateway_command().get_arguments() {
        let Some(long) = arg.get_long() else {
            continue;
        };
        let var = env_var(long);
        let Some(value) = env.get_nonempty(&var) else {
            continue;
        };
        let values: Vec<&str> = if matches!(arg.get_action(), clap::ArgAction::Append) {
            value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect()
        } else {
            vec![value.trim()]
        };
        let these: Vec<String> = values.iter().map(|v| format!("--{long}={v}")).collect();
        // One variable at a time first, so an error names the variable.
        gateway_command()
            .try_get_matches_from(&these)
            .map_err(|e| {
                Failure::new(
                    ExitKind::Config,
                    format!("invalid {var} `{value}`: {}", clap_reason(&e)),
                )
            })?;
        argv.extend(these);
    }
    gateway_command()
        .try_get_matches_from(argv)
        .and_then(|m| GatewayArgs::from_arg_matches(&m))
        .map_err(|e| {
            Failure::new(
                ExitKind::Config,
                format!("invalid {ENV_PREFIX}* variables: {}", clap_reason(&e)),
            )
        })
}

/// The first line of a clap error, without its `error: ` label.
fn clap_reason(err: &clap::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// The flags' or the variables' values as a layer of serve settings.
fn layer(args: &GatewayArgs) -> SettingsLayer {
    let s = args.serve.clone();
    SettingsLayer {
        bind: args.bind.clone(),
        port: args.port,
        max_body_bytes: s.max_body_bytes,
        max_image_bytes: s.max_image_bytes,
        max_concurrent_streams: s.max_concurrent_streams,
        max_queued_streams: s.max_queued_streams,
        queue_wait: s.queue_wait,
        max_pending_bodies: s.max_pending_bodies,
        max_buffered_body_bytes: s.max_buffered_body_bytes,
        max_connections: s.max_connections,
        max_header_bytes: s.max_header_bytes,
        header_read_timeout: s.header_read_timeout,
        body_read_timeout: s.body_read_timeout,
        keep_alive_timeout: s.keep_alive_timeout,
        allowed_hosts: s.allowed_hosts,
        cors_allowed_origins: s.cors_allowed_origins,
        drain_delay: s.drain_delay,
        shutdown_grace: s.shutdown_grace,
        ready_after_discovery: s.ready_after_discovery,
        upstream_timeout: s.upstream_timeout,
        idle_timeout: s.idle_timeout,
        upstream_attempts: s.upstream_attempts,
        upstream_max_idle: s.upstream_max_idle,
        upstream_idle_timeout: s.upstream_idle_timeout,
        workers: s.workers,
    }
}

/// A flag names itself `--<long>`.
fn flag_name(long: &str) -> String {
    format!("--{long}")
}

/// Layers the flags, then the variables, over the file and the defaults.
/// A bad value of the file names the file (`path`).
fn resolve(
    flags: &GatewayArgs,
    env: &GatewayArgs,
    file: &GatewayConfig,
    path: &Path,
) -> CmdResult<Settings> {
    let (flags, env) = (layer(flags), layer(env));
    Settings::resolve(&[(&flags, &flag_name), (&env, &env_var)], file)
        .map_err(|err| settings_failure(err, path))
}

/// Checks the gateway settings of a configuration file alone, as `openclaw gateway` checks them
/// before serving (without its flags and variables): `openclaw config validate` passes no file
/// the gateway then refuses. The file is checked on its own, so a bad value is refused even
/// where a flag or variable would override it at start.
pub fn check_file(config: &Config, path: &Path) -> CmdResult {
    Settings::resolve(&[], &config.gateway).map_err(|err| settings_failure(err, path))?;
    gateway_token(
        &openclaw_creds::Env::empty(),
        config.gateway.auth.token.as_ref(),
    )
    .map(|_| ())
    .map_err(|f| Failure::new(f.kind, format!("{}: {}", path.display(), f.error)))
}

/// A settings error, prefixed with the configuration file when the bad value is the file's
/// (the error then names a `gateway.*` key, not a flag or a variable).
fn settings_failure(err: openclaw_serve::Error, path: &Path) -> Failure {
    // A bad flag is a usage error (exit 2), as clap's own are.
    if matches!(&err, openclaw_serve::Error::InvalidSetting { setting, .. } if setting.starts_with("--"))
    {
        return Failure::new(ExitKind::Usage, err.to_string());
    }
    let from_file = matches!(
        &err,
        openclaw_serve::Error::InvalidSetting { setting, .. }
            if CONFIG_KEYS.iter().any(|(_, key)| setting.starts_with(&format!("{key} ")))
    );
    if from_file {
        return Failure::new(ExitKind::Config, format!("{}: {err}", path.display()));
    }
    Failure::from(err)
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
use openclaw_serve::{Limits, Timeouts};
#[cfg(test)]
use std::time::Duration;

/// One duration from a flag, a variable or the file (the unit tests' view of
/// [`openclaw_serve::settings::duration`]).
#[cfg(test)]
fn duration(
    long: &str,
    flag: Option<f64>,
    env: Option<f64>,
    file: Option<f64>,
    default: Duration,
    positive: bool,
) -> CmdResult<Duration> {
    let (f, e) = (
        SettingsLayer {
            drain_delay: flag,
            ..SettingsLayer::default()
        },
        SettingsLayer {
            drain_delay: env,
            ..SettingsLayer::default()
        },
    );
    let layers: [openclaw_serve::settings::NamedLayer<'_>; 2] = [(&f, &flag_name), (&e, &env_var)];
    openclaw_serve::settings::duration(long, &layers, |l| l.drain_delay, file, default, positive)
        .map_err(|e| Failure::new(ExitKind::Config, e))
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
        let d = Duration::from_secs(9);
        let err = duration("body-read-timeout", Some(0.0), None, None, d, true).unwrap_err();
        assert!(
            err.error.to_string().contains("--body-read-timeout `0`"),
            "{}",
            err.error
        );
        let err = duration("body-read-timeout", None, None, Some(-1.0), d, true).unwrap_err();
        assert!(
            err.error
                .to_string()
                .contains("gateway.timeouts.bodyRead `-1`"),
            "{}",
            err.error
        );
        assert_eq!(
            duration("x", None, Some(1.5), None, d, true).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            duration("drain-delay", Some(0.0), None, None, d, false).unwrap(),
            Duration::ZERO
        );
    }

    fn parse(argv: &[&str]) -> GatewayArgs {
        let matches = gateway_command().try_get_matches_from(argv).unwrap();
        GatewayArgs::from_arg_matches(&matches).unwrap()
    }

    fn file(text: &str) -> GatewayConfig {
        openclaw_config::Config::from_text(text).unwrap().gateway
    }

    #[test]
    fn every_flag_has_a_variable_and_a_config_key() {
        let longs: Vec<String> = gateway_command()
            .get_arguments()
            .filter_map(|a| a.get_long().map(str::to_string))
            .collect();
        let keyed: Vec<&str> = CONFIG_KEYS.iter().map(|(flag, _)| *flag).collect();
        for long in &longs {
            assert!(
                keyed.contains(&long.as_str()),
                "--{long} has no config key in CONFIG_KEYS"
            );
        }
        assert_eq!(longs.len(), keyed.len(), "{longs:?} vs {keyed:?}");
        // Every variable set: every field is set (the values are valid for every flag).
        let env = Env::from_map(longs.iter().map(|long| {
            let value = match long.as_str() {
                "ready-after-discovery" => "true",
                "bind" => "lan",
                "allowed-host" => "a.example, b.example",
                _ => "7",
            };
            (env_var(long), value.to_string())
        }));
        let args = args_from_env(&env).unwrap();
        let shown = format!("{args:?}");
        assert!(!shown.contains("None") && !shown.contains("[]"), "{shown}");
        assert_eq!(args.serve.allowed_hosts, ["a.example", "b.example"]);
        assert_eq!(args.serve.max_body_bytes, Some(7));
        assert_eq!(args.serve.ready_after_discovery, Some(true));
    }

    #[test]
    fn precedence_is_flag_then_variable_then_file_then_default() {
        let text = r#"{gateway: {port: 1003, limits: {maxBodyBytes: 3, upstreamAttempts: 5,
            upstreamMaxIdle: 0}, timeouts: {drainDelay: 3, keepAlive: 2.5, upstreamIdle: 30},
            allowedHosts: ["file.example"],
            readyAfterDiscovery: true}}"#;
        let env = args_from_env(&Env::from_pairs([
            ("OPENCLAW_GATEWAY_PORT", "1002"),
            ("OPENCLAW_GATEWAY_MAX_BODY_BYTES", "2"),
            ("OPENCLAW_GATEWAY_DRAIN_DELAY", "2"),
            ("OPENCLAW_GATEWAY_ALLOWED_HOST", "env.example"),
            ("OPENCLAW_GATEWAY_UPSTREAM_MAX_IDLE", "8"),
            ("OPENCLAW_GATEWAY_UPSTREAM_IDLE_TIMEOUT", "20"),
        ]))
        .unwrap();
        let flags = parse(&[
            "--port=1001",
            "--max-body-bytes=1",
            "--allowed-host=flag.example",
            "--upstream-idle-timeout=2.5",
        ]);
        let s = resolve(&flags, &env, &file(text), Path::new("openclaw.json")).unwrap();
        assert_eq!(s.port, 1001);
        assert_eq!(s.limits.max_body_bytes, 1);
        assert_eq!(s.allowed_hosts, ["flag.example"]);
        assert_eq!(s.drain_delay, Duration::from_secs(2), "variable over file");
        assert_eq!(
            s.timeouts.keep_alive,
            Duration::from_millis(2500),
            "file over default"
        );
        assert_eq!(s.adapter.max_attempts, 5);
        assert_eq!(
            s.connection_pool,
            openclaw_creds::ConnectionPool {
                idle_timeout: Duration::from_millis(2500),
                max_idle_per_host: 8,
            },
            "flag, then variable"
        );
        assert!(s.ready_after_discovery);
        assert_eq!(
            s.timeouts.header_read,
            Timeouts::default().header_read,
            "default"
        );

        let s = resolve(&parse(&[]), &env, &file(text), Path::new("openclaw.json")).unwrap();
        assert_eq!((s.port, s.limits.max_body_bytes), (1002, 2));
        assert_eq!(s.allowed_hosts, ["env.example"]);
        let s = resolve(
            &parse(&[]),
            &parse(&[]),
            &file(text),
            Path::new("openclaw.json"),
        )
        .unwrap();
        assert_eq!((s.port, s.limits.max_body_bytes), (1003, 3));
        assert_eq!(s.drain_delay, Duration::from_secs(3));
        assert_eq!(s.connection_pool.max_idle_per_host, 0, "the file's 0");
        assert_eq!(s.connection_pool.idle_timeout, Duration::from_secs(30));
        let s = resolve(
            &parse(&["--ready-after-discovery=false"]),
            &parse(&[]),
            &file(text),
            Path::new("openclaw.json"),
        )
        .unwrap();
        assert!(
            !s.ready_after_discovery,
            "an explicit false flag wins over the file"
        );
        let s = resolve(
            &parse(&[]),
            &parse(&[]),
            &GatewayConfig::default(),
            Path::new("openclaw.json"),
        )
        .unwrap();
        assert_eq!(s.port, openclaw_config::DEFAULT_GATEWAY_PORT);
        assert_eq!(s.limits, Limits::default());
        assert_eq!(s.timeouts, Timeouts::default());
        assert_eq!(s.drain_delay, Duration::ZERO);
        assert!(!s.ready_after_discovery);
        assert_eq!(s.connection_pool, openclaw_creds::ConnectionPool::default());
    }

    #[test]
    fn the_file_alone_is_checked_as_the_gateway_checks_it() {
        let path = Path::new("/etc/openclaw.json");
        for (text, wanted) in [
            (
                "{gateway: {timeouts: {headerRead: 0}}}",
                "/etc/openclaw.json: invalid gateway.timeouts.headerRead `0`: expected a positive number of seconds",
            ),
            (
                "{gateway: {limits: {maxBodyBytes: 0}}}",
                "/etc/openclaw.json: invalid gateway.limits.maxBodyBytes `0`: expected at least 1",
            ),
            (
                "{gateway: {timeouts: {queueWait: -1}}}",
                "/etc/openclaw.json: invalid gateway.timeouts.queueWait `-1`: expected a non-negative number of seconds",
            ),
            (
                "{gateway: {workers: 5000}}",
                "/etc/openclaw.json: invalid gateway.workers `5000`: expected at most 1024 (default: one per CPU)",
            ),
            (
                "{gateway: {auth: {token: '  '}}}",
                "/etc/openclaw.json: the gateway token is only whitespace: expected a non-blank OPENCLAW_GATEWAY_TOKEN or gateway.auth.token (or neither, on loopback)",
            ),
        ] {
            let config = openclaw_config::Config::from_text(text).unwrap();
            let err = check_file(&config, path).unwrap_err();
            assert_eq!(err.kind, ExitKind::Config, "{text}");
            assert_eq!(err.error.to_string(), wanted, "{text}");
        }
        let good =
            "{gateway: {workers: 0, limits: {maxQueuedStreams: 0}, timeouts: {drainDelay: 0}}}";
        check_file(&openclaw_config::Config::from_text(good).unwrap(), path).unwrap();
        check_file(&openclaw_config::Config::default(), path).unwrap();
    }

    #[test]
    fn bad_values_name_their_source() {
        // Settings from variables alone (no flags, no file).
        let from_env = |env: &GatewayArgs| {
            resolve(
                &parse(&[]),
                env,
                &GatewayConfig::default(),
                Path::new("openclaw.json"),
            )
        };
        let err = args_from_env(&Env::from_pairs([(
            "OPENCLAW_GATEWAY_MAX_CONNECTIONS",
            "0",
        )]))
        .unwrap_err();
        assert_eq!(err.kind, ExitKind::Config);
        let text = err.error.to_string();
        assert!(
            text.starts_with("invalid OPENCLAW_GATEWAY_MAX_CONNECTIONS `0`"),
            "{text}"
        );
        let err = resolve(
            &parse(&[]),
            &parse(&[]),
            &file("{gateway: {limits: {maxConnections: 0}}}"),
            Path::new("openclaw.json"),
        )
        .unwrap_err();
        assert_eq!(
            err.error.to_string(),
            "openclaw.json: invalid gateway.limits.maxConnections `0`: expected at least 1",
            "a value of the file names the file"
        );
        let err = args_from_env(&Env::from_pairs([(
            "OPENCLAW_GATEWAY_UPSTREAM_MAX_IDLE",
            "-1",
        )]))
        .unwrap_err();
        assert_eq!(err.kind, ExitKind::Config);
        let text = err.error.to_string();
        assert!(
            text.starts_with("invalid OPENCLAW_GATEWAY_UPSTREAM_MAX_IDLE `-1`"),
            "{text}"
        );
        let env = args_from_env(&Env::from_pairs([(
            "OPENCLAW_GATEWAY_UPSTREAM_IDLE_TIMEOUT",
            "-1",
        )]))
        .unwrap();
        let err = from_env(&env).unwrap_err();
        assert_eq!(err.kind, ExitKind::Config);
        assert_eq!(
            err.error.to_string(),
            "invalid OPENCLAW_GATEWAY_UPSTREAM_IDLE_TIMEOUT `-1`: expected a non-negative number of seconds"
        );
        let err = resolve(
            &parse(&[]),
            &parse(&[]),
            &file("{gateway: {timeouts: {upstreamIdle: -2}}}"),
            Path::new("openclaw.json"),
        )
        .unwrap_err();
        assert_eq!(err.kind, ExitKind::Config);
        assert!(
            err.error
                .to_string()
                .contains("gateway.timeouts.upstreamIdle `-2`"),
            "{}",
            err.error
        );
        let env = args_from_env(&Env::from_pairs([("OPENCLAW_GATEWAY_BIND", "nowhere")])).unwrap();
        let err = from_env(&env).unwrap_err();
        assert!(
            err.error
                .to_string()
                .starts_with("invalid OPENCLAW_GATEWAY_BIND"),
            "{}",
            err.error
        );
    }
}
