//! Where the served models come from: the configured providers, optionally Bedrock discovery,
//! and one [`ModelStream`] per provider; and how a request's model name finds its stream.
//!
//! Discovery never holds a request for long: a request is served from the last table built
//! (even a stale one) while a refresh runs in the background; only the very first one waits,
//! at most [`DISCOVERY_WAIT`], then goes on with the configured models. A failed discovery is
//! a warning (once, until it recovers), a metric and a `/readyz` detail; a well-formed Bedrock model id or ARN that is
//! not (yet) listed is still tried on Bedrock, which decides.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use openclaw_config::{BEDROCK_PROVIDER_ID, ModelDefinition, ModelRef, ProviderConfig};
use openclaw_creds::CredentialSource;
use openclaw_discovery::{Discovery, DiscoveryRequest, ProvidersOrExplicit};
use openclaw_stream::ModelStream;
use tokio::sync::watch;

use crate::LOG_TARGET;
use crate::api_error::client_safe_upstream_message;

/// Longest a request waits for a discovery when no table was built yet (the first requests
/// after start); later requests never wait.
pub(crate) const DISCOVERY_WAIT: Duration = Duration::from_secs(2);
/// Least time between two discovery attempts after a failure (requests keep being served from
/// the last table meanwhile).
const RETRY_FAILED: Duration = Duration::from_secs(10);

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
    /// The discovery state shared with the background refresh.
    shared: Arc<Shared>,
    /// Fallback chains and circuit breakers (see the failover module).
    pub(crate) failover: Option<Arc<crate::chain::FailoverState>>,
}

/// What the background refresh updates.
struct Shared {
    /// The last table built (fresh or not; see [`ModelSource::resolve`]).
    table: watch::Sender<Option<Arc<ModelTable>>>,
    /// A refresh is running.
    refreshing: AtomicBool,
    health: Mutex<Health>,
    /// Failed discoveries (the metric; shared with `Metrics`).
    failures: Arc<AtomicU64>,
}

/// How discovery went lately.
#[derive(Default)]
struct Health {
    /// The last attempt's failure (cleared by a success), with when it happened.
    failure: Option<(Instant, String)>,
    /// A discovery succeeded once.
    succeeded: bool,
    /// A listing was obtained once: a discovery succeeded, or a cached listing was read.
    listed: bool,
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
            shared: Arc::new(Shared {
                table: watch::channel(None).0,
                refreshing: AtomicBool::new(false),
                health: Mutex::new(Health::default()),
                failures: Arc::new(AtomicU64::new(0)),
            }),
            failover: None,
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
        self.served_models()
            .await
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    /// The counter of failed discoveries (rendered by the metrics).
    pub(crate) fn discovery_failures(&self) -> Arc<AtomicU64> {
        self.shared.failures.clone()
    }

    /// Fills the discovery cache and the model table, so the first request does not wait for
    /// them (a no-op without discovery). Failures are logged.
    pub(crate) async fn warm_up(&self) {
        if self.discovery.is_some() {
            let _ = self.refresh().await;
        }
    }

    /// Configured plus discovered providers, from the model table (see
    /// [`ModelSource::resolve`]: never a long wait on discovery).
    pub(crate) async fn providers(&self) -> BTreeMap<String, ProviderConfig> {
        self.model_table().await.providers.clone()
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

    /// A model not in the table that may still exist on Bedrock: a well-formed Bedrock model
    /// id, inference profile id or ARN of the `amazon-bedrock` provider, with a definition of
    /// default limits. Bedrock decides whether it exists (its error is returned).
    pub(crate) fn attempt(&self, model_ref: &ModelRef) -> Option<Arc<ResolvedModel>> {
        if model_ref.provider() != BEDROCK_PROVIDER_ID || !is_bedrock_model_id(model_ref.model()) {
            return None;
        }
        let stream = self.streams.get(BEDROCK_PROVIDER_ID)?.clone();
        let id = model_ref.model();
        Some(Arc::new(ResolvedModel {
            def: ModelDefinition::new(id, id),
            stream,
            chain: None,
        }))
    }

    /// Whether the listing is in doubt: discovery is on and its last attempt failed, or none
    /// has succeeded yet.
    pub(crate) fn discovery_in_doubt(&self) -> bool {
        if self.discovery.is_none() {
            return false;
        }
        let health = self.health();
        health.failure.is_some() || !health.succeeded
    }

    /// Whether the model listing is known: discovery is off, or a discovery succeeded or
    /// read a cached listing once. When not, starts a discovery in the background (at most
    /// one at a time, and not sooner than the retry pause after a failure), so a replica kept
    /// out of a balancer's rotation still retries.
    pub(crate) fn has_listing(&self) -> bool {
        if self.discovery.is_none() || self.health().listed {
            return true;
        }
        self.refresh_in_background();
        false
    }

    /// Discovery's state for `/readyz`: `off`, `ok`, `pending` or `failing: <why>` (the
    /// reason redacted as Bedrock errors shown to clients are).
    pub(crate) fn discovery_status(&self) -> String {
        if self.discovery.is_none() {
            return "off".into();
        }
        let health = self.health();
        match (&health.failure, health.succeeded) {
            (Some((_, why)), _) => format!("failing: {}", client_safe_upstream_message(why)),
            (None, true) => "ok".into(),
            (None, false) => "pending".into(),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        // Never held across an await or a panic-prone call; recover anyway.
        self.shared.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The model table: the last one built (a stale one starts a background refresh); before
    /// any, a refresh waited for at most [`DISCOVERY_WAIT`], then the configured models.
    async fn model_table(&self) -> Arc<ModelTable> {
        let cached = self.shared.table.borrow().clone();
        if let Some(table) = cached {
            if !table.is_fresh() {
                self.refresh_in_background();
            }
            return table;
        }
        if self.discovery.is_none() {
            let table = Arc::new(ModelTable::new(
                &self.explicit,
                &self.streams,
                Validity::Forever,
            ));
            self.shared.table.send_replace(Some(table.clone()));
            return table;
        }
        self.refresh_in_background();
        let mut built = self.shared.table.subscribe();
        let waited = tokio::time::timeout(DISCOVERY_WAIT, async {
            built
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|t| t.clone())
        })
        .await;
        match waited {
            Ok(Some(table)) => table,
            _ => {
                tracing::warn!(target: LOG_TARGET, "bedrock discovery is slow: serving the configured models until it answers");
                Arc::new(ModelTable::new(
                    &self.explicit,
                    &self.streams,
                    Validity::Stale,
                ))
            }
        }
    }

    /// Starts a refresh unless one is running or the last failure is too recent.
    fn refresh_in_background(&self) {
        let recent_failure = self
            .health()
            .failure
            .as_ref()
            .is_some_and(|(at, _)| at.elapsed() < RETRY_FAILED);
        if recent_failure || self.shared.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(refresh) = self.refresher() else {
            self.shared.refreshing.store(false, Ordering::Release);
            return;
        };
        tokio::spawn(refresh.run());
    }

    /// Refreshes now (waiting for it), unless a refresh is running.
    async fn refresh(&self) -> Option<()> {
        if self.shared.refreshing.swap(true, Ordering::AcqRel) {
            return None;
        }
        match self.refresher() {
            Some(refresh) => refresh.run().await,
            None => self.shared.refreshing.store(false, Ordering::Release),
        }
        Some(())
    }

    /// What a refresh needs, owned (it may outlive the request that started it).
    fn refresher(&self) -> Option<Refresh> {
        let (discovery, request) = self.discovery.clone()?;
        Some(Refresh {
            discovery,
            request,
            explicit: self.explicit.clone(),
            streams: self.streams.clone(),
            shared: self.shared.clone(),
        })
    }
}

/// One discovery and the table built from it.
struct Refresh {
    discovery: Arc<Discovery>,
    request: DiscoveryRequest,
    explicit: BTreeMap<String, ProviderConfig>,
    streams: BTreeMap<String, Arc<dyn ModelStream>>,
    shared: Arc<Shared>,
}

impl Refresh {
    async fn run(self) {
        let ProvidersOrExplicit { providers, catalog } = self
            .discovery
            .providers_or_explicit(&self.request, &self.explicit)
            .await;
        // Discovery answers with this same listing until it is `ttl` old (and nothing else
        // asks it to refresh): the table stays fresh as long. A failed or stale discovery
        // gives a stale table, served while the next refresh is tried.
        let failure = match &catalog {
            Ok(catalog) => catalog.stale_error.as_ref().map(ToString::to_string),
            Err(err) => Some(err.to_string()),
        };
        let valid = match (self.request.ttl, &catalog) {
            (Some(ttl), Ok(catalog)) if catalog.stale_error.is_none() => catalog
                .fetched_at
                .checked_add(ttl)
                .map_or(Validity::Stale, Validity::Until),
            _ => Validity::Stale,
        };
        {
            let mut health = self.shared.health.lock().unwrap_or_else(|p| p.into_inner());
            // A stale catalog is a listing too (read from the cache after a failed call).
            health.listed |= catalog.is_ok();
            // One warning when discovery starts failing (at start, or after working), the
            // retries that fail again at debug, one info line when it works again: a failing
            // discovery retried every few seconds must not flood the log.
            match &failure {
                Some(why) => {
                    if health.failure.is_none() {
                        tracing::warn!(target: LOG_TARGET, "bedrock discovery failed, serving the last listing or the configured models (retried in the background; logged again when it recovers): {why}");
                    } else {
                        tracing::debug!(target: LOG_TARGET, "bedrock discovery failed again: {why}");
                    }
                    self.shared.failures.fetch_add(1, Ordering::Relaxed);
                    health.failure = Some((Instant::now(), why.clone()));
                }
                None => {
                    if health.failure.take().is_some() {
                        tracing::info!(target: LOG_TARGET, "bedrock discovery recovered: serving the discovered models again");
                    }
                    health.succeeded = true;
                }
            }
        }
        // A failure keeps a previous table with its discovered models (marked stale) rather
        // than falling back to the configured models alone.
        let previous = self.shared.table.borrow().clone();
        let table = match (&failure, previous, catalog.is_err()) {
            (Some(_), Some(previous), true) => Arc::new(previous.stale()),
            _ => Arc::new(ModelTable::new(&providers, &self.streams, valid)),
        };
        self.shared.table.send_replace(Some(table));
        self.shared.refreshing.store(false, Ordering::Release);
    }
}

/// Whether `id` is shaped like a Bedrock model id (`vendor.model-v1:0`), an inference profile
/// id (`us.vendor.model-v1:0`) or a Bedrock ARN: worth trying on Bedrock even when unlisted.
pub(crate) fn is_bedrock_model_id(id: &str) -> bool {
    if let Some(rest) = id.strip_prefix("arn:") {
        let mut parts = rest.splitn(5, ':');
        let (partition, service, region, _account, resource) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        );
        return partition.is_some_and(|p| p.starts_with("aws"))
            && service == Some("bedrock")
            && region.is_some_and(|r| !r.is_empty())
            && resource.is_some_and(|r| r.contains('/') && !r.ends_with('/'));
    }
    let Some((vendor, model)) = id.split_once('.') else {
        return false;
    };
    let simple = |s: &str| {
        !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_')
            })
    };
    let versioned = match model.rsplit_once(':') {
        Some((name, version)) => {
            simple(name) && !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit())
        }
        None => model.rsplit_once("-v").is_some_and(|(name, v)| {
            simple(name) && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
        }),
    };
    id.len() <= 256
        && vendor
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase())
        && simple(vendor)
        && versioned
}

impl ModelSource {
    /// An unlisted Bedrock ARN's traits (`Discovery::describe`: `GetInferenceProfile` for a
    /// profile, the base model's limits, reasoning, input and prices) in place of the default
    /// ones [`ModelSource::attempt`] gives; unchanged without discovery, for a model id that is
    /// not an ARN, or when describing fails or takes longer than [`DISCOVERY_WAIT`] (Bedrock
    /// still decides; the failure is logged).
    pub(crate) async fn described(&self, model: Arc<ResolvedModel>) -> Arc<ResolvedModel> {
        let Some((discovery, request)) = &self.discovery else {
            return model;
        };
        let id = model.def.id.clone();
        if !id.starts_with("arn:") {
            return model;
        }
        // A request never waits long on the control plane: past DISCOVERY_WAIT, defaults.
        let described =
            tokio::time::timeout(DISCOVERY_WAIT, discovery.describe(request, &id)).await;
        let def = match described {
            Ok(Ok(Some(def))) => def,
            Ok(Ok(None)) => return model,
            Ok(Err(err)) => {
                tracing::warn!(target: LOG_TARGET, "cannot describe {}, using default limits: {err}", crate::log::escape(&id));
                return model;
            }
            Err(_) => {
                tracing::warn!(target: LOG_TARGET, "describing {} is slow, using default limits", crate::log::escape(&id));
                return model;
            }
        };
        // `attempt` made this `Arc` and nothing else holds it.
        match Arc::try_unwrap(model) {
            Ok(mut resolved) => {
                resolved.def = def;
                Arc::new(resolved)
            }
            Err(shared) => shared,
        }
    }
}

/// A servable model: its definition and the adapter of its provider.
pub(crate) struct ResolvedModel {
    pub(crate) def: ModelDefinition,
    pub(crate) stream: Arc<dyn ModelStream>,
    /// The failover chain behind `stream`, when it is one (see the failover module).
    pub(crate) chain: Option<crate::chain::Chain>,
}

/// How long a [`ModelTable`] is fresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Validity {
    /// Built from a failed, stale or uncached discovery: served, and refreshed.
    Stale,
    /// No discovery behind it: for ever.
    Forever,
    /// Until the listing behind it expires.
    Until(SystemTime),
}

/// Every servable model by provider and id.
struct ModelTable {
    models: HashMap<String, HashMap<String, Arc<ResolvedModel>>>,
    /// The providers the table was built from (for listings).
    providers: BTreeMap<String, ProviderConfig>,
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
                        // The provider's guardrail and pass-through fields under the model's.
                        def: provider.model_with_defaults(def),
                        stream: stream.clone(),
                        chain: None,
                    })
                });
            }
        }
        ModelTable {
            models,
            providers: providers.clone(),
            valid,
        }
    }

    /// The same models, to be refreshed.
    fn stale(&self) -> Self {
        ModelTable {
            models: self.models.clone(),
            providers: self.providers.clone(),
            valid: Validity::Stale,
        }
    }

    fn get(&self, provider: &str, id: &str) -> Option<Arc<ResolvedModel>> {
        self.models.get(provider)?.get(id).cloned()
    }

    fn is_fresh(&self) -> bool {
        match self.valid {
            Validity::Stale => false,
            Validity::Forever => true,
            Validity::Until(until) => SystemTime::now() < until,
        }
    }
}
