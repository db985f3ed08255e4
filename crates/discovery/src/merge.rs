//! The implicit `amazon-bedrock` provider and its merge with the user's explicit providers.

use std::collections::BTreeMap;

use openclaw_config::{
    AuthMode, BedrockDiscoveryConfig, ModelApi, ModelDefinition, ProviderConfig,
};
use openclaw_creds::CredentialSource;

/// The provider id discovery fills: `amazon-bedrock` (defined once, in `openclaw-config`).
pub use openclaw_config::BEDROCK_PROVIDER_ID as PROVIDER_ID;

/// The Bedrock runtime endpoint of a region: `https://bedrock-runtime.<region>.amazonaws.com`.
pub fn runtime_base_url(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

/// The implicit provider discovery produces: base URL of the region, API
/// `bedrock-converse-stream`, auth `aws-sdk`, the discovered models.
///
/// `region` is left unset: the runtime region of a provider is read from its base URL, so a
/// user who overrides `baseUrl` does not end up with two disagreeing regions.
pub fn implicit_provider(region: &str, models: Vec<ModelDefinition>) -> ProviderConfig {
    ProviderConfig {
        base_url: Some(runtime_base_url(region)),
        api: Some(ModelApi::BedrockConverseStream),
        auth: Some(AuthMode::AwsSdk),
        api_key: None,
        region: None,
        models,
        ..ProviderConfig::default()
    }
}

/// Merges the discovered models into the user's explicit providers.
///
/// - `discovered == None` (discovery did not run): the explicit providers, unchanged.
/// - An explicit `amazon-bedrock` provider: each field it sets overrides the implicit one; a
///   non-empty explicit `models` list replaces the discovered list (explicit model entries always
///   win), an empty one keeps the discovered list.
/// - No explicit `amazon-bedrock` provider: the implicit one is added when discovery found at
///   least one model (a provider without models would only clutter listings).
/// - Other providers pass through untouched.
pub fn resolve_providers(
    explicit: &BTreeMap<String, ProviderConfig>,
    discovered: Option<&[ModelDefinition]>,
    region: &str,
) -> BTreeMap<String, ProviderConfig> {
    let mut out = explicit.clone();
    let Some(discovered) = discovered else {
        return out;
    };
    let implicit = implicit_provider(region, discovered.to_vec());
    match out.get_mut(PROVIDER_ID) {
        Some(user) => {
            let ProviderConfig {
                base_url,
                api,
                auth,
                api_key: _,
                region: _,
                models,
                ..
            } = implicit;
            if user.base_url.is_none() {
                user.base_url = base_url;
            }
            if user.api.is_none() {
                user.api = api;
            }
            if user.auth.is_none() {
                user.auth = auth;
            }
            if user.models.is_empty() {
                user.models = models;
            }
        }
        None if !implicit.models.is_empty() => {
            out.insert(PROVIDER_ID.to_string(), implicit);
        }
        None => {}
    }
    out
}

/// Whether discovery should run: `enabled: false` never, `enabled: true` always, unset only when
/// `openclaw_creds::detect` reports credentials present (offline detection: an EC2 instance role
/// alone is not detected; `AWS_PROFILE=default` is the documented workaround).
pub fn should_discover(config: &BedrockDiscoveryConfig, credentials: &CredentialSource) -> bool {
    config.enabled.unwrap_or_else(|| credentials.is_present())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(id: &str) -> ModelDefinition {
        ModelDefinition::new(id, id)
    }

    #[test]
    fn no_discovery_leaves_explicit_providers_alone() {
        let mut explicit = BTreeMap::new();
        explicit.insert("other".to_string(), ProviderConfig::default());
        assert_eq!(resolve_providers(&explicit, None, "us-east-1"), explicit);
    }

    #[test]
    fn implicit_provider_is_added() {
        let out = resolve_providers(&BTreeMap::new(), Some(&[model("a.b")]), "eu-west-1");
        let p = &out[PROVIDER_ID];
        assert_eq!(
            p.base_url.as_deref(),
            Some("https://bedrock-runtime.eu-west-1.amazonaws.com")
        );
        assert_eq!(p.api, Some(ModelApi::BedrockConverseStream));
        assert_eq!(p.auth, Some(AuthMode::AwsSdk));
        assert_eq!(p.models, [model("a.b")]);
        let empty = resolve_providers(&BTreeMap::new(), Some(&[]), "eu-west-1");
        assert!(empty.is_empty());
    }

    #[test]
    fn explicit_fields_and_models_win() {
        let mut explicit = BTreeMap::new();
        explicit.insert(
            PROVIDER_ID.to_string(),
            ProviderConfig {
                base_url: Some("http://127.0.0.1:9/".into()),
                models: vec![model("mine")],
                ..ProviderConfig::default()
            },
        );
        let out = resolve_providers(&explicit, Some(&[model("a.b")]), "us-east-1");
        let p = &out[PROVIDER_ID];
        assert_eq!(p.base_url.as_deref(), Some("http://127.0.0.1:9/"));
        assert_eq!(p.api, Some(ModelApi::BedrockConverseStream));
        assert_eq!(p.models, [model("mine")]);

        explicit.get_mut(PROVIDER_ID).unwrap().models.clear();
        let out = resolve_providers(&explicit, Some(&[model("a.b")]), "us-east-1");
        assert_eq!(out[PROVIDER_ID].models, [model("a.b")]);
    }

    #[test]
    fn should_discover_rules() {
        let present = CredentialSource::StaticKeys {
            session_token: false,
        };
        let absent = CredentialSource::DefaultChain { marker: None };
        let mut c = BedrockDiscoveryConfig::default();
        assert!(should_discover(&c, &present));
        assert!(!should_discover(&c, &absent));
        c.enabled = Some(true);
        assert!(should_discover(&c, &absent));
        c.enabled = Some(false);
        assert!(!should_discover(&c, &present));
    }
}
