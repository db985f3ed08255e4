//! Atomic file writes.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Error;

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

/// Writes `contents` to `path` through a temporary file in the same directory (fsync, then
/// rename), so a reader sees the old or the new file, never half of one.
///
/// A symlinked path writes its target. An existing file keeps its permissions; a new one gets
/// 0600 (tempfile's default) and a missing directory is created with 0700 on Unix.
pub(crate) fn atomic_write(path: &Path, contents: &str) -> Result<(), Error> {
    let target: PathBuf = match std::fs::canonicalize(path) {
        Ok(target) => target,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => path.to_path_buf(),
        Err(err) => return Err(io("resolve", path)(err)),
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(io("create directory", &dir))?;
    }
    let existing = match std::fs::metadata(&target) {
        Ok(meta) => Some(meta.permissions()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(io("inspect", &target)(err)),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".openclaw-config-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io("create a temporary file in", &dir))?;
    tmp.write_all(contents.as_bytes())
        .map_err(io("write", tmp.path()))?;
    if let Some(permissions) = existing {
        tmp.as_file()
            .set_permissions(permissions)
            .map_err(io("set permissions of", &target))?;
    }
    tmp.as_file().sync_all().map_err(io("sync", &target))?;
    tmp.persist(&target)
        .map_err(|e| io("replace", &target)(e.error))?;
    // Make the rename itself durable. Directories cannot be opened for syncing everywhere;
    // the file's data is already safe, so a failure here is not an error.
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}
