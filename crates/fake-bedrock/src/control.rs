//! The control plane (`ListFoundationModels`, `GetFoundationModel`, `ListInferenceProfiles`,
//! `GetInferenceProfile`) and the resolution of runtime model identifiers, over a request-scoped
//! view of the catalog.

use percent_encoding::percent_decode_str;

use crate::catalog::{Catalog, FoundationModel, InferenceProfile, ModelResource};
use crate::error::{ApiError, to_json};
use crate::wire;

/// Request-scoped view of the catalog (region and account make the ARNs).
pub(crate) struct Ctx<'a> {
    pub catalog: &'a Catalog,
    pub region: &'a str,
    pub account: &'a str,
    /// Application profiles created through the admin API, after the catalog's.
    pub extra: &'a [InferenceProfile],
}

/// A runtime model identifier resolved against the catalog.
pub(crate) struct Resolved<'a> {
    pub model: &'a FoundationModel,
    /// Set when invoked through an inference profile.
    pub profile: Option<&'a InferenceProfile>,
    /// Set when invoked through a provisioned, custom or imported model or a prompt router.
    pub resource: Option<&'a ModelResource>,
}

impl Resolved<'_> {
    /// True when the call goes through a profile or a model resource (no on-demand check, and
    /// `CountTokens` refuses it).
    pub fn routed(&self) -> bool {
        self.profile.is_some() || self.resource.is_some()
    }
}

/// A Bedrock ARN taken apart: `arn:<partition>:bedrock:<region>:<account>:<type>/<id>`.
pub(crate) struct Arn<'s> {
    pub region: &'s str,
    pub account: &'s str,
    pub kind: &'s str,
    pub id: &'s str,
}

impl<'s> Arn<'s> {
    /// `None` for text that is not a Bedrock ARN of that shape.
    pub fn parse(text: &'s str) -> Option<Self> {
        let rest = text.strip_prefix("arn:")?;
        let fields: Vec<&str> = rest.splitn(5, ':').collect();
        let [_, "bedrock", region, account, resource] = fields.as_slice() else {
            return None;
        };
        let (kind, id) = resource.split_once('/')?;
        (!kind.is_empty() && !id.is_empty()).then_some(Self {
            region,
            account,
            kind,
            id,
        })
    }
}

/// The runtime's answer for a model identifier naming another account's resource.
fn runtime_access_denied() -> ApiError {
    ApiError::new(
        403,
        "AccessDeniedException",
        "You don't have access to the model with the specified model ID.",
    )
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

    fn profile_arn(&self, p: &InferenceProfile) -> String {
        if p.is_application() {
            return format!(
                "arn:aws:bedrock:{}:{}:application-inference-profile/{}",
                p.home_region().unwrap_or(self.region),
                p.account_id.as_deref().unwrap_or(self.account),
                p.inference_profile_id
            );
        }
        format!(
            "arn:aws:bedrock:{}:{}:inference-profile/{}",
            self.region, self.account, p.inference_profile_id
        )
    }

    /// Every profile: the catalog's, then the ones created at run time.
    fn profiles(&self) -> impl Iterator<Item = &InferenceProfile> {
        self.catalog.inference_profiles.iter().chain(self.extra)
    }

    fn profile(&self, id: &str) -> Option<&InferenceProfile> {
        self.profiles().find(|p| p.inference_profile_id == id)
    }

    /// True when the profile belongs to the server's account.
    fn owned(&self, p: &InferenceProfile) -> bool {
        p.account_id.as_deref().is_none_or(|a| a == self.account)
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
            inference_profile_arn: self.profile_arn(p),
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
            .profiles()
            .filter(|p| {
                p.profile_type == profile_type && p.visible_in(self.region) && self.owned(p)
            })
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

    /// `GetInferenceProfile` by id or ARN: another account's ARN is an
    /// `AccessDeniedException`, another region's a `ValidationException`, an unknown profile a
    /// `ResourceNotFoundException`.
    pub(crate) fn get_inference_profile(&self, identifier: &str) -> Result<Vec<u8>, ApiError> {
        let not_found = || {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                &format!("Inference profile {identifier} not found."),
            )
        };
        let (id, application) = match Arn::parse(identifier) {
            Some(arn) => {
                let application = match arn.kind {
                    "inference-profile" => false,
                    "application-inference-profile" => true,
                    _ => {
                        return Err(ApiError::validation(&format!(
                            "1 validation error detected: Value '{identifier}' at 'inferenceProfileIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:aws(|-us-gov|-cn|-iso|-iso-b):bedrock:(|[0-9a-z-]{{0,20}}):(|[0-9]{{12}}):(inference-profile|application-inference-profile)/)?[a-zA-Z0-9-:.]+"
                        )));
                    }
                };
                if !arn.account.is_empty() && arn.account != self.account {
                    return Err(ApiError::new(
                        403,
                        "AccessDeniedException",
                        &format!(
                            "User is not authorized to perform: bedrock:GetInferenceProfile on resource: {identifier}"
                        ),
                    ));
                }
                if !arn.region.is_empty() && arn.region != self.region {
                    return Err(ApiError::validation(&format!(
                        "The inference profile ARN's region {} does not match the region of the request, {}.",
                        arn.region, self.region
                    )));
                }
                (arn.id, Some(application))
            }
            None => (identifier, None),
        };
        let profile = self
            .profile(id)
            .filter(|p| p.visible_in(self.region) && self.owned(p))
            .filter(|p| application.is_none_or(|a| a == p.is_application()))
            .ok_or_else(not_found)?;
        to_json(&self.profile_summary(profile))
    }

    /// Resolves a runtime model identifier: a model id, a system profile id, or a Bedrock ARN
    /// (foundation model, system or application inference profile, provisioned / custom /
    /// imported model, prompt router). An ARN of another account is an
    /// `AccessDeniedException`; an ARN of another region, or a system profile of another
    /// geography, is an invalid identifier (`ValidationException`); an unknown one is a
    /// `ResourceNotFoundException`. Application profiles are named by ARN only.
    pub(crate) fn resolve(&self, identifier: &str) -> Result<Resolved<'_>, ApiError> {
        let not_found = || {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                "Could not resolve the foundation model from the provided model identifier.",
            )
        };
        let invalid = || ApiError::validation("The provided model identifier is invalid.");
        let model_of = |model_id: &str| self.catalog.model(model_id).ok_or_else(not_found);
        let (kind, id) = if identifier.starts_with("arn:") {
            let arn = Arn::parse(identifier).ok_or_else(invalid)?;
            if arn.kind != "foundation-model"
                && !arn.account.is_empty()
                && arn.account != self.account
            {
                return Err(runtime_access_denied());
            }
            if !arn.region.is_empty() && arn.region != self.region {
                return Err(invalid());
            }
            (Some(arn.kind), arn.id)
        } else {
            (None, identifier)
        };
        match kind {
            Some("foundation-model") | None => {
                if let Some(model) = self.catalog.model(id) {
                    return Ok(Resolved {
                        model,
                        profile: None,
                        resource: None,
                    });
                }
                if kind.is_some() {
                    return Err(not_found());
                }
            }
            Some("inference-profile") => {}
            Some("application-inference-profile") => {
                let profile = self
                    .profile(id)
                    .filter(|p| p.is_application() && self.owned(p))
                    .ok_or_else(not_found)?;
                if !profile.visible_in(self.region) {
                    return Err(invalid());
                }
                return Ok(Resolved {
                    model: model_of(&profile.model_id)?,
                    profile: Some(profile),
                    resource: None,
                });
            }
            Some(kind) => {
                let known = [
                    "provisioned-model",
                    "custom-model",
                    "imported-model",
                    "prompt-router",
                    "default-prompt-router",
                ];
                if !known.contains(&kind) {
                    return Err(invalid());
                }
                let resource = self
                    .catalog
                    .model_resources
                    .iter()
                    .find(|r| r.resource_type == kind && r.resource_id == id)
                    .filter(|r| r.visible_in(self.region))
                    .ok_or_else(not_found)?;
                return Ok(Resolved {
                    model: model_of(&resource.model_id)?,
                    profile: None,
                    resource: Some(resource),
                });
            }
        }
        match self.profile(id).filter(|p| !p.is_application()) {
            Some(p) if p.visible_in(self.region) => Ok(Resolved {
                model: model_of(&p.model_id)?,
                profile: Some(p),
                resource: None,
            }),
            // A profile of another geography is unknown here, as on the real service.
            Some(_) => Err(invalid()),
            None => Err(not_found()),
        }
    }

    /// `CreateInferenceProfile` (`POST /inference-profiles`): an `APPLICATION` profile named
    /// `inferenceProfileName`, copied from `modelSource.copyFrom` (a foundation-model ARN, or a
    /// system profile's ARN, whose regions it then routes to), in the caller's region and the
    /// server's account, with `tags`. `id` is the new profile's id. A name already taken is a
    /// `ConflictException`; an unknown source a `ResourceNotFoundException`.
    pub(crate) fn create_inference_profile(
        &self,
        body: &[u8],
        id: String,
    ) -> Result<(InferenceProfile, Vec<u8>), ApiError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Source {
            copy_from: Option<String>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Request {
            inference_profile_name: Option<String>,
            description: Option<String>,
            model_source: Option<Source>,
            #[serde(default)]
            tags: Vec<crate::catalog::Tag>,
        }
        let request: Request = serde_json::from_slice(body)
            .map_err(|_| ApiError::new(400, "SerializationException", "Malformed request body."))?;
        let null = |field: &str| {
            ApiError::validation(&format!(
                "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ))
        };
        let name = request
            .inference_profile_name
            .ok_or_else(|| null("inferenceProfileName"))?;
        let valid_name = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '_' | '-'))
            && name.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !valid_name {
            return Err(ApiError::validation(&format!(
                "1 validation error detected: Value '{name}' at 'inferenceProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ([0-9a-zA-Z:.][ _-]?)+"
            )));
        }
        let copy_from = request
            .model_source
            .and_then(|s| s.copy_from)
            .ok_or_else(|| null("modelSource.copyFrom"))?;
        if self
            .profiles()
            .any(|p| p.is_application() && self.owned(p) && p.inference_profile_name == name)
        {
            return Err(ApiError::new(
                400,
                "ConflictException",
                &format!("An inference profile with the name {name} already exists."),
            ));
        }
        let not_found = || {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                &format!("The model source {copy_from} was not found."),
            )
        };
        let arn = Arn::parse(&copy_from).ok_or_else(|| {
            ApiError::validation(&format!(
                "The model source {copy_from} is not a foundation model or inference profile ARN."
            ))
        })?;
        if !arn.account.is_empty() && arn.account != self.account {
            return Err(runtime_access_denied());
        }
        if !arn.region.is_empty() && arn.region != self.region {
            return Err(ApiError::validation(&format!(
                "The model source {copy_from} is not in the region of the request, {}.",
                self.region
            )));
        }
        let (model_id, regions) = match arn.kind {
            "foundation-model" => {
                let model = self.catalog.model(arn.id).ok_or_else(not_found)?;
                (model.model_id.clone(), vec![self.region.to_owned()])
            }
            "inference-profile" => {
                let profile = self
                    .profile(arn.id)
                    .filter(|p| !p.is_application() && p.visible_in(self.region))
                    .ok_or_else(not_found)?;
                (profile.model_id.clone(), profile.regions.clone())
            }
            _ => return Err(not_found()),
        };
        let now = "2026-01-01T00:00:00+00:00".to_owned();
        let profile = InferenceProfile {
            inference_profile_id: id,
            inference_profile_name: name,
            description: request.description,
            model_id,
            regions,
            created_at: Some(now.clone()),
            updated_at: Some(now),
            status: "ACTIVE".to_owned(),
            profile_type: "APPLICATION".to_owned(),
            home_region: Some(self.region.to_owned()),
            account_id: Some(self.account.to_owned()),
            tags: request.tags,
        };
        let body = to_json(&serde_json::json!({
            "inferenceProfileArn": self.profile_arn(&profile),
            "status": "ACTIVE",
        }))?;
        Ok((profile, body))
    }

    /// `ListTagsForResource` (`POST /listTagsForResource`, body `{"resourceARN": ...}`): the
    /// tags of an inference profile of this account and region.
    pub(crate) fn list_tags(&self, body: &[u8]) -> Result<Vec<u8>, ApiError> {
        #[derive(serde::Deserialize)]
        struct Request {
            #[serde(rename = "resourceARN")]
            resource_arn: String,
        }
        let request: Request = serde_json::from_slice(body).map_err(|_| {
            ApiError::validation(
                "1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null",
            )
        })?;
        let arn = &request.resource_arn;
        let profile = self
            .profiles()
            .find(|p| self.owned(p) && p.visible_in(self.region) && self.profile_arn(p) == *arn)
            .ok_or_else(|| {
                ApiError::new(
                    404,
                    "ResourceNotFoundException",
                    &format!("The resource {arn} was not found."),
                )
            })?;
        to_json(&wire::ListTagsResponse {
            tags: profile
                .tags
                .iter()
                .map(|t| wire::TagOut {
                    key: &t.key,
                    value: &t.value,
                })
                .collect(),
        })
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
