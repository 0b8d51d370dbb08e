//! The remote's host key must be in a known_hosts file `ssh -G` names, because the docker CLI
//! runs ssh with no terminal to confirm it. An unknown key is fetched, shown by fingerprint and
//! confirmed; a changed key is never accepted.

use anyhow::{bail, Result};

use crate::ssh::known_hosts;
use crate::ssh::probe::Connect;
use crate::sys::exec::quote;

use super::{remote, Finding, Kind, Outcome, Session, Step};

pub struct HostKeyStep {
    /// `--accept-host-key` or `--yes`.
    pub accept: bool,
}

impl Step for HostKeyStep {
    fn kind(&self) -> Kind {
        Kind::HostKey
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "host-key";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        let name = r.known_hosts_name();
        let file = match known_hosts::find_known(&s.exec, &s.env, &r) {
            Ok(Some(file)) => file,
            Ok(None) => {
                return Finding::fail(
                    id,
                    format!("the host key of {name} is not in known_hosts"),
                    format!(
                        "rdock setup {} shows its fingerprint and asks (--accept-host-key without a terminal), or connect once with `ssh {}` and check the fingerprint",
                        r.dest, r.login_args()
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
                known_hosts::scan(&s.exec, &r)
            })?;
        let shown: Vec<String> = std::iter::once(format!(
            "The host key of {name} is not known yet. ssh-keyscan found:"
        ))
        .chain(
            known_hosts::fingerprints(&s.exec, &lines)?
                .into_iter()
                .map(|fp| format!("  {fp}")),
        )
        .collect();
        let question = "Do these fingerprints match the server's?";
        if let Some(no) = s.consent(&shown, question, self.accept, "--accept-host-key") {
            return Ok(no);
        }
        let file = known_hosts::first_user_file(&s.env, &r);
        known_hosts::record(&s.exec, &file, &lines, r.hash_known_hosts)?;
        // The probe ran before the key was known: its answer is stale now.
        s.probe = None;
        Ok(Outcome::Done(format!(
            "added the host key of {name} to {}",
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
            known_hosts::scan_cmd(r).display()
        )
    }
}
