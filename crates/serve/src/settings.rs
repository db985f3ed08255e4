//! Serve settings layered over the configuration file: each setting comes from the first
//! layer that sets it (a binary's flags, then its environment variables, say), else from
//! `gateway.*` in the configuration file, else from its default. Values are checked here
//! (counts at least 1 where zero makes no sense, durations non-negative or positive) and an
//! error names where the bad value came from.

use std::time::Duration;

use openclaw_config::{GatewayBind, GatewayConfig};
use openclaw_creds::ConnectionPool;
use openclaw_stream::AdapterOptions;

use crate::{Error, Limits, ServeOptions, Timeouts};

/// Each setting's key in the configuration file, by its flag-style name (`max-body-bytes`).
pub const CONFIG_KEYS: &[(&str, &str)] = &[
    ("port", "gateway.port"),
    ("bind", "gateway.bind"),
    ("max-body-bytes", "gateway.limits.maxBodyBytes"),
    ("max-image-bytes", "gateway.limits.maxImageBytes"),
    (
        "max-concurrent-streams",
        "gateway.limits.maxConcurrentStreams",
    ),
    ("max-queued-streams", "gateway.limits.maxQueuedStreams"),
    ("queue-wait", "gateway.timeouts.queueWait"),
    ("max-pending-bodies", "gateway.limits.maxPendingBodies"),
    (
        "max-buffered-body-bytes",
        "gateway.limits.maxBufferedBodyBytes",
    ),
    ("max-connections", "gateway.limits.maxConnections"),
    ("max-header-bytes", "gateway.limits.maxHeaderBytes"),
    ("upstream-attempts", "gateway.limits.upstreamAttempts"),
    ("header-read-timeout", "gateway.timeouts.headerRead"),
    ("body-read-timeout", "gateway.timeouts.bodyRead"),
    ("keep-alive-timeout", "gateway.timeouts.keepAlive"),
    ("drain-delay", "gateway.timeouts.drainDelay"),
    ("shutdown-grace", "gateway.timeouts.shutdownGrace"),
    ("upstream-timeout", "gateway.timeouts.upstream"),
    ("idle-timeout", "gateway.timeouts.idle"),
    ("upstream-max-idle", "gateway.limits.upstreamMaxIdle"),
    ("upstream-idle-timeout", "gateway.timeouts.upstreamIdle"),
    ("allowed-host", "gateway.allowedHosts"),
    ("cors-allow-origin", "gateway.corsAllowOrigins"),
    ("ready-after-discovery", "gateway.readyAfterDiscovery"),
    ("workers", "gateway.workers"),
];

/// The configuration key of the setting named `name` (flag-style, see [`CONFIG_KEYS`]).
pub fn config_key(name: &str) -> &'static str {
    CONFIG_KEYS
        .iter()
        .find(|(flag, _)| *flag == name)
        .map_or("the configuration file", |(_, key)| key)
}

/// One layer over the configuration file: every field unset (`None`, or an empty list)
/// falls through to the next layer. Counts are taken as given (the layer checks them);
/// durations are in seconds and checked when used.
#[derive(Debug, Clone, Default)]
pub struct SettingsLayer {
    /// `loopback`, `lan` or an IP address.
    pub bind: Option<String>,
    /// Port to listen on.
    pub port: Option<u16>,
    /// [`Limits::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
    /// [`Limits::max_image_bytes`].
    pub max_image_bytes: Option<usize>,
    /// [`Limits::max_concurrent_streams`].
    pub max_concurrent_streams: Option<usize>,
    /// [`Limits::max_queued_streams`].
    pub max_queued_streams: Option<usize>,
    /// [`Limits::queue_wait`], in seconds.
    pub queue_wait: Option<f64>,
    /// [`Limits::max_pending_bodies`].
    pub max_pending_bodies: Option<usize>,
    /// [`Limits::max_buffered_body_bytes`].
    pub max_buffered_body_bytes: Option<usize>,
    /// [`Limits::max_connections`].
    pub max_connections: Option<usize>,
    /// [`Limits::max_header_bytes`].
    pub max_header_bytes: Option<usize>,
    /// [`Timeouts::header_read`], in seconds.
    pub header_read_timeout: Option<f64>,
    /// [`Timeouts::body_read`], in seconds.
    pub body_read_timeout: Option<f64>,
    /// [`Timeouts::keep_alive`], in seconds.
    pub keep_alive_timeout: Option<f64>,
    /// [`ServeOptions::allowed_hosts`].
    pub allowed_hosts: Vec<String>,
    /// [`ServeOptions::cors_allowed_origins`].
    pub cors_allowed_origins: Vec<String>,
    /// [`ServeOptions::drain_delay`], in seconds.
    pub drain_delay: Option<f64>,
    /// [`ServeOptions::shutdown_grace`], in seconds.
    pub shutdown_grace: Option<f64>,
    /// [`ServeOptions::ready_after_discovery`].
    pub ready_after_discovery: Option<bool>,
    /// [`AdapterOptions::first_event_timeout`], in seconds.
    pub upstream_timeout: Option<f64>,
    /// [`AdapterOptions::idle_timeout`], in seconds.
    pub idle_timeout: Option<f64>,
    /// [`AdapterOptions::max_attempts`] (0 is taken as 1).
    pub upstream_attempts: Option<u32>,
    /// [`ConnectionPool::max_idle_per_host`] (0: no pool).
    pub upstream_max_idle: Option<usize>,
    /// [`ConnectionPool::idle_timeout`], in seconds (0: no pool).
    pub upstream_idle_timeout: Option<f64>,
    /// [`ServeSettings::workers`].
    pub workers: Option<usize>,
}

/// A layer with the way it names a setting in errors (from the setting's flag-style name).
pub type NamedLayer<'a> = (&'a SettingsLayer, &'a dyn Fn(&str) -> String);

/// Every serve setting, resolved from the layers, the configuration file and the defaults.
#[derive(Debug)]
pub struct ServeSettings {
    /// Where to listen.
    pub bind: GatewayBind,
    /// Port to listen on (0 picks a free port).
    pub port: u16,
    /// [`ServeOptions::limits`].
    pub limits: Limits,
    /// [`ServeOptions::timeouts`].
    pub timeouts: Timeouts,
    /// The upstream adapter's retries and timeouts.
    pub adapter: AdapterOptions,
    /// The idle-connection pool of the HTTP client under the Bedrock SDK clients (see
    /// `ModelResolver::with_connection_pool`).
    pub connection_pool: ConnectionPool,
    /// [`ServeOptions::shutdown_grace`].
    pub shutdown_grace: Duration,
    /// [`ServeOptions::drain_delay`].
    pub drain_delay: Duration,
    /// [`ServeOptions::ready_after_discovery`].
    pub ready_after_discovery: bool,
    /// [`ServeOptions::allowed_hosts`].
    pub allowed_hosts: Vec<String>,
    /// [`ServeOptions::cors_allowed_origins`].
    pub cors_allowed_origins: Vec<String>,
    /// Threads serving connections, one current-thread runtime each ([`crate::Workers`]);
    /// default: [`default_workers`]; 0: serve on the caller's runtime.
    pub workers: usize,
}

/// One worker thread per CPU this process may use (its affinity and cgroup quota counted),
/// at least one.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The most worker threads accepted: more would only add memory and context switches.
pub const MAX_WORKERS: usize = 1024;

/// [`ServeSettings::workers`]: 0 to [`MAX_WORKERS`], default [`default_workers`].
fn workers(layers: &[NamedLayer<'_>], file: Option<u64>) -> Result<usize, Error> {
    let file = file.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    match pick("workers", layers, |l| l.workers, file) {
        Some((n, _)) if n <= MAX_WORKERS => Ok(n),
        Some((n, from)) => Err(invalid(
            format!("{from} `{n}`"),
            format!("expected at most {MAX_WORKERS} (default: one per CPU)"),
        )),
        None => Ok(default_workers()),
    }
}

/// The first layer's value (named by that layer), else the file's (named by its key).
fn pick<T>(
    name: &str,
    layers: &[NamedLayer<'_>],
    get: impl Fn(&SettingsLayer) -> Option<T>,
    file: Option<T>,
) -> Option<(T, String)> {
    layers
        .iter()
        .find_map(|(layer, naming)| get(layer).map(|v| (v, naming(name))))
        .or_else(|| file.map(|v| (v, config_key(name).to_string())))
}

fn invalid(setting: String, reason: impl Into<String>) -> Error {
    Error::InvalidSetting {
        setting,
        reason: reason.into(),
    }
}

/// A count or size: at least 1 unless `zero_ok` (the file's value is checked here, even when
/// a layer overrides it).
fn count(
    name: &str,
    layers: &[NamedLayer<'_>],
    get: impl Fn(&SettingsLayer) -> Option<usize>,
    file: Option<u64>,
    default: usize,
    zero_ok: bool,
) -> Result<usize, Error> {
    let file = match file {
        Some(v) => Some(
            usize::try_from(v)
                .ok()
                .filter(|v| zero_ok || *v > 0)
                .ok_or_else(|| {
                    invalid(
                        format!("{} `{v}`", config_key(name)),
                        if zero_ok {
                            "expected a size this machine can hold"
                        } else {
                            "expected at least 1"
                        },
                    )
                })?,
        ),
        None => None,
    };
    Ok(pick(name, layers, get, file).map_or(default, |(v, _)| v))
}

/// A duration in seconds from the chosen layer (or the file): non-negative, and more than
/// zero when `positive` (zero would cut every connection at once).
pub fn duration(
    name: &str,
    layers: &[NamedLayer<'_>],
    get: impl Fn(&SettingsLayer) -> Option<f64>,
    file: Option<f64>,
    default: Duration,
    positive: bool,
) -> Result<Duration, Error> {
    let Some((value, from)) = pick(name, layers, get, file) else {
        return Ok(default);
    };
    match Duration::try_from_secs_f64(value) {
        Ok(d) if !(positive && d.is_zero()) => Ok(d),
        _ => Err(invalid(
            format!("{from} `{value}`"),
            format!(
                "expected a {} number of seconds",
                if positive { "positive" } else { "non-negative" }
            ),
        )),
    }
}

impl ServeSettings {
    /// Layers `layers` (first wins) over `file` over the defaults, checking every value.
    pub fn resolve(layers: &[NamedLayer<'_>], file: &GatewayConfig) -> Result<Self, Error> {
        let bind = match pick("bind", layers, |l| l.bind.clone(), None) {
            Some((text, from)) => text
                .parse::<GatewayBind>()
                .map_err(|e| invalid(from, e.to_string()))?,
            None => file.bind,
        };
        let port = layers.iter().find_map(|(l, _)| l.port).unwrap_or(file.port);
        let (limits, times) = (&file.limits, &file.timeouts);
        let lim = Limits::default();
        let limits = Limits {
            max_body_bytes: count(
                "max-body-bytes",
                layers,
                |l| l.max_body_bytes,
                limits.max_body_bytes,
                lim.max_body_bytes,
                false,
            )?,
            max_image_bytes: count(
                "max-image-bytes",
                layers,
                |l| l.max_image_bytes,
                limits.max_image_bytes,
                lim.max_image_bytes,
                true,
            )?,
            max_concurrent_streams: count(
                "max-concurrent-streams",
                layers,
                |l| l.max_concurrent_streams,
                limits.max_concurrent_streams,
                lim.max_concurrent_streams,
                false,
            )?,
            max_queued_streams: count(
                "max-queued-streams",
                layers,
                |l| l.max_queued_streams,
                limits.max_queued_streams,
                lim.max_queued_streams,
                true,
            )?,
            queue_wait: duration(
                "queue-wait",
                layers,
                |l| l.queue_wait,
                times.queue_wait,
                lim.queue_wait,
                false,
            )?,
            max_pending_bodies: count(
                "max-pending-bodies",
                layers,
                |l| l.max_pending_bodies,
                limits.max_pending_bodies,
                lim.max_pending_bodies,
                false,
            )?,
            max_buffered_body_bytes: count(
                "max-buffered-body-bytes",
                layers,
                |l| l.max_buffered_body_bytes,
                limits.max_buffered_body_bytes,
                lim.max_buffered_body_bytes,
                false,
            )?,
            max_connections: count(
                "max-connections",
                layers,
                |l| l.max_connections,
                limits.max_connections,
                lim.max_connections,
                false,
            )?,
            max_header_bytes: count(
                "max-header-bytes",
                layers,
                |l| l.max_header_bytes,
                limits.max_header_bytes,
                lim.max_header_bytes,
                false,
            )?,
        };
        let to = Timeouts::default();
        let timeouts = Timeouts {
            header_read: duration(
                "header-read-timeout",
                layers,
                |l| l.header_read_timeout,
                times.header_read,
                to.header_read,
                true,
            )?,
            body_read: duration(
                "body-read-timeout",
                layers,
                |l| l.body_read_timeout,
                times.body_read,
                to.body_read,
                true,
            )?,
            keep_alive: duration(
                "keep-alive-timeout",
                layers,
                |l| l.keep_alive_timeout,
                times.keep_alive,
                to.keep_alive,
                true,
            )?,
        };
        let defaults = ServeOptions::default();
        let ad = AdapterOptions::default();
        let attempts = pick(
            "upstream-attempts",
            layers,
            |l| l.upstream_attempts,
            file.limits.upstream_attempts,
        );
        let adapter = AdapterOptions {
            max_attempts: attempts.map_or(ad.max_attempts, |(n, _)| n.max(1)),
            first_event_timeout: duration(
                "upstream-timeout",
                layers,
                |l| l.upstream_timeout,
                times.upstream,
                ad.first_event_timeout,
                false,
            )?,
            idle_timeout: duration(
                "idle-timeout",
                layers,
                |l| l.idle_timeout,
                times.idle,
                ad.idle_timeout,
                false,
            )?,
            ..ad
        };
        let pool = ConnectionPool::default();
        let connection_pool = ConnectionPool {
            idle_timeout: duration(
                "upstream-idle-timeout",
                layers,
                |l| l.upstream_idle_timeout,
                times.upstream_idle,
                pool.idle_timeout,
                false,
            )?,
            max_idle_per_host: count(
                "upstream-max-idle",
                layers,
                |l| l.upstream_max_idle,
                file.limits.upstream_max_idle,
                pool.max_idle_per_host,
                true,
            )?,
        };
        let list = |get: fn(&SettingsLayer) -> &Vec<String>, file: &Vec<String>| {
            layers
                .iter()
                .map(|(l, _)| get(l))
                .chain([file])
                .find(|l| !l.is_empty())
                .cloned()
                .unwrap_or_default()
        };
        Ok(Self {
            bind,
            port,
            limits,
            timeouts,
            adapter,
            connection_pool,
            shutdown_grace: duration(
                "shutdown-grace",
                layers,
                |l| l.shutdown_grace,
                times.shutdown_grace,
                defaults.shutdown_grace,
                false,
            )?,
            drain_delay: duration(
                "drain-delay",
                layers,
                |l| l.drain_delay,
                times.drain_delay,
                defaults.drain_delay,
                false,
            )?,
            ready_after_discovery: pick(
                "ready-after-discovery",
                layers,
                |l| l.ready_after_discovery,
                file.ready_after_discovery,
            )
            .is_some_and(|(on, _)| on),
            allowed_hosts: list(|l| &l.allowed_hosts, &file.allowed_hosts),
            cors_allowed_origins: list(|l| &l.cors_allowed_origins, &file.cors_allow_origins),
            workers: workers(layers, file.workers)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> GatewayConfig {
        openclaw_config::Config::from_text(text).unwrap().gateway
    }

    #[test]
    fn the_first_layer_wins_and_errors_name_the_source() {
        let flags = SettingsLayer {
            max_body_bytes: Some(1),
            ..SettingsLayer::default()
        };
        let env = SettingsLayer {
            max_body_bytes: Some(2),
            port: Some(1002),
            drain_delay: Some(-1.0),
            ..SettingsLayer::default()
        };
        let flag = |n: &str| format!("--{n}");
        let var = |n: &str| format!("VAR_{n}");
        let text = "{gateway: {port: 1003, limits: {maxBodyBytes: 3}}}";
        let err = ServeSettings::resolve(&[(&flags, &flag), (&env, &var)], &file(text));
        assert_eq!(
            err.unwrap_err().to_string(),
            "invalid VAR_drain-delay `-1`: expected a non-negative number of seconds"
        );
        let env = SettingsLayer {
            drain_delay: None,
            ..env
        };
        let s = ServeSettings::resolve(&[(&flags, &flag), (&env, &var)], &file(text)).unwrap();
        assert_eq!((s.port, s.limits.max_body_bytes), (1002, 1));
        let s = ServeSettings::resolve(&[], &file(text)).unwrap();
        assert_eq!((s.port, s.limits.max_body_bytes), (1003, 3));
        let err = ServeSettings::resolve(&[], &file("{gateway: {limits: {maxBodyBytes: 0}}}"));
        assert_eq!(
            err.unwrap_err().to_string(),
            "invalid gateway.limits.maxBodyBytes `0`: expected at least 1"
        );
    }

    #[test]
    fn the_upstream_pool_is_layered_and_may_be_zero() {
        let s = ServeSettings::resolve(&[], &file("{}")).unwrap();
        assert_eq!(s.connection_pool, ConnectionPool::default());
        let text = "{gateway: {limits: {upstreamMaxIdle: 0}, timeouts: {upstreamIdle: 90}}}";
        let s = ServeSettings::resolve(&[], &file(text)).unwrap();
        assert_eq!(
            s.connection_pool,
            ConnectionPool {
                idle_timeout: Duration::from_secs(90),
                max_idle_per_host: 0,
            }
        );
        let flags = SettingsLayer {
            upstream_max_idle: Some(256),
            upstream_idle_timeout: Some(0.0),
            ..SettingsLayer::default()
        };
        let flag = |n: &str| format!("--{n}");
        let s = ServeSettings::resolve(&[(&flags, &flag)], &file(text)).unwrap();
        assert_eq!(s.connection_pool.max_idle_per_host, 256);
        assert_eq!(s.connection_pool.idle_timeout, Duration::ZERO);
        assert!(!s.connection_pool.is_pooling());
        let bad = SettingsLayer {
            upstream_idle_timeout: Some(-0.5),
            ..SettingsLayer::default()
        };
        let err = ServeSettings::resolve(&[(&bad, &flag)], &file("{}")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid --upstream-idle-timeout `-0.5`: expected a non-negative number of seconds"
        );
        let err = ServeSettings::resolve(&[], &file("{gateway: {timeouts: {upstreamIdle: -1}}}"));
        assert_eq!(
            err.unwrap_err().to_string(),
            "invalid gateway.timeouts.upstreamIdle `-1`: expected a non-negative number of seconds"
        );
    }

    #[test]
    fn workers_default_to_one_per_cpu_and_zero_means_the_callers_runtime() {
        let s = ServeSettings::resolve(&[], &file("{}")).unwrap();
        assert_eq!(s.workers, default_workers());
        assert!(s.workers >= 1);
        let s = ServeSettings::resolve(&[], &file("{gateway: {workers: 0}}")).unwrap();
        assert_eq!(s.workers, 0);
        let flags = SettingsLayer {
            workers: Some(3),
            ..SettingsLayer::default()
        };
        let flag = |n: &str| format!("--{n}");
        let s =
            ServeSettings::resolve(&[(&flags, &flag)], &file("{gateway: {workers: 0}}")).unwrap();
        assert_eq!(s.workers, 3);
        assert_eq!(config_key("workers"), "gateway.workers");
        let err = ServeSettings::resolve(&[], &file("{gateway: {workers: 5000}}")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid gateway.workers `5000`: expected at most 1024 (default: one per CPU)"
        );
    }
}
