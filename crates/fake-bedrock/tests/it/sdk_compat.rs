//! Other languages' SDKs (boto3, the JavaScript v3 SDK) against the fake.

use fake_bedrock::{Auth, FakeBedrock, Fault, StreamException};

use crate::support::*;

#[tokio::test]
async fn boto3_is_compatible() {
    let python = std::env::var("FAKE_BEDROCK_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let has_boto3 = std::process::Command::new(&python)
        .args(["-c", "import boto3"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_boto3 {
        println!("SKIPPED: boto3 not installed (interpreter `{python}`; set FAKE_BEDROCK_PYTHON)");
        return;
    }
    let fake = compat_fake().await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sdk-compat/boto3_check.py"
    );
    let out = clean_sdk_command(&python, script, &fake.url())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "boto3 check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("BOTO3 OK"), "{stdout}");
    // boto3 signed with SigV4, verified by the fake.
    assert!(
        fake.requests()
            .iter()
            .any(|r| matches!(r.auth, Auth::SigV4 { .. }) && r.status == Some(200))
    );
}

/// The JavaScript v3 SDK (`@aws-sdk/client-bedrock{,-runtime}`), run by `node` from the
/// `node_modules` directory named by `FAKE_BEDROCK_NODE_MODULES` (CI installs it there).
#[tokio::test]
async fn js_sdk_is_compatible() {
    let node = std::env::var("FAKE_BEDROCK_NODE").unwrap_or_else(|_| "node".to_owned());
    let modules = std::env::var("FAKE_BEDROCK_NODE_MODULES").unwrap_or_default();
    let has_sdk = !modules.is_empty()
        && ["client-bedrock", "client-bedrock-runtime"]
            .iter()
            .all(|pkg| {
                std::path::Path::new(&modules)
                    .join("@aws-sdk")
                    .join(pkg)
                    .join("package.json")
                    .is_file()
            });
    let has_node = std::process::Command::new(&node)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !has_sdk || !has_node {
        println!(
            "SKIPPED: JS v3 SDK check needs `{node}` (set FAKE_BEDROCK_NODE) and \
             FAKE_BEDROCK_NODE_MODULES pointing at a node_modules with @aws-sdk/client-bedrock \
             and @aws-sdk/client-bedrock-runtime (node found: {has_node}, SDK found: {has_sdk})"
        );
        return;
    }
    let fake = compat_fake().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk-compat/js_check.mjs");
    let out = clean_sdk_command(&node, script, &fake.url())
        .arg(TOKEN)
        .env("FAKE_BEDROCK_NODE_MODULES", &modules)
        .env("NODE_NO_WARNINGS", "1")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "JS SDK check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("JS OK"), "{stdout}");
    let requests = fake.requests();
    // The runtime client spoke HTTP/2 and signed `:authority`; the fake verified it.
    assert!(
        requests.iter().any(|r| r.status == Some(200)
            && r.path.ends_with("/converse-stream")
            && matches!(r.auth, Auth::SigV4 { .. })
            && r.headers.iter().any(|(name, value)| name == "authorization"
                && value.contains("SignedHeaders=:authority;"))),
        "no verified request signed over `:authority`"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.auth == Auth::Bearer && r.status == Some(200))
    );
    // Both wrong-secret calls were refused.
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.status == Some(403) && matches!(r.auth, Auth::SigV4 { .. }))
            .count(),
        2
    );
}

/// A fake with the mid-stream throttling fault the other-language SDK checks expect.
async fn compat_fake() -> FakeBedrock {
    let fake = fake().await;
    fake.fault(
        Fault::StreamException {
            after_events: 2,
            kind: StreamException::Throttling,
            message: "Too many tokens, please wait before trying again.".into(),
        }
        .for_model("meta.llama3-8b-instruct-v1:0"),
    );
    fake
}

/// `program script url` with an explicit environment: only `PATH` and the fake's test keys, so
/// no AWS setting of the host leaks into another language's SDK.
fn clean_sdk_command(program: &str, script: &str, url: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command
        .arg(script)
        .arg(url)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_ACCESS_KEY_ID", AK)
        .env("AWS_SECRET_ACCESS_KEY", SK)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    command
}
