//! Running one model stream for a client: the concurrency permit, the wait for the first
//! event, and the SSE body that every client API shares (coalesced frames, keep-alives,
//! metrics). What the events look like on the wire is the [`EventWriter`]'s business.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures::StreamExt;
use openclaw_stream::{
    ErrorInfo, ErrorKind, EventStream, RequestIdSlot, StreamEvent, StreamOptions, StreamRequest,
};
use tokio::sync::OwnedSemaphorePermit;
use tracing::Span;

use crate::api_error::{ApiError, UpstreamFailure, upstream};
use crate::log::LOG_TARGET;
use crate::models::ResolvedModel;
use crate::state::App;
use crate::telemetry;

/// Renders stream events in one client API's SSE format.
pub(crate) trait EventWriter: Send + 'static {
    /// Appends the SSE bytes of `event`.
    fn write(&mut self, event: &StreamEvent, out: &mut Vec<u8>);
    /// Appends a keep-alive that clients ignore (sent after a long silence, so proxies and
    /// clients do not time the connection out while the model thinks).
    fn keepalive(&mut self, out: &mut Vec<u8>);
}

/// Silence after which a keep-alive is sent.
const KEEPALIVE: Duration = Duration::from_secs(15);

/// A model stream that has delivered its first event (not an error).
pub(crate) struct Started {
    pub(crate) events: EventStream,
    pub(crate) first: StreamEvent,
    pub(crate) guard: StreamGuard,
}

/// Takes a concurrency permit (see [`admit`]), starts the model stream and waits for Bedrock's
/// first event, so a failure before the stream starts gets its own HTTP status instead of a 200
/// with an error inside.
///
/// `streaming`: the answer is streamed on as deltas (the model stream then need not accumulate
/// the answer's text, [`openclaw_stream::StreamOptions::deltas_only`]).
pub(crate) async fn start(
    app: &Arc<App>,
    model: &ResolvedModel,
    request: StreamRequest,
    key: &str,
    streaming: bool,
) -> Result<Started, ApiError> {
    let permit = admit(app).await?;
    let mut guard = StreamGuard::new(app.clone(), permit);
    let mut options = guard.trace(app, &model.def.id);
    options.deltas_only = streaming;
    let mut events = model.stream.stream(request, options);
    let first = events
        .next()
        .await
        .unwrap_or_else(|| no_terminal("bedrock stream ended without any event"));
    if let StreamEvent::Error { message, info, .. } = &first {
        guard.terminal(&first);
        tracing::warn!(target: LOG_TARGET, "bedrock call for {} failed ({}): {message}", crate::log::escape(key), info.kind);
        return Err(upstream(info, message));
    }
    Ok(Started {
        events,
        first,
        guard,
    })
}

/// A stream slot: at once when one is free; else a place in the bounded queue, waiting at most
/// [`crate::Limits::queue_wait`] (503 with `Retry-After` after); a full queue (or none) answers
/// 429 with `Retry-After` at once. Waiters are served first come, first served (the
/// semaphore's queue), and a waiter whose client disconnects leaves the queue.
async fn admit(app: &Arc<App>) -> Result<OwnedSemaphorePermit, ApiError> {
    let metrics = &app.metrics;
    if let Ok(permit) = app.permits.clone().try_acquire_owned() {
        metrics.stream_admitted(false);
        return Ok(permit);
    }
    let limits = &app.options.limits;
    let Some(place) = QueuePlace::take(app, limits.max_queued_streams) else {
        metrics.stream_shed(false);
        return Err(ApiError::too_many_streams(
            limits.max_concurrent_streams,
            limits.max_queued_streams,
        ));
    };
    let waited = tokio::time::timeout(limits.queue_wait, app.permits.clone().acquire_owned()).await;
    drop(place);
    match waited {
        Ok(Ok(permit)) => {
            metrics.stream_admitted(true);
            Ok(permit)
        }
        // The semaphore is never closed; a closed one would be a full gateway all the same.
        Ok(Err(_)) | Err(_) => {
            metrics.stream_shed(true);
            Err(ApiError::queue_timeout(limits.queue_wait))
        }
    }
}

/// A request's place in the queue for a stream slot, given back on drop (also when the client
/// disconnects while waiting).
struct QueuePlace<'a>(&'a App);

impl<'a> QueuePlace<'a> {
    /// A place, unless `max` requests already wait (or the queue is off).
    fn take(app: &'a App, max: usize) -> Option<Self> {
        use std::sync::atomic::Ordering;
        if app.options.limits.queue_wait.is_zero() {
            return None;
        }
        let queued = &app.admission.queued;
        queued
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()?;
        app.metrics.stream_queue(1);
        Some(QueuePlace(app))
    }
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0
            .admission
            .queued
            .fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        self.0.metrics.stream_queue(-1);
    }
}

/// Reads a started stream to its end (non-streaming answers): the terminal event, with the
/// first-token time and token metrics recorded.
pub(crate) async fn finish(started: Started, start: Instant) -> StreamEvent {
    let Started {
        mut events,
        first,
        guard,
    } = started;
    let metrics = &guard.app.metrics;
    let mut first_token = false;
    let mut next = Some(first);
    loop {
        let event = match next.take() {
            Some(e) => e,
            None => match events.next().await {
                Some(e) => e,
                None => return no_terminal("bedrock stream ended without a terminal event"),
            },
        };
        if !first_token && is_token(&event) {
            first_token = true;
            metrics.first_token(start.elapsed());
        }
        match &event {
            StreamEvent::Done { usage, message, .. } => {
                metrics.tokens(usage);
                metrics.cost(&message.model, usage);
                guard.terminal(&event);
                return event;
            }
            StreamEvent::Error { .. } => {
                guard.terminal(&event);
                return event;
            }
            _ => {}
        }
    }
}

/// The SSE response of a started stream.
pub(crate) fn response<W: EventWriter>(started: Started, writer: W, start: Instant) -> Response {
    let Started {
        events,
        first,
        guard,
    } = started;
    // Boxed: the body moves its state in and out of a new future for every frame.
    let mut state = Box::new(Sse {
        events,
        writer,
        buf: Vec::new(),
        frame_hint: BUF_INITIAL,
        done: false,
        fresh: true,
        turns: 0,
        first_token_now: false,
        first_token: false,
        start,
        guard,
        keepalive: Box::pin(tokio::time::sleep(KEEPALIVE)),
        last_write: Instant::now(),
    });
    state.push(&first);
    let body = Body::from_stream(futures::stream::unfold(state, |mut s| async move {
        loop {
            if s.fresh {
                // Events that follow each other closely go out in one body frame (one write
                // on the socket, see `gather`).
                s.fresh = false;
                s.gather().await;
            }
            if !s.buf.is_empty() {
                s.last_write = Instant::now();
                // The frame takes the render buffer (no copy; `Bytes` adds a small header when
                // the buffer is not full), and the next render starts a buffer of about this
                // frame's size: a stream holds no buffer between frames (memory per open
                // stream).
                let frame = Bytes::from(std::mem::take(&mut s.buf));
                s.frame_hint = frame.len().clamp(BUF_INITIAL, BUF_LARGEST_HINT);
                return Some((Ok::<Bytes, Infallible>(frame), s));
            }
            if s.done {
                return None;
            }
            tokio::select! {
                biased;
                event = s.events.next() => {
                    s.push_next(event);
                    s.fresh = true;
                }
                () = &mut s.keepalive => {
                    // The timer is only reset when it fires, not per event.
                    let due = s.last_write + KEEPALIVE;
                    let now = Instant::now();
                    if now >= due {
                        s.writer.keepalive(render_buf(&mut s.buf, s.frame_hint));
                        s.keepalive.as_mut().reset((now + KEEPALIVE).into());
                    } else {
                        s.keepalive.as_mut().reset(due.into());
                    }
                }
            }
        }
    }));
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The terminal event standing in for one a misbehaving [`openclaw_stream::ModelStream`]
/// never sent.
pub(crate) fn no_terminal(message: &str) -> StreamEvent {
    let info = ErrorInfo::new(ErrorKind::Upstream);
    StreamEvent::Error {
        reason: info.reason(),
        message: message.into(),
        info,
        partial: None,
    }
}

fn is_token(event: &StreamEvent) -> bool {
    matches!(
        event,
        StreamEvent::TextDelta { .. }
            | StreamEvent::ThinkingDelta { .. }
            | StreamEvent::ToolCallStart { .. }
    )
}

/// The state of one SSE response. Dropping it (end of stream or client disconnect) drops the
/// model stream, which closes the upstream connection, and releases the concurrency permit.
struct Sse<W> {
    events: EventStream,
    writer: W,
    /// SSE bytes rendered and not yet handed to hyper; each frame takes it, and the next render
    /// starts a new one at `frame_hint` bytes (starting empty grew it several times per event).
    buf: Vec<u8>,
    /// The capacity a new render buffer starts with (the last frame's size, bounded).
    frame_hint: usize,
    done: bool,
    /// An event was rendered and not gathered with its followers yet.
    fresh: bool,
    /// Turns of the scheduler the next gathering waits without a new event: none for the
    /// first frame (it goes out with the response head, in the same write), then
    /// [`BURST_TURNS`] after a gathering that found followers (events come in bursts), else 1.
    turns: usize,
    /// The first token was rendered and has not gone out yet.
    first_token_now: bool,
    first_token: bool,
    start: Instant,
    guard: StreamGuard,
    keepalive: std::pin::Pin<Box<tokio::time::Sleep>>,
    last_write: Instant,
}

/// The smallest capacity a render buffer starts with: a text delta's chunk fits.
const BUF_INITIAL: usize = 512;
/// The largest capacity a render buffer starts with (a burst after a large frame grows it).
const BUF_LARGEST_HINT: usize = 4096;

/// Most events gathered into one body frame (beyond, the frame goes out and the rest follows).
const FRAME_EVENTS: usize = 64;
/// Turns of the scheduler without a new event after which a frame of a burst goes out.
const BURST_TURNS: usize = 3;
/// Most bytes gathered into one body frame.
const FRAME_BYTES: usize = 16 * 1024;
/// Longest an event already rendered waits for the ones after it before its frame goes out.
const GATHER_MAX_WAIT: Duration = Duration::from_millis(2);

impl<W: EventWriter> Sse<W> {
    /// After an event: renders the events that follow it closely, up to a frame's worth, and
    /// returns when the stream ended, the frame is full, or a few turns of the scheduler passed
    /// without a new event. The Bedrock connection's reader (another task, often on another
    /// worker thread) hands over one event per wake, since hyper's body channel holds one
    /// chunk: events it has already read arrive a scheduler turn apart, and writing after each
    /// would cost one socket write (and the client's TCP processing) per event. A turn here is
    /// a wake of this task behind the tasks already queued, never a wait for an event that has
    /// not arrived: a stream whose events come one by one (a real model) spends one turn per
    /// event, a burst gets [`BURST_TURNS`] turns between two events (see [`Sse::turns`]).
    async fn gather(&mut self) {
        let mut n = 0;
        let mut idle = 0;
        let turns = self.turns;
        let began = Instant::now();
        std::future::poll_fn(|cx| {
            let mut got = false;
            while !self.done && n < FRAME_EVENTS && self.buf.len() < FRAME_BYTES {
                match self.events.poll_next_unpin(cx) {
                    Poll::Ready(event) => self.push_next(event),
                    Poll::Pending => break,
                }
                got = true;
                n += 1;
            }
            // The first token goes out at once: time to first token is what a client feels.
            let first_token = std::mem::take(&mut self.first_token_now);
            if first_token || self.done || n >= FRAME_EVENTS || self.buf.len() >= FRAME_BYTES {
                return Poll::Ready(());
            }
            idle = if got { 0 } else { idle + 1 };
            // On a busy runtime one turn can take milliseconds, and events arriving a few turns
            // apart would keep a frame growing: the wall clock bounds how long the first event
            // of a frame waits for the others.
            if idle > turns || began.elapsed() >= GATHER_MAX_WAIT {
                return Poll::Ready(());
            }
            // Polled again once the tasks queued on this worker have run.
            cx.waker().wake_by_ref();
            Poll::Pending
        })
        .await;
        self.turns = if n > 0 { BURST_TURNS } else { 1 };
    }

    /// Renders the model stream's next item (`None`: it ended without a terminal event).
    fn push_next(&mut self, event: Option<StreamEvent>) {
        match event {
            Some(event) => self.push(&event),
            None => self.push(&no_terminal(
                "bedrock stream ended without a terminal event",
            )),
        }
    }

    fn push(&mut self, event: &StreamEvent) {
        let metrics = &self.guard.app.metrics;
        if !self.first_token && is_token(event) {
            self.first_token = true;
            self.first_token_now = true;
            metrics.first_token(self.start.elapsed());
        }
        match event {
            StreamEvent::Done { usage, message, .. } => {
                metrics.tokens(usage);
                metrics.cost(&message.model, usage);
            }
            StreamEvent::Error { message, info, .. } => {
                tracing::warn!(target: LOG_TARGET, "bedrock stream failed after it started ({}): {message}", info.kind);
                metrics.upstream_error(&UpstreamFailure::of(info));
            }
            _ => {}
        }
        if event.is_terminal() {
            self.done = true;
            self.guard.terminal(event);
        }
        self.writer
            .write(event, render_buf(&mut self.buf, self.frame_hint));
    }
}

/// The render buffer `buf`, allocated at `hint` bytes when a frame took the last one.
fn render_buf(buf: &mut Vec<u8>, hint: usize) -> &mut Vec<u8> {
    if buf.capacity() == 0 {
        buf.reserve(hint);
    }
    buf
}

/// Holds a concurrency permit and measures the stream's duration until dropped.
pub(crate) struct StreamGuard {
    app: Arc<App>,
    started: Instant,
    _permit: OwnedSemaphorePermit,
    /// The spans of the request and of the Bedrock call (open while the stream is).
    trace: Option<Traced>,
}

/// The spans a model stream keeps open, and where Bedrock's request id arrives.
struct Traced {
    request: Span,
    bedrock: Span,
    slot: RequestIdSlot,
}

impl StreamGuard {
    fn new(app: Arc<App>, permit: OwnedSemaphorePermit) -> Self {
        app.metrics.stream_started();
        StreamGuard {
            app,
            started: Instant::now(),
            _permit: permit,
            trace: None,
        }
    }

    /// Opens the span of the Bedrock call for `model` under the request's span, and returns
    /// the stream options carrying its trace context and the slot for Bedrock's request id.
    fn trace(&mut self, app: &App, model: &str) -> StreamOptions {
        let current = telemetry::current();
        let request = current
            .as_ref()
            .map_or_else(Span::current, |r| r.span.clone());
        telemetry::record_request(&request, model);
        let bedrock = telemetry::bedrock_span(&request, model);
        let traceparent = app
            .options
            .trace_propagation
            .as_ref()
            .and_then(|p| p.traceparent(&bedrock));
        let slot = current.map(|r| r.bedrock_slot()).unwrap_or_default();
        self.trace = Some(Traced {
            request,
            bedrock,
            slot: slot.clone(),
        });
        StreamOptions {
            traceparent,
            request_id: Some(slot),
            ..StreamOptions::default()
        }
    }

    /// Records a terminal event on the spans.
    fn terminal(&self, event: &StreamEvent) {
        let Some(trace) = &self.trace else { return };
        for span in [&trace.request, &trace.bedrock] {
            match event {
                StreamEvent::Done {
                    stop_reason,
                    message,
                    usage,
                } => telemetry::record_done(span, &message.model, *stop_reason, usage),
                StreamEvent::Error { info, .. } => {
                    telemetry::record_error(span, &info.kind.to_string())
                }
                _ => {}
            }
        }
        if let Some(id) = trace.slot.get() {
            trace.bedrock.record("aws.request_id", id.as_str());
        }
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        let took: Duration = self.started.elapsed();
        self.app.metrics.stream_ended(took);
        tracing::debug!(target: LOG_TARGET, "model stream closed after {}ms", took.as_millis());
    }
}
