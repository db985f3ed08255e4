//! The models of one configuration: its explicit providers, merged with what discovery finds
//! when it runs, and a model reference resolved to a definition and the AWS settings to call it
//! with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use openclaw_config::{
    BedrockDiscoveryConfig, Config, ModelApi, ModelDefinition, ModelRef, ModelsMode, ProviderConfig,
};
use openclaw_creds::{AwsSettings, ConnectionPool, CredentialSource, Env, ResolvedRegion};

use crate::{
    Catalog, Discovery, DiscoveryOptions, DiscoveryRequest, DiskCacheStatus, Error, MappingOptions,
    PROVIDER_ID, ProviderFilter, ProvidersOrExplicit, implicit_provider, should_discover,
};

/// A configuration with its credential source, discovery region and AWS settings resolved,
/// offline: what listing, status, chat and serving resolve models against.
///
/// ```no_run
/// use openclaw_discovery::ModelResolver;
///
/// # async fn run() -> Result<(), openclaw_discovery::Error> {
/// let config = openclaw_config::Config::default();
/// let env = openclaw_creds::Env::from_process();
/// let resolver = ModelResolver::new(config, &env, Some("/home/me/.openclaw".as_ref()))?;
/// let models = resolver.resolve(false, false).await;
/// for row in resolver.rows(&models, None) {
///     println!("{} {:?}", row.key, row.context_window);
/// }
/// let target = resolver.target(None).await?; // agents.defaults.model.primary
/// println!("{} in {}", target.model.id, target.settings.region());
/// # Ok(())
/// # }
/// ```
// No `Debug`: the environment it keeps holds secrets.
#[derive(Clone)]
pub struct ModelResolver {
    config: Config,
    discovery: BedrockDiscoveryConfig,
    credentials: CredentialSource,
    region: ResolvedRegion,
    settings: AwsSettings,
    env: Env,
    state_dir: Option<PathBuf>,
}

/// Whether discovery runs for a configuration, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscoveryDecision {
    /// Discovery runs.
    pub enabled: bool,
    /// Why, as a sentence for the user.
    pub reason: String,
}

/// What happened to discovery while models were resolved.
#[derive(Clone, Debug, PartialEq)]
pub enum DiscoveryOutcome {
    /// Discovery did not run.
    Off {
        /// Why (see [`DiscoveryDecision::reason`]).
        reason: String,
    },
    /// Discovery ran (possibly answered from a cache): its catalog, or why it failed.
    Ran(Result<Catalog, Error>),
}

/// The models of a configuration (see [`ModelResolver::resolve`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedModels {
    /// The explicit providers merged with the discovered `amazon-bedrock` provider (the
    /// explicit ones alone when discovery is off or failed).
    pub providers: BTreeMap<String, ProviderConfig>,
    /// What happened to discovery.
    pub discovery: DiscoveryOutcome,
    /// Discovered models the provider filter hides; filled only when asked for.
    pub filtered_out: Vec<ModelDefinition>,
}

/// A model ready to be called (see [`ModelResolver::target`]).
#[derive(Clone)]
pub struct ModelTarget {
    /// The reference resolved.
    pub model_ref: ModelRef,
    /// The model's definition (limits, prices, reasoning) under its provider's defaults
    /// (guardrail, pass-through request and response fields).
    pub model: ModelDefinition,
    /// The AWS settings of the provider: its runtime region and endpoint.
    pub settings: AwsSettings,
    /// Problems that did not stop the resolution, for the user (an ARN that could not be
    /// described is used with the default limits).
    pub warnings: Vec<String>,
}

/// The fallbacks of a model (see [`ModelResolver::fallbacks`]).
pub struct Fallbacks {
    /// The targets to try, in order.
    pub targets: Vec<ModelTarget>,
    /// The references left out, with why.
    pub skipped: Vec<(ModelRef, Error)>,
}

impl ModelResolver {
    /// Detects the credential source and resolves the discovery region and AWS settings of
    /// `config` in `env` (offline, no network). Discovery caches on disk under `state_dir`
    /// when one is given.
    ///
    /// Fails with [`Error::Aws`] when the region or an endpoint is invalid; an invalid region
    /// set in the configuration has the origin `RegionSource::Config`.
    pub fn new(config: Config, env: &Env, state_dir: Option<&Path>) -> Result<Self, Error> {
        let discovery = config.bedrock_discovery();
        let credentials = openclaw_creds::detect(env);
        let base_url = config
            .provider(PROVIDER_ID)
            .and_then(|p| p.base_url.as_deref());
        let region = openclaw_creds::resolve_region(discovery.region.as_deref(), base_url, env)?;
        let settings = AwsSettings::from_env(env, &region, base_url)?;
        Ok(ModelResolver {
            config,
            discovery,
            credentials,
            region,
            settings,
            env: env.clone(),
            state_dir: state_dir.map(Path::to_path_buf),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The effective discovery settings of the configuration.
    pub fn discovery_config(&self) -> &BedrockDiscoveryConfig {
        &self.discovery
    }

    /// Where credentials come from (offline detection).
    pub fn credentials(&self) -> &CredentialSource {
        &self.credentials
    }

    /// The discovery region and where it came from.
    pub fn region(&self) -> &ResolvedRegion {
        &self.region
    }

    /// The AWS settings discovery (and the implicit `amazon-bedrock` provider) uses.
    pub fn settings(&self) -> &AwsSettings {
        &self.settings
    }

    /// The same resolver whose AWS settings (discovery's, and every provider's from
    /// [`ModelResolver::provider_settings`]) use the idle-connection pool `pool`.
    #[must_use]
    pub fn with_connection_pool(mut self, pool: ConnectionPool) -> Self {
        self.settings = self.settings.with_connection_pool(pool);
        self
    }

    /// The AWS settings a provider of the configuration is called with (see
    /// `AwsSettings::for_provider`): its region and endpoint, with this resolver's environment
    /// and connection pool.
    pub fn provider_settings(&self, provider: &ProviderConfig) -> Result<AwsSettings, Error> {
        let settings = AwsSettings::for_provider(&self.env, provider)?;
        let pool = self.settings.connection_pool();
        Ok(if settings.connection_pool() == pool {
            settings
        } else {
            settings.with_connection_pool(pool)
        })
    }

    /// Whether discovery runs (see [`should_discover`]), and why. `models.mode: "replace"`
    /// (only the explicit providers are used) turns it off whatever `enabled` says.
    pub fn discovery_decision(&self) -> DiscoveryDecision {
        if self.replaces_implicit() {
            return DiscoveryDecision {
                enabled: false,
                reason: "`models.mode` is `replace` in the configuration: only the providers it lists are used".to_string(),
            };
        }
        let enabled = should_discover(&self.discovery, &self.credentials);
        let reason = match self.discovery.enabled {
            Some(true) => "discovery `enabled` is true in the configuration".to_string(),
            Some(false) => "discovery `enabled` is false in the configuration".to_string(),
            None if enabled => format!("AWS credentials detected ({})", self.credentials),
            None => "no AWS credentials detected (set AWS_PROFILE, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY or AWS_BEARER_TOKEN_BEDROCK; on EC2 with an instance role set AWS_PROFILE=default)".to_string(),
        };
        DiscoveryDecision { enabled, reason }
    }

    /// The discovery (with its disk cache under the state directory) and the request of this
    /// configuration, when discovery runs (see [`ModelResolver::discovery_decision`]).
    pub fn discovery(&self) -> Option<(Discovery, DiscoveryRequest)> {
        self.discovery_decision()
            .enabled
            .then(|| self.new_discovery())
    }

    /// `models.mode: "replace"`: no implicit (discovered) provider.
    fn replaces_implicit(&self) -> bool {
        self.config.models.mode == Some(ModelsMode::Replace)
    }

    fn new_discovery(&self) -> (Discovery, DiscoveryRequest) {
        let mut options = DiscoveryOptions::default();
        if let Some(state) = &self.state_dir {
            options = options.with_state_dir(state);
        }
        let discovery = Discovery::from_settings(&self.settings, options);
        let request = DiscoveryRequest::from_config(&self.discovery, &self.region.region);
        (discovery, request)
    }

    /// What the disk cache holds for this configuration's discovery, read without calling AWS
    /// (`None` when discovery is off or nothing usable is cached).
    pub async fn disk_status(&self) -> Option<DiskCacheStatus> {
        let (discovery, request) = self.discovery()?;
        discovery.disk_status(&request).await
    }

    /// Whether `model` is one of the configuration's explicit provider models (resolving it
    /// needs no discovery).
    pub fn is_configured(&self, model: &ModelRef) -> bool {
        self.configured(model).is_some()
    }

    fn configured(&self, model: &ModelRef) -> Option<(&ProviderConfig, &ModelDefinition)> {
        let provider = self.config.provider(model.provider())?;
        let def = provider.models.iter().find(|m| m.id == model.model())?;
        Some((provider, def))
    }

    /// Runs discovery when it is on (through the caches; `refresh` asks AWS again) and merges
    /// the result with the explicit providers. A failed discovery leaves the explicit providers
    /// and says why in [`ResolvedModels::discovery`]. With `include_filtered`, also lists the
    /// discovered models the provider filter hides.
    pub async fn resolve(&self, refresh: bool, include_filtered: bool) -> ResolvedModels {
        let explicit = &self.config.models.providers;
        let decision = self.discovery_decision();
        if !decision.enabled {
            return ResolvedModels {
                providers: explicit.clone(),
                discovery: DiscoveryOutcome::Off {
                    reason: decision.reason,
                },
                filtered_out: Vec::new(),
            };
        }
        let (discovery, mut request) = self.new_discovery();
        if refresh {
            request = request.refreshed();
        }
        let ProvidersOrExplicit { providers, catalog } =
            discovery.providers_or_explicit(&request, explicit).await;
        let mut filtered_out = Vec::new();
        if include_filtered
            && let Ok(catalog) = &catalog
            && !request.mapping.provider_filter.is_empty()
        {
            let mut unfiltered = request.clone();
            unfiltered.mapping.provider_filter = ProviderFilter::default();
            unfiltered.refresh = false;
            if let Ok(everything) = discovery.discover(&unfiltered).await {
                filtered_out = everything
                    .models
                    .into_iter()
                    .filter(|m| !catalog.models.iter().any(|k| k.id == m.id))
                    .collect();
            }
        }
        ResolvedModels {
            providers,
            discovery: DiscoveryOutcome::Ran(catalog),
            filtered_out,
        }
    }

    /// Resolves `model` (`None`: the configuration's primary model) to a model ready to be
    /// called: an explicit provider's model first (no discovery), then a discovered one, then,
    /// for an `amazon-bedrock` ARN nobody listed, the ARN itself (described by
    /// `GetInferenceProfile` when it is a profile, else the configured default limits).
    ///
    /// Fails with [`Error::NoModel`], [`Error::UnknownModel`] (with the nearest known models),
    /// [`Error::FilteredModel`] (discovered, but hidden by the provider filter; found by a
    /// second, unfiltered discovery, through the caches), [`Error::ModelDiscoveryFailed`],
    /// [`Error::UnsupportedApi`], or [`Error::Aws`] (invalid provider settings, or no
    /// credentials at all when discovery is off because of that).
    pub async fn target(&self, model: Option<&ModelRef>) -> Result<ModelTarget, Error> {
        let model_ref = match model {
            Some(model) => model.clone(),
            None => self.config.primary_model().cloned().ok_or(Error::NoModel)?,
        };
        let mut warnings = Vec::new();
        let (provider, def) = match self.configured(&model_ref) {
            Some((provider, def)) => (provider.clone(), def.clone()),
            None => {
                let resolved = self.resolve(false, false).await;
                match resolved.find(&model_ref) {
                    Some((provider, def)) => (provider.clone(), def.clone()),
                    None => match self
                        .describe_arn(&resolved, &model_ref, &mut warnings)
                        .await
                    {
                        Some(found) => found,
                        None => return Err(self.not_found(&model_ref, &resolved).await),
                    },
                }
            }
        };
        if let Some(api) = provider.api
            && api != ModelApi::BedrockConverseStream
        {
            return Err(Error::UnsupportedApi {
                provider: model_ref.provider().to_string(),
                api: api.as_str().to_string(),
            });
        }
        let settings = self.provider_settings(&provider)?;
        Ok(ModelTarget {
            model: provider.model_with_defaults(&def),
            model_ref,
            settings,
            warnings,
        })
    }

    /// The targets tried after `primary` when it fails before its first token: each reference
    /// of `chain` resolved as [`ModelResolver::target`] does. A `global.` cross-region profile
    /// that does not resolve is tried as it is, with the primary's definition and settings
    /// (Bedrock decides whether it exists); any other reference that does not resolve is
    /// skipped, with why.
    pub async fn fallbacks(
        &self,
        primary: &ModelTarget,
        chain: impl IntoIterator<Item = ModelRef>,
    ) -> Fallbacks {
        let mut out = Fallbacks {
            targets: Vec::new(),
            skipped: Vec::new(),
        };
        for model_ref in chain {
            match self.target(Some(&model_ref)).await {
                Ok(found) => out.targets.push(found),
                Err(_) if model_ref.model().starts_with("global.") => {
                    out.targets.push(ModelTarget {
                        model: ModelDefinition {
                            id: model_ref.model().to_string(),
                            ..primary.model.clone()
                        },
                        model_ref,
                        settings: primary.settings.clone(),
                        warnings: Vec::new(),
                    })
                }
                Err(err) => out.skipped.push((model_ref, err)),
            }
        }
        out
    }

    /// A Bedrock ARN of the `amazon-bedrock` provider that is neither configured nor discovered
    /// (another region's profile, a profile created since the last discovery, a provisioned
    /// throughput, a custom or imported model, a prompt router): used as it is, Bedrock decides.
    /// Its traits come from `GetInferenceProfile` when it is a profile; when that cannot say
    /// (no discovery, an error), the configured defaults, with a warning on error.
    async fn describe_arn(
        &self,
        resolved: &ResolvedModels,
        model_ref: &ModelRef,
        warnings: &mut Vec<String>,
    ) -> Option<(ProviderConfig, ModelDefinition)> {
        let id = model_ref.model();
        if model_ref.provider() != PROVIDER_ID || !id.starts_with("arn:") {
            return None;
        }
        let provider = match resolved.providers.get(PROVIDER_ID) {
            Some(provider) => provider.clone(),
            // With `models.mode: "replace"` there is no implicit `amazon-bedrock` provider.
            None if self.replaces_implicit() => return None,
            None => implicit_provider(&self.region.region, Vec::new()),
        };
        let described = match self.discovery() {
            Some((discovery, request)) => match discovery.describe(&request, id).await {
                Ok(found) => found,
                Err(err) => {
                    warnings.push(format!(
                        "cannot describe `{id}`, using default limits: {err}"
                    ));
                    None
                }
            },
            None => None,
        };
        let def = described.unwrap_or_else(|| {
            let defaults = MappingOptions::from_config(&self.discovery);
            let mut def = ModelDefinition::new(id, id);
            def.context_window = defaults.default_context_window;
            def.max_tokens = defaults.default_max_tokens;
            def
        });
        Some((provider, def))
    }

    /// Why `model` was not found: hidden by the provider filter (discovered once the filter
    /// is lifted), else [`ModelResolver::unknown_model`].
    async fn not_found(&self, model: &ModelRef, resolved: &ResolvedModels) -> Error {
        // Only when the discovered list is the one used: an explicit `amazon-bedrock` model
        // list replaces it, and then no filter change would make the model resolve.
        let discovered_list_used = self
            .config
            .provider(PROVIDER_ID)
            .is_none_or(|p| p.models.is_empty());
        if model.provider() == PROVIDER_ID
            && discovered_list_used
            && matches!(resolved.discovery, DiscoveryOutcome::Ran(Ok(_)))
            && !self.discovery.provider_filter.is_empty()
        {
            let everything = self.resolve(false, true).await;
            if everything
                .filtered_out
                .iter()
                .any(|m| m.id == model.model())
            {
                return Error::FilteredModel {
                    model: model.to_string(),
                    filter: self.discovery.provider_filter.clone(),
                };
            }
        }
        self.unknown_model(model, resolved)
    }

    fn unknown_model(&self, model: &ModelRef, resolved: &ResolvedModels) -> Error {
        match &resolved.discovery {
            // Without credentials nothing was discovered: the real problem is the credentials.
            DiscoveryOutcome::Off { .. }
                if !self.credentials.is_present()
                    && self.discovery.enabled.is_none()
                    && !self.replaces_implicit() =>
            {
                Error::Aws(openclaw_creds::Error::MissingCredentials {
                    checked: self.credentials.clone(),
                })
            }
            DiscoveryOutcome::Ran(Err(err)) => Error::ModelDiscoveryFailed {
                model: model.to_string(),
                source: Box::new(err.clone()),
            },
            _ => {
                let keys = resolved.providers.iter().flat_map(|(provider, config)| {
                    config
                        .models
                        .iter()
                        .map(move |m| format!("{provider}/{}", m.id))
                });
                Error::UnknownModel {
                    model: model.to_string(),
                    suggestions: similar_models(&model.to_string(), keys),
                }
            }
        }
    }
}

impl ResolvedModels {
    /// The provider and definition of a model reference, if a provider offers it.
    pub fn find(&self, model: &ModelRef) -> Option<(&ProviderConfig, &ModelDefinition)> {
        let provider = self.providers.get(model.provider())?;
        let def = provider.models.iter().find(|m| m.id == model.model())?;
        Some((provider, def))
    }
}

/// Up to three `provider/modelId` keys close to `wanted`: those containing its model id (a
/// short name such as `nova-pro`), else those within a small edit distance (a wrong version).
fn similar_models(wanted: &str, keys: impl Iterator<Item = String>) -> Vec<String> {
    let wanted = wanted.to_lowercase();
    let wanted_id = wanted.split_once('/').map_or(wanted.as_str(), |(_, id)| id);
    let mut scored: Vec<(f64, String)> = keys
        .filter_map(|key| {
            let lower = key.to_lowercase();
            let score = if wanted_id.len() >= 3 && lower.contains(wanted_id) {
                2.0
            } else {
                strsim::normalized_damerau_levenshtein(&wanted, &lower)
            };
            (score >= 0.8).then_some((score, key))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.len().cmp(&b.1.len())));
    // Only the nearest: `nova-pro-v2` should not also suggest `nova-micro-v1`.
    let best = scored.first().map_or(0.0, |(score, _)| *score);
    scored
        .into_iter()
        .take_while(|(score, _)| *score >= best - 0.05)
        .take(3)
        .map(|(_, key)| key)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_models_get_close_suggestions() {
        let keys = || {
            [
                "amazon-bedrock/us.amazon.nova-pro-v1:0",
                "amazon-bedrock/amazon.nova-pro-v1:0",
                "amazon-bedrock/us.anthropic.claude-opus-4-6-v1",
            ]
            .into_iter()
            .map(String::from)
        };
        assert_eq!(
            similar_models("amazon-bedrock/us.amazon.nova-pro-v2:0", keys()),
            ["amazon-bedrock/us.amazon.nova-pro-v1:0"]
        );
        assert_eq!(
            similar_models("amazon-bedrock/nova-pro", keys()),
            [
                "amazon-bedrock/amazon.nova-pro-v1:0",
                "amazon-bedrock/us.amazon.nova-pro-v1:0"
            ]
        );
        assert!(similar_models("amazon-bedrock/mistral.large", keys()).is_empty());
    }

    fn resolver(config: &str, env: &[(&str, &str)]) -> ModelResolver {
        let config = Config::from_text(config).unwrap();
        ModelResolver::new(config, &Env::from_pairs(env.iter().copied()), None).unwrap()
    }

    const CONFIGURED: &str = r#"{
        models: {
            bedrockDiscovery: { enabled: false },
            providers: {
                "amazon-bedrock": {
                    region: "eu-west-3",
                    guardrail: { identifier: "g1", version: "1" },
                    models: [{ id: "amazon.nova-pro-v1:0", name: "Nova Pro" }],
                },
                other: { api: "openai-completions", models: [{ id: "gpt", name: "GPT" }] },
            },
        },
        agents: { defaults: { model: { primary: "amazon-bedrock/amazon.nova-pro-v1:0" } } },
    }"#;

    #[tokio::test]
    async fn replace_mode_uses_only_the_explicit_providers() {
        let config = CONFIGURED
            .replace("enabled: false", "enabled: true")
            .replace("models: {\n", "models: {\n            mode: \"replace\",\n");
        assert!(config.contains("mode: \"replace\""), "{config}");
        let keys = [
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
        ];
        let replacing = resolver(&config, &keys);
        let decision = replacing.discovery_decision();
        assert!(!decision.enabled, "replace wins over `enabled: true`");
        assert!(
            decision.reason.contains("`models.mode` is `replace`"),
            "{}",
            decision.reason
        );
        assert!(replacing.discovery().is_none());
        let resolved = replacing.resolve(false, false).await;
        assert_eq!(
            resolved.providers.keys().collect::<Vec<_>>(),
            ["amazon-bedrock", "other"]
        );
        let target = replacing.target(None).await.unwrap();
        assert_eq!(target.model_ref.model(), "amazon.nova-pro-v1:0");
        // A model nobody lists is unknown, with no credential error and no ARN pass-through
        // when no explicit `amazon-bedrock` provider exists.
        let near = ModelRef::new("amazon-bedrock", "amazon.nova-pro-v2:0").unwrap();
        let err = replacing.target(Some(&near)).await.err().unwrap();
        assert_eq!(err.kind(), crate::ErrorKind::UnknownModel);
        let only_other = config.replace("\"amazon-bedrock\": {", "\"unused\": {");
        let without_bedrock = resolver(&only_other, &[]);
        let arn = ModelRef::new(
            "amazon-bedrock",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-pro-v1:0",
        )
        .unwrap();
        let err = without_bedrock.target(Some(&arn)).await.err().unwrap();
        assert_eq!(err.kind(), crate::ErrorKind::UnknownModel, "{err}");
    }

    #[tokio::test]
    async fn configured_models_resolve_without_discovery() {
        let resolver = resolver(CONFIGURED, &[("AWS_REGION", "us-east-1")]);
        assert!(!resolver.discovery_decision().enabled);
        assert!(resolver.discovery().is_none());
        let target = resolver.target(None).await.unwrap();
        assert_eq!(
            target.model_ref.to_string(),
            "amazon-bedrock/amazon.nova-pro-v1:0"
        );
        assert_eq!(
            target.settings.region().region,
            "eu-west-3",
            "the provider's region"
        );
        assert!(
            target.model.guardrail.is_some(),
            "the provider's defaults apply"
        );
        assert!(target.warnings.is_empty());

        let other = ModelRef::new("other", "gpt").unwrap();
        assert!(resolver.is_configured(&other));
        let err = resolver.target(Some(&other)).await.err().unwrap();
        assert_eq!(err.kind(), crate::ErrorKind::Configuration);
        assert!(
            err.to_string().contains("uses api `openai-completions`"),
            "{err}"
        );

        let near = ModelRef::new("amazon-bedrock", "amazon.nova-pro-v2:0").unwrap();
        let err = resolver.target(Some(&near)).await.err().unwrap();
        assert_eq!(err.kind(), crate::ErrorKind::UnknownModel);
        assert_eq!(
            err.to_string(),
            "unknown model `amazon-bedrock/amazon.nova-pro-v2:0`: not configured and not discovered; did you mean `amazon-bedrock/amazon.nova-pro-v1:0`?"
        );
    }

    #[tokio::test]
    async fn the_connection_pool_reaches_every_provider_and_target() {
        let pool = ConnectionPool {
            idle_timeout: std::time::Duration::from_secs(90),
            max_idle_per_host: 0,
        };
        let plain = resolver(CONFIGURED, &[("AWS_REGION", "us-east-1")]);
        assert_eq!(
            plain.settings().connection_pool(),
            ConnectionPool::default()
        );
        let resolver = plain.with_connection_pool(pool);
        assert_eq!(resolver.settings().connection_pool(), pool);
        let provider = &resolver.config().models.providers["amazon-bedrock"];
        let settings = resolver.provider_settings(provider).unwrap();
        assert_eq!(settings.connection_pool(), pool);
        assert_eq!(settings.region().region, "eu-west-3");
        let target = resolver.target(None).await.unwrap();
        assert_eq!(target.settings.connection_pool(), pool);
    }

    #[tokio::test]
    async fn without_credentials_an_unknown_model_is_a_credentials_error() {
        let resolver = resolver("{}", &[("AWS_EC2_METADATA_DISABLED", "true")]);
        assert!(!resolver.discovery_decision().enabled);
        let err = resolver.target(None).await.err().unwrap();
        assert_eq!(err, Error::NoModel);
        let model = ModelRef::new("amazon-bedrock", "amazon.nova-pro-v1:0").unwrap();
        let err = resolver.target(Some(&model)).await.err().unwrap();
        assert!(
            matches!(
                err,
                Error::Aws(openclaw_creds::Error::MissingCredentials { .. })
            ),
            "{err}"
        );
        assert_eq!(err.kind(), crate::ErrorKind::Auth);
    }

    #[tokio::test]
    async fn unresolved_global_profiles_are_still_tried_and_others_skipped() {
        let resolver = resolver(CONFIGURED, &[("AWS_REGION", "us-east-1")]);
        let primary = resolver.target(None).await.unwrap();
        let chain = [
            ModelRef::new("amazon-bedrock", "global.amazon.nova-pro-v1:0").unwrap(),
            ModelRef::new("amazon-bedrock", "amazon.titan-v9").unwrap(),
        ];
        let fallbacks = resolver.fallbacks(&primary, chain).await;
        assert_eq!(fallbacks.targets.len(), 1);
        assert_eq!(fallbacks.targets[0].model.id, "global.amazon.nova-pro-v1:0");
        assert_eq!(fallbacks.targets[0].model.name, "Nova Pro");
        assert_eq!(fallbacks.skipped.len(), 1);
        assert_eq!(fallbacks.skipped[0].0.model(), "amazon.titan-v9");
    }

    #[test]
    fn a_bad_configured_region_names_its_origin() {
        let config =
            Config::from_text("{models: {bedrockDiscovery: {region: 'not-a-region'}}}").unwrap();
        let err = ModelResolver::new(config, &Env::from_pairs([("X", "y")]), None)
            .err()
            .unwrap();
        assert!(
            matches!(
                err,
                Error::Aws(openclaw_creds::Error::InvalidRegion {
                    origin: openclaw_creds::RegionSource::Config,
                    ..
                })
            ),
            "{err}"
        );
        assert_eq!(err.kind(), crate::ErrorKind::Configuration);
    }
}
