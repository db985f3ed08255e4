//! The adapter built from `openclaw_creds::AwsSettings` (explicit env maps, never the process).

use fake_bedrock::{FakeBedrock, Turn};
use openclaw_creds::{AwsSettings, Env, resolve_region};
use openclaw_stream::{ConverseStream, Message, StreamEvent, StreamRequest};

use crate::support::*;

fn settings(env: &Env) -> AwsSettings {
    let region = resolve_region(None, None, env).unwrap();
    AwsSettings::from_env(env, &region, None).unwrap()
}

fn isolated(url: &str) -> Env {
    Env::from_pairs([
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        (
            "AWS_CONFIG_FILE",
            "/nonexistent/openclaw-stream-test/config",
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/openclaw-stream-test/credentials",
        ),
        ("HOME", "/nonexistent/openclaw-stream-test"),
    ])
}

#[tokio::test]
async fn bearer_token_from_settings() {
    let fake = FakeBedrock::builder()
        .bearer_token("test-bedrock-api-key")
        .start()
        .await
        .unwrap();
    fake.script(Turn::text("via bearer"));
    let env = isolated(&fake.url()).with("AWS_BEARER_TOKEN_BEDROCK", "test-bedrock-api-key");
    let adapter = ConverseStream::from_settings(&settings(&env), fast_options());
    let events = collect(openclaw_stream::ModelStream::stream(
        &adapter,
        StreamRequest::new(sonnet(), vec![Message::user_text("Hi")]),
        Default::default(),
    ))
    .await;
    assert_eq!(done_message(&events).text(), "via bearer");
    let request = &fake.requests()[0];
    assert!(
        request
            .header("authorization")
            .unwrap()
            .starts_with("Bearer ")
    );
    let debug = format!("{events:?}{adapter:?}");
    assert!(!debug.contains("test-bedrock-api-key"), "the token leaked");
}

#[tokio::test]
async fn missing_credentials_read_like_openclaw() {
    let fake = FakeBedrock::builder()
        .credentials(AK, SK)
        .start()
        .await
        .unwrap();
    let adapter = ConverseStream::from_settings(&settings(&isolated(&fake.url())), fast_options());
    let events = collect(openclaw_stream::ModelStream::stream(
        &adapter,
        StreamRequest::new(sonnet(), vec![Message::user_text("Hi")]),
        Default::default(),
    ))
    .await;
    let StreamEvent::Error { message, info, .. } = terminal(&events) else {
        panic!("{events:?}")
    };
    assert_eq!(
        *info,
        openclaw_stream::ErrorInfo::new(openclaw_stream::ErrorKind::Auth)
    );
    assert_eq!(
        message,
        "No API key resolved for provider \"amazon-bedrock\" (auth mode: aws-sdk, checked: aws-sdk default chain)."
    );
    assert!(fake.requests().is_empty());
}

/// A credentials provider that finds nothing, like an empty default chain.
#[derive(Debug)]
struct NoCredentials;

impl aws_credential_types::provider::ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(
            aws_credential_types::provider::error::CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            ),
        ))
    }
}

const OPENCLAW_MISSING: &str = "No API key resolved for provider \"amazon-bedrock\" (auth mode: aws-sdk, checked: aws-sdk default chain).";

async fn missing_message(config: aws_sdk_bedrockruntime::Config) -> String {
    use openclaw_stream::{ErrorInfo, ErrorKind};
    let adapter = ConverseStream::new(config, fast_options());
    let events = collect(openclaw_stream::ModelStream::stream(
        &adapter,
        StreamRequest::new(sonnet(), vec![Message::user_text("Hi")]),
        Default::default(),
    ))
    .await;
    let StreamEvent::Error { message, info, .. } = terminal(&events) else {
        panic!("{events:?}")
    };
    assert_eq!(*info, ErrorInfo::new(ErrorKind::Auth));
    message.clone()
}

#[tokio::test]
async fn missing_credentials_read_like_openclaw_with_a_raw_config() {
    use aws_sdk_bedrockruntime::config::{BehaviorVersion, Region};
    let fake = FakeBedrock::builder()
        .credentials(AK, SK)
        .start()
        .await
        .unwrap();
    let base = || {
        aws_sdk_bedrockruntime::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(fake.url())
    };
    // A provider that finds no credentials (what an empty default chain does).
    let message = missing_message(base().credentials_provider(NoCredentials).build()).await;
    assert_eq!(message, OPENCLAW_MISSING);
    // No credentials provider at all.
    let message = missing_message(base().build()).await;
    assert_eq!(message, OPENCLAW_MISSING);
    assert!(fake.requests().is_empty());
}
