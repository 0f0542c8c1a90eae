//! File system helpers shared by the stores: private modes, atomic writes,
//! directory syncs.

use psec_provider::KeyStoreError;
use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Mode of every directory a store creates: only the service's user.
pub(super) const DIR_MODE: u32 = 0o700;
/// Mode of every file a store creates: only the service's user.
pub(super) const FILE_MODE: u32 = 0o600;
/// Prefix of the temporary files of [`write_atomic`]. A dot is not in the
/// URL-safe base64 alphabet, so no key file name starts with it.
#[cfg(feature = "on-disk")]
pub(super) const TEMP_PREFIX: &str = ".tmp-";

/// Wraps a failure of the storage.
pub(super) fn storage<E>(error: E) -> KeyStoreError
where
    E: std::error::Error + Send + Sync + 'static,
{
    KeyStoreError::Storage(Box::new(error))
}

/// Creates `dir` and its missing parents with mode 0700.
pub(super) fn create_private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir)
}

/// Sets the permission bits of `path` to `mode` if they differ, logging the
/// fix.
pub(super) fn ensure_mode(path: &Path, mode: u32) -> io::Result<()> {
    let current = fs::metadata(path)?.permissions().mode() & 0o7777;
    if current != mode {
        log::warn!(
            "{}: permissions were {current:o}, setting {mode:o}",
            path.display()
        );
        fs::set_permissions(path, Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Creates `path` empty with mode 0600 if it does not exist.
#[cfg(feature = "sqlite")]
pub(super) fn create_private_file(path: &Path) -> io::Result<()> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(FILE_MODE)
        .open(path)
        .map(drop)
}

/// Flushes a directory's entries (a created, renamed or removed name) to disk.
#[cfg(feature = "on-disk")]
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Syncs `dir` and each of its ancestors up to and including `root`, so that
/// directories just created are on disk too.
#[cfg(feature = "on-disk")]
pub(super) fn sync_dirs_up_to(dir: &Path, root: &Path) -> io::Result<()> {
    for ancestor in dir.ancestors() {
        sync_dir(ancestor)?;
        if ancestor == root {
            break;
        }
    }
    Ok(())
}

/// Writes `bytes` to `dir/name` so that a crash leaves either no file or the
/// whole file: write a temporary file, sync it, rename it, sync the directory.
#[cfg(feature = "on-disk")]
pub(super) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!("{TEMP_PREFIX}{}-{count}", std::process::id()));
    let written = write_new_file(&temp, bytes).and_then(|()| fs::rename(&temp, dir.join(name)));
    if written.is_err() {
        // Best effort: a leftover is removed at the next open anyway.
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_dir(dir)
}

#[cfg(feature = "on-disk")]
fn write_new_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(FILE_MODE)
        .open(path)?;
    // The umask may have taken bits away; make the mode exact.
    file.set_permissions(Permissions::from_mode(FILE_MODE))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// The names of the entries of `dir` that are directories (`dirs`) or
/// regular files (`!dirs`), skipping names that start with a dot (ours) and
/// names that are not UTF-8 (never written by Parsec: logged). A missing
/// directory has no entries.
#[cfg(feature = "on-disk")]
pub(super) fn list_names(dir: &Path, dirs: bool) -> io::Result<Vec<String>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if (dirs && !kind.is_dir()) || (!dirs && !kind.is_file()) {
            continue;
        }
        match entry.file_name().into_string() {
            Ok(name) if !name.starts_with('.') => names.push(name),
            Ok(_) => {}
            Err(name) => log::warn!("{}: ignoring non-UTF-8 name {name:?}", dir.display()),
        }
    }
    names.sort();
    Ok(names)
}
