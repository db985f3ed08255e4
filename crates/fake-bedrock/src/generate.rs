//! Request validation and the default (deterministic) answer generator.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::{Map, Value};

use crate::catalog::FoundationModel;
use crate::error::ApiError;
use crate::script::{Turn, Usage};
use crate::wire::ConverseRequest;

/// Bedrock's Converse image size limit: 3.75 MB.
pub const MAX_IMAGE_BYTES: usize = 3_932_160;

const IMAGE_FORMATS: [&str; 4] = ["png", "jpeg", "gif", "webp"];

fn invalid(message: String) -> ApiError {
    ApiError::new(400, "ValidationException", &message)
}

/// Validates a Converse request the way Bedrock does where clients commonly go wrong.
pub(crate) fn validate(req: &ConverseRequest, model: &FoundationModel) -> Result<(), ApiError> {
    let start_message = "A conversation must start with a user message. Try again with a conversation that starts with a user message.";
    let Some(first) = req.messages.first() else {
        return Err(invalid(start_message.to_owned()));
    };
    if first.role != "user" {
        return Err(invalid(start_message.to_owned()));
    }
    let mut uses_tools = false;
    let mut previous_tool_uses: Vec<String> = Vec::new();
    for (i, message) in req.messages.iter().enumerate() {
        if message.role != "user" && message.role != "assistant" {
            return Err(invalid(format!(
                "1 validation error detected: Value '{}' at 'messages.{}.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]",
                message.role,
                i + 1
            )));
        }
        if i > 0 && req.messages[i - 1].role == message.role {
            return Err(invalid("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.".to_owned()));
        }
        if message.content.is_empty() {
            return Err(invalid(format!(
                "The content field in the Message object at messages.{i} is empty. Add a ContentBlock object to the content field and try again."
            )));
        }
        let mut tool_uses = Vec::new();
        let mut tool_results = Vec::new();
        for (j, block) in message.content.iter().enumerate() {
            if let Some(text) = block.get("text")
                && text.as_str().is_none_or(|t| t.trim().is_empty())
            {
                return Err(invalid(format!(
                    "The text field in the ContentBlock object at messages.{i}.content.{j} is blank. Add text to the text field, and try again."
                )));
            }
            if let Some(tool_use) = block.get("toolUse") {
                uses_tools = true;
                if message.role != "assistant" {
                    return Err(invalid(format!(
                        "messages.{i}.content.{j}: toolUse blocks are only allowed in assistant messages."
                    )));
                }
                tool_uses.push(str_field(tool_use, "toolUseId"));
            }
            if let Some(tool_result) = block.get("toolResult") {
                uses_tools = true;
                if message.role != "user" {
                    return Err(invalid(format!(
                        "messages.{i}.content.{j}: toolResult blocks are only allowed in user messages."
                    )));
                }
                tool_results.push(str_field(tool_result, "toolUseId"));
                validate_tool_result_content(tool_result, i, j)?;
            }
            if let Some(image) = block.get("image") {
                validate_image(image, model, i, j)?;
            }
        }
        if message.role == "user" {
            if tool_results.len() > previous_tool_uses.len() {
                return Err(invalid(format!(
                    "The number of toolResult blocks at messages.{i}.content exceeds the number of toolUse blocks of previous turn."
                )));
            }
            if let Some(stray) = tool_results
                .iter()
                .find(|id| !previous_tool_uses.contains(id))
            {
                return Err(invalid(format!(
                    "messages.{i}.content: unexpected toolUseId found in toolResult blocks: {stray}. Each toolResult block must have a corresponding toolUse block in the previous message."
                )));
            }
            let missing: Vec<&str> = previous_tool_uses
                .iter()
                .filter(|id| !tool_results.contains(id))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(invalid(format!(
                    "Expected toolResult blocks at messages.{i}.content for the following Ids: {}",
                    missing.join(", ")
                )));
            }
        }
        previous_tool_uses = if message.role == "assistant" {
            tool_uses
        } else {
            Vec::new()
        };
    }
    if let Some(config) = &req.tool_config {
        validate_tool_specs(&config.tools)?;
    }
    if let Some(config) = &req.inference_config {
        validate_inference_config(config)?;
    }
    if uses_tools && req.tool_config.is_none() {
        return Err(invalid(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."
                .to_owned(),
        ));
    }
    // Anthropic refuses a forced tool choice with extended thinking; Bedrock relays its message.
    let forced = req
        .tool_config
        .as_ref()
        .and_then(|c| c.tool_choice.as_ref())
        .is_some_and(|choice| choice.contains_key("any") || choice.contains_key("tool"));
    if forced && claude_thinking(req) && model.provider_name.eq_ignore_ascii_case("anthropic") {
        return Err(invalid(
            "The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use."
                .to_owned(),
        ));
    }
    if model.provider_name.eq_ignore_ascii_case("anthropic") {
        validate_claude_sampling(req, &model.model_id)?;
    }
    Ok(())
}

/// The sampling parameters Anthropic refuses, relayed by Bedrock: with extended thinking a
/// `temperature` other than 1, any `top_k`, a `top_p` below 0.95; on Claude Sonnet 4.5,
/// Haiku 4.5, Opus 4.1 and later, `temperature` and `top_p` together.
fn validate_claude_sampling(req: &ConverseRequest, model_id: &str) -> Result<(), ApiError> {
    let config = req.inference_config.as_ref();
    let temperature = config.and_then(|c| c.temperature);
    let top_p = config.and_then(|c| c.top_p);
    let top_k = req
        .additional_model_request_fields
        .as_ref()
        .and_then(|f| f.get("top_k"))
        .is_some_and(|v| !v.is_null());
    let refused = |what: &str| {
        Err(invalid(format!(
            "The model returned the following errors: {what}"
        )))
    };
    if claude_thinking(req) {
        if temperature.is_some_and(|t| (t - 1.0).abs() > f64::EPSILON) {
            return refused("`temperature` may only be set to 1 when thinking is enabled.");
        }
        if top_k {
            return refused("`top_k` must be unset when thinking is enabled.");
        }
        if top_p.is_some_and(|p| p < 0.95) {
            return refused(
                "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.",
            );
        }
    }
    const ONE_OF: [&str; 6] = [
        "anthropic.claude-sonnet-4-5",
        "anthropic.claude-haiku-4-5",
        "anthropic.claude-opus-4-1",
        "anthropic.claude-opus-4-5",
        "anthropic.claude-opus-4-6",
        "anthropic.claude-sonnet-4-6",
    ];
    if temperature.is_some() && top_p.is_some() && ONE_OF.iter().any(|p| model_id.starts_with(p)) {
        return refused(
            "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
        );
    }
    Ok(())
}

/// The constraints of `InferenceConfiguration`: `temperature` and `topP` from 0 to 1, each
/// stop sequence at least one character.
fn validate_inference_config(config: &crate::wire::InferenceConfig) -> Result<(), ApiError> {
    for (name, value) in [("temperature", config.temperature), ("topP", config.top_p)] {
        if let Some(v) = value.filter(|v| !(0.0..=1.0).contains(v)) {
            let bound = if v < 0.0 {
                "greater than or equal to 0"
            } else {
                "less than or equal to 1"
            };
            return Err(invalid(format!(
                "1 validation error detected: Value '{v}' at 'inferenceConfig.{name}' failed to satisfy constraint: Member must have value {bound}"
            )));
        }
    }
    if let Some(i) = config.stop_sequences.iter().position(String::is_empty) {
        return Err(invalid(format!(
            "1 validation error detected: Value '' at 'inferenceConfig.stopSequences.{}.member' failed to satisfy constraint: Member must have length greater than or equal to 1",
            i + 1
        )));
    }
    Ok(())
}

/// The length and pattern constraints of `ToolSpecification`: a `name` of 1 to 64 characters
/// from `[a-zA-Z0-9_-]`, a `description` (optional) of at least one character. Bedrock answers a
/// violation with its generic constraint message, members numbered from 1.
fn validate_tool_specs(tools: &[Map<String, Value>]) -> Result<(), ApiError> {
    for (i, tool) in tools.iter().enumerate() {
        let Some(spec) = tool.get("toolSpec") else {
            continue;
        };
        let at = format!("toolConfig.tools.{}.member.toolSpec", i + 1);
        let name = spec.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(invalid(format!(
                "1 validation error detected: Value '{name}' at '{at}.name' failed to satisfy constraint: Member must have length between 1 and 64"
            )));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(format!(
                "1 validation error detected: Value '{name}' at '{at}.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+"
            )));
        }
        if spec
            .get("description")
            .and_then(Value::as_str)
            .is_some_and(str::is_empty)
        {
            return Err(invalid(format!(
                "1 validation error detected: Value '' at '{at}.description' failed to satisfy constraint: Member must have length greater than or equal to 1"
            )));
        }
    }
    Ok(())
}

/// A toolResult needs at least one content block, and text blocks in it must not be blank.
fn validate_tool_result_content(tool_result: &Value, i: usize, j: usize) -> Result<(), ApiError> {
    let content = tool_result
        .get("content")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if content.is_empty() {
        return Err(invalid(format!(
            "The content field in the ToolResultBlock object at messages.{i}.content.{j}.toolResult is empty. Add a ToolResultContentBlock object to the content field and try again."
        )));
    }
    for (k, block) in content.iter().enumerate() {
        if let Some(text) = block.get("text")
            && text.as_str().is_none_or(|t| t.trim().is_empty())
        {
            return Err(invalid(format!(
                "The text field in the ToolResultContentBlock object at messages.{i}.content.{j}.toolResult.content.{k} is blank. Add text to the text field, and try again."
            )));
        }
    }
    Ok(())
}

fn str_field(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn validate_image(
    image: &Value,
    model: &FoundationModel,
    i: usize,
    j: usize,
) -> Result<(), ApiError> {
    if !model.image_input() {
        return Err(invalid(
            "This model doesn't support the image content block that you provided. Try again with a supported content block.".to_owned(),
        ));
    }
    let format = str_field(image, "format");
    if !IMAGE_FORMATS.contains(&format.as_str()) {
        return Err(invalid(format!(
            "1 validation error detected: Value '{format}' at 'messages.{}.member.content.{}.member.image.format' failed to satisfy constraint: Member must satisfy enum value set: [png, jpeg, gif, webp]",
            i + 1,
            j + 1
        )));
    }
    let encoded = image
        .get("source")
        .and_then(|s| s.get("bytes"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    // Base64 length tells the decoded size without decoding.
    let padding = encoded.bytes().rev().take_while(|b| *b == b'=').count();
    let size = (encoded.len() / 4 * 3).saturating_sub(padding);
    if size > MAX_IMAGE_BYTES {
        return Err(invalid(format!(
            "messages.{i}.content.{j}.image.source.bytes: image size {size} bytes exceeds the maximum of 3.75 MB ({MAX_IMAGE_BYTES} bytes)."
        )));
    }
    Ok(())
}

/// The text of the last user message (text blocks joined by a newline).
pub(crate) fn last_user_text(req: &ConverseRequest) -> String {
    req.messages
        .iter()
        .rev()
        .find(|m| m.role == "user")
        .map(|m| {
            m.content
                .iter()
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

fn last_tool_results(req: &ConverseRequest) -> Vec<String> {
    let Some(last) = req.messages.last() else {
        return Vec::new();
    };
    last.content
        .iter()
        .filter_map(|b| b.get("toolResult"))
        .map(|r| {
            r.get("content")
                .and_then(Value::as_array)
                .map(|blocks| {
                    blocks
                        .iter()
                        .map(|b| match (b.get("text"), b.get("json")) {
                            (Some(Value::String(t)), _) => t.clone(),
                            (_, Some(json)) => json.to_string(),
                            _ => String::new(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        })
        .collect()
}

/// Claude extended thinking: `additionalModelRequestFields.thinking.type` is `enabled` or
/// `adaptive`.
fn claude_thinking(req: &ConverseRequest) -> bool {
    req.additional_model_request_fields
        .as_ref()
        .and_then(|f| f.get("thinking"))
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t == "enabled" || t == "adaptive")
}

fn thinking_enabled(req: &ConverseRequest) -> bool {
    let Some(fields) = &req.additional_model_request_fields else {
        return false;
    };
    let claude = claude_thinking(req);
    let generic = fields
        .get("reasoning_config")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t == "enabled");
    claude || generic
}

/// A value for a JSON schema, filling required properties (strings get `fill`).
fn sample_for_schema(schema: &Value, fill: &str) -> Value {
    let mut out = Map::new();
    let properties = schema.get("properties").and_then(Value::as_object);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for name in required {
        let kind = properties
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("string");
        let value = match kind {
            "integer" | "number" => Value::from(1),
            "boolean" => Value::Bool(true),
            "array" => Value::Array(Vec::new()),
            "object" => Value::Object(Map::new()),
            _ => Value::String(fill.to_owned()),
        };
        out.insert(name.to_owned(), value);
    }
    Value::Object(out)
}

/// The default answer, derived only from the request (so tests can predict it):
///
/// - after tool results: `Tool result: <text of each result>`;
/// - a prompt containing "use tool" with tools configured: `Calling <tool>.` then a `toolUse` of
///   the tool named in the prompt (else the first), its required arguments filled (strings get the
///   prompt), stop reason `tool_use`;
/// - otherwise: `Echo: <last user text>`;
/// - reasoning `Thinking about: <prompt>` with a signature first when
///   `additionalModelRequestFields.thinking.type` is `enabled`/`adaptive`;
/// - text cut to `inferenceConfig.maxTokens` tokens (4 characters each) with stop reason
///   `max_tokens` when it does not fit.
pub(crate) fn default_turn(req: &ConverseRequest, tool_counter: &mut u64) -> Turn {
    let prompt = last_user_text(req);
    let mut turn = Turn::new();
    if thinking_enabled(req) {
        let signature =
            aws_smithy_types::base64::encode(format!("fake-bedrock-signature:{}", hash(&prompt)));
        turn = turn.with_reasoning(format!("Thinking about: {prompt}"), signature);
    }
    let results = last_tool_results(req);
    let tools: Vec<(&str, Value)> = req
        .tool_config
        .as_ref()
        .map(|c| {
            c.tools
                .iter()
                .filter_map(|t| t.get("toolSpec"))
                .filter_map(|spec| {
                    let name = spec.get("name")?.as_str()?;
                    let schema = spec
                        .get("inputSchema")
                        .and_then(|s| s.get("json"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    Some((name, schema))
                })
                .collect()
        })
        .unwrap_or_default();
    if !results.is_empty() && prompt.is_empty() {
        return cap(
            turn.with_text(format!("Tool result: {}", results.join("; "))),
            req,
        );
    }
    if prompt.to_lowercase().contains("use tool") && !tools.is_empty() {
        let (name, schema) = tools
            .iter()
            .find(|(name, _)| prompt.contains(name))
            .unwrap_or(&tools[0]);
        *tool_counter += 1;
        let id = format!("tooluse_fake{:010}", *tool_counter);
        return turn.with_text(format!("Calling {name}.")).with_tool_use(
            id,
            *name,
            sample_for_schema(schema, &prompt),
        );
    }
    cap(turn.with_text(format!("Echo: {prompt}")), req)
}

fn cap(mut turn: Turn, req: &ConverseRequest) -> Turn {
    let Some(max) = req
        .inference_config
        .as_ref()
        .and_then(|c| c.max_tokens)
        .and_then(|m| usize::try_from(m).ok())
    else {
        return turn;
    };
    let limit = max.saturating_mul(4);
    let mut used = 0usize;
    let mut truncated = false;
    for block in &mut turn.blocks {
        if let crate::script::Block::Text(text) = block {
            let len = text.chars().count();
            if used + len > limit {
                *text = text.chars().take(limit.saturating_sub(used)).collect();
                truncated = true;
            }
            used += text.chars().count();
        }
    }
    if truncated {
        turn.stop_reason = Some("max_tokens".to_owned());
    }
    turn
}

fn hash(s: &str) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

fn tokens(chars: usize) -> u32 {
    u32::try_from(chars.div_ceil(4)).unwrap_or(u32::MAX)
}

/// Usage estimated at 4 characters a token. With `cachePoint` blocks, the prefix before the last
/// one is reported as `cacheWriteInputTokens` the first time and `cacheReadInputTokens` after,
/// and excluded from `inputTokens`, as Bedrock does.
pub(crate) fn estimate_usage(
    req: &ConverseRequest,
    turn: &Turn,
    cache: &mut HashSet<u64>,
) -> Usage {
    // Walk system then messages as JSON text, remembering the length at the last cache point.
    let mut seen = String::new();
    let mut prefix_len = None;
    let mut visit = |block: &Map<String, Value>, seen: &mut String| {
        if block.contains_key("cachePoint") {
            prefix_len = Some(seen.len());
        } else if let Some(Value::String(text)) = block.get("text") {
            seen.push_str(text);
        } else {
            seen.push_str(&Value::Object(block.clone()).to_string());
        }
    };
    for block in &req.system {
        visit(block, &mut seen);
    }
    for message in &req.messages {
        for block in &message.content {
            visit(block, &mut seen);
        }
    }
    let output_chars: usize = turn
        .blocks
        .iter()
        .map(|b| match b {
            crate::script::Block::Text(t) => t.chars().count(),
            crate::script::Block::ToolUse { input, .. } => input.to_string().len(),
            crate::script::Block::Reasoning { text, .. } => text.chars().count(),
            crate::script::Block::RedactedReasoning(bytes) => bytes.len(),
        })
        .sum();
    let total = tokens(seen.len()).max(1);
    let mut usage = Usage {
        input_tokens: total,
        output_tokens: tokens(output_chars).max(1),
        ..Usage::default()
    };
    if let Some(len) = prefix_len.filter(|l| *l > 0) {
        let prefix = tokens(len);
        if cache.insert(hash(&seen[..len])) {
            usage.cache_write_input_tokens = prefix;
        } else {
            usage.cache_read_input_tokens = prefix;
        }
        usage.input_tokens = total.saturating_sub(prefix).max(1);
    }
    usage
}

#[cfg(test)]
mod sampling_tests {
    use super::*;
    use crate::catalog::Catalog;
    use serde_json::json;

    fn check(model_id: &str, body: Value) -> Result<(), String> {
        let catalog = Catalog::default_catalog();
        let model = catalog
            .foundation_models
            .iter()
            .find(|m| m.model_id == model_id)
            .unwrap();
        let mut body = body;
        body["messages"] = json!([{"role": "user", "content": [{"text": "Hi"}]}]);
        let req: ConverseRequest = serde_json::from_value(body).unwrap();
        validate(&req, model).map_err(|e| e.message)
    }

    #[test]
    fn claude_sampling_refusals() {
        let sonnet45 = "anthropic.claude-sonnet-4-5-20250929-v1:0";
        let sonnet4 = "anthropic.claude-sonnet-4-20250514-v1:0";
        let thinking = json!({"thinking": {"type": "enabled", "budget_tokens": 1024}});
        let both = json!({"inferenceConfig": {"temperature": 0.5, "topP": 0.9}});
        assert!(
            check(sonnet45, both.clone())
                .unwrap_err()
                .contains("cannot both be specified")
        );
        assert!(check(sonnet4, both).is_ok());
        for (config, fields, refused) in [
            (
                json!({"temperature": 0.5}),
                thinking.clone(),
                "`temperature` may only be set to 1",
            ),
            (
                json!({"topP": 0.5}),
                thinking.clone(),
                "`top_p` must be greater than or equal",
            ),
            (
                json!({}),
                json!({"thinking": {"type": "enabled", "budget_tokens": 1024}, "top_k": 5}),
                "`top_k` must be unset",
            ),
        ] {
            let body = json!({"inferenceConfig": config, "additionalModelRequestFields": fields});
            assert!(
                check(sonnet4, body).unwrap_err().contains(refused),
                "{refused}"
            );
        }
        let fine = json!({"inferenceConfig": {"temperature": 1.0, "topP": 0.95},
            "additionalModelRequestFields": thinking});
        assert!(check(sonnet4, fine).is_ok());
    }
}
