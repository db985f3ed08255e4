//! Credential-source detection: OpenClaw's precedence plus offline markers of the SDK chain.

use std::fmt;
use std::path::PathBuf;

use crate::Env;

/// `AWS_BEARER_TOKEN_BEDROCK`: a Bedrock API key, sent as `Authorization: Bearer`.
pub const BEARER_TOKEN_VAR: &str = "AWS_BEARER_TOKEN_BEDROCK";
/// `AWS_ACCESS_KEY_ID`.
pub const ACCESS_KEY_VAR: &str = "AWS_ACCESS_KEY_ID";
/// `AWS_SECRET_ACCESS_KEY`.
pub const SECRET_KEY_VAR: &str = "AWS_SECRET_ACCESS_KEY";
/// `AWS_SESSION_TOKEN` (optional, with static keys).
pub const SESSION_TOKEN_VAR: &str = "AWS_SESSION_TOKEN";
/// `AWS_PROFILE`.
pub const PROFILE_VAR: &str = "AWS_PROFILE";

/// Where AWS credentials come from, in OpenClaw's precedence order.
///
/// `Display` gives OpenClaw's exact strings, which also end the missing-credentials message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialSource {
    /// `AWS_BEARER_TOKEN_BEDROCK` is set (non-empty after trimming).
    BearerToken,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are both set.
    StaticKeys {
        /// Whether `AWS_SESSION_TOKEN` is set too.
        session_token: bool,
    },
    /// `AWS_PROFILE` names a profile. The SDK default chain resolves it, so `AWS_PROFILE=default`
    /// on EC2 still authenticates through the instance role.
    Profile {
        /// The profile name (trimmed).
        name: String,
    },
    /// None of the variables above: the AWS SDK default chain decides at call time.
    DefaultChain {
        /// An offline sign that the chain will find credentials, if any was seen.
        marker: Option<ChainMarker>,
    },
}

impl CredentialSource {
    /// Whether credentials count as present, which turns model discovery on by default.
    ///
    /// True for the three environment sources and for the default chain when one of its offline
    /// markers was found. An instance role alone is not detected (that would need IMDS, see
    /// [`crate::probe_imds`]); set `AWS_PROFILE=default` on EC2.
    pub fn is_present(&self) -> bool {
        match self {
            CredentialSource::DefaultChain { marker } => marker.is_some(),
            _ => true,
        }
    }

    /// The default-chain marker that was found, if any.
    pub fn marker(&self) -> Option<&ChainMarker> {
        match self {
            CredentialSource::DefaultChain { marker } => marker.as_ref(),
            _ => None,
        }
    }
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CredentialSource::BearerToken => "env: AWS_BEARER_TOKEN_BEDROCK",
            CredentialSource::StaticKeys { .. } => "env: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY",
            CredentialSource::Profile { .. } => "env: AWS_PROFILE",
            CredentialSource::DefaultChain { .. } => "aws-sdk default chain",
        })
    }
}

/// An offline sign that the SDK default chain will find credentials, in the chain's own order
/// (shared profile, then web identity, then container credentials).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChainMarker {
    /// The `[default]` profile of the shared config/credentials files has credential settings.
    SharedProfile {
        /// Which kind of settings.
        kind: ProfileCredentialKind,
    },
    /// `AWS_WEB_IDENTITY_TOKEN_FILE` and `AWS_ROLE_ARN` are set (EKS IRSA and similar).
    WebIdentity,
    /// A container credentials endpoint is configured (ECS, EKS Pod Identity).
    ContainerCredentials {
        /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `AWS_CONTAINER_CREDENTIALS_FULL_URI`.
        variable: &'static str,
    },
}

impl fmt::Display for ChainMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainMarker::SharedProfile { kind } => {
                write!(f, "shared files: [default] profile with {kind}")
            }
            ChainMarker::WebIdentity => {
                f.write_str("web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN")
            }
            ChainMarker::ContainerCredentials { variable } => {
                write!(f, "container credentials: {variable}")
            }
        }
    }
}

/// Which credential settings a shared-file profile carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileCredentialKind {
    /// `aws_access_key_id` + `aws_secret_access_key`.
    StaticKeys,
    /// `credential_process`.
    CredentialProcess,
    /// `sso_session` or `sso_start_url`.
    Sso,
    /// `role_arn` (assume role from a source profile, a credential source or web identity).
    AssumeRole,
    /// `web_identity_token_file`.
    WebIdentity,
    /// `login_session` (`aws login`).
    Login,
}

impl fmt::Display for ProfileCredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProfileCredentialKind::StaticKeys => "static keys",
            ProfileCredentialKind::CredentialProcess => "credential_process",
            ProfileCredentialKind::Sso => "sso",
            ProfileCredentialKind::AssumeRole => "role_arn",
            ProfileCredentialKind::WebIdentity => "web_identity_token_file",
            ProfileCredentialKind::Login => "login_session",
        })
    }
}

/// Detects the credential source, offline and without blocking on the network (the verb says
/// so: `detect` reads only the environment and local files, [`probe_imds`](crate::probe_imds)
/// goes to the network).
///
/// Precedence (OpenClaw's): `AWS_BEARER_TOKEN_BEDROCK` (non-empty after trimming), then
/// `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` (both non-empty), then `AWS_PROFILE`, then the
/// SDK default chain. For the default chain it looks for offline markers: a `[default]` profile
/// with credential settings in the shared files (read from disk, never the network), then
/// web identity, then container credentials. IMDS is never contacted here.
///
/// The SDK's generic `AWS_BEARER_TOKEN` fallback is deliberately neither reported nor used: see
/// the crate documentation.
pub fn detect(env: &Env) -> CredentialSource {
    if env.get_nonempty(BEARER_TOKEN_VAR).is_some() {
        return CredentialSource::BearerToken;
    }
    if env.get_nonempty(ACCESS_KEY_VAR).is_some() && env.get_nonempty(SECRET_KEY_VAR).is_some() {
        return CredentialSource::StaticKeys {
            session_token: env.get_nonempty(SESSION_TOKEN_VAR).is_some(),
        };
    }
    if let Some(name) = env.get_nonempty(PROFILE_VAR) {
        return CredentialSource::Profile {
            name: name.to_string(),
        };
    }
    CredentialSource::DefaultChain {
        marker: chain_marker(env),
    }
}

fn chain_marker(env: &Env) -> Option<ChainMarker> {
    if let Some(kind) = profile_credential_kind(env, "default") {
        return Some(ChainMarker::SharedProfile { kind });
    }
    if env.get_nonempty("AWS_WEB_IDENTITY_TOKEN_FILE").is_some()
        && env.get_nonempty("AWS_ROLE_ARN").is_some()
    {
        return Some(ChainMarker::WebIdentity);
    }
    for variable in [
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        if env.get_nonempty(variable).is_some() {
            return Some(ChainMarker::ContainerCredentials { variable });
        }
    }
    None
}

/// The credential settings of profile `name` in the shared files, if it has any.
///
/// Parsing is aws-config's own (`aws_config::profile::load`), given this `Env` (for
/// `AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE` and `HOME`) and the real file system. Its
/// future does plain blocking file reads and never awaits anything else, so polling it to
/// completion here is synchronous, cheap and needs no runtime.
pub fn profile_credential_kind(env: &Env, name: &str) -> Option<ProfileCredentialKind> {
    kind_of(&crate::shared_config::load(env)?, name)
}

/// The credential settings of profile `name` in parsed shared files, if it has any.
pub(crate) fn kind_of(
    profiles: &aws_config::profile::ProfileSet,
    name: &str,
) -> Option<ProfileCredentialKind> {
    let profile = profiles.get_profile(name)?;
    let has = |key: &str| profile.get(key).is_some_and(|v| !v.trim().is_empty());
    if has("aws_access_key_id") && has("aws_secret_access_key") {
        Some(ProfileCredentialKind::StaticKeys)
    } else if has("role_arn") {
        Some(ProfileCredentialKind::AssumeRole)
    } else if has("web_identity_token_file") {
        Some(ProfileCredentialKind::WebIdentity)
    } else if has("sso_session") || has("sso_start_url") {
        Some(ProfileCredentialKind::Sso)
    } else if has("credential_process") {
        Some(ProfileCredentialKind::CredentialProcess)
    } else if has("login_session") {
        Some(ProfileCredentialKind::Login)
    } else {
        None
    }
}

/// The shared config and credentials file paths the SDK reads for this environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedFiles {
    /// `AWS_CONFIG_FILE`, else `~/.aws/config`.
    pub config: PathBuf,
    /// `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`.
    pub credentials: PathBuf,
}

impl SharedFiles {
    /// Resolves the paths from `env` (`~` expands to `HOME`), for a status command to print.
    pub fn resolve(env: &Env) -> Self {
        let path = |var: &str, default: &str| {
            let raw = env.get_nonempty(var).unwrap_or(default);
            match (raw.strip_prefix("~/"), env.home()) {
                (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
                _ => PathBuf::from(raw),
            }
        };
        Self {
            config: path("AWS_CONFIG_FILE", "~/.aws/config"),
            credentials: path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        }
    }
}
