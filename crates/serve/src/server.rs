//! [`Gateway`]: the router to mount, and a server loop with graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::error::Error;
use crate::log::LOG_TARGET;
use crate::metrics::Metrics;
use crate::models::ModelSource;
use crate::options::ServeOptions;
use crate::routes;
use crate::state::App;

/// An OpenAI-compatible gateway over a [`ModelSource`].
///
/// Mount [`Gateway::router`] in an axum application, or let [`Gateway::serve`] run it on a
/// listener until a shutdown future completes.
pub struct Gateway {
    app: Arc<App>,
    drain: Arc<watch::Sender<bool>>,
}

impl Gateway {
    /// A gateway serving `models` with `options`.
    pub fn new(models: ModelSource, options: ServeOptions) -> Self {
        let (drain, draining) = watch::channel(false);
        let permits = Arc::new(Semaphore::new(options.limits.max_concurrent_streams));
        Gateway {
            app: Arc::new(App {
                models,
                options,
                metrics: Metrics::default(),
                permits,
                draining,
            }),
            drain: Arc::new(drain),
        }
    }

    /// The routes (`/v1/chat/completions`, `/v1/models`, `/healthz`, `/readyz`, `/metrics`),
    /// with authentication, the access log and metrics. Mount it with
    /// [`axum::Router::nest`] or serve it as it is.
    pub fn router(&self) -> axum::Router {
        routes::router(self.app.clone())
    }

    /// Starts shutting down: `/readyz` answers 503 so balancers stop sending requests, and
    /// [`Gateway::serve`] stops accepting connections and lets open responses finish.
    pub fn start_draining(&self) {
        self.drain.send_replace(true);
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
    /// called), then drains: no new connections, open responses get
    /// [`ServeOptions::shutdown_grace`] to finish, and the call returns.
    ///
    /// Sockets get `TCP_NODELAY`: SSE answers are many small writes, which Nagle's algorithm
    /// would hold back.
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let listener = listener.tap_io(|tcp| {
            if let Err(err) = tcp.set_nodelay(true) {
                tracing::debug!(target: LOG_TARGET, "could not set TCP_NODELAY: {err}");
            }
        });
        let drain = self.drain.clone();
        let mut draining = self.app.draining.clone();
        let trigger = async move {
            tokio::select! {
                () = shutdown => { drain.send_replace(true); }
                _ = draining.wait_for(|d| *d) => {}
            }
        };
        let server = axum::serve(listener, self.router()).with_graceful_shutdown(trigger);
        let grace = self.app.options.shutdown_grace;
        let mut draining = self.app.draining.clone();
        let deadline = async move {
            let _ = draining.wait_for(|d| *d).await;
            tracing::info!(
                target: LOG_TARGET,
                "shutting down: no new connections, open responses get {grace:?} to finish"
            );
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            result = server.into_future() => result.map_err(Error::Serve),
            () = deadline => {
                tracing::warn!(target: LOG_TARGET, "shutdown grace period over: closing the remaining responses");
                Ok(())
            }
        }
    }
}
