//! The deterministic token count of `CountTokens` (and its input validation).
//!
//! The rule, simple enough for a test to recompute:
//!
//! ```text
//! inputTokens = max(1, ceil(B / 4)) + 1600 × media blocks + 100 × tool definitions
//! ```
//!
//! where `B` is the number of UTF-8 bytes of:
//!
//! - Converse input (`input.converse`): every `text` of `system` and of message content;
//!   `toolUse`: `name` plus the compact JSON of `input`; `toolResult`: each content block's
//!   `text`, or the compact JSON of its `json`; `reasoningContent.reasoningText.text`; each
//!   `toolConfig.tools[].toolSpec`: `name`, `description` and the compact JSON of
//!   `inputSchema.json`. `cachePoint` blocks count nothing, `image`, `document` and `video` blocks
//!   are media blocks, any other block counts the bytes of its compact JSON.
//!   `additionalModelRequestFields` and `toolChoice` count nothing.
//! - InvokeModel input (`input.invokeModel.body`, an Anthropic Messages body): `system` (a string
//!   or text blocks), message `content` (a string, or blocks: `text`; `tool_use`: `name` plus the
//!   compact JSON of `input`; `tool_result`: its string content or its blocks' `text`; `thinking`:
//!   its text; `image` and `document` are media blocks; other blocks their compact JSON), and
//!   each of `tools[]`: `name`, `description` and the compact JSON of `input_schema`.
//!
//! For a text-only Converse request this equals the input tokens the fake's Converse reports
//! (`inputTokens` plus `cacheReadInputTokens` plus `cacheWriteInputTokens`).

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::wire::ConverseRequest;

/// Tokens of one image, document or video block.
pub(crate) const MEDIA_TOKENS: u32 = 1_600;
/// Fixed tokens of one tool definition (on top of its bytes).
pub(crate) const TOOL_TOKENS: u32 = 100;

/// Bytes and fixed costs gathered from a request.
#[derive(Default)]
struct Tally {
    bytes: usize,
    fixed: u32,
}

impl Tally {
    fn text(&mut self, value: Option<&Value>) {
        if let Some(Value::String(text)) = value {
            self.bytes += text.len();
        }
    }

    fn json(&mut self, value: Option<&Value>) {
        if let Some(value) = value {
            self.bytes += value.to_string().len();
        }
    }

    fn media(&mut self) {
        self.fixed = self.fixed.saturating_add(MEDIA_TOKENS);
    }

    fn tool(&mut self) {
        self.fixed = self.fixed.saturating_add(TOOL_TOKENS);
    }

    fn tokens(&self) -> u32 {
        let text = u32::try_from(self.bytes.div_ceil(4)).unwrap_or(u32::MAX);
        text.max(1).saturating_add(self.fixed)
    }
}

/// Counts a Converse request (`input.converse`).
pub(crate) fn converse_tokens(req: &ConverseRequest) -> u32 {
    let mut tally = Tally::default();
    for block in &req.system {
        converse_block(&mut tally, block);
    }
    for message in &req.messages {
        for block in &message.content {
            converse_block(&mut tally, block);
        }
    }
    for tool in req.tool_config.iter().flat_map(|c| &c.tools) {
        if tool.contains_key("cachePoint") {
            continue;
        }
        tally.tool();
        match tool.get("toolSpec") {
            Some(spec) => {
                tally.text(spec.get("name"));
                tally.text(spec.get("description"));
                tally.json(spec.get("inputSchema").and_then(|s| s.get("json")));
            }
            None => tally.json(Some(&Value::Object(tool.clone()))),
        }
    }
    tally.tokens()
}

fn converse_block(tally: &mut Tally, block: &Map<String, Value>) {
    if block.contains_key("cachePoint") {
        return;
    }
    if let Some(text) = block.get("text") {
        tally.text(Some(text));
    } else if ["image", "document", "video"]
        .iter()
        .any(|k| block.contains_key(*k))
    {
        tally.media();
    } else if let Some(tool_use) = block.get("toolUse") {
        tally.text(tool_use.get("name"));
        tally.json(tool_use.get("input"));
    } else if let Some(result) = block.get("toolResult") {
        for item in result
            .get("content")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match item.as_object() {
                Some(item) if item.contains_key("json") => tally.json(item.get("json")),
                Some(item) => converse_block(tally, item),
                None => tally.json(Some(item)),
            }
        }
    } else if let Some(text) = block
        .get("reasoningContent")
        .and_then(|r| r.get("reasoningText"))
        .and_then(|r| r.get("text"))
    {
        tally.text(Some(text));
    } else {
        tally.json(Some(&Value::Object(block.clone())));
    }
}

fn malformed(detail: &str) -> ApiError {
    ApiError::validation(&format!(
        "Malformed input request: {detail}, please reformat your input and try again."
    ))
}

/// Counts an Anthropic Messages body (`input.invokeModel.body`, already base64-decoded),
/// refusing what Bedrock's Anthropic schema check refuses: not a JSON object, no
/// `anthropic_version`, no `messages` array.
pub(crate) fn anthropic_body_tokens(body: &[u8]) -> Result<u32, ApiError> {
    let Ok(Value::Object(body)) = serde_json::from_slice::<Value>(body) else {
        return Err(ApiError::validation(
            "Malformed input request, please reformat your input and try again.",
        ));
    };
    for key in ["anthropic_version", "messages"] {
        if !body.contains_key(key) {
            return Err(malformed(&format!("#: required key [{key}] not found")));
        }
    }
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return Err(malformed(
            "#/messages: expected type: JSONArray, found: JSONObject",
        ));
    };
    let mut tally = Tally::default();
    anthropic_content(&mut tally, body.get("system"));
    for message in messages {
        anthropic_content(&mut tally, message.get("content"));
    }
    for tool in body
        .get("tools")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        tally.tool();
        tally.text(tool.get("name"));
        tally.text(tool.get("description"));
        tally.json(tool.get("input_schema"));
    }
    Ok(tally.tokens())
}

/// A string, or an array of content blocks.
fn anthropic_content(tally: &mut Tally, content: Option<&Value>) {
    match content {
        Some(Value::String(_)) => tally.text(content),
        Some(Value::Array(blocks)) => {
            for block in blocks {
                anthropic_block(tally, block);
            }
        }
        Some(other) => tally.json(Some(other)),
        None => {}
    }
}

fn anthropic_block(tally: &mut Tally, block: &Value) {
    match block.get("type").and_then(Value::as_str) {
        Some("text") => tally.text(block.get("text")),
        Some("image" | "document") => tally.media(),
        Some("tool_use") => {
            tally.text(block.get("name"));
            tally.json(block.get("input"));
        }
        Some("tool_result") => anthropic_content(tally, block.get("content")),
        Some("thinking") => tally.text(block.get("thinking")),
        _ => tally.json(Some(block)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converse(json: Value) -> u32 {
        converse_tokens(&serde_json::from_value(json).unwrap())
    }

    #[test]
    fn converse_counts_text_bytes_media_and_tools() {
        // 5 + 11 bytes of text: ceil(16 / 4) = 4.
        let text = serde_json::json!({
            "system": [{"text": "Be ok"}, {"cachePoint": {"type": "default"}}],
            "messages": [{"role": "user", "content": [{"text": "hello world"}]}],
            "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 1024}}
        });
        assert_eq!(converse(text), 4);
        // "é" is two bytes: ceil(2 / 4) = 1; an image adds 1600.
        let media = serde_json::json!({"messages": [{"role": "user", "content": [
            {"text": "é"}, {"image": {"format": "png", "source": {"bytes": "AAAA"}}}
        ]}]});
        assert_eq!(converse(media), 1 + MEDIA_TOKENS);
        // Tool spec: "t" + "d" + `{"type":"object"}` (17) = 19 bytes; toolUse "t" + `{"a":1}`
        // (7) = 8; toolResult json `{"ok":true}` (11) and text "fine" (4): 42 bytes = 11 tokens.
        let tools = serde_json::json!({
            "messages": [
                {"role": "user", "content": [{"text": "x"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "i", "name": "t", "input": {"a": 1}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "i", "content": [{"json": {"ok": true}}, {"text": "fine"}]}}]}
            ],
            "toolConfig": {"tools": [{"toolSpec": {"name": "t", "description": "d", "inputSchema": {"json": {"type": "object"}}}}], "toolChoice": {"auto": {}}}
        });
        assert_eq!(converse(tools), 11 + TOOL_TOKENS);
        assert_eq!(converse(serde_json::json!({})), 1);
    }

    #[test]
    fn anthropic_bodies_count_and_are_checked() {
        let body = serde_json::json!({
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 10,
            "system": "sys!",
            "messages": [
                {"role": "user", "content": "abcd"},
                {"role": "assistant", "content": [{"type": "thinking", "thinking": "hm", "signature": "s"}, {"type": "tool_use", "id": "i", "name": "t", "input": {}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "i", "content": [{"type": "text", "text": "ok"}]}, {"type": "image", "source": {}}]}
            ],
            "tools": [{"name": "t", "description": "d", "input_schema": {}}]
        });
        // 4 + 4 + 2 + (1 + 2) + 2 + (1 + 1 + 2) = 19 bytes = 5 tokens.
        assert_eq!(
            anthropic_body_tokens(body.to_string().as_bytes()).unwrap(),
            5 + MEDIA_TOKENS + TOOL_TOKENS
        );
        let missing = anthropic_body_tokens(br#"{"messages": []}"#).unwrap_err();
        assert!(
            missing
                .message
                .contains("required key [anthropic_version] not found"),
            "{missing:?}"
        );
        let not_json = anthropic_body_tokens(b"nope").unwrap_err();
        assert_eq!(not_json.error_type, "ValidationException");
        assert!(anthropic_body_tokens(br#"{"anthropic_version": "x", "messages": {}}"#).is_err());
    }
}
