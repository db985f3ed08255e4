//! What every handler shares: the models, the options, the metrics, the concurrency permits
//! and the draining flag.

use std::sync::Arc;

use openclaw_config::ModelRef;
use tokio::sync::{Semaphore, watch};

use crate::api_error::ApiError;
use crate::metrics::Metrics;
use crate::models::{ModelSource, ResolvedModel};
use crate::options::ServeOptions;

/// The model a response was for (access log), set by the handlers as a response extension.
#[derive(Debug, Clone)]
pub(crate) struct ModelLabel(pub(crate) String);

/// The state behind the router.
pub(crate) struct App {
    pub(crate) models: ModelSource,
    pub(crate) options: ServeOptions,
    pub(crate) metrics: Metrics,
    pub(crate) permits: Arc<Semaphore>,
    /// Draining started: `/readyz` answers 503 (requests are still served).
    pub(crate) stopping: watch::Receiver<bool>,
    /// The listener is closed: idle connections close and request bodies stop being read
    /// (`ServeOptions::drain_delay` after `stopping`).
    pub(crate) draining: watch::Receiver<bool>,
    /// The budgets of request bodies being read (see `crate::admission`).
    pub(crate) admission: crate::admission::Admission,
}

impl App {
    /// Resolves a request's model name: an alias, `provider/id`, or a bare Bedrock id; the
    /// key is `provider/id`.
    pub(crate) async fn resolve_model(&self, name: &str) -> Option<(String, Arc<ResolvedModel>)> {
        let model_ref = match self.alias(name) {
            Some(target) => target.clone(),
            None => ModelRef::parse_or_default_provider(name).ok()?,
        };
        let model = self.models.resolve(&model_ref).await?;
        Some((model_ref.to_string(), model))
    }

    /// The model an alias names, as OpenClaw resolves a name: exactly, else (a name without
    /// `/`) trimmed and without regard to case.
    pub(crate) fn alias(&self, name: &str) -> Option<&ModelRef> {
        let aliases = &self.options.aliases;
        if let Some(target) = aliases.get(name) {
            return Some(target);
        }
        let name = name.trim();
        if name.contains('/') {
            return None;
        }
        let wanted = name.to_lowercase();
        aliases
            .iter()
            .find(|(alias, _)| alias.trim().to_lowercase() == wanted)
            .map(|(_, target)| target)
    }

    /// Whether shutdown has started (`/readyz` answers 503).
    pub(crate) fn is_draining(&self) -> bool {
        *self.stopping.borrow()
    }
}

impl App {
    /// Finds a request's model: listed (see [`App::resolve_model`]), else a Bedrock id tried
    /// as it is ([`ModelSource::attempt`]). Unknown: 404, or 503 while discovery is failing
    /// (the listing may lack it).
    pub(crate) async fn find_model(
        &self,
        name: &str,
    ) -> Result<(String, Arc<ResolvedModel>), ApiError> {
        if let Some(found) = self.resolve_model(name).await {
            return Ok(found);
        }
        let model_ref = match self.alias(name) {
            Some(target) => Some(target.clone()),
            None => ModelRef::parse_or_default_provider(name).ok(),
        };
        if let Some(model_ref) = model_ref
            && let Some(model) = self.models.attempt(&model_ref)
        {
            let model = self.models.described(model).await;
            return Ok((model_ref.to_string(), model));
        }
        if self.models.discovery_in_doubt() {
            return Err(ApiError::discovery_unavailable(name));
        }
        Err(ApiError::model_not_found(name))
    }
}
