//! Known hosts: where ssh looks for the remote's host key, whether it is there, and how an
//! unknown key is fetched (ssh-keyscan), shown by fingerprint and recorded. Nothing here accepts
//! a key by itself: the caller confirms first, and a changed key is never written.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::ssh::destination::Resolved;
use crate::ssh::keys::{fingerprint_cmd, parse_fingerprint};
use crate::ssh::probe;
use crate::sys::env::Env;
use crate::sys::exec::{Cmd, Exec};
use crate::sys::fsutil;

/// Where ssh looks: the user files first (rdock writes to the first), then the global ones.
pub fn known_hosts_files(env: &Env, r: &Resolved) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let expand = |v: &Vec<String>| v.iter().map(|f| env.expand(f)).collect::<Vec<_>>();
    (expand(&r.user_known_hosts), expand(&r.global_known_hosts))
}

/// The file new entries go to: the first user known_hosts file.
pub fn first_user_file(env: &Env, r: &Resolved) -> PathBuf {
    known_hosts_files(env, r)
        .0
        .into_iter()
        .next()
        .unwrap_or_else(|| env.expand("~/.ssh/known_hosts"))
}

/// The first file that holds a key for `name` (`ssh-keygen -F` understands hashed entries).
pub fn find_known(exec: &Exec, env: &Env, r: &Resolved) -> Result<Option<PathBuf>> {
    let (user, global) = known_hosts_files(env, r);
    let name = r.known_hosts_name();
    for file in user.into_iter().chain(global).filter(|f| f.is_file()) {
        let out = exec.run(&Cmd::new("ssh-keygen").args(["-F", &name, "-f"]).arg(&file))?;
        if out.success() && !out.stdout.trim().is_empty() {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

/// `ssh-keyscan` for the host's keys, straight to HostName:Port.
pub fn scan_cmd(r: &Resolved) -> Cmd {
    Cmd::new("ssh-keyscan")
        .args([
            "-p",
            &r.port.to_string(),
            "-T",
            &probe::CONNECT_TIMEOUT.to_string(),
            "--",
        ])
        .arg(&r.hostname)
        .timeout(probe::PROBE_TIMEOUT)
}

/// The host's keys as known_hosts lines under the name ssh looks them up by.
pub fn scan(exec: &Exec, r: &Resolved) -> Result<String> {
    let out = exec.run(&scan_cmd(r))?;
    let name = r.known_hosts_name();
    let lines: String = out
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let (_, kind, blob) = (w.next()?, w.next()?, w.next()?);
            Some(format!("{name} {kind} {blob}\n"))
        })
        .collect();
    if lines.is_empty() {
        let why = match out.last_error_line() {
            line if line.is_empty() => "no answer".to_string(),
            line => line,
        };
        bail!("ssh-keyscan got no host key from {} ({why})", r.address());
    }
    Ok(lines)
}

/// One host key, as ssh-keyscan found it: its known_hosts line and its fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostKey {
    /// `name type blob`, with a newline.
    pub line: String,
    /// "ED25519"
    pub kind: String,
    /// "SHA256:…", as ssh-keygen -l prints it.
    pub fingerprint: String,
}

/// The fingerprint of each known_hosts line, as `ssh-keygen -l` computes it.
pub fn fingerprints(exec: &Exec, lines: &str) -> Result<Vec<HostKey>> {
    let mut keys = Vec::new();
    for line in lines.lines().filter(|l| !l.trim().is_empty()) {
        let out = exec.run(&fingerprint_cmd(line))?;
        let Some((kind, fingerprint)) = parse_fingerprint(&out.stdout) else {
            bail!(
                "ssh-keygen -l cannot read the host key {line:?}: {}",
                out.last_error_line()
            );
        };
        keys.push(HostKey {
            line: format!("{line}\n"),
            kind,
            fingerprint,
        });
    }
    Ok(keys)
}

/// The SHA256 fingerprints of the keys `file` holds for `name` (hashed entries included).
pub fn known_fingerprints(exec: &Exec, file: &Path, name: &str) -> Result<Vec<String>> {
    let out = exec.run(
        &Cmd::new("ssh-keygen")
            .args(["-l", "-F", name, "-f"])
            .arg(file),
    )?;
    Ok(out
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#'))
        .flat_map(str::split_whitespace)
        .filter(|w| w.starts_with("SHA256:"))
        .map(str::to_string)
        .collect())
}

/// Is `text` a SHA256 fingerprint as ssh prints them (`SHA256:` and 43 base64 characters)?
pub fn is_sha256_fingerprint(text: &str) -> bool {
    text.strip_prefix("SHA256:").is_some_and(|b64| {
        b64.len() == 43
            && b64
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    })
}

/// Record known_hosts lines in `file`, hashed first when `hash` (HashKnownHosts yes).
pub fn record(exec: &Exec, file: &Path, lines: &str, hash: bool) -> Result<()> {
    let dir = file.parent().unwrap_or(Path::new("."));
    fsutil::create_private_dir(dir)?;
    let entries = if hash {
        hash_entries(exec, dir, lines)?
    } else {
        lines.to_string()
    };
    append(file, &entries)
}

/// Hash host names as ssh does when HashKnownHosts is on, with ssh-keygen -H on a private copy
/// in a private temporary directory beside the known_hosts file (never in a shared /tmp).
fn hash_entries(exec: &Exec, beside: &Path, lines: &str) -> Result<String> {
    let dir = tempfile::Builder::new()
        .prefix(".rdock-hash-")
        .tempdir_in(beside)
        .with_context(|| format!("cannot make a temporary directory in {}", beside.display()))?;
    let file = dir.path().join("known_hosts");
    std::fs::write(&file, lines)?;
    let out = exec.run(&Cmd::new("ssh-keygen").arg("-H").arg("-f").arg(&file))?;
    if !out.success() {
        bail!("ssh-keygen -H failed: {}", out.last_error_line());
    }
    Ok(std::fs::read_to_string(&file)?)
}

/// Append lines to a known_hosts file atomically (the old contents are kept byte for byte).
fn append(file: &Path, lines: &str) -> Result<()> {
    if let Some(dir) = file.parent() {
        fsutil::create_private_dir(dir)?;
    }
    let mut contents = fsutil::read_optional(file, fsutil::MAX_TEXT_BYTES)
        .with_context(|| format!("cannot read {}", file.display()))?
        .unwrap_or_default();
    if !contents.is_empty() && !contents.ends_with(b"\n") {
        contents.push(b'\n');
    }
    contents.extend_from_slice(lines.as_bytes());
    fsutil::write_atomic(file, &contents, 0o644)
}
