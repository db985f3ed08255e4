//! Per-request samples and their summaries (percentiles from sorted vectors).
//!
//! Sorted vectors instead of an HDR histogram: a run records at most a few hundred thousand
//! samples, so sorting is cheap and the percentiles are exact.

use std::time::Duration;

use serde::Serialize;

/// What one request measured.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    /// From the intended start to the first content token (`None` when no token came).
    pub ttft: Option<Duration>,
    /// From the intended start to the end of the response (or the failure).
    pub total: Duration,
    /// Response bytes received (body bytes; for the SDK path, the text bytes).
    pub bytes: u64,
    /// Output tokens reported by the usage event (0 when absent).
    pub tokens: u64,
    /// Failure kind, `None` when the request succeeded.
    pub error: Option<String>,
    /// From the intended start to the request's task running (the client's own delay).
    pub began: Option<Duration>,
    /// From the intended start to the request written on a connection (after the connect,
    /// when a new connection was needed).
    pub sent: Option<Duration>,
}

impl Sample {
    /// A failed request.
    pub fn failed(total: Duration, kind: impl Into<String>) -> Self {
        Sample {
            total,
            error: Some(kind.into()),
            ..Sample::default()
        }
    }
}

/// Percentiles of one latency, in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `values` (microseconds); zeros when empty.
    pub fn of(mut values: Vec<u64>) -> Self {
        if values.is_empty() {
            return Percentiles::default();
        }
        values.sort_unstable();
        let at = |q: f64| {
            // Nearest rank: the smallest value with at least q of the samples at or below it.
            let rank = (q * values.len() as f64).ceil() as usize;
            values[rank.clamp(1, values.len()) - 1] as f64
        };
        Percentiles {
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: values[values.len() - 1] as f64,
        }
    }

    /// `self - other`, percentile by percentile.
    pub fn minus(&self, other: &Percentiles) -> Percentiles {
        Percentiles {
            p50: self.p50 - other.p50,
            p90: self.p90 - other.p90,
            p99: self.p99 - other.p99,
            max: self.max - other.max,
        }
    }

    /// `self / other`, percentile by percentile (0 where `other` is 0).
    pub fn ratio(&self, other: &Percentiles) -> Percentiles {
        let div = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
        Percentiles {
            p50: div(self.p50, other.p50),
            p90: div(self.p90, other.p90),
            p99: div(self.p99, other.p99),
            max: div(self.max, other.max),
        }
    }
}

/// The summary of one load run along one path.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Requests started.
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Failure kinds and counts (a few, sorted by count).
    pub error_kinds: Vec<(String, u64)>,
    /// Wall time of the run, seconds.
    pub seconds: f64,
    /// Successful requests per second.
    pub req_per_s: f64,
    /// Output tokens per second (successful requests).
    pub tokens_per_s: f64,
    /// Mean response bytes per successful request.
    pub bytes_per_req: f64,
    /// Time to first token, microseconds (successful requests).
    pub ttft_us: Percentiles,
    /// Total time, microseconds (successful requests).
    pub total_us: Percentiles,
}

impl Summary {
    /// Summarises `samples` gathered over `wall`.
    pub fn of(samples: &[Sample], wall: Duration) -> Self {
        let ok: Vec<&Sample> = samples.iter().filter(|s| s.error.is_none()).collect();
        let seconds = wall.as_secs_f64().max(1e-9);
        let mut kinds: Vec<(String, u64)> = Vec::new();
        for kind in samples.iter().filter_map(|s| s.error.as_deref()) {
            match kinds.iter_mut().find(|(k, _)| k == kind) {
                Some((_, n)) => *n += 1,
                None => kinds.push((kind.to_owned(), 1)),
            }
        }
        kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
        kinds.truncate(5);
        let tokens: u64 = ok.iter().map(|s| s.tokens).sum();
        let bytes: u64 = ok.iter().map(|s| s.bytes).sum();
        Summary {
            requests: samples.len() as u64,
            errors: (samples.len() - ok.len()) as u64,
            error_kinds: kinds,
            seconds,
            req_per_s: ok.len() as f64 / seconds,
            tokens_per_s: tokens as f64 / seconds,
            bytes_per_req: if ok.is_empty() {
                0.0
            } else {
                bytes as f64 / ok.len() as f64
            },
            ttft_us: Percentiles::of(
                ok.iter()
                    .filter_map(|s| s.ttft)
                    .map(|d| d.as_micros() as u64)
                    .collect(),
            ),
            total_us: Percentiles::of(ok.iter().map(|s| s.total.as_micros() as u64).collect()),
        }
    }

    /// Failed requests as a fraction of those started (0 when none started).
    pub fn error_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.errors as f64 / self.requests as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=100).collect());
        assert_eq!(
            p,
            Percentiles {
                p50: 50.0,
                p90: 90.0,
                p99: 99.0,
                max: 100.0
            }
        );
        let one = Percentiles::of(vec![7]);
        assert_eq!((one.p50, one.p99, one.max), (7.0, 7.0, 7.0));
        assert_eq!(Percentiles::of(Vec::new()), Percentiles::default());
    }

    #[test]
    fn differences_and_ratios() {
        let a = Percentiles::of(vec![300; 10]);
        let b = Percentiles::of(vec![200; 10]);
        assert_eq!(a.minus(&b).p99, 100.0);
        assert_eq!(a.ratio(&b).p50, 1.5);
        assert_eq!(a.ratio(&Percentiles::default()).p50, 0.0);
    }

    #[test]
    fn summary_counts_errors_and_rates() {
        let ok = |ms: u64| Sample {
            ttft: Some(Duration::from_millis(ms / 2)),
            total: Duration::from_millis(ms),
            bytes: 100,
            tokens: 200,
            error: None,
            ..Sample::default()
        };
        let samples = vec![
            ok(10),
            ok(20),
            Sample::failed(Duration::from_millis(1), "http 429"),
            Sample::failed(Duration::from_millis(1), "http 429"),
            Sample::failed(Duration::from_millis(1), "timeout"),
        ];
        let s = Summary::of(&samples, Duration::from_secs(2));
        assert_eq!((s.requests, s.errors), (5, 3));
        assert_eq!(
            s.error_kinds,
            vec![("http 429".to_owned(), 2), ("timeout".to_owned(), 1)]
        );
        assert_eq!(s.req_per_s, 1.0);
        assert_eq!(s.tokens_per_s, 200.0);
        assert_eq!(s.bytes_per_req, 100.0);
        assert_eq!(s.total_us.max, 20_000.0);
        assert_eq!(s.ttft_us.p50, 5_000.0);
        assert!((s.error_rate() - 0.6).abs() < 1e-9);
    }
}
