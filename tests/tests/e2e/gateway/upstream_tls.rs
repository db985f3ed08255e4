//! HTTPS to Bedrock, as in production: fake-bedrock serving TLS with a self-signed certificate
//! and ALPN `h2`. With `AWS_CA_BUNDLE` naming that certificate the gateway streams a chat over
//! HTTP/2; without it the handshake fails and the chat's error (and the log) says the
//! certificate is not trusted and names `AWS_CA_BUNDLE`; a bundle that cannot be read stops the
//! start (exit 3) naming the path and the variable.

use std::time::{Duration, Instant};

use fake_bedrock::FakeBedrock;

use super::support::{Gateway, MODEL, chat, chunks, joined};
use super::{streaming, user};

/// The configuration of the no-bundle case: discovery off, so the chat reaches the Converse
/// call (discovery would fail first, on the same handshake); the model is called as named.
const NO_DISCOVERY: &str = "{ models: { bedrockDiscovery: { enabled: false } } }\n";

async fn tls_fake() -> FakeBedrock {
    let fake = FakeBedrock::builder()
        .tls()
        .start()
        .await
        .expect("start fake");
    assert!(
        fake.url().starts_with("https://127.0.0.1:"),
        "{}",
        fake.url()
    );
    fake
}

#[tokio::test]
async fn with_aws_ca_bundle_a_chat_streams_over_https_and_http2() {
    let fake = tls_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("fake-ca.pem");
    std::fs::write(&ca, fake.ca_certificate_pem().unwrap()).unwrap();
    let gw = Gateway::start(&fake.url(), &[], &[("AWS_CA_BUNDLE", ca.to_str().unwrap())]);

    let mut resp = chat(&gw.addr, &streaming(user("over tls")), &[]).await;
    assert_eq!(resp.status, 200);
    let mut buf = String::new();
    let mut events = Vec::new();
    while let Some(more) = resp.next_events(&mut buf).await {
        events.extend(more);
    }
    let (chunks, done) = chunks(&events);
    assert!(done, "stream cut short: {events:?}");
    assert_eq!(joined(&chunks, "content"), "Echo: over tls");

    // Discovery (control plane) and the stream (runtime) both went over HTTP/2.
    let requests = fake.requests();
    let stream = format!(
        "/model/{}/converse-stream",
        MODEL
            .trim_start_matches("amazon-bedrock/")
            .replace(':', "%3A")
    );
    assert!(
        requests.iter().any(|r| r.path == stream),
        "no ConverseStream: {requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.path == "/foundation-models"),
        "no discovery: {requests:?}"
    );
    for r in &requests {
        assert_eq!(r.http_version, "HTTP/2.0", "{} {}", r.method, r.path);
    }
    gw.stderr();
}

#[tokio::test]
async fn without_a_bundle_the_error_says_the_certificate_is_untrusted() {
    let fake = tls_fake().await;
    let gw = Gateway::start_with_config(NO_DISCOVERY, &fake.url());
    let body = chat(&gw.addr, &user("x"), &[]).await;
    let status = body.status;
    let body = body.json().await;
    assert_eq!(status, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap_or_default();
    for part in [
        "could not reach bedrock",
        "UnknownIssuer",
        "not signed by a trusted CA",
        "AWS_CA_BUNDLE",
    ] {
        assert!(message.contains(part), "{part:?} missing: {body}");
    }
    assert!(fake.requests().is_empty(), "the handshake failed first");
    // The log line is written as the request ends: wait for it (bounded).
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut log = gw.stderr();
    while !log.contains("not signed by a trusted CA") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        log = gw.stderr();
    }
    assert!(
        log.contains("not signed by a trusted CA") && log.contains("AWS_CA_BUNDLE"),
        "{log}"
    );
}

#[tokio::test]
async fn an_unreadable_bundle_stops_the_start_naming_it() {
    let fake = tls_fake().await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-ca.pem");
    let missing = missing.to_str().unwrap();
    let (code, stderr) = Gateway::try_start(&fake.url(), &[], &[("AWS_CA_BUNDLE", missing)], true)
        .err()
        .expect("must refuse");
    assert_eq!(code, Some(3), "configuration exit code: {stderr}");
    assert!(
        stderr.contains(&format!(
            "invalid CA bundle `{missing}` from AWS_CA_BUNDLE: cannot read it"
        )),
        "{stderr}"
    );
}
