//! The ssh-agent: it must answer, and it must hold the key, because the docker CLI runs ssh with
//! no terminal and cannot ask for a passphrase. What is read from the machine is gathered in
//! [`AgentFacts`] and judged by pure functions ([`judge`], [`not_held`]), so every OS's branch is
//! tested on any OS.

use std::path::Path;

use anyhow::{bail, Result};

use crate::ssh::agent::{
    self as ssh_agent, add_key_cmd, agent_keys, agent_state, failure_line, read_service,
    windows_service_is_the_agent, AgentFacts, AgentState, AgentTarget, ServiceState,
    MAX_AGENT_KEYS,
};
use crate::ssh::keys::public_blob;
use crate::sys::exec::{quote, Cmd};
use crate::sys::platform::{self, Platform};

use super::{Finding, Kind, Outcome, Session, Step};

/// The fix when no agent answers, for this machine.
pub(super) fn agent_fix(p: Platform) -> String {
    ssh_agent::agent_fix(
        p,
        ssh_agent::systemd_agent_unit(&|path| path.exists()).as_deref(),
    )
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
            let answers = format!(
                "ssh-agent answers at {} ({n} key{})",
                facts.place(),
                if *n == 1 { "" } else { "s" }
            );
            let f = match facts.target() {
                AgentTarget::Socket(sock) if facts.auth_sock.as_deref() != Some(sock.as_str()) => {
                    Finding::warn(
                        id,
                        format!(
                            "{answers}, but SSH_AUTH_SOCK {}: tools that read SSH_AUTH_SOCK directly (dockerode, ssh2-based clients) will not find the key",
                            match &facts.auth_sock {
                                Some(other) => format!("names {other}"),
                                None => "is not set".into(),
                            }
                        ),
                        format!("export SSH_AUTH_SOCK={}", quote(&sock)),
                    )
                }
                _ => Finding::ok(id, answers),
            };
            match p.empty_agent_note() {
                Some(note) if *n == 0 => f.detail(note),
                _ => f,
            }
        }
        AgentState::NoSocket => Finding::fail(
            id,
            "no ssh-agent: SSH_AUTH_SOCK is not set",
            ssh_agent::agent_fix(p, unit),
        ),
        AgentState::Disabled => Finding::ok(
            id,
            "ssh asks no agent for this host (IdentityAgent none): it reads the key file itself",
        ),
        AgentState::PageantName => Finding::fail(
            id,
            "SSH_AUTH_SOCK=pageant, which OpenSSH (and so the docker CLI) cannot use",
            ssh_agent::pageant_advice(),
        ),
        AgentState::NoAnswer(why) => match (p, facts.target()) {
            (Platform::Windows, AgentTarget::Pageant(pipe)) => Finding::fail(
                id,
                format!("Pageant does not answer at {pipe} ({why}); that pipe is from an earlier run of Pageant"),
                ssh_agent::pageant_advice(),
            ),
            (Platform::Windows, _) if windows_service_is_the_agent(facts) => match service {
                None => Finding::fail(
                    id,
                    format!(
                        "no ssh-agent answers, and Windows has no {} service (the OpenSSH client is not installed)",
                        ssh_agent::AGENT_SERVICE
                    ),
                    p.install_hint("ssh"),
                ),
                Some(st) => {
                    let cmds = ssh_agent::agent_service_cmds(st);
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
                            ssh_agent::service_advice(&cmds),
                        )
                        .fixable()
                    }
                }
            },
            (_, AgentTarget::Socket(sock)) => Finding::fail(
                id,
                format!("no ssh-agent answers at {sock}, the IdentityAgent ssh_config names for this host ({why})"),
                format!(
                    "start the agent that listens there (for OpenSSH's own: ssh-agent -a {}), or change IdentityAgent in ~/.ssh/config",
                    quote(&sock)
                ),
            ),
            _ => Finding::fail(
                id,
                format!(
                    "no ssh-agent answers at SSH_AUTH_SOCK={} ({why})",
                    facts.auth_sock.as_deref().unwrap_or("")
                ),
                ssh_agent::agent_fix(p, unit),
            ),
        },
    }
}

pub struct AgentStep {
    /// `--yes`: on Windows, enable and start the ssh-agent service without asking.
    pub yes: bool,
}

impl Step for AgentStep {
    fn kind(&self) -> Kind {
        Kind::Agent
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let facts = AgentFacts::gather(&s.env, s.resolved.as_ref());
        let state = match agent_state(&s.exec, &facts) {
            Ok(state) => state,
            Err(e) => return Finding::fail("agent", format!("{e:#}"), agent_fix(s.env.platform)),
        };
        let service = match (&state, s.env.platform) {
            (AgentState::NoAnswer(_), Platform::Windows)
                if windows_service_is_the_agent(&facts) =>
            {
                read_service(&s.exec)
            }
            _ => None,
        };
        let unit = ssh_agent::systemd_agent_unit(&|path| path.exists());
        judge(&facts, &state, service.as_ref(), unit.as_deref())
    }

    /// Only the Windows service can be fixed: `sc.exe config` and `net start`, with consent, from
    /// an elevated prompt. Anywhere else the agent belongs to the user's shell.
    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let (service, cmds) = service_plan(s)?;
        let question = format!(
            "{}. Run {}?",
            service.describe(),
            cmds.iter()
                .map(Cmd::display)
                .collect::<Vec<_>>()
                .join(" and ")
        );
        if let Some(no) = s.consent(&[], &question, self.yes, "--yes") {
            return Ok(no);
        }
        for cmd in &cmds {
            let out = s.exec.run(cmd)?;
            if !out.success() {
                bail!("`{}` failed: {}", cmd.display(), failure_line(&out));
            }
        }
        Ok(Outcome::Done(format!(
            "enabled and started the {} service",
            ssh_agent::AGENT_SERVICE
        )))
    }

    fn can_fix(&self, s: &Session) -> Result<()> {
        service_plan(s).map(|_| ())
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        match service_plan(s) {
            Ok((_, cmds)) => {
                let mut lines = vec![format!(
                    "would enable and start the {} service",
                    ssh_agent::AGENT_SERVICE
                )];
                lines.extend(cmds.iter().map(|c| format!("would run: {}", c.display())));
                lines.join("\n")
            }
            Err(e) => format!("{e:#}"),
        }
    }
}

/// The Windows ssh-agent service and the commands that enable and start it.
fn service_plan(s: &Session) -> Result<(ServiceState, Vec<Cmd>)> {
    if s.env.platform != Platform::Windows {
        bail!("rdock cannot start an agent for your shell");
    }
    let Some(service) = read_service(&s.exec) else {
        bail!("the {} service is not installed", ssh_agent::AGENT_SERVICE);
    };
    let elevated = s
        .exec
        .run(&platform::elevation_query())
        .is_ok_and(|out| out.success());
    let cmds = ssh_agent::service_plan(&service, elevated)?;
    Ok((service, cmds))
}

/// Which keys ssh would offer: the agent's first, then the identity files `ssh -G` names.
fn describe(s: &Session, keys: &[String]) -> Vec<String> {
    let mut lines: Vec<String> = keys
        .iter()
        .map(|k| {
            let comment = k.split_whitespace().nth(2).unwrap_or("(no comment)");
            let blob = public_blob(k).unwrap_or("");
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
            .filter(|f| s.env.expand(f).is_file());
        lines.extend(existing.map(|file| format!("then ssh tries the file {file}")));
    }
    lines
}

/// More than [`MAX_AGENT_KEYS`] keys in the agent.
pub struct AgentKeysStep;

impl Step for AgentKeysStep {
    fn kind(&self) -> Kind {
        Kind::AgentKeys
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "agent-keys";
        let facts = AgentFacts::gather(&s.env, s.resolved.as_ref());
        // ssh-add reads SSH_AUTH_SOCK only: point it at the agent ssh asks.
        let to = match facts.target() {
            AgentTarget::Socket(sock) => format!("SSH_AUTH_SOCK={} ", quote(&sock)),
            _ => String::new(),
        };
        match agent_keys(&s.exec, &facts) {
            Ok(keys) if keys.len() > MAX_AGENT_KEYS => Finding::warn(
                id,
                format!(
                    "the agent holds {} keys; servers stop at MaxAuthTries with \"Too many authentication failures\"",
                    keys.len()
                ),
                format!("{to}ssh-add -D, then {to}ssh-add only the keys you need (or IdentitiesOnly yes with IdentityFile for this host in ~/.ssh/config)"),
            ),
            Ok(keys) => Finding::ok(id, format!("{} of at most {MAX_AGENT_KEYS} keys in the agent", keys.len())),
            Err(e) => Finding::fail(id, format!("{e:#}"), agent_fix(s.env.platform)),
        }
    }
}

/// The `identity` finding when the agent does not hold the key: the command that adds it (with
/// Pageant, through Pageant's pipe), and under WSL why an empty agent may surprise.
pub fn not_held(
    p: Platform,
    target: &AgentTarget,
    key: &Path,
    shown: &str,
    others: usize,
) -> Finding {
    let cmd = add_key_cmd(p, target, key).display();
    let fix = match target {
        AgentTarget::Pageant(pipe) => {
            format!("{cmd}  (with SSH_AUTH_SOCK={pipe}, Pageant's pipe; rdock setup does this)")
        }
        // ssh-add reads SSH_AUTH_SOCK only: point it at the agent ssh asks.
        AgentTarget::Socket(sock) => format!("SSH_AUTH_SOCK={} {cmd}", quote(sock)),
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
    fn kind(&self) -> Kind {
        Kind::Identity
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let Some(key) = s.key.clone() else {
            return Finding::skip("identity", "skipped: no key pair");
        };
        let facts = AgentFacts::gather(&s.env, s.resolved.as_ref());
        let shown = s.env.tilde(&key.identity);
        if facts.target() == AgentTarget::Disabled {
            return if key.private.is_none() {
                Finding::fail(
                    "identity",
                    format!("ssh asks no agent for this host (IdentityAgent none), and {shown} is a public key: its private key is only in an agent"),
                    "remove `IdentityAgent none` for this host from ~/.ssh/config, then rerun rdock setup",
                )
            } else if key.encrypted {
                Finding::fail(
                    "identity",
                    format!("ssh asks no agent for this host (IdentityAgent none), and {shown} has a passphrase the docker CLI cannot type"),
                    "remove `IdentityAgent none` for this host from ~/.ssh/config, then rerun rdock setup",
                )
            } else {
                Finding::ok(
                    "identity",
                    format!("ssh reads {shown} itself (IdentityAgent none; no passphrase)"),
                )
            };
        }
        let keys = match agent_keys(&s.exec, &facts) {
            Ok(keys) => keys,
            Err(e) => {
                return Finding::fail("identity", format!("{e:#}"), agent_fix(s.env.platform))
            }
        };
        let held = crate::ssh::keys::holds(&keys, &key.blob);
        let mut f = match (&key.private, held) {
            (_, true) => Finding::ok("identity", format!("the agent holds {shown}")),
            // Only the app that keeps the private key can put it back in the agent.
            (None, false) => Finding::fail(
                "identity",
                format!(
                    "the agent at {} no longer holds the private key of {shown} ({} other keys)",
                    facts.place(),
                    keys.len()
                ),
                "unlock the app whose agent holds it (1Password: unlock it), then rerun",
            ),
            (Some(private), false) => {
                not_held(s.env.platform, &facts.target(), private, &shown, keys.len())
            }
        };
        f.details.extend(describe(s, &keys));
        f
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(key) = s.key.clone() else {
            bail!("no key pair");
        };
        let shown = s.env.tilde(&key.identity);
        let Some(private) = &key.private else {
            bail!("{shown} is a public key: only the app whose agent holds its private key can add it");
        };
        let mut cmd = add_cmd(s, private);
        if key.encrypted {
            if !s.term.is_interactive() {
                bail!(
                    "{shown} has a passphrase and there is no terminal to type it on; run `{}` in a terminal, then rerun",
                    cmd.display()
                );
            }
            cmd = cmd.interactive();
        }
        let out = s.exec.run(&cmd)?;
        if !out.success() {
            bail!("ssh-add failed: {}", out.last_error_line());
        }
        Ok(Outcome::Done(format!("added {shown} to the agent")))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        match s.key.as_ref().and_then(|k| k.private.as_ref()) {
            Some(private) => format!(
                "would add {} to the agent\nwould run: {}",
                s.env.tilde(private),
                add_cmd(s, private).display()
            ),
            None => "would add the key to the agent".into(),
        }
    }
}

/// `ssh-add KEY` against the agent ssh will use.
fn add_cmd(s: &Session, key: &Path) -> Cmd {
    let target = AgentFacts::gather(&s.env, s.resolved.as_ref()).target();
    add_key_cmd(s.env.platform, &target, key)
}
