//! The soak mode (`--soak MINUTES`): a fixed number of paced streams held open for minutes, each
//! re-opened as it ends, with a share of them cut by the client mid-stream and upstream faults
//! queued on the fake at run time, while the gateway's RSS and open descriptors are sampled.
//!
//! Rules: every stream is bounded by a timeout and no stream starts after the deadline, so the
//! run stops by itself; the fault injector and the sampler stop on a signal; idle RSS is read
//! before the load and again a fixed time after the last stream ended.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Client;
use crate::procs::Usage;
use crate::report::Machine;

/// Sizes and timings of a soak run.
#[derive(Debug, Clone, Copy)]
pub struct SoakPlan {
    /// How long new streams are opened.
    pub duration: Duration,
    /// Streams kept open at once.
    pub streams: usize,
    /// Output tokens (one per paced event) of a stream.
    pub tokens: usize,
    /// One stream in this many is cut by the client mid-stream (20: 5 %).
    pub disconnect_every: u64,
    /// One upstream fault is queued on the fake this often.
    pub fault_period: Duration,
    /// Resource samples this often.
    pub sample_period: Duration,
    /// The idle wait after the load before the after-load idle reading.
    pub settle: Duration,
    /// Workers start evenly over this time.
    pub ramp: Duration,
    /// A stream still open after this is a `timeout` error.
    pub timeout: Duration,
    /// Expected length of an uncut stream (the cut point is chosen inside it).
    pub stream_len: Duration,
}

/// Resident memory and open descriptors of a process at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Resources {
    /// `VmRSS`, KiB.
    pub rss_kib: u64,
    /// Entries of `/proc/<pid>/fd`.
    pub fds: u64,
}

impl Resources {
    /// Reads `/proc/<pid>` (zeros when unreadable).
    pub fn of(pid: u32) -> Resources {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count() as u64)
            .unwrap_or(0);
        Resources {
            rss_kib: Usage::of(pid).rss_kib,
            fds,
        }
    }
}

/// One sample of the time series.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct SoakSample {
    /// Seconds since the load started.
    pub t_s: f64,
    /// `load` while streams are opened, `drain` until the last one ends, `idle` after.
    pub phase: String,
    /// Gateway RSS, KiB.
    pub rss_kib: u64,
    /// Gateway open descriptors.
    pub fds: u64,
    /// Streams open at that moment (client side).
    pub open: u64,
    /// Streams ended so far with a complete answer.
    pub completed: u64,
    /// Streams cut by the client so far.
    pub disconnected: u64,
    /// Streams failed so far.
    pub errors: u64,
}

/// The result of a soak run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Soak {
    /// The machine.
    pub machine: Machine,
    /// Minutes of load.
    pub minutes: f64,
    /// Streams kept open at once.
    pub streams: usize,
    /// Output tokens of a stream.
    pub tokens: usize,
    /// The fake's delay before the first event, ms.
    pub pace_first_ms: u64,
    /// The fake's delay between events, ms.
    pub pace_ms: u64,
    /// Share of streams cut by the client, percent.
    pub disconnect_percent: f64,
    /// Streams opened.
    pub opened: u64,
    /// Streams ended with a complete answer.
    pub completed: u64,
    /// Streams cut by the client on purpose.
    pub disconnected: u64,
    /// Failed streams by kind (as the client saw them).
    pub errors: Vec<(String, u64)>,
    /// Faults queued on the fake, by kind.
    pub faults_injected: Vec<(String, u64)>,
    /// Gateway idle resources before the load (after one warm-up request).
    pub idle_before: Resources,
    /// Gateway idle resources `settle_s` after the last stream ended.
    pub idle_after: Resources,
    /// The wait before the after-load reading, seconds.
    pub settle_s: f64,
    /// Highest RSS sampled, KiB.
    pub peak_rss_kib: u64,
    /// Most descriptors sampled.
    pub peak_fds: u64,
    /// After-load idle RSS over before-load idle RSS.
    pub idle_rss_ratio: f64,
    /// The target: after-load idle RSS within 2x of before-load idle RSS.
    pub target_met: bool,
    /// The descriptor target: after-load idle fds at most [`IDLE_FDS_SLACK`] over before-load.
    pub fds_target_met: bool,
    /// 1-minute load average at the start and at the end of the load.
    pub load_average: (f64, f64),
    /// Wall time of the whole soak, seconds.
    pub run_seconds: f64,
    /// Resource samples over time.
    pub samples: Vec<SoakSample>,
}

/// Highest allowed after-load / before-load idle RSS ratio.
pub const IDLE_RSS_RATIO_TARGET: f64 = 2.0;

/// Most descriptors the idle gateway may hold after the load over its count before: the
/// idle connections its HTTP client may keep pooled to one host (64), which close after its
/// idle timeout; the load's thousands of connections must be gone.
pub const IDLE_FDS_SLACK: u64 = 64;

/// Shared counters of the workers.
#[derive(Default)]
struct Counters {
    seq: AtomicU64,
    open: AtomicU64,
    completed: AtomicU64,
    disconnected: AtomicU64,
    errors: AtomicU64,
    kinds: Mutex<BTreeMap<String, u64>>,
}

/// Whether stream `n` is cut by the client (one in `every`).
pub fn cut(n: u64, every: u64) -> bool {
    every > 0 && n % every == every / 2
}

/// When stream `n` is cut: spread over 10 %..90 % of `stream_len` (at least 100 ms).
pub fn cut_after(n: u64, stream_len: Duration) -> Duration {
    let frac = 0.1 + 0.8 * ((n.wrapping_mul(7919) % 1000) as f64 / 1000.0);
    Duration::from_secs_f64((stream_len.as_secs_f64() * frac).max(0.1))
}

/// The fault queued at tick `i`: throttle, internal error, an exception mid-stream, in turn.
pub fn fault(i: u64, tokens: usize) -> (&'static str, serde_json::Value) {
    match i % 3 {
        0 => ("throttle (429)", serde_json::json!({ "type": "throttle" })),
        1 => (
            "internal error (500)",
            serde_json::json!({ "type": "internal_error" }),
        ),
        _ => (
            "exception mid-stream",
            serde_json::json!({
                "type": "stream_exception",
                "after_events": tokens / 2,
                "kind": "internal_server",
                "message": "soak: injected mid-stream exception",
            }),
        ),
    }
}

/// Runs the load on `client` (the gateway) against the fake at `fake_url`, sampling `pid`;
/// the client (and its pooled connections) is dropped when the last stream ends.
pub async fn run(client: Client, fake_url: &str, pid: u32, plan: SoakPlan) -> Soak {
    let started = Instant::now();
    let mut soak = Soak {
        minutes: plan.duration.as_secs_f64() / 60.0,
        streams: plan.streams,
        tokens: plan.tokens,
        disconnect_percent: if plan.disconnect_every > 0 {
            100.0 / plan.disconnect_every as f64
        } else {
            0.0
        },
        settle_s: plan.settle.as_secs_f64(),
        idle_before: Resources::of(pid),
        ..Soak::default()
    };
    let la0 = crate::stress::load_average();
    let counters = Arc::new(Counters::default());
    let phase = Arc::new(Mutex::new("load"));
    let t0 = Instant::now();
    let deadline = t0 + plan.duration;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(sample(
        pid,
        plan.sample_period,
        t0,
        counters.clone(),
        phase.clone(),
        stopped.clone(),
    ));
    let injector = tokio::spawn(inject(
        fake_url.to_owned(),
        plan.fault_period,
        plan.tokens,
        deadline,
        stopped,
    ));

    let mut workers = tokio::task::JoinSet::new();
    for w in 0..plan.streams.max(1) {
        let client = client.clone();
        let counters = counters.clone();
        let delay = plan.ramp.mul_f64(w as f64 / plan.streams.max(1) as f64);
        workers.spawn(async move {
            tokio::time::sleep(delay).await;
            while Instant::now() < deadline {
                let n = counters.seq.fetch_add(1, Ordering::Relaxed);
                counters.open.fetch_add(1, Ordering::Relaxed);
                let cutting = cut(n, plan.disconnect_every);
                let limit = if cutting {
                    cut_after(n, plan.stream_len)
                } else {
                    plan.timeout
                };
                let s = client.run(Instant::now(), limit).await;
                counters.open.fetch_sub(1, Ordering::Relaxed);
                match s.error {
                    None => {
                        counters.completed.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(kind) if cutting && kind == "timeout" => {
                        counters.disconnected.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(kind) => {
                        counters.errors.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut k) = counters.kinds.lock() {
                            *k.entry(kind).or_default() += 1;
                        }
                        // A failed stream ends at once; pace the retry like a client would.
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
    tokio::time::sleep_until(deadline.into()).await;
    let la1 = crate::stress::load_average();
    if let Ok(mut p) = phase.lock() {
        *p = "drain";
    }
    while workers.join_next().await.is_some() {}
    // The client's pooled keep-alive connections close here, so the idle reading counts none.
    drop(client);
    if let Ok(mut p) = phase.lock() {
        *p = "idle";
    }
    eprintln!(
        "soak: load over after {:.0} s; {} streams opened; idle wait {:.0} s",
        t0.elapsed().as_secs_f64(),
        counters.seq.load(Ordering::Relaxed),
        plan.settle.as_secs_f64()
    );
    tokio::time::sleep(plan.settle).await;
    soak.idle_after = Resources::of(pid);
    let _ = stop.send(true);
    soak.samples = sampler.await.unwrap_or_default();
    soak.faults_injected = injector.await.unwrap_or_default();
    soak.opened = counters.seq.load(Ordering::Relaxed);
    soak.completed = counters.completed.load(Ordering::Relaxed);
    soak.disconnected = counters.disconnected.load(Ordering::Relaxed);
    soak.errors = counters
        .kinds
        .lock()
        .map(|k| k.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    soak.load_average = (la0, la1);
    finish(&mut soak);
    soak.run_seconds = started.elapsed().as_secs_f64();
    soak
}

/// Fills the peaks, the ratio and the verdict from the readings.
pub fn finish(soak: &mut Soak) {
    soak.peak_rss_kib = soak.samples.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    soak.peak_fds = soak.samples.iter().map(|s| s.fds).max().unwrap_or(0);
    soak.idle_rss_ratio = if soak.idle_before.rss_kib > 0 {
        soak.idle_after.rss_kib as f64 / soak.idle_before.rss_kib as f64
    } else {
        0.0
    };
    soak.target_met = soak.idle_before.rss_kib > 0
        && soak.idle_after.rss_kib > 0
        && soak.idle_rss_ratio <= IDLE_RSS_RATIO_TARGET;
    soak.fds_target_met = soak.idle_before.fds > 0
        && soak.idle_after.fds > 0
        && soak.idle_after.fds <= soak.idle_before.fds + IDLE_FDS_SLACK;
}

async fn sample(
    pid: u32,
    period: Duration,
    t0: Instant,
    counters: Arc<Counters>,
    phase: Arc<Mutex<&'static str>>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Vec<SoakSample> {
    let mut out = Vec::new();
    let mut tick = tokio::time::interval(period);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.wait_for(|s| *s) => break,
        }
        let r = Resources::of(pid);
        let s = SoakSample {
            t_s: t0.elapsed().as_secs_f64(),
            phase: phase.lock().map(|p| (*p).to_owned()).unwrap_or_default(),
            rss_kib: r.rss_kib,
            fds: r.fds,
            open: counters.open.load(Ordering::Relaxed),
            completed: counters.completed.load(Ordering::Relaxed),
            disconnected: counters.disconnected.load(Ordering::Relaxed),
            errors: counters.errors.load(Ordering::Relaxed),
        };
        eprintln!(
            "soak {:>6.0} s {:<5} RSS {:>7.1} MiB, {:>5} fds, {:>5} open, {} completed, {} cut, {} errors",
            s.t_s,
            s.phase,
            s.rss_kib as f64 / 1024.0,
            s.fds,
            s.open,
            s.completed,
            s.disconnected,
            s.errors
        );
        out.push(s);
    }
    out
}

/// Queues one fault on the fake every `period` until `deadline` (or the stop signal).
async fn inject(
    fake_url: String,
    period: Duration,
    tokens: usize,
    deadline: Instant,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut tick = tokio::time::interval(period);
    // The first tick is immediate: let the streams ramp up first.
    tick.tick().await;
    let mut i = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stopped.wait_for(|s| *s) => break,
        }
        if Instant::now() >= deadline {
            break;
        }
        let (kind, body) = fault(i, tokens);
        i += 1;
        if post_fault(&fake_url, &body).await {
            *counts.entry(kind.to_owned()).or_default() += 1;
        } else {
            *counts.entry(format!("{kind}: not queued")).or_default() += 1;
        }
    }
    counts.into_iter().collect()
}

/// `POST /_fake/faults` on the fake; true on a 2xx answer.
async fn post_fault(url: &str, body: &serde_json::Value) -> bool {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let Some(authority) = url.strip_prefix("http://") else {
        return false;
    };
    let body = body.to_string();
    let send = async {
        let mut tcp = tokio::net::TcpStream::connect(authority).await.ok()?;
        let head = format!(
            "POST /_fake/faults HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(head.as_bytes()).await.ok()?;
        let mut text = String::new();
        tcp.read_to_string(&mut text).await.ok()?;
        Some(text)
    };
    tokio::time::timeout(Duration::from_secs(5), send)
        .await
        .ok()
        .flatten()
        .is_some_and(|t| t.starts_with("HTTP/1.1 2"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The Markdown report: the summary with the verdict, errors and faults by kind, and the time
/// series (one row in `every` samples, plus the last).
pub fn markdown(s: &Soak, every: usize) -> String {
    use std::fmt::Write as _;
    let mut md = String::new();
    let _ = writeln!(md, "# openclaw gateway soak\n");
    let _ = writeln!(
        md,
        "Machine: {} CPUs ({}), {} MiB, kernel {}, {}. Load average (1 min) {:.2} at the start, {:.2} at the end of the load.\n",
        s.machine.cpus,
        s.machine.cpu_model,
        s.machine.memory_mib,
        s.machine.kernel,
        s.machine.rustc,
        s.load_average.0,
        s.load_average.1
    );
    let _ = writeln!(
        md,
        "{} paced streams at once for {:.1} min, each re-opened as it ends: {} tokens, first event after {} ms, then one every {} ms; {:.1} % cut by the client mid-stream; one upstream fault queued on the fake every few seconds (throttle, 500, exception mid-stream in turn). Whole run {:.0} s.\n",
        s.streams,
        s.minutes,
        s.tokens,
        s.pace_first_ms,
        s.pace_ms,
        s.disconnect_percent,
        s.run_seconds
    );
    let _ = writeln!(md, "| figure | value |\n|---|---|");
    let _ = writeln!(md, "| streams opened | {} |", s.opened);
    let _ = writeln!(md, "| completed | {} |", s.completed);
    let _ = writeln!(
        md,
        "| cut by the client (on purpose) | {} |",
        s.disconnected
    );
    let errors: u64 = s.errors.iter().map(|(_, n)| n).sum();
    let _ = writeln!(md, "| failed | {errors} |");
    let _ = writeln!(
        md,
        "| idle before load | {:.1} MiB RSS, {} fds |",
        mib(s.idle_before.rss_kib),
        s.idle_before.fds
    );
    let _ = writeln!(
        md,
        "| peak under load | {:.1} MiB RSS, {} fds |",
        mib(s.peak_rss_kib),
        s.peak_fds
    );
    let _ = writeln!(
        md,
        "| idle {:.0} s after load | {:.1} MiB RSS, {} fds |",
        s.settle_s,
        mib(s.idle_after.rss_kib),
        s.idle_after.fds
    );
    let _ = writeln!(
        md,
        "| after-load / before-load idle RSS (target ≤ {IDLE_RSS_RATIO_TARGET:.0}x) | {:.2}x: **{}** |",
        s.idle_rss_ratio,
        if s.target_met { "met" } else { "MISSED" }
    );
    let _ = writeln!(
        md,
        "| after-load idle fds (target ≤ before-load + {IDLE_FDS_SLACK}) | {} (before: {}): **{}** |\n",
        s.idle_after.fds,
        s.idle_before.fds,
        if s.fds_target_met { "met" } else { "MISSED" }
    );
    let _ = writeln!(
        md,
        "## Errors by kind (client side)\n\n| kind | streams |\n|---|---|"
    );
    if s.errors.is_empty() {
        let _ = writeln!(md, "| (none) | 0 |");
    }
    for (k, n) in &s.errors {
        let _ = writeln!(md, "| {k} | {n} |");
    }
    let _ = writeln!(
        md,
        "\n## Faults queued on the fake\n\n| fault | queued |\n|---|---|"
    );
    if s.faults_injected.is_empty() {
        let _ = writeln!(md, "| (none) | 0 |");
    }
    for (k, n) in &s.faults_injected {
        let _ = writeln!(md, "| {k} | {n} |");
    }
    let _ = writeln!(
        md,
        "\n## Gateway RSS and descriptors over time\n\n| t (s) | phase | RSS (MiB) | fds | open | completed | cut | failed |\n|---:|---|---:|---:|---:|---:|---:|---:|"
    );
    let every = every.max(1);
    let last = s.samples.len().saturating_sub(1);
    for (i, x) in s.samples.iter().enumerate() {
        if i % every == 0 || i == last {
            let _ = writeln!(
                md,
                "| {:.0} | {} | {:.1} | {} | {} | {} | {} | {} |",
                x.t_s,
                x.phase,
                mib(x.rss_kib),
                x.fds,
                x.open,
                x.completed,
                x.disconnected,
                x.errors
            );
        }
    }
    md
}

/// A line chart of RSS (MiB, left scale) and descriptors (right scale) over time.
pub fn svg(s: &Soak) -> String {
    use std::fmt::Write as _;
    let (w, h, left, right, top, bottom) = (720.0, 320.0, 60.0, 60.0, 30.0, 40.0);
    let t_max = s.samples.iter().map(|x| x.t_s).fold(1.0, f64::max);
    let rss_max = s.samples.iter().map(|x| mib(x.rss_kib)).fold(1.0, f64::max) * 1.1;
    let fd_max = s.samples.iter().map(|x| x.fds as f64).fold(1.0, f64::max) * 1.1;
    let px = |t: f64| left + (w - left - right) * t / t_max;
    let py = |v: f64, max: f64| top + (h - top - bottom) * (1.0 - v / max);
    let line = |f: &dyn Fn(&SoakSample) -> f64, max: f64| {
        s.samples
            .iter()
            .map(|x| format!("{:.1},{:.1}", px(x.t_s), py(f(x), max)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="{w}" height="{h}" fill="white"/><text x="{left}" y="18">gateway RSS (MiB, blue, left) and open fds (orange, right) over {t_max:.0} s</text>"#
    );
    let (x0, x1, y0, y1) = (left, w - right, top, h - bottom);
    let _ = writeln!(
        out,
        r##"<path d="M{x0},{y0} V{y1} H{x1} V{y0}" fill="none" stroke="#888"/>"##
    );
    let _ = writeln!(
        out,
        r#"<text x="{x0}" y="{}" text-anchor="middle">0</text><text x="{x1}" y="{}" text-anchor="middle">{t_max:.0} s</text>"#,
        y1 + 15.0,
        y1 + 15.0
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="end">{rss_max:.0}</text><text x="{}" y="{}">{fd_max:.0}</text>"#,
        x0 - 4.0,
        y0 + 4.0,
        x1 + 4.0,
        y0 + 4.0
    );
    let _ = writeln!(
        out,
        r##"<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{}"/>"##,
        line(&|x| mib(x.rss_kib), rss_max)
    );
    let _ = writeln!(
        out,
        r##"<polyline fill="none" stroke="#ff7f0e" stroke-width="1.5" points="{}"/>"##,
        line(&|x| x.fds as f64, fd_max)
    );
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soak() -> Soak {
        let mut s = Soak {
            minutes: 10.0,
            streams: 2000,
            tokens: 400,
            pace_first_ms: 300,
            pace_ms: 25,
            disconnect_percent: 5.0,
            opened: 100,
            completed: 90,
            disconnected: 5,
            errors: vec![("http 429".to_owned(), 3), ("http 500".to_owned(), 2)],
            faults_injected: vec![("throttle (429)".to_owned(), 3)],
            idle_before: Resources {
                rss_kib: 10 * 1024,
                fds: 12,
            },
            idle_after: Resources {
                rss_kib: 25 * 1024,
                fds: 12,
            },
            settle_s: 30.0,
            samples: (0..5)
                .map(|i| SoakSample {
                    t_s: i as f64 * 5.0,
                    phase: "load".to_owned(),
                    rss_kib: (10 + i * 20) * 1024,
                    fds: 10 + i * 100,
                    ..SoakSample::default()
                })
                .collect(),
            ..Soak::default()
        };
        finish(&mut s);
        s
    }

    #[test]
    fn cuts_one_stream_in_twenty_inside_the_stream() {
        let cuts = (0..2000).filter(|n| cut(*n, 20)).count();
        assert_eq!(cuts, 100);
        assert_eq!((0..100).filter(|n| cut(*n, 0)).count(), 0);
        let len = Duration::from_secs(10);
        for n in 0..500 {
            let c = cut_after(n, len);
            assert!(
                c >= Duration::from_secs(1) && c <= Duration::from_secs(9),
                "{c:?}"
            );
        }
    }

    #[test]
    fn faults_rotate_over_three_kinds() {
        let kinds: Vec<&str> = (0..6).map(|i| fault(i, 400).0).collect();
        assert_eq!(kinds[0], kinds[3]);
        assert_ne!(kinds[0], kinds[1]);
        assert_ne!(kinds[1], kinds[2]);
        assert_eq!(fault(2, 400).1["after_events"], 200);
    }

    #[test]
    fn verdict_compares_idle_rss_within_twice() {
        let mut s = soak();
        assert!((s.idle_rss_ratio - 2.5).abs() < 1e-9);
        assert!(!s.target_met);
        assert_eq!((s.peak_rss_kib, s.peak_fds), (90 * 1024, 410));
        s.idle_after.rss_kib = 20 * 1024;
        finish(&mut s);
        assert!(s.target_met);
        s.idle_before.rss_kib = 0;
        finish(&mut s);
        assert!(!s.target_met, "no reading is no pass");
    }

    #[test]
    fn verdict_wants_the_load_descriptors_closed() {
        let mut s = soak();
        assert!(s.fds_target_met);
        s.idle_after.fds = 12 + IDLE_FDS_SLACK;
        finish(&mut s);
        assert!(s.fds_target_met);
        s.idle_after.fds = 1976;
        finish(&mut s);
        assert!(!s.fds_target_met);
        let md = markdown(&s, 2);
        assert!(md.contains("| 1976 (before: 12): **MISSED** |"), "{md}");
        s.idle_after.fds = 0;
        finish(&mut s);
        assert!(!s.fds_target_met, "no reading is no pass");
    }

    #[test]
    fn markdown_shows_verdict_errors_and_thinned_series() {
        let s = soak();
        let md = markdown(&s, 2);
        assert!(md.contains("| 2.50x: **MISSED** |"), "{md}");
        assert!(md.contains("| http 429 | 3 |"));
        assert!(md.contains("| failed | 5 |"));
        // Samples 0, 2, 4 (the last).
        let rows = md
            .lines()
            .filter(|l| l.ends_with("| 0 | 0 | 0 | 0 |"))
            .count();
        assert_eq!(rows, 3, "{md}");
        let chart = svg(&s);
        assert_eq!(chart.matches("<polyline").count(), 2);
        assert!(chart.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn reads_this_process_resources() {
        let r = Resources::of(std::process::id());
        assert!(r.rss_kib > 0 && r.fds >= 3, "{r:?}");
    }
}
