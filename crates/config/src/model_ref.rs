//! `"provider/modelId"` model references.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Error;

/// The id of the Amazon Bedrock provider, `amazon-bedrock`: the provider of a bare model id
/// given where a model is named on the command line or in a request (see
/// [`ModelRef::parse_or_default_provider`]).
pub const BEDROCK_PROVIDER_ID: &str = "amazon-bedrock";

/// A reference to a model of a provider, written `"<provider>/<modelId>"`.
///
/// The text is split at the **first** `/`: everything after it, dots, colons and further
/// slashes included, is the model id (`amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0`).
/// A text starting with `arn:` is never split: an ARN contains `/` but names no provider
/// (`amazon-bedrock/arn:aws:bedrock:...` is the reference to a Bedrock ARN).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelRef {
    provider: String,
    model: String,
}

impl ModelRef {
    /// Builds a reference from its parts; both must be non-empty and the provider may not
    /// contain `/`.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Result<Self, Error> {
        let (provider, model) = (provider.into(), model.into());
        let input = format!("{provider}/{model}");
        if provider.contains('/') {
            return Err(Error::InvalidModelRef {
                input,
                reason: "the provider id may not contain `/`",
            });
        }
        check_parts(&input, &provider, &model)?;
        Ok(ModelRef { provider, model })
    }

    /// Parses a model named by a user: `<provider>/<modelId>`, or a bare Bedrock model id
    /// without a provider, which is a model of [`BEDROCK_PROVIDER_ID`] (as OpenClaw reads a
    /// bare id as a model of its default provider).
    ///
    /// A bare id has no `/` (`us.anthropic.claude-opus-4-6-v1:0`) or is an ARN: a text starting
    /// with `arn:` (`arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc`)
    /// is a Bedrock id as a whole, not split at its `/`.
    ///
    /// ```
    /// use openclaw_config::ModelRef;
    ///
    /// let bare = ModelRef::parse_or_default_provider("us.amazon.nova-pro-v1:0")?;
    /// assert_eq!(bare.to_string(), "amazon-bedrock/us.amazon.nova-pro-v1:0");
    /// let other = ModelRef::parse_or_default_provider("proxy/openai/gpt-4o")?;
    /// assert_eq!((other.provider(), other.model()), ("proxy", "openai/gpt-4o"));
    /// # Ok::<(), openclaw_config::Error>(())
    /// ```
    pub fn parse_or_default_provider(text: &str) -> Result<Self, Error> {
        if text.contains('/') && !is_arn(text) {
            text.parse()
        } else {
            ModelRef::new(BEDROCK_PROVIDER_ID, text)
        }
    }

    /// The provider id, for example `amazon-bedrock`.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The provider's model id, for example `us.anthropic.claude-opus-4-6-v1:0`.
    pub fn model(&self) -> &str {
        &self.model
    }
}

fn is_arn(text: &str) -> bool {
    text.trim_start().starts_with("arn:")
}

fn check_parts(input: &str, provider: &str, model: &str) -> Result<(), Error> {
    if provider.trim().is_empty() {
        return Err(Error::InvalidModelRef {
            input: input.to_string(),
            reason: "the provider id before `/` is empty",
        });
    }
    if model.trim().is_empty() {
        return Err(Error::InvalidModelRef {
            input: input.to_string(),
            reason: "the model id after `/` is empty",
        });
    }
    Ok(())
}

impl FromStr for ModelRef {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if is_arn(s) {
            return Err(Error::InvalidModelRef {
                input: s.to_string(),
                reason: "an ARN names no provider: write `amazon-bedrock/<arn>` for a Bedrock ARN",
            });
        }
        let Some((provider, model)) = s.split_once('/') else {
            return Err(Error::InvalidModelRef {
                input: s.to_string(),
                reason: "no `/` between provider and model id",
            });
        };
        check_parts(s, provider, model)?;
        Ok(ModelRef {
            provider: provider.to_string(),
            model: model.to_string(),
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

impl TryFrom<String> for ModelRef {
    type Error = Error;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<ModelRef> for String {
    fn from(value: ModelRef) -> Self {
        value.to_string()
    }
}

impl schemars::JsonSchema for ModelRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ModelRef".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A model reference `<provider>/<modelId>`, split at the first `/`, for example `amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0`. A Bedrock ARN is written `amazon-bedrock/arn:aws:bedrock:...`.",
            "type": "string",
            "pattern": "^(?!\\s*arn:)[^/]*[^/\\s][^/]*/.*\\S.*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_slash_and_keeps_dots_and_colons() {
        let r: ModelRef = "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0"
            .parse()
            .unwrap();
        assert_eq!(r.provider(), "amazon-bedrock");
        assert_eq!(r.model(), "us.anthropic.claude-opus-4-6-v1:0");
        assert_eq!(
            r.to_string(),
            "amazon-bedrock/us.anthropic.claude-opus-4-6-v1:0"
        );
        let r: ModelRef = "proxy/openai/gpt-4o".parse().unwrap();
        assert_eq!((r.provider(), r.model()), ("proxy", "openai/gpt-4o"));
    }

    #[test]
    fn rejects_missing_slash_and_empty_parts() {
        for (input, reason) in [
            ("claude", "no `/`"),
            ("/claude", "provider id before `/` is empty"),
            ("amazon-bedrock/", "model id after `/` is empty"),
            ("amazon-bedrock/  ", "model id after `/` is empty"),
        ] {
            let err = input.parse::<ModelRef>().unwrap_err().to_string();
            assert!(err.contains(reason), "{input}: {err}");
            assert!(err.contains(&format!("`{input}`")), "{input}: {err}");
        }
        assert!(ModelRef::new("a/b", "c").is_err());
        assert_eq!(ModelRef::new("a", "b:c").unwrap().to_string(), "a/b:c");
    }

    #[test]
    fn bare_model_ids_belong_to_bedrock() {
        let m = ModelRef::parse_or_default_provider("us.anthropic.claude-opus-4-6-v1:0").unwrap();
        assert_eq!(m.provider(), "amazon-bedrock");
        assert_eq!(m.model(), "us.anthropic.claude-opus-4-6-v1:0");
        let m = ModelRef::parse_or_default_provider("other/a/b").unwrap();
        assert_eq!((m.provider(), m.model()), ("other", "a/b"));
        assert!(ModelRef::parse_or_default_provider("/x").is_err());
        assert!(ModelRef::parse_or_default_provider("").is_err());
        assert!(ModelRef::parse_or_default_provider("  ").is_err());
    }

    #[test]
    fn an_arn_is_a_bare_bedrock_id_not_a_provider() {
        let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123";
        let m = ModelRef::parse_or_default_provider(arn).unwrap();
        assert_eq!((m.provider(), m.model()), (BEDROCK_PROVIDER_ID, arn));
        // With its provider, it is an ordinary reference.
        let full = format!("amazon-bedrock/{arn}");
        let m: ModelRef = full.parse().unwrap();
        assert_eq!((m.provider(), m.model()), (BEDROCK_PROVIDER_ID, arn));
        assert_eq!(ModelRef::parse_or_default_provider(&full).unwrap(), m);
        // Strictly parsed, a bare ARN is refused rather than split into a bogus provider.
        let err = arn.parse::<ModelRef>().unwrap_err().to_string();
        assert!(err.contains("write `amazon-bedrock/<arn>`"), "{err}");
    }

    #[test]
    fn serde_is_a_plain_string() {
        let r: ModelRef = serde_json::from_str("\"a/b.c\"").unwrap();
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"a/b.c\"");
        assert!(serde_json::from_str::<ModelRef>("\"ab\"").is_err());
    }
}
