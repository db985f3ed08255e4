//! `openclaw chat`: one prompt, streamed through `openclaw-stream`'s Converse adapter.

use std::io::Read;
use std::sync::Arc;

use futures::StreamExt;
use openclaw_config::{ModelApi, ModelDefinition, ModelRef, ProviderConfig};
use openclaw_creds::AwsSettings;
use openclaw_serve::FailoverOptions;
use openclaw_stream::failover::{self, Breakers, Failover};
use openclaw_stream::{
    AdapterOptions, AssistantMessage, ConverseStream, EventStream, Message, ModelStream,
    ReasoningLevel, StreamEvent, StreamOptions, StreamRequest, ToolDefinition, Usage,
};

use crate::cli::{ChatArgs, Thinking};
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure, WithKind, discovery_kind, stream_error_kind};
use crate::output::{Out, Style};
use crate::setup::{DiscoveryState, Resolved, Setup};

/// A model ready to be called: where it lives and the SDK settings to reach it.
pub struct Target {
    /// The reference.
    pub model_ref: ModelRef,
    /// The model definition (limits, prices, reasoning).
    pub model: ModelDefinition,
    /// The SDK settings for the provider's runtime region and endpoint.
    pub settings: AwsSettings,
}

/// `chat`.
pub async fn run(ctx: &Context, args: &ChatArgs) -> CmdResult {
    let prompt = read_prompt(args.prompt.as_deref())?;
    let tools = match &args.tools {
        Some(path) => load_tools(path)?,
        None => Vec::new(),
    };
    let setup = Setup::new(ctx)?;
    let target = resolve_target(ctx, &setup, args.model.as_deref()).await?;
    let failover = FailoverOptions::from_config(&setup.config);
    let fallbacks = resolve_fallbacks(ctx, &setup, &failover, &target).await;
    let mut request = StreamRequest::new(target.model.clone(), vec![Message::user_text(prompt)]);
    request.system = args.system.clone();
    request.reasoning = reasoning_level(args.thinking);
    request.tools = tools;
    request.max_tokens = args.max_tokens;
    let primary = target.model_ref.to_string();
    // Missing or unloadable credentials end the stream with OpenClaw's message and an auth
    // kind (exit 4): the adapter knows the source it checked.
    let stream_of = |t: &Target| -> Arc<dyn ModelStream> {
        Arc::new(ConverseStream::from_settings(
            &t.settings,
            AdapterOptions::default(),
        ))
    };
    let (events, report) = if fallbacks.is_empty() {
        (
            stream_of(&target).stream(request, StreamOptions::default()),
            None,
        )
    } else {
        let targets = std::iter::once(&target)
            .chain(&fallbacks)
            .map(|t| failover::Target::new(t.model_ref.to_string(), t.model.clone(), stream_of(t)))
            .collect();
        let breakers = Arc::new(Breakers::new(failover.settings));
        let chain = Failover::new(targets, breakers);
        let (events, report) = chain.start(request, StreamOptions::default());
        (events, Some(report))
    };
    let mut renderer = Renderer::new(&ctx.out, args.json);
    let result = renderer.run(events).await.map(|_| ());
    if let Some(report) = report
        && let Some(served) = report.served()
        && served != primary
    {
        let failed: Vec<String> = report
            .attempts()
            .iter()
            .filter(|a| a.target != served)
            .map(|a| format!("{}: {}", a.target, a.reason()))
            .collect();
        ctx.out.err_line(&Style::Yellow.paint(
            &format!("served by {served} ({})", failed.join("; ")),
            ctx.out.color_stderr,
        ));
    }
    result
}

/// The models tried after `target` when it fails before its first token (see
/// [`FailoverOptions::chain`]); none when failover is off. A fallback that cannot be resolved
/// is skipped with a warning.
async fn resolve_fallbacks(
    ctx: &Context,
    setup: &Setup,
    options: &FailoverOptions,
    target: &Target,
) -> Vec<Target> {
    let mut out = Vec::new();
    for model_ref in options.chain(&target.model_ref).into_iter().skip(1) {
        match resolve_target(ctx, setup, Some(&model_ref.to_string())).await {
            Ok(found) => out.push(found),
            // A global profile is tried as it is: Bedrock decides whether it exists.
            Err(_) if model_ref.model().starts_with("global.") => out.push(Target {
                model: ModelDefinition {
                    id: model_ref.model().to_string(),
                    ..target.model.clone()
                },
                model_ref,
                settings: target.settings.clone(),
            }),
            Err(err) => ctx
                .out
                .warn(&format!("fallback `{model_ref}` skipped: {:#}", err.error)),
        }
    }
    out
}

/// The `--thinking` level for the stream crate.
pub fn reasoning_level(thinking: Thinking) -> ReasoningLevel {
    match thinking {
        Thinking::Off => ReasoningLevel::Off,
        Thinking::Minimal => ReasoningLevel::Minimal,
        Thinking::Low => ReasoningLevel::Low,
        Thinking::Medium => ReasoningLevel::Medium,
        Thinking::High => ReasoningLevel::High,
        Thinking::Xhigh => ReasoningLevel::XHigh,
    }
}

fn read_prompt(arg: Option<&str>) -> CmdResult<String> {
    let text = match arg {
        Some(p) if p != "-" => p.to_string(),
        _ => {
            let mut buf = String::new();
            std::io::stdin()
                .read_to_string(&mut buf)
                .kind(ExitKind::Other)?;
            buf
        }
    };
    if text.trim().is_empty() {
        return Err(Failure::new(
            ExitKind::Usage,
            "empty prompt: pass it as an argument or on stdin",
        ));
    }
    Ok(text)
}

fn load_tools(path: &std::path::Path) -> CmdResult<Vec<ToolDefinition>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            ExitKind::Other,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Failure::new(
            ExitKind::Config,
            format!(
                "{}: expected a JSON array of {{name, description, parameters}} tool definitions ({e})",
                path.display()
            ),
        )
    })
}

/// Finds the model (configured first, then discovered) and builds the SDK settings of its
/// provider.
pub async fn resolve_target(
    ctx: &Context,
    setup: &Setup,
    model: Option<&str>,
) -> CmdResult<Target> {
    let model_ref = match model {
        Some(text) => ModelRef::parse_or_default_provider(text)?,
        None => setup.config.primary_model().cloned().ok_or_else(|| {
            Failure::new(
                ExitKind::Config,
                "no model: pass --model <provider/modelId> or set agents.defaults.model.primary",
            )
        })?,
    };
    let explicit = setup.config.provider(model_ref.provider()).and_then(|p| {
        Some((
            p.clone(),
            p.models.iter().find(|m| m.id == model_ref.model())?.clone(),
        ))
    });
    let (provider, def) = match explicit {
        Some(found) => found,
        None => {
            let spinner = ctx.out.spinner("Discovering Bedrock models…", false);
            let resolved = setup.resolve(ctx, false, false).await;
            spinner.finish();
            match resolved.find(&model_ref) {
                Some((p, m)) => (p.clone(), m.clone()),
                None => match describe_arn(ctx, setup, &resolved, &model_ref).await {
                    Some(found) => found,
                    None => return Err(unknown_model(setup, &model_ref, &resolved)),
                },
            }
        }
    };
    check_bedrock(&model_ref, &provider)?;
    let settings = crate::setup::provider_settings(&ctx.env, &provider)?;
    Ok(Target {
        model_ref,
        // The provider's guardrail and pass-through fields under the model's own.
        model: provider.model_with_defaults(&def),
        settings,
    })
}

/// A Bedrock ARN of the `amazon-bedrock` provider that is neither configured nor discovered
/// (another region's profile, a profile created since the last discovery, a provisioned
/// throughput, a custom or imported model, a prompt router): used as it is, Bedrock decides.
/// Its traits come from `GetInferenceProfile` when it is a profile (see
/// `Discovery::describe`); when that cannot say (no discovery, an error), the configured
/// defaults, with a warning.
async fn describe_arn(
    ctx: &Context,
    setup: &Setup,
    resolved: &Resolved,
    model_ref: &ModelRef,
) -> Option<(ProviderConfig, ModelDefinition)> {
    let id = model_ref.model();
    if model_ref.provider() != openclaw_config::BEDROCK_PROVIDER_ID || !id.starts_with("arn:") {
        return None;
    }
    let provider = resolved
        .providers
        .get(openclaw_config::BEDROCK_PROVIDER_ID)
        .cloned()
        .unwrap_or_else(|| openclaw_discovery::implicit_provider(&setup.region.region, Vec::new()));
    let described = match setup.enabled_discovery(ctx) {
        Some((discovery, request)) => match discovery.describe(&request, id).await {
            Ok(found) => found,
            Err(err) => {
                ctx.out.warn(&format!(
                    "cannot describe `{id}`, using default limits: {err}"
                ));
                None
            }
        },
        None => None,
    };
    let def = described.unwrap_or_else(|| {
        let defaults = openclaw_discovery::MappingOptions::from_config(&setup.discovery);
        let mut def = ModelDefinition::new(id, id);
        def.context_window = defaults.default_context_window;
        def.max_tokens = defaults.default_max_tokens;
        def
    });
    Some((provider, def))
}

fn unknown_model(setup: &Setup, model: &ModelRef, resolved: &Resolved) -> Failure {
    match &resolved.discovery {
        // Without credentials nothing was discovered: the real problem is the credentials.
        DiscoveryState::Off { .. }
            if !setup.source.is_present() && setup.discovery.enabled.is_none() =>
        {
            Failure::from(openclaw_creds::Error::MissingCredentials {
                checked: setup.source.clone(),
            })
        }
        DiscoveryState::Ran(Err(err)) => Failure::new(
            discovery_kind(err),
            format!("cannot resolve model `{model}`: bedrock discovery failed: {err}"),
        ),
        _ => {
            let keys = resolved.providers.iter().flat_map(|(provider, config)| {
                config
                    .models
                    .iter()
                    .map(move |m| format!("{provider}/{}", m.id))
            });
            let suggestions = similar_models(&model.to_string(), keys);
            let hint = if suggestions.is_empty() {
                String::new()
            } else {
                format!("; did you mean `{}`?", suggestions.join("` or `"))
            };
            Failure::new(
                ExitKind::UnknownModel,
                format!(
                    "unknown model `{model}`: not configured and not discovered{hint} (all models: `openclaw models list --all`)"
                ),
            )
        }
    }
}

/// Up to three `provider/modelId` keys close to `wanted`: those containing its model id (a
/// short name such as `nova-pro`), else those within a small edit distance (a wrong version).
fn similar_models(wanted: &str, keys: impl Iterator<Item = String>) -> Vec<String> {
    let wanted = wanted.to_lowercase();
    let wanted_id = wanted.split_once('/').map_or(wanted.as_str(), |(_, id)| id);
    let mut scored: Vec<(f64, String)> = keys
        .filter_map(|key| {
            let lower = key.to_lowercase();
            let score = if wanted_id.len() >= 3 && lower.contains(wanted_id) {
                2.0
            } else {
                strsim::normalized_damerau_levenshtein(&wanted, &lower)
            };
            (score >= 0.8).then_some((score, key))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.len().cmp(&b.1.len())));
    // Only the nearest: `nova-pro-v2` should not also suggest `nova-micro-v1`.
    let best = scored.first().map_or(0.0, |(score, _)| *score);
    scored
        .into_iter()
        .take_while(|(score, _)| *score >= best - 0.05)
        .take(3)
        .map(|(_, key)| key)
        .collect()
}

fn check_bedrock(model: &ModelRef, provider: &ProviderConfig) -> CmdResult {
    match provider.api {
        None | Some(ModelApi::BedrockConverseStream) => Ok(()),
        Some(api) => Err(Failure::new(
            ExitKind::Config,
            format!(
                "provider `{}` uses api `{}`: this binary speaks only `bedrock-converse-stream`",
                model.provider(),
                api.as_str()
            ),
        )),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    None,
    Text,
    Thinking,
}

/// Turns stream events into terminal output (or JSON lines).
pub struct Renderer<'a> {
    out: &'a Out,
    json: bool,
    block: Block,
    at_line_start: bool,
}

impl<'a> Renderer<'a> {
    /// A renderer writing to `out`; with `json`, every event becomes one JSON line on stdout.
    pub fn new(out: &'a Out, json: bool) -> Self {
        Renderer {
            out,
            json,
            block: Block::None,
            at_line_start: true,
        }
    }

    fn write(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        self.out.write(text);
        self.at_line_start = text.ends_with('\n');
    }

    fn newline(&mut self) {
        if !self.at_line_start {
            self.write("\n");
        }
    }

    /// Renders the stream to its end; returns the final message, or the failure of a terminal
    /// error event.
    pub async fn run(&mut self, mut events: EventStream) -> CmdResult<AssistantMessage> {
        let color = self.out.color_stdout;
        while let Some(event) = events.next().await {
            if self.json {
                let line = serde_json::to_string(&event).kind(ExitKind::Other)?;
                self.out.line(&line);
            }
            match event {
                StreamEvent::ThinkingStart { .. } if !self.json => {
                    self.newline();
                    self.block = Block::Thinking;
                    self.write(&Style::Dim.paint("[thinking] ", color));
                }
                StreamEvent::ThinkingDelta { delta, .. } if !self.json => {
                    self.write(&Style::Dim.paint(&delta, color));
                }
                StreamEvent::ThinkingEnd { .. } if !self.json => {
                    self.newline();
                    self.block = Block::None;
                }
                StreamEvent::TextStart { .. } if !self.json => {
                    if self.block != Block::Text {
                        self.newline();
                    }
                    self.block = Block::Text;
                }
                StreamEvent::TextDelta { delta, .. } if !self.json => self.write(&delta),
                StreamEvent::TextEnd { .. } if !self.json => self.block = Block::None,
                StreamEvent::ToolCallStart { name, id, .. } if !self.json => {
                    self.newline();
                    let label = Style::Cyan.paint(&format!("→ tool call {name}"), color);
                    self.write(&format!("{label} ({id})\n"));
                }
                StreamEvent::ToolCallEnd { call, .. } if !self.json => {
                    let args = serde_json::to_string(&call.arguments).unwrap_or_default();
                    self.write(&format!("  arguments: {args}\n"));
                }
                StreamEvent::Done {
                    stop_reason,
                    message,
                    usage,
                } => {
                    self.newline();
                    let reason = serde_json::to_value(stop_reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    self.out.err_line(
                        &Style::Dim.paint(&usage_line(&usage, &reason), self.out.color_stderr),
                    );
                    return Ok(message);
                }
                StreamEvent::Error { message, info, .. } => {
                    self.newline();
                    return Err(Failure::new(stream_error_kind(info.kind), message));
                }
                _ => {}
            }
        }
        Err(Failure::new(
            ExitKind::Upstream,
            "the model stream ended without a final event",
        ))
    }
}

/// `stop · 12 in · 34 out · 0 cache read · 0 cache write · 46 total · $0.000123`: the model's
/// `cost` (configured, or for discovered models the known-models table's list prices) times
/// the tokens. A zero cost reads `cost unknown`: a model the table does not know carries zero
/// prices for "unknown", and `$0.000000` would claim the call was free.
pub fn usage_line(usage: &Usage, stop_reason: &str) -> String {
    let cost = if usage.cost.total > 0.0 {
        format!("${:.6}", usage.cost.total)
    } else {
        "cost unknown".to_string()
    };
    format!(
        "{stop_reason} · {} in · {} out · {} cache read · {} cache write · {} total · {cost}",
        usage.input, usage.output, usage.cache_read, usage.cache_write, usage.total_tokens,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_models_get_close_suggestions() {
        let keys = || {
            [
                "amazon-bedrock/us.amazon.nova-pro-v1:0",
                "amazon-bedrock/amazon.nova-pro-v1:0",
                "amazon-bedrock/us.anthropic.claude-opus-4-6-v1",
            ]
            .into_iter()
            .map(String::from)
        };
        assert_eq!(
            similar_models("amazon-bedrock/us.amazon.nova-pro-v2:0", keys()),
            ["amazon-bedrock/us.amazon.nova-pro-v1:0"]
        );
        assert_eq!(
            similar_models("amazon-bedrock/nova-pro", keys()),
            [
                "amazon-bedrock/amazon.nova-pro-v1:0",
                "amazon-bedrock/us.amazon.nova-pro-v1:0"
            ]
        );
        assert!(similar_models("amazon-bedrock/mistral.large", keys()).is_empty());
    }

    #[test]
    fn usage_line_reads_well() {
        let mut usage = Usage {
            input: 12,
            output: 34,
            total_tokens: 46,
            ..Usage::default()
        };
        usage.cost.total = 0.000123;
        assert_eq!(
            usage_line(&usage, "stop"),
            "stop · 12 in · 34 out · 0 cache read · 0 cache write · 46 total · $0.000123"
        );
        usage.cost.total = 0.0;
        assert!(usage_line(&usage, "stop").ends_with("46 total · cost unknown"));
    }

    #[test]
    fn thinking_levels_map() {
        assert_eq!(reasoning_level(Thinking::Xhigh), ReasoningLevel::XHigh);
        assert_eq!(reasoning_level(Thinking::Off), ReasoningLevel::Off);
    }

    #[test]
    fn tools_file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tools.json");
        std::fs::write(&path, "{}").unwrap();
        let err = load_tools(&path).unwrap_err();
        assert_eq!(err.kind, ExitKind::Config);
        assert!(err.error.to_string().contains("tools.json"));
        std::fs::write(
            &path,
            r#"[{"name":"get_weather","description":"Weather","parameters":{"type":"object"}}]"#,
        )
        .unwrap();
        assert_eq!(load_tools(&path).unwrap()[0].name, "get_weather");
    }
}
