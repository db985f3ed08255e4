use openclaw_e2e::{
    ACCESS_KEY, BEARER_TOKEN, DISCOVERY_CONFIG, FakeProcess, SECRET_KEY, SESSION_TOKEN, Sandbox,
    static_keys,
};
use serde_json::Value;

fn discovery_sandbox(fake: &FakeProcess) -> Sandbox {
    let sandbox = Sandbox::new(Some(fake));
    sandbox.write_config(DISCOVERY_CONFIG);
    sandbox
}

#[test]
fn list_table_has_openclaw_columns_and_tags() {
    let fake = FakeProcess::start();
    let sandbox = discovery_sandbox(&fake);
    let out = sandbox.run(&["models", "list"], &static_keys(), None);
    let table = out.ok();
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["Model", "Input", "Ctx", "Local", "Auth", "Tags"]);
    let default = table
        .lines()
        .find(|l| l.starts_with("amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0 "))
        .unwrap();
    let cells: Vec<&str> = default.split_whitespace().collect();
    assert_eq!(&cells[1..], ["text+image", "200k", "no", "yes", "default"]);
    assert!(table.contains("fallback#1"), "{table}");
    // Only Anthropic models (providerFilter), and never an INFERENCE_PROFILE-only bare id.
    assert!(!table.contains("nova"), "{table}");
    assert!(!table.contains("amazon-bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0 "));
    assert!(
        out.stderr.is_empty(),
        "no spinner or warning off a terminal: {}",
        out.stderr
    );
}

#[test]
fn list_json_matches_openclaw_shape() {
    let fake = FakeProcess::start();
    let sandbox = discovery_sandbox(&fake);
    let out = sandbox.run(&["models", "list", "--json"], &static_keys(), None);
    let value: Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(
        value["count"].as_u64().unwrap() as usize,
        value["models"].as_array().unwrap().len()
    );
    insta::assert_json_snapshot!("models_list_json", value);
}

#[test]
fn list_plain_and_provider_filter() {
    let fake = FakeProcess::start();
    let sandbox = discovery_sandbox(&fake);
    let plain = sandbox.run(&["models", "list", "--plain"], &static_keys(), None);
    let keys: Vec<&str> = plain.ok().lines().collect();
    assert!(keys.len() > 5);
    assert!(
        keys.iter()
            .all(|k| k.starts_with("amazon-bedrock/") && !k.contains(' '))
    );
    let other = sandbox.run(
        &["models", "list", "--plain", "--provider", "other"],
        &static_keys(),
        None,
    );
    assert_eq!(other.ok(), "");
}

#[test]
fn list_all_adds_filtered_models_from_the_cache() {
    let fake = FakeProcess::start();
    let sandbox = discovery_sandbox(&fake);
    let all = sandbox.run(&["models", "list", "--all", "--json"], &static_keys(), None);
    let value: Value = serde_json::from_str(all.ok()).unwrap();
    let nova = value["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == "amazon-bedrock/us.amazon.nova-pro-v1:0")
        .expect("filtered model listed with --all");
    assert_eq!(nova["tags"], serde_json::json!(["filtered"]));
    // The second run is served by the disk cache: same answer, no new listing needed.
    let again = sandbox.run(&["models", "list", "--all", "--json"], &static_keys(), None);
    assert_eq!(serde_json::from_str::<Value>(again.ok()).unwrap(), value);
}

#[test]
fn list_without_credentials_shows_configured_models_and_a_hint() {
    let sandbox = Sandbox::new(None);
    sandbox.write_config(
        r#"{ models: { providers: { "amazon-bedrock": { models: [
             { id: "us.anthropic.claude-opus-4-6-v1", name: "Claude Opus 4.6", input: ["text", "image"], contextWindow: 1000000 } ] } } },
           agents: { defaults: { model: { primary: "amazon-bedrock/us.anthropic.claude-opus-4-6-v1",
                                           fallbacks: ["amazon-bedrock/gone"] } } } }"#,
    );
    let out = sandbox.run(&["models", "list", "--json"], &[], None);
    let value: Value = serde_json::from_str(out.ok()).unwrap();
    assert_eq!(value["count"], 2);
    assert_eq!(value["models"][0]["available"], false);
    assert_eq!(value["models"][0]["tags"], serde_json::json!(["default"]));
    assert_eq!(value["models"][1]["missing"], true);
    assert_eq!(
        out.stderr.lines().count(),
        1,
        "one hint line: {}",
        out.stderr
    );
    assert!(out.stderr.starts_with("hint: "), "{}", out.stderr);
}

fn status_json(sandbox: &Sandbox, env: &[(&str, &str)]) -> Value {
    let out = sandbox.run(&["models", "status", "--json"], env, None);
    serde_json::from_str(out.ok()).unwrap()
}

#[test]
fn status_bearer_token() {
    let fake = FakeProcess::start();
    let sandbox = discovery_sandbox(&fake);
    let s = status_json(&sandbox, &[("AWS_BEARER_TOKEN_BEDROCK", BEARER_TOKEN)]);
    assert_eq!(s["credentials"]["source"], "env: AWS_BEARER_TOKEN_BEDROCK");
    assert_eq!(s["discovery"]["enabled"], true);
    assert!(
        s["discovery"]["state"]
            .as_str()
            .unwrap()
            .starts_with("ok, "),
        "{s}"
    );
    assert_eq!(s["primaryResolves"], true);
    assert_eq!(
        s["endpoints"]["bedrock"]["source"],
        "AWS_ENDPOINT_URL_BEDROCK"
    );
    // The configured failover: the primary's fallbacks and the breaker settings.
    assert_eq!(
        s["failover"],
        serde_json::json!({
            "enabled": true, "crossRegion": false, "firstTokenTimeoutMs": 60000,
            "breakerFailures": 3, "breakerCooldownMs": 30000,
            "fallbacks": {
                "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0":
                    ["amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"],
            },
        })
    );
}

#[test]
fn status_static_keys_text() {
    let fake = FakeProcess::start();
    let sandbox = discovery_sandbox(&fake);
    let mut env = static_keys();
    env.push(("AWS_SESSION_TOKEN", SESSION_TOKEN));
    env.push(("AWS_REGION", "eu-west-1"));
    let out = sandbox.run(&["models", "status"], &env, None);
    let text = out.ok();
    assert!(
        text.contains("env: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN)"),
        "{text}"
    );
    assert!(
        text.contains("us-east-1 (from the configured region)"),
        "{text}"
    );
    assert!(text.contains("(resolves)"), "{text}");
    assert!(
        text.contains("amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0 → amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"),
        "{text}"
    );
    assert!(text.contains(&format!(
        "{} (from AWS_ENDPOINT_URL_BEDROCK_RUNTIME)",
        fake.url()
    )));
}

#[test]
fn status_profile() {
    let fake = FakeProcess::start();
    let sandbox = discovery_sandbox(&fake);
    std::fs::write(
        sandbox.aws_credentials_file(),
        format!("[e2e]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .unwrap();
    let s = status_json(
        &sandbox,
        &[("AWS_PROFILE", "e2e"), ("AWS_REGION", "us-east-1")],
    );
    assert_eq!(s["credentials"]["source"], "env: AWS_PROFILE");
    assert_eq!(s["credentials"]["detail"], "profile `e2e`");
    assert!(
        s["discovery"]["state"]
            .as_str()
            .unwrap()
            .starts_with("ok, "),
        "{s}"
    );
}

#[test]
fn status_default_chain_with_shared_default_profile() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(r#"{ models: { bedrockDiscovery: { providerFilter: ["anthropic"] } } }"#);
    std::fs::write(
        sandbox.aws_credentials_file(),
        format!(
            "[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
        ),
    )
    .unwrap();
    let s = status_json(&sandbox, &[]);
    assert_eq!(s["credentials"]["source"], "aws-sdk default chain");
    assert_eq!(
        s["credentials"]["detail"],
        "shared files: [default] profile with static keys"
    );
    assert_eq!(s["region"]["source"], "the default");
    assert_eq!(
        s["discovery"]["enabled"], true,
        "a marker counts as credentials: {s}"
    );
    assert!(
        s["discovery"]["state"]
            .as_str()
            .unwrap()
            .starts_with("ok, "),
        "{s}"
    );
    assert_eq!(s["primaryModel"], Value::Null);
}

#[test]
fn status_without_credentials_and_imds_probe() {
    let sandbox = Sandbox::new(None);
    let s = sandbox.run(&["models", "status", "--json", "--probe-imds"], &[], None);
    let s: Value = serde_json::from_str(s.ok()).unwrap();
    assert_eq!(s["credentials"]["source"], "aws-sdk default chain");
    assert_eq!(s["credentials"]["present"], false);
    assert_eq!(s["discovery"]["enabled"], false);
    assert!(
        s["discovery"]["reason"]
            .as_str()
            .unwrap()
            .contains("AWS_PROFILE=default")
    );
    assert_eq!(s["imds"], "disabled (AWS_EC2_METADATA_DISABLED=true)");
}

/// With a fresh disk cache (written by `models list`), `models status` reports the cache's age
/// and model count from the file without running discovery: it works with Bedrock gone.
#[test]
fn status_reads_a_fresh_disk_cache_without_aws() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(
        r#"{ models: { bedrockDiscovery: { enabled: true, region: "us-east-1", providerFilter: ["anthropic"], refreshInterval: 600 },
             providers: { "amazon-bedrock": { models: [{ id: "anthropic.claude-3-haiku-20240307-v1:0", name: "Haiku" }] } } },
           agents: { defaults: { model: { primary: "amazon-bedrock/anthropic.claude-3-haiku-20240307-v1:0" } } } }"#,
    );
    let env = static_keys();
    // Nothing cached yet: discovery runs and writes the cache.
    let s = status_json(&sandbox, &env);
    assert_eq!(s["discovery"]["fromCache"], false, "{s}");
    assert_eq!(s["discovery"]["cachePath"], Value::Null, "{s}");
    // Bedrock goes away: only the disk can answer now.
    drop(fake);
    let s = status_json(&sandbox, &env);
    let state = s["discovery"]["state"].as_str().unwrap();
    assert!(
        state.starts_with("ok, ") && state.ends_with(" models (from the disk cache)"),
        "{s}"
    );
    assert_eq!(s["discovery"]["fromCache"], true, "{s}");
    assert_eq!(s["discovery"]["cacheFresh"], true, "{s}");
    assert!(
        s["discovery"]["cacheAgeSeconds"].as_u64().unwrap() < 600,
        "{s}"
    );
    assert!(
        s["discovery"]["cachePath"]
            .as_str()
            .unwrap()
            .starts_with(&sandbox.home().join("state").display().to_string()),
        "{s}"
    );
    assert_eq!(s["primaryResolves"], true, "{s}");
    let text = sandbox.run(&["models", "status"], &env, None);
    assert!(
        text.ok().contains("(refresh every 600s)"),
        "{}",
        text.stdout
    );
}
