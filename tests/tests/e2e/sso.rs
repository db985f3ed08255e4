//! SSO profiles through the shipped binary: a valid session authenticates through the SSO portal
//! `fake-bedrock` serves, an expired or missing one ends with one line saying which
//! `aws sso login` to run (exit 4), before anything is sent.

use openclaw_e2e::{DISCOVERY_CONFIG, FakeProcess, Sandbox};

const PROFILE_CONFIG: &str = "\
[profile e2e-sso]
sso_session = e2e-corp
sso_account_id = 123456789012
sso_role_name = BedrockUser
region = us-east-1

[sso-session e2e-corp]
sso_start_url = https://d-0000000000.awsapps.com/start
sso_region = us-east-1
";

/// `sha1sum` of the session name `e2e-corp`: the token cache file `aws sso login` writes.
const CACHE_FILE: &str = "576c8a875e1223de7f2a44ff8c2f70d03843e749.json";

/// A sandbox with the SSO profile, and a cached token expiring at `expires_at` (none: never
/// logged in).
fn sso_sandbox(fake: &FakeProcess, expires_at: Option<&str>) -> Sandbox {
    let sandbox = Sandbox::new(Some(fake));
    std::fs::write(sandbox.aws_config_file(), PROFILE_CONFIG).unwrap();
    if let Some(expires_at) = expires_at {
        let cache = sandbox.home().join(".aws/sso/cache");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::write(
            cache.join(CACHE_FILE),
            format!(
                r#"{{"startUrl":"https://d-0000000000.awsapps.com/start","region":"us-east-1",
                "accessToken":"e2e-sso-access-token","expiresAt":"{expires_at}"}}"#
            ),
        )
        .unwrap();
    }
    sandbox.write_config(DISCOVERY_CONFIG);
    sandbox
}

fn env(fake: &FakeProcess) -> [(&'static str, &str); 2] {
    [
        ("AWS_PROFILE", "e2e-sso"),
        ("AWS_ENDPOINT_URL_SSO", fake.url()),
    ]
}

#[test]
fn sso_profile_chats_through_the_portal() {
    let fake = FakeProcess::start();
    let sandbox = sso_sandbox(&fake, Some("2099-01-01T00:00:00Z"));
    let out = sandbox.run(&["chat", "hello there"], &env(&fake), None);
    assert!(out.ok().contains("hello there"), "{out:?}");
}

#[test]
fn expired_or_missing_sso_session_exits_4_with_the_login_command() {
    let fake = FakeProcess::start();
    for expires_at in [Some("2020-01-01T00:00:00Z"), None] {
        let sandbox = sso_sandbox(&fake, expires_at);
        let out = sandbox.run(&["chat", "hi"], &env(&fake), None);
        assert_eq!(out.code, Some(4), "{out:?}");
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        assert_eq!(errors.len(), 1, "one line expected: {}", out.stderr);
        assert!(
            errors[0].ends_with("for AWS profile `e2e-sso`: run `aws sso login --profile e2e-sso`"),
            "{}",
            out.stderr
        );
        let why = match expires_at {
            Some(_) => "the AWS SSO session has expired",
            None => "no AWS SSO session is cached",
        };
        assert!(errors[0].contains(why), "{}", out.stderr);
    }
}
