//! The model catalog the fake serves: foundation models and inference profiles.
//!
//! The JSON form mirrors the Bedrock control-plane API (same field names and casing as
//! `ListFoundationModels` and `ListInferenceProfiles`), minus what depends on the request: ARNs
//! are built per request from the region of the caller and the configured account id.

use serde::{Deserialize, Serialize};

use crate::error::Error;

const DEFAULT_CATALOG_JSON: &str = include_str!("default_catalog.json");

/// The lifecycle of a foundation model (`modelLifecycle` in the API).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelLifecycle {
    /// `ACTIVE` or `LEGACY`.
    pub status: String,
}

/// A foundation model as `ListFoundationModels` describes it (without its ARN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundationModel {
    /// The model id, e.g. `anthropic.claude-3-haiku-20240307-v1:0`.
    pub model_id: String,
    /// The display name, e.g. `Claude 3 Haiku`.
    pub model_name: String,
    /// The provider, e.g. `Anthropic` or `Mistral AI`.
    pub provider_name: String,
    /// `TEXT`, `IMAGE`, `VIDEO`, ...
    #[serde(default)]
    pub input_modalities: Vec<String>,
    /// `TEXT`, `IMAGE` or `EMBEDDING`.
    #[serde(default)]
    pub output_modalities: Vec<String>,
    /// Absent for some models in the real API (image generators): kept absent here too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_streaming_supported: Option<bool>,
    /// `FINE_TUNING`, `CONTINUED_PRE_TRAINING`, `DISTILLATION`.
    #[serde(default)]
    pub customizations_supported: Vec<String>,
    /// `ON_DEMAND`, `PROVISIONED`, `INFERENCE_PROFILE`.
    #[serde(default)]
    pub inference_types_supported: Vec<String>,
    /// The lifecycle status.
    pub model_lifecycle: ModelLifecycle,
    /// Whether the runtime's `CountTokens` accepts this model (a fake-only trait, never served
    /// by the control plane). Absent: Anthropic models count, others do not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_tokens_supported: Option<bool>,
}

impl FoundationModel {
    /// True when the model can be invoked by its bare id (on-demand throughput).
    pub fn on_demand(&self) -> bool {
        self.inference_types_supported
            .iter()
            .any(|t| t == "ON_DEMAND")
    }

    /// True when the model produces text (so Converse accepts it).
    pub fn text_output(&self) -> bool {
        self.output_modalities.iter().any(|m| m == "TEXT")
    }

    /// True when `CountTokens` accepts this model: `count_tokens_supported` when set, else
    /// whether the provider is Anthropic.
    pub fn counts_tokens(&self) -> bool {
        self.count_tokens_supported
            .unwrap_or_else(|| self.provider_name.eq_ignore_ascii_case("anthropic"))
    }

    /// True when the model accepts image input.
    pub fn image_input(&self) -> bool {
        self.input_modalities.iter().any(|m| m == "IMAGE")
    }
}

/// An inference profile. The API's `models[].modelArn` list is derived from `model_id` and
/// `regions` when serving.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceProfile {
    /// The profile id, e.g. `us.anthropic.claude-sonnet-4-5-20250929-v1:0`.
    pub inference_profile_id: String,
    /// The display name.
    pub inference_profile_name: String,
    /// The description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The foundation model this profile routes to.
    pub model_id: String,
    /// The regions it routes to; `["global"]` for a global profile. The profile is listed (and
    /// invocable) only from one of these regions, or from anywhere when global.
    pub regions: Vec<String>,
    /// ISO-8601 creation time, e.g. `2025-01-15T00:00:00+00:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// ISO-8601 update time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// `ACTIVE`.
    pub status: String,
    /// `SYSTEM_DEFINED` or `APPLICATION`.
    #[serde(rename = "type")]
    pub profile_type: String,
    /// For an `APPLICATION` profile: the one region it lives in (its ARN's region, the only
    /// region that lists it). Absent: the first of `regions`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_region: Option<String>,
    /// For an `APPLICATION` profile: the account that owns it. Absent: the server's account. A
    /// profile of another account is never listed, and naming it is an `AccessDeniedException`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Resource tags (cost-allocation tags on application profiles), as
    /// `ListTagsForResource` returns them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
}

/// A resource tag (`key`/`value`, as Bedrock's `Tag`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// The key, e.g. `team`.
    pub key: String,
    /// The value, e.g. `search`.
    pub value: String,
}

/// A model resource invoked by ARN only: `provisioned-model`, `custom-model`, `imported-model`,
/// `prompt-router` or `default-prompt-router`. The runtime answers for it as for `model_id`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelResource {
    /// The ARN's resource type, e.g. `provisioned-model`.
    pub resource_type: String,
    /// Everything after `<type>/` in the ARN (a custom model's id holds a `/` itself).
    pub resource_id: String,
    /// The foundation model that answers.
    pub model_id: String,
    /// The region it lives in; absent: every region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl ModelResource {
    /// True when a caller in `region` may invoke it.
    pub fn visible_in(&self, region: &str) -> bool {
        self.region.as_deref().is_none_or(|r| r == region)
    }
}

impl InferenceProfile {
    /// True when a caller in `region` sees this profile: an application profile in its home
    /// region only, a system profile in any of its regions (anywhere when global).
    pub fn visible_in(&self, region: &str) -> bool {
        if self.is_application() {
            return self.home_region() == Some(region);
        }
        self.regions.iter().any(|r| r == region || r == "global")
    }

    /// True for an `APPLICATION` profile.
    pub fn is_application(&self) -> bool {
        self.profile_type == "APPLICATION"
    }

    /// The region an application profile lives in: `home_region`, else the first of `regions`.
    pub fn home_region(&self) -> Option<&str> {
        self.home_region
            .as_deref()
            .or_else(|| self.regions.first().map(String::as_str))
    }

    /// True for a global cross-region profile.
    pub fn is_global(&self) -> bool {
        self.regions.iter().any(|r| r == "global")
    }
}

/// The catalog: foundation models and inference profiles, in listing order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Catalog {
    /// Foundation models.
    #[serde(default)]
    pub foundation_models: Vec<FoundationModel>,
    /// Inference profiles (system-defined and application).
    #[serde(default)]
    pub inference_profiles: Vec<InferenceProfile>,
    /// Provisioned throughput, custom, imported models and prompt routers, invoked by ARN.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_resources: Vec<ModelResource>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::default_catalog()
    }
}

impl Catalog {
    /// The built-in catalog: a us-east-1-like region with Amazon, Anthropic, Meta, Mistral AI,
    /// Cohere, DeepSeek, AI21 Labs, Stability AI, OpenAI, Qwen and Writer models, including
    /// embedding models, image generators, LEGACY models, a text model without streaming,
    /// PROVISIONED-only variants, models that support only `INFERENCE_PROFILE`, and
    /// system-defined `us.`, `eu.`, `apac.` and `global.` profiles, two tagged application
    /// profiles in us-east-1 (`team-search-sonnet` over the `us.` Claude Sonnet 4.5 profile,
    /// `team-support-haiku` over Claude 3 Haiku), and ARN-only resources (a provisioned
    /// throughput, a custom model, an imported model and prompt routers).
    pub fn default_catalog() -> Self {
        // The embedded file is tested to parse; an empty catalog is the fallback that keeps this
        // function infallible without a panic.
        Self::from_json_str(DEFAULT_CATALOG_JSON).unwrap_or_else(|_| Self::empty())
    }

    /// A catalog with no models and no profiles.
    pub fn empty() -> Self {
        Self {
            foundation_models: Vec::new(),
            inference_profiles: Vec::new(),
            model_resources: Vec::new(),
        }
    }

    /// Parses a catalog from JSON (the format of `src/default_catalog.json`).
    pub fn from_json_str(json: &str) -> Result<Self, Error> {
        serde_json::from_str(json).map_err(|source| Error::Catalog {
            origin: "json string".to_owned(),
            source,
        })
    }

    /// Reads a catalog from a JSON file.
    pub fn from_json_file(path: impl AsRef<std::path::Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading catalog {}", path.display()),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| Error::Catalog {
            origin: path.display().to_string(),
            source,
        })
    }

    /// Serialises the catalog to pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Adds a foundation model (builder style).
    pub fn with_model(mut self, model: FoundationModel) -> Self {
        self.foundation_models.push(model);
        self
    }

    /// Adds an inference profile (builder style).
    pub fn with_profile(mut self, profile: InferenceProfile) -> Self {
        self.inference_profiles.push(profile);
        self
    }

    /// Finds a foundation model by id.
    pub fn model(&self, model_id: &str) -> Option<&FoundationModel> {
        self.foundation_models
            .iter()
            .find(|m| m.model_id == model_id)
    }

    /// Adds a model resource (builder style).
    pub fn with_resource(mut self, resource: ModelResource) -> Self {
        self.model_resources.push(resource);
        self
    }

    /// Finds an inference profile by id.
    pub fn profile(&self, profile_id: &str) -> Option<&InferenceProfile> {
        self.inference_profiles
            .iter()
            .find(|p| p.inference_profile_id == profile_id)
    }
}
