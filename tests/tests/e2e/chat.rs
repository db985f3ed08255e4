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
    assert!(
        usage.contains(" in · ") && usage.contains(" total · cost unknown"),
        "{usage}"
    );
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
    assert!(out.stderr.starts_with("tool_use · "), "{}", out.stderr);
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
    assert_eq!(done["stop_reason"], "tool_use");
    let end = events.iter().find(|e| e["type"] == "toolcall_end").unwrap();
    assert_eq!(end["call"]["name"], "get_weather");
}
