//! `openclaw gateway`: the built binary over a fake Bedrock (in-process here, so tests can
//! script turns), over real HTTP on loopback.
//!
//! Only what needs the shipped binary: the `listening on` line and the loopback default, the
//! refusal to bind beyond loopback without a token (exit 3), the token read from
//! `OPENCLAW_GATEWAY_TOKEN` (and kept out of the logs), SIGTERM draining open streams and exit 0,
//! the pool settings of the connections to Bedrock reaching the SDK's HTTP client, HTTPS to
//! Bedrock over HTTP/2 trusting `AWS_CA_BUNDLE`, the worker threads (`--workers`), and the
//! official `openai` Python client. The HTTP behaviour itself (chat mapping, errors,
//! limits, metrics, disconnects, draining) is tested in process in `crates/serve/tests/it`.

mod failover;
mod observability;
mod structured;
mod support;
mod upstream_pool;
mod upstream_tls;
mod workers;

use std::time::{Duration, Instant};

use fake_bedrock::{Pacing, Turn};
use serde_json::{Value, json};
use support::{Gateway, MODEL, chat, chunks, fake, joined};

fn user(text: &str) -> Value {
    json!({"model": MODEL, "messages": [{"role": "user", "content": text}]})
}

fn streaming(mut body: Value) -> Value {
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    body
}

#[tokio::test]
async fn auth_token_from_env_is_required_when_set() {
    let fake = fake().await;
    let token = "gw-test-token-5ec2e7";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let resp = chat(&gw.addr, &user("x"), &[]).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json().await["error"]["type"], "authentication_error");
    let auth = format!("Bearer {token}");
    let ok = [("authorization", auth.as_str())];
    let body = chat(&gw.addr, &user("authorised"), &ok).await.json().await;
    assert_eq!(body["choices"][0]["message"]["content"], "Echo: authorised");
    let log = gw.stderr();
    assert!(!log.contains(token), "token leaked: {log}");
    assert!(log.contains("POST /v1/chat/completions 401"), "{log}");
}

#[tokio::test]
async fn without_token_loopback_serves_and_lan_is_refused() {
    let fake = fake().await;
    let err = Gateway::try_start(&fake.url(), &["--bind", "lan"], &[], true)
        .err()
        .expect("must refuse");
    assert_eq!(err.0, Some(3), "configuration exit code: {}", err.1);
    assert!(
        err.1.contains("refusing to listen on 0.0.0.0") && err.1.contains("OPENCLAW_GATEWAY_TOKEN"),
        "{}",
        err.1
    );
    let err = Gateway::try_start(&fake.url(), &["--bind", "192.0.2.10"], &[], true)
        .err()
        .expect("must refuse");
    assert_eq!(err.0, Some(3));
    let gw = Gateway::start(&fake.url(), &["--bind", "loopback"], &[]);
    assert!(gw.addr.starts_with("127.0.0.1:"));
    assert_eq!(chat(&gw.addr, &user("x"), &[]).await.status, 200);
}

#[tokio::test]
async fn graceful_shutdown_finishes_open_streams_and_refuses_new_connections() {
    let fake = fake().await;
    fake.set_pacing(Pacing {
        first_byte: Duration::ZERO,
        between_events: Duration::from_millis(60),
    });
    fake.script(Turn::text("finishing nicely ".repeat(4)).chunk_size(4));
    let mut gw = Gateway::start(&fake.url(), &["--shutdown-grace", "20"], &[]);
    let addr = gw.addr.clone();
    let mut resp = chat(&addr, &streaming(user("x")), &[]).await;
    let mut buf = String::new();
    let mut events = resp.next_events(&mut buf).await.unwrap();
    gw.terminate();
    // The listener closes promptly.
    let deadline = Instant::now() + Duration::from_secs(3);
    while tokio::net::TcpStream::connect(&addr).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The open stream runs to its end.
    while let Some(more) = resp.next_events(&mut buf).await {
        events.extend(more);
    }
    let (chunks, done) = chunks(&events);
    assert!(done, "stream cut short: {events:?}");
    assert_eq!(joined(&chunks, "content"), "finishing nicely ".repeat(4));
    drop(resp);
    assert_eq!(gw.wait_exit(Duration::from_secs(10)), Some(0));
    assert!(gw.stderr().contains("shutting down"));
}

#[tokio::test]
async fn official_openai_python_client() {
    let Some(python) = python_with("openai") else {
        return;
    };
    let fake = fake().await;
    fake.script(Turn::text("Echo: Hello from the openai package").chunk_size(6));
    fake.script(
        Turn::new()
            .with_tool_use("tooluse_py1", "get_weather", json!({"city": "Lisbon"}))
            .chunk_size(3),
    );
    let token = "gw-python-token-77aa";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let base_url = format!("http://{}/v1", gw.addr);
    let result = run_python(
        &python,
        "openai_client.py",
        &[
            ("OPENAI_BASE_URL", &base_url),
            ("OPENAI_API_KEY", token),
            ("MODEL", MODEL),
        ],
    )
    .await;
    assert_eq!(result["text"], "Echo: Hello from the openai package");
    assert_eq!(result["tool_name"], "get_weather");
    assert_eq!(result["tool_id"], "tooluse_py1");
    assert_eq!(result["tool_args"], json!({"city": "Lisbon"}));
    assert_eq!(result["finish_reason"], "tool_calls");
    assert_eq!(result["after_tool"], "Tool result: 21C");
    assert_eq!(result["error_status"], 404);
}

/// The interpreter of the Python client checks, when it has `module` (else a loud skip).
#[allow(clippy::print_stderr)]
fn python_with(module: &str) -> Option<String> {
    let python = std::env::var("OPENCLAW_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = std::process::Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        Some(python)
    } else {
        eprintln!(
            "SKIPPED: {module} python package not installed (interpreter `{python}`; set OPENCLAW_TEST_PYTHON)"
        );
        None
    }
}

/// Runs a client script of `tests/tests/e2e/gateway/` and reads the JSON line it prints last.
async fn run_python(python: &str, script: &str, env: &[(&str, &str)]) -> Value {
    let script = openclaw_e2e::workspace_root()
        .join("tests/tests/e2e/gateway")
        .join(script);
    let output = tokio::process::Command::new(python)
        .arg(&script)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "python failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(stdout.lines().last().unwrap()).unwrap()
}

#[tokio::test]
async fn official_anthropic_python_client() {
    let Some(python) = python_with("anthropic") else {
        return;
    };
    let fake = fake().await;
    fake.script(Turn::text("Echo: Hello from the anthropic package").chunk_size(6));
    fake.script(
        Turn::new()
            .with_reasoning("Two and two make four.", "sig-python-1")
            .with_text("4"),
    );
    fake.script(
        Turn::new()
            .with_tool_use("toolu_py1", "get_weather", json!({"city": "Lisbon"}))
            .chunk_size(3),
    );
    fake.script(Turn::text("Tool said: 21C and sunny"));
    let token = "gw-anthropic-token-55bb";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let base_url = format!("http://{}", gw.addr);
    let result = run_python(
        &python,
        "anthropic_client.py",
        &[
            ("ANTHROPIC_BASE_URL", &base_url),
            ("ANTHROPIC_API_KEY", token),
            ("MODEL", MODEL),
        ],
    )
    .await;
    assert_eq!(result["text"], "Echo: Hello from the anthropic package");
    assert_eq!(result["stop_reason"], "end_turn");
    assert_eq!(result["thinking"], "Two and two make four.");
    assert_eq!(result["signature"], "sig-python-1");
    assert_eq!(result["after_thinking"], "4");
    assert_eq!(result["tool_name"], "get_weather");
    assert_eq!(result["tool_id"], "toolu_py1");
    assert_eq!(result["tool_input"], json!({"city": "Lisbon"}));
    assert_eq!(result["tool_stop_reason"], "tool_use");
    assert_eq!(result["after_tool"], "Tool said: 21C and sunny");
    assert!(result["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(result["error_status"], 404);
    assert_eq!(result["error_type"], "not_found_error");
    // The tool result reached Bedrock as a toolResult answering the streamed call.
    let last = fake
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with("/converse-stream") || r.path.ends_with("/converse"))
        .unwrap();
    let body: Value = serde_json::from_slice(&last.body).unwrap();
    let text = body.to_string();
    assert!(text.contains("\"toolUseId\":\"toolu_py1\""), "{text}");
}

/// Claude Code in print mode (`claude -p`), pointed at the gateway as its users do
/// (`ANTHROPIC_BASE_URL`, `ANTHROPIC_AUTH_TOKEN`, a Bedrock model in `ANTHROPIC_MODEL`).
/// `OPENCLAW_TEST_CLAUDE` names the `claude` binary (`.ci/run` installs it from npm).
#[tokio::test]
async fn claude_code_print_mode_completes_a_turn() {
    let Some(claude) = std::env::var("OPENCLAW_TEST_CLAUDE")
        .ok()
        .filter(|p| std::path::Path::new(p).is_file())
    else {
        eprintln!(
            "SKIPPED: Claude Code not installed (set OPENCLAW_TEST_CLAUDE to the `claude` binary)"
        );
        return;
    };
    let fake = fake().await;
    fake.script(Turn::text("4"));
    let token = "gw-claude-code-token-11cc";
    let gw = Gateway::start(&fake.url(), &[], &[("OPENCLAW_GATEWAY_TOKEN", token)]);
    let home = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(&claude)
            .args(["-p", "What is 2+2? Answer with one digit."])
            .current_dir(home.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home.path())
            .env("ANTHROPIC_BASE_URL", format!("http://{}", gw.addr))
            .env("ANTHROPIC_AUTH_TOKEN", token)
            .env(
                "ANTHROPIC_MODEL",
                "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            )
            .env("DISABLE_TELEMETRY", "1")
            .env("DISABLE_AUTOUPDATER", "1")
            .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
            .output(),
    )
    .await
    .expect("claude -p finished within 120 s")
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "claude failed:\n{stdout}\n{stderr}"
    );
    assert_eq!(stdout.trim(), "4", "stderr: {stderr}");
    let calls: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/converse-stream"))
        .collect();
    assert!(!calls.is_empty());
    assert!(
        calls.iter().all(|r| r.status == Some(200)),
        "every Bedrock call Claude Code caused succeeded: {:?}",
        calls
            .iter()
            .map(|r| (&r.path, r.status))
            .collect::<Vec<_>>()
    );
}
