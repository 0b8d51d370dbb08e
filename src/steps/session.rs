//! What one invocation of rdock knows: how to run commands, the terminal, the environment, and
//! the facts earlier steps learned that later steps need.

use crate::ssh::destination::{Destination, Resolved};
use crate::ssh::keys::KeyPair;
use crate::ssh::multiplex::Master;
use crate::ssh::probe::Probe;
use crate::sys::env::Env;
use crate::sys::exec::{Exec, Output};
use crate::sys::term::Term;

use std::thread::JoinHandle;

use super::Outcome;

pub struct Session {
    pub exec: Exec,
    pub term: Term,
    pub env: Env,
    /// The destination as given, when there is one.
    pub dest: Option<Destination>,
    /// The remote daemon's socket, when the context's endpoint names one.
    pub socket: Option<String>,
    /// What `ssh -G` made of it (set by the destination step).
    pub resolved: Option<Resolved>,
    /// The key pair (set by the key step).
    pub key: Option<KeyPair>,
    /// The one ssh round trip's result, reused by every remote check.
    pub probe: Option<Probe>,
    /// The probe, running in the background (see `remote::start_probe`).
    pub probe_job: Option<JoinHandle<Probe>>,
    /// The control master's state, read before the probe connected (a connection replaces a
    /// stale socket, so afterwards it could no longer be seen).
    pub master: Option<Master>,
    /// Start the remote probe as soon as the destination is resolved (doctor: read-only, so
    /// nothing a later step does can change its answer).
    pub prefetch: bool,
    /// The docker CLI's version (set by the tools step).
    pub docker_version: Option<crate::docker::Version>,
    /// Setup: the context whose `docker --context NAME version` may start as soon as the
    /// destination is resolved, when the context already exists (a rerun that changes nothing
    /// then makes its two round trips at once).
    pub verify_early: Option<String>,
    /// That `docker --context NAME version`, running in the background.
    pub verify_job: Option<(String, JoinHandle<anyhow::Result<Output>>)>,
    /// The probe opens a connection of its own, never a shared one: a fix changed what a login
    /// carries (the user's groups), and a master that logged in before would not have it.
    pub own_connection: bool,
    /// What the clients group gathered (the agent, known_hosts, the resolver), for each of its
    /// checks to judge.
    pub client_facts: Option<Result<crate::docker::clients::Facts, String>>,
}

impl Session {
    pub fn new(exec: Exec, term: Term, env: Env) -> Self {
        Session {
            exec,
            term,
            env,
            dest: None,
            socket: None,
            resolved: None,
            key: None,
            probe: None,
            probe_job: None,
            master: None,
            prefetch: false,
            docker_version: None,
            verify_early: None,
            verify_job: None,
            own_connection: false,
            client_facts: None,
        }
    }

    /// Forget every answer fetched ahead of its check: a fix changed the world they describe.
    pub fn forget_prefetched(&mut self) {
        self.probe = None;
        self.probe_job = None;
        self.master = None;
        self.verify_job = None;
        self.client_facts = None;
    }

    /// Ask before a change: None when the person (or `flag`, through `preset`) agreed, else the
    /// outcome that says why nothing was done. `lines` are shown before the question.
    pub fn consent(
        &self,
        lines: &[String],
        question: &str,
        preset: bool,
        flag: &'static str,
    ) -> Option<Outcome> {
        match self.term.confirm(lines, question, preset, flag) {
            Ok(true) => None,
            Ok(false) => Some(Outcome::Declined("you said no".into())),
            Err(no_terminal) => Some(Outcome::Declined(no_terminal.to_string())),
        }
    }
}
