//! The seam between discovery and AWS: [`ControlPlane`], and its `aws-sdk-bedrock` implementation.

use std::time::Duration;

use aws_sdk_bedrock::config::Region;
use aws_sdk_bedrock::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_bedrock::types::InferenceProfileType;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_types::retry::RetryConfig;

use crate::error::{Error, Operation};
use crate::listing::{FoundationModel, InferenceProfile, Listing};

/// Where listings come from.
///
/// [`SdkControlPlane`] is the real one; tests of the cache may count calls through their own.
#[async_trait::async_trait]
pub trait ControlPlane: Send + Sync + std::fmt::Debug {
    /// Lists the foundation models and every inference profile of `region`.
    async fn fetch(&self, region: &str) -> Result<Listing, Error>;

    /// Describes one inference profile (`GetInferenceProfile`) by id or ARN, asked in `region`.
    /// `Ok(None)`: this control plane cannot describe profiles (the default).
    async fn describe_profile(
        &self,
        region: &str,
        identifier: &str,
    ) -> Result<Option<InferenceProfile>, Error> {
        let _ = (region, identifier);
        Ok(None)
    }

    /// A label for everything besides the region that changes the answer (endpoint override,
    /// credential source, profile name). Part of the cache key, stored in cache files: it must
    /// never contain a secret.
    fn cache_identity(&self) -> String;
}

/// The real control plane: `aws-sdk-bedrock`, configured by `openclaw-creds`.
///
/// Per fetch it derives a client for the requested region from the base configuration (which
/// carries the credentials, the auth scheme and any endpoint override), then calls
/// `ListFoundationModels` once (no server-side filter) and walks every page of
/// `ListInferenceProfiles` for `typeEquals=SYSTEM_DEFINED` and for `typeEquals=APPLICATION`
/// through the SDK paginator, all at once; an application profile listed without models is
/// described with `GetInferenceProfile`.
#[derive(Clone)]
pub struct SdkControlPlane {
    config: aws_sdk_bedrock::Config,
    settings: Option<openclaw_creds::AwsSettings>,
    identity: String,
    page_size: Option<i32>,
    retry: Option<RetryConfig>,
}

impl std::fmt::Debug for SdkControlPlane {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The SDK config holds the credentials provider: never print it.
        f.debug_struct("SdkControlPlane")
            .field("identity", &self.identity)
            .field("page_size", &self.page_size)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl SdkControlPlane {
    /// A control plane over an `aws-sdk-bedrock` configuration (region is set per fetch).
    ///
    /// `identity` is the cache-key label of [`ControlPlane::cache_identity`]: say which
    /// endpoint and credential source the configuration uses (never a secret).
    pub fn new(config: aws_sdk_bedrock::Config, identity: impl Into<String>) -> Self {
        Self {
            config,
            settings: None,
            identity: identity.into(),
            page_size: None,
            retry: None,
        }
    }

    /// A control plane over the settings `openclaw-creds` built (credentials, auth scheme,
    /// `AWS_ENDPOINT_URL_BEDROCK`), the usual constructor.
    ///
    /// The cache identity is the credential source (`env: AWS_PROFILE` plus the profile name;
    /// static keys plus [`AwsSettings::static_key_fingerprint`], a SHA-256 of the access key id,
    /// never the key id or a secret) and the endpoint override: two processes with the same
    /// answer to all of them share on-disk cache entries, two accounts do not. Missing
    /// credentials are reported with OpenClaw's message.
    ///
    /// [`AwsSettings::static_key_fingerprint`]: openclaw_creds::AwsSettings::static_key_fingerprint
    pub fn from_settings(settings: &openclaw_creds::AwsSettings) -> Self {
        let source = settings.credential_source();
        let mut identity = source.to_string();
        if let openclaw_creds::CredentialSource::Profile { name } = source {
            identity.push_str(&format!(" ({name})"));
        }
        if let Some(fingerprint) = settings.static_key_fingerprint() {
            identity.push_str(&format!(" (access key {fingerprint})"));
        }
        match settings.bedrock_endpoint() {
            Some(endpoint) => identity.push_str(&format!(" @ {}", endpoint.url)),
            None => identity.push_str(" @ aws"),
        }
        let mut plane = Self::new(settings.bedrock_config(), identity);
        plane.settings = Some(settings.clone());
        plane
    }

    /// Asks for `ListInferenceProfiles` pages of at most `page_size` entries (`maxResults`);
    /// unset, the service's default page size applies.
    pub fn with_page_size(mut self, page_size: i32) -> Self {
        self.page_size = Some(page_size);
        self
    }

    /// Overrides the SDK retry policy: at most `max_attempts` attempts per call (1 = no retry),
    /// backing off from `initial_backoff`. Unset, the configuration's own policy applies (the
    /// SDK's standard mode: 3 attempts).
    pub fn with_retries(mut self, max_attempts: u32, initial_backoff: Duration) -> Self {
        self.retry = Some(
            RetryConfig::standard()
                .with_max_attempts(max_attempts.max(1))
                .with_initial_backoff(initial_backoff),
        );
        self
    }

    fn map_error<E>(
        &self,
        err: SdkError<E, HttpResponse>,
        operation: Operation,
        region: &str,
    ) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let Some(settings) = &self.settings
            && !matches!(err, SdkError::ServiceError(_))
            && let Some(missing) = settings.credentials_failure(&err)
        {
            return Error::Credentials {
                operation,
                region: region.to_string(),
                message: missing.to_string(),
            };
        }
        map_sdk_error(err, operation, region)
    }

    /// Every page of `ListInferenceProfiles` for one profile type.
    async fn list_profiles(
        &self,
        client: &aws_sdk_bedrock::Client,
        region: &str,
        kind: InferenceProfileType,
    ) -> Result<Vec<InferenceProfile>, Error> {
        let mut paginator = client
            .list_inference_profiles()
            .type_equals(kind)
            .into_paginator();
        if let Some(size) = self.page_size {
            paginator = paginator.page_size(size);
        }
        let mut pages = paginator.send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| self.map_error(e, Operation::ListInferenceProfiles, region))?;
            out.extend(
                page.inference_profile_summaries()
                    .iter()
                    .map(inference_profile),
            );
        }
        Ok(out)
    }

    fn client(&self, region: &str) -> aws_sdk_bedrock::Client {
        let mut builder = self
            .config
            .to_builder()
            .region(Region::new(region.to_string()));
        if let Some(retry) = &self.retry {
            builder = builder.retry_config(retry.clone());
        }
        aws_sdk_bedrock::Client::from_conf(builder.build())
    }
}

#[async_trait::async_trait]
impl ControlPlane for SdkControlPlane {
    async fn fetch(&self, region: &str) -> Result<Listing, Error> {
        let client = self.client(region);
        let models = async {
            let out = client
                .list_foundation_models()
                .send()
                .await
                .map_err(|e| self.map_error(e, Operation::ListFoundationModels, region))?;
            Ok::<_, Error>(
                out.model_summaries()
                    .iter()
                    .map(foundation_model)
                    .collect::<Vec<_>>(),
            )
        };
        let system = self.list_profiles(&client, region, InferenceProfileType::SystemDefined);
        let application = async {
            let mut profiles = self
                .list_profiles(&client, region, InferenceProfileType::Application)
                .await?;
            for profile in profiles.iter_mut().filter(|p| p.model_arns.is_empty()) {
                let identifier = profile.invocation_id().to_string();
                if let Some(described) = self.describe_profile(region, &identifier).await? {
                    profile.model_arns = described.model_arns;
                }
            }
            Ok::<_, Error>(profiles)
        };
        // Profiles denied by IAM degrade discovery instead of failing it: every on-demand model
        // is still usable, and the warning says which action to grant.
        let system = async {
            match system.await {
                Err(err @ Error::AccessDenied { .. }) => {
                    tracing::warn!(%err, "listing inference profiles was denied; profile-only models are not discovered");
                    Ok((Vec::new(), Some(err.to_string())))
                }
                other => other.map(|p| (p, None)),
            }
        };
        let application = async {
            match application.await {
                Err(err @ Error::AccessDenied { .. }) => {
                    tracing::warn!(%err, "listing application inference profiles was denied; they are not discovered");
                    Ok((Vec::new(), Some(err.to_string())))
                }
                other => other.map(|p| (p, None)),
            }
        };
        let (foundation_models, (mut inference_profiles, system_warning), (apps, app_warning)) =
            tokio::try_join!(models, system, application)?;
        inference_profiles.extend(apps);
        let mut warnings: Vec<String> = system_warning.into_iter().collect();
        // One denial of ListInferenceProfiles is one warning, whichever type it hit.
        if let Some(warning) = app_warning
            && !warnings.contains(&warning)
        {
            warnings.push(warning);
        }
        Ok(Listing {
            foundation_models,
            inference_profiles,
            warnings,
        })
    }

    async fn describe_profile(
        &self,
        region: &str,
        identifier: &str,
    ) -> Result<Option<InferenceProfile>, Error> {
        let out = self
            .client(region)
            .get_inference_profile()
            .inference_profile_identifier(identifier)
            .send()
            .await
            .map_err(|e| self.map_error(e, Operation::GetInferenceProfile, region))?;
        Ok(Some(InferenceProfile {
            inference_profile_id: out.inference_profile_id().to_string(),
            inference_profile_name: out.inference_profile_name().to_string(),
            status: out.status().as_str().to_string(),
            profile_type: out.r#type().as_str().to_string(),
            model_arns: out
                .models()
                .iter()
                .filter_map(|m| m.model_arn().map(str::to_string))
                .collect(),
            inference_profile_arn: out.inference_profile_arn().to_string(),
        }))
    }

    fn cache_identity(&self) -> String {
        self.identity.clone()
    }
}

fn foundation_model(m: &aws_sdk_bedrock::types::FoundationModelSummary) -> FoundationModel {
    FoundationModel {
        model_id: m.model_id().to_string(),
        model_name: m.model_name().map(str::to_string),
        provider_name: m.provider_name().map(str::to_string),
        input_modalities: m
            .input_modalities()
            .iter()
            .map(|x| x.as_str().to_string())
            .collect(),
        output_modalities: m
            .output_modalities()
            .iter()
            .map(|x| x.as_str().to_string())
            .collect(),
        response_streaming_supported: m.response_streaming_supported(),
        inference_types_supported: m
            .inference_types_supported()
            .iter()
            .map(|x| x.as_str().to_string())
            .collect(),
        lifecycle_status: m.model_lifecycle().map(|l| l.status().as_str().to_string()),
    }
}

fn inference_profile(p: &aws_sdk_bedrock::types::InferenceProfileSummary) -> InferenceProfile {
    InferenceProfile {
        inference_profile_id: p.inference_profile_id().to_string(),
        inference_profile_name: p.inference_profile_name().to_string(),
        status: p.status().as_str().to_string(),
        profile_type: p.r#type().as_str().to_string(),
        model_arns: p
            .models()
            .iter()
            .filter_map(|m| m.model_arn().map(str::to_string))
            .collect(),
        inference_profile_arn: p.inference_profile_arn().to_string(),
    }
}

/// AWS error codes that mean "slow down" (after the SDK has retried them).
const THROTTLING_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "ServiceQuotaExceededException",
];

fn map_sdk_error<E>(err: SdkError<E, HttpResponse>, operation: Operation, region: &str) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let region = region.to_string();
    let context = || openclaw_creds::error_chain(&err);
    match &err {
        SdkError::ServiceError(ctx) => {
            let code = ctx.err().code().map(str::to_string);
            let message = ctx.err().message().unwrap_or("no message").to_string();
            let status = ctx.raw().status();
            match code {
                Some(code) if code == "AccessDeniedException" || code == "AccessDenied" => {
                    Error::AccessDenied {
                        operation,
                        region,
                        message,
                    }
                }
                Some(code) if THROTTLING_CODES.contains(&code.as_str()) => Error::Throttled {
                    operation,
                    region,
                    code,
                    message,
                },
                Some(code) => Error::Service {
                    operation,
                    region,
                    code,
                    message,
                },
                // A success status whose body the SDK could not deserialize.
                None if status.is_success() => Error::Malformed {
                    operation,
                    region,
                    message: context(),
                },
                None if status.as_u16() == 429 => Error::Throttled {
                    operation,
                    region,
                    code: "HTTP 429".to_string(),
                    message,
                },
                None => Error::Service {
                    operation,
                    region,
                    code: format!("HTTP {}", status.as_u16()),
                    message: context(),
                },
            }
        }
        SdkError::ResponseError(_) => Error::Malformed {
            operation,
            region,
            message: context(),
        },
        SdkError::ConstructionFailure(_) => {
            let message = context();
            let lower = message.to_ascii_lowercase();
            if lower.contains("credential") || lower.contains("identity") {
                Error::Credentials {
                    operation,
                    region,
                    message,
                }
            } else {
                Error::Transport {
                    operation,
                    region,
                    message,
                }
            }
        }
        _ if openclaw_creds::is_untrusted_certificate(&err) => Error::Transport {
            operation,
            region,
            message: format!(
                "{}: {}",
                context(),
                openclaw_creds::UNTRUSTED_CERTIFICATE_HINT
            ),
        },
        _ => Error::Transport {
            operation,
            region,
            message: context(),
        },
    }
}
