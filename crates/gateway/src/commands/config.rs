//! `openclaw config get|set|unset|file|validate|schema`, over `openclaw-config`'s editor.

use std::path::Path;

use openclaw_config::{Config, ConfigDocument, KeyPath, ValueMode};
use serde_json::Value;

use crate::cli::ConfigCommand;
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure, WithKind};

/// Runs a `config` subcommand.
pub fn run(ctx: &Context, command: &ConfigCommand) -> CmdResult {
    let path = &ctx.config_path;
    match command {
        ConfigCommand::Get { path: key } => {
            let doc = ConfigDocument::load(path)?;
            match doc.get_redacted(key)? {
                Some(value) => {
                    let text = render_value(&value);
                    ctx.out.line(&text);
                    Ok(())
                }
                None => {
                    let hint = doc
                        .similar_key(key)
                        .map(|k| format!(", did you mean `{k}`?"))
                        .unwrap_or_default();
                    Err(Failure::new(
                        ExitKind::Other,
                        format!("`{key}` is not set in {}{hint}", path.display()),
                    ))
                }
            }
        }
        ConfigCommand::Set {
            path: key,
            value,
            strict_json,
        } => {
            let mut doc = ConfigDocument::load(path)?;
            let mode = if *strict_json {
                ValueMode::StrictJson
            } else {
                ValueMode::Json5WithStringFallback
            };
            doc.set(key, value, mode)
                .map_err(|err| strict_json_hint(err, *strict_json))?;
            // The regions are plain strings to the configuration crate: checked here so a typo
            // is refused now rather than by the next `models` or `chat`.
            check_regions(&doc.config()?, path)?;
            doc.save()?;
            ctx.out.line(&format!(
                "Updated {} in {}",
                edited(&doc, key),
                path.display()
            ));
            Ok(())
        }
        ConfigCommand::Unset { path: key } => {
            let mut doc = ConfigDocument::load(path)?;
            let where_ = edited(&doc, key);
            if doc.unset(key)? {
                doc.save()?;
                ctx.out
                    .line(&format!("Removed {where_} from {}", path.display()));
            } else {
                ctx.out
                    .line(&format!("{key} was not set in {}", path.display()));
                // A typo removes nothing and succeeds: the key meant, as `get` names it.
                if let Some(similar) = doc.similar_key(key) {
                    ctx.out.hint(&format!("did you mean `{similar}`?"));
                }
            }
            Ok(())
        }
        ConfigCommand::File => {
            ctx.out.line(&path.display().to_string());
            Ok(())
        }
        ConfigCommand::Validate => {
            let config = ctx.load_config()?;
            check_regions(&config, path)?;
            // The gateway's settings as `openclaw gateway` checks them, from the file alone.
            crate::commands::gateway::check_file(&config, path)?;
            let note = if path.exists() {
                "valid"
            } else {
                "does not exist (an empty configuration, which is valid)"
            };
            ctx.out.line(&format!("{}: {note}", path.display()));
            Ok(())
        }
        ConfigCommand::Schema => {
            let schema = openclaw_config::schema::json_schema_string();
            ctx.out.line(schema.trim_end());
            Ok(())
        }
    }
}

/// `--strict-json` refuses a bare word: say how to pass a string.
fn strict_json_hint(err: openclaw_config::Error, strict_json: bool) -> Failure {
    if strict_json && matches!(err, openclaw_config::Error::InvalidValue { .. }) {
        return Failure::new(
            ExitKind::Config,
            format!("{err}; with --strict-json a string needs JSON quotes, e.g. '\"us-east-1\"'"),
        );
    }
    Failure::from(err)
}

/// The regions the file sets, checked as `models status` and `chat` would check them (the
/// configuration crate keeps them as plain strings), so `validate` does not pass a file those
/// commands then refuse.
fn check_regions(config: &Config, path: &Path) -> CmdResult {
    let discovery = config.bedrock_discovery();
    let providers = config.models.providers.iter().map(|(id, p)| {
        let key = KeyPath::root()
            .key("models")
            .key("providers")
            .key(id.clone());
        (key.key("region").to_string(), p.region.as_deref())
    });
    let all = std::iter::once((
        "models.bedrockDiscovery.region".to_string(),
        discovery.region.as_deref(),
    ))
    .chain(providers);
    for (key, region) in all {
        let Some(region) = region.map(str::trim).filter(|r| !r.is_empty()) else {
            continue;
        };
        if !openclaw_creds::is_valid_region(region) {
            return Err(Failure::new(
                ExitKind::Config,
                format!(
                    "{}: `{key}`: invalid region \"{region}\": expected an AWS region such as `us-east-1`",
                    path.display()
                ),
            ));
        }
    }
    Ok(())
}

/// A value for `config get`: strings bare (scriptable), everything else as pretty JSON.
fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other)
            .kind(ExitKind::Other)
            .unwrap_or_default(),
    }
}

/// The key an edit of `key` went to: itself, or where the file keeps the discovery settings
/// (`models.bedrockDiscovery` and `plugins.entries.amazon-bedrock.config.discovery` are one
/// setting; see `ConfigDocument::edit_paths`).
fn edited(doc: &ConfigDocument, key: &str) -> String {
    match doc.edit_paths(key) {
        Ok(paths) if paths.len() == 1 && paths[0] == key => key.to_string(),
        Ok(paths) if !paths.is_empty() => format!("{key} (as {})", paths.join(" and ")),
        _ => key.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validate_checks_configured_regions() {
        let path = Path::new("openclaw.json");
        let ok = Config::from_text("{models: {bedrockDiscovery: {region: 'eu-west-3'}}}").unwrap();
        assert!(check_regions(&ok, path).is_ok());
        let bad =
            Config::from_text("{models: {bedrockDiscovery: {region: 'not-a-region'}}}").unwrap();
        let err = check_regions(&bad, path).unwrap_err();
        assert_eq!(err.kind, ExitKind::Config);
        let text = err.error.to_string();
        assert!(text.contains("`models.bedrockDiscovery.region`"), "{text}");
        let provider = Config::from_text("{models: {providers: {b: {region: 'EU'}}}}").unwrap();
        let text = check_regions(&provider, path)
            .unwrap_err()
            .error
            .to_string();
        assert!(text.contains("`models.providers.b.region`"), "{text}");
    }

    #[test]
    fn strict_json_failures_say_how_to_quote() {
        let mut doc = ConfigDocument::from_text("{}").unwrap();
        let err = doc
            .set(
                "models.bedrockDiscovery.region",
                "abc",
                ValueMode::StrictJson,
            )
            .unwrap_err();
        let failure = strict_json_hint(err, true);
        assert_eq!(failure.kind, ExitKind::Config);
        assert!(failure.error.to_string().contains("needs JSON quotes"));
        let err = doc.set("a..b", "1", ValueMode::StrictJson).unwrap_err();
        assert!(
            !strict_json_hint(err, true)
                .error
                .to_string()
                .contains("quotes")
        );
    }

    #[test]
    fn strings_print_bare() {
        assert_eq!(
            render_value(&Value::String("us-east-1".into())),
            "us-east-1"
        );
        assert_eq!(render_value(&Value::Bool(true)), "true");
    }
}
