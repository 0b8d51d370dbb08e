//! The docker clients other than the CLI (compose, dockerode, docker-py), installed once and run
//! as the local user against a context.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use super::*;

/// The docker clients other than the docker CLI, where scripts/clients.sh installs them (npm's
/// dockerode, PyPI's docker with paramiko in a venv), and Debian 13's compose v2 plugin, where
/// scripts/docker-clis.sh unpacks it.
pub const CLIENTS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/target/clients");

pub const DEBIAN13_COMPOSE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/docker-clis/debian13/usr/libexec/docker/cli-plugins/docker-compose"
);

const CLIENT_PROGRAMS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");

/// A docker client the end-to-end tests point at a context ([`Sandbox::run_client`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Client {
    /// `docker --context NAME version`.
    DockerCli,
    /// `docker --context NAME compose ls` (compose v2, a docker CLI plugin).
    Compose,
    /// npm's dockerode (docker-modem, ssh2) with DOCKER_HOST=ENDPOINT: `new Docker().version()`.
    Dockerode,
    /// PyPI's docker with DOCKER_HOST=ENDPOINT: `docker.from_env().version()`, over paramiko.
    DockerPy,
    /// The same with `from_env(use_ssh_client=True)`: over the system's ssh.
    DockerPyOverSsh,
}

impl Client {
    /// Every client, in the order [`Sandbox::run_clients`] runs them: the SSH libraries first,
    /// since an ssh run before them could change what they find (the user's `AddKeysToAgent
    /// yes`, which rdock writes, loads a key file into the agent).
    pub const ALL: [Client; 5] = [
        Client::Dockerode,
        Client::DockerPy,
        Client::DockerPyOverSsh,
        Client::DockerCli,
        Client::Compose,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Client::DockerCli => "docker",
            Client::Compose => "compose",
            Client::Dockerode => "dockerode",
            Client::DockerPy => "docker-py",
            Client::DockerPyOverSsh => "docker-py-ssh-client",
        }
    }
}

/// What a client said against a context: whether it reached the daemon, and its own words (the
/// server's version, or the library's error message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientResult {
    pub ok: bool,
    pub message: String,
    /// The whole run, for assertion messages.
    pub detail: String,
}

/// Copies of the installed clients that any user may run (the throwaway users may not reach the
/// repository), made once per test binary.
pub struct ClientInstall {
    pub node: PathBuf,
    /// The folder holding node_modules/dockerode.
    pub node_dir: PathBuf,
    pub python: PathBuf,
    pub programs: PathBuf,
    pub compose: PathBuf,
}

impl Shared {
    /// The installed clients, copied once into the shared folder; Err says what is missing.
    pub fn clients(&self) -> Result<&'static ClientInstall, String> {
        static COPY: OnceLock<Result<ClientInstall, String>> = OnceLock::new();
        COPY.get_or_init(|| {
            let node = which("node").ok_or("node is missing")?;
            let installed = Path::new(CLIENTS_DIR);
            for needed in [
                installed.join("node/node_modules/dockerode/package.json"),
                installed.join("venv/bin/python"),
                PathBuf::from(DEBIAN13_COMPOSE),
            ] {
                if !needed.exists() {
                    return Err(format!("{} is missing", needed.display()));
                }
            }
            let copy = self.dir.join("clients");
            fs::create_dir(&copy).map_err(|e| e.to_string())?;
            for (from, to) in [
                (installed.join("node"), copy.join("node")),
                (installed.join("venv"), copy.join("venv")),
                (PathBuf::from(CLIENT_PROGRAMS), copy.join("programs")),
                (PathBuf::from(DEBIAN13_COMPOSE), copy.join("docker-compose")),
            ] {
                let out = sh("cp", &["-a", from.to_str().unwrap(), to.to_str().unwrap()])?;
                if !out.status.success() {
                    return Err(String::from_utf8_lossy(&out.stderr).into_owned());
                }
            }
            must("chmod", &["-R", "a+rX", copy.to_str().unwrap()]);
            let install = ClientInstall {
                node,
                node_dir: copy.join("node"),
                python: copy.join("venv/bin/python"),
                programs: copy.join("programs"),
                compose: copy.join("docker-compose"),
            };
            let python = sh(
                install.python.to_str().unwrap(),
                &["-c", "import docker, paramiko"],
            )?;
            if !python.status.success() {
                return Err(format!(
                    "the venv's python cannot import docker and paramiko: {}",
                    String::from_utf8_lossy(&python.stderr)
                ));
            }
            Ok(install)
        })
        .as_ref()
        .map_err(|why| {
            format!("{why} (scripts/clients.sh and scripts/docker-clis.sh install the clients)")
        })
    }
}

impl Sandbox {
    /// The endpoint (`Endpoints.docker.Host`) of a context in the local user's context store,
    /// read from its files as docker reads them.
    pub fn context_endpoint(&self, name: &str) -> Option<String> {
        let meta = self.local.home.join(".docker/contexts/meta");
        fs::read_dir(meta)
            .ok()?
            .flatten()
            .filter_map(|d| fs::read_to_string(d.path().join("meta.json")).ok())
            .filter_map(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .find(|v| v["Name"] == name)
            .and_then(|v| v["Endpoints"]["docker"]["Host"].as_str().map(String::from))
    }

    /// Run one client against a context of the local user, as that user with its environment
    /// (its agent in SSH_AUTH_SOCK) and without askpass, so only what a client does by itself
    /// can log in. The libraries get the context's endpoint in DOCKER_HOST; the docker CLI and
    /// compose get `--context NAME`. At most 60 s.
    pub fn run_client(&self, client: Client, context: &str) -> ClientResult {
        let install = match self.shared.clients() {
            Ok(install) => install,
            Err(why) => {
                return ClientResult {
                    ok: false,
                    message: format!("not installed: {why}"),
                    detail: why,
                }
            }
        };
        let endpoint = self.context_endpoint(context).unwrap_or_default();
        let docker_host = format!("DOCKER_HOST={endpoint}");
        let script = |name: &str| install.programs.join(name).display().to_string();
        let node_dir = format!("RDOCK_CLIENTS_NODE={}", install.node_dir.display());
        let (dockerode, docker_py) = (script("dockerode.js"), script("docker_py.py"));
        let (node, python) = (
            install.node.display().to_string(),
            install.python.display().to_string(),
        );
        let mut args: Vec<&str> = vec!["-u", "SSH_ASKPASS", "-u", "SSH_ASKPASS_REQUIRE"];
        match client {
            Client::DockerCli => args.extend([
                "docker",
                "--context",
                context,
                "version",
                "--format",
                "{{.Server.Version}}",
            ]),
            Client::Compose => {
                self.install_compose(&install.compose);
                args.extend(["docker", "--context", context, "compose", "ls"]);
            }
            Client::Dockerode => args.extend([docker_host.as_str(), &node_dir, &node, &dockerode]),
            Client::DockerPy => args.extend([
                docker_host.as_str(),
                "PYTHONDONTWRITEBYTECODE=1",
                &python,
                &docker_py,
            ]),
            Client::DockerPyOverSsh => args.extend([
                docker_host.as_str(),
                "PYTHONDONTWRITEBYTECODE=1",
                &python,
                &docker_py,
                "--use-ssh-client",
            ]),
        }
        let run = self.local_within("env", &args, Duration::from_secs(60));
        let detail = format!("{}: {run}", run.command);
        let (ok, message) = match client {
            Client::DockerCli | Client::Compose => {
                let ok = run.code == Some(0) && !run.timed_out;
                let text = if ok { &run.stdout } else { &run.stderr };
                (ok, text.trim().to_string())
            }
            Client::Dockerode | Client::DockerPy | Client::DockerPyOverSsh => {
                let line = run.stdout.lines().last().unwrap_or_default();
                match serde_json::from_str::<serde_json::Value>(line) {
                    Ok(v) if v["ok"] == true => (
                        true,
                        v["server_version"].as_str().unwrap_or_default().to_string(),
                    ),
                    Ok(v) => (false, v["error"].as_str().unwrap_or_default().to_string()),
                    Err(_) => (false, format!("no report: {}", run.all().trim())),
                }
            }
        };
        ClientResult {
            ok,
            message,
            detail,
        }
    }

    /// Every client against a context, by [`Client::name`].
    pub fn run_clients(&self, context: &str) -> BTreeMap<&'static str, ClientResult> {
        Client::ALL
            .iter()
            .map(|&c| (c.name(), self.run_client(c, context)))
            .collect()
    }

    /// Compose v2 as the local user's docker CLI plugin: ~/.docker/cli-plugins/docker-compose.
    fn install_compose(&self, compose: &Path) {
        let docker = self.local.home.join(".docker");
        let plugins = docker.join("cli-plugins");
        let link = plugins.join("docker-compose");
        if link.exists() {
            return;
        }
        fs::create_dir_all(&plugins).unwrap();
        std::os::unix::fs::symlink(compose, &link).unwrap();
        must(
            "chown",
            &["-R", "-h", &self.local.name, docker.to_str().unwrap()],
        );
    }
}

impl Sandbox {
    /// Compose v2 (Debian 13's plugin) as the local user's docker CLI plugin, when the clients
    /// are installed (scripts/clients.sh); Err says what is missing. (tests/e2e/sharing.rs)
    pub fn with_compose(&self) -> Result<(), String> {
        let install = self.shared.clients()?;
        self.install_compose(&install.compose);
        Ok(())
    }
}
