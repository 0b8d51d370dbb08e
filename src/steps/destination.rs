//! Resolve the destination with `ssh -G` and show what ssh will really use.

use crate::ssh::destination::UserSource;

use super::{Finding, Kind, Session, Step, Want};

pub struct DestinationStep {
    /// `--identity`, absolute: the key the probe logs in with instead of the one ssh offers.
    pub identity: Option<std::path::PathBuf>,
}

impl Step for DestinationStep {
    fn kind(&self) -> Kind {
        Kind::Destination
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Resolved(self.identity.clone())]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "destination";
        let Some(dest) = s.dest.clone() else {
            return Finding::skip(id, "skipped: no destination given");
        };
        let r = match s.facts.resolved.clone() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                return Finding::fail(id, e.0, "check ~/.ssh/config: `ssh -G HOST` must work")
            }
            None => return Finding::skip(id, "skipped: the destination was not resolved"),
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
        s.resolved = Some(r);
        finding
    }
}
