//! The control plane (`ListFoundationModels`, `GetFoundationModel`, `ListInferenceProfiles`,
//! `GetInferenceProfile`) and the resolution of runtime model identifiers, over a request-scoped
//! view of the catalog.

use percent_encoding::percent_decode_str;

use crate::catalog::{Catalog, FoundationModel, InferenceProfile};
use crate::error::{ApiError, to_json};
use crate::wire;

/// Request-scoped view of the catalog (region and account make the ARNs).
pub(crate) struct Ctx<'a> {
    pub catalog: &'a Catalog,
    pub region: &'a str,
    pub account: &'a str,
}

/// A runtime model identifier resolved against the catalog.
pub(crate) struct Resolved<'a> {
    pub model: &'a FoundationModel,
    /// Set when invoked through an inference profile.
    pub profile: Option<&'a InferenceProfile>,
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            (decode(k), decode(v))
        })
        .collect()
}

fn enum_error(value: &str, field: &str, allowed: &[&str]) -> ApiError {
    ApiError::validation(&format!(
        "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must satisfy enum value set: [{}]",
        allowed.join(", ")
    ))
}

impl Ctx<'_> {
    fn model_arn(&self, model_id: &str) -> String {
        format!(
            "arn:aws:bedrock:{}::foundation-model/{model_id}",
            self.region
        )
    }

    fn profile_arn(&self, profile_id: &str) -> String {
        format!(
            "arn:aws:bedrock:{}:{}:inference-profile/{profile_id}",
            self.region, self.account
        )
    }

    fn summary<'m>(&self, m: &'m FoundationModel) -> wire::ModelSummary<'m> {
        wire::ModelSummary {
            model_arn: self.model_arn(&m.model_id),
            model_id: &m.model_id,
            model_name: &m.model_name,
            provider_name: &m.provider_name,
            input_modalities: &m.input_modalities,
            output_modalities: &m.output_modalities,
            response_streaming_supported: m.response_streaming_supported,
            customizations_supported: &m.customizations_supported,
            inference_types_supported: &m.inference_types_supported,
            model_lifecycle: &m.model_lifecycle,
        }
    }

    pub(crate) fn list_foundation_models(&self, query: &str) -> Result<Vec<u8>, ApiError> {
        let mut provider = None;
        let mut output = None;
        let mut inference = None;
        let mut customization = None;
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "byProvider" => provider = Some(v),
                "byOutputModality" => {
                    let allowed = ["TEXT", "IMAGE", "EMBEDDING"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "byOutputModality", &allowed));
                    }
                    output = Some(v);
                }
                "byInferenceType" => {
                    let allowed = ["ON_DEMAND", "PROVISIONED"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "byInferenceType", &allowed));
                    }
                    inference = Some(v);
                }
                "byCustomizationType" => {
                    let allowed = ["FINE_TUNING", "CONTINUED_PRE_TRAINING", "DISTILLATION"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "byCustomizationType", &allowed));
                    }
                    customization = Some(v);
                }
                _ => {}
            }
        }
        let has = |list: &[String], v: &Option<String>| v.as_ref().is_none_or(|v| list.contains(v));
        let models = self
            .catalog
            .foundation_models
            .iter()
            .filter(|m| {
                provider
                    .as_ref()
                    .is_none_or(|p| m.provider_name.eq_ignore_ascii_case(p.trim()))
            })
            .filter(|m| has(&m.output_modalities, &output))
            .filter(|m| has(&m.inference_types_supported, &inference))
            .filter(|m| has(&m.customizations_supported, &customization))
            .map(|m| self.summary(m))
            .collect();
        to_json(&wire::ListFoundationModelsResponse {
            model_summaries: models,
        })
    }

    /// Accepts a model id or a foundation-model ARN, like the real API.
    pub(crate) fn get_foundation_model(&self, identifier: &str) -> Result<Vec<u8>, ApiError> {
        let id = identifier
            .rsplit_once(":foundation-model/")
            .map_or(identifier, |(_, id)| id);
        let model = self.catalog.model(id).ok_or_else(|| {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                &format!("The model {identifier} does not exist."),
            )
        })?;
        to_json(&wire::GetFoundationModelResponse {
            model_details: self.summary(model),
        })
    }

    fn profile_summary<'p>(&self, p: &'p InferenceProfile) -> wire::ProfileSummary<'p> {
        let models = if p.is_global() {
            vec![
                wire::ProfileModel {
                    model_arn: self.model_arn(&p.model_id),
                },
                wire::ProfileModel {
                    model_arn: format!("arn:aws:bedrock:::foundation-model/{}", p.model_id),
                },
            ]
        } else {
            p.regions
                .iter()
                .map(|r| wire::ProfileModel {
                    model_arn: format!("arn:aws:bedrock:{r}::foundation-model/{}", p.model_id),
                })
                .collect()
        };
        wire::ProfileSummary {
            inference_profile_name: &p.inference_profile_name,
            description: p.description.as_deref(),
            created_at: p.created_at.as_deref(),
            updated_at: p.updated_at.as_deref(),
            inference_profile_arn: self.profile_arn(&p.inference_profile_id),
            models,
            inference_profile_id: &p.inference_profile_id,
            status: &p.status,
            profile_type: &p.profile_type,
        }
    }

    pub(crate) fn list_inference_profiles(&self, query: &str) -> Result<Vec<u8>, ApiError> {
        let mut max_results = 1000usize;
        let mut offset = 0usize;
        let mut profile_type = "SYSTEM_DEFINED".to_owned();
        for (k, v) in query_pairs(query) {
            match k.as_str() {
                "maxResults" => {
                    max_results = match v.parse::<i64>() {
                        Ok(n) if (1..=1000).contains(&n) => usize::try_from(n).unwrap_or(1000),
                        Ok(n) if n < 1 => {
                            return Err(ApiError::validation(&format!(
                                "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"
                            )));
                        }
                        Ok(_) => {
                            return Err(ApiError::validation(&format!(
                                "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000"
                            )));
                        }
                        Err(_) => {
                            return Err(ApiError::new(
                                400,
                                "SerializationException",
                                "maxResults must be an integer",
                            ));
                        }
                    }
                }
                "nextToken" => {
                    offset = decode_token(&v).ok_or_else(|| {
                        ApiError::validation("The pagination token provided is invalid.")
                    })?;
                }
                "type" => {
                    let allowed = ["SYSTEM_DEFINED", "APPLICATION"];
                    if !allowed.contains(&v.as_str()) {
                        return Err(enum_error(&v, "typeEquals", &allowed));
                    }
                    profile_type = v;
                }
                _ => {}
            }
        }
        let visible: Vec<&InferenceProfile> = self
            .catalog
            .inference_profiles
            .iter()
            .filter(|p| p.profile_type == profile_type && p.visible_in(self.region))
            .collect();
        let page: Vec<_> = visible
            .iter()
            .skip(offset)
            .take(max_results)
            .map(|p| self.profile_summary(p))
            .collect();
        let next = offset + page.len();
        let next_token = (next < visible.len()).then(|| encode_token(next));
        to_json(&wire::ListInferenceProfilesResponse {
            inference_profile_summaries: page,
            next_token,
        })
    }

    pub(crate) fn get_inference_profile(&self, identifier: &str) -> Result<Vec<u8>, ApiError> {
        let id = identifier
            .rsplit_once(":inference-profile/")
            .map_or(identifier, |(_, id)| id);
        let profile = self
            .catalog
            .profile(id)
            .filter(|p| p.visible_in(self.region))
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "ResourceNotFoundException",
                    &format!("Inference profile {identifier} not found."),
                )
            })?;
        to_json(&self.profile_summary(profile))
    }

    /// Resolves a runtime model identifier: model id, profile id, or either's ARN.
    pub(crate) fn resolve(&self, identifier: &str) -> Result<Resolved<'_>, ApiError> {
        let not_found = || {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                "Could not resolve the foundation model from the provided model identifier.",
            )
        };
        let invalid = || ApiError::validation("The provided model identifier is invalid.");
        let (kind, id) = if let Some(rest) = identifier.strip_prefix("arn:") {
            // arn:aws:bedrock:<region>:<account>:<type>/<id>
            let fields: Vec<&str> = rest.splitn(5, ':').collect();
            let [_, "bedrock", _region, _account, resource] = fields.as_slice() else {
                return Err(invalid());
            };
            let Some((kind, id)) = resource.split_once('/') else {
                return Err(invalid());
            };
            (Some(kind.to_owned()), id.to_owned())
        } else {
            (None, identifier.to_owned())
        };
        match kind.as_deref() {
            Some("foundation-model") | None => {
                if let Some(model) = self.catalog.model(&id) {
                    return Ok(Resolved {
                        model,
                        profile: None,
                    });
                }
                if kind.is_some() {
                    return Err(not_found());
                }
            }
            Some("inference-profile") | Some("application-inference-profile") => {}
            Some(_) => return Err(invalid()),
        }
        match self.catalog.profile(&id) {
            Some(p) if p.visible_in(self.region) => {
                let model = self.catalog.model(&p.model_id).ok_or_else(not_found)?;
                Ok(Resolved {
                    model,
                    profile: Some(p),
                })
            }
            // A profile of another geography is unknown here, as on the real service.
            Some(_) => Err(invalid()),
            None => Err(not_found()),
        }
    }
}

fn encode_token(offset: usize) -> String {
    aws_smithy_types::base64::encode(format!("fake-bedrock-offset:{offset}"))
}

fn decode_token(token: &str) -> Option<usize> {
    let bytes = aws_smithy_types::base64::decode(token).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("fake-bedrock-offset:")?
        .parse()
        .ok()
}
