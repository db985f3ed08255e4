//! SSO profiles (`sso_session` + `[sso-session X]`, or the legacy `sso_start_url`): the SDK's
//! `sso` provider authenticates them; this module turns the two ways they fail for a user (no
//! cached token, an expired token) into one actionable error, [`Error::SsoLoginRequired`].
//!
//! The check reads the token cache the way the SDK and the AWS CLI name it:
//! `~/.aws/sso/cache/<sha1 of the session name, or of the start URL for legacy profiles>.json`.
//! An `sso_session` token that is expired but refreshable (client id and secret, refresh token,
//! registration not expired) is left to the SDK, which refreshes it through SSO OIDC; a legacy
//! profile's token is never refreshed (the SDK would send it as is and the portal refuse it).

use std::path::PathBuf;
use std::time::SystemTime;

use aws_config::profile::ProfileSet;
use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;

use crate::source::{ProfileCredentialKind, kind_of};
use crate::{Env, Error, SsoLoginReason, shared_config};

/// The profile that authenticates through SSO, and its token cache key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SsoProfile {
    /// The profile name (the one `aws sso login --profile` takes).
    pub profile: String,
    /// The session name (`sso_session`) or, for a legacy profile, the start URL.
    pub cache_key: String,
    /// Whether the profile uses an `[sso-session]` (whose token the SDK can refresh).
    pub session: bool,
}

/// The selected profile (`AWS_PROFILE`, else `default`) when SSO is what authenticates it.
pub(crate) fn selected_sso_profile(env: &Env) -> Option<SsoProfile> {
    let profiles = shared_config::load(env)?;
    sso_profile(&profiles, profiles.selected_profile())
}

fn sso_profile(profiles: &ProfileSet, name: &str) -> Option<SsoProfile> {
    if kind_of(profiles, name)? != ProfileCredentialKind::Sso {
        return None;
    }
    let profile = profiles.get_profile(name)?;
    let value = |key: &str| {
        profile
            .get(key)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let (cache_key, session) = match value("sso_session") {
        Some(session) => (session, true),
        None => (value("sso_start_url")?, false),
    };
    Some(SsoProfile {
        profile: name.to_string(),
        cache_key,
        session,
    })
}

/// The token cache file for `cache_key` under `home`.
pub(crate) fn cache_path(home: &str, cache_key: &str) -> PathBuf {
    use sha1::{Digest, Sha1};
    let digest = Sha1::digest(cache_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    PathBuf::from(home)
        .join(".aws")
        .join("sso")
        .join("cache")
        .join(format!("{hex}.json"))
}

/// Why `aws sso login` is needed for `sso`, or `None` when the cached token looks usable (or
/// is unreadable in a way the SDK reports better itself).
pub(crate) fn login_needed(env: &Env, sso: &SsoProfile, now: SystemTime) -> Option<SsoLoginReason> {
    let home = env.home()?;
    let path = cache_path(home, &sso.cache_key);
    let text = match std::fs::read(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Some(SsoLoginReason::NotCached);
        }
        Err(_) => return None,
    };
    let token: serde_json::Value = serde_json::from_slice(&text).ok()?;
    let field = |key: &str| token.get(key).and_then(|v| v.as_str()).map(str::trim);
    let time = |key: &str| {
        field(key)
            .and_then(|v| DateTime::from_str(v, Format::DateTime).ok())
            .and_then(|t| SystemTime::try_from(t).ok())
    };
    if field("accessToken").is_none_or(str::is_empty) {
        return Some(SsoLoginReason::NotCached);
    }
    let expires_at = time("expiresAt")?;
    if expires_at > now {
        return None;
    }
    let refreshable = sso.session
        && ["clientId", "clientSecret", "refreshToken"]
            .iter()
            .all(|k| field(k).is_some_and(|v| !v.is_empty()))
        && time("registrationExpiresAt").is_some_and(|t| t > now);
    (!refreshable).then_some(SsoLoginReason::Expired)
}

/// Whether `err`'s cause chain holds the SSO portal refusing the access token
/// (`GetRoleCredentials` answering `UnauthorizedException`).
pub(crate) fn portal_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    use aws_sdk_sso::operation::get_role_credentials::GetRoleCredentialsError;
    let mut cur = Some(err);
    while let Some(e) = cur {
        if e.downcast_ref::<GetRoleCredentialsError>()
            .is_some_and(GetRoleCredentialsError::is_unauthorized_exception)
        {
            return true;
        }
        cur = e.source();
    }
    false
}

/// The crate error for `sso` and `reason`.
pub(crate) fn login_error(sso: &SsoProfile, reason: SsoLoginReason) -> Error {
    Error::SsoLoginRequired {
        profile: sso.profile.clone(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_file_is_named_like_the_sdk_names_it() {
        // The SDK's own test vectors (aws-config `sso::cache`).
        assert_eq!(
            cache_path("/home/someuser", "admin"),
            PathBuf::from(
                "/home/someuser/.aws/sso/cache/d033e22ae348aeb5660fc2140aec35850c4da997.json"
            )
        );
        assert_eq!(
            cache_path("/home/me", "https://d-92671207e4.awsapps.com/start"),
            PathBuf::from("/home/me/.aws/sso/cache/13f9d35043871d073ab260e020f0ffde092cb14b.json")
        );
    }
}
