//! One rdock that writes at a time: an exclusive lock on a file in rdock's state directory, held
//! for the whole run of a command that changes files, so two `rdock setup` runs at once cannot
//! interleave their writes. Waiting is bounded and a signal ends it: rdock never hangs.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};

use crate::sys::{fsutil, signal};

/// How long a second rdock waits for the first before giving up.
pub const WAIT: Duration = Duration::from_secs(120);

/// Held until dropped.
pub struct WriteLock {
    _file: File,
}

/// `~/.local/state/rdock/lock` (or the OS's equivalent: the cache directory where there is no
/// state directory).
pub fn lock_path() -> Option<PathBuf> {
    dirs::state_dir()
        .or_else(dirs::cache_dir)
        .map(|d| d.join("rdock").join("lock"))
}

/// Refuse a lock directory or file that is not the user's own: another user's, a symbolic link,
/// anything but a regular file (a FIFO would block the open until a writer came), or (for the
/// directory) one that others may write to. Looks at the path itself, never through a link.
#[cfg(unix)]
fn refuse_foreign(path: &Path, dir: bool) -> Result<()> {
    let meta = std::fs::symlink_metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    refuse_unless_private(&meta, path, dir)
}

#[cfg(unix)]
fn refuse_unless_private(meta: &std::fs::Metadata, path: &Path, dir: bool) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: getuid has no preconditions and cannot fail.
    let me = unsafe { libc::getuid() };
    let kind_ok = if dir { meta.is_dir() } else { meta.is_file() };
    if !kind_ok || meta.uid() != me || (dir && meta.mode() & 0o022 != 0) {
        bail!(
            "{} is not a private {} of yours; rdock will not lock through it",
            path.display(),
            if dir { "directory" } else { "regular file" }
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_foreign(_: &Path, _: bool) -> Result<()> {
    Ok(())
}

/// Open the lock file, never waiting: a path that is there must be a private regular file before
/// it is opened, and what was opened is checked again (the path may have changed in between).
fn open(path: &Path) -> Result<File> {
    if std::fs::symlink_metadata(path).is_ok() {
        refuse_foreign(path, false)?;
    }
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        // Never through a link someone planted, never blocked by a FIFO put there after the
        // check above, and private when new.
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options.open(path).with_context(|| {
        format!(
            "cannot open the lock file {} (rdock refuses a symbolic link or anything but a regular file there)",
            path.display()
        )
    })?;
    #[cfg(unix)]
    refuse_unless_private(
        &file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?,
        path,
        false,
    )?;
    Ok(file)
}

/// Take the lock, waiting up to [`WAIT`] for another rdock to finish; a signal ends the wait at
/// once (a [`signal::Interrupted`] error). Holding it, clear what a killed rdock left behind.
pub fn acquire() -> Result<WriteLock> {
    let Some(path) = lock_path() else {
        bail!("cannot find a state or cache directory for rdock's lock file (is HOME set?)");
    };
    if let Some(dir) = path.parent() {
        fsutil::create_private_dir(dir)?;
        refuse_foreign(dir, true)?;
    }
    let file = open(&path)?;
    let start = Instant::now();
    let mut told = false;
    loop {
        signal::check()?;
        match file.try_lock() {
            Ok(()) => break,
            Err(TryLockError::WouldBlock) if start.elapsed() < WAIT => {
                if !told {
                    eprintln!(
                        "waiting for another rdock to finish (lock {})",
                        crate::sys::term::visible(&path.display().to_string())
                    );
                    told = true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(TryLockError::WouldBlock) => bail!(
                "another rdock has held {} for {} s; let it finish, then run this again",
                path.display(),
                WAIT.as_secs()
            ),
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()))
            }
        }
    }
    // No other rdock writes now, so a temp name of rdock's is a killed run's, not a live one's.
    if let Some(home) = dirs::home_dir() {
        fsutil::clear_leftovers(&home.join(".ssh"));
    }
    Ok(WriteLock { _file: file })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_planted_link_or_a_shared_directory_is_refused_and_a_private_file_taken() {
        let dir = tempfile::tempdir().unwrap();
        let private = dir.path().join("rdock");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(refuse_foreign(&private, true).is_ok());
        let lock = private.join("lock");
        std::fs::write(&lock, "").unwrap();
        assert!(refuse_foreign(&lock, false).is_ok());

        let planted = private.join("planted");
        std::os::unix::fs::symlink("/etc/passwd", &planted).unwrap();
        let err = refuse_foreign(&planted, false).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a private regular file of yours"),
            "{err}"
        );

        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(refuse_foreign(&shared, true).is_err());
    }
}
