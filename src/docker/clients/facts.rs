//! What ssh2 and paramiko would meet, as the caller gathered it: the endpoint, ssh's own route,
//! the agents and known_hosts.

use std::net::IpAddr;

use crate::ssh::destination::{known_hosts_name, FileView};
use crate::sys::platform::Platform;

/// A name resolved by the system resolver: its addresses, or why it did not resolve.
pub type Addresses = Result<Vec<IpAddr>, String>;

/// Whether an agent holds the key: or why it could not be asked.
pub type Holds = Result<bool, AgentError>;

/// Why an agent could not be asked which keys it holds (`ssh-add -L`'s complaint, as shown).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AgentError(pub String);

/// What ssh2 and paramiko would meet: the endpoint, ssh's own route, the agent and known_hosts.
#[derive(Clone, Debug)]
pub struct Facts {
    pub platform: Platform,
    /// The context's name.
    pub context: String,
    /// The endpoint's host, user and port, as the context's URL writes them, and the remote
    /// daemon's socket when it names one.
    pub host: String,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub socket: Option<String>,
    /// Where ssh connects (`ssh -G`): User, HostName and Port, and how it gets there.
    pub ssh_user: String,
    pub ssh_hostname: String,
    pub ssh_port: u16,
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    /// `IdentityAgent`, expanded, when it names an agent other than `SSH_AUTH_SOCK`'s, and
    /// whether that agent holds the key.
    pub identity_agent: Option<(String, Holds)>,
    /// `SSH_AUTH_SOCK`, when set.
    pub auth_sock: Option<String>,
    /// Does the agent at `SSH_AUTH_SOCK` hold the key (ssh2's agent)?
    pub key_in_agent: Holds,
    /// Does the agent paramiko asks hold it: `SSH_AUTH_SOCK`'s, on Windows the service's.
    pub key_in_paramiko_agent: Holds,
    /// The identity file ssh offers (as shown to the user), and whether its private key has a
    /// passphrase.
    pub key: String,
    pub key_encrypted: bool,
    /// The identity file is a public key: the private key is only in an agent (1Password's), so
    /// no client can read it from a file or `ssh-add` it.
    pub key_in_agent_only: bool,
    /// What the resolver makes of the endpoint's host and of ssh's HostName, asked only when a
    /// verdict needs them (an ssh_config alias).
    pub host_addresses: Option<Addresses>,
    pub ssh_addresses: Option<Addresses>,
    /// What paramiko sees.
    pub paramiko: Paramiko,
}

impl Facts {
    /// The endpoint goes through a jump host or a command: `ProxyJump X` or `ProxyCommand`.
    pub fn route(&self) -> Option<String> {
        match (&self.proxy_jump, &self.proxy_command) {
            (Some(jump), _) => Some(format!("ProxyJump {jump}")),
            (None, Some(_)) => Some("ProxyCommand".to_string()),
            (None, None) => None,
        }
    }
}

/// docker-py's paramiko: ~/.ssh/config alone, and ~/.ssh/known_hosts alone.
#[derive(Clone, Debug)]
pub struct Paramiko {
    /// `ssh -G -F ~/.ssh/config HOST`.
    pub view: FileView,
    /// The resolver's answer for the view's HostName, when it differs from ssh's.
    pub addresses: Option<Addresses>,
    /// ~/.ssh/known_hosts holds a key for [`Paramiko::known_hosts_name`].
    pub host_key_known: bool,
    /// The IdentityFiles ~/.ssh/config names that do not exist (shown as the user wrote them):
    /// paramiko stops at the first with FileNotFoundError, before it asks the agent.
    pub missing_identity_files: Vec<String>,
    /// The key opens with no passphrase and paramiko would read its file: an IdentityFile of
    /// ~/.ssh/config, or one of the ~/.ssh/id_* names it tries by itself.
    pub key_file_usable: bool,
}

impl Paramiko {
    /// The port paramiko connects to: the URL's, else ~/.ssh/config's.
    pub fn port(&self, facts: &Facts) -> u16 {
        facts.port.unwrap_or(self.view.port)
    }

    /// The name paramiko looks the host key up by: `host`, or `[host]:port` off port 22.
    pub fn known_hosts_name(&self, facts: &Facts) -> String {
        known_hosts_name(&self.view.hostname, self.port(facts))
    }
}

/// The key files paramiko (4.0 and later) tries by itself (`look_for_keys`), in ~/.ssh.
pub const PARAMIKO_KEY_NAMES: [&str; 3] = ["id_rsa", "id_ecdsa", "id_ed25519"];
