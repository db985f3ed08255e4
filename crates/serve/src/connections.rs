//! One HTTP/1.1 connection of [`crate::Gateway::serve`]: hyper's connection driven by a task that
//! knows whether a request is in flight, so it can enforce the header-read and keep-alive
//! timeouts and close idle connections at once when shutdown starts.
//!
//! Rules:
//! - a connection with no request in flight and no byte received since the last response is
//!   *idle*: closed after [`Timeouts::keep_alive`], and at once when shutdown starts;
//! - once a byte of the next request arrives, its head must be complete within
//!   [`Timeouts::header_read`] (slowloris), else the connection is closed; a half-sent head
//!   does not hold shutdown either;
//! - a request in flight (head parsed, response not finished) is never cut by these timers:
//!   its body has its own timeout ([`crate::guard`]), and at shutdown it gets the grace period.

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::api_error::ApiError;
use crate::log::LOG_TARGET;
use crate::options::Timeouts;
use crate::workers::{Active, Placement};

/// The addresses of the connection a request came on (a request extension set by
/// [`crate::Gateway::serve`]; absent when the router is mounted elsewhere).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnInfo {
    /// The address the gateway listens on (decides the `Host` check).
    pub(crate) local: SocketAddr,
}

/// Where a connection is between requests.
#[derive(Debug)]
struct Phase {
    /// Requests whose response is not finished.
    in_flight: usize,
    /// Since when the connection is idle, or receiving a request head (`head`).
    since: Instant,
    /// A byte of the next request arrived (no request in flight).
    head: bool,
}

/// What the connection task and the request guards share.
#[derive(Debug)]
struct ConnState {
    phase: Mutex<Phase>,
    changed: Notify,
}

impl ConnState {
    fn new() -> Self {
        ConnState {
            phase: Mutex::new(Phase {
                in_flight: 0,
                since: Instant::now(),
                head: false,
            }),
            changed: Notify::new(),
        }
    }

    fn phase(&self) -> MutexGuard<'_, Phase> {
        // Never held across an await or a panic-prone call; recover anyway.
        self.phase.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes arrived from the client.
    fn received(&self) {
        let mut phase = self.phase();
        if phase.in_flight == 0 && !phase.head {
            phase.head = true;
            phase.since = Instant::now();
            drop(phase);
            self.changed.notify_one();
        }
    }

    /// A request head was parsed: the request is in flight until the guard drops.
    fn begin(self: &Arc<Self>) -> InFlight {
        let mut phase = self.phase();
        phase.in_flight += 1;
        phase.head = false;
        InFlight(self.clone())
    }

    /// When the connection must be closed if nothing changes: `None` while a request is in
    /// flight.
    fn deadline(&self, timeouts: &Timeouts) -> Option<Instant> {
        let phase = self.phase();
        if phase.in_flight > 0 {
            return None;
        }
        let limit = if phase.head {
            timeouts.header_read
        } else {
            timeouts.keep_alive
        };
        Some(phase.since + limit)
    }

    fn in_flight(&self) -> bool {
        self.phase().in_flight > 0
    }
}

/// A request in flight on a connection; its drop (the response body finished or dropped)
/// makes the connection idle again.
#[derive(Debug)]
struct InFlight(Arc<ConnState>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut phase = self.0.phase();
        phase.in_flight = phase.in_flight.saturating_sub(1);
        if phase.in_flight == 0 {
            phase.since = Instant::now();
            phase.head = false;
        }
        drop(phase);
        self.0.changed.notify_one();
    }
}

/// The socket, reporting received bytes to the connection state.
struct Tracked {
    tcp: TcpStream,
    state: Arc<ConnState>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.received();
        }
        result
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

/// A response body that keeps its request in flight (and, on a worker, counted as active
/// there) until it is finished or dropped.
struct Guarded {
    inner: Body,
    _in_flight: InFlight,
    _active: Option<Active>,
}

impl hyper::body::Body for Guarded {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Body frames handed from the worker that runs a request to its connection's worker (a few
/// in flight: the producer waits when the client reads slowly).
const HANDED_FRAMES: usize = 8;

type FrameResult = Result<Frame<axum::body::Bytes>, axum::Error>;

/// What the producing worker sends: a frame, or the end of the body (`None`). A channel that
/// closes without the end means the producer died (a panic, its runtime stopped): the body
/// then fails instead of looking complete.
type Handing = Option<FrameResult>;

/// Runs `req` through `router` on `worker` and answers with what it produces: the head once
/// ready, then the body frames as they come. Rule: the request's work (its model call, the
/// rendering of events) runs there; this connection only writes. A client that leaves
/// (the returned body dropped, or the connection gone before the head) drops the response
/// there at once, which cancels the model stream as it would here.
async fn run_on(
    worker: &tokio::runtime::Handle,
    router: axum::Router,
    req: Request,
    active: Option<Active>,
) -> Response {
    let path = req.uri().path().to_string();
    let (head_tx, head_rx) = tokio::sync::oneshot::channel();
    worker.spawn(async move {
        let _active = active;
        let mut head_tx = head_tx;
        let response = tokio::select! {
            response = tower::ServiceExt::oneshot(router, req) => {
                response.unwrap_or_else(|never: Infallible| match never {})
            }
            () = head_tx.closed() => return,
        };
        let (parts, mut body) = response.into_parts();
        let (frames_tx, frames_rx) = tokio::sync::mpsc::channel::<Handing>(HANDED_FRAMES);
        let handed = Handed {
            frames: frames_rx,
            hint: hyper::body::Body::size_hint(&body),
            ended: hyper::body::Body::is_end_stream(&body),
        };
        if head_tx.send((parts, handed)).is_err() {
            return;
        }
        loop {
            let frame = tokio::select! {
                frame = std::future::poll_fn(|cx| hyper::body::Body::poll_frame(Pin::new(&mut body), cx)) => frame,
                () = frames_tx.closed() => return,
            };
            // After an error frame the body is over too.
            let last = !matches!(frame, Some(Ok(_)));
            if frames_tx.send(frame).await.is_err() || last {
                return;
            }
        }
    });
    match head_rx.await {
        Ok((parts, handed)) => Response::from_parts(parts, Body::new(handed)),
        // The task ended without a head: it panicked, or its worker stopped.
        Err(_) => ApiError::request_lost().into_response_for(&path),
    }
}

/// The body of a response produced on another worker (see [`run_on`]).
struct Handed {
    frames: tokio::sync::mpsc::Receiver<Handing>,
    /// The producing body's size hint (so a whole JSON answer keeps its `content-length`).
    hint: SizeHint,
    ended: bool,
}

impl hyper::body::Body for Handed {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let polled = match self.frames.poll_recv(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Some(frame))) => Poll::Ready(Some(frame)),
            Poll::Ready(Some(None)) => Poll::Ready(None),
            Poll::Ready(None) => Poll::Ready(Some(Err(axum::Error::new(
                "the worker producing this response stopped before its end",
            )))),
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |data| data.len() as u64);
                let lower = self.hint.lower().saturating_sub(len);
                let upper = self.hint.upper().map(|upper| upper.saturating_sub(len));
                let mut hint = SizeHint::new();
                hint.set_lower(lower);
                if let Some(upper) = upper {
                    hint.set_upper(upper);
                }
                self.hint = hint;
            }
            // The end, or an error (the producer's or its death): nothing follows.
            Poll::Ready(_) => self.ended = true,
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }

    fn size_hint(&self) -> SizeHint {
        self.hint
    }
}

/// Serves one accepted connection with `router` until it ends, times out, or `draining` turns
/// true and it has no request in flight (a request in flight finishes; the caller bounds that
/// with the shutdown grace).
///
/// With a `placement` (the connection runs on one of [`crate::Workers`]), each request runs
/// on this worker, or on a clearly less busy one ([`Placement::for_request`]).
pub(crate) async fn serve_connection(
    tcp: TcpStream,
    local: SocketAddr,
    router: axum::Router,
    timeouts: Timeouts,
    mut draining: watch::Receiver<bool>,
    placement: Option<Placement>,
) {
    let state = Arc::new(ConnState::new());
    let io = TokioIo::new(Tracked {
        tcp,
        state: state.clone(),
    });
    let info = ConnInfo { local };
    let requests = state.clone();
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let in_flight = requests.begin();
        let router = router.clone();
        let (elsewhere, active) = match &placement {
            Some(placement) => {
                // Only model calls (POST) are worth a hand-over; probes and listings stay.
                let movable = req.method() == hyper::Method::POST;
                let (elsewhere, active) = placement.for_request(movable);
                (elsewhere, Some(active))
            }
            None => (None, None),
        };
        async move {
            let mut req: Request = req.map(Body::new);
            req.extensions_mut().insert(info);
            let (response, active) = match elsewhere {
                // Counted there, by the task that runs it.
                Some(worker) => (run_on(&worker, router, req, active).await, None),
                None => {
                    let response = tower::ServiceExt::oneshot(router, req)
                        .await
                        .unwrap_or_else(|never: Infallible| match never {});
                    (response, active)
                }
            };
            Ok::<Response, Infallible>(response.map(|inner| {
                Body::new(Guarded {
                    inner,
                    _in_flight: in_flight,
                    _active: active,
                })
            }))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .keep_alive(true)
        // A backstop only: hyper starts this clock when it waits for a head, idle time
        // included, so it is the sum of both of ours; the task below enforces each.
        .header_read_timeout(timeouts.header_read.saturating_add(timeouts.keep_alive));
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut shutting_down = false;
    loop {
        let deadline = state.deadline(&timeouts);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(target: LOG_TARGET, "connection ended with an error: {err}");
                }
                return;
            }
            () = state.changed.notified() => {}
            () = sleep_until(deadline) => {
                // Nothing changed since the deadline was computed: the connection sat idle, or
                // a request head took too long.
                if state.deadline(&timeouts).is_some_and(|d| d <= Instant::now()) {
                    tracing::debug!(target: LOG_TARGET, "closing a connection: idle or slow request head");
                    return;
                }
            }
            () = drained(&mut draining), if !shutting_down => {
                shutting_down = true;
                if !state.in_flight() {
                    return;
                }
                // Answer what is in flight, then close instead of waiting for another request.
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Completes once shutdown has started; never when the gateway is gone without starting it (a
/// router outliving its `Gateway`). Holds no borrow of the flag across an await, so the
/// futures waiting on it stay `Send`.
pub(crate) async fn drained(draining: &mut watch::Receiver<bool>) {
    let started = draining.wait_for(|d| *d).await.is_ok();
    if !started {
        std::future::pending::<()>().await;
    }
}

/// Sleeps until `deadline`, or for ever.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// How long a refused connection may take to receive its 503.
const REFUSAL_TIME: Duration = Duration::from_secs(1);

/// Answers a connection over [`crate::Limits::max_connections`]: 503 with `Retry-After` and
/// `Connection: close`, without reading the request; then closes it.
pub(crate) async fn refuse(mut tcp: TcpStream, limit: usize) {
    let error = ApiError::too_many_connections(limit);
    let body = error.body().to_string();
    let retry = error.retry_after.unwrap_or(1);
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: {retry}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer = async {
        tcp.write_all(head.as_bytes()).await?;
        tcp.write_all(body.as_bytes()).await?;
        tcp.shutdown().await?;
        // Read what the client sent before closing: closing with unread bytes resets the
        // connection, and the client might lose the answer.
        let mut sink = [0u8; 4096];
        loop {
            match tokio::io::AsyncReadExt::read(&mut tcp, &mut sink).await? {
                0 => return Ok::<(), io::Error>(()),
                _ => continue,
            }
        }
    };
    let _ = tokio::time::timeout(REFUSAL_TIME, answer).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The name of the thread this runs on.
    fn thread() -> String {
        std::thread::current().name().unwrap_or("?").to_string()
    }

    /// Sets its flag when dropped (a response body that was cancelled or finished).
    struct DropFlag(Arc<std::sync::atomic::AtomicBool>);

    impl Drop for DropFlag {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// POST `/where`: the thread's name, then the request body, as a whole body; POST
    /// `/stream`: three chunks, each naming the thread that produced it; POST `/forever`: one
    /// chunk, then nothing, flagging its drop; POST `/stall`: no head ever, flagging its drop.
    /// GET `/where`: as POST (probes are never handed over).
    fn router(dropped: Arc<std::sync::atomic::AtomicBool>) -> axum::Router {
        use axum::routing::post;
        let stalled = dropped.clone();
        axum::Router::new()
            .route(
                "/where",
                post(|body: String| async move { format!("{}{body}", thread()) })
                    .get(|| async { thread() }),
            )
            .route(
                "/stream",
                post(|| async {
                    let chunks = futures::stream::unfold(0, |n| async move {
                        (n < 3).then(|| (Ok::<_, Infallible>(format!("{}\n", thread())), n + 1))
                    });
                    Body::from_stream(chunks)
                }),
            )
            .route(
                "/forever",
                post(move || {
                    let flag = DropFlag(dropped.clone());
                    async move {
                        // Holds the flag until the body is dropped; never ends by itself.
                        let chunks =
                            futures::stream::unfold((flag, false), |(flag, sent)| async move {
                                if sent {
                                    std::future::pending::<()>().await;
                                }
                                Some((Ok::<_, Infallible>("first"), (flag, true)))
                            });
                        Body::from_stream(chunks)
                    }
                }),
            )
            .route(
                "/stall",
                post(move || {
                    let flag = DropFlag(stalled.clone());
                    async move {
                        let _flag = flag;
                        std::future::pending::<()>().await;
                    }
                }),
            )
    }

    type Sender = hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>;

    async fn send(
        sender: &mut Sender,
        method: &str,
        path: &str,
        body: &str,
    ) -> hyper::Response<Incoming> {
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1")
            .body(http_body_util::Full::new(bytes::Bytes::from(
                body.to_string(),
            )))
            .unwrap();
        sender.send_request(request).await.unwrap()
    }

    async fn text(response: hyper::Response<Incoming>) -> String {
        use http_body_util::BodyExt as _;
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    /// The name of the thread `worker` runs its tasks on.
    async fn thread_of(worker: &tokio::runtime::Handle) -> String {
        worker.spawn(async { thread() }).await.unwrap()
    }

    /// Serves one loopback connection on `worker` with `placement`; returns its client.
    async fn connect(
        worker: &tokio::runtime::Handle,
        placement: Placement,
        app: axum::Router,
    ) -> (Sender, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (draining_tx, draining) = watch::channel(false);
        let client = tokio::spawn(TcpStream::connect(addr));
        let (tcp, _) = listener.accept().await.unwrap();
        let tcp = tcp.into_std().unwrap();
        worker.spawn(async move {
            let _draining_tx = draining_tx;
            let tcp = TcpStream::from_std(tcp).unwrap();
            serve_connection(
                tcp,
                addr,
                app,
                Timeouts::default(),
                draining,
                Some(placement),
            )
            .await;
        });
        let io = TokioIo::new(client.await.unwrap().unwrap());
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
        let conn = tokio::spawn(async move {
            let _ = conn.await;
        });
        (sender, conn)
    }

    /// Waits (at most 5 s) for `flag`.
    async fn until(flag: &std::sync::atomic::AtomicBool, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A connection on a worker that already runs five requests, two workers in all: its
    /// next model calls (POST) go to the other, which runs nothing; probes (GET) stay.
    struct Busy {
        _workers: crate::Workers,
        busy: Vec<Active>,
        here: String,
        sender: Sender,
        conn: tokio::task::JoinHandle<()>,
        dropped: Arc<std::sync::atomic::AtomicBool>,
    }

    async fn busy_connection() -> Busy {
        let workers = crate::Workers::start(2).unwrap();
        let (worker, placement) = workers.assign();
        let busy: Vec<Active> = (0..5).map(|_| placement.for_request(true).1).collect();
        let here = thread_of(&worker).await;
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (sender, conn) = connect(&worker, placement, router(dropped.clone())).await;
        Busy {
            _workers: workers,
            busy,
            here,
            sender,
            conn,
            dropped,
        }
    }

    #[tokio::test]
    async fn a_busy_workers_requests_run_on_an_idle_one_and_cancel_there() {
        use http_body_util::BodyExt as _;
        let Busy {
            _workers,
            busy,
            here,
            mut sender,
            conn,
            dropped,
        } = busy_connection().await;
        let other = if here == "oc-worker-0" {
            "oc-worker-1"
        } else {
            "oc-worker-0"
        };

        // The request body is read there, and a whole answer keeps its length.
        let response = send(&mut sender, "POST", "/where", ":hello").await;
        let expected = format!("{other}:hello");
        assert_eq!(
            response.headers()["content-length"],
            expected.len().to_string()
        );
        assert_eq!(text(response).await, expected);
        assert_eq!(
            text(send(&mut sender, "GET", "/where", "").await).await,
            here
        );
        // Every chunk of a streamed body is produced there.
        let streamed = text(send(&mut sender, "POST", "/stream", "").await).await;
        assert_eq!(streamed, format!("{other}\n{other}\n{other}\n"));

        // A client that leaves cancels the body on the worker that runs it.
        let mut response = send(&mut sender, "POST", "/forever", "").await;
        let first = response.body_mut().frame().await.unwrap().unwrap();
        assert_eq!(first.into_data().unwrap(), "first");
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
        drop(response);
        drop(sender);
        conn.abort();
        until(&dropped, "the handed-over body outlived its client").await;
        drop(busy);
    }

    #[tokio::test]
    async fn a_handed_over_request_is_cancelled_before_its_head_too() {
        let Busy {
            _workers,
            busy,
            mut sender,
            conn,
            dropped,
            ..
        } = busy_connection().await;
        let request = hyper::Request::post("/stall")
            .header("host", "127.0.0.1")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        let pending = tokio::spawn(sender.send_request(request));
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
        pending.abort();
        conn.abort();
        until(&dropped, "the handed-over request outlived its client").await;
        drop(busy);
    }

    #[tokio::test]
    async fn requests_stay_on_their_worker_when_it_is_not_busier() {
        let workers = crate::Workers::start(2).unwrap();
        let (worker, placement) = workers.assign();
        let here = thread_of(&worker).await;
        let app = router(Arc::new(std::sync::atomic::AtomicBool::new(false)));
        let (mut sender, _conn) = connect(&worker, placement, app).await;
        for _ in 0..3 {
            let answer = text(send(&mut sender, "POST", "/where", "").await).await;
            assert_eq!(answer, here);
        }
    }

    #[tokio::test]
    async fn a_handed_over_body_counts_down_its_length_and_fails_if_its_producer_dies() {
        use http_body_util::BodyExt as _;
        let (tx, frames) = tokio::sync::mpsc::channel::<Handing>(4);
        let mut body = Handed {
            frames,
            hint: SizeHint::with_exact(10),
            ended: false,
        };
        tx.send(Some(Ok(Frame::data(axum::body::Bytes::from("hello")))))
            .await
            .unwrap();
        let frame = body.frame().await.unwrap().unwrap();
        assert_eq!(frame.into_data().unwrap(), "hello");
        assert_eq!(hyper::body::Body::size_hint(&body).exact(), Some(5));
        tx.send(Some(Ok(Frame::data(axum::body::Bytes::from("world")))))
            .await
            .unwrap();
        tx.send(None).await.unwrap();
        assert_eq!(
            body.frame().await.unwrap().unwrap().into_data().unwrap(),
            "world"
        );
        assert!(body.frame().await.is_none(), "the end marker ends the body");
        assert!(hyper::body::Body::is_end_stream(&body));

        // A producer that stops without the end marker: an error, never a clean end.
        let (tx, frames) = tokio::sync::mpsc::channel::<Handing>(4);
        let mut body = Handed {
            frames,
            hint: SizeHint::new(),
            ended: false,
        };
        tx.send(Some(Ok(Frame::data(axum::body::Bytes::from("partial")))))
            .await
            .unwrap();
        drop(tx);
        assert!(body.frame().await.unwrap().is_ok());
        assert!(body.frame().await.unwrap().is_err());
        assert!(body.frame().await.is_none());
    }

    #[test]
    fn deadlines_follow_the_phase() {
        let timeouts = Timeouts {
            header_read: Duration::from_secs(2),
            body_read: Duration::from_secs(3),
            keep_alive: Duration::from_secs(5),
        };
        let state = Arc::new(ConnState::new());
        let opened = state.phase().since;
        assert_eq!(
            state.deadline(&timeouts),
            Some(opened + timeouts.keep_alive)
        );
        state.received();
        let head = state.phase().since;
        assert_eq!(state.deadline(&timeouts), Some(head + timeouts.header_read));
        // More bytes of the same head do not move the deadline.
        state.received();
        assert_eq!(state.deadline(&timeouts), Some(head + timeouts.header_read));
        let request = state.begin();
        assert_eq!(state.deadline(&timeouts), None);
        // Body bytes while in flight do not start a head.
        state.received();
        assert!(!state.phase().head);
        drop(request);
        let idle = state.phase().since;
        assert_eq!(state.deadline(&timeouts), Some(idle + timeouts.keep_alive));
        assert!(!state.in_flight());
    }
}
