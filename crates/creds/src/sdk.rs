//! The shared AWS SDK configuration.

use std::fmt;

use aws_config::BehaviorVersion;
use aws_config::identity::IdentityCache;
use aws_credential_types::Credentials;
use aws_credential_types::provider::{
    self, ProvideCredentials, SharedCredentialsProvider, error::CredentialsError,
    token::SharedTokenProvider,
};
use aws_smithy_runtime_api::client::auth::AuthSchemePreference;
use aws_smithy_runtime_api::client::auth::http::HTTP_BEARER_AUTH_SCHEME_ID;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_types::SdkConfig;
use aws_types::region::Region;

use crate::http::{ConnectionPool, https_client};
use crate::source::{ACCESS_KEY_VAR, BEARER_TOKEN_VAR, SECRET_KEY_VAR, SESSION_TOKEN_VAR};
use crate::{CaBundle, CredentialSource, Env, Error, ResolvedRegion, Secret, detect};

/// Where an endpoint override came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointSource {
    /// The provider's non-standard `baseUrl` (runtime only); it beats the environment.
    ProviderBaseUrl,
    /// An environment variable: `AWS_ENDPOINT_URL_BEDROCK`, `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`
    /// or `AWS_ENDPOINT_URL`.
    EnvVar(&'static str),
    /// The service's `endpoint_url` in the `[services <name>]` section the selected profile
    /// names (`services = <name>`) in the shared config file.
    SharedConfigServices,
    /// The selected profile's own `endpoint_url` in the shared config file.
    SharedConfigProfile,
}

impl fmt::Display for EndpointSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EndpointSource::ProviderBaseUrl => f.write_str("provider baseUrl"),
            EndpointSource::EnvVar(name) => f.write_str(name),
            EndpointSource::SharedConfigServices => {
                f.write_str("the shared config file's services section")
            }
            EndpointSource::SharedConfigProfile => {
                f.write_str("the shared config file's profile endpoint_url")
            }
        }
    }
}

/// An endpoint override for one service, and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEndpoint {
    /// The URL (validated: `http(s)://host[:port][/path]`, no user info).
    pub url: String,
    /// Where it came from.
    pub source: EndpointSource,
}

impl fmt::Display for ServiceEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.url, self.source)
    }
}

/// The AWS SDK configuration shared by discovery (`aws-sdk-bedrock`) and streaming
/// (`aws-sdk-bedrockruntime`). Build it once per process and share it (it is cheap to clone).
///
/// Built from an explicit [`Env`] only: the SDK never reads the process environment through it.
/// Building never touches the network: the default chain is constructed on the first credential
/// request, and its credentials are cached in one identity cache shared by every client.
#[derive(Clone)]
pub struct AwsSettings {
    sdk_config: SdkConfig,
    source: CredentialSource,
    region: ResolvedRegion,
    bedrock_endpoint: Option<ServiceEndpoint>,
    runtime_endpoint: Option<ServiceEndpoint>,
    static_key_fingerprint: Option<String>,
    pool: ConnectionPool,
    ca_bundle: Option<CaBundle>,
}

impl fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsSettings")
            .field("source", &self.source)
            .field("region", &self.region)
            .field("bedrock_endpoint", &self.bedrock_endpoint)
            .field("runtime_endpoint", &self.runtime_endpoint)
            .field("static_key_fingerprint", &self.static_key_fingerprint)
            .field("pool", &self.pool)
            .field("ca_bundle", &self.ca_bundle)
            .finish_non_exhaustive()
    }
}

impl AwsSettings {
    /// Builds the configuration for `region`, with the credentials of [`detect`] and the endpoint
    /// overrides of `env` and `provider_base_url`.
    ///
    /// Credentials: the bearer token (and bearer auth preferred, so SigV4 is never used), static
    /// keys with the optional session token, or the SDK default chain over `env` (which also
    /// serves `AWS_PROFILE`, so a missing profile still falls through to IMDS on EC2).
    ///
    /// Endpoints: a non-standard `provider_base_url` is the runtime endpoint; otherwise, in the
    /// SDK's order, `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` / `AWS_ENDPOINT_URL_BEDROCK`, then
    /// `AWS_ENDPOINT_URL`, then the service's `endpoint_url` in the `[services]` section the
    /// selected profile names (`bedrock-runtime` / `bedrock`), then the profile's own
    /// `endpoint_url`; all of these unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or, when
    /// that variable is unset, the profile's `ignore_configured_endpoint_urls = true`). Logs a
    /// warning when static credentials would go to a custom endpoint that is not loopback.
    ///
    /// HTTP: one client shared by every SDK client built from these settings (and by the
    /// default chain's own calls: SSO, STS, container, IMDS), with a bounded idle-connection pool
    /// ([`ConnectionPool::default`]; see [`AwsSettings::with_connection_pool`]). It trusts the
    /// certificates of the CA bundle `env` names ([`CaBundle::from_env`]: `AWS_CA_BUNDLE`, else
    /// the profile's `ca_bundle`) besides the system's roots; the file is read and checked here,
    /// and a bad one is [`Error::InvalidCaBundle`].
    pub fn from_env(
        env: &Env,
        region: &ResolvedRegion,
        provider_base_url: Option<&str>,
    ) -> Result<Self, Error> {
        let source = detect(env);
        let profiles = crate::shared_config::load(env);
        let ignore_configured = match env.get_nonempty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") {
            Some(value) => value.eq_ignore_ascii_case("true"),
            None => profiles
                .as_ref()
                .is_some_and(crate::shared_config::ignores_endpoint_urls),
        };
        let configured_endpoint = |service_var: &'static str,
                                   service_key: &str|
         -> Result<Option<ServiceEndpoint>, Error> {
            if ignore_configured {
                return Ok(None);
            }
            for var in [service_var, "AWS_ENDPOINT_URL"] {
                if let Some(url) = env.get_nonempty(var) {
                    return endpoint(url, EndpointSource::EnvVar(var)).map(Some);
                }
            }
            match profiles
                .as_ref()
                .and_then(|p| crate::shared_config::endpoint(p, service_key))
            {
                Some((url, source)) => endpoint(&url, source).map(Some),
                None => Ok(None),
            }
        };
        let bedrock_endpoint = configured_endpoint("AWS_ENDPOINT_URL_BEDROCK", "bedrock")?;
        let runtime_endpoint = match provider_base_url.and_then(crate::endpoint_for_base_url) {
            Some(url) => Some(endpoint(&url, EndpointSource::ProviderBaseUrl)?),
            None => configured_endpoint("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "bedrock-runtime")?,
        };

        let ca_bundle = CaBundle::from_env(env)?;

        let sdk_region = Region::new(region.region.clone());
        let mut static_key_fingerprint = None;
        let pool = ConnectionPool::default();
        let http_client = https_client(pool, ca_bundle.as_ref());
        let mut builder = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http_client.clone())
            .region(sdk_region.clone())
            .identity_cache(IdentityCache::lazy().build());
        match &source {
            CredentialSource::BearerToken => {
                let token = secret(env, BEARER_TOKEN_VAR);
                builder = builder
                    .token_provider(SharedTokenProvider::new(aws_credential_types::Token::new(
                        token.expose(),
                        None,
                    )))
                    .auth_scheme_preference(AuthSchemePreference::from([
                        HTTP_BEARER_AUTH_SCHEME_ID,
                    ]));
            }
            CredentialSource::StaticKeys { .. } => {
                let access_key_id = env.get_nonempty(ACCESS_KEY_VAR).unwrap_or_default();
                static_key_fingerprint = Some(fingerprint(access_key_id));
                let session = env.get_nonempty(SESSION_TOKEN_VAR).map(Secret::new);
                let credentials = Credentials::new(
                    access_key_id,
                    secret(env, SECRET_KEY_VAR).expose(),
                    session.as_ref().map(|s| s.expose().to_string()),
                    None,
                    "openclaw-env",
                );
                builder = builder.credentials_provider(SharedCredentialsProvider::new(credentials));
            }
            _ => {
                builder = builder.credentials_provider(SharedCredentialsProvider::new(
                    LazyDefaultChain::new(env, sdk_region, http_client),
                ));
            }
        }

        let settings = Self {
            sdk_config: builder.build(),
            source,
            region: region.clone(),
            bedrock_endpoint,
            runtime_endpoint,
            static_key_fingerprint,
            pool,
            ca_bundle,
        };
        settings.warn_on_custom_endpoints();
        Ok(settings)
    }

    /// The same settings for another region (credentials and identity cache are shared).
    #[must_use]
    pub fn for_region(&self, region: &ResolvedRegion) -> Self {
        let mut settings = self.clone();
        settings.sdk_config = self
            .sdk_config
            .to_builder()
            .region(Region::new(region.region.clone()))
            .build();
        settings.region = region.clone();
        settings
    }

    /// The same settings with another idle-connection pool: a new HTTP client (with no
    /// connections yet) for every SDK client built from the result.
    #[must_use]
    pub fn with_connection_pool(mut self, pool: ConnectionPool) -> Self {
        self.sdk_config = self
            .sdk_config
            .to_builder()
            .http_client(https_client(pool, self.ca_bundle.as_ref()))
            .build();
        self.pool = pool;
        self
    }

    /// The idle-connection pool of the HTTP client under the SDK clients.
    pub fn connection_pool(&self) -> ConnectionPool {
        self.pool
    }

    /// The CA bundle the HTTP client trusts besides the system's roots, if one is set.
    pub fn ca_bundle(&self) -> Option<&CaBundle> {
        self.ca_bundle.as_ref()
    }

    /// The shared `SdkConfig` (without endpoint overrides: use the per-service configs).
    pub fn sdk_config(&self) -> &SdkConfig {
        &self.sdk_config
    }

    /// The credential source the configuration was built for.
    pub fn credential_source(&self) -> &CredentialSource {
        &self.source
    }

    /// The region.
    pub fn region(&self) -> &ResolvedRegion {
        &self.region
    }

    /// With static keys (`AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`), a fingerprint of the
    /// access key id: `sha256:` and the first 16 hex digits of its SHA-256. `None` for the other
    /// sources.
    ///
    /// It tells two static-key identities apart (e.g. in a cache key or file) without writing
    /// the key id itself; it is never derived from the secret key or the session token.
    pub fn static_key_fingerprint(&self) -> Option<&str> {
        self.static_key_fingerprint.as_deref()
    }

    /// The control-plane (`bedrock`) endpoint override, if any.
    pub fn bedrock_endpoint(&self) -> Option<&ServiceEndpoint> {
        self.bedrock_endpoint.as_ref()
    }

    /// The runtime (`bedrock-runtime`) endpoint override, if any.
    pub fn runtime_endpoint(&self) -> Option<&ServiceEndpoint> {
        self.runtime_endpoint.as_ref()
    }

    /// Maps an SDK error to OpenClaw's missing-credentials error for this source (see
    /// [`crate::missing_credentials_error`]).
    pub fn missing_credentials_error(
        &self,
        err: &(dyn std::error::Error + 'static),
    ) -> Option<Error> {
        crate::missing_credentials_error(&self.source, err)
    }

    /// Maps an SDK error caused by a credential failure to [`Error::MissingCredentials`] or
    /// [`Error::CredentialsUnavailable`] for this source (see [`crate::credentials_failure`]).
    pub fn credentials_failure(&self, err: &(dyn std::error::Error + 'static)) -> Option<Error> {
        crate::credentials_failure(&self.source, err)
    }

    /// The `aws-sdk-bedrock` (control plane) client configuration.
    #[cfg(feature = "bedrock")]
    pub fn bedrock_config(&self) -> aws_sdk_bedrock::Config {
        let mut builder = aws_sdk_bedrock::config::Builder::from(&self.sdk_config);
        if let Some(endpoint) = &self.bedrock_endpoint {
            builder = builder.endpoint_url(&endpoint.url);
        }
        builder.build()
    }

    /// The `aws-sdk-bedrockruntime` (Converse) client configuration.
    #[cfg(feature = "runtime")]
    pub fn runtime_config(&self) -> aws_sdk_bedrockruntime::Config {
        let mut builder = aws_sdk_bedrockruntime::config::Builder::from(&self.sdk_config);
        if let Some(endpoint) = &self.runtime_endpoint {
            builder = builder.endpoint_url(&endpoint.url);
        }
        builder.build()
    }

    fn warn_on_custom_endpoints(&self) {
        let static_secret = matches!(
            self.source,
            CredentialSource::BearerToken | CredentialSource::StaticKeys { .. }
        );
        if !static_secret {
            return;
        }
        for endpoint in [&self.bedrock_endpoint, &self.runtime_endpoint]
            .into_iter()
            .flatten()
        {
            if !is_loopback(&endpoint.url) {
                tracing::warn!(
                    endpoint = %endpoint.url,
                    endpoint_source = %endpoint.source,
                    credential_source = %self.source,
                    "static AWS credentials will be sent to a custom endpoint that is not AWS"
                );
            }
        }
    }
}

/// `sha256:<first 16 hex digits>` of an access key id (not a secret, but not printed either).
fn fingerprint(access_key_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(access_key_id.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn secret(env: &Env, name: &str) -> Secret {
    Secret::new(env.get_nonempty(name).unwrap_or_default())
}

/// Validates an endpoint URL: `http` or `https`, a host, no user info.
fn endpoint(url: &str, source: EndpointSource) -> Result<ServiceEndpoint, Error> {
    let invalid = || Error::InvalidEndpoint { origin: source };
    let uri: http::Uri = url.parse().map_err(|_| invalid())?;
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let authority = uri.authority().ok_or_else(invalid)?;
    if !scheme_ok || authority.as_str().contains('@') || authority.host().is_empty() {
        return Err(invalid());
    }
    Ok(ServiceEndpoint {
        url: url.trim_end_matches('/').to_string(),
        source,
    })
}

fn is_loopback(url: &str) -> bool {
    let Ok(uri) = url.parse::<http::Uri>() else {
        return false;
    };
    let Some(host) = uri.host() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The SDK default credential chain over an explicit environment, built on first use.
///
/// aws-config's `ProviderConfig::with_env` is crate-private; the only public way to give the
/// chain an explicit `Env` is `ConfigLoader::env`, behind aws-config's `test-util` feature. We
/// use it so that the chain (profile, web identity, container, IMDS) reads our snapshot, never
/// the process environment. `ConfigLoader::load` is async, hence the lazy construction: building
/// `AwsSettings` stays synchronous and offline.
struct LazyDefaultChain {
    /// The same snapshot, for the SSO token check.
    snapshot: Env,
    env: aws_types::os_shim_internal::Env,
    region: Region,
    /// The settings' HTTP client, so that the chain's own calls trust the same CA bundle.
    http_client: SharedHttpClient,
    chain: tokio::sync::OnceCell<Option<SharedCredentialsProvider>>,
}

impl LazyDefaultChain {
    fn new(env: &Env, region: Region, http_client: SharedHttpClient) -> Self {
        Self {
            snapshot: env.clone(),
            env: env.to_aws(),
            region,
            http_client,
            chain: tokio::sync::OnceCell::new(),
        }
    }

    async fn chain(&self) -> Option<&SharedCredentialsProvider> {
        self.chain
            .get_or_init(|| async {
                aws_config::defaults(BehaviorVersion::latest())
                    .env(self.env.clone())
                    .fs(aws_types::os_shim_internal::Fs::real())
                    .region(self.region.clone())
                    .http_client(self.http_client.clone())
                    .load()
                    .await
                    .credentials_provider()
            })
            .await
            .as_ref()
    }
}

// By hand: the inner `Env` shim's `Debug` prints every variable, secrets included.
impl fmt::Debug for LazyDefaultChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyDefaultChain")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for LazyDefaultChain {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(async move {
            // An SSO profile whose cached token is missing or expired: say what to run instead of
            // the SDK's file-read or expiry error (or, for a legacy profile, a call the portal
            // would refuse).
            let sso = crate::sso::selected_sso_profile(&self.snapshot);
            if let Some(sso) = &sso
                && let Some(reason) =
                    crate::sso::login_needed(&self.snapshot, sso, std::time::SystemTime::now())
            {
                return Err(CredentialsError::provider_error(crate::sso::login_error(
                    sso, reason,
                )));
            }
            let result = match self.chain().await {
                Some(chain) => chain.provide_credentials().await,
                None => Err(CredentialsError::not_loaded(
                    "the AWS SDK default chain has no credential provider",
                )),
            };
            match (result, &sso) {
                (Err(err), Some(sso)) if crate::sso::portal_refused(&err) => {
                    Err(CredentialsError::provider_error(crate::sso::login_error(
                        sso,
                        crate::SsoLoginReason::Refused,
                    )))
                }
                // A shared config file that does not parse: the SDK says only "could not parse
                // profile file"; say which file and line.
                (Err(err @ CredentialsError::InvalidConfiguration(_)), _) => {
                    Err(match crate::shared_config::parse_error(&self.snapshot) {
                        Some(why) => CredentialsError::invalid_configuration(why),
                        None => err,
                    })
                }
                (result, _) => result,
            }
        })
    }
}
