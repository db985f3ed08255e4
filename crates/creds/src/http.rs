//! The HTTP client under every SDK client built from [`crate::AwsSettings`].
//!
//! It is the SDK's own default client (hyper 1, rustls with aws-lc, the system's root
//! certificates, proxies from the `HTTP(S)_PROXY` / `NO_PROXY` variables, the SDK's connect and
//! read timeouts), with two changes: the certificates of a CA bundle ([`crate::CaBundle`]) are
//! trusted besides the system's roots, and the pool of idle connections is bounded. Left to hyper's defaults, every connection a burst of
//! streams opened stays pooled for 90 s with no cap, each holding its socket, its HTTP buffers
//! and (to AWS) its TLS state: after 2,000 concurrent streams the gateway kept about 2,000 idle
//! connections to Bedrock, about 4,000 fds in all, long after the load ended.

use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Builder, Connector, tls};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_types::config_bag::ConfigBag;
use thread_local::ThreadLocal;
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::CaBundle;

/// How long a pooled connection to AWS may stay idle before it is closed (by default).
///
/// Rule: a connection idle this long is closed within twice this time (hyper checks the pool
/// once per timeout), so 10 s frees what a burst left behind within 20 s, and the allocator has
/// returned those pages 30 s after a load (measured on the bench's soak: with 20 s the idle
/// gateway was still 2.02x its size before the load at 30 s, pooled connections still open).
/// A new connection costs one TCP and TLS handshake, small next to a model call; a conversation
/// whose turns come less than 10 s apart keeps its connection.
pub const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many idle connections to one host the pool keeps at most (by default); a connection
/// returned to a full pool is closed at once.
///
/// Rule: steady load reuses connections as soon as they are returned, so few are idle at a
/// time; this cap bounds what a burst leaves behind (each idle connection holds its buffers and
/// TLS state, tens of KiB) while still absorbing the churn of a busy gateway.
pub const POOL_MAX_IDLE_PER_HOST: usize = 64;

/// The idle-connection pool of the HTTP client under the SDK clients.
///
/// Either field at zero turns pooling off: every connection is closed as soon as its call ends
/// and every call opens a new one. There is no "never close" setting: an idle pool without a
/// timeout is what kept thousands of connections open after a load.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionPool {
    /// A pooled connection idle this long is closed (within twice this time); zero: no pool.
    pub idle_timeout: Duration,
    /// At most this many idle connections per host; more are closed when they are returned;
    /// zero: no pool.
    pub max_idle_per_host: usize,
}

impl ConnectionPool {
    /// Whether returned connections are kept for reuse at all (both fields above zero).
    pub fn is_pooling(&self) -> bool {
        !self.idle_timeout.is_zero() && self.max_idle_per_host > 0
    }
}

impl Default for ConnectionPool {
    fn default() -> Self {
        Self {
            idle_timeout: POOL_IDLE_TIMEOUT,
            max_idle_per_host: POOL_MAX_IDLE_PER_HOST,
        }
    }
}

/// The SDK's default HTTPS client with the idle pool of `pool`, trusting `ca_bundle` besides
/// the system's roots.
///
/// Built the way the SDK builds its default (`build_with_connector_fn`, one connector per set of
/// timeout settings, the runtime's sleep for the timeouts, proxies from the environment as the
/// SDK's current behavior version does); only the pool settings and the TLS context are added.
///
/// Rule: a zero idle timeout is sent to hyper as an idle cap of zero, never as a zero timeout:
/// hyper runs no eviction task for a zero timeout, so its pooled connections would stay open
/// until the next checkout found them expired.
pub(crate) fn https_client(pool: ConnectionPool, ca_bundle: Option<&CaBundle>) -> SharedHttpClient {
    let ca_bundle = ca_bundle.cloned();
    let make = move || pooled_client(pool, ca_bundle.as_ref());
    SharedHttpClient::new(PoolPerThread {
        shared: make(),
        local: ThreadLocal::new(),
        make: Box::new(make),
    })
}

/// One HTTP client (so one pool of connections) per thread for the calls made on a
/// current-thread runtime, one client shared by every other caller.
///
/// Rule: a pooled connection is a task on the runtime that opened it, and the call that uses
/// it is another task, woken by every frame the connection reads. On a multi-thread runtime
/// both are the same runtime's, so one pool serves all. A server that runs one current-thread
/// runtime per core (`openclaw-serve`'s `Workers`) wants each call to use a connection of its
/// own thread, or half of its calls would wake the other thread for every frame; and a
/// connection opened on a runtime that has since stopped must not be lent to another. Each such
/// thread gets its own pool, with the same settings (the idle cap is per pool).
///
/// Limit: a thread's client outlives the thread (the thread-local store recycles the slot of
/// an exited thread for the next new one), so current-thread runtimes started and stopped
/// over and over should get a new SDK client each time; a server's worker threads, which
/// live as long as the process, are the case this is for.
struct PoolPerThread {
    shared: SharedHttpClient,
    local: ThreadLocal<SharedHttpClient>,
    make: Box<dyn Fn() -> SharedHttpClient + Send + Sync>,
}

impl PoolPerThread {
    fn client(&self) -> &SharedHttpClient {
        match Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::CurrentThread => {
                self.local.get_or(|| (self.make)())
            }
            _ => &self.shared,
        }
    }
}

impl std::fmt::Debug for PoolPerThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoolPerThread")
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl HttpClient for PoolPerThread {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.client().http_connector(settings, components)
    }

    fn validate_base_client_config(
        &self,
        runtime_components: &RuntimeComponentsBuilder,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.shared
            .validate_base_client_config(runtime_components, cfg)
    }

    fn validate_final_config(
        &self,
        runtime_components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.shared.validate_final_config(runtime_components, cfg)
    }

    fn connector_metadata(
        &self,
    ) -> Option<aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata> {
        self.shared.connector_metadata()
    }
}

/// One HTTP client: its own pool of connections.
fn pooled_client(pool: ConnectionPool, ca_bundle: Option<&CaBundle>) -> SharedHttpClient {
    let tls_context = ca_bundle.map(CaBundle::tls_context).unwrap_or_default();
    let max_idle = if pool.is_pooling() {
        pool.max_idle_per_host
    } else {
        0
    };
    Builder::new().build_with_connector_fn(move |settings, components| {
        let mut builder = Connector::builder()
            .pool_idle_timeout(pool.idle_timeout)
            .pool_max_idle_per_host(max_idle);
        builder.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            builder.set_sleep_impl(components.sleep_impl());
        }
        builder.set_proxy_config(Some(ProxyConfig::from_env()));
        builder
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::AwsLc,
            ))
            .tls_context(tls_context.clone())
            .build()
    })
}
