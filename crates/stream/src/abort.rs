//! Explicit cancellation: an [`AbortController`] and the [`AbortSignal`]s it hands out.

use tokio::sync::watch;

/// Aborts the streams that hold one of its signals.
///
/// Built on `tokio::sync::watch`, so any number of signals observe one flag and a signal
/// subscribed after the abort still sees it.
#[derive(Debug)]
pub struct AbortController {
    tx: watch::Sender<bool>,
}

impl Default for AbortController {
    fn default() -> Self {
        Self::new()
    }
}

impl AbortController {
    /// A controller that has not aborted.
    pub fn new() -> Self {
        AbortController {
            tx: watch::channel(false).0,
        }
    }

    /// A signal to pass in [`crate::StreamOptions::abort`].
    pub fn signal(&self) -> AbortSignal {
        AbortSignal {
            rx: self.tx.subscribe(),
        }
    }

    /// Aborts: every stream holding a signal ends with `error{reason: aborted}`.
    pub fn abort(&self) {
        self.tx.send_replace(true);
    }
}

/// Observes an [`AbortController`].
#[derive(Debug, Clone)]
pub struct AbortSignal {
    rx: watch::Receiver<bool>,
}

impl AbortSignal {
    /// Whether the controller has aborted.
    pub fn is_aborted(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when the controller aborts; never, if it is dropped without aborting.
    pub async fn aborted(&mut self) {
        if self.rx.wait_for(|aborted| *aborted).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
