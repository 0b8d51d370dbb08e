//! The remote checks: one probe (a single ssh round trip, made as the docker CLI connects) serves
//! the connection, auth, remote PATH and remote daemon checks.

use anyhow::{bail, Result};

use crate::ssh::destination::Resolved;
use crate::ssh::limits::Limit;
use crate::ssh::probe::{self, Connect, Probe, RemoteDocker};

use super::{Finding, Kind, Outcome, Session, Step};

/// Start the probe in the background (doctor: nothing changes while it runs, so the remote
/// round trip can overlap the local checks).
pub fn start_probe(s: &mut Session) {
    if s.probe.is_some() || s.probe_job.is_some() {
        return;
    }
    if let Some(r) = s.resolved.clone() {
        let exec = s.exec.clone();
        s.probe_job = Some(std::thread::spawn(move || probe::run(&exec, &r)));
    }
}

/// The probe's result: from the cache, from the background job, or run now (with a spinner).
pub fn probe(s: &mut Session) -> Result<Probe> {
    if let Some(p) = &s.probe {
        return Ok(p.clone());
    }
    let Some(r) = s.resolved.clone() else {
        bail!("the destination was not resolved");
    };
    let probe = match s.probe_job.take().map(|job| job.join()) {
        Some(Ok(probe)) => probe,
        _ => {
            let label = format!("connecting to {}", r.display());
            let exec = s.exec.clone();
            s.term.spin(&label, || probe::run(&exec, &r))
        }
    };
    s.probe = Some(probe.clone());
    Ok(probe)
}

fn ssh_copy_id(r: &Resolved, s: &Session) -> String {
    let public = s
        .key
        .as_ref()
        .map(|k| s.env.tilde(&k.public))
        .unwrap_or_else(|| "~/.ssh/id_ed25519.pub".into());
    format!(
        "ssh-copy-id -i {public} {}   (or rerun rdock setup with --install-key)",
        r.login_args()
    )
}

fn unreachable_fix(r: &Resolved) -> String {
    format!(
        "check that {} is up and sshd listens on port {}; `ssh -v {}` shows where it stops",
        r.hostname,
        r.port,
        r.login_args()
    )
}

/// The fix when the remote prints without end.
fn too_much_fix(r: &Resolved) -> String {
    format!(
        "something on {} prints without end when ssh runs a command there: look at the remote user's shell startup files (~/.bashrc, ~/.profile); `ssh {} true | head -c 300` shows the start of it",
        r.hostname,
        r.login_args()
    )
}

/// sshd answers at all (told apart from an unknown host key or a refused key).
pub struct ConnectionStep;

impl Step for ConnectionStep {
    fn kind(&self) -> Kind {
        Kind::Connection
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "connection";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        let probe = match probe(s) {
            Ok(probe) => probe,
            Err(e) => return Finding::fail(id, format!("{e:#}"), unreachable_fix(&r)),
        };
        let limit = |l: Limit| probe.limits.contains(&l);
        match probe.connect {
            Connect::Unreachable(why) if limit(Limit::MaxStartups) => Finding::fail(
                id,
                format!("{}: {} ({why})", r.address(), Limit::MaxStartups.what()),
                Limit::MaxStartups.fix(&r.hostname),
            ),
            Connect::Unreachable(why) => Finding::fail(
                id,
                format!("cannot reach {}: {why}", r.address()),
                unreachable_fix(&r),
            ),
            Connect::TooMuch(why) => Finding::fail(id, why, too_much_fix(&r)),
            _ if limit(Limit::MaxSessions) => Finding::warn(
                id,
                format!("{}: {}", r.address(), Limit::MaxSessions.what()),
                Limit::MaxSessions.fix(&r.hostname),
            ),
            _ => Finding::ok(id, format!("sshd answers on {}", r.address())),
        }
    }
}

/// The key is authorized on the remote.
pub struct AuthStep {
    /// `--install-key` or `--yes`.
    pub install: bool,
}

impl Step for AuthStep {
    fn kind(&self) -> Kind {
        Kind::Auth
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let Some(r) = s.resolved.clone() else {
            return Finding::skip("auth", "skipped: no destination");
        };
        let probe = match probe(s) {
            Ok(p) => p,
            Err(e) => return Finding::fail("auth", format!("{e:#}"), unreachable_fix(&r)),
        };
        match probe.connect {
            Connect::Ok => Finding::ok(
                "auth",
                format!("{} accepts the key (BatchMode)", r.display()),
            ),
            Connect::AuthRefused(why) => Finding::fail(
                "auth",
                format!("{} refused the key ({why})", r.display()),
                ssh_copy_id(&r, s),
            )
            .fixable(),
            Connect::HostKeyChanged(_) | Connect::HostKeyUnknown(_) => Finding::fail(
                "auth",
                format!("ssh to {} stopped at the host key", r.display()),
                "see the host-key check",
            ),
            Connect::Unreachable(why) => Finding::fail(
                "auth",
                format!("cannot reach {}: {why}", r.address()),
                unreachable_fix(&r),
            ),
            Connect::TooMuch(why) => Finding::fail("auth", why, too_much_fix(&r)),
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let (Some(r), Some(key)) = (s.resolved.clone(), s.key.clone()) else {
            bail!("no destination or key");
        };
        let question = format!(
            "Append {} to ~/.ssh/authorized_keys on {}? ssh will ask for the password once.",
            s.env.tilde(&key.public),
            r.display()
        );
        if let Some(no) = s.consent(&[], &question, self.install, "--install-key") {
            return Ok(no);
        }
        let out = s.exec.run(&probe::install_key_cmd(&r, &key.public_line))?;
        if !out.success() {
            bail!(
                "the password login to {} failed: {}",
                r.display(),
                out.last_error_line()
            );
        }
        s.forget_prefetched();
        Ok(Outcome::Done(if out.stdout.contains("rdock-key-present") {
            format!("the key was already in authorized_keys on {}", r.display())
        } else {
            format!(
                "appended the key to ~/.ssh/authorized_keys on {}",
                r.display()
            )
        }))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        match (&s.resolved, &s.key) {
            (Some(r), Some(key)) => format!(
                "would append the key to ~/.ssh/authorized_keys on {} (one password login)\nwould run: {}",
                r.display(),
                probe::install_key_cmd(r, &key.public_line).display()
            ),
            _ => "would append the key to ~/.ssh/authorized_keys on the remote".into(),
        }
    }
}

/// docker is on the remote's non-interactive PATH (what the docker CLI's ssh needs).
pub struct RemotePathStep;

impl Step for RemotePathStep {
    fn kind(&self) -> Kind {
        Kind::RemotePath
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "remote-path";
        let (r, probe) = match probed(s, id) {
            Ok(found) => found,
            Err(finding) => return *finding,
        };
        match (probe.docker_path, probe.docker) {
            (Some(path), _) => Finding::ok(id, format!("docker is on the non-interactive PATH of {} ({path})", r.hostname)),
            (None, Some(RemoteDocker::NotOnPath)) | (None, _) => Finding::fail(
                id,
                format!("docker is not on the non-interactive PATH of {} (exit 127)", r.display()),
                format!(
                    "install docker on {0}, or put its directory on PATH for non-interactive shells (e.g. in ~/.bashrc above the interactive check); `ssh {1} command -v docker` must print a path",
                    r.hostname, r.login_args()
                ),
            ),
        }
    }
}

/// The probe, or the finding that says why there is none.
fn probed(s: &mut Session, id: &str) -> Result<(Resolved, Probe), Box<Finding>> {
    let Some(r) = s.resolved.clone() else {
        return Err(Box::new(Finding::skip(id, "skipped: no destination")));
    };
    match probe(s) {
        Ok(p) if p.docker.is_some() => Ok((r, p)),
        Ok(_) => Err(Box::new(Finding::skip(
            id,
            "skipped: the probe did not run",
        ))),
        Err(e) => Err(Box::new(Finding::fail(
            id,
            format!("{e:#}"),
            unreachable_fix(&r),
        ))),
    }
}

/// The daemon answers `docker version` for this user (socket permission included).
pub struct RemoteDaemonStep;

impl Step for RemoteDaemonStep {
    fn kind(&self) -> Kind {
        Kind::RemoteDaemon
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "remote-daemon";
        let (r, probe) = match probed(s, id) {
            Ok(found) => found,
            Err(finding) => return *finding,
        };
        match probe.docker {
            Some(RemoteDocker::Server(v)) => Finding::ok(
                id,
                format!("docker daemon {v} answers {} on {}", r.user, r.hostname),
            ),
            Some(RemoteDocker::PermissionDenied(why)) => Finding::fail(
                id,
                format!("{} may not use the docker socket ({why})", r.user),
                format!(
                    "on {}: sudo usermod -aG docker {} (then log in again)",
                    r.hostname, r.user
                ),
            ),
            Some(RemoteDocker::DaemonDown(why)) => Finding::fail(
                id,
                format!("the docker daemon on {} is not running ({why})", r.hostname),
                format!("on {}: sudo systemctl start docker", r.hostname),
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
}
