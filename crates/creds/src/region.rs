//! Region resolution and the standard Bedrock endpoint hosts.

use std::fmt;

use crate::{Env, Error};

/// The region used when nothing else names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where a resolved region came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegionSource {
    /// The region set in the configuration (`models.bedrockDiscovery.region`).
    Config,
    /// The region in a standard Bedrock provider `baseUrl`.
    BaseUrl,
    /// `AWS_REGION`.
    AwsRegion,
    /// `AWS_DEFAULT_REGION`.
    AwsDefaultRegion,
    /// The `region` of the selected profile (`AWS_PROFILE`, else `default`) in the shared config
    /// file.
    SharedConfig,
    /// The built-in default, `us-east-1`.
    Default,
}

impl fmt::Display for RegionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RegionSource::Config => "the configured region",
            RegionSource::BaseUrl => "the provider baseUrl",
            RegionSource::AwsRegion => "AWS_REGION",
            RegionSource::AwsDefaultRegion => "AWS_DEFAULT_REGION",
            RegionSource::SharedConfig => "the shared config file's profile region",
            RegionSource::Default => "the default",
        })
    }
}

/// A validated region and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRegion {
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// Where it came from.
    pub source: RegionSource,
}

impl ResolvedRegion {
    /// Validates `region` (see [`is_valid_region`]) and records its source.
    pub fn new(region: &str, source: RegionSource) -> Result<Self, Error> {
        let region = region.trim();
        if is_valid_region(region) {
            Ok(Self {
                region: region.to_string(),
                source,
            })
        } else {
            Err(Error::InvalidRegion {
                value: region.chars().take(64).collect(),
                origin: source,
            })
        }
    }
}

impl fmt::Display for ResolvedRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.region, self.source)
    }
}

/// Resolves the region, first match wins:
///
/// 1. `discovery_region`, the region set in the configuration;
/// 2. the region of a standard Bedrock `provider_base_url`
///    (`https://bedrock-runtime.<region>.amazonaws.com`, see [`region_from_base_url`]);
/// 3. `AWS_REGION`;
/// 4. `AWS_DEFAULT_REGION`;
/// 5. the `region` of the selected profile (`AWS_PROFILE`, else `default`) in the shared config
///    files (the SDK's own order after the two variables; read from disk, never the network);
/// 6. `us-east-1`.
///
/// Blank values count as unset. The first value found must be a valid region, otherwise the
/// error names where it came from (a bad `AWS_REGION` is not silently skipped).
pub fn resolve_region(
    discovery_region: Option<&str>,
    provider_base_url: Option<&str>,
    env: &Env,
) -> Result<ResolvedRegion, Error> {
    if let Some(region) = discovery_region.map(str::trim).filter(|r| !r.is_empty()) {
        return ResolvedRegion::new(region, RegionSource::Config);
    }
    if let Some(region) = provider_base_url.and_then(region_from_base_url) {
        return ResolvedRegion::new(&region, RegionSource::BaseUrl);
    }
    if let Some(region) = env.get_nonempty("AWS_REGION") {
        return ResolvedRegion::new(region, RegionSource::AwsRegion);
    }
    if let Some(region) = env.get_nonempty("AWS_DEFAULT_REGION") {
        return ResolvedRegion::new(region, RegionSource::AwsDefaultRegion);
    }
    if let Some(region) = crate::shared_config::region(env) {
        return ResolvedRegion::new(&region, RegionSource::SharedConfig);
    }
    ResolvedRegion::new(DEFAULT_REGION, RegionSource::Default)
}

/// Whether `region` looks like an AWS region: lowercase words separated by `-`, the first of 2 to
/// 4 letters, then one to three words, then a number (`us-east-1`, `us-gov-west-1`,
/// `us-isob-east-1`, `cn-north-1`, `eusc-de-east-1`).
///
/// Written by hand: the check is a few lines and does not warrant a regex dependency.
pub fn is_valid_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let (Some(first), Some(last)) = (parts.first(), parts.last()) else {
        return false;
    };
    (3..=5).contains(&parts.len())
        && (2..=4).contains(&first.len())
        && lower(first)
        && (1..=2).contains(&last.len())
        && last.bytes().all(|b| b.is_ascii_digit())
        && parts[1..parts.len() - 1].iter().all(|p| lower(p))
}

/// A parsed standard Bedrock host.
struct StandardHost {
    region: String,
    fips: bool,
}

/// Parses `https://bedrock[-runtime][-fips].<region>.amazonaws.com[.cn]` with no port and no
/// path beyond `/`.
fn standard_host(base_url: &str) -> Option<StandardHost> {
    let rest = base_url.trim().strip_prefix("https://")?;
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if host.contains(['/', ':', '@', '?', '#']) {
        return None;
    }
    let host = host.to_ascii_lowercase();
    let inner = host
        .strip_suffix(".amazonaws.com")
        .or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let (service, region) = inner.split_once('.')?;
    let fips = match service {
        "bedrock" | "bedrock-runtime" => false,
        "bedrock-fips" | "bedrock-runtime-fips" => true,
        _ => return None,
    };
    if region.is_empty() || region.contains('.') {
        return None;
    }
    Some(StandardHost {
        region: region.to_string(),
        fips,
    })
}

/// The region of a standard Bedrock `baseUrl`: `https://bedrock-runtime.<region>.amazonaws.com`,
/// also `bedrock.`, the `-fips` hosts and `.amazonaws.com.cn`. `None` for any other URL.
///
/// The region is returned as written; [`resolve_region`] validates it.
pub fn region_from_base_url(base_url: &str) -> Option<String> {
    standard_host(base_url).map(|h| h.region)
}

/// The endpoint to use for a provider `baseUrl`: `None` for a standard (non-FIPS) Bedrock URL,
/// whose endpoint the SDK derives from the region; the URL itself otherwise (a proxy, a local
/// server, a FIPS host).
pub fn endpoint_for_base_url(base_url: &str) -> Option<String> {
    let trimmed = base_url.trim();
    if trimmed.is_empty() {
        return None;
    }
    match standard_host(trimmed) {
        Some(StandardHost { fips: false, .. }) => None,
        _ => Some(trimmed.trim_end_matches('/').to_string()),
    }
}
