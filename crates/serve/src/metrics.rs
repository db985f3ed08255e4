//! Prometheus metrics in the text exposition format.
//!
//! Written by hand: a handful of counters and histograms with fixed labels does not justify the
//! `prometheus` or `metrics` crate stacks (and their extra dependency trees).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::api_error::UpstreamFailure;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// A histogram updated with atomics only (no lock on the request path). The sum is kept in
/// nanoseconds, exact, and rendered in seconds.
#[derive(Debug, Default)]
struct Histogram {
    counts: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        // Cumulative buckets: every bound at or above the value counts it.
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {}",
                self.counts[i].load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// Counters and histograms by a label set that is fixed once seen: a read lock and atomic
/// updates on the request path, the write lock only the first time a label set appears.
#[derive(Debug)]
struct Labelled<K, V> {
    map: RwLock<BTreeMap<K, Arc<V>>>,
}

impl<K, V> Default for Labelled<K, V> {
    fn default() -> Self {
        Labelled {
            map: RwLock::new(BTreeMap::new()),
        }
    }
}

impl<K: Ord + Clone, V: Default> Labelled<K, V> {
    fn get(&self, key: &K) -> Arc<V> {
        let found = self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned();
        match found {
            Some(v) => v,
            None => self
                .map
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(key.clone())
                .or_default()
                .clone(),
        }
    }

    fn snapshot(&self) -> Vec<(K, Arc<V>)> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// The gateway's metrics. Updated without a mutex on the request path (atomics, and read
/// locks for labelled series already seen); upstream errors, rare, take a mutex.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Labelled<(&'static str, u16), AtomicU64>,
    request_duration: Labelled<&'static str, Histogram>,
    upstream_errors: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// Input, output, cache read and cache write tokens.
    tokens: [AtomicU64; 4],
    /// Cost of completed responses in nano-USD, by model id (`openclaw_cost_usd_total`).
    cost_nano_usd: Labelled<String, AtomicU64>,
    stream_duration: Histogram,
    ttft: Histogram,
    in_flight: AtomicI64,
    /// Open connections (`Gateway::serve`).
    connections: AtomicI64,
    /// Connections refused at the connection limit.
    connections_refused: AtomicU64,
    /// Requests refused before their body was read, by reason.
    admission_refused: Labelled<&'static str, AtomicU64>,
    /// Bytes of request bodies admitted and not yet released.
    body_bytes_admitted: AtomicI64,
    /// Requests waiting for a stream slot now.
    streams_queued: AtomicI64,
    /// Streams admitted: at once, after a wait in the queue.
    streams_admitted: [AtomicU64; 2],
    /// Requests refused a stream slot: the queue was full, the queue wait ran out.
    streams_shed: [AtomicU64; 2],
    /// Failed discoveries (the listing served is stale or the configured models only), counted
    /// by the model source.
    discovery_failures: Arc<AtomicU64>,
    /// The worker threads' loads and hand-overs, when the gateway serves on workers.
    workers: std::sync::OnceLock<Arc<crate::workers::Shared>>,
}

/// A Prometheus label value: backslash, double quote and newline escaped.
pub(crate) fn label_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The token kinds, in the order of [`Metrics::tokens`].
const TOKEN_KINDS: [&str; 4] = ["input", "output", "cache_read", "cache_write"];

impl Metrics {
    /// One answered request (status of the response head). `route` is one of a fixed set.
    pub fn request(&self, route: &'static str, status: u16, took: Duration) {
        self.requests
            .get(&(route, status))
            .fetch_add(1, Ordering::Relaxed);
        self.request_duration.get(&route).observe(took);
    }

    /// One upstream failure, by kind and AWS error code (empty when there was none).
    pub fn upstream_error(&self, failure: &UpstreamFailure) {
        // AWS codes are identifiers; keep label values plain whatever arrives.
        let code: String = failure
            .code
            .as_deref()
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
            .take(64)
            .collect();
        *self
            .upstream_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((failure.kind.as_str(), code))
            .or_default() += 1;
    }

    /// Token counts of a completed response.
    pub fn tokens(&self, usage: &openclaw_stream::Usage) {
        let counts = [
            usage.input,
            usage.output,
            usage.cache_read,
            usage.cache_write,
        ];
        for (total, n) in self.tokens.iter().zip(counts) {
            total.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// The cost of a completed response of `model` (its `usage.cost.total`: the model's
    /// configured `cost`, or the list prices discovery gives discovered models); a zero or
    /// invalid cost (an unpriced model) adds nothing.
    pub fn cost(&self, model: &str, usage: &openclaw_stream::Usage) {
        let usd = usage.cost.total;
        if !(usd.is_finite() && usd > 0.0) {
            return;
        }
        // Nano-USD keeps the counter exact and atomic; a response costs far less than 2^64.
        let nanos = (usd * 1e9).round() as u64;
        self.cost_nano_usd
            .get(&model.to_string())
            .fetch_add(nanos, Ordering::Relaxed);
    }

    /// Time from the request to the first generated token.
    pub fn first_token(&self, took: Duration) {
        self.ttft.observe(took);
    }

    /// A model stream (streaming or not) started.
    pub fn stream_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A model stream ended (completed, failed or cancelled) after `took`.
    pub fn stream_ended(&self, took: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.stream_duration.observe(took);
    }

    /// A connection was accepted.
    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection closed.
    pub fn connection_closed(&self) {
        self.connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// A connection was refused at the connection limit.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A request was refused before its body was read (`reason`: one of a fixed set).
    pub fn admission_refused(&self, reason: &'static str) {
        self.admission_refused
            .get(&reason)
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Body bytes admitted (positive) or released (negative).
    pub fn body_bytes_admitted(&self, delta: i64) {
        self.body_bytes_admitted.fetch_add(delta, Ordering::Relaxed);
    }

    /// A request joined (`1`) or left (`-1`) the queue for a stream slot.
    pub fn stream_queue(&self, delta: i64) {
        self.streams_queued.fetch_add(delta, Ordering::Relaxed);
    }

    /// A stream was admitted, at once or after waiting in the queue.
    pub fn stream_admitted(&self, waited: bool) {
        self.streams_admitted[usize::from(waited)].fetch_add(1, Ordering::Relaxed);
    }

    /// A request was refused a stream slot: the queue was full (`timed_out` false) or its
    /// wait ran out.
    pub fn stream_shed(&self, timed_out: bool) {
        self.streams_shed[usize::from(timed_out)].fetch_add(1, Ordering::Relaxed);
    }

    /// Renders `counter` as the failed-discoveries counter (the model source counts them).
    pub(crate) fn count_discovery_failures_in(&mut self, counter: Arc<AtomicU64>) {
        self.discovery_failures = counter;
    }

    /// Renders the load of `workers` too (the first set stays).
    pub(crate) fn watch_workers(&self, workers: Arc<crate::workers::Shared>) {
        let _ = self.workers.set(workers);
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP openclaw_gateway_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE openclaw_gateway_requests_total counter\n");
        for ((route, status), n) in self.requests.snapshot() {
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "openclaw_gateway_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP openclaw_gateway_request_duration_seconds Time to the response head, by route.\n");
        out.push_str("# TYPE openclaw_gateway_request_duration_seconds histogram\n");
        for (route, h) in self.request_duration.snapshot() {
            h.render(
                &mut out,
                "openclaw_gateway_request_duration_seconds",
                &format!("route=\"{route}\""),
            );
        }
        out.push_str("# HELP openclaw_gateway_stream_duration_seconds Duration of model streams, start to end or cancellation.\n");
        out.push_str("# TYPE openclaw_gateway_stream_duration_seconds histogram\n");
        self.stream_duration
            .render(&mut out, "openclaw_gateway_stream_duration_seconds", "");
        out.push_str("# HELP openclaw_gateway_time_to_first_token_seconds Time from the request to the first generated token.\n");
        out.push_str("# TYPE openclaw_gateway_time_to_first_token_seconds histogram\n");
        self.ttft
            .render(&mut out, "openclaw_gateway_time_to_first_token_seconds", "");
        out.push_str("# HELP openclaw_gateway_tokens_total Tokens by kind (input, output, cache_read, cache_write).\n");
        out.push_str("# TYPE openclaw_gateway_tokens_total counter\n");
        for (kind, n) in TOKEN_KINDS.iter().zip(&self.tokens) {
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(out, "openclaw_gateway_tokens_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP openclaw_cost_usd_total Cost of completed responses in USD by model id: configured prices, or for discovered models on-demand list prices (which may differ from what the account pays).\n");
        out.push_str("# TYPE openclaw_cost_usd_total counter\n");
        for (model, nanos) in self.cost_nano_usd.snapshot() {
            let usd = nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "openclaw_cost_usd_total{{model=\"{}\"}} {usd}",
                label_value(&model)
            );
        }
        out.push_str("# HELP openclaw_gateway_upstream_errors_total Bedrock failures by type (openclaw-stream's error kind) and AWS error code.\n");
        out.push_str("# TYPE openclaw_gateway_upstream_errors_total counter\n");
        let errors = self
            .upstream_errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for ((kind, code), n) in &errors {
            let _ = writeln!(
                out,
                "openclaw_gateway_upstream_errors_total{{type=\"{kind}\",code=\"{code}\"}} {n}"
            );
        }
        out.push_str("# HELP openclaw_gateway_streams_in_flight Model streams open now.\n");
        out.push_str("# TYPE openclaw_gateway_streams_in_flight gauge\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_streams_in_flight {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        self.render_protection(&mut out);
        self.render_stream_admission(&mut out);
        out
    }

    /// The queue for stream slots: depth, admitted and shed.
    fn render_stream_admission(&self, out: &mut String) {
        out.push_str(
            "# HELP openclaw_gateway_streams_queued Requests waiting for a stream slot now.\n",
        );
        out.push_str("# TYPE openclaw_gateway_streams_queued gauge\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_streams_queued {}",
            self.streams_queued.load(Ordering::Relaxed)
        );
        out.push_str("# HELP openclaw_gateway_streams_admitted_total Model streams admitted, at once or after waiting in the queue.\n");
        out.push_str("# TYPE openclaw_gateway_streams_admitted_total counter\n");
        for (how, n) in ["immediate", "queued"].iter().zip(&self.streams_admitted) {
            let _ = writeln!(
                out,
                "openclaw_gateway_streams_admitted_total{{how=\"{how}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        out.push_str("# HELP openclaw_gateway_streams_shed_total Requests refused a stream slot: the queue was full (429) or the queue wait ran out (503).\n");
        out.push_str("# TYPE openclaw_gateway_streams_shed_total counter\n");
        for (reason, n) in ["queue_full", "queue_timeout"]
            .iter()
            .zip(&self.streams_shed)
        {
            let _ = writeln!(
                out,
                "openclaw_gateway_streams_shed_total{{reason=\"{reason}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
    }

    /// The worker threads (`gateway.workers`): hand-overs, and each worker's connections and
    /// requests now (a worker far above the others is a few clients' busy connections).
    fn render_workers(&self, out: &mut String) {
        let workers = self.workers.get();
        out.push_str("# HELP openclaw_gateway_requests_handed_over_total Requests run on another worker thread than their connection's, whose worker was running clearly more requests.\n");
        out.push_str("# TYPE openclaw_gateway_requests_handed_over_total counter\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_requests_handed_over_total {}",
            workers.map_or(0, |w| w.handed_over())
        );
        let Some(workers) = workers else { return };
        out.push_str("# HELP openclaw_gateway_worker_connections Connections each worker thread serves now.\n");
        out.push_str("# TYPE openclaw_gateway_worker_connections gauge\n");
        for (worker, (open, _)) in workers.loads().enumerate() {
            let _ = writeln!(
                out,
                "openclaw_gateway_worker_connections{{worker=\"{worker}\"}} {open}"
            );
        }
        out.push_str("# HELP openclaw_gateway_worker_requests Requests each worker thread runs now (its connections' and those handed to it).\n");
        out.push_str("# TYPE openclaw_gateway_worker_requests gauge\n");
        for (worker, (_, active)) in workers.loads().enumerate() {
            let _ = writeln!(
                out,
                "openclaw_gateway_worker_requests{{worker=\"{worker}\"}} {active}"
            );
        }
    }

    /// Connections, admission and discovery health.
    fn render_protection(&self, out: &mut String) {
        out.push_str("# HELP openclaw_gateway_connections_open Connections open now.\n");
        out.push_str("# TYPE openclaw_gateway_connections_open gauge\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_connections_open {}",
            self.connections.load(Ordering::Relaxed)
        );
        self.render_workers(out);
        out.push_str("# HELP openclaw_gateway_connections_refused_total Connections refused at the connection limit.\n");
        out.push_str("# TYPE openclaw_gateway_connections_refused_total counter\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_connections_refused_total {}",
            self.connections_refused.load(Ordering::Relaxed)
        );
        out.push_str("# HELP openclaw_gateway_admission_refused_total Requests refused before their body was read, by reason.\n");
        out.push_str("# TYPE openclaw_gateway_admission_refused_total counter\n");
        for (reason, n) in self.admission_refused.snapshot() {
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "openclaw_gateway_admission_refused_total{{reason=\"{reason}\"}} {n}"
            );
        }
        out.push_str("# HELP openclaw_gateway_body_bytes_admitted Bytes of request bodies admitted for reading now.\n");
        out.push_str("# TYPE openclaw_gateway_body_bytes_admitted gauge\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_body_bytes_admitted {}",
            self.body_bytes_admitted.load(Ordering::Relaxed)
        );
        out.push_str(
            "# HELP openclaw_gateway_discovery_failures_total Failed Bedrock discoveries.\n",
        );
        out.push_str("# TYPE openclaw_gateway_discovery_failures_total counter\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_discovery_failures_total {}",
            self.discovery_failures.load(Ordering::Relaxed)
        );
    }
}

#[cfg(test)]
mod tests {
    use openclaw_stream::ErrorKind;

    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.request("/v1/chat/completions", 200, Duration::from_millis(30));
        m.upstream_error(&UpstreamFailure {
            kind: ErrorKind::Throttled,
            code: Some("ThrottlingException".into()),
        });
        m.upstream_error(&UpstreamFailure {
            kind: ErrorKind::Timeout,
            code: Some("bad\"label\nvalue".into()),
        });
        m.stream_started();
        m.stream_ended(Duration::from_millis(700));
        m.first_token(Duration::from_millis(20));
        let text = m.render();
        assert!(text.contains(
            "openclaw_gateway_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 1"
        ));
        assert!(text.contains(
            "openclaw_gateway_upstream_errors_total{type=\"throttled\",code=\"ThrottlingException\"} 1"
        ));
        assert!(text.contains(
            "openclaw_gateway_upstream_errors_total{type=\"timeout\",code=\"badlabelvalue\"} 1"
        ));
        assert!(text.contains("openclaw_gateway_stream_duration_seconds_bucket{le=\"1\"} 1"));
        assert!(text.contains("openclaw_gateway_stream_duration_seconds_bucket{le=\"0.5\"} 0"));
        assert!(text.contains("openclaw_gateway_time_to_first_token_seconds_count 1"));
        assert!(text.contains("openclaw_gateway_streams_in_flight 0"));
        m.stream_queue(1);
        m.stream_admitted(false);
        m.stream_admitted(true);
        m.stream_admitted(true);
        m.stream_shed(true);
        let text = m.render();
        assert!(text.contains("openclaw_gateway_streams_queued 1\n"));
        assert!(text.contains("openclaw_gateway_streams_admitted_total{how=\"immediate\"} 1\n"));
        assert!(text.contains("openclaw_gateway_streams_admitted_total{how=\"queued\"} 2\n"));
        assert!(text.contains("openclaw_gateway_streams_shed_total{reason=\"queue_full\"} 0\n"));
        assert!(text.contains("openclaw_gateway_streams_shed_total{reason=\"queue_timeout\"} 1\n"));
    }

    #[test]
    fn cost_is_counted_per_model_in_usd() {
        let m = Metrics::default();
        let mut usage = openclaw_stream::Usage::default();
        usage.cost.total = 0.000_375;
        let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc";
        m.cost(arn, &usage);
        m.cost(arn, &usage);
        m.cost("weird\"model", &usage);
        usage.cost.total = 0.0;
        m.cost("unpriced.model-v1:0", &usage);
        let text = m.render();
        assert!(text.contains("# TYPE openclaw_cost_usd_total counter\n"));
        assert!(
            text.contains(&format!(
                "openclaw_cost_usd_total{{model=\"{arn}\"}} 0.00075\n"
            )),
            "{text}"
        );
        assert!(text.contains("openclaw_cost_usd_total{model=\"weird\\\"model\"} 0.000375\n"));
        assert!(!text.contains("unpriced"));
    }
}
