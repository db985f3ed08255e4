//! The pure state machine from Converse stream items to [`StreamEvent`]s.
//!
//! No I/O and no clock: feed it items with [`Converter::push`], then end it with
//! [`Converter::finish`] (the stream ended) or [`Converter::fail`] (an error or abort). It
//! emits exactly one terminal event over its life; anything pushed after that is ignored.
//!
//! Mapping (SDK item -> events):
//! - `messageStart` -> `start` (also emitted lazily if a block arrives first).
//! - `contentBlockStart{toolUse}` -> `toolcall_start`. Text and reasoning blocks have no start
//!   item on Bedrock: their first delta opens them (`text_start` / `thinking_start`).
//! - `contentBlockDelta` -> `text_delta`, `thinking_delta` (text; a signature or redacted
//!   payload is accumulated silently and reported at `thinking_end`), `toolcall_delta` (with the
//!   arguments parsed leniently so far).
//! - `contentBlockStop` -> `*_end` (tool arguments parsed strictly; invalid JSON keeps the raw
//!   text in `invalid_arguments` and `{}` as arguments).
//! - `messageStop` records the stop reason: `end_turn`/`stop_sequence` -> stop,
//!   `max_tokens`/`model_context_window_exceeded` -> length, `tool_use` -> toolUse. Bedrock's
//!   other reasons (`guardrail_intervened`, `content_filtered`, `malformed_model_output`,
//!   `malformed_tool_use`, unknown ones) end in `error` with a readable message, since the
//!   answer is unusable as a normal turn (pi-ai maps them to `error` too, with a generic text).
//!   Its `additionalModelResponseFields.stop_sequence` (Claude's, when requested) fills
//!   [`AssistantMessage::stop_sequence`](crate::AssistantMessage::stop_sequence); a
//!   `stop_sequence` stop reason without that field leaves it empty. All the returned response
//!   fields are kept in [`AssistantMessage::response_fields`](crate::AssistantMessage::response_fields).
//!   A guardrail intervention (`guardrail_intervened`) ends in `error` with code
//!   `guardrail_intervened` and the partial message (what the guardrail let through, usually its
//!   blocked-input or blocked-output text).
//! - `metadata` records usage and cost, and the guardrail trace (`trace.guardrail`, when the
//!   guardrail's trace is enabled) in
//!   [`AssistantMessage::guardrail_trace`](crate::AssistantMessage::guardrail_trace); `done` is emitted once both `messageStop` and
//!   `metadata` have arrived, or when the stream ends after `messageStop`.

use aws_sdk_bedrockruntime::types::{
    ContentBlockDelta, ContentBlockStart, ConverseStreamOutput, ReasoningContentBlockDelta,
    StopReason as WireStopReason,
};
use openclaw_config::ModelDefinition;
use serde_json::{Map, Value};

use super::request::from_document;
use super::{API, PROVIDER};
use crate::partial_json::{parse_final, parse_partial};
use crate::types::{
    AssistantContent, AssistantMessage, ErrorInfo, ErrorKind, MessageError, StopReason,
    StreamEvent, ToolCall,
};

#[derive(Debug)]
struct Open {
    /// Bedrock's `contentBlockIndex`.
    wire: i32,
    /// Position in `message.content`.
    index: usize,
    /// Raw argument JSON of a tool call.
    json: String,
}

/// Converts Converse stream items into unified events, building the assistant message.
#[derive(Debug)]
pub struct Converter {
    model: ModelDefinition,
    message: AssistantMessage,
    open: Vec<Open>,
    started: bool,
    stop: Option<Result<StopReason, (ErrorInfo, String)>>,
    usage_seen: bool,
    finished: bool,
    /// Text and reasoning are not accumulated (see [`crate::StreamOptions::deltas_only`]).
    deltas_only: bool,
}

impl Converter {
    /// A converter for a response of `model` (its prices give the cost).
    pub fn new(model: &ModelDefinition) -> Self {
        Converter {
            model: model.clone(),
            message: AssistantMessage::new(API, PROVIDER, model.id.clone()),
            open: Vec::new(),
            started: false,
            stop: None,
            usage_seen: false,
            finished: false,
            deltas_only: false,
        }
    }

    /// Leaves text and reasoning out of the accumulated message when `yes` (see
    /// [`crate::StreamOptions::deltas_only`]).
    pub fn deltas_only(mut self, yes: bool) -> Self {
        self.deltas_only = yes;
        self
    }

    /// Whether the terminal event has been emitted.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// Whether `start` has been emitted (the response began).
    pub fn has_started(&self) -> bool {
        self.started
    }

    /// The message as built so far.
    pub fn message(&self) -> &AssistantMessage {
        &self.message
    }

    /// Feeds one stream item, appending the events it produces to `out`.
    pub fn push(&mut self, item: ConverseStreamOutput, out: &mut Vec<StreamEvent>) {
        if self.finished {
            return;
        }
        match item {
            ConverseStreamOutput::MessageStart(_) => self.ensure_started(out),
            ConverseStreamOutput::ContentBlockStart(ev) => {
                let wire = ev.content_block_index();
                if let Some(ContentBlockStart::ToolUse(t)) = ev.start {
                    self.ensure_started(out);
                    let index = self.message.content.len();
                    let (id, name) = (t.tool_use_id, t.name);
                    self.message
                        .content
                        .push(AssistantContent::ToolCall(ToolCall {
                            id: id.clone(),
                            name: name.clone(),
                            arguments: Value::Object(Map::new()),
                            invalid_arguments: None,
                        }));
                    self.open.push(Open {
                        wire,
                        index,
                        json: String::new(),
                    });
                    out.push(StreamEvent::ToolCallStart { index, id, name });
                }
            }
            ConverseStreamOutput::ContentBlockDelta(ev) => {
                let wire = ev.content_block_index();
                if let Some(delta) = ev.delta {
                    self.delta(wire, delta, out);
                }
            }
            ConverseStreamOutput::ContentBlockStop(ev) => self.close(ev.content_block_index(), out),
            ConverseStreamOutput::MessageStop(ev) => {
                self.ensure_started(out);
                self.stop = Some(map_stop_reason(&ev.stop_reason));
                if let Some(fields) = ev.additional_model_response_fields() {
                    let fields = from_document(fields);
                    self.message.stop_sequence = fields
                        .get("stop_sequence")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    self.message.response_fields = Some(fields);
                }
                if self.usage_seen {
                    self.finish(out);
                }
            }
            ConverseStreamOutput::Metadata(ev) => {
                if let Some(trace) = ev.trace().and_then(|t| t.guardrail()) {
                    self.message.guardrail_trace = Some(super::trace::guardrail_trace(trace));
                }
                if let Some(u) = ev.usage() {
                    let usage = &mut self.message.usage;
                    usage.input = non_negative(u.input_tokens());
                    usage.output = non_negative(u.output_tokens());
                    usage.cache_read = non_negative(u.cache_read_input_tokens().unwrap_or(0));
                    usage.cache_write = non_negative(u.cache_write_input_tokens().unwrap_or(0));
                    usage.total_tokens = match non_negative(u.total_tokens()) {
                        0 => usage.input + usage.output + usage.cache_read + usage.cache_write,
                        t => t,
                    };
                    usage.compute_cost(&self.model);
                }
                self.usage_seen = true;
                if self.stop.is_some() {
                    self.finish(out);
                }
            }
            _ => {}
        }
    }

    /// The stream ended: closes open blocks and emits `done`, or `error` if the stop reason was
    /// an error or never arrived.
    pub fn finish(&mut self, out: &mut Vec<StreamEvent>) {
        if self.finished {
            return;
        }
        let open: Vec<i32> = self.open.iter().map(|o| o.wire).collect();
        for wire in open {
            self.close(wire, out);
        }
        match self.stop.take() {
            Some(Ok(stop_reason)) => {
                self.finished = true;
                self.message.stop_reason = Some(stop_reason);
                let usage = self.message.usage;
                out.push(StreamEvent::Done {
                    stop_reason,
                    message: Box::new(self.message.clone()),
                    usage,
                });
            }
            Some(Err((info, message))) => self.fail(info, message, out),
            None => self.fail(
                ErrorInfo::new(ErrorKind::Upstream),
                "bedrock closed the stream before the message was complete (no messageStop)".into(),
                out,
            ),
        }
    }

    /// Ends the stream with `error{reason, message, kind, ...}` (`reason` follows from
    /// `info.kind`: `aborted` for [`ErrorKind::Aborted`]), carrying what arrived so far.
    pub fn fail(&mut self, info: ErrorInfo, message: String, out: &mut Vec<StreamEvent>) {
        if self.finished {
            return;
        }
        self.finished = true;
        for open in std::mem::take(&mut self.open) {
            if let Some(AssistantContent::ToolCall(call)) = self.message.content.get_mut(open.index)
            {
                call.arguments = parse_partial(&open.json);
            }
        }
        let reason = info.reason();
        self.message.error = Some(MessageError {
            reason,
            message: message.clone(),
            info: info.clone(),
        });
        let partial = self.started.then(|| Box::new(self.message.clone()));
        out.push(StreamEvent::Error {
            reason,
            message,
            info,
            partial,
        });
    }

    fn ensure_started(&mut self, out: &mut Vec<StreamEvent>) {
        if !self.started {
            self.started = true;
            out.push(StreamEvent::Start {
                model: self.model.id.clone(),
            });
        }
    }

    fn find(&self, wire: i32) -> Option<usize> {
        self.open.iter().position(|o| o.wire == wire)
    }

    fn open_block(
        &mut self,
        wire: i32,
        content: AssistantContent,
        out: &mut Vec<StreamEvent>,
    ) -> usize {
        self.ensure_started(out);
        let index = self.message.content.len();
        out.push(match content {
            AssistantContent::Thinking { .. } => StreamEvent::ThinkingStart { index },
            _ => StreamEvent::TextStart { index },
        });
        self.message.content.push(content);
        self.open.push(Open {
            wire,
            index,
            json: String::new(),
        });
        self.open.len() - 1
    }

    fn delta(&mut self, wire: i32, delta: ContentBlockDelta, out: &mut Vec<StreamEvent>) {
        match delta {
            ContentBlockDelta::Text(text) => {
                let slot = match self.find(wire) {
                    Some(s) => s,
                    None => self.open_block(
                        wire,
                        AssistantContent::Text {
                            text: String::new(),
                        },
                        out,
                    ),
                };
                let index = self.open[slot].index;
                if let Some(AssistantContent::Text { text: acc }) =
                    self.message.content.get_mut(index)
                {
                    if !self.deltas_only {
                        acc.push_str(&text);
                    }
                    out.push(StreamEvent::TextDelta { index, delta: text });
                }
            }
            ContentBlockDelta::ReasoningContent(r) => {
                let slot = match self.find(wire) {
                    Some(s) => s,
                    None => self.open_block(
                        wire,
                        AssistantContent::Thinking {
                            thinking: String::new(),
                            signature: None,
                            redacted: None,
                        },
                        out,
                    ),
                };
                let index = self.open[slot].index;
                let Some(AssistantContent::Thinking {
                    thinking,
                    signature,
                    redacted,
                }) = self.message.content.get_mut(index)
                else {
                    return;
                };
                match r {
                    ReasoningContentBlockDelta::Text(text) => {
                        if !self.deltas_only {
                            thinking.push_str(&text);
                        }
                        out.push(StreamEvent::ThinkingDelta { index, delta: text });
                    }
                    ReasoningContentBlockDelta::Signature(sig) => {
                        signature.get_or_insert_with(String::new).push_str(&sig);
                    }
                    ReasoningContentBlockDelta::RedactedContent(blob) => {
                        redacted
                            .get_or_insert_with(Vec::new)
                            .extend_from_slice(blob.as_ref());
                    }
                    _ => {}
                }
            }
            ContentBlockDelta::ToolUse(t) => {
                let Some(slot) = self.find(wire) else { return };
                let open = &mut self.open[slot];
                let index = open.index;
                open.json.push_str(t.input());
                let partial_arguments = parse_partial(&open.json);
                if let Some(AssistantContent::ToolCall(call)) = self.message.content.get_mut(index)
                {
                    call.arguments = partial_arguments.clone();
                    out.push(StreamEvent::ToolCallDelta {
                        index,
                        delta: t.input,
                        partial_arguments,
                    });
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, wire: i32, out: &mut Vec<StreamEvent>) {
        let Some(slot) = self.find(wire) else { return };
        let open = self.open.remove(slot);
        let index = open.index;
        match self.message.content.get_mut(index) {
            Some(AssistantContent::Text { text }) => out.push(StreamEvent::TextEnd {
                index,
                text: text.clone(),
            }),
            Some(AssistantContent::Thinking {
                thinking,
                signature,
                redacted,
            }) => out.push(StreamEvent::ThinkingEnd {
                index,
                thinking: thinking.clone(),
                signature: signature.clone(),
                redacted: redacted.clone(),
            }),
            Some(AssistantContent::ToolCall(call)) => {
                match parse_final(&open.json) {
                    Ok(v) => call.arguments = v,
                    Err(raw) => {
                        call.arguments = Value::Object(Map::new());
                        call.invalid_arguments = Some(raw);
                    }
                }
                out.push(StreamEvent::ToolCallEnd {
                    index,
                    call: call.clone(),
                });
            }
            // The converter never opens a cache point.
            Some(AssistantContent::CachePoint(_)) | None => {}
        }
    }
}

fn non_negative(v: i32) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Maps Bedrock's stop reason (SPEC section 3). An unusable reason is an error of kind
/// [`ErrorKind::Upstream`] whose code is the wire stop reason, with a readable message.
pub(crate) fn map_stop_reason(reason: &WireStopReason) -> Result<StopReason, (ErrorInfo, String)> {
    let message = match reason {
        WireStopReason::EndTurn | WireStopReason::StopSequence => return Ok(StopReason::Stop),
        WireStopReason::MaxTokens | WireStopReason::ModelContextWindowExceeded => {
            return Ok(StopReason::Length);
        }
        WireStopReason::ToolUse => return Ok(StopReason::ToolUse),
        WireStopReason::GuardrailIntervened => {
            "bedrock stopped the response: a guardrail intervened (stop reason guardrail_intervened)".to_string()
        }
        WireStopReason::ContentFiltered => {
            "bedrock stopped the response: content filtered (stop reason content_filtered)".to_string()
        }
        WireStopReason::MalformedModelOutput => {
            "the model produced malformed output (stop reason malformed_model_output)".to_string()
        }
        WireStopReason::MalformedToolUse => {
            "the model produced a malformed tool call (stop reason malformed_tool_use)".to_string()
        }
        other => format!("bedrock stopped the response with unknown stop reason `{}`", other.as_str()),
    };
    Err((
        ErrorInfo::new(ErrorKind::Upstream).with_code(reason.as_str()),
        message,
    ))
}

#[cfg(test)]
mod tests;
