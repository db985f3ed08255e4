//! Request ids, the request span and its GenAI attributes, and the access-log line (leaf
//! module).
//!
//! Spans are plain `tracing` spans: this crate knows no OpenTelemetry. Their field names
//! follow OpenTelemetry's semantic conventions (`otel.name`, `otel.kind`, `gen_ai.*`,
//! `http.*`), so a `tracing-opentelemetry` layer installed by the program exports them as they
//! are. Joining the client's trace (W3C `traceparent` in) and passing it on to Bedrock
//! (`traceparent` out) needs the trace context, which only the program's OpenTelemetry layer
//! holds: the program hands it over as a [`TracePropagation`].

use std::fmt;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue};
use hyper::body::{Frame, SizeHint};
use openclaw_stream::{RequestIdSlot, StopReason, Usage};
use tracing::Span;
use tracing::field::Empty;

use crate::log::{ACCESS_TARGET, escape};

/// Target of the request spans (`openclaw::gateway::span`): a subscriber can route them to
/// OpenTelemetry and keep them out of text logs.
pub const SPAN_TARGET: &str = "openclaw::gateway::span";

/// The response header carrying the request id (and the request header honoured as one).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Longest client-sent request id honoured.
const MAX_REQUEST_ID: usize = 128;

/// The link between the request spans and the program's trace exporter (W3C Trace Context).
///
/// `openclaw-serve` creates its spans with `tracing` only; a program exporting them with
/// OpenTelemetry (`tracing-opentelemetry`) implements this trait so a request's span joins
/// the client's trace and the Bedrock call carries the trace on.
pub trait TracePropagation: fmt::Debug + Send + Sync {
    /// Makes the trace context in the request `headers` (`traceparent`, `tracestate`) the
    /// parent of `span` (called once, right after the span is created, before it is entered).
    fn set_parent(&self, span: &Span, headers: &HeaderMap);
    /// The W3C `traceparent` naming `span` as the parent, to send with an outgoing call;
    /// `None` when the span is not traced.
    fn traceparent(&self, span: &Span) -> Option<String>;
}

/// The request id: the client's `x-request-id` when it is sane (printable ASCII without
/// spaces, 1 to 128 characters), else a fresh one.
pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| is_sane_request_id(v))
        .map(str::to_owned)
        .unwrap_or_else(|| crate::ids::response_id("req_"))
}

fn is_sane_request_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_REQUEST_ID
        && value.bytes().all(|b| b.is_ascii_graphic())
}

/// Routes that get no span: health probes and scrapes (a balancer or Kubernetes calls them
/// every few seconds; their traces would drown the model calls).
const UNTRACED: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The span of one request (fields filled in as the request goes); none for
/// [`UNTRACED`] routes.
pub(crate) fn request_span(method: &str, route: &str, request_id: &str) -> Span {
    if UNTRACED.contains(&route) {
        return Span::none();
    }
    tracing::info_span!(
        target: SPAN_TARGET,
        "request",
        otel.name = %format!("{method} {route}"),
        otel.kind = "server",
        otel.status_code = Empty,
        http.request.method = %method,
        http.route = route,
        http.response.status_code = Empty,
        request_id = %request_id,
        gen_ai.system = Empty,
        gen_ai.operation.name = Empty,
        gen_ai.request.model = Empty,
        gen_ai.response.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.response.finish_reasons = Empty,
        aws.request_id = Empty,
        error.type = Empty,
    )
}

/// The child span of one Bedrock call for `model` (a Bedrock model id).
pub(crate) fn bedrock_span(parent: &Span, model: &str) -> Span {
    tracing::info_span!(
        target: SPAN_TARGET,
        parent: parent,
        "chat",
        otel.name = %format!("chat {model}"),
        otel.kind = "client",
        otel.status_code = Empty,
        gen_ai.system = "aws.bedrock",
        gen_ai.operation.name = "chat",
        gen_ai.request.model = %model,
        gen_ai.response.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        gen_ai.response.finish_reasons = Empty,
        aws.request_id = Empty,
        error.type = Empty,
    )
}

/// What one request shares between the middleware, the handler and the response body.
pub(crate) struct RequestTelemetry {
    /// The request id (also the `x-request-id` response header).
    pub(crate) id: String,
    /// The request's span.
    pub(crate) span: Span,
    /// Where the Bedrock call leaves Bedrock's request id.
    bedrock: Mutex<Option<RequestIdSlot>>,
}

tokio::task_local! {
    /// The telemetry of the request being handled (set by the middleware around the handler).
    static CURRENT: Arc<RequestTelemetry>;
}

impl RequestTelemetry {
    pub(crate) fn new(id: String, span: Span) -> Arc<Self> {
        Arc::new(RequestTelemetry {
            id,
            span,
            bedrock: Mutex::new(None),
        })
    }

    /// Runs `fut` (the handler) with this request's telemetry reachable by [`current`].
    pub(crate) async fn scope<F: Future>(self: Arc<Self>, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }

    /// A slot for Bedrock's request id, remembered for the access log.
    pub(crate) fn bedrock_slot(&self) -> RequestIdSlot {
        let slot = RequestIdSlot::new();
        *self.bedrock.lock().unwrap_or_else(|p| p.into_inner()) = Some(slot.clone());
        slot
    }

    /// Bedrock's request id, once a Bedrock call answered.
    pub(crate) fn bedrock_request_id(&self) -> Option<String> {
        self.bedrock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(RequestIdSlot::get)
    }
}

/// The telemetry of the request being handled, inside the middleware's scope.
pub(crate) fn current() -> Option<Arc<RequestTelemetry>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Records the GenAI request attributes on the request span.
pub(crate) fn record_request(span: &Span, model: &str) {
    span.record("gen_ai.system", "aws.bedrock");
    span.record("gen_ai.operation.name", "chat");
    span.record("gen_ai.request.model", model);
}

/// Records a finished answer on `span`.
pub(crate) fn record_done(span: &Span, model: &str, stop_reason: StopReason, usage: &Usage) {
    span.record("gen_ai.response.model", model);
    // Signed: OpenTelemetry's integer attributes are i64 (an u64 would be exported as text).
    let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    span.record(
        "gen_ai.usage.input_tokens",
        int(usage.input + usage.cache_read + usage.cache_write),
    );
    span.record("gen_ai.usage.output_tokens", int(usage.output));
    span.record("gen_ai.response.finish_reasons", finish_reason(stop_reason));
}

/// Records a failure on `span` (`kind`: the error kind, e.g. `throttled`).
pub(crate) fn record_error(span: &Span, kind: &str) {
    span.record("otel.status_code", "ERROR");
    span.record("error.type", kind);
}

/// The stop reason as `openclaw-stream` spells it (`stop`, `length`, `toolUse`, ...).
fn finish_reason(stop_reason: StopReason) -> String {
    serde_json::to_value(stop_reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| format!("{stop_reason:?}"))
}

/// The access-log line of one request, written when its response body ends (or is dropped:
/// a client that went away).
pub(crate) struct AccessLine {
    pub(crate) telemetry: Arc<RequestTelemetry>,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) status: u16,
    pub(crate) model: Option<String>,
    /// Model calls the request made (`x-openclaw-attempts`), when it called a model.
    pub(crate) attempts: Option<u64>,
    pub(crate) start: Instant,
}

impl Drop for AccessLine {
    fn drop(&mut self) {
        let took = self.start.elapsed().as_millis();
        let model = self.model.as_deref().unwrap_or("-");
        let bedrock = self.telemetry.bedrock_request_id();
        if let Some(id) = &bedrock {
            self.telemetry.span.record("aws.request_id", id.as_str());
        }
        // The path, the model name and the request id come from the client: escaped (the
        // request id is printable by construction), so no line can be forged.
        tracing::info!(
            target: ACCESS_TARGET,
            request_id = %self.telemetry.id,
            method = %self.method,
            path = %escape(&self.path),
            status = self.status,
            duration_ms = u64::try_from(took).unwrap_or(u64::MAX),
            model = %escape(model),
            attempts = self.attempts,
            bedrock_request_id = bedrock.as_deref().map(tracing::field::display),
            "{} {} {} {took}ms",
            self.method,
            escape(&self.path),
            self.status,
        );
    }
}

/// A response body that writes its request's access line when it ends: right before its last
/// bytes go out (so a client that has read the whole body finds the line written), or when it
/// is dropped unfinished.
pub(crate) struct Logged {
    inner: Body,
    line: Option<AccessLine>,
}

impl Logged {
    pub(crate) fn new(inner: Body, line: AccessLine) -> Self {
        Logged {
            inner,
            line: Some(line),
        }
    }
}

impl hyper::body::Body for Logged {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => drop(this.line.take()),
            Poll::Ready(Some(Ok(_))) if this.inner.is_end_stream() => drop(this.line.take()),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The `x-request-id` header value (`None` cannot happen: the id is printable ASCII).
pub(crate) fn header_value(id: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_request_ids_are_honoured_only_when_sane() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(REQUEST_ID_HEADER, HeaderValue::from_str(v).unwrap());
            request_id(&h)
        };
        assert_eq!(with("abc-123_XYZ.:/"), "abc-123_XYZ.:/");
        assert_eq!(with(&"a".repeat(128)), "a".repeat(128));
        for bad in ["", "has space", "tab\there", &"a".repeat(129)] {
            let id = with(bad);
            assert!(id.starts_with("req_") && id != bad, "{bad:?} -> {id}");
        }
        let fresh = request_id(&HeaderMap::new());
        assert!(fresh.starts_with("req_"));
        assert_ne!(fresh, request_id(&HeaderMap::new()));
    }

    #[test]
    fn finish_reasons_use_the_stream_names() {
        assert_eq!(finish_reason(StopReason::Stop), "stop");
        assert_eq!(finish_reason(StopReason::Length), "length");
    }
}
