//! The performance targets, each figure of a run measured against its own.

use serde::Serialize;

use crate::report::Report;

/// One figure against its target.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Target {
    /// What is measured.
    pub figure: String,
    /// The target (`≤ 0.30 ms`, ...).
    pub target: String,
    /// The measured value, formatted.
    pub measured: String,
    /// Met, missed, or `None` when not measured in this run.
    pub met: Option<bool>,
}

impl Target {
    /// `met`, `MISSED` or `not measured`.
    pub fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "not measured",
        }
    }
}

fn at_most(figure: String, limit: f64, unit: &str, value: Option<f64>) -> Target {
    Target {
        figure,
        target: format!("≤ {limit} {unit}"),
        measured: value.map_or_else(|| "–".to_owned(), |v| format!("{v:.2} {unit}")),
        met: value.map(|v| v <= limit),
    }
}

fn at_least(figure: String, limit: f64, unit: &str, value: Option<f64>) -> Target {
    Target {
        figure,
        target: format!("≥ {limit} {unit}"),
        measured: value.map_or_else(|| "–".to_owned(), |v| format!("{v:.2} {unit}")),
        met: value.map(|v| v >= limit),
    }
}

/// Every target the run can speak to.
pub fn evaluate(r: &Report) -> Vec<Target> {
    let scenario = |name: &str| r.scenarios.iter().find(|s| s.name == name);
    let gateway_cpu = |name: &str| {
        scenario(name)?
            .paths
            .iter()
            .find(|p| p.path == "gateway")?
            .process
            .map(|u| u.cpu_us_per_req / 1000.0)
    };
    let ratio = |name: &str| scenario(name)?.compare.map(|c| c.throughput_ratio);
    let mut out = vec![
        at_most(
            "gateway CPU per streamed request, 64 concurrent".to_owned(),
            0.30,
            "ms",
            gateway_cpu("c64"),
        ),
        at_least(
            "throughput gateway/direct, 1 stream".to_owned(),
            0.6,
            "x",
            ratio("single"),
        ),
        at_least(
            "throughput gateway/direct, 64 concurrent".to_owned(),
            0.6,
            "x",
            ratio("c64"),
        ),
        at_most(
            "TTFT p99 added over direct, open loop 1,000 req/s".to_owned(),
            0.5,
            "ms",
            scenario("open-1000")
                .and_then(|s| s.compare)
                .map(|c| c.added_ttft_us.p99 / 1000.0),
        ),
        at_most(
            "idle RSS".to_owned(),
            15.0,
            "MiB",
            r.idle.as_ref().map(|i| i.idle_rss_kib as f64 / 1024.0),
        ),
    ];
    // One memory line per stream count, with the figure of each transport measured: the
    // verdict is the TLS/HTTP/2 one (the transport to Bedrock) when measured, else the plain
    // one.
    let mut counts: Vec<usize> = r.paced.iter().map(|p| p.streams).collect();
    counts.dedup();
    for n in counts {
        let runs: Vec<_> = r.paced.iter().filter(|p| p.streams == n).collect();
        let per_stream = |p: &crate::stress::Paced| {
            p.paths
                .iter()
                .find(|x| x.path == "gateway")
                .and_then(|g| g.kib_per_stream)
        };
        let tls = runs
            .iter()
            .find(|p| p.upstream_h2_streams.is_some())
            .and_then(|p| per_stream(p));
        let plain = runs
            .iter()
            .find(|p| p.upstream_h2_streams.is_none())
            .and_then(|p| per_stream(p));
        let has_tls = runs.iter().any(|p| p.upstream_h2_streams.is_some());
        let has_plain = runs.iter().any(|p| p.upstream_h2_streams.is_none());
        let mut target = at_most(
            format!("memory per open stream, {n} paced streams"),
            32.0,
            "KiB",
            if has_tls { tls } else { plain },
        );
        let figure = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2} KiB"));
        target.measured = match (has_tls, has_plain) {
            (true, true) => format!("{} TLS h2 ({} plain h1)", figure(tls), figure(plain)),
            (true, false) => format!("{} TLS h2", figure(tls)),
            _ => format!("{} plain h1", figure(plain)),
        };
        out.push(target);
        for p in runs {
            out.push(at_most(
                format!(
                    "errors, {n} paced streams (both paths, {})",
                    if p.upstream_h2_streams.is_some() {
                        "TLS h2"
                    } else {
                        "plain h1"
                    }
                ),
                0.0,
                "",
                Some(p.paths.iter().map(|x| x.summary.errors).sum::<u64>() as f64),
            ));
        }
    }
    match &r.overload {
        Some(o) => {
            out.push(at_least(
                "overload: served rate / highest passing rate".to_owned(),
                0.9,
                "x",
                Some(o.served_ratio),
            ));
            out.push(at_most(
                "overload: TTFT p99 of admitted requests".to_owned(),
                50.0,
                "ms",
                Some(o.admitted_ttft_us.p99 / 1000.0),
            ));
            out.push(at_most(
                "overload: refusal time p99 (429/503 + Retry-After)".to_owned(),
                5.0,
                "ms",
                (o.refused > 0).then_some(o.refused_us.p99 / 1000.0),
            ));
            out.push(at_most(
                "overload: failures other than proper refusals".to_owned(),
                0.0,
                "",
                Some(o.other_errors.iter().map(|(_, n)| *n).sum::<u64>() as f64),
            ));
            out.push(at_most(
                "overload: gateway peak RSS".to_owned(),
                64.0,
                "MiB",
                Some(o.peak_rss_kib as f64 / 1024.0),
            ));
        }
        None => out.push(Target {
            figure: "overload step".to_owned(),
            target: "run".to_owned(),
            measured: "–".to_owned(),
            met: None,
        }),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stress::Overload;

    #[test]
    fn figures_are_met_missed_or_not_measured() {
        let r = Report {
            overload: Some(Overload {
                served_ratio: 0.95,
                refused: 0,
                peak_rss_kib: 100 * 1024,
                ..Overload::default()
            }),
            ..Report::default()
        };
        let t = evaluate(&r);
        let find = |name: &str| t.iter().find(|x| x.figure.contains(name)).unwrap();
        assert_eq!(find("64 concurrent").met, None);
        assert_eq!(find("served rate").met, Some(true));
        assert_eq!(find("refusal time").verdict(), "not measured");
        assert_eq!(find("peak RSS").met, Some(false));
        assert_eq!(find("peak RSS").measured, "100.00 MiB");
    }

    #[test]
    fn memory_per_stream_reports_both_transports_and_judges_tls() {
        use crate::stress::{Paced, PacedPath};
        let run = |per_stream: f64, h2: Option<u32>| Paced {
            streams: 1000,
            upstream_h2_streams: h2,
            paths: vec![PacedPath {
                path: "gateway".to_owned(),
                kib_per_stream: Some(per_stream),
                ..PacedPath::default()
            }],
            ..Paced::default()
        };
        let r = Report {
            paced: vec![run(50.0, None), run(20.0, Some(10_000))],
            ..Report::default()
        };
        let t = evaluate(&r);
        let memory: Vec<_> = t
            .iter()
            .filter(|x| x.figure.starts_with("memory per open stream"))
            .collect();
        assert_eq!(memory.len(), 1);
        assert_eq!(memory[0].measured, "20.00 KiB TLS h2 (50.00 KiB plain h1)");
        assert_eq!(memory[0].met, Some(true));
        let errors = t
            .iter()
            .filter(|x| x.figure.starts_with("errors, 1000"))
            .count();
        assert_eq!(errors, 2);
        // Plain only: judged on the plain figure.
        let r = Report {
            paced: vec![run(50.0, None)],
            ..Report::default()
        };
        let t = evaluate(&r);
        let memory = t.iter().find(|x| x.figure.starts_with("memory")).unwrap();
        assert_eq!(
            (memory.measured.as_str(), memory.met),
            ("50.00 KiB plain h1", Some(false))
        );
    }
}
