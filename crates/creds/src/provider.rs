//! The AWS settings of one provider of the configuration.

use openclaw_config::ProviderConfig;

use crate::{AwsSettings, Env, Error, resolve_region};

impl AwsSettings {
    /// The settings a configured provider is called with: its region (its `region`, else the
    /// region of its standard `baseUrl`, else the environment's, see [`resolve_region`]) and
    /// its endpoint (a non-standard `baseUrl`, see [`AwsSettings::from_env`]). Offline.
    ///
    /// Every caller of a provider (a chat, a gateway) reaches it through these settings, so all
    /// reach it the same way.
    pub fn for_provider(env: &Env, provider: &ProviderConfig) -> Result<Self, Error> {
        let base_url = provider.base_url.as_deref();
        let region = resolve_region(provider.region.as_deref(), base_url, env)?;
        AwsSettings::from_env(env, &region, base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RegionSource;

    #[test]
    fn a_provider_is_reached_in_its_region_and_at_its_base_url() {
        let env = Env::from_pairs([("AWS_REGION", "eu-west-1")]);
        let settings = AwsSettings::for_provider(&env, &ProviderConfig::default()).unwrap();
        assert_eq!(settings.region().region, "eu-west-1", "the environment's");

        let provider = ProviderConfig {
            region: Some("ap-south-1".into()),
            base_url: Some("http://127.0.0.1:4010".into()),
            ..ProviderConfig::default()
        };
        let settings = AwsSettings::for_provider(&env, &provider).unwrap();
        assert_eq!(settings.region().region, "ap-south-1");
        assert_eq!(settings.region().source, RegionSource::Config);
        let endpoint = settings.runtime_endpoint().unwrap();
        assert!(
            endpoint.url.starts_with("http://127.0.0.1:4010"),
            "{endpoint:?}"
        );

        let standard = ProviderConfig {
            base_url: Some("https://bedrock-runtime.us-west-2.amazonaws.com".into()),
            ..ProviderConfig::default()
        };
        let settings = AwsSettings::for_provider(&env, &standard).unwrap();
        assert_eq!(
            settings.region().region,
            "us-west-2",
            "the baseUrl's region"
        );
        assert!(settings.runtime_endpoint().is_none());

        let bad = ProviderConfig {
            region: Some("nowhere".into()),
            ..ProviderConfig::default()
        };
        let err = AwsSettings::for_provider(&env, &bad).unwrap_err();
        assert!(matches!(err, Error::InvalidRegion { .. }), "{err}");
    }
}
