//! Where the served models come from: the configured providers, optionally Bedrock discovery,
//! and one [`ModelStream`] per provider; and how a request's model name finds its stream.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use openclaw_config::{ModelDefinition, ModelRef, ProviderConfig};
use openclaw_creds::CredentialSource;
use openclaw_discovery::{Discovery, DiscoveryRequest, ProvidersOrExplicit};
use openclaw_stream::ModelStream;

use crate::LOG_TARGET;

/// The models a gateway serves.
///
/// Built from the explicit providers of a configuration, a [`ModelStream`] for each provider to
/// serve, and optionally a shared [`Discovery`] whose listing is merged in (the implicit
/// `amazon-bedrock` provider). A provider without a stream is not served.
pub struct ModelSource {
    explicit: BTreeMap<String, ProviderConfig>,
    streams: BTreeMap<String, Arc<dyn ModelStream>>,
    discovery: Option<(Arc<Discovery>, DiscoveryRequest)>,
    credentials: Option<CredentialSource>,
    region: String,
    /// The resolved models, while fresh (see [`ModelSource::resolve`]).
    table: RwLock<Option<Arc<ModelTable>>>,
}

impl ModelSource {
    /// Serves `providers` (the configuration's `models.providers`); `region` is the region of
    /// the `amazon-bedrock` provider, which picks the inference profile an Anthropic model name
    /// (`claude-sonnet-4-5`) resolves to (`us.`, `eu.`, ...).
    pub fn new(providers: BTreeMap<String, ProviderConfig>, region: impl Into<String>) -> Self {
        ModelSource {
            explicit: providers,
            streams: BTreeMap::new(),
            discovery: None,
            credentials: None,
            region: region.into(),
            table: RwLock::new(None),
        }
    }

    /// Serves the models of provider `provider_id` through `stream`.
    #[must_use]
    pub fn with_stream(
        mut self,
        provider_id: impl Into<String>,
        stream: Arc<dyn ModelStream>,
    ) -> Self {
        self.streams.insert(provider_id.into(), stream);
        self
    }

    /// Merges the listing of `discovery` (shared cache, single flight) into the served models.
    #[must_use]
    pub fn with_discovery(mut self, discovery: Arc<Discovery>, request: DiscoveryRequest) -> Self {
        self.discovery = Some((discovery, request));
        self
    }

    /// The credential source, reported by `/readyz` (not ready without credentials). Without
    /// it, readiness does not look at credentials (for streams that need none).
    #[must_use]
    pub fn with_credentials(mut self, source: CredentialSource) -> Self {
        self.credentials = Some(source);
        self
    }

    /// The credential source given with [`ModelSource::with_credentials`].
    pub(crate) fn credentials(&self) -> Option<&CredentialSource> {
        self.credentials.as_ref()
    }

    /// Whether a provider is served (has a stream).
    pub(crate) fn serves(&self, provider_id: &str) -> bool {
        self.streams.contains_key(provider_id)
    }

    /// The region of the implicit `amazon-bedrock` provider.
    pub(crate) fn region(&self) -> &str {
        &self.region
    }

    /// Every served model as `provider/id` with its display name.
    pub(crate) async fn served_models(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (pid, provider) in self.providers().await {
            if !self.serves(&pid) {
                continue;
            }
            for m in &provider.models {
                out.push((format!("{pid}/{}", m.id), m.name.clone()));
            }
        }
        out
    }

    /// Every served model as `provider/id`.
    pub(crate) async fn served_keys(&self) -> Vec<String> {
        self.served_models().await.into_iter().map(|(k, _)| k).collect()
    }

    /// Fills the discovery cache, so the first request does not wait for it (a no-op without
    /// discovery). Failures are logged.
    pub(crate) async fn warm_up(&self) {
        self.discover().await;
    }

    /// Configured plus discovered providers (discovery served from the shared cache).
    pub(crate) async fn providers(&self) -> BTreeMap<String, ProviderConfig> {
        match self.discover().await {
            Some(resolved) => resolved.providers,
            None => self.explicit.clone(),
        }
    }

    /// Discovery merged into the configured providers (`None` without discovery). The one
    /// place a failed discovery is logged; it serves the configured providers.
    async fn discover(&self) -> Option<ProvidersOrExplicit> {
        let (discovery, request) = self.discovery.as_ref()?;
        let resolved = discovery
            .providers_or_explicit(request, &self.explicit)
            .await;
        if let Err(err) = &resolved.catalog {
            tracing::warn!(target: LOG_TARGET, "bedrock discovery failed, serving configured models only: {err}");
        }
        Some(resolved)
    }

    /// Resolves a request's model reference to its definition and stream; the key is
    /// `provider/id`.
    ///
    /// Reads a prebuilt table (model definition and adapter per `provider/id`), rebuilt only
    /// when the catalog behind it may have changed, so a request costs a lookup and an `Arc`
    /// clone instead of a merge of every provider's model list.
    pub(crate) async fn resolve(&self, model_ref: &ModelRef) -> Option<Arc<ResolvedModel>> {
        let table = self.model_table().await;
        table.get(model_ref.provider(), model_ref.model())
    }

    /// The model table, from the cache while it is fresh.
    async fn model_table(&self) -> Arc<ModelTable> {
        let cached = self.table.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(table) = cached.filter(|t| t.is_fresh()) {
            return table;
        }
        let table = match self.discover().await {
            None => Arc::new(ModelTable::new(
                &self.explicit,
                &self.streams,
                Validity::Forever,
            )),
            Some(ProvidersOrExplicit { providers, catalog }) => {
                // Discovery answers with this same listing until it is `ttl` old (and nothing
                // else asks it to refresh): the table stays valid as long. A failed or stale
                // discovery is for this request only.
                let ttl = self.discovery.as_ref().and_then(|(_, request)| request.ttl);
                let valid = match (ttl, &catalog) {
                    (Some(ttl), Ok(catalog)) if catalog.stale_error.is_none() => catalog
                        .fetched_at
                        .checked_add(ttl)
                        .map_or(Validity::ThisRequest, Validity::Until),
                    _ => Validity::ThisRequest,
                };
                Arc::new(ModelTable::new(&providers, &self.streams, valid))
            }
        };
        if table.valid != Validity::ThisRequest {
            *self.table.write().unwrap_or_else(|p| p.into_inner()) = Some(table.clone());
        }
        table
    }
}

/// A servable model: its definition and the adapter of its provider.
pub(crate) struct ResolvedModel {
    pub(crate) def: ModelDefinition,
    pub(crate) stream: Arc<dyn ModelStream>,
}

/// How long a [`ModelTable`] may be reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    /// Built from a failed or uncached discovery: for this request only.
    ThisRequest,
    /// No discovery behind it: for ever.
    Forever,
    /// Until the listing behind it expires.
    Until(SystemTime),
}

/// Every servable model by provider and id.
struct ModelTable {
    models: HashMap<String, HashMap<String, Arc<ResolvedModel>>>,
    valid: Validity,
}

impl ModelTable {
    fn new(
        providers: &BTreeMap<String, ProviderConfig>,
        streams: &BTreeMap<String, Arc<dyn ModelStream>>,
        valid: Validity,
    ) -> Self {
        let mut models: HashMap<String, HashMap<String, Arc<ResolvedModel>>> = HashMap::new();
        for (pid, provider) in providers {
            let Some(stream) = streams.get(pid) else {
                continue;
            };
            let by_id = models.entry(pid.clone()).or_default();
            for def in &provider.models {
                // The first definition of an id wins, as a linear search would find it.
                by_id.entry(def.id.clone()).or_insert_with(|| {
                    Arc::new(ResolvedModel {
                        def: def.clone(),
                        stream: stream.clone(),
                    })
                });
            }
        }
        ModelTable { models, valid }
    }

    fn get(&self, provider: &str, id: &str) -> Option<Arc<ResolvedModel>> {
        self.models.get(provider)?.get(id).cloned()
    }

    fn is_fresh(&self) -> bool {
        match self.valid {
            Validity::ThisRequest => false,
            Validity::Forever => true,
            Validity::Until(until) => SystemTime::now() < until,
        }
    }
}
