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
