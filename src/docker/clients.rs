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

use std::net::IpAddr;

use crate::ssh::destination::{bracket, known_hosts_name, FileView};
use crate::sys::exec::quote;
use crate::sys::platform::{Platform, WINDOWS_AGENT_PIPE};

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

    /// The name `--client` takes and the check's id ends with.
    pub fn name(self) -> &'static str {
        match self {
            Client::Docker => "docker",
            Client::Vscode => "vscode",
            Client::Dockerode => "dockerode",
            Client::DockerPy => "docker-py",
        }
    }
}

/// A name resolved by the system resolver: its addresses, or why it did not resolve.
pub type Addresses = Result<Vec<IpAddr>, String>;

/// Whether an agent holds the key: or why it could not be asked.
pub type Holds = Result<bool, String>;

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

    fn problem(&mut self, what: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(what.into());
        let fix = fix.into();
        if !self.fixes.contains(&fix) {
            self.fixes.push(fix);
        }
    }
}

/// Do two answers of the resolver share an address? An unresolved name shares none.
fn same_place(a: Option<&Addresses>, b: Option<&Addresses>) -> bool {
    match (a, b) {
        (Some(Ok(a)), Some(Ok(b))) => a.iter().any(|x| b.contains(x)),
        _ => false,
    }
}

/// The fix that always works: a client that runs ssh.
fn use_the_cli(context: &str) -> String {
    format!("use the docker CLI or a tool built on it (docker --context {context} …, compose v2, VS Code's Container Tools): it runs ssh, so ~/.ssh/config applies")
}

/// A socket in the endpoint: both libraries run a bare `docker system dial-stdio`.
fn socket_problem(f: &Facts, who: &str, v: &mut Verdict) {
    if let Some(socket) = &f.socket {
        v.problem(
            format!("the endpoint names the socket {socket}, and {who} runs a bare `docker system dial-stdio` on the remote, which dials its default daemon instead"),
            format!("{}; or make {socket} the remote's default for ssh commands (DOCKER_HOST=unix://{socket} in the remote login's environment)", use_the_cli(&f.context)),
        );
    }
}

/// ssh2 (dockerode): the endpoint's host through the resolver, the agent at SSH_AUTH_SOCK only.
pub fn ssh2(f: &Facts) -> Verdict {
    let mut v = Verdict {
        notes: vec![
            "ssh2 reads no ssh_config: it connects to the URL's host and port, with the agent at SSH_AUTH_SOCK".into(),
            "ssh2 does not check the host key".into(),
        ],
        ..Verdict::default()
    };
    let url = format!(
        "ssh://{}@{}:{}",
        f.ssh_user,
        bracket(&f.ssh_hostname),
        f.ssh_port
    );
    if let Some(route) = f.route() {
        // ssh2 goes straight to the URL's host: a name only ssh_config knows does not resolve.
        let unresolved = match &f.host_addresses {
            Some(Err(_)) => ", a name that does not resolve through DNS",
            _ => "",
        };
        v.problem(
            format!(
                "{route} is not supported: ssh2 connects to {} directly{unresolved}",
                f.host
            ),
            use_the_cli(&f.context),
        );
    } else if f.host != f.ssh_hostname {
        match &f.host_addresses {
            Some(Err(why)) => v.problem(
                format!("{} is an ssh_config alias; ssh2 resolves it through DNS, and {why}", f.host),
                format!("point dockerode at the real host: DOCKER_HOST={url}"),
            ),
            _ if !same_place(f.host_addresses.as_ref(), f.ssh_addresses.as_ref()) => v.problem(
                format!("{} is an ssh_config alias for {}; ssh2 resolves {} through DNS to another address", f.host, f.ssh_hostname, f.host),
                format!("point dockerode at the real host: DOCKER_HOST={url}"),
            ),
            _ => {}
        }
    }
    if f.port.unwrap_or(22) != f.ssh_port {
        v.problem(
            format!(
                "ssh2 connects to port {}, ssh to port {}",
                f.port.unwrap_or(22),
                f.ssh_port
            ),
            format!("write the port into the endpoint: DOCKER_HOST={url}"),
        );
    }
    if f.user.is_none() {
        v.problem(
            "the endpoint names no user, and ssh2 takes none from ssh_config",
            format!("write the user into the endpoint: DOCKER_HOST={url}"),
        );
    }
    socket_problem(f, "docker-modem", &mut v);
    ssh2_agent(f, &mut v);
    v
}

/// ssh2 offers the keys of the agent `SSH_AUTH_SOCK` names (`pageant` is Pageant), nothing else.
fn ssh2_agent(f: &Facts, v: &mut Verdict) {
    let ignored = ignored_identity_agent(f, "ssh2");
    match f.auth_sock.as_deref() {
        None if f.platform == Platform::Windows => v.problem(
            "SSH_AUTH_SOCK is not set, and ssh2 finds the Windows ssh-agent service only through it",
            format!("setx SSH_AUTH_SOCK {WINDOWS_AGENT_PIPE}, then start the client from a new terminal"),
        ),
        None => v.problem(
            format!("SSH_AUTH_SOCK is not set, and ssh2 finds keys only through it{ignored}"),
            agent_fix(f),
        ),
        // ssh2 asks Pageant itself; rdock cannot list Pageant's keys.
        Some("pageant") if f.platform == Platform::Windows => {
            v.notes.push("SSH_AUTH_SOCK=pageant: ssh2 asks Pageant, whose keys rdock cannot list".into());
        }
        Some(_) => agent_holds(&f.key_in_agent, "the agent at SSH_AUTH_SOCK", f, &ignored, v),
    }
}

/// " (WHO ignores IdentityAgent X)", when ssh_config names another agent.
fn ignored_identity_agent(f: &Facts, who: &str) -> String {
    f.identity_agent
        .as_ref()
        .map(|(a, _)| format!(" ({who} ignores IdentityAgent {a})"))
        .unwrap_or_default()
}

/// The agent `place` must hold the key.
fn agent_holds(holds: &Holds, place: &str, f: &Facts, ignored: &str, v: &mut Verdict) {
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
fn agent_fix(f: &Facts) -> String {
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

/// docker-py's paramiko: ~/.ssh/config alone, ~/.ssh/known_hosts alone, refuse an unknown host.
pub fn paramiko(f: &Facts) -> Verdict {
    let p = &f.paramiko;
    let mut v = Verdict {
        notes: vec![format!(
            "paramiko reads ~/.ssh/config alone: it connects to {}:{}{}",
            bracket(&p.view.hostname),
            p.port(f),
            p.view
                .proxy_command
                .as_ref()
                .map(|c| format!(" through ProxyCommand {c}"))
                .unwrap_or_default()
        )],
        ..Verdict::default()
    };
    // docker-py's use_ssh_client=True runs ssh, but splits a URL with a socket path wrongly.
    let ssh_client = match &f.socket {
        None => "use the docker CLI, or docker-py with use_ssh_client=True (docker.DockerClient(base_url=…, use_ssh_client=True)), which runs ssh".to_string(),
        Some(_) => use_the_cli(&f.context),
    };
    if let Some(jump) = &f.proxy_jump {
        if p.view.proxy_command.is_none() {
            v.problem(
                format!(
                    "ProxyJump {jump} is not supported by paramiko: it connects to {} directly",
                    p.view.hostname
                ),
                &ssh_client,
            );
        }
    } else if f.proxy_command.is_some() && p.view.proxy_command.is_none() {
        v.problem(
            "the ProxyCommand is not in ~/.ssh/config, the one file paramiko reads: it connects directly",
            &ssh_client,
        );
    }
    if f.route().is_none() && p.view.hostname != f.ssh_hostname {
        match &p.addresses {
            Some(Err(why)) => v.problem(
                format!(
                    "paramiko reads ~/.ssh/config alone and resolves {} through DNS: {why}",
                    p.view.hostname
                ),
                &ssh_client,
            ),
            _ if !same_place(p.addresses.as_ref(), f.ssh_addresses.as_ref()) => v.problem(
                format!(
                    "paramiko reads ~/.ssh/config alone and connects to {}, not {}",
                    p.view.hostname, f.ssh_hostname
                ),
                &ssh_client,
            ),
            _ => {}
        }
    }
    if p.port(f) != f.ssh_port {
        v.problem(
            format!(
                "paramiko connects to port {}, ssh to port {}",
                p.port(f),
                f.ssh_port
            ),
            &ssh_client,
        );
    }
    if !p.host_key_known {
        let name = p.known_hosts_name(f);
        v.problem(
            format!("~/.ssh/known_hosts has no key for {name}, and paramiko refuses an unknown host (it reads no other file and no HostKeyAlias)"),
            format!("record the host key under {name} in ~/.ssh/known_hosts (ssh-keygen -F shows the entry ssh uses), or {ssh_client}"),
        );
    }
    socket_problem(f, "docker-py", &mut v);
    if let Some(missing) = p.missing_identity_files.first() {
        v.problem(
            format!("~/.ssh/config names IdentityFile {missing}, which does not exist, and paramiko stops there (FileNotFoundError) before it asks an agent"),
            format!("take IdentityFile {missing} out of ~/.ssh/config for this host, or {ssh_client}"),
        );
    } else if !p.key_file_usable {
        paramiko_agent(f, &mut v);
    }
    v
}

/// paramiko's agent: `SSH_AUTH_SOCK`'s; on Windows Pageant or the ssh-agent service, whatever
/// `SSH_AUTH_SOCK` says.
fn paramiko_agent(f: &Facts, v: &mut Verdict) {
    let mut agent = Verdict::default();
    let ignored = ignored_identity_agent(f, "paramiko");
    match (f.platform, f.auth_sock.as_deref()) {
        (Platform::Windows, _) => agent_holds(
            &f.key_in_paramiko_agent,
            "the Windows ssh-agent service (paramiko asks it, or a running Pageant)",
            f,
            "",
            &mut agent,
        ),
        (_, None) => agent.problem(
            format!(
                "SSH_AUTH_SOCK is not set, and paramiko finds an agent only through it{ignored}"
            ),
            agent_fix(f),
        ),
        (_, Some(_)) => agent_holds(
            &f.key_in_paramiko_agent,
            "the agent at SSH_AUTH_SOCK",
            f,
            &ignored,
            &mut agent,
        ),
    }
    for (what, fix) in agent.problems.into_iter().zip(agent.fixes) {
        let what = if f.key_in_agent_only {
            format!(
                "{what} ({} is a public key: paramiko cannot read the private key from a file)",
                f.key
            )
        } else if f.key_encrypted {
            format!(
                "{what} ({} has a passphrase, which paramiko cannot ask for)",
                f.key
            )
        } else {
            what
        };
        v.problem(what, fix);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(hostname: &str, port: u16) -> FileView {
        FileView {
            hostname: hostname.into(),
            port,
            user: "me".into(),
            identity_files: vec!["~/.ssh/id_ed25519".into()],
            identity_file_configured: false,
            proxy_jump: None,
            proxy_command: None,
        }
    }

    /// A plain destination that every client reaches: 127.0.0.1:2222, key in the agent.
    fn plain() -> Facts {
        Facts {
            platform: Platform::Linux,
            context: "box".into(),
            socket: None,
            host: "127.0.0.1".into(),
            user: Some("me".into()),
            port: Some(2222),
            ssh_user: "me".into(),
            ssh_hostname: "127.0.0.1".into(),
            ssh_port: 2222,
            proxy_jump: None,
            proxy_command: None,
            identity_agent: None,
            auth_sock: Some("/tmp/ssh-X/agent.1".into()),
            key_in_agent: Ok(true),
            key_in_paramiko_agent: Ok(true),
            key: "~/.ssh/id_ed25519".into(),
            key_encrypted: true,
            key_in_agent_only: false,
            host_addresses: None,
            ssh_addresses: None,
            paramiko: Paramiko {
                view: view("127.0.0.1", 22),
                addresses: None,
                host_key_known: true,
                missing_identity_files: Vec::new(),
                key_file_usable: false,
            },
        }
    }

    fn not_found(name: &str) -> Option<Addresses> {
        Some(Err(format!(
            "{name} does not resolve: failed to lookup address information"
        )))
    }

    fn loopback() -> Option<Addresses> {
        Some(Ok(vec!["127.0.0.1".parse().unwrap()]))
    }

    #[test]
    fn a_plain_destination_with_the_key_in_the_agent_works_for_both() {
        let f = plain();
        assert!(ssh2(&f).works(), "{:?}", ssh2(&f));
        assert!(paramiko(&f).works(), "{:?}", paramiko(&f));
    }

    #[test]
    fn an_alias_fails_for_ssh2_through_dns_and_works_for_paramiko_through_its_host_name() {
        let f = Facts {
            host: "box".into(),
            host_addresses: not_found("box"),
            ssh_addresses: loopback(),
            ..plain()
        };
        let v = ssh2(&f);
        assert_eq!(
            v.problems,
            ["box is an ssh_config alias; ssh2 resolves it through DNS, and box does not resolve: failed to lookup address information"]
        );
        assert_eq!(
            v.fixes,
            ["point dockerode at the real host: DOCKER_HOST=ssh://me@127.0.0.1:2222"]
        );
        assert!(
            paramiko(&f).works(),
            "paramiko reads HostName from ~/.ssh/config"
        );
        // An alias that also resolves, to the same place, is fine for ssh2.
        let f = Facts {
            host_addresses: loopback(),
            ..f
        };
        assert!(ssh2(&f).works());
    }

    #[test]
    fn proxy_jump_fails_for_ssh2_and_paramiko_with_the_way_out() {
        let f = Facts {
            host: "target".into(),
            proxy_jump: Some("bastion".into()),
            ..plain()
        };
        let v = ssh2(&f);
        assert_eq!(
            v.problems,
            ["ProxyJump bastion is not supported: ssh2 connects to target directly"]
        );
        assert_eq!(v.fixes, [use_the_cli("box")]);
        let unresolved = Facts {
            host_addresses: not_found("target"),
            ..f.clone()
        };
        assert_eq!(
            ssh2(&unresolved).problems,
            ["ProxyJump bastion is not supported: ssh2 connects to target directly, a name that does not resolve through DNS"]
        );
        let v = paramiko(&f);
        assert_eq!(
            v.problems,
            ["ProxyJump bastion is not supported by paramiko: it connects to 127.0.0.1 directly"]
        );
        assert!(v.fixes[0].contains("use_ssh_client=True"), "{v:?}");
        // A ProxyCommand in ~/.ssh/config is one paramiko runs.
        let mut f = Facts {
            proxy_jump: None,
            proxy_command: Some("ssh -W %h:%p bastion".into()),
            ..f
        };
        f.paramiko.view.proxy_command = f.proxy_command.clone();
        assert!(paramiko(&f).works());
        assert!(!ssh2(&f).works());
    }

    #[test]
    fn the_key_must_be_in_the_agent_at_ssh_auth_sock_unless_paramiko_can_read_the_file() {
        let f = Facts {
            key_in_agent: Ok(false),
            key_in_paramiko_agent: Ok(false),
            identity_agent: Some(("/home/me/.1password/agent.sock".into(), Ok(true))),
            ..plain()
        };
        let v = ssh2(&f);
        assert_eq!(
            v.problems,
            ["the key must be in the agent at SSH_AUTH_SOCK, and ~/.ssh/id_ed25519 is not (ssh2 ignores IdentityAgent /home/me/.1password/agent.sock)"]
        );
        // The agent IdentityAgent names holds it: point the client there.
        assert_eq!(
            v.fixes,
            ["export SSH_AUTH_SOCK=/home/me/.1password/agent.sock (IdentityAgent, which holds the key) where the client runs"]
        );
        let lost = Facts {
            identity_agent: None,
            ..f.clone()
        };
        assert_eq!(ssh2(&lost).fixes, ["ssh-add ~/.ssh/id_ed25519"]);
        let v = paramiko(&f);
        assert!(v.problems[0].contains("has a passphrase"), "{v:?}");
        let mut f = Facts {
            key_encrypted: false,
            ..f
        };
        f.paramiko.key_file_usable = true;
        assert!(
            paramiko(&f).works(),
            "an unencrypted ~/.ssh/id_ed25519 is read"
        );
        let f = Facts {
            auth_sock: None,
            ..plain()
        };
        let v = ssh2(&f);
        assert_eq!(
            v.problems,
            ["SSH_AUTH_SOCK is not set, and ssh2 finds keys only through it"]
        );
        // A fix that works when typed: ssh-add alone would find no agent.
        assert_eq!(
            v.fixes,
            ["eval \"$(ssh-agent -s)\" && ssh-add ~/.ssh/id_ed25519 (in the shell that starts the client)"]
        );
    }

    #[test]
    fn a_key_only_in_1password_s_agent_is_no_file_and_cannot_be_ssh_added() {
        // IdentityFile ~/.ssh/box.pub, the private key in the agent IdentityAgent names, and
        // SSH_AUTH_SOCK naming another agent.
        let f = Facts {
            key: "~/.ssh/box.pub".into(),
            key_encrypted: false,
            key_in_agent_only: true,
            key_in_agent: Ok(false),
            key_in_paramiko_agent: Ok(false),
            identity_agent: Some(("/home/me/.1password/agent.sock".into(), Ok(true))),
            ..plain()
        };
        let v = ssh2(&f);
        assert!(v.problems[0].contains("~/.ssh/box.pub is not"), "{v:?}");
        assert_eq!(
            v.fixes,
            ["export SSH_AUTH_SOCK=/home/me/.1password/agent.sock (IdentityAgent, which holds the key) where the client runs"]
        );
        let v = paramiko(&f);
        assert_eq!(
            v.problems,
            ["the key must be in the agent at SSH_AUTH_SOCK, and ~/.ssh/box.pub is not (paramiko ignores IdentityAgent /home/me/.1password/agent.sock) (~/.ssh/box.pub is a public key: paramiko cannot read the private key from a file)"]
        );
        // With SSH_AUTH_SOCK naming that agent, both get the key from it.
        let f = Facts {
            key_in_agent: Ok(true),
            key_in_paramiko_agent: Ok(true),
            identity_agent: None,
            ..f
        };
        assert!(ssh2(&f).works() && paramiko(&f).works());
    }

    #[test]
    fn paramiko_refuses_a_host_whose_key_is_not_under_its_own_name() {
        let mut f = plain();
        f.paramiko.host_key_known = false;
        let v = paramiko(&f);
        assert_eq!(
            v.problems,
            ["~/.ssh/known_hosts has no key for [127.0.0.1]:2222, and paramiko refuses an unknown host (it reads no other file and no HostKeyAlias)"]
        );
        assert!(ssh2(&f).works(), "ssh2 checks no host key");
    }

    #[test]
    fn a_missing_user_or_port_is_what_ssh2_gets_wrong() {
        let f = Facts {
            user: None,
            port: None,
            ..plain()
        };
        let v = ssh2(&f);
        assert_eq!(
            v.problems,
            [
                "ssh2 connects to port 22, ssh to port 2222",
                "the endpoint names no user, and ssh2 takes none from ssh_config"
            ]
        );
        let mut f = f;
        f.paramiko.view.port = 2222;
        assert!(
            paramiko(&f).works(),
            "paramiko takes the port from ~/.ssh/config"
        );
    }

    #[test]
    fn a_missing_identity_file_in_ssh_config_stops_paramiko_before_the_agent() {
        let mut f = plain();
        f.paramiko.missing_identity_files = vec!["~/.ssh/gone".into()];
        let v = paramiko(&f);
        assert_eq!(
            v.problems,
            ["~/.ssh/config names IdentityFile ~/.ssh/gone, which does not exist, and paramiko stops there (FileNotFoundError) before it asks an agent"]
        );
        assert!(ssh2(&f).works(), "ssh2 reads no IdentityFile");
    }

    #[test]
    fn a_socket_in_the_endpoint_is_one_neither_library_reaches() {
        let f = Facts {
            socket: Some("/run/user/1000/docker.sock".into()),
            ..plain()
        };
        for v in [ssh2(&f), paramiko(&f)] {
            assert_eq!(v.problems.len(), 1, "{v:?}");
            assert!(
                v.problems[0]
                    .starts_with("the endpoint names the socket /run/user/1000/docker.sock"),
                "{v:?}"
            );
            // use_ssh_client=True cannot take a socket path: not offered.
            assert!(
                v.fixes.iter().all(|x| !x.contains("use_ssh_client")),
                "{v:?}"
            );
        }
    }

    #[test]
    fn on_windows_paramiko_asks_the_service_and_ssh2_needs_ssh_auth_sock_set_to_its_pipe() {
        // The service holds the key; SSH_AUTH_SOCK is unset, as Windows leaves it.
        let f = Facts {
            platform: Platform::Windows,
            auth_sock: None,
            key_in_agent: Ok(false),
            key_in_paramiko_agent: Ok(true),
            ..plain()
        };
        assert!(paramiko(&f).works(), "{:?}", paramiko(&f));
        let v = ssh2(&f);
        assert_eq!(
            v.fixes,
            [format!("setx SSH_AUTH_SOCK {WINDOWS_AGENT_PIPE}, then start the client from a new terminal")]
        );
        // SSH_AUTH_SOCK=pageant: ssh2 asks Pageant itself.
        let f = Facts {
            auth_sock: Some("pageant".into()),
            ..f
        };
        assert!(ssh2(&f).works(), "{:?}", ssh2(&f));
    }
}
