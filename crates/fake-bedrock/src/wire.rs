//! Serde types mirroring the Bedrock wire JSON (written from the API reference and the shapes the
//! SDK deserialisers read, never shared with any client code).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

// ---------- Control plane ----------

/// `modelSummaries[]` item and `modelDetails` (same fields).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelSummary<'a> {
    pub model_arn: String,
    pub model_id: &'a str,
    pub model_name: &'a str,
    pub provider_name: &'a str,
    pub input_modalities: &'a [String],
    pub output_modalities: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_streaming_supported: Option<bool>,
    pub customizations_supported: &'a [String],
    pub inference_types_supported: &'a [String],
    pub model_lifecycle: &'a crate::catalog::ModelLifecycle,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListFoundationModelsResponse<'a> {
    pub model_summaries: Vec<ModelSummary<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct GetFoundationModelResponse<'a> {
    pub model_details: ModelSummary<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileModel {
    pub model_arn: String,
}

/// `inferenceProfileSummaries[]` item, also the `GetInferenceProfile` body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ProfileSummary<'a> {
    pub inference_profile_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<&'a str>,
    pub inference_profile_arn: String,
    pub models: Vec<ProfileModel>,
    pub inference_profile_id: &'a str,
    pub status: &'a str,
    #[serde(rename = "type")]
    pub profile_type: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListInferenceProfilesResponse<'a> {
    pub inference_profile_summaries: Vec<ProfileSummary<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// `ListTagsForResource` answer.
#[derive(Serialize)]
pub(crate) struct ListTagsResponse<'a> {
    pub tags: Vec<TagOut<'a>>,
}

/// One tag of a `ListTagsForResource` answer.
#[derive(Serialize)]
pub(crate) struct TagOut<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

// ---------- Errors ----------

/// The body of a `modelStreamErrorException`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModelStreamErrorBody<'a> {
    pub message: &'a str,
    pub original_status_code: u16,
    pub original_message: &'a str,
}

// ---------- Runtime requests ----------

/// The `Converse`/`ConverseStream` request body (the parts the fake reads; content blocks stay
/// as JSON objects because they are unions keyed by their single member).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConverseRequest {
    #[serde(default)]
    pub messages: Vec<RequestMessage>,
    #[serde(default)]
    pub system: Vec<Map<String, Value>>,
    #[serde(default)]
    pub inference_config: Option<InferenceConfig>,
    #[serde(default)]
    pub tool_config: Option<ToolConfig>,
    #[serde(default)]
    pub additional_model_request_fields: Option<Value>,
    /// `guardrailConfig` (validated in `guardrail.rs`).
    #[serde(default)]
    pub guardrail_config: Option<Map<String, Value>>,
    /// `additionalModelResponseFieldPaths` (JSON pointers).
    #[serde(default)]
    pub additional_model_response_field_paths: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct RequestMessage {
    pub role: String,
    #[serde(default)]
    pub content: Vec<Map<String, Value>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InferenceConfig {
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub stop_sequences: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolConfig {
    #[serde(default)]
    pub tools: Vec<Map<String, Value>>,
    /// `{"auto": {}}`, `{"any": {}}` or `{"tool": {"name": ..}}`.
    #[serde(default)]
    pub tool_choice: Option<Map<String, Value>>,
}

/// The `CountTokens` request body: `{"input": {"converse": {..}}}` or
/// `{"input": {"invokeModel": {"body": "<base64>"}}}` (`input` is a union: exactly one member).
#[derive(Deserialize)]
pub(crate) struct CountTokensRequest {
    #[serde(default)]
    pub input: Option<Map<String, Value>>,
}

/// `input.invokeModel` of a `CountTokens` request.
#[derive(Deserialize)]
pub(crate) struct InvokeModelTokensRequest {
    /// The `InvokeModel` body, base64 (a blob).
    pub body: String,
}

// ---------- Runtime responses ----------

/// `usage` (TokenUsage).
#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TokenUsage {
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub total_tokens: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_read_input_tokens: u32,
    #[serde(skip_serializing_if = "is_zero")]
    pub cache_write_input_tokens: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl From<crate::script::Usage> for TokenUsage {
    fn from(u: crate::script::Usage) -> Self {
        Self {
            input_tokens: u.input_tokens,
            output_tokens: u.output_tokens,
            total_tokens: u.total(),
            cache_read_input_tokens: u.cache_read_input_tokens,
            cache_write_input_tokens: u.cache_write_input_tokens,
        }
    }
}

#[derive(Serialize, Clone, Copy)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Metrics {
    pub latency_ms: u64,
}

/// An output content block (union: exactly one member set).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum OutputBlock {
    Text(String),
    ToolUse(ToolUseBlock),
    ReasoningContent(ReasoningContentBlock),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseBlock {
    pub tool_use_id: String,
    pub name: String,
    pub input: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ReasoningContentBlock {
    ReasoningText(ReasoningText),
    /// Base64 of the opaque bytes (blob).
    RedactedContent(String),
}

#[derive(Serialize)]
pub(crate) struct ReasoningText {
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct OutputMessage {
    pub role: &'static str,
    pub content: Vec<OutputBlock>,
}

#[derive(Serialize)]
pub(crate) struct ConverseOutput {
    pub message: OutputMessage,
}

/// The `Converse` response body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConverseResponse {
    pub metrics: Metrics,
    pub output: ConverseOutput,
    pub stop_reason: String,
    pub usage: TokenUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_model_response_fields: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Value>,
}

/// The `CountTokens` response body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CountTokensResponse {
    pub input_tokens: u32,
}

// ---------- Stream events (one JSON payload per frame) ----------

#[derive(Serialize)]
pub(crate) struct MessageStartEvent {
    pub p: String,
    pub role: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContentBlockStartEvent {
    pub content_block_index: usize,
    pub p: String,
    pub start: BlockStart,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum BlockStart {
    ToolUse(ToolUseStart),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ToolUseStart {
    pub name: String,
    pub tool_use_id: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContentBlockDeltaEvent {
    pub content_block_index: usize,
    pub delta: Delta,
    pub p: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Delta {
    Text(String),
    ToolUse(ToolUseDelta),
    ReasoningContent(ReasoningDelta),
}

#[derive(Serialize)]
pub(crate) struct ToolUseDelta {
    pub input: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ReasoningDelta {
    Text(String),
    Signature(String),
    /// Base64 of the opaque bytes.
    RedactedContent(String),
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContentBlockStopEvent {
    pub content_block_index: usize,
    pub p: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MessageStopEvent {
    pub p: String,
    pub stop_reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_model_response_fields: Option<Value>,
}

#[derive(Serialize)]
pub(crate) struct MetadataEvent {
    pub metrics: Metrics,
    pub p: String,
    pub usage: TokenUsage,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace: Option<Value>,
}
