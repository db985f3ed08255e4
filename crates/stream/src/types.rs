//! The provider-neutral request, message and event types. No AWS type appears here.

use openclaw_config::{GuardrailConfig, ModelDefinition};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One model call: the conversation so far, the tools on offer and the sampling settings,
/// aimed at one [`ModelDefinition`].
#[derive(Debug, Clone)]
pub struct StreamRequest {
    /// The model the request targets (its id, limits, modalities and prices).
    pub model: ModelDefinition,
    /// The system prompt, if any.
    pub system: Option<String>,
    /// The conversation, oldest first.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    pub tools: Vec<ToolDefinition>,
    /// How the model may use the tools.
    pub tool_choice: ToolChoice,
    /// Sampling temperature; ignored (not sent) while extended thinking is on for Claude.
    pub temperature: Option<f32>,
    /// Maximum output tokens; `None` means `min(model.max_tokens, 32000)` (pi-ai's default).
    pub max_tokens: Option<u32>,
    /// Sequences that stop generation.
    pub stop_sequences: Vec<String>,
    /// Extended-thinking level.
    pub reasoning: ReasoningLevel,
    /// Prompt-cache retention (automatic placement only).
    pub cache_retention: CacheRetention,
    /// Extra system blocks sent after `system` (text, or explicit cache points).
    pub system_blocks: Vec<SystemBlock>,
    /// Who places prompt-cache points: `Automatic` (default: the adapter, from `cache_retention`
    /// and the model's support) or `Explicit` (only the cache-point markers the caller put in
    /// `system_blocks`, `tools_cache_point` and message content; `cache_retention` is then
    /// ignored).
    pub cache_placement: CachePlacement,
    /// Explicit cache point after the tool definitions (explicit placement).
    pub tools_cache_point: Option<CachePoint>,
    /// Explicit thinking budget; overrides `reasoning` when set.
    pub thinking: Option<ThinkingBudget>,
    /// Nucleus sampling (Converse `inferenceConfig.topP`).
    pub top_p: Option<f32>,
    /// Top-k sampling (Claude: `additionalModelRequestFields.top_k`; other models: not sent,
    /// with a warning logged).
    pub top_k: Option<u32>,
    /// Anthropic beta flags (Claude: `additionalModelRequestFields.anthropic_beta`; other
    /// models: not sent).
    pub anthropic_beta: Vec<String>,
    /// Extra `additionalModelRequestFields` merged with what the adapter sets; a key the adapter
    /// also sets with a different value ends the stream with a validation error naming the key.
    /// They win over the model definition's `additionalModelRequestFields` (key by key).
    pub additional_fields: serde_json::Map<String, Value>,
    /// Extra `additionalModelResponseFieldPaths` (JSON pointers such as `/stop_sequence`), added
    /// to the model definition's; the fields Bedrock returns land in
    /// [`AssistantMessage::response_fields`].
    pub additional_response_field_paths: Vec<String>,
    /// The Bedrock guardrail for this call, overriding the model definition's `guardrail`.
    pub guardrail: Option<GuardrailConfig>,
}

impl StreamRequest {
    /// A request for `model` with the given messages and every other setting at its default
    /// (no system prompt, no tools, no thinking, short prompt-cache retention).
    pub fn new(model: ModelDefinition, messages: Vec<Message>) -> Self {
        StreamRequest {
            model,
            system: None,
            messages,
            tools: Vec::new(),
            tool_choice: ToolChoice::Auto,
            temperature: None,
            max_tokens: None,
            stop_sequences: Vec::new(),
            reasoning: ReasoningLevel::Off,
            cache_retention: CacheRetention::Short,
            system_blocks: Vec::new(),
            cache_placement: CachePlacement::Automatic,
            tools_cache_point: None,
            thinking: None,
            top_p: None,
            top_k: None,
            anthropic_beta: Vec::new(),
            additional_fields: serde_json::Map::new(),
            additional_response_field_paths: Vec::new(),
            guardrail: None,
        }
    }
}

/// Who places prompt-cache points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CachePlacement {
    /// The adapter: after the system prompt and at the end of the last user message, from
    /// [`StreamRequest::cache_retention`] and the model's support.
    #[default]
    Automatic,
    /// Only the [`CachePoint`] markers the caller placed (system blocks, after the tools,
    /// message content); dropped for a model without prompt caching.
    Explicit,
}

/// An explicit prompt-cache point: everything before it is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CachePoint {
    /// How long the cached prefix lives.
    #[serde(default)]
    pub ttl: CacheTtl,
}

/// The time to live of a [`CachePoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheTtl {
    /// The provider's default (5 minutes on Bedrock).
    #[default]
    Default,
    /// One hour.
    OneHour,
}

/// One extra block of the system prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SystemBlock {
    /// System text (blank text is not sent).
    Text(String),
    /// An explicit cache point after the blocks before it (explicit placement).
    CachePoint(CachePoint),
}

/// An explicit extended-thinking budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThinkingBudget {
    /// Think with up to this many tokens (maxTokens is raised to leave room for the answer,
    /// within the model's limit).
    Tokens(u32),
    /// The model decides how much to think (adaptive thinking where the model supports it,
    /// else the medium level's budget).
    Adaptive,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Tool name, as the model will use it in calls.
    pub name: String,
    /// What the tool does, for the model (blank: none is sent).
    pub description: String,
    /// JSON Schema of the tool's arguments.
    pub parameters: Value,
}

/// How the model may use the tools.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    #[default]
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must not call tools.
    None,
    /// The model must call the named tool.
    Tool(String),
}

/// Extended-thinking level (pi-ai's `ThinkingLevel`, plus `Off`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasoningLevel {
    /// No extended thinking.
    #[default]
    Off,
    /// Smallest budget.
    Minimal,
    /// Low budget.
    Low,
    /// Medium budget.
    Medium,
    /// High budget.
    High,
    /// The largest budget the model accepts.
    XHigh,
}

/// Prompt-cache retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheRetention {
    /// No cache points.
    None,
    /// Cache points with the provider's default time to live (5 minutes on Bedrock).
    #[default]
    Short,
    /// Cache points with a one-hour time to live.
    Long,
}

/// One message of the conversation.
// Boxing the assistant variant would change the public shape for a few hundred bytes per
// message of a conversation that is built once per turn.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    /// What the user said.
    User(UserMessage),
    /// What a model answered.
    Assistant(AssistantMessage),
    /// The result of one tool call.
    ToolResult(ToolResultMessage),
}

impl Message {
    /// A user message holding one text block.
    pub fn user_text(text: impl Into<String>) -> Self {
        Message::User(UserMessage {
            content: vec![Content::Text { text: text.into() }],
        })
    }
}

/// A user message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserMessage {
    /// Text, image, document and cache-point blocks.
    pub content: Vec<Content>,
}

/// A block of user or tool-result content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Content {
    /// Plain text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// MIME type, for example `image/png`.
        mime_type: String,
        /// The encoded image bytes (base64 in JSON).
        #[serde(with = "crate::b64")]
        data: Vec<u8>,
    },
    /// A document (user messages and tool results).
    Document {
        /// Its format: `pdf`, `csv`, `doc`, `docx`, `xls`, `xlsx`, `html`, `txt` or `md`.
        format: String,
        /// Its name (sanitised for the provider: letters, digits, single spaces, hyphens,
        /// parentheses and square brackets).
        name: String,
        /// The document bytes (base64 in JSON).
        #[serde(with = "crate::b64")]
        data: Vec<u8>,
    },
    /// An explicit prompt-cache point after the blocks before it (explicit placement).
    CachePoint(CachePoint),
}

/// A tool result, answering the tool call with the same id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResultMessage {
    /// Id of the tool call this answers.
    pub tool_call_id: String,
    /// Name of the tool that ran.
    pub tool_name: String,
    /// Text, image, document and cache-point blocks.
    pub content: Vec<Content>,
    /// Whether the tool failed.
    #[serde(default)]
    pub is_error: bool,
}

/// What a model answered, with where it came from (so provider-specific parts such as thinking
/// signatures are replayed only where they are valid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssistantMessage {
    /// Text, thinking and tool-call blocks, in order.
    pub content: Vec<AssistantContent>,
    /// The API that produced it, for example `bedrock-converse-stream`.
    pub api: String,
    /// The provider that produced it, for example `amazon-bedrock`.
    pub provider: String,
    /// The model id that produced it.
    pub model: String,
    /// Token counts and cost.
    pub usage: Usage,
    /// Why generation stopped, when it completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_reason: Option<StopReason>,
    /// The stop sequence that ended generation, when one did and the provider said which
    /// (Claude: requested when the request has stop sequences).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequence: Option<String>,
    /// Why generation failed, when it did; such messages are not replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<MessageError>,
    /// The `additionalModelResponseFields` Bedrock returned (the values at the requested
    /// response field paths), when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_fields: Option<Value>,
    /// The guardrail trace Bedrock returned (`metadata.trace.guardrail`), when the guardrail's
    /// trace is enabled: what it assessed and why it intervened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail_trace: Option<Value>,
}

impl AssistantMessage {
    /// An empty message from the given api, provider and model.
    pub fn new(
        api: impl Into<String>,
        provider: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        AssistantMessage {
            content: Vec::new(),
            api: api.into(),
            provider: provider.into(),
            model: model.into(),
            usage: Usage::default(),
            stop_reason: None,
            stop_sequence: None,
            error: None,
            response_fields: None,
            guardrail_trace: None,
        }
    }

    /// The text blocks joined together.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|c| match c {
                AssistantContent::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// Why a failed assistant message failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageError {
    /// Failure or abort.
    pub reason: ErrorReason,
    /// Readable description.
    pub message: String,
    /// The failure's classification (`kind`, `code`, `status`, `retry_after_secs`).
    #[serde(flatten)]
    pub info: ErrorInfo,
}

/// A block of assistant content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AssistantContent {
    /// Answer text.
    Text {
        /// The text.
        text: String,
    },
    /// Extended thinking.
    Thinking {
        /// The reasoning text (empty when redacted).
        thinking: String,
        /// The provider's signature over the reasoning, needed to replay it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// Encrypted reasoning the provider redacted (base64 in JSON), replayed as is.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::b64::option"
        )]
        redacted: Option<Vec<u8>>,
    },
    /// A tool call.
    ToolCall(ToolCall),
    /// An explicit prompt-cache point after the blocks before it (input only, explicit
    /// placement: a response never contains one).
    CachePoint(CachePoint),
}

/// A tool call made by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Call id, echoed by the matching [`ToolResultMessage`].
    pub id: String,
    /// Tool name.
    pub name: String,
    /// Parsed arguments (an empty object when the model sent invalid JSON).
    pub arguments: Value,
    /// The raw argument text, kept only when it was not valid JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalid_arguments: Option<String>,
}

/// Why a completed response stopped: `stop`, `length` or `toolUse` in JSON, as pi-ai names
/// them (`tool_use` is read too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Natural end of turn or a stop sequence.
    Stop,
    /// The output-token limit or the context window was reached.
    Length,
    /// The model wants tool results.
    #[serde(rename = "toolUse", alias = "tool_use")]
    ToolUse,
}

/// Why a stream ended in error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorReason {
    /// The provider, the network or the request failed.
    Error,
    /// The caller aborted.
    Aborted,
}

/// What kind of failure ended a stream, for programs to branch on (an exit code, an HTTP
/// status, a retry decision) without reading the message.
///
/// Classified by the adapter from typed provider errors, never from message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Credentials missing or refused: no credentials found, access denied, unrecognised key,
    /// bad signature, expired token.
    Auth,
    /// The model (or another resource) does not exist for these credentials and region.
    NotFound,
    /// The request is invalid: the provider's validation error, or a request that could not
    /// be built (an unsupported image type).
    Validation,
    /// Throttled or over a quota: worth retrying later.
    Throttled,
    /// The service or the model is temporarily unavailable (not ready, overloaded).
    Unavailable,
    /// A connect, first-event or idle timeout, ours or the provider's.
    Timeout,
    /// Anything else from the provider's side: 5xx, a model stream error, a dropped
    /// connection, a corrupt frame, an unusable stop reason. Also the default when a serialised
    /// error carries no kind.
    #[default]
    Upstream,
    /// The caller aborted.
    Aborted,
}

impl ErrorKind {
    /// The snake_case name, as serialised (`"throttled"`), for labels and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Validation => "validation",
            ErrorKind::Throttled => "throttled",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Aborted => "aborted",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The machine-readable part of a failure: its [`ErrorKind`] and what the provider said.
///
/// Serialised flat into the `error` event (and [`MessageError`]): `kind`, then `code`,
/// `status` and `retry_after_secs` when known.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The classification.
    #[serde(default)]
    pub kind: ErrorKind,
    /// The provider's error code, for example `ThrottlingException`; for a response stopped
    /// for an unusable reason, the stop reason (`guardrail_intervened`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The HTTP status of the provider's error response, when the failure was one (not for
    /// exceptions inside a started stream, whose HTTP status was 200).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Seconds to wait before retrying, when the provider said (`Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
}

impl ErrorInfo {
    /// A failure of `kind` with no provider details.
    pub fn new(kind: ErrorKind) -> Self {
        ErrorInfo {
            kind,
            ..ErrorInfo::default()
        }
    }

    /// The same, with the provider's error code.
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// The same, with the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// `aborted` for [`ErrorKind::Aborted`], `error` otherwise (pi-ai's `reason`).
    pub fn reason(&self) -> ErrorReason {
        match self.kind {
            ErrorKind::Aborted => ErrorReason::Aborted,
            _ => ErrorReason::Error,
        }
    }
}

/// Token counts and their cost.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens not read from or written to the cache.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Input tokens read from the prompt cache.
    pub cache_read: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
    /// All tokens, as the provider counts them.
    pub total_tokens: u64,
    /// Cost in USD.
    pub cost: Cost,
}

/// Cost in USD, per kind of token: the model's price per million tokens times tokens / 1e6.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Cost {
    /// Input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Cache reads.
    pub cache_read: f64,
    /// Cache writes.
    pub cache_write: f64,
    /// Sum of the above.
    pub total: f64,
}

impl Usage {
    /// Fills [`Usage::cost`] from the model's prices (USD per million tokens).
    pub fn compute_cost(&mut self, model: &ModelDefinition) {
        let per = |price: f64, tokens: u64| price * tokens as f64 / 1_000_000.0;
        let c = &model.cost;
        self.cost.input = per(c.input, self.input);
        self.cost.output = per(c.output, self.output);
        self.cost.cache_read = per(c.cache_read, self.cache_read);
        self.cost.cache_write = per(c.cache_write, self.cache_write);
        self.cost.total =
            self.cost.input + self.cost.output + self.cost.cache_read + self.cost.cache_write;
    }
}

/// One event of a model stream. Serialised with a snake_case `type` tag (the names of pi-ai's
/// events), so a CLI can print them as JSON lines.
///
/// Order: `start`, then per content block `*_start`, `*_delta`..., `*_end` (blocks do not
/// interleave on Bedrock), then exactly one terminal `done` or `error`.
// `done` carries the message by value (the public shape); events are moved, not stored.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The model began its answer.
    Start {
        /// The model id.
        model: String,
    },
    /// A text block opened.
    TextStart {
        /// Position of the block in the message content.
        index: usize,
    },
    /// More text.
    TextDelta {
        /// Position of the block.
        index: usize,
        /// The new text.
        delta: String,
    },
    /// A text block closed.
    TextEnd {
        /// Position of the block.
        index: usize,
        /// The block's full text.
        text: String,
    },
    /// A thinking block opened.
    ThinkingStart {
        /// Position of the block.
        index: usize,
    },
    /// More reasoning text.
    ThinkingDelta {
        /// Position of the block.
        index: usize,
        /// The new reasoning text.
        delta: String,
    },
    /// A thinking block closed.
    ThinkingEnd {
        /// Position of the block.
        index: usize,
        /// The block's full reasoning text.
        thinking: String,
        /// The signature, when the provider sent one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// Redacted reasoning (base64 in JSON), when the provider sent some.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "crate::b64::option"
        )]
        redacted: Option<Vec<u8>>,
    },
    /// A tool call opened.
    #[serde(rename = "toolcall_start")]
    ToolCallStart {
        /// Position of the block.
        index: usize,
        /// Call id.
        id: String,
        /// Tool name.
        name: String,
    },
    /// More argument JSON.
    #[serde(rename = "toolcall_delta")]
    ToolCallDelta {
        /// Position of the block.
        index: usize,
        /// The new JSON text.
        delta: String,
        /// The arguments so far, parsed leniently from the incomplete JSON.
        partial_arguments: Value,
    },
    /// A tool call closed.
    #[serde(rename = "toolcall_end")]
    ToolCallEnd {
        /// Position of the block.
        index: usize,
        /// The complete call, arguments parsed.
        call: ToolCall,
    },
    /// Terminal: the response completed.
    Done {
        /// Why it stopped (`reason` in JSON, like the `error` event's; `stop_reason` is read
        /// too).
        #[serde(rename = "reason", alias = "stop_reason")]
        stop_reason: StopReason,
        /// The complete message (to append to the conversation). Boxed: every event is moved
        /// several times on its way to the client, and an event is as large as its largest
        /// kind; this one comes once per stream.
        message: Box<AssistantMessage>,
        /// Token counts and cost (also in `message.usage`).
        usage: Usage,
    },
    /// Terminal: the response failed or was aborted.
    Error {
        /// Failure or abort.
        reason: ErrorReason,
        /// Readable description (never a credential).
        message: String,
        /// The failure's classification (`kind`, `code`, `status`, `retry_after_secs`,
        /// serialised flat beside `reason` and `message`).
        #[serde(flatten)]
        info: ErrorInfo,
        /// What had arrived before the failure, if anything.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partial: Option<Box<AssistantMessage>>,
    },
}

impl StreamEvent {
    /// Whether this is `done` or `error`.
    pub fn is_terminal(&self) -> bool {
        matches!(self, StreamEvent::Done { .. } | StreamEvent::Error { .. })
    }
}
