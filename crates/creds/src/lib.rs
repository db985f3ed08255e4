//! AWS credentials, region and SDK configuration for OpenClaw's Amazon Bedrock provider.
//!
//! This crate answers three questions, and nothing else: *where do credentials come from*
//! ([`detect`]), *which region* ([`resolve_region`]) and *how is the AWS SDK configured*
//! ([`AwsSettings`]). `discovery` and `stream` build their clients from [`AwsSettings`]; no other
//! crate reads AWS environment variables.
//!
//! # Design
//!
//! - **Explicit environment.** Everything takes an [`Env`], a snapshot of variables.
//!   [`Env::from_process`] is the one place the process environment is read; tests pass maps and
//!   never mutate the real environment. The SDK's own providers are handed the same snapshot.
//! - **Detection is offline.** [`detect`] follows OpenClaw's precedence:
//!   `AWS_BEARER_TOKEN_BEDROCK`, then `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`, then
//!   `AWS_PROFILE`, then the AWS SDK default chain; its `Display` strings are OpenClaw's.
//!   For the default chain it also reports offline markers ([`ChainMarker`]): a `[default]`
//!   profile with credentials in the shared files, web identity, container credentials.
//!   It never contacts IMDS: OpenClaw once did and stalled every machine that is not on EC2.
//! - **The EC2 workaround.** On EC2 with an instance role, nothing in the environment says so.
//!   Set `AWS_PROFILE=default`: detection reports `env: AWS_PROFILE` (so discovery turns on), and
//!   authentication still goes through the SDK default chain, which ends at IMDS when the shared
//!   files have no such profile. [`probe_imds`] is an explicit, opt-in check (one attempt, ≤ 1 s by
//!   default) for a status command.
//! - **`AWS_BEARER_TOKEN` is ignored, deliberately.** The SDK accepts a generic
//!   `AWS_BEARER_TOKEN` as a fallback for every service. OpenClaw does not list it, and a token
//!   meant for another service would be sent to Bedrock (or to a custom endpoint). We build the
//!   `SdkConfig` ourselves, so the SDK does not see it either: detection and authentication
//!   agree, and only `AWS_BEARER_TOKEN_BEDROCK` selects bearer auth.
//! - **Bearer auth is exclusive.** With `AWS_BEARER_TOKEN_BEDROCK`, the token is the only
//!   identity and `httpBearerAuth` is the preferred scheme, so no SigV4 signature is ever sent.
//! - **Build once, never block.** [`AwsSettings::from_env`] is synchronous and offline; the SDK
//!   default chain is built on the first credential request and cached in one identity cache
//!   shared by every client.
//! - **Secrets never print.** Secret values live in [`Secret`]; [`Env`]'s `Debug` shows names
//!   only; no error carries a value that could be a secret.
//! - The missing-credentials [`Error`] reads exactly like OpenClaw's:
//!   `No API key resolved for provider "amazon-bedrock" (auth mode: aws-sdk, checked: <source>).`
//!
//! Region order: the configured region, the region of a standard `bedrock-runtime.<region>`
//! `baseUrl`, `AWS_REGION`, `AWS_DEFAULT_REGION`, the selected profile's `region` in the shared
//! config file, `us-east-1`.
//! Endpoint order (runtime): a non-standard provider `baseUrl`, `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`,
//! `AWS_ENDPOINT_URL`, the `bedrock-runtime` `endpoint_url` of the profile's `[services]`
//! section, the profile's `endpoint_url`; (control plane) the same with `AWS_ENDPOINT_URL_BEDROCK`
//! and `bedrock`. `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true` (or, when it is unset, the profile's
//! `ignore_configured_endpoint_urls = true`) disables all but the `baseUrl`.
//!
//! CA bundle: `AWS_CA_BUNDLE`, else the selected profile's `ca_bundle` in the shared config file
//! ([`CaBundle::from_env`]): PEM certificates every SDK client trusts besides the system's roots,
//! read and checked when [`AwsSettings`] is built ([`Error::InvalidCaBundle`] otherwise).
//!
//! Credentials the SDK default chain resolves include SSO profiles (`sso_session` and the legacy
//! `sso_start_url`, from the token cache `aws sso login` writes), web identity and container
//! credentials (ECS, EKS Pod Identity). An SSO profile whose session is missing or expired gives
//! [`Error::SsoLoginRequired`], one line ending in the `aws sso login --profile` command.
//!
//! # Example
//!
//! ```
//! use openclaw_creds::{AwsSettings, Env, detect, resolve_region};
//!
//! let env = Env::from_pairs([("AWS_PROFILE", "default"), ("AWS_REGION", "eu-west-1")]);
//! let source = detect(&env);
//! assert_eq!(source.to_string(), "env: AWS_PROFILE");
//! assert!(source.is_present());
//!
//! let region = resolve_region(None, None, &env)?;
//! assert_eq!(region.region, "eu-west-1");
//!
//! let settings = AwsSettings::from_env(&env, &region, None)?; // offline, no network
//! let _runtime = aws_sdk_bedrockruntime::Client::from_conf(settings.runtime_config());
//! # Ok::<(), openclaw_creds::Error>(())
//! ```
#![deny(missing_docs)]

mod ca_bundle;
mod env;
mod error;
mod http;
mod imds;
mod provider;
mod region;
mod sdk;
mod shared_config;
mod source;
mod sso;

pub use ca_bundle::{
    CA_BUNDLE_MAX_BYTES, CA_BUNDLE_VAR, CaBundle, CaBundleProblem, CaBundleSource,
    UNTRUSTED_CERTIFICATE_HINT, is_untrusted_certificate,
};
pub use env::Env;
pub use error::{
    Error, SsoLoginReason, credentials_failure, error_chain, missing_credentials_error,
};
pub use http::{ConnectionPool, POOL_IDLE_TIMEOUT, POOL_MAX_IDLE_PER_HOST};
pub use imds::{DEFAULT_IMDS_TIMEOUT, ImdsStatus, imds_endpoint, probe_imds};
/// The redacting secret wrapper, `openclaw_config::Secret` (one type for the workspace).
pub use openclaw_config::Secret;
pub use region::{
    DEFAULT_REGION, RegionSource, ResolvedRegion, endpoint_for_base_url, is_valid_region,
    region_from_base_url, resolve_region,
};
pub use sdk::{AwsSettings, EndpointSource, ServiceEndpoint};
pub use source::{
    ACCESS_KEY_VAR, BEARER_TOKEN_VAR, ChainMarker, CredentialSource, PROFILE_VAR,
    ProfileCredentialKind, SECRET_KEY_VAR, SESSION_TOKEN_VAR, SharedFiles, detect,
    profile_credential_kind,
};

#[cfg(test)]
mod tests;
