//! Failover for served requests: a request's model resolved to a chain (the model, its
//! cross-region `global.` profile when enabled, then its configured fallbacks), served through
//! [`openclaw_stream::failover::Failover`] with circuit breakers shared by every request.
//!
//! What a client sees: the `model` field of the answer and the `x-openclaw-model` header name
//! the model that answered; the access log and the metrics count the attempts. A request sent
//! with `x-openclaw-failover: off` is served by the model it names only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use openclaw_config::{BEDROCK_PROVIDER_ID, Config, ModelRef};
use openclaw_stream::failover::{Breakers, Failover, FailoverSettings, Outcome, Report, Target};
use openclaw_stream::{CallError, EventStream, ModelStream, StreamOptions, StreamRequest};

use crate::LOG_TARGET;
use crate::models::{ModelSource, ResolvedModel};
use crate::state::App;

/// Request header naming the model that answered (`provider/id`).
pub const MODEL_HEADER: &str = "x-openclaw-model";
/// Response header counting the model calls a request made (more than 1: it failed over).
pub const ATTEMPTS_HEADER: &str = "x-openclaw-attempts";
/// Request header turning failover off for one request: `off` (or `0`, `false`, `no`).
pub const FAILOVER_HEADER: &str = "x-openclaw-failover";

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
}

/// Failover state shared by every request: the options, the breakers and the counters.
pub(crate) struct FailoverState {
    options: FailoverOptions,
    breakers: Arc<Breakers>,
    /// Attempts by (target, outcome).
    attempts: Mutex<BTreeMap<(String, &'static str), u64>>,
    by_fallback: AtomicU64,
    exhausted: AtomicU64,
}

impl ModelSource {
    /// Serves requests for models with fallbacks (or, with `cross_region`, for geographic
    /// profiles) through a failover chain.
    #[must_use]
    pub fn with_failover(mut self, options: FailoverOptions) -> Self {
        self.failover = Some(Arc::new(FailoverState {
            breakers: Arc::new(Breakers::new(options.settings)),
            options,
            attempts: Mutex::new(BTreeMap::new()),
            by_fallback: AtomicU64::new(0),
            exhausted: AtomicU64::new(0),
        }));
        self
    }
}

/// Whether a request allows failover (no `x-openclaw-failover: off`).
pub(crate) fn allowed(headers: &HeaderMap) -> bool {
    !headers
        .get(FAILOVER_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "off" | "0" | "false" | "no"
            )
        })
}

/// The targets of a chain and the report of its call.
pub(crate) struct Chain {
    /// `(label, model id)` of every target, in order.
    targets: Vec<(String, String)>,
    report: Arc<Mutex<Option<Report>>>,
}

/// The stream of a chain: each call starts the failover and keeps its report.
struct ChainStream {
    failover: Failover,
    primary: Arc<dyn ModelStream>,
    report: Arc<Mutex<Option<Report>>>,
    state: Arc<FailoverState>,
}

impl ModelStream for ChainStream {
    fn stream(&self, request: StreamRequest, options: StreamOptions) -> EventStream {
        let (events, report) = self.failover.start(request, options);
        *self.report.lock().unwrap_or_else(|p| p.into_inner()) = Some(report.clone());
        let state = self.state.clone();
        let primary = self
            .failover
            .targets()
            .first()
            .map(|t| t.label.clone())
            .unwrap_or_default();
        let mut counted = false;
        // The attempts are counted once the call settled (its first event).
        Box::pin(events.inspect(move |_| {
            if !counted {
                counted = true;
                state.count(&report, &primary);
            }
        }))
    }

    /// Counted by the model the request names (no failover: counting fails for reasons that
    /// another model would not fix).
    fn count_tokens(
        &self,
        request: StreamRequest,
        options: StreamOptions,
    ) -> BoxFuture<'static, Result<u64, CallError>> {
        self.primary.count_tokens(request, options)
    }
}

impl FailoverState {
    fn count(&self, report: &Report, primary: &str) {
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
    fn render(&self, out: &mut String) {
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

/// A Prometheus label value: backslash, quote and newline escaped.
fn label_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Who answered a request: the model key and id, and how many targets were called.
pub(crate) struct Served {
    /// `provider/id` of the model that answered (the requested one when none did).
    pub(crate) key: String,
    /// Its model id.
    pub(crate) id: String,
    /// Targets called (1 without failover).
    pub(crate) attempts: usize,
    /// Whether a model answered (not when every target failed).
    answered: bool,
}

impl Served {
    /// Names the serving model in the response (`x-openclaw-model`) and counts the attempts
    /// (`x-openclaw-attempts`, also read by the access log).
    pub(crate) fn decorate(&self, response: &mut Response) {
        response
            .headers_mut()
            .insert(ATTEMPTS_HEADER, HeaderValue::from(self.attempts));
        if self.answered
            && let Ok(value) = HeaderValue::from_str(&self.key)
        {
            response.headers_mut().insert(MODEL_HEADER, value);
        }
    }

    /// Records the attempts of a request that failed (no model answered, so no header).
    pub(crate) fn decorate_failure(mut self, response: &mut Response) {
        self.answered = false;
        self.decorate(response);
    }
}

impl ResolvedModel {
    /// Who served the call started on this model: the chain's serving target once the call
    /// settled, else the model itself (`key`).
    pub(crate) fn served(&self, key: &str) -> Served {
        let mut served = Served {
            key: key.to_string(),
            id: self.def.id.clone(),
            attempts: 1,
            answered: true,
        };
        let Some(chain) = &self.chain else {
            return served;
        };
        let report = chain
            .report
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let Some(report) = report else {
            return served;
        };
        served.attempts = report.calls().max(1);
        served.answered = report.served().is_some();
        if let Some(label) = report.served()
            && let Some((_, id)) = chain.targets.iter().find(|(l, _)| *l == label)
        {
            served.key = label;
            served.id = id.clone();
        }
        served
    }
}

impl App {
    /// The model a request is served by: `found` itself, or, when it has fallbacks (or a
    /// `global.` profile with region failover on) and the request allows failover, a chain
    /// over them.
    pub(crate) async fn with_fallbacks(
        &self,
        found: (String, Arc<ResolvedModel>),
        allowed: bool,
    ) -> (String, Arc<ResolvedModel>) {
        let (key, primary) = found;
        let Some(state) = self.models.failover.clone() else {
            return (key, primary);
        };
        if !allowed || !state.options.enabled {
            return (key, primary);
        }
        let Ok(primary_ref) = ModelRef::parse_or_default_provider(&key) else {
            return (key, primary);
        };
        let mut refs = Vec::new();
        push_with_region(&mut refs, primary_ref, state.options.cross_region);
        for fallback in state.options.fallbacks.get(&key).into_iter().flatten() {
            push_with_region(&mut refs, fallback.clone(), state.options.cross_region);
        }
        if refs.len() < 2 {
            return (key, primary);
        }
        let mut targets = vec![Target::new(
            key.clone(),
            primary.def.clone(),
            primary.stream.clone(),
        )];
        for model_ref in refs.iter().skip(1) {
            let resolved = match self.models.resolve(model_ref).await {
                Some(found) => Some(found),
                None => self.models.attempt(model_ref),
            };
            match resolved {
                Some(m) => targets.push(Target::new(
                    model_ref.to_string(),
                    m.def.clone(),
                    m.stream.clone(),
                )),
                None => {
                    tracing::warn!(target: LOG_TARGET, "fallback {model_ref} of {key} is not served here: skipped");
                }
            }
        }
        if targets.len() < 2 {
            return (key, primary);
        }
        let report = Arc::new(Mutex::new(None));
        let chain = Chain {
            targets: targets
                .iter()
                .map(|t| (t.label.clone(), t.model.id.clone()))
                .collect(),
            report: report.clone(),
        };
        let stream = ChainStream {
            failover: Failover::new(targets, state.breakers.clone()),
            primary: primary.stream.clone(),
            report,
            state,
        };
        let model = ResolvedModel {
            def: primary.def.clone(),
            stream: Arc::new(stream),
            chain: Some(chain),
        };
        (key, Arc::new(model))
    }

    /// Appends the failover metrics (none without failover).
    pub(crate) fn render_failover_metrics(&self, out: &mut String) {
        if let Some(state) = &self.models.failover {
            state.render(out);
        }
    }
}

/// Adds `model_ref` and, with region failover, its `global.` profile (Bedrock models only),
/// skipping duplicates.
fn push_with_region(refs: &mut Vec<ModelRef>, model_ref: ModelRef, cross_region: bool) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_opt_out_header() {
        let mut headers = HeaderMap::new();
        assert!(allowed(&headers));
        for off in ["off", "OFF", " 0 ", "false", "no"] {
            headers.insert(FAILOVER_HEADER, HeaderValue::from_str(off).unwrap());
            assert!(!allowed(&headers), "{off}");
        }
        headers.insert(FAILOVER_HEADER, HeaderValue::from_static("on"));
        assert!(allowed(&headers));
    }

    #[test]
    fn region_failover_adds_the_global_profile_after_each_bedrock_model() {
        let r = |s: &str| ModelRef::parse_or_default_provider(s).unwrap();
        let mut refs = Vec::new();
        push_with_region(&mut refs, r("amazon-bedrock/us.a.b-v1:0"), true);
        push_with_region(&mut refs, r("local/us.x"), true);
        push_with_region(&mut refs, r("amazon-bedrock/global.a.b-v1:0"), true);
        push_with_region(&mut refs, r("amazon-bedrock/eu.c.d-v1:0"), false);
        let names: Vec<String> = refs.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            [
                "amazon-bedrock/us.a.b-v1:0",
                "amazon-bedrock/global.a.b-v1:0",
                "local/us.x",
                "amazon-bedrock/eu.c.d-v1:0"
            ]
        );
    }
}
