//! The Amazon Bedrock Converse streaming adapter: the only module that knows
//! `aws-sdk-bedrockruntime`.
//!
//! - `request` turns a [`StreamRequest`](crate::StreamRequest) into Converse input (system
//!   blocks and cache points, messages, inference config, tools, Claude thinking fields).
//! - `model` holds the per-model rules (read from [`crate::capabilities`] through the base
//!   model: caching, thinking styles and budgets, families, unknown models).
//! - `trace` renders a guardrail trace as JSON.
//! - [`Converter`] is the pure state machine from stream items to
//!   [`StreamEvent`](crate::StreamEvent)s.
//! - [`ConverseStream`](crate::ConverseStream) ties them together with clients, retries,
//!   timeouts, abort and token counting.
//!
//! Request rules beyond pi-ai 0.73 (each documented where implemented): redacted thinking is
//! replayed to its model family; orphaned tool calls are answered with a synthetic error result
//! also when the conversation ends on them; consecutive same-role messages are merged (Bedrock
//! rejects them); over-long tool-call ids are shortened with a hash suffix (no collisions);
//! `ToolChoice::None` keeps the tool specs (without a choice) when the history holds tool blocks,
//! since Bedrock rejects such a history without a `toolConfig`.
//!
//! Requests Bedrock would refuse are made valid (each proven against `fake-bedrock`, which
//! validates them like Bedrock):
//!
//! - a tool result with no content (or only blank text) is sent as the text
//!   `(no tool output)` (pi-ai's placeholder);
//! - a history with tool calls or results but no tools in the request (a summary turn, a
//!   tool-less follow-up) has its `toolUse`/`toolResult` blocks rewritten as text
//!   (`[tool call <id>: <name> <arguments>]`, `[tool result <id> (<name>): <text>]`, images kept
//!   as image blocks): Bedrock refuses those blocks without a `toolConfig`, and synthesising
//!   tool specs would let the model call tools the caller does not offer;
//! - a forced tool choice (`Any` or a named tool) with Claude extended thinking, which Anthropic
//!   refuses ("Thinking may not be enabled when tool_choice forces tool use"), becomes `auto`:
//!   the thinking asked for is kept, the tool stays offered, and a `tracing::debug!` records the
//!   downgrade.

pub(crate) mod adapter;
pub(crate) mod convert;
pub(crate) mod model;
pub(crate) mod request;
pub(crate) mod trace;

pub use convert::Converter;

/// The provider id recorded on assistant messages produced by
/// [`ConverseStream`](crate::ConverseStream).
pub const PROVIDER: &str = "amazon-bedrock";
/// The API id recorded on assistant messages produced by
/// [`ConverseStream`](crate::ConverseStream).
pub const API: &str = "bedrock-converse-stream";
