//! The remote checks: one probe (a single ssh round trip, made as the docker CLI connects) serves
//! the connection, auth, remote PATH and remote daemon checks.

use anyhow::{bail, Result};

use crate::ssh::authorized_keys::{present_lines, restrictions, KeyLine};
use crate::ssh::connect::Cause;
use crate::ssh::destination::{bracket, Resolved};
use crate::ssh::limits::Limit;
use crate::ssh::probe::{self, Connect, Forced, Probe};
use crate::ssh::rc::{self, Shell};
use crate::ssh::repair;

use super::repair::{preview_sudo, run_sudo, PathLine, SudoFix};
use super::{Finding, Kind, Outcome, Session, Step, Want};

mod daemon;
pub use daemon::RemoteDaemonStep;

/// The probe's result, as the facts phase gathered it.
pub fn probe(s: &Session) -> Result<Probe> {
    match &s.facts.probe {
        Some(p) => Ok(p.clone()),
        None => bail!("the destination was not resolved"),
    }
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

/// A master whose connection is gone: end it, and the next ssh makes a new one.
fn stale_master_fix(r: &Resolved) -> String {
    format!(
        "end the stale master: ssh -O exit {}; the next ssh makes a new one (ServerAliveInterval 15 in ~/.ssh/config makes a master notice a dead network)",
        r.login_args()
    )
}

/// The fix for a host ssh could not reach, fitted to the cause ssh's words name (`why`).
fn unreachable_fix(r: &Resolved, why: &str) -> String {
    // Through a bastion or a proxy command, ssh never dials the host itself.
    let via = match (&r.proxy_jump, &r.proxy_command) {
        (Some(jump), _) => Some(format!("ProxyJump {jump}")),
        (None, Some(command)) => Some(format!("ProxyCommand {command}")),
        (None, None) => None,
    };
    let verbose = format!("  ssh -v {}", r.login_args());
    if let Some(via) = via {
        return format!(
            "check that {via} (from ~/.ssh/config) reaches {}; this shows where it stops:\n{verbose}",
            r.address()
        );
    }
    let (host, port) = (&r.hostname, r.port);
    match Cause::of(why) {
        Cause::NoSuchName => format!(
            "check the spelling of {0}, or the HostName ~/.ssh/config gives it; the hostname line of this is the name ssh looks up:\n  ssh -G {0}",
            r.dest.host
        ),
        Cause::Refused => format!(
            "nothing listens on port {port} of {host}: start sshd there, or give the port it listens on ({}@{}:PORT, or Port in ~/.ssh/config)",
            r.user,
            bracket(&r.dest.host)
        ),
        Cause::TimedOut => format!(
            "{host} did not answer on port {port}: a firewall drops the connection, or the host is reached only over a VPN or a jump host (connect the VPN, or set ProxyJump in ~/.ssh/config); check that {host} is up"
        ),
        Cause::NoBanner => format!(
            "check that port {port} of {host} is sshd's, not another service's, and give sshd's port if not; on {host}, this shows what listens there:\n  sudo ss -tlnp 'sport = :{port}'"
        ),
        Cause::Other => format!(
            "check that {host} is up and sshd listens on port {port}; this shows where it stops:\n{verbose}"
        ),
    }
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

    fn facts(&self) -> Vec<Want> {
        vec![Want::Probe]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "connection";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        let probe = match probe(s) {
            Ok(probe) => probe,
            Err(e) => {
                let why = format!("{e:#}");
                return Finding::fail(id, why.clone(), unreachable_fix(&r, &why));
            }
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
                unreachable_fix(&r, &why),
            ),
            Connect::TooMuch(why) => Finding::fail(id, why, too_much_fix(&r)),
            Connect::StaleMaster(why) => {
                Finding::fail(id, format!("{}: {why}", r.address()), stale_master_fix(&r))
            }
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
    /// The key install found the key already there, on these lines: a refusal after it is not
    /// for want of the key, and installing it again cannot help.
    pub present: Option<Vec<KeyLine>>,
}

/// sshd refused a key that authorized_keys already holds: name the lines, and what in their
/// options keeps the key out (or, with none, where sshd says why).
fn present_but_refused(r: &Resolved, why: &str, lines: &[KeyLine]) -> Finding {
    let file = "~/.ssh/authorized_keys";
    let restricted: Vec<(usize, Vec<String>)> = lines
        .iter()
        .map(|l| (l.number, restrictions(&l.options)))
        .filter(|(_, what)| !what.is_empty())
        .collect();
    let numbers: Vec<String> = lines.iter().map(|l| l.number.to_string()).collect();
    let on = format!(
        "line{} {}",
        if numbers.len() == 1 { "" } else { "s" },
        numbers.join(", ")
    );
    if restricted.is_empty() {
        return Finding::fail(
            "auth",
            format!(
                "{} refused the key ({why}), which {file} there already holds ({on}, with no option that restricts it)",
                r.display()
            ),
            format!(
                "sshd's log on {} says why (journalctl -u ssh, or /var/log/auth.log): StrictModes refuses a key when the home, ~/.ssh or {file} can be written by others; AuthorizedKeysFile in sshd_config may name another file",
                r.hostname
            ),
        );
    }
    let named: Vec<String> = restricted
        .iter()
        .map(|(n, what)| format!("line {n} restricts it: {}", what.join(", ")))
        .collect();
    Finding::fail(
        "auth",
        format!(
            "{} refused the key ({why}); {file} there already holds it, and {}",
            r.display(),
            named.join("; ")
        ),
        format!(
            "on {}, edit {file} ({}) to take that restriction off the key, or add a line of its own for this machine; then rerun rdock setup",
            r.hostname,
            restricted
                .iter()
                .map(|(n, _)| format!("line {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
}

impl Step for AuthStep {
    fn kind(&self) -> Kind {
        Kind::Auth
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Probe]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let Some(r) = s.resolved.clone() else {
            return Finding::skip("auth", "skipped: no destination");
        };
        let probe = match probe(s) {
            Ok(p) => p,
            Err(e) => {
                let why = format!("{e:#}");
                return Finding::fail("auth", why.clone(), unreachable_fix(&r, &why));
            }
        };
        match probe.connect {
            // A login with no remote shell proved the key: what hangs is the shell.
            Connect::Ok | Connect::ShellHung(_) => Finding::ok(
                "auth",
                format!("{} accepts the key (BatchMode)", r.display()),
            ),
            Connect::AuthRefused(why) => match &self.present {
                Some(lines) => present_but_refused(&r, &why, lines),
                None => Finding::fail(
                    "auth",
                    format!("{} refused the key ({why})", r.display()),
                    ssh_copy_id(&r, s),
                )
                .fixable(),
            },
            Connect::HostKeyChanged(_) | Connect::HostKeyUnknown(_) => Finding::fail(
                "auth",
                format!("ssh to {} stopped at the host key", r.display()),
                "see the host-key check",
            ),
            Connect::Unreachable(why) => Finding::fail(
                "auth",
                format!("cannot reach {}: {why}", r.address()),
                unreachable_fix(&r, &why),
            ),
            Connect::StaleMaster(why) => Finding::fail("auth", why, stale_master_fix(&r)),
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
        Ok(Outcome::Done(if out.stdout.contains("rdock-key-present") {
            self.present = Some(present_lines(&out.stdout));
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

/// How to keep a login shell's startup file quiet for commands (it may still print when
/// interactive), by the shell's name.
fn quiet_rc_fix(host: &str, shell: Option<&str>) -> String {
    let name = shell.and_then(|s| s.rsplit('/').next()).unwrap_or("");
    let how = match name {
        "bash" => "make the first line of ~/.bashrc `[[ $- == *i* ]] || return` (or `case $- in *i*) ;; *) return;; esac`)",
        "zsh" => "make the first line of ~/.zshenv `[[ -o interactive ]] || return` (zsh reads it for every command), or move the printing to ~/.zshrc",
        "fish" => "put what prints in ~/.config/fish/config.fish inside `if status is-interactive … end`",
        "tcsh" | "csh" => "put what prints in ~/.tcshrc (or ~/.cshrc) inside `if ( $?prompt ) then … endif`",
        _ => "guard what prints with an interactive test at the top, e.g. `[[ $- == *i* ]] || return` or `case $- in *i*) ;; *) return;; esac`",
    };
    format!("on {host}: {how}")
}

/// The login works but the remote login shell ran no command: a startup file it reads for every
/// command (not only interactive ones) waits for input or runs something slow. The probe never
/// ran, so which shell it is stays unknown: each common one's file and guard are named.
fn shell_hung_finding(id: &str, r: &Resolved, evidence: &str) -> Finding {
    Finding::fail(
        id,
        format!(
            "{} logs in (ssh -N: {evidence}), but the remote login shell did not run a command within {} s: most likely a startup file it reads for every command waits for input or runs something slow (~/.bashrc for bash, ~/.zshenv for zsh, ~/.config/fish/config.fish for fish; less often ~/.ssh/rc, a slow PAM session or a forced command); docker's ssh transport hangs the same way",
            r.display(),
            probe::PROBE_TIMEOUT.as_secs()
        ),
        format!(
            "on {}: make that file return at once when the shell is not interactive: for bash make the first line of ~/.bashrc `case $- in *i*) ;; *) return;; esac`; for zsh make the first line of ~/.zshenv `[[ -o interactive ]] || return`; for fish make the first line of ~/.config/fish/config.fish `status is-interactive; or exit`; then `ssh {} true` must return at once",
            r.hostname,
            r.login_args()
        ),
    )
}

/// The remote printed outside the probe's report: docker's ssh stream would carry it too.
fn noise_finding(id: &str, r: &Resolved, probe: &Probe, noise: &str) -> Finding {
    Finding::fail(
        id,
        format!(
            "your remote ~/.bashrc (or the file for the user's login shell{}) prints to stdout (\"{noise}\"); that breaks docker's ssh transport",
            probe
                .shell
                .as_deref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default()
        ),
        quiet_rc_fix(&r.hostname, probe.shell.as_deref()),
    )
}

/// docker is on the remote's non-interactive PATH (what the docker CLI's ssh needs), and the
/// remote shell prints nothing around what runs there. When the login shell finds docker elsewhere, setup offers the line that puts its folder on that PATH, in the
/// startup file the user's shell reads for ssh commands, or a link into /usr/local/bin.
pub struct RemotePathStep {
    /// `--yes`.
    pub yes: bool,
    /// What the last check found setup could do.
    offer: Option<PathOffer>,
}

/// A repair for docker missing from the non-interactive PATH.
enum PathOffer {
    Line(PathLine),
    /// Link the docker at this path into /usr/local/bin, which is on that PATH.
    Link(String),
}

impl RemotePathStep {
    pub fn new(yes: bool) -> Self {
        RemotePathStep { yes, offer: None }
    }
}

/// The link fix through sudo, for the docker at `docker`.
fn link_fix(r: &Resolved, docker: &str) -> SudoFix<'static> {
    SudoFix {
        done: format!("linked {docker} into /usr/local/bin on {}", r.hostname),
        text: repair::link_text(docker),
        question: format!("Link {docker} into /usr/local/bin on {}?", r.hostname),
        cmd: &repair::link_cmd,
    }
}

impl Step for RemotePathStep {
    fn kind(&self) -> Kind {
        Kind::RemotePath
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Probe]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "remote-path";
        self.offer = None;
        if let Some(r) = s.resolved.clone() {
            match probe(s).ok().and_then(|p| p.forced) {
                Some(Forced::DialStdio) => {
                    return Finding::ok(
                        id,
                        format!(
                            "the key runs the forced command `docker system dial-stdio` on {} (what docker's ssh transport runs)",
                            r.hostname
                        ),
                    )
                }
                Some(Forced::Other(out)) => {
                    return Finding::fail(
                        id,
                        format!(
                            "{} ran another command than rdock's probe (a forced command: command=\"…\" on the key in authorized_keys, or ForceCommand in sshd_config){}",
                            r.display(),
                            if out.is_empty() { String::new() } else { format!("; it printed \"{out}\"") }
                        ),
                        "docker's ssh transport runs `docker system dial-stdio`: force that command (command=\"docker system dial-stdio\") or none",
                    )
                }
                None => {}
            }
        }
        if let (
            Some(r),
            Ok(Probe {
                connect: Connect::ShellHung(evidence),
                ..
            }),
        ) = (s.resolved.clone(), probe(s))
        {
            return shell_hung_finding(id, &r, &evidence);
        }
        let (r, probe) = match probed(s, id) {
            Ok(found) => found,
            Err(finding) => return *finding,
        };
        if let Some(noise) = &probe.noise {
            return noise_finding(id, &r, &probe, noise);
        }
        if let Some(path) = probe.docker_path {
            return Finding::ok(
                id,
                format!(
                    "docker is on the non-interactive PATH of {} ({path})",
                    r.hostname
                ),
            );
        }
        let head = format!(
            "docker is not on the non-interactive PATH of {} (exit 127)",
            r.display()
        );
        let login = probe.login.unwrap_or_default();
        let Some(docker) = login.docker.clone() else {
            return Finding::fail(
                id,
                head,
                format!(
                    "install docker on {0}, or put its directory on PATH for non-interactive shells (e.g. in ~/.bashrc above the interactive check); `ssh {1} command -v docker` must print a path",
                    r.hostname, r.login_args()
                ),
            );
        };
        let shell_name = login.shell.rsplit('/').next().unwrap_or("").to_string();
        let message = format!("{head}; the login shell ({shell_name}) finds it at {docker}");
        let dir = rc::folder_of(&docker).unwrap_or("/").to_string();
        let link_helps = login.path_has("/usr/local/bin") && dir != "/usr/local/bin";
        let link = format!(
            "or link it: ssh -t {} {}",
            r.login_args(),
            repair::link_text(&docker)
        );
        match Shell::of(&login.shell).filter(|_| rc::safe_dir(&dir)) {
            Some(shell) => {
                let line = PathLine { shell, dir };
                let mut fix = format!(
                    "add this line to {} on {}, {}:
{}",
                    line.file(),
                    r.hostname,
                    shell.place(),
                    line.line()
                );
                if link_helps {
                    fix.push('\n');
                    fix.push_str(&link);
                }
                self.offer = Some(PathOffer::Line(line));
                Finding::fail(id, message, fix).fixable()
            }
            None if link_helps => {
                self.offer = Some(PathOffer::Link(docker.clone()));
                let fix = format!(
                    "on {}: {} ({shell_name} reads no startup file for ssh commands)",
                    r.hostname,
                    repair::link_text(&docker)
                );
                Finding::fail(id, message, fix).fixable()
            }
            None => Finding::fail(
                id,
                message,
                format!(
                    "put {dir} on the PATH of ssh commands on {}: {shell_name} reads no startup file for them (bash reads ~/.bashrc, zsh ~/.zshenv), or link docker into a folder on that PATH ({})",
                    r.hostname, login.path
                ),
            ),
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(r) = s.resolved.clone() else {
            bail!("no destination");
        };
        match &self.offer {
            Some(PathOffer::Line(line)) => line.add(s, &r, self.yes),
            Some(PathOffer::Link(docker)) => run_sudo(s, &r, &link_fix(&r, docker), self.yes),
            None => bail!("rdock has no repair for this"),
        }
    }

    fn preview(&self, s: &Session, found: &Finding) -> String {
        match (&s.resolved, &self.offer) {
            (Some(r), Some(PathOffer::Line(line))) => line.preview(r),
            (Some(r), Some(PathOffer::Link(docker))) => {
                preview_sudo(s, r, &link_fix(r, docker), self.yes)
            }
            _ => format!("would fix it: {}", found.fix.as_deref().unwrap_or("")),
        }
    }
}

/// The probe, or the finding that says why there is none.
pub(super) fn probed(s: &mut Session, id: &str) -> Result<(Resolved, Probe), Box<Finding>> {
    let Some(r) = s.resolved.clone() else {
        return Err(Box::new(Finding::skip(id, "skipped: no destination")));
    };
    match probe(s) {
        Ok(p) if p.docker.is_some() => Ok((r, p)),
        Ok(_) => Err(Box::new(Finding::skip(
            id,
            "skipped: the probe did not run",
        ))),
        Err(e) => {
            let why = format!("{e:#}");
            let fix = unreachable_fix(&r, &why);
            Err(Box::new(Finding::fail(id, why, fix)))
        }
    }
}
