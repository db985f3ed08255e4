//! Building a Converse request from a [`StreamRequest`].
//!
//! Every model-dependent decision reads the capabilities table ([`crate::capabilities`])
//! through the model's base model (see `model`).
//!
//! Prompt caching has two placements. Automatic (the default): a cache point after the tool
//! definitions, after the system prompt and at the end of the last user message, each only
//! where the model's family takes one (`fields`) and only when the segment it closes (the
//! prompt since the previous cache point, in the order tools, system, messages) holds at least
//! the family's minimum tokens: Bedrock does not cache a shorter segment. Tokens are estimated
//! as bytes / 4 over what is sent (text, tool specs and arguments as JSON, image and document
//! bytes), an over-estimate for images that only decides whether a point is worth placing.
//! Explicit: only the caller's markers, each where it was placed: a system
//! `CachePoint` block, `tools_cache_point` after the tool specs, a `CachePoint` in user,
//! assistant or tool-result content right after the block it followed (a marker anywhere in a
//! tool result's content follows the `toolResult` block, which is kept in place when
//! consecutive tool results merge into one user message). A marker with no block before it in
//! its message (its block was blank and dropped) or right after another marker is dropped;
//! markers given with automatic placement are ignored. A model without prompt caching gets no
//! cache point at all (Bedrock refuses them), with a `tracing::debug!` when markers are dropped;
//! a marker where the family takes none (after the tools for Amazon Nova) is dropped too. The
//! minimum is not applied to explicit markers (the caller chose them; Bedrock ignores a short
//! segment).
//! Markers are not counted: Bedrock takes at most four cache points per request and refuses
//! more, as Anthropic refuses more than four `cache_control` blocks.
//!
//! Model request fields (`additionalModelRequestFields`): the thinking fields, `top_k` and
//! `anthropic_beta` (Anthropic families only; the interleaved-thinking beta first), then the
//! model definition's `additionalModelRequestFields` with the request's `additional_fields` over
//! them (key by key), merged by top-level key: a caller key the adapter also sets with a
//! different value is a validation error naming the key, where it came from and what the
//! adapter sets it for. Parameters the family refuses (the table's `rejects`) are not sent, with
//! a `tracing::debug!`: `temperature`, `top_k` and a `top_p` below 0.95 while thinking, `top_p`
//! beside `temperature` on the models that take only one (temperature is kept).
//!
//! Response field paths (`additionalModelResponseFieldPaths`): `/stop_sequence` for Anthropic
//! families with stop sequences, then the model definition's and the request's paths (duplicates
//! removed).
//!
//! Guardrail (`guardrailConfig`, the streaming shape): the request's `guardrail`, else the model
//! definition's.

use std::collections::{HashMap, HashSet};

use std::sync::atomic::{AtomicBool, Ordering};

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, CachePointBlock, CachePointType, CacheTtl as WireCacheTtl,
    ContentBlock, ConversationRole, DocumentBlock, DocumentFormat, DocumentSource,
    GuardrailStreamConfiguration, GuardrailStreamProcessingMode, GuardrailTrace as WireTrace,
    ImageBlock, ImageFormat, ImageSource, InferenceConfiguration, Message as WireMessage,
    ReasoningContentBlock, ReasoningTextBlock, SpecificToolChoice, SystemContentBlock, Tool,
    ToolChoice as WireToolChoice, ToolConfiguration, ToolInputSchema, ToolResultBlock,
    ToolResultContentBlock, ToolResultStatus, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::{Blob, Document, Number};
use openclaw_config::{GuardrailConfig, InputModality, ModelDefinition};
use serde_json::{Map, Value, json};

use super::model::{self, Thinking};
use super::{API, PROVIDER};
use crate::Error;
use crate::capabilities::{CacheField, Capabilities, Rejected};
use crate::types::{
    AssistantContent, AssistantMessage, CachePlacement, CachePoint, CacheRetention, CacheTtl,
    Content, Message, StreamRequest, SystemBlock, ToolChoice, ToolResultMessage,
};

/// The text sent instead of an image to a model without image input.
pub(crate) const IMAGE_OMITTED: &str = "(image omitted: model does not support images)";
/// The text sent instead of a document to a model without document input.
pub(crate) const DOCUMENT_OMITTED: &str = "(document omitted: model does not support documents)";
/// The text of the synthetic error result that answers an orphaned tool call.
pub(crate) const NO_RESULT: &str = "No result provided";
/// The text sent for a tool result with no content (or only blank text): Bedrock refuses an
/// empty `toolResult.content`. pi-ai's wording.
pub(crate) const NO_TOOL_OUTPUT: &str = "(no tool output)";

/// Everything a `converse_stream` call needs, as SDK types.
#[derive(Debug, Clone)]
pub(crate) struct ConverseInput {
    /// The model id (an id, an inference-profile id or an ARN).
    pub(crate) model_id: String,
    /// System blocks (text and cache points).
    pub(crate) system: Vec<SystemContentBlock>,
    /// The conversation, roles alternating.
    pub(crate) messages: Vec<WireMessage>,
    /// maxTokens, temperature, topP, stopSequences.
    pub(crate) inference: InferenceConfiguration,
    /// Tools and tool choice.
    pub(crate) tool_config: Option<ToolConfiguration>,
    /// Model-specific fields (Claude thinking, top_k, betas, the caller's fields).
    pub(crate) additional_fields: Option<Document>,
    /// `additionalModelResponseFieldPaths` (Claude's `/stop_sequence` when stop sequences are
    /// set, then the configured and requested paths).
    pub(crate) response_field_paths: Option<Vec<String>>,
    /// `guardrailConfig`.
    pub(crate) guardrail: Option<GuardrailStreamConfiguration>,
}

/// The JSON pointer of the stop sequence in Claude's response fields.
pub(crate) const STOP_SEQUENCE_PATH: &str = "/stop_sequence";

/// Builds the Converse input for `request` (SPEC section 3, issue 6).
pub(crate) fn build(request: &StreamRequest) -> Result<ConverseInput, Error> {
    let model = &request.model;
    let caps = model::caps(model);
    let supports_caching = caps.supports_caching();
    let explicit = request.cache_placement == CachePlacement::Explicit;
    let caching = !explicit && request.cache_retention != CacheRetention::None && supports_caching;
    let markers = explicit && supports_caching;
    if explicit && !supports_caching && has_markers(request) {
        tracing::debug!(
            model = %model.id,
            "explicit cache points dropped: the model does not support prompt caching"
        );
    }
    let placement = Placement {
        system: caps.caches(CacheField::System),
        messages: caps.caches(CacheField::Messages),
        tools: caps.caches(CacheField::Tools),
    };
    let auto_ttl = match request.cache_retention {
        CacheRetention::Long => CacheTtl::OneHour,
        _ => CacheTtl::Default,
    };
    let auto_point = || cache_point_block(CachePoint { ttl: auto_ttl });
    // Automatic points close segments of at least the family's minimum (tools, system, then
    // messages: the order of the cached prefix).
    let min_tokens = u64::from(caps.min_cache_tokens());
    let mut segment = 0u64;
    let tools_offered = sends_tools(request);
    segment += if tools_offered {
        estimate_tools(request)
    } else {
        0
    };
    let auto_tools_point = caching && placement.tools && tools_offered && segment >= min_tokens;
    if auto_tools_point {
        segment = 0;
    }

    let mut system = Vec::new();
    if let Some(text) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        system.push(SystemContentBlock::Text(text.to_owned()));
    }
    for block in &request.system_blocks {
        match block {
            SystemBlock::Text(text) if text.trim().is_empty() => {}
            SystemBlock::Text(text) => system.push(SystemContentBlock::Text(text.clone())),
            SystemBlock::CachePoint(point) => {
                if markers
                    && placement.system
                    && matches!(system.last(), Some(SystemContentBlock::Text(_)))
                {
                    system.push(SystemContentBlock::CachePoint(cache_point_block(*point)?));
                }
            }
        }
    }
    segment += system
        .iter()
        .map(|b| match b {
            SystemContentBlock::Text(t) => estimate_bytes(t.len()),
            _ => 0,
        })
        .sum::<u64>();
    if caching && placement.system && !system.is_empty() && segment >= min_tokens {
        system.push(SystemContentBlock::CachePoint(auto_point()?));
        segment = 0;
    }

    let mut messages = convert_messages(
        &request.messages,
        model,
        caps,
        markers && placement.messages,
    )?;
    segment += messages
        .iter()
        .flat_map(|m| &m.1)
        .map(estimate_block)
        .sum::<u64>();
    if caching
        && placement.messages
        && segment >= min_tokens
        && let Some(last) = messages
            .last_mut()
            .filter(|m| m.0 == ConversationRole::User)
    {
        last.1.push(ContentBlock::CachePoint(auto_point()?));
    }
    let history_has_tools = messages
        .iter()
        .flat_map(|m| &m.1)
        .any(|b| matches!(b, ContentBlock::ToolUse(_) | ContentBlock::ToolResult(_)));
    if history_has_tools && !sends_tools(request) {
        // Bedrock refuses toolUse/toolResult blocks without a toolConfig, and with no tools
        // offered (or `ToolChoice::None`) the model must not call any: the old exchanges
        // become plain text.
        flatten_tool_blocks(&mut messages);
    }
    if markers {
        for (_, blocks) in &mut messages {
            drop_stray_cache_points(blocks);
        }
    }
    let messages = messages
        .into_iter()
        .map(|(role, content)| {
            WireMessage::builder()
                .role(role)
                .set_content(Some(content))
                .build()
                .map_err(build_error)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let thinking = model::thinking_for(
        model,
        request.thinking,
        request.reasoning,
        request.max_tokens,
    );
    let thinks = !matches!(thinking, Thinking::Off { .. });
    let mut inference =
        InferenceConfiguration::builder().max_tokens(clamp_i32(thinking.max_tokens()));
    let temperature = match request.temperature {
        Some(_) if thinks && caps.rejects(Rejected::TemperatureWithThinking) => {
            tracing::debug!(model = %model.id, "temperature not sent: the model refuses it with extended thinking");
            None
        }
        t => t,
    };
    if let Some(t) = temperature {
        inference = inference.temperature(t);
    }
    let top_p = match request.top_p {
        Some(p) if thinks && p < 0.95 && caps.rejects(Rejected::TopPWithThinking) => {
            tracing::debug!(model = %model.id, "top_p not sent: the model refuses a top_p below 0.95 with extended thinking");
            None
        }
        Some(_) if temperature.is_some() && caps.rejects(Rejected::TemperatureWithTopP) => {
            tracing::debug!(model = %model.id, "top_p not sent: the model takes temperature or top_p, not both (temperature kept)");
            None
        }
        p => p,
    };
    if let Some(p) = top_p {
        inference = inference.top_p(p);
    }
    // Bedrock refuses an empty stop sequence (minimum length 1); an empty one stops nothing,
    // so it is left out (OpenAI's API accepts `stop: ""`).
    let stop_sequences: Vec<String> = request
        .stop_sequences
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect();
    if !stop_sequences.is_empty() {
        inference = inference.set_stop_sequences(Some(stop_sequences.clone()));
    }
    let mut paths: Vec<String> = Vec::new();
    if caps.anthropic && !stop_sequences.is_empty() {
        paths.push(STOP_SEQUENCE_PATH.to_owned());
    }
    for path in model
        .additional_model_response_field_paths
        .iter()
        .chain(&request.additional_response_field_paths)
    {
        if !paths.contains(path) {
            paths.push(path.clone());
        }
    }
    let fields = additional_fields(request, caps, &thinking)?;
    let guardrail = request.guardrail.as_ref().or(model.guardrail.as_ref());

    Ok(ConverseInput {
        model_id: model.id.clone(),
        system,
        messages,
        inference: inference.build(),
        tool_config: tool_config(
            request,
            &thinking,
            markers && placement.tools,
            auto_tools_point.then_some(CachePoint { ttl: auto_ttl }),
        )?,
        additional_fields: (!fields.is_empty()).then(|| to_document(&Value::Object(fields))),
        response_field_paths: (!paths.is_empty()).then_some(paths),
        guardrail: guardrail.map(guardrail_config),
    })
}

/// Where the model's family takes cache points.
#[derive(Debug, Clone, Copy)]
struct Placement {
    system: bool,
    messages: bool,
    tools: bool,
}

/// Tokens estimated from a byte count: bytes / 4, rounded up.
fn estimate_bytes(bytes: usize) -> u64 {
    u64::try_from(bytes.div_ceil(4)).unwrap_or(u64::MAX)
}

/// The estimated tokens of the tool specs (name, description and schema as JSON).
fn estimate_tools(request: &StreamRequest) -> u64 {
    request
        .tools
        .iter()
        .map(|t| {
            estimate_bytes(t.name.len() + t.description.len() + t.parameters.to_string().len())
        })
        .sum()
}

/// The estimated tokens of one converted block (bytes / 4 of its text, JSON or data).
fn estimate_block(block: &ContentBlock) -> u64 {
    let image = |i: &ImageBlock| match i.source() {
        Some(ImageSource::Bytes(b)) => b.as_ref().len(),
        _ => 0,
    };
    let document = |d: &DocumentBlock| match d.source() {
        Some(DocumentSource::Bytes(b)) => b.as_ref().len(),
        _ => 0,
    };
    let bytes = match block {
        ContentBlock::Text(t) => t.len(),
        ContentBlock::Image(i) => image(i),
        ContentBlock::Document(d) => document(d),
        ContentBlock::ToolUse(u) => u.name().len() + from_document(u.input()).to_string().len(),
        ContentBlock::ToolResult(r) => r
            .content()
            .iter()
            .map(|c| match c {
                ToolResultContentBlock::Text(t) => t.len(),
                ToolResultContentBlock::Image(i) => image(i),
                ToolResultContentBlock::Document(d) => document(d),
                ToolResultContentBlock::Json(j) => from_document(j).to_string().len(),
                _ => 0,
            })
            .sum(),
        ContentBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(t)) => t.text().len(),
        ContentBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(b)) => {
            b.as_ref().len()
        }
        _ => 0,
    };
    estimate_bytes(bytes)
}

/// The Converse `guardrailConfig` (streaming shape) of a configured guardrail.
fn guardrail_config(g: &GuardrailConfig) -> GuardrailStreamConfiguration {
    let mut b = GuardrailStreamConfiguration::builder()
        .guardrail_identifier(&g.identifier)
        .guardrail_version(&g.version);
    if let Some(trace) = g.trace {
        b = b.trace(WireTrace::from(trace.as_str()));
    }
    if let Some(mode) = g.stream_processing_mode {
        b = b.stream_processing_mode(GuardrailStreamProcessingMode::from(mode.as_str()));
    }
    b.build()
}

/// Whether the request holds any explicit cache-point marker.
fn has_markers(request: &StreamRequest) -> bool {
    let content = |c: &[Content]| c.iter().any(|c| matches!(c, Content::CachePoint(_)));
    request.tools_cache_point.is_some()
        || request
            .system_blocks
            .iter()
            .any(|b| matches!(b, SystemBlock::CachePoint(_)))
        || request.messages.iter().any(|m| match m {
            Message::User(u) => content(&u.content),
            Message::ToolResult(r) => content(&r.content),
            Message::Assistant(a) => a
                .content
                .iter()
                .any(|c| matches!(c, AssistantContent::CachePoint(_))),
        })
}

fn cache_point_block(point: CachePoint) -> Result<CachePointBlock, Error> {
    let mut b = CachePointBlock::builder().r#type(CachePointType::Default);
    if point.ttl == CacheTtl::OneHour {
        b = b.ttl(WireCacheTtl::OneHour);
    }
    b.build().map_err(build_error)
}

/// Removes the cache points Bedrock would refuse: one opening a message (its block was dropped)
/// and one right after another.
fn drop_stray_cache_points(blocks: &mut Vec<ContentBlock>) {
    let mut previous_is_point = true;
    blocks.retain(|b| {
        let is_point = matches!(b, ContentBlock::CachePoint(_));
        let keep = !(is_point && previous_is_point);
        if keep {
            previous_is_point = is_point;
        }
        keep
    });
}

/// Warns once per process that `top_k` was not sent to a model other than Claude.
static TOP_K_WARNED: AtomicBool = AtomicBool::new(false);

/// The `additionalModelRequestFields`: the thinking fields, Claude's `top_k` and
/// `anthropic_beta`, then the caller's fields (a conflicting key is an error).
fn additional_fields(
    request: &StreamRequest,
    caps: &Capabilities,
    thinking: &Thinking,
) -> Result<Map<String, Value>, Error> {
    let model = &request.model;
    let claude = caps.anthropic;
    let mut fields = Map::new();
    // What the adapter set each key for, for conflict messages.
    let mut purposes: HashMap<&'static str, &'static str> = HashMap::new();
    let mut betas: Vec<String> = Vec::new();
    match thinking {
        Thinking::Off { .. } => {}
        Thinking::Budget {
            budget_tokens,
            interleaved,
            ..
        } => {
            fields.insert(
                "thinking".into(),
                json!({"type": "enabled", "budget_tokens": budget_tokens}),
            );
            purposes.insert("thinking", "extended thinking");
            if *interleaved {
                betas.push("interleaved-thinking-2025-05-14".into());
            }
        }
        Thinking::Adaptive { effort, .. } => {
            fields.insert("thinking".into(), json!({"type": "adaptive"}));
            purposes.insert("thinking", "extended thinking");
            if let Some(effort) = effort {
                fields.insert("output_config".into(), json!({"effort": effort}));
                purposes.insert("output_config", "the reasoning effort");
            }
        }
    }
    if let Some(top_k) = request.top_k {
        if !claude || caps.rejects(Rejected::TopK) {
            if !TOP_K_WARNED.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    model = %model.id,
                    "top_k not sent: only claude models take it on bedrock"
                );
            }
        } else if !matches!(thinking, Thinking::Off { .. })
            && caps.rejects(Rejected::TopKWithThinking)
        {
            tracing::debug!(
                model = %model.id,
                "top_k not sent: claude does not allow it with extended thinking"
            );
        } else {
            fields.insert("top_k".into(), json!(top_k));
            purposes.insert("top_k", "the request's top_k");
        }
    }
    if !request.anthropic_beta.is_empty() && !claude {
        tracing::debug!(model = %model.id, "anthropic_beta not sent: not a claude model");
    } else {
        for beta in &request.anthropic_beta {
            if !betas.contains(beta) {
                betas.push(beta.clone());
            }
        }
    }
    if !betas.is_empty() {
        fields.insert("anthropic_beta".into(), json!(betas));
        purposes.insert("anthropic_beta", "anthropic beta flags");
    }
    // The caller's fields: the model configuration's, the request's over them.
    let mut callers: Vec<(&String, &Value, &'static str)> = Vec::new();
    for (key, value) in model.additional_model_request_fields.iter().flatten() {
        if !request.additional_fields.contains_key(key) {
            callers.push((key, value, "the model configuration"));
        }
    }
    for (key, value) in &request.additional_fields {
        callers.push((key, value, "the request"));
    }
    for (key, value, origin) in callers {
        match fields.get(key) {
            Some(ours) if ours != value => {
                return Err(Error::FieldConflict {
                    key: key.clone(),
                    origin,
                    purpose: purposes.get(key.as_str()).copied().unwrap_or("its own use"),
                });
            }
            Some(_) => {}
            None => {
                fields.insert(key.clone(), value.clone());
            }
        }
    }
    Ok(fields)
}

/// Whether the request's tools go to Bedrock: there are some and the model may call them.
fn sends_tools(request: &StreamRequest) -> bool {
    !request.tools.is_empty() && request.tool_choice != ToolChoice::None
}

fn tool_config(
    request: &StreamRequest,
    thinking: &Thinking,
    markers: bool,
    auto_point: Option<CachePoint>,
) -> Result<Option<ToolConfiguration>, Error> {
    // Converse has no "none" choice, and a toolConfig without a toolChoice lets the model call
    // tools: with `None` no tools are sent, and a history with tool calls goes as text.
    if !sends_tools(request) {
        return Ok(None);
    }
    let mut tools = request
        .tools
        .iter()
        .map(|t| {
            ToolSpecification::builder()
                .name(&t.name)
                // Bedrock refuses an empty description (minimum length 1), and clients often
                // send none: a blank one is left out.
                .set_description(Some(t.description.clone()).filter(|d| !d.trim().is_empty()))
                .input_schema(ToolInputSchema::Json(to_document(&t.parameters)))
                .build()
                .map(Tool::ToolSpec)
                .map_err(build_error)
        })
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(point) = request.tools_cache_point.filter(|_| markers).or(auto_point) {
        tools.push(Tool::CachePoint(cache_point_block(point)?));
    }
    let mut tool_choice = &request.tool_choice;
    // Claude refuses a forced tool with extended thinking ("Thinking may not be enabled when
    // tool_choice forces tool use"): keep the thinking the caller asked for and let the model
    // choose (`auto`).
    if matches!(tool_choice, ToolChoice::Any | ToolChoice::Tool(_))
        && !matches!(thinking, Thinking::Off { .. })
    {
        tracing::debug!(
            model = %request.model.id,
            tool_choice = ?request.tool_choice,
            "forced tool choice downgraded to auto: claude does not allow it with extended thinking"
        );
        tool_choice = &ToolChoice::Auto;
    }
    let choice = match tool_choice {
        ToolChoice::Auto => Some(WireToolChoice::Auto(AutoToolChoice::builder().build())),
        ToolChoice::Any => Some(WireToolChoice::Any(AnyToolChoice::builder().build())),
        ToolChoice::None => None,
        ToolChoice::Tool(name) => Some(WireToolChoice::Tool(
            SpecificToolChoice::builder()
                .name(name)
                .build()
                .map_err(build_error)?,
        )),
    };
    ToolConfiguration::builder()
        .set_tools(Some(tools))
        .set_tool_choice(choice)
        .build()
        .map(Some)
        .map_err(build_error)
}

type Wire = (ConversationRole, Vec<ContentBlock>);

/// Converts the conversation: drops failed assistant turns and empty blocks, answers orphaned
/// tool calls, sanitises tool-call ids, and merges consecutive same-role messages (which also
/// merges consecutive tool results into one user message).
fn convert_messages(
    messages: &[Message],
    model: &ModelDefinition,
    caps: &Capabilities,
    markers: bool,
) -> Result<Vec<Wire>, Error> {
    let media = Media {
        images: model.input.contains(&InputModality::Image) && caps.images != Some(false),
        documents: caps.documents,
    };
    let mut out: Vec<Wire> = Vec::new();
    // Tool calls of the last assistant turn that have no result yet: (sanitised id, name).
    let mut pending: Vec<(String, String)> = Vec::new();
    let mut answered: HashSet<String> = HashSet::new();

    let flush_orphans = |out: &mut Vec<Wire>,
                         pending: &mut Vec<(String, String)>,
                         answered: &mut HashSet<String>| {
        let blocks: Vec<ContentBlock> = pending
            .drain(..)
            .filter(|(id, _)| !answered.contains(id))
            .filter_map(|(id, _)| {
                ToolResultBlock::builder()
                    .tool_use_id(id)
                    .content(ToolResultContentBlock::Text(NO_RESULT.into()))
                    .status(ToolResultStatus::Error)
                    .build()
                    .ok()
                    .map(ContentBlock::ToolResult)
            })
            .collect();
        answered.clear();
        if !blocks.is_empty() {
            push(out, ConversationRole::User, blocks);
        }
    };

    for message in messages {
        match message {
            Message::User(user) => {
                flush_orphans(&mut out, &mut pending, &mut answered);
                let mut blocks = Vec::new();
                for c in &user.content {
                    if let Some(b) = user_block(c, media, markers)? {
                        blocks.push(b);
                    }
                }
                push(&mut out, ConversationRole::User, blocks);
            }
            Message::Assistant(assistant) => {
                flush_orphans(&mut out, &mut pending, &mut answered);
                if assistant.error.is_some() {
                    // A failed or aborted turn is incomplete: not replayed (as pi-ai).
                    continue;
                }
                let blocks = assistant_blocks(assistant, model, caps, markers)?;
                for b in &blocks {
                    if let ContentBlock::ToolUse(t) = b {
                        pending.push((t.tool_use_id().to_owned(), t.name().to_owned()));
                    }
                }
                push(&mut out, ConversationRole::Assistant, blocks);
            }
            Message::ToolResult(result) => {
                let mut blocks = vec![tool_result_block(result, media)?];
                // A marker anywhere in the result's content follows the toolResult block (the
                // result content itself takes no cache point): the last one wins its TTL.
                if markers
                    && let Some(point) = result.content.iter().rev().find_map(|c| match c {
                        Content::CachePoint(p) => Some(*p),
                        _ => None,
                    })
                {
                    blocks.push(ContentBlock::CachePoint(cache_point_block(point)?));
                }
                answered.insert(sanitize_tool_call_id(&result.tool_call_id));
                push(&mut out, ConversationRole::User, blocks);
            }
        }
    }
    flush_orphans(&mut out, &mut pending, &mut answered);
    Ok(out)
}

/// Appends blocks, merging into the previous message when it has the same role (Bedrock
/// requires alternating roles and all tool results of a turn in one user message).
fn push(out: &mut Vec<Wire>, role: ConversationRole, blocks: Vec<ContentBlock>) {
    if blocks.is_empty() {
        return;
    }
    match out.last_mut() {
        Some((last, content)) if *last == role => {
            // Tool results must come first in a user message; a cache point that follows one
            // stays right after it.
            if role == ConversationRole::User
                && blocks
                    .iter()
                    .any(|b| matches!(b, ContentBlock::ToolResult(_)))
            {
                let at = content
                    .iter()
                    .take_while(|b| {
                        matches!(b, ContentBlock::ToolResult(_) | ContentBlock::CachePoint(_))
                    })
                    .count();
                content.splice(at..at, blocks);
            } else {
                content.extend(blocks);
            }
        }
        _ => out.push((role, blocks)),
    }
}

/// Which media blocks the model takes.
#[derive(Debug, Clone, Copy)]
struct Media {
    images: bool,
    documents: bool,
}

fn user_block(
    content: &Content,
    media: Media,
    markers: bool,
) -> Result<Option<ContentBlock>, Error> {
    Ok(match content {
        Content::Text { text } if text.trim().is_empty() => None,
        Content::Text { text } => Some(ContentBlock::Text(text.clone())),
        Content::Image { .. } if !media.images => Some(ContentBlock::Text(IMAGE_OMITTED.into())),
        Content::Document { .. } if !media.documents => {
            Some(ContentBlock::Text(DOCUMENT_OMITTED.into()))
        }
        Content::Image { mime_type, data } => {
            Some(ContentBlock::Image(image_block(mime_type, data)?))
        }
        Content::Document { format, name, data } => {
            Some(ContentBlock::Document(document_block(format, name, data)?))
        }
        Content::CachePoint(point) if markers => {
            Some(ContentBlock::CachePoint(cache_point_block(*point)?))
        }
        Content::CachePoint(_) => None,
    })
}

fn tool_result_block(result: &ToolResultMessage, media: Media) -> Result<ContentBlock, Error> {
    let mut content = Vec::new();
    for c in &result.content {
        match c {
            Content::Text { text } if text.trim().is_empty() => {}
            Content::Text { text } => content.push(ToolResultContentBlock::Text(text.clone())),
            Content::Image { .. } if !media.images => {
                content.push(ToolResultContentBlock::Text(IMAGE_OMITTED.into()))
            }
            Content::Document { .. } if !media.documents => {
                content.push(ToolResultContentBlock::Text(DOCUMENT_OMITTED.into()))
            }
            Content::Image { mime_type, data } => {
                content.push(ToolResultContentBlock::Image(image_block(mime_type, data)?));
            }
            Content::Document { format, name, data } => {
                content.push(ToolResultContentBlock::Document(document_block(
                    format, name, data,
                )?));
            }
            // Placed after the toolResult block by the caller.
            Content::CachePoint(_) => {}
        }
    }
    if content.is_empty() {
        content.push(ToolResultContentBlock::Text(NO_TOOL_OUTPUT.into()));
    }
    let status = if result.is_error {
        ToolResultStatus::Error
    } else {
        ToolResultStatus::Success
    };
    ToolResultBlock::builder()
        .tool_use_id(sanitize_tool_call_id(&result.tool_call_id))
        .set_content(Some(content))
        .status(status)
        .build()
        .map(ContentBlock::ToolResult)
        .map_err(build_error)
}

/// Rewrites `toolUse` and `toolResult` blocks as text, for a request that offers no tools:
/// `[tool call <id>: <name> <arguments JSON>]` and `[tool result <id> (<name>): <text>]`
/// (`tool error` for error results); images and documents of a result follow its text as
/// blocks of their own.
/// Roles and order are kept, so the conversation still alternates.
fn flatten_tool_blocks(messages: &mut [Wire]) {
    let mut names: HashMap<String, String> = HashMap::new();
    for (_, blocks) in messages.iter_mut() {
        let mut out = Vec::with_capacity(blocks.len());
        for block in blocks.drain(..) {
            match block {
                ContentBlock::ToolUse(call) => {
                    names.insert(call.tool_use_id().to_owned(), call.name().to_owned());
                    out.push(ContentBlock::Text(format!(
                        "[tool call {}: {} {}]",
                        call.tool_use_id(),
                        call.name(),
                        from_document(call.input())
                    )));
                }
                ContentBlock::ToolResult(result) => {
                    let id = result.tool_use_id();
                    let name = names.get(id).map_or("unknown tool", String::as_str);
                    let kind = if result.status() == Some(&ToolResultStatus::Error) {
                        "tool error"
                    } else {
                        "tool result"
                    };
                    let mut texts = Vec::new();
                    let mut images = Vec::new();
                    for c in result.content() {
                        match c {
                            ToolResultContentBlock::Text(t) => texts.push(t.clone()),
                            ToolResultContentBlock::Image(i) => {
                                images.push(ContentBlock::Image(i.clone()))
                            }
                            ToolResultContentBlock::Document(d) => {
                                images.push(ContentBlock::Document(d.clone()))
                            }
                            ToolResultContentBlock::Json(doc) => {
                                texts.push(from_document(doc).to_string())
                            }
                            _ => {}
                        }
                    }
                    out.push(ContentBlock::Text(format!(
                        "[{kind} {id} ({name}): {}]",
                        texts.join("\n")
                    )));
                    out.extend(images);
                }
                other => out.push(other),
            }
        }
        *blocks = out;
    }
}

fn image_block(mime_type: &str, data: &[u8]) -> Result<ImageBlock, Error> {
    let format = match mime_type.to_ascii_lowercase().as_str() {
        "image/jpeg" | "image/jpg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        "image/gif" => ImageFormat::Gif,
        "image/webp" => ImageFormat::Webp,
        _ => {
            return Err(Error::UnsupportedImage {
                mime_type: mime_type.to_owned(),
            });
        }
    };
    ImageBlock::builder()
        .format(format)
        .source(ImageSource::Bytes(Blob::new(data.to_vec())))
        .build()
        .map_err(build_error)
}

/// A document block: a known format (lowercase or not), the name sanitised (see
/// [`document_name`]).
fn document_block(format: &str, name: &str, data: &[u8]) -> Result<DocumentBlock, Error> {
    let lower = format.to_ascii_lowercase();
    if !DOCUMENT_FORMATS.contains(&lower.as_str()) {
        return Err(Error::UnsupportedDocument {
            format: format.to_owned(),
        });
    }
    DocumentBlock::builder()
        .format(DocumentFormat::from(lower.as_str()))
        .name(document_name(name))
        .source(DocumentSource::Bytes(Blob::new(data.to_vec())))
        .build()
        .map_err(build_error)
}

/// The document formats Converse accepts.
const DOCUMENT_FORMATS: [&str; 9] = [
    "pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md",
];

/// A document name as Bedrock demands it: ASCII letters and digits, hyphens, parentheses,
/// square brackets and single spaces. Any other character becomes a space, runs of whitespace
/// become one space, the ends are trimmed; an empty result is `document`.
pub(crate) fn document_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']') {
            c
        } else {
            ' '
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if out.is_empty() {
        out.push_str("document");
    }
    out
}

fn assistant_blocks(
    message: &AssistantMessage,
    target: &ModelDefinition,
    caps: &Capabilities,
    markers: bool,
) -> Result<Vec<ContentBlock>, Error> {
    let same_family = message.provider == PROVIDER
        && message.api == API
        && model::same_family(&message.model, &target.id);
    let claude = caps.anthropic;
    let mut blocks = Vec::new();
    for c in &message.content {
        match c {
            AssistantContent::Text { text } if text.trim().is_empty() => {}
            AssistantContent::Text { text } => blocks.push(ContentBlock::Text(text.clone())),
            AssistantContent::Thinking {
                redacted: Some(data),
                ..
            } => {
                // Opaque, valid only for the model family that produced it: replayed there
                // (pi-ai 0.73 drops it), dropped elsewhere.
                if same_family && claude {
                    blocks.push(ContentBlock::ReasoningContent(
                        ReasoningContentBlock::RedactedContent(Blob::new(data.clone())),
                    ));
                }
            }
            AssistantContent::Thinking { thinking, .. } if thinking.trim().is_empty() => {}
            AssistantContent::Thinking {
                thinking,
                signature,
                ..
            } => match signature {
                Some(sig) if same_family && claude && !sig.is_empty() => {
                    let text = ReasoningTextBlock::builder()
                        .text(thinking)
                        .signature(sig)
                        .build()
                        .map_err(build_error)?;
                    blocks.push(ContentBlock::ReasoningContent(
                        ReasoningContentBlock::ReasoningText(text),
                    ));
                }
                // Same non-Claude family: reasoningContent is rejected, keep it visible as tagged text.
                _ if same_family && !claude => {
                    blocks.push(ContentBlock::Text(format!(
                        "<thinking>\n{thinking}\n</thinking>"
                    )));
                }
                // Another family (or no signature): a signature would not verify, send plain text.
                _ => blocks.push(ContentBlock::Text(thinking.clone())),
            },
            AssistantContent::ToolCall(call) => {
                let input = if call.arguments.is_object() {
                    to_document(&call.arguments)
                } else {
                    Document::Object(Default::default())
                };
                let block = ToolUseBlock::builder()
                    .tool_use_id(sanitize_tool_call_id(&call.id))
                    .name(&call.name)
                    .input(input)
                    .build()
                    .map_err(build_error)?;
                blocks.push(ContentBlock::ToolUse(block));
            }
            AssistantContent::CachePoint(point) => {
                if markers {
                    blocks.push(ContentBlock::CachePoint(cache_point_block(*point)?));
                }
            }
        }
    }
    Ok(blocks)
}

/// Maps a tool-call id to Bedrock's charset `[a-zA-Z0-9_-]` and maximum length 64. Other
/// characters become `_`; an over-long id keeps its first 55 characters plus `_` and 8 hex
/// digits of an FNV-1a hash of the original id, so two long ids sharing a prefix stay distinct
/// (pi-ai truncates, which can collide). Deterministic, so calls and results agree.
pub(crate) fn sanitize_tool_call_id(id: &str) -> String {
    let mut out: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() {
        out.push('_');
    }
    if out.len() > 64 {
        let hash = id.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        out.truncate(55);
        out.push_str(&format!("_{hash:08x}"));
    }
    out
}

/// Converts JSON to the SDK's `Document`.
pub(crate) fn to_document(value: &Value) -> Document {
    match value {
        Value::Null => Document::Null,
        Value::Bool(b) => Document::Bool(*b),
        Value::Number(n) => Document::Number(if let Some(u) = n.as_u64() {
            Number::PosInt(u)
        } else if let Some(i) = n.as_i64() {
            Number::NegInt(i)
        } else {
            Number::Float(n.as_f64().unwrap_or(0.0))
        }),
        Value::String(s) => Document::String(s.clone()),
        Value::Array(a) => Document::Array(a.iter().map(to_document).collect()),
        Value::Object(o) => {
            Document::Object(o.iter().map(|(k, v)| (k.clone(), to_document(v))).collect())
        }
    }
}

/// Converts the SDK's `Document` to JSON.
pub(crate) fn from_document(doc: &Document) -> Value {
    match doc {
        Document::Null => Value::Null,
        Document::Bool(b) => Value::Bool(*b),
        Document::Number(Number::PosInt(u)) => json!(u),
        Document::Number(Number::NegInt(i)) => json!(i),
        Document::Number(Number::Float(f)) => json!(f),
        Document::String(s) => Value::String(s.clone()),
        Document::Array(a) => Value::Array(a.iter().map(from_document).collect()),
        Document::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), from_document(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

fn clamp_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn build_error(e: aws_smithy_types::error::operation::BuildError) -> Error {
    Error::Request {
        message: e.to_string(),
    }
}

#[cfg(test)]
mod tests;
