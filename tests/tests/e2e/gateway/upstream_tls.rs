//! HTTPS to Bedrock, as in production: fake-bedrock serving TLS with a self-signed certificate
//! and ALPN `h2`. With `AWS_CA_BUNDLE` naming that certificate the gateway streams a chat over
//! HTTP/2; without it the handshake fails and the chat's error (and the log) says the
//! certificate is not trusted and names `AWS_CA_BUNDLE`; a bundle that cannot be read stops the
//! start (exit 3) naming the path and the variable. `openclaw models list` (discovery, the
//! control plane) trusts a profile's `ca_bundle`, and says the same without one.

use std::time::{Duration, Instant};

use fake_bedrock::FakeBedrock;

use openclaw_e2e::{DISCOVERY_CONFIG, Sandbox, static_keys};

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

#[tokio::test]
async fn models_list_trusts_a_profile_ca_bundle_and_says_why_without_one() {
    let fake = tls_fake().await;
    let url = fake.url();
    let sandbox = Sandbox::new(None);
    sandbox.write_config(DISCOVERY_CONFIG);
    let ca = sandbox.home().join("corporate-ca.pem");
    std::fs::write(&ca, fake.ca_certificate_pem().unwrap()).unwrap();
    std::fs::write(
        sandbox.aws_config_file(),
        format!("[default]\nca_bundle = {}\n", ca.display()),
    )
    .unwrap();
    let run = move |sandbox: Sandbox| {
        let mut env = static_keys();
        env.push(("AWS_ENDPOINT_URL_BEDROCK", url.as_str()));
        env.push(("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url.as_str()));
        let out = sandbox.run(&["models", "list", "--plain"], &env, None);
        (sandbox, out)
    };
    // The CLI blocks: run it beside the runtime serving the fake.
    let (sandbox, out) = tokio::task::spawn_blocking({
        let run = run.clone();
        move || run(sandbox)
    })
    .await
    .unwrap();
    assert!(out.ok().contains(MODEL), "{}", out.stdout);
    let requests = fake.requests();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.http_version == "HTTP/2.0"),
        "{requests:?}"
    );

    // Without the profile's bundle (and without the discovery cache the first run wrote).
    std::fs::write(sandbox.aws_config_file(), "[default]\nregion = us-east-1\n").unwrap();
    std::fs::remove_dir_all(sandbox.home().join("state")).unwrap();
    let (_sandbox, out) = tokio::task::spawn_blocking(move || run(sandbox))
        .await
        .unwrap();
    // Discovery fails (configured models only, a warning), and the warning says why.
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!out.stdout.contains("claude-3-haiku"), "{}", out.stdout);
    for part in [
        "bedrock discovery failed",
        "UnknownIssuer",
        "not signed by a trusted CA",
        "AWS_CA_BUNDLE",
    ] {
        assert!(
            out.stderr.contains(part),
            "{part:?} missing: {}",
            out.stderr
        );
    }
}
