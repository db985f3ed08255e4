//! The typed configuration: the parts of `openclaw.json` this project reads.
//!
//! Containers shared with OpenClaw features we do not implement are *lenient* (unknown keys are
//! accepted and ignored by the typed model; the editor keeps them in the text). Sections we own
//! are *strict* (`deny_unknown_fields`). See the crate documentation for the list.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model_ref::ModelRef;

/// The whole configuration file (`~/.openclaw/openclaw.json`).
///
/// Lenient: sections this project does not implement (`channels`, `tools`, ...) are accepted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
#[schemars(title = "OpenClaw configuration (Amazon Bedrock subset)")]
pub struct Config {
    /// URL or path of a JSON Schema for editor completion, for example the
    /// `schemas/openclaw.schema.json` of openclaw-bedrock. Ignored at run time.
    #[serde(rename = "$schema", skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Model providers and Bedrock model discovery.
    pub models: ModelsConfig,
    /// Agent settings; this project reads the default model.
    pub agents: AgentsConfig,
    /// Plugin settings; this project reads the `amazon-bedrock` plugin's discovery block.
    pub plugins: PluginsConfig,
    /// The Gateway process: where it listens and how clients authenticate.
    pub gateway: GatewayConfig,
}

/// How explicit providers combine with the built-in and discovered ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ModelsMode {
    /// Explicit providers are merged over the implicit (built-in and discovered) ones.
    Merge,
    /// Only the explicit providers are used (Bedrock discovery does not run).
    Replace,
}

/// The `models` section.
///
/// Lenient: OpenClaw keeps other model settings here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ModelsConfig {
    /// `merge` (default in OpenClaw) combines these providers with the implicit ones;
    /// `replace` uses only these (Bedrock discovery then does not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<ModelsMode>,
    /// Explicit model providers by id, for example `amazon-bedrock`.
    /// An `amazon-bedrock` entry with a non-empty `models` list replaces the discovered list;
    /// its other fields override the discovered provider's.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Automatic discovery of Amazon Bedrock models (`bedrock:ListFoundationModels`).
    /// Also accepted at `plugins.entries.amazon-bedrock.config.discovery` (newer OpenClaw).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bedrock_discovery: Option<BedrockDiscoveryConfig>,
}

/// The wire protocol a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ModelApi {
    /// OpenAI Chat Completions.
    OpenaiCompletions,
    /// OpenAI Responses.
    OpenaiResponses,
    /// OpenAI Codex Responses.
    OpenaiCodexResponses,
    /// Anthropic Messages.
    AnthropicMessages,
    /// Google Generative AI.
    GoogleGenerativeAi,
    /// GitHub Copilot.
    GithubCopilot,
    /// Amazon Bedrock Converse streaming API (the one this project implements).
    BedrockConverseStream,
    /// Ollama.
    Ollama,
}

impl ModelApi {
    /// The string used in the configuration file, for example `bedrock-converse-stream`.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelApi::OpenaiCompletions => "openai-completions",
            ModelApi::OpenaiResponses => "openai-responses",
            ModelApi::OpenaiCodexResponses => "openai-codex-responses",
            ModelApi::AnthropicMessages => "anthropic-messages",
            ModelApi::GoogleGenerativeAi => "google-generative-ai",
            ModelApi::GithubCopilot => "github-copilot",
            ModelApi::BedrockConverseStream => "bedrock-converse-stream",
            ModelApi::Ollama => "ollama",
        }
    }
}

impl fmt::Display for ModelApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How requests to a provider are authenticated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// An API key (`apiKey`, or the provider's environment variable).
    ApiKey,
    /// The AWS SDK default credential chain (environment, profile, SSO, container, EC2 role).
    /// No `apiKey` is needed.
    AwsSdk,
    /// OAuth tokens managed by OpenClaw.
    Oauth,
    /// A static bearer token.
    Token,
}

impl AuthMode {
    /// The string used in the configuration file, for example `aws-sdk`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMode::ApiKey => "api-key",
            AuthMode::AwsSdk => "aws-sdk",
            AuthMode::Oauth => "oauth",
            AuthMode::Token => "token",
        }
    }
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secret value (API key, bearer token, secret access key, session token) that never prints
/// itself.
///
/// `Debug` prints `Secret([redacted])` and `Display` prints `[redacted]`; the only way to the
/// value is [`Secret::expose`], called only where the value is handed on (to the AWS SDK, or
/// compared with a request's token). Serialized as the plain string (it must be written back
/// to the file), so never log a serialized configuration.
///
/// Equality is ordinary string equality: compare secrets received from outside (a request's
/// token) in constant time instead.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself. Never log or format the result.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

/// One model provider (`models.providers.<id>`).
///
/// Strict: unknown keys are errors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ProviderConfig {
    /// Base URL of the provider's API, for example
    /// `https://bedrock-runtime.us-east-1.amazonaws.com`. For Bedrock the region is taken from
    /// a standard `bedrock-runtime.<region>.amazonaws.com` host; any other URL is used as the
    /// endpoint as is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Wire protocol, `bedrock-converse-stream` for Amazon Bedrock.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api: Option<ModelApi>,
    /// Authentication mode, `aws-sdk` for Amazon Bedrock (AWS credentials, no API key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<AuthMode>,
    /// API key for `api-key` providers. Never needed with `aws-sdk`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<Secret>,
    /// AWS region override for Bedrock providers (otherwise taken from `baseUrl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The models this provider offers. For `amazon-bedrock`, a non-empty list replaces the
    /// discovered models.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelDefinition>,
    /// A Bedrock guardrail applied to every model of this provider (a model's own `guardrail`
    /// wins).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<GuardrailConfig>,
    /// Extra Converse `additionalModelRequestFields` for every model of this provider, merged
    /// under each model's own (a model's key wins over the provider's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Extra Converse `additionalModelResponseFieldPaths` (JSON pointers such as
    /// `/stop_sequence`) for every model of this provider, added to each model's own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_model_response_field_paths: Vec<String>,
}

impl ProviderConfig {
    /// `model` with this provider's defaults applied: the provider's `guardrail` when the model
    /// sets none, the provider's `additionalModelRequestFields` under the model's (the model's
    /// key wins), and the provider's `additionalModelResponseFieldPaths` before the model's
    /// (duplicates removed).
    pub fn model_with_defaults(&self, model: &ModelDefinition) -> ModelDefinition {
        let mut out = model.clone();
        if out.guardrail.is_none() {
            out.guardrail = self.guardrail.clone();
        }
        if let Some(provider) = &self.additional_model_request_fields {
            let mut fields = provider.clone();
            for (key, value) in model.additional_model_request_fields.iter().flatten() {
                fields.insert(key.clone(), value.clone());
            }
            out.additional_model_request_fields = Some(fields);
        }
        let mut paths = self.additional_model_response_field_paths.clone();
        for path in &model.additional_model_response_field_paths {
            if !paths.contains(path) {
                paths.push(path.clone());
            }
        }
        out.additional_model_response_field_paths = paths;
        out
    }
}

/// An Amazon Bedrock guardrail applied to model calls (Converse `guardrailConfig`).
///
/// Strict: unknown keys are errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GuardrailConfig {
    /// The guardrail's id or ARN, for example `gr0abc1def2g`.
    #[schemars(length(min = 1))]
    pub identifier: String,
    /// The guardrail version: `DRAFT` or a published version number such as `1`.
    #[schemars(length(min = 1))]
    pub version: String,
    /// Whether Bedrock returns the guardrail's trace (what it assessed and why it intervened);
    /// `disabled` when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<GuardrailTrace>,
    /// How a streamed answer is checked: `sync` (default: each chunk is checked before it is
    /// sent) or `async` (chunks are sent at once and checked in the background; an
    /// intervention may come after some text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_processing_mode: Option<GuardrailStreamMode>,
}

/// Whether a guardrail's trace is returned (Converse `guardrailConfig.trace`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailTrace {
    /// The trace is returned.
    Enabled,
    /// No trace (Bedrock's default).
    Disabled,
    /// The trace is returned with every assessment, also those that did not intervene.
    EnabledFull,
}

impl GuardrailTrace {
    /// The string Bedrock takes (`enabled`, `disabled`, `enabled_full`).
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailTrace::Enabled => "enabled",
            GuardrailTrace::Disabled => "disabled",
            GuardrailTrace::EnabledFull => "enabled_full",
        }
    }
}

/// How a guardrail checks a streamed answer (Converse `guardrailConfig.streamProcessingMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailStreamMode {
    /// Each chunk is checked before it is sent.
    Sync,
    /// Chunks are sent at once and checked in the background.
    Async,
}

impl GuardrailStreamMode {
    /// The string Bedrock takes (`sync`, `async`).
    pub fn as_str(self) -> &'static str {
        match self {
            GuardrailStreamMode::Sync => "sync",
            GuardrailStreamMode::Async => "async",
        }
    }
}

/// A kind of input a model accepts.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum InputModality {
    /// Text prompts.
    Text,
    /// Images (jpeg, png, gif, webp).
    Image,
}

impl InputModality {
    /// The string used in the configuration file (`text`, `image`).
    pub fn as_str(self) -> &'static str {
        match self {
            InputModality::Text => "text",
            InputModality::Image => "image",
        }
    }
}

/// Prices in USD per million tokens. All default to 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelCost {
    /// USD per million input tokens.
    #[schemars(range(min = 0.0))]
    pub input: f64,
    /// USD per million output tokens.
    #[schemars(range(min = 0.0))]
    pub output: f64,
    /// USD per million tokens read from the prompt cache.
    #[schemars(range(min = 0.0))]
    pub cache_read: f64,
    /// USD per million tokens written to the prompt cache.
    #[schemars(range(min = 0.0))]
    pub cache_write: f64,
}

/// Default context window of a model definition, in tokens.
pub const DEFAULT_CONTEXT_WINDOW: u32 = 32_000;
/// Default maximum output tokens of a model definition.
pub const DEFAULT_MAX_TOKENS: u32 = 4_096;

fn default_input() -> Vec<InputModality> {
    vec![InputModality::Text]
}

fn default_context_window() -> u32 {
    DEFAULT_CONTEXT_WINDOW
}

fn context_window_or_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    limit_or(d, DEFAULT_CONTEXT_WINDOW)
}

fn max_tokens_or_default<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    limit_or(d, DEFAULT_MAX_TOKENS)
}

/// A token limit the way OpenClaw reads its discovery defaults: any number, rounded down;
/// below 1, `default`; above `u32::MAX`, `u32::MAX`.
fn limit_or<'de, D: serde::Deserializer<'de>>(d: D, default: u32) -> Result<u32, D::Error> {
    let n = f64::deserialize(d)?;
    let n = n.floor();
    Ok(if n >= 1.0 {
        // Saturating: `as` from f64 clamps to the integer range.
        n.min(f64::from(u32::MAX)) as u32
    } else {
        default
    })
}

fn default_max_tokens() -> u32 {
    DEFAULT_MAX_TOKENS
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// One model of a provider: written by hand under `models.providers.<id>.models`, or produced
/// by Bedrock discovery.
///
/// Strict: unknown keys are errors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModelDefinition {
    /// The provider's model id, for example `us.anthropic.claude-opus-4-6-v1:0` (a Bedrock
    /// model id or inference profile id). Referenced as `<provider>/<id>`.
    #[schemars(length(min = 1))]
    pub id: String,
    /// Display name, for example `Claude Opus 4.6 (Bedrock)`.
    #[schemars(length(min = 1))]
    pub name: String,
    /// Whether the model supports extended thinking (reasoning).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reasoning: bool,
    /// Accepted inputs: `text`, and `image` for vision models.
    #[serde(default = "default_input")]
    pub input: Vec<InputModality>,
    /// Prices in USD per million tokens (0 when unknown).
    #[serde(default)]
    pub cost: ModelCost,
    /// Context window in tokens.
    #[serde(default = "default_context_window")]
    #[schemars(range(min = 1))]
    pub context_window: u32,
    /// Maximum output tokens per response.
    #[serde(default = "default_max_tokens")]
    #[schemars(range(min = 1))]
    pub max_tokens: u32,
    /// The foundation model behind `id`, for example `anthropic.claude-sonnet-4-5-20250929-v1:0`
    /// when `id` is an application inference profile ARN. Capabilities (prompt caching,
    /// thinking, parameters Bedrock refuses) are looked up by it; unset, they are looked up by
    /// `id` itself (a cross-region prefix such as `us.` removed, an ARN's resource id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_model: Option<String>,
    /// A Bedrock guardrail applied to this model's calls (wins over the provider's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<GuardrailConfig>,
    /// Extra Converse `additionalModelRequestFields` sent with every call, for example
    /// `{"top_k": 50}`; a key the gateway also sets with another value is an error naming both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<serde_json::Map<String, serde_json::Value>>,
    /// Extra Converse `additionalModelResponseFieldPaths` (JSON pointers, for example
    /// `/stop_sequence`) whose values are returned with each answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_model_response_field_paths: Vec<String>,
    /// Models tried in order, as `<provider>/<modelId>`, when this model fails before its
    /// first token (throttled, unavailable, timed out, not offered);
    /// `agents.defaults.models.<ref>.fallbacks` wins when both are set. See
    /// `plugins.entries.amazon-bedrock.config.failover`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<ModelRef>,
}

impl ModelDefinition {
    /// A text-only model with the given id and name, default limits and zero cost.
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        ModelDefinition {
            id: id.into(),
            name: name.into(),
            reasoning: false,
            input: default_input(),
            cost: ModelCost::default(),
            context_window: DEFAULT_CONTEXT_WINDOW,
            max_tokens: DEFAULT_MAX_TOKENS,
            base_model: None,
            guardrail: None,
            additional_model_request_fields: None,
            additional_model_response_field_paths: Vec::new(),
            fallbacks: Vec::new(),
        }
    }

    /// Whether the model accepts image input.
    pub fn supports_images(&self) -> bool {
        self.input.contains(&InputModality::Image)
    }
}

/// Default discovery cache lifetime in seconds.
pub const DEFAULT_REFRESH_INTERVAL: u64 = 3_600;

fn default_refresh_interval() -> u64 {
    DEFAULT_REFRESH_INTERVAL
}

/// Options of automatic Bedrock model discovery (`models.bedrockDiscovery`).
///
/// Strict: unknown keys are errors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct BedrockDiscoveryConfig {
    /// Turn discovery on or off. Unset: discovery runs when AWS credentials are detected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// AWS region to list models in. Default: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then
    /// the selected AWS profile's `region` in the shared config file, then `us-east-1`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Only keep models of these Bedrock providers, for example `["anthropic", "amazon"]`
    /// (case-insensitive; matches the provider name or the model id prefix). Empty: all.
    pub provider_filter: Vec<String>,
    /// How long discovered models are cached, in seconds; 0 disables caching.
    #[serde(default = "default_refresh_interval")]
    pub refresh_interval: u64,
    /// Context window given to discovered models, in tokens. As in OpenClaw, a fraction is
    /// rounded down and a value below 1 means the default, 32000.
    #[serde(
        default = "default_context_window",
        deserialize_with = "context_window_or_default"
    )]
    #[schemars(with = "f64")]
    pub default_context_window: u32,
    /// Maximum output tokens given to discovered models. As in OpenClaw, a fraction is rounded
    /// down and a value below 1 means the default, 4096.
    #[serde(
        default = "default_max_tokens",
        deserialize_with = "max_tokens_or_default"
    )]
    #[schemars(with = "f64")]
    pub default_max_tokens: u32,
}

impl Default for BedrockDiscoveryConfig {
    fn default() -> Self {
        BedrockDiscoveryConfig {
            enabled: None,
            region: None,
            provider_filter: Vec::new(),
            refresh_interval: DEFAULT_REFRESH_INTERVAL,
            default_context_window: DEFAULT_CONTEXT_WINDOW,
            default_max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

impl BedrockDiscoveryConfig {
    /// The provider filter trimmed, lowercased and de-duplicated (first occurrence kept),
    /// empty entries dropped.
    pub fn normalized_provider_filter(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for entry in &self.provider_filter {
            let entry = entry.trim().to_lowercase();
            if !entry.is_empty() && !out.contains(&entry) {
                out.push(entry);
            }
        }
        out
    }

    /// A copy with the provider filter normalised and the region trimmed: two blocks that are
    /// equal after this configure the same discovery.
    pub fn normalized(&self) -> Self {
        BedrockDiscoveryConfig {
            provider_filter: self.normalized_provider_filter(),
            region: self.region.as_ref().map(|r| r.trim().to_string()),
            ..self.clone()
        }
    }

    /// The cache lifetime, or `None` when caching is disabled (`refreshInterval: 0`).
    pub fn cache_ttl(&self) -> Option<std::time::Duration> {
        (self.refresh_interval > 0).then(|| std::time::Duration::from_secs(self.refresh_interval))
    }
}

/// The `agents` section.
///
/// Lenient: OpenClaw keeps many agent settings here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentsConfig {
    /// Defaults for every agent.
    pub defaults: AgentDefaults,
}

/// `agents.defaults`.
///
/// Lenient: `workspace` and other agent defaults are OpenClaw's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentDefaults {
    /// The default model and its fallbacks.
    #[serde(skip_serializing_if = "AgentModelConfig::is_empty")]
    pub model: AgentModelConfig,
    /// Settings per model, keyed by model reference `<provider>/<modelId>` (a key without `/`,
    /// or a Bedrock ARN, is a model of `amazon-bedrock`). For example
    /// `{ "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0": { "alias": "opus" } }` lets
    /// requests and `--model` name that model `opus`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, AgentModelEntry>,
}

/// One entry of `agents.defaults.models`: settings of one model.
///
/// Lenient: OpenClaw keeps other per-model settings here (`params`, ...); they are accepted and
/// ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct AgentModelEntry {
    /// A short name for the model, for example `opus`, usable wherever a model is named
    /// (`--model opus`, the `model` of a Gateway request). Each alias names one model.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub alias: Option<String>,
    /// Models tried in order, as `<provider>/<modelId>`, when this model fails before its
    /// first token (throttled, unavailable, timed out, not offered); for the primary model
    /// they replace `agents.defaults.model.fallbacks`. See
    /// `plugins.entries.amazon-bedrock.config.failover`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<ModelRef>,
}

/// `agents.defaults.model`: the primary model and its fallbacks.
///
/// Written as an object `{ primary, fallbacks }` or, as OpenClaw also accepts, as a plain
/// model reference string (the primary model). Strict: unknown keys are errors.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentModelConfig {
    /// The model used by default, as `<provider>/<modelId>`, for example
    /// `amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0` (an alias written there in the file
    /// is read as the model it names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<ModelRef>,
    /// Models tried in order when the primary fails, as `<provider>/<modelId>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<ModelRef>,
}

impl AgentModelConfig {
    fn is_empty(&self) -> bool {
        self.primary.is_none() && self.fallbacks.is_empty()
    }
}

/// The object form of `agents.defaults.model`.
#[derive(Default, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "AgentModelObject")]
struct AgentModelObject {
    /// The model used by default, as `<provider>/<modelId>`, for example
    /// `amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0`, or an alias of
    /// `agents.defaults.models`.
    #[schemars(with = "Option<ModelName>")]
    primary: Option<ModelRef>,
    /// Models tried in order when the primary fails, as `<provider>/<modelId>` or aliases.
    #[schemars(with = "Vec<ModelName>")]
    fallbacks: Vec<ModelRef>,
}

/// Schema only: a model named in `agents.defaults.model`, by reference or by alias (read as
/// OpenClaw reads it there; the loaded configuration holds the model the alias names).
struct ModelName;

impl JsonSchema for ModelName {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ModelName".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let reference = generator.subschema_for::<ModelRef>();
        schemars::json_schema!({
            "description": "A model reference `<provider>/<modelId>`, or an alias of `agents.defaults.models` (a name without `/`, matched without regard to case).",
            "anyOf": [reference, {"type": "string", "pattern": "^(?!\\s*arn:)[^/]*[^/\\s][^/]*$"}]
        })
    }
}

impl<'de> Deserialize<'de> for AgentModelConfig {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = AgentModelConfig;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a model reference string or an object with `primary` and `fallbacks`")
            }

            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
                let primary = value.parse::<ModelRef>().map_err(E::custom)?;
                Ok(AgentModelConfig {
                    primary: Some(primary),
                    fallbacks: Vec::new(),
                })
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                let object = AgentModelObject::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(AgentModelConfig {
                    primary: object.primary,
                    fallbacks: object.fallbacks,
                })
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

impl JsonSchema for AgentModelConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "AgentModelConfig".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let reference = generator.subschema_for::<ModelName>();
        let object = generator.subschema_for::<AgentModelObject>();
        schemars::json_schema!({
            "description": "The default model: a `<provider>/<modelId>` string or an alias, or an object with `primary` and `fallbacks`.",
            "anyOf": [reference, object]
        })
    }
}

/// The `plugins` section.
///
/// Lenient: other plugin settings are OpenClaw's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct PluginsConfig {
    /// Per-plugin settings by plugin id; this project reads `amazon-bedrock`.
    pub entries: PluginEntries,
}

/// `plugins.entries`.
///
/// Lenient: entries of other plugins are accepted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PluginEntries {
    /// The Amazon Bedrock plugin.
    #[serde(rename = "amazon-bedrock", skip_serializing_if = "Option::is_none")]
    pub amazon_bedrock: Option<BedrockPluginEntry>,
}

/// `plugins.entries.amazon-bedrock`.
///
/// Lenient: other plugin-entry settings are OpenClaw's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BedrockPluginEntry {
    /// Whether the plugin is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The plugin's own settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<BedrockPluginConfig>,
}

/// `plugins.entries.amazon-bedrock.config`.
///
/// Lenient: other settings of the plugin are OpenClaw's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BedrockPluginConfig {
    /// Bedrock model discovery, the newer location of `models.bedrockDiscovery` (same options).
    /// If both are set they must agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discovery: Option<BedrockDiscoveryConfig>,
    /// Failover across models and regions before the first token, and its circuit breakers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failover: Option<crate::FailoverConfig>,
}

/// Default Gateway port.
pub const DEFAULT_GATEWAY_PORT: u16 = 18_789;

fn default_port() -> u16 {
    DEFAULT_GATEWAY_PORT
}

/// The `gateway` section.
///
/// Lenient: other gateway settings are OpenClaw's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayConfig {
    /// TCP port the Gateway listens on.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Where the Gateway listens: `loopback` (127.0.0.1, the default), `lan` (all interfaces)
    /// or an IP address.
    pub bind: GatewayBind,
    /// How clients authenticate to the Gateway.
    #[serde(skip_serializing_if = "GatewayAuth::is_empty")]
    pub auth: GatewayAuth,
    /// Request and connection limits of `openclaw gateway` (each also a flag and an
    /// `OPENCLAW_GATEWAY_*` variable, which win over the file).
    #[serde(skip_serializing_if = "GatewayLimits::is_empty")]
    pub limits: GatewayLimits,
    /// Timeouts of `openclaw gateway`, in seconds (each also a flag and an
    /// `OPENCLAW_GATEWAY_*` variable, which win over the file).
    #[serde(skip_serializing_if = "GatewayTimeouts::is_empty")]
    pub timeouts: GatewayTimeouts,
    /// `Host` values `openclaw gateway` answers besides localhost, 127.0.0.1 and \[::1\] (`*`:
    /// any): needed behind a proxy or a DNS name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
    /// Browser origins (`https://app.example`) allowed to call `openclaw gateway`, with CORS
    /// (`*`: any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cors_allow_origins: Vec<String>,
    /// `/readyz` answers 503 until the first Bedrock discovery succeeded or a cached listing
    /// was read (default false: ready at once, serving the configured models meanwhile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_after_discovery: Option<bool>,
    /// Threads serving connections, each with its own single-threaded runtime, so a stream's
    /// work (its client connection, its Bedrock call and that call's connection) stays on one
    /// thread; a new connection goes to the thread serving the fewest. Default: one per CPU
    /// the process may use; 0: every connection on one shared multi-threaded runtime.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 1024))]
    pub workers: Option<u64>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            port: DEFAULT_GATEWAY_PORT,
            bind: GatewayBind::default(),
            auth: GatewayAuth::default(),
            limits: GatewayLimits::default(),
            timeouts: GatewayTimeouts::default(),
            allowed_hosts: Vec::new(),
            cors_allow_origins: Vec::new(),
            ready_after_discovery: None,
            workers: None,
        }
    }
}

/// `gateway.limits`: what `openclaw gateway` accepts at once. Unset keys take the flag's
/// default (`openclaw gateway --help`).
///
/// Strict: unknown keys are errors.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayLimits {
    /// Largest accepted request body, in bytes (413 above).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_body_bytes: Option<u64>,
    /// Largest accepted image (decoded), in bytes (413 above).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_image_bytes: Option<u64>,
    /// Chat completions served at once (429 above).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_concurrent_streams: Option<u64>,
    /// Requests waiting at once for a stream slot when `maxConcurrentStreams` are busy
    /// (beyond: 429 at once; 0: no queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_queued_streams: Option<u64>,
    /// Request bodies received at once (503 with Retry-After above).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_pending_bodies: Option<u64>,
    /// Bytes of request bodies received at once (503 with Retry-After above).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_buffered_body_bytes: Option<u64>,
    /// Open connections (beyond, a new connection is answered 503 and closed).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_connections: Option<u64>,
    /// Largest request head (path and headers), in bytes (431 above).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_header_bytes: Option<u64>,
    /// Attempts per Bedrock call for throttling and 5xx answers before the stream starts.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub upstream_attempts: Option<u32>,
    /// Idle connections to one Bedrock endpoint kept open for reuse (each spares the next call
    /// a TCP and TLS handshake; more are closed as their calls end; 0: none, every call opens
    /// its own connection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upstream_max_idle: Option<u64>,
}

impl GatewayLimits {
    fn is_empty(&self) -> bool {
        *self == GatewayLimits::default()
    }
}

/// `gateway.timeouts`: durations of `openclaw gateway`, in seconds. Unset keys take the flag's
/// default (`openclaw gateway --help`).
///
/// Strict: unknown keys are errors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayTimeouts {
    /// Time a client may take to send a request's headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub header_read: Option<f64>,
    /// Time a client may take to send a request's body (408 after).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub body_read: Option<f64>,
    /// Time an idle connection stays open waiting for the next request.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub keep_alive: Option<f64>,
    /// Time, once shutdown starts, during which `/readyz` answers 503 while requests are still
    /// served, before the listener closes (what a load balancer needs to stop sending).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub drain_delay: Option<f64>,
    /// Time open responses may take to finish once the listener is closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub shutdown_grace: Option<f64>,
    /// Longest time a request waits in the queue for a stream slot (503 after; 0: no queue).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub queue_wait: Option<f64>,
    /// Time to wait for Bedrock's first event (504 after).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub upstream: Option<f64>,
    /// Longest silence between two Bedrock events.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub idle: Option<f64>,
    /// Time an unused connection to Bedrock stays open for the next call (closed within twice
    /// this time; 0: connections are not reused, each is closed when its call ends).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0))]
    pub upstream_idle: Option<f64>,
}

impl GatewayTimeouts {
    fn is_empty(&self) -> bool {
        *self == GatewayTimeouts::default()
    }
}

/// `gateway.bind`: the address the Gateway listens on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum GatewayBind {
    /// `loopback`: 127.0.0.1 only.
    #[default]
    Loopback,
    /// `lan`: every interface (0.0.0.0).
    Lan,
    /// A specific IP address.
    Ip(IpAddr),
}

impl GatewayBind {
    /// The IP address to bind.
    pub fn ip(self) -> IpAddr {
        match self {
            GatewayBind::Loopback => IpAddr::from([127, 0, 0, 1]),
            GatewayBind::Lan => IpAddr::from([0, 0, 0, 0]),
            GatewayBind::Ip(ip) => ip,
        }
    }
}

impl fmt::Display for GatewayBind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatewayBind::Loopback => f.write_str("loopback"),
            GatewayBind::Lan => f.write_str("lan"),
            GatewayBind::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

impl std::str::FromStr for GatewayBind {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "loopback" => Ok(GatewayBind::Loopback),
            "lan" => Ok(GatewayBind::Lan),
            other => other.parse::<IpAddr>().map(GatewayBind::Ip).map_err(|_| {
                crate::Error::InvalidBind {
                    input: other.to_string(),
                }
            }),
        }
    }
}

impl TryFrom<String> for GatewayBind {
    type Error = crate::Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<GatewayBind> for String {
    fn from(value: GatewayBind) -> Self {
        value.to_string()
    }
}

impl JsonSchema for GatewayBind {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "GatewayBind".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "`loopback` (127.0.0.1), `lan` (all interfaces) or an IP address.",
            "anyOf": [
                { "type": "string", "enum": ["loopback", "lan"] },
                {
                    "type": "string",
                    "format": "ipv4",
                    "pattern": "^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$"
                },
                {
                    "type": "string",
                    "format": "ipv6",
                    "pattern": "^[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*$"
                }
            ]
        })
    }
}

/// `gateway.auth`.
///
/// Strict: unknown keys are errors.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayAuth {
    /// Bearer token clients must send to the Gateway. Keep it secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
}

impl GatewayAuth {
    fn is_empty(&self) -> bool {
        self.token.is_none()
    }
}

impl Config {
    /// The effective Bedrock discovery options: `models.bedrockDiscovery`, else
    /// `plugins.entries.amazon-bedrock.config.discovery`, else the defaults.
    ///
    /// Loading ([`Config::from_text`], [`Config::load`]) rejects a file where both are set and
    /// differ, so for a loaded config the two locations never disagree.
    pub fn bedrock_discovery(&self) -> BedrockDiscoveryConfig {
        self.models
            .bedrock_discovery
            .as_ref()
            .or_else(|| self.plugin_discovery())
            .map(BedrockDiscoveryConfig::normalized)
            .unwrap_or_default()
    }

    /// The discovery block at `plugins.entries.amazon-bedrock.config.discovery`, if any.
    pub fn plugin_discovery(&self) -> Option<&BedrockDiscoveryConfig> {
        self.plugins
            .entries
            .amazon_bedrock
            .as_ref()?
            .config
            .as_ref()?
            .discovery
            .as_ref()
    }

    /// An explicit provider by id.
    pub fn provider(&self, id: &str) -> Option<&ProviderConfig> {
        self.models.providers.get(id)
    }

    /// The default model (`agents.defaults.model.primary`).
    pub fn primary_model(&self) -> Option<&ModelRef> {
        self.agents.defaults.model.primary.as_ref()
    }

    /// The model an alias names, as OpenClaw resolves a model name: a name without `/`,
    /// trimmed, matched against the aliases without regard to case (`--model Opus` finds
    /// `opus`). `None` for a name with `/` or no alias.
    pub fn alias_target(&self, name: &str) -> Option<ModelRef> {
        let name = name.trim();
        if name.contains('/') {
            return None;
        }
        let aliases = self.model_aliases();
        if let Some(model) = aliases.get(name) {
            return Some(model.clone());
        }
        let wanted = name.to_lowercase();
        aliases
            .into_iter()
            .find(|(alias, _)| alias.to_lowercase() == wanted)
            .map(|(_, model)| model)
    }

    /// The model aliases of `agents.defaults.models`: alias (trimmed) to model reference.
    ///
    /// Loading rejects an empty alias, an alias given to two models (in any case) and a key
    /// that is not a model reference, so for a loaded config every alias is here exactly once.
    pub fn model_aliases(&self) -> BTreeMap<String, ModelRef> {
        self.agents
            .defaults
            .models
            .iter()
            .filter_map(|(key, entry)| {
                let alias = entry.alias.as_deref()?.trim();
                let model = ModelRef::parse_or_default_provider(key).ok()?;
                (!alias.is_empty()).then(|| (alias.to_string(), model))
            })
            .collect()
    }
}
