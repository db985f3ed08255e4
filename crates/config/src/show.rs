//! Showing a configuration: values with their secrets redacted, and a "did you mean" for a key
//! that is not set.

use serde_json::Value;

use crate::{ConfigDocument, Error, KeyPath, Segment};

/// Keys whose values are secrets, wherever they are in the file.
const SECRET_KEYS: &[&str] = &["apiKey", "token", "secretAccessKey", "sessionToken"];

/// What a secret value is shown as.
pub const REDACTED: &str = "<redacted>";

impl ConfigDocument {
    /// The value at a key path, as [`ConfigDocument::get`], with every secret (a string or
    /// number under `apiKey`, `token`, `secretAccessKey` or `sessionToken`, the path's own
    /// last key included) replaced by [`REDACTED`]: what a command may print.
    pub fn get_redacted(&self, path: &str) -> Result<Option<Value>, Error> {
        let Some(value) = self.get(path)? else {
            return Ok(None);
        };
        let key_path: KeyPath = path.parse()?;
        // The last key names what the value is: `token[0]` is an element of a secret.
        let last_key = key_path.segments().iter().rev().find_map(|s| match s {
            Segment::Key(k) => Some(k),
            _ => None,
        });
        let keys: Vec<&str> = key_path
            .segments()
            .iter()
            .filter_map(|s| match s {
                Segment::Key(k) => Some(k.as_str()),
                Segment::Index(_) => None,
            })
            .collect();
        let secret = last_key.is_some_and(|k| SECRET_KEYS.contains(&k.as_str()))
            || keys.starts_with(&SECRET_PARENT);
        Ok(Some(if secret && !value.is_object() {
            Value::String(REDACTED.into())
        } else {
            redact(value, &keys)
        }))
    }

    /// For a key path that is not set: a key of the same object in the file spelt nearly the
    /// same, as a key path (`models.bedrockDiscovery.regoin` gives
    /// `models.bedrockDiscovery.region`). At the root, the modelled sections that are set.
    pub fn similar_key(&self, path: &str) -> Option<String> {
        let path: KeyPath = path.parse().ok()?;
        let Some(Segment::Key(last)) = path.last() else {
            return None;
        };
        let parent = path.parent()?;
        // The root is not a key path `get` accepts: there, the modelled sections that are set.
        let keys: Vec<String> = if parent.is_root() {
            ["models", "agents", "gateway", "plugins"]
                .into_iter()
                .filter(|k| self.get(k).ok().flatten().is_some())
                .map(String::from)
                .collect()
        } else {
            match self.get(&parent.to_string()).ok().flatten()? {
                Value::Object(map) => map.keys().cloned().collect(),
                _ => return None,
            }
        };
        // The same rule as the "did you mean" of an unknown key when a file is loaded.
        let best = crate::parse::suggest(last, &keys)?;
        Some(parent.key(best).to_string())
    }
}

/// Where a token written one level too high sits (`gateway: { auth: "<token>" }`, an invalid
/// file that `get` still shows): a value there that is not an object is a secret too.
const SECRET_PARENT: [&str; 2] = ["gateway", "auth"];

/// Replaces the values of secret keys with [`REDACTED`]; `at` is the value's key path (its
/// keys, indices left out).
fn redact(value: Value, at: &[&str]) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut path = at.to_vec();
                    path.push(k.as_str());
                    let secret = SECRET_KEYS.contains(&k.as_str()) || path[..] == SECRET_PARENT[..];
                    let v = if secret && !v.is_object() {
                        Value::String(REDACTED.into())
                    } else {
                        redact(v, &path)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| redact(v, at)).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_written_one_level_too_high_is_redacted_in_get() {
        let doc =
            ConfigDocument::from_text(r#"{gateway: {auth: "sk-live-123", port: 1}}"#).unwrap();
        for path in ["gateway.auth", "gateway", "gateway.port"] {
            let text = doc.get_redacted(path).unwrap().unwrap().to_string();
            assert!(!text.contains("sk-live-123"), "{path}: {text}");
        }
        assert_eq!(
            doc.get_redacted("gateway").unwrap().unwrap()["auth"],
            REDACTED
        );
        // A provider's `auth` is a mode, not a secret.
        let doc =
            ConfigDocument::from_text(r#"{models: {providers: {p: {auth: "aws-sdk"}}}}"#).unwrap();
        assert_eq!(
            doc.get_redacted("models.providers.p").unwrap().unwrap()["auth"],
            "aws-sdk"
        );
    }

    #[test]
    fn secrets_are_redacted_in_get() {
        let doc = ConfigDocument::from_text(
            r#"{gateway: {auth: {token: "s3cret"}, port: 1},
                models: {providers: {p: {apiKey: "k", models: []}}}}"#,
        )
        .unwrap();
        let text = doc.get_redacted("gateway").unwrap().unwrap().to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains(REDACTED), "{text}");
        assert!(text.contains("\"port\":1"), "{text}");
        let key = doc.get_redacted("models.providers.p.apiKey").unwrap();
        assert_eq!(key, Some(Value::String(REDACTED.into())));
        // An element of a secret array, asked for by its index.
        let arrays =
            ConfigDocument::from_text(r#"{plugins: {x: {token: ["t0ken", "t1"]}}}"#).unwrap();
        let element = arrays.get_redacted("plugins.x.token[0]").unwrap();
        assert_eq!(element, Some(Value::String(REDACTED.into())));
        let all = arrays
            .get_redacted("plugins.x.token")
            .unwrap()
            .unwrap()
            .to_string();
        assert!(!all.contains("t0ken"), "{all}");
        let whole = doc.get_redacted("models").unwrap().unwrap().to_string();
        assert!(!whole.contains("\"k\""), "{whole}");
        assert_eq!(doc.get_redacted("gateway.bind").unwrap(), None);
    }

    #[test]
    fn unset_keys_suggest_a_sibling() {
        let doc = ConfigDocument::from_text(
            "{models: {bedrockDiscovery: {region: 'us-east-1'}}, channels: {}}",
        )
        .unwrap();
        assert_eq!(
            doc.similar_key("models.bedrockDiscovery.regoin").as_deref(),
            Some("models.bedrockDiscovery.region")
        );
        assert_eq!(doc.similar_key("modles").as_deref(), Some("models"));
        assert_eq!(doc.similar_key("models.bedrockDiscovery.enabled"), None);
        assert_eq!(doc.similar_key("nothing.here"), None);
    }
}
