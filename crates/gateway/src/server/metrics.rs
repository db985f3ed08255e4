//! Prometheus metrics in the text exposition format.
//!
//! Written by hand: a handful of counters and histograms with fixed labels does not justify the
//! `prometheus` or `metrics` crate stacks (and their extra dependency trees).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use super::error::UpstreamFailure;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += secs;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Inner {
    requests: BTreeMap<(String, u16), u64>,
    upstream_errors: BTreeMap<(&'static str, String), u64>,
    tokens: BTreeMap<&'static str, u64>,
    stream_duration: Histogram,
    ttft: Histogram,
    request_duration: BTreeMap<String, Histogram>,
}

/// The gateway's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
    in_flight: AtomicI64,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One answered request (status of the response head).
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        let mut m = self.lock();
        *m.requests.entry((route.to_string(), status)).or_default() += 1;
        m.request_duration
            .entry(route.to_string())
            .or_default()
            .observe(took.as_secs_f64());
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
            .lock()
            .upstream_errors
            .entry((failure.kind.as_str(), code))
            .or_default() += 1;
    }

    /// Token counts of a completed response.
    pub fn tokens(&self, usage: &openclaw_stream::Usage) {
        let mut m = self.lock();
        *m.tokens.entry("input").or_default() += usage.input;
        *m.tokens.entry("output").or_default() += usage.output;
        *m.tokens.entry("cache_read").or_default() += usage.cache_read;
        *m.tokens.entry("cache_write").or_default() += usage.cache_write;
    }

    /// Time from the request to the first generated token.
    pub fn first_token(&self, took: Duration) {
        self.lock().ttft.observe(took.as_secs_f64());
    }

    /// A model stream (streaming or not) started.
    pub fn stream_started(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// A model stream ended (completed, failed or cancelled) after `took`.
    pub fn stream_ended(&self, took: Duration) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        self.lock().stream_duration.observe(took.as_secs_f64());
    }

    /// The exposition text.
    pub fn render(&self) -> String {
        let m = self.lock();
        let mut out = String::new();
        out.push_str("# HELP openclaw_gateway_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE openclaw_gateway_requests_total counter\n");
        for ((route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "openclaw_gateway_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP openclaw_gateway_request_duration_seconds Time to the response head, by route.\n");
        out.push_str("# TYPE openclaw_gateway_request_duration_seconds histogram\n");
        for (route, h) in &m.request_duration {
            h.render(
                &mut out,
                "openclaw_gateway_request_duration_seconds",
                &format!("route=\"{route}\""),
            );
        }
        out.push_str("# HELP openclaw_gateway_stream_duration_seconds Duration of model streams, start to end or cancellation.\n");
        out.push_str("# TYPE openclaw_gateway_stream_duration_seconds histogram\n");
        m.stream_duration
            .render(&mut out, "openclaw_gateway_stream_duration_seconds", "");
        out.push_str("# HELP openclaw_gateway_time_to_first_token_seconds Time from the request to the first generated token.\n");
        out.push_str("# TYPE openclaw_gateway_time_to_first_token_seconds histogram\n");
        m.ttft
            .render(&mut out, "openclaw_gateway_time_to_first_token_seconds", "");
        out.push_str("# HELP openclaw_gateway_tokens_total Tokens by kind (input, output, cache_read, cache_write).\n");
        out.push_str("# TYPE openclaw_gateway_tokens_total counter\n");
        for kind in ["input", "output", "cache_read", "cache_write"] {
            let n = m.tokens.get(kind).copied().unwrap_or_default();
            let _ = writeln!(out, "openclaw_gateway_tokens_total{{kind=\"{kind}\"}} {n}");
        }
        out.push_str("# HELP openclaw_gateway_upstream_errors_total Bedrock failures by type (openclaw-stream's error kind) and AWS error code.\n");
        out.push_str("# TYPE openclaw_gateway_upstream_errors_total counter\n");
        for ((kind, code), n) in &m.upstream_errors {
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
        out
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
    }
}
