//! From raw listings to model definitions: the filtering, mapping, inheritance, de-duplication and
//! sort rules (all pure).

use std::collections::{BTreeSet, HashMap, HashSet};

use openclaw_config::{
    BedrockDiscoveryConfig, DEFAULT_CONTEXT_WINDOW, DEFAULT_MAX_TOKENS, InputModality, ModelCost,
    ModelDefinition,
};
use serde::Serialize;

use crate::filter::ProviderFilter;
use crate::known;
use crate::listing::{FoundationModel, InferenceProfile, Listing};

/// The options that shape how a listing becomes model definitions.
///
/// Two equal `MappingOptions` applied to the same listing give the same models.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingOptions {
    /// The normalised provider filter.
    pub provider_filter: ProviderFilter,
    /// Context window for models the known-limits table does not know (never 0).
    pub default_context_window: u32,
    /// Maximum output tokens for models the known-limits table does not know (never 0).
    pub default_max_tokens: u32,
}

impl Default for MappingOptions {
    fn default() -> Self {
        Self::new(ProviderFilter::default(), 0, 0)
    }
}

impl MappingOptions {
    /// Options from a filter and the configured defaults; a non-positive default falls back to
    /// 32000 (context window) or 4096 (max tokens), as OpenClaw does.
    pub fn new(provider_filter: ProviderFilter, context_window: u32, max_tokens: u32) -> Self {
        Self {
            provider_filter,
            default_context_window: positive_or(context_window, DEFAULT_CONTEXT_WINDOW),
            default_max_tokens: positive_or(max_tokens, DEFAULT_MAX_TOKENS),
        }
    }

    /// Options from the effective discovery configuration.
    pub fn from_config(config: &BedrockDiscoveryConfig) -> Self {
        Self::new(
            ProviderFilter::new(&config.provider_filter),
            config.default_context_window,
            config.default_max_tokens,
        )
    }
}

fn positive_or(value: u32, fallback: u32) -> u32 {
    if value == 0 { fallback } else { value }
}

fn eq_ci(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// Whether a foundation model can back a chat model at all: non-empty id, streaming, TEXT output,
/// lifecycle ACTIVE. (Whether it may be listed by its bare id is [`invocable_on_demand`].)
pub fn usable(model: &FoundationModel) -> bool {
    !model.model_id.trim().is_empty()
        && model.response_streaming_supported == Some(true)
        && model.output_modalities.iter().any(|m| eq_ci(m, "TEXT"))
        && model
            .lifecycle_status
            .as_deref()
            .is_some_and(|s| eq_ci(s, "ACTIVE"))
}

/// Whether the model may be invoked by its bare id: `inferenceTypesSupported` contains
/// `ON_DEMAND`. An absent or empty list counts as on-demand (AWS always sends the list; older
/// fakes and mocks do not), which is what OpenClaw assumes for every model.
pub fn invocable_on_demand(model: &FoundationModel) -> bool {
    model.inference_types_supported.is_empty()
        || model
            .inference_types_supported
            .iter()
            .any(|t| eq_ci(t, "ON_DEMAND"))
}

fn input_of(model: &FoundationModel) -> Vec<InputModality> {
    let mut set = BTreeSet::new();
    for m in &model.input_modalities {
        if eq_ci(m, "TEXT") {
            set.insert(InputModality::Text);
        } else if eq_ci(m, "IMAGE") {
            set.insert(InputModality::Image);
        }
    }
    if set.is_empty() {
        // Nothing usable reported: the table if it knows the model, else text.
        if let Some(k) = known::lookup(&model.model_id) {
            set.extend(k.input.iter().filter_map(|i| match i.as_str() {
                "text" => Some(InputModality::Text),
                "image" => Some(InputModality::Image),
                _ => None,
            }));
        }
        set.insert(InputModality::Text);
    }
    set.into_iter().collect()
}

fn name_of(model: &FoundationModel) -> String {
    model
        .model_name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(model.model_id.trim())
        .to_string()
}

/// Limits, reasoning and list prices for an id: the first of `ids` the table knows, else the
/// defaults, `reasoning: false` and no price (zero, OpenClaw's "unknown").
fn limits(ids: &[&str], options: &MappingOptions) -> (u32, u32, bool, ModelCost) {
    match ids.iter().find_map(|id| known::lookup(id)) {
        Some(k) => (
            clamp(k.context_window, options.default_context_window),
            clamp(k.max_tokens, options.default_max_tokens),
            k.reasoning,
            k.cost.map(ModelCost::from).unwrap_or_default(),
        ),
        None => (
            options.default_context_window,
            options.default_max_tokens,
            false,
            ModelCost::default(),
        ),
    }
}

fn clamp(value: u64, fallback: u32) -> u32 {
    match u32::try_from(value) {
        Ok(0) => fallback,
        Ok(v) => v,
        Err(_) => u32::MAX,
    }
}

fn foundation_definition(model: &FoundationModel, options: &MappingOptions) -> ModelDefinition {
    let id = model.model_id.trim();
    let (context_window, max_tokens, reasoning, cost) = limits(&[id], options);
    ModelDefinition {
        id: id.to_string(),
        name: name_of(model),
        reasoning,
        input: input_of(model),
        cost,
        context_window,
        max_tokens,
        ..ModelDefinition::new(id, "")
    }
}

/// The geographic scope of a profile id over its base id: `us` for
/// `us.anthropic.claude-…` over `anthropic.claude-…`.
fn scope_label(profile_id: &str, base_id: &str) -> Option<String> {
    let lower = profile_id.to_ascii_lowercase();
    let suffix = format!(".{}", base_id.to_ascii_lowercase());
    let scope = lower.strip_suffix(&suffix)?;
    if scope.is_empty() {
        return None;
    }
    Some(if scope == "global" {
        "Global".to_string()
    } else {
        scope.to_ascii_uppercase()
    })
}

fn profile_definition(
    profile: &InferenceProfile,
    base: &FoundationModel,
    options: &MappingOptions,
) -> ModelDefinition {
    let base_id = base.model_id.trim();
    if profile.is_application() {
        return application_definition(profile, base_id, Some(base), options);
    }
    let id = profile.inference_profile_id.trim();
    let base_name = name_of(base);
    let name = match scope_label(id, base_id) {
        Some(scope) => format!("{base_name} ({scope})"),
        None => base_name,
    };
    let (context_window, max_tokens, reasoning, cost) = limits(&[id, base_id], options);
    ModelDefinition {
        id: id.to_string(),
        name,
        reasoning,
        input: input_of(base),
        cost,
        context_window,
        max_tokens,
        ..ModelDefinition::new(id, "")
    }
}

/// An application profile as a model: its ARN as id, its own name (the team's label), the base
/// model's traits (from `base` when listed, else the known table by `base_id`), and
/// `baseModel` set so capabilities are decided by the base model.
pub fn application_definition(
    profile: &InferenceProfile,
    base_id: &str,
    base: Option<&FoundationModel>,
    options: &MappingOptions,
) -> ModelDefinition {
    let id = profile.invocation_id();
    let name = Some(profile.inference_profile_name.trim())
        .filter(|n| !n.is_empty())
        .unwrap_or(id);
    let (context_window, max_tokens, reasoning, cost) = limits(&[base_id], options);
    let input = match base {
        Some(base) => input_of(base),
        None => input_of(&FoundationModel {
            model_id: base_id.to_string(),
            ..FoundationModel::default()
        }),
    };
    ModelDefinition {
        id: id.to_string(),
        name: name.to_string(),
        reasoning,
        input,
        cost,
        context_window,
        max_tokens,
        base_model: Some(base_id.to_string()),
        ..ModelDefinition::new(id, "")
    }
}

/// Turns a listing into the discovered models.
///
/// Rules, in order:
/// 1. A foundation model is *usable* when its id is non-empty, it streams, it outputs TEXT and
///    its lifecycle is ACTIVE ([`usable`]); it must also pass the provider filter.
/// 2. A usable model is listed by its bare id only when it can be invoked ON_DEMAND
///    ([`invocable_on_demand`]); a profile-only model is reachable through its profiles.
/// 3. An inference profile is listed when its status is ACTIVE and its base model (the first
///    `models[].modelArn` of shape `…/foundation-model/<id>`) is a usable model that passes the
///    filter (the filter applies to the base model's provider, not the `us.` prefix). It
///    inherits the base model's input modalities, reasoning, limits and prices. A system
///    profile is named after its base model with its scope (`Claude Sonnet 4 (US)`); an
///    `APPLICATION` profile (user-made, for cost allocation) is listed by its ARN (the only name
///    Bedrock invokes it by) under its own name, with `baseModel` set to the base model id. A
///    profile whose base model is not listed is skipped: nothing says it streams text.
/// 4. Mapping: `name` = `modelName` (fallback id); `input` = the text/image subset of
///    `inputModalities` (empty → the table's, else text); `contextWindow`/`maxTokens`/
///    `reasoning` and `cost` (on-demand list prices per million tokens) from the known-models
///    table (profile id first, then base id), else the configured defaults, `reasoning: false`
///    and a zero cost (OpenClaw's "unknown").
/// 5. Ids are de-duplicated case-insensitively, the first kept (foundation models before
///    profiles, each in listing order).
/// 6. Sorted by name (case-insensitively), ties by id (case-insensitively, then exactly), so the
///    order is total and stable across runs.
pub fn build_models(listing: &Listing, options: &MappingOptions) -> Vec<ModelDefinition> {
    let filter = &options.provider_filter;
    let passes = |m: &FoundationModel| {
        usable(m) && filter.matches(m.provider_name.as_deref(), m.model_id.trim())
    };

    let mut bases: HashMap<String, &FoundationModel> = HashMap::new();
    let mut out = Vec::new();
    for model in listing.foundation_models.iter().filter(|m| passes(m)) {
        bases
            .entry(model.model_id.trim().to_ascii_lowercase())
            .or_insert(model);
        if invocable_on_demand(model) {
            out.push(foundation_definition(model, options));
        }
    }

    for profile in &listing.inference_profiles {
        if profile.invocation_id().is_empty() || !eq_ci(&profile.status, "ACTIVE") {
            continue;
        }
        let Some(base) = profile
            .base_model_id()
            .and_then(|id| bases.get(&id.trim().to_ascii_lowercase()))
        else {
            continue;
        };
        out.push(profile_definition(profile, base, options));
    }

    let mut seen = HashSet::new();
    out.retain(|m| seen.insert(m.id.to_ascii_lowercase()));
    sort_models(&mut out);
    out
}

/// The documented order: name case-insensitively, then id case-insensitively, then exactly.
pub fn sort_models(models: &mut [ModelDefinition]) {
    models.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then_with(|| a.id.to_ascii_lowercase().cmp(&b.id.to_ascii_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
}

#[cfg(test)]
#[path = "map_tests.rs"]
mod tests;
