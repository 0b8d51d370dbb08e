//! The facts phase: what the checks judge, gathered before they judge it.
//!
//! Each step names the facts its check reads ([`super::Step::facts`]). Before the first check the
//! runner gathers every fact the plan names that can be had yet, at once, on scoped threads: the
//! probe's ssh round trip overlaps the local tools' version calls, and every thread is joined
//! before the phase ends, so nothing rdock starts outlives it. A fix names the facts it made
//! stale ([`super::Step::stale`]); the runner gathers those again before the next check that
//! reads them.

use std::path::PathBuf;

use crate::docker;
use crate::docker::clients::Facts as ClientFacts;
use crate::ssh::destination::{resolve, Resolved};
use crate::ssh::keys::offered_key;
use crate::ssh::multiplex::{self, Master};
use crate::ssh::probe::{self, Probe};
use crate::sys::exec::{Cmd, Output};

use super::Session;

/// One kind of fact. A fix says which kinds it made stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fact {
    /// `ssh -G` for the destination: what ssh will really use.
    Resolved,
    /// `ssh -V` and `docker --version`.
    Versions,
    /// `docker compose version --short`.
    Compose,
    /// The control master's state. Read before the probe connects: a connection replaces a stale
    /// socket, so afterwards it could no longer be seen.
    Master,
    /// The one ssh round trip, made as the docker CLI connects, that the remote checks judge.
    Probe,
    /// `docker --context NAME version` through the context.
    Verify,
    /// What ssh2 and paramiko would meet (the agent, known_hosts, the resolver).
    Clients,
}

/// What a fix changes when it does not say otherwise: everything learned from the remote or the
/// agent. The destination and the local tools stay as they were.
pub const REMOTE: &[Fact] = &[Fact::Master, Fact::Probe, Fact::Verify, Fact::Clients];

/// A fact a step's check reads, with what gathering it takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Want {
    /// `--identity`, absolute: the key the probe logs in with instead of the one ssh offers.
    Resolved(Option<PathBuf>),
    Versions,
    Compose,
    /// The context whose ssh_config block may turn multiplexing on.
    Master(String),
    Probe,
    /// The context to verify.
    Verify(String),
    /// The context whose endpoint the clients would read.
    Clients(String),
}

impl Want {
    pub fn fact(&self) -> Fact {
        match self {
            Want::Resolved(_) => Fact::Resolved,
            Want::Versions => Fact::Versions,
            Want::Compose => Fact::Compose,
            Want::Master(_) => Fact::Master,
            Want::Probe => Fact::Probe,
            Want::Verify(_) => Fact::Verify,
            Want::Clients(_) => Fact::Clients,
        }
    }
}

/// `ssh -V` and `docker --version`, as they answered.
#[derive(Clone, Debug)]
pub struct Versions {
    pub ssh: Result<Output, String>,
    pub docker: Result<Output, String>,
}

/// Everything gathered so far. `None`: not gathered (yet, or again since a fix made it stale).
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub resolved: Option<Result<Resolved, String>>,
    pub versions: Option<Versions>,
    pub compose: Option<Result<Output, String>>,
    /// `None` inside: multiplexing is off for this host, so there is no master to ask about.
    pub master: Option<Option<Result<Master, String>>>,
    pub probe: Option<Probe>,
    pub verify: Option<(String, Result<Output, String>)>,
    pub clients: Option<Result<ClientFacts, String>>,
}

impl Facts {
    pub fn has(&self, fact: Fact) -> bool {
        match fact {
            Fact::Resolved => self.resolved.is_some(),
            Fact::Versions => self.versions.is_some(),
            Fact::Compose => self.compose.is_some(),
            Fact::Master => self.master.is_some(),
            Fact::Probe => self.probe.is_some(),
            Fact::Verify => self.verify.is_some(),
            Fact::Clients => self.clients.is_some(),
        }
    }

    /// Forget what a fix made stale.
    pub fn forget(&mut self, stale: &[Fact]) {
        for fact in stale {
            match fact {
                Fact::Resolved => self.resolved = None,
                Fact::Versions => self.versions = None,
                Fact::Compose => self.compose = None,
                Fact::Master => self.master = None,
                Fact::Probe => self.probe = None,
                Fact::Verify => self.verify = None,
                Fact::Clients => self.clients = None,
            }
        }
    }
}

/// When the runner gathers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Before the first check: only what cannot be changed by an earlier step's fix is worth
    /// having yet, and only what can be had without one (the clients' facts need the key the
    /// key check finds; verify runs early only through a context that already points there).
    First,
    /// Before a check whose facts are missing: gather them whatever it takes.
    Now,
}

/// `docker --context NAME version`, as verify runs it.
pub fn verify_cmd(name: &str) -> Cmd {
    docker::server_version_cmd(name, std::time::Duration::from_secs(60))
}

fn text(result: anyhow::Result<Output>) -> Result<Output, String> {
    result.map_err(|e| format!("{e:#}"))
}

/// Run a tool's version call only when the tool is on PATH (the tools check names what is not).
fn on_path(exec: &crate::sys::exec::Exec, cmd: &Cmd) -> Result<Output, String> {
    match exec.which(cmd.program()) {
        Some(_) => text(exec.run(cmd)),
        None => Err(format!("{} is not on PATH", cmd.program())),
    }
}

/// Gather the facts in `wants` that `s.facts` does not hold, at once, and keep them in `s.facts`.
/// Returns when every one is in (or could not be had): no thread outlives this call.
pub fn gather(s: &mut Session, wants: &[Want], phase: Phase) {
    let missing: Vec<&Want> = wants.iter().filter(|w| !s.facts.has(w.fact())).collect();
    if missing.is_empty() {
        return;
    }
    let want = |fact: Fact| missing.iter().find(|w| w.fact() == fact).copied();
    // The destination first (two quick `ssh -G`): everything remote starts from it.
    if let (Some(Want::Resolved(identity)), Some(dest)) = (want(Fact::Resolved), s.dest.clone()) {
        let resolved = resolve(&s.exec, &dest).map(|r| Resolved {
            socket: s.socket.clone(),
            identity: Some(offered_key(&r, identity.as_deref(), &s.env)),
            ..r
        });
        s.facts.resolved = Some(resolved.map_err(|e| format!("{e:#}")));
    }
    // The remote facts start from what this phase resolved, or what the session already holds.
    let r: Option<Resolved> = match &s.facts.resolved {
        Some(Ok(r)) => Some(r.clone()),
        _ => s.resolved.clone(),
    };
    let verify = match (want(Fact::Verify), phase, &r) {
        (Some(Want::Verify(name)), Phase::Now, _) => Some(name.clone()),
        (Some(Want::Verify(name)), Phase::First, Some(r)) if points_here(s, name, r) => {
            Some(name.clone())
        }
        _ => None,
    };
    let master = match (want(Fact::Master), &r) {
        (Some(Want::Master(context)), Some(r)) => Some(multiplexed(s, context, r)),
        _ => None,
    };
    let probe = want(Fact::Probe).is_some() && r.is_some();
    let clients = match want(Fact::Clients) {
        Some(Want::Clients(context)) if s.resolved.is_some() && s.key.is_some() => {
            Some(context.clone())
        }
        _ => None,
    };
    let versions = want(Fact::Versions).is_some();
    let compose = want(Fact::Compose).is_some();

    let label = match (&r, probe, &verify) {
        (Some(r), true, _) => format!("connecting to {}", r.display()),
        (_, _, Some(name)) => format!("docker --context {name} version"),
        _ => "checking".to_string(),
    };
    let shared: &Session = s;
    let exec = &shared.exec;
    let own = shared.own_connection;
    let found = shared.term.spin(&label, || {
        std::thread::scope(|scope| {
            let versions = versions.then(|| {
                scope.spawn(|| {
                    let [ssh_v, docker_v] = super::tools::version_cmds();
                    Versions {
                        ssh: on_path(exec, &ssh_v),
                        docker: on_path(exec, &docker_v),
                    }
                })
            });
            let compose =
                compose.then(|| scope.spawn(|| text(exec.run(&docker::compose_version_cmd()))));
            let verify = verify.map(|name| {
                scope.spawn(move || {
                    let out = text(exec.run(&verify_cmd(&name)));
                    (name, out)
                })
            });
            let clients = clients
                .map(|context| scope.spawn(move || super::clients::gather(shared, &context)));
            // The master's state before the probe connects, then the probe, on this thread.
            let master = master.map(|multiplexed| {
                let r = r
                    .as_ref()
                    .expect("a master is wanted only with a destination");
                multiplexed.then(|| multiplex::master_state(exec, r).map_err(|e| format!("{e:#}")))
            });
            let probe = probe.then(|| {
                let r = r
                    .as_ref()
                    .expect("the probe is wanted only with a destination");
                probe::run(exec, r, own)
            });
            Found {
                versions: joined(versions),
                compose: joined(compose),
                verify: joined(verify),
                clients: joined(clients),
                master,
                probe,
            }
        })
    });
    let facts = &mut s.facts;
    facts.versions = found.versions.or(facts.versions.take());
    facts.compose = found.compose.or(facts.compose.take());
    facts.verify = found.verify.or(facts.verify.take());
    facts.clients = found.clients.or(facts.clients.take());
    facts.master = found.master.or(facts.master.take());
    facts.probe = found.probe.or(facts.probe.take());
}

/// A scoped thread's answer (none when it panicked: the fact stays missing, and its check says so).
fn joined<T>(handle: Option<std::thread::ScopedJoinHandle<'_, T>>) -> Option<T> {
    handle.and_then(|h| h.join().ok())
}

/// What one phase found.
struct Found {
    versions: Option<Versions>,
    compose: Option<Result<Output, String>>,
    verify: Option<(String, Result<Output, String>)>,
    clients: Option<Result<ClientFacts, String>>,
    master: Option<Option<Result<Master, String>>>,
    probe: Option<Probe>,
}

/// Does the context already point where setup would point it? Then verify can run before the
/// context step looks, and a rerun that changes nothing makes its two round trips at once.
fn points_here(s: &Session, name: &str, r: &Resolved) -> bool {
    !s.exec.dry_run
        && docker::endpoint_of(&s.env, name)
            .ok()
            .flatten()
            .is_some_and(|have| r.same_endpoint(&have))
}

/// Is multiplexing on for this host, so that a master could be asked about? Through ssh_config
/// (`ssh -G` names a ControlMaster) or rdock's own block for the context.
fn multiplexed(s: &Session, context: &str, r: &Resolved) -> bool {
    if s.env.platform == crate::sys::platform::Platform::Windows {
        return false; // Windows OpenSSH has no ControlMaster.
    }
    r.control_master.is_some()
        || s.env
            .ssh_config()
            .and_then(|p| crate::ssh::config::read(&p).ok())
            .is_some_and(|text| {
                crate::ssh::config::has_block(&text, &multiplex::block_name(context))
            })
}
