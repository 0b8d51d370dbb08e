//! `rdock remove NAME [--revoke]` as steps of the plan: find the context; with --revoke, find
//! the key ssh logs in with there and who else logs in with it, and take it out of the remote
//! authorized_keys (revoke.rs); then remove the context (switching to `default` first when it
//! is the current one) and rdock's ssh_config block for it. Without --revoke, the last step
//! says how to revoke the key by hand. Keys and known_hosts are never touched.
//!
//! The steps share what the first ones found ([`Removal`]), and the first fix asks the one
//! question for the whole removal: a person agrees to it once, before anything changes.

mod revoke;

use std::cell::{Ref, RefCell, RefMut};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{bail, Result};

use crate::docker::{self, ContextInfo};
use crate::ssh::authorized_keys;
use crate::ssh::command::Target;
use crate::ssh::config as ssh_config;
use crate::ssh::destination::{resolve, Endpoint, Resolved};
use crate::ssh::{keys, multiplex};
use crate::sys::env::Env;
use crate::sys::exec::Cmd;

use super::{Finding, Kind, Outcome, Session, Status, Step};

/// What the command line says, and what the steps found, for every step of one removal.
#[derive(Default)]
struct Removal {
    name: String,
    /// `--identity`: the key to revoke instead of the one ssh offers.
    identity: Option<PathBuf>,
    yes: bool,
    force: bool,
    revoke: bool,
    /// The context to remove, and every context docker has (the target step).
    context: Option<ContextInfo>,
    contexts: Vec<ContextInfo>,
    /// With --revoke: the key to take out, and where (the revoke-key step).
    key: Option<revoke::Key>,
    /// The other contexts that log in there with that key (the shared-key step).
    others: Vec<String>,
    /// The answer to the one question, once asked: None to go on, or the declined outcome.
    answer: Option<Option<Outcome>>,
}

/// The removal's steps, sharing their [`Removal`].
#[derive(Clone)]
pub struct RemoveSteps(Rc<RefCell<Removal>>);

impl RemoveSteps {
    /// The plan's options for it: the context, `--identity`, `--yes`, `--force`, `--revoke`.
    pub fn new(
        name: String,
        identity: Option<std::path::PathBuf>,
        yes: bool,
        force: bool,
        revoke: bool,
    ) -> Self {
        RemoveSteps(Rc::new(RefCell::new(Removal {
            name,
            identity,
            yes,
            force,
            revoke,
            ..Removal::default()
        })))
    }

    /// The step of `kind`, when this removal has one (the revoke steps only with --revoke, the
    /// hint only without).
    pub fn step(&self, kind: Kind) -> Option<Box<dyn Step>> {
        let revoking = self.state().revoke;
        let shared = self.clone();
        Some(match kind {
            Kind::Target => Box::new(TargetStep(shared)),
            Kind::RevokeKey if revoking => Box::new(revoke::RevokeKeyStep(shared)),
            Kind::SharedKey if revoking => Box::new(revoke::SharedKeyStep(shared)),
            Kind::Revoke if revoking => Box::new(revoke::RevokeStep::new(shared)),
            Kind::Remove => Box::new(RemoveStep {
                shared,
                found: None,
            }),
            Kind::MultiplexBlock => Box::new(BlockStep(shared)),
            Kind::LeftAlone if !revoking => Box::new(LeftAloneStep(shared)),
            _ => return None,
        })
    }

    fn state(&self) -> Ref<'_, Removal> {
        self.0.borrow()
    }

    fn state_mut(&self) -> RefMut<'_, Removal> {
        self.0.borrow_mut()
    }

    /// Ask before the first change, once for the whole removal: None to go on, else why not.
    /// Every later fix gets the same answer.
    fn ask(&self, s: &Session) -> Option<Outcome> {
        if let Some(answer) = &self.state().answer {
            return answer.clone();
        }
        let (lines, question) = self.question(&s.env);
        let answer = s.consent(&lines, &question, self.state().yes, "--yes");
        self.state_mut().answer = Some(answer.clone());
        answer
    }

    /// What is shown first (with --revoke: where rdock logs in, and which key goes), and the
    /// question.
    fn question(&self, env: &Env) -> (Vec<String>, String) {
        let f = self.state();
        let context = match &f.context {
            Some(c) => format!("docker context {} ({})", c.name, c.endpoint),
            None => format!("docker context {}", f.name),
        };
        match &f.key {
            Some(key) => (
                key.announce(env, &f.others),
                format!("Revoke the key on {} and remove {context}?", key.at()),
            ),
            None => (Vec::new(), format!("Remove {context}?")),
        }
    }
}

/// A failure with no fix of rdock's to offer.
fn failed(id: &str, message: impl Into<String>) -> Finding {
    Finding {
        status: Status::Fail,
        ..Finding::ok(id, message)
    }
}

/// Find the context among docker's.
struct TargetStep(RemoveSteps);

impl Step for TargetStep {
    fn kind(&self) -> Kind {
        Kind::Target
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = Kind::Target.id();
        let name = self.0.state().name.clone();
        let contexts = match docker::list(&s.env) {
            Ok(contexts) => contexts,
            Err(e) => return failed(id, format!("{e:#}")),
        };
        let Some(context) = contexts.iter().find(|c| c.name == name).cloned() else {
            return failed(
                id,
                format!("there is no docker context named {name}; `rdock list` shows them"),
            );
        };
        let found = Finding::ok(id, format!("docker context {name} ({})", context.endpoint));
        let mut f = self.0.state_mut();
        f.context = Some(context);
        f.contexts = contexts;
        found
    }
}

/// `docker context use default` when the context is the current one, then `docker context rm`.
struct RemoveStep {
    shared: RemoveSteps,
    /// The context as the check found it.
    found: Option<ContextInfo>,
}

impl RemoveStep {
    /// The commands, each with what it does (docker will not remove the current context).
    fn commands(&self) -> Vec<(Cmd, String)> {
        let Some(c) = &self.found else {
            return Vec::new();
        };
        let mut commands = Vec::new();
        if c.current {
            let line = "switch to context default first".to_string();
            commands.push((docker::use_cmd("default"), line));
        }
        let line = format!("remove context {} ({})", c.name, c.endpoint);
        commands.push((docker::rm_cmd(&c.name), line));
        commands
    }
}

impl Step for RemoveStep {
    fn kind(&self) -> Kind {
        Kind::Remove
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = Kind::Remove.id();
        let name = self.shared.state().name.clone();
        match docker::list(&s.env) {
            Err(e) => failed(id, format!("{e:#}")),
            Ok(contexts) => {
                self.found = contexts.into_iter().find(|c| c.name == name);
                match &self.found {
                    None => Finding::ok(id, format!("there is no docker context {name}")),
                    Some(c) => failed(
                        id,
                        format!("docker context {name} ({}) is there", c.endpoint),
                    )
                    .fixable(),
                }
            }
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        if let Some(declined) = self.shared.ask(s) {
            return Ok(declined);
        }
        let mut done = Vec::new();
        for (cmd, line) in self.commands() {
            let out = s.exec.run(&cmd)?;
            if !out.success() {
                bail!("{} failed: {}", cmd.display(), out.last_error_line());
            }
            done.push(line);
        }
        Ok(Outcome::Done(done.join("\n")))
    }

    fn preview(&self, _: &Session, _: &Finding) -> String {
        let would =
            |(cmd, line): (Cmd, String)| format!("would {line}\nwould run: {}", cmd.display());
        let lines: Vec<String> = self.commands().into_iter().map(would).collect();
        lines.join("\n")
    }
}

/// rdock's own ssh_config block for this context (multiplexing), and nothing else.
struct BlockStep(RemoveSteps);

impl BlockStep {
    fn block(&self) -> String {
        multiplex::block_name(&self.0.state().name)
    }

    /// What the fix does: remove rdock's "multiplex NAME" block from ~/.ssh/config.
    fn sentence(&self, env: &Env, config: &Path) -> String {
        let block = self.block();
        format!(
            "remove rdock's \"{block}\" block from {}",
            env.tilde(config)
        )
    }
}

impl Step for BlockStep {
    fn kind(&self) -> Kind {
        Kind::MultiplexBlock
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = Kind::MultiplexBlock.id();
        let Some(config) = s.env.ssh_config() else {
            return Finding::ok(id, "there is no ssh_config");
        };
        match ssh_config::read(&config) {
            Err(e) => failed(id, format!("{e:#}")),
            Ok(text) if ssh_config::has_block(&text, &self.block()) => {
                failed(id, format!("rdock's \"{}\" block is there", self.block())).fixable()
            }
            Ok(_) => Finding::ok(id, format!("no \"{}\" block", self.block())),
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        if let Some(declined) = self.0.ask(s) {
            return Ok(declined);
        }
        let Some(config) = s.env.ssh_config() else {
            bail!("there is no ssh_config");
        };
        // The master goes first, its socket with it: else docker goes on sharing it for
        // ControlPersist, with the block gone. (With the block still there, the ssh's own check
        // takes the socket of a master that died.)
        let endpoint = self.0.state().context.as_ref().map(|c| c.endpoint.clone());
        if let Some(e) = endpoint.and_then(|e| Endpoint::parse(&e).ok()) {
            let d = &e.dest;
            let target = Target {
                user: d.user.as_deref(),
                port: d.port,
                host: &d.host,
            };
            let _ = s.exec.run(&multiplex::exit_cmd_for(target));
        }
        ssh_config::remove_block_from_file(&config, &self.block())?;
        Ok(Outcome::Done(self.sentence(&s.env, &config)))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        match s.env.ssh_config() {
            Some(config) => format!("would {}", self.sentence(&s.env, &config)),
            None => "would remove nothing".into(),
        }
    }
}

/// Without --revoke: the remote keeps the key; how to take it out by hand.
struct LeftAloneStep(RemoveSteps);

impl Step for LeftAloneStep {
    fn kind(&self) -> Kind {
        Kind::LeftAlone
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let (endpoint, explicit) = {
            let f = self.0.state();
            let endpoint = f.context.as_ref().map(|c| c.endpoint.clone());
            (endpoint, f.identity.clone())
        };
        let endpoint = endpoint.and_then(|e| Endpoint::parse(&e).ok());
        let public = endpoint
            .as_ref()
            .and_then(|e| destination(s, e).ok())
            .map(|r| identity(&s.env, &r, explicit.as_deref()).1);
        let blob = public.as_deref().and_then(keys::read_public_blob);
        // A command to type only with the real key in it: never one with a placeholder.
        let how = match (&endpoint, blob, &public) {
            (Some(e), Some(blob), _) => format!(
                "To revoke the key on the remote, run:\n    {}",
                authorized_keys::manual_command(&e.dest, &blob)
            ),
            (Some(e), None, Some(public)) => format!(
                "To revoke the key on the remote, delete the line of {} from ~/.ssh/authorized_keys on {} (rdock cannot read that key file)",
                s.env.tilde(public),
                e.dest
            ),
            _ => "rdock cannot tell which key the context logged in with: to revoke it, delete its line from ~/.ssh/authorized_keys on the remote".into(),
        };
        Finding::ok(
            Kind::LeftAlone.id(),
            format!("Keys, known_hosts and the remote were left as they are. {how}"),
        )
    }
}

/// `ssh -G` for the context's destination: the one place a removal resolves it, once (in the
/// revoke-key step with --revoke, else in the left-alone step).
fn destination(s: &Session, endpoint: &Endpoint) -> Result<Resolved> {
    resolve(&s.exec, &endpoint.dest)
}

/// The key ssh logs in with for a destination, as setup chose it: `--identity`, else the one
/// `ssh -G` says ssh offers (see `keys::offered_key`); and its public half. An identity file that
/// is itself a public key (its private half lives in an agent) is both.
fn identity(env: &Env, r: &Resolved, explicit: Option<&Path>) -> (PathBuf, PathBuf) {
    let offered = keys::offered_key(r, explicit, env);
    let public = if keys::read_public_line(&offered).is_some() {
        offered.clone()
    } else {
        keys::public_path(&offered)
    };
    (offered, public)
}
