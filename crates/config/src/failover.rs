//! Failover settings: which models stand in for a model that fails before its first token,
//! and how (`plugins.entries.amazon-bedrock.config.failover`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Config, ModelRef};

fn yes() -> bool {
    true
}

fn default_first_token_timeout_ms() -> u64 {
    60_000
}

fn default_breaker_failures() -> u32 {
    3
}

fn default_breaker_cooldown_ms() -> u64 {
    30_000
}

/// `plugins.entries.amazon-bedrock.config.failover`: failover across models and regions before
/// the first token.
///
/// A call fails over to the next model (the model's `fallbacks`, see
/// [`Config::model_fallbacks`]) only when it failed before any content reached the client, and
/// only for failures another model or region can fix (throttling, unavailable, timeouts,
/// server errors, a model not offered or not enabled). Strict: unknown keys are errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FailoverConfig {
    /// Whether configured fallbacks are used (default `true`); `false` serves every request
    /// with the model it names only.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Region failover: a model named by a geographic cross-region inference profile
    /// (`us.`, `eu.`, `apac.`, ...) is also tried through its `global.` profile, right after it
    /// (default `false`: the global profile may route requests to any commercial region).
    #[serde(default)]
    pub cross_region: bool,
    /// Longest wait for an attempt's first token, in milliseconds, before the next model is
    /// tried (default 60000; 0: no limit besides the upstream timeouts).
    #[serde(default = "default_first_token_timeout_ms")]
    pub first_token_timeout_ms: u64,
    /// Consecutive failover-worthy failures after which a model's circuit breaker opens and
    /// the model is skipped (default 3; 0: never).
    #[serde(default = "default_breaker_failures")]
    pub breaker_failures: u32,
    /// How long an open breaker skips its model, in milliseconds (default 30000; Bedrock's
    /// `Retry-After` wins when longer); then one request probes it.
    #[serde(default = "default_breaker_cooldown_ms")]
    pub breaker_cooldown_ms: u64,
}

impl Default for FailoverConfig {
    fn default() -> Self {
        FailoverConfig {
            enabled: true,
            cross_region: false,
            first_token_timeout_ms: default_first_token_timeout_ms(),
            breaker_failures: default_breaker_failures(),
            breaker_cooldown_ms: default_breaker_cooldown_ms(),
        }
    }
}

impl Config {
    /// The failover settings (`plugins.entries.amazon-bedrock.config.failover`, else the
    /// defaults).
    pub fn failover(&self) -> FailoverConfig {
        self.plugins
            .entries
            .amazon_bedrock
            .as_ref()
            .and_then(|entry| entry.config.as_ref())
            .and_then(|config| config.failover)
            .unwrap_or_default()
    }

    /// The models tried in order when `model` fails before its first token: its own
    /// `agents.defaults.models.<model>.fallbacks` when set, else the `fallbacks` of its
    /// definition under `models.providers`, else, for the primary model,
    /// `agents.defaults.model.fallbacks`; `model` itself is never listed.
    pub fn model_fallbacks(&self, model: &ModelRef) -> Vec<ModelRef> {
        let defaults = &self.agents.defaults;
        let own = defaults.models.iter().find_map(|(key, entry)| {
            (!entry.fallbacks.is_empty()
                && ModelRef::parse_or_default_provider(key).ok().as_ref() == Some(model))
            .then_some(&entry.fallbacks)
        });
        let defined = || {
            self.provider(model.provider())?
                .models
                .iter()
                .find(|m| m.id == model.model() && !m.fallbacks.is_empty())
                .map(|m| &m.fallbacks)
        };
        let list = match own.or_else(defined) {
            Some(list) => list,
            None if defaults.model.primary.as_ref() == Some(model) => &defaults.model.fallbacks,
            None => return Vec::new(),
        };
        let mut out: Vec<ModelRef> = Vec::new();
        for fallback in list {
            if fallback != model && !out.contains(fallback) {
                out.push(fallback.clone());
            }
        }
        out
    }

    /// Every model that has fallbacks ([`Config::model_fallbacks`]), keyed by
    /// `<provider>/<modelId>`.
    pub fn fallback_table(&self) -> BTreeMap<String, Vec<ModelRef>> {
        let defaults = &self.agents.defaults;
        let defined = self.models.providers.iter().flat_map(|(provider, config)| {
            config
                .models
                .iter()
                .filter_map(move |m| ModelRef::new(provider.clone(), m.id.clone()).ok())
        });
        let models = defaults
            .models
            .keys()
            .filter_map(|key| ModelRef::parse_or_default_provider(key).ok())
            .chain(defaults.model.primary.clone())
            .chain(defined);
        models
            .filter_map(|model| {
                let list = self.model_fallbacks(&model);
                (!list.is_empty()).then(|| (model.to_string(), list))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallbacks_per_model_then_the_defaults_for_the_primary() {
        let config = Config::from_text(
            "{
              agents: { defaults: {
                model: { primary: 'amazon-bedrock/us.a-v1:0', fallbacks: ['amazon-bedrock/us.b-v1:0', 'amazon-bedrock/us.a-v1:0'] },
                models: {
                  'amazon-bedrock/us.c-v1:0': { alias: 'c', fallbacks: ['amazon-bedrock/us.d-v1:0'] },
                  'us.e-v1:0': { alias: 'e' },
                },
              } },
              models: { providers: { 'amazon-bedrock': { models: [
                { id: 'us.f-v1:0', name: 'F', fallbacks: ['amazon-bedrock/us.a-v1:0'] },
                { id: 'us.c-v1:0', name: 'C', fallbacks: ['amazon-bedrock/us.a-v1:0'] },
              ] } } },
              plugins: { entries: { 'amazon-bedrock': { config: { failover: { crossRegion: true, breakerCooldownMs: 100 } } } } },
            }",
        )
        .expect("valid");
        let r = |s: &str| ModelRef::parse_or_default_provider(s).expect("ref");
        assert_eq!(
            config.model_fallbacks(&r("amazon-bedrock/us.a-v1:0")),
            [r("amazon-bedrock/us.b-v1:0")]
        );
        assert_eq!(
            config.model_fallbacks(&r("amazon-bedrock/us.c-v1:0")),
            [r("amazon-bedrock/us.d-v1:0")]
        );
        assert!(config.model_fallbacks(&r("us.e-v1:0")).is_empty());
        // A provider's model definition has its own; the agents entry wins over it.
        assert_eq!(
            config.model_fallbacks(&r("amazon-bedrock/us.f-v1:0")),
            [r("amazon-bedrock/us.a-v1:0")]
        );
        assert_eq!(
            config.fallback_table().keys().collect::<Vec<_>>(),
            [
                "amazon-bedrock/us.a-v1:0",
                "amazon-bedrock/us.c-v1:0",
                "amazon-bedrock/us.f-v1:0"
            ]
        );
        let failover = config.failover();
        assert!(failover.enabled && failover.cross_region);
        assert_eq!(
            (failover.breaker_cooldown_ms, failover.breaker_failures),
            (100, 3)
        );
        assert_eq!(Config::default().failover(), FailoverConfig::default());
    }

    #[test]
    fn unknown_failover_keys_are_errors() {
        let err = Config::from_text(
            "{ plugins: { entries: { 'amazon-bedrock': { config: { failover: { breakerFailure: 2 } } } } } }",
        )
        .expect_err("strict");
        assert!(err.to_string().contains("breakerFailure"), "{err}");
    }
}
