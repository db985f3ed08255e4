use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fake_bedrock::{Catalog, FakeBedrock};
use openclaw_creds::{AwsSettings, Env, resolve_region};
use openclaw_discovery::{
    Catalog as Discovered, Discovery, DiscoveryOptions, DiscoveryRequest, ManualClock,
    SdkControlPlane,
};

pub const ACCESS_KEY: &str = "AKIDDISCOVERYTEST";
pub const SECRET_KEY: &str = "discovery/secret/key/for/tests/only";
/// A second account's key pair, also accepted by [`fake`].
pub const OTHER_ACCESS_KEY: &str = "AKIDSECONDACCOUNT";
pub const OTHER_SECRET_KEY: &str = "second/account/secret/key";

pub async fn fake(catalog: Catalog) -> FakeBedrock {
    FakeBedrock::builder()
        .credentials(ACCESS_KEY, SECRET_KEY)
        .credentials(OTHER_ACCESS_KEY, OTHER_SECRET_KEY)
        .catalog(catalog)
        .start()
        .await
        .unwrap()
}

/// An environment with no credentials and no network fallbacks: an empty `HOME`, IMDS off,
/// `us-east-1`, the control plane at `url`.
pub fn offline_env(home: &std::path::Path, url: &str) -> Env {
    Env::from_pairs([
        ("HOME", home.to_str().unwrap()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_BEDROCK", url),
    ])
}

/// Settings the way the gateway builds them, from an explicit environment (never the process
/// one) pointing `AWS_ENDPOINT_URL_BEDROCK` at `url`.
pub fn settings(url: &str, region: &str) -> AwsSettings {
    settings_with_keys(url, region, ACCESS_KEY, SECRET_KEY)
}

/// [`settings`] with another static key pair.
pub fn settings_with_keys(url: &str, region: &str, access_key: &str, secret: &str) -> AwsSettings {
    let env = Env::from_pairs([
        ("AWS_ACCESS_KEY_ID", access_key),
        ("AWS_SECRET_ACCESS_KEY", secret),
        ("AWS_REGION", region),
        ("AWS_ENDPOINT_URL_BEDROCK", url),
    ]);
    let region = resolve_region(None, None, &env).unwrap();
    AwsSettings::from_env(&env, &region, None).unwrap()
}

/// A control plane with fast retries (2 attempts, 1 ms backoff) so throttling tests are quick.
pub fn plane(url: &str) -> SdkControlPlane {
    SdkControlPlane::from_settings(&settings(url, "us-east-1"))
        .with_retries(2, Duration::from_millis(1))
}

pub fn discovery(plane: SdkControlPlane, options: DiscoveryOptions) -> Discovery {
    Discovery::new(Arc::new(plane), options)
}

pub fn manual_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000),
    ))
}

/// The request a configuration file describes.
pub fn request(config_json5: &str, region: &str) -> DiscoveryRequest {
    let config = openclaw_config::Config::from_text(config_json5).unwrap();
    DiscoveryRequest::from_config(&config.bedrock_discovery(), region)
}

pub fn count(fake: &FakeBedrock, path: &str) -> usize {
    fake.requests().iter().filter(|r| r.path == path).count()
}

pub fn foundation_calls(fake: &FakeBedrock) -> usize {
    count(fake, "/foundation-models")
}

/// `ListInferenceProfiles` calls for system-defined profiles.
pub fn profile_calls(fake: &FakeBedrock) -> usize {
    profile_calls_of(fake, "SYSTEM_DEFINED")
}

/// `ListInferenceProfiles` calls for application profiles.
pub fn app_profile_calls(fake: &FakeBedrock) -> usize {
    profile_calls_of(fake, "APPLICATION")
}

fn profile_calls_of(fake: &FakeBedrock, kind: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.path == "/inference-profiles")
        .filter(|r| {
            r.query_params()
                .iter()
                .any(|(k, v)| k == "type" && v == kind)
        })
        .count()
}

/// What the snapshots show: the merged providers and the catalog's metadata.
pub fn view(catalog: &Discovered, config_json5: &str) -> serde_json::Value {
    let config = openclaw_config::Config::from_text(config_json5).unwrap();
    let providers = catalog.providers(&config.models.providers);
    serde_json::json!({
        "region": catalog.region,
        "fetchedAt": catalog
            .fetched_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64,
        "fromCache": catalog.from_cache,
        "staleError": catalog.stale_error.as_ref().map(ToString::to_string),
        "modelCount": catalog.models.len(),
        "providers": providers,
    })
}
