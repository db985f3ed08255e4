//! The crate's one error type.

use crate::{CaBundleProblem, CaBundleSource, CredentialSource, EndpointSource, RegionSource};

/// Everything that can go wrong in this crate. No variant carries a secret.
///
/// `Clone` and `Eq` so that errors which carry it (`openclaw-discovery`'s, shared by every
/// caller of one discovery) can be too.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A region string is not a valid AWS region.
    #[error(
        "invalid region {value:?} from {origin}: expected an AWS region such as `us-east-1` \
         (lowercase words joined by `-`, ending in a number)"
    )]
    InvalidRegion {
        /// The rejected value (at most 64 characters).
        value: String,
        /// Where it came from.
        origin: RegionSource,
    },
    /// An endpoint override is not an `http(s)://host[:port][/path]` URL. The value is not
    /// repeated: it could carry user info.
    #[error(
        "invalid endpoint URL in {origin}: expected `http://` or `https://` followed by a host"
    )]
    InvalidEndpoint {
        /// Where the endpoint came from.
        origin: EndpointSource,
    },
    /// The CA bundle file (`AWS_CA_BUNDLE`, or a profile's `ca_bundle`) cannot be used: it
    /// cannot be read or holds no usable PEM certificate. Names the path and where it came from,
    /// never the file's contents.
    #[error(
        "invalid CA bundle `{path}` from {origin}: {problem}; expected a readable file of \
         PEM-encoded CA certificates (`-----BEGIN CERTIFICATE-----` blocks)"
    )]
    InvalidCaBundle {
        /// The path, as given.
        path: String,
        /// Where it came from.
        origin: CaBundleSource,
        /// What is wrong with it.
        problem: CaBundleProblem,
    },
    /// No credential could be resolved at call time.
    ///
    /// The message is OpenClaw's, verbatim (capitalised and ending in a period, unlike our other
    /// messages): users and scripts match on it.
    #[error(
        "No API key resolved for provider \"amazon-bedrock\" (auth mode: aws-sdk, checked: {checked})."
    )]
    MissingCredentials {
        /// The credential source that was checked.
        checked: CredentialSource,
    },
    /// The selected profile authenticates through AWS SSO (IAM Identity Center) and needs a new
    /// `aws sso login`: no cached token, an expired one the SDK cannot refresh, or one the SSO
    /// portal refused. One line, ending in the command to run.
    #[error("{reason} for AWS profile `{profile}`: run `aws sso login --profile {profile}`")]
    SsoLoginRequired {
        /// The profile name.
        profile: String,
        /// Why a login is needed.
        reason: SsoLoginReason,
    },
    /// A credential provider of the chain failed while loading (an unreachable or refusing
    /// instance metadata service, a broken profile, a failing `credential_process`, ...).
    #[error("could not load AWS credentials (checked: {checked}): {reason}")]
    CredentialsUnavailable {
        /// The credential source that was checked.
        checked: CredentialSource,
        /// What the failing provider reported (its `Display` chain; never a secret value).
        reason: String,
    },
}

/// Why an SSO profile needs `aws sso login` ([`Error::SsoLoginRequired`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SsoLoginReason {
    /// No token is cached for the profile's SSO session (never logged in, or logged out).
    NotCached,
    /// The cached token has expired and cannot be refreshed.
    Expired,
    /// The SSO portal refused the cached token (`UnauthorizedException`).
    Refused,
}

impl std::fmt::Display for SsoLoginReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SsoLoginReason::NotCached => "no AWS SSO session is cached",
            SsoLoginReason::Expired => "the AWS SSO session has expired",
            SsoLoginReason::Refused => "the AWS SSO portal refused the cached session",
        })
    }
}

/// Maps an AWS SDK error to [`Error::MissingCredentials`] when its cause is that no credential
/// (or bearer token) could be loaded, e.g. `CredentialsError::CredentialsNotLoaded` at the end of
/// the default chain. Other errors give `None`: the caller reports them as they are.
///
/// An SSO profile that needs a new login gives [`Error::SsoLoginRequired`] instead: that too is
/// a missing credential, and its message says what to run.
///
/// Walks the whole `source()` chain, so it takes a service `SdkError` as well as a bare
/// credentials error.
pub fn missing_credentials_error(
    checked: &CredentialSource,
    err: &(dyn std::error::Error + 'static),
) -> Option<Error> {
    use aws_credential_types::provider::error::{CredentialsError, TokenError};
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(Error::SsoLoginRequired { profile, reason }) = e.downcast_ref::<Error>() {
            return Some(Error::SsoLoginRequired {
                profile: profile.clone(),
                reason: *reason,
            });
        }
        cur = e.source();
    }
    let mut cur = Some(err);
    while let Some(e) = cur {
        let not_loaded = matches!(
            e.downcast_ref::<CredentialsError>(),
            Some(CredentialsError::CredentialsNotLoaded(_))
        ) || matches!(
            e.downcast_ref::<TokenError>(),
            Some(TokenError::TokenNotLoaded(_))
        );
        if not_loaded {
            return Some(Error::MissingCredentials {
                checked: checked.clone(),
            });
        }
        cur = e.source();
    }
    None
}

/// Maps an AWS SDK error whose cause is a credential (or bearer token) failure to this crate's
/// error: [`Error::MissingCredentials`] (OpenClaw's sentence) when nothing could be loaded,
/// [`Error::SsoLoginRequired`] when an SSO profile needs `aws sso login`,
/// [`Error::CredentialsUnavailable`] when a provider failed while loading. Other errors give
/// `None`.
///
/// Walks the whole `source()` chain, so it takes a service `SdkError` as well as a bare
/// credentials error.
pub fn credentials_failure(
    checked: &CredentialSource,
    err: &(dyn std::error::Error + 'static),
) -> Option<Error> {
    use aws_credential_types::provider::error::{CredentialsError, TokenError};
    if let Some(missing) = missing_credentials_error(checked, err) {
        return Some(missing);
    }
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<CredentialsError>().is_some()
            || e.downcast_ref::<TokenError>().is_some()
        {
            return Some(Error::CredentialsUnavailable {
                checked: checked.clone(),
                reason: error_chain(e),
            });
        }
        cur = e.source();
    }
    None
}

/// An error and its `source()` chain as one readable line (`outer: inner: root`), leaving out
/// an empty message and one the line already contains (several errors put their source in their
/// own message and also return it as `source()`).
///
/// The workspace's one way to print an error with its causes. Use it rather than the SDK's
/// `DisplayErrorContext`, which appends the full `Debug` form of the error (raw HTTP responses,
/// headers and bodies): right for a bug report, too much for a user's terminal or an HTTP error
/// body. An `anyhow::Error` passes as `error.as_ref()`.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = String::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        let message = e.to_string();
        if !message.is_empty() && !out.contains(&message) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&message);
        }
        cur = e.source();
    }
    out
}
