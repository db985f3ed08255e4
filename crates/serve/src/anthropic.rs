//! Anthropic's Messages API (`POST /v1/messages`, `POST /v1/messages/count_tokens`) and its
//! mapping to and from `openclaw-stream`.
//!
//! Request side: [`MessagesRequest`] (what Claude Code and the Anthropic SDKs send) becomes a
//! [`StreamRequest`] with [`to_stream_request`]: nothing the client sent is dropped silently;
//! what Bedrock's Converse API cannot express is refused with a 400 naming the field, or listed
//! as ignored in the crate README. Response side: [`sse::MessageWriter`] renders the events as
//! Anthropic's SSE (`message_start`, `content_block_*`, `message_delta`, `message_stop`, `ping`,
//! `error`), and [`sse::message`] builds the `message` object of a non-streaming call.
//!
//! - Prompt caching: `cache_control` breakpoints become Converse `cachePoint`s exactly where the
//!   client put them (system blocks, the tool list, message blocks), `ttl: "1h"` kept; the
//!   gateway adds none of its own on this route (explicit placement).
//! - Thinking: `thinking: {type: enabled, budget_tokens}` and `{type: adaptive}`; thinking
//!   blocks come back with their `signature`, `redacted_thinking` with its `data`, and both are
//!   replayed to Bedrock unchanged.
//! - Model names: Bedrock ids, inference-profile ids, `provider/id` references and aliases as
//!   they are; Anthropic's own names through [`names`].
//! - Extensions (top-level request fields, see the README): `guardrail`
//!   (`{identifier, version, trace, streamProcessingMode}`, overriding the configured one),
//!   `additional_model_request_fields`, `additional_model_response_field_paths`; the answer
//!   carries `guardrail_trace` and `additional_model_response_fields` when Bedrock returned them
//!   (on the `message`, and on the streamed `message_delta`). A guardrail intervention is
//!   `stop_reason: "refusal"`.

use base64::Engine as _;
use openclaw_config::ModelDefinition;
use openclaw_stream::{
    AssistantContent, AssistantMessage, CachePlacement, CachePoint, CacheTtl, Content, Message,
    StreamRequest, SystemBlock, ThinkingBudget, ToolCall, ToolChoice, ToolDefinition,
    ToolResultMessage, UserMessage,
};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::api_error::ApiError;

pub(crate) mod betas;
pub(crate) mod error;
pub(crate) mod names;
pub(crate) mod route;
pub(crate) mod sse;

/// This gateway's extension fields (see [`extensions`]).
const EXTENSION_FIELDS: [&str; 3] = [
    "guardrail",
    "additional_model_request_fields",
    "additional_model_response_field_paths",
];

/// Top-level fields Anthropic defines that have no Bedrock counterpart: accepted and ignored
/// (each listed in the README with the reason).
const IGNORED_FIELDS: [&str; 5] = [
    "metadata",
    "service_tier",
    "container",
    "context_management",
    "mcp_servers",
];

/// `POST /v1/messages` (and `count_tokens`) body.
#[derive(Debug, Deserialize)]
pub(crate) struct MessagesRequest {
    /// A Bedrock model id or profile id, `provider/id`, an alias, or an Anthropic model name.
    pub(crate) model: String,
    /// The conversation.
    pub(crate) messages: Vec<WireMessage>,
    /// The system prompt: a string or text blocks.
    #[serde(default)]
    pub(crate) system: Option<System>,
    /// Output-token limit (required by `/v1/messages`, not by `count_tokens`).
    #[serde(default)]
    pub(crate) max_tokens: Option<u32>,
    #[serde(default)]
    pub(crate) temperature: Option<f32>,
    #[serde(default)]
    pub(crate) top_p: Option<f32>,
    #[serde(default)]
    pub(crate) top_k: Option<u32>,
    #[serde(default)]
    pub(crate) stop_sequences: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) stream: Option<bool>,
    #[serde(default)]
    pub(crate) tools: Option<Vec<WireTool>>,
    #[serde(default)]
    pub(crate) tool_choice: Option<WireToolChoice>,
    #[serde(default)]
    pub(crate) thinking: Option<WireThinking>,
    /// Everything else: the ignored fields above are fine, any other is refused.
    #[serde(flatten)]
    pub(crate) other: Map<String, Value>,
}

impl MessagesRequest {
    /// Whether the answer streams.
    pub(crate) fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// `metadata.user_id`, when the client sent one (logged, never sent to Bedrock).
    pub(crate) fn user_id(&self) -> Option<&str> {
        self.other.get("metadata")?.get("user_id")?.as_str()
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a string or an array of text blocks")]
pub(crate) enum System {
    Text(String),
    Blocks(Vec<SystemTextBlock>),
}

#[derive(Debug, Deserialize)]
pub(crate) struct SystemTextBlock {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    cache_control: Option<CacheControl>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct CacheControl {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    ttl: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireMessage {
    role: String,
    content: WireContent,
}

#[derive(Debug, Deserialize)]
#[serde(
    untagged,
    expecting = "expected a string or an array of content blocks"
)]
pub(crate) enum WireContent {
    Text(String),
    Blocks(Vec<Value>),
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireTool {
    /// `custom` (or absent) for client tools; server tools (`web_search_...`, ...) are refused.
    #[serde(rename = "type", default)]
    kind: Option<String>,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    input_schema: Option<Value>,
    #[serde(default)]
    cache_control: Option<CacheControl>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireToolChoice {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    name: Option<String>,
    /// Converse has no switch for it: accepted and not sent (see the README).
    #[serde(default)]
    #[allow(dead_code)]
    disable_parallel_tool_use: Option<bool>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireThinking {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    budget_tokens: Option<u32>,
}

/// Limits applied while mapping.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvertLimits {
    pub(crate) max_image_bytes: usize,
}

/// Builds the stream request. `for_count` relaxes what only generation needs (`max_tokens`).
pub(crate) fn to_stream_request(
    body: &MessagesRequest,
    model: ModelDefinition,
    betas: Vec<String>,
    limits: ConvertLimits,
    for_count: bool,
) -> Result<StreamRequest, ApiError> {
    for key in body.other.keys() {
        if !IGNORED_FIELDS.contains(&key.as_str()) && !EXTENSION_FIELDS.contains(&key.as_str()) {
            return Err(ApiError::invalid(
                format!(
                    "{key}: extra inputs are not permitted (this gateway does not support `{key}`)"
                ),
                Some(key),
            ));
        }
    }
    if !for_count && body.max_tokens.is_none() {
        return Err(ApiError::invalid(
            "max_tokens: field required",
            Some("max_tokens"),
        ));
    }
    if body.max_tokens == Some(0) {
        return Err(ApiError::invalid(
            "max_tokens: expected a positive number",
            Some("max_tokens"),
        ));
    }
    let model_id = model.id.clone();
    let mut request = StreamRequest::new(model, Vec::new());
    request.cache_placement = CachePlacement::Explicit;
    request.max_tokens = body.max_tokens;
    request.temperature = body.temperature;
    request.top_p = body.top_p;
    request.top_k = body.top_k;
    request.stop_sequences = body.stop_sequences.clone().unwrap_or_default();
    request.anthropic_beta = betas;
    extensions(&body.other, &mut request)?;

    match &body.system {
        None => {}
        Some(System::Text(text)) if text.is_empty() => {}
        Some(System::Text(text)) => request.system_blocks.push(SystemBlock::Text(text.clone())),
        Some(System::Blocks(blocks)) => {
            for (i, block) in blocks.iter().enumerate() {
                let at = format!("system[{i}]");
                if block.kind != "text" {
                    return Err(ApiError::invalid(
                        format!("{at}.type: expected `text`, found `{}`", block.kind),
                        Some(&at),
                    ));
                }
                request
                    .system_blocks
                    .push(SystemBlock::Text(block.text.clone()));
                if let Some(cc) = &block.cache_control {
                    request
                        .system_blocks
                        .push(SystemBlock::CachePoint(cache_point(cc, &at)?));
                }
            }
        }
    }

    if let Some(tools) = &body.tools {
        for (i, tool) in tools.iter().enumerate() {
            let at = format!("tools[{i}]");
            match tool.kind.as_deref() {
                None | Some("custom") => {}
                Some(other) => {
                    return Err(ApiError::invalid(
                        format!(
                            "{at}.type: the server tool `{other}` is not available on Amazon Bedrock's Converse API: expected a client tool (`custom`)"
                        ),
                        Some(&at),
                    ));
                }
            }
            request.tools.push(ToolDefinition {
                name: tool.name.clone(),
                description: tool.description.clone().unwrap_or_default(),
                parameters: tool
                    .input_schema
                    .clone()
                    .unwrap_or_else(|| serde_json::json!({"type": "object"})),
            });
            // Converse takes one cache point, after the tool list; a breakpoint on an earlier
            // tool moves there (the cached prefix then also covers the tools after it).
            if let Some(cc) = &tool.cache_control {
                request.tools_cache_point = Some(cache_point(cc, &at)?);
            }
        }
    }

    request.tool_choice = match &body.tool_choice {
        None => ToolChoice::Auto,
        Some(choice) => match choice.kind.as_str() {
            "auto" => ToolChoice::Auto,
            "any" => ToolChoice::Any,
            "none" => ToolChoice::None,
            "tool" => match &choice.name {
                Some(name) => ToolChoice::Tool(name.clone()),
                None => {
                    return Err(ApiError::invalid(
                        "tool_choice.name: required when tool_choice.type is `tool`",
                        Some("tool_choice.name"),
                    ));
                }
            },
            other => {
                return Err(ApiError::invalid(
                    format!("tool_choice.type: expected auto, any, tool or none, found `{other}`"),
                    Some("tool_choice.type"),
                ));
            }
        },
    };

    request.thinking = match &body.thinking {
        None => None,
        Some(t) => match t.kind.as_str() {
            "disabled" => None,
            "adaptive" => Some(ThinkingBudget::Adaptive),
            "enabled" => match t.budget_tokens {
                Some(n) if n >= 1024 => Some(ThinkingBudget::Tokens(n)),
                Some(n) => {
                    return Err(ApiError::invalid(
                        format!("thinking.budget_tokens: expected at least 1024, found {n}"),
                        Some("thinking.budget_tokens"),
                    ));
                }
                None => {
                    return Err(ApiError::invalid(
                        "thinking.budget_tokens: required when thinking.type is `enabled`",
                        Some("thinking.budget_tokens"),
                    ));
                }
            },
            other => {
                return Err(ApiError::invalid(
                    format!(
                        "thinking.type: expected enabled, adaptive or disabled, found `{other}`"
                    ),
                    Some("thinking.type"),
                ));
            }
        },
    };

    // Tool names by call id, for the tool results that answer them.
    let mut tool_names: std::collections::HashMap<String, String> = Default::default();
    let mut first_blank: Option<String> = None;
    for (i, message) in body.messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let blocks: Vec<Value> = match &message.content {
            WireContent::Text(text) => vec![serde_json::json!({"type": "text", "text": text})],
            WireContent::Blocks(blocks) => blocks.clone(),
        };
        match message.role.as_str() {
            "user" => {
                let before = request.messages.len();
                user_message(&blocks, &at, &tool_names, limits, &mut request.messages)?;
                let added = &request.messages[before..];
                let blank = added.iter().all(|m| match m {
                    Message::User(user) => crate::api_error::is_blank(&user.content),
                    _ => false,
                });
                if first_blank.is_none() && blank {
                    first_blank = Some(format!("{at}.content"));
                }
            }
            "assistant" => {
                let assistant = assistant_message(&blocks, &at, &model_id)?;
                for c in &assistant.content {
                    if let AssistantContent::ToolCall(call) = c {
                        tool_names.insert(call.id.clone(), call.name.clone());
                    }
                }
                request.messages.push(Message::Assistant(assistant));
            }
            other => {
                return Err(ApiError::invalid(
                    format!("{at}.role: expected `user` or `assistant`, found `{other}`"),
                    Some(&format!("{at}.role")),
                ));
            }
        }
    }
    crate::api_error::refuse_blank(&request.messages, first_blank.as_deref())?;
    if request.messages.is_empty() {
        return Err(ApiError::invalid(
            "messages: at least one message is required",
            Some("messages"),
        ));
    }
    Ok(request)
}

/// The extension fields: `guardrail`, `additional_model_request_fields` (an object),
/// `additional_model_response_field_paths` (strings).
fn extensions(other: &Map<String, Value>, request: &mut StreamRequest) -> Result<(), ApiError> {
    fn field<T: serde::de::DeserializeOwned>(
        other: &Map<String, Value>,
        key: &str,
        expected: &str,
    ) -> Result<Option<T>, ApiError> {
        match other.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| {
                    ApiError::invalid(
                        format!(
                            "{key}: expected {expected}: {}",
                            crate::body::client_terms(&e.to_string())
                        ),
                        Some(key),
                    )
                }),
        }
    }
    request.guardrail = field(
        other,
        "guardrail",
        "{identifier, version, trace, streamProcessingMode}",
    )?;
    request.additional_fields =
        field(other, "additional_model_request_fields", "an object")?.unwrap_or_default();
    request.additional_response_field_paths = field(
        other,
        "additional_model_response_field_paths",
        "a list of JSON pointers",
    )?
    .unwrap_or_default();
    Ok(())
}

fn cache_point(cc: &CacheControl, at: &str) -> Result<CachePoint, ApiError> {
    if cc.kind != "ephemeral" {
        return Err(ApiError::invalid(
            format!(
                "{at}.cache_control.type: expected `ephemeral`, found `{}`",
                cc.kind
            ),
            Some(&format!("{at}.cache_control")),
        ));
    }
    let ttl = match cc.ttl.as_deref() {
        None | Some("5m") => CacheTtl::Default,
        Some("1h") => CacheTtl::OneHour,
        Some(other) => {
            return Err(ApiError::invalid(
                format!("{at}.cache_control.ttl: expected `5m` or `1h`, found `{other}`"),
                Some(&format!("{at}.cache_control.ttl")),
            ));
        }
    };
    Ok(CachePoint { ttl })
}

/// The block's `cache_control`, as a cache point.
fn block_cache_point(block: &Value, at: &str) -> Result<Option<CachePoint>, ApiError> {
    match block.get("cache_control") {
        None | Some(Value::Null) => Ok(None),
        Some(value) => {
            let cc: CacheControl = serde_json::from_value(value.clone()).map_err(|e| {
                ApiError::invalid(
                    format!(
                        "{at}.cache_control: {}",
                        crate::body::client_terms(&e.to_string())
                    ),
                    Some(&format!("{at}.cache_control")),
                )
            })?;
            cache_point(&cc, at).map(Some)
        }
    }
}

fn str_field<'a>(block: &'a Value, key: &str, at: &str) -> Result<&'a str, ApiError> {
    block.get(key).and_then(Value::as_str).ok_or_else(|| {
        ApiError::invalid(
            format!("{at}.{key}: expected a string"),
            Some(&format!("{at}.{key}")),
        )
    })
}

fn block_type<'a>(block: &'a Value, at: &str) -> Result<&'a str, ApiError> {
    str_field(block, "type", at)
}

/// A user turn: its tool results become tool-result messages (in order), its other blocks one
/// user message after them (Converse wants the results first).
fn user_message(
    blocks: &[Value],
    at: &str,
    tool_names: &std::collections::HashMap<String, String>,
    limits: ConvertLimits,
    out: &mut Vec<Message>,
) -> Result<(), ApiError> {
    let mut content = Vec::new();
    let mut results = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        match block_type(block, &at)? {
            "tool_result" => {
                let id = str_field(block, "tool_use_id", &at)?.to_string();
                let mut parts = match block.get("content") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::String(text)) => vec![Content::Text { text: text.clone() }],
                    Some(Value::Array(items)) => {
                        let mut parts = Vec::new();
                        for (k, item) in items.iter().enumerate() {
                            let at = format!("{at}.content[{k}]");
                            parts.extend(media_or_text(item, &at, limits)?);
                        }
                        parts
                    }
                    Some(_) => {
                        return Err(ApiError::invalid(
                            format!("{at}.content: expected a string or an array of blocks"),
                            Some(&format!("{at}.content")),
                        ));
                    }
                };
                // A cache point as the last part means "right after this tool result".
                if let Some(point) = block_cache_point(block, &at)? {
                    parts.push(Content::CachePoint(point));
                }
                results.push(ToolResultMessage {
                    tool_name: tool_names.get(&id).cloned().unwrap_or_default(),
                    tool_call_id: id,
                    content: parts,
                    is_error: block
                        .get("is_error")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                });
            }
            _ => {
                content.extend(media_or_text(block, &at, limits)?);
            }
        }
    }
    out.extend(results.into_iter().map(Message::ToolResult));
    if !content.is_empty() {
        out.push(Message::User(UserMessage { content }));
    }
    Ok(())
}

/// A text, image or document block (and its cache point).
fn media_or_text(block: &Value, at: &str, limits: ConvertLimits) -> Result<Vec<Content>, ApiError> {
    let mut out = Vec::new();
    match block_type(block, at)? {
        "text" => out.push(Content::Text {
            text: str_field(block, "text", at)?.to_string(),
        }),
        "image" => {
            let source = source(block, at)?;
            let kind = str_field(source, "type", &format!("{at}.source"))?;
            if kind != "base64" {
                return Err(ApiError::invalid(
                    format!(
                        "{at}.source.type: `{kind}` image sources are not supported (Bedrock does not fetch URLs): send the image as base64"
                    ),
                    Some(&format!("{at}.source")),
                ));
            }
            let media_type = str_field(source, "media_type", &format!("{at}.source"))?;
            if !["image/jpeg", "image/png", "image/gif", "image/webp"].contains(&media_type) {
                return Err(ApiError::invalid(
                    format!(
                        "{at}.source.media_type: expected image/jpeg, image/png, image/gif or image/webp, found `{media_type}`"
                    ),
                    Some(&format!("{at}.source.media_type")),
                ));
            }
            let data = decode(str_field(source, "data", &format!("{at}.source"))?, at)?;
            if data.len() > limits.max_image_bytes {
                return Err(ApiError::image_too_large(limits.max_image_bytes, at));
            }
            out.push(Content::Image {
                mime_type: media_type.to_string(),
                data,
            });
        }
        "document" => {
            let source = source(block, at)?;
            let kind = str_field(source, "type", &format!("{at}.source"))?;
            let (format, data) = match kind {
                "base64" => {
                    let media_type = str_field(source, "media_type", &format!("{at}.source"))?;
                    let format = document_format(media_type).ok_or_else(|| {
                        ApiError::invalid(
                            format!("{at}.source.media_type: `{media_type}` is not a document type Bedrock reads (expected application/pdf, text/plain, text/csv, text/html, text/markdown or an Office type)"),
                            Some(&format!("{at}.source.media_type")),
                        )
                    })?;
                    (
                        format,
                        decode(str_field(source, "data", &format!("{at}.source"))?, at)?,
                    )
                }
                "text" => (
                    "txt",
                    str_field(source, "data", &format!("{at}.source"))?
                        .as_bytes()
                        .to_vec(),
                ),
                other => {
                    return Err(ApiError::invalid(
                        format!(
                            "{at}.source.type: `{other}` document sources are not supported: send base64 or text"
                        ),
                        Some(&format!("{at}.source")),
                    ));
                }
            };
            let name = block
                .get("title")
                .and_then(Value::as_str)
                .filter(|t| !t.trim().is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("document {}", at.replace(['[', ']', '.'], " ").trim()));
            out.push(Content::Document {
                format: format.to_string(),
                name,
                data,
            });
        }
        other => {
            return Err(ApiError::invalid(
                format!(
                    "{at}.type: `{other}` blocks are not supported in this position (expected text, image, document or tool_result)"
                ),
                Some(&format!("{at}.type")),
            ));
        }
    }
    if let Some(point) = block_cache_point(block, at)? {
        out.push(Content::CachePoint(point));
    }
    Ok(out)
}

fn source<'a>(block: &'a Value, at: &str) -> Result<&'a Value, ApiError> {
    block
        .get("source")
        .filter(|s| s.is_object())
        .ok_or_else(|| {
            ApiError::invalid(
                format!("{at}.source: expected an object"),
                Some(&format!("{at}.source")),
            )
        })
}

fn decode(data: &str, at: &str) -> Result<Vec<u8>, ApiError> {
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|_| {
            ApiError::invalid(
                format!("{at}.source.data: invalid base64"),
                Some(&format!("{at}.source.data")),
            )
        })
}

/// The Converse document format of a MIME type.
fn document_format(media_type: &str) -> Option<&'static str> {
    Some(match media_type {
        "application/pdf" => "pdf",
        "text/plain" => "txt",
        "text/csv" => "csv",
        "text/html" => "html",
        "text/markdown" => "md",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        _ => return None,
    })
}

/// An assistant turn: text, thinking (with its signature), redacted thinking and tool calls,
/// recorded as this gateway's own Bedrock output so signatures replay to the same model family.
fn assistant_message(
    blocks: &[Value],
    at: &str,
    model_id: &str,
) -> Result<AssistantMessage, ApiError> {
    let mut message = AssistantMessage::new(
        openclaw_stream::converse::API,
        openclaw_stream::converse::PROVIDER,
        model_id,
    );
    for (j, block) in blocks.iter().enumerate() {
        let at = format!("{at}.content[{j}]");
        match block_type(block, &at)? {
            "text" => message.content.push(AssistantContent::Text {
                text: str_field(block, "text", &at)?.to_string(),
            }),
            "thinking" => message.content.push(AssistantContent::Thinking {
                thinking: str_field(block, "thinking", &at)?.to_string(),
                signature: block
                    .get("signature")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
                redacted: None,
            }),
            "redacted_thinking" => message.content.push(AssistantContent::Thinking {
                thinking: String::new(),
                signature: None,
                redacted: Some(decode(str_field(block, "data", &at)?, &at)?),
            }),
            "tool_use" => {
                let input = block
                    .get("input")
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({}));
                message.content.push(AssistantContent::ToolCall(ToolCall {
                    id: str_field(block, "id", &at)?.to_string(),
                    name: str_field(block, "name", &at)?.to_string(),
                    arguments: input,
                    invalid_arguments: None,
                }));
            }
            other => {
                return Err(ApiError::invalid(
                    format!(
                        "{at}.type: `{other}` blocks are not supported in assistant messages (expected text, thinking, redacted_thinking or tool_use)"
                    ),
                    Some(&format!("{at}.type")),
                ));
            }
        }
        if let Some(point) = block_cache_point(block, &at)? {
            message.content.push(AssistantContent::CachePoint(point));
        }
    }
    Ok(message)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod proptests;
