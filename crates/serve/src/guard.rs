//! Refusals before a handler runs: oversized heads, foreign `Host` values (DNS rebinding),
//! browser origins (cross-site requests, CORS), and the admission of request bodies (how many
//! are read at once and how many bytes they may take), with the body read timeout.
//!
//! Errors come out in the shape of the client API the path belongs to
//! ([`ApiError::into_response_for`]).

use std::future::Future;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::Stream;
use tokio::sync::{OwnedSemaphorePermit, watch};

use crate::admission::{BodyStop, kib};
use crate::api_error::ApiError;
use crate::connections::ConnInfo;
use crate::options::ServeOptions;
use crate::state::App;

/// A request body admitted for reading: its share of the budgets until the response head.
struct Admitted {
    app: Arc<App>,
    bytes: i64,
    _body: OwnedSemaphorePermit,
    _bytes: OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.app.metrics.body_bytes_admitted(-self.bytes);
    }
}

/// Every request: the size of its head (431), its `Host` (403), its `Origin` (403; allowed
/// origins get their preflight answered and CORS headers on the answer).
pub(crate) async fn protect(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let options = &app.options;
    let refusal = check_head_size(&req, options.limits.max_header_bytes)
        .and_then(|()| check_host(&req, options));
    let origin = refusal.and_then(|()| check_origin(req.headers(), options));
    let origin = match origin {
        Ok(origin) => origin,
        Err(e) => return e.into_response_for_request(req.uri().path(), req.headers()),
    };
    let Some(origin) = origin else {
        return next.run(req).await;
    };
    if req.method() == Method::OPTIONS
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        return preflight(origin, req.headers());
    }
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.append(header::VARY, HeaderValue::from_static("origin"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("retry-after"),
    );
    response
}

/// The answer to an allowed origin's preflight.
fn preflight(origin: HeaderValue, headers: &HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, POST, OPTIONS"),
    );
    // The origin is trusted: whatever headers it wants to send are fine.
    if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
    }
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    h.insert(header::VARY, HeaderValue::from_static("origin"));
    response
}

/// 431 when the request head is larger than `limit` (path, header names and values).
fn check_head_size(req: &Request, limit: usize) -> Result<(), ApiError> {
    let size = req.uri().to_string().len()
        + req
            .headers()
            .iter()
            .map(|(k, v)| k.as_str().len() + v.len() + 4)
            .sum::<usize>();
    if size > limit {
        return Err(ApiError::headers_too_large(limit));
    }
    Ok(())
}

/// 403 for a `Host` not served: enforced when listening on loopback (only loopback names,
/// plus the allow-list) or when an allow-list is set.
fn check_host(req: &Request, options: &ServeOptions) -> Result<(), ApiError> {
    let allowed = &options.allowed_hosts;
    let on_loopback = req
        .extensions()
        .get::<ConnInfo>()
        .is_some_and(|c| c.local.ip().is_loopback());
    if (!on_loopback && allowed.is_empty()) || allowed.iter().any(|h| h == "*") {
        return Ok(());
    }
    let host = req
        .headers()
        .get(header::HOST)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .or_else(|| req.uri().authority().map(|a| a.to_string()));
    // Browsers always send a Host; a client without one is no rebinding attack.
    let Some(host) = host else {
        return Ok(());
    };
    let name = host_name(&host);
    if is_loopback_name(name)
        || allowed
            .iter()
            .any(|a| host_name(a).eq_ignore_ascii_case(name))
    {
        return Ok(());
    }
    Err(ApiError::host_not_allowed(&host))
}

/// The host part of a `Host` value: without the port, an IPv6 literal with its brackets, a
/// trailing dot dropped.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    let name = if host.starts_with('[') {
        match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
            _ => host,
        }
    };
    name.strip_suffix('.').unwrap_or(name)
}

/// `localhost`, `127.x.y.z` or `[::1]`.
fn is_loopback_name(name: &str) -> bool {
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Some(v6) = name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback());
    }
    name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The request's origin when it has an allowed one, `None` without `Origin`; 403 for an
/// origin not allowed.
fn check_origin(
    headers: &HeaderMap,
    options: &ServeOptions,
) -> Result<Option<HeaderValue>, ApiError> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(origin.as_bytes());
    let allowed = options
        .cors_allowed_origins
        .iter()
        .any(|o| o == "*" || o.trim_end_matches('/').eq_ignore_ascii_case(&text));
    if !allowed {
        return Err(ApiError::origin_not_allowed(&text));
    }
    Ok(Some(origin.clone()))
}

/// Requests with a body: refused early when it is declared too large (413), when no stream
/// could be admitted (429 with `Retry-After`; a small body that arrives at once is read and
/// dropped so the connection stays open, see [`discard_small_body`]) or when the admission
/// budgets are spent (503 with `Retry-After`, nothing read); an admitted body gets
/// the body read timeout and stops when shutdown starts. The budget share is held until the
/// response head (the body and what was parsed from it live until then).
pub(crate) async fn admit(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let has_body = declared.is_some_and(|n| n > 0)
        || (declared.is_none() && headers.contains_key(header::TRANSFER_ENCODING));
    if !has_body {
        return next.run(req).await;
    }
    let limits = &app.options.limits;
    let path = req.uri().path().to_owned();
    if streams_full(&app, &path) {
        // Shed before reading and parsing the body: under overload, every refusal that costs
        // less leaves more CPU to the streams admitted.
        app.metrics.stream_shed(false);
        let error =
            ApiError::too_many_streams(limits.max_concurrent_streams, limits.max_queued_streams);
        let response = error.into_response_for(&path);
        return if discard_small_body(req, declared).await {
            response
        } else {
            closing(response)
        };
    }
    let reserve = declared.unwrap_or(limits.max_body_bytes);
    if reserve > limits.max_body_bytes {
        return ApiError::body_too_large(limits.max_body_bytes).into_response_for(&path);
    }
    let admitted = match admit_body(&app, reserve) {
        Ok(admitted) => admitted,
        Err(e) => return closing(e.into_response_for(&path)),
    };
    let timeouts = &app.options.timeouts;
    let (parts, body) = req.into_parts();
    let body = Body::from_stream(Bounded {
        inner: body.into_data_stream(),
        stop: Box::pin(stop(timeouts.body_read, app.draining.clone())),
        stopped: false,
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    drop(admitted);
    let status = response.status();
    if status == StatusCode::REQUEST_TIMEOUT || status == StatusCode::SERVICE_UNAVAILABLE {
        // The rest of the body was not read: the connection cannot carry another request.
        return closing(response);
    }
    response
}

/// Whether `path` starts a model stream and none could be admitted now: every stream slot is
/// taken and the queue for one is full (or off). A request that passes this check may still be
/// refused by `crate::sse`'s admission, which decides.
fn streams_full(app: &App, path: &str) -> bool {
    if !matches!(path, "/v1/chat/completions" | "/v1/messages") {
        return false;
    }
    let limits = &app.options.limits;
    let queue_full = limits.queue_wait.is_zero()
        || app
            .admission
            .queued
            .load(std::sync::atomic::Ordering::Acquire)
            >= limits.max_queued_streams;
    queue_full && app.permits.available_permits() == 0
}

/// Takes a share of both budgets for a body of `bytes`, or says which one is spent.
fn admit_body(app: &Arc<App>, bytes: usize) -> Result<Admitted, ApiError> {
    let admission = &app.admission;
    let limits = &app.options.limits;
    let Ok(body) = admission.bodies.clone().try_acquire_owned() else {
        app.metrics.admission_refused("bodies");
        return Err(ApiError::admission_refused(&format!(
            "{} request bodies at once, --max-pending-bodies",
            limits.max_pending_bodies
        )));
    };
    // A body larger than the whole budget waits for it to be free rather than never fitting.
    let need = u32::try_from(kib(bytes))
        .unwrap_or(u32::MAX)
        .min(admission.total_kib);
    let Ok(bytes_permit) = admission.kib.clone().try_acquire_many_owned(need) else {
        app.metrics.admission_refused("bytes");
        return Err(ApiError::admission_refused(&format!(
            "{} bytes of request bodies at once, --max-buffered-body-bytes",
            limits.max_buffered_body_bytes
        )));
    };
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    app.metrics.body_bytes_admitted(bytes);
    Ok(Admitted {
        app: app.clone(),
        bytes,
        _body: body,
        _bytes: bytes_permit,
    })
}

/// Largest declared body a refusal reads and drops to keep its connection open.
const REFUSAL_DRAIN_BYTES: usize = 64 * 1024;

/// Longest a refusal waits for the rest of such a body before closing the connection instead.
const REFUSAL_DRAIN_WAIT: Duration = Duration::from_millis(20);

/// Reads and drops the body of a refused request when it is small and arrives at once, so the
/// connection stays open for the client's next request (its retry after `Retry-After`): a
/// refusal that closes costs the client a new TCP handshake and the gateway an accept and a
/// connection task, which under overload is CPU taken from the streams admitted. A body
/// declared larger, chunked, behind `Expect: 100-continue`, or slower than
/// [`REFUSAL_DRAIN_WAIT`] is left unread, and the answer closes the connection (returns
/// false). A kept connection counts against `--max-connections` until the client reuses or
/// closes it, or the keep-alive timeout closes it, as any idle keep-alive connection does.
async fn discard_small_body(req: Request, declared: Option<usize>) -> bool {
    use http_body_util::BodyExt as _;
    let expects_continue = req.headers().contains_key(header::EXPECT);
    let Some(declared) = declared.filter(|n| *n <= REFUSAL_DRAIN_BYTES && !expects_continue) else {
        return false;
    };
    let mut body = req.into_body();
    let drained = async {
        let mut read = 0;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            read += frame.data_ref().map_or(0, Bytes::len);
        }
        read == declared
    };
    tokio::time::timeout(REFUSAL_DRAIN_WAIT, drained)
        .await
        .unwrap_or(false)
}

/// Marks an answer as the last on its connection.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Completes when the body must stop being read: its timeout, or shutdown.
async fn stop(timeout: Duration, mut draining: watch::Receiver<bool>) -> BodyStop {
    tokio::select! {
        () = tokio::time::sleep(timeout) => BodyStop::Timeout(timeout),
        () = crate::connections::drained(&mut draining) => BodyStop::Draining,
    }
}

/// A request body that fails with a [`BodyStop`] when its stop future completes first.
struct Bounded {
    inner: BodyDataStream,
    stop: Pin<Box<dyn Future<Output = BodyStop> + Send>>,
    stopped: bool,
}

impl Stream for Bounded {
    type Item = Result<Bytes, axum::BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.stopped {
            return Poll::Ready(None);
        }
        if let Poll::Ready(stop) = self.stop.as_mut().poll(cx) {
            self.stopped = true;
            return Poll::Ready(Some(Err(Box::new(stop))));
        }
        Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|item| item.map(|chunk| chunk.map_err(Into::into)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(body: Vec<u8>, headers: &[(&str, &str)]) -> Request {
        let mut req = Request::post("/v1/chat/completions");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.body(Body::from(body)).unwrap()
    }

    #[tokio::test]
    async fn a_refusal_drains_only_small_whole_bodies() {
        let small = vec![b' '; 1024];
        assert!(discard_small_body(post(small.clone(), &[]), Some(small.len())).await);
        // Declared larger than the drain limit: left unread, even when all of it is there.
        let large = vec![b' '; REFUSAL_DRAIN_BYTES + 1];
        assert!(!discard_small_body(post(large.clone(), &[]), Some(large.len())).await);
        assert!(
            discard_small_body(
                post(vec![b' '; REFUSAL_DRAIN_BYTES], &[]),
                Some(REFUSAL_DRAIN_BYTES)
            )
            .await
        );
        // Undeclared (chunked), behind `Expect: 100-continue`, or shorter than declared.
        assert!(!discard_small_body(post(small.clone(), &[]), None).await);
        let expect = [("expect", "100-continue")];
        assert!(!discard_small_body(post(small.clone(), &expect), Some(small.len())).await);
        assert!(!discard_small_body(post(small, &[]), Some(2048)).await);
    }

    #[test]
    fn host_names_lose_their_port() {
        let cases = [
            ("localhost:18789", "localhost"),
            ("LOCALHOST", "LOCALHOST"),
            ("127.0.0.1:80", "127.0.0.1"),
            ("[::1]:8080", "[::1]"),
            ("[::1]", "[::1]"),
            ("localhost.:1", "localhost"),
            ("evil.example", "evil.example"),
            ("evil.example:x", "evil.example:x"),
        ];
        for (host, name) in cases {
            assert_eq!(host_name(host), name, "{host}");
        }
    }

    #[test]
    fn loopback_names() {
        for ok in ["localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "[::1]"] {
            assert!(is_loopback_name(ok), "{ok}");
        }
        for bad in [
            "localhost.evil.example",
            "evil.example",
            "10.0.0.1",
            "0.0.0.0",
            "[::2]",
            "127.0.0.1.evil.example",
            "",
        ] {
            assert!(!is_loopback_name(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_stopped_body_fails_with_its_reason() {
        use futures::StreamExt as _;
        let (_tx, draining) = watch::channel(false);
        let pending =
            Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
        let mut body = Bounded {
            inner: pending.into_data_stream(),
            stop: Box::pin(stop(Duration::from_millis(10), draining)),
            stopped: false,
        };
        let err = body.next().await.unwrap().unwrap_err();
        assert_eq!(
            err.downcast_ref::<BodyStop>(),
            Some(&BodyStop::Timeout(Duration::from_millis(10)))
        );
        assert!(body.next().await.is_none());

        let (tx, draining) = watch::channel(false);
        let pending =
            Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
        let mut body = Bounded {
            inner: pending.into_data_stream(),
            stop: Box::pin(stop(Duration::from_secs(3600), draining)),
            stopped: false,
        };
        tx.send_replace(true);
        let err = body.next().await.unwrap().unwrap_err();
        assert_eq!(err.downcast_ref::<BodyStop>(), Some(&BodyStop::Draining));
    }
}
