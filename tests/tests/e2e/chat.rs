use openclaw_e2e::{BEARER_TOKEN, DISCOVERY_CONFIG, FakeProcess, Sandbox, static_keys};
use serde_json::Value;

fn sandbox(fake: &FakeProcess) -> Sandbox {
    let sandbox = Sandbox::new(Some(fake));
    sandbox.write_config(DISCOVERY_CONFIG);
    sandbox
}

const TOOLS: &str = r#"[{"name": "get_weather", "description": "Current weather for a city",
  "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]"#;

#[test]
fn chat_streams_text_and_reports_usage() {
    let fake = FakeProcess::start();
    let sandbox = sandbox(&fake);
    let out = sandbox.run(&["chat", "Hello there"], &static_keys(), None);
    assert_eq!(out.ok().trim(), "Echo: Hello there");
    let usage = out.stderr.trim();
    assert!(usage.starts_with("stop · "), "{usage}");
    // A discovered model costs the known-models table's list prices.
    let (_, cost) = usage
        .rsplit_once(" total · $")
        .unwrap_or_else(|| panic!("{usage}"));
    assert!(cost.parse::<f64>().unwrap() > 0.0, "{usage}");
}

/// The runtime paths the fake received (GET `/_fake/requests` over plain HTTP/1.1).
fn runtime_paths(fake: &FakeProcess) -> Vec<String> {
    use std::io::{Read, Write};
    let addr = fake.url().trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    write!(
        socket,
        "GET /_fake/requests HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    socket.read_to_string(&mut raw).unwrap();
    let (_, body) = raw.split_once("\r\n\r\n").unwrap();
    let requests: Value = serde_json::from_str(body).unwrap();
    requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .filter(|p| p.starts_with("/model/"))
        .collect()
}

#[test]
fn chat_by_any_bedrock_arn_reaches_bedrock_percent_encoded() {
    let fake = FakeProcess::start();
    let sandbox = sandbox(&fake);
    let arns = [
        // Discovered: an application inference profile, listed by its ARN.
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a",
        // Not listed by ARN: a system profile's ARN, a foundation model's ARN, a provisioned
        // throughput (Bedrock decides).
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/pt7q2w9e4r1t",
    ];
    for arn in arns {
        let out = sandbox.run(&["chat", "--model", arn, "Hi"], &static_keys(), None);
        assert_eq!(out.ok().trim(), "Echo: Hi", "{arn}");
        let usage = out.stderr.trim();
        assert!(usage.starts_with("stop · "), "{arn}: {usage}");
        if !arn.contains(":provisioned-model/") {
            // Priced through the base model (GetInferenceProfile for the system profile ARN).
            assert!(usage.contains(" total · $"), "{arn}: {usage}");
        }
    }
    // A reference with the provider written out works the same.
    let out = sandbox.run(
        &[
            "chat",
            "--model",
            &format!("amazon-bedrock/{}", arns[0]),
            "Hi",
        ],
        &static_keys(),
        None,
    );
    assert_eq!(out.ok().trim(), "Echo: Hi");
    insta::assert_json_snapshot!("chat_arn_paths", runtime_paths(&fake));

    // Another account's profile: Bedrock refuses, and the error says so (exit 4).
    let other = sandbox.run(
        &[
            "chat",
            "--model",
            "arn:aws:bedrock:us-east-1:210987654321:application-inference-profile/k3v9xq2m7p1a",
            "Hi",
        ],
        &static_keys(),
        None,
    );
    assert_eq!(other.code, Some(4), "{}", other.stderr);
}

#[test]
fn a_configured_model_id_may_be_an_arn() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/n8w2r5t4y6u0";
    sandbox.write_config(&format!(
        r#"{{
  models: {{
    bedrockDiscovery: {{ enabled: false }},
    providers: {{ "amazon-bedrock": {{ models: [{{
      id: "{arn}",
      name: "Support team (Claude 3 Haiku)",
      baseModel: "anthropic.claude-3-haiku-20240307-v1:0",
      cost: {{ input: 0.25, output: 1.25 }},
    }}] }} }},
  }},
  agents: {{ defaults: {{ model: {{ primary: "amazon-bedrock/{arn}" }} }} }},
}}"#
    ));
    let out = sandbox.run(&["chat", "Hi"], &static_keys(), None);
    assert_eq!(out.ok().trim(), "Echo: Hi");
    assert!(out.stderr.contains(" total · $"), "{}", out.stderr);
    let out = sandbox.run(&["chat", "--model", arn, "Hi"], &static_keys(), None);
    assert_eq!(out.ok().trim(), "Echo: Hi");
    let encoded = "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fn8w2r5t4y6u0/converse-stream";
    assert_eq!(runtime_paths(&fake), [encoded, encoded]);
    let listed = sandbox.run(&["models", "list", "--plain"], &static_keys(), None);
    assert_eq!(listed.ok().trim(), format!("amazon-bedrock/{arn}"));
}

#[test]
fn chat_prompt_from_stdin_with_bearer_token() {
    let fake = FakeProcess::start();
    let sandbox = sandbox(&fake);
    let out = sandbox.run(
        &[
            "chat",
            "--model",
            "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "-",
        ],
        &[("AWS_BEARER_TOKEN_BEDROCK", BEARER_TOKEN)],
        Some("from stdin"),
    );
    assert_eq!(out.ok().trim(), "Echo: from stdin");
}

#[test]
fn chat_shows_thinking_and_tool_calls() {
    let fake = FakeProcess::start();
    let sandbox = sandbox(&fake);
    let tools = sandbox.home().join("tools.json");
    std::fs::write(&tools, TOOLS).unwrap();
    let out = sandbox.run(
        &[
            "chat",
            "--thinking",
            "high",
            "--tools",
            tools.to_str().unwrap(),
            "Please use tool get_weather for Paris",
        ],
        &static_keys(),
        None,
    );
    let text = out.ok();
    assert!(
        text.contains("[thinking] Thinking about: Please use tool"),
        "{text}"
    );
    assert!(text.contains("→ tool call get_weather ("), "{text}");
    assert!(text.contains("  arguments: {"), "{text}");
    assert!(out.stderr.starts_with("toolUse · "), "{}", out.stderr);
    assert!(!text.contains("\x1b["), "no colour off a terminal");
}

#[test]
fn chat_json_emits_one_event_per_line() {
    let fake = FakeProcess::start();
    let sandbox = sandbox(&fake);
    let tools = sandbox.home().join("tools.json");
    std::fs::write(&tools, TOOLS).unwrap();
    let out = sandbox.run(
        &[
            "chat",
            "--json",
            "--thinking",
            "low",
            "--tools",
            tools.to_str().unwrap(),
            "use tool get_weather",
        ],
        &static_keys(),
        None,
    );
    let events: Vec<Value> = out
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types.first(), Some(&"start"));
    assert_eq!(types.last(), Some(&"done"));
    for expected in [
        "thinking_start",
        "thinking_delta",
        "thinking_end",
        "text_delta",
        "toolcall_start",
        "toolcall_delta",
        "toolcall_end",
    ] {
        assert!(
            types.contains(&expected),
            "{expected} missing from {types:?}"
        );
    }
    let done = events.last().unwrap();
    assert_eq!(done["reason"], "toolUse");
    let end = events.iter().find(|e| e["type"] == "toolcall_end").unwrap();
    assert_eq!(end["call"]["name"], "get_weather");
}

/// Sends a JSON body to the fake's admin API (`POST /_fake/<path>` over plain HTTP/1.1).
fn fake_admin(fake: &FakeProcess, path: &str, body: &Value) {
    use std::io::{Read, Write};
    let addr = fake.url().trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    let body = body.to_string();
    write!(
        socket,
        "POST /_fake/{path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    socket.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 2"), "{raw}");
}

/// A model throttled forever on the fake (SDK retries included).
fn throttle_forever(fake: &FakeProcess, model: &str) {
    fake_admin(
        fake,
        "faults",
        &serde_json::json!({"item": {"type": "throttle"}, "target": {"model": model}, "remaining": null}),
    );
}

/// The models of the converse-stream calls the fake received, in order.
fn called_models(fake: &FakeProcess) -> Vec<String> {
    runtime_paths(fake)
        .iter()
        .filter_map(|p| p.strip_prefix("/model/")?.strip_suffix("/converse-stream"))
        .map(|id| id.replace("%3A", ":"))
        .collect()
}

const SONNET: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const HAIKU: &str = "us.anthropic.claude-haiku-4-5-20251001-v1:0";

#[test]
fn chat_fails_over_to_the_configured_fallback_and_says_so() {
    let fake = FakeProcess::start();
    let sandbox = sandbox(&fake);
    throttle_forever(&fake, SONNET);
    let out = sandbox.run(&["chat", "Hello there"], &static_keys(), None);
    assert_eq!(out.ok().trim(), "Echo: Hello there");
    assert!(
        out.stderr.contains(&format!(
            "served by amazon-bedrock/{HAIKU} (amazon-bedrock/{SONNET}: throttled (ThrottlingException))"
        )),
        "{}",
        out.stderr
    );
    // The primary (with the SDK's retries), then the fallback.
    let called = called_models(&fake);
    assert_eq!(called.last().map(String::as_str), Some(HAIKU), "{called:?}");
    assert!(
        called[..called.len() - 1].iter().all(|m| m == SONNET),
        "{called:?}"
    );

    // The fallback failing too: the primary's error, every attempt listed (exit 5).
    throttle_forever(&fake, HAIKU);
    let out = sandbox.run(&["chat", "Hello there"], &static_keys(), None);
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "every model failed (2 attempts: amazon-bedrock/{SONNET}: throttled (ThrottlingException); amazon-bedrock/{HAIKU}: throttled (ThrottlingException))"
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn chat_without_a_failure_prints_no_failover_note() {
    let fake = FakeProcess::start();
    let sandbox = sandbox(&fake);
    let out = sandbox.run(&["chat", "Hi"], &static_keys(), None);
    assert_eq!(out.ok().trim(), "Echo: Hi");
    assert!(!out.stderr.contains("served by"), "{}", out.stderr);
    assert_eq!(called_models(&fake), [SONNET]);
}

/// A guardrail configured on the provider reaches Bedrock with every `chat` call (merged under
/// discovered models); its intervention is reported, not hidden.
#[test]
fn chat_sends_the_configured_guardrail_and_reports_an_intervention() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox.write_config(&format!(
        r#"{{
  models: {{
    bedrockDiscovery: {{ enabled: true, region: "us-east-1", providerFilter: ["anthropic"] }},
    providers: {{ "amazon-bedrock": {{
      guardrail: {{ identifier: "{}", version: "1", trace: "enabled" }},
      additionalModelRequestFields: {{ custom_flag: true }},
    }} }},
  }},
  agents: {{ defaults: {{ model: {{ primary: "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0" }} }} }},
}}"#,
        fake_bedrock::GUARDRAIL_ID
    ));
    let out = sandbox.run(&["chat", "Hello there"], &static_keys(), None);
    assert_eq!(out.ok().trim(), "Echo: Hello there");
    let out = sandbox.run(
        &[
            "chat",
            &format!("Tell me about the {}", fake_bedrock::GUARDRAIL_TRIGGER),
        ],
        &static_keys(),
        None,
    );
    assert_ne!(out.code, Some(0), "{out:?}");
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains(fake_bedrock::GUARDRAIL_BLOCKED_MESSAGE),
        "{all}"
    );
    assert!(all.contains("guardrail"), "{all}");
    let bodies = runtime_bodies(&fake);
    assert_eq!(bodies.len(), 2);
    for body in bodies {
        assert_eq!(
            body["guardrailConfig"]["guardrailIdentifier"],
            fake_bedrock::GUARDRAIL_ID
        );
        assert_eq!(body["additionalModelRequestFields"]["custom_flag"], true);
    }
}

/// The runtime request bodies the fake received.
fn runtime_bodies(fake: &FakeProcess) -> Vec<Value> {
    use std::io::{Read, Write};
    let addr = fake.url().trim_start_matches("http://");
    let mut socket = std::net::TcpStream::connect(addr).unwrap();
    write!(
        socket,
        "GET /_fake/requests HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    socket.read_to_string(&mut raw).unwrap();
    let (_, body) = raw.split_once("\r\n\r\n").unwrap();
    let requests: Value = serde_json::from_str(body).unwrap();
    requests
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["path"].as_str().unwrap().starts_with("/model/"))
        .filter_map(|r| {
            r["body"]
                .as_str()
                .and_then(|b| serde_json::from_str(b).ok())
        })
        .collect()
}

#[test]
fn chat_takes_an_alias_of_agents_defaults_models() {
    let fake = FakeProcess::start();
    let sandbox = Sandbox::new(Some(&fake));
    sandbox
        .run(
            &[
                "config",
                "set",
                r#"agents.defaults.models["amazon-bedrock/us.amazon.nova-pro-v1:0"].alias"#,
                "nova",
            ],
            &[],
            None,
        )
        .ok();
    let out = sandbox.run(&["chat", "--model", "nova", "hi"], &static_keys(), None);
    assert_eq!(out.ok().trim(), "Echo: hi");
    assert_eq!(
        runtime_paths(&fake),
        ["/model/us.amazon.nova-pro-v1%3A0/converse-stream"]
    );
}

#[test]
fn chat_refuses_zero_max_tokens_as_a_usage_error() {
    let sandbox = Sandbox::new(None);
    let out = sandbox.run(&["chat", "--max-tokens", "0", "hi"], &[], None);
    assert_eq!(out.code, Some(2), "{out:?}");
    assert!(out.stderr.contains("--max-tokens"), "{}", out.stderr);
}

#[test]
fn chat_refuses_a_malformed_model_reference_as_a_usage_error() {
    let sandbox = Sandbox::new(None);
    for model in ["", "/foo", "amazon-bedrock/"] {
        let out = sandbox.run(&["chat", "--model", model, "hi"], &[], None);
        assert_eq!(out.code, Some(2), "{model:?}: {out:?}");
        assert!(
            out.stderr.contains("--model: invalid model reference"),
            "{model:?}: {}",
            out.stderr
        );
    }
}
