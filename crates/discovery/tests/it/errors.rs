//! Failures without a good catalog: typed errors naming the AWS failure.

use std::time::{Duration, Instant};

use fake_bedrock::{Catalog, Fault, Rule};
use openclaw_discovery::{DiscoveryOptions, Error, ErrorKind, Operation};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

#[tokio::test]
async fn access_denied_names_the_missing_iam_action() {
    let fake = fake(Catalog::default_catalog()).await;
    fake.fault(Rule::new(Fault::AccessDenied).control_plane().forever());
    let d = discovery(plane(&fake.url()), DiscoveryOptions::default());
    let err = d.discover(&request("{}", "us-east-1")).await.unwrap_err();
    let Error::AccessDenied {
        operation,
        ref region,
        ..
    } = err
    else {
        panic!("expected AccessDenied, got {err:?}");
    };
    assert_eq!(region, "us-east-1");
    let text = err.to_string();
    assert!(text.contains(operation.iam_action()), "{text}");
    assert!(
        text.starts_with("access denied calling bedrock List"),
        "{text}"
    );
    assert!(!text.contains(SECRET_KEY));
    assert_eq!(d.status("us-east-1").last_error.map(|(_, e)| e), Some(err));
}

#[tokio::test]
async fn denied_profiles_degrade_to_foundation_models_with_a_warning() {
    // An IAM policy granting only `bedrock:ListFoundationModels` (the one the seed document
    // lists): discovery still lists the on-demand models and says which action is missing.
    let (url, server) = scripted_server(|path| {
        if path.starts_with("/foundation-models") {
            (200, "", FOUNDATION_MODELS_BODY)
        } else {
            (
                403,
                "AccessDeniedException",
                r#"{"message":"User: arn:aws:iam::123456789012:user/dev is not authorized to perform: bedrock:ListInferenceProfiles"}"#,
            )
        }
    })
    .await;
    let catalog = discovery(plane(&url), DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap();
    server.abort();
    let ids: Vec<_> = catalog.models.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["acme.chat-v1"]);
    assert_eq!(catalog.warnings.len(), 1);
    assert!(
        catalog.warnings[0].contains("`bedrock:ListInferenceProfiles`"),
        "{:?}",
        catalog.warnings
    );
}

#[tokio::test]
async fn throttling_after_the_sdk_retries() {
    let fake = fake(Catalog::default_catalog()).await;
    fake.fault(Rule::new(Fault::Throttle).control_plane().forever());
    let err = discovery(plane(&fake.url()), DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Throttled { ref code, .. } if code == "ThrottlingException"),
        "{err:?}"
    );
    // The SDK retried (2 attempts configured) before giving up.
    let attempts = match err.operation().unwrap() {
        Operation::ListFoundationModels => foundation_calls(&fake),
        // Either listing may be the one that failed first; the other was cancelled.
        Operation::ListInferenceProfiles => profile_calls(&fake).max(app_profile_calls(&fake)),
        other => panic!("unexpected operation {other:?}"),
    };
    assert_eq!(attempts, 2, "{err}");
    assert!(err.to_string().contains("retries are exhausted"), "{err}");
}

#[tokio::test]
async fn a_hang_is_bounded_by_the_timeout() {
    let fake = fake(Catalog::default_catalog()).await;
    fake.fault(Rule::new(Fault::Hang).control_plane().forever());
    let d = discovery(
        plane(&fake.url()),
        DiscoveryOptions {
            timeout: Duration::from_millis(300),
            ..DiscoveryOptions::default()
        },
    );
    let started = Instant::now();
    let err = d.discover(&request("{}", "us-east-1")).await.unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        matches!(err, Error::Timeout { timeout, .. } if timeout == Duration::from_millis(300)),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    assert_eq!(
        err.to_string(),
        "bedrock discovery in us-east-1 did not finish within 300ms (a hung or very slow endpoint)"
    );
    fake.shutdown().await;
}

const FOUNDATION_MODELS_BODY: &str = r#"{"modelSummaries":[{"modelArn":"arn:aws:bedrock:us-east-1::foundation-model/acme.chat-v1","modelId":"acme.chat-v1","modelName":"Acme Chat","providerName":"Acme","inputModalities":["TEXT"],"outputModalities":["TEXT"],"responseStreamingSupported":true,"inferenceTypesSupported":["ON_DEMAND"],"modelLifecycle":{"status":"ACTIVE"}}]}"#;

/// A loopback HTTP server answering each request with `answer(path)`: status, error type
/// (`x-amzn-errortype`, empty for none) and body. For answers the fake does not give on purpose
/// (a broken body, one operation denied but not the other).
pub(crate) async fn scripted_server(
    answer: fn(&str) -> (u16, &'static str, &'static str),
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&seen);
                let path = head.split(' ').nth(1).unwrap_or("/").to_string();
                let (status, error_type, body) = answer(&path);
                let error_header = if error_type.is_empty() {
                    String::new()
                } else {
                    format!("x-amzn-errortype: {error_type}\r\n")
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n{error_header}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, task)
}

#[tokio::test]
async fn malformed_response_is_a_typed_error() {
    let (url, server) =
        scripted_server(|_| (200, "", r#"{"modelSummaries": [{"modelId": "a.b", "#)).await;
    let err = discovery(plane(&url), DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap_err();
    server.abort();
    assert!(matches!(err, Error::Malformed { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Malformed);
    assert!(
        err.to_string()
            .starts_with("malformed response from bedrock List"),
        "{err}"
    );
}

#[tokio::test]
async fn missing_credentials_read_like_openclaw() {
    // No credentials anywhere: an empty HOME, IMDS disabled, the SDK default chain (or
    // `AWS_PROFILE=default`, the EC2 workaround, off EC2) finds nothing at call time.
    let fake = fake(Catalog::default_catalog()).await;
    let home = tempfile::tempdir().unwrap();
    let base = offline_env(home.path(), fake.url().as_str());
    for (env, checked) in [
        (base.clone(), "aws-sdk default chain"),
        (
            base.clone().with("AWS_PROFILE", "default"),
            "env: AWS_PROFILE",
        ),
    ] {
        let (err, message) = credentials_error(&env).await;
        let message = &message;
        assert_eq!(
            message,
            &format!(
                "No API key resolved for provider \"amazon-bedrock\" (auth mode: aws-sdk, \
                 checked: {checked})."
            )
        );
        assert!(
            err.to_string()
                .starts_with("no AWS credentials for bedrock List")
                && err.to_string().ends_with(message.as_str()),
            "{err}"
        );
    }
    assert!(
        fake.requests().is_empty(),
        "an unauthenticated request reached the server"
    );
}

#[tokio::test]
async fn a_failing_credential_provider_is_a_short_credentials_error() {
    // A profile whose `credential_process` fails: the SDK reports a provider error deep inside a
    // dispatch failure. The user sees one readable line, not the SDK's Debug dump.
    let fake = fake(Catalog::default_catalog()).await;
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("config");
    std::fs::write(
        &config,
        "[profile broken]\ncredential_process = /bin/false\n",
    )
    .unwrap();
    let env = openclaw_creds::Env::from_pairs([
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_PROFILE", "broken"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_BEDROCK", fake.url().as_str()),
    ]);
    let (err, message) = credentials_error(&env).await;
    assert!(
        message.starts_with("could not load AWS credentials (checked: env: AWS_PROFILE): "),
        "{message}"
    );
    let text = err.to_string();
    assert!(
        !text.contains("DispatchFailure") && !text.contains("SdkBody"),
        "{text}"
    );
    assert!(text.lines().count() == 1, "{text}");
    assert!(
        fake.requests().is_empty(),
        "an unauthenticated request reached the server"
    );
}

/// Runs discovery with settings built from `env` (one SDK attempt) and returns the credentials
/// error it must fail with, and that error's message.
async fn credentials_error(env: &openclaw_creds::Env) -> (Error, String) {
    let region = openclaw_creds::resolve_region(None, None, env).unwrap();
    let settings = openclaw_creds::AwsSettings::from_env(env, &region, None).unwrap();
    let plane = openclaw_discovery::SdkControlPlane::from_settings(&settings)
        .with_retries(1, Duration::from_millis(1));
    let err = discovery(plane, DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap_err();
    let Error::Credentials { ref message, .. } = err else {
        panic!("expected a credentials error, got {err:?}");
    };
    assert_eq!(err.kind(), ErrorKind::Auth);
    let message = message.clone();
    (err, message)
}

#[tokio::test]
async fn every_failure_has_a_kind() {
    // Faults answered by the fake, read through the real SDK: callers act on the kind, never
    // on codes or messages.
    let validation = Fault::Error {
        status: 400,
        error_type: "ValidationException".into(),
        message: "bad request".into(),
    };
    let cases = [
        (Fault::AccessDenied, ErrorKind::AccessDenied),
        (Fault::Throttle, ErrorKind::Throttled),
        (Fault::InternalError, ErrorKind::Unavailable),
        (Fault::ServiceUnavailable, ErrorKind::Unavailable),
        (validation, ErrorKind::Other),
    ];
    let fake = fake(Catalog::default_catalog()).await;
    for (fault, kind) in cases {
        fake.clear_faults();
        fake.fault(Rule::new(fault.clone()).control_plane().forever());
        let err = discovery(plane(&fake.url()), DiscoveryOptions::default())
            .discover(&request("{}", "us-east-1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{fault:?}: {err}");
    }
    fake.clear_faults();

    // Credentials AWS does not accept: an unknown access key, a wrong secret.
    for (key, secret) in [
        ("AKIDUNKNOWNTOFAKE", SECRET_KEY),
        (ACCESS_KEY, "not/the/right/secret"),
    ] {
        let plane = openclaw_discovery::SdkControlPlane::from_settings(&settings_with_keys(
            &fake.url(),
            "us-east-1",
            key,
            secret,
        ))
        .with_retries(1, Duration::from_millis(1));
        let err = discovery(plane, DiscoveryOptions::default())
            .discover(&request("{}", "us-east-1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
        assert!(!err.to_string().contains(SECRET_KEY), "{err}");
    }

    // Nothing listening.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let err = discovery(plane(&url), DiscoveryOptions::default())
        .discover(&request("{}", "us-east-1"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Unavailable);
}

#[tokio::test]
async fn a_model_the_provider_filter_hides_is_named_as_such() {
    let fake = fake(Catalog::default_catalog()).await;
    let home = tempfile::tempdir().unwrap();
    let env = offline_env(home.path(), fake.url().as_str())
        .with("AWS_ACCESS_KEY_ID", ACCESS_KEY)
        .with("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    let config = openclaw_config::Config::from_text(
        "{ models: { bedrockDiscovery: { providerFilter: ['anthropic'] } } }",
    )
    .unwrap();
    let resolver = openclaw_discovery::ModelResolver::new(config, &env, None).unwrap();
    let nova = openclaw_config::ModelRef::new("amazon-bedrock", "amazon.nova-pro-v1:0").unwrap();
    let err = resolver.target(Some(&nova)).await.err().unwrap();
    assert_eq!(err.kind(), ErrorKind::UnknownModel);
    assert_eq!(
        err.to_string(),
        "model `amazon-bedrock/amazon.nova-pro-v1:0` is hidden by the discovery provider filter (anthropic): add its provider to `providerFilter`, or configure the model under models.providers"
    );
    // A model nobody offers is still unknown.
    let none = openclaw_config::ModelRef::new("amazon-bedrock", "amazon.nova-pro-v9:0").unwrap();
    let err = resolver.target(Some(&none)).await.err().unwrap();
    assert!(err.to_string().starts_with("unknown model"), "{err}");
    // With an explicit model list (which replaces the discovered one) no filter change would
    // help: unknown.
    let config = openclaw_config::Config::from_text(
        "{ models: { bedrockDiscovery: { providerFilter: ['anthropic'] }, providers: { 'amazon-bedrock': { models: [{ id: 'anthropic.claude-3-haiku-20240307-v1:0', name: 'Haiku' }] } } } }",
    )
    .unwrap();
    let listed = openclaw_discovery::ModelResolver::new(config, &env, None).unwrap();
    let err = listed.target(Some(&nova)).await.err().unwrap();
    assert!(err.to_string().starts_with("unknown model"), "{err}");
}
