//! Failover data shared by the model table and the failover module (a leaf module): the
//! options, the state shared by every request (breakers and counters) and a request's chain.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openclaw_config::{BEDROCK_PROVIDER_ID, Config, ModelRef};
use openclaw_stream::failover::{Breakers, FailoverSettings, Outcome, Report};

use crate::LOG_TARGET;
use crate::metrics::label_value;

/// Which models stand in for which, and how failover behaves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailoverOptions {
    /// Whether fallbacks are used at all.
    pub enabled: bool,
    /// Fallbacks by model, keyed `provider/id`, tried in order after the model.
    pub fallbacks: BTreeMap<String, Vec<ModelRef>>,
    /// Region failover: a model named by a geographic cross-region profile (`us.`, `eu.`, ...)
    /// is also tried through its `global.` profile, right after it.
    pub cross_region: bool,
    /// First-token timeout and circuit breakers.
    pub settings: FailoverSettings,
}

impl FailoverOptions {
    /// The options of a configuration: `agents.defaults.model.fallbacks` for the primary model,
    /// each `agents.defaults.models.<ref>.fallbacks`, and
    /// `plugins.entries.amazon-bedrock.config.failover`.
    pub fn from_config(config: &Config) -> Self {
        let f = config.failover();
        FailoverOptions {
            enabled: f.enabled,
            fallbacks: config.fallback_table(),
            cross_region: f.cross_region,
            settings: FailoverSettings {
                first_token_timeout: (f.first_token_timeout_ms > 0)
                    .then(|| Duration::from_millis(f.first_token_timeout_ms)),
                breaker_failures: f.breaker_failures,
                breaker_cool_down: Duration::from_millis(f.breaker_cooldown_ms),
            },
        }
    }

    /// The models a call of `model` tries, in order: `model`, then its fallbacks, each
    /// followed by its `global.` profile with region failover on, without duplicates; only
    /// `model` when failover is off.
    pub fn chain(&self, model: &ModelRef) -> Vec<ModelRef> {
        let mut refs = Vec::new();
        push_with_region(&mut refs, model.clone(), self.cross_region);
        if self.enabled {
            for fallback in self.fallbacks.get(&model.to_string()).into_iter().flatten() {
                push_with_region(&mut refs, fallback.clone(), self.cross_region);
            }
        } else {
            refs.truncate(1);
        }
        refs
    }
}

/// Adds `model_ref` and, with region failover, its `global.` profile (Bedrock models only),
/// skipping duplicates.
pub(crate) fn push_with_region(refs: &mut Vec<ModelRef>, model_ref: ModelRef, cross_region: bool) {
    let global = (cross_region && model_ref.provider() == BEDROCK_PROVIDER_ID)
        .then(|| openclaw_stream::failover::global_profile(model_ref.model()))
        .flatten()
        .and_then(|id| ModelRef::new(BEDROCK_PROVIDER_ID, id).ok());
    for r in std::iter::once(model_ref).chain(global) {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
}

/// Failover state shared by every request: the options, the breakers and the counters.
pub(crate) struct FailoverState {
    pub(crate) options: FailoverOptions,
    pub(crate) breakers: Arc<Breakers>,
    /// Attempts by (target, outcome).
    attempts: Mutex<BTreeMap<(String, &'static str), u64>>,
    by_fallback: AtomicU64,
    exhausted: AtomicU64,
}

impl FailoverState {
    /// The state of `options`, with fresh breakers and counters.
    pub(crate) fn new(options: FailoverOptions) -> Self {
        FailoverState {
            breakers: Arc::new(Breakers::new(options.settings)),
            options,
            attempts: Mutex::new(BTreeMap::new()),
            by_fallback: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
        }
    }
}

/// The targets of a chain and the report of its call.
pub(crate) struct Chain {
    /// `(label, model id)` of every target, in order.
    pub(crate) targets: Vec<(String, String)>,
    pub(crate) report: Arc<Mutex<Option<Report>>>,
}

impl FailoverState {
    pub(crate) fn count(&self, report: &Report, primary: &str) {
        let attempts = report.attempts();
        {
            let mut counts = self.attempts.lock().unwrap_or_else(|p| p.into_inner());
            for a in &attempts {
                let outcome = match a.outcome {
                    Outcome::Served => "served",
                    Outcome::Failed { .. } => "failed",
                    Outcome::Skipped => "skipped",
                };
                *counts.entry((a.target.clone(), outcome)).or_default() += 1;
            }
        }
        match report.served() {
            Some(served) if served != primary => {
                self.by_fallback.fetch_add(1, Ordering::Relaxed);
                let failed: Vec<String> = attempts
                    .iter()
                    .filter(|a| a.target != served)
                    .map(|a| format!("{}: {}", a.target, a.reason()))
                    .collect();
                tracing::info!(target: LOG_TARGET, "served by {served} after {} failed before its first token ({})", primary, failed.join("; "));
            }
            Some(_) => {}
            None if attempts.iter().all(|a| a.outcome != Outcome::Served) && attempts.len() > 1 => {
                self.exhausted.fetch_add(1, Ordering::Relaxed);
            }
            None => {}
        }
    }

    /// The failover metrics, in the Prometheus text format.
    pub(crate) fn render(&self, out: &mut String) {
        out.push_str("# HELP openclaw_gateway_failover_attempts_total Model calls of requests with fallbacks, by target and outcome (served, failed before the first token, skipped by an open circuit breaker).\n");
        out.push_str("# TYPE openclaw_gateway_failover_attempts_total counter\n");
        for ((target, outcome), n) in self
            .attempts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "openclaw_gateway_failover_attempts_total{{target=\"{}\",outcome=\"{outcome}\"}} {n}",
                label_value(target)
            );
        }
        out.push_str("# HELP openclaw_gateway_failover_served_by_fallback_total Requests served by a fallback instead of the model they named.\n");
        out.push_str("# TYPE openclaw_gateway_failover_served_by_fallback_total counter\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_failover_served_by_fallback_total {}",
            self.by_fallback.load(Ordering::Relaxed)
        );
        out.push_str("# HELP openclaw_gateway_failover_exhausted_total Requests whose every target failed or was skipped.\n");
        out.push_str("# TYPE openclaw_gateway_failover_exhausted_total counter\n");
        let _ = writeln!(
            out,
            "openclaw_gateway_failover_exhausted_total {}",
            self.exhausted.load(Ordering::Relaxed)
        );
        let breakers = self.breakers.snapshot();
        out.push_str("# HELP openclaw_gateway_circuit_breaker_state Circuit breaker of a target: 0 closed, 1 open (skipped), 2 half-open (probing).\n");
        out.push_str("# TYPE openclaw_gateway_circuit_breaker_state gauge\n");
        for b in &breakers {
            let _ = writeln!(
                out,
                "openclaw_gateway_circuit_breaker_state{{target=\"{}\"}} {}",
                label_value(&b.target),
                b.state.gauge()
            );
        }
        out.push_str("# HELP openclaw_gateway_circuit_breaker_opened_total Times a target's circuit breaker opened.\n");
        out.push_str("# TYPE openclaw_gateway_circuit_breaker_opened_total counter\n");
        for b in &breakers {
            let _ = writeln!(
                out,
                "openclaw_gateway_circuit_breaker_opened_total{{target=\"{}\"}} {}",
                label_value(&b.target),
                b.opened_total
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_is_the_model_then_its_fallbacks_each_with_its_global_profile() {
        let r = |s: &str| ModelRef::parse_or_default_provider(s).unwrap();
        let mut options = FailoverOptions {
            enabled: true,
            cross_region: true,
            ..FailoverOptions::default()
        };
        options.fallbacks.insert(
            "amazon-bedrock/us.a.b-v1:0".into(),
            vec![
                r("local/x"),
                r("amazon-bedrock/us.a.b-v1:0"),
                r("eu.c.d-v1:0"),
            ],
        );
        let names = |o: &FailoverOptions| -> Vec<String> {
            o.chain(&r("us.a.b-v1:0"))
                .iter()
                .map(ToString::to_string)
                .collect()
        };
        assert_eq!(
            names(&options),
            [
                "amazon-bedrock/us.a.b-v1:0",
                "amazon-bedrock/global.a.b-v1:0",
                "local/x",
                "amazon-bedrock/eu.c.d-v1:0",
                "amazon-bedrock/global.c.d-v1:0",
            ]
        );
        options.enabled = false;
        assert_eq!(names(&options), ["amazon-bedrock/us.a.b-v1:0"]);
    }
}
