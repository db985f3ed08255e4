//! Streaming model calls for OpenClaw: the provider-neutral [`ModelStream`] trait and its
//! Amazon Bedrock implementation, [`ConverseStream`], built on `aws-sdk-bedrockruntime`'s
//! `ConverseStream` operation.
//!
//! # Design
//!
//! - **Two layers.** The types (request, messages, events) and [`ModelStream`] know nothing of
//!   AWS; only [`converse`] touches the SDK (the ripgrep `matcher` pattern). A gateway or a CLI
//!   can drive any `dyn ModelStream` and map [`StreamEvent`]s to JSON lines or OpenAI SSE.
//! - **pi-ai's contract, event for event.** `start`, `text_*`, `thinking_*`, `toolcall_*`, then
//!   exactly one terminal `done{stop_reason, message, usage}` or `error{reason, message}`.
//!   Failures (bad request, HTTP errors, in-stream exceptions, timeouts, aborts) are events,
//!   never panics or a silently ended stream.
//! - **Errors are classified for programs.** Beyond pi-ai's `reason` and readable `message`,
//!   the `error` event carries an [`ErrorInfo`]: an [`ErrorKind`] (auth, not found, validation,
//!   throttled, unavailable, timeout, upstream, aborted), the provider's error code, the HTTP
//!   status and any `Retry-After`. The adapter fills it from the SDK's typed errors, so callers
//!   map failures to exit codes or HTTP statuses without parsing messages.
//! - **Cancellation by drop.** [`ModelStream::stream`] returns a lazy stream that owns the SDK
//!   future and event receiver, with no background task: dropping it closes the HTTP
//!   connection. An [`AbortSignal`] in [`StreamOptions`] ends the stream with
//!   `error{reason: aborted}` instead.
//! - **Retries belong to the SDK.** Throttling and 5xx answers *before* the stream starts are
//!   retried by the SDK's standard retry strategy (jittered exponential backoff, bounded attempts,
//!   [`AdapterOptions::max_attempts`]); once events flow nothing is retried (the caller has seen
//!   output). Timeouts: connect (the SDK's `TimeoutConfig`), first event and idle gap between
//!   events (ours: the SDK's stalled-stream protection does not cover event streams).
//! - **Failover before the first token.** [`failover::Failover`] tries an ordered list of
//!   models (fallbacks, other regions' profiles) and commits to the first that produces
//!   content; only failures another target can fix move on, with a circuit breaker per target.
//! - **One client per (region, endpoint, credentials)**, created once and reused: an adapter
//!   holds one credentials configuration and caches a client per region/endpoint pair.
//! - **Request building** follows pi-ai's `bedrock-converse-stream` and improves on it where it
//!   is wrong; see [`converse`] for the rules (redacted thinking replayed, orphaned tool calls
//!   answered at the end of the conversation too, same-role messages merged, collision-free
//!   tool-call id shortening, Nova prompt caching, Sonnet 4.6 adaptive thinking).
//!
//! # Example
//!
//! ```no_run
//! use futures::StreamExt;
//! use openclaw_config::ModelDefinition;
//! use openclaw_stream::{AdapterOptions, ConverseStream, Message, ModelStream, StreamEvent, StreamOptions, StreamRequest};
//!
//! # async fn run(sdk_config: aws_sdk_bedrockruntime::Config) {
//! let adapter = ConverseStream::new(sdk_config, AdapterOptions::default());
//! let model = ModelDefinition::new("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5");
//! let request = StreamRequest::new(model, vec![Message::user_text("Say hello")]);
//! let mut events = adapter.stream(request, StreamOptions::default());
//! while let Some(event) = events.next().await {
//!     match event {
//!         StreamEvent::TextDelta { delta, .. } => print!("{delta}"),
//!         StreamEvent::Done { usage, .. } => println!("\n{} tokens, ${:.6}", usage.total_tokens, usage.cost.total),
//!         StreamEvent::Error { message, info, .. } => eprintln!("error ({}): {message}", info.kind),
//!         _ => {}
//!     }
//! }
//! # }
//! ```
#![deny(missing_docs)]

use std::pin::Pin;

use futures::Stream;
use futures::future::BoxFuture;

mod abort;
mod b64;
pub mod capabilities;
pub mod converse;
pub mod failover;
mod partial_json;
mod types;

pub use abort::{AbortController, AbortSignal};
pub use converse::adapter::{AdapterOptions, ConverseStream};
pub use types::{
    AssistantContent, AssistantMessage, CachePlacement, CachePoint, CacheRetention, CacheTtl,
    Content, Cost, ErrorInfo, ErrorKind, ErrorReason, Message, MessageError, ReasoningLevel,
    StopReason, StreamEvent, StreamRequest, SystemBlock, ThinkingBudget, ToolCall, ToolChoice,
    ToolDefinition, ToolResultMessage, Usage, UserMessage,
};

// Compatibility for callers written before the provider and API ids moved to `converse`: use
// `converse::PROVIDER` and `converse::API`.
#[doc(hidden)]
pub use converse::{API, PROVIDER};

/// A stream of [`StreamEvent`]s ending with exactly one terminal event.
pub type EventStream = Pin<Box<dyn Stream<Item = StreamEvent> + Send>>;

/// A model that answers a [`StreamRequest`] with a stream of events.
///
/// Implementations never fail outside the stream: every failure is a terminal
/// [`StreamEvent::Error`]. The returned stream does nothing until polled, and dropping it
/// cancels the request.
pub trait ModelStream: Send + Sync {
    /// Starts a model call.
    fn stream(&self, request: StreamRequest, options: StreamOptions) -> EventStream;

    /// Counts the input tokens `request` would use, without running the model. The default
    /// answers that counting is not supported ([`ErrorKind::Validation`], code
    /// `count_tokens_unsupported`).
    fn count_tokens(
        &self,
        request: StreamRequest,
        options: StreamOptions,
    ) -> BoxFuture<'static, Result<u64, CallError>> {
        let _ = (request, options);
        Box::pin(std::future::ready(Err(CallError {
            info: ErrorInfo::new(ErrorKind::Validation).with_code("count_tokens_unsupported"),
            message: "token counting is not supported by this model stream".into(),
        })))
    }
}

/// A failed non-streaming call (such as [`ModelStream::count_tokens`]), classified like the
/// terminal error of a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct CallError {
    /// The failure's classification (kind, provider code, HTTP status, `Retry-After`).
    pub info: ErrorInfo,
    /// Readable description (never a credential).
    pub message: String,
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CallError {}

/// Per-call options that are not part of the conversation.
#[derive(Debug, Clone, Default)]
pub struct StreamOptions {
    /// Ends the stream with `error{reason: aborted}` when the controller aborts.
    pub abort: Option<AbortSignal>,
    /// Region override for this call (the adapter's default otherwise).
    pub region: Option<String>,
    /// Endpoint URL override for this call (the adapter's default otherwise).
    pub endpoint: Option<String>,
    /// W3C Trace Context `traceparent` (`00-<trace id>-<parent id>-<flags>`) to send with the
    /// provider request, so the provider call joins the caller's trace; the Converse adapter
    /// sends it as the `traceparent` HTTP header. A value that is not a well-formed
    /// `traceparent` is not sent.
    pub traceparent: Option<String>,
    /// Receives the provider's request id (Bedrock's `x-amzn-requestid`) when a response,
    /// successful or not, arrives: for logs and support cases.
    pub request_id: Option<RequestIdSlot>,
    /// The caller forwards the deltas and never reads the accumulated text: an implementation
    /// may then leave the text and reasoning out of `TextEnd::text`, `ThinkingEnd::thinking`
    /// and the text and thinking blocks of the terminal event's message (tool calls,
    /// signatures, usage and the rest of the message are complete). A proxy that streams an
    /// answer on sets it, so an open stream does not hold the whole answer (the Converse
    /// adapter honours it).
    pub deltas_only: bool,
}

/// Where a model stream leaves the provider's id of the request it made (cloned handles share
/// one value; the latest response wins).
#[derive(Debug, Clone, Default)]
pub struct RequestIdSlot(std::sync::Arc<std::sync::Mutex<Option<String>>>);

impl RequestIdSlot {
    /// An empty slot.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the provider's request id.
    pub fn set(&self, id: impl Into<String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.into());
    }

    /// The request id recorded so far, if any.
    pub fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Whether `value` is a W3C `traceparent` this crate forwards: version `00`, a 32-hex trace
/// id and a 16-hex parent id (neither all zeros), 2-hex flags, lowercase.
pub fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    matches!(parts.as_slice(), [version, trace, parent, flags]
        if *version == "00" && hex(trace, 32) && nonzero(trace) && hex(parent, 16)
            && nonzero(parent) && hex(flags, 2))
}

/// Errors raised before a request reaches the provider; they reach callers as the message of
/// a terminal [`StreamEvent::Error`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An image whose type Bedrock does not accept.
    #[error(
        "unsupported image type `{mime_type}` in the conversation: expected image/jpeg, image/png, image/gif or image/webp"
    )]
    UnsupportedImage {
        /// The MIME type found.
        mime_type: String,
    },
    /// A document whose format Bedrock does not accept.
    #[error(
        "unsupported document format `{format}` in the conversation: expected pdf, csv, doc, docx, xls, xlsx, html, txt or md"
    )]
    UnsupportedDocument {
        /// The format found.
        format: String,
    },
    /// A caller's additional model request field the adapter also sets, with another value.
    #[error(
        "additional model request field `{key}` from {origin} conflicts with the value the adapter sets for {purpose}: expected the same value or no such field"
    )]
    FieldConflict {
        /// The top-level key.
        key: String,
        /// Where the caller's value came from: `the request` or `the model configuration`.
        origin: &'static str,
        /// What the adapter sets the key for, for example `extended thinking`.
        purpose: &'static str,
    },
    /// The SDK refused to build a request value.
    #[error("could not build the converse request: {message}")]
    Request {
        /// The SDK's description.
        message: String,
    },
}

impl Error {
    /// The kind of the terminal event this error becomes: [`ErrorKind::Validation`] (the
    /// request cannot be sent as it is).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnsupportedImage { .. }
            | Error::UnsupportedDocument { .. }
            | Error::FieldConflict { .. }
            | Error::Request { .. } => ErrorKind::Validation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Silent;

    impl ModelStream for Silent {
        fn stream(&self, _: StreamRequest, _: StreamOptions) -> EventStream {
            Box::pin(futures::stream::empty())
        }
    }

    #[test]
    fn traceparent_validation() {
        let ok = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert!(is_valid_traceparent(ok));
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nx: y",
        ] {
            assert!(!is_valid_traceparent(bad), "{bad:?}");
        }
    }

    #[test]
    fn request_id_slot_is_shared_and_keeps_the_latest() {
        let slot = RequestIdSlot::new();
        assert_eq!(slot.get(), None);
        let handle = slot.clone();
        handle.set("first");
        handle.set("second");
        assert_eq!(slot.get().as_deref(), Some("second"));
    }

    #[tokio::test]
    async fn count_tokens_defaults_to_unsupported() {
        let model = openclaw_config::ModelDefinition::new("m", "m");
        let err = Silent
            .count_tokens(
                StreamRequest::new(model, vec![Message::user_text("hi")]),
                StreamOptions::default(),
            )
            .await
            .unwrap_err();
        assert_eq!(
            err,
            CallError {
                info: ErrorInfo::new(ErrorKind::Validation).with_code("count_tokens_unsupported"),
                message: "token counting is not supported by this model stream".into(),
            }
        );
        assert_eq!(err.to_string(), err.message);
    }
}
