//! `openclaw chat`: one prompt, streamed through `openclaw-stream`'s Converse adapter.

use std::io::Read;
use std::sync::Arc;

use futures::StreamExt;
use openclaw_config::{Config, ModelRef};
use openclaw_discovery::{ModelResolver, ModelTarget};
use openclaw_serve::FailoverOptions;
use openclaw_stream::failover::{self, Breakers, Failover};
use openclaw_stream::{
    AdapterOptions, AssistantMessage, ConverseStream, EventStream, Message, ModelStream,
    ReasoningLevel, StreamEvent, StreamOptions, StreamRequest, ToolDefinition, Usage,
};

use crate::cli::{ChatArgs, Thinking};
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure, WithKind, stream_error_kind};
use crate::output::{Out, Style};

/// `chat`.
pub async fn run(ctx: &Context, args: &ChatArgs) -> CmdResult {
    let prompt = read_prompt(args.prompt.as_deref())?;
    let tools = match &args.tools {
        Some(path) => load_tools(path)?,
        None => Vec::new(),
    };
    let resolver = ctx.resolver()?;
    let target = resolve_target(ctx, &resolver, args.model.as_deref()).await?;
    let failover = FailoverOptions::from_config(resolver.config());
    // The models tried after the target when it fails before its first token; none when
    // failover is off.
    let chain = failover.chain(&target.model_ref).into_iter().skip(1);
    let resolved = resolver.fallbacks(&target, chain).await;
    for (model_ref, err) in resolved.skipped {
        let why = target_failure(err).error;
        // The chain without repeats: a cause's text is often already in its parent's message.
        let why = openclaw_creds::error_chain(why.as_ref());
        ctx.out
            .warn(&format!("fallback `{model_ref}` skipped: {why}"));
    }
    let fallbacks = resolved.targets;
    for warning in fallbacks.iter().flat_map(|t| &t.warnings) {
        ctx.out.warn(warning);
    }
    let mut request = StreamRequest::new(target.model.clone(), vec![Message::user_text(prompt)]);
    request.system = args.system.clone();
    request.reasoning = reasoning_level(args.thinking);
    request.tools = tools;
    request.max_tokens = args.max_tokens;
    let primary = target.model_ref.to_string();
    // Missing or unloadable credentials end the stream with OpenClaw's message and an auth
    // kind (exit 4): the adapter knows the source it checked.
    let stream_of = |t: &ModelTarget| -> Arc<dyn ModelStream> {
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

/// Resolves `--model` (else the primary model), with a spinner while discovery runs, and
/// prints the resolution's warnings.
pub async fn resolve_target(
    ctx: &Context,
    resolver: &ModelResolver,
    model: Option<&str>,
) -> CmdResult<ModelTarget> {
    let model_ref = model
        .map(|name| model_ref_of(resolver.config(), name))
        .transpose()?;
    let wanted = model_ref.as_ref().or(resolver.config().primary_model());
    let configured = wanted.is_none_or(|m| resolver.is_configured(m));
    let spinner = ctx.out.spinner("Discovering Bedrock models…", configured);
    let target = resolver.target(model_ref.as_ref()).await;
    spinner.finish();
    let target = target.map_err(target_failure)?;
    for warning in &target.warnings {
        ctx.out.warn(warning);
    }
    Ok(target)
}

/// A `--model` value as a model reference: an alias of `agents.defaults.models` first (as the
/// gateway resolves a request's model), else `provider/modelId` or a bare Bedrock id.
fn model_ref_of(config: &Config, name: &str) -> CmdResult<ModelRef> {
    match config.alias_target(name) {
        Some(model_ref) => Ok(model_ref),
        // A bad `--model` is a usage error (exit 2), like any other bad argument.
        None => ModelRef::parse_or_default_provider(name)
            .map_err(|err| Failure::new(ExitKind::Usage, format!("--model: {err}"))),
    }
}

/// A failed model resolution, in the words of the command line.
fn target_failure(err: openclaw_discovery::Error) -> Failure {
    match err {
        openclaw_discovery::Error::NoModel => Failure::new(
            ExitKind::Config,
            "no model: pass --model <provider/modelId> or set agents.defaults.model.primary",
        ),
        openclaw_discovery::Error::UnknownModel { .. } => Failure::new(
            ExitKind::UnknownModel,
            format!("{err} (all models: `openclaw models list --all`)"),
        ),
        err => Failure::from(err),
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
                    return Ok(*message);
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
    fn model_aliases_resolve_before_references() {
        let config = Config::from_text(
            r#"{agents: {defaults: {models: {"amazon-bedrock/us.amazon.nova-pro-v1:0": {alias: "nova"}}}}}"#,
        )
        .unwrap();
        assert_eq!(
            model_ref_of(&config, "nova").unwrap().to_string(),
            "amazon-bedrock/us.amazon.nova-pro-v1:0"
        );
        assert_eq!(
            model_ref_of(&config, "us.amazon.nova-lite-v1:0")
                .unwrap()
                .to_string(),
            "amazon-bedrock/us.amazon.nova-lite-v1:0"
        );
        assert_eq!(
            model_ref_of(&Config::default(), "nova")
                .unwrap()
                .to_string(),
            "amazon-bedrock/nova"
        );
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
