//! `fake-bedrock` binary: serves the fake on a given address until SIGINT/SIGTERM.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use fake_bedrock::{Catalog, FakeBedrock, Fault, Pacing, Rule, Turn};

/// A faithful local Amazon Bedrock (control plane + Converse runtime) over real HTTP.
#[derive(Parser, Debug)]
#[command(name = "fake-bedrock", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Catalog JSON file (default: the built-in us-east-1-like catalog).
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// Accepted SigV4 access key id (with --secret-key; repeatable).
    #[arg(long, requires = "secret_key")]
    access_key: Vec<String>,
    /// Secret access key paired with the --access-key at the same position.
    #[arg(long)]
    secret_key: Vec<String>,
    /// Accepted bearer token (Bedrock API key; repeatable).
    #[arg(long)]
    bearer_token: Vec<String>,
    /// Region assumed for requests without a SigV4 scope.
    #[arg(long, default_value = fake_bedrock::DEFAULT_REGION)]
    region: String,
    /// Delay before the first byte of each response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pace_first_ms: u64,
    /// Delay between stream events, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pace_ms: u64,
    /// Characters per streamed delta.
    #[arg(long, default_value_t = fake_bedrock::DEFAULT_CHUNK_SIZE)]
    chunk_size: usize,
    /// A fault to inject, as JSON: a fault (`{"type":"throttle"}`), a rule
    /// (`{"item":{"type":"throttle"},"remaining":2}`) or an array of them (repeatable).
    #[arg(long, value_name = "JSON")]
    fault: Vec<String>,
    /// A scripted turn, as JSON: a turn (`{"blocks":[{"type":"text","text":"Hi"}]}`), a rule
    /// or an array of them (repeatable).
    #[arg(long, value_name = "JSON")]
    script: Vec<String>,
    /// Serve HTTPS (ALPN h2 and http/1.1) with a self-signed certificate made at start, and
    /// write that certificate (PEM: what a client must trust, e.g. as `AWS_CA_BUNDLE`) to this
    /// file before printing the URL.
    #[arg(long, value_name = "PATH")]
    tls_cert_out: Option<PathBuf>,
    /// The HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS advertised (default: hyper's, 200).
    #[arg(long, value_name = "N")]
    h2_max_concurrent_streams: Option<u32>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.access_key.len() != args.secret_key.len() {
        eprintln!("error: expected as many --secret-key as --access-key");
        return std::process::ExitCode::from(2);
    }
    let catalog = match &args.catalog {
        Some(path) => match Catalog::from_json_file(path) {
            Ok(c) => c,
            Err(err) => {
                eprintln!("error: {err}");
                return std::process::ExitCode::from(2);
            }
        },
        None => Catalog::default_catalog(),
    };
    let mut faults = Vec::new();
    for json in &args.fault {
        match Rule::<Fault>::list_from_json(json) {
            Ok(rules) => faults.extend(rules),
            Err(err) => {
                eprintln!("error: invalid --fault `{json}`: {err}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let mut scripts = Vec::new();
    for json in &args.script {
        match Rule::<Turn>::list_from_json(json) {
            Ok(rules) => scripts.extend(rules),
            Err(err) => {
                eprintln!("error: invalid --script `{json}`: {err}");
                return std::process::ExitCode::from(2);
            }
        }
    }
    let mut builder = FakeBedrock::builder()
        .listen(args.listen)
        .catalog(catalog)
        .region(args.region)
        .chunk_size(args.chunk_size)
        .pacing(Pacing {
            first_byte: Duration::from_millis(args.pace_first_ms),
            between_events: Duration::from_millis(args.pace_ms),
        });
    for (key, secret) in args.access_key.iter().zip(&args.secret_key) {
        builder = builder.credentials(key, secret);
    }
    for token in &args.bearer_token {
        builder = builder.bearer_token(token);
    }
    if args.tls_cert_out.is_some() {
        builder = builder.tls();
    }
    if let Some(max) = args.h2_max_concurrent_streams {
        builder = builder.h2_max_concurrent_streams(max);
    }
    let fake = match builder.start().await {
        Ok(f) => f,
        Err(err) => {
            eprintln!("error: {err}");
            return std::process::ExitCode::from(1);
        }
    };
    for rule in faults {
        fake.fault(rule);
    }
    for rule in scripts {
        fake.script(rule);
    }
    if let (Some(path), Some(pem)) = (&args.tls_cert_out, fake.ca_certificate_pem())
        && let Err(err) = write_whole(path, pem)
    {
        eprintln!(
            "error: cannot write the certificate to {}: {err}",
            path.display()
        );
        return std::process::ExitCode::from(1);
    }
    println!("listening on {}", fake.url());
    wait_for_signal().await;
    fake.shutdown().await;
    std::process::ExitCode::SUCCESS
}

/// Writes `text` to `path` as a whole: into a temporary file in the same directory, then
/// renamed over `path`, so a reader never sees a half-written file.
fn write_whole(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp-{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
