//! The models of a configuration as a [`ModelSource`]: one Converse stream per Bedrock
//! provider.

use std::sync::Arc;

use openclaw_config::{ModelApi, ModelsMode};
use openclaw_discovery::{ModelResolver, PROVIDER_ID};
use openclaw_stream::{AdapterOptions, ConverseStream};

use crate::chain::FailoverOptions;
use crate::error::Error;
use crate::log::LOG_TARGET;
use crate::models::ModelSource;

impl ModelSource {
    /// Serves the models of a configuration: its explicit providers, merged with the
    /// discovered `amazon-bedrock` provider when discovery runs (one shared discovery cache);
    /// its failover settings; `/readyz` reporting the detected credentials.
    ///
    /// Every provider speaking `bedrock-converse-stream` (`amazon-bedrock`, discovered or
    /// configured, and each explicit provider with that api) gets a [`ConverseStream`] with
    /// `adapter`'s options, reaching the provider in its own region and at its own endpoint;
    /// other providers are not served (logged at info).
    ///
    /// Fails with [`Error::Models`] when a provider's region or endpoint is invalid.
    pub fn from_resolver(resolver: &ModelResolver, adapter: AdapterOptions) -> Result<Self, Error> {
        let config = resolver.config();
        let explicit = &config.models.providers;
        let mut source = ModelSource::new(explicit.clone(), resolver.region().region.clone())
            .with_credentials(resolver.credentials().clone())
            .with_failover(FailoverOptions::from_config(config));
        // The implicit `amazon-bedrock` provider, unless the configuration lists its own or
        // uses only the providers it lists (`models.mode: "replace"`).
        let replace = config.models.mode == Some(ModelsMode::Replace);
        if !explicit.contains_key(PROVIDER_ID) && !replace {
            let stream = ConverseStream::from_settings(resolver.settings(), adapter);
            source = source.with_stream(PROVIDER_ID, Arc::new(stream));
        }
        for (id, provider) in explicit {
            let bedrock = match provider.api {
                Some(api) => api == ModelApi::BedrockConverseStream,
                None => id == PROVIDER_ID,
            };
            if !bedrock {
                tracing::info!(target: LOG_TARGET, "provider `{id}` does not speak bedrock-converse-stream: not served");
                continue;
            }
            let settings = resolver.provider_settings(provider)?;
            let stream = ConverseStream::from_settings(&settings, adapter);
            source = source.with_stream(id.clone(), Arc::new(stream));
        }
        if let Some((discovery, request)) = resolver.discovery() {
            source = source.with_discovery(Arc::new(discovery), request);
        }
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use openclaw_config::Config;
    use openclaw_creds::Env;

    use super::*;

    fn resolver(text: &str) -> ModelResolver {
        let env = Env::from_pairs([
            ("AWS_ACCESS_KEY_ID", "a"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "eu-west-1"),
        ]);
        ModelResolver::new(Config::from_text(text).unwrap(), &env, None).unwrap()
    }

    #[tokio::test]
    async fn every_bedrock_provider_gets_a_stream_and_others_none() {
        let source = ModelSource::from_resolver(
            &resolver(
                r#"{models: {bedrockDiscovery: {enabled: false}, providers: {
                    mine: {api: "bedrock-converse-stream", region: "us-west-2", models: [{id: "a.b-v1:0", name: "B"}]},
                    other: {api: "openai-completions", models: [{id: "gpt", name: "GPT"}]},
                }}}"#,
            ),
            AdapterOptions::default(),
        )
        .unwrap();
        assert!(source.serves(PROVIDER_ID), "the implicit provider");
        assert!(source.serves("mine"));
        assert!(!source.serves("other"));
        assert_eq!(source.region(), "eu-west-1");
        assert!(source.credentials().is_some_and(|c| c.is_present()));
        assert_eq!(source.served_keys().await, ["mine/a.b-v1:0"]);
    }

    #[tokio::test]
    async fn replace_mode_serves_only_the_listed_providers() {
        let source = ModelSource::from_resolver(
            &resolver(
                r#"{models: {mode: "replace", bedrockDiscovery: {enabled: true}, providers: {
                    mine: {api: "bedrock-converse-stream", models: [{id: "a.b-v1:0", name: "B"}]},
                }}}"#,
            ),
            AdapterOptions::default(),
        )
        .unwrap();
        assert!(!source.serves(PROVIDER_ID), "no implicit provider");
        assert!(source.serves("mine"));
        assert_eq!(source.served_keys().await, ["mine/a.b-v1:0"]);
        // A Bedrock id nobody lists is not tried on a provider that is not there.
        let unlisted =
            openclaw_config::ModelRef::new(PROVIDER_ID, "us.amazon.nova-pro-v1:0").unwrap();
        assert!(source.attempt(&unlisted).is_none());
    }

    #[test]
    fn a_provider_with_a_bad_region_is_refused() {
        let err = ModelSource::from_resolver(
            &resolver("{models: {providers: {'amazon-bedrock': {region: 'not-a-region'}}}}"),
            AdapterOptions::default(),
        )
        .err()
        .unwrap();
        assert!(err.to_string().contains("invalid region"), "{err}");
    }
}
