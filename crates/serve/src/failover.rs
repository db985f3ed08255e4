//! Failover for served requests: a request's model resolved to a chain (the model, its
//! cross-region `global.` profile when enabled, then its configured fallbacks), served through
//! [`openclaw_stream::failover::Failover`] with circuit breakers shared by every request.
//!
//! What a client sees: the `model` field of the answer and the `x-openclaw-model` header name
//! the model that answered; the access log and the metrics count the attempts. A request sent
//! with `x-openclaw-failover: off` is served by the model it names only.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use futures::StreamExt as _;
use futures::future::BoxFuture;
use openclaw_config::ModelRef;
use openclaw_stream::failover::{Failover, Report, Target};
use openclaw_stream::{CallError, EventStream, ModelStream, StreamOptions, StreamRequest};

use crate::LOG_TARGET;
use crate::chain::{Chain, FailoverOptions, FailoverState, push_with_region};
use crate::models::{ModelSource, ResolvedModel};
use crate::state::App;

/// Request header naming the model that answered (`provider/id`).
pub const MODEL_HEADER: &str = "x-openclaw-model";
/// Response header counting the model calls a request made (more than 1: it failed over).
pub const ATTEMPTS_HEADER: &str = "x-openclaw-attempts";
/// Request header turning failover off for one request: `off` (or `0`, `false`, `no`).
pub const FAILOVER_HEADER: &str = "x-openclaw-failover";
impl ModelSource {
    /// Serves requests for models with fallbacks (or, with `cross_region`, for geographic
    /// profiles) through a failover chain.
    #[must_use]
    pub fn with_failover(mut self, options: FailoverOptions) -> Self {
        self.failover = Some(Arc::new(FailoverState::new(options)));
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
