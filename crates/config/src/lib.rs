//! Typed OpenClaw configuration for Amazon Bedrock: the JSON5 file `~/.openclaw/openclaw.json`,
//! its generated JSON Schema, and comment-preserving edits.
//!
//! # What is modelled
//!
//! Only the parts this project uses: `models.providers.<id>` ([`ProviderConfig`] with its
//! [`ModelDefinition`]s, each with an optional [`GuardrailConfig`] and Converse pass-through
//! fields, combined by [`ProviderConfig::model_with_defaults`]), `models.bedrockDiscovery` ([`BedrockDiscoveryConfig`], also accepted
//! at `plugins.entries.amazon-bedrock.config.discovery`), `agents.defaults.model`
//! (`primary` and `fallbacks` as [`ModelRef`]s, or a plain reference string),
//! `agents.defaults.models` (per-model entries with their `alias`, see
//! [`Config::model_aliases`]) and `gateway` (`port`, `bind`, `auth.token`).
//!
//! # Lenient and strict sections
//!
//! A real OpenClaw file has many sections we do not implement (`channels`, `tools`,
//! `agents.defaults.workspace`, other plugins, ...). They load without error, and the editor
//! keeps them because it edits the text, not the typed model.
//!
//! - **Lenient** (unknown keys allowed, ignored by the typed model): the root (including
//!   `$schema`), `models`, `agents`, `agents.defaults`, each `agents.defaults.models` entry,
//!   `plugins`, `plugins.entries`,
//!   `plugins.entries.amazon-bedrock`, `plugins.entries.amazon-bedrock.config`, `gateway`.
//!   Except a likely misspelling of a key we model, which would otherwise be silently ignored:
//!   the same key in another case (`bedrockdiscovery`) or within two edits of a key of 12+
//!   characters (`bedrockDiscvery`) is an error with a suggestion.
//! - **Strict** (unknown keys are errors, with a "did you mean" suggestion): a provider block,
//!   a model definition, `cost`, a `guardrail`, `models.bedrockDiscovery`, the plugin `discovery` block,
//!   `agents.defaults.model`, `gateway.auth`.
//!
//! Wrong types are errors everywhere inside the modelled parts. The generated JSON Schema
//! says the same (`additionalProperties: false` exactly on the strict sections); a test checks
//! that serde and the schema agree.
//!
//! # Errors
//!
//! Every problem in a file is an [`Error`] naming the file, line and column, the key path and
//! what was expected, for example:
//!
//! ```text
//! openclaw.json:3:5: `models.bedrockDiscovery.refreshInteval`: unknown key `refreshInteval`
//! (expected one of `enabled`, `region`, ...), did you mean `refreshInterval`?
//! ```
//!
//! Secrets ([`Secret`]: `apiKey`, `gateway.auth.token`) are redacted in `Debug` output and
//! never quoted in errors.
//!
//! # Design choices
//!
//! - Parsing uses jsonc-parser (JSON5: comments, unquoted keys, single quotes, trailing commas,
//!   hex numbers), whose AST gives positions; typed checking is serde with
//!   `serde_path_to_error`, so an error's key path maps back to a line and column.
//! - Editing ([`ConfigDocument`]) uses jsonc-parser's concrete syntax tree, so comments, key
//!   order and layout survive (OpenClaw's own `config set` strips comments). The whole edited
//!   text is validated before it is accepted, and writes are atomic. Writers are serialised by
//!   an advisory lock on a sibling `.<file>.lock` ([`ConfigDocument::edit`] holds it from the
//!   read to the write), so parallel `config set`s all land. A read-only file, a file of another
//!   user, a dangling symlink, a device or a file over [`MAX_CONFIG_BYTES`] is refused.
//! - The file location comes from an environment lookup passed in ([`config_path`],
//!   [`state_dir`]): nothing here reads the process environment.
//!
//! # Example
//!
//! ```
//! use openclaw_config::{Config, ConfigDocument, ValueMode};
//!
//! let text = r#"{
//!   // Bedrock through the AWS SDK credential chain
//!   models: { bedrockDiscovery: { enabled: true, providerFilter: ["anthropic"] } },
//!   agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0" } } },
//!   channels: { telegram: { enabled: false } }, // not ours: kept, not checked
//! }"#;
//! let config = Config::from_text(text)?;
//! assert_eq!(config.bedrock_discovery().refresh_interval, 3600);
//! assert_eq!(config.primary_model().map(|m| m.provider()), Some("amazon-bedrock"));
//!
//! let mut doc = ConfigDocument::from_text(text)?;
//! doc.set("models.bedrockDiscovery.region", "us-east-1", ValueMode::Json5WithStringFallback)?;
//! assert!(doc.text().contains("// Bedrock through the AWS SDK credential chain"));
//! assert!(doc.text().contains(r#"region: "us-east-1""#));
//!
//! // An edit that would make the configuration invalid is refused, and changes nothing.
//! let err = doc.set("models.bedrockDiscovery.enabled", "yes", ValueMode::Json5WithStringFallback);
//! assert!(err.unwrap_err().to_string().contains("expected a boolean"));
//! # Ok::<(), openclaw_config::Error>(())
//! ```
#![deny(missing_docs)]

mod edit;
mod error;
mod failover;
mod file;
mod location;
mod model_ref;
mod parse;
mod path;
pub mod schema;
mod show;
mod types;

use std::path::Path;

pub use edit::{ConfigDocument, ValueMode};
pub use error::{Diagnostic, Error};
pub use failover::FailoverConfig;
pub use file::{LOCK_TIMEOUT, MAX_CONFIG_BYTES};
pub use location::{config_path, state_dir};
pub use model_ref::{BEDROCK_PROVIDER_ID, ModelRef};
pub use path::{KeyPath, Segment};
pub use show::REDACTED;
pub use types::{
    AgentDefaults, AgentModelConfig, AgentModelEntry, AgentsConfig, AuthMode,
    BedrockDiscoveryConfig, BedrockPluginConfig, BedrockPluginEntry, Config,
    DEFAULT_CONTEXT_WINDOW, DEFAULT_GATEWAY_PORT, DEFAULT_MAX_TOKENS, DEFAULT_REFRESH_INTERVAL,
    GatewayAuth, GatewayBind, GatewayConfig, GuardrailConfig, GuardrailStreamMode, GuardrailTrace,
    InputModality, ModelApi, ModelCost, ModelDefinition, ModelsConfig, ModelsMode, PluginEntries,
    PluginsConfig, ProviderConfig, Secret,
};
pub use types::{GatewayLimits, GatewayTimeouts};

impl Config {
    /// Parses and validates a configuration text (JSON5). Errors name the file as `<text>`.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        parse::load(text, "<text>")
    }

    /// Parses and validates a configuration text, naming `file` in errors.
    pub fn from_text_at(text: &str, file: &Path) -> Result<Self, Error> {
        parse::load(text, &file.display().to_string())
    }

    /// Reads and validates a configuration file. A missing file is the default (empty)
    /// configuration, not an error. A file larger than [`MAX_CONFIG_BYTES`] or that is not a
    /// regular file (a device, a FIFO) is refused.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        match file::read_text(path)? {
            Some(text) => Self::from_text_at(&text, path),
            None => Ok(Config::default()),
        }
    }

    /// The configuration as pretty JSON (only the modelled parts; use [`ConfigDocument`] to
    /// edit a file without losing anything).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
