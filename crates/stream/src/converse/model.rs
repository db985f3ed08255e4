//! Per-model rules, decided from the model id (and its configured prices).
//!
//! Rules (pi-ai's, with the differences noted):
//! - **Claude**: the id contains `anthropic.claude` (or `anthropic/claude`).
//! - **Prompt caching**: the model has a cache price configured, or is Claude 4.x, Claude 3.7
//!   Sonnet, Claude 3.5 Haiku, or Amazon Nova (`amazon.nova-`; pi-ai omits Nova, which Bedrock
//!   caches too).
//! - **Adaptive thinking**: Claude Opus 4.6 and Sonnet 4.6 (`opus-4-6`, `sonnet-4-6`, dotted
//!   forms too) get `thinking: {type: adaptive}` plus `output_config.effort`; pi-ai 0.73 covers
//!   only Opus 4.6.
//! - **Budgeted thinking** (other Claude models with `reasoning: true`): budget per level
//!   minimal 1024, low 2048, medium 8192, high 16384, xhigh 16384 (pi-ai's table: Claude has no
//!   level above high); `maxTokens` becomes `min(base + budget, model.maxTokens)`, and when that
//!   leaves no room the budget shrinks to `maxTokens - 1024`; below Claude's 1024 minimum,
//!   thinking is left off. The `interleaved-thinking-2025-05-14` beta is requested, as pi-ai does.
//! - **Explicit budgets** (`StreamRequest::thinking`, overriding the level): `Tokens(n)` with
//!   a requested `maxTokens` above `n` keeps that total (Anthropic's meaning: the total includes
//!   the budget), capped at the model's limit; otherwise it is budgeted thinking with budget
//!   `n`, fitted like a level's budget (adaptive-thinking models
//!   included: they accept a budget); `Adaptive` is `thinking: {type: adaptive}` without an
//!   effort on adaptive-thinking models, the medium level's budget on the others. Both need a
//!   Claude model with `reasoning: true`, like the levels.
//! - **Model family** (for replaying signatures and redacted thinking): the same model id once a
//!   cross-region prefix (`us.`, `eu.`, `apac.`, `global.` ...) is removed, so a signature made by
//!   `us.anthropic.claude-sonnet-4-5-...` is replayed to `eu.anthropic.claude-sonnet-4-5-...`
//!   (pi-ai requires the identical id).

use openclaw_config::ModelDefinition;

use crate::types::{ReasoningLevel, ThinkingBudget};

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

/// Whether the id names an Anthropic Claude model.
pub(crate) fn is_claude(id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    id.contains("anthropic.claude") || id.contains("anthropic/claude")
}

/// Whether Bedrock accepts cache points for this model.
pub(crate) fn supports_caching(model: &ModelDefinition) -> bool {
    if model.cost.cache_read > 0.0 || model.cost.cache_write > 0.0 {
        return true;
    }
    let id = model.id.to_ascii_lowercase();
    if id.contains("claude") && (id.contains("-4-") || id.contains("-4.") || id.contains("-4@")) {
        return true;
    }
    id.contains("claude-3-7-sonnet")
        || id.contains("claude-3-5-haiku")
        || id.contains("amazon.nova-")
}

/// Whether the model requires adaptive thinking.
pub(crate) fn supports_adaptive_thinking(id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    ["opus-4-6", "opus-4.6", "sonnet-4-6", "sonnet-4.6"]
        .iter()
        .any(|m| id.contains(m))
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
    let Some(budget) = budget(level).filter(|_| model.reasoning && is_claude(&model.id)) else {
        return Thinking::Off { max_tokens: base };
    };
    if supports_adaptive_thinking(&model.id) {
        return Thinking::Adaptive {
            max_tokens: base,
            effort: Some(effort(level)),
        };
    }
    budgeted(model, base, budget)
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
    match explicit {
        None => thinking(model, level, requested_max),
        Some(_) if !(model.reasoning && is_claude(&model.id)) => Thinking::Off { max_tokens: base },
        Some(ThinkingBudget::Adaptive) if supports_adaptive_thinking(&model.id) => {
            Thinking::Adaptive {
                max_tokens: base,
                effort: None,
            }
        }
        Some(ThinkingBudget::Adaptive) => thinking(model, ReasoningLevel::Medium, requested_max),
        // Anthropic's semantics: a client that sets both sends a total `max_tokens` above the
        // budget, and that total is kept (within the model's limit) rather than raised.
        Some(ThinkingBudget::Tokens(budget)) => match requested_max {
            Some(total) if total > budget => fitted(model, total, budget),
            _ => budgeted(model, base, budget),
        },
    }
}

/// Budgeted thinking inside a total the caller chose: the total capped at the model's limit,
/// the budget shrunk when the cap leaves no output room.
fn fitted(model: &ModelDefinition, total: u32, budget: u32) -> Thinking {
    let max_tokens = total.min(model.max_tokens.max(1));
    let budget = if max_tokens <= budget {
        max_tokens.saturating_sub(MIN_THINKING_BUDGET)
    } else {
        budget
    };
    if budget < MIN_THINKING_BUDGET {
        return Thinking::Off { max_tokens };
    }
    Thinking::Budget {
        max_tokens,
        budget_tokens: budget,
        interleaved: true,
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
fn budgeted(model: &ModelDefinition, base: u32, budget: u32) -> Thinking {
    let max_tokens = base.saturating_add(budget).min(model.max_tokens.max(1));
    let budget = if max_tokens <= budget {
        max_tokens.saturating_sub(MIN_THINKING_BUDGET)
    } else {
        budget
    };
    if budget < MIN_THINKING_BUDGET {
        return Thinking::Off { max_tokens: base };
    }
    Thinking::Budget {
        max_tokens,
        budget_tokens: budget,
        interleaved: true,
    }
}

/// Whether a thinking signature (or redacted thinking) made by `producer` is valid for `target`.
pub(crate) fn same_family(producer: &str, target: &str) -> bool {
    strip_geo(producer) == strip_geo(target)
}

fn strip_geo(id: &str) -> &str {
    const GEO: [&str; 9] = [
        "us.", "us-gov.", "eu.", "apac.", "au.", "jp.", "ca.", "global.", "ap.",
    ];
    GEO.iter().find_map(|p| id.strip_prefix(p)).unwrap_or(id)
}

/// The foundation model id behind a system cross-region inference profile id (its prefix
/// removed); any other id (a foundation model, an ARN) unchanged.
pub(crate) fn foundation_model_id(id: &str) -> &str {
    strip_geo(id)
}
