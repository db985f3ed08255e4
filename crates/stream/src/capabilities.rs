//! Model capabilities as data: what the Converse adapter may send to each Bedrock model family.
//!
//! The table is `data/model-capabilities.json`, embedded at build time and parsed once. Its
//! `_about` field and each family's `source` record where every fact came from. Per family:
//! whether the Anthropic request-field dialect applies (`top_k`, `anthropic_beta`, the
//! `/stop_sequence` response field, replayable thinking signatures), prompt caching (the minimum
//! tokens per cache point and where points may go: system, messages, tools), the thinking style
//! (none, budget, adaptive) and its budget limits, the parameters Bedrock refuses for it, and
//! image and document support.
//!
//! Lookup ([`for_model`]) goes through the model's foundation model ([`base_model_id`]): the
//! definition's `baseModel` when set (an application inference profile's base model), else its
//! id with a cross-region prefix (`us.`, `eu.`, `global.` ...) removed and, for an ARN, the
//! resource id after the `/` (`foundation-model/<id>`, `inference-profile/<id>`). An
//! application-profile, provisioned or custom-model ARN without `baseModel` names no family: the
//! model is unknown and gets [`UNKNOWN`] (no cache points, no thinking fields, no
//! Anthropic-only fields), so Bedrock never refuses what the adapter adds.

use std::sync::LazyLock;

use openclaw_config::ModelDefinition;
use serde::Deserialize;

/// The embedded table, verbatim.
pub const CAPABILITIES_JSON: &str = include_str!("../data/model-capabilities.json");

/// What the adapter may send to one model family.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Capabilities {
    /// The family's name, for example `claude-sonnet-4-5` (`unknown` for
    /// [`UNKNOWN`]).
    pub family: String,
    /// Foundation-model id prefixes of the family.
    #[serde(rename = "match")]
    pub prefixes: Vec<String>,
    /// Whether a prefix matches any continuation (families with nothing to switch on), rather
    /// than only the end of the id, `:`, `-v<digit>` or `-<8-digit date>`.
    #[serde(default)]
    pub any_version: bool,
    /// Whether the Anthropic request-field dialect applies (`top_k`, `anthropic_beta`, thinking
    /// fields, the `/stop_sequence` response field, signed thinking replay).
    pub anthropic: bool,
    /// Prompt caching, `None` when the family has none.
    pub caching: Option<Caching>,
    /// Extended thinking.
    pub thinking: ThinkingCaps,
    /// Parameters Bedrock refuses for the family (not sent, with a log line).
    pub rejects: Vec<Rejected>,
    /// Whether the family takes image blocks; `None`: per model (the definition's `input`).
    pub images: Option<bool>,
    /// Whether the family takes document blocks.
    pub documents: bool,
    /// Where the facts come from (keys explained in the table's `_about`).
    pub source: String,
}

/// Prompt caching of a family.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Caching {
    /// The fewest tokens a cached segment must hold (Bedrock does not cache a shorter one).
    pub min_tokens: u32,
    /// Where cache points may go.
    pub fields: Vec<CacheField>,
}

/// A place a cache point may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheField {
    /// After system blocks.
    System,
    /// In message content.
    Messages,
    /// After the tool definitions.
    Tools,
}

/// Extended thinking of a family.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ThinkingCaps {
    /// How thinking is requested.
    pub style: ThinkingStyle,
    /// The smallest budget Bedrock accepts (0 when the style is `none`).
    #[serde(default)]
    pub min_budget: u32,
    /// The largest budget, when the family has one beyond its output limit.
    #[serde(default)]
    pub max_budget: Option<u32>,
    /// Whether the interleaved-thinking beta is requested with budgeted thinking.
    #[serde(default)]
    pub interleaved: bool,
}

/// How a family takes extended thinking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThinkingStyle {
    /// No thinking fields.
    None,
    /// `thinking: {type: enabled, budget_tokens}`.
    Budget,
    /// `thinking: {type: adaptive}` with `output_config.effort` (a budget is accepted too).
    Adaptive,
}

/// A parameter Bedrock refuses for a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rejected {
    /// `temperature` while thinking.
    TemperatureWithThinking,
    /// `top_k` while thinking.
    TopKWithThinking,
    /// `top_p` below 0.95 while thinking.
    TopPWithThinking,
    /// `temperature` and `top_p` together (the adapter keeps `temperature`).
    TemperatureWithTopP,
    /// `top_k` at all (the family has no such request field).
    TopK,
}

/// What a model the table does not know gets: no cache points, no thinking fields, no
/// Anthropic-only fields; images per the definition, documents sent (Bedrock decides).
pub static UNKNOWN: Capabilities = Capabilities {
    family: String::new(),
    prefixes: Vec::new(),
    any_version: false,
    anthropic: false,
    caching: None,
    thinking: ThinkingCaps {
        style: ThinkingStyle::None,
        min_budget: 0,
        max_budget: None,
        interleaved: false,
    },
    rejects: Vec::new(),
    images: None,
    documents: true,
    source: String::new(),
};

impl Capabilities {
    /// Whether Bedrock refuses `param` for this family.
    pub fn rejects(&self, param: Rejected) -> bool {
        self.rejects.contains(&param)
    }

    /// Whether cache points may go at `field`.
    pub fn caches(&self, field: CacheField) -> bool {
        self.caching
            .as_ref()
            .is_some_and(|c| c.fields.contains(&field))
    }

    /// Whether the family caches prompts at all.
    pub fn supports_caching(&self) -> bool {
        self.caching.is_some()
    }

    /// The minimum tokens per cached segment (0 without caching).
    pub fn min_cache_tokens(&self) -> u32 {
        self.caching.as_ref().map_or(0, |c| c.min_tokens)
    }

    fn matches(&self, id: &str) -> bool {
        self.prefixes.iter().any(|p| {
            let Some(rest) = id.strip_prefix(p.as_str()) else {
                return false;
            };
            self.any_version || version_boundary(rest)
        })
    }

    fn longest_match(&self, id: &str) -> usize {
        self.prefixes
            .iter()
            .filter(|p| id.starts_with(p.as_str()))
            .map(String::len)
            .max()
            .unwrap_or(0)
    }
}

/// Whether `rest` (what follows a strict prefix) starts a version suffix: nothing, `:`,
/// `-v<digit>` or `-<8-digit date>`.
fn version_boundary(rest: &str) -> bool {
    if rest.is_empty() || rest.starts_with(':') {
        return true;
    }
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    if let Some(v) = rest.strip_prefix('v') {
        return v.starts_with(|c: char| c.is_ascii_digit());
    }
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    digits == 8
}

#[derive(Deserialize)]
struct File {
    families: Vec<Capabilities>,
}

/// Parsed once; an unparsable table (a build defect the unit tests catch) is an empty table at
/// run time, so every model is unknown (conservative) rather than a panic.
static TABLE: LazyLock<Vec<Capabilities>> = LazyLock::new(|| {
    serde_json::from_str::<File>(CAPABILITIES_JSON)
        .map(|f| f.families)
        .unwrap_or_default()
});

/// Every family of the table.
pub fn families() -> &'static [Capabilities] {
    &TABLE
}

const GEO_PREFIXES: [&str; 9] = [
    "us.", "us-gov.", "eu.", "apac.", "au.", "jp.", "ca.", "global.", "ap.",
];

/// `id` without a cross-region prefix (`us.`, `eu.`, `apac.`, `global.` ...).
pub fn strip_geo(id: &str) -> &str {
    GEO_PREFIXES
        .iter()
        .find_map(|p| id.strip_prefix(p))
        .unwrap_or(id)
}

/// The foundation-model id a model id or ARN names, when it names one: an ARN's resource id
/// after the `/` (`arn:aws:bedrock:<region>:<account>:inference-profile/us.anthropic...` ->
/// `anthropic...`), a cross-region prefix removed. An application-profile, provisioned or
/// custom-model ARN gives its opaque resource id (no family matches it).
pub fn foundation_id(id: &str) -> &str {
    let resource = if id.starts_with("arn:") {
        id.split_once('/').map_or(id, |(_, r)| r)
    } else {
        id
    };
    strip_geo(resource)
}

/// The foundation model to look capabilities up by: the definition's `baseModel` when set (an
/// application profile's base model, an id or an ARN), else its id (see [`foundation_id`]).
pub fn base_model_id(model: &ModelDefinition) -> &str {
    foundation_id(model.base_model.as_deref().unwrap_or(&model.id))
}

/// The family of a foundation-model id (case-insensitive; the longest matching prefix wins).
pub fn lookup(id: &str) -> Option<&'static Capabilities> {
    let lower = id.to_ascii_lowercase();
    let id = foundation_id(&lower);
    TABLE
        .iter()
        .filter(|c| c.matches(id))
        .max_by_key(|c| c.longest_match(id))
}

/// The family of a model, through its base model ([`base_model_id`]); `None` when the table
/// does not know it.
pub fn for_model(model: &ModelDefinition) -> Option<&'static Capabilities> {
    lookup(base_model_id(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_parses_and_every_family_has_a_source() {
        let file: File = serde_json::from_str(CAPABILITIES_JSON).unwrap();
        assert_eq!(file.families.len(), families().len());
        for c in families() {
            assert!(!c.source.is_empty(), "{}", c.family);
            assert!(!c.prefixes.is_empty(), "{}", c.family);
            if c.thinking.style != ThinkingStyle::None {
                assert!(c.thinking.min_budget >= 1024, "{}", c.family);
            }
        }
    }

    #[test]
    fn lookups_go_through_profiles_arns_and_base_models() {
        let family = |id: &str| lookup(id).map(|c| c.family.as_str());
        assert_eq!(
            family("us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
            Some("claude-sonnet-4-5")
        );
        assert_eq!(
            family(
                "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-opus-4-6-v1:0"
            ),
            Some("claude-opus-4-6")
        );
        assert_eq!(
            family(
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0"
            ),
            Some("claude-3-7-sonnet")
        );
        assert_eq!(
            family("anthropic.claude-opus-4-20250514-v1:0"),
            Some("claude-opus-4")
        );
        assert_eq!(
            family("anthropic.claude-opus-4-1-20250805-v1:0"),
            Some("claude-opus-4-1")
        );
        assert_eq!(
            family("global.anthropic.claude-sonnet-4-6"),
            Some("claude-sonnet-4-6")
        );
        assert_eq!(family("US.AMAZON.NOVA-PRO-V1:0"), Some("nova"));
        assert_eq!(
            family("meta.llama3-70b-instruct-v1:0"),
            Some("open-weights")
        );
        // A newer version of a known family is unknown, not the older model.
        assert_eq!(family("anthropic.claude-opus-4-7-v1:0"), None);
        assert_eq!(family("anthropic.claude-sonnet-5-v1:0"), None);
        assert_eq!(
            family("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"),
            None
        );

        let mut app = ModelDefinition::new(
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
            "team",
        );
        assert!(for_model(&app).is_none());
        app.base_model = Some("anthropic.claude-haiku-4-5-20251001-v1:0".into());
        assert_eq!(
            for_model(&app).map(|c| c.family.as_str()),
            Some("claude-haiku-4-5")
        );
        assert_eq!(
            base_model_id(&app),
            "anthropic.claude-haiku-4-5-20251001-v1:0"
        );
    }

    #[test]
    fn facts_the_adapter_decides_with() {
        let sonnet = lookup("anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap();
        assert_eq!(sonnet.min_cache_tokens(), 1024);
        assert!(sonnet.caches(CacheField::Tools));
        assert!(sonnet.rejects(Rejected::TemperatureWithTopP));
        let nova = lookup("amazon.nova-lite-v1:0").unwrap();
        assert!(nova.caches(CacheField::System) && !nova.caches(CacheField::Tools));
        assert!(!nova.anthropic);
        let haiku3 = lookup("anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert!(!haiku3.supports_caching());
        assert_eq!(
            lookup("anthropic.claude-opus-4-6-v1")
                .unwrap()
                .thinking
                .style,
            ThinkingStyle::Adaptive
        );
        assert!(!UNKNOWN.supports_caching());
    }
}
