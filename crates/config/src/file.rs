//! Reading and replacing the configuration file safely.
//!
//! Rules:
//! - A read takes at most [`MAX_CONFIG_BYTES`] and only from a regular file (never a device,
//!   a FIFO or a directory).
//! - Every write holds an advisory lock on a sibling lock file (`.<name>.lock` beside the real
//!   file, after following a symlink) for the whole read, edit, validate and write, so
//!   concurrent editors are serialised and no acknowledged edit is lost. Waiting for the lock is
//!   bounded by [`LOCK_TIMEOUT`].
//! - A write goes to a temporary file created with mode 0600 in the same directory, then is
//!   synced and renamed over the file: a reader sees the old or the new file, never half of one.
//!   Temporary files left by a killed writer are removed by the next write.
//! - A write never replaces what it should not: a read-only file, a file of another user, a
//!   non-regular file, or a dangling symlink (which would otherwise become a regular file).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::Error;

/// The largest configuration file read, in bytes (16 MiB).
pub const MAX_CONFIG_BYTES: u64 = 16 * 1024 * 1024;

/// How long a write waits for another process's lock on the same file.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Temporary files of a write are named `<TEMP_PREFIX>*<TEMP_SUFFIX>`.
const TEMP_PREFIX: &str = ".openclaw-config-";
const TEMP_SUFFIX: &str = ".tmp";

/// A temporary file older than this, found while holding the lock, was left by a killed writer.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_path_buf();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

fn refuse(path: &Path, reason: impl Into<String>) -> Error {
    Error::File {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn file_kind(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "not a regular file"
}

fn not_regular(path: &Path, file_type: std::fs::FileType) -> Error {
    refuse(
        path,
        format!(
            "expected a regular configuration file, found {}",
            file_kind(file_type)
        ),
    )
}

fn too_large(path: &Path) -> Error {
    refuse(
        path,
        format!(
            "expected a configuration file of at most {} MiB, the file is larger",
            MAX_CONFIG_BYTES / (1024 * 1024)
        ),
    )
}

/// Reads a configuration file's text; `None` when there is no file.
///
/// Refuses a non-regular file (checked before opening, so a FIFO cannot block the read) and
/// reads at most [`MAX_CONFIG_BYTES`] (+1 to detect a larger file).
pub(crate) fn read_text(path: &Path) -> Result<Option<String>, Error> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io("read", path)(err)),
    };
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_large(path));
    }
    let file = match File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io("read", path)(err)),
    };
    // The file may have been swapped between the check and the open.
    let meta = file.metadata().map_err(io("inspect", path))?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io("read", path))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large(path));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| {
        io("read", path)(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "expected UTF-8 text",
        ))
    })
}

/// The file a write to `path` replaces: `path` itself, or the target of a symlink.
///
/// A dangling symlink is refused: writing would replace the link by a regular file.
pub(crate) fn write_target(path: &Path) -> Result<PathBuf, Error> {
    let is_link = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta.file_type().is_symlink(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(path.to_path_buf()),
        Err(err) => return Err(io("inspect", path)(err)),
    };
    if !is_link {
        return Ok(path.to_path_buf());
    }
    match std::fs::canonicalize(path) {
        Ok(target) => Ok(target),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            let target = std::fs::read_link(path).unwrap_or_default();
            Err(refuse(
                path,
                format!(
                    "a symbolic link to {}, which does not exist; refusing to replace the link with a regular file (create the target or remove the link)",
                    target.display()
                ),
            ))
        }
        Err(err) => Err(io("resolve", path)(err)),
    }
}

fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// The lock file guarding writes of `target`: `.<file name>.lock` in the same directory.
pub(crate) fn lock_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "openclaw.json".to_string());
    parent_dir(target).join(format!(".{name}.lock"))
}

/// An exclusive advisory lock on a configuration file, released on drop (closing the file
/// releases the lock, also when the process dies).
#[derive(Debug)]
pub(crate) struct WriteLock {
    _file: File,
    target: PathBuf,
}

impl WriteLock {
    /// The file this lock guards (a symlink resolved).
    pub(crate) fn target(&self) -> &Path {
        &self.target
    }
}

/// Takes the write lock of the file at `path` (following a symlink), creating its directory
/// (mode 0700) and the lock file (mode 0600) when missing. Waits at most `timeout`.
pub(crate) fn lock(path: &Path, timeout: Duration) -> Result<WriteLock, Error> {
    let target = write_target(path)?;
    let dir = parent_dir(&target);
    if !dir.exists() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&dir).map_err(io("create directory", &dir))?;
    }
    let lock_path = lock_path(&target);
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options
        .open(&lock_path)
        .map_err(io("open the lock file", &lock_path))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(err)) => {
                return Err(io("lock", &lock_path)(err));
            }
        }
        if start.elapsed() >= timeout {
            return Err(Error::LockTimeout {
                lock: lock_path,
                waited: timeout,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(WriteLock {
        _file: file,
        target,
    })
}

/// Removes temporary files of killed writers: older than a minute (a live writer holds the lock
/// while its file exists, and writes it in far less time). Best effort.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
            continue;
        }
        let Ok(meta) = entry.metadata() else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age >= STALE_TEMP_AGE);
        if meta.is_file() && old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Checks that an existing file may be replaced: a regular file, writable by its owner and
/// owned by the writing user (`writer_uid`, the owner of a file this process just created).
fn check_replaceable(
    target: &Path,
    meta: &std::fs::Metadata,
    writer_uid: Option<u32>,
) -> Result<(), Error> {
    if !meta.is_file() {
        return Err(not_regular(target, meta.file_type()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let mode = meta.permissions().mode() & 0o7777;
        // Checked on the bits, not by trying: root may write anything, but a file made
        // read-only says it must not be changed.
        if mode & 0o200 == 0 {
            return Err(refuse(
                target,
                format!(
                    "the file is read-only (mode {mode:04o}); refusing to replace it (make it writable, e.g. `chmod u+w`, to edit it)"
                ),
            ));
        }
        if let Some(uid) = writer_uid
            && meta.uid() != uid
        {
            return Err(refuse(
                target,
                format!(
                    "the file belongs to uid {}, not to the current user (uid {uid}); refusing to replace it, which would change its owner",
                    meta.uid()
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    {
        let _ = writer_uid;
        if meta.permissions().readonly() {
            return Err(refuse(
                target,
                "the file is read-only; refusing to replace it (make it writable to edit it)",
            ));
        }
    }
    Ok(())
}

/// Writes `contents` over the locked file atomically (see the module rules). An existing file
/// keeps its permissions; a new one gets 0600.
pub(crate) fn write_locked(lock: &WriteLock, contents: &str) -> Result<(), Error> {
    let target = lock.target();
    let dir = parent_dir(target);
    remove_stale_temp_files(&dir);
    let existing = match std::fs::metadata(target) {
        Ok(meta) => Some(meta),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
        Err(err) => return Err(io("inspect", target)(err)),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600));
    let mut tmp = builder
        .tempfile_in(&dir)
        .map_err(io("create a temporary file in", &dir))?;
    if let Some(meta) = &existing {
        #[cfg(unix)]
        let writer_uid = {
            use std::os::unix::fs::MetadataExt;
            tmp.as_file().metadata().ok().map(|m| m.uid())
        };
        #[cfg(not(unix))]
        let writer_uid = None;
        check_replaceable(target, meta, writer_uid)?;
    }
    tmp.write_all(contents.as_bytes())
        .map_err(io("write", tmp.path()))?;
    if let Some(meta) = existing {
        tmp.as_file()
            .set_permissions(meta.permissions())
            .map_err(io("set permissions of", target))?;
    }
    tmp.as_file().sync_all().map_err(io("sync", target))?;
    tmp.persist(target)
        .map_err(|e| io("replace", target)(e.error))?;
    // Make the rename itself durable. Directories cannot be opened for syncing everywhere;
    // the file's data is already safe, so a failure here is not an error.
    #[cfg(unix)]
    if let Ok(dir) = File::open(&dir) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// Takes the lock of `path` and writes `contents` over it atomically.
pub(crate) fn atomic_write(path: &Path, contents: &str) -> Result<(), Error> {
    let lock = lock(path, LOCK_TIMEOUT)?;
    write_locked(&lock, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_target() {
        assert_eq!(
            lock_path(Path::new("/a/b/openclaw.json")),
            Path::new("/a/b/.openclaw.json.lock")
        );
        assert_eq!(
            lock_path(Path::new("openclaw.json")),
            Path::new("./.openclaw.json.lock")
        );
    }

    #[test]
    fn a_held_lock_times_out_with_an_error_naming_the_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let held = lock(&path, LOCK_TIMEOUT).unwrap();
        let start = Instant::now();
        let err = lock(&path, Duration::from_millis(200)).unwrap_err();
        assert!(start.elapsed() >= Duration::from_millis(200));
        let lock_file = dir.path().join(".openclaw.json.lock");
        assert_eq!(
            err.to_string(),
            format!(
                "timed out after 0.2 s waiting for the lock on {}: another process is editing the configuration",
                lock_file.display()
            )
        );
        drop(held);
        lock(&path, Duration::from_millis(200)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_is_0600_and_stale_temporary_files_are_removed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openclaw.json");
        let stale = dir.path().join(".openclaw-config-KILLED.tmp");
        let fresh = dir.path().join(".openclaw-config-INFLIGHT.tmp");
        for p in [&stale, &fresh] {
            std::fs::write(p, "{}").unwrap();
        }
        let old = SystemTime::now() - Duration::from_secs(300);
        File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(old)
            .unwrap();
        atomic_write(&path, "{}\n").unwrap();
        assert!(!stale.exists(), "a stale temporary file was kept");
        assert!(fresh.exists(), "a recent temporary file was removed");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    #[test]
    fn non_regular_files_are_refused_before_reading() {
        let err = read_text(Path::new("/dev/zero")).unwrap_err().to_string();
        assert_eq!(
            err,
            "/dev/zero: expected a regular configuration file, found a character device"
        );
        let dir = tempfile::tempdir().unwrap();
        let err = read_text(dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("found a directory"), "{err}");
    }

    #[test]
    fn reads_are_capped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.json");
        let file = File::create(&path).unwrap();
        file.set_len(MAX_CONFIG_BYTES).unwrap();
        assert_eq!(
            read_text(&path).unwrap().map(|t| t.len() as u64),
            Some(MAX_CONFIG_BYTES)
        );
        file.set_len(MAX_CONFIG_BYTES + 1).unwrap();
        let err = read_text(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: expected a configuration file of at most 16 MiB, the file is larger",
                path.display()
            )
        );
    }
}
