//! The gateway under hostile or broken clients, over raw loopback TCP where the wire matters:
//! slow heads and bodies, idle connections, the connection limit, shutdown with idle and
//! half-sent connections, body admission, `Host` and `Origin` checks, content types, wire
//! strictness (405, 431, trailing data), redacted Bedrock errors and escaped log lines.

use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use openclaw_serve::{Limits, ServeOptions, Timeouts};
use openclaw_stream::{ErrorInfo, ErrorKind, StopReason, Usage};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

use fake_bedrock::{Fault, Rule};

use crate::support::{
    LOCAL_MODEL, Logs, Scripted, Served, Setup, Target, error_event, scripted, serve, text_answer,
    user,
};

/// Longest any single step may take before the test fails (the behaviour under test takes
/// well under a second).
const BOUND: Duration = Duration::from_secs(5);

fn options(f: impl FnOnce(&mut ServeOptions)) -> ServeOptions {
    let mut options = ServeOptions::default();
    f(&mut options);
    options
}

async fn served(options: ServeOptions) -> Served {
    serve(scripted(Scripted::new(), options)).await
}

/// Reads until the server closes the connection; `None` when it stays open past `BOUND`.
async fn until_closed(tcp: &mut TcpStream) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 8192];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&out).into_owned())
}

/// Reads one response head and its `Content-Length` body.
async fn response(tcp: &mut TcpStream) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(BOUND, async {
        let mut buf = [0u8; 8192];
        loop {
            let text = String::from_utf8_lossy(&out).into_owned();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if out.len() >= end + 4 + length {
                    return;
                }
            }
            let n = tcp.read(&mut buf).await.expect("read");
            assert!(n > 0, "closed before a whole response: {text}");
            out.extend_from_slice(&buf[..n]);
        }
    })
    .await
    .expect("a response in time");
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {response}"))
}

fn json_body(response: &str) -> Value {
    let body = response.split_once("\r\n\r\n").expect("head").1;
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split_once("\r\n\r\n").map_or(response, |(h, _)| h);
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn chat_body() -> Vec<u8> {
    serde_json::to_vec(
        &json!({"model": LOCAL_MODEL, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap()
}

/// A whole streamed chat completion request (head and body) for `host`.
fn streamed_chat(host: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(&chat_body()).unwrap();
    body["stream"] = json!(true);
    let body = serde_json::to_vec(&body).unwrap();
    let extra = format!(
        "content-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    let mut request = head("POST", "/v1/chat/completions", host, &extra).into_bytes();
    request.extend_from_slice(&body);
    request
}

fn head(method: &str, path: &str, host: &str, extra: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nhost: {host}\r\n{extra}\r\n")
}

// ---- item 2: connection timeouts, connection limit, shutdown ----

#[tokio::test]
async fn a_slow_request_head_is_cut_off() {
    let served = served(options(|o| {
        o.timeouts = Timeouts {
            header_read: Duration::from_millis(400),
            keep_alive: Duration::from_secs(60),
            ..Timeouts::default()
        }
    }))
    .await;
    let mut tcp = TcpStream::connect(served.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nx-slow: ")
        .await
        .unwrap();
    // One header byte every 100 ms: never a whole head.
    let drip = async {
        for _ in 0..100 {
            if tcp.write_all(b"a").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(BOUND, drip)
        .await
        .expect("the slow head was not cut off");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let served = served(options(|o| {
        o.timeouts = Timeouts {
            keep_alive: Duration::from_millis(300),
            header_read: Duration::from_secs(60),
            ..Timeouts::default()
        }
    }))
    .await;
    let mut tcp = TcpStream::connect(served.addr).await.unwrap();
    let host = served.addr.to_string();
    tcp.write_all(head("GET", "/healthz", &host, "").as_bytes())
        .await
        .unwrap();
    assert_eq!(status_of(&response(&mut tcp).await), 200);
    // Kept alive for another request...
    tcp.write_all(head("GET", "/healthz", &host, "").as_bytes())
        .await
        .unwrap();
    assert_eq!(status_of(&response(&mut tcp).await), 200);
    // ...then closed once idle.
    assert_eq!(until_closed(&mut tcp).await.as_deref(), Some(""));
}

#[tokio::test]
async fn a_slow_body_is_408_and_closes_the_connection() {
    let served = served(options(|o| {
        o.timeouts.body_read = Duration::from_millis(300);
    }))
    .await;
    let mut tcp = TcpStream::connect(served.addr).await.unwrap();
    let extra = "content-type: application/json\r\ncontent-length: 100\r\n";
    tcp.write_all(
        head(
            "POST",
            "/v1/chat/completions",
            &served.addr.to_string(),
            extra,
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    tcp.write_all(b"{\"model\":").await.unwrap();
    let answer = until_closed(&mut tcp).await.expect("closed after the 408");
    assert_eq!(status_of(&answer), 408, "{answer}");
    assert_eq!(json_body(&answer)["error"]["code"], "request_timeout");
}

#[tokio::test]
async fn connections_over_the_limit_get_503_at_once() {
    let served = served(options(|o| o.limits.max_connections = 2)).await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(served.addr).await.unwrap();
        tcp.write_all(head("GET", "/healthz", &served.addr.to_string(), "").as_bytes())
            .await
            .unwrap();
        assert_eq!(status_of(&response(&mut tcp).await), 200);
        held.push(tcp);
    }
    let mut third = TcpStream::connect(served.addr).await.unwrap();
    let answer = until_closed(&mut third).await.expect("refused and closed");
    assert_eq!(status_of(&answer), 503, "{answer}");
    assert_eq!(header(&answer, "retry-after"), Some("1"));
    assert_eq!(json_body(&answer)["error"]["code"], "too_many_connections");
    // A slot frees when a connection closes.
    drop(held.pop());
    let metrics = tokio::time::timeout(BOUND, async {
        loop {
            let mut tcp = TcpStream::connect(served.addr).await.unwrap();
            tcp.write_all(head("GET", "/metrics", &served.addr.to_string(), "").as_bytes())
                .await
                .unwrap();
            let answer = until_closed_or_response(&mut tcp).await;
            if status_of(&answer) == 200 {
                return answer;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a slot freed");
    // At least the third connection (retries while the slot frees may add more).
    let refused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("openclaw_gateway_connections_refused_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no refusal counter: {metrics}"));
    assert!(refused >= 1, "{metrics}");
}

/// One response, whether or not the server closes after it.
async fn until_closed_or_response(tcp: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    tokio::time::timeout(BOUND, async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&out);
            if let Some(end) = text.find("\r\n\r\n")
                && let Some(length) =
                    header(&text, "content-length").and_then(|l| l.parse::<usize>().ok())
                && out.len() >= end + 4 + length
            {
                return;
            }
        }
    })
    .await
    .expect("a response in time");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn shutdown_closes_idle_and_half_sent_connections_at_once() {
    let mut served = served(options(|o| o.shutdown_grace = Duration::from_secs(60))).await;
    let host = served.addr.to_string();
    let mut idle = TcpStream::connect(served.addr).await.unwrap();
    idle.write_all(head("GET", "/healthz", &host, "").as_bytes())
        .await
        .unwrap();
    assert_eq!(status_of(&response(&mut idle).await), 200);
    let mut fresh = TcpStream::connect(served.addr).await.unwrap();
    let mut half = TcpStream::connect(served.addr).await.unwrap();
    half.write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: ")
        .await
        .unwrap();
    // Let the server see all three before it shuts down.
    tokio::time::sleep(Duration::from_millis(100)).await;
    served.shutdown();
    let task = served.task();
    tokio::time::timeout(BOUND, task)
        .await
        .expect("serve returned without waiting for the grace period")
        .unwrap()
        .unwrap();
    for tcp in [&mut idle, &mut fresh, &mut half] {
        assert!(
            until_closed(tcp).await.is_some(),
            "a connection stayed open"
        );
    }
}

#[tokio::test]
async fn shutdown_lets_a_response_in_flight_finish() {
    let stream = Scripted::new();
    let live = stream.live();
    let mut served = serve(scripted(
        stream,
        options(|o| o.shutdown_grace = Duration::from_secs(60)),
    ))
    .await;
    let mut tcp = TcpStream::connect(served.addr).await.unwrap();
    tcp.write_all(&streamed_chat(&served.addr.to_string()))
        .await
        .unwrap();
    let events = text_answer(&["Hel", "lo"], StopReason::Stop, Usage::default());
    live.unbounded_send(events[0].clone()).unwrap();
    // The response head is out: the request is in flight.
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(BOUND, tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    served.shutdown();
    let mut task = served.task();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        !task.is_finished(),
        "serve returned while a response was in flight"
    );
    for event in &events[1..] {
        live.unbounded_send(event.clone()).unwrap();
    }
    drop(live);
    let rest = until_closed(&mut tcp)
        .await
        .expect("closed after the response");
    assert!(rest.contains("[DONE]"), "{rest}");
    tokio::time::timeout(BOUND, &mut task)
        .await
        .expect("serve returned after the response")
        .unwrap()
        .unwrap();
}

// ---- item 3: admission before reading ----

#[tokio::test]
async fn large_bodies_beyond_the_byte_budget_are_refused_before_reading() {
    const MIB: usize = 1024 * 1024;
    let served = served(options(|o| {
        o.limits = Limits {
            max_body_bytes: 2 * MIB,
            max_buffered_body_bytes: 3 * MIB,
            ..Limits::default()
        };
    }))
    .await;
    let host = served.addr.to_string();
    // 20 clients each announce a 1 MiB body and send only its first bytes.
    let extra = format!("content-type: application/json\r\ncontent-length: {MIB}\r\n");
    let mut clients = Vec::new();
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(served.addr).await.unwrap();
        tcp.write_all(head("POST", "/v1/chat/completions", &host, &extra).as_bytes())
            .await
            .unwrap();
        tcp.write_all(&[b' '; 1024]).await.unwrap();
        clients.push(tcp);
    }
    let mut refused = 0;
    let mut waiting = 0;
    for tcp in &mut clients {
        let mut buf = vec![0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => {
                let answer = String::from_utf8_lossy(&buf[..n]).into_owned();
                assert_eq!(status_of(&answer), 503, "{answer}");
                assert_eq!(header(&answer, "retry-after"), Some("1"));
                refused += 1;
            }
            _ => waiting += 1,
        }
    }
    assert_eq!((waiting, refused), (3, 17));
    let metrics = served_metrics(&served).await;
    assert!(
        metrics.contains("openclaw_gateway_admission_refused_total{reason=\"bytes\"} 17"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!("openclaw_gateway_body_bytes_admitted {}", 3 * MIB)),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_stream_refusal_keeps_its_connection_when_the_body_is_small_and_sent() {
    let stream = Scripted::new();
    let live = stream.live();
    let served = serve(scripted(
        stream.clone(),
        options(|o| o.limits.max_concurrent_streams = 1),
    ))
    .await;
    let host = served.addr.to_string();
    // One stream holds the only slot (the queue is off by default).
    let mut holder = TcpStream::connect(served.addr).await.unwrap();
    holder.write_all(&streamed_chat(&host)).await.unwrap();
    live.unbounded_send(text_answer(&["held"], StopReason::Stop, Usage::default())[0].clone())
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(BOUND, holder.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));

    // Refusals of whole small bodies, one per API, answered on one connection that stays
    // open: the client's retry needs no new handshake.
    let body = chat_body();
    let message = serde_json::to_vec(
        &json!({"model": LOCAL_MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .unwrap();
    let mut tcp = TcpStream::connect(served.addr).await.unwrap();
    for (path, body, anthropic) in [
        ("/v1/chat/completions", &body, false),
        ("/v1/messages", &message, true),
        ("/v1/chat/completions", &body, false),
    ] {
        let extra = format!(
            "content-type: application/json\r\ncontent-length: {}\r\n{}",
            body.len(),
            if anthropic {
                "anthropic-version: 2023-06-01\r\n"
            } else {
                ""
            }
        );
        // Head and body in one write: written apart, Nagle's algorithm holds the body back
        // until the server's delayed ACK (about 40 ms), longer than a refusal waits for it.
        let mut request = head("POST", path, &host, &extra).into_bytes();
        request.extend_from_slice(body);
        tcp.write_all(&request).await.unwrap();
        let answer = response(&mut tcp).await;
        assert_eq!(status_of(&answer), 429, "{answer}");
        assert_eq!(header(&answer, "retry-after"), Some("1"), "{answer}");
        assert_eq!(header(&answer, "connection"), None, "{answer}");
        let error = json_body(&answer);
        if anthropic {
            assert_eq!(error["error"]["type"], "rate_limit_error", "{answer}");
        } else {
            assert_eq!(
                error["error"]["code"], "concurrency_limit_exceeded",
                "{answer}"
            );
        }
    }

    // A body declared too large to drain, one that does not arrive, and one behind
    // `Expect: 100-continue` are not read: the refusal closes the connection, at once.
    let cases = [
        format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            1024 * 1024
        ),
        "content-type: application/json\r\ncontent-length: 100\r\n".to_owned(),
        format!(
            "content-type: application/json\r\ncontent-length: {}\r\nexpect: 100-continue\r\n",
            body.len()
        ),
    ];
    for extra in cases {
        let mut tcp = TcpStream::connect(served.addr).await.unwrap();
        tcp.write_all(head("POST", "/v1/chat/completions", &host, &extra).as_bytes())
            .await
            .unwrap();
        tcp.write_all(b"{").await.unwrap();
        let answer = until_closed(&mut tcp)
            .await
            .expect("closed after the refusal");
        assert_eq!(status_of(&answer), 429, "{extra}: {answer}");
        assert_eq!(header(&answer, "retry-after"), Some("1"), "{answer}");
        assert_eq!(header(&answer, "connection"), Some("close"), "{answer}");
    }
    assert_eq!(
        stream.requests().len(),
        1,
        "only the holder's request reached the model"
    );
}

#[tokio::test]
async fn bodies_beyond_the_count_budget_are_refused() {
    let served = served(options(|o| o.limits.max_pending_bodies = 2)).await;
    let host = served.addr.to_string();
    let extra = "content-type: application/json\r\ncontent-length: 1000\r\n";
    let mut slow = Vec::new();
    for _ in 0..2 {
        let mut tcp = TcpStream::connect(served.addr).await.unwrap();
        tcp.write_all(head("POST", "/v1/chat/completions", &host, extra).as_bytes())
            .await
            .unwrap();
        slow.push(tcp);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = TcpStream::connect(served.addr).await.unwrap();
    third
        .write_all(head("POST", "/v1/messages", &host, extra).as_bytes())
        .await
        .unwrap();
    let answer = until_closed(&mut third).await.expect("refused and closed");
    assert_eq!(status_of(&answer), 503, "{answer}");
    // Anthropic's shape under /v1/messages.
    assert_eq!(json_body(&answer)["type"], "error", "{answer}");
    let metrics = served_metrics(&served).await;
    assert!(
        metrics.contains("openclaw_gateway_admission_refused_total{reason=\"bodies\"} 1"),
        "{metrics}"
    );
}

async fn served_metrics(served: &Served) -> String {
    let mut tcp = TcpStream::connect(served.addr).await.unwrap();
    tcp.write_all(head("GET", "/metrics", &served.addr.to_string(), "").as_bytes())
        .await
        .unwrap();
    response(&mut tcp).await
}

// ---- item 4: content type, Host, Origin ----

async fn oneshot(
    router: &axum::Router,
    req: axum::http::Request<Body>,
) -> (u16, axum::http::HeaderMap, Value) {
    let response = router.clone().oneshot(req).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

fn post(path: &str, content_type: Option<&str>, body: Vec<u8>) -> axum::http::Request<Body> {
    let mut builder = axum::http::Request::builder().method("POST").uri(path);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    builder
        .header("content-length", body.len())
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_body_not_declared_json_is_415_in_the_apis_shape() {
    let stream = Scripted::new();
    stream.push(text_answer(&["ok"], StopReason::Stop, Usage::default()));
    let router = scripted(stream, ServeOptions::default()).router();
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let (status, _, body) =
            oneshot(&router, post("/v1/chat/completions", ct, chat_body())).await;
        assert_eq!(status, 415, "{ct:?}");
        assert_eq!(body["error"]["code"], "unsupported_media_type");
        let (status, _, body) = oneshot(&router, post("/v1/messages", ct, chat_body())).await;
        assert_eq!(status, 415, "{ct:?}");
        assert_eq!(body["type"], "error", "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    }
    let (status, _, _) = oneshot(
        &router,
        post(
            "/v1/chat/completions",
            Some("application/json; charset=utf-8"),
            chat_body(),
        ),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn on_loopback_only_loopback_hosts_are_served() {
    let served = served(ServeOptions::default()).await;
    let port = served.addr.port();
    for (host, status) in [
        (format!("127.0.0.1:{port}"), 200),
        (format!("localhost:{port}"), 200),
        ("LOCALHOST".to_string(), 200),
        (format!("[::1]:{port}"), 200),
        (format!("attacker.example:{port}"), 403),
        ("localhost.attacker.example".to_string(), 403),
        ("127.0.0.1.nip.io".to_string(), 403),
    ] {
        let mut tcp = TcpStream::connect(served.addr).await.unwrap();
        tcp.write_all(head("GET", "/v1/models", &host, "").as_bytes())
            .await
            .unwrap();
        let answer = response(&mut tcp).await;
        assert_eq!(status_of(&answer), status, "{host}: {answer}");
        if status == 403 {
            assert_eq!(json_body(&answer)["error"]["code"], "host_not_allowed");
        }
    }
    // On the models routes, which both APIs share, an Anthropic client gets Anthropic's shape.
    let mut tcp = TcpStream::connect(served.addr).await.unwrap();
    let anthropic = "anthropic-version: 2023-06-01\r\n";
    tcp.write_all(head("GET", "/v1/models", "attacker.example", anthropic).as_bytes())
        .await
        .unwrap();
    let answer = response(&mut tcp).await;
    assert_eq!(status_of(&answer), 403, "{answer}");
    assert_eq!(json_body(&answer)["type"], "error", "{answer}");
    assert_eq!(
        json_body(&answer)["error"]["type"],
        "permission_error",
        "{answer}"
    );
    let allowed = served_hosts(&["gateway.internal"]).await;
    for (host, status) in [
        ("gateway.internal:443", 200),
        ("localhost", 200),
        ("other.internal", 403),
    ] {
        let mut tcp = TcpStream::connect(allowed.addr).await.unwrap();
        tcp.write_all(head("GET", "/healthz", host, "").as_bytes())
            .await
            .unwrap();
        assert_eq!(status_of(&response(&mut tcp).await), status, "{host}");
    }
}

async fn served_hosts(hosts: &[&str]) -> Served {
    served(options(|o| {
        o.allowed_hosts = hosts.iter().map(|h| h.to_string()).collect();
    }))
    .await
}

#[tokio::test]
async fn browser_origins_are_refused_unless_allowed() {
    let router = scripted(Scripted::new(), ServeOptions::default()).router();
    let get = |origin: &str| {
        axum::http::Request::builder()
            .uri("/v1/models")
            .header("origin", origin)
            .body(Body::empty())
            .unwrap()
    };
    let (status, _, body) = oneshot(&router, get("https://attacker.example")).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "origin_not_allowed");

    let router = scripted(
        Scripted::new(),
        options(|o| o.cors_allowed_origins = vec!["https://app.example".into()]),
    )
    .router();
    let (status, headers, _) = oneshot(&router, get("https://app.example")).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    let (status, _, _) = oneshot(&router, get("https://attacker.example")).await;
    assert_eq!(status, 403);
    let preflight = axum::http::Request::builder()
        .method("OPTIONS")
        .uri("/v1/chat/completions")
        .header("origin", "https://app.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = oneshot(&router, preflight).await;
    assert_eq!(status, 204);
    assert_eq!(
        headers["access-control-allow-origin"],
        "https://app.example"
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "authorization, content-type"
    );
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
}

// ---- item 6: wire strictness ----

#[tokio::test]
async fn wrong_methods_and_huge_heads_get_the_apis_error_shape() {
    let router = scripted(Scripted::new(), ServeOptions::default()).router();
    let get = |path: &str| {
        axum::http::Request::builder()
            .uri(path)
            .body(Body::empty())
            .unwrap()
    };
    let (status, headers, body) = oneshot(&router, get("/v1/chat/completions")).await;
    assert_eq!(status, 405);
    assert!(headers.contains_key("allow") || body["error"]["code"] == "method_not_allowed");
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
    let (status, _, body) = oneshot(&router, get("/v1/messages")).await;
    assert_eq!(status, 405);
    assert_eq!(body["type"], "error", "{body}");

    let big = "x".repeat(70 * 1024);
    let req = axum::http::Request::builder()
        .uri("/v1/models")
        .header("x-big", big.as_str())
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = oneshot(&router, req).await;
    assert_eq!(status, 431);
    assert_eq!(body["error"]["code"], "headers_too_large", "{body}");
}

#[tokio::test]
async fn trailing_data_after_the_json_is_400() {
    let router = scripted(Scripted::new(), ServeOptions::default()).router();
    let mut body = chat_body();
    body.extend_from_slice(b" {\"model\":\"other\"}");
    let (status, _, body) = oneshot(
        &router,
        post("/v1/chat/completions", Some("application/json"), body),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("more after it"),
        "{body}"
    );
}

#[tokio::test]
async fn bedrock_error_text_reaches_clients_bounded_and_redacted() {
    let stream = Scripted::new();
    let said = format!(
        "User: arn:aws:iam::123456789012:role/gateway is not authorized for account 123456789012 {}",
        "x".repeat(4000)
    );
    stream.push(vec![error_event(
        ErrorInfo {
            code: Some("AccessDeniedException".into()),
            ..ErrorInfo::new(ErrorKind::Auth)
        },
        &said,
    )]);
    let (logs, _guard) = Logs::capture();
    let router = scripted(stream, ServeOptions::default()).router();
    let (status, _, body) = oneshot(
        &router,
        post(
            "/v1/chat/completions",
            Some("application/json"),
            chat_body(),
        ),
    )
    .await;
    assert_eq!(status, 403);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(!message.contains("123456789012"), "{message}");
    assert!(!message.contains("arn:"), "{message}");
    assert!(message.len() < 1200, "{}", message.len());
    // The operator's log keeps the whole text.
    assert!(
        logs.text()
            .contains("arn:aws:iam::123456789012:role/gateway")
    );
}

// ---- item 7: log injection ----

#[tokio::test]
async fn client_supplied_names_cannot_forge_log_lines() {
    let (logs, _guard) = Logs::capture();
    let router = scripted(Scripted::new(), ServeOptions::default()).router();
    let body = serde_json::to_vec(&json!({
        "model": "evil\nFORGED line\r\u{0}",
        "messages": [{"role": "user", "content": "hi"}],
    }))
    .unwrap();
    let (status, _, _) = oneshot(
        &router,
        post("/v1/chat/completions", Some("application/json"), body),
    )
    .await;
    assert_eq!(status, 404);
    let text = logs.text();
    assert!(
        !text.lines().any(|l| l.starts_with("FORGED")),
        "a forged line:\n{text}"
    );
    assert!(text.contains("evil\\nFORGED line\\r\\0"), "{text}");
}

// ---- item 5: discovery outages ----

/// A model the fake serves but the filtered listing (anthropic only) does not list.
const UNLISTED: &str = "amazon.nova-pro-v1:0";

#[tokio::test]
async fn a_hanging_discovery_does_not_hold_requests() {
    let fake = crate::support::fake().await;
    fake.fault(Rule::new(Fault::Hang).control_plane().times(100));
    let gateway = Setup::default().bedrock(&fake);
    let target = Target::from(&gateway);
    // A well-formed Bedrock id is tried on Bedrock without the listing.
    let answer = tokio::time::timeout(BOUND, target.chat(&user("hi"), &[]))
        .await
        .expect("the request waited for discovery");
    assert_eq!(answer.status, 200);
    // A name that is no Bedrock id cannot be checked: 503 that says so, not 404.
    let mut unknown = user("hi");
    unknown["model"] = json!("mystery-model");
    let (status, retry, body) = tokio::time::timeout(BOUND, target.chat(&unknown, &[]))
        .await
        .expect("the request waited for discovery")
        .error()
        .await;
    assert_eq!((status, retry.as_deref()), (503, Some("1")), "{body}");
    assert_eq!(body["error"]["code"], "discovery_unavailable");
    let ready = target.get("/readyz", &[]).await.json().await;
    assert_eq!(ready["checks"]["discovery"], "pending", "{ready}");
}

#[tokio::test]
async fn a_failing_discovery_is_a_warning_a_metric_and_a_readyz_detail() {
    let fake = crate::support::fake().await;
    fake.fault(Rule::new(Fault::AccessDenied).control_plane().times(100));
    let (logs, _guard) = Logs::capture();
    let gateway = Setup::default().bedrock(&fake);
    gateway.warm_up().await.unwrap();
    let target = Target::from(&gateway);
    let ready = target.get("/readyz", &[]).await.json().await;
    let detail = ready["checks"]["discovery"].as_str().unwrap().to_string();
    assert!(detail.starts_with("failing: "), "{ready}");
    assert!(!detail.contains("123456789012"), "{detail}");
    let metrics = target.get("/metrics", &[]).await.text().await;
    assert!(
        metrics.contains("openclaw_gateway_discovery_failures_total 1"),
        "{metrics}"
    );
    assert!(logs.text().contains("bedrock discovery failed"));
    // Unlisted but well-formed: Bedrock decides (the fake serves it).
    let mut unlisted = user("hi");
    unlisted["model"] = json!(UNLISTED);
    assert_eq!(target.chat(&unlisted, &[]).await.status, 200);
    // Bedrock's own refusal comes back for an id it does not know.
    unlisted["model"] = json!("amazon.no-such-model-v1:0");
    let (status, _, _) = target.chat(&unlisted, &[]).await.error().await;
    assert_eq!(status, 404);
    let mut unknown = user("hi");
    unknown["model"] = json!("mystery-model");
    let (status, _, body) = target.chat(&unknown, &[]).await.error().await;
    assert_eq!(status, 503, "{body}");
}

#[tokio::test]
async fn a_failing_discovery_warns_once_then_says_when_it_recovers() {
    let fake = crate::support::fake().await;
    fake.fault(Rule::new(Fault::AccessDenied).control_plane().times(100));
    let (logs, _guard) = Logs::capture();
    let gateway = Setup::default().bedrock(&fake);
    for _ in 0..3 {
        gateway.warm_up().await.unwrap();
    }
    let target = Target::from(&gateway);
    let metrics = target.get("/metrics", &[]).await.text().await;
    assert!(
        metrics.contains("openclaw_gateway_discovery_failures_total 3"),
        "three failed attempts: {metrics}"
    );
    // The gateway's own line (the discovery crate words its own differently).
    let warned = |text: &str| text.matches("bedrock discovery failed, serving").count();
    assert_eq!(warned(&logs.text()), 1, "{}", logs.text());
    assert!(!logs.text().contains("recovered"), "{}", logs.text());
    fake.clear_faults();
    gateway.warm_up().await.unwrap();
    let text = logs.text();
    assert!(text.contains("bedrock discovery recovered"), "{text}");
    assert_eq!(warned(&text), 1, "{text}");
    let ready = target.get("/readyz", &[]).await.json().await;
    assert_eq!(ready["checks"]["discovery"], "ok", "{ready}");
}

#[tokio::test]
async fn with_discovery_working_an_unknown_name_is_404() {
    let fake = crate::support::fake().await;
    let gateway = Setup::default().bedrock(&fake);
    gateway.warm_up().await.unwrap();
    let target = Target::from(&gateway);
    let mut unknown = user("hi");
    unknown["model"] = json!("mystery-model");
    let (status, _, body) = target.chat(&unknown, &[]).await.error().await;
    assert_eq!(status, 404, "{body}");
    let ready = target.get("/readyz", &[]).await.json().await;
    assert_eq!(ready["checks"]["discovery"], "ok", "{ready}");
}

#[tokio::test]
async fn messages_try_unlisted_bedrock_ids_and_say_when_discovery_fails() {
    let fake = crate::support::fake().await;
    fake.fault(Rule::new(Fault::AccessDenied).control_plane().times(100));
    let gateway = Setup::default().bedrock(&fake);
    gateway.warm_up().await.unwrap();
    let router = gateway.router();
    let messages = |model: &str| {
        let body = json!({"model": model, "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}]});
        post(
            "/v1/messages",
            Some("application/json"),
            serde_json::to_vec(&body).unwrap(),
        )
    };
    let (status, _, body) = oneshot(&router, messages(UNLISTED)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, body) = oneshot(&router, messages("mystery-model")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["type"], "error", "{body}");
}
