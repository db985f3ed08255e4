//! Command-line argument definitions (clap derive). Only definitions: behaviour lives in
//! `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The exit codes, shown at the end of `openclaw --help` (kept in sync with `exit.rs`).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  other failure (I/O, internal)
  2  usage error (bad arguments)
  3  configuration error (invalid file, bad key path or value, bad region or endpoint)
  4  authentication error (no AWS credentials, AccessDenied, invalid key or signature)
  5  upstream error (throttling, Bedrock 5xx, stream error, timeout, unreachable endpoint)
  6  unknown model (not configured and not discovered)";

/// Amazon Bedrock for OpenClaw: configuration, models, chat.
#[derive(Debug, Parser)]
#[command(name = "openclaw", version, about, after_long_help = EXIT_CODES_HELP, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Configuration file (default: $OPENCLAW_CONFIG_PATH, else ~/.openclaw/openclaw.json).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log to stderr (-v: debug for openclaw, -vv: debug for everything, -vvv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When to colour output (`auto` honours NO_COLOR and whether the stream is a terminal).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and NO_COLOR is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read and edit the configuration file (comments and layout are kept).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// List models and show credential, region and discovery status.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Send one prompt to a model and stream the answer.
    Chat(ChatArgs),
    /// Run the whole pipeline against an in-process fake Bedrock (no AWS account needed).
    Demo(DemoArgs),
    /// Serve an OpenAI-compatible HTTP gateway over Bedrock (`/v1/chat/completions`, `/v1/models`).
    Gateway(GatewayArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
}

/// `openclaw config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the value at a key path: strings bare, anything else as JSON (exit 1 when unset).
    Get {
        /// Dotted key path, e.g. `models.bedrockDiscovery.region`.
        path: String,
    },
    /// Set the value at a key path (parsed as JSON5, else taken as a string).
    Set {
        /// Dotted key path, e.g. `models.bedrockDiscovery.enabled`.
        path: String,
        /// The value: `true`, `3600`, `["anthropic"]`, `us-east-1`, ...
        value: String,
        /// The value must be JSON5 (no fallback to a plain string).
        #[arg(long)]
        strict_json: bool,
    },
    /// Remove the value at a key path.
    Unset {
        /// Dotted key path.
        path: String,
    },
    /// Print the path of the configuration file in use.
    File,
    /// Check the configuration file (errors give file:line:column, key path, did-you-mean).
    Validate,
    /// Print the JSON Schema of the configuration.
    Schema,
}

/// `openclaw models ...`.
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List configured and discovered models.
    List(ListArgs),
    /// Show credentials source, region, discovery, endpoints and the default model.
    Status(StatusArgs),
}

/// `openclaw models list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Also list discovered models that `providerFilter` hides (tagged `filtered`).
    #[arg(long)]
    pub all: bool,
    /// Print JSON: `{"count": N, "models": [...]}`.
    #[arg(long, conflicts_with = "plain")]
    pub json: bool,
    /// Print one model key per line.
    #[arg(long)]
    pub plain: bool,
    /// Only models of this provider id (e.g. `amazon-bedrock`).
    #[arg(long, value_name = "ID")]
    pub provider: Option<String>,
    /// Ignore the discovery cache and ask AWS again.
    #[arg(long)]
    pub refresh: bool,
}

/// `openclaw models status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Also ask the EC2 instance metadata service for an instance role (bounded to 1 s).
    #[arg(long)]
    pub probe_imds: bool,
}

/// `--thinking`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Thinking {
    /// No extended thinking.
    Off,
    /// Smallest budget.
    Minimal,
    /// Low budget.
    Low,
    /// Medium budget.
    Medium,
    /// High budget.
    High,
    /// Largest budget.
    Xhigh,
}

/// `openclaw chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Model as `provider/modelId` (default: agents.defaults.model.primary).
    #[arg(long, short)]
    pub model: Option<String>,
    /// System prompt.
    #[arg(long)]
    pub system: Option<String>,
    /// Extended thinking level (models with reasoning only).
    #[arg(long, value_enum, default_value_t = Thinking::Off)]
    pub thinking: Thinking,
    /// JSON file with tool definitions offered to the model:
    /// `[{"name": ..., "description": ..., "parameters": {JSON Schema}}]`.
    /// Tool calls are shown, not run.
    #[arg(long, value_name = "FILE")]
    pub tools: Option<PathBuf>,
    /// Maximum output tokens.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Print every stream event as a JSON line on stdout.
    #[arg(long)]
    pub json: bool,
    /// The prompt (read from stdin when absent or `-`).
    pub prompt: Option<String>,
}

/// `openclaw demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Delay between streamed events, in milliseconds (makes the streaming visible).
    #[arg(long, default_value_t = 25)]
    pub pace_ms: u64,
}

/// `openclaw gateway` (issue 8).
#[derive(Debug, Args)]
pub struct GatewayArgs {
    /// Port to listen on (default: `gateway.port`, else 18789; 0 picks a free port).
    #[arg(long)]
    pub port: Option<u16>,
    /// `loopback`, `lan` or an IP address (default: `gateway.bind`, else `loopback`).
    #[arg(long)]
    pub bind: Option<String>,
    /// Limits and timeouts.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Limits and timeouts of `openclaw gateway` (flattened into its arguments). The table in the
/// gateway README says why each default is what it is.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Largest accepted request body, in bytes (413 above).
    #[arg(long, value_name = "BYTES", default_value_t = 20 * 1024 * 1024, value_parser = at_least_one())]
    pub max_body_bytes: usize,
    /// Largest accepted image (decoded), in bytes (413 above; Bedrock's own limit is 3.75 MB).
    #[arg(long, value_name = "BYTES", default_value_t = 3_932_160)]
    pub max_image_bytes: usize,
    /// Chat completions served at once (429 above).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = at_least_one())]
    pub max_concurrent_streams: usize,
    /// Request bodies received at once (503 with Retry-After above).
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = at_least_one())]
    pub max_pending_bodies: usize,
    /// Bytes of request bodies received at once, counted from Content-Length before reading
    /// (503 with Retry-After above).
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024 * 1024, value_parser = at_least_one())]
    pub max_buffered_body_bytes: usize,
    /// Open connections (beyond, a new connection is answered 503 and closed).
    #[arg(long, value_name = "N", default_value_t = 1024, value_parser = at_least_one())]
    pub max_connections: usize,
    /// Largest request head (path and headers), in bytes (431 above).
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024, value_parser = at_least_one())]
    pub max_header_bytes: usize,
    /// Seconds a client may take to send a request's headers (slower: disconnected).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub header_read_timeout: f64,
    /// Seconds a client may take to send a request's body (slower: 408).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub body_read_timeout: f64,
    /// Seconds an idle connection stays open waiting for the next request.
    #[arg(long, value_name = "SECS", default_value_t = 75.0)]
    pub keep_alive_timeout: f64,
    /// A `Host` the gateway answers besides `localhost`, `127.0.0.1` and `[::1]` (repeatable; `*`:
    /// any). Needed behind a proxy or a DNS name when bound to loopback.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// A browser origin (`https://app.example`) allowed to call the gateway, with CORS
    /// (repeatable; `*`: any). Requests from other origins are refused.
    #[arg(long = "cors-allow-origin", value_name = "ORIGIN")]
    pub cors_allowed_origins: Vec<String>,
    /// Seconds open responses may take to finish after SIGINT/SIGTERM.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub shutdown_grace: f64,
    /// Seconds to wait for Bedrock's first event (504 after).
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub upstream_timeout: f64,
    /// Longest silence between two Bedrock events, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 30.0)]
    pub idle_timeout: f64,
    /// Attempts per Bedrock call for throttling and 5xx answers before the stream starts.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub upstream_attempts: u32,
}

/// A count or size of at least 1 (0 would refuse every request).
fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
}

/// `openclaw completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[test]
    fn zero_limits_are_refused_by_the_parser() {
        for flag in [
            "--max-body-bytes",
            "--max-concurrent-streams",
            "--max-pending-bodies",
            "--max-buffered-body-bytes",
            "--max-connections",
            "--max-header-bytes",
        ] {
            let err = Cli::try_parse_from(["openclaw", "gateway", flag, "0"]).unwrap_err();
            assert!(err.to_string().contains("0 is not in 1.."), "{flag}: {err}");
            assert!(
                Cli::try_parse_from(["openclaw", "gateway", flag, "1"]).is_ok(),
                "{flag}"
            );
        }
    }
}
