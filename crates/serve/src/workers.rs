//! [`Workers`]: one current-thread Tokio runtime per core, each serving the connections handed
//! to it.
//!
//! Why: a streamed answer is a chain of tasks (the client connection, the model call, the SDK's
//! connection to Bedrock) that wake each other for every burst of events. On a multi-thread
//! runtime those tasks land on different workers, so most wakes cross threads (a futex wake and
//! a context switch each). With a runtime per core, a connection's tasks, its model calls and
//! their upstream connections (one pool per thread, see `openclaw-creds`) all stay on one
//! thread; connections are spread over the threads by how many each already serves.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    workers: Vec<Worker>,
    /// Where the search for the least loaded worker starts (spreads ties).
    next: AtomicUsize,
}

#[derive(Debug)]
struct Worker {
    handle: Handle,
    /// Connections this worker serves now.
    open: Arc<AtomicUsize>,
    /// Dropped: the thread's runtime stops.
    _stop: oneshot::Sender<()>,
}

/// A connection counted on its worker while it lives.
#[derive(Debug)]
pub(crate) struct Assigned {
    open: Arc<AtomicUsize>,
}

impl Drop for Assigned {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Workers {
    /// Starts `count` threads (at least one), named `oc-worker-N` (short enough for the kernel's
    /// 15-character thread names, as `top -H` shows them), each running a
    /// current-thread runtime with I/O and timers.
    ///
    /// # Errors
    ///
    /// [`Error::Workers`] when the system refuses a thread or a runtime.
    pub fn start(count: usize) -> Result<Self, Error> {
        let mut workers = Vec::with_capacity(count.max(1));
        for index in 0..count.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(Error::Workers)?;
            let handle = runtime.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            std::thread::Builder::new()
                .name(format!("oc-worker-{index}"))
                .spawn(move || {
                    // Runs the tasks spawned on `handle` until `stop` is dropped; the runtime is
                    // dropped on this thread (never inside another runtime).
                    runtime.block_on(async move {
                        let _ = stopped.await;
                    });
                })
                .map_err(Error::Workers)?;
            workers.push(Worker {
                handle,
                open: Arc::new(AtomicUsize::new(0)),
                _stop: stop,
            });
        }
        Ok(Workers {
            workers,
            next: AtomicUsize::new(0),
        })
    }

    /// How many worker threads there are.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    /// Always false: [`Workers::start`] starts at least one.
    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }

    /// The worker serving the fewest connections now (ties go round the workers), counted
    /// until the returned guard drops.
    pub(crate) fn assign(&self) -> (&Handle, Assigned) {
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let count = self.workers.len();
        let mut best = start % count;
        let mut fewest = usize::MAX;
        for offset in 0..count {
            let index = (start + offset) % count;
            let open = self.workers[index].open.load(Ordering::Relaxed);
            if open < fewest {
                fewest = open;
                best = index;
            }
        }
        let worker = &self.workers[best];
        worker.open.fetch_add(1, Ordering::Relaxed);
        (
            &worker.handle,
            Assigned {
                open: worker.open.clone(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_go_to_the_least_loaded_worker() {
        let workers = Workers::start(3).unwrap();
        let (_, a) = workers.assign();
        let (_, b) = workers.assign();
        let (_, c) = workers.assign();
        let counts = || -> Vec<usize> {
            workers
                .workers
                .iter()
                .map(|w| w.open.load(Ordering::Relaxed))
                .collect()
        };
        assert_eq!(counts(), [1, 1, 1]);
        drop(b);
        let (_, d) = workers.assign();
        assert_eq!(counts(), [1, 1, 1], "the freed worker is chosen again");
        drop((a, c, d));
        assert_eq!(counts(), [0, 0, 0]);
    }

    #[test]
    fn tasks_run_on_the_worker_threads() {
        let workers = Workers::start(2).unwrap();
        let (handle, _slot) = workers.assign();
        let (tx, rx) = std::sync::mpsc::channel();
        handle.spawn(async move {
            let name = std::thread::current().name().map(str::to_string);
            tx.send(name).unwrap();
        });
        let name = rx.recv().unwrap().unwrap();
        assert!(name.starts_with("oc-worker-"), "{name}");
    }
}
