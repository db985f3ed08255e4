//! Building a Converse request from a [`StreamRequest`].

use std::collections::{HashMap, HashSet};

use aws_sdk_bedrockruntime::types::{
    AnyToolChoice, AutoToolChoice, CachePointBlock, CachePointType, CacheTtl, ContentBlock,
    ConversationRole, ImageBlock, ImageFormat, ImageSource, InferenceConfiguration,
    Message as WireMessage, ReasoningContentBlock, ReasoningTextBlock, SpecificToolChoice,
    SystemContentBlock, Tool, ToolChoice as WireToolChoice, ToolConfiguration, ToolInputSchema,
    ToolResultBlock, ToolResultContentBlock, ToolResultStatus, ToolSpecification, ToolUseBlock,
};
use aws_smithy_types::{Blob, Document, Number};
use openclaw_config::{InputModality, ModelDefinition};
use serde_json::{Map, Value, json};

use super::model::{self, Thinking};
use crate::types::{
    AssistantContent, AssistantMessage, CacheRetention, Content, Message, StreamRequest,
    ToolChoice, ToolResultMessage,
};
use crate::{API, Error, PROVIDER};

/// The text sent instead of an image to a model without image input.
pub const IMAGE_OMITTED: &str = "(image omitted: model does not support images)";
/// The text of the synthetic error result that answers an orphaned tool call.
pub const NO_RESULT: &str = "No result provided";
/// The text sent for a tool result with no content (or only blank text): Bedrock refuses an
/// empty `toolResult.content`. pi-ai's wording.
pub const NO_TOOL_OUTPUT: &str = "(no tool output)";

/// Everything a `converse_stream` call needs, as SDK types.
#[derive(Debug, Clone)]
pub struct ConverseInput {
    /// The model id (an id, an inference-profile id or an ARN).
    pub model_id: String,
    /// System blocks (text, then a cache point when caching).
    pub system: Vec<SystemContentBlock>,
    /// The conversation, roles alternating.
    pub messages: Vec<WireMessage>,
    /// maxTokens, temperature, stopSequences.
    pub inference: InferenceConfiguration,
    /// Tools and tool choice.
    pub tool_config: Option<ToolConfiguration>,
    /// Model-specific fields (Claude thinking).
    pub additional_fields: Option<Document>,
}

/// Builds the Converse input for `request` (SPEC section 3, issue 6).
pub fn build(request: &StreamRequest) -> Result<ConverseInput, Error> {
    let model = &request.model;
    let caching = request.cache_retention != CacheRetention::None && model::supports_caching(model);
    let cache_point = || -> Result<CachePointBlock, Error> {
        let mut b = CachePointBlock::builder().r#type(CachePointType::Default);
        if request.cache_retention == CacheRetention::Long {
            b = b.ttl(CacheTtl::OneHour);
        }
        b.build().map_err(build_error)
    };

    let mut system = Vec::new();
    if let Some(text) = request.system.as_deref().filter(|s| !s.trim().is_empty()) {
        system.push(SystemContentBlock::Text(text.to_owned()));
        if caching {
            system.push(SystemContentBlock::CachePoint(cache_point()?));
        }
    }

    let mut messages = convert_messages(&request.messages, model)?;
    if caching
        && let Some(last) = messages
            .last_mut()
            .filter(|m| m.0 == ConversationRole::User)
    {
        last.1.push(ContentBlock::CachePoint(cache_point()?));
    }
    let mut history_has_tools = messages
        .iter()
        .flat_map(|m| &m.1)
        .any(|b| matches!(b, ContentBlock::ToolUse(_) | ContentBlock::ToolResult(_)));
    if history_has_tools && request.tools.is_empty() {
        // Bedrock refuses toolUse/toolResult blocks without a toolConfig, and with no tools
        // offered the model must not call any: the old exchanges become plain text.
        flatten_tool_blocks(&mut messages);
        history_has_tools = false;
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

    let thinking = model::thinking(model, request.reasoning, request.max_tokens);
    let mut inference =
        InferenceConfiguration::builder().max_tokens(clamp_i32(thinking.max_tokens()));
    if let Some(t) = request
        .temperature
        .filter(|_| matches!(thinking, Thinking::Off { .. }))
    {
        inference = inference.temperature(t);
    }
    if !request.stop_sequences.is_empty() {
        inference = inference.set_stop_sequences(Some(request.stop_sequences.clone()));
    }

    Ok(ConverseInput {
        model_id: model.id.clone(),
        system,
        messages,
        inference: inference.build(),
        tool_config: tool_config(request, history_has_tools, &thinking)?,
        additional_fields: additional_fields(&thinking).map(|v| to_document(&v)),
    })
}

fn additional_fields(thinking: &Thinking) -> Option<Value> {
    match thinking {
        Thinking::Off { .. } => None,
        Thinking::Budget {
            budget_tokens,
            interleaved,
            ..
        } => {
            let mut v = json!({"thinking": {"type": "enabled", "budget_tokens": budget_tokens}});
            if *interleaved && let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "anthropic_beta".into(),
                    json!(["interleaved-thinking-2025-05-14"]),
                );
            }
            Some(v)
        }
        Thinking::Adaptive { effort, .. } => {
            Some(json!({"thinking": {"type": "adaptive"}, "output_config": {"effort": effort}}))
        }
    }
}

fn tool_config(
    request: &StreamRequest,
    history_has_tools: bool,
    thinking: &Thinking,
) -> Result<Option<ToolConfiguration>, Error> {
    if request.tools.is_empty() {
        return Ok(None);
    }
    // Converse has no "none" choice, and it rejects toolUse/toolResult blocks in the history when
    // no toolConfig is sent: with `None` we omit the tools, unless the history needs them, in
    // which case we send them without a toolChoice.
    if request.tool_choice == ToolChoice::None && !history_has_tools {
        return Ok(None);
    }
    let tools = request
        .tools
        .iter()
        .map(|t| {
            ToolSpecification::builder()
                .name(&t.name)
                .description(&t.description)
                .input_schema(ToolInputSchema::Json(to_document(&t.parameters)))
                .build()
                .map(Tool::ToolSpec)
                .map_err(build_error)
        })
        .collect::<Result<Vec<_>, _>>()?;
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
fn convert_messages(messages: &[Message], model: &ModelDefinition) -> Result<Vec<Wire>, Error> {
    let images = model.input.contains(&InputModality::Image);
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
                    if let Some(b) = user_block(c, images)? {
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
                let blocks = assistant_blocks(assistant, model)?;
                for b in &blocks {
                    if let ContentBlock::ToolUse(t) = b {
                        pending.push((t.tool_use_id().to_owned(), t.name().to_owned()));
                    }
                }
                push(&mut out, ConversationRole::Assistant, blocks);
            }
            Message::ToolResult(result) => {
                let block = tool_result_block(result, images)?;
                answered.insert(sanitize_tool_call_id(&result.tool_call_id));
                push(&mut out, ConversationRole::User, vec![block]);
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
            // Tool results must come first in a user message.
            if role == ConversationRole::User
                && blocks
                    .iter()
                    .any(|b| matches!(b, ContentBlock::ToolResult(_)))
            {
                let at = content
                    .iter()
                    .take_while(|b| matches!(b, ContentBlock::ToolResult(_)))
                    .count();
                content.splice(at..at, blocks);
            } else {
                content.extend(blocks);
            }
        }
        _ => out.push((role, blocks)),
    }
}

fn user_block(content: &Content, images: bool) -> Result<Option<ContentBlock>, Error> {
    Ok(match content {
        Content::Text { text } if text.trim().is_empty() => None,
        Content::Text { text } => Some(ContentBlock::Text(text.clone())),
        Content::Image { .. } if !images => Some(ContentBlock::Text(IMAGE_OMITTED.into())),
        Content::Image { mime_type, data } => {
            Some(ContentBlock::Image(image_block(mime_type, data)?))
        }
    })
}

fn tool_result_block(result: &ToolResultMessage, images: bool) -> Result<ContentBlock, Error> {
    let mut content = Vec::new();
    for c in &result.content {
        match c {
            Content::Text { text } if text.trim().is_empty() => {}
            Content::Text { text } => content.push(ToolResultContentBlock::Text(text.clone())),
            Content::Image { .. } if !images => {
                content.push(ToolResultContentBlock::Text(IMAGE_OMITTED.into()))
            }
            Content::Image { mime_type, data } => {
                content.push(ToolResultContentBlock::Image(image_block(mime_type, data)?));
            }
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
/// (`tool error` for error results); images of a result follow its text as image blocks.
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

fn assistant_blocks(
    message: &AssistantMessage,
    target: &ModelDefinition,
) -> Result<Vec<ContentBlock>, Error> {
    let same_family = message.provider == PROVIDER
        && message.api == API
        && model::same_family(&message.model, &target.id);
    let claude = model::is_claude(&target.id);
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
        }
    }
    Ok(blocks)
}

/// Maps a tool-call id to Bedrock's charset `[a-zA-Z0-9_-]` and maximum length 64. Other
/// characters become `_`; an over-long id keeps its first 55 characters plus `_` and 8 hex
/// digits of an FNV-1a hash of the original id, so two long ids sharing a prefix stay distinct
/// (pi-ai truncates, which can collide). Deterministic, so calls and results agree.
pub fn sanitize_tool_call_id(id: &str) -> String {
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
pub fn to_document(value: &Value) -> Document {
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
pub fn from_document(doc: &Document) -> Value {
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
