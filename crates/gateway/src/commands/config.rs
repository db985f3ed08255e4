//! `openclaw config get|set|unset|file|validate|schema`, over `openclaw-config`'s editor.

use openclaw_config::{ConfigDocument, ValueMode};
use serde_json::Value;

use crate::cli::ConfigCommand;
use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure, WithKind};

/// Keys whose values are secrets: `config get` shows them redacted.
const SECRET_KEYS: &[&str] = &["apiKey", "token", "secretAccessKey", "sessionToken"];

/// Runs a `config` subcommand.
pub fn run(ctx: &Context, command: &ConfigCommand) -> CmdResult {
    let path = &ctx.config_path;
    match command {
        ConfigCommand::Get { path: key } => {
            let doc = ConfigDocument::load(path)?;
            match doc.get(key)? {
                Some(value) => {
                    let last = key.rsplit(['.', '[']).next().unwrap_or_default();
                    let last = last.trim_matches(|c| c == '"' || c == ']');
                    let value = if SECRET_KEYS.contains(&last) && !value.is_object() {
                        Value::String("<redacted>".into())
                    } else {
                        redact(value)
                    };
                    let text = render_value(&value);
                    ctx.out.line(&text);
                    Ok(())
                }
                None => Err(Failure::new(
                    ExitKind::Other,
                    format!("`{key}` is not set in {}", path.display()),
                )),
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
            doc.set(key, value, mode)?;
            doc.save()?;
            ctx.out
                .line(&format!("Updated {key} in {}", path.display()));
            Ok(())
        }
        ConfigCommand::Unset { path: key } => {
            let mut doc = ConfigDocument::load(path)?;
            if doc.unset(key)? {
                doc.save()?;
                ctx.out
                    .line(&format!("Removed {key} from {}", path.display()));
            } else {
                ctx.out
                    .line(&format!("{key} was not set in {}", path.display()));
            }
            Ok(())
        }
        ConfigCommand::File => {
            ctx.out.line(&path.display().to_string());
            Ok(())
        }
        ConfigCommand::Validate => {
            ctx.load_config()?;
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

/// A value for `config get`: strings bare (scriptable), everything else as pretty JSON.
fn render_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other)
            .kind(ExitKind::Other)
            .unwrap_or_default(),
    }
}

/// Replaces the values of secret keys with `<redacted>`.
fn redact(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    if SECRET_KEYS.contains(&k.as_str()) && !v.is_object() {
                        (k, Value::String("<redacted>".into()))
                    } else {
                        (k, redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(redact).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_get() {
        let value = serde_json::json!({"auth": {"token": "s3cret"}, "apiKey": "k", "port": 1});
        let text = render_value(&redact(value));
        assert!(!text.contains("s3cret"));
        assert!(text.contains("<redacted>"));
        assert!(text.contains("\"port\": 1"));
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
