//! The facts phase: what the checks judge, gathered before they judge it.
//!
//! Each step names the facts its check reads ([`super::Step::facts`]). Before the first check the
//! runner resolves the destination and starts gathering every other fact the plan names, at once,
//! on threads of a `std::thread::scope` that spans the run: the probe's ssh round trip overlaps
//! the local checks, as the docker CLI's version calls do. A check waits for the facts it reads
//! (showing what it waits for on a terminal), never starts them itself. A fix names the facts it
//! made stale ([`super::Step::stale`]): what was still being gathered for them is stopped, and
//! the next check that reads them has them gathered anew. The scope joins every thread before the
//! run returns, so nothing rdock started outlives it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::docker;
use crate::docker::clients::Facts as ClientFacts;
use crate::ssh::destination::{resolve, Resolved};
use crate::ssh::keys::offered_key;
use crate::ssh::multiplex::{self, Master};
use crate::ssh::probe::{self, Forced, Probe};
use crate::sys::exec::{Cancel, Cmd, Exec, Output, DEFAULT_TIMEOUT};
use std::thread::{Scope, ScopedJoinHandle};

mod clients;

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
    /// `docker --context NAME version` through the context, and how long it took.
    Verify,
    /// What ssh2 and paramiko would meet (the agent, known_hosts, the resolver).
    Clients,
    /// `docker --context NAME version` when the probe found a key that runs only docker's
    /// dial-stdio: the daemon can be asked only the way docker asks it.
    Daemon,
    /// The round trip to the remote's sshd (`ssh::link`): how far it is.
    Link,
}

/// What a fix changes when it does not say otherwise: everything learned from the remote or the
/// agent. The destination and the local tools stay as they were.
pub const REMOTE: &[Fact] = &[
    Fact::Master,
    Fact::Probe,
    Fact::Verify,
    Fact::Clients,
    Fact::Daemon,
];

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
    /// The same docker call, timed, for doctor: only through a context that points where the
    /// destination resolves, bounded as the probe is, and gathered when its check runs.
    Timed(String),
    /// The context whose endpoint the clients would read.
    Clients(String),
    /// The context to ask the daemon through, when the probe cannot.
    Daemon(String),
    Link,
}

impl Want {
    pub fn fact(&self) -> Fact {
        match self {
            Want::Resolved(_) => Fact::Resolved,
            Want::Versions => Fact::Versions,
            Want::Compose => Fact::Compose,
            Want::Master(_) => Fact::Master,
            Want::Probe => Fact::Probe,
            Want::Verify(_) | Want::Timed(_) => Fact::Verify,
            Want::Clients(_) => Fact::Clients,
            Want::Daemon(_) => Fact::Daemon,
            Want::Link => Fact::Link,
        }
    }
}

/// Why a fact could not be had: what failed, in the words a finding shows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

impl From<anyhow::Error> for Unavailable {
    fn from(e: anyhow::Error) -> Self {
        Unavailable(format!("{e:#}"))
    }
}

/// `ssh -V` and `docker --version`, as they answered.
#[derive(Clone, Debug)]
pub struct Versions {
    pub ssh: Result<Output, Unavailable>,
    pub docker: Result<Output, Unavailable>,
}

/// Everything gathered so far. `None`: not gathered (yet, or again since a fix made it stale).
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub resolved: Option<Result<Resolved, Unavailable>>,
    pub versions: Option<Versions>,
    pub compose: Option<Result<Output, Unavailable>>,
    /// `None` inside: multiplexing is off for this host, so there is no master to ask about.
    pub master: Option<Option<Result<Master, Unavailable>>>,
    pub probe: Option<Probe>,
    pub verify: Option<Verified>,
    pub clients: Option<Result<ClientFacts, Unavailable>>,
    /// `None` inside: the probe reached the daemon itself, or the context does not point there.
    pub daemon: Option<Option<(String, Result<Output, Unavailable>)>>,
    pub link: Option<Result<Duration, Unavailable>>,
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
            Fact::Daemon => self.daemon.is_some(),
            Fact::Link => self.link.is_some(),
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
                Fact::Daemon => self.daemon = None,
                Fact::Link => self.link = None,
            }
        }
    }
}

/// `docker --context NAME version` as it went: what one docker command through the context takes.
#[derive(Clone, Debug)]
pub struct Verified {
    pub name: String,
    pub out: Result<Output, Unavailable>,
    /// From start to exit, as the person's docker commands will take (a fresh ssh login, or a
    /// session on a shared connection).
    pub took: Duration,
}

/// `docker --context NAME version`, as verify runs it.
pub fn verify_cmd(name: &str) -> Cmd {
    docker::server_version_cmd(name, Duration::from_secs(60))
}

/// Run the docker call of `want` (Verify or Timed) and time it.
fn verified(exec: &Exec, want: &Want) -> Option<Verified> {
    let (name, cmd) = match want {
        Want::Verify(name) => (name, verify_cmd(name)),
        Want::Timed(name) => (name, docker::server_version_cmd(name, DEFAULT_TIMEOUT)),
        _ => return None,
    };
    let start = Instant::now();
    let out = text(exec.run(&cmd));
    Some(Verified {
        name: name.clone(),
        out,
        took: start.elapsed(),
    })
}

fn text(result: anyhow::Result<Output>) -> Result<Output, Unavailable> {
    result.map_err(Unavailable::from)
}

/// Run a tool's version call only when the tool is on PATH (the tools check names what is not).
fn on_path(exec: &Exec, cmd: &Cmd) -> Result<Output, Unavailable> {
    match exec.which(cmd.program()) {
        Some(_) => text(exec.run(cmd)),
        None => Err(Unavailable(format!("{} is not on PATH", cmd.program()))),
    }
}

/// What the tools check reads: `ssh -V` and `docker --version`.
fn versions(exec: &Exec) -> Versions {
    Versions {
        ssh: on_path(exec, &crate::ssh::version_cmd()),
        docker: on_path(exec, &docker::version_cmd()),
    }
}

/// The master's state (when multiplexing is on) and then the probe: one after the other, since a
/// connection replaces a stale socket.
type Remote = (Option<Option<Result<Master, Unavailable>>>, Option<Probe>);

fn remote(exec: &Exec, r: &Resolved, master: Option<bool>, probe: bool, own: bool) -> Remote {
    let master =
        master.map(|on| on.then(|| multiplex::master_state(exec, r).map_err(Unavailable::from)));
    (master, probe.then(|| probe::run(exec, r, own)))
}

type Handle<'scope, T> = Option<ScopedJoinHandle<'scope, T>>;

/// Facts being gathered in the background of one run of the steps.
pub struct Gatherer<'scope, 'env> {
    scope: &'scope Scope<'scope, 'env>,
    /// Doctor's timed docker call, started once the identity check passed (see `Want::Timed`).
    timed: Option<Want>,
    versions: Handle<'scope, Versions>,
    compose: Handle<'scope, Result<Output, Unavailable>>,
    remote: Handle<'scope, Remote>,
    remote_cancel: Option<Cancel>,
    verify: Handle<'scope, Option<Verified>>,
    verify_cancel: Option<Cancel>,
    link: Handle<'scope, Result<Duration, Unavailable>>,
}

impl<'scope, 'env> Gatherer<'scope, 'env> {
    /// Resolve the destination, then start gathering what `wants` names that can be had before
    /// any check: the clients' facts need the key the key check finds, so they wait for it; verify
    /// starts early only through a context that already points where setup would point it.
    pub fn start(
        scope: &'scope Scope<'scope, 'env>,
        s: &mut Session,
        wants: &[Want],
    ) -> Gatherer<'scope, 'env> {
        let mut g = Gatherer {
            scope,
            timed: None,
            versions: None,
            compose: None,
            remote: None,
            remote_cancel: None,
            verify: None,
            verify_cancel: None,
            link: None,
        };
        let want = |fact: Fact| wants.iter().find(|w| w.fact() == fact);
        if want(Fact::Versions).is_some() {
            let exec = s.exec.clone();
            g.versions = Some(scope.spawn(move || versions(&exec)));
        }
        if want(Fact::Compose).is_some() {
            let exec = s.exec.clone();
            g.compose = Some(scope.spawn(move || text(exec.run(&docker::compose_version_cmd()))));
        }
        if let Some(Want::Resolved(identity)) = want(Fact::Resolved) {
            resolve_now(s, identity.as_deref());
        }
        let Some(Ok(r)) = s.facts.resolved.clone() else {
            return g;
        };
        // Doctor's timed call waits for the identity check: a docker call that logs in loads
        // the key into the agent when the user's config says AddKeysToAgent, and doctor changes
        // nothing. Once the agent holds the key, it starts (`identity_passed`).
        if let Some(v @ Want::Timed(name)) = want(Fact::Verify) {
            if points_here(s, name, &r) {
                g.timed = Some(v.clone());
            }
        }
        if let Some(v @ Want::Verify(name)) = want(Fact::Verify) {
            if points_here(s, name, &r) {
                let (exec, cancel) = s.exec.cancellable();
                let v = v.clone();
                g.verify = Some(scope.spawn(move || verified(&exec, &v)));
                g.verify_cancel = Some(cancel);
            }
        }
        if want(Fact::Link).is_some() {
            let r = r.clone();
            g.link = Some(scope.spawn(move || link(&r)));
        }
        let master = match want(Fact::Master) {
            Some(Want::Master(context)) => Some(multiplexed(s, context, &r)),
            _ => None,
        };
        let probe = want(Fact::Probe).is_some();
        if master.is_some() || probe {
            let (exec, cancel) = s.exec.cancellable();
            let own = s.own_connection;
            g.remote = Some(scope.spawn(move || remote(&exec, &r, master, probe, own)));
            g.remote_cancel = Some(cancel);
        }
        g
    }

    /// Have every fact in `wants` in `s.facts`: wait for the ones being gathered, gather the rest
    /// now.
    pub fn settle(&mut self, s: &mut Session, wants: &[Want]) {
        let missing: Vec<&Want> = wants.iter().filter(|w| !s.facts.has(w.fact())).collect();
        if missing.is_empty() {
            return;
        }
        let needs = |fact: Fact| missing.iter().any(|w| w.fact() == fact);
        if needs(Fact::Versions) {
            if let Some(v) = wait(s, "reading the tools' versions", self.versions.take()) {
                s.facts.versions = Some(v);
            }
        }
        if needs(Fact::Compose) {
            if let Some(v) = wait(s, "docker compose version", self.compose.take()) {
                s.facts.compose = Some(v);
            }
        }
        if needs(Fact::Link) {
            if let Some(v) = wait(s, "timing the round trip", self.link.take()) {
                s.facts.link = Some(v);
            }
        }
        if needs(Fact::Master) || needs(Fact::Probe) {
            let label = match &s.facts.resolved {
                Some(Ok(r)) => format!("connecting to {}", r.display()),
                _ => "connecting".into(),
            };
            if let Some((master, probe)) = wait(s, &label, self.remote.take()) {
                if master.is_some() {
                    s.facts.master = master;
                }
                if probe.is_some() {
                    s.facts.probe = probe;
                }
            }
        }
        if let Some(name) = missing.iter().find_map(|w| match w {
            Want::Verify(name) | Want::Timed(name) => Some(name),
            _ => None,
        }) {
            let label = format!("docker --context {name} version");
            if let Some(v) = wait(s, &label, self.verify.take())
                .flatten()
                .filter(|v| v.name == *name)
            {
                s.facts.verify = Some(v);
            }
        }
        let still: Vec<Want> = wants
            .iter()
            .filter(|w| !s.facts.has(w.fact()))
            .cloned()
            .collect();
        gather_now(s, &still);
    }

    /// The identity check passed (the agent holds the key): doctor's timed docker call may log in
    /// now, and starts in the background, overlapping the probe.
    pub fn identity_passed(&mut self, s: &Session) {
        let Some(want) = self.timed.take() else {
            return;
        };
        let (exec, cancel) = s.exec.cancellable();
        self.verify = Some(self.scope.spawn(move || verified(&exec, &want)));
        self.verify_cancel = Some(cancel);
    }

    /// A fix made these facts stale: forget them, and stop what was still gathering them.
    pub fn forget(&mut self, s: &mut Session, stale: &[Fact]) {
        s.facts.forget(stale);
        self.stop(stale);
    }

    /// A fix is about to make these facts stale: stop what is still gathering them, so that no
    /// background command goes on through what the fix changes (a docker call opening a shared
    /// connection while the fix stops the master). What was already gathered stays, in case the
    /// fix is declined.
    pub fn stop(&mut self, stale: &[Fact]) {
        let any = |facts: &[Fact]| facts.iter().any(|f| stale.contains(f));
        if any(&[Fact::Master, Fact::Probe]) {
            self.stop_remote();
        }
        if any(&[Fact::Verify]) {
            self.stop_verify();
        }
    }

    /// The run is over: stop what nobody waited for (setup stopped before verify, say). The scope
    /// then joins its threads, which end as their commands are stopped.
    pub fn finish(mut self) {
        self.stop_remote();
        self.stop_verify();
    }

    fn stop_remote(&mut self) {
        stop(self.remote_cancel.take(), self.remote.take());
    }

    fn stop_verify(&mut self) {
        stop(self.verify_cancel.take(), self.verify.take());
    }
}

/// Stop a background gather and wait for its thread: its commands are killed, and what it would
/// have run next does not start, so this is quick. Waiting keeps what ran before the fix in order.
fn stop<T>(cancel: Option<Cancel>, handle: Handle<'_, T>) {
    if let Some(cancel) = cancel {
        cancel.cancel();
    }
    if let Some(handle) = handle {
        let _ = handle.join();
    }
}

/// Wait for a background fact, showing what is waited for when it takes a while.
fn wait<T>(s: &Session, label: &str, handle: Handle<'_, T>) -> Option<T> {
    let handle = handle?;
    if handle.is_finished() {
        return handle.join().ok();
    }
    s.term.spin(label, || handle.join().ok())
}

/// `ssh -G` for the destination, with the key the probe will offer.
fn resolve_now(s: &mut Session, identity: Option<&std::path::Path>) {
    let Some(dest) = s.dest.clone() else {
        return;
    };
    let resolved = resolve(&s.exec, &dest).map(|r| Resolved {
        socket: s.socket.clone(),
        identity: Some(offered_key(&r, identity, &s.env)),
        ..r
    });
    s.facts.resolved = Some(resolved.map_err(Unavailable::from));
}

/// Gather these facts now, in this thread, showing what is waited for: after a fix made them
/// stale, or when they needed what an earlier check found.
fn gather_now(s: &mut Session, wants: &[Want]) {
    for want in wants {
        match want {
            Want::Resolved(identity) => resolve_now(s, identity.as_deref()),
            Want::Versions => {
                let v = s
                    .term
                    .spin("reading the tools' versions", || versions(&s.exec));
                s.facts.versions = Some(v);
            }
            Want::Compose => {
                let v = s.term.spin("docker compose version", || {
                    text(s.exec.run(&docker::compose_version_cmd()))
                });
                s.facts.compose = Some(v);
            }
            Want::Master(context) => {
                if let Some(r) = s.resolved.clone() {
                    let on = multiplexed(s, context, &r);
                    s.facts.master = remote(&s.exec, &r, Some(on), false, false).0;
                }
            }
            Want::Probe => {
                if let Some(r) = s.resolved.clone() {
                    let label = format!("connecting to {}", r.display());
                    let own = s.own_connection;
                    let probe = s.term.spin(&label, || probe::run(&s.exec, &r, own));
                    s.facts.probe = Some(probe);
                }
            }
            Want::Verify(name) | Want::Timed(name) => {
                let here = s.resolved.as_ref().is_some_and(|r| points_here(s, name, r));
                if matches!(want, Want::Timed(_)) && !here {
                    // Doctor times the context only where it leads to this destination.
                    s.facts.verify = Some(Verified {
                        name: name.clone(),
                        out: Err(Unavailable(format!(
                            "context {name} does not lead to this destination"
                        ))),
                        took: Duration::ZERO,
                    });
                    continue;
                }
                let label = format!("docker --context {name} version");
                s.facts.verify = s.term.spin(&label, || verified(&s.exec, want));
            }
            Want::Link => {
                if let Some(r) = s.resolved.clone() {
                    s.facts.link = Some(s.term.spin("timing the round trip", || link(&r)));
                }
            }
            Want::Clients(context) => {
                if s.resolved.is_some() && s.key.is_some() {
                    let term = s.term.clone();
                    let label = "reading what the docker clients would meet";
                    let facts = term.spin(label, || clients::gather(s, context));
                    s.facts.clients = Some(facts);
                }
            }
            Want::Daemon(name) => {
                let forced = s.facts.probe.as_ref().and_then(|p| p.forced.clone());
                let asked = match (&s.resolved, forced) {
                    (Some(r), Some(Forced::DialStdio)) if points_at(s, name, r) => {
                        let label = format!("docker --context {name} version");
                        let out = s.term.spin(&label, || text(s.exec.run(&verify_cmd(name))));
                        Some((name.clone(), out))
                    }
                    _ => None,
                };
                s.facts.daemon = Some(asked);
            }
        }
    }
}

/// The round trip to the destination's sshd, when ssh reaches it directly.
fn link(r: &Resolved) -> Result<Duration, Unavailable> {
    if r.proxy_jump.is_some() || r.proxy_command.is_some() {
        return Err(Unavailable(
            "ssh reaches it through a ProxyJump or ProxyCommand".into(),
        ));
    }
    crate::ssh::link::round_trip(&r.hostname, r.port).map_err(Unavailable)
}

/// Does the context already point where setup would point it? Then verify can run before the
/// context step looks, and a rerun that changes nothing makes its two round trips at once.
fn points_here(s: &Session, name: &str, r: &Resolved) -> bool {
    !s.exec.dry_run && points_at(s, name, r)
}

/// Does the context exist and point at this destination?
fn points_at(s: &Session, name: &str, r: &Resolved) -> bool {
    docker::endpoint_of(&s.env, name)
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
