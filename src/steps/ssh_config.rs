//! This OS's agent settings in `~/.ssh/config` (AddKeysToAgent, UseKeychain, Pageant's Include),
//! kept in rdock's managed block; on Windows, a warning when ControlMaster applies.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::ssh::agent as ssh_agent;
use crate::ssh::config::{
    agent_block_body, check_markers, has_block, in_effect, read, render, set_block, unbalanced,
    write_block, Effect, AGENT_BLOCK,
};
use crate::sys::platform::Platform;

use super::{Finding, Kind, Outcome, Session, Step};

/// What the `ssh-config` check looks at, gathered by [`SshConfigStep`] (tests make these up).
#[derive(Clone, Debug)]
pub struct ConfigFacts {
    pub platform: Platform,
    /// The text of ~/.ssh/config ("" when missing).
    pub text: String,
    /// Pageant is running or SSH_AUTH_SOCK=pageant (Windows).
    pub pageant: bool,
    /// ~/.ssh/pageant.conf exists (Pageant was started with --openssh-config).
    pub pageant_conf: bool,
    /// The destination's alias and the ControlMaster value `ssh -G` reports for it, when set.
    pub control_master: Option<(String, String)>,
    /// Setup may write the block: --yes was given, or there is a terminal to ask on.
    pub can_ask: bool,
    /// The destination's alias and `addkeystoagent` as `ssh -G` printed it: what ssh will do,
    /// which the file's text must agree with (None when not known, or known only from before
    /// rdock wrote the file).
    pub ssh_add_keys: Option<(String, String)>,
}

/// The `ssh-config` finding: are this OS's agent settings in effect, and (on Windows) is
/// connection sharing off? Fixable when rdock's agent block would make it right and consent can
/// be had.
pub fn judge(f: &ConfigFacts) -> Finding {
    let id = "ssh-config";
    let mut problems: Vec<(String, String)> = Vec::new();
    let mut fixable = false;
    let mut ok = f.platform.agent_config_reason(f.pageant).to_string();
    if let Some(body) = agent_block_body(f.platform, f.pageant, &f.text) {
        let wanted = f.platform.agent_config(f.pageant);
        let summary = summary(&wanted);
        let effects: Vec<Effect> = wanted
            .iter()
            .map(|&(k, v)| in_effect(&f.text, k, v))
            .collect();
        let current = set_block(&f.text, AGENT_BLOCK, &body) == f.text;
        let offer = |problems: &mut Vec<(String, String)>, message: String, what: &str| {
            let mut fix = format!(
                "{what}{}:",
                if f.can_ask {
                    ""
                } else {
                    " (rdock setup --yes does it)"
                }
            );
            for line in body.lines() {
                fix.push_str(&format!("\n  {line}"));
            }
            if f.pageant {
                fix.push('\n');
                fix.push_str(&ssh_agent::pageant_advice());
            }
            problems.push((message, fix));
        };
        // What ssh will do, as `ssh -G` says, is the last word over the file's text.
        let adds = wanted.iter().any(|(k, _)| *k == "AddKeysToAgent");
        let refused = f
            .ssh_add_keys
            .as_ref()
            .filter(|(_, said)| adds && said.as_str() == "false");
        if let (true, Some((host, said))) = (effects.iter().all(|e| *e == Effect::Yes), refused) {
            problems.push((
                format!(
                    "~/.ssh/config sets AddKeysToAgent yes, but `ssh -G {host}` says addkeystoagent {said}: ssh does not take that line for {host}"
                ),
                format!(
                    "`ssh -G {host}` shows what ssh uses: an earlier Host or Match block, or an Include, sets AddKeysToAgent for {host} first"
                ),
            ));
        } else if effects.iter().all(|e| *e == Effect::Yes) {
            let mine = has_block(&f.text, AGENT_BLOCK);
            ok = format!(
                "~/.ssh/config sets {summary} ({})",
                if mine {
                    "rdock's block"
                } else {
                    "your own lines"
                }
            );
            // In effect, but the IgnoreUnknown line no longer carries the patterns of the user's
            // own IgnoreUnknown (rdock's comes first and wins). Otherwise a block that holds more
            // than this OS needs (a macOS block read on Linux through shared dotfiles) stays.
            if mine && !current && !f.platform.apple_only_options().is_empty() {
                fixable = f.can_ask;
                offer(
                    &mut problems,
                    "rdock's block in ~/.ssh/config is out of date".into(),
                    "make rdock's block in ~/.ssh/config read",
                );
            }
            if f.pageant && !f.pageant_conf {
                problems.push((
                    format!(
                        "~/.ssh/config includes {}, but Pageant has not written it",
                        ssh_agent::PAGEANT_CONF
                    ),
                    ssh_agent::pageant_advice(),
                ));
            }
        } else if current {
            // rdock's block is in place, and an earlier line wins over it.
            for ((k, v), e) in wanted.iter().zip(&effects) {
                if let Effect::Overridden(line, value) = e {
                    problems.push((
                        format!("line {line} of ~/.ssh/config sets {k} {value}, before rdock's {k} {v}"),
                        format!("delete line {line} of ~/.ssh/config (ssh takes the first value it reads)"),
                    ));
                }
            }
        } else {
            fixable = f.can_ask;
            offer(
                &mut problems,
                format!(
                    "~/.ssh/config does not set {summary}: {}",
                    f.platform.agent_config_reason(f.pageant)
                ),
                "add at the top of ~/.ssh/config",
            );
        }
    }
    if let Some((host, value)) = &f.control_master {
        if !f.platform.supports_multiplexing() {
            problems.push((
                format!("ControlMaster {value} applies to {host}, and Windows OpenSSH cannot share connections"),
                format!("remove ControlMaster, ControlPath and ControlPersist for {host} from ~/.ssh/config"),
            ));
        }
    }
    if problems.is_empty() {
        return Finding::ok(id, ok);
    }
    let (messages, fixes): (Vec<String>, Vec<String>) = problems.into_iter().unzip();
    let finding = Finding::warn(id, messages.join("; "), fixes.join("\n"));
    if fixable {
        finding.fixable()
    } else {
        finding
    }
}

fn summary(directives: &[(&str, &str)]) -> String {
    directives
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Keep this OS's agent settings in `~/.ssh/config` (block [`AGENT_BLOCK`]); on Windows, warn
/// when ControlMaster applies to the destination. An offer, not a requirement: it never blocks
/// setup, and without a terminal or `--yes` it warns and names `--yes` instead of asking.
pub struct SshConfigStep {
    /// `--yes`: write without asking.
    pub yes: bool,
    /// This run wrote ~/.ssh/config: what `ssh -G` said before is no longer what ssh does.
    pub wrote: bool,
}

impl SshConfigStep {
    fn facts(&self, s: &Session, path: &Path) -> Result<ConfigFacts> {
        let text = read(path)?;
        check_markers(&text).map_err(|e| unbalanced(path, e))?;
        let sock = s.env.var("SSH_AUTH_SOCK");
        let p = s.env.platform;
        let pageant = p == Platform::Windows
            && ssh_agent::pageant_in_use(p, sock.as_deref(), pageant_running(s));
        let pageant_conf = path
            .parent()
            .is_some_and(|dir| dir.join(ssh_agent::PAGEANT_CONF).is_file());
        let control_master = s
            .resolved
            .as_ref()
            .and_then(|r| Some((r.dest.host.clone(), r.control_master.clone()?)));
        let ssh_add_keys = s
            .resolved
            .as_ref()
            .filter(|_| !self.wrote)
            .and_then(|r| Some((r.dest.host.clone(), r.add_keys_to_agent.clone()?)));
        Ok(ConfigFacts {
            platform: p,
            text,
            pageant,
            pageant_conf,
            control_master,
            can_ask: self.yes || s.term.is_interactive(),
            ssh_add_keys,
        })
    }
}

/// Is Pageant running? (`tasklist`, Windows only; false when tasklist cannot be run.)
pub fn pageant_running(s: &Session) -> bool {
    ssh_agent::pageant_running(&s.exec)
}

impl Step for SshConfigStep {
    fn kind(&self) -> Kind {
        Kind::SshConfig
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let Some(path) = s.env.ssh_config() else {
            return Finding::skip("ssh-config", "skipped: no home directory");
        };
        let found = match self.facts(s, &path) {
            Ok(facts) => judge(&facts),
            Err(e) => Finding::warn(
                "ssh-config",
                format!("{e:#}"),
                "correct ~/.ssh/config as this says; rdock changes nothing in it until then",
            ),
        };
        // ssh ignores $HOME: what rdock reads and writes under it is not what ssh will do.
        match s.env.ssh_home_differs() {
            Some((home, ssh)) => Finding::warn(
                "ssh-config",
                format!(
                    "ssh reads ~/.ssh from {} (this user's passwd entry) and ignores $HOME ({}): the ~/.ssh/config, key and known_hosts rdock reads and writes under $HOME are not what ssh uses",
                    ssh.display(),
                    home.display()
                ),
                format!(
                    "run rdock with HOME={0}, where ssh reads (HOME={0} rdock …)",
                    ssh.display()
                ),
            ),
            None => found,
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let (path, facts, body) = self.block(s)?;
        let what = summary(&facts.platform.agent_config(facts.pageant));
        let lines: Vec<String> = if self.yes {
            Vec::new()
        } else {
            std::iter::once("rdock would add these lines at the top of ~/.ssh/config:".to_string())
                .chain(
                    render(AGENT_BLOCK, &body, "\n")
                        .lines()
                        .map(|l| format!("  {l}")),
                )
                .collect()
        };
        if let Some(no) = s.consent(&lines, "Add them?", self.yes, "--yes") {
            return Ok(no);
        }
        write_block(&path, AGENT_BLOCK, &body)?;
        self.wrote = true;
        Ok(Outcome::Done(format!("added {what} to ~/.ssh/config")))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        match self.block(s) {
            Ok((_, facts, body)) => {
                let what = summary(&facts.platform.agent_config(facts.pageant));
                std::iter::once(format!("would add {what} to ~/.ssh/config:"))
                    .chain(
                        render(AGENT_BLOCK, &body, "\n")
                            .lines()
                            .map(|l| format!("  {l}")),
                    )
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            Err(e) => format!("{e:#}"),
        }
    }
}

impl SshConfigStep {
    /// The config file, what is known of it, and the agent block it should hold.
    fn block(&self, s: &Session) -> Result<(PathBuf, ConfigFacts, String)> {
        let Some(path) = s.env.ssh_config() else {
            bail!("no home directory");
        };
        let facts = self.facts(s, &path)?;
        let Some(body) = agent_block_body(facts.platform, facts.pageant, &facts.text) else {
            bail!("nothing to write");
        };
        Ok((path, facts, body))
    }
}
