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
