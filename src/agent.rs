//! The ssh-agent: it must answer, and it must hold the key, because the docker CLI runs ssh with
//! no terminal and cannot ask for a passphrase.

use anyhow::{bail, Result};

use crate::exec::Cmd;
use crate::fsutil;
use crate::session::Session;
use crate::step::{Finding, Step};

/// Past this many keys, servers stop at MaxAuthTries (6 by default) before reaching the right one.
pub const MAX_AGENT_KEYS: usize = 5;

/// What `ssh-add -l` says about the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentState {
    /// Answers; holds this many keys.
    Answers(usize),
    /// SSH_AUTH_SOCK is not set (and this OS needs it).
    NoSocket,
    /// `ssh-add -l` exit 2: nothing answers at the socket.
    NoAnswer(String),
}

/// Read the agent's state. `ssh-add -l` exits 0 with keys, 1 with none, 2 when no agent answers.
pub fn agent_state(s: &Session) -> Result<AgentState> {
    let sock = std::env::var("SSH_AUTH_SOCK").unwrap_or_default();
    if sock.is_empty() && s.platform != crate::platform::Platform::Windows {
        return Ok(AgentState::NoSocket);
    }
    let out = s.exec.run(&Cmd::new("ssh-add").arg("-l"))?;
    Ok(match out.code {
        Some(0) => AgentState::Answers(out.stdout.lines().filter(|l| !l.trim().is_empty()).count()),
        Some(1) => AgentState::Answers(0),
        _ => AgentState::NoAnswer(out.last_error_line()),
    })
}

/// The public keys the agent holds, as `type blob comment` lines (`ssh-add -L`).
pub fn agent_keys(s: &Session) -> Result<Vec<String>> {
    let out = s.exec.run(&Cmd::new("ssh-add").arg("-L"))?;
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

pub struct AgentStep;

impl Step for AgentStep {
    fn id(&self) -> String {
        "agent".into()
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let sock = std::env::var("SSH_AUTH_SOCK").unwrap_or_default();
        match agent_state(s) {
            Ok(AgentState::Answers(n)) => {
                let at = if sock.is_empty() {
                    "the system agent".to_string()
                } else {
                    sock
                };
                Finding::ok(
                    "agent",
                    format!(
                        "ssh-agent answers at {at} ({n} key{})",
                        if n == 1 { "" } else { "s" }
                    ),
                )
            }
            Ok(AgentState::NoSocket) => Finding::fail(
                "agent",
                "no ssh-agent: SSH_AUTH_SOCK is not set",
                s.platform.agent_fix(),
            ),
            Ok(AgentState::NoAnswer(why)) => Finding::fail(
                "agent",
                format!("no ssh-agent answers at SSH_AUTH_SOCK={sock} ({why})"),
                s.platform.agent_fix(),
            ),
            Err(e) => Finding::fail("agent", format!("{e:#}"), s.platform.agent_fix()),
        }
    }

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("rdock cannot start an agent for your shell")
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
        match agent_keys(s) {
            Ok(keys) if keys.len() > MAX_AGENT_KEYS => Finding::warn(
                id,
                format!(
                    "the agent holds {} keys; servers stop at MaxAuthTries with \"Too many authentication failures\"",
                    keys.len()
                ),
                "ssh-add -D, then ssh-add only the keys you need (or IdentitiesOnly yes with IdentityFile for this host in ~/.ssh/config)",
            ),
            Ok(keys) => Finding::ok(id, format!("{} of at most {MAX_AGENT_KEYS} keys in the agent", keys.len())),
            Err(e) => Finding::fail(id, format!("{e:#}"), s.platform.agent_fix()),
        }
    }

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("rdock does not remove keys from your agent")
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
        let shown = fsutil::tilde(&key.private);
        let keys = match agent_keys(s) {
            Ok(keys) => keys,
            Err(e) => return Finding::fail("identity", format!("{e:#}"), s.platform.agent_fix()),
        };
        let held = keys
            .iter()
            .any(|line| crate::keys::public_blob(line) == Some(key.blob.as_str()));
        let mut f = if held {
            Finding::ok("identity", format!("the agent holds {shown}"))
        } else {
            Finding::fail(
                "identity",
                format!(
                    "the agent does not hold {shown} ({} other keys)",
                    keys.len()
                ),
                format!(
                    "ssh-add {}",
                    crate::exec::quote(&key.private.to_string_lossy())
                ),
            )
            .fixable()
        };
        f.details = describe(s, &keys);
        f
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let Some(key) = s.key.clone() else {
            bail!("no key pair");
        };
        let shown = fsutil::tilde(&key.private);
        let mut cmd = Cmd::new("ssh-add").arg(&key.private).changes();
        if key.encrypted {
            if !s.ui.is_interactive() && !s.exec.dry_run {
                bail!(
                    "{shown} has a passphrase and there is no terminal to type it on; run `ssh-add {shown}` in a terminal, then rerun"
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
