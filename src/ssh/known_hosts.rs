//! Known hosts: where ssh looks for the remote's host key, whether it is there, and how an
//! unknown key is fetched (through ssh itself), shown by fingerprint and recorded. Nothing here accepts
//! a key by itself: the caller confirms first, and a changed key is never written.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

use crate::ssh::command::{Mode, Ssh};
use crate::ssh::connect::PROBE_TIMEOUT;
use crate::ssh::destination::Resolved;
use crate::ssh::keys::{fingerprint_cmd, parse_fingerprint};
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

/// How a known_hosts file vouches for a host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// A key of its own.
    Key,
    /// `@cert-authority`: the host is trusted through a CA that signs its certificate.
    CertAuthority,
}

/// What the known_hosts files ssh reads say about the host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lookup {
    /// The first file that trusts the host, and how.
    pub trusted: Option<(PathBuf, Trust)>,
    /// The first file that marks a key of the host `@revoked`.
    pub revoked: Option<PathBuf>,
}

/// Read `ssh-keygen -F NAME` output: every matching line, as the file holds it (after a `# Host
/// NAME found` comment); a marked line starts with `@revoked` or `@cert-authority`.
pub fn parse_lookup(stdout: &str) -> (Option<Trust>, bool) {
    let mut trust = None;
    let mut revoked = false;
    for line in stdout.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_whitespace().next() {
            Some("@revoked") => revoked = true,
            Some("@cert-authority") => trust = trust.or(Some(Trust::CertAuthority)),
            _ => trust = Some(Trust::Key),
        }
    }
    (trust, revoked)
}

/// The other name ssh looks a host certificate's CA up by: off port 22 and with no
/// HostKeyAlias, ssh tries the bare host name too ("checking without port identifier"), so
/// `@cert-authority host KEY` vouches for `[host]:2222` (measured, OpenSSH 9.2). Only a CA line
/// counts under it: a plain key line for `host` does not vouch for `[host]:2222`.
pub fn cert_authority_fallback_name(
    host_key_alias: Option<&str>,
    hostname: &str,
    port: u16,
) -> Option<String> {
    (host_key_alias.is_none() && port != 22).then(|| hostname.to_string())
}

/// Does `ssh-keygen -F NAME` output hold a `@cert-authority` line?
pub fn has_cert_authority(stdout: &str) -> bool {
    stdout
        .lines()
        .any(|l| l.split_whitespace().next() == Some("@cert-authority"))
}

/// Look the host up, under the name ssh uses, in every known_hosts file ssh reads
/// (`ssh-keygen -F` understands hashed entries and patterns), and for a CA under the bare host
/// name too ([`cert_authority_fallback_name`]).
pub fn lookup(exec: &Exec, env: &Env, r: &Resolved) -> Result<Lookup> {
    let (user, global) = known_hosts_files(env, r);
    let name = r.known_hosts_name();
    let bare = cert_authority_fallback_name(r.host_key_alias.as_deref(), &r.hostname, r.port);
    let mut found = Lookup::default();
    for file in user.into_iter().chain(global).filter(|f| f.is_file()) {
        let (mut trust, revoked) = lookup_in(exec, &file, &name)?;
        if let (None, Some(bare)) = (&trust, &bare) {
            let out = exec.run(&Cmd::new("ssh-keygen").args(["-F", bare, "-f"]).arg(&file))?;
            if out.success() && has_cert_authority(&out.stdout) {
                trust = Some(Trust::CertAuthority);
            }
        }
        if revoked && found.revoked.is_none() {
            found.revoked = Some(file.clone());
        }
        if let (Some(trust), None) = (trust, &found.trusted) {
            found.trusted = Some((file, trust));
        }
    }
    Ok(found)
}

/// What one known_hosts file says of `name` (see [`parse_lookup`]); nothing when the file does not
/// exist or holds no line for it.
pub fn lookup_in(exec: &Exec, file: &Path, name: &str) -> Result<(Option<Trust>, bool)> {
    if !file.is_file() {
        return Ok((None, false));
    }
    let out = exec.run(&Cmd::new("ssh-keygen").args(["-F", name, "-f"]).arg(file))?;
    Ok(if out.success() {
        parse_lookup(&out.stdout)
    } else {
        (None, false)
    })
}

/// ssh, as the docker CLI will run it (ProxyJump, ProxyCommand, HostKeyAlias and the port all
/// honoured), told to record an unknown host key in `file` and to try no authentication: it
/// writes the key under the name ssh looks it up by, then stops at auth. No control master, so
/// a real key exchange happens.
pub fn fetch_cmd(r: &Resolved, file: &Path) -> Cmd {
    Ssh::new(r.target(), Mode::FetchHostKey(file))
        .script("true")
        .cmd()
        .timeout(PROBE_TIMEOUT)
}

/// The prefix of the private temporary directory, beside known_hosts, that ssh records into.
pub const FETCH_DIR_PREFIX: &str = ".rdock-hostkey-";

/// The host's key as ssh receives it, as known_hosts lines under the name ssh looks it up by:
/// ssh records it in a private temporary file beside the known_hosts file.
pub fn fetch(exec: &Exec, env: &Env, r: &Resolved) -> Result<String> {
    let beside = first_user_file(env, r);
    let dir = beside.parent().unwrap_or(Path::new("."));
    fsutil::create_private_dir(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(FETCH_DIR_PREFIX)
        .tempdir_in(dir)
        .with_context(|| format!("cannot make a temporary directory in {}", dir.display()))?;
    let file = tmp.path().join("known_hosts");
    let out = exec.run(&fetch_cmd(r, &file))?;
    let text = fsutil::read_optional(&file, fsutil::MAX_TEXT_BYTES)?.unwrap_or_default();
    let lines: String = String::from_utf8_lossy(&text)
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    if lines.is_empty() {
        let why = match out.last_error_line() {
            line if line.is_empty() => "no answer".to_string(),
            line => line,
        };
        bail!("ssh got no host key from {} ({why})", r.address());
    }
    Ok(lines)
}

/// One host key, as ssh received it: its known_hosts line and its fingerprint.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_is_also_looked_up_under_the_bare_host_off_port_22() {
        assert_eq!(
            cert_authority_fallback_name(None, "127.0.0.1", 2222).as_deref(),
            Some("127.0.0.1")
        );
        // On port 22 the name ssh uses is already the bare one; a HostKeyAlias is used alone.
        assert_eq!(cert_authority_fallback_name(None, "127.0.0.1", 22), None);
        assert_eq!(
            cert_authority_fallback_name(Some("box"), "127.0.0.1", 2222),
            None
        );
    }

    #[test]
    fn only_a_cert_authority_line_counts_under_the_bare_name() {
        let ca = "# Host 127.0.0.1 found: line 1 CA\n@cert-authority 127.0.0.1 ssh-ed25519 AAAA\n";
        assert!(has_cert_authority(ca));
        let key = "# Host 127.0.0.1 found: line 1 \n127.0.0.1 ssh-ed25519 AAAA\n";
        assert!(!has_cert_authority(key));
        let revoked =
            "# Host 127.0.0.1 found: line 1 REVOKED\n@revoked 127.0.0.1 ssh-ed25519 AAAA\n";
        assert!(!has_cert_authority(revoked));
        assert!(!has_cert_authority(""));
    }

    /// u@box:2222 (10.0.0.5) with one known_hosts file, `file`, in a temporary home.
    fn box_with_file(home: &Path) -> (Resolved, Env, String) {
        let file = home.join(".ssh").join("known_hosts");
        let mut r = crate::ssh::destination::tests::resolved_box();
        r.user_known_hosts = vec![file.display().to_string()];
        r.global_known_hosts = Vec::new();
        let env = Env::new(crate::sys::platform::Platform::Linux, home);
        (r, env, file.display().to_string())
    }

    /// Off port 22 only a `@cert-authority` line under the bare host name vouches: ssh-keygen -F
    /// finds a plain key line there too (exit 0), and that is no key for [10.0.0.5]:2222.
    #[test]
    fn under_the_bare_name_only_a_cert_authority_line_vouches() {
        use crate::sys::exec::{Reply, Script};
        let home = tempfile::tempdir().unwrap();
        let (r, env, file) = box_with_file(home.path());
        std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
        std::fs::write(&file, "10.0.0.5 ssh-ed25519 AAAA\n").unwrap();
        let bare = |found: &str| {
            Exec::scripted(
                Script::new()
                    .on(
                        &["ssh-keygen", "-F", "[10.0.0.5]:2222", "-f", &file],
                        Reply::fail(1, ""),
                    )
                    .on(
                        &["ssh-keygen", "-F", "10.0.0.5", "-f", &file],
                        Reply::ok(found),
                    ),
            )
        };
        let plain = "# Host 10.0.0.5 found: line 1 \n10.0.0.5 ssh-ed25519 AAAA\n";
        assert_eq!(lookup(&bare(plain), &env, &r).unwrap(), Lookup::default());
        let ca = "# Host 10.0.0.5 found: line 1 CA\n@cert-authority 10.0.0.5 ssh-ed25519 AAAA\n";
        assert_eq!(
            lookup(&bare(ca), &env, &r).unwrap().trusted,
            Some((PathBuf::from(&file), Trust::CertAuthority))
        );
    }

    /// A fetch gives back the key lines of what ssh recorded and nothing else of that file.
    #[test]
    fn a_fetch_gives_only_the_key_lines_ssh_recorded() {
        use crate::sys::exec::{Reply, Script};
        let home = tempfile::tempdir().unwrap();
        let (r, env, _) = box_with_file(home.path());
        let ssh_dir = home.path().join(".ssh");
        let records =
            Reply::fail(255, "u@box: Permission denied (publickey).\n").effect(move || {
                for entry in std::fs::read_dir(&ssh_dir).into_iter().flatten().flatten() {
                    if entry
                        .file_name()
                        .to_string_lossy()
                        .starts_with(FETCH_DIR_PREFIX)
                    {
                        let text = "# a comment\n\n[10.0.0.5]:2222 ssh-ed25519 AAAA\n";
                        std::fs::write(entry.path().join("known_hosts"), text).unwrap();
                    }
                }
            });
        let exec = Exec::scripted(Script::new().on_prefix(&["ssh"], records));
        assert_eq!(
            fetch(&exec, &env, &r).unwrap(),
            "[10.0.0.5]:2222 ssh-ed25519 AAAA\n"
        );
    }

    #[test]
    fn a_fetch_that_records_no_key_says_what_ssh_said_or_that_it_said_nothing() {
        use crate::sys::exec::{Reply, Script};
        let home = tempfile::tempdir().unwrap();
        let (r, env, _) = box_with_file(home.path());
        for (stderr, why) in [
            ("", "(no answer)"),
            (
                "kex_exchange_identification: Connection closed by remote host\n",
                "(kex_exchange_identification: Connection closed by remote host)",
            ),
        ] {
            let exec = Exec::scripted(Script::new().on_prefix(&["ssh"], Reply::fail(255, stderr)));
            let err = fetch(&exec, &env, &r).unwrap_err().to_string();
            assert!(err.starts_with("ssh got no host key from "), "{err}");
            assert!(err.ends_with(why), "{err}");
        }
    }

    /// The fingerprints `ssh-keygen -l -F` prints for a host (as OpenSSH 9.2 prints them).
    #[test]
    fn the_known_fingerprints_are_read_from_ssh_keygen_l_f() {
        use crate::sys::exec::{Reply, Script};
        let fp = "SHA256:oHqoNhrcjqcli1sOZ7bwi2vjgtVIJPHJnQHTukP8cHU";
        let said = format!("# Host [10.0.0.5]:2222 found: line 1 \n[10.0.0.5]:2222 ED25519 {fp}\n");
        let exec = Exec::scripted(Script::new().on(
            &[
                "ssh-keygen",
                "-l",
                "-F",
                "[10.0.0.5]:2222",
                "-f",
                "/h/known_hosts",
            ],
            Reply::ok(said),
        ));
        let file = Path::new("/h/known_hosts");
        assert_eq!(
            known_fingerprints(&exec, file, "[10.0.0.5]:2222").unwrap(),
            [fp]
        );
    }

    /// `--host-key` takes what ssh prints: `SHA256:` and 43 characters of base64 without padding.
    #[test]
    fn a_sha256_fingerprint_is_the_prefix_and_43_base64_characters() {
        let b64 = "oHqoNhrcjqcli1sOZ7bwi2vjgtVIJPHJnQHTukP8cHU";
        assert!(is_sha256_fingerprint(&format!("SHA256:{b64}")));
        assert!(is_sha256_fingerprint(&format!("SHA256:+/{}", &b64[2..])));
        for not in [
            format!("SHA256:{b64}="),
            format!("SHA256:{}", &b64[1..]),
            format!("SHA256:-{}", &b64[1..]),
            format!("MD5:{b64}"),
            b64.to_string(),
        ] {
            assert!(!is_sha256_fingerprint(&not), "{not}");
        }
    }

    /// Lines are appended on a line of their own, whether or not the file ended with a newline.
    #[test]
    fn appended_lines_start_on_a_line_of_their_own() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("known_hosts");
        for (before, after) in [("a\n", "a\nb\n"), ("a", "a\nb\n"), ("", "b\n")] {
            std::fs::write(&file, before).unwrap();
            append(&file, "b\n").unwrap();
            assert_eq!(std::fs::read_to_string(&file).unwrap(), after, "{before:?}");
        }
    }
}
