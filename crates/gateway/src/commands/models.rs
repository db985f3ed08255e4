//! `openclaw models list` and `openclaw models status`.

use std::time::{Duration, SystemTime};

use openclaw_config::BEDROCK_PROVIDER_ID;
use openclaw_creds::{CredentialSource, DEFAULT_IMDS_TIMEOUT};
use openclaw_discovery::{
    DiscoveryOutcome, ModelResolver, ModelRow, ResolvedModels, runtime_base_url,
};
use serde_json::json;

use crate::cli::{ListArgs, StatusArgs};
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, WithKind};
use crate::output::Style;

/// `models list`.
pub async fn list(ctx: &Context, args: &ListArgs) -> CmdResult {
    let resolver = ctx.resolver()?;
    let machine = args.json || args.plain;
    let on = resolver.discovery_decision().enabled;
    let spinner = ctx.out.spinner(
        &format!(
            "Discovering Bedrock models in {}…",
            resolver.region().region
        ),
        machine || !on,
    );
    let resolved = resolver.resolve(args.refresh, args.all).await;
    spinner.finish();
    report_discovery(ctx, &resolver, &resolved);
    let rows = resolver.rows(&resolved, args.provider.as_deref());
    if let Some(wanted) = args.provider.as_deref()
        && rows.is_empty()
    {
        let known = known_providers(&resolver, &resolved);
        if let Some(text) = unknown_provider_warning(wanted, &known) {
            ctx.out.warn(&text);
        }
    }
    if args.json {
        let body = json!({"count": rows.len(), "models": rows});
        let text = serde_json::to_string_pretty(&body).kind(ExitKind::Other)?;
        ctx.out.line(&text);
    } else if args.plain {
        for row in &rows {
            ctx.out.line(&row.key);
        }
    } else {
        for line in table(&rows, ctx.out.color_stdout) {
            ctx.out.line(&line);
        }
        let quiet_off = matches!(resolved.discovery, DiscoveryOutcome::Off { .. })
            && resolver.discovery_config().enabled.is_some();
        if rows.is_empty() && quiet_off {
            ctx.out.hint(
                "no models: discovery is off in the configuration and no provider lists models (`openclaw config set models.bedrockDiscovery.enabled true`)",
            );
        }
    }
    Ok(())
}

/// The provider ids `models list` can show: `amazon-bedrock`, the configured providers and
/// those of the default model and its fallbacks.
fn known_providers(resolver: &ModelResolver, resolved: &ResolvedModels) -> Vec<String> {
    let defaults = &resolver.config().agents.defaults.model;
    let mut known: Vec<String> = std::iter::once(BEDROCK_PROVIDER_ID.to_string())
        .chain(resolved.providers.keys().cloned())
        .chain(resolver.config().models.providers.keys().cloned())
        .chain(
            defaults
                .primary
                .iter()
                .chain(&defaults.fallbacks)
                .map(|m| m.provider().to_string()),
        )
        .collect();
    known.sort();
    known.dedup();
    known
}

/// For `--provider` matching no provider id: says so, with the id meant when one is close
/// (`bedrock` is part of `amazon-bedrock`; `amazon-bedrok` is a typo of it). `None` when the
/// provider is known and merely has no models.
fn unknown_provider_warning(wanted: &str, known: &[String]) -> Option<String> {
    if known.iter().any(|k| k == wanted) {
        return None;
    }
    let lower = wanted.to_lowercase();
    let meant = known
        .iter()
        .map(|k| {
            let k_lower = k.to_lowercase();
            let score = if k_lower.contains(&lower) || lower.contains(&k_lower) {
                1.0
            } else {
                strsim::jaro_winkler(&lower, &k_lower)
            };
            (score, k)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(", did you mean `{k}`?"))
        .unwrap_or_default();
    Some(format!(
        "no provider `{wanted}` (known: {}){meant}",
        known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// What to do when discovery is on but the SDK's default chain found nothing.
const NO_CREDENTIALS_HINT: &str = "set AWS_PROFILE, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY or AWS_BEARER_TOKEN_BEDROCK (on EC2 with an instance role, AWS_PROFILE=default); `openclaw models status` shows what is detected";

/// Warnings and hints about discovery on stderr.
fn report_discovery(ctx: &Context, resolver: &ModelResolver, resolved: &ResolvedModels) {
    match &resolved.discovery {
        DiscoveryOutcome::Off { reason } => {
            if resolver.discovery_config().enabled.is_none() {
                ctx.out
                    .hint(&format!("showing configured models only: {reason}"));
            }
        }
        DiscoveryOutcome::Ran(Err(err)) => {
            ctx.out.warn(&format!(
                "bedrock discovery failed, showing configured models only: {err}"
            ));
            if matches!(err, openclaw_discovery::Error::Credentials { .. })
                && !resolver.credentials().is_present()
            {
                ctx.out.hint(NO_CREDENTIALS_HINT);
            }
        }
        DiscoveryOutcome::Ran(Ok(catalog)) => {
            if let Some(err) = &catalog.stale_error {
                ctx.out.warn(&format!(
                    "bedrock discovery failed, showing the cached catalog: {err}"
                ));
            }
        }
    }
}

const MODEL_PAD: usize = 42;
const INPUT_PAD: usize = 10;
const CTX_PAD: usize = 11;
const LOCAL_PAD: usize = 5;
const AUTH_PAD: usize = 5;

/// `200000` → `200k`, OpenClaw's short token counts; `-` when unknown.
pub fn format_token_k(tokens: Option<u32>) -> String {
    match tokens {
        None | Some(0) => "-".into(),
        Some(n) if n < 1000 => n.to_string(),
        Some(n) => format!("{}k", (f64::from(n) / 1000.0).round()),
    }
}

fn pad(text: &str, width: usize) -> String {
    format!("{text:<width$}")
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        None => "-",
        Some(true) => "yes",
        Some(false) => "no",
    }
}

/// The table, OpenClaw's layout: `Model  Input  Ctx  Local  Auth  Tags`, fixed widths, one space
/// between columns.
///
/// One deliberate difference: OpenClaw truncates the model key at 42 characters, which cuts most
/// Bedrock inference-profile ids (`amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0`
/// is 60) into ambiguous stubs; the Model column here widens to the longest key instead.
pub fn table(rows: &[ModelRow], color: bool) -> Vec<String> {
    let model_pad = rows
        .iter()
        .map(|r| r.key.chars().count())
        .max()
        .unwrap_or(0)
        .max(MODEL_PAD);
    let header = [
        pad("Model", model_pad),
        pad("Input", INPUT_PAD),
        pad("Ctx", CTX_PAD),
        pad("Local", LOCAL_PAD),
        pad("Auth", AUTH_PAD),
        "Tags".into(),
    ]
    .join(" ");
    let mut lines = vec![Style::Bold.paint(&header, color)];
    for row in rows {
        let tags: Vec<String> = row
            .tags
            .iter()
            .map(|tag| {
                let style = match tag.as_str() {
                    "default" => Style::Green,
                    "missing" => Style::Red,
                    t if t.starts_with("fallback#") => Style::Yellow,
                    _ => Style::Dim,
                };
                // The ARN says nothing to a reader: the profile's own name goes with its tag.
                if tag == "app-profile" {
                    return style.paint(&format!("app-profile: {}", row.name), color);
                }
                style.paint(tag, color)
            })
            .collect();
        let input_style = if row.input.contains("image") {
            Style::Magenta
        } else {
            Style::Cyan
        };
        let line = [
            pad(&row.key, model_pad),
            input_style.paint(&pad(&row.input, INPUT_PAD), color),
            pad(&format_token_k(row.context_window), CTX_PAD),
            pad(yes_no(row.local), LOCAL_PAD),
            pad(yes_no(row.available), AUTH_PAD),
            tags.join(","),
        ]
        .join(" ");
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// `models status`.
pub async fn status(ctx: &Context, args: &StatusArgs) -> CmdResult {
    let resolver = ctx.resolver()?;
    let decision = resolver.discovery_decision();
    let (on, why) = (decision.enabled, decision.reason);
    // The disk cache's age, read without calling AWS. With a fresh entry, status comes from it
    // and discovery does not run, unless the primary model is not configured and has to be
    // looked up among the discovered ones (discovery then reads the same fresh file).
    let disk = resolver.disk_status().await;
    let fresh = disk.as_ref().filter(|d| d.fresh);
    let primary = resolver.config().primary_model();
    let from_disk = fresh.is_some() && primary.is_none_or(|p| resolver.is_configured(p));
    let spinner = ctx
        .out
        .spinner("Checking Bedrock discovery…", args.json || !on || from_disk);
    let resolved = if from_disk {
        None
    } else {
        Some(resolver.resolve(false, false).await)
    };
    let imds = if args.probe_imds {
        Some(openclaw_creds::probe_imds(&ctx.env, DEFAULT_IMDS_TIMEOUT).await)
    } else {
        None
    };
    spinner.finish();

    let source = resolver.credentials();
    let detail = match source {
        CredentialSource::Profile { name } => Some(format!("profile `{name}`")),
        CredentialSource::StaticKeys {
            session_token: true,
        } => Some("with AWS_SESSION_TOKEN".to_string()),
        CredentialSource::DefaultChain { marker: Some(m) } => Some(m.to_string()),
        CredentialSource::DefaultChain { marker: None } => Some(
            "no offline marker found; an EC2 instance role is only seen by --probe-imds"
                .to_string(),
        ),
        _ => None,
    };
    let (discovery_state, cache) = match (resolved.as_ref().map(|r| &r.discovery), fresh) {
        (Some(DiscoveryOutcome::Off { .. }), _) | (None, None) => ("off".to_string(), None),
        (None, Some(d)) => (
            format!("ok, {} models (from the disk cache)", d.model_count),
            Some((d.age.unwrap_or_default(), true)),
        ),
        (Some(DiscoveryOutcome::Ran(Ok(c))), _) => {
            let age = SystemTime::now()
                .duration_since(c.fetched_at)
                .unwrap_or_default();
            let state = match &c.stale_error {
                Some(err) => format!("failed, serving a stale catalog: {err}"),
                None => format!("ok, {} models", c.models.len()),
            };
            (state, Some((age, c.from_cache)))
        }
        (Some(DiscoveryOutcome::Ran(Err(err))), _) => (format!("failed: {err}"), None),
    };
    let region = resolver.region();
    let runtime_default = runtime_base_url(&region.region);
    let bedrock_endpoint = resolver.settings().bedrock_endpoint();
    let runtime_endpoint = resolver.settings().runtime_endpoint();
    let primary_resolves = primary.map(|p| match &resolved {
        Some(r) => r.find(p).is_some(),
        None => resolver.is_configured(p),
    });

    let failover = resolver.config().failover();
    let chains = resolver.config().fallback_table();
    if args.json {
        let body = json!({
            "failover": {
                "enabled": failover.enabled,
                "crossRegion": failover.cross_region,
                "firstTokenTimeoutMs": failover.first_token_timeout_ms,
                "breakerFailures": failover.breaker_failures,
                "breakerCooldownMs": failover.breaker_cooldown_ms,
                "fallbacks": chains.iter().map(|(model, list)| {
                    (model.clone(), json!(list.iter().map(ToString::to_string).collect::<Vec<_>>()))
                }).collect::<serde_json::Map<String, serde_json::Value>>(),
            },
            "configPath": ctx.config_path.display().to_string(),
            "configExists": ctx.config_path.exists(),
            "credentials": {
                "source": source.to_string(),
                "present": source.is_present(),
                "detail": detail,
            },
            "region": { "value": region.region, "source": region.source.to_string() },
            "discovery": {
                "enabled": on,
                "reason": why,
                "state": discovery_state,
                "cacheAgeSeconds": cache.map(|(age, _)| age.as_secs()),
                "fromCache": cache.map(|(_, from)| from),
                "cachePath": disk.as_ref().map(|d| d.path.display().to_string()),
                "cacheFresh": disk.as_ref().map(|d| d.fresh),
                "refreshInterval": resolver.discovery_config().refresh_interval,
            },
            "endpoints": {
                "bedrock": bedrock_endpoint.map(|e| json!({"url": e.url, "source": e.source.to_string()})),
                "bedrockRuntime": runtime_endpoint.map(|e| json!({"url": e.url, "source": e.source.to_string()})),
            },
            "primaryModel": primary.map(ToString::to_string),
            "primaryResolves": primary_resolves,
            "imds": imds.as_ref().map(ToString::to_string),
        });
        let text = serde_json::to_string_pretty(&body).kind(ExitKind::Other)?;
        ctx.out.line(&text);
        return Ok(());
    }

    let c = ctx.out.color_stdout;
    let label = |l: &str| Style::Bold.paint(&format!("{l:<16}"), c);
    let mut lines = Vec::new();
    let exists = if ctx.config_path.exists() {
        ""
    } else {
        " (missing: empty configuration)"
    };
    lines.push(format!(
        "{}{}{exists}",
        label("Config"),
        ctx.config_path.display()
    ));
    let cred_line = match &detail {
        Some(d) => format!("{source} ({d})"),
        None => source.to_string(),
    };
    let cred_line = if source.is_present() {
        cred_line
    } else {
        Style::Yellow.paint(&cred_line, c)
    };
    lines.push(format!("{}{cred_line}", label("Credentials")));
    if let Some(imds) = &imds {
        lines.push(format!("{}{imds}", label("IMDS")));
    }
    lines.push(format!("{}{}", label("Region"), region));
    let on_text = if on {
        Style::Green.paint("enabled", c)
    } else {
        Style::Yellow.paint("disabled", c)
    };
    lines.push(format!("{}{on_text}: {why}", label("Discovery")));
    if on {
        lines.push(format!("{}{discovery_state}", label("  result")));
        let cache_text = match cache {
            Some((age, true)) => format!(
                "{} old (refresh every {}s)",
                human_duration(age),
                resolver.discovery_config().refresh_interval
            ),
            Some((_, false)) => "fetched just now".to_string(),
            None => "none".to_string(),
        };
        lines.push(format!("{}{cache_text}", label("  cache")));
    }
    lines.push(format!(
        "{}{}",
        label("Bedrock API"),
        bedrock_endpoint.map_or_else(
            || format!("https://bedrock.{}.amazonaws.com (default)", region.region),
            ToString::to_string
        )
    ));
    lines.push(format!(
        "{}{}",
        label("Runtime API"),
        runtime_endpoint.map_or_else(
            || format!("{runtime_default} (default)"),
            ToString::to_string
        )
    ));
    let primary_text = match (primary, primary_resolves) {
        (Some(p), Some(true)) => format!("{p} ({})", Style::Green.paint("resolves", c)),
        (Some(p), _) => format!(
            "{p} ({})",
            Style::Red.paint("not found among configured or discovered models", c)
        ),
        (None, _) => "not set (agents.defaults.model.primary)".to_string(),
    };
    lines.push(format!("{}{primary_text}", label("Default model")));
    // Breakers live in the gateway process: their state is in its /metrics.
    let failover_text = if !failover.enabled {
        Style::Yellow.paint("disabled", c)
    } else if chains.is_empty() && !failover.cross_region {
        "no fallbacks configured".to_string()
    } else {
        format!(
            "{}{}, breaker after {} failures for {}s (state: the gateway's /metrics)",
            Style::Green.paint("enabled", c),
            if failover.cross_region {
                " with region failover (global. profiles)"
            } else {
                ""
            },
            failover.breaker_failures,
            failover.breaker_cooldown_ms / 1000
        )
    };
    lines.push(format!("{}{failover_text}", label("Failover")));
    if failover.enabled {
        for (model, list) in &chains {
            let list: Vec<String> = list.iter().map(ToString::to_string).collect();
            lines.push(format!(
                "{}{model} → {}",
                label("  fallbacks"),
                list.join(" → ")
            ));
        }
    }
    for line in lines {
        ctx.out.line(&line);
    }
    if let Some(hint) = half_set_keys_hint(&ctx.env) {
        ctx.out.hint(&hint);
    }
    if let Some(DiscoveryOutcome::Ran(Err(err))) = resolved.as_ref().map(|r| &r.discovery) {
        tracing::debug!(kind = ?err.kind(), "discovery failed during status");
    }
    Ok(())
}

/// A hint when only one of `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` is set: detection then
/// ignores both and falls through to the default chain, which is easy to miss.
fn half_set_keys_hint(env: &openclaw_creds::Env) -> Option<String> {
    let id = env.get_nonempty("AWS_ACCESS_KEY_ID").is_some();
    let secret = env.get_nonempty("AWS_SECRET_ACCESS_KEY").is_some();
    let (set, missing) = match (id, secret) {
        (true, false) => ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
        (false, true) => ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
        _ => return None,
    };
    Some(format!(
        "{set} is set but {missing} is not: static keys need both, so they are ignored"
    ))
}

/// `95` → `1m 35s`.
fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m {}s", s / 60, s % 60),
        _ => format!("{}h {}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use openclaw_config::ModelCost;

    use super::*;

    #[test]
    fn an_unknown_provider_names_the_one_meant() {
        let known = ["amazon-bedrock".to_string(), "proxy".to_string()];
        assert_eq!(
            unknown_provider_warning("bedrock", &known).unwrap(),
            "no provider `bedrock` (known: `amazon-bedrock`, `proxy`), did you mean `amazon-bedrock`?"
        );
        assert!(
            unknown_provider_warning("amazon-bedrok", &known)
                .unwrap()
                .ends_with("did you mean `amazon-bedrock`?")
        );
        let far = unknown_provider_warning("openai", &known).unwrap();
        assert!(!far.contains("did you mean"), "{far}");
        assert_eq!(unknown_provider_warning("proxy", &known), None);
    }

    #[test]
    fn half_set_static_keys_are_pointed_out() {
        let env = |pairs: &[(&str, &str)]| openclaw_creds::Env::from_pairs(pairs.iter().copied());
        let hint = half_set_keys_hint(&env(&[("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")])).unwrap();
        assert!(hint.contains("AWS_SECRET_ACCESS_KEY is not"), "{hint}");
        assert!(!hint.contains("AKIDEXAMPLE"), "{hint}");
        assert!(half_set_keys_hint(&env(&[("AWS_SECRET_ACCESS_KEY", "s")])).is_some());
        let both = env(&[("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        assert!(half_set_keys_hint(&both).is_none());
        assert!(half_set_keys_hint(&env(&[])).is_none());
    }

    fn row(key: &str, tags: &[&str]) -> ModelRow {
        ModelRow {
            key: key.into(),
            name: key.into(),
            input: "text+image".into(),
            context_window: Some(200_000),
            local: Some(false),
            available: Some(true),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            missing: false,
            cost: None,
        }
    }

    #[test]
    fn token_counts_read_like_openclaw() {
        assert_eq!(format_token_k(Some(200_000)), "200k");
        assert_eq!(format_token_k(Some(32_000)), "32k");
        assert_eq!(format_token_k(Some(128_000)), "128k");
        assert_eq!(format_token_k(Some(512)), "512");
        assert_eq!(format_token_k(None), "-");
    }

    #[test]
    fn table_layout() {
        let lines = table(
            &[
                row(
                    "amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                    &["default"],
                ),
                row(
                    "amazon-bedrock/a-very-long-model-identifier-that-does-not-fit-at-all",
                    &[],
                ),
            ],
            false,
        );
        insta::assert_snapshot!(lines.join("\n"), @r"
        Model                                                                Input      Ctx         Local Auth  Tags
        amazon-bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0          text+image 200k        no    yes   default
        amazon-bedrock/a-very-long-model-identifier-that-does-not-fit-at-all text+image 200k        no    yes
        ");
    }

    #[test]
    fn app_profiles_are_tagged_with_their_name_and_rows_carry_cost() {
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";
        let mut app = row(&format!("amazon-bedrock/{arn}"), &["app-profile"]);
        app.name = "team-search-sonnet".into();
        app.cost = Some(ModelCost {
            input: 3.0,
            output: 15.0,
            cache_read: 0.3,
            cache_write: 3.75,
        });
        let lines = table(&[app.clone()], false);
        assert!(
            lines[1].ends_with("app-profile: team-search-sonnet"),
            "{lines:?}"
        );
        let value = serde_json::to_value(app).unwrap();
        assert_eq!(
            value["cost"],
            json!({"input": 3.0, "output": 15.0, "cacheRead": 0.3, "cacheWrite": 3.75})
        );
    }

    #[test]
    fn durations() {
        assert_eq!(human_duration(Duration::from_secs(5)), "5s");
        assert_eq!(human_duration(Duration::from_secs(95)), "1m 35s");
        assert_eq!(human_duration(Duration::from_secs(7260)), "2h 1m");
    }
}
