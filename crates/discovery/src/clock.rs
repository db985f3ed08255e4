//! The clock the cache reads, injectable for TTL tests.

#[cfg(any(test, feature = "test-util"))]
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// A source of the current time.
///
/// Wall-clock time (not `Instant`) because cache entries are also stored on disk and compared
/// across processes.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to, for tests (the `test-util` feature; not part of the
/// default API).
#[cfg(any(test, feature = "test-util"))]
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<SystemTime>,
}

#[cfg(any(test, feature = "test-util"))]
impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: SystemTime) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

#[cfg(any(test, feature = "test-util"))]
impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The age of something fetched at `at`, or `None` when `at` lies in the future (clock moved
/// backwards): such an entry is treated as expired.
pub(crate) fn age(now: SystemTime, at: SystemTime) -> Option<Duration> {
    now.duration_since(at).ok()
}

/// Whether an entry fetched at `at` is still fresh under `ttl`.
pub(crate) fn fresh(now: SystemTime, at: SystemTime, ttl: Duration) -> bool {
    age(now, at).is_some_and(|a| a < ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freshness() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = ManualClock::new(t0);
        assert!(fresh(clock.now(), t0, Duration::from_secs(10)));
        clock.advance(Duration::from_secs(10));
        assert!(!fresh(clock.now(), t0, Duration::from_secs(10)));
        // An entry from the future is not trusted.
        assert!(!fresh(
            t0,
            t0 + Duration::from_secs(1),
            Duration::from_secs(10)
        ));
    }
}
