//! The key pair: reuse an existing one, derive a missing `.pub`, or make a new ed25519 key with
//! ssh-keygen. Never overwrite anything; a file that is not a key is reported and left alone.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::exec::Cmd;
use crate::fsutil;
use crate::session::Session;
use crate::step::{Finding, Step};

/// A usable key pair, as later steps need it.
#[derive(Clone, Debug)]
pub struct KeyPair {
    pub private: PathBuf,
    pub public: PathBuf,
    /// `type blob comment`, one line.
    pub public_line: String,
    /// The base64 key blob: what identifies a key (the comment does not).
    pub blob: String,
    /// The private key has a passphrase.
    pub encrypted: bool,
}

/// Split `type blob [comment]` and return the blob, when the line looks like an OpenSSH public key.
pub fn public_blob(line: &str) -> Option<&str> {
    let mut words = line.split_whitespace();
    let kind = words.next()?;
    let blob = words.next()?;
    let looks_right =
        (kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-"))
            && blob.len() > 20
            && blob
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
    looks_right.then_some(blob)
}

/// The first line of a `.pub` file, trimmed.
fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The blob of the public key at `path`, when it is a regular file holding one.
pub fn read_public_blob(path: &Path) -> Option<String> {
    let bytes = fsutil::read_optional(path, MAX_KEY_BYTES).ok()??;
    public_blob(&first_line(&bytes)).map(str::to_string)
}

pub fn default_identity() -> PathBuf {
    fsutil::expand_tilde("~/.ssh/id_ed25519")
}

pub fn public_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// What setup would do about the key.
#[derive(Clone, Debug)]
enum Pending {
    Generate,
    /// Write the `.pub`; the line is known when the key has no passphrase.
    DerivePublic(Option<String>),
    Chmod,
}

pub struct KeyStep {
    /// `--identity`, or None for "the key ssh would use" (doctor): the first existing
    /// identity file `ssh -G` names, else ~/.ssh/id_ed25519.
    explicit: Option<PathBuf>,
    pub no_passphrase: bool,
    path: PathBuf,
    pending: Option<Pending>,
}

impl KeyStep {
    pub fn new(explicit: Option<PathBuf>, no_passphrase: bool) -> Self {
        // Absolute, so a path like `-D` can never reach a tool as an option.
        let explicit = explicit.map(|p| std::path::absolute(&p).unwrap_or(p));
        KeyStep {
            path: explicit.clone().unwrap_or_else(default_identity),
            explicit,
            no_passphrase,
            pending: None,
        }
    }

    fn choose(&self, s: &Session) -> PathBuf {
        if let Some(path) = &self.explicit {
            return path.clone();
        }
        s.resolved
            .iter()
            .flat_map(|r| r.identity_files.iter())
            .map(|f| fsutil::expand_tilde(f))
            .find(|p| p.is_file())
            .unwrap_or_else(default_identity)
    }
}

/// A private key is a few KiB; anything much larger is not one.
const MAX_KEY_BYTES: u64 = 1 << 20;

/// A private key file in any format OpenSSH reads starts with a PEM-style armour line.
fn looks_like_private_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    text.trim_start().starts_with("-----BEGIN ") && text.contains("PRIVATE KEY-----")
}

/// In OpenSSH's own format the body always begins with the base64 of "openssh-key-v1\0", whether
/// or not the key has a passphrase: armour around anything else is not a key.
fn openssh_body_ok(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let mut lines = text.lines().map(str::trim).skip_while(|l| l.is_empty());
    match lines.next() {
        Some("-----BEGIN OPENSSH PRIVATE KEY-----") => lines
            .next()
            .is_some_and(|l| l.starts_with("b3BlbnNzaC1rZXktdjE")),
        _ => true,
    }
}

impl Step for KeyStep {
    fn id(&self) -> String {
        "key".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        if self.explicit.is_some() {
            &[]
        } else {
            &["destination"]
        }
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        self.pending = None;
        s.key = None;
        self.path = self.choose(s);
        let path = &self.path;
        let shown = fsutil::tilde(path);
        let public = public_path(path);
        let shown_pub = fsutil::tilde(&public);
        let use_other =
            "pass --identity PATH with a real OpenSSH private key; rdock leaves this file as it is";
        match fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if public.exists() {
                    return Finding::fail(
                        "key",
                        format!("{shown_pub} exists but its private key {shown} does not"),
                        format!("restore {shown}, or pass --identity PATH to use another key"),
                    );
                }
                self.pending = Some(Pending::Generate);
                return Finding::fail(
                    "key",
                    format!("no key at {shown}"),
                    format!(
                        "ssh-keygen -t ed25519 -f {}",
                        crate::exec::quote(&path.to_string_lossy())
                    ),
                )
                .fixable();
            }
            Err(e) => {
                return Finding::fail("key", format!("cannot read {shown}: {e}"), use_other);
            }
            Ok(meta) if meta.is_dir() => {
                return Finding::fail(
                    "key",
                    format!("{shown} is a directory, not a key"),
                    use_other,
                );
            }
            Ok(_) => {}
        }
        let bytes = match fsutil::read_regular(path, MAX_KEY_BYTES) {
            Ok(b) => b,
            Err(e) => return Finding::fail("key", format!("cannot read {shown}: {e}"), use_other),
        };
        if !looks_like_private_key(&bytes) {
            return Finding::fail("key", format!("{shown} is not a private key"), use_other);
        }
        if !openssh_body_ok(&bytes) {
            return Finding::fail(
                "key",
                format!("{shown} is not a valid private key"),
                use_other,
            );
        }
        if let Some(mode) = fsutil::mode(path).filter(|m| m & 0o077 != 0) {
            let chmod = format!("chmod 600 {}", crate::exec::quote(&path.to_string_lossy()));
            let open =
                format!("{shown} is mode {mode:04o}; ssh ignores private keys others can read");
            // ssh-keygen refuses to read such a file; given the bytes on a pipe it checks them.
            // Only a key it has verified is chmod'ed; for anything else the user decides.
            let verify = Cmd::new("ssh-keygen")
                .args(["-y", "-P", "", "-f", "/dev/stdin"])
                .stdin(bytes);
            if s.exec.run(&verify).is_ok_and(|o| o.success()) {
                self.pending = Some(Pending::Chmod);
                return Finding::fail("key", open, chmod).fixable();
            }
            return Finding::fail(
                "key",
                format!("{open}, and rdock cannot verify it is a key (it may have a passphrase)"),
                format!("if it is your key: {chmod}; else pass --identity PATH"),
            );
        }
        // `-P ''` makes ssh-keygen answer at once: the key, or "incorrect passphrase".
        let probe = Cmd::new("ssh-keygen")
            .args(["-y", "-P", "", "-f"])
            .arg(path);
        let out = match s.exec.run(&probe) {
            Ok(out) => out,
            Err(e) => return Finding::fail("key", format!("{e:#}"), use_other),
        };
        let (encrypted, derived) = if out.success() {
            (false, Some(out.stdout.trim().to_string()))
        } else if out.stderr.contains("incorrect passphrase") {
            (true, None)
        } else {
            return Finding::fail(
                "key",
                format!(
                    "{shown} is not a valid private key ({})",
                    out.last_error_line()
                ),
                use_other,
            );
        };
        let public_line = match fsutil::read_optional(&public, MAX_KEY_BYTES) {
            Ok(Some(bytes)) => first_line(&bytes),
            Ok(None) => {
                self.pending = Some(Pending::DerivePublic(derived));
                return Finding::fail(
                    "key",
                    format!("{shown} has no {shown_pub}"),
                    format!(
                        "ssh-keygen -y -f {0} > {0}.pub",
                        crate::exec::quote(&path.to_string_lossy())
                    ),
                )
                .fixable();
            }
            Err(e) => {
                return Finding::fail("key", format!("cannot read {shown_pub}: {e}"), use_other)
            }
        };
        let Some(blob) = public_blob(&public_line).map(str::to_string) else {
            return Finding::fail(
                "key",
                format!("{shown_pub} is not a valid public key"),
                use_other,
            );
        };
        if let Some(derived) = derived.as_deref().and_then(public_blob) {
            if derived != blob {
                return Finding::fail(
                    "key",
                    format!("{shown_pub} does not belong to {shown}"),
                    format!("move {shown_pub} aside and rerun, or pass --identity PATH"),
                );
            }
        }
        let kind = public_line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
        s.key = Some(KeyPair {
            private: path.clone(),
            public,
            public_line,
            blob,
            encrypted,
        });
        let lock = if encrypted {
            "with a passphrase"
        } else {
            "no passphrase"
        };
        Finding::ok("key", format!("{shown} ({kind}, {lock})"))
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let path = self.path.clone();
        let shown = fsutil::tilde(&path);
        match self.pending.clone() {
            Some(Pending::Generate) => {
                let mut cmd = Cmd::new("ssh-keygen")
                    .args(["-q", "-t", "ed25519", "-f"])
                    .arg(&path)
                    .changes();
                if self.no_passphrase {
                    cmd = cmd.args(["-N", ""]);
                } else if s.ui.is_interactive() || s.exec.dry_run {
                    cmd = cmd.interactive();
                } else {
                    bail!(
                        "a new key needs a passphrase and there is no terminal to type it on; pass --no-passphrase (for scripts), or run rdock in a terminal"
                    );
                }
                if !s.exec.dry_run {
                    if let Some(dir) = path.parent() {
                        fsutil::create_private_dir(dir)?;
                    }
                }
                let out = s.exec.run(&cmd)?;
                if out.skipped {
                    return Ok(format!("would create {shown} with ssh-keygen -t ed25519"));
                }
                if !out.success() {
                    bail!("ssh-keygen failed: {}", out.last_error_line());
                }
                let how = if self.no_passphrase {
                    "no passphrase"
                } else {
                    "with your passphrase"
                };
                Ok(format!("created {shown} (ed25519, {how})"))
            }
            Some(Pending::DerivePublic(line)) => {
                let public = public_path(&path);
                let line = match line {
                    Some(line) => line,
                    None if s.exec.dry_run => String::new(),
                    None if s.ui.is_interactive() => {
                        let out = s
                            .exec
                            .run(&Cmd::new("ssh-keygen").args(["-y", "-f"]).arg(&path).interactive())?;
                        if !out.success() {
                            bail!("ssh-keygen -y failed: {}", out.last_error_line());
                        }
                        out.stdout.trim().to_string()
                    }
                    None => bail!(
                        "{shown} has a passphrase, so its public half needs it; run `ssh-keygen -y -f {shown} > {shown}.pub` in a terminal, then rerun"
                    ),
                };
                if s.exec.dry_run {
                    eprintln!("would write {} (from ssh-keygen -y)", public.display());
                    return Ok(format!("would write {}", fsutil::tilde(&public)));
                }
                fsutil::create_new(&public, format!("{line}\n").as_bytes(), 0o644)?;
                Ok(format!("wrote {} from {shown}", fsutil::tilde(&public)))
            }
            Some(Pending::Chmod) => {
                if s.exec.dry_run {
                    eprintln!("would run: chmod 600 {}", path.display());
                    return Ok(format!("would chmod 600 {shown}"));
                }
                set_private_mode(&path)?;
                Ok(format!("{shown} is now mode 0600"))
            }
            None => bail!("nothing to fix"),
        }
    }
}

#[cfg(unix)]
fn set_private_mode(path: &Path) -> Result<()> {
    use anyhow::Context as _;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

#[cfg(not(unix))]
fn set_private_mode(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_is_the_second_word_and_the_comment_does_not_matter() {
        let a =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe a@b";
        let b = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe other";
        assert_eq!(public_blob(a), public_blob(b));
        assert!(public_blob(a).is_some());
        assert_eq!(public_blob("not a key"), None);
        assert_eq!(public_blob(""), None);
    }

    #[test]
    fn private_key_armour_is_recognised() {
        assert!(looks_like_private_key(
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"
        ));
        assert!(looks_like_private_key(b"-----BEGIN RSA PRIVATE KEY-----\n"));
        assert!(!looks_like_private_key(b"garbage"));
        assert!(!looks_like_private_key(b"\x00\xff\xfe"));
        let real =
            b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n";
        assert!(openssh_body_ok(real));
        assert!(!openssh_body_ok(
            b"-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n"
        ));
        assert!(openssh_body_ok(
            b"-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n"
        ));
    }

    #[test]
    fn public_path_appends_pub() {
        assert_eq!(
            public_path(Path::new("/h/.ssh/id_ed25519")),
            PathBuf::from("/h/.ssh/id_ed25519.pub")
        );
    }
}
