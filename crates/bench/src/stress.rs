//! The two scenarios of long-lived and excess load:
//!
//! - **paced**: `n` concurrent streams paced like a real model (first token after 300 ms, then
//!   one delta every 25 ms), each started on a ramp and run to its end once, along the direct
//!   and the gateway paths in turn, with the gateway's CPU share, its RSS (sampled every
//!   250 ms) and the time to first token it adds;
//! - **overload**: a fresh gateway with its default admission settings, offered twice the
//!   highest rate it sustained in the search: the rate it still serves, the first-token time
//!   of the requests it admits, and how fast and in what shape it refuses the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Client;
use crate::procs::Usage;
use crate::report::Compare;
use crate::stats::{Percentiles, Sample, Summary};

/// The paced scenario at one concurrency.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Paced {
    /// Concurrent streams asked for.
    pub streams: usize,
    /// Output tokens per stream (one token per delta).
    pub tokens: usize,
    /// The fake's delay before the first event, ms.
    pub pace_first_ms: u64,
    /// The fake's delay between events, ms.
    pub pace_ms: u64,
    /// Streams start evenly over this many seconds.
    pub ramp_s: f64,
    /// The transport between the gateway (and the direct client) and the fake, as the report
    /// names it: plain HTTP/1.1, or TLS with ALPN `h2` as against Bedrock.
    pub upstream: String,
    /// With TLS, the fake's HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS.
    pub upstream_h2_streams: Option<u32>,
    /// Gateway RSS after start-up and one request, before the load, KiB.
    pub idle_rss_kib: u64,
    /// Per path.
    pub paths: Vec<PacedPath>,
    /// Gateway against direct.
    pub compare: Option<Compare>,
}

/// One path of the paced scenario.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PacedPath {
    /// `direct` or `gateway`.
    pub path: String,
    /// Latency and errors (one request per stream).
    pub summary: Summary,
    /// Most streams in flight at once.
    pub most_open: usize,
    /// Gateway CPU over the run, percent of one CPU (gateway only).
    pub cpu_percent: Option<f64>,
    /// Gateway CPU per delta event, µs (gateway only).
    pub cpu_us_per_event: Option<f64>,
    /// Highest sampled gateway RSS, KiB (gateway only).
    pub peak_rss_kib: Option<u64>,
    /// (peak RSS − idle RSS) / streams, KiB (gateway only).
    pub kib_per_stream: Option<f64>,
    /// 1-minute load average of the machine at the end of the run.
    pub load_average: f64,
}

/// The shape of one paced run.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Streams.
    pub n: usize,
    /// Streams start evenly over this time.
    pub ramp: Duration,
    /// A stream still running after this is a `timeout` error.
    pub timeout: Duration,
    /// Delta events per stream.
    pub events_per_stream: usize,
}

/// Starts `shape.n` streams evenly over the ramp, each run once to its end; samples the
/// serving process `pid` (0: none) every 250 ms.
pub async fn paced_path(
    path: &str,
    client: &Client,
    shape: Shape,
    pid: u32,
    idle_rss_kib: u64,
) -> PacedPath {
    let Shape {
        n,
        ramp,
        timeout,
        events_per_stream,
    } = shape;
    let open = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now() + Duration::from_millis(20);
    let before = Usage::of(pid);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let intended = t0 + ramp.mul_f64(i as f64 / n.max(1) as f64);
        let (client, open, most) = (client.clone(), open.clone(), most.clone());
        tasks.spawn(async move {
            tokio::time::sleep_until(intended.into()).await;
            let now = open.fetch_add(1, Ordering::Relaxed) + 1;
            most.fetch_max(now, Ordering::Relaxed);
            let sample = client.run(intended, timeout).await;
            open.fetch_sub(1, Ordering::Relaxed);
            sample
        });
    }
    let mut peak_rss = 0;
    let mut samples: Vec<Sample> = Vec::with_capacity(n);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            done = tasks.join_next() => match done {
                Some(Ok(sample)) => samples.push(sample),
                Some(Err(_)) => samples.push(Sample::failed(Duration::ZERO, "task")),
                None => break,
            },
            _ = tick.tick() => {
                if pid != 0 {
                    peak_rss = peak_rss.max(Usage::of(pid).rss_kib);
                }
            }
        }
    }
    let wall = t0.elapsed();
    let after = Usage::of(pid);
    let summary = Summary::of(&samples, wall);
    let gateway = pid != 0;
    let cpu_s = after.cpu_s - before.cpu_s;
    let events = (summary.requests - summary.errors) as f64 * events_per_stream as f64;
    PacedPath {
        path: path.to_owned(),
        summary,
        most_open: most.load(Ordering::Relaxed),
        cpu_percent: gateway.then(|| cpu_s * 100.0 / wall.as_secs_f64().max(1e-9)),
        cpu_us_per_event: (gateway && events > 0.0).then(|| cpu_s * 1e6 / events),
        peak_rss_kib: gateway.then_some(peak_rss),
        kib_per_stream: gateway
            .then(|| peak_rss.saturating_sub(idle_rss_kib) as f64 / n.max(1) as f64),
        load_average: load_average(),
    }
}

/// The overload step.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overload {
    /// The highest rate that passed the search (req/s).
    pub base_rate: f64,
    /// The offered rate: twice `base_rate` (req/s).
    pub offered_rate: f64,
    /// Requests started.
    pub requests: u64,
    /// Requests served to their end.
    pub served: u64,
    /// Served requests per second.
    pub served_per_s: f64,
    /// `served_per_s / base_rate`.
    pub served_ratio: f64,
    /// Time to first token of the served requests, µs.
    pub admitted_ttft_us: Percentiles,
    /// Requests refused with 429 or 503, `Retry-After` and an OpenAI error body.
    pub refused: u64,
    /// Time to the end of each refusal, from the intended start, µs.
    pub refused_us: Percentiles,
    /// Of that time, the client's own delay before the request's task ran, µs.
    pub refused_client_delay_us: Percentiles,
    /// Of that time, from the request's task running to the request written (the connect
    /// to the gateway: refused connections are not reused), µs.
    pub refused_connect_us: Percentiles,
    /// Of that time, from the request written to the refusal read: the gateway's answer as
    /// the client sees it (loopback TCP, the gateway's queueing and work), µs.
    pub refused_answer_us: Percentiles,
    /// Any other failure (timeouts, refusals without `Retry-After`, ...), by kind.
    pub other_errors: Vec<(String, u64)>,
    /// Gateway CPU over the step, seconds.
    pub cpu_s: f64,
    /// Highest sampled gateway RSS during the step, KiB.
    pub peak_rss_kib: u64,
    /// Wall time of the step, seconds.
    pub seconds: f64,
    /// 1-minute load average of the machine at the end of the step.
    pub load_average: f64,
    /// The gateway's stream admission series after the step (`openclaw_gateway_streams_*` of
    /// `/metrics`: queue depth, admitted at once or after queueing, shed by reason).
    pub admission_metrics: Vec<(String, f64)>,
}

/// The `openclaw_gateway_streams_*` series of the gateway at `url` (`http://host:port`), from
/// one `GET /metrics` on a fresh connection; empty when unavailable (an older gateway).
pub async fn admission_metrics(url: &str) -> Vec<(String, f64)> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Some(authority) = url.strip_prefix("http://") else {
        return Vec::new();
    };
    let fetch = async {
        let mut tcp = tokio::net::TcpStream::connect(authority).await.ok()?;
        let head =
            format!("GET /metrics HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n");
        tcp.write_all(head.as_bytes()).await.ok()?;
        let mut text = String::new();
        tcp.read_to_string(&mut text).await.ok()?;
        Some(text)
    };
    let text = tokio::time::timeout(Duration::from_secs(5), fetch)
        .await
        .ok()
        .flatten()
        .unwrap_or_default();
    streams_series(&text)
}

/// The `openclaw_gateway_streams_*` samples of a Prometheus text.
fn streams_series(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|l| l.starts_with("openclaw_gateway_streams_"))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// Whether a failure kind is a proper refusal (see `client::refusal_kind`).
pub fn is_refusal(kind: &str) -> bool {
    kind == "http 429" || kind == "http 503"
}

/// Classifies the samples of the overload step.
pub fn overload_of(
    base_rate: f64,
    offered_rate: f64,
    samples: &[Sample],
    wall: Duration,
    cpu_s: f64,
    peak_rss_kib: u64,
) -> Overload {
    let served: Vec<&Sample> = samples.iter().filter(|s| s.error.is_none()).collect();
    let refused: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.error.as_deref().is_some_and(is_refusal))
        .collect();
    let mut other: Vec<(String, u64)> = Vec::new();
    for kind in samples
        .iter()
        .filter_map(|s| s.error.as_deref())
        .filter(|k| !is_refusal(k))
    {
        match other.iter_mut().find(|(k, _)| k == kind) {
            Some((_, n)) => *n += 1,
            None => other.push((kind.to_owned(), 1)),
        }
    }
    let seconds = wall.as_secs_f64().max(1e-9);
    let served_per_s = served.len() as f64 / seconds;
    Overload {
        base_rate,
        offered_rate,
        requests: samples.len() as u64,
        served: served.len() as u64,
        served_per_s,
        served_ratio: if base_rate > 0.0 {
            served_per_s / base_rate
        } else {
            0.0
        },
        admitted_ttft_us: Percentiles::of(
            served
                .iter()
                .filter_map(|s| s.ttft)
                .map(|d| d.as_micros() as u64)
                .collect(),
        ),
        refused: refused.len() as u64,
        refused_us: Percentiles::of(refused.iter().map(|s| s.total.as_micros() as u64).collect()),
        refused_client_delay_us: Percentiles::of(
            refused
                .iter()
                .filter_map(|s| s.began)
                .map(|d| d.as_micros() as u64)
                .collect(),
        ),
        refused_connect_us: Percentiles::of(
            refused
                .iter()
                .filter_map(|s| Some(s.sent?.saturating_sub(s.began?)))
                .map(|d| d.as_micros() as u64)
                .collect(),
        ),
        refused_answer_us: Percentiles::of(
            refused
                .iter()
                .filter_map(|s| Some(s.total.saturating_sub(s.sent?)))
                .map(|d| d.as_micros() as u64)
                .collect(),
        ),
        other_errors: other,
        cpu_s,
        peak_rss_kib,
        seconds,
        load_average: load_average(),
        admission_metrics: Vec::new(),
    }
}

/// Samples `pid`'s RSS every 100 ms until `stop` turns true; the highest value, KiB.
pub async fn rss_peak(pid: u32, mut stop: tokio::sync::watch::Receiver<bool>) -> u64 {
    let mut peak = Usage::of(pid).rss_kib;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            _ = tick.tick() => peak = peak.max(Usage::of(pid).rss_kib),
            _ = stop.wait_for(|s| *s) => return peak.max(Usage::of(pid).rss_kib),
        }
    }
}

/// The 1-minute load average (`/proc/loadavg`), 0 when unreadable.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overload_separates_served_refused_and_other() {
        let ok = Sample {
            ttft: Some(Duration::from_millis(4)),
            total: Duration::from_millis(9),
            ..Sample::default()
        };
        let samples = vec![
            ok.clone(),
            ok,
            Sample::failed(Duration::from_millis(2), "http 429"),
            Sample {
                began: Some(Duration::from_micros(500)),
                sent: Some(Duration::from_micros(1200)),
                ..Sample::failed(Duration::from_millis(3), "http 503")
            },
            Sample::failed(Duration::from_millis(3), "http 429 (no retry-after)"),
            Sample::failed(Duration::from_secs(10), "timeout"),
        ];
        let o = overload_of(100.0, 200.0, &samples, Duration::from_secs(1), 0.5, 1024);
        assert_eq!((o.requests, o.served, o.refused), (6, 2, 2));
        assert_eq!(o.served_ratio, 0.02);
        assert_eq!(o.admitted_ttft_us.p99, 4000.0);
        assert_eq!(o.refused_us.max, 3000.0);
        // The one refusal with its times: 0.5 ms before its task ran, 0.7 ms to connect,
        // 1.8 ms to the answer.
        assert_eq!(o.refused_client_delay_us.max, 500.0);
        assert_eq!(o.refused_connect_us.max, 700.0);
        assert_eq!(o.refused_answer_us.max, 1800.0);
        assert_eq!(
            o.other_errors,
            vec![
                ("http 429 (no retry-after)".to_owned(), 1),
                ("timeout".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn admission_series_are_read_from_metrics_text() {
        let text = "HTTP/1.1 200 OK\r\n\r\n# HELP openclaw_gateway_streams_queued x\nopenclaw_gateway_streams_queued 0\nopenclaw_gateway_streams_shed_total{reason=\"queue_full\"} 12\nopenclaw_gateway_tokens_total{kind=\"input\"} 5\n";
        assert_eq!(
            streams_series(text),
            vec![
                ("openclaw_gateway_streams_queued".to_owned(), 0.0),
                (
                    "openclaw_gateway_streams_shed_total{reason=\"queue_full\"}".to_owned(),
                    12.0
                ),
            ]
        );
    }

    #[test]
    fn the_load_average_is_read() {
        assert!(load_average() >= 0.0);
    }
}
