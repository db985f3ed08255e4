//! What every handler shares: the models, the options, the metrics, the concurrency permits
//! and the draining flag.

use std::sync::Arc;

use openclaw_config::ModelRef;
use tokio::sync::{Semaphore, watch};

use crate::metrics::Metrics;
use crate::models::{ModelSource, ResolvedModel};
use crate::options::ServeOptions;

/// The state behind the router.
pub(crate) struct App {
    pub(crate) models: ModelSource,
    pub(crate) options: ServeOptions,
    pub(crate) metrics: Metrics,
    pub(crate) permits: Arc<Semaphore>,
    pub(crate) draining: watch::Receiver<bool>,
}

impl App {
    /// Resolves a request's model name: an alias, `provider/id`, or a bare Bedrock id; the
    /// key is `provider/id`.
    pub(crate) async fn resolve_model(&self, name: &str) -> Option<(String, Arc<ResolvedModel>)> {
        let name = self
            .options
            .aliases
            .get(name)
            .map(String::as_str)
            .unwrap_or(name);
        let model_ref = parse_model_ref(name).ok()?;
        let model = self.models.resolve(&model_ref).await?;
        Some((model_ref.to_string(), model))
    }

    /// Whether shutdown has started.
    pub(crate) fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }
}

/// `provider/modelId`, or a bare Bedrock model id (no `/`) of the default provider.
fn parse_model_ref(text: &str) -> Result<ModelRef, openclaw_config::Error> {
    if text.contains('/') {
        text.parse()
    } else {
        ModelRef::new(openclaw_discovery::PROVIDER_ID, text)
    }
}
