//! [`Workers`]: one current-thread Tokio runtime per core, each serving the connections handed
//! to it.
//!
//! Why: a streamed answer is a chain of tasks (the client connection, the model call, the SDK's
//! connection to Bedrock) that wake each other for every burst of events. On a multi-thread
//! runtime those tasks land on different workers, so most wakes cross threads (a futex wake and
//! a context switch each). With a runtime per core, a connection's tasks, its model calls and
//! their upstream connections (one pool per thread, see `openclaw-creds`) all stay on one
//! thread.
//!
//! Rules: a new connection goes to the worker serving the fewest connections; a request runs
//! on its connection's worker unless that worker runs clearly more requests than the least
//! busy one ([`hand_over`]), then on that one, its body frames handed back to the connection
//! (clients reuse a few pooled connections far more than the others, which would otherwise
//! saturate one thread while another idles).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::error::Error;

/// Threads that serve connections, one current-thread Tokio runtime each (see
/// [`crate::Gateway::with_workers`]).
///
/// Dropping it stops the threads; connections still open on them are dropped with their
/// runtime.
///
/// ```
/// let workers = openclaw_serve::Workers::start(2)?;
/// assert_eq!(workers.len(), 2);
/// # Ok::<(), openclaw_serve::Error>(())
/// ```
#[derive(Debug)]
pub struct Workers {
    shared: Arc<Shared>,
    /// Dropped: every worker's runtime stops.
    _stop: Vec<oneshot::Sender<()>>,
}

/// What connections and requests read to choose a worker.
#[derive(Debug)]
pub(crate) struct Shared {
    slots: Vec<Slot>,
    /// Where the search for the least loaded worker starts (spreads ties).
    next: AtomicUsize,
    /// Requests run on another worker than their connection's.
    handed_over: AtomicU64,
}

/// One worker's counters, alone on their cache lines (every thread writes them on every
/// request; sharing a line would bounce it between cores).
#[derive(Debug)]
#[repr(align(128))]
struct Slot {
    handle: Handle,
    /// Connections this worker serves now.
    open: AtomicUsize,
    /// Requests whose work runs on this worker now (its own connections' and those handed
    /// to it).
    active: AtomicUsize,
}

/// A connection's worker: counted on it while it lives; asked where each of its requests runs.
#[derive(Debug)]
pub(crate) struct Placement {
    shared: Arc<Shared>,
    here: usize,
}

impl Drop for Placement {
    fn drop(&mut self) {
        self.shared.slots[self.here]
            .open
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// A request counted as active on a worker until it drops (with the response body).
#[derive(Debug)]
pub(crate) struct Active {
    shared: Arc<Shared>,
    slot: usize,
}

impl Drop for Active {
    fn drop(&mut self) {
        self.shared.slots[self.slot]
            .active
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether a request should run on the least busy worker rather than on its connection's:
/// only when its connection's worker has clearly more requests running (4, or a quarter of
/// the other's, more). Connections are pinned, and clients reuse some of their connections
/// far more than others (pools hand out the most recently used one), so without this a few
/// busy connections can saturate one thread while another idles; a request handed over pays a
/// cross-thread wake per burst of events, so balanced load (every worker within the margin)
/// never hands over.
fn hand_over(here: usize, least: usize) -> bool {
    here > least + (least / 4).max(4)
}

impl Workers {
    /// Starts `count` threads (at least one), named `oc-worker-N` (short enough for the kernel's
    /// 15-character thread names, as `top -H` shows them), each running a current-thread
    /// runtime with I/O and timers.
    ///
    /// # Errors
    ///
    /// [`Error::Workers`] when the system refuses a thread or a runtime.
    pub fn start(count: usize) -> Result<Self, Error> {
        let mut slots = Vec::with_capacity(count.max(1));
        let mut stops = Vec::with_capacity(count.max(1));
        for index in 0..count.max(1) {
            let (stop, stopped) = oneshot::channel::<()>();
            let (ready, started) = std::sync::mpsc::channel::<std::io::Result<Handle>>();
            std::thread::Builder::new()
                .name(format!("oc-worker-{index}"))
                .spawn(move || {
                    // Built, run and dropped on this thread: a runtime must never be dropped
                    // inside another one (the caller's, when starting fails half-way).
                    let runtime = match tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(runtime) => runtime,
                        Err(err) => {
                            let _ = ready.send(Err(err));
                            return;
                        }
                    };
                    let _ = ready.send(Ok(runtime.handle().clone()));
                    // Runs the tasks spawned on the handle until `stop` is dropped.
                    runtime.block_on(async move {
                        let _ = stopped.await;
                    });
                })
                .map_err(Error::Workers)?;
            let handle = started
                .recv()
                .map_err(|_| {
                    Error::Workers(std::io::Error::other("a worker thread ended at start"))
                })?
                .map_err(Error::Workers)?;
            slots.push(Slot {
                handle,
                open: AtomicUsize::new(0),
                active: AtomicUsize::new(0),
            });
            stops.push(stop);
        }
        Ok(Workers {
            shared: Arc::new(Shared {
                slots,
                next: AtomicUsize::new(0),
                handed_over: AtomicU64::new(0),
            }),
            _stop: stops,
        })
    }

    /// How many worker threads there are.
    pub fn len(&self) -> usize {
        self.shared.slots.len()
    }

    /// Always false: [`Workers::start`] starts at least one.
    pub fn is_empty(&self) -> bool {
        self.shared.slots.is_empty()
    }

    /// What the metrics read: each worker's load and the hand-overs.
    pub(crate) fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// The worker for a new connection: the one serving the fewest connections now (ties go
    /// round the workers); the connection counts there until the placement drops.
    pub(crate) fn assign(&self) -> (Handle, Placement) {
        let shared = &self.shared;
        let here = shared.least(|slot| &slot.open);
        let slot = &shared.slots[here];
        slot.open.fetch_add(1, Ordering::Relaxed);
        (
            slot.handle.clone(),
            Placement {
                shared: shared.clone(),
                here,
            },
        )
    }
}

impl Shared {
    /// Requests run on another worker than their connection's, so far.
    pub(crate) fn handed_over(&self) -> u64 {
        self.handed_over.load(Ordering::Relaxed)
    }

    /// Each worker's connections and requests now, in worker order.
    pub(crate) fn loads(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.slots.iter().map(|slot| {
            (
                slot.open.load(Ordering::Relaxed),
                slot.active.load(Ordering::Relaxed),
            )
        })
    }

    /// The slot with the smallest `count`, searching from the next start.
    fn least(&self, count: impl Fn(&Slot) -> &AtomicUsize) -> usize {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let len = self.slots.len();
        let mut best = start % len;
        let mut fewest = usize::MAX;
        for offset in 0..len {
            let index = (start + offset) % len;
            let n = count(&self.slots[index]).load(Ordering::Relaxed);
            if n < fewest {
                fewest = n;
                best = index;
            }
        }
        best
    }

    fn begin(self: &Arc<Self>, slot: usize) -> Active {
        self.slots[slot].active.fetch_add(1, Ordering::Relaxed);
        Active {
            shared: self.clone(),
            slot,
        }
    }
}

impl Placement {
    /// Where a new request of this connection runs: here (`None`), or, when it is `movable`
    /// (a model call, worth a hand-over), on the returned worker when this one is clearly
    /// busier ([`hand_over`]); counted active there until the guard drops.
    pub(crate) fn for_request(&self, movable: bool) -> (Option<Handle>, Active) {
        let shared = &self.shared;
        let here = shared.slots[self.here].active.load(Ordering::Relaxed);
        if movable && shared.slots.len() > 1 {
            let least = shared.least(|slot| &slot.active);
            let there = shared.slots[least].active.load(Ordering::Relaxed);
            if least != self.here && hand_over(here, there) {
                shared.handed_over.fetch_add(1, Ordering::Relaxed);
                return (
                    Some(shared.slots[least].handle.clone()),
                    shared.begin(least),
                );
            }
        }
        (None, shared.begin(self.here))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(workers: &Workers, of: fn(&Slot) -> &AtomicUsize) -> Vec<usize> {
        workers
            .shared
            .slots
            .iter()
            .map(|slot| of(slot).load(Ordering::Relaxed))
            .collect()
    }

    #[test]
    fn connections_go_to_the_worker_serving_the_fewest() {
        let workers = Workers::start(3).unwrap();
        let open = |w: &Workers| counts(w, |s| &s.open);
        let (_, a) = workers.assign();
        let (_, b) = workers.assign();
        let (_, c) = workers.assign();
        assert_eq!(open(&workers), [1, 1, 1]);
        let freed = b.here;
        drop(b);
        let (_, d) = workers.assign();
        assert_eq!(d.here, freed, "the freed worker is chosen again");
        assert_eq!(open(&workers), [1, 1, 1]);
        drop((a, c, d));
        assert_eq!(open(&workers), [0, 0, 0]);
    }

    #[test]
    fn requests_stay_on_their_worker_unless_it_is_clearly_busier() {
        assert!(!hand_over(0, 0));
        assert!(!hand_over(4, 0));
        assert!(hand_over(5, 0));
        // Balanced load (64 streams on two workers) never hands over.
        assert!(!hand_over(40, 32));
        assert!(hand_over(41, 32));

        let workers = Workers::start(2).unwrap();
        let active = |w: &Workers| counts(w, |s| &s.active);
        let (_, placement) = workers.assign();
        let here = placement.here;
        let mut running = Vec::new();
        for _ in 0..5 {
            let (elsewhere, guard) = placement.for_request(true);
            assert!(elsewhere.is_none());
            running.push(guard);
        }
        let mut expected = [0, 0];
        expected[here] = 5;
        assert_eq!(active(&workers), expected);
        // The sixth request runs on the idle worker.
        let (elsewhere, guard) = placement.for_request(true);
        assert!(elsewhere.is_some());
        assert_eq!(guard.slot, 1 - here);
        assert_eq!(workers.shared().handed_over(), 1);
        drop(guard);
        drop(running);
        assert_eq!(active(&workers), [0, 0]);
    }

    #[test]
    fn tasks_run_on_the_worker_threads() {
        let workers = Workers::start(2).unwrap();
        let (handle, _placement) = workers.assign();
        let (tx, rx) = std::sync::mpsc::channel();
        handle.spawn(async move {
            let name = std::thread::current().name().map(str::to_string);
            tx.send(name).unwrap();
        });
        let name = rx.recv().unwrap().unwrap();
        assert!(name.starts_with("oc-worker-"), "{name}");
    }
}
