//! The clients of a docker context, and which of them can reach its endpoint. Each family reaches
//! the remote daemon over SSH its own way:
//!
//! - **The docker CLI** and what is built on it (compose v2, buildx, Dev Containers, VS Code's
//!   Container Tools, and the Docker extension since 1.23) run the system `ssh` with the
//!   endpoint, so ~/.ssh/config applies in full.
//! - **ssh2** (dockerode, through docker-modem; the Docker extension before 1.23) connects to the
//!   endpoint's host name as the system resolver answers for it, on the endpoint's port, as its
//!   user, offering the keys of the agent at `SSH_AUTH_SOCK`. It reads no ssh_config: no HostName,
//!   ProxyJump, ProxyCommand, IdentityFile or IdentityAgent. It does not check the host key.
//! - **docker-py with paramiko** (its default, and docker-compose v1) reads ~/.ssh/config alone:
//!   HostName, Port and User (where the URL leaves them out), IdentityFile and ProxyCommand, not
//!   ProxyJump, IdentityAgent, HostKeyAlias or UserKnownHostsFile. It refuses a host whose key is
//!   not in ~/.ssh/known_hosts under `host` or `[host]:port`, and logs in with the IdentityFile
//!   (a missing one stops it: FileNotFoundError), the agent, or a ~/.ssh/id_* file with no
//!   passphrase. Its agent is `SSH_AUTH_SOCK`'s, except on Windows, where it asks Pageant or the
//!   ssh-agent service whatever `SSH_AUTH_SOCK` says. `use_ssh_client=True` makes it run the
//!   system ssh instead, as the docker CLI does (but it cannot pass a socket path).
//!
//! Neither ssh2 nor paramiko can reach a socket the endpoint names (`ssh://u@h/run/user/1000/
//! docker.sock`): both run a bare `docker system dial-stdio` on the remote, which dials the
//! remote's default daemon.
//!
//! What the machine says is gathered in [`Facts`] (by the caller, from ssh -G, ssh-add -L,
//! ssh-keygen -F and the resolver); the verdicts are pure functions of it.
//!
//! The parts: [`Facts`] (`facts`), the [`Verdict`] and the advice both libraries share
//! (`verdict`), then each library's verdict: [`ssh2()`] and [`paramiko()`].

mod facts;
mod paramiko;
mod ssh2;
mod verdict;

pub use facts::{Addresses, AgentError, Facts, Holds, Paramiko, PARAMIKO_KEY_NAMES};
pub use paramiko::paramiko;
pub use ssh2::ssh2;
pub use verdict::Verdict;

/// A client family, as `rdock doctor --client NAME` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    /// The docker CLI, compose v2 and buildx.
    Docker,
    /// VS Code's Docker or Container Tools extension, as installed.
    Vscode,
    /// dockerode and other clients built on ssh2.
    Dockerode,
    /// docker-py (and docker-compose v1) with paramiko.
    DockerPy,
}

impl Client {
    pub const ALL: [Client; 4] = [
        Client::Docker,
        Client::Vscode,
        Client::Dockerode,
        Client::DockerPy,
    ];

    /// The name `--client` takes (the e2e tier keys each client's outcome by it).
    pub fn name(self) -> &'static str {
        match self {
            Client::Docker => "docker",
            Client::Vscode => "vscode",
            Client::Dockerode => "dockerode",
            Client::DockerPy => "docker-py",
        }
    }
}

#[cfg(test)]
mod tests;
