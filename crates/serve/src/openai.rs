//! The OpenAI Chat Completions wire format and its mapping to and from `openclaw-stream`.
//!
//! Request side: [`ChatRequest`] (what clients send) becomes a [`StreamRequest`] with
//! [`to_stream_request`]. Response side: [`ChunkMapper`] turns [`StreamEvent`]s into
//! `chat.completion.chunk` objects for SSE, and [`completion`] builds the one
//! `chat.completion` of a non-streaming call.
//!
//! Extensions beyond OpenAI's schema (also summarised in the crate README):
//!
//! - Reasoning is sent as `reasoning_content` (text deltas, as DeepSeek and vLLM do), and the
//!   thinking block's signature as `reasoning_signature` (one delta when the block closes, and
//!   on the non-streaming message). Redacted thinking travels base64-encoded in
//!   `reasoning_redacted`.
//! - A client replays them on the assistant message it sends back (`reasoning_content`,
//!   `reasoning_signature`, `reasoning_redacted`), so a multi-turn conversation with thinking
//!   and tools verifies on Bedrock. The signature is replayed only when the request targets the
//!   same model family (the stream crate checks), otherwise the reasoning goes as plain text.
//! - `response_format` (`json_object`, `json_schema`): a tool the model is forced to call
//!   (named after the schema, its input schema the requested schema); its arguments become the
//!   message `content` (streamed as content deltas) and the finish reason is `stop`. See the
//!   crate README for why not Bedrock's native structured output.
//! - Request extensions: `guardrail` (`{identifier, version, trace, streamProcessingMode}`,
//!   overriding the configured one), `additional_model_request_fields`,
//!   `additional_model_response_field_paths`, `top_k`. Response extensions: the values Bedrock
//!   returned at the response field paths in `additional_model_response_fields`, and a
//!   guardrail's trace in `guardrail_trace` (top level of the completion, and of the chunk that
//!   carries the finish reason).
//! - A guardrail intervention (or Bedrock's content filter) ends with
//!   `finish_reason: "content_filter"`, the guardrail's message as content.
//! - Every other request field is either mapped or refused with a 400 naming it (see
//!   [`ChatRequest`] and the README's table).

use std::collections::HashMap;

use base64::Engine as _;
use openclaw_config::{GuardrailConfig, ModelDefinition};
use openclaw_stream::{
    AssistantContent, AssistantMessage, Content, Message, ReasoningLevel, StopReason, StreamEvent,
    StreamRequest, ToolCall, ToolChoice, ToolDefinition, ToolResultMessage, Usage, UserMessage,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_error::ApiError;

/// Image MIME types Bedrock accepts.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// `POST /v1/chat/completions` body. Fields OpenAI defines that Bedrock cannot honour are
/// refused with a 400 naming them unless they are at their no-op value (see
/// [`to_stream_request`] and the crate README); unknown fields are refused, as OpenAI does.
#[derive(Debug, Deserialize)]
pub struct ChatRequest {
    /// `amazon-bedrock/<id>`, a bare Bedrock id, or an alias.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Function tools.
    #[serde(default)]
    pub tools: Option<Vec<ToolWire>>,
    /// `auto`, `none`, `required` or `{"type":"function","function":{"name":..}}`.
    #[serde(default)]
    pub tool_choice: Option<Value>,
    /// Sampling temperature.
    #[serde(default)]
    pub temperature: Option<f32>,
    /// Output-token limit (legacy name).
    #[serde(default)]
    pub max_tokens: Option<u32>,
    /// Output-token limit (current name; wins over `max_tokens`).
    #[serde(default)]
    pub max_completion_tokens: Option<u32>,
    /// A stop sequence or a list of them.
    #[serde(default)]
    pub stop: Option<Stop>,
    /// `none`, `minimal`, `low`, `medium`, `high` (or `xhigh`).
    #[serde(default)]
    pub reasoning_effort: Option<String>,
    /// Stream SSE chunks.
    #[serde(default)]
    pub stream: Option<bool>,
    /// `{"include_usage": true}` adds a usage chunk at the end of a stream.
    #[serde(default)]
    pub stream_options: Option<StreamOptionsWire>,
    /// Number of choices; only 1 is supported.
    #[serde(default)]
    pub n: Option<u32>,
    /// Nucleus sampling.
    #[serde(default)]
    pub top_p: Option<f32>,
    /// Top-k sampling (extension; Claude only).
    #[serde(default)]
    pub top_k: Option<u32>,
    /// `{"type": "text" | "json_object" | "json_schema", "json_schema": {...}}`.
    #[serde(default)]
    pub response_format: Option<Value>,
    /// A Bedrock guardrail for this request (extension), overriding the configured one.
    #[serde(default)]
    pub guardrail: Option<GuardrailConfig>,
    /// Extra Converse `additionalModelRequestFields` (extension).
    #[serde(default)]
    pub additional_model_request_fields: Option<serde_json::Map<String, Value>>,
    /// Extra Converse `additionalModelResponseFieldPaths` (extension).
    #[serde(default)]
    pub additional_model_response_field_paths: Option<Vec<String>>,
    /// Every other field, decided in [`to_stream_request`].
    #[serde(flatten)]
    pub other: serde_json::Map<String, Value>,
}

impl ChatRequest {
    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// The name of the tool that carries a `response_format` answer, when the request has one.
    pub fn response_tool(&self) -> Option<String> {
        response_format_tool(self.response_format.as_ref()?)
            .ok()
            .flatten()
            .map(|t| t.name)
    }

    /// Whether the client asked for a usage chunk.
    pub fn include_usage(&self) -> bool {
        self.stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false)
    }
}

/// `stream_options`.
#[derive(Debug, Deserialize)]
pub struct StreamOptionsWire {
    /// Add a usage chunk before `[DONE]`.
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// `stop`.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a string or an array of strings")]
pub enum Stop {
    /// One sequence.
    One(String),
    /// Several sequences.
    Many(Vec<String>),
}

/// One message of the conversation.
#[derive(Debug, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum ChatMessage {
    /// A system prompt.
    System {
        /// Text, or text parts.
        content: MessageContent,
    },
    /// A developer prompt (treated as a system prompt).
    Developer {
        /// Text, or text parts.
        content: MessageContent,
    },
    /// What the user said.
    User {
        /// Text, or text and image parts.
        content: MessageContent,
    },
    /// A previous answer.
    Assistant {
        /// Text, if any.
        #[serde(default)]
        content: Option<MessageContent>,
        /// Calls the model made.
        #[serde(default)]
        tool_calls: Option<Vec<ToolCallWire>>,
        /// Reasoning text (extension, see the module docs).
        #[serde(default)]
        reasoning_content: Option<String>,
        /// Signature of the reasoning (extension).
        #[serde(default)]
        reasoning_signature: Option<String>,
        /// Redacted reasoning, base64 (extension).
        #[serde(default)]
        reasoning_redacted: Option<String>,
    },
    /// A tool result.
    Tool {
        /// The call it answers.
        tool_call_id: String,
        /// The result: text, or text and image parts.
        content: MessageContent,
    },
}

/// Message content: a string or a list of parts.
#[derive(Debug, Deserialize)]
#[serde(untagged, expecting = "expected a string or an array of content parts")]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Parts (`text`, `image_url`), checked during conversion for clear errors.
    Parts(Vec<Value>),
}

/// A tool call on an assistant message.
#[derive(Debug, Deserialize)]
pub struct ToolCallWire {
    /// Call id.
    pub id: String,
    /// The function called.
    pub function: FunctionCallWire,
}

/// `tool_calls[].function`.
#[derive(Debug, Deserialize)]
pub struct FunctionCallWire {
    /// Function name.
    pub name: String,
    /// Arguments as JSON text.
    #[serde(default)]
    pub arguments: String,
}

/// One entry of `tools`.
#[derive(Debug, Deserialize)]
pub struct ToolWire {
    /// Must be `function`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionWire,
}

/// `tools[].function`.
#[derive(Debug, Deserialize)]
pub struct FunctionWire {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// JSON Schema of the arguments.
    #[serde(default)]
    pub parameters: Option<Value>,
}

/// Request limits that conversion enforces.
#[derive(Debug, Clone, Copy)]
pub struct ConvertLimits {
    /// Largest decoded image, in bytes.
    pub max_image_bytes: usize,
}

/// Builds the model request from an OpenAI request aimed at `model`.
pub fn to_stream_request(
    req: &ChatRequest,
    model: ModelDefinition,
    limits: ConvertLimits,
) -> Result<StreamRequest, ApiError> {
    if req.n.is_some_and(|n| n != 1) {
        return Err(ApiError::invalid("only n=1 is supported", Some("n")));
    }
    check_other_fields(&req.other)?;
    if req.messages.is_empty() {
        return Err(ApiError::invalid(
            "expected at least one message in `messages`",
            Some("messages"),
        ));
    }
    let model_id = model.id.clone();
    let mut system: Vec<String> = Vec::new();
    let mut messages = Vec::new();
    let mut tool_names: HashMap<String, String> = HashMap::new();
    let mut first_blank: Option<String> = None;
    for (i, m) in req.messages.iter().enumerate() {
        let param = format!("messages[{i}].content");
        match m {
            ChatMessage::System { content } | ChatMessage::Developer { content } => {
                system.push(text_only(content, &param)?);
            }
            ChatMessage::User { content } => {
                let content = parts(content, &param, limits)?;
                if first_blank.is_none() && crate::api_error::is_blank(&content) {
                    first_blank = Some(param.clone());
                }
                messages.push(Message::User(UserMessage { content }));
            }
            ChatMessage::Assistant {
                content,
                tool_calls,
                reasoning_content,
                reasoning_signature,
                reasoning_redacted,
            } => {
                let mut blocks = Vec::new();
                let redacted = match reasoning_redacted {
                    Some(b64) => Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .map_err(|_| {
                                ApiError::invalid(
                                    "expected base64 in `reasoning_redacted`",
                                    Some(&format!("messages[{i}].reasoning_redacted")),
                                )
                            })?,
                    ),
                    None => None,
                };
                if reasoning_content.is_some()
                    || reasoning_signature.is_some()
                    || redacted.is_some()
                {
                    blocks.push(AssistantContent::Thinking {
                        thinking: reasoning_content.clone().unwrap_or_default(),
                        signature: reasoning_signature.clone().filter(|s| !s.is_empty()),
                        redacted,
                    });
                }
                if let Some(content) = content {
                    let text = text_only(content, &param)?;
                    if !text.is_empty() {
                        blocks.push(AssistantContent::Text { text });
                    }
                }
                for call in tool_calls.iter().flatten() {
                    tool_names.insert(call.id.clone(), call.function.name.clone());
                    let raw = call.function.arguments.trim();
                    let (arguments, invalid_arguments) = if raw.is_empty() {
                        (json!({}), None)
                    } else {
                        match serde_json::from_str::<Value>(raw) {
                            Ok(v) => (v, None),
                            Err(_) => (json!({}), Some(raw.to_string())),
                        }
                    };
                    blocks.push(AssistantContent::ToolCall(ToolCall {
                        id: call.id.clone(),
                        name: call.function.name.clone(),
                        arguments,
                        invalid_arguments,
                    }));
                }
                let mut message = AssistantMessage::new(
                    openclaw_stream::converse::API,
                    openclaw_stream::converse::PROVIDER,
                    model_id.clone(),
                );
                message.content = blocks;
                message.stop_reason = Some(StopReason::Stop);
                messages.push(Message::Assistant(message));
            }
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => {
                let content = parts(content, &param, limits)?;
                messages.push(Message::ToolResult(ToolResultMessage {
                    tool_call_id: tool_call_id.clone(),
                    tool_name: tool_names.get(tool_call_id).cloned().unwrap_or_default(),
                    content,
                    is_error: false,
                }));
            }
        }
    }
    crate::api_error::refuse_blank(&messages, first_blank.as_deref())?;
    let mut tools = Vec::new();
    for (i, t) in req.tools.iter().flatten().enumerate() {
        if t.kind != "function" {
            return Err(ApiError::invalid(
                format!("unsupported tool type `{}`: expected `function`", t.kind),
                Some(&format!("tools[{i}].type")),
            ));
        }
        tools.push(ToolDefinition {
            name: t.function.name.clone(),
            description: t.function.description.clone().unwrap_or_default(),
            parameters: t
                .function
                .parameters
                .clone()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        });
    }
    let mut tool_choice = match &req.tool_choice {
        None => ToolChoice::Auto,
        Some(v) => tool_choice(v)?,
    };
    if let Some(format) = &req.response_format
        && let Some(tool) = response_format_tool(format)?
    {
        // The answer is the forced tool's arguments. With the caller's tools on offer the
        // model must call one of them or the answer tool; a named choice stays.
        tool_choice = match tool_choice {
            ToolChoice::Tool(name) => ToolChoice::Tool(name),
            _ if tools.is_empty() => ToolChoice::Tool(tool.name.clone()),
            ToolChoice::None => {
                tools.clear();
                ToolChoice::Tool(tool.name.clone())
            }
            ToolChoice::Auto | ToolChoice::Any => ToolChoice::Any,
        };
        tools.push(tool);
    }
    let reasoning = match req.reasoning_effort.as_deref() {
        None | Some("none") => ReasoningLevel::Off,
        Some("minimal") => ReasoningLevel::Minimal,
        Some("low") => ReasoningLevel::Low,
        Some("medium") => ReasoningLevel::Medium,
        Some("high") => ReasoningLevel::High,
        Some("xhigh") => ReasoningLevel::XHigh,
        Some(other) => {
            return Err(ApiError::invalid(
                format!(
                    "unknown reasoning_effort `{other}`: expected none, minimal, low, medium, high or xhigh"
                ),
                Some("reasoning_effort"),
            ));
        }
    };
    let stop_sequences = match &req.stop {
        None => Vec::new(),
        Some(Stop::One(s)) => vec![s.clone()],
        Some(Stop::Many(v)) => v.clone(),
    };
    let mut request = StreamRequest::new(model, messages);
    request.system = (!system.is_empty()).then(|| system.join("\n\n"));
    request.tools = tools;
    request.tool_choice = tool_choice;
    request.temperature = req.temperature;
    request.max_tokens = req.max_completion_tokens.or(req.max_tokens);
    request.stop_sequences = stop_sequences;
    request.reasoning = reasoning;
    request.top_p = req.top_p;
    request.top_k = req.top_k;
    request.guardrail = req.guardrail.clone();
    request.additional_fields = req
        .additional_model_request_fields
        .clone()
        .unwrap_or_default();
    request.additional_response_field_paths = req
        .additional_model_response_field_paths
        .clone()
        .unwrap_or_default();
    Ok(request)
}

/// OpenAI request fields this gateway cannot honour: accepted only at the value that changes
/// nothing, else a 400 naming the field. The README's table lists each decision.
fn check_other_fields(other: &serde_json::Map<String, Value>) -> Result<(), ApiError> {
    for (key, value) in other {
        let noop = match key.as_str() {
            // Not sent to Bedrock and not changing the answer.
            "user" | "metadata" | "safety_identifier" | "prompt_cache_key" => true,
            "store" | "logprobs" | "parallel_tool_calls" if value.is_null() => true,
            "store" | "logprobs" => value == &Value::Bool(false),
            // Claude may call several tools at once; Converse cannot turn that off.
            "parallel_tool_calls" => value == &Value::Bool(true),
            "seed" | "top_logprobs" | "audio" | "prediction" | "web_search_options"
            | "functions" | "function_call" => value.is_null(),
            "presence_penalty" | "frequency_penalty" => {
                value.is_null() || value.as_f64() == Some(0.0)
            }
            "logit_bias" => {
                value.is_null() || value.as_object().is_some_and(serde_json::Map::is_empty)
            }
            "service_tier" => value.is_null() || matches!(value.as_str(), Some("auto" | "default")),
            "modalities" => {
                value.is_null()
                    || value
                        .as_array()
                        .is_some_and(|m| m.iter().all(|v| v.as_str() == Some("text")))
            }
            _ => {
                return Err(ApiError::invalid(
                    format!("unrecognized request argument supplied: `{key}`"),
                    Some(key),
                ));
            }
        };
        if !noop {
            return Err(ApiError::invalid(
                format!(
                    "`{key}` is not supported by this gateway (Amazon Bedrock's Converse API has no equivalent): expected it absent{}",
                    match key.as_str() {
                        "store" | "logprobs" => " or false",
                        "parallel_tool_calls" => " or true",
                        "presence_penalty" | "frequency_penalty" => " or 0",
                        "logit_bias" => " or empty",
                        "service_tier" => ", auto or default",
                        "modalities" => " or [\"text\"]",
                        "functions" | "function_call" => " (use `tools` and `tool_choice`)",
                        _ => "",
                    }
                ),
                Some(key),
            ));
        }
    }
    Ok(())
}

/// The answer tool of a `response_format`: `None` for `text`.
fn response_format_tool(format: &Value) -> Result<Option<ToolDefinition>, ApiError> {
    let bad = |message: &str, param: &str| ApiError::invalid(message, Some(param));
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(ToolDefinition {
            name: "json_response".into(),
            description: "Answer with a JSON object: put the whole answer in this tool's input."
                .into(),
            parameters: json!({"type": "object", "additionalProperties": true}),
        })),
        Some("json_schema") => {
            let spec = format.get("json_schema").ok_or_else(|| {
                bad(
                    "expected `response_format.json_schema` with type json_schema",
                    "response_format.json_schema",
                )
            })?;
            let name = spec
                .get("name")
                .and_then(Value::as_str)
                .filter(|n| {
                    !n.is_empty()
                        && n.len() <= 64
                        && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                })
                .ok_or_else(|| {
                    bad(
                        "expected `response_format.json_schema.name` of 1 to 64 letters, digits, `_` or `-`",
                        "response_format.json_schema.name",
                    )
                })?;
            let schema = match spec.get("schema") {
                None | Some(Value::Null) => json!({"type": "object", "additionalProperties": true}),
                Some(s) if s.get("type").and_then(Value::as_str) == Some("object") => s.clone(),
                Some(_) => {
                    return Err(bad(
                        "expected `response_format.json_schema.schema` to be a JSON Schema of type object",
                        "response_format.json_schema.schema",
                    ));
                }
            };
            let description = spec
                .get("description")
                .and_then(Value::as_str)
                .unwrap_or("Answer in this structure: put the whole answer in this tool's input.");
            Ok(Some(ToolDefinition {
                name: name.to_owned(),
                description: description.to_owned(),
                parameters: schema,
            }))
        }
        other => Err(bad(
            &format!(
                "unsupported response_format type `{}`: expected text, json_object or json_schema",
                other.unwrap_or("(missing)")
            ),
            "response_format.type",
        )),
    }
}

/// Whether a stream error is a guardrail intervention or Bedrock's content filter (OpenAI's
/// `content_filter` finish, not an error).
pub fn is_content_filter(info: &openclaw_stream::ErrorInfo) -> bool {
    matches!(
        info.code.as_deref(),
        Some("guardrail_intervened" | "content_filtered")
    )
}

fn tool_choice(v: &Value) -> Result<ToolChoice, ApiError> {
    let bad = || {
        ApiError::invalid(
            "expected `tool_choice` to be auto, none, required or {\"type\":\"function\",\"function\":{\"name\":...}}",
            Some("tool_choice"),
        )
    };
    match v {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Any),
            _ => Err(bad()),
        },
        Value::Object(o) => o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .map(|name| ToolChoice::Tool(name.to_string()))
            .ok_or_else(bad),
        _ => Err(bad()),
    }
}

/// Text of a system or assistant message (text parts joined).
fn text_only(content: &MessageContent, param: &str) -> Result<String, ApiError> {
    match content {
        MessageContent::Text(t) => Ok(t.clone()),
        MessageContent::Parts(parts) => {
            let mut out = String::new();
            for (j, p) in parts.iter().enumerate() {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") | Some("refusal") => {
                        let key = if p.get("text").is_some() {
                            "text"
                        } else {
                            "refusal"
                        };
                        out.push_str(p.get(key).and_then(Value::as_str).unwrap_or_default());
                    }
                    other => {
                        return Err(ApiError::invalid(
                            format!(
                                "unsupported content part type `{}` here: expected `text`",
                                other.unwrap_or("(missing)")
                            ),
                            Some(&format!("{param}[{j}].type")),
                        ));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// Content blocks of a user or tool message: text and data-URL images.
fn parts(
    content: &MessageContent,
    param: &str,
    limits: ConvertLimits,
) -> Result<Vec<Content>, ApiError> {
    match content {
        MessageContent::Text(text) => Ok(vec![Content::Text { text: text.clone() }]),
        MessageContent::Parts(parts) => {
            let mut out = Vec::new();
            for (j, p) in parts.iter().enumerate() {
                let here = format!("{param}[{j}]");
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        let text = p.get("text").and_then(Value::as_str).ok_or_else(|| {
                            ApiError::invalid(
                                "expected a string in `text`",
                                Some(&format!("{here}.text")),
                            )
                        })?;
                        out.push(Content::Text {
                            text: text.to_string(),
                        });
                    }
                    Some("image_url") => {
                        let url = p
                            .get("image_url")
                            .and_then(|u| u.get("url").or(Some(u)))
                            .and_then(Value::as_str)
                            .ok_or_else(|| {
                                ApiError::invalid(
                                    "expected `image_url.url` to be a string",
                                    Some(&format!("{here}.image_url")),
                                )
                            })?;
                        out.push(image(url, &format!("{here}.image_url.url"), limits)?);
                    }
                    other => {
                        return Err(ApiError::invalid(
                            format!(
                                "unsupported content part type `{}`: expected `text` or `image_url`",
                                other.unwrap_or("(missing)")
                            ),
                            Some(&format!("{here}.type")),
                        ));
                    }
                }
            }
            Ok(out)
        }
    }
}

/// Decodes a `data:image/...;base64,...` URL.
fn image(url: &str, param: &str, limits: ConvertLimits) -> Result<Content, ApiError> {
    let Some(rest) = url.strip_prefix("data:") else {
        let scheme = url.split(':').next().unwrap_or_default();
        return Err(ApiError::invalid(
            format!(
                "remote image URLs ({scheme}:) are not supported: send the image inline as a data URL (data:image/png;base64,...)"
            ),
            Some(param),
        ));
    };
    let (meta, data) = rest.split_once(',').ok_or_else(|| {
        ApiError::invalid(
            "malformed data URL: expected a `,` before the data",
            Some(param),
        )
    })?;
    let Some(mime) = meta.strip_suffix(";base64") else {
        return Err(ApiError::invalid(
            "data URL must be base64-encoded (data:image/png;base64,...)",
            Some(param),
        ));
    };
    let mime = mime.to_ascii_lowercase();
    if !IMAGE_TYPES.contains(&mime.as_str()) {
        return Err(ApiError::invalid(
            format!(
                "unsupported image type `{mime}`: expected image/jpeg, image/png, image/gif or image/webp"
            ),
            Some(param),
        ));
    }
    // Reject before decoding: base64 is 4 characters per 3 bytes.
    if data.len() / 4 * 3 > limits.max_image_bytes + 3 {
        return Err(ApiError::image_too_large(limits.max_image_bytes, param));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| ApiError::invalid("image data URL is not valid base64", Some(param)))?;
    if bytes.len() > limits.max_image_bytes {
        return Err(ApiError::image_too_large(limits.max_image_bytes, param));
    }
    Ok(Content::Image {
        mime_type: mime,
        data: bytes,
    })
}

/// OpenAI's `finish_reason` for a stop reason.
pub fn finish_reason(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Stop => "stop",
        StopReason::Length => "length",
        StopReason::ToolUse => "tool_calls",
    }
}

/// OpenAI's `usage` object. `prompt_tokens` counts every input token (uncached, cache reads
/// and cache writes); `prompt_tokens_details.cached_tokens` the cache reads.
pub fn usage_json(usage: &Usage) -> Value {
    let prompt = usage.input + usage.cache_read + usage.cache_write;
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": usage.output,
        "total_tokens": prompt + usage.output,
        "prompt_tokens_details": {
            "cached_tokens": usage.cache_read,
            "cache_write_tokens": usage.cache_write,
        },
    })
}

/// What one stream event becomes on the SSE wire (tests read [`ChunkMapper::write`]'s output
/// back as these).
#[cfg(test)]
#[derive(Debug, Clone, PartialEq)]
pub enum SseItem {
    /// A `data: <json>` event.
    Data(Value),
    /// The final `data: [DONE]`.
    Done,
}

/// Turns stream events into `chat.completion.chunk`s: role first, then content,
/// `reasoning_content` and `tool_calls` deltas, the finish reason, the optional usage chunk
/// and `[DONE]`. An error event becomes `{"error": {...}}` and the stream ends without
/// `[DONE]`, which OpenAI's clients raise as an API error.
///
/// [`ChunkMapper::write`] renders the SSE bytes straight into the response buffer: the part of
/// every chunk that never changes (`{"id":...,"object":...,"created":...,"model":...`) is
/// rendered once per response, and text and reasoning deltas are written without building a
/// `serde_json::Value` (the hot path: one chunk per Bedrock text delta).
#[derive(Debug)]
pub struct ChunkMapper {
    /// `{"id":<id>,"object":"chat.completion.chunk","created":<n>,"model":<model>` (no closing
    /// brace), JSON-escaped once.
    head: Box<[u8]>,
    include_usage: bool,
    sent_role: bool,
    /// Content index of a tool-call block -> its OpenAI `tool_calls` index.
    tool_index: HashMap<usize, usize>,
    /// The `response_format` answer tool, whose arguments stream as content.
    response_tool: Option<String>,
    /// Content index of the answer tool's call, once it started.
    answer_index: Option<usize>,
}

/// The `delta` object of one chunk.
enum Delta<'a> {
    /// `{"role":"assistant","content":""}`
    Role,
    /// `{"content":<text>}`
    Content(&'a str),
    /// `{"reasoning_content":<text>}`
    Reasoning(&'a str),
    /// Anything rarer, as a JSON value.
    Value(Value),
}

impl ChunkMapper {
    /// A mapper for one response.
    pub fn new(id: String, created: u64, model: String, include_usage: bool) -> Self {
        let mut head = Vec::with_capacity(64 + id.len() + model.len());
        head.extend_from_slice(b"{\"id\":");
        json_to(&mut head, &id);
        head.extend_from_slice(b",\"object\":\"chat.completion.chunk\",\"created\":");
        json_to(&mut head, &created);
        head.extend_from_slice(b",\"model\":");
        json_to(&mut head, &model);
        ChunkMapper {
            head: head.into_boxed_slice(),
            include_usage,
            sent_role: false,
            tool_index: HashMap::new(),
            response_tool: None,
            answer_index: None,
        }
    }

    /// The same mapper for a request with a `response_format` answer tool
    /// ([`ChatRequest::response_tool`]): that tool's arguments stream as `content` and the
    /// answer finishes with `stop`.
    pub fn with_response_tool(mut self, tool: Option<String>) -> Self {
        self.response_tool = tool;
        self
    }

    /// The chunk that finishes the answer (with the extension fields of `message`), the usage
    /// chunk when asked for, and `[DONE]`.
    fn finish(
        &self,
        out: &mut Vec<u8>,
        reason: &str,
        message: Option<&AssistantMessage>,
        usage: &Usage,
    ) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":");
        json_to(out, reason);
        out.extend_from_slice(b"}]");
        for (key, value) in message.map(extensions).unwrap_or_default() {
            out.push(b',');
            json_to(out, &key);
            out.push(b':');
            json_to(out, &value);
        }
        out.extend_from_slice(b"}\n\n");
        if self.include_usage {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(&self.head);
            out.extend_from_slice(b",\"choices\":[],\"usage\":");
            json_to(out, &usage_json(usage));
            out.extend_from_slice(b"}\n\n");
        }
        out.extend_from_slice(DONE);
    }

    /// `data: {<head>,"choices":[{"index":0,"delta":<delta>,"finish_reason":<finish>}]}`
    fn chunk(&self, out: &mut Vec<u8>, delta: Delta<'_>, finish: Option<&str>) {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b",\"choices\":[{\"index\":0,\"delta\":");
        match delta {
            Delta::Role => out.extend_from_slice(b"{\"role\":\"assistant\",\"content\":\"\"}"),
            Delta::Content(text) => {
                out.extend_from_slice(b"{\"content\":");
                json_to(out, text);
                out.push(b'}');
            }
            Delta::Reasoning(text) => {
                out.extend_from_slice(b"{\"reasoning_content\":");
                json_to(out, text);
                out.push(b'}');
            }
            Delta::Value(value) => json_to(out, &value),
        }
        out.extend_from_slice(b",\"finish_reason\":");
        match finish {
            Some(reason) => json_to(out, reason),
            None => out.extend_from_slice(b"null"),
        }
        out.extend_from_slice(b"}]}\n\n");
    }

    /// Appends the SSE bytes for one event (`data: <json>\n\n` each, then `data: [DONE]\n\n`
    /// after the last chunk) to `out`.
    pub fn write(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        let filtered = matches!(event, StreamEvent::Error { info, .. } if is_content_filter(info));
        if !self.sent_role && (filtered || !matches!(event, StreamEvent::Error { .. })) {
            self.sent_role = true;
            self.chunk(out, Delta::Role, None);
        }
        match event {
            StreamEvent::TextDelta { delta, .. } if !delta.is_empty() => {
                self.chunk(out, Delta::Content(delta), None);
            }
            StreamEvent::ThinkingDelta { delta, .. } if !delta.is_empty() => {
                self.chunk(out, Delta::Reasoning(delta), None);
            }
            StreamEvent::ThinkingEnd {
                signature,
                redacted,
                ..
            } => {
                let mut delta = serde_json::Map::new();
                if let Some(sig) = signature.as_ref().filter(|s| !s.is_empty()) {
                    delta.insert("reasoning_signature".into(), json!(sig));
                }
                if let Some(bytes) = redacted {
                    delta.insert(
                        "reasoning_redacted".into(),
                        json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    );
                }
                if !delta.is_empty() {
                    self.chunk(out, Delta::Value(Value::Object(delta)), None);
                }
            }
            StreamEvent::ToolCallStart { index, name, .. }
                if self.response_tool.as_deref() == Some(name.as_str()) =>
            {
                self.answer_index = Some(*index);
            }
            StreamEvent::ToolCallDelta { index, delta, .. }
                if self.answer_index == Some(*index) && !delta.is_empty() =>
            {
                self.chunk(out, Delta::Content(delta), None);
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                let k = self.tool_index.len();
                self.tool_index.insert(*index, k);
                let delta = json!({"tool_calls": [{
                    "index": k, "id": id, "type": "function",
                    "function": {"name": name, "arguments": ""},
                }]});
                self.chunk(out, Delta::Value(delta), None);
            }
            StreamEvent::ToolCallDelta { index, delta, .. } if !delta.is_empty() => {
                let k = self.tool_index.get(index).copied().unwrap_or_default();
                let delta = json!({"tool_calls": [{"index": k, "function": {"arguments": delta}}]});
                self.chunk(out, Delta::Value(delta), None);
            }
            StreamEvent::Done {
                stop_reason,
                usage,
                message,
            } => {
                let reason = if *stop_reason == StopReason::ToolUse
                    && self.answer_index.is_some()
                    && self.tool_index.is_empty()
                {
                    "stop"
                } else {
                    finish_reason(*stop_reason)
                };
                self.finish(out, reason, Some(message), usage);
            }
            StreamEvent::Error { partial, .. } if filtered => {
                let usage = partial.as_ref().map(|m| m.usage).unwrap_or_default();
                self.finish(out, "content_filter", partial.as_deref(), &usage);
            }
            StreamEvent::Error { message, info, .. } => {
                out.extend_from_slice(b"data: ");
                json_to(out, &crate::api_error::upstream(info, message).body());
                out.extend_from_slice(b"\n\n");
            }
            _ => {}
        }
    }

    /// The SSE items for one event, parsed back from what [`ChunkMapper::write`] renders.
    #[cfg(test)]
    pub fn map(&mut self, event: &StreamEvent) -> Vec<SseItem> {
        let mut bytes = Vec::new();
        self.write(event, &mut bytes);
        bytes
            .split(|b| *b == b'\n')
            .filter_map(|line| line.strip_prefix(b"data: "))
            .map(|data| {
                if data == b"[DONE]" {
                    SseItem::Done
                } else {
                    // What `write` renders is JSON; anything else would be a bug, kept visible.
                    SseItem::Data(serde_json::from_slice(data).unwrap_or(Value::Null))
                }
            })
            .collect()
    }
}

impl crate::sse::EventWriter for ChunkMapper {
    fn write(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        ChunkMapper::write(self, event, out);
    }

    fn keepalive(&mut self, out: &mut Vec<u8>) {
        // An SSE comment line: OpenAI's clients skip it.
        out.extend_from_slice(b": keep-alive\n\n");
    }
}

/// The SSE event ending a successful stream.
const DONE: &[u8] = b"data: [DONE]\n\n";

/// Appends `value` as compact JSON. Serialising strings, numbers and `Value`s into a `Vec`
/// cannot fail.
fn json_to<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    if serde_json::to_writer(&mut *out, value).is_err() {
        out.extend_from_slice(b"null");
    }
}

/// The extension fields of an answer: `guardrail_trace` and `additional_model_response_fields`,
/// when Bedrock returned them.
fn extensions(message: &AssistantMessage) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(trace) = &message.guardrail_trace {
        out.push(("guardrail_trace", trace.clone()));
    }
    if let Some(fields) = &message.response_fields {
        out.push(("additional_model_response_fields", fields.clone()));
    }
    out
}

/// The `chat.completion` of an answer a guardrail (or Bedrock's content filter) stopped: what
/// had arrived (the guardrail's message), `finish_reason: "content_filter"`.
pub fn content_filter_completion(
    id: &str,
    created: u64,
    model: &str,
    partial: Option<&AssistantMessage>,
    response_tool: Option<&str>,
) -> Value {
    let empty = AssistantMessage::new(
        openclaw_stream::converse::API,
        openclaw_stream::converse::PROVIDER,
        model,
    );
    let message = partial.unwrap_or(&empty);
    completion_with(
        id,
        created,
        model,
        message,
        "content_filter",
        &message.usage,
        response_tool,
    )
}

/// The `chat.completion` object of a non-streaming call; `response_tool` is the
/// `response_format` answer tool ([`ChatRequest::response_tool`]), whose arguments become the
/// content.
pub fn completion(
    id: &str,
    created: u64,
    model: &str,
    message: &AssistantMessage,
    stop_reason: StopReason,
    usage: &Usage,
    response_tool: Option<&str>,
) -> Value {
    let answered = message.content.iter().any(
        |c| matches!(c, AssistantContent::ToolCall(call) if Some(call.name.as_str()) == response_tool),
    );
    let others = message.content.iter().any(
        |c| matches!(c, AssistantContent::ToolCall(call) if Some(call.name.as_str()) != response_tool),
    );
    let reason = if stop_reason == StopReason::ToolUse && answered && !others {
        "stop"
    } else {
        finish_reason(stop_reason)
    };
    completion_with(id, created, model, message, reason, usage, response_tool)
}

fn completion_with(
    id: &str,
    created: u64,
    model: &str,
    message: &AssistantMessage,
    finish: &str,
    usage: &Usage,
    response_tool: Option<&str>,
) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut signature = None;
    let mut redacted = None;
    let mut calls = Vec::new();
    let mut answer = None;
    for block in &message.content {
        match block {
            AssistantContent::Text { text: t } => text.push_str(t),
            AssistantContent::Thinking {
                thinking,
                signature: s,
                redacted: r,
            } => {
                reasoning.push_str(thinking);
                if s.is_some() {
                    signature = s.clone();
                }
                if let Some(r) = r {
                    redacted = Some(base64::engine::general_purpose::STANDARD.encode(r));
                }
            }
            AssistantContent::ToolCall(call) => {
                let arguments = match &call.invalid_arguments {
                    Some(raw) => raw.clone(),
                    None => call.arguments.to_string(),
                };
                if Some(call.name.as_str()) == response_tool {
                    answer = Some(arguments);
                    continue;
                }
                calls.push(json!({
                    "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": arguments},
                }));
            }
            // Input only: a response never holds one.
            AssistantContent::CachePoint(_) => {}
        }
    }
    // The answer tool's arguments are the whole content (text the model wrote around a
    // forced call is not JSON).
    if let Some(answer) = answer {
        text = answer;
    }
    let mut msg = serde_json::Map::new();
    msg.insert("role".into(), json!("assistant"));
    msg.insert(
        "content".into(),
        if text.is_empty() && !calls.is_empty() {
            Value::Null
        } else {
            json!(text)
        },
    );
    if !reasoning.is_empty() {
        msg.insert("reasoning_content".into(), json!(reasoning));
    }
    if let Some(sig) = signature {
        msg.insert("reasoning_signature".into(), json!(sig));
    }
    if let Some(r) = redacted {
        msg.insert("reasoning_redacted".into(), json!(r));
    }
    if !calls.is_empty() {
        msg.insert("tool_calls".into(), Value::Array(calls));
    }
    let mut out = json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": Value::Object(msg),
            "finish_reason": finish,
        }],
        "usage": usage_json(usage),
    });
    if let Value::Object(map) = &mut out {
        for (key, value) in extensions(message) {
            map.insert(key.into(), value);
        }
    }
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod proptests;
