//! [`Gateway`]: the router to mount, and a server loop with graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::admission::Admission;
use crate::connections;
use crate::error::Error;
use crate::log::LOG_TARGET;
use crate::metrics::Metrics;
use crate::models::ModelSource;
use crate::options::ServeOptions;
use crate::routes;
use crate::state::App;
use crate::workers::{Placement, Workers};

/// Refused connections being answered at once (beyond, a refused connection is closed without
/// an answer).
const MAX_REFUSALS: usize = 64;
/// How long `serve` waits for the connections it aborted at the end of the grace period.
const ABORT_WAIT: Duration = Duration::from_secs(1);
/// Pause after a failed `accept` (out of file descriptors: retrying at once would spin).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// An OpenAI-compatible gateway over a [`ModelSource`].
///
/// Mount [`Gateway::router`] in an axum application, or let [`Gateway::serve`] run it on a
/// listener until a shutdown future completes.
pub struct Gateway {
    app: Arc<App>,
    /// Draining started: `/readyz` answers 503.
    drain: Arc<watch::Sender<bool>>,
    /// The listener closes, idle connections are dropped, body reads stop (set
    /// [`ServeOptions::drain_delay`] after `drain`).
    close: Arc<watch::Sender<bool>>,
    /// Where [`Gateway::serve`] runs connections (none: on the runtime it is called on).
    workers: Option<Workers>,
}

impl Gateway {
    /// A gateway serving `models` with `options`.
    pub fn new(models: ModelSource, options: ServeOptions) -> Self {
        let (drain, stopping) = watch::channel(false);
        let (close, draining) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(options.limits.max_concurrent_streams));
        let mut metrics = Metrics::default();
        metrics.count_discovery_failures_in(models.discovery_failures());
        Gateway {
            app: Arc::new(App {
                models,
                metrics,
                permits,
                stopping,
                draining,
                admission: Admission::new(&options.limits),
                options,
            }),
            drain: Arc::new(drain),
            close: Arc::new(close),
            workers: None,
        }
    }

    /// Serves each connection on one of `workers` (a current-thread runtime per core) instead
    /// of the runtime [`Gateway::serve`] is called on, which then only accepts connections.
    ///
    /// A connection, its requests, their model calls and the calls' connections to Bedrock
    /// then stay on one thread (no wake crosses threads); a new connection goes to the worker
    /// serving the fewest, and a request whose worker runs clearly more requests than another
    /// runs on that one (its response frames handed back). Limits and metrics stay global.
    #[must_use]
    pub fn with_workers(mut self, workers: Workers) -> Self {
        self.app.metrics.watch_workers(workers.shared());
        self.workers = Some(workers);
        self
    }

    /// The routes (`/v1/chat/completions`, `/v1/models`, `/healthz`, `/readyz`, `/metrics`),
    /// with authentication, the access log and metrics. Mount it with
    /// [`axum::Router::nest`] or serve it as it is.
    pub fn router(&self) -> axum::Router {
        routes::router(self.app.clone())
    }

    /// Starts shutting down: `/readyz` answers 503 at once so balancers stop sending requests;
    /// [`ServeOptions::drain_delay`] later (at once when it is zero, or outside a Tokio
    /// runtime), [`Gateway::serve`] stops accepting connections, closes idle ones and lets
    /// open responses finish.
    pub fn start_draining(&self) {
        begin_drain(&self.drain, &self.close, self.app.options.drain_delay);
    }

    /// Whether [`Gateway::start_draining`] was called (or `serve`'s shutdown future completed).
    pub fn is_draining(&self) -> bool {
        self.app.is_draining()
    }

    /// Fills the discovery cache in the background so the first request does not wait for it.
    pub fn warm_up(&self) -> tokio::task::JoinHandle<()> {
        let app = self.app.clone();
        tokio::spawn(async move { app.models.warm_up().await })
    }

    /// Serves on `listener` until `shutdown` completes (or [`Gateway::start_draining`] is
    /// called), then drains in this order: `/readyz` answers 503 while requests are still
    /// served for [`ServeOptions::drain_delay`] (so a balancer health-checking `/readyz` stops
    /// sending new requests before anything is refused); then no new connections, connections
    /// with no request in flight are closed at once, open responses get
    /// [`ServeOptions::shutdown_grace`] to finish, and the call returns.
    ///
    /// Each connection is HTTP/1.1 with the [`crate::Timeouts`] (header read, body read,
    /// keep-alive); beyond [`crate::Limits::max_connections`] a new connection is answered
    /// 503 and closed. Sockets get `TCP_NODELAY`: SSE answers are many small writes, which
    /// Nagle's algorithm would hold back.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let local = listener.local_addr().map_err(Error::Serve)?;
        let drain = self.drain.clone();
        let close = self.close.clone();
        let delay = self.app.options.drain_delay;
        let mut stopping = self.app.stopping.clone();
        let trigger = tokio::spawn(async move {
            tokio::select! {
                () = shutdown => begin_drain(&drain, &close, delay),
                () = crate::connections::drained(&mut stopping) => {}
            }
        });
        let router = self.router();
        let limits = self.app.options.limits;
        let timeouts = self.app.options.timeouts;
        let slots = Arc::new(Semaphore::new(
            limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
        ));
        let refusals = Arc::new(Semaphore::new(MAX_REFUSALS));
        let mut connections = JoinSet::new();
        let mut draining = self.app.draining.clone();
        loop {
            tokio::select! {
                () = crate::connections::drained(&mut draining) => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => {
                    let (tcp, _peer) = match accepted {
                        Ok(conn) => conn,
                        Err(err) => {
                            // Out of file descriptors and the like: wait instead of spinning.
                            tracing::warn!(target: LOG_TARGET, "accepting a connection failed: {err}");
                            tokio::time::sleep(ACCEPT_BACKOFF).await;
                            continue;
                        }
                    };
                    if let Err(err) = tcp.set_nodelay(true) {
                        tracing::debug!(target: LOG_TARGET, "could not set TCP_NODELAY: {err}");
                    }
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        self.app.metrics.connection_refused();
                        // Refusals are bounded too: past that, the socket is just closed.
                        if let Ok(refusal) = refusals.clone().try_acquire_owned() {
                            tokio::spawn(async move {
                                connections::refuse(tcp, limits.max_connections).await;
                                drop(refusal);
                            });
                        }
                        continue;
                    };
                    let connection = Connection {
                        app: self.app.clone(),
                        router: router.clone(),
                        local,
                        timeouts,
                        draining: self.app.draining.clone(),
                        slot,
                    };
                    let Some(workers) = &self.workers else {
                        connections.spawn(connection.serve(tcp, None));
                        continue;
                    };
                    // The socket leaves this runtime's reactor and joins the worker's.
                    let tcp = match tcp.into_std() {
                        Ok(tcp) => tcp,
                        Err(err) => {
                            tracing::debug!(target: LOG_TARGET, "could not hand a connection to a worker: {err}");
                            continue;
                        }
                    };
                    let (worker, placement) = workers.assign();
                    connections.spawn_on(async move {
                        match TcpStream::from_std(tcp) {
                            Ok(tcp) => connection.serve(tcp, Some(placement)).await,
                            Err(err) => {
                                tracing::debug!(target: LOG_TARGET, "a worker could not take a connection: {err}");
                            }
                        }
                    }, &worker);
                }
            }
        }
        drop(listener);
        trigger.abort();
        let grace = self.app.options.shutdown_grace;
        tracing::info!(
            target: LOG_TARGET,
            "shutting down: no new connections, open responses get {grace:?} to finish"
        );
        let finished = tokio::time::timeout(grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tracing::warn!(target: LOG_TARGET, "shutdown grace period over: closing the remaining responses");
            connections.abort_all();
            // Let the aborted connections end (on their workers too) before returning, so the
            // caller's own shutdown (flushing telemetry) comes after theirs.
            let _ = tokio::time::timeout(ABORT_WAIT, async {
                while connections.join_next().await.is_some() {}
            })
            .await;
        }
        Ok(())
    }
}

/// What serving one accepted connection needs.
struct Connection {
    app: Arc<App>,
    router: axum::Router,
    local: std::net::SocketAddr,
    timeouts: crate::Timeouts,
    draining: watch::Receiver<bool>,
    /// Its place under [`crate::Limits::max_connections`], freed when it ends.
    slot: tokio::sync::OwnedSemaphorePermit,
}

impl Connection {
    /// Serves `tcp` until it ends, counted in the metrics (on `placement`'s worker, if any).
    async fn serve(self, tcp: TcpStream, placement: Option<Placement>) {
        let Connection {
            app,
            router,
            local,
            timeouts,
            draining,
            slot,
        } = self;
        app.metrics.connection_opened();
        connections::serve_connection(tcp, local, router, timeouts, draining, placement).await;
        app.metrics.connection_closed();
        drop(slot);
    }
}

/// Starts draining: readiness off now, `close` after `delay` (now when zero or when no Tokio
/// runtime can run the timer). A second call changes nothing.
fn begin_drain(drain: &watch::Sender<bool>, close: &Arc<watch::Sender<bool>>, delay: Duration) {
    if drain.send_replace(true) {
        return;
    }
    let handle = tokio::runtime::Handle::try_current();
    match handle {
        Ok(handle) if !delay.is_zero() => {
            tracing::info!(
                target: LOG_TARGET,
                "draining: /readyz answers 503; the listener closes in {delay:?}"
            );
            let close = close.clone();
            handle.spawn(async move {
                tokio::time::sleep(delay).await;
                close.send_replace(true);
            });
        }
        _ => {
            close.send_replace(true);
        }
    }
}
