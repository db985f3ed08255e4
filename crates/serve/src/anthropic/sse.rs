//! Stream events as Anthropic's Messages SSE, and the `message` object of a non-streaming call.

use base64::Engine as _;
use openclaw_stream::{AssistantContent, AssistantMessage, StopReason, StreamEvent, Usage};
use serde_json::{Value, json};

use crate::api_error::upstream;
use crate::sse::EventWriter;

/// Stream error codes that mean Bedrock stopped the answer on purpose (a guardrail or its
/// content filter): Anthropic's `refusal` stop, not an error.
const REFUSALS: [&str; 2] = ["guardrail_intervened", "content_filtered"];

/// Anthropic's `stop_reason` of a completed answer.
pub(crate) fn stop_reason(reason: StopReason, message: &AssistantMessage) -> &'static str {
    match reason {
        StopReason::Stop if message.stop_sequence.is_some() => "stop_sequence",
        StopReason::Stop => "end_turn",
        StopReason::Length => "max_tokens",
        StopReason::ToolUse => "tool_use",
    }
}

/// Anthropic's `usage` object.
pub(crate) fn usage(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input,
        "output_tokens": usage.output,
        "cache_creation_input_tokens": usage.cache_write,
        "cache_read_input_tokens": usage.cache_read,
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The content blocks of an answer.
pub(crate) fn content(message: &AssistantMessage) -> Vec<Value> {
    message
        .content
        .iter()
        .filter_map(|c| match c {
            AssistantContent::Text { text } => Some(json!({"type": "text", "text": text})),
            AssistantContent::Thinking {
                redacted: Some(bytes),
                ..
            } => Some(json!({"type": "redacted_thinking", "data": b64(bytes)})),
            AssistantContent::Thinking {
                thinking,
                signature,
                ..
            } => Some(json!({
                "type": "thinking",
                "thinking": thinking,
                "signature": signature.clone().unwrap_or_default(),
            })),
            AssistantContent::ToolCall(call) => Some(json!({
                "type": "tool_use",
                "id": call.id,
                "name": call.name,
                "input": call.arguments,
            })),
            AssistantContent::CachePoint(_) => None,
        })
        .collect()
}

/// The extension fields of an answer (also on the streamed `message_delta`):
/// `guardrail_trace` (a guardrail's trace, when enabled) and `additional_model_response_fields`
/// (what Bedrock returned at the requested response field paths).
pub(crate) fn extensions(message: Option<&AssistantMessage>, out: &mut Value) {
    let (Some(message), Value::Object(map)) = (message, out) else {
        return;
    };
    if let Some(trace) = &message.guardrail_trace {
        map.insert("guardrail_trace".into(), trace.clone());
    }
    if let Some(fields) = &message.response_fields {
        map.insert("additional_model_response_fields".into(), fields.clone());
    }
}

/// The `message` object of a non-streaming call.
pub(crate) fn message(
    id: &str,
    model: &str,
    reason: StopReason,
    message: &AssistantMessage,
    used: &Usage,
) -> Value {
    let mut out = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content(message),
        "stop_reason": stop_reason(reason, message),
        "stop_sequence": message.stop_sequence,
        "usage": usage(used),
    });
    extensions(Some(message), &mut out);
    out
}

/// The `message` object of an answer a guardrail stopped: what had arrived, `refusal`.
pub(crate) fn refusal(id: &str, model: &str, partial: Option<&AssistantMessage>) -> Value {
    let mut out = json!({
        "id": id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": partial.map(content).unwrap_or_default(),
        "stop_reason": "refusal",
        "stop_sequence": null,
        "usage": usage(&partial.map(|m| m.usage).unwrap_or_default()),
    });
    extensions(partial, &mut out);
    out
}

/// Whether a stream error is a refusal (guardrail, content filter).
pub(crate) fn is_refusal(event: &StreamEvent) -> bool {
    matches!(event, StreamEvent::Error { info, .. }
        if info.code.as_deref().is_some_and(|c| REFUSALS.contains(&c)))
}

/// What an open content block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Text,
    Thinking,
    ToolUse,
}

/// Renders stream events as Anthropic's SSE.
pub(crate) struct MessageWriter {
    id: String,
    model: String,
    started: bool,
    /// Content blocks opened so far (the next block's index).
    blocks: usize,
    /// The open block: the stream's index, Anthropic's index, what it is.
    open: Option<(usize, usize, Block)>,
    /// A thinking block announced but not opened yet: it may turn out redacted.
    pending_thinking: Option<usize>,
}

impl MessageWriter {
    /// A writer for one response.
    pub(crate) fn new(id: String, model: String) -> Self {
        MessageWriter {
            id,
            model,
            started: false,
            blocks: 0,
            open: None,
            pending_thinking: None,
        }
    }

    fn event(out: &mut Vec<u8>, name: &str, data: &Value) {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\ndata: ");
        if serde_json::to_writer(&mut *out, data).is_err() {
            out.extend_from_slice(b"null");
        }
        out.extend_from_slice(b"\n\n");
    }

    fn start_message(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        let message = json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": usage(&Usage::default()),
        });
        Self::event(
            out,
            "message_start",
            &json!({"type": "message_start", "message": message}),
        );
    }

    fn open_block(&mut self, out: &mut Vec<u8>, stream_index: usize, kind: Block, block: Value) {
        self.close_block(out);
        let index = self.blocks;
        self.blocks += 1;
        self.open = Some((stream_index, index, kind));
        Self::event(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        );
    }

    fn close_block(&mut self, out: &mut Vec<u8>) {
        if let Some((_, index, _)) = self.open.take() {
            Self::event(
                out,
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            );
        }
    }

    /// Anthropic's index of the open block, when it is the stream's block `stream_index`.
    fn open_index(&self, stream_index: usize, kind: Block) -> Option<usize> {
        match self.open {
            Some((s, a, k)) if s == stream_index && k == kind => Some(a),
            _ => None,
        }
    }

    fn delta(out: &mut Vec<u8>, index: usize, delta: Value) {
        Self::event(
            out,
            "content_block_delta",
            &json!({"type": "content_block_delta", "index": index, "delta": delta}),
        );
    }

    fn open_pending_thinking(&mut self, out: &mut Vec<u8>, stream_index: usize) -> usize {
        if let Some(index) = self.open_index(stream_index, Block::Thinking) {
            return index;
        }
        self.pending_thinking = None;
        self.open_block(
            out,
            stream_index,
            Block::Thinking,
            json!({"type": "thinking", "thinking": "", "signature": ""}),
        );
        self.blocks - 1
    }

    fn finish(
        &mut self,
        out: &mut Vec<u8>,
        stop_reason: &str,
        stop_sequence: Option<&str>,
        used: &Usage,
        message: Option<&AssistantMessage>,
    ) {
        self.close_block(out);
        let mut delta = json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": stop_sequence},
            "usage": usage(used),
        });
        extensions(message, &mut delta);
        Self::event(out, "message_delta", &delta);
        Self::event(out, "message_stop", &json!({"type": "message_stop"}));
    }
}

impl EventWriter for MessageWriter {
    fn write(&mut self, event: &StreamEvent, out: &mut Vec<u8>) {
        if !matches!(event, StreamEvent::Error { .. }) || is_refusal(event) {
            self.start_message(out);
        }
        match event {
            StreamEvent::Start { .. } => {}
            StreamEvent::TextStart { index } => {
                self.open_block(
                    out,
                    *index,
                    Block::Text,
                    json!({"type": "text", "text": ""}),
                );
            }
            StreamEvent::TextDelta { index, delta } => {
                if delta.is_empty() {
                    return;
                }
                let at = match self.open_index(*index, Block::Text) {
                    Some(at) => at,
                    None => {
                        self.open_block(
                            out,
                            *index,
                            Block::Text,
                            json!({"type": "text", "text": ""}),
                        );
                        self.blocks - 1
                    }
                };
                Self::delta(out, at, json!({"type": "text_delta", "text": delta}));
            }
            StreamEvent::TextEnd { .. } | StreamEvent::ToolCallEnd { .. } => self.close_block(out),
            StreamEvent::ThinkingStart { index } => {
                self.close_block(out);
                self.pending_thinking = Some(*index);
            }
            StreamEvent::ThinkingDelta { index, delta } => {
                if delta.is_empty() {
                    return;
                }
                let at = self.open_pending_thinking(out, *index);
                Self::delta(
                    out,
                    at,
                    json!({"type": "thinking_delta", "thinking": delta}),
                );
            }
            StreamEvent::ThinkingEnd {
                index,
                signature,
                redacted,
                ..
            } => {
                let opened = self.open_index(*index, Block::Thinking).is_some();
                match redacted {
                    Some(bytes) if !opened => {
                        self.pending_thinking = None;
                        self.open_block(
                            out,
                            *index,
                            Block::Thinking,
                            json!({"type": "redacted_thinking", "data": b64(bytes)}),
                        );
                    }
                    _ => {
                        let at = self.open_pending_thinking(out, *index);
                        if let Some(sig) = signature.as_deref().filter(|s| !s.is_empty()) {
                            Self::delta(
                                out,
                                at,
                                json!({"type": "signature_delta", "signature": sig}),
                            );
                        }
                    }
                }
                self.close_block(out);
            }
            StreamEvent::ToolCallStart { index, id, name } => {
                self.open_block(
                    out,
                    *index,
                    Block::ToolUse,
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                );
            }
            StreamEvent::ToolCallDelta { index, delta, .. } => {
                if delta.is_empty() {
                    return;
                }
                if let Some(at) = self.open_index(*index, Block::ToolUse) {
                    Self::delta(
                        out,
                        at,
                        json!({"type": "input_json_delta", "partial_json": delta}),
                    );
                }
            }
            StreamEvent::Done {
                stop_reason: reason,
                message,
                usage: used,
            } => {
                let reason = stop_reason(*reason, message);
                self.finish(
                    out,
                    reason,
                    message.stop_sequence.as_deref(),
                    used,
                    Some(message),
                );
            }
            StreamEvent::Error { partial, .. } if is_refusal(event) => {
                let used = partial.as_ref().map(|m| m.usage).unwrap_or_default();
                self.finish(out, "refusal", None, &used, partial.as_deref());
            }
            StreamEvent::Error { message, info, .. } => {
                let body = super::error::body(&upstream(info, message));
                Self::event(out, "error", &body);
            }
        }
    }

    fn keepalive(&mut self, out: &mut Vec<u8>) {
        Self::event(out, "ping", &json!({"type": "ping"}));
    }
}
