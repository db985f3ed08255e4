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

/// Amazon Bedrock for OpenClaw: configuration, models, chat, and a gateway serving the OpenAI-
/// and Anthropic-compatible APIs.
#[derive(Debug, Parser)]
#[command(name = "openclaw", version, after_long_help = EXIT_CODES_HELP, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Configuration file (default: $OPENCLAW_CONFIG_PATH, else ~/.openclaw/openclaw.json).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,

    /// Log to stderr (-v: debug for openclaw, -vv: debug for everything, -vvv: trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,

    /// When to colour output (`auto` honours NO_COLOR and whether the stream is a terminal).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, help_heading = "Global options")]
    pub color: ColorChoice,

    /// Log line format on stderr: `text`, or `json` (one JSON object per line, for log
    /// collectors). Default: $OPENCLAW_LOG_FORMAT, else text.
    #[arg(long, global = true, value_enum, help_heading = "Global options")]
    pub log_format: Option<LogFormat>,

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

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `message` and the fields).
    Json,
}

/// The subcommands.
// Parsed once per process: the size of the `gateway` variant costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// Serve the OpenAI- and Anthropic-compatible HTTP APIs over Bedrock (`/v1/chat/completions`,
    /// `/v1/messages`, `/v1/models`).
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
        #[arg(value_name = "KEY")]
        path: String,
    },
    /// Set the value at a key path (parsed as JSON5, else taken as a string).
    Set {
        /// Dotted key path, e.g. `models.bedrockDiscovery.enabled`.
        #[arg(value_name = "KEY")]
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
        #[arg(value_name = "KEY")]
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
    /// Model as `provider/modelId`, a Bedrock id or an alias set in agents.defaults.models
    /// (default: agents.defaults.model.primary).
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
    /// Maximum output tokens (at least 1).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
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

/// Where each `openclaw gateway` setting comes from, shown at the end of its help.
pub const GATEWAY_SETTINGS_HELP: &str = "\
Every flag can also be set by an environment variable and in the configuration file:
  --max-body-bytes       OPENCLAW_GATEWAY_MAX_BODY_BYTES   gateway.limits.maxBodyBytes
  --drain-delay          OPENCLAW_GATEWAY_DRAIN_DELAY      gateway.timeouts.drainDelay
  --allowed-host         OPENCLAW_GATEWAY_ALLOWED_HOST     gateway.allowedHosts  (comma-separated)
  (the variable is OPENCLAW_GATEWAY_ and the flag's name in upper case, `-` as `_`; the gateway
  README lists every key). Precedence: flag, then variable, then file, then the default.
The client token comes from OPENCLAW_GATEWAY_TOKEN, else gateway.auth.token.";

/// `openclaw gateway` (issue 8).
#[derive(Debug, Args)]
#[command(after_help = GATEWAY_SETTINGS_HELP, after_long_help = GATEWAY_SETTINGS_HELP)]
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
///
/// Every field is optional: an unset flag falls back to its `OPENCLAW_GATEWAY_*` variable, then
/// to the configuration file, then to the default named in its help.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Largest accepted request body, in bytes (413 above) [default: 20971520].
    #[arg(long, value_name = "BYTES", value_parser = at_least_one())]
    pub max_body_bytes: Option<usize>,
    /// Largest accepted image (decoded), in bytes (413 above; Bedrock's own limit is 3.75 MB)
    /// [default: 3932160].
    #[arg(long, value_name = "BYTES")]
    pub max_image_bytes: Option<usize>,
    /// Chat completions served at once (429 above) [default: 64].
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    pub max_concurrent_streams: Option<usize>,
    /// Requests waiting at once for a stream slot when --max-concurrent-streams are busy
    /// (beyond: 429 at once; 0: no queue) [default: 0].
    #[arg(long, value_name = "N")]
    pub max_queued_streams: Option<usize>,
    /// Longest time, in seconds, a request waits in that queue (503 with Retry-After after;
    /// 0: no queue) [default: 0.02].
    #[arg(long, value_name = "SECS")]
    pub queue_wait: Option<f64>,
    /// Request bodies received at once (503 with Retry-After above) [default: 64].
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    pub max_pending_bodies: Option<usize>,
    /// Bytes of request bodies received at once, counted from Content-Length before reading
    /// (503 with Retry-After above) [default: 268435456].
    #[arg(long, value_name = "BYTES", value_parser = at_least_one())]
    pub max_buffered_body_bytes: Option<usize>,
    /// Open connections (beyond, a new connection is answered 503 and closed) [default: 1024].
    #[arg(long, value_name = "N", value_parser = at_least_one())]
    pub max_connections: Option<usize>,
    /// Largest request head (path and headers), in bytes (431 above) [default: 65536].
    #[arg(long, value_name = "BYTES", value_parser = at_least_one())]
    pub max_header_bytes: Option<usize>,
    /// Seconds a client may take to send a request's headers (slower: disconnected)
    /// [default: 10].
    #[arg(long, value_name = "SECS")]
    pub header_read_timeout: Option<f64>,
    /// Seconds a client may take to send a request's body (slower: 408) [default: 60].
    #[arg(long, value_name = "SECS")]
    pub body_read_timeout: Option<f64>,
    /// Seconds an idle connection stays open waiting for the next request [default: 75].
    #[arg(long, value_name = "SECS")]
    pub keep_alive_timeout: Option<f64>,
    /// A `Host` the gateway answers besides `localhost`, `127.0.0.1` and `[::1]` (repeatable; `*`:
    /// any). Needed behind a proxy or a DNS name when bound to loopback.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// A browser origin (`https://app.example`) allowed to call the gateway, with CORS
    /// (repeatable; `*`: any). Requests from other origins are refused.
    #[arg(long = "cors-allow-origin", value_name = "ORIGIN")]
    pub cors_allowed_origins: Vec<String>,
    /// Seconds, once SIGTERM/SIGINT arrives, during which `/readyz` answers 503 while requests
    /// are still served, before the listener closes: the time a load balancer or Kubernetes
    /// needs to stop sending new requests (0 behind none) [default: 0].
    #[arg(long, value_name = "SECS")]
    pub drain_delay: Option<f64>,
    /// Seconds open responses may take to finish once the listener is closed [default: 30].
    #[arg(long, value_name = "SECS")]
    pub shutdown_grace: Option<f64>,
    /// `/readyz` answers 503 until the first Bedrock discovery succeeded or a cached listing
    /// was read (`--ready-after-discovery=false` to turn it off again) [default: false].
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    pub ready_after_discovery: Option<bool>,
    /// Seconds to wait for Bedrock's first event (504 after) [default: 60].
    #[arg(long, value_name = "SECS")]
    pub upstream_timeout: Option<f64>,
    /// Longest silence between two Bedrock events, in seconds [default: 30].
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<f64>,
    /// Attempts per Bedrock call for throttling and 5xx answers before the stream starts
    /// [default: 3].
    #[arg(long, value_name = "N")]
    pub upstream_attempts: Option<u32>,
    /// Idle connections to one Bedrock endpoint kept for reuse (0: none) [default: 64].
    #[arg(long, value_name = "N")]
    pub upstream_max_idle: Option<usize>,
    /// Seconds an unused connection to Bedrock stays open for reuse (0: none) [default: 10].
    #[arg(long, value_name = "SECS")]
    pub upstream_idle_timeout: Option<f64>,
    /// Threads serving connections, each with its own single-threaded runtime so a stream's
    /// work stays on one thread (0: one shared multi-threaded runtime) [default: one per CPU].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
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
    fn help_names_key_paths_and_sets_global_options_apart() {
        use clap::CommandFactory as _;
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.starts_with(
                "Amazon Bedrock for OpenClaw: configuration, models, chat, and a gateway"
            ),
            "{help}"
        );
        assert!(
            help.contains("Global options:\n      --config <PATH>"),
            "{help}"
        );
        let mut cli = Cli::command();
        let config = cli.find_subcommand_mut("config").unwrap();
        for (name, usage) in [
            ("get", "<KEY>"),
            ("set", "<KEY> <VALUE>"),
            ("unset", "<KEY>"),
        ] {
            let shown = config
                .find_subcommand_mut(name)
                .unwrap()
                .render_usage()
                .to_string();
            assert!(shown.ends_with(usage), "{name}: {shown}");
        }
    }

    #[test]
    fn zero_max_tokens_is_a_usage_error() {
        let err = Cli::try_parse_from(["openclaw", "chat", "--max-tokens", "0", "hi"]).unwrap_err();
        assert_eq!(err.exit_code(), 2, "{err}");
        assert!(err.to_string().contains("0 is not in 1.."), "{err}");
        assert!(Cli::try_parse_from(["openclaw", "chat", "--max-tokens", "1", "hi"]).is_ok());
    }

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
