//! Authentication: SigV4 (right and wrong secrets, unknown keys), bearer tokens, missing
//! credentials.

use aws_sdk_bedrockruntime::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_bedrockruntime::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use fake_bedrock::Auth;

use crate::support::*;

#[tokio::test]
async fn bearer_token_is_accepted_and_no_sigv4_is_sent() {
    let fake = fake().await;
    let client = runtime_bearer(&fake, TOKEN);
    let out = client
        .converse_stream()
        .model_id(HAIKU3)
        .messages(user("via api key"))
        .send()
        .await
        .unwrap();
    let c = collect(out.stream).await;
    assert_eq!(c.text, "Echo: via api key");
    let req = &fake.requests()[0];
    assert_eq!(req.auth, Auth::Bearer);
    assert_eq!(req.header("authorization"), Some("Bearer <redacted>"));
    assert!(req.header("x-amz-date").is_none());
    assert!(!format!("{req:?}").contains(TOKEN));

    let bad = runtime_bearer(&fake, "wrong-key")
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(bad.is_access_denied_exception(), "{bad:?}");
    assert_eq!(
        bad.message(),
        Some("Authentication failed: Please make sure your API Key is valid.")
    );

    // The control plane takes bearer tokens too.
    let conf = aws_sdk_bedrock::Config::builder()
        .behavior_version(aws_sdk_bedrock::config::BehaviorVersion::latest())
        .region(aws_sdk_bedrock::config::Region::new("us-east-1"))
        .bearer_token(aws_sdk_bedrock::config::Token::new(TOKEN, None))
        .auth_scheme_preference([HTTP_BEARER_AUTH_SCHEME_ID])
        .endpoint_url(fake.url())
        .build();
    let listed = aws_sdk_bedrock::Client::from_conf(conf)
        .list_foundation_models()
        .send()
        .await
        .unwrap();
    assert!(!listed.model_summaries().is_empty());
    assert_eq!(fake.requests().last().unwrap().auth, Auth::Bearer);
}

#[tokio::test]
async fn wrong_secret_unknown_key_and_missing_auth_are_refused() {
    let fake = fake().await;
    let err = runtime(&fake, "us-east-1", "not-the-secret")
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    assert!(err.message().unwrap().starts_with(
        "The request signature we calculated does not match the signature you provided."
    ));
    assert_eq!(fake.requests().last().unwrap().status, Some(403));

    let conf = aws_sdk_bedrockruntime::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDUNKNOWN", SK, None, None, "test"))
        .endpoint_url(fake.url())
        .retry_config(retry_off())
        .build();
    let err = aws_sdk_bedrockruntime::Client::from_conf(conf)
        .converse()
        .model_id(HAIKU3)
        .messages(user("x"))
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid.")
    );

    let resp = raw(&fake, "GET", "/foundation-models", &[], b"").await;
    assert_eq!(resp.status, 403);
    assert!(
        resp.header("x-amzn-errortype")
            .unwrap()
            .starts_with("MissingAuthenticationTokenException:")
    );
    assert_eq!(resp.body, br#"{"message":"Missing Authentication Token"}"#);

    let resp = raw(
        &fake,
        "GET",
        "/nope",
        &[("authorization", &format!("Bearer {TOKEN}"))],
        b"",
    )
    .await;
    assert_eq!(resp.status, 404);
    assert!(fake.requests().iter().all(|r| r.status.is_some()));
}
