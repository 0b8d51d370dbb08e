//! Writing the user's files without ever losing a byte: a temp file in the same directory, then a
//! rename. A symlink is written through to its target (the link stays a link) and the mode is kept.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

/// Follow symlinks to the file that really holds the bytes. A dangling link resolves to its target
/// path, so the file is created where the link points.
pub fn resolve_target(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&current)
                    .with_context(|| format!("cannot read the link {}", current.display()))?;
                current = match current.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(current),
        }
    }
    bail!("{}: too many levels of symbolic links", path.display())
}

/// Replace the contents of `path` atomically. When `path` exists its mode is kept; otherwise
/// `new_mode` is used (on Unix). Writes through symlinks.
pub fn write_atomic(path: &Path, contents: &[u8], new_mode: u32) -> Result<()> {
    let target = resolve_target(path)?;
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let existing = fs::metadata(&target).ok();
    if existing.as_ref().is_some_and(|m| m.is_dir()) {
        bail!("{} is a directory, not a file", target.display());
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    set_mode(tmp.path(), existing.as_ref(), new_mode)?;
    tmp.persist(&target)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot replace {}", target.display()))?;
    Ok(())
}

/// Create `path` with `contents`, failing if anything already exists there: never overwrite.
pub fn create_new(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    tmp.write_all(contents)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    set_mode(tmp.path(), None, mode)?;
    tmp.persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot create {} (it is never overwritten)", path.display()))?;
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, existing: Option<&fs::Metadata>, new_mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = existing.map_or(new_mode, |m| m.permissions().mode() & 0o7777);
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("cannot set the mode of {}", path.display()))
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: Option<&fs::Metadata>, _: u32) -> Result<()> {
    Ok(())
}

/// Read a regular file of at most `max` bytes. Anything else is an error, never a wait: opening a
/// FIFO blocks until a writer comes, and a device (`/dev/zero`) never ends.
pub fn read_regular(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Error, ErrorKind, Read};
    let not_regular = || Error::new(ErrorKind::InvalidInput, "not a regular file");
    if !fs::metadata(path)?.is_file() {
        return Err(not_regular());
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        // A FIFO swapped in after the check above opens without waiting, and is refused below.
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_regular());
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

/// [`read_regular`] for a file that may not exist yet: None when it does not.
pub fn read_optional(path: &Path, max: u64) -> std::io::Result<Option<Vec<u8>>> {
    match read_regular(path, max) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The most rdock reads of ~/.ssh/config or a known_hosts file.
pub const MAX_TEXT_BYTES: u64 = 64 << 20;

/// The permission bits of a file (Unix), or None where the OS has no such thing.
pub fn mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path)
            .ok()
            .map(|m| m.permissions().mode() & 0o7777)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// Make a directory (and its parents) private to the user, as ~/.ssh must be.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))
}

/// How every temporary name rdock makes begins: files `.rdock-XXXXXX[.tmp]` ([`write_atomic`],
/// [`create_new`]) and folders `.rdock-WORD-XXXXXX` (ssh's host key fetch, ssh-keygen -H).
pub const TEMP_PREFIX: &str = ".rdock-";

/// Is `name` one of rdock's temporary names: [`TEMP_PREFIX`], then tempfile's six random letters
/// or digits (a file, maybe with `.tmp`), or a lowercase word, `-` and those six (a folder)?
fn is_temp_name(name: &str, dir: bool) -> bool {
    let random = |s: &str| s.len() == 6 && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
        return false;
    };
    if dir {
        rest.split_once('-').is_some_and(|(word, r)| {
            !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase()) && random(r)
        })
    } else {
        random(rest.strip_suffix(".tmp").unwrap_or(rest))
    }
}

/// Remove what a killed rdock left in `dir` (its temporary files and folders, by their exact
/// names; a folder only when it holds nothing but files), touching nothing else. Call it only
/// while holding the write lock: a running rdock's temporary names look the same. Returns what
/// was removed; what cannot be removed stays, for the next run.
pub fn clear_leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        // The entry itself, never through a link.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let gone = if kind.is_file() && is_temp_name(name, false) {
            fs::remove_file(&path).is_ok()
        } else if kind.is_dir() && is_temp_name(name, true) {
            let inside: Vec<_> = fs::read_dir(&path)
                .into_iter()
                .flatten()
                .flatten()
                .collect();
            inside
                .iter()
                .all(|e| e.file_type().is_ok_and(|t| t.is_file()))
                && inside.iter().all(|e| fs::remove_file(e.path()).is_ok())
                && fs::remove_dir(&path).is_ok()
        } else {
            false
        };
        if gone {
            removed.push(path);
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_contents_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "old").unwrap();
        write_atomic(&file, b"new", 0o600).unwrap();
        assert_eq!(fs::read_to_string(&file).unwrap(), "new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn write_atomic_keeps_mode_and_writes_through_symlinks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        fs::write(&real, "{}").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_atomic(&link, b"{\"a\":1}", 0o600).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "{\"a\":1}");
        assert_eq!(mode(&real), Some(0o640));
    }

    #[cfg(unix)]
    #[test]
    fn read_regular_refuses_what_would_hang_or_never_end() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_regular(dir.path(), 10).is_err());
        assert!(read_regular(Path::new("/dev/zero"), 10).is_err());
        let file = dir.path().join("f");
        fs::write(&file, "12345").unwrap();
        assert_eq!(read_regular(&file, 5).unwrap(), b"12345");
        assert!(read_regular(&file, 4).is_err());
        assert_eq!(read_optional(&dir.path().join("missing"), 5).unwrap(), None);
        assert_eq!(
            read_optional(&file, 5).unwrap().as_deref(),
            Some(&b"12345"[..])
        );
        assert!(read_optional(dir.path(), 5).is_err());
    }

    #[test]
    fn create_new_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("key.pub");
        fs::write(&file, "mine").unwrap();
        assert!(create_new(&file, b"theirs", 0o644).is_err());
        assert_eq!(fs::read_to_string(&file).unwrap(), "mine");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn leftovers_are_rdocks_temp_names_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // What a killed rdock leaves: its own temp files and folders, as rdock names them.
        let made = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(".tmp")
            .tempfile_in(d)
            .unwrap()
            .keep()
            .unwrap()
            .1;
        let fetch = tempfile::Builder::new()
            .prefix(".rdock-hostkey-")
            .tempdir_in(d)
            .unwrap()
            .keep();
        fs::write(fetch.join("known_hosts"), "h ssh-ed25519 AAAA\n").unwrap();
        fs::write(d.join(".rdock-a1B2c3"), "").unwrap();
        // The user's own, however alike: kept.
        let mine = [
            ".rdock-notes",
            ".rdock-a1B2c3.bak",
            ".rdock-hostkey-mine",
            "rdock-a1B2c3",
            "known_hosts",
        ];
        for name in mine {
            fs::write(d.join(name), "mine").unwrap();
        }
        let nested = d.join(".rdock-hash-Zz9Zz9");
        fs::create_dir_all(nested.join("deeper")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(d.join("known_hosts"), d.join(".rdock-L1nk00")).unwrap();

        let mut removed = clear_leftovers(d);
        removed.sort();
        let mut want = vec![made, fetch, d.join(".rdock-a1B2c3")];
        want.sort();
        assert_eq!(removed, want);
        for name in mine {
            assert_eq!(fs::read_to_string(d.join(name)).unwrap(), "mine");
        }
        assert!(
            nested.join("deeper").is_dir(),
            "a folder with a folder in it is not rdock's"
        );
        #[cfg(unix)]
        assert!(d.join(".rdock-L1nk00").is_symlink());
        assert!(clear_leftovers(&d.join("absent")).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn read_regular_refuses_a_fifo_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let err = read_regular(&fifo, 10).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
