//! Known hosts: the remote's host key must be in a known_hosts file `ssh -G` names, because the
//! docker CLI runs ssh with no terminal to confirm it. An unknown key is fetched with
//! ssh-keyscan, shown by fingerprint and confirmed; a changed key is never accepted.

use std::path::PathBuf;

use anyhow::{bail, Context as _, Result};

use crate::destination::Resolved;
use crate::exec::Cmd;
use crate::fsutil;
use crate::remote::{self, Connect};
use crate::session::Session;
use crate::step::{Finding, Step};

/// Where ssh looks: the user files first (rdock writes to the first), then the global ones.
pub fn known_hosts_files(r: &Resolved) -> (Vec<PathBuf>, Vec<PathBuf>) {
    let expand = |v: &Vec<String>| {
        v.iter()
            .map(|f| fsutil::expand_tilde(f))
            .collect::<Vec<_>>()
    };
    (expand(&r.user_known_hosts), expand(&r.global_known_hosts))
}

/// The first file that holds a key for `name` (`ssh-keygen -F` understands hashed entries).
pub fn find_known(s: &Session, r: &Resolved) -> Result<Option<PathBuf>> {
    let (user, global) = known_hosts_files(r);
    let name = r.known_hosts_name();
    for file in user.into_iter().chain(global).filter(|f| f.is_file()) {
        let out = s
            .exec
            .run(&Cmd::new("ssh-keygen").args(["-F", &name, "-f"]).arg(&file))?;
        if out.success() && !out.stdout.trim().is_empty() {
            return Ok(Some(file));
        }
    }
    Ok(None)
}

pub struct HostKeyStep {
    /// `--accept-host-key` or `--yes`.
    pub accept: bool,
}

impl Step for HostKeyStep {
    fn id(&self) -> String {
        "host-key".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["connection"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "host-key";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        let name = r.known_hosts_name();
        let file = match find_known(s, &r) {
            Ok(Some(file)) => file,
            Ok(None) => {
                return Finding::fail(
                    id,
                    format!("the host key of {name} is not in known_hosts"),
                    format!(
                        "rdock setup {} shows its fingerprint and asks (--accept-host-key without a terminal), or connect once with `ssh -p {} {}@{}` and check the fingerprint",
                        r.dest, r.port, r.user, r.dest.host_for_url()
                    ),
                )
                .fixable();
            }
            Err(e) => return Finding::fail(id, format!("{e:#}"), "check that ssh-keygen works"),
        };
        // Known is not enough: the key must also be the one the server presents now.
        if let Ok(p) = remote::probe(s) {
            if let Connect::HostKeyChanged(warning) = p.connect {
                return Finding::fail(
                    id,
                    format!(
                        "the host key of {name} CHANGED since it was saved in {}: someone may be intercepting the connection, or the server was reinstalled",
                        fsutil::tilde(&file)
                    ),
                    format!(
                        "ask the server's admin for its new fingerprint; only when it matches, remove the old key with: ssh-keygen -R '{name}' -f {}",
                        crate::exec::quote(&file.to_string_lossy())
                    ),
                )
                .detail(warning);
            }
        }
        Finding::ok(
            id,
            format!("the host key of {name} is known ({})", fsutil::tilde(&file)),
        )
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let Some(r) = s.resolved.clone() else {
            bail!("no destination");
        };
        let name = r.known_hosts_name();
        let scan = Cmd::new("ssh-keyscan")
            .args([
                "-p",
                &r.port.to_string(),
                "-T",
                &remote::CONNECT_TIMEOUT.to_string(),
                "--",
            ])
            .arg(&r.hostname)
            .timeout(remote::PROBE_TIMEOUT);
        let out = s.ui.spin(&format!("fetching the host key of {name}"), || {
            s.exec.run(&scan)
        })?;
        let keys: Vec<(String, String)> = out
            .stdout
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                let (_, kind, blob) = (w.next()?, w.next()?, w.next()?);
                Some((kind.to_string(), blob.to_string()))
            })
            .collect();
        if keys.is_empty() {
            let why = match out.last_error_line() {
                line if line.is_empty() => "no answer".to_string(),
                line => line,
            };
            bail!(
                "ssh-keyscan got no host key from {}:{} ({why})",
                r.hostname,
                r.port
            );
        }
        let lines: String = keys
            .iter()
            .map(|(k, b)| format!("{name} {k} {b}\n"))
            .collect();
        let prints = s.exec.run(
            &Cmd::new("ssh-keygen")
                .args(["-l", "-f", "-"])
                .stdin(lines.clone()),
        )?;
        eprintln!("The host key of {name} is not known yet. ssh-keyscan found:");
        for line in prints.stdout.lines() {
            // "256 SHA256:… name (ED25519)" -> "ED25519 SHA256:…"
            let w: Vec<&str> = line.split_whitespace().collect();
            if let (Some(fp), Some(kind)) = (w.get(1), w.last()) {
                eprintln!("  {} {fp}", kind.trim_matches(|c| c == '(' || c == ')'));
            }
        }
        let first = known_hosts_files(&r)
            .0
            .into_iter()
            .next()
            .unwrap_or_else(|| fsutil::expand_tilde("~/.ssh/known_hosts"));
        if s.exec.dry_run {
            return Ok(format!(
                "would add the host key of {name} to {} once you confirm its fingerprint",
                fsutil::tilde(&first)
            ));
        }
        if !s.ui.confirm(
            "Do these fingerprints match the server's?",
            self.accept,
            "--accept-host-key",
        )? {
            bail!("the host key of {name} was not accepted (you said no)");
        }
        let entries = if r.hash_known_hosts {
            hash_entries(s, &lines)?
        } else {
            lines
        };
        append(&first, &entries)?;
        // The probe ran before the key was known: its answer is stale now.
        s.probe = None;
        Ok(format!(
            "added the host key of {name} to {}",
            fsutil::tilde(&first)
        ))
    }
}

/// Hash host names as ssh does when HashKnownHosts is on, with ssh-keygen -H on a private copy.
fn hash_entries(s: &Session, lines: &str) -> Result<String> {
    let dir = tempfile::tempdir().context("cannot make a temporary directory")?;
    let file = dir.path().join("known_hosts");
    std::fs::write(&file, lines)?;
    let out = s
        .exec
        .run(&Cmd::new("ssh-keygen").arg("-H").arg("-f").arg(&file))?;
    if !out.success() {
        bail!("ssh-keygen -H failed: {}", out.last_error_line());
    }
    Ok(std::fs::read_to_string(&file)?)
}

/// Append lines to a known_hosts file atomically (the old contents are kept byte for byte).
fn append(file: &std::path::Path, lines: &str) -> Result<()> {
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
