//! The known-limits table: facts about well-known Bedrock models.
//!
//! The data is `data/bedrock-known-models.json` (its `_about` field records the provenance: the
//! public model registry of pi-ai 0.73.1), embedded with `include_str!` and parsed once on first
//! use. Lookups are case-insensitive on the model id.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The embedded table, verbatim.
pub const KNOWN_MODELS_JSON: &str = include_str!("../data/bedrock-known-models.json");

/// What the table knows about one model id.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownModel {
    /// The model or inference-profile id.
    pub id: String,
    /// Whether the model supports extended thinking.
    pub reasoning: bool,
    /// Input modalities, `text` and/or `image`.
    pub input: Vec<String>,
    /// Context window in tokens.
    pub context_window: u64,
    /// Maximum output tokens.
    pub max_tokens: u64,
    /// On-demand list prices in USD per million tokens (absent: unknown).
    #[serde(default)]
    pub cost: Option<KnownCost>,
}

/// On-demand list prices of one model, USD per million tokens: AWS's public prices, which may
/// differ from what an account pays (discounts, private pricing, region).
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct KnownCost {
    /// Input tokens.
    pub input: f64,
    /// Output tokens.
    pub output: f64,
    /// Tokens read from the prompt cache.
    pub cache_read: f64,
    /// Tokens written to the prompt cache.
    pub cache_write: f64,
}

impl From<KnownCost> for openclaw_config::ModelCost {
    fn from(c: KnownCost) -> Self {
        openclaw_config::ModelCost {
            input: c.input,
            output: c.output,
            cache_read: c.cache_read,
            cache_write: c.cache_write,
        }
    }
}

#[derive(Deserialize)]
struct File {
    models: Vec<KnownModel>,
}

/// Parsed once; an unparsable table (a build defect caught by the unit tests) is an empty table
/// at runtime rather than a panic.
static TABLE: LazyLock<HashMap<String, KnownModel>> = LazyLock::new(|| {
    serde_json::from_str::<File>(KNOWN_MODELS_JSON)
        .map(|f| {
            f.models
                .into_iter()
                .map(|m| (m.id.to_ascii_lowercase(), m))
                .collect()
        })
        .unwrap_or_default()
});

/// Looks an id up (case-insensitively).
pub fn lookup(id: &str) -> Option<&'static KnownModel> {
    TABLE.get(&id.to_ascii_lowercase())
}

/// How many ids the table knows.
pub fn len() -> usize {
    TABLE.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_parses_and_keeps_its_provenance() {
        let raw: serde_json::Value = serde_json::from_str(KNOWN_MODELS_JSON).unwrap();
        assert!(raw["_about"].as_str().unwrap().contains("pi-ai"));
        let count = raw["models"].as_array().unwrap().len();
        assert_eq!(len(), count, "ids must be unique case-insensitively");
        assert!(len() >= 90);
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_profiles() {
        let m = lookup("US.Anthropic.Claude-Sonnet-4-20250514-v1:0").unwrap();
        assert_eq!(m.context_window, 200_000);
        assert_eq!(m.max_tokens, 64_000);
        assert!(m.reasoning);
        assert!(lookup("global.anthropic.claude-opus-4-6-v1").is_some());
        assert!(lookup("nope.model").is_none());
        let haiku = lookup("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        let cost = haiku.cost.unwrap();
        assert!(cost.input > 0.0 && cost.output > cost.input, "{cost:?}");
    }
}
