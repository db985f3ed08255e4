//! Scripted turns, pacing and injected faults.

use std::time::Duration;

/// One block of a scripted assistant turn.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A text block.
    Text(String),
    /// A tool use; `input` is sent as JSON split over several `toolUse.input` deltas when streaming.
    ToolUse {
        /// `toolUseId`, e.g. `tooluse_abc`.
        id: String,
        /// The tool name.
        name: String,
        /// The arguments.
        input: serde_json::Value,
    },
    /// Reasoning text, with an optional signature (sent as its own delta after the text).
    Reasoning {
        /// The reasoning text.
        text: String,
        /// The signature, if any.
        signature: Option<String>,
    },
    /// Redacted reasoning: opaque bytes, base64 on the wire.
    RedactedReasoning(Vec<u8>),
}

/// Token usage reported in `usage` / the `metadata` event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// `inputTokens`.
    pub input_tokens: u32,
    /// `outputTokens`.
    pub output_tokens: u32,
    /// `cacheReadInputTokens` (sent only when non-zero).
    pub cache_read_input_tokens: u32,
    /// `cacheWriteInputTokens` (sent only when non-zero).
    pub cache_write_input_tokens: u32,
}

impl Usage {
    /// `totalTokens` as Bedrock computes it (input + output + cache read + cache write).
    pub fn total(&self) -> u32 {
        self.input_tokens
            .saturating_add(self.output_tokens)
            .saturating_add(self.cache_read_input_tokens)
            .saturating_add(self.cache_write_input_tokens)
    }
}

/// A complete assistant turn: blocks, stop reason, usage, streaming chunk size.
#[derive(Clone, Debug, PartialEq)]
pub struct Turn {
    /// The content blocks, in order.
    pub blocks: Vec<Block>,
    /// The stop reason (`end_turn`, `tool_use`, `max_tokens`, `stop_sequence`, ...); when `None`
    /// it is `tool_use` if the turn has a tool use, else `end_turn`.
    pub stop_reason: Option<String>,
    /// Usage; when `None` it is estimated from the request and the turn (about 4 chars a token).
    pub usage: Option<Usage>,
    /// Characters per text/reasoning delta and per tool input delta; `None` uses the server's.
    pub chunk_size: Option<usize>,
    /// `metrics.latencyMs`; `None` reports the measured time.
    pub latency_ms: Option<u64>,
}

impl Turn {
    /// An empty turn (add blocks with the `with_*` methods).
    pub fn new() -> Self {
        Self {
            blocks: Vec::new(),
            stop_reason: None,
            usage: None,
            chunk_size: None,
            latency_ms: None,
        }
    }

    /// A turn with one text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::new().with_text(text)
    }

    /// Appends a text block.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Text(text.into()));
        self
    }

    /// Appends a tool use block.
    pub fn with_tool_use(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        input: serde_json::Value,
    ) -> Self {
        self.blocks.push(Block::ToolUse {
            id: id.into(),
            name: name.into(),
            input,
        });
        self
    }

    /// Appends a reasoning block with a signature.
    pub fn with_reasoning(mut self, text: impl Into<String>, signature: impl Into<String>) -> Self {
        self.blocks.push(Block::Reasoning {
            text: text.into(),
            signature: Some(signature.into()),
        });
        self
    }

    /// Appends a reasoning block without signature.
    pub fn with_unsigned_reasoning(mut self, text: impl Into<String>) -> Self {
        self.blocks.push(Block::Reasoning {
            text: text.into(),
            signature: None,
        });
        self
    }

    /// Appends a redacted reasoning block.
    pub fn with_redacted_reasoning(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.blocks.push(Block::RedactedReasoning(bytes.into()));
        self
    }

    /// Sets the stop reason.
    pub fn stop_reason(mut self, reason: impl Into<String>) -> Self {
        self.stop_reason = Some(reason.into());
        self
    }

    /// Sets the usage numbers.
    pub fn usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Sets the delta chunk size in characters (at least 1).
    pub fn chunk_size(mut self, chars: usize) -> Self {
        self.chunk_size = Some(chars.max(1));
        self
    }

    /// Sets `metrics.latencyMs`.
    pub fn latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = Some(ms);
        self
    }

    /// Targets this turn at one model (see [`Rule`]).
    pub fn for_model(self, model: impl Into<String>) -> Rule<Turn> {
        Rule::new(self).for_model(model)
    }

    /// Repeats this turn for `n` requests (see [`Rule`]).
    pub fn times(self, n: u32) -> Rule<Turn> {
        Rule::new(self).times(n)
    }

    pub(crate) fn resolved_stop_reason(&self) -> String {
        match &self.stop_reason {
            Some(reason) => reason.clone(),
            None if self
                .blocks
                .iter()
                .any(|b| matches!(b, Block::ToolUse { .. })) =>
            {
                "tool_use".to_owned()
            }
            None => "end_turn".to_owned(),
        }
    }
}

impl Default for Turn {
    fn default() -> Self {
        Self::new()
    }
}

/// Delays applied to responses (latency tests and benchmarks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pacing {
    /// Delay before the response head is sent (time to first byte).
    pub first_byte: Duration,
    /// Delay between two stream events.
    pub between_events: Duration,
}

/// The exception kinds the runtime can send inside a stream (`:exception-type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamException {
    /// `throttlingException`.
    Throttling,
    /// `internalServerException`.
    InternalServer,
    /// `modelStreamErrorException` (with `originalStatusCode` and `originalMessage`).
    ModelStreamError,
    /// `validationException`.
    Validation,
    /// `serviceUnavailableException`.
    ServiceUnavailable,
}

impl StreamException {
    /// The `:exception-type` header value.
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::Throttling => "throttlingException",
            Self::InternalServer => "internalServerException",
            Self::ModelStreamError => "modelStreamErrorException",
            Self::Validation => "validationException",
            Self::ServiceUnavailable => "serviceUnavailableException",
        }
    }
}

/// A fault to inject instead of (or into) a normal answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// HTTP 429 `ThrottlingException` ("Too many requests, please wait before trying again.").
    Throttle,
    /// HTTP 500 `InternalServerException`.
    InternalError,
    /// HTTP 503 `ServiceUnavailableException`.
    ServiceUnavailable,
    /// HTTP 403 `AccessDeniedException` (e.g. for a control-plane call).
    AccessDenied,
    /// HTTP 424 `ModelErrorException` / 408 `ModelTimeoutException` / any other error response.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error type (`x-amzn-errortype`), e.g. `ModelNotReadyException`.
        error_type: String,
        /// The message.
        message: String,
    },
    /// Streams only: an exception frame after `after_events` events, then the stream ends.
    StreamException {
        /// Events sent before the exception frame.
        after_events: usize,
        /// The exception kind.
        kind: StreamException,
        /// The message.
        message: String,
    },
    /// Streams only: the connection is dropped (the body aborted) after `after_events` events.
    DropConnection {
        /// Events sent before the drop.
        after_events: usize,
    },
    /// Streams only: the frame at index `at_event` is sent with a wrong message CRC.
    CorruptFrame {
        /// Index (0-based) of the corrupt event.
        at_event: usize,
    },
    /// No response at all: the request hangs until the client gives up or the server stops.
    Hang,
    /// Streams only: after `after_events` events the stream goes silent but stays open.
    StallStream {
        /// Events sent before the stall.
        after_events: usize,
    },
}

impl Fault {
    /// True when this fault only makes sense on `converse-stream`.
    pub fn stream_only(&self) -> bool {
        matches!(
            self,
            Self::StreamException { .. }
                | Self::DropConnection { .. }
                | Self::CorruptFrame { .. }
                | Self::StallStream { .. }
        )
    }

    /// Targets this fault at one model (see [`Rule`]).
    pub fn for_model(self, model: impl Into<String>) -> Rule<Fault> {
        Rule::new(self).for_model(model)
    }

    /// Applies this fault to `n` matching requests (see [`Rule`]).
    pub fn times(self, n: u32) -> Rule<Fault> {
        Rule::new(self).times(n)
    }
}

/// Which requests a rule applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// Any request the item applies to (runtime requests for turns; any request for faults).
    Any,
    /// Runtime requests whose model id (as sent, or the foundation model it resolves to) equals
    /// this string.
    Model(String),
    /// Control-plane requests only (`/foundation-models`, `/inference-profiles`).
    ControlPlane,
    /// Runtime requests only (`/model/...`).
    Runtime,
}

/// A scripted turn or fault with its target and how many requests it applies to.
///
/// Rules are consumed in the order they were added: the first rule whose target matches takes the
/// request. `times(n)` lets one rule serve `n` requests; `forever()` never runs out.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule<T> {
    /// The turn or fault.
    pub item: T,
    /// Which requests match.
    pub target: Target,
    /// How many requests it still applies to; `None` means unlimited.
    pub remaining: Option<u32>,
}

impl<T> Rule<T> {
    /// A rule for the next matching request, any target.
    pub fn new(item: T) -> Self {
        Self {
            item,
            target: Target::Any,
            remaining: Some(1),
        }
    }

    /// Restricts the rule to one model id (profile ids and ARNs match too when they resolve to
    /// it, as do the ids they were sent as).
    pub fn for_model(mut self, model: impl Into<String>) -> Self {
        self.target = Target::Model(model.into());
        self
    }

    /// Restricts the rule to control-plane requests.
    pub fn control_plane(mut self) -> Self {
        self.target = Target::ControlPlane;
        self
    }

    /// Restricts the rule to runtime requests.
    pub fn runtime(mut self) -> Self {
        self.target = Target::Runtime;
        self
    }

    /// Applies the rule to `n` matching requests (e.g. throttle the first 3 calls).
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Applies the rule to every matching request until cleared.
    pub fn forever(mut self) -> Self {
        self.remaining = None;
        self
    }
}

impl From<Turn> for Rule<Turn> {
    fn from(turn: Turn) -> Self {
        Rule::new(turn)
    }
}

impl From<Fault> for Rule<Fault> {
    fn from(fault: Fault) -> Self {
        Rule::new(fault)
    }
}
