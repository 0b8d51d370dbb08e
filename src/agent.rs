//! The ssh-agent: it must answer, and it must hold the key, because the docker CLI runs ssh with
//! no terminal and cannot ask for a passphrase.
//!
//! rdock asks the agent ssh will use: SSH_AUTH_SOCK, or on Windows the ssh-agent service's pipe
//! when that is unset, or Pageant's pipe when ~/.ssh/config includes the file Pageant writes. What
//! is read from the machine is gathered in [`AgentFacts`] and judged by pure functions, so every
//! OS's branch is tested on any OS.

use std::path::Path;

use anyhow::{anyhow, bail, Result};

use crate::exec::{last_line, Cmd, Output};
use crate::fsutil;
use crate::platform::{self, Platform, ServiceState};
use crate::session::Session;
use crate::ssh_config;
use crate::step::{Finding, Step};

/// Past this many keys, servers stop at MaxAuthTries (6 by default) before reaching the right one.
pub const MAX_AGENT_KEYS: usize = 5;

/// What rdock reads from the machine to find the agent (tests make these up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentFacts {
    pub platform: Platform,
    /// SSH_AUTH_SOCK, when set and not empty.
    pub auth_sock: Option<String>,
    /// Windows: the `IdentityAgent` in ~/.ssh/pageant.conf, when ~/.ssh/config includes that file
    /// (see [`pageant_pipe`]).
    pub pageant_pipe: Option<String>,
}

/// Which agent rdock asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentTarget {
    /// What SSH_AUTH_SOCK names; on Windows, when it is unset, the ssh-agent service.
    Env,
    /// Pageant's named pipe: ssh reaches it through `IdentityAgent` (which beats SSH_AUTH_SOCK);
    /// ssh-add gets it as SSH_AUTH_SOCK.
    Pageant(String),
    /// SSH_AUTH_SOCK is not set, and this OS needs it.
    NoSocket,
    /// SSH_AUTH_SOCK=pageant, which OpenSSH cannot use, and nothing leads ssh to Pageant's pipe.
    PageantName,
}

impl AgentFacts {
    /// Read SSH_AUTH_SOCK and, on Windows, ~/.ssh/config and ~/.ssh/pageant.conf.
    pub fn gather(p: Platform) -> Self {
        let auth_sock = std::env::var("SSH_AUTH_SOCK")
            .ok()
            .filter(|v| !v.is_empty());
        let pageant_pipe = (p == Platform::Windows)
            .then(ssh_config::user_config)
            .flatten()
            .and_then(|config| {
                let conf = config.with_file_name(platform::PAGEANT_CONF);
                let read = |path: &Path| ssh_config::read(path).unwrap_or_default();
                pageant_pipe(&read(&config), &read(&conf))
            });
        AgentFacts {
            platform: p,
            auth_sock,
            pageant_pipe,
        }
    }

    pub fn target(&self) -> AgentTarget {
        let windows = self.platform == Platform::Windows;
        if let Some(pipe) = &self.pageant_pipe {
            return AgentTarget::Pageant(pipe.clone());
        }
        match self.auth_sock.as_deref() {
            Some("pageant") if windows => AgentTarget::PageantName,
            Some(_) => AgentTarget::Env,
            None if windows => AgentTarget::Env,
            None => AgentTarget::NoSocket,
        }
    }

    /// Where the agent is, in words.
    fn place(&self) -> String {
        match (self.target(), &self.auth_sock) {
            (AgentTarget::Pageant(pipe), _) => {
                format!("Pageant's pipe {pipe} (from {})", platform::PAGEANT_CONF)
            }
            (_, Some(sock)) => sock.clone(),
            (_, None) => format!(
                "the {} service ({})",
                platform::AGENT_SERVICE,
                platform::WINDOWS_AGENT_PIPE
            ),
        }
    }
}

/// Pageant's pipe, as ssh will find it: the `IdentityAgent` of `conf` (what
/// `pageant --openssh-config` wrote), when `config` (~/.ssh/config) includes pageant.conf before
/// any Host line. A name written with escaped backslashes (`\\\\.\\pipe\\…`, which newer
/// OpenSSH unescapes) is unescaped the same way.
pub fn pageant_pipe(config: &str, conf: &str) -> Option<String> {
    if !ssh_config::includes(config, platform::PAGEANT_CONF) {
        return None;
    }
    let (_, args) = ssh_config::global_value(conf, "IdentityAgent")?;
    let pipe = args.into_iter().next()?;
    Some(if pipe.starts_with(r"\\\\") {
        pipe.replace(r"\\", "\\")
    } else {
        pipe
    })
}

/// `ssh-add ARGS` against the agent ssh will use.
pub fn ssh_add(target: &AgentTarget) -> Cmd {
    let cmd = Cmd::new("ssh-add");
    match target {
        AgentTarget::Pageant(pipe) => cmd.env("SSH_AUTH_SOCK", pipe),
        _ => cmd,
    }
}

/// The command that adds a key: `ssh-add KEY`, on macOS `ssh-add --apple-use-keychain KEY`
/// (`--` first when the path starts with `-`, so that it is never read as an option).
pub fn add_key_cmd(p: Platform, target: &AgentTarget, key: &Path) -> Cmd {
    // `--`: whatever the path looks like, it is never an option (`-D` would empty the agent).
    ssh_add(target)
        .args(p.ssh_add_options())
        .arg("--")
        .arg(key)
        .changes()
}

/// What `ssh-add -l` says about the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentState {
    /// Answers; holds this many keys.
    Answers(usize),
    /// SSH_AUTH_SOCK is not set (and this OS needs it).
    NoSocket,
    /// SSH_AUTH_SOCK=pageant, and OpenSSH has no way to Pageant.
    PageantName,
    /// `ssh-add -l` exit 2: nothing answers there.
    NoAnswer(String),
}

/// Read the agent's state. `ssh-add -l` exits 0 with keys, 1 with none, 2 when no agent answers.
pub fn agent_state(s: &Session, facts: &AgentFacts) -> Result<AgentState> {
    let target = facts.target();
    match target {
        AgentTarget::NoSocket => return Ok(AgentState::NoSocket),
        AgentTarget::PageantName => return Ok(AgentState::PageantName),
        _ => {}
    }
    let out = s.exec.run(&ssh_add(&target).arg("-l"))?;
    Ok(match out.code {
        Some(0) => AgentState::Answers(out.stdout.lines().filter(|l| !l.trim().is_empty()).count()),
        Some(1) => AgentState::Answers(0),
        _ => AgentState::NoAnswer(out.last_error_line()),
    })
}

/// The public keys the agent holds, as `type blob comment` lines (`ssh-add -L`).
pub fn agent_keys(s: &Session, facts: &AgentFacts) -> Result<Vec<String>> {
    let out = s.exec.run(&ssh_add(&facts.target()).arg("-L"))?;
    match out.code {
        Some(0) => Ok(out
            .stdout
            .lines()
            .filter(|l| crate::keys::public_blob(l).is_some())
            .map(str::to_string)
            .collect()),
        Some(1) => Ok(Vec::new()),
        _ => bail!("ssh-add -L failed: {}", out.last_error_line()),
    }
}

/// The fix when no agent answers, for this machine.
fn agent_fix(p: Platform) -> String {
    p.agent_fix(platform::systemd_agent_unit(&|path| path.exists()).as_deref())
}

/// The `agent` finding. `service` is what `sc` said about the Windows ssh-agent service (read
/// only when the service is the agent and it did not answer); `unit` the systemd user unit this
/// Linux ships for ssh-agent.
pub fn judge(
    facts: &AgentFacts,
    state: &AgentState,
    service: Option<&ServiceState>,
    unit: Option<&Path>,
) -> Finding {
    let id = "agent";
    let p = facts.platform;
    match state {
        AgentState::Answers(n) => {
            let f = Finding::ok(
                id,
                format!(
                    "ssh-agent answers at {} ({n} key{})",
                    facts.place(),
                    if *n == 1 { "" } else { "s" }
                ),
            );
            match p.empty_agent_note() {
                Some(note) if *n == 0 => f.detail(note),
                _ => f,
            }
        }
        AgentState::NoSocket => Finding::fail(
            id,
            "no ssh-agent: SSH_AUTH_SOCK is not set",
            p.agent_fix(unit),
        ),
        AgentState::PageantName => Finding::fail(
            id,
            "SSH_AUTH_SOCK=pageant, which OpenSSH (and so the docker CLI) cannot use",
            platform::pageant_advice(),
        ),
        AgentState::NoAnswer(why) => match (p, facts.target()) {
            (Platform::Windows, AgentTarget::Pageant(pipe)) => Finding::fail(
                id,
                format!("Pageant does not answer at {pipe} ({why}); that pipe is from an earlier run of Pageant"),
                platform::pageant_advice(),
            ),
            (Platform::Windows, _) if windows_service_is_the_agent(facts) => match service {
                None => Finding::fail(
                    id,
                    format!(
                        "no ssh-agent answers, and Windows has no {} service (the OpenSSH client is not installed)",
                        platform::AGENT_SERVICE
                    ),
                    p.install_hint("ssh"),
                ),
                Some(st) => {
                    let cmds = platform::agent_service_cmds(st);
                    if cmds.is_empty() {
                        Finding::fail(
                            id,
                            format!("{}, but does not answer ({why})", st.describe()),
                            "from an elevated prompt: net stop ssh-agent, then net start ssh-agent",
                        )
                    } else {
                        Finding::fail(
                            id,
                            format!("no ssh-agent answers: {}", st.describe()),
                            platform::service_advice(&cmds),
                        )
                        .fixable()
                    }
                }
            },
            _ => Finding::fail(
                id,
                format!(
                    "no ssh-agent answers at SSH_AUTH_SOCK={} ({why})",
                    facts.auth_sock.as_deref().unwrap_or("")
                ),
                p.agent_fix(unit),
            ),
        },
    }
}

/// On Windows, ssh uses the service when SSH_AUTH_SOCK is unset or names the service's pipe.
fn windows_service_is_the_agent(facts: &AgentFacts) -> bool {
    facts.target() == AgentTarget::Env
        && facts
            .auth_sock
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(platform::WINDOWS_AGENT_PIPE))
}

/// `sc qc` and `sc query` for the ssh-agent service; None when it is not installed.
fn read_service(s: &Session) -> Option<ServiceState> {
    let qc = s.exec.run(&platform::sc_qc()).ok()?;
    let query = s.exec.run(&platform::sc_query()).ok()?;
    ServiceState::parse(&qc.stdout, &query.stdout)
}

/// sc and net report errors on stdout; ssh tools on stderr.
fn failure_line(out: &Output) -> String {
    match out.last_error_line() {
        line if line.is_empty() => last_line(&out.stdout),
        line => line,
    }
}

pub struct AgentStep {
    /// `--yes`: on Windows, enable and start the ssh-agent service without asking.
    pub yes: bool,
}

impl Step for AgentStep {
    fn id(&self) -> String {
        "agent".into()
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let facts = AgentFacts::gather(s.platform);
        let state = match agent_state(s, &facts) {
            Ok(state) => state,
            Err(e) => return Finding::fail("agent", format!("{e:#}"), agent_fix(s.platform)),
        };
        let service = match (&state, s.platform) {
            (AgentState::NoAnswer(_), Platform::Windows)
                if windows_service_is_the_agent(&facts) =>
            {
                read_service(s)
            }
            _ => None,
        };
        let unit = platform::systemd_agent_unit(&|path| path.exists());
        judge(&facts, &state, service.as_ref(), unit.as_deref())
    }

    /// Only the Windows service can be fixed: `sc.exe config` and `net start`, with consent, from
    /// an elevated prompt. Anywhere else the agent belongs to the user's shell.
    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        if s.platform != Platform::Windows {
            bail!("rdock cannot start an agent for your shell");
        }
        let Some(service) = read_service(s) else {
            bail!("the {} service is not installed", platform::AGENT_SERVICE);
        };
        let elevated = s
            .exec
            .run(&platform::elevation_query())
            .is_ok_and(|out| out.success());
        let cmds = platform::service_plan(&service, elevated).map_err(|advice| anyhow!(advice))?;
        if !s.exec.dry_run
            && !s.ui.confirm(
                &format!(
                    "{}. Run {}?",
                    service.describe(),
                    cmds.iter()
                        .map(Cmd::display)
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
                self.yes,
                "--yes",
            )?
        {
            bail!(
                "the {} service was left as it is (you said no)",
                platform::AGENT_SERVICE
            );
        }
        for cmd in &cmds {
            let out = s.exec.run(cmd)?;
            if !out.success() {
                bail!("`{}` failed: {}", cmd.display(), failure_line(&out));
            }
        }
        Ok(if s.exec.dry_run {
            format!(
                "would enable and start the {} service",
                platform::AGENT_SERVICE
            )
        } else {
            format!(
                "enabled and started the {} service",
                platform::AGENT_SERVICE
            )
        })
    }
}

/// Which keys ssh would offer: the agent's first, then the identity files `ssh -G` names.
fn describe(s: &Session, keys: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = keys
        .iter()
        .map(|k| {
            let comment = k.split_whitespace().nth(2).unwrap_or("(no comment)");
            let blob = crate::keys::public_blob(k).unwrap_or("");
            format!(
                "agent offers: {comment} …{}",
                &blob[blob.len().saturating_sub(12)..]
            )
        })
        .collect();
    if let Some(r) = &s.resolved {
        let existing = r
            .identity_files
            .iter()
            .filter(|f| fsutil::expand_tilde(f).is_file());
        lines.extend(existing.map(|file| format!("then ssh tries the file {file}")));
    }
    lines
}

/// More than [`MAX_AGENT_KEYS`] keys in the agent.
pub struct AgentKeysStep;

impl Step for AgentKeysStep {
    fn id(&self) -> String {
        "agent-keys".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["agent"]
    }

    fn blocking(&self) -> bool {
        false
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "agent-keys";
        match agent_keys(s, &AgentFacts::gather(s.platform)) {
            Ok(keys) if keys.len() > MAX_AGENT_KEYS => Finding::warn(
                id,
                format!(
                    "the agent holds {} keys; servers stop at MaxAuthTries with \"Too many authentication failures\"",
                    keys.len()
                ),
                "ssh-add -D, then ssh-add only the keys you need (or IdentitiesOnly yes with IdentityFile for this host in ~/.ssh/config)",
            ),
            Ok(keys) => Finding::ok(id, format!("{} of at most {MAX_AGENT_KEYS} keys in the agent", keys.len())),
            Err(e) => Finding::fail(id, format!("{e:#}"), agent_fix(s.platform)),
        }
    }

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("rdock does not remove keys from your agent")
    }
}

/// The `identity` finding when the agent does not hold the key: the command that adds it (with
/// Pageant, through Pageant's pipe), and under WSL why an empty agent may surprise.
pub fn not_held(p: Platform, target: &AgentTarget, key: &Path, others: usize) -> Finding {
    let shown = fsutil::tilde(key);
    let cmd = add_key_cmd(p, target, key).display();
    let fix = match target {
        AgentTarget::Pageant(pipe) => {
            format!("{cmd}  (with SSH_AUTH_SOCK={pipe}, Pageant's pipe; rdock setup does this)")
        }
        _ => cmd,
    };
    let f = Finding::fail(
        "identity",
        format!("the agent does not hold {shown} ({others} other keys)"),
        fix,
    )
    .fixable();
    match p.empty_agent_note() {
        Some(note) if others == 0 => f.detail(note),
        _ => f,
    }
}

pub struct IdentityStep;

impl Step for IdentityStep {
    fn id(&self) -> String {
        "identity".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["key", "agent"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let Some(key) = s.key.clone() else {
            return Finding::skip("identity", "skipped: no key pair");
        };
        let facts = AgentFacts::gather(s.platform);
        let keys = match agent_keys(s, &facts) {
            Ok(keys) => keys,
            Err(e) => return Finding::fail("identity", format!("{e:#}"), agent_fix(s.platform)),
        };
        let held = keys
            .iter()
            .any(|line| crate::keys::public_blob(line) == Some(key.blob.as_str()));
        let mut f = if held {
            Finding::ok(
                "identity",
                format!("the agent holds {}", fsutil::tilde(&key.private)),
            )
        } else {
            not_held(s.platform, &facts.target(), &key.private, keys.len())
        };
        f.details.extend(describe(s, &keys));
        f
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let Some(key) = s.key.clone() else {
            bail!("no key pair");
        };
        let shown = fsutil::tilde(&key.private);
        let target = AgentFacts::gather(s.platform).target();
        let mut cmd = add_key_cmd(s.platform, &target, &key.private);
        if key.encrypted {
            if !s.ui.is_interactive() && !s.exec.dry_run {
                bail!(
                    "{shown} has a passphrase and there is no terminal to type it on; run `{}` in a terminal, then rerun",
                    cmd.display()
                );
            }
            cmd = cmd.interactive();
        }
        let out = s.exec.run(&cmd)?;
        if out.skipped {
            return Ok(format!("would add {shown} to the agent"));
        }
        if !out.success() {
            bail!("ssh-add failed: {}", out.last_error_line());
        }
        Ok(format!("added {shown} to the agent"))
    }
}
