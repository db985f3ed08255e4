//! End-to-end tests for openclaw-bedrock.
//!
//! The tests in `tests/e2e/` run the built binaries (`openclaw`, `fake-bedrock`) as separate
//! processes, talking real HTTP on loopback, exactly as a user would. This library holds the shared
//! helpers: locating the workspace and its binaries.
#![deny(missing_docs)]

use std::path::PathBuf;

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}
