//! Integration tests: the real `aws-sdk-bedrock`, configured by `openclaw-creds`, against
//! `fake-bedrock` over HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// Shared setup: the fake, settings from an explicit env map, request counting.
mod support;
// insta snapshots of the discovery output: default catalog and variants.
mod catalogs;
// TTL with a manual clock, refreshInterval 0, single-flight, stale-on-error, disk cache.
mod cache;
// AccessDenied, throttling, a hang, a malformed response.
mod errors;
// Application inference profiles: listing, degraded listing, GetInferenceProfile, describe.
mod profiles;
