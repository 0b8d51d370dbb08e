//! A client family's verdict, and what the verdicts of both libraries say alike: the resolver, the
//! socket in the endpoint, the agent and the way out (a client that runs ssh).

use crate::sys::exec::quote;

use super::facts::{Addresses, Facts, Holds};

/// Whether a client family will reach the daemon, and if not, why and what to do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Each reason it will not work, in the user's words (empty: it works).
    pub problems: Vec<String>,
    /// One fix per problem, or an alternative that avoids them.
    pub fixes: Vec<String>,
    /// What it uses, for --verbose.
    pub notes: Vec<String>,
}

impl Verdict {
    pub fn works(&self) -> bool {
        self.problems.is_empty()
    }

    pub(super) fn problem(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(what.into());
        let fix = fix.into();
        if !self.fixes.contains(&fix) {
            self.fixes.push(fix);
        }
    }
}

/// Do two answers of the resolver share an address? An unresolved name shares none.
pub(super) fn same_place(a: Option<&Addresses>, b: Option<&Addresses>) -> bool {
    match (a, b) {
        (Some(Ok(a)), Some(Ok(b))) => a.iter().any(|x| b.contains(x)),
        _ => false,
    }
}

/// The fix that always works: a client that runs ssh.
pub(super) fn use_the_cli(context: &str) -> String {
    format!("use the docker CLI or a tool built on it (docker --context {context} …, compose v2, VS Code's Container Tools): it runs ssh, so ~/.ssh/config applies")
}

/// A socket in the endpoint: both libraries run a bare `docker system dial-stdio`.
pub(super) fn socket_problem(f: &Facts, who: &str, v: &mut Verdict) {
    if let Some(socket) = &f.socket {
        v.problem(
            format!("the endpoint names the socket {socket}, and {who} runs a bare `docker system dial-stdio` on the remote, which dials its default daemon instead"),
            format!("{}; or make {socket} the remote's default for ssh commands (DOCKER_HOST=unix://{socket} in the remote login's environment)", use_the_cli(&f.context)),
        );
    }
}

/// " (WHO ignores IdentityAgent X)", when ssh_config names another agent.
pub(super) fn ignored_identity_agent(f: &Facts, who: &str) -> String {
    f.identity_agent
        .as_ref()
        .map(|(a, _)| format!(" ({who} ignores IdentityAgent {a})"))
        .unwrap_or_default()
}

/// The agent `place` must hold the key.
pub(super) fn agent_holds(holds: &Holds, place: &str, f: &Facts, ignored: &str, v: &mut Verdict) {
    match holds {
        Ok(true) => {}
        Ok(false) => v.problem(
            format!("the key must be in {place}, and {} is not{ignored}", f.key),
            agent_fix(f),
        ),
        Err(why) => v.problem(format!("{place} does not answer: {why}"), agent_fix(f)),
    }
}

/// How to get the key into the agent the client reads (on Linux and macOS, `SSH_AUTH_SOCK`'s):
/// point the client at the IdentityAgent that holds it, else add the key file to an agent.
pub(super) fn agent_fix(f: &Facts) -> String {
    match (&f.identity_agent, f.key_in_agent_only, f.auth_sock.is_some()) {
        (Some((agent, Ok(true))), _, _) => format!(
            "export SSH_AUTH_SOCK={} (IdentityAgent, which holds the key) where the client runs",
            quote(agent)
        ),
        // ssh-add cannot add a public key: only the app that keeps the private key can.
        (_, true, _) => "set SSH_AUTH_SOCK, where the client runs, to the agent that holds the key (1Password's: ~/.1password/agent.sock)".to_string(),
        (_, false, true) => format!("ssh-add {}", f.key),
        (_, false, false) => format!("eval \"$(ssh-agent -s)\" && ssh-add {} (in the shell that starts the client)", f.key),
    }
}
