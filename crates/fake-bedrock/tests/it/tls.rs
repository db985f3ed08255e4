//! HTTPS (`Builder::tls`): the Rust SDK's own HTTPS client talks HTTP/2 through ALPN, an
//! HTTP/1.1-only client gets HTTP/1.1, an untrusted certificate fails the handshake, and what
//! the SDK's client does when a connection's HTTP/2 stream limit is reached.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_types::error::display::DisplayErrorContext;
use fake_bedrock::{FakeBedrock, Pacing};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::support::{AK, HAIKU3, SK, collect, retry_off, runtime, spawn_binary, user};

async fn tls_fake() -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(AK, SK)
        .tls()
        .start()
        .await
        .unwrap()
}

/// The SDK's default HTTPS client (hyper-util's pooled client over rustls with aws-lc, ALPN
/// `h2` and `http/1.1`), trusting only `pem`.
fn https_client(pem: &str) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem.as_bytes()))
        .build()
        .unwrap();
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https()
}

/// A SigV4 runtime client for `fake` over `http`.
fn tls_runtime(
    fake: &FakeBedrock,
    http: aws_smithy_runtime_api::client::http::SharedHttpClient,
) -> aws_sdk_bedrockruntime::Client {
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(AK, SK, None, None, "test"))
        .endpoint_url(fake.url())
        .http_client(http)
        .retry_config(retry_off())
        .build();
    aws_sdk_bedrockruntime::Client::from_conf(conf)
}

#[tokio::test]
async fn sdk_streams_over_tls_with_http2() {
    let fake = tls_fake().await;
    let url = fake.url();
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let pem = fake.ca_certificate_pem().unwrap().to_owned();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let client = tls_runtime(&fake, https_client(&pem));
    for prompt in ["first over tls", "second over tls"] {
        let out = client
            .converse_stream()
            .model_id(HAIKU3)
            .messages(user(prompt))
            .send()
            .await
            .unwrap();
        assert_eq!(collect(out.stream).await.text, format!("Echo: {prompt}"));
    }
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for request in &requests {
        // 200: the SigV4 signature over the HTTP/2 request verified.
        assert_eq!(request.status, Some(200));
        assert_eq!(request.http_version, "HTTP/2.0");
        assert!(
            request.path.ends_with("/converse-stream"),
            "{}",
            request.path
        );
    }
    // Both calls on one HTTP/2 connection.
    assert_eq!(fake.open_connections(), 1);
    fake.shutdown().await;

    // The same SDK client over cleartext http:// speaks HTTP/1.1, and no certificate is served.
    let plain = crate::support::fake().await;
    assert!(plain.url().starts_with("http://"));
    assert_eq!(plain.ca_certificate_pem(), None);
    let out = runtime(&plain, "us-east-1", SK)
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("plain"))
        .send()
        .await
        .unwrap();
    assert_eq!(collect(out.stream).await.text, "Echo: plain");
    assert_eq!(plain.requests()[0].http_version, "HTTP/1.1");
}

/// A rustls client configuration trusting only `pem` and offering `alpn`.
fn raw_client_config(pem: &str, alpn: &[&[u8]]) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    config
}

#[tokio::test]
async fn http11_only_client_gets_http11_and_the_certificate_names_localhost() {
    let fake = tls_fake().await;
    let pem = fake.ca_certificate_pem().unwrap();
    let connector =
        tokio_rustls::TlsConnector::from(Arc::new(raw_client_config(pem, &[b"http/1.1"])));
    let tcp = tokio::net::TcpStream::connect(fake.addr()).await.unwrap();
    // Verified against the DNS name `localhost` (the SDK test above checks `127.0.0.1`).
    let name = ServerName::try_from("localhost").unwrap();
    let tls = connector.connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    let request = http::Request::get("/foundation-models")
        .header("host", "localhost")
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    // Unsigned: refused as Bedrock refuses it, over TLS as over cleartext.
    assert_eq!(response.status(), 403);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert!(
        String::from_utf8_lossy(&body).contains("Missing Authentication Token"),
        "{body:?}"
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].http_version, "HTTP/1.1");
    assert_eq!(requests[0].status, Some(403));
}

#[tokio::test]
async fn untrusted_certificate_fails_the_handshake() {
    let fake = tls_fake().await;
    let other = tls_fake().await;
    // A client trusting another fake's certificate: a different self-signed identity.
    let client = tls_runtime(&fake, https_client(other.ca_certificate_pem().unwrap()));
    let call = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("never sent"))
        .send();
    let err = tokio::time::timeout(Duration::from_secs(30), call)
        .await
        .expect("the handshake failure is an error, not a hang")
        .unwrap_err();
    let chain = DisplayErrorContext(&err).to_string();
    // Both certificates name `CN=fake-bedrock`: the client finds the trusted one by name and
    // its signature check fails.
    assert!(
        chain.contains("TLS handshake failed: invalid peer certificate"),
        "{chain}"
    );
    assert!(fake.requests().is_empty());
}

/// Five concurrent paced streams through `client`: each one's outcome (`Ok` or the error chain)
/// and, once the fake serves at least one stream and 600 ms more have passed, how many requests
/// the fake has received and how many connections are open.
async fn five_streams(
    fake: &FakeBedrock,
    client: &aws_sdk_bedrockruntime::Client,
) -> (Vec<Result<(), String>>, usize, usize) {
    let before = fake.requests().len();
    let mut tasks = Vec::new();
    for i in 0..5 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let prompt = format!("stream number {i} of five, paced");
            let out = client
                .converse_stream()
                .model_id(HAIKU3)
                .messages(user(&prompt))
                .send()
                .await
                .map_err(|err| DisplayErrorContext(&err).to_string())?;
            assert_eq!(collect(out.stream).await.text, format!("Echo: {prompt}"));
            Ok(())
        }));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while fake.requests().len() == before {
        assert!(tokio::time::Instant::now() < deadline, "no stream arrived");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    let received = fake.requests().len() - before;
    let connections = fake.open_connections();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.unwrap());
    }
    (outcomes, received, connections)
}

/// A TLS fake advertising an HTTP/2 limit of two streams per connection, whose answers are 46
/// characters in 4-character deltas 200 ms apart: a stream lasts about 3 s, far longer than
/// the checks take.
async fn two_stream_fake() -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(AK, SK)
        .tls()
        .h2_max_concurrent_streams(2)
        .chunk_size(4)
        .pacing(Pacing {
            first_byte: Duration::ZERO,
            between_events: Duration::from_millis(200),
        })
        .start()
        .await
        .unwrap()
}

/// What the SDK's HTTPS client (hyper-util's legacy pool over hyper's HTTP/2) does with more
/// concurrent streams than a server's SETTINGS_MAX_CONCURRENT_STREAMS: it never opens a second
/// connection. On a new connection, before the server's settings arrive, it sends every stream
/// and the server refuses those over the limit (`REFUSED_STREAM`, an error for the caller unless
/// retried); once the connection is known, the streams over the limit wait for a free slot.
#[tokio::test]
async fn h2_stream_limit_is_never_a_second_connection() {
    // Cold: five streams from a client with no connection yet, retries off.
    let fake = two_stream_fake().await;
    let pem = fake.ca_certificate_pem().unwrap().to_owned();
    let cold = tls_runtime(&fake, https_client(&pem));
    let (outcomes, received, connections) = five_streams(&fake, &cold).await;
    assert_eq!((received, connections), (2, 1));
    let refused: Vec<_> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    assert_eq!(refused.len(), 3, "{outcomes:?}");
    for err in refused {
        assert!(err.contains("REFUSED_STREAM"), "{err}");
    }
    // The refused streams never reached the handler: nothing recorded for them.
    assert_eq!(fake.requests().len(), 2);
    fake.shutdown().await;

    // Cold with the SDK's standard retries: the refused streams are retried and then wait on
    // the same connection.
    let fake = two_stream_fake().await;
    let conf = tls_runtime(&fake, https_client(fake.ca_certificate_pem().unwrap()))
        .config()
        .to_builder()
        .retry_config(aws_smithy_types::retry::RetryConfig::standard())
        .build();
    let retried = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let (outcomes, received, connections) = five_streams(&fake, &retried).await;
    assert_eq!((received, connections), (2, 1));
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(fake.requests().len(), 5);
    fake.shutdown().await;

    // Warm: the connection has carried a call, so the client knows the limit; the five streams
    // are all accepted by the client, two run and three wait, on one connection.
    let fake = two_stream_fake().await;
    let warm = tls_runtime(&fake, https_client(fake.ca_certificate_pem().unwrap()));
    warm.converse()
        .model_id(HAIKU3)
        .messages(user("warm up"))
        .send()
        .await
        .unwrap();
    let (outcomes, received, connections) = five_streams(&fake, &warm).await;
    assert_eq!((received, connections), (2, 1));
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 6);
    assert!(requests.iter().all(|r| r.http_version == "HTTP/2.0"));
    assert_eq!(fake.open_connections(), 1);
}

#[tokio::test]
async fn binary_writes_the_certificate_then_serves_https() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("fake-ca.pem");
    let (mut child, url) = spawn_binary([
        "--listen".as_ref(),
        "127.0.0.1:0".as_ref(),
        "--h2-max-concurrent-streams".as_ref(),
        "1".as_ref(),
        "--tls-cert-out".as_ref(),
        cert.as_os_str(),
    ])
    .await;
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    // Written before the URL line, whole, and nothing else left in the directory.
    let pem = std::fs::read_to_string(&cert).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(AK, SK, None, None, "test"))
        .endpoint_url(&url)
        .http_client(https_client(&pem))
        .retry_config(retry_off())
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("from the https binary"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        collect(out.stream).await.text,
        "Echo: from the https binary"
    );
    child.start_kill().unwrap();
    let _ = child.wait().await;

    // An unwritable path: the fake says so and exits instead of serving without it.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-bedrock"))
        .arg("--tls-cert-out")
        .arg(dir.path().join("missing-dir").join("ca.pem"))
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: cannot write the certificate to "),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
