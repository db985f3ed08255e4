//! Cache logic against a counting in-process control plane (the SDK path is covered by
//! `tests/it`).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::clock::ManualClock;
use crate::listing::FoundationModel;

#[derive(Debug, Default)]
struct Counting {
    calls: AtomicUsize,
    /// Calls from this number on fail.
    fail_from: Option<usize>,
    delay: Duration,
}

#[async_trait::async_trait]
impl ControlPlane for Counting {
    async fn fetch(&self, region: &str) -> Result<Listing, Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if self.fail_from.is_some_and(|f| n >= f) {
            return Err(Error::Service {
                operation: crate::Operation::ListFoundationModels,
                region: region.into(),
                code: "InternalServerException".into(),
                message: "boom".into(),
            });
        }
        Ok(Listing {
            foundation_models: vec![FoundationModel {
                model_id: format!("a.model-{n}"),
                model_name: Some("A".into()),
                provider_name: Some("A".into()),
                input_modalities: vec!["TEXT".into()],
                output_modalities: vec!["TEXT".into()],
                response_streaming_supported: Some(true),
                inference_types_supported: vec!["ON_DEMAND".into()],
                lifecycle_status: Some("ACTIVE".into()),
            }],
            inference_profiles: vec![],
            ..Listing::default()
        })
    }

    fn cache_identity(&self) -> String {
        "counting".into()
    }
}

fn request(ttl: Option<u64>) -> DiscoveryRequest {
    DiscoveryRequest {
        region: "us-east-1".into(),
        mapping: MappingOptions::default(),
        ttl: ttl.map(Duration::from_secs),
        refresh: false,
    }
}

fn setup(plane: Counting) -> (Arc<Counting>, Arc<ManualClock>, Discovery) {
    let plane = Arc::new(plane);
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let discovery = Discovery::new(
        plane.clone(),
        DiscoveryOptions {
            clock: clock.clone(),
            ..DiscoveryOptions::default()
        },
    );
    (plane, clock, discovery)
}

#[tokio::test]
async fn ttl_and_refresh() {
    let (plane, clock, discovery) = setup(Counting::default());
    let first = discovery.discover(&request(Some(60))).await.unwrap();
    assert!(!first.from_cache);
    assert_eq!(first.models[0].id, "a.model-0");
    clock.advance(Duration::from_secs(59));
    let second = discovery.discover(&request(Some(60))).await.unwrap();
    assert!(second.from_cache);
    assert_eq!(plane.calls.load(Ordering::SeqCst), 1);
    clock.advance(Duration::from_secs(1));
    let third = discovery.discover(&request(Some(60))).await.unwrap();
    assert!(!third.from_cache);
    assert_eq!(third.models[0].id, "a.model-1");
    let forced = discovery
        .discover(&request(Some(60)).refreshed())
        .await
        .unwrap();
    assert_eq!(forced.models[0].id, "a.model-2");
    assert_eq!(plane.calls.load(Ordering::SeqCst), 3);
    let status = discovery.status("us-east-1");
    assert_eq!(status.age, Some(Duration::ZERO));
    assert!(!status.in_flight);
}

#[tokio::test]
async fn no_ttl_means_every_call_fetches() {
    let (plane, _clock, discovery) = setup(Counting::default());
    for _ in 0..3 {
        assert!(!discovery.discover(&request(None)).await.unwrap().from_cache);
    }
    assert_eq!(plane.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn concurrent_callers_share_one_fetch() {
    let (plane, _clock, discovery) = setup(Counting {
        delay: Duration::from_millis(50),
        ..Counting::default()
    });
    let calls = (0..200).map(|_| {
        let d = discovery.clone();
        async move { d.discover(&request(Some(60))).await }
    });
    let results = futures::future::join_all(calls).await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().unwrap().models[0].id == "a.model-0")
    );
    assert_eq!(plane.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn stale_on_error_serves_the_last_good_catalog() {
    let (plane, clock, discovery) = setup(Counting {
        fail_from: Some(1),
        ..Counting::default()
    });
    assert!(discovery.discover(&request(Some(60))).await.is_ok());
    clock.advance(Duration::from_secs(61));
    let stale = discovery.discover(&request(Some(60))).await.unwrap();
    assert!(stale.from_cache);
    assert_eq!(stale.models[0].id, "a.model-0");
    assert!(matches!(stale.stale_error, Some(Error::Service { .. })));
    let status = discovery.status("us-east-1");
    assert!(status.last_error.is_some());
    assert_eq!(status.age, Some(Duration::from_secs(61)));
    assert_eq!(plane.calls.load(Ordering::SeqCst), 2);
}

/// Log lines written while it lives, for assertions.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[tokio::test]
async fn a_failing_refresh_is_left_to_the_caller_to_warn_about() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (_plane, clock, discovery) = setup(Counting {
        fail_from: Some(1),
        ..Counting::default()
    });
    assert!(discovery.discover(&request(Some(60))).await.is_ok());
    for _ in 0..3 {
        clock.advance(Duration::from_secs(61));
        assert!(discovery.discover(&request(Some(60))).await.is_ok());
    }
    // Each failure is a debug line and `stale_error` of the catalog served; no warning of its
    // own beside the caller's.
    let text = captured.text();
    assert_eq!(text.matches("WARN").count(), 0, "{text}");
    assert_eq!(
        text.matches("serving the last good catalog").count(),
        3,
        "{text}"
    );
}

#[tokio::test]
async fn failure_without_a_good_catalog_is_an_error() {
    let (_plane, _clock, discovery) = setup(Counting {
        fail_from: Some(0),
        ..Counting::default()
    });
    let err = discovery.discover(&request(Some(60))).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "bedrock ListFoundationModels in us-east-1 failed with InternalServerException: boom"
    );
}

#[tokio::test]
async fn providers_or_explicit_merges_or_falls_back() {
    let explicit = BTreeMap::from([(
        "local".to_string(),
        ProviderConfig {
            models: vec![ModelDefinition::new("mine", "Mine")],
            ..ProviderConfig::default()
        },
    )]);
    let (_plane, _clock, discovery) = setup(Counting::default());
    let merged = discovery
        .providers_or_explicit(&request(Some(60)), &explicit)
        .await;
    let ids: Vec<_> = merged.providers.keys().map(String::as_str).collect();
    assert_eq!(ids, ["amazon-bedrock", "local"]);
    assert_eq!(
        merged.providers["amazon-bedrock"].models,
        merged.catalog.unwrap().models
    );

    let (_plane, _clock, failing) = setup(Counting {
        fail_from: Some(0),
        ..Counting::default()
    });
    let fallback = failing
        .providers_or_explicit(&request(Some(60)), &explicit)
        .await;
    assert_eq!(fallback.providers, explicit);
    assert_eq!(
        fallback.catalog.map_err(|e| e.kind()),
        Err(crate::ErrorKind::Unavailable)
    );
}

#[tokio::test]
async fn timeout_bounds_a_slow_plane() {
    let plane = Arc::new(Counting {
        delay: Duration::from_secs(3600),
        ..Counting::default()
    });
    let discovery = Discovery::new(
        plane,
        DiscoveryOptions {
            timeout: Duration::from_millis(20),
            ..DiscoveryOptions::default()
        },
    );
    let err = discovery.discover(&request(Some(60))).await.unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn filter_changes_do_not_refetch() {
    let (plane, _clock, discovery) = setup(Counting::default());
    let all = discovery.discover(&request(Some(60))).await.unwrap();
    assert_eq!(all.models.len(), 1);
    let mut filtered = request(Some(60));
    filtered.mapping = MappingOptions::new(crate::ProviderFilter::new(["meta"]), 0, 0);
    assert!(
        discovery
            .discover(&filtered)
            .await
            .unwrap()
            .models
            .is_empty()
    );
    assert_eq!(plane.calls.load(Ordering::SeqCst), 1);
}

/// A discovery over a fresh counting plane (each call takes 20 ms, so flights overlap) and the
/// disk cache in `dir`, at the clock's time.
fn with_disk(dir: &std::path::Path, clock: &Arc<ManualClock>) -> (Arc<Counting>, Discovery) {
    let plane = Arc::new(Counting {
        delay: Duration::from_millis(20),
        ..Counting::default()
    });
    let discovery = Discovery::new(
        plane.clone(),
        DiscoveryOptions {
            clock: clock.clone(),
            ..DiscoveryOptions::default()
        }
        .with_state_dir(dir),
    );
    (plane, discovery)
}

#[tokio::test]
async fn refresh_callers_never_get_a_disk_cached_listing() {
    let state = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    // A first process fills the disk cache ("a.model-0").
    let (_, first) = with_disk(state.path(), &clock);
    first.discover(&request(Some(600))).await.unwrap();
    clock.advance(Duration::from_secs(10));

    // A second process: a plain caller starts a flight that answers from the disk; a refresh
    // caller arriving while it is in flight must not share that answer. `join!` polls the
    // plain caller first, so its flight exists (and is waiting on the disk) when the refresh
    // caller looks.
    let (plane, second) = with_disk(state.path(), &clock);
    let (plain_req, refresh_req) = (request(Some(600)), request(Some(600)).refreshed());
    let (plain, refreshed) =
        futures::join!(second.discover(&plain_req), second.discover(&refresh_req),);
    let (plain, refreshed) = (plain.unwrap(), refreshed.unwrap());
    assert!(plain.from_cache, "the plain caller may use the disk entry");
    assert!(
        !refreshed.from_cache,
        "the refresh caller got a cached listing"
    );
    assert_eq!(refreshed.models[0].id, "a.model-0"); // this plane's first call
    assert_eq!(plane.calls.load(Ordering::SeqCst), 1);

    // `refreshInterval: 0` callers do not share a disk-reading flight either, and a caller
    // whose TTL is shorter than the flight's does not accept its older disk entry.
    clock.advance(Duration::from_secs(10));
    let (plane, third) = with_disk(state.path(), &clock);
    let (uncached_req, shorter_req) = (request(None), request(Some(5)));
    let (plain, uncached, shorter) = futures::join!(
        third.discover(&plain_req),
        third.discover(&uncached_req),
        third.discover(&shorter_req),
    );
    assert!(plain.unwrap().from_cache);
    assert!(!uncached.unwrap().from_cache);
    assert!(!shorter.unwrap().from_cache);
    assert_eq!(plane.calls.load(Ordering::SeqCst), 1);

    // The other way round, a plain caller shares a refresh caller's call to AWS.
    let (plane, fourth) = with_disk(state.path(), &clock);
    let (refreshed, plain) =
        futures::join!(fourth.discover(&refresh_req), fourth.discover(&plain_req),);
    assert!(!refreshed.unwrap().from_cache);
    assert!(!plain.unwrap().from_cache);
    assert_eq!(plane.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn disk_status_reads_the_cache_age_without_calling_aws() {
    let state = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
    ));
    let (_, first) = with_disk(state.path(), &clock);
    assert_eq!(first.disk_status(&request(Some(600))).await, None);
    let fetched = first.discover(&request(Some(600))).await.unwrap();

    clock.advance(Duration::from_secs(90));
    let (plane, second) = with_disk(state.path(), &clock);
    let status = second.disk_status(&request(Some(600))).await.unwrap();
    assert_eq!(status.fetched_at, fetched.fetched_at);
    assert_eq!(status.age, Some(Duration::from_secs(90)));
    assert!(status.fresh);
    assert_eq!(status.model_count, 1);
    assert!(status.path.starts_with(state.path().join("cache")));
    // Stale by a shorter TTL, never fresh without caching.
    assert!(!second.disk_status(&request(Some(60))).await.unwrap().fresh);
    assert!(!second.disk_status(&request(None)).await.unwrap().fresh);
    // The filter is applied to the cached listing.
    let mut filtered = request(Some(600));
    filtered.mapping = MappingOptions::new(crate::ProviderFilter::new(["meta"]), 0, 0);
    assert_eq!(second.disk_status(&filtered).await.unwrap().model_count, 0);
    // Another region has no entry; nothing called AWS.
    let mut other = request(Some(600));
    other.region = "eu-west-1".into();
    assert_eq!(second.disk_status(&other).await, None);
    assert_eq!(plane.calls.load(Ordering::SeqCst), 0);
    // The in-memory status of the second process knows nothing yet.
    assert_eq!(second.status("us-east-1").fetched_at, None);
    // Without a disk cache directory there is nothing to report.
    assert_eq!(
        setup(Counting::default())
            .2
            .disk_status(&request(Some(600)))
            .await,
        None
    );
}
