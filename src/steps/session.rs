//! What one invocation of rdock knows: how to run commands, the terminal, the environment, the
//! facts gathered for the checks, and what earlier checks found that later steps need.

use crate::ssh::destination::{Destination, Resolved};
use crate::ssh::keys::KeyPair;
use crate::sys::env::Env;
use crate::sys::exec::Exec;
use crate::sys::term::Term;

use super::{Facts, Outcome};

pub struct Session {
    pub exec: Exec,
    pub term: Term,
    pub env: Env,
    /// The destination as given, when there is one.
    pub dest: Option<Destination>,
    /// The remote daemon's socket, when the context's endpoint names one.
    pub socket: Option<String>,
    /// What the facts phase gathered (see [`super::facts`]).
    pub facts: Facts,
    /// What `ssh -G` made of the destination, once the destination check passed it.
    pub resolved: Option<Resolved>,
    /// The key pair (set by the key step).
    pub key: Option<KeyPair>,
    /// The probe opens a connection of its own, never a shared one: a fix changed what a login
    /// carries (the user's groups), and a master that logged in before would not have it.
    pub own_connection: bool,
}

impl Session {
    pub fn new(exec: Exec, term: Term, env: Env) -> Self {
        Session {
            exec,
            term,
            env,
            dest: None,
            socket: None,
            facts: Facts::default(),
            resolved: None,
            key: None,
            own_connection: false,
        }
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
