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

use std::collections::HashMap;

use base64::Engine as _;
use openclaw_config::ModelDefinition;
use openclaw_stream::{
    AssistantContent, AssistantMessage, Content, Message, ReasoningLevel, StopReason, StreamEvent,
    StreamRequest, ToolCall, ToolChoice, ToolDefinition, ToolResultMessage, Usage, UserMessage,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_error::ApiError;

/// Image MIME types Bedrock accepts.
const IMAGE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// `POST /v1/chat/completions` body. Fields OpenAI defines that do not apply here (`user`,
/// `metadata`, `seed`, ...) are accepted and ignored.
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
}

impl ChatRequest {
    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
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
#[serde(untagged)]
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
#[serde(untagged)]
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
    for (i, m) in req.messages.iter().enumerate() {
        let param = format!("messages[{i}].content");
        match m {
            ChatMessage::System { content } | ChatMessage::Developer { content } => {
                system.push(text_only(content, &param)?);
            }
            ChatMessage::User { content } => {
                let content = parts(content, &param, limits)?;
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
    let tool_choice = match &req.tool_choice {
        None => ToolChoice::Auto,
        Some(v) => tool_choice(v)?,
    };
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
    Ok(request)
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
        }
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
        if !self.sent_role && !matches!(event, StreamEvent::Error { .. }) {
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
                stop_reason, usage, ..
            } => {
                self.chunk(
                    out,
                    Delta::Value(Value::Object(serde_json::Map::new())),
                    Some(finish_reason(*stop_reason)),
                );
                if self.include_usage {
                    out.extend_from_slice(b"data: ");
                    out.extend_from_slice(&self.head);
                    out.extend_from_slice(b",\"choices\":[],\"usage\":");
                    json_to(out, &usage_json(usage));
                    out.extend_from_slice(b"}\n\n");
                }
                out.extend_from_slice(DONE);
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

/// The `chat.completion` object of a non-streaming call.
pub fn completion(
    id: &str,
    created: u64,
    model: &str,
    message: &AssistantMessage,
    stop_reason: StopReason,
    usage: &Usage,
) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut signature = None;
    let mut redacted = None;
    let mut calls = Vec::new();
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
                calls.push(json!({
                    "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": arguments},
                }));
            }
            // Input only: a response never holds one.
            AssistantContent::CachePoint(_) => {}
        }
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
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": Value::Object(msg),
            "finish_reason": finish_reason(stop_reason),
        }],
        "usage": usage_json(usage),
    })
}

#[cfg(test)]
mod tests;
