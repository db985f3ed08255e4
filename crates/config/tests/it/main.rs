//! The one integration-test binary of openclaw-config.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

// The two JSON5 blocks of the seed document: parse, validate, round-trip.
mod seeds;
// At least 15 distinct bad configurations, each naming key path and line.
mod bad_configs;
// set/unset/get on text: comments kept, style matched, refused edits change nothing.
mod edit;
// Files: missing file, atomic save, permissions.
mod files;
// The committed JSON Schema against serde, on valid and invalid configurations.
mod schema;
