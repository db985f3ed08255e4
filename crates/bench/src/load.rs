//! The load generator: closed loop at a fixed concurrency, open loop at a fixed rate.
//!
//! The open loop schedules request `i` at `t0 + i / rate` from a dedicated OS thread (a
//! `nanosleep` is far finer than tokio's 1 ms timer wheel) and every latency is measured from
//! that intended start, so a slow server cannot hide its queueing (no coordinated omission).
//! Every loop is bounded in count and in time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::stats::Sample;

/// Bounds shared by both loops.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// How long new requests are started.
    pub duration: Duration,
    /// At most this many requests in all.
    pub max_requests: u64,
    /// A request still running after this is a `timeout` error.
    pub timeout: Duration,
}

/// Runs `concurrency` workers, each starting its next request when the previous one ends.
pub async fn closed(
    client: &Client,
    concurrency: usize,
    bounds: Bounds,
) -> (Vec<Sample>, Duration) {
    let started = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let deadline = t0 + bounds.duration;
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let client = client.clone();
        let started = started.clone();
        workers.spawn(async move {
            let mut samples = Vec::new();
            while Instant::now() < deadline
                && started.fetch_add(1, Ordering::Relaxed) < bounds.max_requests
            {
                samples.push(client.run(Instant::now(), bounds.timeout).await);
            }
            samples
        });
    }
    let mut all = Vec::new();
    while let Some(done) = workers.join_next().await {
        if let Ok(samples) = done {
            all.extend(samples);
        }
    }
    (all, t0.elapsed())
}

/// Starts requests at `rate` per second for `bounds.duration`, regardless of how the previous
/// ones fare. At most `max_in_flight` run at once; requests over that cap fail at once with
/// `client cap` (the server is not keeping up).
pub async fn open(
    client: &Client,
    rate: f64,
    max_in_flight: usize,
    bounds: Bounds,
) -> (Vec<Sample>, Duration) {
    let rate = rate.max(0.001);
    let count =
        ((bounds.duration.as_secs_f64() * rate).ceil() as u64).clamp(1, bounds.max_requests);
    let handle = tokio::runtime::Handle::current();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let client = client.clone();
    let t0 = Instant::now() + Duration::from_millis(5);
    let dispatcher = std::thread::spawn(move || {
        let mut tasks = Vec::with_capacity(count as usize);
        let mut rejected = Vec::new();
        for i in 0..count {
            let intended = t0 + Duration::from_secs_f64(i as f64 / rate);
            let now = Instant::now();
            if intended > now {
                std::thread::sleep(intended - now);
            }
            if in_flight.load(Ordering::Relaxed) >= max_in_flight {
                rejected.push(Sample::failed(Duration::ZERO, "client cap"));
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            let client = client.clone();
            let in_flight = in_flight.clone();
            tasks.push(handle.spawn(async move {
                let sample = client.run(intended, bounds.timeout).await;
                in_flight.fetch_sub(1, Ordering::Relaxed);
                sample
            }));
        }
        (tasks, rejected)
    });
    let joined = tokio::task::spawn_blocking(move || dispatcher.join()).await;
    let Ok(Ok((tasks, mut samples))) = joined else {
        return (Vec::new(), t0.elapsed());
    };
    for task in tasks {
        match task.await {
            Ok(sample) => samples.push(sample),
            Err(_) => samples.push(Sample::failed(Duration::ZERO, "task")),
        }
    }
    (samples, t0.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::OpenaiClient;

    /// A tiny OpenAI-style SSE server on loopback: answers every request with two chunks.
    async fn sse_server() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(|_req| async {
                        let body = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n\
                                    data: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}\n\n\
                                    data: [DONE]\n\n";
                        Ok::<_, std::convert::Infallible>(
                            http::Response::builder()
                                .header("content-type", "text/event-stream")
                                .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                                .unwrap(),
                        )
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        url
    }

    fn bounds(ms: u64, max: u64) -> Bounds {
        Bounds {
            duration: Duration::from_millis(ms),
            max_requests: max,
            timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn closed_loop_is_bounded_by_count() {
        let url = sse_server().await;
        let client = Client::Openai(Arc::new(OpenaiClient::new(&url, "m", "p", None).unwrap()));
        let (samples, _) = closed(&client, 4, bounds(10_000, 40)).await;
        assert_eq!(samples.len(), 40);
        assert!(samples.iter().all(|s| s.error.is_none()), "{samples:?}");
        assert!(samples.iter().all(|s| s.tokens == 2 && s.ttft.is_some()));
    }

    #[tokio::test]
    async fn open_loop_keeps_its_schedule() {
        let url = sse_server().await;
        let client = Client::Openai(Arc::new(OpenaiClient::new(&url, "m", "p", None).unwrap()));
        let t = Instant::now();
        let (samples, _) = open(&client, 200.0, 64, bounds(250, 1_000)).await;
        assert_eq!(samples.len(), 50);
        assert!(samples.iter().all(|s| s.error.is_none()), "{samples:?}");
        assert!(t.elapsed() >= Duration::from_millis(245));
    }

    #[tokio::test]
    async fn refused_connections_are_errors() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let client = Client::Openai(Arc::new(OpenaiClient::new(&url, "m", "p", None).unwrap()));
        let (samples, _) = closed(&client, 1, bounds(10_000, 3)).await;
        assert_eq!(samples.len(), 3);
        assert!(
            samples
                .iter()
                .all(|s| s.error.as_deref() == Some("connect connection refused"))
        );
    }
}
