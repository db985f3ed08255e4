//! Integration tests: the real AWS SDK clients built from `AwsSettings`, against `fake-bedrock`
//! over real HTTP on loopback, and `probe_imds` against a fake instance metadata service.
//!
//! Sections:
//! - SigV4 with static keys (with and without a session token)
//! - bearer token (no SigV4 on the wire), and the ignored generic `AWS_BEARER_TOKEN`
//! - profiles from temporary shared files (keys, credential_process), and the `AWS_PROFILE=default` EC2 workaround via IMDS
//! - endpoint overrides (environment variables vs a provider baseUrl)
//! - missing credentials at call time (OpenClaw's message)
//! - `probe_imds`: role, no role, unreachable, timeout
//! - the HTTP client's idle-connection pool: idle timeout and idle cap, seen as the client connections fake-bedrock counts open
//! - a CA bundle (`AWS_CA_BUNDLE`, a profile's `ca_bundle`) over HTTPS with ALPN h2: trusted with it, an unknown issuer without
//! - HTTP/2: concurrent calls share the pooled connection; with the pool off each opens its own
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, Message};
use fake_bedrock::{Auth, FakeBedrock};
use openclaw_creds::{
    AwsSettings, ConnectionPool, Env, ImdsStatus, POOL_IDLE_TIMEOUT, POOL_MAX_IDLE_PER_HOST,
    detect, probe_imds, resolve_region,
};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "it-secret-key-ZZ9";
const BEARER: &str = "test-bedrock-api-key";
const MODEL: &str = "amazon.titan-text-express-v1";

async fn fake() -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(AKID, SECRET)
        .bearer_token(BEARER)
        .start()
        .await
        .unwrap()
}

/// An environment with an empty `HOME`, IMDS disabled, both service endpoints at `url`.
fn base_env(home: &tempfile::TempDir, url: &str) -> Env {
    Env::from_pairs([
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL_BEDROCK", url),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url),
    ])
}

fn settings(env: &Env, base_url: Option<&str>) -> AwsSettings {
    let region = resolve_region(None, base_url, env).unwrap();
    AwsSettings::from_env(env, &region, base_url).unwrap()
}

/// One control-plane call and one runtime call.
async fn call_both(s: &AwsSettings) {
    let bedrock = aws_sdk_bedrock::Client::from_conf(s.bedrock_config());
    let listed = bedrock.list_foundation_models().send().await.unwrap();
    assert!(!listed.model_summaries().is_empty());
    converse(s).await.unwrap();
}

async fn converse(
    s: &AwsSettings,
) -> Result<
    aws_sdk_bedrockruntime::operation::converse::ConverseOutput,
    aws_sdk_bedrockruntime::error::SdkError<
        aws_sdk_bedrockruntime::operation::converse::ConverseError,
    >,
> {
    let runtime = aws_sdk_bedrockruntime::Client::from_conf(s.runtime_config());
    hello(&runtime).await
}

/// One Converse call saying "hello" on `runtime` (a client kept across calls keeps its pool).
fn hello(
    runtime: &aws_sdk_bedrockruntime::Client,
) -> impl Future<
    Output = Result<
        aws_sdk_bedrockruntime::operation::converse::ConverseOutput,
        aws_sdk_bedrockruntime::error::SdkError<
            aws_sdk_bedrockruntime::operation::converse::ConverseError,
        >,
    >,
> {
    runtime
        .converse()
        .model_id(MODEL)
        .messages(
            Message::builder()
                .role(ConversationRole::User)
                .content(ContentBlock::Text("hello".into()))
                .build()
                .unwrap(),
        )
        .send()
}

fn auths(fake: &FakeBedrock) -> Vec<Auth> {
    fake.requests().into_iter().map(|r| r.auth).collect()
}

// ---- SigV4 with static keys ----

#[tokio::test]
async fn sigv4_with_static_keys() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_ACCESS_KEY_ID", AKID)
        .with("AWS_SECRET_ACCESS_KEY", SECRET)
        .with("AWS_REGION", "eu-west-1");
    call_both(&settings(&env, None)).await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.status, Some(200), "{r:?}");
        assert_eq!(
            r.auth,
            Auth::SigV4 {
                access_key_id: AKID.into(),
                region: "eu-west-1".into(),
                service: "bedrock".into(),
                session_token_present: false,
            }
        );
    }
}

#[tokio::test]
async fn sigv4_with_session_token() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_ACCESS_KEY_ID", AKID)
        .with("AWS_SECRET_ACCESS_KEY", SECRET)
        .with("AWS_SESSION_TOKEN", "it-session-token");
    call_both(&settings(&env, None)).await;
    for r in fake.requests() {
        assert_eq!(r.status, Some(200));
        assert!(matches!(
            r.auth,
            Auth::SigV4 { session_token_present: true, ref region, .. } if region == "us-east-1"
        ));
    }
}

// ---- Bearer token ----

#[tokio::test]
async fn bearer_token_sends_no_sigv4() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    // Static keys and a session token are present too: bearer must still win, alone.
    let env = base_env(&home, &fake.url())
        .with("AWS_BEARER_TOKEN_BEDROCK", BEARER)
        .with("AWS_ACCESS_KEY_ID", AKID)
        .with("AWS_SECRET_ACCESS_KEY", SECRET)
        .with("AWS_SESSION_TOKEN", "it-session-token");
    call_both(&settings(&env, None)).await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.status, Some(200));
        assert_eq!(r.auth, Auth::Bearer);
        for signed in ["x-amz-date", "x-amz-security-token", "x-amz-content-sha256"] {
            assert!(r.header(signed).is_none(), "{signed} sent with bearer auth");
        }
    }
}

#[tokio::test]
async fn generic_aws_bearer_token_is_not_used() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_BEARER_TOKEN", BEARER)
        .with("AWS_ACCESS_KEY_ID", AKID)
        .with("AWS_SECRET_ACCESS_KEY", SECRET);
    converse(&settings(&env, None)).await.unwrap();
    assert!(matches!(auths(&fake)[..], [Auth::SigV4 { .. }]));
}

// ---- Profiles ----

#[tokio::test]
async fn named_profile_from_temporary_shared_files() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let creds = home.path().join("elsewhere-credentials");
    let config = home.path().join("elsewhere-config");
    std::fs::write(
        &creds,
        format!("[work]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    std::fs::write(&config, "[profile work]\nregion = ap-south-1\n").unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_PROFILE", "work")
        .with("AWS_SHARED_CREDENTIALS_FILE", creds.to_str().unwrap())
        .with("AWS_CONFIG_FILE", config.to_str().unwrap())
        .with("AWS_REGION", "eu-central-1");
    assert_eq!(detect(&env).to_string(), "env: AWS_PROFILE");
    call_both(&settings(&env, None)).await;
    for auth in auths(&fake) {
        assert_eq!(
            auth,
            Auth::SigV4 {
                access_key_id: AKID.into(),
                region: "eu-central-1".into(),
                service: "bedrock".into(),
                session_token_present: false,
            }
        );
    }
}

#[cfg(unix)]
#[tokio::test]
async fn credential_process_profile() {
    use std::os::unix::fs::PermissionsExt;
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("creds.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho '{{\"Version\":1,\"AccessKeyId\":\"{AKID}\",\"SecretAccessKey\":\"{SECRET}\"}}'\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = home.path().join("config");
    std::fs::write(
        &config,
        format!(
            "[profile proc]\ncredential_process = {}\n",
            script.display()
        ),
    )
    .unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_PROFILE", "proc")
        .with("AWS_CONFIG_FILE", config.to_str().unwrap());
    converse(&settings(&env, None)).await.unwrap();
    assert!(
        matches!(&auths(&fake)[..], [Auth::SigV4 { access_key_id, .. }] if access_key_id == AKID)
    );
}

#[tokio::test]
async fn default_profile_in_home_through_the_default_chain() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!("[default]\naws_access_key_id = {AKID}\naws_secret_access_key = {SECRET}\n"),
    )
    .unwrap();
    let env = base_env(&home, &fake.url());
    let source = detect(&env);
    assert_eq!(source.to_string(), "aws-sdk default chain");
    assert_eq!(
        source.marker().unwrap().to_string(),
        "shared files: [default] profile with static keys"
    );
    converse(&settings(&env, None)).await.unwrap();
    assert!(
        matches!(&auths(&fake)[..], [Auth::SigV4 { access_key_id, .. }] if access_key_id == AKID)
    );
}

// ---- A fake instance metadata service ----

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    ttl: Option<String>,
    token: Option<String>,
}

struct FakeImds {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeImds {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const IMDS_TOKEN: &str = "imds-session-token-123";

/// IMDSv2 on loopback: `PUT /latest/api/token` (needs the TTL header), then GETs that must carry
/// the token. `role`: the attached role, which also serves credentials for `AKID`/`SECRET`.
async fn fake_imds(role: Option<&'static str>) -> FakeImds {
    use axum::extract::{Request, State};
    use axum::http::StatusCode;
    use axum::response::IntoResponse;

    type Shared = (Arc<Mutex<Vec<Seen>>>, Option<&'static str>);
    async fn handle(State((seen, role)): State<Shared>, req: Request) -> axum::response::Response {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let entry = Seen {
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            ttl: header("x-aws-ec2-metadata-token-ttl-seconds"),
            token: header("x-aws-ec2-metadata-token"),
        };
        seen.lock().unwrap().push(entry.clone());
        if entry.method == "PUT" && entry.path == "/latest/api/token" {
            return match entry.ttl {
                Some(_) => (
                    [("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
                    IMDS_TOKEN,
                )
                    .into_response(),
                None => StatusCode::BAD_REQUEST.into_response(),
            };
        }
        if entry.token.as_deref() != Some(IMDS_TOKEN) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let listing = "/latest/meta-data/iam/security-credentials/";
        match (role, entry.path.strip_prefix(listing)) {
            (Some(role), Some("")) => role.into_response(),
            (Some(role), Some(name)) if name == role => format!(
                r#"{{"Code":"Success","LastUpdated":"2025-01-01T00:00:00Z","Type":"AWS-HMAC",
                "AccessKeyId":"{AKID}","SecretAccessKey":"{SECRET}","Token":"imds-issued-session",
                "Expiration":"2099-01-01T00:00:00Z"}}"#
            )
            .into_response(),
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }

    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .fallback(handle)
        .with_state((seen.clone(), role));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    FakeImds { url, seen, task }
}

fn imds_env(url: &str) -> Env {
    Env::from_pairs([("AWS_EC2_METADATA_SERVICE_ENDPOINT", url)])
}

// ---- The EC2 workaround, end to end ----

#[tokio::test]
async fn aws_profile_default_authenticates_through_imds() {
    let fake = fake().await;
    let imds = fake_imds(Some("bedrock-role")).await;
    let home = tempfile::tempdir().unwrap();
    // No shared files at all: only `AWS_PROFILE=default`, as documented for EC2.
    let env = base_env(&home, &fake.url())
        .with("AWS_EC2_METADATA_DISABLED", "false")
        .with("AWS_EC2_METADATA_SERVICE_ENDPOINT", &imds.url)
        .with("AWS_PROFILE", "default");
    let source = detect(&env);
    assert!(source.is_present());
    let s = settings(&env, None);
    assert!(
        imds.seen.lock().unwrap().is_empty(),
        "detection or building touched IMDS"
    );
    converse(&s).await.unwrap();
    assert!(matches!(
        &auths(&fake)[..],
        [Auth::SigV4 { access_key_id, session_token_present: true, .. }] if access_key_id == AKID
    ));
    assert!(imds.seen.lock().unwrap().iter().any(|s| s.method == "PUT"));
}

// ---- Endpoint overrides ----

#[tokio::test]
async fn provider_base_url_beats_the_environment() {
    let via_env = fake().await;
    let via_base_url = fake().await;
    let home = tempfile::tempdir().unwrap();
    let env = base_env(&home, &via_env.url())
        .with("AWS_ACCESS_KEY_ID", AKID)
        .with("AWS_SECRET_ACCESS_KEY", SECRET);
    let base_url = format!("{}/", via_base_url.url());
    let s = settings(&env, Some(&base_url));
    assert_eq!(
        s.runtime_endpoint().unwrap().to_string(),
        format!("{} (from provider baseUrl)", via_base_url.url())
    );
    call_both(&s).await;
    // The runtime call went to the baseUrl; the control plane still follows the environment.
    let paths =
        |f: &FakeBedrock| -> Vec<String> { f.requests().into_iter().map(|r| r.path).collect() };
    assert_eq!(paths(&via_base_url), [format!("/model/{MODEL}/converse")]);
    assert_eq!(paths(&via_env), ["/foundation-models"]);
}

#[tokio::test]
async fn global_endpoint_url_serves_both_services() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let env = Env::from_pairs([
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_ENDPOINT_URL", fake.url().as_str()),
        ("AWS_BEARER_TOKEN_BEDROCK", BEARER),
    ]);
    let s = settings(&env, None);
    assert_eq!(
        s.bedrock_endpoint().unwrap().to_string(),
        format!("{} (from AWS_ENDPOINT_URL)", fake.url())
    );
    call_both(&s).await;
    assert_eq!(auths(&fake), [Auth::Bearer, Auth::Bearer]);
}

// ---- Missing credentials ----

#[tokio::test]
async fn missing_credentials_read_like_openclaw() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (base_env(&home, &fake.url()), "aws-sdk default chain"),
        // The generic variable is not a Bedrock credential.
        (
            base_env(&home, &fake.url()).with("AWS_BEARER_TOKEN", BEARER),
            "aws-sdk default chain",
        ),
        // EC2 workaround off EC2 (IMDS disabled): detection says present, the call says missing.
        (
            base_env(&home, &fake.url()).with("AWS_PROFILE", "default"),
            "env: AWS_PROFILE",
        ),
    ];
    for (env, checked) in cases {
        let s = settings(&env, None);
        let err = converse(&s).await.unwrap_err();
        let mapped = s
            .missing_credentials_error(&err)
            .unwrap_or_else(|| panic!("not mapped: {err:?}"));
        assert_eq!(
            mapped.to_string(),
            format!(
                "No API key resolved for provider \"amazon-bedrock\" (auth mode: aws-sdk, \
                 checked: {checked})."
            )
        );
    }
    assert!(
        fake.requests().is_empty(),
        "an unauthenticated request reached the server"
    );
}

#[tokio::test]
async fn other_errors_are_not_mapped_to_missing_credentials() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_ACCESS_KEY_ID", AKID)
        .with("AWS_SECRET_ACCESS_KEY", "wrong-secret");
    let s = settings(&env, None);
    let err = converse(&s).await.unwrap_err();
    assert!(s.missing_credentials_error(&err).is_none(), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("wrong-secret"));
}

// ---- probe_imds ----

#[tokio::test]
async fn imds_role_available_with_the_token_dance() {
    let imds = fake_imds(Some("bedrock-role")).await;
    let status = probe_imds(&imds_env(&imds.url), Duration::from_secs(1)).await;
    assert_eq!(
        status,
        ImdsStatus::RoleAvailable {
            role: "bedrock-role".into()
        }
    );
    assert!(status.role_available());
    let seen = imds.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("PUT", "/latest/api/token")
    );
    assert!(seen[0].ttl.is_some());
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("GET", "/latest/meta-data/iam/security-credentials/")
    );
    assert_eq!(seen[1].token.as_deref(), Some(IMDS_TOKEN));
}

#[tokio::test]
async fn imds_without_a_role() {
    let imds = fake_imds(None).await;
    let status = probe_imds(&imds_env(&imds.url), Duration::from_secs(1)).await;
    assert_eq!(status, ImdsStatus::NoRole);
    assert_eq!(imds.seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn imds_unreachable() {
    // Bind then drop: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let status = probe_imds(
        &imds_env(&format!("http://127.0.0.1:{port}")),
        Duration::from_secs(1),
    )
    .await;
    assert!(
        matches!(status, ImdsStatus::Unavailable { .. }),
        "{status:?}"
    );
}

#[tokio::test]
async fn imds_timeout() {
    // Accepts connections and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let budget = Duration::from_millis(300);
    let started = Instant::now();
    let status = probe_imds(&imds_env(&url), budget).await;
    let took = started.elapsed();
    hold.abort();
    assert_eq!(status, ImdsStatus::TimedOut { after: budget });
    // Generous margin: the point is that it returns, not how precisely.
    assert!(took < budget + Duration::from_secs(2), "took {took:?}");
}

// ---- SSO profiles, web identity and container credentials (fake-bedrock issues them) ----

const SSO_TOKEN: &str = "it-sso-access-token";

/// Writes `config` as `~/.aws/config` and, when `expires_at` is set, a cached SSO token for
/// `cache_key` (the session name, or the start URL of a legacy profile) as `aws sso login`
/// writes it.
fn sso_home(config: &str, cache_key: &str, expires_at: Option<&str>) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(aws.join("sso/cache")).unwrap();
    std::fs::write(aws.join("config"), config).unwrap();
    if let Some(expires_at) = expires_at {
        let name = sha1_hex(cache_key);
        std::fs::write(
            aws.join(format!("sso/cache/{name}.json")),
            format!(
                r#"{{"startUrl":"https://d-0000000000.awsapps.com/start","region":"us-east-1",
                "accessToken":"{SSO_TOKEN}","expiresAt":"{expires_at}"}}"#
            ),
        )
        .unwrap();
    }
    home
}

/// The token cache file names, computed with `sha1sum` (not with the code under test).
fn sha1_hex(text: &str) -> &'static str {
    match text {
        "corp" => "ee0bfd2552fbd840c02cc48b6e823320543c450f",
        "https://d-0000000000.awsapps.com/start" => "b51e627ec5d75dab0c56e37911d5b31610f612e0",
        other => panic!("no precomputed SHA-1 for {other:?}"),
    }
}

const SSO_SESSION_CONFIG: &str = "\
[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = BedrockUser
region = eu-west-1

[sso-session corp]
sso_start_url = https://d-0000000000.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
";

const LEGACY_SSO_CONFIG: &str = "\
[profile legacy]
sso_start_url = https://d-0000000000.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = BedrockUser
";

/// An SSO environment: `HOME` with the files, `AWS_PROFILE`, the SSO portal and Bedrock at `url`.
fn sso_env(home: &tempfile::TempDir, profile: &str, url: &str) -> Env {
    base_env(home, url)
        .with("AWS_PROFILE", profile)
        .with("AWS_ENDPOINT_URL_SSO", url)
}

/// The portal call and the Converse call the fake received.
fn assert_sso_then_converse(fake: &FakeBedrock, region: &str) {
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let portal = &requests[0];
    assert_eq!(
        (portal.method.as_str(), portal.path.as_str()),
        ("GET", "/federation/credentials")
    );
    let mut query = portal.query_params();
    query.sort();
    assert_eq!(
        query,
        [
            ("account_id".to_string(), "123456789012".to_string()),
            ("role_name".to_string(), "BedrockUser".to_string())
        ]
    );
    // Sent, and redacted in the record.
    assert_eq!(portal.header("x-amz-sso_bearer_token"), Some("<redacted>"));
    assert_eq!(portal.status, Some(200));
    assert_eq!(requests[1].status, Some(200));
    assert_eq!(
        requests[1].auth,
        Auth::SigV4 {
            access_key_id: AKID.into(),
            region: region.into(),
            service: "bedrock".into(),
            session_token_present: true,
        }
    );
}

#[tokio::test]
async fn sso_session_profile_authenticates_through_the_portal() {
    let fake = fake().await;
    let home = sso_home(SSO_SESSION_CONFIG, "corp", Some("2099-01-01T00:00:00Z"));
    let env = sso_env(&home, "dev", &fake.url());
    assert_eq!(
        openclaw_creds::profile_credential_kind(&env, "dev"),
        Some(openclaw_creds::ProfileCredentialKind::Sso)
    );
    // No region variable: the profile's `region` applies.
    let region = resolve_region(None, None, &env).unwrap();
    assert_eq!(
        region.to_string(),
        "eu-west-1 (from the shared config file's profile region)"
    );
    converse(&settings(&env, None)).await.unwrap();
    assert_sso_then_converse(&fake, "eu-west-1");
}

#[tokio::test]
async fn legacy_sso_profile_authenticates_through_the_portal() {
    let fake = fake().await;
    let home = sso_home(
        LEGACY_SSO_CONFIG,
        "https://d-0000000000.awsapps.com/start",
        Some("2099-01-01T00:00:00Z"),
    );
    let env = sso_env(&home, "legacy", &fake.url()).with("AWS_REGION", "us-west-2");
    converse(&settings(&env, None)).await.unwrap();
    assert_sso_then_converse(&fake, "us-west-2");
}

#[tokio::test]
async fn expired_but_refreshable_sso_session_is_refreshed_through_sso_oidc() {
    let fake = fake().await;
    let home = sso_home(SSO_SESSION_CONFIG, "corp", None);
    let cache = home
        .path()
        .join(format!(".aws/sso/cache/{}.json", sha1_hex("corp")));
    std::fs::write(
        &cache,
        format!(
            r#"{{"startUrl":"https://d-0000000000.awsapps.com/start","region":"us-east-1",
            "accessToken":"{SSO_TOKEN}","expiresAt":"2020-01-01T00:00:00Z",
            "clientId":"it-client","clientSecret":"it-client-secret","refreshToken":"it-refresh",
            "registrationExpiresAt":"2099-01-01T00:00:00Z"}}"#
        ),
    )
    .unwrap();
    let env = sso_env(&home, "dev", &fake.url()).with("AWS_ENDPOINT_URL_SSO_OIDC", fake.url());
    converse(&settings(&env, None)).await.unwrap();
    let requests = fake.requests();
    let routes: Vec<(&str, &str)> = requests
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        routes,
        [
            ("POST", "/token"),
            ("GET", "/federation/credentials"),
            ("POST", "/model/amazon.titan-text-express-v1/converse"),
        ]
    );
    let grant = requests[0].json().unwrap();
    assert_eq!(grant["grantType"], "refresh_token");
    assert_eq!(grant["refreshToken"], "it-refresh");
    // The SDK wrote the refreshed token back to the cache, as the CLI would.
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert_eq!(cached["accessToken"], fake_bedrock::REFRESHED_SSO_TOKEN);
    assert!(matches!(
        &requests[2].auth,
        Auth::SigV4 {
            session_token_present: true,
            ..
        }
    ));
}

#[tokio::test]
async fn expired_or_missing_sso_sessions_say_what_to_run() {
    let fake = fake().await;
    let cases = [
        (
            sso_home(SSO_SESSION_CONFIG, "corp", Some("2020-01-01T00:00:00Z")),
            "dev",
            "the AWS SSO session has expired for AWS profile `dev`: \
             run `aws sso login --profile dev`",
        ),
        (
            sso_home(
                LEGACY_SSO_CONFIG,
                "https://d-0000000000.awsapps.com/start",
                Some("2020-01-01T00:00:00Z"),
            ),
            "legacy",
            "the AWS SSO session has expired for AWS profile `legacy`: \
             run `aws sso login --profile legacy`",
        ),
        (
            sso_home(SSO_SESSION_CONFIG, "corp", None),
            "dev",
            "no AWS SSO session is cached for AWS profile `dev`: \
             run `aws sso login --profile dev`",
        ),
    ];
    for (home, profile, message) in cases {
        let s = settings(&sso_env(&home, profile, &fake.url()), None);
        let err = converse(&s).await.unwrap_err();
        let mapped = s
            .credentials_failure(&err)
            .unwrap_or_else(|| panic!("not mapped: {err:?}"));
        assert!(
            matches!(mapped, openclaw_creds::Error::SsoLoginRequired { .. }),
            "{mapped:?}"
        );
        assert_eq!(mapped.to_string(), message);
        assert!(!format!("{err:?}").contains(SSO_TOKEN), "token leaked");
    }
    assert!(
        fake.requests().is_empty(),
        "the portal or Bedrock was called with an unusable session"
    );
}

#[tokio::test]
async fn web_identity_through_sts() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("web-identity-token");
    std::fs::write(&token_file, "it-web-identity-jwt").unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .with(
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/bedrock-irsa",
        )
        .with("AWS_ROLE_SESSION_NAME", "it-session")
        .with("AWS_ENDPOINT_URL_STS", fake.url());
    assert_eq!(
        detect(&env).marker().unwrap().to_string(),
        "web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN"
    );
    converse(&settings(&env, None)).await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let sts = &requests[0];
    assert_eq!((sts.method.as_str(), sts.path.as_str()), ("POST", "/"));
    let form = String::from_utf8_lossy(&sts.body).into_owned();
    for part in [
        "Action=AssumeRoleWithWebIdentity",
        "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fbedrock-irsa",
        "RoleSessionName=it-session",
        "WebIdentityToken=it-web-identity-jwt",
    ] {
        assert!(form.contains(part), "{part} missing from {form}");
    }
    assert_eq!(sts.status, Some(200));
    assert!(matches!(
        &requests[1].auth,
        Auth::SigV4 { access_key_id, session_token_present: true, .. } if access_key_id == AKID
    ));
}

#[tokio::test]
async fn container_credentials_with_a_token_file() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("eks-pod-identity-token");
    std::fs::write(&token_file, "it-pod-identity-token").unwrap();
    let env = base_env(&home, &fake.url())
        .with(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("{}/v1/credentials", fake.url()),
        )
        .with(
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
            token_file.to_str().unwrap(),
        );
    assert_eq!(
        detect(&env).marker().unwrap().to_string(),
        "container credentials: AWS_CONTAINER_CREDENTIALS_FULL_URI"
    );
    converse(&settings(&env, None)).await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let agent = &requests[0];
    assert_eq!(
        (agent.method.as_str(), agent.path.as_str()),
        ("GET", "/v1/credentials")
    );
    // The token file's content is the Authorization header (redacted in the record).
    assert_eq!(agent.header("authorization"), Some("<redacted>"));
    assert_eq!(agent.status, Some(200));
    assert!(matches!(
        &requests[1].auth,
        Auth::SigV4 { access_key_id, session_token_present: true, .. } if access_key_id == AKID
    ));
}

#[tokio::test]
async fn container_credentials_refuse_a_non_loopback_http_uri() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    // TEST-NET-1: never contacted, the SDK refuses plain http to a non-loopback host.
    let env = base_env(&home, &fake.url())
        .with(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "http://192.0.2.1/v1/credentials",
        )
        .with("AWS_CONTAINER_AUTHORIZATION_TOKEN", "it-token");
    let s = settings(&env, None);
    let err = converse(&s).await.unwrap_err();
    let mapped = s.credentials_failure(&err).unwrap();
    assert!(
        matches!(mapped, openclaw_creds::Error::CredentialsUnavailable { .. }),
        "{mapped:?}"
    );
    assert!(fake.requests().is_empty());
}

// ---- Endpoints from the shared config file ----

#[tokio::test]
async fn shared_config_services_section_and_profile_endpoint_url() {
    let runtime_fake = fake().await;
    let control_fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile local]\n\
             aws_access_key_id = {AKID}\n\
             aws_secret_access_key = {SECRET}\n\
             services = local-bedrock\n\
             endpoint_url = {control}\n\
             \n\
             [services local-bedrock]\n\
             bedrock-runtime =\n  endpoint_url = {runtime}\n",
            control = control_fake.url(),
            runtime = runtime_fake.url(),
        ),
    )
    .unwrap();
    let env = Env::from_pairs([
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_PROFILE", "local"),
    ]);
    let s = settings(&env, None);
    assert_eq!(
        s.runtime_endpoint().unwrap().to_string(),
        format!(
            "{} (from the shared config file's services section)",
            runtime_fake.url()
        )
    );
    assert_eq!(
        s.bedrock_endpoint().unwrap().to_string(),
        format!(
            "{} (from the shared config file's profile endpoint_url)",
            control_fake.url()
        )
    );
    call_both(&s).await;
    let paths =
        |f: &FakeBedrock| -> Vec<String> { f.requests().into_iter().map(|r| r.path).collect() };
    assert_eq!(paths(&runtime_fake), [format!("/model/{MODEL}/converse")]);
    assert_eq!(paths(&control_fake), ["/foundation-models"]);

    // The variables come first, and the ignore switch turns the file's endpoints off too.
    let over = settings(
        &env.clone()
            .with("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", control_fake.url()),
        None,
    );
    assert_eq!(
        over.runtime_endpoint().unwrap().to_string(),
        format!(
            "{} (from AWS_ENDPOINT_URL_BEDROCK_RUNTIME)",
            control_fake.url()
        )
    );
    let ignored = settings(
        &env.with("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"),
        None,
    );
    assert_eq!(ignored.runtime_endpoint(), None);
    assert_eq!(ignored.bedrock_endpoint(), None);
}

#[tokio::test]
async fn web_identity_profile_through_sts() {
    let fake = fake().await;
    let home = tempfile::tempdir().unwrap();
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "it-profile-jwt").unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile irsa]\nrole_arn = arn:aws:iam::123456789012:role/from-profile\n\
             web_identity_token_file = {}\nrole_session_name = profile-session\n",
            token_file.display()
        ),
    )
    .unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_PROFILE", "irsa")
        .with("AWS_ENDPOINT_URL_STS", fake.url());
    assert_eq!(
        openclaw_creds::profile_credential_kind(&env, "irsa"),
        Some(openclaw_creds::ProfileCredentialKind::AssumeRole)
    );
    converse(&settings(&env, None)).await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let form = String::from_utf8_lossy(&requests[0].body).into_owned();
    assert!(form.contains("RoleSessionName=profile-session"), "{form}");
    assert!(form.contains("WebIdentityToken=it-profile-jwt"), "{form}");
    assert!(matches!(
        &requests[1].auth,
        Auth::SigV4 {
            session_token_present: true,
            ..
        }
    ));
}

// ---- the HTTP client's idle-connection pool ----

/// Waits up to 10 s for the fake's open client connections to read `want`; returns the last
/// reading.
async fn settle_at(fake: &FakeBedrock, want: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = fake.open_connections();
        if now == want || Instant::now() > deadline {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn static_key_env(home: &tempfile::TempDir, url: &str) -> Env {
    base_env(home, url)
        .with("AWS_ACCESS_KEY_ID", AKID)
        .with("AWS_SECRET_ACCESS_KEY", SECRET)
}

#[tokio::test]
async fn idle_pooled_connections_are_closed_after_the_idle_timeout() {
    let fake = fake().await;
    let url = fake.url();
    let home = tempfile::tempdir().unwrap();
    let s = settings(&static_key_env(&home, &url), None).with_connection_pool(ConnectionPool {
        idle_timeout: Duration::from_millis(300),
        max_idle_per_host: 8,
    });
    let runtime = aws_sdk_bedrockruntime::Client::from_conf(s.runtime_config());
    let send = || hello(&runtime);
    send().await.unwrap();
    // Pooled, then reused: one connection for two calls.
    assert_eq!(fake.open_connections(), 1);
    send().await.unwrap();
    assert_eq!(fake.open_connections(), 1);
    // The client is still alive: only the idle timeout can close its connection.
    assert_eq!(
        settle_at(&fake, 0).await,
        0,
        "the idle connection stayed open"
    );
    send().await.unwrap();
    assert_eq!(fake.requests().len(), 3);
    drop(runtime);
}

/// A thread running a current-thread runtime the whole time (as a server's worker does): each
/// message on `jobs` makes two calls on it; it stops (with its runtime and whatever that runtime
/// opened) when `jobs` closes.
fn current_thread_worker(
    runtime: aws_sdk_bedrockruntime::Client,
) -> (
    tokio::sync::mpsc::UnboundedSender<()>,
    std::sync::mpsc::Receiver<()>,
    std::thread::JoinHandle<()>,
) {
    let (jobs, mut next) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            while next.recv().await.is_some() {
                hello(&runtime).await.unwrap();
                // The connection goes back to the pool from its task (see below).
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                hello(&runtime).await.unwrap();
                done.send(()).unwrap();
            }
        });
    });
    (jobs, finished, thread)
}

#[test]
fn each_current_thread_runtime_calls_over_its_own_pool() {
    // The fake runs on a multi-thread runtime of its own for the whole test.
    let fake_rt = tokio::runtime::Runtime::new().unwrap();
    let fake = fake_rt.block_on(fake());
    let home = tempfile::tempdir().unwrap();
    let s = settings(&static_key_env(&home, &fake.url()), None);
    let runtime = aws_sdk_bedrockruntime::Client::from_conf(s.runtime_config());

    // Two calls on one thread, then two on another, while the first thread still lives: with
    // one shared pool the second thread would reuse the first one's idle connection.
    let (a_jobs, a_done, a) = current_thread_worker(runtime.clone());
    let (b_jobs, b_done, b) = current_thread_worker(runtime.clone());
    a_jobs.send(()).unwrap();
    a_done.recv().unwrap();
    b_jobs.send(()).unwrap();
    b_done.recv().unwrap();
    assert_eq!(fake.requests().len(), 4);
    assert_eq!(
        fake.open_connections(),
        2,
        "one pooled connection per current-thread runtime"
    );
    // Each thread keeps reusing its own connection.
    a_jobs.send(()).unwrap();
    a_done.recv().unwrap();
    assert_eq!(fake.open_connections(), 2);

    // A multi-thread runtime's calls share one pool: one more connection, reused. The first
    // call's connection goes back to the pool from its connection task, on another worker
    // thread, just after the answer is read: the second call waits a moment for it (without
    // that it may open a second connection, as any pooled client would).
    fake_rt.block_on(async {
        hello(&runtime).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        hello(&runtime).await.unwrap();
    });
    assert_eq!(fake.requests().len(), 8);
    assert_eq!(fake.open_connections(), 3);

    // A thread's runtime gone, its connections go with it.
    drop(a_jobs);
    a.join().unwrap();
    assert_eq!(
        fake_rt.block_on(settle_at(&fake, 2)),
        2,
        "the stopped runtime's connection was closed"
    );
    drop(b_jobs);
    b.join().unwrap();
}

/// Opens `calls` concurrent converse calls (the fake answers after 300 ms, so each takes its own
/// connection) and returns the connections still open once they settle
/// at `want` (or the last reading after 10 s).
async fn open_after_concurrent_calls(
    pool: Option<ConnectionPool>,
    calls: usize,
    want: usize,
) -> usize {
    let fake = FakeBedrock::builder()
        .credentials(AKID, SECRET)
        .pacing(fake_bedrock::Pacing {
            first_byte: Duration::from_millis(300),
            between_events: Duration::ZERO,
        })
        .start()
        .await
        .unwrap();
    let url = fake.url();
    let home = tempfile::tempdir().unwrap();
    let mut s = settings(&static_key_env(&home, &url), None);
    if let Some(pool) = pool {
        s = s.with_connection_pool(pool);
    }
    let runtime = aws_sdk_bedrockruntime::Client::from_conf(s.runtime_config());
    let calls = (0..calls).map(|_| hello(&runtime));
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
    let settled = settle_at(&fake, want).await;
    drop(runtime);
    settled
}

#[tokio::test]
async fn connections_over_the_idle_cap_are_closed_when_returned() {
    let pool = ConnectionPool {
        idle_timeout: Duration::from_secs(600),
        max_idle_per_host: 1,
    };
    // Four concurrent calls opened four connections; one stays pooled, three are closed.
    assert_eq!(open_after_concurrent_calls(Some(pool), 4, 1).await, 1);
}

#[tokio::test]
async fn a_zero_cap_or_a_zero_idle_timeout_keeps_no_connection() {
    let long = Duration::from_secs(600);
    for pool in [
        ConnectionPool {
            idle_timeout: long,
            max_idle_per_host: 0,
        },
        ConnectionPool {
            idle_timeout: Duration::ZERO,
            max_idle_per_host: 8,
        },
    ] {
        assert!(!pool.is_pooling());
        // Closed when each call ends, long before the 600 s or the 10 s of the settling.
        assert_eq!(
            open_after_concurrent_calls(Some(pool), 2, 0).await,
            0,
            "{pool:?}"
        );
    }
    assert!(ConnectionPool::default().is_pooling());
}

#[tokio::test]
async fn the_default_pool_keeps_at_most_its_idle_cap() {
    assert_eq!(
        ConnectionPool::default().max_idle_per_host,
        POOL_MAX_IDLE_PER_HOST
    );
    assert_eq!(ConnectionPool::default().idle_timeout, POOL_IDLE_TIMEOUT);
    // The default cap with an idle timeout far beyond the 10 s of settling: an idle sweep
    // closing connections one by one cannot pass through the cap and hide a missing one.
    let pool = ConnectionPool {
        idle_timeout: Duration::from_secs(600),
        ..ConnectionPool::default()
    };
    let calls = POOL_MAX_IDLE_PER_HOST + 4;
    assert_eq!(
        open_after_concurrent_calls(Some(pool), calls, POOL_MAX_IDLE_PER_HOST).await,
        POOL_MAX_IDLE_PER_HOST
    );
}

// ---- a CA bundle over HTTPS ----

async fn tls_fake() -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(AKID, SECRET)
        .tls()
        .start()
        .await
        .unwrap()
}

/// Writes the fake's certificate to `<home>/ca.pem`; returns the path.
fn write_ca(home: &tempfile::TempDir, fake: &FakeBedrock) -> String {
    let path = home.path().join("ca.pem");
    std::fs::write(&path, fake.ca_certificate_pem().unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// One ConverseStream call read to its end; the text it streamed.
async fn converse_stream_text(
    s: &AwsSettings,
) -> Result<
    String,
    aws_sdk_bedrockruntime::error::SdkError<
        aws_sdk_bedrockruntime::operation::converse_stream::ConverseStreamError,
    >,
> {
    use aws_sdk_bedrockruntime::types::{ContentBlockDelta, ConverseStreamOutput};
    let runtime = aws_sdk_bedrockruntime::Client::from_conf(s.runtime_config());
    let mut output = runtime
        .converse_stream()
        .model_id(MODEL)
        .messages(
            Message::builder()
                .role(ConversationRole::User)
                .content(ContentBlock::Text("hello".into()))
                .build()
                .unwrap(),
        )
        .send()
        .await?;
    let mut text = String::new();
    while let Some(event) = output.stream.recv().await.unwrap() {
        if let ConverseStreamOutput::ContentBlockDelta(delta) = event
            && let Some(ContentBlockDelta::Text(t)) = delta.delta()
        {
            text.push_str(t);
        }
    }
    Ok(text)
}

#[tokio::test]
async fn a_ca_bundle_makes_the_sdk_trust_the_endpoint_over_http2() {
    let fake = tls_fake().await;
    assert!(
        fake.url().starts_with("https://127.0.0.1:"),
        "{}",
        fake.url()
    );
    let home = tempfile::tempdir().unwrap();
    let ca = write_ca(&home, &fake);
    let env = static_key_env(&home, &fake.url()).with("AWS_CA_BUNDLE", &ca);
    let s = settings(&env, None);
    assert_eq!(s.ca_bundle().unwrap().certificates(), 1);

    assert_eq!(converse_stream_text(&s).await.unwrap(), "Echo: hello");
    // The control plane's client trusts it too.
    call_both(&s).await;
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    for r in &requests {
        assert_eq!(r.status, Some(200), "{r:?}");
        assert_eq!(r.http_version, "HTTP/2.0", "ALPN h2 was negotiated: {r:?}");
    }
}

#[tokio::test]
async fn a_profile_ca_bundle_is_trusted_and_none_is_an_unknown_issuer() {
    let fake = tls_fake().await;
    let home = tempfile::tempdir().unwrap();
    let ca = write_ca(&home, &fake);
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile private]\nca_bundle = {ca}\n"),
    )
    .unwrap();
    let env = static_key_env(&home, &fake.url());

    let with_profile = settings(&env.clone().with("AWS_PROFILE", "private"), None);
    assert_eq!(
        converse_stream_text(&with_profile).await.unwrap(),
        "Echo: hello"
    );
    assert_eq!(fake.requests().len(), 1);

    // Without a bundle, only the system's roots: the handshake fails, no request arrives.
    let without = settings(&env, None);
    assert!(without.ca_bundle().is_none());
    let err = converse_stream_text(&without).await.unwrap_err();
    assert!(
        matches!(
            err,
            aws_sdk_bedrockruntime::error::SdkError::DispatchFailure(_)
        ),
        "{err:?}"
    );
    assert!(openclaw_creds::is_untrusted_certificate(&err), "{err:?}");
    let chain = openclaw_creds::error_chain(&err);
    assert!(chain.contains("UnknownIssuer"), "{chain}");
    assert_eq!(
        fake.requests().len(),
        1,
        "the handshake failed before any request"
    );
}

#[tokio::test]
async fn the_default_chain_calls_trust_the_bundle_too() {
    // Web identity: STS `AssumeRoleWithWebIdentity` over HTTPS to the fake, then Converse.
    let fake = tls_fake().await;
    let home = tempfile::tempdir().unwrap();
    let ca = write_ca(&home, &fake);
    let token_file = home.path().join("token");
    std::fs::write(&token_file, "it-ca-jwt").unwrap();
    let env = base_env(&home, &fake.url())
        .with("AWS_CA_BUNDLE", &ca)
        .with("AWS_WEB_IDENTITY_TOKEN_FILE", token_file.to_str().unwrap())
        .with("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/ca")
        .with("AWS_ENDPOINT_URL_STS", fake.url());
    converse(&settings(&env, None)).await.unwrap();
    let requests = fake.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert!(
        String::from_utf8_lossy(&requests[0].body).contains("WebIdentityToken=it-ca-jwt"),
        "{requests:?}"
    );
    assert_eq!(requests[1].status, Some(200), "{requests:?}");
}

/// Over HTTPS with ALPN h2, four concurrent ConverseStream calls after a first one: with the
/// pool on they are four streams of the one pooled connection; with the pool off (an idle cap or
/// idle timeout of 0) hyper-util shares nothing, so each call opens its own connection.
#[tokio::test]
async fn http2_calls_share_one_connection_unless_the_pool_is_off() {
    async fn open_during_four_streams(pool: ConnectionPool) -> usize {
        let fake = FakeBedrock::builder()
            .credentials(AKID, SECRET)
            .tls()
            .chunk_size(2)
            .pacing(fake_bedrock::Pacing {
                first_byte: Duration::ZERO,
                between_events: Duration::from_millis(100),
            })
            .start()
            .await
            .unwrap();
        let home = tempfile::tempdir().unwrap();
        let ca = write_ca(&home, &fake);
        let env = static_key_env(&home, &fake.url()).with("AWS_CA_BUNDLE", &ca);
        let s = settings(&env, None).with_connection_pool(pool);
        // A first call, so that the next ones find the HTTP/2 connection (when it is pooled).
        assert_eq!(converse_stream_text(&s).await.unwrap(), "Echo: hello");
        let calls = (0..4).map(|_| {
            let s = s.clone();
            tokio::spawn(async move { converse_stream_text(&s).await.unwrap() })
        });
        let calls: Vec<_> = calls.collect();
        // The streams last about 0.6 s (six deltas 100 ms apart): read the count while all run.
        let deadline = Instant::now() + Duration::from_secs(10);
        while fake.requests().len() < 5 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let open = fake.open_connections();
        for call in calls {
            assert_eq!(call.await.unwrap(), "Echo: hello");
        }
        assert!(
            fake.requests().iter().all(|r| r.http_version == "HTTP/2.0"),
            "{:?}",
            fake.requests()
        );
        open
    }
    assert_eq!(open_during_four_streams(ConnectionPool::default()).await, 1);
    let off = ConnectionPool {
        max_idle_per_host: 0,
        ..ConnectionPool::default()
    };
    assert_eq!(open_during_four_streams(off).await, 4);
}
