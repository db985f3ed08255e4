//! What an operator tunes: limits, timeouts, the client token and who may call (hosts, origins).

use std::collections::BTreeMap;
use std::time::Duration;

use openclaw_config::{ModelRef, Secret};

/// Limits applied to every request and connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body, in bytes (413 above).
    pub max_body_bytes: usize,
    /// Largest accepted image (decoded), in bytes (413 above; Bedrock's own limit is 3.75 MB).
    pub max_image_bytes: usize,
    /// Model streams served at once. A request beyond waits in a bounded queue (see
    /// [`Limits::max_queued_streams`] and [`Limits::queue_wait`]).
    pub max_concurrent_streams: usize,
    /// Requests waiting at once for a stream slot: beyond, a request is refused at once with
    /// 429 and `Retry-After` (0: no queue, every request over the stream limit gets its 429 at
    /// once).
    pub max_queued_streams: usize,
    /// Longest time a queued request waits for a stream slot: then it is refused with 503 and
    /// `Retry-After` (zero: no queue). Short on purpose: the queue absorbs bursts of short
    /// requests, while an overloaded gateway sheds at once instead of holding requests until
    /// their clients time out.
    pub queue_wait: Duration,
    /// Request bodies being received and parsed at once (503 with `Retry-After` above).
    pub max_pending_bodies: usize,
    /// Bytes of request bodies being received and parsed at once, counted before reading: the
    /// declared `Content-Length`, or [`Limits::max_body_bytes`] for a body of unknown length
    /// (503 with `Retry-After` when a body does not fit). Bounds the memory of many large
    /// uploads at once.
    pub max_buffered_body_bytes: usize,
    /// Connections open at once ([`crate::Gateway::serve`] only): beyond, a new connection is
    /// answered 503 and closed at once.
    pub max_connections: usize,
    /// Largest request head: total bytes of the header names and values (431 above).
    pub max_header_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 20 * 1024 * 1024,
            max_image_bytes: 3_932_160,
            max_concurrent_streams: 64,
            // No queue by default: measured at twice the highest sustainable rate, a 20 ms queue
            // made refusals take 33-35 ms (p99) instead of 10 ms and added 18 ms to the admitted
            // requests' first token, for no more requests served.
            max_queued_streams: 0,
            queue_wait: Duration::from_millis(20),
            max_pending_bodies: 64,
            max_buffered_body_bytes: 256 * 1024 * 1024,
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
        }
    }
}

/// Connection timeouts of [`crate::Gateway::serve`] (the request body timeout also applies to
/// a mounted router).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// From the first byte of a request to the end of its head (headers): a client that sends
    /// its headers slower than this is disconnected (slowloris).
    pub header_read: Duration,
    /// From the end of a request head to the end of its body: a slower body is refused with
    /// 408 and the connection closed.
    pub body_read: Duration,
    /// How long a connection with no request in flight stays open waiting for the next one
    /// (also the wait for the first request of a new connection).
    pub keep_alive: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(60),
            keep_alive: Duration::from_secs(75),
        }
    }
}

/// How the gateway serves: who may call it, how much it accepts, how long it drains.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The token clients must send (`Authorization: Bearer <token>`); `None` serves everyone,
    /// which only makes sense on loopback.
    pub token: Option<Secret>,
    /// Model aliases: a request may name the alias instead of the model (OpenClaw's
    /// `agents.defaults.models`, see `openclaw_config::Config::model_aliases`).
    pub aliases: BTreeMap<String, ModelRef>,
    /// Request limits.
    pub limits: Limits,
    /// Connection and body timeouts.
    pub timeouts: Timeouts,
    /// How long open responses may run after shutdown starts before [`crate::Gateway::serve`]
    /// returns anyway (counted once the listener is closed, after [`ServeOptions::drain_delay`]).
    pub shutdown_grace: Duration,
    /// How long, once draining starts, `/readyz` answers 503 while everything else is still
    /// served as usual, before the listener closes and idle connections are dropped: the time
    /// a load balancer or Kubernetes needs to notice and stop sending new requests. Zero closes
    /// at once (a gateway without a balancer in front).
    pub drain_delay: Duration,
    /// `/readyz` answers 503 until the model listing is known: the first discovery succeeded,
    /// or a cached listing was read (no effect without discovery). Off: a replica is ready at
    /// once and serves the configured models while discovery is pending.
    pub ready_after_discovery: bool,
    /// `Host` values accepted besides the loopback ones (`localhost`, `127.x.y.z`, `[::1]`,
    /// any port), compared without the port and case-insensitively; `*` accepts any host.
    ///
    /// When [`crate::Gateway::serve`] listens on a loopback address, a request naming another
    /// host is refused (403): a web page whose DNS name was rebound to 127.0.0.1 cannot reach
    /// the gateway. When it listens elsewhere, a non-empty list is enforced the same way.
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`scheme://host[:port]`, exactly as browsers send `Origin`) allowed to
    /// call the gateway; `*` allows any. A request with an `Origin` header not listed is
    /// refused (403); a listed one gets CORS headers and its preflight (`OPTIONS`) answered.
    pub cors_allowed_origins: Vec<String>,
    /// Joins each request's span to the client's W3C trace (`traceparent`) and carries the
    /// trace on to Bedrock; `None`: the spans start their own traces and Bedrock gets no
    /// `traceparent` (see [`crate::TracePropagation`]).
    pub trace_propagation: Option<std::sync::Arc<dyn crate::TracePropagation>>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            token: None,
            aliases: BTreeMap::new(),
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            shutdown_grace: Duration::from_secs(30),
            drain_delay: Duration::ZERO,
            ready_after_discovery: false,
            allowed_hosts: Vec::new(),
            cors_allowed_origins: Vec::new(),
            trace_propagation: None,
        }
    }
}
