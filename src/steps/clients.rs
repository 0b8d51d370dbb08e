//! Doctor's clients group: one line per client family that uses the context (the docker CLI and
//! compose, VS Code's extension, dockerode's ssh2, docker-py's paramiko), each saying whether it
//! will reach the daemon, and if not why, with the fix. A client that will not work is a warning,
//! unless `--client NAME` asked for it: then it is a failure.

use std::path::Path;

use crate::docker::clients::{
    self, AgentError, Client, Facts, Holds, Paramiko, Verdict, PARAMIKO_KEY_NAMES,
};
use crate::docker::{self, show_version};
use crate::ssh::agent::{
    agent_keys, expand_identity_agent, AgentFacts, AgentTarget, WINDOWS_AGENT_PIPE,
};
use crate::ssh::destination::{known_hosts_name, resolve_in_file, Endpoint, Resolved};
use crate::ssh::keys;
use crate::ssh::known_hosts::{lookup_in, Trust};
use crate::sys::net;
use crate::sys::platform::Platform;
use crate::vscode::extensions::Extension;

use super::facts::Unavailable;
use super::{Finding, Kind, Session, Step, Want};

/// What the docker CLI needs to work: every check of the path it takes.
const CLI_NEEDS: &[Kind] = &[
    Kind::HostKey,
    Kind::Identity,
    Kind::Auth,
    Kind::RemoteDaemon,
    Kind::Context,
];
/// VS Code with no Docker extension needs nothing.
const NO_NEEDS: &[Kind] = &[];

/// A client's check id: short enough for doctor's column, and none another check has.
pub fn id(client: Client) -> &'static str {
    match client {
        Client::Docker => "docker-cli",
        Client::Vscode => "vscode-client",
        Client::Dockerode => "dockerode",
        Client::DockerPy => "docker-py",
    }
}

pub struct ClientStep {
    pub client: Client,
    /// `--client` named it: one that will not work is a failure.
    pub required: bool,
    /// The context the clients are pointed at.
    pub context: String,
    /// The Docker extensions installed in VS Code-like editors (for [`Client::Vscode`]).
    pub extensions: Vec<Extension>,
}

impl ClientStep {
    /// The extension VS Code talks to docker through: Container Tools when it is installed (it
    /// replaces the Docker extension), else the newest Docker extension.
    fn extension(&self) -> Option<&Extension> {
        self.extensions.iter().max_by_key(|e| (e.kind, e.version))
    }

    fn finding(&self, label: &str, v: Verdict) -> Finding {
        let id = &self.id();
        let notes = v.notes.clone();
        let finding = if v.works() {
            Finding::ok(id, format!("{label}: works"))
        } else {
            let message = format!("{label}: will not work: {}", v.problems.join("; "));
            let fix = v.fixes.join("\n");
            if self.required {
                Finding::fail(id, message, fix)
            } else {
                Finding::warn(id, message, fix)
            }
        };
        notes.into_iter().fold(finding, Finding::detail)
    }

    fn not_installed(&self, message: String, fix: &str) -> Finding {
        if self.required {
            Finding::fail(&self.id(), message, fix)
        } else {
            Finding::skip(&self.id(), message)
        }
    }
}

impl Step for ClientStep {
    fn kind(&self) -> Kind {
        Kind::Clients
    }

    fn id(&self) -> String {
        id(self.client).to_string()
    }

    fn facts(&self) -> Vec<Want> {
        let clients = || vec![Want::Clients(self.context.clone())];
        match self.client {
            // The CLI's version is the tools step's fact, read when it ran.
            Client::Docker => vec![Want::Compose],
            Client::Dockerode | Client::DockerPy => clients(),
            Client::Vscode => match self.extension() {
                Some(e) if e.uses_ssh2() => clients(),
                _ => Vec::new(),
            },
        }
    }

    fn needs(&self) -> &'static [Kind] {
        match self.client {
            Client::Docker => CLI_NEEDS,
            // The plan's: a key the host takes, and a daemon behind it.
            Client::Dockerode | Client::DockerPy => Kind::Clients.needs(),
            Client::Vscode => match self.extension() {
                None => NO_NEEDS,
                Some(e) if e.uses_ssh2() => Kind::Clients.needs(),
                Some(_) => CLI_NEEDS,
            },
        }
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        match self.client {
            Client::Docker => {
                let cli = super::tools::docker_version(s).map_or("docker CLI".into(), |v| {
                    format!("docker CLI {}", show_version(v))
                });
                let compose = s
                    .facts
                    .compose
                    .clone()
                    .and_then(Result::ok)
                    .filter(|o| o.success())
                    .map(|o| o.stdout.trim().trim_start_matches('v').to_string())
                    .filter(|v| !v.is_empty());
                let label = match &compose {
                    Some(v) => format!("{cli}, docker compose {v}"),
                    None => cli,
                };
                let finding = self.finding(&label, Verdict::default()).detail(
                    "the docker CLI, compose v2, buildx and Dev Containers run ssh, so ~/.ssh/config applies in full",
                );
                match compose {
                    None => finding.detail("docker compose (v2) is not installed"),
                    Some(_) => finding,
                }
            }
            Client::Vscode => {
                let Some(extension) = self.extension().cloned() else {
                    return self.not_installed(
                        "VS Code: no Docker or Container Tools extension is installed".into(),
                        "code --install-extension ms-azuretools.vscode-containers",
                    );
                };
                let label = format!("VS Code {}", extension.label());
                if extension.uses_ssh2() {
                    match facts(s) {
                        Ok(f) => self
                            .finding(&format!("{label} (dockerode, ssh2)"), clients::ssh2(&f))
                            .detail("the Docker extension runs the docker CLI from 1.23: code --install-extension ms-azuretools.vscode-containers"),
                        Err(why) => Finding::skip(&self.id(), format!("skipped: {why}")),
                    }
                } else {
                    self.finding(
                        &format!("{label} (runs the docker CLI)"),
                        Verdict::default(),
                    )
                }
            }
            Client::Dockerode | Client::DockerPy => match facts(s) {
                Ok(f) if self.client == Client::Dockerode => {
                    self.finding("dockerode and other ssh2 clients", clients::ssh2(&f))
                }
                Ok(f) => self.finding("docker-py (paramiko)", clients::paramiko(&f)),
                Err(why) => Finding::skip(&self.id(), format!("skipped: {why}")),
            },
        }
    }
}

/// What ssh2 and paramiko would meet, as the facts phase gathered it once for every client.
fn facts(s: &Session) -> Result<Facts, Unavailable> {
    s.facts
        .clients
        .clone()
        .unwrap_or_else(|| Err(Unavailable("no destination or key".into())))
}

/// Does the agent of this target hold the key? `ssh-add -L` (memoized: the identity check asked
/// the same).
fn holds(s: &Session, target: AgentTarget, blob: &str) -> Holds {
    let facts = AgentFacts {
        identity_agent: match &target {
            AgentTarget::Socket(sock) => Some(sock.clone()),
            _ => None,
        },
        pageant_pipe: None,
        ..AgentFacts::gather(&s.env, None)
    };
    agent_keys(&s.exec, &facts)
        .map(|keys| keys::holds(&keys, blob))
        .map_err(|e| AgentError(format!("{e:#}")))
}

/// Gather what ssh2 and paramiko would meet, for the context's endpoint (or, before the context
/// exists, the endpoint setup would write): the facts phase's work for the clients.
pub(super) fn gather(s: &Session, context: &str) -> Result<Facts, Unavailable> {
    let (Some(r), Some(key)) = (&s.resolved, &s.key) else {
        return Err(Unavailable("no destination or key".into()));
    };
    let url = docker::endpoint_of(&s.env, context)
        .ok()
        .flatten()
        .filter(|url| r.same_login(url))
        .unwrap_or_else(|| r.endpoint());
    let endpoint = Endpoint::parse(&url).map_err(|e| Unavailable(e.to_string()))?;
    let dest = endpoint.dest;
    let platform = s.env.platform;
    let auth_sock = s.env.var("SSH_AUTH_SOCK");
    let identity_agent = r
        .identity_agent
        .as_deref()
        .and_then(|a| expand_identity_agent(a, &s.env))
        .filter(|a| a != "none" && Some(a) != auth_sock.as_ref())
        .map(|a| {
            let held = holds(s, AgentTarget::Socket(a.clone()), &key.blob);
            (a, held)
        });
    let key_in_agent = match &auth_sock {
        Some(_) => holds(s, AgentTarget::Env, &key.blob),
        None => Ok(false),
    };
    // paramiko on Windows asks the ssh-agent service (or Pageant), whatever SSH_AUTH_SOCK says.
    let key_in_paramiko_agent = match platform {
        Platform::Windows => holds(s, AgentTarget::Socket(WINDOWS_AGENT_PIPE.into()), &key.blob),
        _ => key_in_agent.clone(),
    };
    let paramiko = paramiko_view(
        s,
        r,
        &dest.host,
        dest.port,
        key.private.as_deref(),
        key.encrypted,
    )?;
    // The resolver is asked only what a verdict reads: where there is no jump host or command,
    // an alias's own address, and ssh's, to compare.
    let aliased = dest.host != r.hostname;
    let host_addresses = aliased.then(|| net::resolve(&dest.host));
    let compare = r.direct() && (aliased || paramiko.view.hostname != r.hostname);
    let ssh_addresses = compare.then(|| net::resolve(&r.hostname));
    Ok(Facts {
        platform,
        context: context.to_string(),
        host_addresses,
        ssh_addresses,
        host: dest.host,
        user: dest.user,
        port: dest.port,
        socket: endpoint.socket,
        ssh_user: r.user.clone(),
        ssh_hostname: r.hostname.clone(),
        ssh_port: r.port,
        proxy_jump: r.proxy_jump.clone(),
        proxy_command: r.proxy_command.clone(),
        identity_agent,
        auth_sock,
        key_in_agent,
        key_in_paramiko_agent,
        key: s.env.tilde(&key.identity),
        key_encrypted: key.encrypted,
        key_in_agent_only: key.private.is_none(),
        paramiko,
    })
}

/// paramiko's view: ~/.ssh/config alone (`ssh -G -F ~/.ssh/config HOST`), ~/.ssh/known_hosts
/// alone, and the key files it reads by itself.
fn paramiko_view(
    s: &Session,
    r: &Resolved,
    host: &str,
    port: Option<u16>,
    key: Option<&Path>,
    encrypted: bool,
) -> Result<Paramiko, Unavailable> {
    let config = s.env.ssh_config().filter(|p| p.is_file());
    let none = Path::new("none");
    let view = resolve_in_file(&s.exec, host, config.as_deref().unwrap_or(none))
        .map_err(Unavailable::from)?;
    let name = known_hosts_name(&view.hostname, port.unwrap_or(view.port));
    let known_hosts = s.env.expand("~/.ssh/known_hosts");
    let host_key_known = matches!(
        lookup_in(&s.exec, &known_hosts, &name),
        Ok((Some(Trust::Key), false))
    );
    // docker-py hands paramiko the IdentityFiles ~/.ssh/config names, when it names any.
    let configured: Vec<&String> = if view.identity_file_configured {
        view.identity_files.iter().collect()
    } else {
        Vec::new()
    };
    let missing_identity_files = configured
        .iter()
        .filter(|f| !s.env.expand(f).exists())
        .map(|f| f.to_string())
        .collect();
    // A key whose private half is only in an agent is no file paramiko can read.
    let read_by_itself = PARAMIKO_KEY_NAMES
        .iter()
        .any(|n| Some(s.env.expand(&format!("~/.ssh/{n}")).as_path()) == key);
    let named = configured
        .iter()
        .any(|f| Some(s.env.expand(f).as_path()) == key);
    let addresses =
        (r.direct() && view.hostname != r.hostname).then(|| net::resolve(&view.hostname));
    Ok(Paramiko {
        view,
        addresses,
        host_key_known,
        missing_identity_files,
        key_file_usable: key.is_some() && !encrypted && (read_by_itself || named),
    })
}
