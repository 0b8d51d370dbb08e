//! The remote probe: one ssh round trip, made the way the docker CLI connects (BatchMode, no
//! terminal, strict host key checking), that tells whether the host key, the key and the remote
//! docker are right. The remote command is a fixed string: no part of user input is in it.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::destination::Resolved;
use crate::exec::{last_line, Cmd};
use crate::fsutil;
use crate::session::Session;
use crate::step::{Finding, Step};

/// Seconds ssh may spend connecting. The whole probe is bounded by [`PROBE_TIMEOUT`].
pub const CONNECT_TIMEOUT: u64 = 10;
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

const MARKER: &str = "rdock-probe-1";

/// Runs on the remote under `sh`, whatever the login shell. Reports whether docker is on the
/// non-interactive PATH and what `docker version` says.
pub const PROBE_SCRIPT: &str = "/bin/sh -c 'echo rdock-probe-1; if p=$(command -v docker); then echo \"docker-path=$p\"; out=$(docker version --format \"{{.Server.Version}}\" 2>&1); echo \"docker-exit=$?\"; printf \"%s\\n\" \"$out\"; else echo docker-path=; echo docker-exit=127; fi'";

/// Appends the public key read from stdin to ~/.ssh/authorized_keys, unless its blob is already
/// there. umask 077 keeps ~/.ssh and the file private.
pub const INSTALL_KEY_SCRIPT: &str = "/bin/sh -c 'umask 077; set -f; mkdir -p \"$HOME/.ssh\" && f=\"$HOME/.ssh/authorized_keys\" && touch \"$f\" && IFS= read -r key && set -- $key && if grep -qF \"$2\" \"$f\"; then echo rdock-key-present; else if [ -s \"$f\" ] && [ -n \"$(tail -c 1 \"$f\")\" ]; then echo >> \"$f\"; fi; printf \"%s\\n\" \"$key\" >> \"$f\" && echo rdock-key-added; fi'";

/// How the connection went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connect {
    Ok,
    /// The server refused every key offered.
    AuthRefused(String),
    /// The host key differs from the one in known_hosts.
    HostKeyChanged(String),
    /// No host key is known (strict checking refused it).
    HostKeyUnknown(String),
    /// Could not reach sshd, or it did not speak SSH in time.
    Unreachable(String),
}

/// What the remote says about docker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteDocker {
    Server(String),
    NotOnPath,
    PermissionDenied(String),
    DaemonDown(String),
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub connect: Connect,
    /// Where `command -v docker` found docker on the remote's non-interactive PATH.
    pub docker_path: Option<String>,
    pub docker: Option<RemoteDocker>,
}

/// ssh options that make rdock's own connections behave like the docker CLI's, never prompt,
/// never accept or rewrite a host key, and give up in bounded time.
pub fn batch_options() -> Vec<String> {
    options(&["BatchMode=yes"])
}

/// `-o` options for every ssh rdock starts itself, after `extra`: never accept or rewrite a host
/// key, never change the agent (whatever the user's config says), a bounded connect, no TTY.
fn options(extra: &[&str]) -> Vec<String> {
    let timeout = format!("ConnectTimeout={CONNECT_TIMEOUT}");
    let common = [
        "StrictHostKeyChecking=yes",
        "UpdateHostKeys=no",
        "AddKeysToAgent=no",
        &timeout,
    ];
    let mut args: Vec<String> = extra
        .iter()
        .chain(common.iter())
        .flat_map(|o| ["-o".to_string(), o.to_string()])
        .collect();
    args.push("-T".into());
    args
}

/// Start the probe in the background (doctor: nothing changes while it runs, so the remote
/// round trip can overlap the local checks).
pub fn start_probe(s: &mut Session) {
    if s.probe.is_some() || s.probe_job.is_some() {
        return;
    }
    if let Some(r) = s.resolved.clone() {
        let exec = s.exec.clone();
        s.probe_job = Some(std::thread::spawn(move || run_probe(&exec, &r)));
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
            s.ui.spin(&label, || run_probe(&exec, &r))
        }
    };
    s.probe = Some(probe.clone());
    Ok(probe)
}

fn run_probe(exec: &crate::exec::Exec, r: &Resolved) -> Probe {
    let cmd = Cmd::new("ssh")
        .args(batch_options())
        .args(r.ssh_target_args())
        .arg(PROBE_SCRIPT)
        .timeout(PROBE_TIMEOUT);
    match exec.run(&cmd) {
        Ok(out) => parse_probe(out.code, &out.stdout, &out.stderr),
        Err(e) => Probe {
            connect: Connect::Unreachable(format!(
                "no SSH answer from {}:{} within {} s ({e:#})",
                r.hostname,
                r.port,
                PROBE_TIMEOUT.as_secs()
            )),
            docker_path: None,
            docker: None,
        },
    }
}

/// Read the probe's result from ssh's exit code and output.
pub fn parse_probe(code: Option<i32>, stdout: &str, stderr: &str) -> Probe {
    let mut lines = stdout.lines();
    if lines.next().map(str::trim) == Some(MARKER) {
        let docker_path = lines
            .next()
            .and_then(|l| l.strip_prefix("docker-path="))
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        let exit = lines
            .next()
            .and_then(|l| l.strip_prefix("docker-exit="))
            .and_then(|n| n.trim().parse::<i32>().ok())
            .unwrap_or(-1);
        let text = lines.collect::<Vec<_>>().join("\n").trim().to_string();
        return Probe {
            connect: Connect::Ok,
            docker_path,
            docker: Some(classify_docker(exit, &text)),
        };
    }
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('@'))
        .unwrap_or("")
        .to_string();
    let connect = if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || stderr.contains("HOST KEY HAS CHANGED")
    {
        Connect::HostKeyChanged(stderr.trim().to_string())
    } else if stderr.contains("Host key verification failed") {
        Connect::HostKeyUnknown(last)
    } else if stderr.contains("Permission denied (")
        || stderr.contains("Too many authentication failures")
    {
        Connect::AuthRefused(last)
    } else if code == Some(255) || code.is_none() {
        Connect::Unreachable(last)
    } else {
        Connect::Unreachable(format!(
            "the remote shell did not run the probe (exit {code:?}): {last}"
        ))
    };
    Probe {
        connect,
        docker_path: None,
        docker: None,
    }
}

fn classify_docker(exit: i32, text: &str) -> RemoteDocker {
    let lower = text.to_ascii_lowercase();
    match exit {
        0 => RemoteDocker::Server(text.lines().last().unwrap_or("").trim().to_string()),
        127 => RemoteDocker::NotOnPath,
        _ if lower.contains("permission denied") => RemoteDocker::PermissionDenied(last_line(text)),
        _ if lower.contains("cannot connect to the docker daemon")
            || lower.contains("is the docker daemon running") =>
        {
            RemoteDocker::DaemonDown(last_line(text))
        }
        _ => RemoteDocker::Other(last_line(text)),
    }
}

fn ssh_copy_id(r: &Resolved, s: &Session) -> String {
    let public = s
        .key
        .as_ref()
        .map(|k| fsutil::tilde(&k.public))
        .unwrap_or_else(|| "~/.ssh/id_ed25519.pub".into());
    format!(
        "ssh-copy-id -i {public} -p {} {}@{}   (or rerun rdock setup with --install-key)",
        r.port,
        r.user,
        r.dest.host_for_url()
    )
}

fn unreachable_fix(r: &Resolved) -> String {
    format!(
        "check that {} is up and sshd listens on port {}; `ssh -v -p {} {}@{}` shows where it stops",
        r.hostname,
        r.port,
        r.port,
        r.user,
        r.dest.host_for_url()
    )
}

/// Step 5a: sshd answers at all (told apart from an unknown host key or a refused key).
pub struct ConnectionStep;

impl Step for ConnectionStep {
    fn id(&self) -> String {
        "connection".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["destination"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "connection";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        match probe(s).map(|p| p.connect) {
            Ok(Connect::Unreachable(why)) => Finding::fail(
                id,
                format!("cannot reach {}:{}: {why}", r.hostname, r.port),
                unreachable_fix(&r),
            ),
            Ok(_) => Finding::ok(id, format!("sshd answers on {}:{}", r.hostname, r.port)),
            Err(e) => Finding::fail(id, format!("{e:#}"), unreachable_fix(&r)),
        }
    }

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("rdock cannot reach the host: that is for the network or the server")
    }
}

/// Step 6: the key is authorized on the remote.
pub struct AuthStep {
    /// `--install-key` or `--yes`.
    pub install: bool,
}

impl Step for AuthStep {
    fn id(&self) -> String {
        "auth".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["host-key", "identity"]
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
                format!("cannot reach {}:{}: {why}", r.hostname, r.port),
                unreachable_fix(&r),
            ),
        }
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let (Some(r), Some(key)) = (s.resolved.clone(), s.key.clone()) else {
            bail!("no destination or key");
        };
        let question = format!(
            "Append {} to ~/.ssh/authorized_keys on {}? ssh will ask for the password once.",
            fsutil::tilde(&key.public),
            r.display()
        );
        if !s.exec.dry_run && !s.ui.confirm(&question, self.install, "--install-key")? {
            bail!("the key was not installed (you said no)");
        }
        let cmd = Cmd::new("ssh")
            .args(options(&[
                "PubkeyAuthentication=no",
                "PreferredAuthentications=keyboard-interactive,password",
                "NumberOfPasswordPrompts=3",
            ]))
            .args(r.ssh_target_args())
            .arg(INSTALL_KEY_SCRIPT)
            .stdin(format!("{}\n", key.public_line))
            .changes()
            .interactive();
        let out = s.exec.run(&cmd)?;
        if out.skipped {
            return Ok(format!(
                "would append the key to ~/.ssh/authorized_keys on {}",
                r.display()
            ));
        }
        if !out.success() {
            bail!(
                "the password login to {} failed: {}",
                r.display(),
                out.last_error_line()
            );
        }
        s.probe = None;
        if out.stdout.contains("rdock-key-present") {
            Ok(format!(
                "the key was already in authorized_keys on {}",
                r.display()
            ))
        } else {
            Ok(format!(
                "appended the key to ~/.ssh/authorized_keys on {}",
                r.display()
            ))
        }
    }
}

/// Step 7a: docker is on the remote's non-interactive PATH (what the docker CLI's ssh needs).
pub struct RemotePathStep;

impl Step for RemotePathStep {
    fn id(&self) -> String {
        "remote-path".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["auth"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "remote-path";
        let (r, probe) = match probed(s, id) {
            Ok(found) => found,
            Err(finding) => return finding,
        };
        match (probe.docker_path, probe.docker) {
            (Some(path), _) => Finding::ok(id, format!("docker is on the non-interactive PATH of {} ({path})", r.hostname)),
            (None, Some(RemoteDocker::NotOnPath)) | (None, _) => Finding::fail(
                id,
                format!("docker is not on the non-interactive PATH of {} (exit 127)", r.display()),
                format!(
                    "install docker on {0}, or put its directory on PATH for non-interactive shells (e.g. in ~/.bashrc above the interactive check); `ssh -p {1} {2}@{3} command -v docker` must print a path",
                    r.hostname, r.port, r.user, r.dest.host_for_url()
                ),
            ),
        }
    }

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("rdock does not change the remote's system")
    }
}

/// The probe, or the finding that says why there is none.
fn probed(s: &mut Session, id: &str) -> Result<(Resolved, Probe), Finding> {
    let Some(r) = s.resolved.clone() else {
        return Err(Finding::skip(id, "skipped: no destination"));
    };
    match probe(s) {
        Ok(p) if p.docker.is_some() => Ok((r, p)),
        Ok(_) => Err(Finding::skip(id, "skipped: the probe did not run")),
        Err(e) => Err(Finding::fail(id, format!("{e:#}"), unreachable_fix(&r))),
    }
}

/// Step 7b: the daemon answers `docker version` for this user (socket permission included).
pub struct RemoteDaemonStep;

impl Step for RemoteDaemonStep {
    fn id(&self) -> String {
        "remote-daemon".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["remote-path"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "remote-daemon";
        let (r, probe) = match probed(s, id) {
            Ok(found) => found,
            Err(finding) => return finding,
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

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("rdock does not change the remote's system")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_output_is_classified() {
        let ok = parse_probe(
            Some(0),
            "rdock-probe-1\ndocker-path=/usr/bin/docker\ndocker-exit=0\n28.2.2\n",
            "",
        );
        assert_eq!(ok.connect, Connect::Ok);
        assert_eq!(ok.docker, Some(RemoteDocker::Server("28.2.2".into())));
        assert_eq!(ok.docker_path.as_deref(), Some("/usr/bin/docker"));
        let missing = parse_probe(
            Some(0),
            "rdock-probe-1\ndocker-path=\ndocker-exit=127\n",
            "",
        );
        assert_eq!(missing.docker, Some(RemoteDocker::NotOnPath));
        let denied = parse_probe(
            Some(0),
            "rdock-probe-1\ndocker-path=/usr/bin/docker\ndocker-exit=1\npermission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock\n",
            "",
        );
        assert!(matches!(
            denied.docker,
            Some(RemoteDocker::PermissionDenied(_))
        ));
        let down = parse_probe(
            Some(0),
            "rdock-probe-1\ndocker-path=/usr/bin/docker\ndocker-exit=1\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
            "",
        );
        assert!(matches!(down.docker, Some(RemoteDocker::DaemonDown(_))));
    }

    #[test]
    fn ssh_failures_are_told_apart() {
        let changed = "@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@\nHost key verification failed.\n";
        assert!(matches!(
            parse_probe(Some(255), "", changed).connect,
            Connect::HostKeyChanged(_)
        ));
        let unknown = "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n";
        assert!(matches!(
            parse_probe(Some(255), "", unknown).connect,
            Connect::HostKeyUnknown(_)
        ));
        let denied = "u@127.0.0.1: Permission denied (publickey,password).\n";
        assert!(matches!(
            parse_probe(Some(255), "", denied).connect,
            Connect::AuthRefused(_)
        ));
        let refused = "ssh: connect to host 127.0.0.1 port 1: Connection refused\n";
        assert_eq!(
            parse_probe(Some(255), "", refused).connect,
            Connect::Unreachable(
                "ssh: connect to host 127.0.0.1 port 1: Connection refused".into()
            )
        );
    }

    #[test]
    fn every_ssh_of_rdock_refuses_new_host_keys_and_leaves_the_agent_alone() {
        let batch = batch_options().join(" ");
        assert_eq!(
            batch,
            "-o BatchMode=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T"
        );
    }

    #[test]
    fn remote_scripts_are_fixed_strings_for_sh() {
        for script in [PROBE_SCRIPT, INSTALL_KEY_SCRIPT] {
            assert!(script.starts_with("/bin/sh -c '") && script.ends_with('\''));
            // Exactly one pair of single quotes: nothing inside can end the sh -c argument early.
            assert_eq!(script.matches('\'').count(), 2, "{script}");
        }
    }
}
