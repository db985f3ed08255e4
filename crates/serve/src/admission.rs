//! The budgets of request bodies read at once and the queue for stream slots (leaf module:
//! the state holds them, the guard and the SSE runner spend them).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::api_error::ApiError;
use crate::options::Limits;

/// Why a request body stopped being read before its end (an error of the body stream,
/// recognised by [`crate::body::read_json`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BodyStop {
    /// The body did not arrive within the body read timeout.
    #[error("the request body did not arrive within {0:?}")]
    Timeout(Duration),
    /// Shutdown started while the body was being read.
    #[error("the gateway is shutting down")]
    Draining,
}

impl BodyStop {
    /// The answer to the request.
    pub(crate) fn api_error(self) -> ApiError {
        match self {
            BodyStop::Timeout(timeout) => ApiError::body_timeout(timeout),
            BodyStop::Draining => ApiError::shutting_down(),
        }
    }
}

/// The budgets of request bodies being read at once, and the queue for stream slots.
#[derive(Debug)]
pub(crate) struct Admission {
    /// Requests waiting for a stream slot now (see `crate::sse::admit`).
    pub(crate) queued: std::sync::atomic::AtomicUsize,
    pub(crate) bodies: Arc<Semaphore>,
    /// Bytes, counted in KiB (a semaphore counts at most `u32::MAX` permits per acquire).
    pub(crate) kib: Arc<Semaphore>,
    pub(crate) total_kib: u32,
}

impl Admission {
    /// The budgets for `limits`.
    pub(crate) fn new(limits: &Limits) -> Self {
        let total_kib = u32::try_from(kib(limits.max_buffered_body_bytes).max(1))
            .unwrap_or(u32::MAX)
            .min(u32::try_from(Semaphore::MAX_PERMITS).unwrap_or(u32::MAX));
        Admission {
            queued: std::sync::atomic::AtomicUsize::new(0),
            bodies: Arc::new(Semaphore::new(
                limits.max_pending_bodies.clamp(1, Semaphore::MAX_PERMITS),
            )),
            kib: Arc::new(Semaphore::new(total_kib as usize)),
            total_kib,
        }
    }
}

pub(crate) fn kib(bytes: usize) -> usize {
    bytes.div_ceil(1024)
}
