//! Sharing one ssh connection among docker's commands: rdock's managed block in ~/.ssh/config,
//! the state of the control master, and what one docker command takes through the context.
//! Setup offers sharing where one docker command is slow enough for it to matter; doctor says
//! whether connections are shared and what one command takes. Linux and macOS only: Windows
//! OpenSSH has no ControlMaster.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Result};

use crate::ssh::config as ssh_config;
use crate::ssh::multiplex::{self, block_body, block_name, worth_sharing, Master, SESSIONS_NOTE};
use crate::sys::exec::quote;

use super::context::seconds;
use super::{Fact, Finding, Kind, Outcome, Session, Step, Want};

/// What the command line says about sharing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sharing {
    /// Doctor: report only.
    Report,
    /// Setup without a flag: offer it when one docker command is slow enough; `yes`: `--yes`.
    Offer { yes: bool },
    /// `rdock setup --multiplex`: turn it on, whatever the link.
    On,
    /// `rdock setup --no-multiplex`: leave it off, and take rdock's block out.
    Off,
}

/// Are docker's connections to this host shared?
pub struct MultiplexStep {
    pub context: String,
    pub sharing: Sharing,
    /// What one docker command took before the fix turned sharing on.
    before: Option<Duration>,
}

impl MultiplexStep {
    pub fn new(context: String, sharing: Sharing) -> Self {
        MultiplexStep {
            context,
            sharing,
            before: None,
        }
    }
}

fn config(s: &Session) -> Result<PathBuf> {
    s.env
        .ssh_config()
        .ok_or_else(|| anyhow::anyhow!("cannot find the home directory"))
}

/// What one docker command through the context took, when it ran and worked.
fn took(s: &Session, context: &str) -> Option<Duration> {
    s.facts
        .verify
        .as_ref()
        .filter(|v| v.name == context && v.out.as_ref().is_ok_and(|o| o.success()))
        .map(|v| v.took)
}

/// rdock's block: absent, as rdock writes it today, or an older text of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Absent,
    Current,
    Outdated,
}

impl Step for MultiplexStep {
    fn kind(&self) -> Kind {
        Kind::Multiplex
    }

    /// Doctor times a docker command only where it would log in as the person's docker does
    /// and change nothing (the agent already holds the key: see `Want::Timed`).
    fn needs(&self) -> &'static [Kind] {
        match self.sharing {
            Sharing::Report => &[Kind::Destination, Kind::Identity],
            _ => self.kind().needs(),
        }
    }

    fn facts(&self) -> Vec<Want> {
        let timed = match self.sharing {
            // Setup's verify step ran the same call just before.
            Sharing::Offer { .. } | Sharing::On | Sharing::Off => {
                Want::Verify(self.context.clone())
            }
            Sharing::Report => Want::Timed(self.context.clone()),
        };
        let mut wants = vec![Want::Master(self.context.clone()), timed];
        if matches!(self.sharing, Sharing::Offer { .. }) {
            wants.push(Want::Link);
        }
        wants
    }

    fn stale(&self) -> &'static [Fact] {
        &[Fact::Master]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "multiplex";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        let host = &r.dest.host;
        let took = took(s, &self.context);
        let rtt = s.facts.link.clone().and_then(Result::ok);
        let one = took.map(|t| format!("; one docker command takes {} here", seconds(t)));
        let one = one.unwrap_or_default();
        if !s.env.platform.supports_multiplexing() {
            return if self.sharing == Sharing::On {
                Finding::fail(
                    id,
                    "Windows OpenSSH has no ControlMaster",
                    "leave out --multiplex on Windows",
                )
            } else {
                Finding::ok(
                    id,
                    format!(
                        "connections are not shared: Windows OpenSSH has no ControlMaster{one}"
                    ),
                )
            };
        }
        let name = block_name(&self.context);
        let body = block_body(host, s.env.platform);
        let block = config(s).and_then(|p| ssh_config::read(&p)).map(|text| {
            if !ssh_config::has_block(&text, &name) {
                Block::Absent
            } else if ssh_config::set_block(&text, &name, &body) == text {
                Block::Current
            } else {
                Block::Outdated
            }
        });
        let block = match block {
            Ok(b) => b,
            Err(e) => return Finding::fail(id, format!("{e:#}"), "check ~/.ssh/config"),
        };
        let turn_on = format!("rdock setup {} --multiplex", r.dest);
        if block == Block::Absent && r.control_master.is_none() {
            // Setup's verify line said it just above.
            let one = if self.sharing == Sharing::Report {
                one
            } else {
                String::new()
            };
            return match self.sharing {
                Sharing::Report => Finding::ok(
                    id,
                    format!("connections are not shared for {host}{one} ({turn_on} shares one)"),
                ),
                Sharing::Off => Finding::ok(
                    id,
                    format!("connections are not shared for {host}{one} (--no-multiplex)"),
                ),
                Sharing::Offer { .. } if !worth_sharing(rtt, took) => Finding::ok(
                    id,
                    format!(
                        "connections are not shared for {host}{one}: {} that sharing saves little ({turn_on} shares one)",
                        match rtt {
                            Some(rtt) => format!("the round trip is {}, near enough", millis(rtt)),
                            None => "quick enough".into(),
                        }
                    ),
                ),
                Sharing::Offer { .. } | Sharing::On => Finding::warn(
                    id,
                    format!(
                        "connections are not shared for {host}{one}: each docker command logs in anew"
                    ),
                    turn_on,
                )
                .fixable(),
            };
        }
        let how = if block == Block::Absent {
            "your ssh config"
        } else {
            "rdock's block in ~/.ssh/config"
        };
        if self.sharing == Sharing::Off {
            return if block == Block::Absent {
                Finding::warn(
                    id,
                    format!("connections are shared for {host} ({how}); rdock leaves your ssh config as it is"),
                    format!("take ControlMaster out of the Host section for {host} in ~/.ssh/config"),
                )
            } else {
                Finding::warn(
                    id,
                    format!("connections are shared for {host} ({how}); --no-multiplex takes the block out"),
                    format!("rdock setup {} --no-multiplex", r.dest),
                )
                .fixable()
            };
        }
        if block == Block::Outdated {
            let f = Finding::warn(
                id,
                format!(
                    "connections are shared for {host} by an older block of rdock's, without keepalives: a connection that goes silent (a laptop's sleep, a changed network) makes every docker command hang"
                ),
                turn_on,
            );
            return if self.sharing == Sharing::Report {
                f
            } else {
                f.fixable()
            };
        }
        // On: is the master alive, gone, or a stale socket left behind? The facts phase read
        // it before the probe connected: a connection replaces a stale socket.
        let master = match s.facts.master.clone().flatten() {
            Some(Ok(master)) => master,
            Some(Err(e)) => return Finding::fail(id, e.0, "check ~/.ssh/config"),
            None => Master::None,
        };
        let one = match (self.before, took) {
            (Some(before), _) => {
                format!("; one docker command took {} here before", seconds(before))
            }
            _ => one,
        };
        match master {
            Master::Stale(path) => Finding::warn(
                id,
                format!(
                    "connections are shared for {host} ({how}), but {} is a stale control socket: its master died (the next ssh replaces it)",
                    s.env.tilde(&path)
                ),
                format!("rm {}", quote(&path.to_string_lossy())),
            ),
            Master::Frozen(path) => Finding::warn(
                id,
                format!(
                    "connections are shared for {host} ({how}), but its master does not answer on {} (stopped, or stuck): every docker command waits on it",
                    s.env.tilde(&path)
                ),
                format!("rm {}", quote(&path.to_string_lossy())),
            ),
            Master::Running => Finding::ok(
                id,
                format!("connections are shared for {host} ({how}); a master connection is open{one}"),
            )
            .detail(SESSIONS_NOTE),
            Master::None => Finding::ok(
                id,
                format!("connections are shared for {host} ({how}); the next connection opens a master{one}"),
            )
            .detail(SESSIONS_NOTE),
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(r) = s.resolved.clone() else {
            bail!("no destination");
        };
        if !s.env.platform.supports_multiplexing() {
            bail!("Windows OpenSSH has no ControlMaster; rdock never writes it there");
        }
        let path = config(s)?;
        let name = block_name(&self.context);
        if self.sharing == Sharing::Off {
            // The master goes with the block: else docker goes on sharing it for ControlPersist.
            let _ = s.exec.run(&multiplex::exit_cmd(&r));
            ssh_config::remove_block_from_file(&path, &name)?;
            return Ok(Outcome::Done(format!(
                "took rdock's \"{name}\" block out of {} and ended its master",
                s.env.tilde(&path)
            )));
        }
        let took = took(s, &self.context);
        if let Sharing::Offer { yes } = self.sharing {
            let why = match took {
                Some(t) => format!(
                    "One docker command takes {} here: each one logs in to {} anew. Sharing one ssh connection (a ControlMaster block in {}) saves that login.",
                    seconds(t),
                    r.dest.host,
                    s.env.tilde(&path)
                ),
                None => format!(
                    "Each docker command logs in to {} anew. Sharing one ssh connection (a ControlMaster block in {}) saves that login.",
                    r.dest.host,
                    s.env.tilde(&path)
                ),
            };
            let question = format!(
                "Share one connection for docker commands to {}?",
                r.dest.host
            );
            if let Some(declined) = s.consent(&[why], &question, yes, "--multiplex") {
                return Ok(declined);
            }
        }
        ssh_config::write_block(&path, &name, &block_body(&r.dest.host, s.env.platform))?;
        self.before = took;
        let far = match s.facts.link.clone().and_then(Result::ok) {
            Some(rtt) => format!(" (the round trip is {})", millis(rtt)),
            None => String::new(),
        };
        Ok(Outcome::Done(format!(
            "docker commands to {} now share one connection{far}: added a multiplexing block to {}\n{SESSIONS_NOTE}",
            r.dest.host,
            s.env.tilde(&path)
        )))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        let (Some(r), Ok(path)) = (&s.resolved, config(s)) else {
            return "would add a multiplexing block to ~/.ssh/config".into();
        };
        if self.sharing == Sharing::Off {
            return format!(
                "would take rdock's \"{}\" block out of {}\nwould run: {}",
                block_name(&self.context),
                s.env.tilde(&path),
                multiplex::exit_cmd(r).display()
            );
        }
        std::iter::once(format!("would add to {}:", s.env.tilde(&path)))
            .chain(
                block_body(&r.dest.host, s.env.platform)
                    .lines()
                    .map(|l| format!("  {l}")),
            )
            .chain([SESSIONS_NOTE.to_string()])
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A round trip as a person reads it: "0.3 ms", "42 ms".
fn millis(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}
