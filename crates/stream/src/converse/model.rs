//! Per-model rules, decided from the capabilities table ([`crate::capabilities`]) through the
//! model's base model (profiles and ARNs as their foundation model), plus the configured limits.
//!
//! Rules (pi-ai's, with the differences noted):
//! - **Anthropic dialect** (`top_k`, `anthropic_beta`, thinking fields, signed thinking replay,
//!   the `/stop_sequence` response field): the family's `anthropic` flag.
//! - **Prompt caching**: the family's `caching` (minimum tokens per cache point, the fields
//!   that take one). pi-ai also turns caching on for a model with a configured cache price; a
//!   price does not here (Bedrock refuses cache points on a model without caching).
//! - **Unknown models** (no family matches the base model): no cache points, no thinking fields,
//!   no Anthropic-only fields, and a warning once per model id.
//! - **Adaptive thinking** (families with style `adaptive`: Claude Opus 4.6 and Sonnet 4.6) get
//!   `thinking: {type: adaptive}` plus `output_config.effort`; pi-ai 0.73 covers only Opus 4.6.
//! - **Budgeted thinking** (style `budget`, with `reasoning: true` in the definition): budget per
//!   level minimal 1024, low 2048, medium 8192, high 16384, xhigh 16384 (pi-ai's table: Claude
//!   has no level above high); `maxTokens` becomes `min(base + budget, model.maxTokens)`, and
//!   when that leaves no room the budget shrinks to `maxTokens - 1024`; below the family's
//!   minimum budget, thinking is left off. The `interleaved-thinking-2025-05-14` beta is
//!   requested where the family takes it (Claude 4 models; pi-ai requests it for Claude 3.7
//!   Sonnet too, which has no interleaved thinking).
//! - **Explicit budgets** (`StreamRequest::thinking`, overriding the level): `Tokens(n)` with
//!   a requested `maxTokens` above `n` keeps that total (Anthropic's meaning: the total includes
//!   the budget), capped at the model's limit; otherwise it is budgeted thinking with budget
//!   `n`, fitted like a level's budget (adaptive-thinking models included: they accept a
//!   budget); `Adaptive` is `thinking: {type: adaptive}` without an effort on adaptive-thinking
//!   models, the medium level's budget on the others. Both need a thinking family and
//!   `reasoning: true`, like the levels.
//! - **Model family** (for replaying signatures and redacted thinking): the same foundation
//!   model id once a cross-region prefix (`us.`, `eu.`, `apac.`, `global.` ...) and an ARN's
//!   prefix are removed, so a signature made by `us.anthropic.claude-sonnet-4-5-...` is
//!   replayed to `eu.anthropic.claude-sonnet-4-5-...` (pi-ai requires the identical id).

use std::collections::HashSet;
use std::sync::Mutex;

use openclaw_config::ModelDefinition;

use crate::capabilities::{self, Capabilities, ThinkingStyle, UNKNOWN};
use crate::types::{ReasoningLevel, ThinkingBudget};

/// Model ids already warned about as unknown to the capabilities table.
static WARNED_UNKNOWN: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// The capabilities of `model` (through its base model); [`UNKNOWN`] when the table does not
/// know it, with a warning once per model id.
pub(crate) fn caps(model: &ModelDefinition) -> &'static Capabilities {
    if let Some(c) = capabilities::for_model(model) {
        return c;
    }
    let mut warned = WARNED_UNKNOWN.lock().unwrap_or_else(|p| p.into_inner());
    if warned
        .get_or_insert_with(HashSet::new)
        .insert(model.id.clone())
    {
        tracing::warn!(
            model = %model.id,
            base_model = %capabilities::base_model_id(model),
            "model unknown to the capabilities table: no prompt cache points and no thinking fields are sent (set baseModel to a known foundation model to enable them)"
        );
    }
    &UNKNOWN
}

/// pi-ai's default output budget when the request sets none: `min(model.maxTokens, 32000)`.
pub(crate) const DEFAULT_MAX_TOKENS_CAP: u32 = 32_000;
/// Claude's smallest thinking budget, and the output room kept when the budget must shrink.
pub(crate) const MIN_THINKING_BUDGET: u32 = 1024;

/// How the request asks for extended thinking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Thinking {
    /// No thinking fields.
    Off {
        /// maxTokens to send.
        max_tokens: u32,
    },
    /// `thinking: {type: enabled, budget_tokens}`.
    Budget {
        /// maxTokens to send (budget included).
        max_tokens: u32,
        /// The budget.
        budget_tokens: u32,
        /// Whether to request interleaved thinking.
        interleaved: bool,
    },
    /// `thinking: {type: adaptive}` and `output_config.effort`.
    Adaptive {
        /// maxTokens to send.
        max_tokens: u32,
        /// `low`, `medium`, `high` or `max`; none for an explicit adaptive request (the
        /// model's default effort, or the caller's `output_config`).
        effort: Option<&'static str>,
    },
}

impl Thinking {
    /// The maxTokens to send.
    pub(crate) fn max_tokens(&self) -> u32 {
        match self {
            Thinking::Off { max_tokens }
            | Thinking::Budget { max_tokens, .. }
            | Thinking::Adaptive { max_tokens, .. } => *max_tokens,
        }
    }
}

/// Whether Bedrock accepts cache points for this model.
#[cfg(test)]
pub(crate) fn supports_caching(model: &ModelDefinition) -> bool {
    caps(model).supports_caching()
}

/// The thinking budget for a level (`None` for `Off`).
pub(crate) fn budget(level: ReasoningLevel) -> Option<u32> {
    match level {
        ReasoningLevel::Off => None,
        ReasoningLevel::Minimal => Some(1024),
        ReasoningLevel::Low => Some(2048),
        ReasoningLevel::Medium => Some(8192),
        ReasoningLevel::High | ReasoningLevel::XHigh => Some(16384),
    }
}

fn effort(level: ReasoningLevel) -> &'static str {
    match level {
        ReasoningLevel::Off | ReasoningLevel::Minimal | ReasoningLevel::Low => "low",
        ReasoningLevel::Medium => "medium",
        ReasoningLevel::High => "high",
        ReasoningLevel::XHigh => "max",
    }
}

/// Decides the thinking fields and maxTokens for a request.
pub(crate) fn thinking(
    model: &ModelDefinition,
    level: ReasoningLevel,
    requested_max: Option<u32>,
) -> Thinking {
    let base = base_max_tokens(model, requested_max);
    let caps = caps(model);
    let Some(budget) = budget(level).filter(|_| thinks(model, caps)) else {
        return Thinking::Off { max_tokens: base };
    };
    if caps.thinking.style == ThinkingStyle::Adaptive {
        return Thinking::Adaptive {
            max_tokens: base,
            effort: Some(effort(level)),
        };
    }
    budgeted(model, caps, base, budget)
}

/// Decides the thinking fields and maxTokens for a request with an explicit budget, which
/// overrides the level; `None` falls back to the level.
pub(crate) fn thinking_for(
    model: &ModelDefinition,
    explicit: Option<ThinkingBudget>,
    level: ReasoningLevel,
    requested_max: Option<u32>,
) -> Thinking {
    let base = base_max_tokens(model, requested_max);
    let caps = caps(model);
    match explicit {
        None => thinking(model, level, requested_max),
        Some(_) if !thinks(model, caps) => Thinking::Off { max_tokens: base },
        Some(ThinkingBudget::Adaptive) if caps.thinking.style == ThinkingStyle::Adaptive => {
            Thinking::Adaptive {
                max_tokens: base,
                effort: None,
            }
        }
        Some(ThinkingBudget::Adaptive) => thinking(model, ReasoningLevel::Medium, requested_max),
        // Anthropic's semantics: a client that sets both sends a total `max_tokens` above the
        // budget, and that total is kept (within the model's limit) rather than raised.
        Some(ThinkingBudget::Tokens(budget)) => match requested_max {
            Some(total) if total > budget => fitted(model, caps, total, budget),
            _ => budgeted(model, caps, base, budget),
        },
    }
}

/// Budgeted thinking inside a total the caller chose: the total capped at the model's limit,
/// the budget shrunk when the cap leaves no output room.
fn fitted(model: &ModelDefinition, caps: &Capabilities, total: u32, budget: u32) -> Thinking {
    let max_tokens = total.min(model.max_tokens.max(1));
    let budget = if max_tokens <= budget {
        max_tokens.saturating_sub(MIN_THINKING_BUDGET)
    } else {
        budget
    };
    let budget = caps
        .thinking
        .max_budget
        .map_or(budget, |max| budget.min(max));
    if budget < min_budget(caps) {
        return Thinking::Off { max_tokens };
    }
    Thinking::Budget {
        max_tokens,
        budget_tokens: budget,
        interleaved: caps.thinking.interleaved,
    }
}

fn base_max_tokens(model: &ModelDefinition, requested_max: Option<u32>) -> u32 {
    requested_max
        .unwrap_or_else(|| model.max_tokens.min(DEFAULT_MAX_TOKENS_CAP))
        .max(1)
}

/// Budgeted thinking: maxTokens raised by the budget within the model's limit, the budget
/// shrunk to leave [`MIN_THINKING_BUDGET`] of output room when needed, off below Claude's
/// minimum budget.
fn budgeted(model: &ModelDefinition, caps: &Capabilities, base: u32, budget: u32) -> Thinking {
    let max_tokens = base.saturating_add(budget).min(model.max_tokens.max(1));
    let budget = if max_tokens <= budget {
        max_tokens.saturating_sub(MIN_THINKING_BUDGET)
    } else {
        budget
    };
    let budget = caps
        .thinking
        .max_budget
        .map_or(budget, |max| budget.min(max));
    if budget < min_budget(caps) {
        return Thinking::Off { max_tokens: base };
    }
    Thinking::Budget {
        max_tokens,
        budget_tokens: budget,
        interleaved: caps.thinking.interleaved,
    }
}

/// Whether the model thinks: a family with a thinking style, and `reasoning: true` in the
/// definition.
fn thinks(model: &ModelDefinition, caps: &Capabilities) -> bool {
    model.reasoning && caps.thinking.style != ThinkingStyle::None
}

/// The family's smallest budget, at least Claude's 1024.
fn min_budget(caps: &Capabilities) -> u32 {
    caps.thinking.min_budget.max(MIN_THINKING_BUDGET)
}

/// Whether a thinking signature (or redacted thinking) made by `producer` is valid for `target`.
pub(crate) fn same_family(producer: &str, target: &str) -> bool {
    capabilities::foundation_id(producer) == capabilities::foundation_id(target)
}

/// The model id `CountTokens` takes (foundation models, not inference profiles): the base
/// model when the definition names one, else the id as a foundation model (cross-region and ARN
/// prefixes removed); an ARN of another kind (an application profile without `baseModel`)
/// unchanged, for Bedrock to decide.
pub(crate) fn count_tokens_model_id(model: &ModelDefinition) -> &str {
    if let Some(base) = model.base_model.as_deref() {
        return capabilities::foundation_id(base);
    }
    let id = model.id.as_str();
    if id.starts_with("arn:")
        && !id.contains(":foundation-model/")
        && !id.contains(":inference-profile/")
    {
        return id;
    }
    capabilities::foundation_id(id)
}
