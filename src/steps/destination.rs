//! Resolve the destination with `ssh -G` and show what ssh will really use.

use crate::ssh::destination::{resolve, Resolved, UserSource};
use crate::ssh::keys::offered_key;
use crate::ssh::multiplex;

use super::{context, remote, Finding, Kind, Session, Step};

pub struct DestinationStep {
    /// `--identity`, absolute: the key the probe logs in with instead of the one ssh offers.
    pub identity: Option<std::path::PathBuf>,
}

impl Step for DestinationStep {
    fn kind(&self) -> Kind {
        Kind::Destination
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "destination";
        let Some(dest) = s.dest.clone() else {
            return Finding::skip(id, "skipped: no destination given");
        };
        let r = match resolve(&s.exec, &dest) {
            Ok(r) => Resolved {
                socket: s.socket.clone(),
                identity: Some(offered_key(&r, self.identity.as_deref(), &s.env)),
                ..r
            },
            Err(e) => {
                return Finding::fail(
                    id,
                    format!("{e:#}"),
                    "check ~/.ssh/config: `ssh -G HOST` must work",
                )
            }
        };
        let via = if r.hostname != dest.host {
            format!(" (via {})", dest.host)
        } else {
            String::new()
        };
        let finding = match r.user_source {
            UserSource::Destination => Finding::ok(
                id,
                format!("{}{via}, user from the destination", r.display()),
            ),
            UserSource::SshConfig => {
                Finding::ok(id, format!("{}{via}, user from ssh_config", r.display()))
            }
            UserSource::LocalName => Finding::warn(
                id,
                format!(
                    "{}{via}: no user given, so your local user name {} was assumed",
                    r.display(),
                    r.user
                ),
                format!("if the remote account differs: rdock setup USER@{}", dest),
            ),
        };
        s.resolved = Some(r.clone());
        if s.prefetch {
            if r.control_master.is_some() {
                s.master = multiplex::master_state(&s.exec, &r).ok();
            }
            remote::start_probe(s);
            context::start_verify(s);
        }
        finding
    }
}
