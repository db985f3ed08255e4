//! The results: JSON (serde), a markdown table and an SVG latency chart.
//!
//! The SVG is written by hand: two log-log panels of lines and text need no plotting crate.

use std::fmt::Write as _;

use serde::Serialize;

use crate::stats::{Percentiles, Summary};

/// Everything one run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The machine the run was on.
    pub machine: Machine,
    /// The workload of every request.
    pub workload: Workload,
    /// Whether this was a `--quick` run.
    pub quick: bool,
    /// Load scenarios, in run order.
    pub scenarios: Vec<Scenario>,
    /// The highest sustained open-loop rate per path.
    pub max_rate: Vec<MaxRate>,
    /// Memory of idle-paced concurrent streams.
    pub idle: Option<Idle>,
    /// Gateway cold start.
    pub cold_start: Option<ColdStart>,
    /// `openclaw models list` with a warm disk cache.
    pub models_list: Measured,
    /// The paced scenario, per concurrency.
    pub paced: Vec<crate::stress::Paced>,
    /// The overload step (when the gateway passed a search step).
    pub overload: Option<crate::stress::Overload>,
    /// Each figure against its target.
    pub targets: Vec<crate::targets::Target>,
    /// Wall time of the whole run, seconds.
    pub run_seconds: f64,
}

/// Machine description.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Machine {
    /// `nproc`.
    pub cpus: usize,
    /// The CPU model from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// `MemTotal` from `/proc/meminfo`, MiB.
    pub memory_mib: u64,
    /// `rustc --version`.
    pub rustc: String,
    /// `uname -r`.
    pub kernel: String,
}

/// The fixed response script.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Workload {
    /// Model id.
    pub model: String,
    /// Prompt length, characters.
    pub prompt_chars: usize,
    /// Output tokens per answer (fake-bedrock's estimate).
    pub output_tokens: u64,
    /// Text delta events per answer.
    pub delta_events: usize,
    /// Characters per delta.
    pub chunk_chars: usize,
    /// fake-bedrock's delay before the first byte, ms.
    pub pace_first_ms: u64,
    /// fake-bedrock's delay between events, ms.
    pub pace_ms: u64,
}

/// One load scenario, run along every path.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Scenario {
    /// Short name (`single`, `c64`, `open-1000`, ...).
    pub name: String,
    /// Closed-loop concurrency, if closed loop.
    pub concurrency: Option<usize>,
    /// Open-loop offered rate (req/s), if open loop.
    pub rate: Option<f64>,
    /// Per path results.
    pub paths: Vec<PathResult>,
    /// Gateway minus direct, and gateway over direct.
    pub compare: Option<Compare>,
}

/// The results of one path in one scenario.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathResult {
    /// `direct`, `gateway` or `against`.
    pub path: String,
    /// Latency and throughput.
    pub summary: Summary,
    /// The serving process' resource use during the scenario (gateway only).
    pub process: Option<ProcessUse>,
}

/// A serving process' resource use over one scenario.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProcessUse {
    /// CPU seconds (user + system) spent during the scenario.
    pub cpu_s: f64,
    /// CPU microseconds per successful request.
    pub cpu_us_per_req: f64,
    /// Peak RSS during the scenario (or since start when the peak cannot be reset), KiB.
    pub peak_rss_kib: u64,
}

/// Gateway against direct at the same percentiles.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Compare {
    /// Added time to first token, µs.
    pub added_ttft_us: Percentiles,
    /// Gateway TTFT / direct TTFT.
    pub ttft_ratio: Percentiles,
    /// Added total time, µs.
    pub added_total_us: Percentiles,
    /// Gateway total / direct total.
    pub total_ratio: Percentiles,
    /// Gateway req/s over direct req/s.
    pub throughput_ratio: f64,
}

impl Compare {
    /// Compares `gateway` against `direct`.
    pub fn of(gateway: &Summary, direct: &Summary) -> Compare {
        Compare {
            added_ttft_us: gateway.ttft_us.minus(&direct.ttft_us),
            ttft_ratio: gateway.ttft_us.ratio(&direct.ttft_us),
            added_total_us: gateway.total_us.minus(&direct.total_us),
            total_ratio: gateway.total_us.ratio(&direct.total_us),
            throughput_ratio: if direct.req_per_s > 0.0 {
                gateway.req_per_s / direct.req_per_s
            } else {
                0.0
            },
        }
    }
}

/// The search for the highest open-loop rate with < 1 % errors.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MaxRate {
    /// Path name.
    pub path: String,
    /// Highest rate that passed (req/s), 0 when none did.
    pub rate: f64,
    /// Every step: offered rate, achieved req/s, error rate, p99 total µs, passed.
    pub steps: Vec<(f64, f64, f64, f64, bool)>,
}

/// Idle-paced concurrent streams held open through the gateway.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Idle {
    /// Streams asked for.
    pub streams: usize,
    /// Streams that opened (2xx headers received).
    pub opened: usize,
    /// Gateway RSS after start-up and one request, KiB.
    pub idle_rss_kib: u64,
    /// Gateway RSS with all streams open, KiB.
    pub loaded_rss_kib: u64,
    /// (loaded − idle) / opened, KiB.
    pub kib_per_stream: f64,
}

/// Spawn to first served request, over several fresh gateway processes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ColdStart {
    /// Spawn to the `listening on` line, ms (median).
    pub listening_ms: f64,
    /// Spawn to the first completed streaming chat, ms (median).
    pub first_completion_ms: f64,
    /// The slowest spawn to first completion, ms.
    pub first_completion_max_ms: f64,
    /// Runs.
    pub runs: usize,
}

/// A wall-time figure that may not be measurable.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measured {
    /// Median wall time, ms (when measured).
    pub p50_ms: Option<f64>,
    /// Slowest run, ms (when measured).
    pub max_ms: Option<f64>,
    /// Runs timed.
    pub runs: usize,
    /// Why it was not measured, or how.
    pub note: String,
}

fn ms(us: f64) -> String {
    format!("{:.2}", us / 1000.0)
}

fn signed_ms(us: f64) -> String {
    format!("{:+.3}", us / 1000.0)
}

/// The markdown report.
pub fn markdown(r: &Report) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let w = &r.workload;
    let _ = writeln!(
        s,
        "# openclaw gateway benchmark{}\n",
        if r.quick { " (--quick)" } else { "" }
    );
    let _ = writeln!(
        s,
        "Machine: {} CPUs ({}), {} MiB memory, Linux {}, {}.",
        m.cpus, m.cpu_model, m.memory_mib, m.kernel, m.rustc
    );
    let _ = writeln!(
        s,
        "Workload: `{}`, {}-character prompt; answer of {} output tokens in {} text deltas of {} characters (fake-bedrock, first byte after {} ms, {} ms between events).",
        w.model,
        w.prompt_chars,
        w.output_tokens,
        w.delta_events,
        w.chunk_chars,
        w.pace_first_ms,
        w.pace_ms
    );
    let _ = writeln!(
        s,
        "Client, fake-bedrock and gateway share the same CPUs; latencies are from each request's intended start (ms).\n"
    );
    let _ = writeln!(s, "## Latency and throughput\n");
    let _ = writeln!(
        s,
        "| scenario | path | requests | errors | req/s | tokens/s | TTFT p50 | TTFT p90 | TTFT p99 | TTFT max | total p50 | total p99 | total max | gateway CPU µs/req | gateway peak RSS MiB |"
    );
    let _ = writeln!(
        s,
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
    );
    for sc in &r.scenarios {
        for p in &sc.paths {
            let x = &p.summary;
            let (cpu, rss) = match &p.process {
                Some(u) => (
                    format!("{:.0}", u.cpu_us_per_req),
                    format!("{:.1}", u.peak_rss_kib as f64 / 1024.0),
                ),
                None => ("".to_owned(), "".to_owned()),
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                sc.name,
                p.path,
                x.requests,
                x.errors,
                x.req_per_s,
                x.tokens_per_s,
                ms(x.ttft_us.p50),
                ms(x.ttft_us.p90),
                ms(x.ttft_us.p99),
                ms(x.ttft_us.max),
                ms(x.total_us.p50),
                ms(x.total_us.p99),
                ms(x.total_us.max),
                cpu,
                rss
            );
        }
    }
    let _ = writeln!(s, "\n## Gateway against direct\n");
    let _ = writeln!(
        s,
        "| scenario | added TTFT p50 (ms) | added TTFT p99 (ms) | TTFT ratio p50 | TTFT ratio p99 | added total p50 (ms) | added total p99 (ms) | throughput gateway/direct |"
    );
    let _ = writeln!(s, "|---|--:|--:|--:|--:|--:|--:|--:|");
    for sc in &r.scenarios {
        if let Some(c) = &sc.compare {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.2} | {:.2} | {} | {} | {:.2} |",
                sc.name,
                signed_ms(c.added_ttft_us.p50),
                signed_ms(c.added_ttft_us.p99),
                c.ttft_ratio.p50,
                c.ttft_ratio.p99,
                signed_ms(c.added_total_us.p50),
                signed_ms(c.added_total_us.p99),
                c.throughput_ratio
            );
        }
    }
    if !r.max_rate.is_empty() {
        let _ = writeln!(s, "\n## Highest open-loop rate with < 1 % errors\n");
        let _ = writeln!(
            s,
            "A step passes with < 1 % errors and at least 95 % of the offered rate completed.\n"
        );
        let _ = writeln!(
            s,
            "| path | highest passing rate (req/s) | steps (offered → achieved, errors, p99 total ms) |"
        );
        let _ = writeln!(s, "|---|--:|---|");
        for mr in &r.max_rate {
            let steps: Vec<String> = mr
                .steps
                .iter()
                .map(|(rate, got, err, p99, ok)| {
                    format!(
                        "{rate:.0} → {got:.0}, {:.1} %, {} {}",
                        err * 100.0,
                        ms(*p99),
                        if *ok { "✓" } else { "✗" }
                    )
                })
                .collect();
            let _ = writeln!(s, "| {} | {:.0} | {} |", mr.path, mr.rate, steps.join("; "));
        }
    }
    markdown_stress(&mut s, r);
    let _ = writeln!(s, "\n## Memory, start-up, CLI\n");
    match &r.idle {
        Some(i) => {
            let _ = writeln!(
                s,
                "- Idle-paced streams: {} of {} opened; gateway RSS {:.1} MiB idle (after one request), {:.1} MiB with the streams open: {:.1} KiB per stream.",
                i.opened,
                i.streams,
                i.idle_rss_kib as f64 / 1024.0,
                i.loaded_rss_kib as f64 / 1024.0,
                i.kib_per_stream
            );
        }
        None => {
            let _ = writeln!(s, "- Idle-paced streams: not measured.");
        }
    }
    match &r.cold_start {
        Some(c) => {
            let _ = writeln!(
                s,
                "- Cold start ({} runs, median): spawn to `listening on` {:.1} ms; spawn to first completed streaming chat {:.1} ms (slowest {:.1} ms).",
                c.runs, c.listening_ms, c.first_completion_ms, c.first_completion_max_ms
            );
        }
        None => {
            let _ = writeln!(s, "- Cold start: not measured.");
        }
    }
    match (r.models_list.p50_ms, r.models_list.max_ms) {
        (Some(p50), Some(max)) => {
            let _ = writeln!(
                s,
                "- `openclaw models list`, warm disk cache ({} runs): median {:.1} ms, slowest {:.1} ms ({}).",
                r.models_list.runs, p50, max, r.models_list.note
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "- `openclaw models list`: not measured ({}).",
                r.models_list.note
            );
        }
    }
    let _ = writeln!(
        s,
        "\nWhole run: {:.0} s. Chart: `latency.svg`; raw figures: `results.json`.",
        r.run_seconds
    );
    s
}

/// The transport of a paced run (runs written before it had one were plain HTTP/1.1).
pub fn upstream_label(p: &crate::stress::Paced) -> &str {
    if p.upstream.is_empty() {
        "plain HTTP/1.1 to the fake"
    } else {
        &p.upstream
    }
}

/// What the transport means for the figures.
fn upstream_note(p: &crate::stress::Paced) -> String {
    match p.upstream_h2_streams {
        Some(max) => format!(
            " The gateway and the direct SDK client reach the fake over HTTPS (the gateway trusts its certificate through `AWS_CA_BUNDLE`); ALPN picks HTTP/2, so each holds one connection for all its streams (the fake allows {max} streams on a connection)."
        ),
        None => " The gateway and the direct SDK client reach the fake over cleartext HTTP/1.1: one connection per open stream.".to_owned(),
    }
}

/// The paced scenario, the overload step and the targets.
fn markdown_stress(s: &mut String, r: &Report) {
    for p in &r.paced {
        let _ = writeln!(
            s,
            "\n## Paced streams: {} at once, {}\n\nEach stream like a real model: first token after {} ms, then one delta (one token) every {} ms, {} tokens; the streams start evenly over {:.0} s and each runs once to its end.{} Gateway RSS before the load: {:.1} MiB.\n",
            p.streams,
            upstream_label(p),
            p.pace_first_ms,
            p.pace_ms,
            p.tokens,
            p.ramp_s,
            upstream_note(p),
            p.idle_rss_kib as f64 / 1024.0
        );
        let _ = writeln!(
            s,
            "| path | streams | errors | most open | TTFT p50 | TTFT p99 | TTFT max | total p50 | total p99 | gateway CPU % | gateway CPU µs/event | gateway peak RSS MiB | KiB per stream | load average |"
        );
        let _ = writeln!(
            s,
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"
        );
        for x in &p.paths {
            let m = &x.summary;
            let opt = |v: Option<f64>, d: usize| v.map_or_else(String::new, |v| format!("{v:.d$}"));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} |",
                x.path,
                m.requests,
                m.errors,
                x.most_open,
                ms(m.ttft_us.p50),
                ms(m.ttft_us.p99),
                ms(m.ttft_us.max),
                ms(m.total_us.p50),
                ms(m.total_us.p99),
                opt(x.cpu_percent, 0),
                opt(x.cpu_us_per_event, 2),
                opt(x.peak_rss_kib.map(|k| k as f64 / 1024.0), 1),
                opt(x.kib_per_stream, 1),
                x.load_average
            );
            if !m.error_kinds.is_empty() {
                let _ = writeln!(s, "\nErrors ({}): {:?}\n", x.path, m.error_kinds);
            }
        }
        if let Some(c) = &p.compare {
            let _ = writeln!(
                s,
                "\nGateway TTFT added over direct: p50 {} ms, p99 {} ms.",
                signed_ms(c.added_ttft_us.p50),
                signed_ms(c.added_ttft_us.p99)
            );
        }
    }
    if let Some(o) = &r.overload {
        let _ = writeln!(
            s,
            "\n## Overload\n\nA fresh gateway with its default admission settings, offered {:.0} req/s (twice the highest passing rate, {:.0} req/s) for {:.0} s, open loop.\n",
            o.offered_rate, o.base_rate, o.seconds
        );
        let _ = writeln!(
            s,
            "- Served: {} of {} requests, {:.0} req/s = {:.2}x the highest passing rate; TTFT of admitted requests p50 {} ms, p99 {} ms.",
            o.served,
            o.requests,
            o.served_per_s,
            o.served_ratio,
            ms(o.admitted_ttft_us.p50),
            ms(o.admitted_ttft_us.p99)
        );
        let _ = writeln!(
            s,
            "- Refused with 429/503, `Retry-After` and an OpenAI error body: {}, answered in p50 {} ms, p99 {} ms, max {} ms (from the intended start).",
            o.refused,
            ms(o.refused_us.p50),
            ms(o.refused_us.p99),
            ms(o.refused_us.max)
        );
        let _ = writeln!(
            s,
            "- Of the refusals' time (p50 / p99 ms): the client's own delay before sending {} / {}, the connect {} / {}, the gateway's answer from the request written to the refusal read {} / {}.",
            ms(o.refused_client_delay_us.p50),
            ms(o.refused_client_delay_us.p99),
            ms(o.refused_connect_us.p50),
            ms(o.refused_connect_us.p99),
            ms(o.refused_answer_us.p50),
            ms(o.refused_answer_us.p99)
        );
        let _ = writeln!(
            s,
            "- Other failures: {:?}. Gateway CPU {:.2} s; peak RSS {:.1} MiB; load average {:.1}.",
            o.other_errors,
            o.cpu_s,
            o.peak_rss_kib as f64 / 1024.0,
            o.load_average
        );
        if !o.admission_metrics.is_empty() {
            let series: Vec<String> = o
                .admission_metrics
                .iter()
                .map(|(k, v)| format!("`{k}` {v}"))
                .collect();
            let _ = writeln!(
                s,
                "- The gateway's `/metrics` after the step: {}.",
                series.join(", ")
            );
        }
    }
    if !r.targets.is_empty() {
        let _ = writeln!(s, "\n## Targets\n");
        let _ = writeln!(s, "| figure | target | measured | |");
        let _ = writeln!(s, "|---|--:|--:|---|");
        for t in &r.targets {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                t.figure,
                t.target,
                t.measured,
                t.verdict()
            );
        }
    }
}

/// One plotted series: label, colour, dashed, points (x = offered req/s, y = µs).
struct Series {
    label: String,
    colour: &'static str,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

fn colour(path: &str) -> &'static str {
    match path {
        "direct" => "#1f77b4",
        "gateway" => "#d62728",
        _ => "#2ca02c",
    }
}

/// The SVG chart: p50 and p99 of TTFT (left) and total time (right) against the offered
/// open-loop rate, one colour per path (solid p50, dashed p99), log-log axes.
pub fn svg(r: &Report) -> String {
    let mut paths: Vec<String> = Vec::new();
    for sc in &r.scenarios {
        for p in &sc.paths {
            if !paths.contains(&p.path) {
                paths.push(p.path.clone());
            }
        }
    }
    let panel = |pick: fn(&Summary) -> Percentiles| -> Vec<Series> {
        let mut out = Vec::new();
        for path in &paths {
            for (q, dashed) in [("p50", false), ("p99", true)] {
                let mut points: Vec<(f64, f64)> = r
                    .scenarios
                    .iter()
                    .filter_map(|sc| {
                        let rate = sc.rate?;
                        let p = sc.paths.iter().find(|p| &p.path == path)?;
                        let v = pick(&p.summary);
                        let y = if dashed { v.p99 } else { v.p50 };
                        (p.summary.errors * 100 <= p.summary.requests && y > 0.0)
                            .then_some((rate, y))
                    })
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
                points.dedup_by(|a, b| a.0 == b.0);
                out.push(Series {
                    label: format!("{path} {q}"),
                    colour: colour(path),
                    dashed,
                    points,
                });
            }
        }
        out
    };
    let left = panel(|s| s.ttft_us);
    let right = panel(|s| s.total_us);
    let (w, h) = (960.0, 420.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(s, "<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>");
    draw_panel(&mut s, 60.0, "time to first token (ms)", &left);
    draw_panel(&mut s, 540.0, "total time (ms)", &right);
    let _ = writeln!(s, "</svg>");
    s
}

fn draw_panel(s: &mut String, x0: f64, title: &str, series: &[Series]) {
    let (pw, ph, top) = (380.0, 300.0, 40.0);
    let all: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|x| x.points.iter().copied())
        .collect();
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">{title} vs offered rate (req/s)</text>",
        x0 + pw / 2.0
    );
    let _ = writeln!(
        s,
        "<rect x=\"{x0}\" y=\"{top}\" width=\"{pw}\" height=\"{ph}\" fill=\"none\" stroke=\"#888\"/>"
    );
    if all.is_empty() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">no open-loop data</text>",
            x0 + pw / 2.0,
            top + ph / 2.0
        );
        return;
    }
    let decade = |v: f64, up: bool| {
        let l = v.max(1e-9).log10();
        10f64.powf(if up { l.ceil() } else { l.floor() })
    };
    let (mut xmin, mut xmax, mut ymin, mut ymax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for (x, y) in &all {
        xmin = xmin.min(*x);
        xmax = xmax.max(*x);
        ymin = ymin.min(*y);
        ymax = ymax.max(*y);
    }
    let (xmin, mut xmax, ymin, mut ymax) = (
        decade(xmin, false),
        decade(xmax, true),
        decade(ymin, false),
        decade(ymax, true),
    );
    if xmax <= xmin {
        xmax = xmin * 10.0;
    }
    if ymax <= ymin {
        ymax = ymin * 10.0;
    }
    let px = |x: f64| x0 + (x.log10() - xmin.log10()) / (xmax.log10() - xmin.log10()) * pw;
    let py = |y: f64| top + ph - (y.log10() - ymin.log10()) / (ymax.log10() - ymin.log10()) * ph;
    // Decade grid lines and labels.
    let mut v = xmin;
    while v <= xmax * 1.0001 {
        let x = px(v);
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            top + ph,
            top + ph + 16.0,
            v
        );
        v *= 10.0;
    }
    let mut v = ymin;
    while v <= ymax * 1.0001 {
        let y = py(v);
        let _ = writeln!(
            s,
            "<line x1=\"{x0}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"#ddd\"/><text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            x0 + pw,
            x0 - 4.0,
            y + 4.0,
            v / 1000.0
        );
        v *= 10.0;
    }
    for (i, sr) in series.iter().enumerate() {
        if sr.points.is_empty() {
            continue;
        }
        let pts: Vec<String> = sr
            .points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y)))
            .collect();
        let dash = if sr.dashed {
            " stroke-dasharray=\"6 4\""
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{dash}/>",
            pts.join(" "),
            sr.colour
        );
        for (x, y) in &sr.points {
            let _ = writeln!(
                s,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{}\"/>",
                px(*x),
                py(*y),
                sr.colour
            );
        }
        let ly = top + ph + 36.0 + (i / 2) as f64 * 16.0;
        let lx = x0 + (i % 2) as f64 * 190.0;
        let _ = writeln!(
            s,
            "<line x1=\"{lx}\" y1=\"{ly}\" x2=\"{}\" y2=\"{ly}\" stroke=\"{}\" stroke-width=\"2\"{dash}/><text x=\"{}\" y=\"{}\">{}</text>",
            lx + 24.0,
            sr.colour,
            lx + 30.0,
            ly + 4.0,
            sr.label
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Sample;
    use std::time::Duration;

    fn summary(ttft_ms: u64) -> Summary {
        let s: Vec<Sample> = (0..100)
            .map(|i| Sample {
                ttft: Some(Duration::from_micros(ttft_ms * 1000 + i)),
                total: Duration::from_micros(ttft_ms * 3000 + i),
                bytes: 10,
                tokens: 200,
                error: None,
                ..Sample::default()
            })
            .collect();
        Summary::of(&s, Duration::from_secs(1))
    }

    fn report() -> Report {
        let mut r = Report::default();
        for rate in [200.0, 1000.0] {
            let d = summary(1);
            let g = summary(2);
            r.scenarios.push(Scenario {
                name: format!("open-{rate}"),
                rate: Some(rate),
                compare: Some(Compare::of(&g, &d)),
                paths: vec![
                    PathResult {
                        path: "direct".into(),
                        summary: d,
                        process: None,
                    },
                    PathResult {
                        path: "gateway".into(),
                        summary: g,
                        process: Some(ProcessUse {
                            cpu_s: 1.0,
                            cpu_us_per_req: 50.0,
                            peak_rss_kib: 10240,
                        }),
                    },
                ],
                ..Scenario::default()
            });
        }
        r
    }

    #[test]
    fn markdown_has_rows_and_comparisons() {
        let md = markdown(&report());
        assert!(
            md.contains("| open-200 | gateway | 100 | 0 | 100 | 20000 | 2.05 |"),
            "{md}"
        );
        assert!(md.contains("| open-1000 | +1.000 |"), "{md}");
        assert!(md.contains("`openclaw models list`: not measured"), "{md}");
    }

    #[test]
    fn svg_is_well_formed_with_one_line_per_series() {
        let svg = svg(&report());
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        // 2 panels × 2 paths × (p50, p99).
        assert_eq!(svg.matches("<polyline").count(), 8);
        assert_eq!(
            svg.matches("stroke-dasharray").count(),
            8,
            "p99 lines and legends dashed"
        );
        let empty = super::svg(&Report::default());
        assert!(empty.contains("no open-loop data"));
    }
}
