//! `openclaw demo`: the whole pipeline against an in-process `fake-bedrock`, no AWS account.
//!
//! The fake listens on `127.0.0.1:0`; the demo runs the real commands with a temporary
//! configuration and state directory and an explicit environment pointing the AWS SDK at the fake
//! (`AWS_ENDPOINT_URL_BEDROCK[_RUNTIME]`) with the fake's test credentials. The process
//! environment is neither read for AWS settings nor changed.

use std::time::Duration;

use fake_bedrock::{FakeBedrock, Pacing, Turn, Usage};
use openclaw_creds::Env;
use openclaw_stream::{
    AdapterOptions, Content, ConverseStream, Message, ModelStream, StreamOptions, StreamRequest,
    ToolDefinition, ToolResultMessage,
};
use serde_json::json;

use crate::cli::{DemoArgs, ListArgs, StatusArgs};
use crate::commands::chat::{Renderer, resolve_target};
use crate::commands::models;
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, WithKind};
use crate::output::{Out, Style};

const DEMO_CONFIG: &str = r#"{
  // Written by `openclaw demo` into a temporary directory.
  models: {
    bedrockDiscovery: {
      enabled: true,
      region: "us-east-1",
      providerFilter: ["anthropic", "amazon"],
    },
  },
  agents: {
    defaults: {
      model: {
        primary: "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        fallbacks: ["amazon-bedrock/us.amazon.nova-pro-v1:0"],
      },
    },
  },
}
"#;

fn heading(out: &Out, step: &str, text: &str) {
    out.line("");
    out.line(&Style::Bold.paint(&format!("── {step} {text}"), out.color_stdout));
}

fn note(out: &Out, text: &str) {
    out.line(&Style::Dim.paint(text, out.color_stdout));
}

/// Runs the demo.
pub async fn run(out: &Out, args: &DemoArgs) -> CmdResult {
    let fake = FakeBedrock::builder()
        .pacing(Pacing {
            first_byte: Duration::from_millis(args.pace_ms * 4),
            between_events: Duration::from_millis(args.pace_ms),
        })
        .chunk_size(6)
        .start()
        .await
        .kind(ExitKind::Other)?;
    let result = steps(out, &fake).await;
    fake.shutdown().await;
    result
}

async fn steps(out: &Out, fake: &FakeBedrock) -> CmdResult {
    let dir = tempfile::tempdir().kind(ExitKind::Other)?;
    let config_path = dir.path().join("openclaw.json");
    std::fs::write(&config_path, DEMO_CONFIG).kind(ExitKind::Other)?;
    let home = dir.path().display().to_string();
    let url = fake.url();
    let env = Env::from_pairs([
        ("HOME", home.as_str()),
        ("OPENCLAW_CONFIG_PATH", &config_path.display().to_string()),
        (
            "OPENCLAW_STATE_DIR",
            &dir.path().join("state").display().to_string(),
        ),
        ("AWS_ENDPOINT_URL_BEDROCK", url.as_str()),
        ("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", url.as_str()),
        ("AWS_ACCESS_KEY_ID", fake_bedrock::DEFAULT_ACCESS_KEY_ID),
        (
            "AWS_SECRET_ACCESS_KEY",
            fake_bedrock::DEFAULT_SECRET_ACCESS_KEY,
        ),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        (
            "AWS_CONFIG_FILE",
            &dir.path().join("aws-config").display().to_string(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            &dir.path().join("aws-credentials").display().to_string(),
        ),
    ]);
    let ctx = Context::new(env, None, out.clone())?;

    heading(out, "1/4", "A local fake Bedrock");
    note(
        out,
        &format!("fake-bedrock is serving the Bedrock control plane and Converse runtime on {url}"),
    );
    note(
        out,
        "The AWS SDK is pointed at it with AWS_ENDPOINT_URL_BEDROCK and AWS_ENDPOINT_URL_BEDROCK_RUNTIME,",
    );
    note(
        out,
        "and signs every request with SigV4 test keys, which the fake verifies.",
    );
    note(out, &format!("Configuration ({}):", config_path.display()));
    for line in DEMO_CONFIG.lines() {
        out.line(&format!("    {line}"));
    }

    heading(out, "2/4", "openclaw models list");
    note(
        out,
        "Discovery calls ListFoundationModels + ListInferenceProfiles, keeps streaming text models,",
    );
    note(
        out,
        "lists INFERENCE_PROFILE-only models through their profiles, and merges the configuration.",
    );
    let list = ListArgs {
        all: false,
        json: false,
        plain: false,
        provider: None,
        refresh: false,
    };
    models::list(&ctx, &list).await?;

    heading(out, "3/4", "openclaw models status");
    models::status(
        &ctx,
        &StatusArgs {
            json: false,
            probe_imds: false,
        },
    )
    .await?;

    heading(
        out,
        "4/4",
        "openclaw chat --thinking medium \"What's the weather in Paris?\"",
    );
    note(
        out,
        "Streamed through ConverseStream: thinking (dimmed), text, a tool call, then the tool result",
    );
    note(
        out,
        "goes back to the model for the final answer. Usage and cost go to stderr.",
    );
    out.line("");
    fake.script(
        Turn::new()
            .with_reasoning(
                "The user wants current weather for Paris. I should call get_weather rather than guess.",
                "ZGVtby1zaWduYXR1cmU=",
            )
            .with_text("Let me check the current conditions in Paris.")
            .with_tool_use("tooluse_demo_1", "get_weather", json!({"city": "Paris", "unit": "celsius"}))
            .usage(Usage {
                input_tokens: 412,
                output_tokens: 96,
                ..Usage::default()
            }),
    );
    fake.script(
        Turn::new()
            .with_text("It is 18 °C and sunny in Paris right now: a fine afternoon for a walk along the Seine.")
            .usage(Usage {
                input_tokens: 540,
                output_tokens: 31,
                ..Usage::default()
            }),
    );
    let target = resolve_target(&ctx, &ctx.resolver()?, None).await?;
    let mut model = target.model.clone();
    // Prices so the cost line shows something (USD per million tokens, Claude Sonnet 4.5 on demand).
    model.cost.input = 3.0;
    model.cost.output = 15.0;
    let adapter = ConverseStream::from_settings(&target.settings, AdapterOptions::default());
    let tools = vec![ToolDefinition {
        name: "get_weather".into(),
        description: "Current weather for a city".into(),
        parameters: json!({
            "type": "object",
            "properties": {"city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"],
        }),
    }];
    let mut request = StreamRequest::new(
        model,
        vec![Message::user_text("What's the weather in Paris?")],
    );
    request.tools = tools;
    request.reasoning = openclaw_stream::ReasoningLevel::Medium;
    let first = Renderer::new(out, false)
        .run(adapter.stream(request.clone(), StreamOptions::default()))
        .await?;
    let calls: Vec<_> = first
        .content
        .iter()
        .filter_map(|c| match c {
            openclaw_stream::AssistantContent::ToolCall(call) => Some(call.clone()),
            _ => None,
        })
        .collect();
    request.messages.push(Message::Assistant(first));
    for call in calls {
        let result = json!({"city": "Paris", "temperature": 18, "unit": "celsius", "sky": "sunny"});
        note(out, &format!("(demo) ran {} → {result}", call.name));
        request
            .messages
            .push(Message::ToolResult(ToolResultMessage {
                tool_call_id: call.id,
                tool_name: call.name,
                content: vec![Content::Text {
                    text: result.to_string(),
                }],
                is_error: false,
            }));
    }
    Renderer::new(out, false)
        .run(adapter.stream(request, StreamOptions::default()))
        .await?;

    out.line("");
    for line in next_steps(&target.model_ref.to_string()) {
        note(out, &line);
    }
    Ok(())
}

/// The closing advice: every command a new user needs, in order, to chat with real Bedrock
/// (chat needs a model: `--model`, or the default model set here), one per line so each can be
/// copied as it is.
fn next_steps(model: &str) -> Vec<String> {
    vec![
        format!(
            "That was {model} over real HTTP, with no AWS account. Against real Bedrock, set AWS credentials and run:"
        ),
        "  openclaw config set models.bedrockDiscovery.enabled true".to_string(),
        "  openclaw models list".to_string(),
        format!(
            "  openclaw config set agents.defaults.model.primary {model}    # or another model of the list"
        ),
        "  openclaw chat \"hi\"".to_string(),
        "  openclaw gateway".to_string(),
    ]
}
