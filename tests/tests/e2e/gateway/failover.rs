//! Failover through the shipped binary: the official `openai` Python client asks for a model
//! throttled forever and is answered by its configured fallback, which the `model` field and
//! `x-openclaw-model` name; with `x-openclaw-failover: off` it gets the primary's 429.

use fake_bedrock::Fault;

use super::support::{Gateway, fake};
use super::{python_with, run_python};

const SONNET: &str = "us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const PRIMARY: &str = "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0";
const FALLBACK: &str = "amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0";

/// Discovery of Anthropic models; the primary falls back to Haiku.
const CONFIG: &str = r#"{
  models: { bedrockDiscovery: { enabled: true, region: "us-east-1", providerFilter: ["anthropic"] } },
  agents: { defaults: { model: {
    primary: "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    fallbacks: ["amazon-bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0"],
  } } },
}
"#;

#[tokio::test]
async fn official_openai_python_client_is_served_by_the_fallback() {
    let Some(python) = python_with("openai") else {
        return;
    };
    let fake = fake().await;
    fake.fault(Fault::Throttle.for_model(SONNET).forever());
    let gw = Gateway::start_with_config(CONFIG, &fake.url());
    let base_url = format!("http://{}/v1", gw.addr);
    let result = run_python(
        &python,
        "openai_failover.py",
        &[
            ("OPENAI_BASE_URL", &base_url),
            ("OPENAI_API_KEY", "unused"),
            ("MODEL", PRIMARY),
        ],
    )
    .await;
    assert_eq!(result["stream_text"], "Echo: Hello from the openai package");
    assert_eq!(result["stream_models"], serde_json::json!([FALLBACK]));
    assert_eq!(result["model"], FALLBACK);
    assert_eq!(result["header"], FALLBACK);
    assert_eq!(result["attempts"], "2");
    assert_eq!(result["opt_out_status"], 429);
    let log = gw.stderr();
    assert!(
        log.contains(&format!("served by {FALLBACK} after {PRIMARY} failed before its first token ({PRIMARY}: throttled (ThrottlingException))")),
        "{log}"
    );
    // The access line names the model that answered.
    assert!(log.contains(&format!("model={FALLBACK}")), "{log}");
}
