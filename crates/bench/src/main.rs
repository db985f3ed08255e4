//! `openclaw-bench`: measures `openclaw gateway` against the direct Rust SDK path, side by side
//! in one run, on a local `fake-bedrock` process. Run it through `cargo xtask bench [--quick]`,
//! which builds the release binaries and passes their paths.
//!
//! Design:
//! - `fake-bedrock` runs as its own process so its CPU is not counted against the gateway; its
//!   default answer (`Echo: <prompt>`) with a 794-character prompt gives 800 characters: 200
//!   output tokens in 50 text deltas of 16 characters, the same for both paths.
//! - The direct path is one SDK client built once (static test keys, explicit endpoint); the
//!   gateway path is our own hyper SSE client to `openclaw gateway --port 0` (a child process in
//!   a temporary HOME whose configuration lists the bench model, discovery off).
//! - Latencies are taken from each request's intended start (see `load`); the gateway's RSS and
//!   CPU come from `/proc`. Everything binds loopback and every loop is bounded.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod client;
mod load;
mod procs;
mod report;
mod soak;
mod sse;
mod stats;
mod stress;
mod targets;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Parser;

use client::{Client, DirectClient, OpenaiClient};
use load::Bounds;
use procs::{Sandbox, Server, Usage};
use report::{
    ColdStart, Compare, Idle, Machine, MaxRate, Measured, PathResult, ProcessUse, Report, Scenario,
    Workload,
};
use stats::Summary;

/// The model every request asks for (in fake-bedrock's default catalog, on-demand, streaming).
const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// fake-bedrock answers `Echo: <prompt>`.
const ECHO_PREFIX: &str = "Echo: ";
/// Output tokens per answer (fake-bedrock estimates four characters a token).
const OUTPUT_TOKENS: usize = 200;
/// Characters per text delta.
const CHUNK: usize = 16;

/// Benchmark `openclaw gateway` against the direct SDK path on a local fake Bedrock.
#[derive(Parser, Debug)]
#[command(name = "openclaw-bench")]
struct Args {
    /// The `openclaw` binary (release build).
    #[arg(long)]
    openclaw: PathBuf,
    /// The `fake-bedrock` binary (release build).
    #[arg(long)]
    fake: PathBuf,
    /// Short run (about a minute): shorter scenarios, fewer steps and streams.
    #[arg(long)]
    quick: bool,
    /// Also measure another OpenAI-compatible gateway at this base URL (pointed at the same
    /// fake-bedrock by you; its URL is printed at start).
    #[arg(long, requires = "model")]
    against: Option<String>,
    /// The model name to send to `--against`.
    #[arg(long)]
    model: Option<String>,
    /// Bearer token for `--against`.
    #[arg(long, env = "OPENCLAW_BENCH_AGAINST_TOKEN", hide_env_values = true)]
    against_token: Option<String>,
    /// Address of the zero-paced fake-bedrock (fix the port to point an `--against` gateway
    /// at it; loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    fake_listen: std::net::SocketAddr,
    /// A variable for the gateway's environment, `KEY=VALUE` (repeatable): compares settings
    /// such as `MALLOC_ARENA_MAX=2` on one binary.
    #[arg(long = "gateway-env", value_name = "KEY=VALUE", value_parser = key_value)]
    gateway_env: Vec<(String, String)>,
    /// Output directory for results.md, results.json and latency.svg.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Soak mode instead of the benchmark: this many minutes of paced streams with client
    /// cuts and upstream faults; writes soak.md, soak.json and soak.svg.
    #[arg(long, value_name = "MINUTES", value_parser = minutes)]
    soak: Option<f64>,
    /// Paced streams held open at once in soak mode.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=20_000))]
    soak_streams: u32,
    /// Run only these steps (comma-separated: single, c64, c512, open-200, open-1000, search,
    /// overload, idle, cold, list, paced), for quick A/B runs; the targets of skipped steps
    /// read as not measured.
    #[arg(long, value_delimiter = ',', value_parser = clap::builder::PossibleValuesParser::new(STEPS))]
    only: Vec<String>,
    /// The passing rate the overload step doubles when `--only` skips the search.
    #[arg(long, default_value_t = 1250.0)]
    overload_base: f64,
    /// The transport between the gateway (and the direct SDK client) and the fake in the paced
    /// step: `plain` (HTTP/1.1 over TCP, one connection per open stream), `tls` (HTTPS with ALPN
    /// `h2`, as against Bedrock: every stream on one HTTP/2 connection; the gateway trusts the
    /// fake's certificate through `AWS_CA_BUNDLE`) or `both`, one row each. The soak uses `tls`
    /// when asked for, else `plain`; the other steps always use `plain`.
    #[arg(long, value_enum, default_value_t = UpstreamChoice::Both)]
    upstream: UpstreamChoice,
    /// The HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS of the TLS fake: above every stream count by
    /// default, so all paced streams run at once (Bedrock's own limit is not known; at a lower
    /// limit the SDK's client queues the streams over it on its one connection).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    upstream_h2_streams: u32,
}

/// `--upstream`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum UpstreamChoice {
    /// Cleartext HTTP/1.1.
    Plain,
    /// HTTPS, ALPN `h2`.
    Tls,
    /// Both, plain first.
    Both,
}

impl UpstreamChoice {
    /// The transports of the paced step, in order.
    fn paced(self) -> &'static [Upstream] {
        match self {
            UpstreamChoice::Plain => &[Upstream::Plain],
            UpstreamChoice::Tls => &[Upstream::Tls],
            UpstreamChoice::Both => &[Upstream::Plain, Upstream::Tls],
        }
    }
}

/// The transport between the gateway and the fake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Upstream {
    /// `http://`: hyper's HTTP/1.1 client, one connection per stream in flight.
    Plain,
    /// `https://` with ALPN `h2`: the production transport to Bedrock.
    Tls,
}

impl Upstream {
    /// How the report names it.
    fn label(self) -> &'static str {
        match self {
            Upstream::Plain => "plain HTTP/1.1 to the fake",
            Upstream::Tls => "TLS to the fake, ALPN h2 as against Bedrock",
        }
    }
}

/// The steps `--only` can name: a name outside this list is an error (a typo would measure
/// nothing and read every target as not measured).
const STEPS: [&str; 11] = [
    "single",
    "c64",
    "c512",
    "open-200",
    "open-1000",
    "search",
    "overload",
    "idle",
    "cold",
    "list",
    "paced",
];

impl Args {
    /// Whether the step `name` runs (every step without `--only`).
    fn runs(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|o| o == name)
    }
}

/// Minutes of a soak: more than zero, at most a day.
fn minutes(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(m) if m > 0.0 && m <= 24.0 * 60.0 => Ok(m),
        _ => Err(format!(
            "expected minutes above 0 and at most 1440, got `{text}`"
        )),
    }
}

/// `KEY=VALUE`.
fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected KEY=VALUE, got `{text}`")),
    }
}

/// The sandbox of one gateway process, with `--gateway-env`.
fn sandbox(args: &Args) -> Result<Sandbox> {
    Ok(Sandbox::new(MODEL, false)?.with_env(&args.gateway_env))
}

/// Durations and sizes of one run.
struct Plan {
    single: Duration,
    closed: Duration,
    open: Duration,
    step: Duration,
    search_steps: usize,
    idle_streams: usize,
    cold_runs: usize,
    list_runs: usize,
    /// Concurrencies of the paced scenario.
    paced: Vec<usize>,
    /// Output tokens (one per delta) of a paced stream.
    paced_tokens: usize,
    /// Paced streams start evenly over this time.
    paced_ramp: Duration,
    /// How long the overload step offers its rate.
    overload: Duration,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                single: Duration::from_millis(1000),
                closed: Duration::from_millis(1500),
                open: Duration::from_millis(1500),
                step: Duration::from_millis(1000),
                search_steps: 3,
                idle_streams: 200,
                cold_runs: 2,
                list_runs: 5,
                paced: vec![200],
                paced_tokens: 200,
                paced_ramp: Duration::from_secs(1),
                overload: Duration::from_secs(2),
            }
        } else {
            Plan {
                single: Duration::from_secs(4),
                closed: Duration::from_secs(5),
                open: Duration::from_secs(6),
                step: Duration::from_secs(3),
                search_steps: 6,
                idle_streams: 1000,
                cold_runs: 5,
                list_runs: 20,
                // 1,000 tokens at 25 ms: each stream lasts 25.3 s, and with the 5 s ramp the
                // scenario holds its streams for just over 30 s.
                paced: vec![1000, 5000],
                paced_tokens: 1000,
                paced_ramp: Duration::from_secs(5),
                overload: Duration::from_secs(6),
            }
        }
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The measured paths with the gateway process (when it serves).
struct Paths {
    list: Vec<(String, Client)>,
    gateway_pid: u32,
}

async fn run(args: Args) -> Result<()> {
    if !args.fake_listen.ip().is_loopback() {
        bail!(
            "--fake-listen must be a loopback address, got {}",
            args.fake_listen
        );
    }
    if let Some(minutes) = args.soak {
        return soak(&args, minutes).await;
    }
    let started = Instant::now();
    let plan = Plan::new(args.quick);
    let prompt = prompt();
    let mut report = Report {
        machine: machine(),
        quick: args.quick,
        workload: Workload {
            model: MODEL.to_owned(),
            prompt_chars: prompt.len(),
            output_tokens: OUTPUT_TOKENS as u64,
            delta_events: (prompt.len() + ECHO_PREFIX.len()).div_ceil(CHUNK),
            chunk_chars: CHUNK,
            pace_first_ms: 0,
            pace_ms: 0,
        },
        ..Report::default()
    };
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;

    let wait = Duration::from_secs(30);
    let fake = Server::spawn(
        procs::fake_command(&args.fake, &args.fake_listen.to_string(), 0, 0, CHUNK),
        "fake-bedrock",
        wait,
    )
    .await?;
    eprintln!("fake-bedrock: {} (pid {})", fake.url, fake.pid());
    let gateway_args = gateway_args(&args.openclaw).await;
    let sandbox = sandbox(&args)?;
    let gateway = Server::spawn(
        sandbox.command(&args.openclaw, &fake.url, &gateway_args),
        "openclaw gateway",
        wait,
    )
    .await;
    let mut paths = Paths {
        list: vec![(
            "direct".to_owned(),
            Client::Direct(Arc::new(DirectClient::new(
                &fake.url, MODEL, &prompt, None,
            )?)),
        )],
        gateway_pid: 0,
    };
    let gateway = match gateway {
        Ok(g) => {
            eprintln!("openclaw gateway: {} (pid {})", g.url, g.pid());
            let client = openai(&g.url, &format!("amazon-bedrock/{MODEL}"), &prompt, None)?;
            match check(&client).await {
                Ok(()) => {
                    paths.list.push(("gateway".to_owned(), client));
                    paths.gateway_pid = g.pid();
                }
                Err(err) => eprintln!(
                    "warning: the gateway does not serve streaming chat completions ({err}); measuring the direct path only\n{}",
                    sandbox.log_tail()
                ),
            }
            Some(g)
        }
        Err(err) => {
            eprintln!("warning: {err:#}; measuring the direct path only");
            None
        }
    };
    if let (Some(url), Some(model)) = (&args.against, &args.model) {
        let client = openai(url, model, &prompt, args.against_token.clone())?;
        check(&client)
            .await
            .with_context(|| format!("--against {url}"))?;
        paths.list.push(("against".to_owned(), client));
    }
    let direct = paths.list[0].1.clone();
    check(&direct)
        .await
        .context("the direct SDK path to fake-bedrock fails")?;

    // Warm up every path (connections, lazy initialisation); discarded.
    for (_, client) in &paths.list {
        let _ = load::closed(client, 8, bounds(Duration::from_secs(2), 400, 10)).await;
    }

    let timeout = if args.quick { 5 } else { 10 };
    let closed_scenarios = [
        ("single", 1, plan.single),
        ("c64", 64, plan.closed),
        ("c512", 512, plan.closed),
    ];
    for (name, concurrency, duration) in closed_scenarios {
        if !args.runs(name) {
            continue;
        }
        let sc = scenario(&paths, name, Some(concurrency), None, |c| async move {
            load::closed(&c, concurrency, bounds(duration, 2_000_000, timeout)).await
        })
        .await;
        print_scenario(&sc);
        report.scenarios.push(sc);
    }
    let open_for = plan.open;
    for rate in [200.0, 1000.0] {
        let name = format!("open-{rate:.0}");
        if !args.runs(&name) {
            continue;
        }
        let sc = scenario(&paths, &name, None, Some(rate), |c| async move {
            load::open(&c, rate, 4096, bounds(open_for, 2_000_000, timeout)).await
        })
        .await;
        print_scenario(&sc);
        report.scenarios.push(sc);
    }
    for (name, client) in paths.list.clone() {
        if !args.runs("search") {
            break;
        }
        let pid = if name == "gateway" {
            paths.gateway_pid
        } else {
            0
        };
        let (max, steps) = search(&paths, &name, &client, pid, &plan, &mut report).await;
        eprintln!("{name}: highest rate with < 1 % errors: {max:.0} req/s");
        report.max_rate.push(MaxRate {
            path: name,
            rate: max,
            steps,
        });
    }
    if let Some(g) = gateway {
        g.stop().await;
    }

    let gateway_max = report
        .max_rate
        .iter()
        .find(|m| m.path == "gateway")
        .map(|m| m.rate)
        .unwrap_or(if args.runs("search") {
            0.0
        } else {
            args.overload_base
        });
    if paths.gateway_pid != 0 && gateway_max > 0.0 && args.runs("overload") {
        report.overload = overload(&args, &fake.url, &prompt, gateway_max, plan.overload)
            .await
            .map_err(|e| eprintln!("warning: overload: {e:#}"))
            .ok();
    }

    if paths.gateway_pid != 0 && args.runs("idle") {
        report.idle = idle(&args, &prompt, plan.idle_streams)
            .await
            .map_err(|e| {
                eprintln!("warning: idle streams: {e:#}");
            })
            .ok();
    }
    if paths.gateway_pid != 0 && args.runs("cold") {
        report.cold_start = cold_start(&args, &fake.url, &prompt, plan.cold_runs)
            .await
            .map_err(|e| eprintln!("warning: cold start: {e:#}"))
            .ok();
    }
    if args.runs("list") {
        report.models_list = models_list(&args.openclaw, &fake.url, plan.list_runs).await;
    }
    fake.stop().await;
    if paths.gateway_pid != 0 && args.runs("paced") {
        for &n in &plan.paced {
            for &upstream in args.upstream.paced() {
                match paced(&args, n, &plan, upstream).await {
                    Ok(p) => report.paced.push(p),
                    Err(e) => eprintln!("warning: paced {n} ({}): {e:#}", upstream.label()),
                }
            }
        }
    }
    report.targets = targets::evaluate(&report);
    for t in &report.targets {
        eprintln!(
            "target     {:<58} {:>24}  {}",
            t.figure,
            t.measured,
            t.verdict()
        );
    }

    report.run_seconds = started.elapsed().as_secs_f64();
    let md = report::markdown(&report);
    std::fs::write(args.out.join("results.md"), &md)?;
    std::fs::write(
        args.out.join("results.json"),
        serde_json::to_vec_pretty(&report)?,
    )?;
    std::fs::write(args.out.join("latency.svg"), report::svg(&report))?;
    println!("{md}");
    eprintln!(
        "written: {}/{{results.md,results.json,latency.svg}}",
        args.out.display()
    );
    Ok(())
}

fn bounds(duration: Duration, max_requests: u64, timeout_s: u64) -> Bounds {
    Bounds {
        duration,
        max_requests,
        timeout: Duration::from_secs(timeout_s),
    }
}

fn openai(url: &str, model: &str, prompt: &str, token: Option<String>) -> Result<Client> {
    Ok(Client::Openai(Arc::new(OpenaiClient::new(
        url, model, prompt, token,
    )?)))
}

/// One request that must succeed with a token and the expected usage.
async fn check(client: &Client) -> Result<()> {
    let s = client.run(Instant::now(), Duration::from_secs(20)).await;
    if let Some(err) = s.error {
        bail!("{err}");
    }
    if s.ttft.is_none() {
        bail!("no content token in the answer");
    }
    Ok(())
}

/// The prompt: 794 characters, so the echoed answer is 800 characters (200 tokens).
fn prompt() -> String {
    let target = OUTPUT_TOKENS * 4 - ECHO_PREFIX.len();
    "The quick brown fox jumps over the lazy dog. "
        .chars()
        .cycle()
        .take(target)
        .collect()
}

/// `gateway --port 0`, plus stream, connection and pending-body limits high enough for the
/// bench when the binary has those flags.
async fn gateway_args(openclaw: &Path) -> Vec<String> {
    let mut args = default_gateway_args();
    let help = tokio::process::Command::new(openclaw)
        .args(["gateway", "--help"])
        .output()
        .await
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    // Raw capacity: no admission limit of the gateway's may refuse the bench's load (request
    // bodies count until the response head, which a paced stream sends with its first event).
    for flag in [
        "--max-concurrent-streams",
        "--max-connections",
        "--max-pending-bodies",
    ] {
        if help.contains(flag) {
            args.extend([flag.to_owned(), "100000".to_owned()]);
        }
    }
    args
}

/// `gateway --port 0` with every limit at its default.
fn default_gateway_args() -> Vec<String> {
    vec!["gateway".to_owned(), "--port".to_owned(), "0".to_owned()]
}

/// The overload step: a fresh gateway with its default limits on the unpaced fake, offered
/// twice `base_rate` in open loop.
async fn overload(
    args: &Args,
    endpoint: &str,
    prompt: &str,
    base_rate: f64,
    duration: Duration,
) -> Result<stress::Overload> {
    let sandbox = sandbox(args)?;
    let gateway = Server::spawn(
        sandbox.command(&args.openclaw, endpoint, &default_gateway_args()),
        "openclaw gateway",
        Duration::from_secs(30),
    )
    .await?;
    let client = openai(
        &gateway.url,
        &format!("amazon-bedrock/{MODEL}"),
        prompt,
        None,
    )?;
    check(&client).await?;
    let _ = load::closed(&client, 8, bounds(Duration::from_secs(1), 400, 10)).await;
    let pid = gateway.pid();
    let rate = base_rate * 2.0;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sampler = tokio::spawn(stress::rss_peak(pid, stopped));
    let before = Usage::of(pid);
    let (samples, wall) = load::open(&client, rate, 4096, bounds(duration, 2_000_000, 10)).await;
    let after = Usage::of(pid);
    let _ = stop.send(true);
    let peak = sampler.await.unwrap_or(0);
    let admission = stress::admission_metrics(&gateway.url).await;
    gateway.stop().await;
    let mut o = stress::overload_of(
        base_rate,
        rate,
        &samples,
        wall,
        after.cpu_s - before.cpu_s,
        peak,
    );
    o.admission_metrics = admission;
    eprintln!(
        "overload   gateway  {rate:>7.0} req/s offered: {:.0} served ({:.2}x of {base_rate:.0}), admitted TTFT p99 {:.2} ms, {} refused (p99 {:.2} ms), other errors {:?}, peak RSS {:.1} MiB",
        o.served_per_s,
        o.served_ratio,
        o.admitted_ttft_us.p99 / 1000.0,
        o.refused,
        o.refused_us.p99 / 1000.0,
        o.other_errors,
        o.peak_rss_kib as f64 / 1024.0
    );
    eprintln!(
        "           refusals p50/p99 ms: client delay {:.2}/{:.2}, connect {:.2}/{:.2}, gateway answer {:.2}/{:.2}",
        o.refused_client_delay_us.p50 / 1000.0,
        o.refused_client_delay_us.p99 / 1000.0,
        o.refused_connect_us.p50 / 1000.0,
        o.refused_connect_us.p99 / 1000.0,
        o.refused_answer_us.p50 / 1000.0,
        o.refused_answer_us.p99 / 1000.0
    );
    eprintln!("           admission: {:?}", o.admission_metrics);
    Ok(o)
}

/// Output tokens of a soak stream: 400 events 25 ms apart, about 10 s a stream.
const SOAK_TOKENS: usize = 400;

/// The servers of a paced run: the fake, the gateway's sandbox (its configuration and home,
/// alive as long as the gateway) and the gateway; with TLS, the fake's certificate (PEM).
struct PacedServers {
    fake: Server,
    sandbox: Sandbox,
    gateway: Server,
    ca_pem: Option<String>,
}

/// A fake paced like a real model and a fresh gateway on it (the paced scenario and the soak),
/// over `upstream`: with TLS the fake writes its certificate into the sandbox and the gateway
/// trusts it through `AWS_CA_BUNDLE`.
async fn paced_servers(args: &Args, wait: Duration, upstream: Upstream) -> Result<PacedServers> {
    let mut sandbox = sandbox(args)?;
    let mut fake_command = procs::fake_command(
        &args.fake,
        "127.0.0.1:0",
        PACED_FIRST_MS,
        PACED_MS,
        PACED_CHUNK,
    );
    let cert = sandbox.path().join("fake-ca.pem");
    if upstream == Upstream::Tls {
        fake_command
            .arg("--tls-cert-out")
            .arg(&cert)
            .arg("--h2-max-concurrent-streams")
            .arg(args.upstream_h2_streams.to_string());
        sandbox = sandbox.with_env(&[("AWS_CA_BUNDLE".to_owned(), cert.display().to_string())]);
    }
    let fake = Server::spawn(fake_command, "paced fake-bedrock", wait).await?;
    let ca_pem =
        match upstream {
            Upstream::Tls => Some(std::fs::read_to_string(&cert).with_context(|| {
                format!("cannot read the fake's certificate {}", cert.display())
            })?),
            Upstream::Plain => None,
        };
    let gw_args = gateway_args(&args.openclaw).await;
    let gateway = Server::spawn(
        sandbox.command(&args.openclaw, &fake.url, &gw_args),
        "openclaw gateway",
        wait,
    )
    .await?;
    Ok(PacedServers {
        fake,
        sandbox,
        gateway,
        ca_pem,
    })
}

/// The soak mode: a paced fake and a gateway with raw capacity, `minutes` of load, then the
/// report under `--out`.
async fn soak(args: &Args, minutes: f64) -> Result<()> {
    let wait = Duration::from_secs(30);
    let tokens = SOAK_TOKENS;
    let prompt = paced_prompt(tokens);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let upstream = match args.upstream {
        UpstreamChoice::Tls => Upstream::Tls,
        UpstreamChoice::Plain | UpstreamChoice::Both => Upstream::Plain,
    };
    let PacedServers {
        fake,
        sandbox: _sandbox,
        gateway,
        ..
    } = paced_servers(args, wait, upstream).await?;
    let client = openai(
        &gateway.url,
        &format!("amazon-bedrock/{MODEL}"),
        &prompt,
        None,
    )?;
    check(&client).await.context("the gateway does not serve")?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let stream_len = Duration::from_millis(PACED_FIRST_MS + PACED_MS * tokens as u64);
    let plan = soak::SoakPlan {
        duration: Duration::from_secs_f64(minutes * 60.0),
        streams: args.soak_streams as usize,
        tokens,
        disconnect_every: 20,
        fault_period: Duration::from_millis(500),
        sample_period: Duration::from_secs(5),
        settle: Duration::from_secs(30),
        ramp: Duration::from_secs(10),
        timeout: stream_len * 3 + Duration::from_secs(30),
        stream_len,
    };
    eprintln!(
        "soak: {} streams for {minutes} min on gateway {} (pid {}), fake {}",
        plan.streams,
        gateway.url,
        gateway.pid(),
        fake.url
    );
    let mut result = soak::run(client, &fake.url, gateway.pid(), plan).await;
    gateway.stop().await;
    fake.stop().await;
    result.machine = machine();
    result.pace_first_ms = PACED_FIRST_MS;
    result.pace_ms = PACED_MS;
    let md = soak::markdown(&result, 6);
    std::fs::write(args.out.join("soak.md"), &md)?;
    std::fs::write(
        args.out.join("soak.json"),
        serde_json::to_vec_pretty(&result)?,
    )?;
    std::fs::write(args.out.join("soak.svg"), soak::svg(&result))?;
    println!("{md}");
    eprintln!(
        "written: {}/{{soak.md,soak.json,soak.svg}}",
        args.out.display()
    );
    Ok(())
}

/// The paced scenario at `n` streams over `upstream`: a fake paced like a real model and a
/// fresh gateway on it; the direct path, then the gateway path.
async fn paced(args: &Args, n: usize, plan: &Plan, upstream: Upstream) -> Result<stress::Paced> {
    let wait = Duration::from_secs(30);
    let tokens = plan.paced_tokens;
    let prompt = paced_prompt(tokens);
    let PacedServers {
        fake,
        sandbox,
        gateway,
        ca_pem,
    } = paced_servers(args, wait, upstream).await?;
    let model = format!("amazon-bedrock/{MODEL}");
    let gw_client = openai(&gateway.url, &model, &prompt, None)?;
    let direct = Client::Direct(Arc::new(DirectClient::new(
        &fake.url,
        MODEL,
        &prompt,
        ca_pem.as_deref(),
    )?));

    // Each path's lazy state is built by one request cut after its first event (the cut is a
    // `timeout`); any other error means the path does not serve (over TLS: a gateway that does
    // not trust the certificate), and nothing is measured.
    for (path, c) in [("direct", &direct), ("gateway", &gw_client)] {
        let sample = c.run(Instant::now(), Duration::from_millis(1500)).await;
        match sample.error {
            Some(err) if err != "timeout" => bail!(
                "the {path} path does not serve over {}: {err}\n{}",
                upstream.label(),
                sandbox.log_tail()
            ),
            _ => {}
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = gateway.pid();
    let idle_rss = Usage::of(pid).rss_kib;
    let stream_s = (PACED_FIRST_MS + PACED_MS * tokens as u64) as f64 / 1000.0;
    let shape = stress::Shape {
        n,
        ramp: plan.paced_ramp,
        timeout: Duration::from_secs_f64(stream_s * 3.0 + 30.0),
        events_per_stream: tokens,
    };
    let mut out = stress::Paced {
        streams: n,
        tokens,
        pace_first_ms: PACED_FIRST_MS,
        pace_ms: PACED_MS,
        ramp_s: plan.paced_ramp.as_secs_f64(),
        upstream: upstream.label().to_owned(),
        upstream_h2_streams: (upstream == Upstream::Tls).then_some(args.upstream_h2_streams),
        idle_rss_kib: idle_rss,
        ..stress::Paced::default()
    };
    for (path, client, pid) in [("direct", &direct, 0), ("gateway", &gw_client, pid)] {
        let p = stress::paced_path(path, client, shape, pid, idle_rss).await;
        eprintln!(
            "paced-{n:<5} {:<5} {path:<8} {} streams, {} errors {:?}, most open {}, TTFT p50 {:.1} p99 {:.1} ms{}",
            match upstream {
                Upstream::Plain => "plain",
                Upstream::Tls => "tls",
            },
            p.summary.requests,
            p.summary.errors,
            p.summary.error_kinds,
            p.most_open,
            p.summary.ttft_us.p50 / 1000.0,
            p.summary.ttft_us.p99 / 1000.0,
            match (p.cpu_percent, p.peak_rss_kib, p.kib_per_stream) {
                (Some(cpu), Some(rss), Some(per)) => format!(
                    "; gateway CPU {cpu:.0} %, peak RSS {:.1} MiB, {per:.1} KiB per stream",
                    rss as f64 / 1024.0
                ),
                _ => String::new(),
            }
        );
        out.paths.push(p);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let get = |name: &str| {
        out.paths
            .iter()
            .find(|p| p.path == name)
            .map(|p| &p.summary)
    };
    out.compare = match (get("gateway"), get("direct")) {
        (Some(g), Some(d)) => Some(Compare::of(g, d)),
        _ => None,
    };
    gateway.stop().await;
    fake.stop().await;
    Ok(out)
}

/// The paced fake's delay before the first event, ms.
const PACED_FIRST_MS: u64 = 300;
/// The paced fake's delay between events, ms.
const PACED_MS: u64 = 25;
/// Characters per paced delta: one token (fake-bedrock estimates four characters a token).
const PACED_CHUNK: usize = 4;

/// A prompt whose echo is `tokens` tokens of one delta each.
fn paced_prompt(tokens: usize) -> String {
    "The quick brown fox jumps over the lazy dog. "
        .chars()
        .cycle()
        .take(tokens * PACED_CHUNK - ECHO_PREFIX.len())
        .collect()
}

/// Runs `body` once per path, with the gateway's CPU and peak RSS around the gateway run.
async fn scenario<F, Fut>(
    paths: &Paths,
    name: &str,
    concurrency: Option<usize>,
    rate: Option<f64>,
    body: F,
) -> Scenario
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = (Vec<stats::Sample>, Duration)>,
{
    let mut sc = Scenario {
        name: name.to_owned(),
        concurrency,
        rate,
        ..Scenario::default()
    };
    for (path, client) in &paths.list {
        let pid = if path == "gateway" {
            paths.gateway_pid
        } else {
            0
        };
        sc.paths.push(measure(path, client, pid, &body).await);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    sc.compare = compare(&sc);
    sc
}

async fn measure<F, Fut>(path: &str, client: &Client, pid: u32, body: &F) -> PathResult
where
    F: Fn(Client) -> Fut,
    Fut: std::future::Future<Output = (Vec<stats::Sample>, Duration)>,
{
    let reset = Usage::reset_peak(pid);
    let before = Usage::of(pid);
    let (samples, wall) = body(client.clone()).await;
    let after = Usage::of(pid);
    let summary = Summary::of(&samples, wall);
    let process = (pid != 0).then(|| {
        let cpu_s = after.cpu_s - before.cpu_s;
        let ok = (summary.requests - summary.errors) as f64;
        ProcessUse {
            cpu_s,
            cpu_us_per_req: if ok > 0.0 { cpu_s * 1e6 / ok } else { 0.0 },
            peak_rss_kib: if reset {
                after.hwm_kib
            } else {
                after.hwm_kib.max(after.rss_kib)
            },
        }
    });
    PathResult {
        path: path.to_owned(),
        summary,
        process,
    }
}

fn compare(sc: &Scenario) -> Option<Compare> {
    let get = |name: &str| sc.paths.iter().find(|p| p.path == name).map(|p| &p.summary);
    Some(Compare::of(get("gateway")?, get("direct")?))
}

fn print_scenario(sc: &Scenario) {
    for p in &sc.paths {
        let s = &p.summary;
        eprintln!(
            "{:<10} {:<8} {:>7} req {:>5} err {:>8.0} req/s  ttft p50 {:>7.3} p99 {:>8.3} ms  total p50 {:>7.3} p99 {:>8.3} ms{}",
            sc.name,
            p.path,
            s.requests,
            s.errors,
            s.req_per_s,
            s.ttft_us.p50 / 1000.0,
            s.ttft_us.p99 / 1000.0,
            s.total_us.p50 / 1000.0,
            s.total_us.p99 / 1000.0,
            p.process
                .map(|u| format!("  cpu {:.0} µs/req", u.cpu_us_per_req))
                .unwrap_or_default()
        );
        if !s.error_kinds.is_empty() {
            eprintln!("           errors: {:?}", s.error_kinds);
        }
    }
}

/// Bisects for the highest open-loop rate with < 1 % errors and ≥ 95 % of it completed.
async fn search(
    _paths: &Paths,
    name: &str,
    client: &Client,
    pid: u32,
    plan: &Plan,
    report: &mut Report,
) -> (f64, Vec<(f64, f64, f64, f64, bool)>) {
    let mut best: f64 = 0.0;
    let mut failed: Option<f64> = None;
    let mut rate: f64 = 2000.0;
    let mut steps = Vec::new();
    for _ in 0..plan.search_steps {
        let step = bounds(plan.step, 500_000, 2);
        let r = measure(name, client, pid, &|c: Client| async move {
            load::open(&c, rate, 4096, step).await
        })
        .await;
        let s = &r.summary;
        let pass = s.error_rate() < 0.01 && s.req_per_s >= 0.95 * rate;
        steps.push((rate, s.req_per_s, s.error_rate(), s.total_us.p99, pass));
        eprintln!(
            "search     {name:<8} {rate:>7.0} req/s offered: {:>7.0} achieved, {:.2} % errors, p99 total {:.2} ms {}",
            s.req_per_s,
            s.error_rate() * 100.0,
            s.total_us.p99 / 1000.0,
            if pass { "pass" } else { "FAIL" }
        );
        report.scenarios.push(Scenario {
            name: format!("search-{rate:.0}"),
            rate: Some(rate),
            paths: vec![r],
            ..Scenario::default()
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        if pass {
            best = rate;
        } else {
            failed = Some(rate);
        }
        rate = match failed {
            None => rate * 2.0,
            Some(f) => (best + f) / 2.0,
        };
        if let Some(f) = failed
            && f - best <= (best * 0.1).max(100.0)
        {
            break;
        }
    }
    (best, steps)
}

/// Holds `n` streams open through a fresh gateway on a slowly paced fake; RSS before and during.
async fn idle(args: &Args, prompt: &str, n: usize) -> Result<Idle> {
    let wait = Duration::from_secs(30);
    // First event at once, then 20 s between events: every stream stays open while measured.
    let fake = Server::spawn(
        procs::fake_command(&args.fake, "127.0.0.1:0", 0, 20_000, CHUNK),
        "paced fake-bedrock",
        wait,
    )
    .await?;
    let sandbox = sandbox(args)?;
    let gw_args = gateway_args(&args.openclaw).await;
    let gateway = Server::spawn(
        sandbox.command(&args.openclaw, &fake.url, &gw_args),
        "openclaw gateway",
        wait,
    )
    .await?;
    let client = openai(
        &gateway.url,
        &format!("amazon-bedrock/{MODEL}"),
        prompt,
        None,
    )?;
    let pid = gateway.pid();
    // One stream opened and dropped first, so lazily built state counts as idle.
    let opened = hold_streams(&client, 1).await;
    if opened == 0 {
        bail!(
            "the gateway opened no stream on the paced fake:\n{}",
            sandbox.log_tail()
        );
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = Usage::of(pid).rss_kib;
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (started_tx, mut started_rx) = tokio::sync::mpsc::channel(n.max(1));
    let mut holders = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, started_tx, rx) = (client.clone(), started_tx.clone(), rx.clone());
        holders.spawn(async move { client.hold(started_tx, rx).await });
    }
    drop(started_tx);
    let mut opened = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    for _ in 0..n {
        match tokio::time::timeout_at(deadline, started_rx.recv()).await {
            Ok(Some(true)) => opened += 1,
            Ok(Some(false)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded_rss = Usage::of(pid).rss_kib;
    let _ = tx.send(true);
    while holders.join_next().await.is_some() {}
    gateway.stop().await;
    fake.stop().await;
    eprintln!(
        "idle       gateway  {opened}/{n} streams open: RSS {idle_rss} KiB idle, {loaded_rss} KiB loaded"
    );
    Ok(Idle {
        streams: n,
        opened,
        idle_rss_kib: idle_rss,
        loaded_rss_kib: loaded_rss,
        kib_per_stream: loaded_rss.saturating_sub(idle_rss) as f64 / opened.max(1) as f64,
    })
}

/// Opens `n` streams, waits for their headers, closes them; returns how many opened.
async fn hold_streams(client: &Client, n: usize) -> usize {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let (started_tx, mut started_rx) = tokio::sync::mpsc::channel(n.max(1));
    let mut holders = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, started_tx, rx) = (client.clone(), started_tx.clone(), rx.clone());
        holders.spawn(async move { client.hold(started_tx, rx).await });
    }
    drop(started_tx);
    let mut opened = 0;
    for _ in 0..n {
        if let Ok(Some(true)) =
            tokio::time::timeout(Duration::from_secs(10), started_rx.recv()).await
        {
            opened += 1;
        }
    }
    let _ = tx.send(true);
    while holders.join_next().await.is_some() {}
    opened
}

/// Spawn to first completed streaming chat, over `runs` fresh gateway processes.
async fn cold_start(args: &Args, endpoint: &str, prompt: &str, runs: usize) -> Result<ColdStart> {
    let mut listening = Vec::new();
    let mut first = Vec::new();
    let gw_args = gateway_args(&args.openclaw).await;
    for _ in 0..runs {
        let sandbox = sandbox(args)?;
        let gateway = Server::spawn(
            sandbox.command(&args.openclaw, endpoint, &gw_args),
            "openclaw gateway",
            Duration::from_secs(30),
        )
        .await?;
        let client = openai(
            &gateway.url,
            &format!("amazon-bedrock/{MODEL}"),
            prompt,
            None,
        )?;
        let s = client.run(Instant::now(), Duration::from_secs(10)).await;
        let served = gateway.spawned.elapsed();
        if let Some(err) = s.error {
            bail!("first request failed: {err}");
        }
        listening.push(gateway.startup.as_secs_f64() * 1000.0);
        first.push(served.as_secs_f64() * 1000.0);
        gateway.stop().await;
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    let max = first.iter().copied().fold(0.0, f64::max);
    Ok(ColdStart {
        listening_ms: median(listening),
        first_completion_ms: median(first),
        first_completion_max_ms: max,
        runs,
    })
}

/// `openclaw models list` wall time with a warm disk cache (discovery on, cache filled first).
async fn models_list(openclaw: &Path, endpoint: &str, runs: usize) -> Measured {
    let not = |note: String| Measured {
        note,
        ..Measured::default()
    };
    let sandbox = match Sandbox::new(MODEL, true) {
        Ok(s) => s,
        Err(e) => return not(format!("{e:#}")),
    };
    let once = || async {
        let start = Instant::now();
        let out = sandbox
            .command(
                openclaw,
                endpoint,
                &["models".to_owned(), "list".to_owned()],
            )
            .stdout(std::process::Stdio::null())
            .status()
            .await;
        (start.elapsed(), out.map(|s| s.success()).unwrap_or(false))
    };
    // The first run fills the discovery cache.
    let (_, ok) = once().await;
    if !ok {
        return not(format!(
            "`openclaw models list` failed or does not exist in this build: {}",
            sandbox.log_tail()
        ));
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let (t, ok) = once().await;
        if !ok {
            return not("a warm `openclaw models list` run failed".to_owned());
        }
        times.push(t.as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Measured {
        p50_ms: times.get(times.len() / 2).copied(),
        max_ms: times.last().copied(),
        runs,
        note: "discovery on, cache under OPENCLAW_STATE_DIR filled by a first run; process spawn included".to_owned(),
    }
}

fn machine() -> Machine {
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let memory_mib = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .map(|kib| kib / 1024)
        .unwrap_or(0);
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|| "rustc unknown".to_owned());
    Machine {
        cpus: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cpu_model,
        memory_mib,
        rustc,
        kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_accepts_the_step_names() {
        let base = ["openclaw-bench", "--openclaw", "o", "--fake", "f"];
        let parse = |extra: &[&str]| Args::try_parse_from(base.iter().chain(extra));
        let a = parse(&["--only", "single,c64,paced"]).unwrap();
        assert!(a.runs("c64") && a.runs("paced") && !a.runs("search"));
        let err = parse(&["--only", "single,c46"]).unwrap_err().to_string();
        assert!(err.contains("c46") && err.contains("c64"), "{err}");
    }

    #[test]
    fn parses_the_soak_flags() {
        let base = ["openclaw-bench", "--openclaw", "o", "--fake", "f"];
        let parse = |extra: &[&str]| Args::try_parse_from(base.iter().chain(extra));
        let a = parse(&["--soak", "10"]).unwrap();
        assert_eq!((a.soak, a.soak_streams), (Some(10.0), 2000));
        let a = parse(&["--soak=0.5", "--soak-streams", "300"]).unwrap();
        assert_eq!((a.soak, a.soak_streams), (Some(0.5), 300));
        assert_eq!(parse(&[]).unwrap().soak, None);
        for bad in [
            &["--soak", "0"][..],
            &["--soak", "x"],
            &["--soak", "1441"],
            &["--soak-streams", "0"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_prompt_gives_the_scripted_answer() {
        let p = prompt();
        assert_eq!(p.len() + ECHO_PREFIX.len(), OUTPUT_TOKENS * 4);
        assert_eq!((p.len() + ECHO_PREFIX.len()).div_ceil(CHUNK), 50);
    }

    #[test]
    fn the_paced_prompt_gives_one_token_per_delta() {
        let p = paced_prompt(1000);
        assert_eq!((p.len() + ECHO_PREFIX.len()) / PACED_CHUNK, 1000);
        assert_eq!((p.len() + ECHO_PREFIX.len()) % PACED_CHUNK, 0);
    }

    #[test]
    fn cli_parses() {
        let a = Args::try_parse_from(["b", "--openclaw", "o", "--fake", "f", "--quick"]).unwrap();
        assert!(a.quick && a.against.is_none());
        assert!(
            Args::try_parse_from([
                "b",
                "--openclaw",
                "o",
                "--fake",
                "f",
                "--against",
                "http://x"
            ])
            .is_err()
        );
    }

    #[test]
    fn machine_is_described() {
        let m = machine();
        assert!(m.cpus >= 1);
        assert!(!m.cpu_model.is_empty());
    }
}
