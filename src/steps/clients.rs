//! Doctor's clients group: one line per client family that uses the context (the docker CLI and
//! compose, VS Code's extension, dockerode's ssh2, docker-py's paramiko), each saying whether it
//! will reach the daemon, and if not why, with the fix. A client that will not work is a warning,
//! unless `--client NAME` asked for it: then it is a failure.

use crate::docker::clients::{self, Client, Facts, Verdict};
use crate::docker::show_version;
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
