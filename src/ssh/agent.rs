//! The ssh-agent: it must answer, and it must hold the key, because the docker CLI runs ssh with
//! no terminal and cannot ask for a passphrase.
//!
//! rdock asks the agent ssh will use: SSH_AUTH_SOCK, or on Windows the ssh-agent service's pipe
//! when that is unset, or Pageant's pipe when ~/.ssh/config includes the file Pageant writes. What
//! is read from the machine is gathered in [`AgentFacts`] and judged by pure functions, so every
//! OS's branch is tested on any OS.
//!
//! The agent on each OS is known here: the fix when none answers ([`agent_fix`]), the Windows
//! ssh-agent service (`service`: how to ask it, and the commands that enable and start it) and
//! Pageant (`pageant`: whether it is in use, its pipe, and the advice that serves OpenSSH and
//! ssh2 alike).

mod pageant;
mod service;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::ssh::config as ssh_config;
use crate::ssh::destination::Resolved;
use crate::sys::env::Env;
use crate::sys::exec::{last_line, Cmd, Exec, Output};
use crate::sys::platform::Platform;

pub use pageant::{
    pageant_advice, pageant_in_use, pageant_pipe, pageant_query, pageant_running, PAGEANT_CONF,
    PAGEANT_EXE,
};
pub use service::{
    agent_service_cmds, parse_sc_qc, parse_sc_query, read_service, sc_qc, sc_query, service_advice,
    service_plan, NotElevated, RunState, ServiceState, StartType, AGENT_SERVICE,
    WINDOWS_AGENT_PIPE,
};

/// Past this many keys, servers stop at MaxAuthTries (6 by default) before reaching the right one.
pub const MAX_AGENT_KEYS: usize = 5;

/// The fix when no ssh-agent answers. `unit` is the systemd user unit this Linux ships for
/// ssh-agent, if any (see [`systemd_agent_unit`]).
pub fn agent_fix(p: Platform, unit: Option<&Path>) -> String {
    match p {
        Platform::Linux | Platform::Wsl => {
            // AddKeysToAgent is the ssh-config check's to say, once.
            let keep = match unit {
                Some(unit) => format!(
                    "to keep one across logins (your distribution ships {}; `systemctl --user cat ssh-agent` names the socket to put in SSH_AUTH_SOCK):\n  systemctl --user enable --now ssh-agent",
                    unit.display()
                ),
                None => "to keep one across logins, start it from your shell profile or session".into(),
            };
            format!("start one for this shell:\n  eval \"$(ssh-agent -s)\"\n{keep}")
        }
        Platform::MacOs => {
            "launchctl start com.openssh.ssh-agent (macOS starts it at login and sets SSH_AUTH_SOCK), or eval \"$(ssh-agent -s)\" for this shell".into()
        }
        Platform::Windows => service_advice(&agent_service_cmds(&ServiceState::UNUSABLE)),
    }
}

/// Where distributions ship a systemd user unit for ssh-agent.
pub const SYSTEMD_AGENT_UNITS: [&str; 3] = [
    "/usr/lib/systemd/user/ssh-agent.service",
    "/lib/systemd/user/ssh-agent.service",
    "/etc/systemd/user/ssh-agent.service",
];

/// The systemd user unit for ssh-agent this Linux ships, if any. `exists` is the file test
/// (`Path::exists` on the real machine).
pub fn systemd_agent_unit(exists: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    SYSTEMD_AGENT_UNITS
        .iter()
        .map(PathBuf::from)
        .find(|p| exists(p))
}

/// What rdock reads from the machine to find the agent (tests make these up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentFacts {
    pub platform: Platform,
    /// SSH_AUTH_SOCK, when set and not empty.
    pub auth_sock: Option<String>,
    /// Windows: the `IdentityAgent` in ~/.ssh/pageant.conf, when ~/.ssh/config includes that file
    /// (see [`pageant_pipe`]).
    pub pageant_pipe: Option<String>,
    /// `IdentityAgent` for the destination, as `ssh -G` resolved it, expanded (see
    /// [`expand_identity_agent`]): a socket path or `none`. None when unset or `SSH_AUTH_SOCK`.
    pub identity_agent: Option<String>,
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
    /// The socket `IdentityAgent` names for this host: ssh asks it whatever SSH_AUTH_SOCK says;
    /// ssh-add gets it as SSH_AUTH_SOCK.
    Socket(String),
    /// `IdentityAgent none`: ssh asks no agent for this host and reads the key file itself.
    Disabled,
}

/// Expand an `IdentityAgent` value as ssh does: `~`, `%d` (the home), `%%`, `${VAR}`; `SSH_AUTH_SOCK`
/// (or `$SSH_AUTH_SOCK`) means "what SSH_AUTH_SOCK says", which is None here.
pub fn expand_identity_agent(value: &str, env: &Env) -> Option<String> {
    let value = value.trim();
    if value.is_empty() || value == "SSH_AUTH_SOCK" || value == "$SSH_AUTH_SOCK" {
        return None;
    }
    if value == "none" {
        return Some("none".into());
    }
    let home = env
        .home
        .as_ref()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut out = String::new();
    let mut rest = value;
    if let Some(after) = rest.strip_prefix("~/") {
        out.push_str(&home);
        out.push('/');
        rest = after;
    }
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("%d") {
            out.push_str(&home);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
        } else if let Some((name, after)) = rest.strip_prefix("${").and_then(|r| r.split_once('}'))
        {
            out.push_str(&env.var(name).unwrap_or_default());
            rest = after;
        } else {
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    Some(out)
}

impl AgentFacts {
    /// Read SSH_AUTH_SOCK, the destination's `IdentityAgent` (when it is resolved) and, on
    /// Windows, ~/.ssh/config and ~/.ssh/pageant.conf.
    pub fn gather(env: &Env, resolved: Option<&Resolved>) -> Self {
        let p = env.platform;
        let auth_sock = env.var("SSH_AUTH_SOCK");
        let pageant_pipe = (p == Platform::Windows)
            .then(|| env.ssh_config())
            .flatten()
            .and_then(|config| {
                let conf = config.with_file_name(PAGEANT_CONF);
                let read = |path: &Path| ssh_config::read(path).unwrap_or_default();
                pageant_pipe(&read(&config), &read(&conf))
            });
        let identity_agent = resolved
            .and_then(|r| r.identity_agent.as_deref())
            .and_then(|v| expand_identity_agent(v, env));
        AgentFacts {
            platform: p,
            auth_sock,
            pageant_pipe,
            identity_agent,
        }
    }

    pub fn target(&self) -> AgentTarget {
        let windows = self.platform == Platform::Windows;
        if let Some(pipe) = &self.pageant_pipe {
            return AgentTarget::Pageant(pipe.clone());
        }
        match self.identity_agent.as_deref() {
            Some("none") => return AgentTarget::Disabled,
            Some(sock) => return AgentTarget::Socket(sock.to_string()),
            None => {}
        }
        match self.auth_sock.as_deref() {
            Some("pageant") if windows => AgentTarget::PageantName,
            Some(_) => AgentTarget::Env,
            None if windows => AgentTarget::Env,
            None => AgentTarget::NoSocket,
        }
    }

    /// Where the agent is, in words.
    pub fn place(&self) -> String {
        match (self.target(), &self.auth_sock) {
            (AgentTarget::Pageant(pipe), _) => {
                format!("Pageant's pipe {pipe} (from {})", PAGEANT_CONF)
            }
            (AgentTarget::Socket(sock), _) => format!("{sock} (IdentityAgent)"),
            (AgentTarget::Disabled, _) => "no agent (IdentityAgent none)".into(),
            (_, Some(sock)) => sock.clone(),
            (_, None) => format!("the {} service ({})", AGENT_SERVICE, WINDOWS_AGENT_PIPE),
        }
    }
}

/// `ssh-add ARGS` against the agent ssh will use.
pub fn ssh_add(target: &AgentTarget) -> Cmd {
    let cmd = Cmd::new("ssh-add");
    match target {
        AgentTarget::Pageant(pipe) | AgentTarget::Socket(pipe) => cmd.env("SSH_AUTH_SOCK", pipe),
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
    /// `IdentityAgent none`: ssh asks no agent for this host.
    Disabled,
}

/// Read the agent's state. `ssh-add -l` exits 0 with keys, 1 with none, 2 when no agent answers.
pub fn agent_state(exec: &Exec, facts: &AgentFacts) -> Result<AgentState> {
    let target = facts.target();
    match target {
        AgentTarget::NoSocket => return Ok(AgentState::NoSocket),
        AgentTarget::PageantName => return Ok(AgentState::PageantName),
        AgentTarget::Disabled => return Ok(AgentState::Disabled),
        _ => {}
    }
    let out = exec.run(&ssh_add(&target).arg("-l"))?;
    Ok(match out.code {
        Some(0) => AgentState::Answers(out.stdout.lines().filter(|l| !l.trim().is_empty()).count()),
        Some(1) => AgentState::Answers(0),
        _ => AgentState::NoAnswer(out.last_error_line()),
    })
}

/// The public keys the agent holds, as `type blob comment` lines (`ssh-add -L`).
pub fn agent_keys(exec: &Exec, facts: &AgentFacts) -> Result<Vec<String>> {
    if facts.target() == AgentTarget::Disabled {
        return Ok(Vec::new());
    }
    let out = exec.run(&ssh_add(&facts.target()).arg("-L"))?;
    match out.code {
        Some(0) => Ok(out
            .stdout
            .lines()
            .filter(|l| crate::ssh::keys::public_blob(l).is_some())
            .map(str::to_string)
            .collect()),
        Some(1) => Ok(Vec::new()),
        _ => bail!("ssh-add -L failed: {}", out.last_error_line()),
    }
}

/// On Windows, ssh uses the service when SSH_AUTH_SOCK is unset or names the service's pipe.
pub fn windows_service_is_the_agent(facts: &AgentFacts) -> bool {
    facts.target() == AgentTarget::Env
        && facts
            .auth_sock
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case(WINDOWS_AGENT_PIPE))
}

/// sc and net report errors on stdout; ssh tools on stderr.
pub fn failure_line(out: &Output) -> String {
    match out.last_error_line() {
        line if line.is_empty() => last_line(&out.stdout),
        line => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_agent_is_expanded_as_ssh_expands_it() {
        let env = Env::new(Platform::Linux, "/home/u").with_var("XDG_RUNTIME_DIR", "/run/user/7");
        let x = |v: &str| expand_identity_agent(v, &env);
        assert_eq!(
            x("~/.1p/agent.sock").as_deref(),
            Some("/home/u/.1p/agent.sock")
        );
        assert_eq!(x("%d/a.sock").as_deref(), Some("/home/u/a.sock"));
        assert_eq!(
            x("${XDG_RUNTIME_DIR}/gcr/ssh").as_deref(),
            Some("/run/user/7/gcr/ssh")
        );
        assert_eq!(x("/tmp/100%%").as_deref(), Some("/tmp/100%"));
        assert_eq!(x("none").as_deref(), Some("none"));
        assert_eq!(x("SSH_AUTH_SOCK"), None);
        assert_eq!(x("$SSH_AUTH_SOCK"), None);
    }
}
