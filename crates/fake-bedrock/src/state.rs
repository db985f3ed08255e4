//! The server state shared by every request: fixed configuration, the mutable state behind one
//! mutex (request log, queued turns and faults, pacing, counters) and the shutdown signal.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::catalog::{Catalog, InferenceProfile};
use crate::record::RecordedRequest;
use crate::script::{Fault, Pacing, Rule, Turn};

/// Fixed configuration.
pub(crate) struct Config {
    pub keys: HashMap<String, String>,
    pub tokens: Vec<String>,
    pub catalog: Catalog,
    pub default_region: String,
    pub account_id: String,
    pub chunk_size: usize,
    /// The pacing configured at start (restored by `POST /_fake/reset`).
    pub pacing: Pacing,
}

/// Mutable state behind one mutex (short critical sections, never held across an await).
#[derive(Default)]
pub(crate) struct Mutable {
    pub requests: Vec<RecordedRequest>,
    pub turns: Vec<Rule<Turn>>,
    pub faults: Vec<Rule<Fault>>,
    pub pacing: Pacing,
    pub request_counter: u64,
    pub tool_counter: u64,
    pub cache_prefixes: HashSet<u64>,
    /// Application profiles created through the admin API (served after the catalog's).
    pub created_profiles: Vec<InferenceProfile>,
}

/// What every request handler shares: the fixed configuration, the mutable state and the
/// shutdown signal.
pub(crate) struct Shared {
    pub config: Config,
    pub state: Mutex<Mutable>,
    pub shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Mutable> {
        // A poisoned lock only means a test thread panicked while holding it; the data is fine.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn stopping(&self) -> bool {
        *self.shutdown.borrow()
    }

    pub(crate) async fn until_shutdown(&self) {
        let mut rx = self.shutdown.clone();
        // An error means the sender is gone: the server is stopping as well.
        let _ = rx.wait_for(|stop| *stop).await;
    }
}

/// Marks a recorded request `client_disconnected` when dropped while armed. hyper drops the
/// handler future, or the response body, when the client closes or resets its connection;
/// every normal end (and every injected fault, and a shutdown) disarms it first.
pub(crate) struct DisconnectWatch {
    shared: Arc<Shared>,
    request_id: String,
    armed: bool,
}

impl DisconnectWatch {
    pub(crate) fn new(shared: Arc<Shared>, request_id: String) -> Self {
        Self {
            shared,
            request_id,
            armed: true,
        }
    }

    pub(crate) fn disarm(&mut self) {
        self.armed = false;
    }
}

impl Drop for DisconnectWatch {
    fn drop(&mut self) {
        if !self.armed || self.shared.stopping() {
            return;
        }
        let mut state = self.shared.lock();
        if let Some(r) = state
            .requests
            .iter_mut()
            .rev()
            .find(|r| r.request_id == self.request_id)
        {
            r.client_disconnected = true;
        }
    }
}

/// Sleeps for `d` (no timer when zero).
pub(crate) async fn pause(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}
