//! remote-daemon: the daemon answers `docker version` for this user, through the probe, or
//! through the context when the key runs only docker's dial-stdio.

use anyhow::{bail, Result};

use crate::ssh::destination::Resolved;
use crate::ssh::multiplex;
use crate::ssh::probe::{Forced, Probe, RemoteDocker};
use crate::ssh::repair;

use super::super::repair::{preview_sudo, run_sudo, SudoFix};
use super::super::{Finding, Kind, Outcome, Session, Step, Want};
use super::{probe, probed};

/// The daemon answers `docker version` for this user (socket permission included). A user who
/// may not use the socket is added to group docker by setup, with consent, through sudo.
pub struct RemoteDaemonStep {
    /// `--yes`.
    pub yes: bool,
    /// The docker context setup writes (or doctor checks): when the key is restricted to
    /// `docker system dial-stdio`, the daemon is asked through it.
    pub context: String,
}

/// The usermod fix through sudo.
fn usermod_fix(r: &Resolved) -> SudoFix<'static> {
    SudoFix {
        done: format!("added {} to group docker on {}", r.user, r.hostname),
        text: repair::usermod_text(r),
        question: format!("Add {} to group docker on {}?", r.user, r.hostname),
        cmd: &repair::usermod_cmd,
    }
}

impl RemoteDaemonStep {
    /// The key only runs `docker system dial-stdio`: ask the daemon through the context, as
    /// docker will, when the context exists and points at this destination.
    fn through_context(&self, s: &mut Session, r: &Resolved) -> Finding {
        let id = "remote-daemon";
        let name = &self.context;
        // The facts phase asked through the context only when it exists and points at this
        // destination (`facts::points_at`); no answer means it does not.
        let out = match &s.facts.daemon {
            Some(Some((asked, out))) if asked == name => out.clone(),
            _ => {
                return Finding::skip(
                    id,
                    format!(
                        "skipped: the key on {} runs `docker system dial-stdio` only; verify asks the daemon through the context",
                        r.hostname
                    ),
                )
            }
        };
        match out {
            Ok(out) if out.success() => Finding::ok(
                id,
                format!(
                    "docker daemon {} answers {} on {} (through docker --context {name}: the key runs `docker system dial-stdio` only)",
                    out.stdout.trim(),
                    r.user,
                    r.hostname
                ),
            ),
            Ok(out) => Finding::fail(
                id,
                format!(
                    "docker --context {name} version failed: {}",
                    out.last_error_line()
                ),
                format!("run `docker version` on {} to see the whole error", r.hostname),
            ),
            Err(e) => Finding::fail(
                id,
                e.0,
                format!("run `docker version` on {} to see the whole error", r.hostname),
            ),
        }
    }
}

impl Step for RemoteDaemonStep {
    fn kind(&self) -> Kind {
        Kind::RemoteDaemon
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Probe, Want::Daemon(self.context.clone())]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "remote-daemon";
        if let Some(r) = s.resolved.clone() {
            if let Ok(Probe {
                forced: Some(Forced::DialStdio),
                ..
            }) = probe(s)
            {
                return self.through_context(s, &r);
            }
        }
        let (r, probe) = match probed(s, id) {
            Ok(found) => found,
            Err(finding) => return *finding,
        };
        if let (false, Some((socket, v))) = (
            matches!(probe.docker, Some(RemoteDocker::Server(_))),
            probe.other_socket.clone(),
        ) {
            // A rootless daemon: the context must name its socket, since docker's ssh transport
            // asks the default one. The context check and setup take it from here.
            if let Some(resolved) = s.resolved.as_mut() {
                resolved.socket = Some(socket.clone());
            }
            return Finding::ok(
                id,
                format!(
                    "docker daemon {v} answers {} on {} at {socket} (not the default socket: the context names it)",
                    r.user, r.hostname
                ),
            );
        }
        match probe.docker {
            Some(RemoteDocker::Server(v)) => Finding::ok(
                id,
                format!("docker daemon {v} answers {} on {}", r.user, r.hostname),
            ),
            Some(RemoteDocker::PermissionDenied(why)) => Finding::fail(
                id,
                format!("{} may not use the docker socket ({why})", r.user),
                format!(
                    "on {}: {} (then log in again)",
                    r.hostname,
                    repair::usermod_text(&r)
                ),
            )
            .fixable(),
            Some(RemoteDocker::DaemonDown(why)) => Finding::fail(
                id,
                format!("the docker daemon on {} is not running ({why})", r.hostname),
                format!("on {}: sudo systemctl start docker", r.hostname),
            ),
            Some(RemoteDocker::Hung(secs)) => Finding::fail(
                id,
                format!(
                    "docker version on {} did not answer within {secs} s and was stopped: the docker daemon there hangs (the connection and the shell were fine)",
                    r.hostname,
                ),
                format!(
                    "on {}: sudo systemctl restart docker; `docker version` there must answer at once",
                    r.hostname
                ),
            ),
            Some(RemoteDocker::NotOnPath) | None => {
                Finding::skip(id, "skipped: docker is not on the remote PATH")
            }
            Some(RemoteDocker::Other(why)) => Finding::fail(
                id,
                format!("docker version failed on {}: {why}", r.hostname),
                format!(
                    "run `docker version` on {} to see the whole error",
                    r.hostname
                ),
            ),
        }
    }

    /// usermod, then make sure the check after it logs in anew: a shared connection that logged
    /// in before keeps the old groups. The early docker call may be opening one: it finishes
    /// first, then the master stops taking sessions (`ssh -O stop`), and the probe after this fix
    /// uses a connection of its own.
    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(r) = s.resolved.clone() else {
            bail!("no destination");
        };
        let outcome = run_sudo(s, &r, &usermod_fix(&r), self.yes)?;
        let Outcome::Done(mut did) = outcome else {
            return Ok(outcome);
        };
        if r.control_path.is_some() {
            let stopped = s.exec.run(&multiplex::stop_cmd(&r));
            if stopped.is_ok_and(|out| out.success()) {
                did.push_str(
                    "; the shared ssh connection, which kept the old groups, takes no new sessions",
                );
            }
        }
        s.own_connection = true;
        Ok(Outcome::Done(did))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        match &s.resolved {
            Some(r) => format!(
                "{}\nthen would check again over a new ssh connection (a shared one keeps the old groups)",
                preview_sudo(s, r, &usermod_fix(r), self.yes)
            ),
            None => "would add the user to group docker on the remote".into(),
        }
    }
}
