//! Scripted turns, pacing and injected faults.
//!
//! All of them (but [`Pacing`]) are serde types, so the admin API (`POST /_fake/scripts`,
//! `POST /_fake/faults`) and the binary's `--fault`/`--script` flags take them as JSON, in the
//! shape of the Rust types with `snake_case` names: a [`Fault`] is `{"type": "throttle"}` or
//! `{"type": "stream_exception", "after_events": 3, "kind": "model_stream_error", "message": "boom"}`;
//! a [`Block`] is `{"type": "text", "text": ".."}`, `{"type": "tool_use", "id": .., "name": ..,
//! "input": {..}}`, `{"type": "reasoning", "text": .., "signature": ..}` or
//! `{"type": "redacted_reasoning", "data": "<base64>"}`; a [`Rule`] is
//! `{"item": <turn or fault>, "target": "any" | "control_plane" | "runtime" | {"model": ".."},
//! "remaining": 2}` (`remaining` defaults to 1; `null` means forever).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One block of a scripted assistant turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(into = "BlockJson", try_from = "BlockJson")]
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

/// [`Block`] as JSON: internally tagged, redacted bytes in base64.
#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum BlockJson {
    Text {
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: serde_json::Value,
    },
    Reasoning {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    RedactedReasoning {
        data: String,
    },
}

impl From<Block> for BlockJson {
    fn from(block: Block) -> Self {
        match block {
            Block::Text(text) => Self::Text { text },
            Block::ToolUse { id, name, input } => Self::ToolUse { id, name, input },
            Block::Reasoning { text, signature } => Self::Reasoning { text, signature },
            Block::RedactedReasoning(bytes) => Self::RedactedReasoning {
                data: aws_smithy_types::base64::encode(bytes),
            },
        }
    }
}

impl TryFrom<BlockJson> for Block {
    type Error = String;

    fn try_from(json: BlockJson) -> Result<Self, String> {
        Ok(match json {
            BlockJson::Text { text } => Self::Text(text),
            BlockJson::ToolUse { id, name, input } => Self::ToolUse {
                id,
                name,
                input: if input.is_null() {
                    serde_json::Value::Object(serde_json::Map::new())
                } else {
                    input
                },
            },
            BlockJson::Reasoning { text, signature } => Self::Reasoning { text, signature },
            BlockJson::RedactedReasoning { data } => {
                Self::RedactedReasoning(aws_smithy_types::base64::decode(&data).map_err(|e| {
                    format!("expected base64 in `data` of a redacted_reasoning block: {e}")
                })?)
            }
        })
    }
}

/// Token usage reported in `usage` / the `metadata` event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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
    /// The `trace` object sent in `metadata` (the `trace` of a `Converse` answer), for example
    /// `{"guardrail": {...}}` with `stop_reason: "guardrail_intervened"`.
    pub trace: Option<serde_json::Value>,
    /// The model's own response fields, from which the request's
    /// `additionalModelResponseFieldPaths` are answered (in `messageStop`), for example
    /// `{"stop_sequence": "END"}`.
    pub response_fields: Option<serde_json::Value>,
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
            trace: None,
            response_fields: None,
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

    /// Sets the `trace` sent in `metadata`.
    pub fn trace(mut self, trace: serde_json::Value) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Sets the model's response fields (answering `additionalModelResponseFieldPaths`).
    pub fn response_fields(mut self, fields: serde_json::Value) -> Self {
        self.response_fields = Some(fields);
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Any request the item applies to (runtime requests for turns; any request for faults).
    #[default]
    Any,
    /// Runtime requests (`converse`, `converse-stream`, `count-tokens`) for this model; other
    /// models are served normally. It matches the identifier as sent, the id inside an ARN, the
    /// inference profile the request goes through and the foundation model it resolves to; given
    /// as an ARN, it matches by the id the ARN names. So a foundation-model id covers every
    /// profile to that model, and a profile id only that profile (the failover case: one
    /// profile failing while another profile of the same model answers).
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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule<T> {
    /// The turn or fault.
    pub item: T,
    /// Which requests match (JSON default: `any`).
    #[serde(default)]
    pub target: Target,
    /// How many requests it still applies to; `None` means unlimited (JSON default: 1).
    #[serde(default = "one")]
    pub remaining: Option<u32>,
}

fn one() -> Option<u32> {
    Some(1)
}

impl<T: serde::de::DeserializeOwned> Rule<T> {
    /// Parses a rule from JSON: a rule object (`{"item": .., "target": .., "remaining": ..}`),
    /// or a bare item (a turn or a fault), which applies to the next matching request.
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, serde_json::Error> {
        if value.get("item").is_some() {
            serde_json::from_value(value)
        } else {
            serde_json::from_value(value).map(Rule::new)
        }
    }

    /// Parses one rule or a JSON array of rules (see [`Rule::from_json_value`]).
    pub fn list_from_json(json: &str) -> Result<Vec<Self>, serde_json::Error> {
        match serde_json::from_str::<serde_json::Value>(json)? {
            serde_json::Value::Array(items) => {
                items.into_iter().map(Self::from_json_value).collect()
            }
            value => Self::from_json_value(value).map(|rule| vec![rule]),
        }
    }
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

    /// Restricts the rule to runtime requests for one model: a foundation-model id (matching
    /// requests by that id, its ARN or any profile to it), a profile id (requests through that
    /// profile, by id or ARN) or an ARN of either (see [`Target::Model`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_round_trip_through_json() {
        let turn = Turn::new()
            .with_reasoning("r", "sig")
            .with_unsigned_reasoning("u")
            .with_redacted_reasoning(vec![0u8, 255])
            .with_text("t")
            .with_tool_use("id", "name", serde_json::json!({"a": 1}))
            .stop_reason("max_tokens")
            .usage(Usage {
                input_tokens: 1,
                output_tokens: 2,
                cache_read_input_tokens: 3,
                cache_write_input_tokens: 4,
            })
            .chunk_size(3)
            .latency_ms(9)
            .trace(serde_json::json!({"guardrail": {"actionReason": "Guardrail blocked."}}))
            .response_fields(serde_json::json!({"stop_sequence": "END"}))
            .for_model("m");
        let json = serde_json::to_string(&turn).unwrap();
        assert_eq!(Rule::<Turn>::list_from_json(&json).unwrap(), vec![turn]);

        let faults = vec![
            Rule::new(Fault::Throttle).control_plane().times(3),
            Rule::new(Fault::StreamException {
                after_events: 2,
                kind: StreamException::ServiceUnavailable,
                message: "m".into(),
            })
            .forever(),
            Rule::new(Fault::Error {
                status: 424,
                error_type: "ModelErrorException".into(),
                message: "x".into(),
            })
            .runtime(),
        ];
        let json = serde_json::to_string(&faults).unwrap();
        assert_eq!(Rule::<Fault>::list_from_json(&json).unwrap(), faults);
        // A bare item is a rule for the next matching request.
        assert_eq!(
            Rule::<Fault>::list_from_json(r#"{"type": "hang"}"#).unwrap(),
            vec![Rule::new(Fault::Hang)]
        );
        assert!(
            Rule::<Fault>::list_from_json(
                r#"{"type": "drop_connection", "after_events": 1, "extra": 1}"#
            )
            .is_err()
        );
        assert!(
            Rule::<Turn>::list_from_json(
                r#"{"blocks": [{"type": "redacted_reasoning", "data": "!"}]}"#
            )
            .unwrap_err()
            .to_string()
            .contains("expected base64")
        );
    }
}
