//! Custom catalogs and the `fake-bedrock` binary.

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Region, Token};
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use fake_bedrock::{Catalog, FakeBedrock};

use crate::support::*;

#[tokio::test]
async fn custom_catalog_from_json_file() {
    let json = r#"{"foundationModels":[{"modelId":"acme.tiny-v1:0","modelName":"Tiny","providerName":"Acme",
        "inputModalities":["TEXT"],"outputModalities":["TEXT"],"responseStreamingSupported":true,
        "customizationsSupported":[],"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}}],
        "inferenceProfiles":[]}"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, json).unwrap();
    let catalog = Catalog::from_json_file(&path).unwrap();
    let fake = FakeBedrock::builder()
        .catalog(catalog)
        .start()
        .await
        .unwrap();
    let listed = control(&fake, "us-east-1")
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert_eq!(listed.model_summaries().len(), 1);
    assert_eq!(listed.model_summaries()[0].model_id(), "acme.tiny-v1:0");
    let out = runtime(&fake, "us-east-1", SK)
        .converse()
        .model_id("acme.tiny-v1:0")
        .messages(user("hey"))
        .send()
        .await
        .unwrap();
    assert_eq!(text_of(out.output().unwrap()), "Echo: hey");
    assert!(Catalog::from_json_str("{").is_err());
    let round = Catalog::from_json_str(&Catalog::default_catalog().to_json()).unwrap();
    assert_eq!(round, Catalog::default_catalog());
    assert!(Catalog::default_catalog().foundation_models.len() > 40);
}

#[tokio::test]
async fn binary_prints_its_address_and_serves() {
    let (mut child, url) = spawn_binary([
        "--listen",
        "127.0.0.1:0",
        "--bearer-token",
        TOKEN,
        "--pace-ms",
        "1",
        "--fault",
        r#"{"type": "throttle"}"#,
        "--script",
        r#"{"item": {"blocks": [{"type": "text", "text": "scripted by flag"}]}, "target": {"model": "anthropic.claude-3-haiku-20240307-v1:0"}}"#,
    ])
    .await;
    assert!(url.starts_with("http://127.0.0.1:"));
    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .bearer_token(Token::new(TOKEN, None))
        .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
        .endpoint_url(&url)
        .retry_config(retry_off())
        .build();
    let client = aws_sdk_bedrockruntime::Client::from_conf(conf);
    let stream = || {
        client
            .converse_stream()
            .model_id(HAIKU3)
            .messages(user("from the binary"))
            .send()
    };
    // `--fault` then `--script`, in order.
    let err = stream().await.unwrap_err().into_service_error();
    assert!(err.is_throttling_exception(), "{err:?}");
    assert_eq!(
        collect(stream().await.unwrap().stream).await.text,
        "scripted by flag"
    );
    assert_eq!(
        collect(stream().await.unwrap().stream).await.text,
        "Echo: from the binary"
    );
    // The admin API of the process: a fault from outside, seen by the SDK.
    let addr: std::net::SocketAddr = url.strip_prefix("http://").unwrap().parse().unwrap();
    let resp = raw_at(
        addr,
        "POST",
        "/_fake/faults",
        &[],
        br#"{"type": "service_unavailable"}"#,
    )
    .await;
    assert_eq!(resp.status, 200);
    let err = stream().await.unwrap_err().into_service_error();
    assert!(err.is_service_unavailable_exception(), "{err:?}");
    let log = raw_at(addr, "GET", "/_fake/requests", &[], b"").await;
    let log: serde_json::Value = serde_json::from_slice(&log.body).unwrap();
    let statuses: Vec<_> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, [429, 200, 200, 503]);
    child.start_kill().unwrap();
    let _ = child.wait().await;

    // A malformed --fault is refused before serving.
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-bedrock"))
        .args(["--fault", r#"{"type": "meteor"}"#])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(
            "error: invalid --fault `{\"type\": \"meteor\"}`: unknown variant `meteor`"
        ),
        "{stderr}"
    );
}
