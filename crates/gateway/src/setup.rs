//! Wiring shared by `models list`, `models status` and `chat`: credentials and region from
//! `openclaw-creds`, discovery from `openclaw-discovery`, merged with the configured providers.

use std::collections::BTreeMap;

use openclaw_config::{BedrockDiscoveryConfig, Config, ModelDefinition, ModelRef, ProviderConfig};
use openclaw_creds::{AwsSettings, CredentialSource, ResolvedRegion};
use openclaw_discovery::{
    Catalog, Discovery, DiscoveryOptions, DiscoveryRequest, DiskCacheStatus, PROVIDER_ID,
    ProviderFilter, ProvidersOrExplicit, should_discover,
};

use crate::context::Context;
use crate::exit::{CmdResult, ExitKind, Failure};

/// Configuration, credentials and region, resolved offline.
pub struct Setup {
    /// The validated configuration.
    pub config: Config,
    /// The effective discovery options.
    pub discovery: BedrockDiscoveryConfig,
    /// Where credentials come from (offline detection).
    pub source: CredentialSource,
    /// The discovery region and where it came from.
    pub region: ResolvedRegion,
    /// The SDK settings for discovery.
    pub settings: AwsSettings,
}

/// What happened to discovery.
pub enum DiscoveryState {
    /// Discovery did not run.
    Off {
        /// Why, for the user.
        reason: String,
    },
    /// Discovery ran (possibly served from the cache).
    Ran(Result<Catalog, openclaw_discovery::Error>),
}

/// The providers to list or chat with.
pub struct Resolved {
    /// Explicit providers merged with the discovered `amazon-bedrock` provider.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// Discovery's outcome.
    pub discovery: DiscoveryState,
    /// With `--all`: discovered models the provider filter hides.
    pub filtered_out: Vec<ModelDefinition>,
}

impl Setup {
    /// Loads the configuration and resolves credentials source and region (no network).
    pub fn new(ctx: &Context) -> CmdResult<Self> {
        let config = ctx.load_config()?;
        let discovery = config.bedrock_discovery();
        let source = openclaw_creds::detect(&ctx.env);
        let base_url = config
            .provider(PROVIDER_ID)
            .and_then(|p| p.base_url.as_deref());
        let region =
            openclaw_creds::resolve_region(discovery.region.as_deref(), base_url, &ctx.env)
                .map_err(|err| {
                    // A configured region wins over the environment, so a bad one is in the file:
                    // say which file.
                    if discovery
                        .region
                        .as_deref()
                        .is_some_and(|r| !r.trim().is_empty())
                    {
                        Failure::new(
                            ExitKind::Config,
                            format!("{}: {err}", ctx.config_path.display()),
                        )
                    } else {
                        Failure::from(err)
                    }
                })?;
        let settings = AwsSettings::from_env(&ctx.env, &region, base_url)?;
        Ok(Setup {
            config,
            discovery,
            source,
            region,
            settings,
        })
    }

    /// Whether discovery runs, and why (for status and hints).
    pub fn discovery_decision(&self) -> (bool, String) {
        let on = should_discover(&self.discovery, &self.source);
        let why = match self.discovery.enabled {
            Some(true) => "discovery `enabled` is true in the configuration".to_string(),
            Some(false) => "discovery `enabled` is false in the configuration".to_string(),
            None if on => format!("AWS credentials detected ({})", self.source),
            None => "no AWS credentials detected (set AWS_PROFILE, AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY or AWS_BEARER_TOKEN_BEDROCK; on EC2 with an instance role set AWS_PROFILE=default)".to_string(),
        };
        (on, why)
    }

    /// The discovery (with the disk cache under the state directory) and its request.
    fn discovery(&self, ctx: &Context) -> (Discovery, DiscoveryRequest) {
        let mut options = DiscoveryOptions::default();
        if let Some(state) = &ctx.state_dir {
            options = options.with_state_dir(state);
        }
        let discovery = Discovery::from_settings(&self.settings, options);
        let request = DiscoveryRequest::from_config(&self.discovery, &self.region.region);
        (discovery, request)
    }

    /// The discovery and its request when discovery is on (see [`Setup::discovery_decision`]).
    pub fn enabled_discovery(&self, ctx: &Context) -> Option<(Discovery, DiscoveryRequest)> {
        self.discovery_decision().0.then(|| self.discovery(ctx))
    }

    /// What the disk cache holds for this configuration's discovery, read without calling AWS
    /// (`None` when discovery is off or nothing usable is cached).
    pub async fn disk_status(&self, ctx: &Context) -> Option<DiskCacheStatus> {
        if !self.discovery_decision().0 {
            return None;
        }
        let (discovery, request) = self.discovery(ctx);
        discovery.disk_status(&request).await
    }

    /// Runs discovery when it is on (through the disk cache under the state directory) and
    /// merges the result with the configured providers.
    pub async fn resolve(&self, ctx: &Context, refresh: bool, all: bool) -> Resolved {
        let explicit = &self.config.models.providers;
        let (on, reason) = self.discovery_decision();
        if !on {
            return Resolved {
                providers: explicit.clone(),
                discovery: DiscoveryState::Off { reason },
                filtered_out: Vec::new(),
            };
        }
        let (discovery, mut request) = self.discovery(ctx);
        if refresh {
            request = request.refreshed();
        }
        let ProvidersOrExplicit { providers, catalog } =
            discovery.providers_or_explicit(&request, explicit).await;
        let mut filtered_out = Vec::new();
        if all
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
        Resolved {
            providers,
            discovery: DiscoveryState::Ran(catalog),
            filtered_out,
        }
    }
}

impl Resolved {
    /// Finds a model by reference.
    pub fn find(&self, model: &ModelRef) -> Option<(&ProviderConfig, &ModelDefinition)> {
        let provider = self.providers.get(model.provider())?;
        let def = provider.models.iter().find(|m| m.id == model.model())?;
        Some((provider, def))
    }
}

/// The AWS settings a Bedrock provider is called with: its region (configured region, else its
/// standard baseUrl, else the environment) and its endpoint (a non-standard baseUrl).
/// Used by `chat` and by the HTTP gateway, so both reach a provider the same way.
pub fn provider_settings(
    env: &openclaw_creds::Env,
    provider: &ProviderConfig,
) -> Result<AwsSettings, openclaw_creds::Error> {
    let base_url = provider.base_url.as_deref();
    let region = openclaw_creds::resolve_region(provider.region.as_deref(), base_url, env)?;
    AwsSettings::from_env(env, &region, base_url)
}

/// Whether a base URL points at this machine (OpenClaw's `isLocalBaseUrl`: loopback, wildcard,
/// `localhost`, mDNS `.local`).
pub fn is_local_base_url(base_url: &str) -> bool {
    let Some((_, rest)) = base_url.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    let host = host.to_ascii_lowercase();
    host == "localhost"
        || host.starts_with("127.")
        || host == "0.0.0.0"
        || host == "::"
        || host == "::1"
        || host.ends_with(".local")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_base_urls() {
        assert!(is_local_base_url("http://127.0.0.1:4000"));
        assert!(is_local_base_url("http://localhost/v1"));
        assert!(is_local_base_url("http://[::1]:8080"));
        assert!(is_local_base_url("http://box.local"));
        assert!(!is_local_base_url(
            "https://bedrock-runtime.us-east-1.amazonaws.com"
        ));
        assert!(!is_local_base_url("not a url"));
    }
}
