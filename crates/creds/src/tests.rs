//! Unit tests: precedence, markers, region order and validation, endpoints, secrets.

use std::path::Path;

use super::*;

/// An environment whose `HOME` is an empty temporary directory, so the machine's own `~/.aws`
/// never leaks into a test.
struct TestEnv {
    home: tempfile::TempDir,
}

impl TestEnv {
    fn new() -> Self {
        Self {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn env(&self, pairs: &[(&str, &str)]) -> Env {
        let mut env = Env::from_pairs(pairs.iter().copied());
        if env.get("HOME").is_none() {
            env = env.with("HOME", self.home.path().to_str().unwrap());
        }
        env
    }

    fn write(&self, relative: &str, contents: &str) -> String {
        let path = self.home.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path.to_str().unwrap().to_string()
    }
}

fn src(pairs: &[(&str, &str)]) -> CredentialSource {
    detect(&TestEnv::new().env(pairs))
}

#[test]
fn precedence_table() {
    let all = [
        ("AWS_BEARER_TOKEN_BEDROCK", "tok"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "sk"),
        ("AWS_PROFILE", "work"),
    ];
    assert_eq!(src(&all), CredentialSource::BearerToken);
    assert_eq!(
        src(&all[1..]),
        CredentialSource::StaticKeys {
            session_token: false
        }
    );
    assert_eq!(
        src(&all[3..]),
        CredentialSource::Profile {
            name: "work".into()
        }
    );
    assert_eq!(src(&[]), CredentialSource::DefaultChain { marker: None });

    // Blank values count as unset, at every level.
    let blank = [
        ("AWS_BEARER_TOKEN_BEDROCK", "  "),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_PROFILE", " "),
    ];
    assert_eq!(src(&blank), CredentialSource::DefaultChain { marker: None });
    // Both keys are needed; one alone falls through to the profile.
    assert_eq!(
        src(&[("AWS_SECRET_ACCESS_KEY", "sk"), ("AWS_PROFILE", "p")]),
        CredentialSource::Profile { name: "p".into() }
    );
    assert_eq!(
        src(&[
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "sk"),
            ("AWS_SESSION_TOKEN", "st"),
        ]),
        CredentialSource::StaticKeys {
            session_token: true
        }
    );
    // The profile name is trimmed.
    assert_eq!(
        src(&[("AWS_PROFILE", " default ")]),
        CredentialSource::Profile {
            name: "default".into()
        }
    );
}

#[test]
fn display_strings_are_openclaws() {
    assert_eq!(
        CredentialSource::BearerToken.to_string(),
        "env: AWS_BEARER_TOKEN_BEDROCK"
    );
    assert_eq!(
        CredentialSource::StaticKeys {
            session_token: true
        }
        .to_string(),
        "env: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY"
    );
    assert_eq!(
        CredentialSource::Profile { name: "x".into() }.to_string(),
        "env: AWS_PROFILE"
    );
    let chain = CredentialSource::DefaultChain {
        marker: Some(ChainMarker::WebIdentity),
    };
    assert_eq!(chain.to_string(), "aws-sdk default chain");
}

#[test]
fn presence_env_sources_and_the_ec2_workaround() {
    assert!(src(&[("AWS_BEARER_TOKEN_BEDROCK", "t")]).is_present());
    assert!(src(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "s")]).is_present());
    // The documented EC2 instance-role workaround: no shared files at all, still present.
    let ec2 = src(&[("AWS_PROFILE", "default")]);
    assert!(ec2.is_present());
    assert_eq!(ec2.marker(), None);
    assert!(!src(&[]).is_present());
}

#[test]
fn plain_aws_bearer_token_is_not_reported() {
    let source = src(&[("AWS_BEARER_TOKEN", "generic")]);
    assert_eq!(source, CredentialSource::DefaultChain { marker: None });
    assert!(!source.is_present());
}

#[test]
fn web_identity_marker_needs_file_and_role() {
    let both = src(&[
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"),
        ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
    ]);
    assert_eq!(both.marker(), Some(&ChainMarker::WebIdentity));
    assert!(both.is_present());
    assert_eq!(
        both.marker().unwrap().to_string(),
        "web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN"
    );
    assert!(!src(&[("AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token")]).is_present());
    assert!(!src(&[("AWS_ROLE_ARN", "arn:aws:iam::1:role/r")]).is_present());
}

#[test]
fn container_markers() {
    for variable in [
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        let source = src(&[(variable, "/v2/credentials/x")]);
        assert_eq!(
            source.marker(),
            Some(&ChainMarker::ContainerCredentials { variable })
        );
        assert_eq!(
            source.marker().unwrap().to_string(),
            format!("container credentials: {variable}")
        );
    }
}

fn shared_kind(t: &TestEnv, env: &[(&str, &str)]) -> Option<ProfileCredentialKind> {
    match detect(&t.env(env)) {
        CredentialSource::DefaultChain {
            marker: Some(ChainMarker::SharedProfile { kind }),
        } => Some(kind),
        CredentialSource::DefaultChain { marker: None } => None,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn shared_profile_in_default_locations() {
    let t = TestEnv::new();
    assert_eq!(shared_kind(&t, &[]), None);
    t.write(
        ".aws/credentials",
        "[default]\naws_access_key_id = AKID\naws_secret_access_key = sk\n",
    );
    assert_eq!(
        shared_kind(&t, &[]),
        Some(ProfileCredentialKind::StaticKeys)
    );
    assert_eq!(
        detect(&t.env(&[])).marker().unwrap().to_string(),
        "shared files: [default] profile with static keys"
    );
}

#[test]
fn shared_profile_kinds_in_config_file() {
    let cases = [
        (
            "[default]\ncredential_process = /bin/creds\n",
            Some(ProfileCredentialKind::CredentialProcess),
        ),
        (
            "[profile default]\nsso_session = corp\n",
            Some(ProfileCredentialKind::Sso),
        ),
        (
            "[default]\nsso_start_url = https://x.awsapps.com/start\n",
            Some(ProfileCredentialKind::Sso),
        ),
        (
            "[default]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = base\n",
            Some(ProfileCredentialKind::AssumeRole),
        ),
        (
            "[default]\nweb_identity_token_file = /t\n",
            Some(ProfileCredentialKind::WebIdentity),
        ),
        (
            "[default]\nlogin_session = arn:aws:iam::1:user/u\n",
            Some(ProfileCredentialKind::Login),
        ),
        // A region alone is not a credential.
        ("[default]\nregion = eu-west-1\n", None),
        // Only the default profile counts (AWS_PROFILE is unset here).
        (
            "[profile other]\naws_access_key_id = A\naws_secret_access_key = s\n",
            None,
        ),
        // Half a key pair is not a credential.
        ("[default]\naws_access_key_id = A\n", None),
    ];
    for (contents, expected) in cases {
        let t = TestEnv::new();
        let path = t.write("elsewhere/cfg", contents);
        assert_eq!(
            shared_kind(&t, &[("AWS_CONFIG_FILE", &path)]),
            expected,
            "{contents}"
        );
        // The file is only read where AWS_CONFIG_FILE says.
        assert_eq!(shared_kind(&t, &[]), None, "{contents}");
    }
}

#[test]
fn shared_credentials_file_override_and_marker_order() {
    let t = TestEnv::new();
    let path = t.write(
        "custom/creds",
        "[default]\naws_access_key_id = A\naws_secret_access_key = s\n",
    );
    let env = [
        ("AWS_SHARED_CREDENTIALS_FILE", path.as_str()),
        ("AWS_WEB_IDENTITY_TOKEN_FILE", "/t"),
        ("AWS_ROLE_ARN", "arn:aws:iam::1:role/r"),
        ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2"),
    ];
    // The SDK chain order: profile, then web identity, then container.
    assert_eq!(
        shared_kind(&t, &env),
        Some(ProfileCredentialKind::StaticKeys)
    );
    assert_eq!(
        detect(&t.env(&env[1..])).marker(),
        Some(&ChainMarker::WebIdentity)
    );
}

#[test]
fn malformed_shared_file_is_no_marker() {
    let t = TestEnv::new();
    t.write(".aws/config", "[default\nthis is = not ini\n");
    assert_eq!(shared_kind(&t, &[]), None);
}

#[test]
fn shared_files_resolve() {
    let env = Env::from_pairs([("HOME", "/home/u")]);
    let files = SharedFiles::resolve(&env);
    assert_eq!(files.config, Path::new("/home/u/.aws/config"));
    assert_eq!(files.credentials, Path::new("/home/u/.aws/credentials"));
    let env = env
        .with("AWS_CONFIG_FILE", "/etc/aws/config")
        .with("AWS_SHARED_CREDENTIALS_FILE", "~/creds");
    let files = SharedFiles::resolve(&env);
    assert_eq!(files.config, Path::new("/etc/aws/config"));
    assert_eq!(files.credentials, Path::new("/home/u/creds"));
}

#[test]
fn region_order() {
    let env = Env::from_pairs([
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "ap-south-1"),
    ]);
    let base = Some("https://bedrock-runtime.us-west-2.amazonaws.com");
    let r = |d, b, e: &Env| resolve_region(d, b, e).unwrap();

    assert_eq!(
        r(Some("ca-central-1"), base, &env).source,
        RegionSource::Config
    );
    assert_eq!(r(Some("ca-central-1"), base, &env).region, "ca-central-1");
    assert_eq!(r(None, base, &env).region, "us-west-2");
    assert_eq!(r(None, base, &env).source, RegionSource::BaseUrl);
    assert_eq!(r(None, None, &env).region, "eu-west-1");
    assert_eq!(r(None, None, &env).source, RegionSource::AwsRegion);
    let only_default = Env::from_pairs([("AWS_DEFAULT_REGION", "ap-south-1")]);
    assert_eq!(
        r(None, None, &only_default).source,
        RegionSource::AwsDefaultRegion
    );
    assert_eq!(r(None, None, &only_default).region, "ap-south-1");
    let none = Env::empty();
    assert_eq!(r(None, None, &none).region, "us-east-1");
    assert_eq!(r(None, None, &none).source, RegionSource::Default);
    // A non-standard baseUrl carries no region; blank values are unset.
    assert_eq!(
        r(Some("  "), Some("http://127.0.0.1:9000"), &env).source,
        RegionSource::AwsRegion
    );
    let blank = Env::from_pairs([("AWS_REGION", " "), ("AWS_DEFAULT_REGION", "us-west-1")]);
    assert_eq!(r(None, None, &blank).source, RegionSource::AwsDefaultRegion);
    assert_eq!(
        r(None, None, &env).to_string(),
        "eu-west-1 (from AWS_REGION)"
    );
}

#[test]
fn invalid_regions_name_their_origin() {
    let bad = Env::from_pairs([
        ("AWS_REGION", "US_EAST_1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]);
    let err = resolve_region(None, None, &bad).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid region \"US_EAST_1\" from AWS_REGION: expected an AWS region such as `us-east-1` \
         (lowercase words joined by `-`, ending in a number)"
    );
    let err = resolve_region(Some("mars"), None, &Env::empty()).unwrap_err();
    assert!(
        err.to_string().contains("from the configured region"),
        "{err}"
    );
    let err = resolve_region(
        None,
        Some("https://bedrock-runtime.x.amazonaws.com"),
        &Env::empty(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("from the provider baseUrl"),
        "{err}"
    );
}

#[test]
fn region_validation_table() {
    for ok in [
        "us-east-1",
        "eu-central-2",
        "ap-southeast-4",
        "us-gov-west-1",
        "cn-north-1",
        "us-iso-east-1",
        "us-isob-east-1",
        "eusc-de-east-1",
        "il-central-1",
    ] {
        assert!(is_valid_region(ok), "{ok}");
    }
    for bad in [
        "",
        "us-east",
        "useast1",
        "US-EAST-1",
        "us_east_1",
        "us-east-1 ",
        "us--east-1",
        "-us-east-1",
        "u-east-1",
        "us-east-123",
        "https://us-east-1",
        "us-east-1a",
    ] {
        assert!(!is_valid_region(bad), "{bad}");
    }
}

#[test]
fn base_url_parsing() {
    for (url, region) in [
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            Some("us-east-1"),
        ),
        (
            "https://bedrock-runtime.eu-west-3.amazonaws.com/",
            Some("eu-west-3"),
        ),
        ("https://bedrock.us-west-2.amazonaws.com", Some("us-west-2")),
        (
            "https://bedrock-runtime.cn-north-1.amazonaws.com.cn",
            Some("cn-north-1"),
        ),
        (
            "https://bedrock-runtime-fips.us-gov-west-1.amazonaws.com",
            Some("us-gov-west-1"),
        ),
        ("HTTPS://BEDROCK-RUNTIME.US-EAST-1.AMAZONAWS.COM", None),
        ("http://bedrock-runtime.us-east-1.amazonaws.com", None),
        ("https://bedrock-runtime.us-east-1.amazonaws.com:8443", None),
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com/proxy",
            None,
        ),
        ("https://bedrock-agent.us-east-1.amazonaws.com", None),
        ("https://my-proxy.example.com", None),
        ("http://127.0.0.1:8080", None),
    ] {
        assert_eq!(region_from_base_url(url).as_deref(), region, "{url}");
    }
    assert_eq!(
        endpoint_for_base_url("https://bedrock-runtime.us-east-1.amazonaws.com"),
        None
    );
    assert_eq!(
        endpoint_for_base_url("https://bedrock-runtime-fips.us-east-1.amazonaws.com/").as_deref(),
        Some("https://bedrock-runtime-fips.us-east-1.amazonaws.com")
    );
    assert_eq!(
        endpoint_for_base_url("http://127.0.0.1:8080/").as_deref(),
        Some("http://127.0.0.1:8080")
    );
    assert_eq!(endpoint_for_base_url("  "), None);
}

fn settings(pairs: &[(&str, &str)], base_url: Option<&str>) -> Result<AwsSettings, Error> {
    let env = TestEnv::new().env(pairs);
    let region = resolve_region(None, base_url, &env)?;
    AwsSettings::from_env(&env, &region, base_url)
}

fn endpoints(s: &AwsSettings) -> (Option<String>, Option<String>) {
    (
        s.bedrock_endpoint().map(ToString::to_string),
        s.runtime_endpoint().map(ToString::to_string),
    )
}

#[test]
fn endpoint_precedence() {
    let s = settings(&[], None).unwrap();
    assert_eq!(endpoints(&s), (None, None));

    let s = settings(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:1/")], None).unwrap();
    assert_eq!(
        endpoints(&s),
        (
            Some("http://127.0.0.1:1 (from AWS_ENDPOINT_URL)".into()),
            Some("http://127.0.0.1:1 (from AWS_ENDPOINT_URL)".into())
        )
    );

    let all = [
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ("AWS_ENDPOINT_URL_BEDROCK", "http://127.0.0.1:2"),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "http://127.0.0.1:3"),
    ];
    let s = settings(&all, None).unwrap();
    assert_eq!(
        endpoints(&s),
        (
            Some("http://127.0.0.1:2 (from AWS_ENDPOINT_URL_BEDROCK)".into()),
            Some("http://127.0.0.1:3 (from AWS_ENDPOINT_URL_BEDROCK_RUNTIME)".into())
        )
    );

    // A non-standard baseUrl beats the environment for the runtime; a standard one does not.
    let s = settings(&all, Some("http://localhost:4/")).unwrap();
    assert_eq!(
        s.runtime_endpoint().unwrap().to_string(),
        "http://localhost:4 (from provider baseUrl)"
    );
    let s = settings(
        &all,
        Some("https://bedrock-runtime.us-west-2.amazonaws.com"),
    )
    .unwrap();
    assert_eq!(
        s.runtime_endpoint().unwrap().source,
        EndpointSource::EnvVar("AWS_ENDPOINT_URL_BEDROCK_RUNTIME")
    );
    assert_eq!(s.region().region, "us-west-2");

    // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS disables the variables, not the baseUrl.
    let mut ignored = all.to_vec();
    ignored.push(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE"));
    assert_eq!(endpoints(&settings(&ignored, None).unwrap()), (None, None));
    let s = settings(&ignored, Some("http://127.0.0.1:5")).unwrap();
    assert_eq!(
        endpoints(&s),
        (
            None,
            Some("http://127.0.0.1:5 (from provider baseUrl)".into())
        )
    );
}

#[test]
fn invalid_endpoints_are_errors_without_the_value() {
    for bad in [
        "not a url",
        "ftp://127.0.0.1",
        "http://user:hunter2@127.0.0.1",
        "/path",
    ] {
        let err = settings(&[("AWS_ENDPOINT_URL_BEDROCK", bad)], None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid endpoint URL in AWS_ENDPOINT_URL_BEDROCK: expected `http://` or `https://` \
             followed by a host"
        );
    }
    let err = settings(&[], Some("mailto:x")).unwrap_err();
    assert!(err.to_string().contains("provider baseUrl"), "{err}");
}

#[test]
fn sdk_config_per_source() {
    let s = settings(&[("AWS_BEARER_TOKEN_BEDROCK", "tok")], None).unwrap();
    assert!(s.sdk_config().credentials_provider().is_none());
    assert!(s.sdk_config().token_provider().is_some());
    let pref: Vec<_> = s
        .sdk_config()
        .auth_scheme_preference()
        .unwrap()
        .clone()
        .into_iter()
        .collect();
    assert_eq!(
        pref,
        vec![aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID]
    );

    let s = settings(
        &[("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "s")],
        None,
    )
    .unwrap();
    assert!(s.sdk_config().credentials_provider().is_some());
    assert!(s.sdk_config().token_provider().is_none());
    assert!(s.sdk_config().auth_scheme_preference().is_none());

    let s = settings(&[("AWS_PROFILE", "default")], None).unwrap();
    assert!(s.sdk_config().credentials_provider().is_some());
    assert_eq!(s.credential_source().to_string(), "env: AWS_PROFILE");
    assert_eq!(
        s.sdk_config().region().map(|r| r.to_string()),
        Some("us-east-1".into())
    );
    let other = ResolvedRegion::new("eu-west-1", RegionSource::Config).unwrap();
    let moved = s.for_region(&other);
    assert_eq!(
        moved.sdk_config().region().map(|r| r.to_string()),
        Some("eu-west-1".into())
    );
    assert_eq!(moved.region(), &other);
    assert_eq!(
        moved.runtime_config().region().map(|r| r.to_string()),
        Some("eu-west-1".into())
    );
    assert_eq!(
        moved.bedrock_config().region().map(|r| r.to_string()),
        Some("eu-west-1".into())
    );
}

#[test]
fn static_key_fingerprint_tells_keys_apart_without_showing_them() {
    let keys = |id: &str, secret: &str| {
        settings(
            &[("AWS_ACCESS_KEY_ID", id), ("AWS_SECRET_ACCESS_KEY", secret)],
            None,
        )
        .unwrap()
        .static_key_fingerprint()
        .map(str::to_string)
    };
    let a = keys("AKIDEXAMPLE", "secret-one").unwrap();
    // SHA-256("AKIDEXAMPLE"), first 8 bytes (computed independently with Python's hashlib).
    assert_eq!(a, "sha256:7a898e50dbd5b830");
    // The secret key does not enter it; surrounding whitespace is trimmed like the SDK value.
    assert_eq!(keys("AKIDEXAMPLE", "secret-two").unwrap(), a);
    assert_eq!(keys(" AKIDEXAMPLE ", "secret-one").unwrap(), a);
    let b = keys("AKIDOTHER", "secret-one").unwrap();
    assert_ne!(a, b);
    assert!(!a.contains("AKID") && !b.contains("AKID"));
    // Only static keys have one.
    for pairs in [
        &[("AWS_BEARER_TOKEN_BEDROCK", "tok")][..],
        &[("AWS_PROFILE", "work")][..],
        &[][..],
    ] {
        let s = settings(pairs, None).unwrap();
        assert_eq!(s.static_key_fingerprint(), None, "{pairs:?}");
    }
}

#[test]
fn missing_credentials_mapping() {
    use aws_credential_types::provider::error::CredentialsError;
    let source = CredentialSource::DefaultChain { marker: None };
    let not_loaded = CredentialsError::not_loaded("nothing here");
    let err = missing_credentials_error(&source, &not_loaded).unwrap();
    assert_eq!(
        err.to_string(),
        "No API key resolved for provider \"amazon-bedrock\" (auth mode: aws-sdk, checked: \
         aws-sdk default chain)."
    );
    // Found deeper in a source chain, too.
    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] CredentialsError);
    let outer = Outer(CredentialsError::not_loaded("x"));
    assert!(missing_credentials_error(&source, &outer).is_some());
    // Other credential failures are reported as they are.
    let invalid = CredentialsError::invalid_configuration("bad profile");
    assert!(missing_credentials_error(&source, &invalid).is_none());
    let io = std::io::Error::other("boom");
    assert!(missing_credentials_error(&source, &io).is_none());
}

#[test]
fn credential_provider_failures_are_credentials_errors() {
    use aws_credential_types::provider::error::CredentialsError;
    #[derive(Debug, thiserror::Error)]
    #[error("dispatch failure")]
    struct Dispatch(#[source] CredentialsError);
    let source = CredentialSource::DefaultChain { marker: None };
    let failed = Dispatch(CredentialsError::provider_error(std::io::Error::other(
        "failed to load IMDS session token",
    )));
    let err = credentials_failure(&source, &failed).unwrap();
    assert_eq!(
        err.to_string(),
        "could not load AWS credentials (checked: aws-sdk default chain): an error occurred while \
         loading credentials: failed to load IMDS session token"
    );
    // Nothing loaded is still OpenClaw's sentence.
    let not_loaded = Dispatch(CredentialsError::not_loaded("x"));
    assert!(matches!(
        credentials_failure(&source, &not_loaded),
        Some(Error::MissingCredentials { .. })
    ));
    assert!(credentials_failure(&source, &std::io::Error::other("boom")).is_none());
}

#[test]
fn error_chain_joins_sources_without_debug_dumps() {
    #[derive(Debug, thiserror::Error)]
    #[error("outer failed")]
    struct Outer(#[source] Middle);
    #[derive(Debug, thiserror::Error)]
    #[error("middle: root cause")]
    struct Middle(#[source] std::io::Error);
    let err = Outer(Middle(std::io::Error::other("root cause")));
    // The root's message is already in its parent's, so it is not repeated.
    assert_eq!(error_chain(&err), "outer failed: middle: root cause");

    // An empty message adds no separator, at the top or inside.
    #[derive(Debug, thiserror::Error)]
    #[error("")]
    struct Silent(#[source] std::io::Error);
    let silent = Silent(std::io::Error::other("root cause"));
    assert_eq!(error_chain(&silent), "root cause");
    let nested = Outer(Middle(std::io::Error::other("")));
    assert_eq!(error_chain(&nested), "outer failed: middle: root cause");
}

#[tokio::test]
async fn imds_disabled_makes_no_call() {
    // The endpoint points at a port nothing listens on; Disabled must come back without trying.
    let env = Env::from_pairs([
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9"),
    ]);
    assert_eq!(
        probe_imds(&env, DEFAULT_IMDS_TIMEOUT).await,
        ImdsStatus::Disabled
    );
    assert_eq!(imds_endpoint(&env), "http://127.0.0.1:9");
    assert_eq!(imds_endpoint(&Env::empty()), "http://169.254.169.254");
    assert_eq!(
        imds_endpoint(&Env::from_pairs([(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
            "IPv6"
        )])),
        "http://[fd00:ec2::254]"
    );
}

/// Distinctive secret values, set everywhere a secret can enter, must never come out.
#[test]
fn secrets_never_print() {
    const BEARER: &str = "BEARERsecretZZ9";
    const SECRET_KEY: &str = "SECRETkeyZZ9";
    const SESSION: &str = "SESSIONtokenZZ9";
    let t = TestEnv::new();
    let base = t.env(&[
        ("AWS_BEARER_TOKEN_BEDROCK", BEARER),
        ("AWS_BEARER_TOKEN", BEARER),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_SESSION_TOKEN", SESSION),
        ("AWS_ENDPOINT_URL", "https://proxy.example.com"),
    ]);
    // Bearer, static keys, then the default chain, with every secret still in the env.
    let envs = [
        base.clone(),
        base.clone().with("AWS_BEARER_TOKEN_BEDROCK", ""),
        base.clone()
            .with("AWS_BEARER_TOKEN_BEDROCK", "")
            .with("AWS_ACCESS_KEY_ID", ""),
    ];
    let mut printed = Vec::new();
    for env in &envs {
        printed.push(format!("{env:?}"));
        let source = detect(env);
        printed.push(format!("{source} {source:?}"));
        let region = resolve_region(None, None, env).unwrap();
        printed.push(format!("{region} {region:?}"));
        // Remote endpoints, so that the custom-endpoint warning is logged (and scanned).
        let mut built = None;
        let logs = capture_logs(|| {
            built = Some(AwsSettings::from_env(
                env,
                &region,
                Some("https://proxy.example.com"),
            ));
        });
        printed.push(logs);
        let s = built.unwrap().unwrap();
        printed.push(format!("{s:?}"));
        printed.push(format!("{:?}", s.sdk_config()));
        printed.push(format!("{:?}", s.runtime_config()));
        printed.push(format!("{:?}", s.bedrock_config()));
        for e in [s.bedrock_endpoint(), s.runtime_endpoint()]
            .into_iter()
            .flatten()
        {
            printed.push(format!("{e} {e:?}"));
        }
        let err = Error::MissingCredentials { checked: source };
        printed.push(format!("{err} {err:?}"));
    }
    let kinds: Vec<_> = envs.iter().map(|e| detect(e).to_string()).collect();
    assert_eq!(
        kinds,
        [
            "env: AWS_BEARER_TOKEN_BEDROCK",
            "env: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY",
            "aws-sdk default chain"
        ]
    );
    let secret = Secret::new(SECRET_KEY);
    printed.push(format!("{secret} {secret:?}"));
    assert_eq!(secret.expose(), SECRET_KEY);
    // An endpoint URL with user info: the error does not repeat the URL.
    let err = settings(&[("AWS_ENDPOINT_URL", "http://u:SECRETkeyZZ9@h")], None).unwrap_err();
    printed.push(format!("{err} {err:?}"));
    let status = ImdsStatus::Unavailable { reason: "x".into() };
    printed.push(format!("{status} {status:?}"));
    let all = printed.join("\n");
    assert!(all.contains("AwsSettings"), "the scan saw nothing: {all}");
    assert!(
        all.contains("static AWS credentials will be sent to a custom endpoint"),
        "the scan saw no log: {all}"
    );
    for value in [BEARER, SECRET_KEY, SESSION] {
        assert!(!all.contains(value), "{value} leaked in:\n{all}");
    }
}

/// Captures what `tracing` writes while `f` runs.
fn capture_logs(f: impl FnOnce()) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(data);
            Ok(data.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    let bytes = buf.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn warns_when_static_credentials_go_to_a_custom_remote_endpoint() {
    const SECRET_KEY: &str = "SECRETkeyZZ9";
    let keys = [
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let logs = capture_logs(|| {
        settings(&keys, Some("https://proxy.example.com/bedrock")).unwrap();
    });
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains("static AWS credentials will be sent to a custom endpoint"),
        "{logs}"
    );
    assert!(logs.contains("https://proxy.example.com/bedrock"), "{logs}");
    assert!(!logs.contains(SECRET_KEY), "{logs}");

    // Loopback endpoints (tests, a local proxy) and chain credentials do not warn.
    for (pairs, base_url) in [
        (&keys[..], "http://127.0.0.1:8080"),
        (&keys[..], "http://localhost:8080"),
        (&keys[..], "http://[::1]:8080"),
        (&[("AWS_PROFILE", "p")][..], "https://proxy.example.com"),
    ] {
        let logs = capture_logs(|| {
            settings(pairs, Some(base_url)).unwrap();
        });
        assert!(!logs.contains("WARN"), "{base_url}: {logs}");
    }
    // Bearer tokens are static secrets too.
    let logs = capture_logs(|| {
        settings(
            &[("AWS_BEARER_TOKEN_BEDROCK", "BEARERsecretZZ9")],
            Some("https://proxy.example.com"),
        )
        .unwrap();
    });
    assert!(logs.contains("WARN"), "{logs}");
    assert!(!logs.contains("BEARERsecretZZ9"), "{logs}");
}

#[test]
fn shared_config_region_comes_after_the_variables() {
    let t = TestEnv::new();
    t.write(
        ".aws/config",
        "[default]\nregion = ap-northeast-1\n[profile work]\nregion = sa-east-1\n\
         [profile broken]\nregion = Not A Region\n",
    );
    let r = |pairs: &[(&str, &str)]| resolve_region(None, None, &t.env(pairs));
    let default = r(&[]).unwrap();
    assert_eq!(
        (default.region.as_str(), default.source),
        ("ap-northeast-1", RegionSource::SharedConfig)
    );
    assert_eq!(r(&[("AWS_PROFILE", "work")]).unwrap().region, "sa-east-1");
    // Both variables beat the file.
    assert_eq!(
        r(&[("AWS_DEFAULT_REGION", "eu-north-1")]).unwrap().source,
        RegionSource::AwsDefaultRegion
    );
    assert_eq!(
        r(&[("AWS_REGION", "eu-north-1")]).unwrap().source,
        RegionSource::AwsRegion
    );
    // A profile without a region falls through to the default.
    assert_eq!(
        r(&[("AWS_PROFILE", "missing")]).unwrap().source,
        RegionSource::Default
    );
    let err = r(&[("AWS_PROFILE", "broken")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid region \"Not A Region\" from the shared config file's profile region: expected \
         an AWS region such as `us-east-1` (lowercase words joined by `-`, ending in a number)"
    );
}

#[test]
fn shared_config_endpoints_follow_the_sdk_order() {
    let t = TestEnv::new();
    t.write(
        ".aws/config",
        "[default]\nendpoint_url = http://127.0.0.1:7001\nservices = s\n\
         [services s]\nbedrock =\n  endpoint_url = http://127.0.0.1:7002\n\
         [profile ignoring]\nendpoint_url = http://127.0.0.1:7003\n\
         ignore_configured_endpoint_urls = true\n\
         [profile bad]\nendpoint_url = ftp://nope\n",
    );
    let region = ResolvedRegion::new("us-east-1", RegionSource::Default).unwrap();
    let s = |pairs: &[(&str, &str)]| AwsSettings::from_env(&t.env(pairs), &region, None);
    let default = s(&[]).unwrap();
    // `bedrock` has a services entry; `bedrock-runtime` falls back to the profile's own URL.
    assert_eq!(
        default.bedrock_endpoint().unwrap(),
        &ServiceEndpoint {
            url: "http://127.0.0.1:7002".into(),
            source: EndpointSource::SharedConfigServices
        }
    );
    assert_eq!(
        default.runtime_endpoint().unwrap(),
        &ServiceEndpoint {
            url: "http://127.0.0.1:7001".into(),
            source: EndpointSource::SharedConfigProfile
        }
    );
    // The global variable beats both.
    let global = s(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:7000")]).unwrap();
    assert_eq!(
        global.bedrock_endpoint().unwrap().source,
        EndpointSource::EnvVar("AWS_ENDPOINT_URL")
    );
    // The profile's switch, and the variable overriding it either way.
    let ignoring = s(&[("AWS_PROFILE", "ignoring")]).unwrap();
    assert_eq!(ignoring.runtime_endpoint(), None);
    let not_ignoring = s(&[
        ("AWS_PROFILE", "ignoring"),
        ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false"),
    ])
    .unwrap();
    assert_eq!(
        not_ignoring.runtime_endpoint().unwrap().url,
        "http://127.0.0.1:7003"
    );
    let err = s(&[("AWS_PROFILE", "bad")]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid endpoint URL in the shared config file's profile endpoint_url: expected \
         `http://` or `https://` followed by a host"
    );
}

#[test]
fn sso_profiles_and_token_states() {
    use std::time::{Duration, SystemTime};
    let t = TestEnv::new();
    t.write(
        ".aws/config",
        "[profile dev]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n\
         [sso-session corp]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n\
         [profile legacy]\nsso_start_url = https://y.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 1\nsso_role_name = r\n\
         [profile keys]\naws_access_key_id = a\naws_secret_access_key = b\n",
    );
    let dev = sso::selected_sso_profile(&t.env(&[("AWS_PROFILE", "dev")])).unwrap();
    assert_eq!((dev.cache_key.as_str(), dev.session), ("corp", true));
    let legacy = sso::selected_sso_profile(&t.env(&[("AWS_PROFILE", "legacy")])).unwrap();
    assert_eq!(
        (legacy.cache_key.as_str(), legacy.session),
        ("https://y.awsapps.com/start", false)
    );
    assert_eq!(
        sso::selected_sso_profile(&t.env(&[("AWS_PROFILE", "keys")])),
        None
    );
    assert_eq!(sso::selected_sso_profile(&t.env(&[])), None);

    let env = t.env(&[]);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000); // 2027-01-15
    let cache = |key: &str, json: &str| {
        let path = sso::cache_path(env.home().unwrap(), key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, json).unwrap();
    };
    assert_eq!(
        sso::login_needed(&env, &dev, now),
        Some(SsoLoginReason::NotCached)
    );
    cache(
        "corp",
        r#"{"accessToken":"t","expiresAt":"2030-01-01T00:00:00Z"}"#,
    );
    assert_eq!(sso::login_needed(&env, &dev, now), None);
    cache(
        "corp",
        r#"{"accessToken":"t","expiresAt":"2026-01-01T00:00:00Z"}"#,
    );
    assert_eq!(
        sso::login_needed(&env, &dev, now),
        Some(SsoLoginReason::Expired)
    );
    // Expired but refreshable: left to the SDK (SSO OIDC), for an sso-session profile only.
    let refreshable = r#"{"accessToken":"t","expiresAt":"2026-01-01T00:00:00Z",
        "clientId":"c","clientSecret":"s","refreshToken":"r",
        "registrationExpiresAt":"2030-01-01T00:00:00Z"}"#;
    cache("corp", refreshable);
    assert_eq!(sso::login_needed(&env, &dev, now), None);
    cache("https://y.awsapps.com/start", refreshable);
    assert_eq!(
        sso::login_needed(&env, &legacy, now),
        Some(SsoLoginReason::Expired)
    );
    // An empty token is no session; an unparsable file is left to the SDK's own message.
    cache(
        "corp",
        r#"{"accessToken":"","expiresAt":"2030-01-01T00:00:00Z"}"#,
    );
    assert_eq!(
        sso::login_needed(&env, &dev, now),
        Some(SsoLoginReason::NotCached)
    );
    cache("corp", "not json");
    assert_eq!(sso::login_needed(&env, &dev, now), None);
}

#[test]
fn sso_portal_refusal_is_a_login_error() {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
    use aws_sdk_sso::types::error::UnauthorizedException;
    let refused = CredentialsError::provider_error(GetRoleCredentialsError::UnauthorizedException(
        UnauthorizedException::builder()
            .message("Session token not found or invalid")
            .build(),
    ));
    assert!(sso::portal_refused(&refused));
    let other = CredentialsError::provider_error(GetRoleCredentialsError::unhandled("boom"));
    assert!(!sso::portal_refused(&other));

    // Wrapped by a provider, the login error is found and kept by both mappers.
    let wrapped = CredentialsError::provider_error(Error::SsoLoginRequired {
        profile: "dev".into(),
        reason: SsoLoginReason::Refused,
    });
    let checked = CredentialSource::Profile { name: "dev".into() };
    for mapped in [
        missing_credentials_error(&checked, &wrapped),
        credentials_failure(&checked, &wrapped),
    ] {
        assert_eq!(
            mapped.unwrap().to_string(),
            "the AWS SSO portal refused the cached session for AWS profile `dev`: \
             run `aws sso login --profile dev`"
        );
    }
}
