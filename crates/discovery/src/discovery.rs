//! [`Discovery`]: the cached, single-flight front of a [`ControlPlane`].

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use openclaw_config::{BedrockDiscoveryConfig, ModelDefinition, ProviderConfig};
use openclaw_creds::AwsSettings;

use crate::clock::{self, Clock, SystemClock};
use crate::disk;
use crate::error::Error;
use crate::listing::{FoundationModel, Listing};
use crate::map::{MappingOptions, application_definition, build_models};
use crate::merge::resolve_providers;
use crate::plane::{ControlPlane, SdkControlPlane};

/// The default bound on one discovery (both listings, every page, all retries): 30 s, as OpenClaw.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How a [`Discovery`] behaves, independent of any one request.
#[derive(Clone, Debug)]
pub struct DiscoveryOptions {
    /// Bound on one discovery; a hung endpoint yields [`Error::Timeout`] after it.
    pub timeout: Duration,
    /// Directory of the on-disk cache (e.g. `<state dir>/cache`); `None` keeps the cache in
    /// memory only.
    pub disk_cache_dir: Option<PathBuf>,
    /// The clock TTLs are measured with.
    pub clock: Arc<dyn Clock>,
}

impl Default for DiscoveryOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            disk_cache_dir: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl DiscoveryOptions {
    /// Enables the on-disk cache under `<state_dir>/cache` (see `openclaw_config`'s state dir:
    /// `OPENCLAW_STATE_DIR`, else `~/.openclaw`).
    pub fn with_state_dir(mut self, state_dir: impl Into<PathBuf>) -> Self {
        self.disk_cache_dir = Some(state_dir.into().join("cache"));
        self
    }
}

/// One discovery request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveryRequest {
    /// The region to list in (resolve it with `openclaw_creds`; the discovery `region` option
    /// first).
    pub region: String,
    /// Filter and defaults.
    pub mapping: MappingOptions,
    /// How long a listing stays fresh; `None` disables caching (`refreshInterval: 0`).
    pub ttl: Option<Duration>,
    /// Ignore fresh cache entries (memory and disk) and call AWS (`models list --refresh`): the
    /// caller gets a listing fetched by its own call or by an in-flight call to AWS it joins,
    /// never one read from a cache (except as the stale-on-error fallback, with
    /// [`Catalog::stale_error`] set).
    pub refresh: bool,
}

impl DiscoveryRequest {
    /// The request the effective discovery configuration describes, for `region`.
    pub fn from_config(config: &BedrockDiscoveryConfig, region: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            mapping: MappingOptions::from_config(config),
            ttl: (config.refresh_interval > 0)
                .then(|| Duration::from_secs(config.refresh_interval)),
            refresh: false,
        }
    }

    /// The same request, forcing a call to AWS.
    pub fn refreshed(mut self) -> Self {
        self.refresh = true;
        self
    }
}

/// The result of a discovery.
#[derive(Clone, Debug, PartialEq)]
pub struct Catalog {
    /// The region listed.
    pub region: String,
    /// The discovered models (filtered, mapped, de-duplicated, sorted).
    pub models: Vec<ModelDefinition>,
    /// When the listing behind these models was fetched from AWS.
    pub fetched_at: SystemTime,
    /// Whether the listing came from a cache (memory or disk) rather than this call.
    pub from_cache: bool,
    /// Set when a refresh failed and this catalog is the last good one (stale-on-error).
    pub stale_error: Option<Error>,
    /// Problems that did not stop discovery (see [`Listing::warnings`]).
    pub warnings: Vec<String>,
}

impl Catalog {
    /// The user's explicit providers merged with these models (see
    /// [`resolve_providers`](crate::resolve_providers)).
    pub fn providers(
        &self,
        explicit: &BTreeMap<String, ProviderConfig>,
    ) -> BTreeMap<String, ProviderConfig> {
        resolve_providers(explicit, Some(&self.models), &self.region)
    }
}

/// The outcome of [`Discovery::providers_or_explicit`].
#[derive(Clone, Debug, PartialEq)]
pub struct ProvidersOrExplicit {
    /// The explicit providers merged with the discovered models, or the explicit providers
    /// unchanged when discovery failed.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// The discovery behind them: its catalog (possibly stale, see [`Catalog::stale_error`]),
    /// or why it failed.
    pub catalog: Result<Catalog, Error>,
}

/// What a status command can show about one region's cache.
#[derive(Clone, Debug, PartialEq)]
pub struct CacheStatus {
    /// When the last good listing was fetched, if any.
    pub fetched_at: Option<SystemTime>,
    /// Its age now (by the discovery's clock).
    pub age: Option<Duration>,
    /// The last failure and when it happened; cleared by the next success.
    pub last_error: Option<(SystemTime, Error)>,
    /// Whether a discovery is running.
    pub in_flight: bool,
}

/// What the on-disk cache holds for one request, read without calling AWS (for a status
/// command's "cache age"); see [`Discovery::disk_status`].
#[derive(Clone, Debug, PartialEq)]
pub struct DiskCacheStatus {
    /// The cache file.
    pub path: PathBuf,
    /// When its listing was fetched from AWS.
    pub fetched_at: SystemTime,
    /// Its age now (by the discovery's clock); `None` when `fetched_at` is in the future.
    pub age: Option<Duration>,
    /// Whether it is younger than the request's TTL, i.e. a [`Discovery::discover`] in a new
    /// process would use it without calling AWS. Always false with `refreshInterval: 0`.
    pub fresh: bool,
    /// How many models the request's filter and defaults make of it.
    pub model_count: usize,
}

#[derive(Clone, Debug)]
struct Fetched {
    listing: Arc<Listing>,
    fetched_at: SystemTime,
    /// Loaded from the disk cache rather than from AWS.
    from_disk: bool,
}

/// The outcome shared by every caller of one in-flight discovery: the listing, or the error and
/// whatever the disk still holds (however old) for stale-on-error.
type Outcome = Result<Fetched, (Error, Option<Fetched>)>;
type InFlight = Shared<BoxFuture<'static, Outcome>>;

/// One in-flight discovery.
struct Flight {
    generation: u64,
    /// `Some(ttl)` when the flight may answer from a disk entry younger than `ttl` instead of
    /// calling AWS; `None` when it always calls AWS.
    disk_ttl: Option<Duration>,
    future: InFlight,
}

impl Flight {
    /// Whether `request` may share this flight's answer: always when the flight calls AWS;
    /// otherwise only when the request accepts cached answers at least as old as the flight's.
    /// A `refresh` or `refreshInterval: 0` request never joins a flight that may read the disk.
    fn serves(&self, request: &DiscoveryRequest) -> bool {
        match self.disk_ttl {
            None => true,
            Some(flight_ttl) => !request.refresh && request.ttl.is_some_and(|t| flight_ttl <= t),
        }
    }
}

#[derive(Default)]
struct Slot {
    good: Option<Fetched>,
    last_error: Option<(SystemTime, Error)>,
    in_flight: Option<Flight>,
}

struct Inner {
    plane: Arc<dyn ControlPlane>,
    options: DiscoveryOptions,
    slots: Mutex<HashMap<String, Slot>>,
    next_generation: std::sync::atomic::AtomicU64,
    /// Profiles described by [`Discovery::describe`], by identifier (successes only).
    described: Mutex<HashMap<String, crate::listing::InferenceProfile>>,
}

/// Cached Bedrock model discovery. Cheap to clone (an `Arc` inside); clones share one cache.
///
/// - A fresh entry (younger than the request's TTL) is served without calling AWS.
/// - On a miss, concurrent callers for the same region share **one** in-flight discovery
///   (single-flight); it is bounded by [`DiscoveryOptions::timeout`]. A `refresh` caller only
///   joins an in-flight call to AWS, never one that may answer from the disk cache.
/// - On a failure with an older good listing (memory, else disk), that listing is served with
///   [`Catalog::stale_error`] set; with none, the error is returned.
/// - With a disk cache directory, a miss in memory first looks for a fresh file, and every
///   successful fetch is written back, so short-lived processes share one listing per TTL.
///
/// The cache holds raw listings keyed on the region and the control plane's identity (endpoint,
/// credential source); the filter and defaults are applied per request, so changing them never
/// calls AWS.
#[derive(Clone)]
pub struct Discovery {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("plane", &self.inner.plane)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl Discovery {
    /// A discovery over `plane`.
    pub fn new(plane: Arc<dyn ControlPlane>, options: DiscoveryOptions) -> Self {
        Self {
            inner: Arc::new(Inner {
                plane,
                options,
                slots: Mutex::new(HashMap::new()),
                next_generation: std::sync::atomic::AtomicU64::new(0),
                described: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A discovery over the real control plane ([`SdkControlPlane::from_settings`]): the
    /// credentials, auth scheme and endpoint override of `settings`, the cache identity they
    /// imply. The usual constructor; [`Discovery::new`] takes any [`ControlPlane`].
    pub fn from_settings(settings: &AwsSettings, options: DiscoveryOptions) -> Self {
        Self::new(Arc::new(SdkControlPlane::from_settings(settings)), options)
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // The lock is never held across an await or a panic-prone call; recover anyway.
        self.inner.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Discovers the models of `request.region`, through the cache.
    pub async fn discover(&self, request: &DiscoveryRequest) -> Result<Catalog, Error> {
        let now = self.inner.options.clock.now();
        let (generation, flight) = {
            let mut slots = self.slots();
            let slot = slots.entry(request.region.clone()).or_default();
            if let (false, Some(ttl), Some(good)) = (request.refresh, request.ttl, &slot.good)
                && clock::fresh(now, good.fetched_at, ttl)
            {
                return Ok(self.catalog(request, good, true, None));
            }
            match slot.in_flight.as_ref().filter(|f| f.serves(request)) {
                Some(flight) => (flight.generation, flight.future.clone()),
                None => {
                    // No flight, or one whose answer may come from a cache this caller must
                    // not use: start another and make it the one later callers join (the
                    // replaced flight still finishes for the callers already waiting on it).
                    let generation = self
                        .inner
                        .next_generation
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let disk_ttl = request.ttl.filter(|_| !request.refresh);
                    let future = self.start(request.region.clone(), request.ttl, disk_ttl);
                    slot.in_flight = Some(Flight {
                        generation,
                        disk_ttl,
                        future: future.clone(),
                    });
                    (generation, future)
                }
            }
        };

        let outcome = flight.await;

        let mut slots = self.slots();
        let slot = slots.entry(request.region.clone()).or_default();
        if slot
            .in_flight
            .as_ref()
            .is_some_and(|f| f.generation == generation)
        {
            slot.in_flight = None;
        }
        match outcome {
            Ok(fetched) => {
                if slot
                    .good
                    .as_ref()
                    .is_none_or(|g| g.fetched_at <= fetched.fetched_at)
                {
                    slot.good = Some(fetched.clone());
                }
                if !fetched.from_disk {
                    slot.last_error = None;
                }
                Ok(self.catalog(request, &fetched, fetched.from_disk, None))
            }
            Err((error, disk_fallback)) => {
                let failed_at = self.inner.options.clock.now();
                slot.last_error = Some((failed_at, error.clone()));
                if slot.good.is_none() {
                    slot.good = disk_fallback;
                }
                match &slot.good {
                    Some(good) => {
                        // A debug line: the caller says what the failure means for its user
                        // (`Catalog::stale_error`; the gateway warns once when discovery starts
                        // failing, as OpenClaw does, and the CLI prints it).
                        tracing::debug!(%error, region = %request.region, "bedrock discovery failed; serving the last good catalog");
                        Ok(self.catalog(request, good, true, Some(error)))
                    }
                    None => Err(error),
                }
            }
        }
    }

    /// Discovers (through the cache, as [`Discovery::discover`]) and merges the catalog into the
    /// user's `explicit` providers; when discovery fails, the explicit providers alone.
    ///
    /// The one place that decides what a failed discovery serves. It does not log: the caller
    /// says what the failure means for its user (a warning on a terminal, a log line in a
    /// server), from [`ProvidersOrExplicit::catalog`].
    pub async fn providers_or_explicit(
        &self,
        request: &DiscoveryRequest,
        explicit: &BTreeMap<String, ProviderConfig>,
    ) -> ProvidersOrExplicit {
        let catalog = self.discover(request).await;
        let providers = match &catalog {
            Ok(catalog) => catalog.providers(explicit),
            Err(_) => resolve_providers(explicit, None, &request.region),
        };
        ProvidersOrExplicit { providers, catalog }
    }

    /// Describes a model named by a Bedrock ARN that discovery did not list, so it can still be
    /// used (Bedrock decides whether the caller may invoke it):
    ///
    /// - a foundation-model ARN: the known-models table's traits for its model id;
    /// - a system or application inference-profile ARN: `GetInferenceProfile` (in the ARN's
    ///   region, answers remembered for the life of this `Discovery`), then the base model's
    ///   traits (from the cached listing of the region when it has the model, else the table),
    ///   under the profile's name, with `baseModel` set;
    /// - any other Bedrock ARN (provisioned throughput, custom or imported model, prompt
    ///   router): the configured defaults, nothing known about the model behind it.
    ///
    /// The definition's id is `arn` as given. Text that is not a Bedrock ARN gives `Ok(None)`,
    /// as does a control plane that cannot describe profiles. Bounded by
    /// [`DiscoveryOptions::timeout`].
    pub async fn describe(
        &self,
        request: &DiscoveryRequest,
        arn: &str,
    ) -> Result<Option<ModelDefinition>, Error> {
        let Some((region, kind, resource)) = parse_arn(arn) else {
            return Ok(None);
        };
        let mapping = &request.mapping;
        let region = if region.is_empty() {
            request.region.as_str()
        } else {
            region
        };
        let mut definition = match kind {
            "foundation-model" => {
                let base = self.listed_model(region, resource);
                let name = base
                    .as_ref()
                    .and_then(|b| b.model_name.clone())
                    .unwrap_or_else(|| resource.to_string());
                let profile = crate::listing::InferenceProfile {
                    inference_profile_name: name,
                    model_arns: vec![arn.to_string()],
                    ..Default::default()
                };
                application_definition(&profile, resource, base.as_ref(), mapping)
            }
            "inference-profile" | "application-inference-profile" => {
                let Some(profile) = self.described_profile(region, arn).await? else {
                    return Ok(None);
                };
                match profile.base_model_id() {
                    Some(base_id) => {
                        let base = self.listed_model(region, base_id);
                        application_definition(&profile, base_id, base.as_ref(), mapping)
                    }
                    None => ModelDefinition::new(arn, profile.inference_profile_name.trim()),
                }
            }
            _ => {
                let mut definition = ModelDefinition::new(arn, arn);
                definition.context_window = mapping.default_context_window;
                definition.max_tokens = mapping.default_max_tokens;
                definition
            }
        };
        definition.id = arn.to_string();
        if definition.name.trim().is_empty() {
            definition.name = arn.to_string();
        }
        Ok(Some(definition))
    }

    async fn described_profile(
        &self,
        region: &str,
        arn: &str,
    ) -> Result<Option<crate::listing::InferenceProfile>, Error> {
        let remembered = self
            .inner
            .described
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(arn)
            .cloned();
        if let Some(profile) = remembered {
            return Ok(Some(profile));
        }
        let timeout = self.inner.options.timeout;
        let described =
            match tokio::time::timeout(timeout, self.inner.plane.describe_profile(region, arn))
                .await
            {
                Ok(result) => result?,
                Err(_) => {
                    return Err(Error::Timeout {
                        region: region.to_string(),
                        timeout,
                    });
                }
            };
        if let Some(profile) = &described {
            self.inner
                .described
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(arn.to_string(), profile.clone());
        }
        Ok(described)
    }

    /// The foundation model `model_id` from the last good listing of `region`, if any.
    fn listed_model(&self, region: &str, model_id: &str) -> Option<FoundationModel> {
        let slots = self.slots();
        let listing = &slots.get(region)?.good.as_ref()?.listing;
        listing
            .foundation_models
            .iter()
            .find(|m| m.model_id.trim().eq_ignore_ascii_case(model_id))
            .cloned()
    }

    /// What the cache knows about `region`, for a status command.
    pub fn status(&self, region: &str) -> CacheStatus {
        let now = self.inner.options.clock.now();
        let slots = self.slots();
        let slot = slots.get(region);
        let fetched_at = slot.and_then(|s| s.good.as_ref()).map(|g| g.fetched_at);
        CacheStatus {
            fetched_at,
            age: fetched_at.and_then(|at| clock::age(now, at)),
            last_error: slot.and_then(|s| s.last_error.clone()),
            in_flight: slot.is_some_and(|s| s.in_flight.is_some()),
        }
    }

    /// What the on-disk cache holds for `request` (its region, this discovery's control plane
    /// identity), read from the file without calling AWS, for a status command's "cache age".
    ///
    /// `None` when there is no disk cache directory, no file for this key, or the file is
    /// corrupt or of another format (a discovery would ignore it too).
    pub async fn disk_status(&self, request: &DiscoveryRequest) -> Option<DiskCacheStatus> {
        let dir = self.inner.options.disk_cache_dir.as_ref()?;
        let key = self.disk_key(&request.region);
        let (fetched_at, listing) = disk::load(dir, &key).await?;
        let now = self.inner.options.clock.now();
        Some(DiskCacheStatus {
            path: disk::path(dir, &key),
            fetched_at,
            age: clock::age(now, fetched_at),
            fresh: request
                .ttl
                .is_some_and(|ttl| clock::fresh(now, fetched_at, ttl)),
            model_count: build_models(&listing, &request.mapping).len(),
        })
    }

    fn disk_key(&self, region: &str) -> disk::Key {
        disk_key(&self.inner, region)
    }

    fn catalog(
        &self,
        request: &DiscoveryRequest,
        fetched: &Fetched,
        from_cache: bool,
        stale_error: Option<Error>,
    ) -> Catalog {
        Catalog {
            region: request.region.clone(),
            models: build_models(&fetched.listing, &request.mapping),
            fetched_at: fetched.fetched_at,
            from_cache,
            stale_error,
            warnings: fetched.listing.warnings.clone(),
        }
    }

    /// The shared future of one discovery: a disk entry younger than `disk_ttl` if given, else
    /// AWS (bounded by the timeout), writing the result back to disk when `ttl` allows caching.
    fn start(&self, region: String, ttl: Option<Duration>, disk_ttl: Option<Duration>) -> InFlight {
        let inner = Arc::clone(&self.inner);
        async move {
            let key = disk_key(&inner, &region);
            let dir = inner.options.disk_cache_dir.clone().filter(|_| ttl.is_some());
            let on_disk = match &dir {
                Some(dir) => disk::load(dir, &key).await,
                None => None,
            };
            let on_disk = on_disk.map(|(fetched_at, listing)| Fetched {
                listing: Arc::new(listing),
                fetched_at,
                from_disk: true,
            });
            if let (Some(disk_ttl), Some(entry)) = (disk_ttl, &on_disk)
                && clock::fresh(inner.options.clock.now(), entry.fetched_at, disk_ttl)
            {
                return Ok(entry.clone());
            }

            let timeout = inner.options.timeout;
            let result = match tokio::time::timeout(timeout, inner.plane.fetch(&region)).await {
                Ok(result) => result,
                Err(_) => Err(Error::Timeout {
                    region: region.clone(),
                    timeout,
                }),
            };
            match result {
                Ok(listing) => {
                    let fetched_at = inner.options.clock.now();
                    if let Some(dir) = &dir
                        && let Err(err) = disk::store(dir, &key, fetched_at, &listing).await
                    {
                        tracing::warn!(dir = %dir.display(), %err, "could not write the bedrock discovery cache");
                    }
                    Ok(Fetched {
                        listing: Arc::new(listing),
                        fetched_at,
                        from_disk: false,
                    })
                }
                Err(error) => Err((error, on_disk)),
            }
        }
        .boxed()
        .shared()
    }
}

/// `(region, resource type, resource id)` of `arn:<partition>:bedrock:<region>:<account>:<type>/<id>`.
fn parse_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let fields: Vec<&str> = rest.splitn(5, ':').collect();
    let [_, "bedrock", region, _account, resource] = fields.as_slice() else {
        return None;
    };
    let (kind, id) = resource.split_once('/')?;
    (!kind.is_empty() && !id.is_empty()).then_some((region, kind, id))
}

fn disk_key(inner: &Inner, region: &str) -> disk::Key {
    disk::Key {
        region: region.to_string(),
        identity: inner.plane.cache_identity(),
    }
}

#[cfg(test)]
#[path = "discovery_tests.rs"]
mod tests;
