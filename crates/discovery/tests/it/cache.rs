//! The cache, counted at the fake.

use std::time::Duration;

use fake_bedrock::{Catalog, Fault, Rule};
use openclaw_discovery::{DiscoveryOptions, Error};

use crate::support::*;

#[tokio::test]
async fn ttl_expiry_with_a_manual_clock() {
    let fake = fake(Catalog::default_catalog()).await;
    let clock = manual_clock();
    let d = discovery(
        plane(&fake.url()),
        DiscoveryOptions {
            clock: clock.clone(),
            ..DiscoveryOptions::default()
        },
    );
    let req = request(
        "{models: {bedrockDiscovery: {refreshInterval: 600}}}",
        "us-east-1",
    );

    let first = d.discover(&req).await.unwrap();
    assert!(!first.from_cache);
    clock.advance(Duration::from_secs(599));
    let second = d.discover(&req).await.unwrap();
    assert!(second.from_cache);
    assert_eq!(second.fetched_at, first.fetched_at);
    assert_eq!(foundation_calls(&fake), 1);
    assert_eq!(d.status("us-east-1").age, Some(Duration::from_secs(599)));

    clock.advance(Duration::from_secs(1));
    let third = d.discover(&req).await.unwrap();
    assert!(!third.from_cache);
    assert_eq!(foundation_calls(&fake), 2);
    assert_eq!(profile_calls(&fake), 2);

    // `--refresh` bypasses a fresh entry.
    d.discover(&req.clone().refreshed()).await.unwrap();
    assert_eq!(foundation_calls(&fake), 3);
}

#[tokio::test]
async fn refresh_interval_zero_disables_caching() {
    let fake = fake(Catalog::default_catalog()).await;
    let state = tempfile::tempdir().unwrap();
    let d = discovery(
        plane(&fake.url()),
        DiscoveryOptions::default().with_state_dir(state.path()),
    );
    let req = request(
        "{models: {bedrockDiscovery: {refreshInterval: 0}}}",
        "us-east-1",
    );
    for _ in 0..3 {
        assert!(!d.discover(&req).await.unwrap().from_cache);
    }
    assert_eq!(foundation_calls(&fake), 3);
    // Nothing is written to disk either.
    assert!(!state.path().join("cache").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_callers_share_one_discovery() {
    let fake = fake(Catalog::default_catalog()).await;
    let d = discovery(
        plane(&fake.url()).with_page_size(5),
        DiscoveryOptions::default(),
    );
    let req = request("{}", "us-east-1");
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let d = d.clone();
            let req = req.clone();
            tokio::spawn(async move { d.discover(&req).await })
        })
        .collect();
    let mut counts = std::collections::BTreeSet::new();
    for t in tasks {
        counts.insert(t.await.unwrap().unwrap().models.len());
    }
    let elapsed = started.elapsed();
    assert_eq!(counts.len(), 1, "every caller sees the same catalog");
    assert_eq!(foundation_calls(&fake), 1);
    let visible = fake
        .catalog()
        .inference_profiles
        .iter()
        .filter(|p| p.visible_in("us-east-1") && p.profile_type == "SYSTEM_DEFINED")
        .count();
    // One pass over the pages, no more.
    assert_eq!(profile_calls(&fake), visible.div_ceil(5));
    assert!(profile_calls(&fake) >= 3);
    eprintln!("1000 concurrent callers served in {elapsed:?}");
}

#[tokio::test]
async fn stale_on_error_serves_the_last_good_catalog() {
    let fake = fake(Catalog::default_catalog()).await;
    let clock = manual_clock();
    let d = discovery(
        plane(&fake.url()),
        DiscoveryOptions {
            clock: clock.clone(),
            ..DiscoveryOptions::default()
        },
    );
    let req = request("{}", "us-east-1");
    let good = d.discover(&req).await.unwrap();
    assert!(d.status("us-east-1").last_error.is_none());

    clock.advance(Duration::from_secs(3600));
    fake.fault(Rule::new(Fault::AccessDenied).control_plane().forever());
    let stale = d.discover(&req).await.unwrap();
    assert!(stale.from_cache);
    assert_eq!(stale.models, good.models);
    assert_eq!(stale.fetched_at, good.fetched_at);
    assert!(
        matches!(stale.stale_error, Some(Error::AccessDenied { .. })),
        "{:?}",
        stale.stale_error
    );
    let status = d.status("us-east-1");
    assert!(matches!(
        status.last_error,
        Some((_, Error::AccessDenied { .. }))
    ));
    assert_eq!(status.age, Some(Duration::from_secs(3600)));

    // Recovery clears the error.
    fake.clear_faults();
    let fresh = d.discover(&req).await.unwrap();
    assert!(!fresh.from_cache && fresh.stale_error.is_none());
    assert!(d.status("us-east-1").last_error.is_none());
}

#[tokio::test]
async fn disk_cache_is_reused_by_a_second_instance() {
    let fake = fake(Catalog::default_catalog()).await;
    let state = tempfile::tempdir().unwrap();
    let clock = manual_clock();
    let options = DiscoveryOptions {
        clock: clock.clone(),
        ..DiscoveryOptions::default()
    }
    .with_state_dir(state.path());
    let req = request("{}", "us-east-1");

    let first = discovery(plane(&fake.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    assert_eq!(foundation_calls(&fake), 1);
    let files: Vec<_> = std::fs::read_dir(state.path().join("cache"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1);
    let file = files[0].as_ref().unwrap().path();
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("bedrock-discovery-") && name.ends_with(".json"),
        "{name}"
    );
    // No secret in the cache file.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains(SECRET_KEY) && !text.contains(ACCESS_KEY));

    // A second process (new instance, same state dir): zero calls.
    fake.clear_requests();
    let second = discovery(plane(&fake.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    assert!(second.from_cache);
    assert_eq!(second.models, first.models);
    assert_eq!(second.fetched_at, first.fetched_at);
    assert!(fake.requests().is_empty());

    // Past the TTL the file is not used.
    clock.advance(Duration::from_secs(3600));
    let third = discovery(plane(&fake.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    assert!(!third.from_cache);
    assert_eq!(foundation_calls(&fake), 1);

    // A corrupt file is ignored (and replaced).
    std::fs::write(&file, b"{\"version\": 1, trunc").unwrap();
    fake.clear_requests();
    let fourth = discovery(plane(&fake.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    assert!(!fourth.from_cache);
    assert_eq!(foundation_calls(&fake), 1);
    let fifth = discovery(plane(&fake.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    assert!(fifth.from_cache);
    assert_eq!(foundation_calls(&fake), 1);

    // An expired file still serves as the stale fallback of a new instance whose discovery fails.
    clock.advance(Duration::from_secs(7200));
    fake.fault(Rule::new(Fault::AccessDenied).control_plane().forever());
    let stale = discovery(plane(&fake.url()), options)
        .discover(&req)
        .await
        .unwrap();
    assert!(stale.from_cache);
    assert!(stale.stale_error.is_some());
    assert_eq!(stale.models, first.models);
}

/// The cache files under `<state>/cache`, by name.
fn cache_files(state: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(state.join("cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn two_endpoints_get_two_disk_cache_entries() {
    // Two Bedrock endpoints (say a proxy and AWS) with different catalogs, one state dir.
    let a = fake(Catalog::default_catalog()).await;
    let b = fake(
        Catalog::from_json_str(
            r#"{"foundationModels":[{"modelId":"acme.only-at-b-v1","modelName":"Only at B",
                "providerName":"Acme","inputModalities":["TEXT"],"outputModalities":["TEXT"],
                "responseStreamingSupported":true,"inferenceTypesSupported":["ON_DEMAND"],
                "modelLifecycle":{"status":"ACTIVE"}}],"inferenceProfiles":[]}"#,
        )
        .unwrap(),
    )
    .await;
    let state = tempfile::tempdir().unwrap();
    let options = DiscoveryOptions::default().with_state_dir(state.path());
    let req = request("{}", "us-east-1");

    let from_a = discovery(plane(&a.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    let from_b = discovery(plane(&b.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    assert!(!from_b.from_cache, "B was answered from A's cache entry");
    assert_eq!(from_b.models.len(), 1);
    assert!(from_a.models.len() > 1);
    assert_eq!(cache_files(state.path()).len(), 2);

    // New instances (new processes) get their own endpoint's entry, without calling either.
    a.clear_requests();
    b.clear_requests();
    let again_a = discovery(plane(&a.url()), options.clone())
        .discover(&req)
        .await
        .unwrap();
    let again_b = discovery(plane(&b.url()), options)
        .discover(&req)
        .await
        .unwrap();
    assert!(again_a.from_cache && again_b.from_cache);
    assert_eq!(again_a.models, from_a.models);
    assert_eq!(again_b.models, from_b.models);
    assert!(a.requests().is_empty() && b.requests().is_empty());
}

#[tokio::test]
async fn two_static_key_accounts_on_one_endpoint_get_two_disk_cache_entries() {
    let fake = fake(Catalog::default_catalog()).await;
    let state = tempfile::tempdir().unwrap();
    let options = DiscoveryOptions::default().with_state_dir(state.path());
    let req = request("{}", "us-east-1");
    let account = |key: &str, secret: &str| {
        discovery(
            openclaw_discovery::SdkControlPlane::from_settings(&settings_with_keys(
                &fake.url(),
                "us-east-1",
                key,
                secret,
            )),
            options.clone(),
        )
    };

    account(ACCESS_KEY, SECRET_KEY)
        .discover(&req)
        .await
        .unwrap();
    let other = account(OTHER_ACCESS_KEY, OTHER_SECRET_KEY)
        .discover(&req)
        .await
        .unwrap();
    assert!(
        !other.from_cache,
        "the second account got the first one's catalog"
    );
    assert_eq!(foundation_calls(&fake), 2);
    let files = cache_files(state.path());
    assert_eq!(files.len(), 2);

    // Each account finds its own entry again.
    fake.clear_requests();
    assert!(
        account(ACCESS_KEY, SECRET_KEY)
            .discover(&req)
            .await
            .unwrap()
            .from_cache
    );
    assert!(
        account(OTHER_ACCESS_KEY, OTHER_SECRET_KEY)
            .discover(&req)
            .await
            .unwrap()
            .from_cache
    );
    assert!(fake.requests().is_empty());

    // Neither the key ids nor the secrets are in the file names or contents; the identity
    // carries a hash of the key id instead.
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        for value in [ACCESS_KEY, SECRET_KEY, OTHER_ACCESS_KEY, OTHER_SECRET_KEY] {
            assert!(
                !name.contains(value) && !text.contains(value),
                "{value} in {name}"
            );
        }
        assert!(text.contains("(access key sha256:"), "{text:.300}");
    }
}

#[tokio::test]
async fn from_settings_discovers_and_shares_the_disk_cache() {
    // `Discovery::from_settings` is `Discovery::new` over `SdkControlPlane::from_settings`: the
    // same cache identity, so each reads the disk entry the other wrote.
    let fake = fake(Catalog::default_catalog()).await;
    let state = tempfile::tempdir().unwrap();
    let options = DiscoveryOptions::default().with_state_dir(state.path());
    let req = request("{}", "us-east-1");
    let settings = settings(&fake.url(), "us-east-1");

    let first = openclaw_discovery::Discovery::from_settings(&settings, options.clone())
        .discover(&req)
        .await
        .unwrap();
    assert!(!first.from_cache && !first.models.is_empty());
    let again = discovery(
        openclaw_discovery::SdkControlPlane::from_settings(&settings),
        options.clone(),
    )
    .discover(&req)
    .await
    .unwrap();
    assert!(again.from_cache);
    assert_eq!(again.models, first.models);
    assert_eq!(foundation_calls(&fake), 1);
    assert_eq!(cache_files(state.path()).len(), 1);
}

#[tokio::test]
async fn providers_or_explicit_over_http() {
    let fake = fake(Catalog::default_catalog()).await;
    let config = "{models: {providers: {local: {baseUrl: 'http://127.0.0.1:9', models: [{id: 'mine', name: 'Mine'}]}}}}";
    let explicit = openclaw_config::Config::from_text(config)
        .unwrap()
        .models
        .providers;
    let new_discovery = || {
        openclaw_discovery::Discovery::from_settings(
            &settings(&fake.url(), "us-east-1"),
            DiscoveryOptions::default(),
        )
    };
    let req = request(config, "us-east-1");

    let merged = new_discovery().providers_or_explicit(&req, &explicit).await;
    let catalog = merged.catalog.unwrap();
    assert_eq!(merged.providers.len(), 2);
    assert_eq!(merged.providers["local"], explicit["local"]);
    assert_eq!(merged.providers["amazon-bedrock"].models, catalog.models);

    fake.fault(Rule::new(Fault::AccessDenied).control_plane().forever());
    // A new discovery: no last good catalog to serve stale.
    let fallback = new_discovery().providers_or_explicit(&req, &explicit).await;
    assert_eq!(fallback.providers, explicit);
    assert!(
        matches!(fallback.catalog, Err(Error::AccessDenied { .. })),
        "{:?}",
        fallback.catalog
    );
}
