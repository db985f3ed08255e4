//! The raw Bedrock answers discovery works from, independent of the SDK's types.
//!
//! These mirror the fields discovery reads from the SDK's `FoundationModelSummary` and
//! `InferenceProfileSummary`, with enums kept as their wire strings (`"TEXT"`, `"ON_DEMAND"`,
//! `"ACTIVE"`, `"SYSTEM_DEFINED"`). Keeping them plain makes the filtering and mapping rules pure
//! functions, lets the on-disk cache store the raw answers, and lets tests build inputs by hand.

use serde::{Deserialize, Serialize};

/// One entry of `ListFoundationModels`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FoundationModel {
    /// `modelId`, e.g. `anthropic.claude-sonnet-4-20250514-v1:0`.
    pub model_id: String,
    /// `modelName`, e.g. `Claude Sonnet 4`.
    pub model_name: Option<String>,
    /// `providerName`, e.g. `Anthropic` or `Mistral AI`.
    pub provider_name: Option<String>,
    /// `inputModalities` (`TEXT`, `IMAGE`, `EMBEDDING`).
    pub input_modalities: Vec<String>,
    /// `outputModalities` (`TEXT`, `IMAGE`, `EMBEDDING`).
    pub output_modalities: Vec<String>,
    /// `responseStreamingSupported`.
    pub response_streaming_supported: Option<bool>,
    /// `inferenceTypesSupported` (`ON_DEMAND`, `PROVISIONED`, `INFERENCE_PROFILE`).
    pub inference_types_supported: Vec<String>,
    /// `modelLifecycle.status` (`ACTIVE`, `LEGACY`).
    pub lifecycle_status: Option<String>,
}

/// One entry of `ListInferenceProfiles`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InferenceProfile {
    /// `inferenceProfileId`, e.g. `us.anthropic.claude-sonnet-4-20250514-v1:0`.
    pub inference_profile_id: String,
    /// `inferenceProfileName`, e.g. `US Anthropic Claude Sonnet 4`.
    pub inference_profile_name: String,
    /// `status` (`ACTIVE`).
    pub status: String,
    /// `type` (`SYSTEM_DEFINED` or `APPLICATION`).
    #[serde(rename = "type")]
    pub profile_type: String,
    /// `models[].modelArn`, in order; the first names the base model.
    pub model_arns: Vec<String>,
    /// `inferenceProfileArn`: how an `APPLICATION` profile is invoked (it has no other name).
    /// Empty in listings cached before it was recorded.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub inference_profile_arn: String,
}

impl InferenceProfile {
    /// The base model id: the part after `foundation-model/` in the first model ARN of that
    /// shape (every region of a cross-region profile names the same model).
    ///
    /// `arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0` gives
    /// `anthropic.claude-3-haiku-20240307-v1:0`; no foundation-model ARN gives `None`.
    pub fn base_model_id(&self) -> Option<&str> {
        self.model_arns
            .iter()
            .find_map(|arn| foundation_model_id(arn))
    }

    /// True for a user-made `APPLICATION` profile (case-insensitive).
    pub fn is_application(&self) -> bool {
        self.profile_type.eq_ignore_ascii_case("APPLICATION")
    }

    /// The name a call uses: the ARN of an application profile (its id alone is not invocable),
    /// the id of a system profile.
    pub fn invocation_id(&self) -> &str {
        if self.is_application() && !self.inference_profile_arn.trim().is_empty() {
            self.inference_profile_arn.trim()
        } else {
            self.inference_profile_id.trim()
        }
    }
}

/// The model id of a foundation-model ARN (`…:foundation-model/<id>`), `None` for anything else.
pub fn foundation_model_id(arn: &str) -> Option<&str> {
    let (_, id) = arn.rsplit_once("foundation-model/")?;
    (!id.is_empty()).then_some(id)
}

/// Both listings of one region, as fetched together.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Listing {
    /// Every foundation model `ListFoundationModels` returned (no server-side filter).
    pub foundation_models: Vec<FoundationModel>,
    /// Every inference profile of every `ListInferenceProfiles` page.
    pub inference_profiles: Vec<InferenceProfile>,
    /// Problems that did not stop discovery, e.g. `ListInferenceProfiles` denied by IAM (the
    /// seed document lists only `bedrock:ListFoundationModels`, so such policies are common):
    /// the foundation models are still listed, profile-only models are missing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}
