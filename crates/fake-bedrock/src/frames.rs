//! `converse-stream` framing: a turn turned into `application/vnd.amazon.eventstream` events and
//! the paced body that sends them, with the stream faults applied.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;

use crate::error::{ApiError, ErrorBody, to_json};
use crate::eventstream;
use crate::script::{Block, Fault, Pacing, StreamException, Turn};
use crate::state::{DisconnectWatch, Shared, pause};
use crate::wire;

/// Splits on character boundaries into pieces of at most `chunk` characters.
fn chunks(text: &str, chunk: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars.chunks(chunk).map(|c| c.iter().collect()).collect()
}

/// Padding like the real service's `p` field (it hides payload lengths); deterministic here.
fn padding(n: usize) -> String {
    const ALPHABET: &str = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    ALPHABET[..(n * 7) % ALPHABET.len() + 1].to_owned()
}

/// A stream event not yet framed (the latency in `metadata` is measured at send time).
pub(crate) enum Pending {
    Frame(Bytes),
    Metadata(wire::TokenUsage, Option<u64>, Option<serde_json::Value>),
}

/// The events of a streamed turn, in order: `messageStart`, per block its start (tool use),
/// deltas of at most `chunk` characters and stop, `messageStop`, then `metadata`.
pub(crate) fn stream_frames(
    turn: &Turn,
    usage: crate::script::Usage,
    chunk: usize,
    _started: Instant,
) -> Result<Vec<Pending>, ApiError> {
    let mut out = Vec::new();
    let mut n = 0usize;
    let push = |out: &mut Vec<Pending>, event_type: &str, payload: Result<Vec<u8>, ApiError>| {
        let payload = payload?;
        let frame = eventstream::event_frame(event_type, &payload)
            .map_err(|e| ApiError::new(500, "InternalServerException", &e.to_string()))?;
        out.push(Pending::Frame(frame));
        Ok::<(), ApiError>(())
    };
    push(
        &mut out,
        "messageStart",
        to_json(&wire::MessageStartEvent {
            p: padding(n),
            role: "assistant",
        }),
    )?;
    for (index, block) in turn.blocks.iter().enumerate() {
        n += 1;
        let delta = |delta: wire::Delta, n: usize| wire::ContentBlockDeltaEvent {
            content_block_index: index,
            delta,
            p: padding(n),
        };
        match block {
            Block::Text(text) => {
                for piece in chunks(text, chunk) {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(wire::Delta::Text(piece), n)),
                    )?;
                }
            }
            Block::ToolUse { id, name, input } => {
                push(
                    &mut out,
                    "contentBlockStart",
                    to_json(&wire::ContentBlockStartEvent {
                        content_block_index: index,
                        p: padding(n),
                        start: wire::BlockStart::ToolUse(wire::ToolUseStart {
                            name: name.clone(),
                            tool_use_id: id.clone(),
                        }),
                    }),
                )?;
                let json = serde_json::to_string(input).unwrap_or_else(|_| "{}".to_owned());
                for piece in chunks(&json, chunk) {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(
                            wire::Delta::ToolUse(wire::ToolUseDelta { input: piece }),
                            n,
                        )),
                    )?;
                }
            }
            Block::Reasoning { text, signature } => {
                for piece in chunks(text, chunk) {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(
                            wire::Delta::ReasoningContent(wire::ReasoningDelta::Text(piece)),
                            n,
                        )),
                    )?;
                }
                if let Some(signature) = signature {
                    n += 1;
                    push(
                        &mut out,
                        "contentBlockDelta",
                        to_json(&delta(
                            wire::Delta::ReasoningContent(wire::ReasoningDelta::Signature(
                                signature.clone(),
                            )),
                            n,
                        )),
                    )?;
                }
            }
            Block::RedactedReasoning(bytes) => {
                n += 1;
                push(
                    &mut out,
                    "contentBlockDelta",
                    to_json(&delta(
                        wire::Delta::ReasoningContent(wire::ReasoningDelta::RedactedContent(
                            aws_smithy_types::base64::encode(bytes),
                        )),
                        n,
                    )),
                )?;
            }
        }
        n += 1;
        push(
            &mut out,
            "contentBlockStop",
            to_json(&wire::ContentBlockStopEvent {
                content_block_index: index,
                p: padding(n),
            }),
        )?;
    }
    n += 1;
    push(
        &mut out,
        "messageStop",
        to_json(&wire::MessageStopEvent {
            p: padding(n),
            stop_reason: turn.resolved_stop_reason(),
            additional_model_response_fields: turn.response_fields.clone(),
        }),
    )?;
    out.push(Pending::Metadata(
        usage.into(),
        turn.latency_ms,
        turn.trace.clone(),
    ));
    Ok(out)
}

fn metadata_frame(
    usage: wire::TokenUsage,
    latency_ms: u64,
    trace: Option<serde_json::Value>,
) -> Option<Bytes> {
    let payload = serde_json::to_vec(&wire::MetadataEvent {
        metrics: wire::Metrics { latency_ms },
        p: padding(3),
        usage,
        trace,
    })
    .ok()?;
    eventstream::event_frame("metadata", &payload).ok()
}

fn exception_frame(kind: StreamException, message: &str) -> Option<Bytes> {
    let payload = match kind {
        StreamException::ModelStreamError => serde_json::to_vec(&wire::ModelStreamErrorBody {
            message,
            original_status_code: 500,
            original_message: message,
        }),
        _ => serde_json::to_vec(&ErrorBody { message }),
    }
    .ok()?;
    eventstream::exception_frame(kind.wire_name(), &payload).ok()
}

/// What the body stream does after sending event number `index`.
enum Step {
    Send(Bytes),
    Fail,
    Stall,
    End,
}

/// The body of a `converse-stream` answer: the frames, paced, with a stream fault (exception
/// frame, dropped connection, corrupt frame, stall) cutting in where it says.
pub(crate) fn stream_body(
    shared: Arc<Shared>,
    watch: DisconnectWatch,
    frames: Vec<Pending>,
    fault: Option<Fault>,
    pacing: Pacing,
    started: Instant,
) -> Body {
    let total = frames.len();
    let mut frames = frames.into_iter();
    // The plan: for each position, what to emit. Faults cut the normal sequence.
    // The watch lives in the stream state: hyper drops the body early when the client goes away.
    let steps = futures::stream::unfold(
        (0usize, false, shared, watch),
        move |(index, done, shared, mut watch)| {
            let step = if done {
                Step::End
            } else {
                match &fault {
                    Some(Fault::StreamException {
                        after_events,
                        kind,
                        message,
                    }) if index == *after_events => match exception_frame(*kind, message) {
                        Some(frame) => Step::Send(frame),
                        None => Step::Fail,
                    },
                    Some(Fault::DropConnection { after_events }) if index == *after_events => {
                        Step::Fail
                    }
                    Some(Fault::StallStream { after_events }) if index == *after_events => {
                        Step::Stall
                    }
                    _ => match frames.next() {
                        Some(Pending::Frame(frame)) => {
                            if matches!(&fault, Some(Fault::CorruptFrame { at_event }) if *at_event == index)
                            {
                                Step::Send(eventstream::corrupt(&frame))
                            } else {
                                Step::Send(frame)
                            }
                        }
                        Some(Pending::Metadata(usage, latency, trace)) => {
                            let latency = latency.unwrap_or_else(|| {
                                u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
                            });
                            match metadata_frame(usage, latency, trace) {
                                Some(frame) => Step::Send(frame),
                                None => Step::Fail,
                            }
                        }
                        None => Step::End,
                    },
                }
            };
            let is_exception = matches!(&fault, Some(Fault::StreamException { after_events, .. }) if index == *after_events);
            async move {
                if index > 0 && !matches!(step, Step::End) {
                    pause(pacing.between_events).await;
                }
                match step {
                    Step::Send(frame) => {
                        // The last frame handed over: the answer is complete.
                        if is_exception || index + 1 >= total {
                            watch.disarm();
                        }
                        Some((
                            Ok::<Bytes, std::io::Error>(frame),
                            (index + 1, is_exception || index + 1 > total, shared, watch),
                        ))
                    }
                    Step::Fail => {
                        watch.disarm();
                        // Let hyper flush what was already written (it flushes while the body is
                        // pending); an error right away would discard the buffered frames.
                        tokio::time::sleep(Duration::from_millis(30)).await;
                        Some((
                            Err(std::io::Error::new(
                                std::io::ErrorKind::ConnectionAborted,
                                "fake-bedrock: injected connection drop",
                            )),
                            (index + 1, true, shared, watch),
                        ))
                    }
                    Step::Stall => {
                        shared.until_shutdown().await;
                        watch.disarm();
                        None
                    }
                    Step::End => {
                        watch.disarm();
                        None
                    }
                }
            }
        },
    );
    // A stream error makes hyper abort the connection without the closing chunk.
    Body::from_stream(steps.map(|item: Result<Bytes, std::io::Error>| {
        item.map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })
    }))
}
