//! The runtime: `Converse`, `ConverseStream` and `CountTokens`.

use std::sync::Arc;
use std::time::Instant;

use axum::http::HeaderValue;
use axum::response::Response;
use bytes::Bytes;

use crate::control::Ctx;
use crate::count;
use crate::error::{ApiError, json_response, to_json};
use crate::faults::{model_names, take_rule, target_matches};
use crate::frames::{stream_body, stream_frames};
use crate::generate;
use crate::script::{Block, Fault, Pacing, Target};
use crate::state::{DisconnectWatch, Shared, pause};
use crate::wire;

#[allow(clippy::too_many_arguments)]
/// `Converse` and `ConverseStream`: validation, the scripted or generated turn, and the answer
/// (JSON, or eventstream frames when `stream`).
pub(crate) async fn converse(
    shared: &Arc<Shared>,
    ctx: &Ctx<'_>,
    identifier: &str,
    stream: bool,
    body: &Bytes,
    fault: Option<Fault>,
    pacing: Pacing,
    started: Instant,
    request_id: &str,
) -> Result<Response, ApiError> {
    let resolved = ctx.resolve(identifier)?;
    let model = resolved.model;
    if !model.text_output() {
        return Err(ApiError::validation(
            "This action doesn't support the model that you provided. Try again with a supported text or chat model.",
        ));
    }
    if !resolved.routed() && !model.on_demand() {
        let message = if model
            .inference_types_supported
            .iter()
            .any(|t| t == "INFERENCE_PROFILE")
        {
            format!(
                "Invocation of model ID {} with on-demand throughput isn\u{2019}t supported. Retry your request with the ID or ARN of an inference profile that contains this model.",
                model.model_id
            )
        } else {
            "The provided model doesn't support on-demand throughput.".to_owned()
        };
        return Err(ApiError::validation(&message));
    }
    if stream && model.response_streaming_supported == Some(false) {
        return Err(ApiError::validation(
            "The model is unsupported for streaming. Try again with a model that supports streaming, or call Converse instead.",
        ));
    }
    let request: wire::ConverseRequest = serde_json::from_slice(body).map_err(|_| {
        ApiError::validation("Malformed input request, please reformat your input and try again.")
    })?;
    generate::validate(&request, model)?;
    let guardrail = crate::guardrail::apply(&request)?;

    let model_names = model_names(ctx, identifier);
    let scripted = take_rule(&mut shared.lock().turns, |rule| {
        target_matches(&rule.target, true, &model_names) && rule.target != Target::ControlPlane
    });
    let (mut turn, usage) = {
        let mut state = shared.lock();
        let turn = match (
            scripted,
            guardrail.as_ref().and_then(|g| g.intervention.clone()),
        ) {
            // The guardrail blocks the input before any model (or script) answers.
            (_, Some(blocked)) => blocked,
            (Some(turn), None) => turn,
            (None, None) => generate::default_turn(&request, &mut state.tool_counter),
        };
        let usage = match turn.usage {
            Some(usage) => usage,
            None => generate::estimate_usage(&request, &turn, &mut state.cache_prefixes),
        };
        (turn, usage)
    };
    if turn.trace.is_none() {
        turn.trace = guardrail.and_then(|g| g.trace);
    }
    turn.response_fields = crate::guardrail::response_fields(&request, &turn)?;
    let chunk = turn.chunk_size.unwrap_or(shared.config.chunk_size).max(1);

    pause(pacing.first_byte).await;
    if !stream {
        let latency = turn
            .latency_ms
            .unwrap_or_else(|| u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX));
        let response = wire::ConverseResponse {
            metrics: wire::Metrics {
                latency_ms: latency,
            },
            output: wire::ConverseOutput {
                message: wire::OutputMessage {
                    role: "assistant",
                    content: turn.blocks.iter().map(output_block).collect(),
                },
            },
            stop_reason: turn.resolved_stop_reason(),
            usage: usage.into(),
            additional_model_response_fields: turn.response_fields.clone(),
            trace: turn.trace.clone(),
        };
        return to_json(&response).map(json_response);
    }

    let frames = stream_frames(&turn, usage, chunk, started)?;
    let watch = DisconnectWatch::new(shared.clone(), request_id.to_owned());
    let body = stream_body(shared.clone(), watch, frames, fault, pacing, started);
    let mut response = Response::new(body);
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/vnd.amazon.eventstream"),
    );
    Ok(response)
}

fn output_block(block: &Block) -> wire::OutputBlock {
    match block {
        Block::Text(text) => wire::OutputBlock::Text(text.clone()),
        Block::ToolUse { id, name, input } => wire::OutputBlock::ToolUse(wire::ToolUseBlock {
            tool_use_id: id.clone(),
            name: name.clone(),
            input: input.clone(),
        }),
        Block::Reasoning { text, signature } => wire::OutputBlock::ReasoningContent(
            wire::ReasoningContentBlock::ReasoningText(wire::ReasoningText {
                text: text.clone(),
                signature: signature.clone(),
            }),
        ),
        Block::RedactedReasoning(bytes) => wire::OutputBlock::ReasoningContent(
            wire::ReasoningContentBlock::RedactedContent(aws_smithy_types::base64::encode(bytes)),
        ),
    }
}

/// `CountTokens`: a foundation model id or ARN whose model counts tokens (inference profiles are
/// refused, as on the real service), and an `input` union of `converse` (validated as Converse
/// validates it) or `invokeModel` (an Anthropic Messages body in base64). See `count.rs` for the
/// counting rule.
pub(crate) async fn count_tokens(
    ctx: &Ctx<'_>,
    identifier: &str,
    body: &Bytes,
    pacing: Pacing,
) -> Result<Response, ApiError> {
    let resolved = ctx.resolve(identifier)?;
    if resolved.routed() || !resolved.model.counts_tokens() {
        return Err(ApiError::validation(
            "The provided model doesn't support counting tokens.",
        ));
    }
    let malformed = || {
        ApiError::validation("Malformed input request, please reformat your input and try again.")
    };
    let request: wire::CountTokensRequest =
        serde_json::from_slice(body).map_err(|_| malformed())?;
    let Some(input) = request.input else {
        return Err(ApiError::validation(
            "1 validation error detected: Value null at 'input' failed to satisfy constraint: Member must not be null",
        ));
    };
    let mut members = input.into_iter();
    let (Some((member, value)), None) = (members.next(), members.next()) else {
        return Err(ApiError::validation(
            "Exactly one member of the 'input' union must be set: converse or invokeModel.",
        ));
    };
    let input_tokens = match member.as_str() {
        "converse" => {
            let request: wire::ConverseRequest =
                serde_json::from_value(value).map_err(|_| malformed())?;
            generate::validate(&request, resolved.model)?;
            count::converse_tokens(&request)
        }
        "invokeModel" => {
            let request: wire::InvokeModelTokensRequest =
                serde_json::from_value(value).map_err(|_| malformed())?;
            let body = aws_smithy_types::base64::decode(&request.body).map_err(|_| {
                ApiError::validation(
                    "1 validation error detected: Value at 'input.invokeModel.body' failed to satisfy constraint: Member must be valid base64",
                )
            })?;
            count::anthropic_body_tokens(&body)?
        }
        other => {
            return Err(ApiError::validation(&format!(
                "Unknown member '{other}' of the 'input' union: expected converse or invokeModel."
            )));
        }
    };
    pause(pacing.first_byte).await;
    to_json(&wire::CountTokensResponse { input_tokens }).map(json_response)
}
