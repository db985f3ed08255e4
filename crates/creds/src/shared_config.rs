//! Settings read from the shared AWS config files (`~/.aws/config`, `~/.aws/credentials`):
//! the selected profile's `region`, `endpoint_url`, `[services]` section,
//! `ignore_configured_endpoint_urls` and `ca_bundle`, resolved the way the AWS SDK resolves them.

use aws_config::profile::{ProfileFileLoadError, ProfileSet};
use aws_runtime::env_config::file::EnvConfigFiles as ProfileFiles;
use aws_runtime::env_config::property::PropertiesKey;

use crate::{EndpointSource, Env};

/// The shared config files parsed by aws-config itself, for `env` (`AWS_CONFIG_FILE`,
/// `AWS_SHARED_CREDENTIALS_FILE`, `HOME`), with the profile `AWS_PROFILE` names (else
/// `default`) selected. `None` when the files cannot be read or parsed (the SDK reports that
/// itself at call time).
///
/// aws-config's loader future does plain blocking file reads and never awaits anything else,
/// so polling it to completion here is synchronous, cheap and needs no runtime.
pub(crate) fn load(env: &Env) -> Option<ProfileSet> {
    load_files(env, &ProfileFiles::default())
}

/// [`load`] over `files` only.
fn load_files(env: &Env, files: &ProfileFiles) -> Option<ProfileSet> {
    match parse_files(env, files) {
        Ok(profiles) => Some(profiles),
        Err(err) => {
            tracing::debug!(error = %crate::error_chain(&err), "shared AWS config files not usable");
            None
        }
    }
}

fn parse_files(env: &Env, files: &ProfileFiles) -> Result<ProfileSet, ProfileFileLoadError> {
    let fs = aws_types::os_shim_internal::Fs::real();
    futures::executor::block_on(aws_config::profile::load(&fs, &env.to_aws(), files, None))
}

/// Why the shared config files of `env` cannot be parsed, with the file and the line:
/// `cannot parse the shared AWS config files: error parsing /home/u/.aws/credentials on line 3:
/// expected an '=' sign defining a property`. `None` when they parse, or cannot be read (the
/// SDK's own error names the file then).
///
/// The SDK's credential error says only "could not parse profile file": it keeps the location in
/// the load error's source, which it drops. The parser's messages are fixed texts that never
/// quote the line (which may hold a secret key); only the first of their lines is kept, so a
/// later version quoting it on a line of its own would not leak it either.
pub(crate) fn parse_error(env: &Env) -> Option<String> {
    let err = parse_files(env, &ProfileFiles::default()).err()?;
    if !matches!(err, ProfileFileLoadError::ParseError { .. }) {
        return None;
    }
    let parse = std::error::Error::source(&err)?.to_string();
    let mut lines = parse.lines().map(str::trim).filter(|l| !l.is_empty());
    let location = lines.next()?.trim_end_matches(':');
    let reason = lines.next().map(|r| {
        let mut chars = r.chars();
        let first = chars.next().map(|c| c.to_lowercase().collect::<String>());
        format!(": {}{}", first.unwrap_or_default(), chars.as_str())
    });
    Some(format!(
        "cannot parse the shared AWS config files: {location}{}",
        reason.unwrap_or_default()
    ))
}

/// A non-blank setting of the selected profile.
fn setting<'a>(profiles: &'a ProfileSet, key: &str) -> Option<&'a str> {
    profiles.get(key).map(str::trim).filter(|v| !v.is_empty())
}

/// The selected profile's `region`, if the profile exists and sets one.
pub(crate) fn region(env: &Env) -> Option<String> {
    let profiles = load(env)?;
    setting(&profiles, "region").map(str::to_string)
}

/// The selected profile's `ca_bundle`, its name and the config file it is in.
///
/// Read from the shared config file only (`AWS_CONFIG_FILE`, else `~/.aws/config`), never the
/// credentials file: the AWS CLI reads it there.
pub(crate) fn ca_bundle(env: &Env) -> Option<CaBundleSetting> {
    let files = ProfileFiles::builder()
        .include_default_config_file(true)
        .build();
    let profiles = load_files(env, &files)?;
    let path = setting(&profiles, "ca_bundle")?.to_string();
    Some(CaBundleSetting {
        path,
        profile: profiles.selected_profile().to_string(),
        file: config_file_path(env),
    })
}

/// A profile's `ca_bundle` setting (see [`ca_bundle`]).
pub(crate) struct CaBundleSetting {
    /// The value: the bundle's path.
    pub(crate) path: String,
    /// The profile it is in.
    pub(crate) profile: String,
    /// The config file it is in.
    pub(crate) file: String,
}

/// The path of the shared config file as aws-config resolves it (for messages): `AWS_CONFIG_FILE`,
/// else `~/.aws/config`, with a leading `~` replaced by the home directory.
fn config_file_path(env: &Env) -> String {
    let path = env
        .get_nonempty("AWS_CONFIG_FILE")
        .unwrap_or("~/.aws/config");
    match (path.strip_prefix('~'), env.home()) {
        (Some(rest), Some(home)) if rest.is_empty() || rest.starts_with(['/', '\\']) => {
            let rest = rest.trim_start_matches(['/', '\\']);
            std::path::Path::new(home).join(rest).display().to_string()
        }
        _ => path.to_string(),
    }
}

/// Whether the selected profile says `ignore_configured_endpoint_urls = true`.
pub(crate) fn ignores_endpoint_urls(profiles: &ProfileSet) -> bool {
    setting(profiles, "ignore_configured_endpoint_urls")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// The endpoint the shared config gives service `service_key` (the SDK's profile key for it:
/// `bedrock` or `bedrock-runtime`), in the SDK's order: the `endpoint_url` of that service in the
/// `[services <name>]` section the profile's `services` setting names, then the profile's own
/// `endpoint_url`.
pub(crate) fn endpoint(
    profiles: &ProfileSet,
    service_key: &str,
) -> Option<(String, EndpointSource)> {
    let from_services = setting(profiles, "services").and_then(|section| {
        let key = PropertiesKey::builder()
            .section_key("services")
            .section_name(section)
            .property_name(service_key)
            .sub_property_name("endpoint_url")
            .build()
            .ok()?;
        profiles
            .other_sections()
            .get(&key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    });
    if let Some(url) = from_services {
        return Some((url, EndpointSource::SharedConfigServices));
    }
    setting(profiles, "endpoint_url")
        .map(|url| (url.to_string(), EndpointSource::SharedConfigProfile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_names_the_file_and_line_without_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let credentials = dir.path().join("credentials");
        std::fs::write(
            &credentials,
            "[default]\naws_access_key_id = AKIDEXAMPLE\nwJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRETLINE\n",
        )
        .unwrap();
        let env = Env::from_pairs([
            ("HOME", dir.path().to_str().unwrap()),
            (
                "AWS_CONFIG_FILE",
                dir.path().join("config").to_str().unwrap(),
            ),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
        ]);
        let why = parse_error(&env).unwrap();
        assert_eq!(
            why,
            format!(
                "cannot parse the shared AWS config files: error parsing {} on line 3: expected an '=' sign defining a property",
                credentials.display()
            )
        );
        assert!(!why.contains("SECRETLINE"), "{why}");
        assert!(load(&env).is_none());
        std::fs::write(&credentials, "[default]\naws_access_key_id = AKIDEXAMPLE\n").unwrap();
        assert_eq!(parse_error(&env), None);
        std::fs::remove_file(&credentials).unwrap();
        assert_eq!(parse_error(&env), None, "a missing file is no parse error");
    }
}
