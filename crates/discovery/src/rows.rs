//! The rows of a model listing, as OpenClaw's `models list --json` writes them.

use openclaw_config::{AuthMode, ModelCost, ModelDefinition, ModelRef, ProviderConfig};
use serde::Serialize;

use crate::PROVIDER_ID;
use crate::resolver::{DiscoveryOutcome, ModelResolver, ResolvedModels};

/// One model of a listing, serialised exactly as OpenClaw's `models list --json` rows.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRow {
    /// `provider/modelId`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Inputs joined with `+` (`text+image`), `-` when unknown.
    pub input: String,
    /// Context window in tokens (`null` for a missing model).
    pub context_window: Option<u32>,
    /// Whether the provider's base URL is on this machine.
    pub local: Option<bool>,
    /// Whether credentials for the provider are available.
    pub available: Option<bool>,
    /// `default`, `fallback#N`, `app-profile` (an application inference profile, listed by its
    /// ARN under its own name), `filtered`, `missing`.
    pub tags: Vec<String>,
    /// A configured reference (primary/fallback) that no provider offers.
    pub missing: bool,
    /// USD per million tokens (`input`, `output`, `cacheRead`, `cacheWrite`): the configured
    /// `cost`, or for discovered models the on-demand list prices of the known-models table
    /// (which may differ from what the account pays); absent for a missing model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost: Option<ModelCost>,
}

impl ModelResolver {
    /// The rows listing `models`: every model of every provider (or of `provider` only), the
    /// discovered models the filter hides tagged `filtered`, then the configured references
    /// (primary, fallbacks) no provider offers, tagged `missing`.
    pub fn rows(&self, models: &ResolvedModels, provider: Option<&str>) -> Vec<ModelRow> {
        let defaults = &self.config().agents.defaults.model;
        let tags_for = |key: &str| -> Vec<String> {
            let mut tags = Vec::new();
            if defaults
                .primary
                .as_ref()
                .is_some_and(|p| p.to_string() == key)
            {
                tags.push("default".to_string());
            }
            for (i, fallback) in defaults.fallbacks.iter().enumerate() {
                if fallback.to_string() == key {
                    tags.push(format!("fallback#{}", i + 1));
                }
            }
            tags
        };
        // Credentials are there when detected, or when a discovery just used them.
        let creds = self.credentials().is_present()
            || matches!(&models.discovery, DiscoveryOutcome::Ran(Ok(c)) if c.stale_error.is_none());
        let row = |provider_id: &str, provider: &ProviderConfig, model: &ModelDefinition| {
            let key = format!("{provider_id}/{}", model.id);
            let input: Vec<&str> = model.input.iter().map(|m| m.as_str()).collect();
            let aws = provider.auth.is_none_or(|a| a == AuthMode::AwsSdk);
            let mut tags = tags_for(&key);
            if is_app_profile(&model.id) {
                tags.push("app-profile".into());
            }
            ModelRow {
                tags,
                key,
                name: model.name.clone(),
                input: if input.is_empty() {
                    "-".into()
                } else {
                    input.join("+")
                },
                context_window: Some(model.context_window),
                local: Some(provider.base_url.as_deref().is_some_and(is_local_base_url)),
                available: Some(if aws {
                    creds
                } else {
                    provider.api_key.is_some()
                }),
                missing: false,
                cost: Some(model.cost),
            }
        };
        let mut out = Vec::new();
        for (provider_id, config) in &models.providers {
            if provider.is_some_and(|p| p != provider_id) {
                continue;
            }
            for model in &config.models {
                out.push(row(provider_id, config, model));
            }
            if provider_id == PROVIDER_ID {
                for model in &models.filtered_out {
                    let mut r = row(provider_id, config, model);
                    r.tags.push("filtered".into());
                    out.push(r);
                }
            }
        }
        let configured: Vec<&ModelRef> = defaults
            .primary
            .iter()
            .chain(defaults.fallbacks.iter())
            .collect();
        for reference in configured {
            let key = reference.to_string();
            if provider.is_some_and(|p| p != reference.provider())
                || out.iter().any(|r| r.key == key)
            {
                continue;
            }
            let mut tags = tags_for(&key);
            tags.push("missing".into());
            out.push(ModelRow {
                key,
                name: reference.model().to_string(),
                input: "-".into(),
                context_window: None,
                local: None,
                available: None,
                tags,
                missing: true,
                cost: None,
            });
        }
        out
    }
}

/// Whether a model id is an application inference profile's ARN.
fn is_app_profile(model_id: &str) -> bool {
    model_id.starts_with("arn:") && model_id.contains(":application-inference-profile/")
}

/// Whether a base URL points at this machine (OpenClaw's `isLocalBaseUrl`: loopback, wildcard,
/// `localhost`, mDNS `.local`).
fn is_local_base_url(base_url: &str) -> bool {
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
    use openclaw_config::Config;
    use openclaw_creds::Env;
    use serde_json::json;

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

    #[test]
    fn app_profiles_are_recognised_by_their_arn() {
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";
        assert!(is_app_profile(arn));
        assert!(!is_app_profile(
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
        ));
        assert!(!is_app_profile(
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.x"
        ));
    }

    #[tokio::test]
    async fn rows_tag_defaults_profiles_and_missing_references() {
        let arn =
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/k3v9xq2m7p1a";
        let text = format!(
            r#"{{
            models: {{
                bedrockDiscovery: {{ enabled: false }},
                providers: {{
                    "amazon-bedrock": {{
                        baseUrl: "http://127.0.0.1:4010",
                        models: [
                            {{ id: "amazon.nova-pro-v1:0", name: "Nova Pro", input: ["text", "image"],
                               cost: {{ input: 0.8, output: 3.2, cacheRead: 0, cacheWrite: 0 }} }},
                            {{ id: "{arn}", name: "team-search-sonnet" }},
                        ],
                    }},
                    keyed: {{ auth: "api-key", models: [{{ id: "m", name: "M" }}] }},
                }},
            }},
            agents: {{ defaults: {{ model: {{
                primary: "amazon-bedrock/amazon.nova-pro-v1:0",
                fallbacks: ["amazon-bedrock/gone-v1:0", "amazon-bedrock/amazon.nova-pro-v1:0"],
            }} }} }},
        }}"#
        );
        let config = Config::from_text(&text).unwrap();
        let env = Env::from_pairs([("AWS_ACCESS_KEY_ID", "a"), ("AWS_SECRET_ACCESS_KEY", "s")]);
        let resolver = ModelResolver::new(config, &env, None).unwrap();
        let models = resolver.resolve(false, false).await;
        let rows = resolver.rows(&models, None);
        let value = serde_json::to_value(&rows).unwrap();
        assert_eq!(
            value,
            json!([
                {"key": "amazon-bedrock/amazon.nova-pro-v1:0", "name": "Nova Pro",
                 "input": "text+image", "contextWindow": 32000, "local": true,
                 "available": true, "tags": ["default", "fallback#2"], "missing": false,
                 "cost": {"input": 0.8, "output": 3.2, "cacheRead": 0.0, "cacheWrite": 0.0}},
                {"key": format!("amazon-bedrock/{arn}"), "name": "team-search-sonnet",
                 "input": "text", "contextWindow": 32000, "local": true,
                 "available": true, "tags": ["app-profile"], "missing": false,
                 "cost": {"input": 0.0, "output": 0.0, "cacheRead": 0.0, "cacheWrite": 0.0}},
                {"key": "keyed/m", "name": "M", "input": "text", "contextWindow": 32000,
                 "local": false, "available": false, "tags": [], "missing": false,
                 "cost": {"input": 0.0, "output": 0.0, "cacheRead": 0.0, "cacheWrite": 0.0}},
                {"key": "amazon-bedrock/gone-v1:0", "name": "gone-v1:0", "input": "-",
                 "contextWindow": null, "local": null, "available": null,
                 "tags": ["fallback#1", "missing"], "missing": true},
            ])
        );
        let only = resolver.rows(&models, Some("keyed"));
        assert_eq!(only.len(), 1, "{only:?}");
    }
}
