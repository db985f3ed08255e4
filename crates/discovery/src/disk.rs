//! The optional on-disk cache: one JSON file per cache key under `<state>/cache/`.
//!
//! A file holds the raw listings (not the mapped models), its key and the time they were fetched,
//! so filter or default changes apply without calling AWS. Files are written atomically (a
//! temporary file in the same directory, then a rename) and any file that does not parse or whose
//! key differs is ignored (and overwritten by the next successful discovery).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::listing::Listing;

const FORMAT_VERSION: u32 = 1;

/// What selects a cache entry: everything that changes the AWS answer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Key {
    pub(crate) region: String,
    /// Endpoint override and credential-source label (never a secret).
    pub(crate) identity: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    version: u32,
    key: Key,
    fetched_at_unix_ms: u64,
    listing: Listing,
}

/// `<dir>/bedrock-discovery-<first 16 hex digits of sha256(key)>.json`.
pub(crate) fn path(dir: &Path, key: &Key) -> PathBuf {
    let json = serde_json::to_vec(key).unwrap_or_default();
    let digest = Sha256::digest(&json);
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    dir.join(format!("bedrock-discovery-{hex}.json"))
}

/// Reads the entry for `key`; `None` when absent, corrupt, of another format or another key.
pub(crate) async fn load(dir: &Path, key: &Key) -> Option<(SystemTime, Listing)> {
    let file = path(dir, key);
    let bytes = tokio::fs::read(&file).await.ok()?;
    let entry: Entry = match serde_json::from_slice(&bytes) {
        Ok(entry) => entry,
        Err(err) => {
            tracing::warn!(file = %file.display(), %err, "ignoring corrupt bedrock discovery cache file");
            return None;
        }
    };
    if entry.version != FORMAT_VERSION || entry.key != *key {
        return None;
    }
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(entry.fetched_at_unix_ms);
    Some((at, entry.listing))
}

/// Writes the entry for `key` atomically.
pub(crate) async fn store(
    dir: &Path,
    key: &Key,
    fetched_at: SystemTime,
    listing: &Listing,
) -> std::io::Result<()> {
    let entry = Entry {
        version: FORMAT_VERSION,
        key: key.clone(),
        fetched_at_unix_ms: fetched_at
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0),
        listing: listing.clone(),
    };
    let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
    let dir = dir.to_path_buf();
    let target = path(&dir, key);
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&target).map_err(|e| e.error)?;
        Ok(())
    })
    .await
    .map_err(std::io::Error::other)?
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::FoundationModel;

    fn key(region: &str) -> Key {
        Key {
            region: region.into(),
            identity: "default".into(),
        }
    }

    #[tokio::test]
    async fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let listing = Listing {
            foundation_models: vec![FoundationModel {
                model_id: "a.b".into(),
                ..FoundationModel::default()
            }],
            inference_profiles: vec![],
            ..Listing::default()
        };
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert!(load(dir.path(), &key("us-east-1")).await.is_none());
        store(dir.path(), &key("us-east-1"), at, &listing)
            .await
            .unwrap();
        assert_eq!(
            load(dir.path(), &key("us-east-1")).await,
            Some((at, listing.clone()))
        );
        // Another key, another file.
        assert!(load(dir.path(), &key("eu-west-1")).await.is_none());
        assert_ne!(
            path(dir.path(), &key("us-east-1")),
            path(dir.path(), &key("eu-west-1"))
        );

        std::fs::write(path(dir.path(), &key("us-east-1")), b"{not json").unwrap();
        assert!(load(dir.path(), &key("us-east-1")).await.is_none());
        // Only the cache file is left: no temporary files linger.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
