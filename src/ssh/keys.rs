//! The key pair: what a key file is, its public half and its blob, and what ssh-keygen says about
//! it (it runs here; what its answers mean for setup is the key step's to judge). Nothing here
//! overwrites a file.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::ssh::destination::Resolved;
use crate::sys::env::Env;
use crate::sys::exec::{Cmd, Exec, Output};
use crate::sys::fsutil;

/// A usable key pair, as later steps need it.
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The identity file ssh is given (`-i`, `IdentityFile`): the private key file, or the public
    /// key file of a key whose private half only an agent holds.
    pub identity: PathBuf,
    /// The private key file; None when there is none: the identity file is a public key and the
    /// agent ssh asks holds the private key (1Password's SSH agent, a hardware token's agent).
    /// Nothing that reads key files (ssh-add, paramiko) can use such a key.
    pub private: Option<PathBuf>,
    pub public: PathBuf,
    /// `type blob comment`, one line.
    pub public_line: String,
    /// The base64 key blob: what identifies a key (the comment does not).
    pub blob: String,
    /// The private key file has a passphrase; false when there is no file (nothing to decrypt).
    pub encrypted: bool,
}

/// Is this the text of an OpenSSH public key file (`type blob comment` on its first line)? Then
/// ssh, given it as an identity file, offers the agent's copy of that key.
pub fn public_key_text(bytes: &[u8]) -> Option<(String, String)> {
    let line = first_line(bytes);
    let blob = public_blob(&line)?.to_string();
    Some((line, blob))
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
pub fn first_line(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// The first line of the public key at `path`, when it is a regular file holding one.
pub fn read_public_line(path: &Path) -> Option<String> {
    let bytes = fsutil::read_optional(path, MAX_KEY_BYTES).ok()??;
    let line = first_line(&bytes);
    public_blob(&line).is_some().then_some(line)
}

/// The blob of the public key at `path`, when it is a regular file holding one.
pub fn read_public_blob(path: &Path) -> Option<String> {
    public_blob(&read_public_line(path)?).map(str::to_string)
}

/// `ssh-keygen -l` of one public key line (a key, or a known_hosts entry) given on stdin.
pub fn fingerprint_cmd(line: &str) -> Cmd {
    Cmd::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(format!("{line}\n"))
}

/// The type and the SHA256 fingerprint in ssh-keygen -l's answer ("256 SHA256:… comment
/// (ED25519)"): ("ED25519", "SHA256:…").
pub fn parse_fingerprint(stdout: &str) -> Option<(String, String)> {
    let words: Vec<&str> = stdout.split_whitespace().collect();
    let fingerprint = words.iter().find(|w| w.starts_with("SHA256:"))?;
    let kind = words.last()?.trim_matches(|c| c == '(' || c == ')');
    Some((kind.to_string(), fingerprint.to_string()))
}

/// A public key as a person can check it: `ED25519 SHA256:…`, or, when ssh-keygen cannot say,
/// its type and the end of its blob (`ssh-ed25519 …J/CWe`).
pub fn describe(exec: &Exec, public_line: &str) -> String {
    let answer = exec.run(&fingerprint_cmd(public_line)).ok();
    match answer.and_then(|out| parse_fingerprint(&out.stdout)) {
        Some((kind, fingerprint)) => format!("{kind} {fingerprint}"),
        None => short(public_line).0,
    }
}

/// A public key line, short: its type and the end of its blob (`ssh-ed25519 …J/CWe`), and its
/// comment.
pub fn short(line: &str) -> (String, String) {
    let mut words = line.split_whitespace();
    let kind = words.next().unwrap_or("key");
    let blob = words.next().unwrap_or("");
    let tail: String = blob
        .chars()
        .skip(blob.chars().count().saturating_sub(12))
        .collect();
    (
        format!("{kind} …{tail}"),
        words.collect::<Vec<_>>().join(" "),
    )
}

/// A key the agent holds, for a list: `agent holds: ssh-ed25519 …J/CWe comment`.
pub fn agent_holds_line(line: &str) -> String {
    match short(line) {
        (key, comment) if comment.is_empty() => format!("agent holds: {key}"),
        (key, comment) => format!("agent holds: {key} {comment}"),
    }
}

/// Does a list of public key lines (`ssh-add -L`) hold the key with this blob?
pub fn holds(lines: &[String], blob: &str) -> bool {
    lines.iter().any(|l| public_blob(l) == Some(blob))
}

/// Can ssh offer this key without asking anyone: the agent holds it (`agent_keys`, from `ssh-add
/// -L`), or the private key file opens without a passphrase?
pub fn can_offer(exec: &Exec, agent_keys: &[String], private: &Path, blob: &str) -> bool {
    holds(agent_keys, blob)
        || exec
            .run(&unlock_cmd(private))
            .is_ok_and(|out| out.success() && public_blob(out.stdout.trim()) == Some(blob))
}

// ssh-keygen: run here, its answers read into values

/// `ssh-keygen -y -P '' -f KEY`: the public half, asked with an empty passphrase, so that
/// ssh-keygen answers at once: the key, or "incorrect passphrase".
pub fn unlock_cmd(private: &Path) -> Cmd {
    Cmd::new("ssh-keygen")
        .args(["-y", "-P", "", "-f"])
        .arg(private)
}

/// What ssh-keygen makes of a private key file, asked with no passphrase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unlock {
    /// It opens with no passphrase: its public key line, as ssh-keygen derives it.
    Open(String),
    /// It has a passphrase (ssh-keygen: "incorrect passphrase").
    Passphrase,
    /// ssh-keygen refuses it as a key: its last error line.
    Refused(String),
}

impl Unlock {
    /// What `ssh-keygen -y -P ''` printed.
    pub fn read(out: &Output) -> Self {
        if out.success() {
            Unlock::Open(out.stdout.trim().to_string())
        } else if out.stderr.contains("incorrect passphrase") {
            Unlock::Passphrase
        } else {
            Unlock::Refused(out.last_error_line())
        }
    }
}

/// Ask ssh-keygen whether the private key file opens with no passphrase. Err: it could not run.
pub fn unlock(exec: &Exec, private: &Path) -> Result<Unlock> {
    Ok(Unlock::read(&exec.run(&unlock_cmd(private))?))
}

/// Do these bytes open as a private key with no passphrase? ssh-keygen refuses to read a key file
/// others can read; given the bytes on a pipe it checks them.
pub fn opens_on_a_pipe(exec: &Exec, bytes: Vec<u8>) -> bool {
    let cmd = Cmd::new("ssh-keygen")
        .args(["-y", "-P", "", "-f", "/dev/stdin"])
        .stdin(bytes);
    exec.run(&cmd).is_ok_and(|o| o.success())
}

/// `ssh-keygen` for a new ed25519 key at `path`: with `-N ''` when it gets no passphrase, else on
/// the terminal, where ssh-keygen asks for one.
pub fn generate_cmd(path: &Path, no_passphrase: bool) -> Cmd {
    let cmd = Cmd::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-f"])
        .arg(path)
        .changes();
    if no_passphrase {
        cmd.args(["-N", ""])
    } else {
        cmd.interactive()
    }
}

/// `ssh-keygen -y -f KEY`: the public half of a private key.
pub fn derive_cmd(path: &Path) -> Cmd {
    Cmd::new("ssh-keygen").args(["-y", "-f"]).arg(path)
}

/// ssh-keygen ran and refused: what it was asked to do, and its last error line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{what} failed: {line}")]
pub struct KeygenFailed {
    pub what: &'static str,
    pub line: String,
}

impl KeygenFailed {
    fn unless_success(what: &'static str, out: &Output) -> std::result::Result<(), Self> {
        if out.success() {
            return Ok(());
        }
        Err(KeygenFailed {
            what,
            line: out.last_error_line(),
        })
    }
}

/// Make the new key `cmd` ([`generate_cmd`]) describes. Err: ssh-keygen could not run, or
/// [`KeygenFailed`].
pub fn generate(exec: &Exec, cmd: &Cmd) -> Result<()> {
    let out = exec.run(cmd)?;
    KeygenFailed::unless_success("ssh-keygen", &out)?;
    Ok(())
}

/// The public key line of the private key at `path`, its passphrase typed on the terminal. Err:
/// ssh-keygen could not run, or [`KeygenFailed`].
pub fn derive_public(exec: &Exec, path: &Path) -> Result<String> {
    let out = exec.run(&derive_cmd(path).interactive())?;
    KeygenFailed::unless_success("ssh-keygen -y", &out)?;
    Ok(out.stdout.trim().to_string())
}

/// The key rdock makes when there is none: `~/.ssh/id_ed25519`.
pub fn default_identity(env: &Env) -> PathBuf {
    env.expand("~/.ssh/id_ed25519")
}

/// The key ssh will offer, which is the key rdock checks, loads and installs: `explicit`
/// (`--identity`) first; then the first identity file ssh will try that exists, in ssh's order;
/// when none exists, where a new key goes: the first `IdentityFile` ssh_config names, else
/// `~/.ssh/id_ed25519`. When that file is missing and its `.pub` is there, the `.pub`: ssh, given
/// `IdentityFile X` with X gone, reads X.pub and offers the agent's copy of that key, while
/// `-i X` (how the probe names the key) refuses X as "not accessible"; `-i X.pub` works (measured,
/// OpenSSH 9.2).
pub fn offered_key(r: &Resolved, explicit: Option<&Path>, env: &Env) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    let files = r.identity_files.iter().map(|f| env.expand(f));
    if let Some(existing) = files.clone().find(|p| p.is_file()) {
        return existing;
    }
    let chosen = match files.clone().next() {
        Some(configured) if r.identity_file_configured => configured,
        _ => default_identity(env),
    };
    let public = public_path(&chosen);
    if !chosen.exists() && public.is_file() {
        public
    } else {
        chosen
    }
}

pub fn public_path(private: &Path) -> PathBuf {
    let mut s = private.as_os_str().to_owned();
    s.push(".pub");
    PathBuf::from(s)
}

/// The first folder above `key` that others (group or world) can write, with its mode: the key's
/// own folder, then each one above it up to the home folder (only its own folder for a key outside
/// home). Whoever can write such a folder can replace the key, or the config beside it; sshd's
/// StrictModes refuses the same folders on its side (OpenSSH's `secure_path`: mode & 022).
pub fn open_folder(key: &Path, home: Option<&Path>) -> Option<(PathBuf, u32)> {
    let inside = |dir: &Path| home.is_some_and(|h| dir.starts_with(h));
    for dir in key.ancestors().skip(1) {
        if dir.as_os_str().is_empty() {
            break;
        }
        if let Some(mode) = fsutil::mode(dir).filter(|m| m & 0o022 != 0) {
            return Some((dir.to_path_buf(), mode));
        }
        if !inside(dir) || home == Some(dir) {
            break;
        }
    }
    None
}

/// A private key is a few KiB; anything much larger is not one.
pub const MAX_KEY_BYTES: u64 = 1 << 20;

/// A private key file in any format OpenSSH reads starts with a PEM-style armour line.
pub fn looks_like_private_key(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    text.trim_start().starts_with("-----BEGIN ") && text.contains("PRIVATE KEY-----")
}

/// In OpenSSH's own format the body always begins with the base64 of "openssh-key-v1\0", whether
/// or not the key has a passphrase: armour around anything else is not a key.
pub fn openssh_body_ok(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]);
    let mut lines = text.lines().map(str::trim).skip_while(|l| l.is_empty());
    match lines.next() {
        Some("-----BEGIN OPENSSH PRIVATE KEY-----") => lines
            .next()
            .is_some_and(|l| l.starts_with("b3BlbnNzaC1rZXktdjE")),
        _ => true,
    }
}

#[cfg(unix)]
pub fn set_private_mode(path: &Path) -> Result<()> {
    use anyhow::Context as _;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("cannot chmod {}", path.display()))
}

#[cfg(not(unix))]
pub fn set_private_mode(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_folder_others_can_write_above_a_key_is_found_up_to_home() {
        use std::os::unix::fs::PermissionsExt;
        let root = tempfile::tempdir().unwrap();
        let home = root.path().join("home");
        let ssh = home.join(".ssh");
        std::fs::create_dir_all(&ssh).unwrap();
        let chmod = |p: &Path, m: u32| {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
        };
        chmod(&home, 0o755);
        chmod(&ssh, 0o700);
        let key = ssh.join("id_ed25519");
        assert_eq!(open_folder(&key, Some(&home)), None);
        chmod(&home, 0o777);
        assert_eq!(open_folder(&key, Some(&home)), Some((home.clone(), 0o777)));
        // Not a folder missing yet, and not above home.
        assert_eq!(
            open_folder(&home.join("new/key"), Some(&home)),
            Some((home.clone(), 0o777))
        );
        chmod(&home, 0o755);
        chmod(root.path(), 0o777);
        assert_eq!(
            open_folder(&key, Some(&home)),
            None,
            "above home is not ours"
        );
        chmod(&ssh, 0o770);
        assert_eq!(open_folder(&key, Some(&home)), Some((ssh.clone(), 0o770)));
        chmod(&ssh, 0o700);
        // A key outside home: its own folder only.
        assert_eq!(open_folder(&home.join("k"), None), None);
        chmod(root.path(), 0o700);
    }

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
