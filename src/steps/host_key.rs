//! The remote's host key must be in a known_hosts file `ssh -G` names, because the docker CLI
//! runs ssh with no terminal to confirm it. An unknown key is fetched, shown by fingerprint and
//! confirmed; a changed key is never accepted.

use anyhow::{bail, Result};

use crate::ssh::destination::Resolved;
use crate::ssh::known_hosts::{self, HostKey, Trust};
use crate::ssh::probe::Connect;
use crate::sys::exec::quote;

use super::{remote, Finding, Kind, Outcome, Session, Step, Want};

pub struct HostKeyStep {
    /// `--accept-host-key`: trust an unknown key unseen.
    pub accept: bool,
    /// `--host-key`: an unknown key is trusted when its fingerprint is one of these.
    pub pinned: Vec<String>,
}

/// What to pass when there is no terminal to confirm a fingerprint on.
const TRUST_FLAGS: &str =
    "--host-key SHA256:… (the server's fingerprint) or --accept-host-key (trust on first use)";

impl Step for HostKeyStep {
    fn kind(&self) -> Kind {
        Kind::HostKey
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Probe]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "host-key";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        let name = r.known_hosts_name();
        let found = match known_hosts::lookup(&s.exec, &s.env, &r) {
            Ok(found) => found,
            Err(e) => return Finding::fail(id, format!("{e:#}"), "check that ssh-keygen works"),
        };
        let env = s.env.clone();
        let unknown = |message: String| {
            Finding::fail(
                id,
                message,
                format!(
                    "rdock setup {} shows its fingerprint and asks (without a terminal: --host-key SHA256:… or --accept-host-key), or connect once with `ssh {}` and check the fingerprint",
                    r.dest, r.login_args()
                ),
            )
            .fixable()
        };
        let revoked = |file: &std::path::Path| {
            Finding::fail(
                id,
                format!(
                    "the host key of {name} is marked @revoked in {}: ssh refuses it",
                    env.tilde(file)
                ),
                format!(
                    "the server's admin must replace its revoked host key; then `rdock setup {}` shows the new fingerprint and asks",
                    r.dest
                ),
            )
        };
        let (file, trust) = match found.trusted {
            Some(trusted) => trusted,
            None => {
                if let Some(file) = &found.revoked {
                    return revoked(file);
                }
                return unknown(format!("the host key of {name} is not in known_hosts"));
            }
        };
        // A revoked key beside a trusted one: only the probe tells which one the server presents.
        if let Some(file) = &found.revoked {
            if let Ok(p) = remote::probe(s) {
                if matches!(p.connect, Connect::HostKeyUnknown(_)) {
                    return revoked(file);
                }
            }
        }
        if trust == Trust::CertAuthority {
            // A CA line names the host, but only the server's certificate proves it signed the
            // key presented: the probe says whether ssh accepted it.
            let presented = remote::probe(s).ok().map(|p| p.connect.clone());
            match presented {
                Some(Connect::HostKeyUnknown(_)) => {
                    return unknown(format!(
                        "a @cert-authority in {} names {name}, but the server presents a key it has not signed (no host certificate for that name)",
                        s.env.tilde(&file)
                    ))
                }
                // The changed-key check below says it.
                Some(Connect::HostKeyChanged(_)) => {}
                _ => {
                    return Finding::ok(
                        id,
                        format!(
                            "the host key of {name} is trusted through a @cert-authority in {}",
                            s.env.tilde(&file)
                        ),
                    )
                }
            }
        }
        // Known is not enough: the key must also be the one the server presents now.
        if let Ok(p) = remote::probe(s) {
            if let Connect::HostKeyChanged(warning) = p.connect {
                return Finding::fail(
                    id,
                    format!(
                        "the host key of {name} CHANGED since it was saved in {}: someone may be intercepting the connection, or the server was reinstalled",
                        s.env.tilde(&file)
                    ),
                    format!(
                        "ask the server's admin for its new fingerprint; only when it matches, remove the old key with: ssh-keygen -R '{name}' -f {}",
                        quote(&file.to_string_lossy())
                    ),
                )
                .detail(warning);
            }
        }
        if !self.pinned.is_empty() {
            let known = known_hosts::known_fingerprints(&s.exec, &file, &name).unwrap_or_default();
            if !known.iter().any(|fp| self.pinned.contains(fp)) {
                return Finding::fail(
                    id,
                    format!(
                        "{} already holds a host key of {name} ({}), and it matches no --host-key",
                        s.env.tilde(&file),
                        known.join(", ")
                    ),
                    "check the fingerprint you were given; rdock never replaces a known host key",
                );
            }
        }
        Finding::ok(
            id,
            format!("the host key of {name} is known ({})", s.env.tilde(&file)),
        )
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(r) = s.resolved.clone() else {
            bail!("no destination");
        };
        let name = r.known_hosts_name();
        let lines = s
            .term
            .spin(&format!("fetching the host key of {name}"), || {
                known_hosts::fetch(&s.exec, &s.env, &r)
            })?;
        let keys = known_hosts::fingerprints(&s.exec, &lines)?;
        let presented = |keys: &[HostKey]| -> String {
            keys.iter()
                .map(|k| format!("{} {}", k.kind, k.fingerprint))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let trusted: Vec<HostKey> = if self.pinned.is_empty() {
            let shown: Vec<String> = std::iter::once(format!(
                "The host key of {name} is not known yet. ssh received:"
            ))
            .chain(
                keys.iter()
                    .map(|k| format!("  {} {}", k.kind, k.fingerprint)),
            )
            .collect();
            let question = "Do these fingerprints match the server's?";
            if let Some(no) = s.consent(&shown, question, self.accept, TRUST_FLAGS) {
                return Ok(no);
            }
            keys
        } else {
            let matching: Vec<HostKey> = keys
                .iter()
                .filter(|k| self.pinned.contains(&k.fingerprint))
                .cloned()
                .collect();
            if matching.is_empty() {
                bail!(
                    "{name} presents {}, which matches no --host-key; nothing was trusted",
                    presented(&keys)
                );
            }
            matching
        };
        let file = known_hosts::first_user_file(&s.env, &r);
        let lines: String = trusted.iter().map(|k| k.line.as_str()).collect();
        known_hosts::record(&s.exec, &file, &lines, r.hash_known_hosts)?;
        Ok(Outcome::Done(format!(
            "added the host key of {name} ({}) to {}",
            presented(&trusted),
            s.env.tilde(&file)
        )))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        let Some(r) = &s.resolved else {
            return "would fetch the host key".into();
        };
        format!(
            "would add the host key of {} to {} once you confirm its fingerprint\nwould run: {}",
            r.known_hosts_name(),
            s.env.tilde(&known_hosts::first_user_file(&s.env, r)),
            known_hosts::fetch_cmd(r, &fetch_file(s, r)).display()
        )
    }
}

/// Where ssh records the fetched key, for the preview: a private directory beside known_hosts
/// (its random part shown as …).
fn fetch_file(s: &Session, r: &Resolved) -> std::path::PathBuf {
    let beside = known_hosts::first_user_file(&s.env, r);
    beside
        .with_file_name(format!("{}…", known_hosts::FETCH_DIR_PREFIX))
        .join("known_hosts")
}
