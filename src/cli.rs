//! Every command-line type in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "rdock",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("RDOCK_TARGET"), ")"),
    about = "Reach Docker on a remote Linux box over SSH: key, agent, host key, remote checks, docker context, VS Code",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone, Default)]
pub struct GlobalArgs {
    /// Echo every command rdock runs, as exact argv
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Print each step and the commands it would run; change nothing
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// When to colour the output: auto (a terminal, unless NO_COLOR is set), always or never
    #[arg(long, global = true, value_enum, default_value_t = Color::Auto, value_name = "WHEN")]
    pub color: Color,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Walk every step from key pair to docker context, fixing what needs fixing
    Setup(SetupArgs),
    /// Diagnose a context or destination without changing anything; print the fix for each problem
    #[command(after_long_help = DOCTOR_JSON_HELP)]
    Doctor(DoctorArgs),
    /// Set docker.explorerRefreshInterval in every installed editor's settings.json; with
    /// --workspace DIR, pin a docker context for that folder alone instead
    Vscode(VscodeArgs),
    /// List the ssh:// docker contexts: endpoint, current, made by rdock
    List(ListArgs),
    /// Remove a docker context and rdock's ~/.ssh/config block for it; with --revoke, first take
    /// rdock's key out of the remote authorized_keys
    Remove(RemoveArgs),
    /// Print shell completions: rdock completions bash > /etc/bash_completion.d/rdock
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): rdock man > /usr/local/share/man/man1/rdock.1
    Man,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// Print JSON: an array of {name, endpoint, current, managed[, reachable, server_version, error]}
    #[arg(long)]
    pub json: bool,
    /// Also connect to each context (in parallel) for reachability and the server version
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug, Clone, Default)]
pub struct RemoveArgs {
    /// The docker context to remove
    pub name: String,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub yes: bool,
    /// First remove the key ssh logs in with (as setup chose it: ssh -G's identity files, or
    /// --identity) from ~/.ssh/authorized_keys on the remote, over one ssh login with that key
    #[arg(long)]
    pub revoke: bool,
    /// With --revoke: revoke the key even though other docker contexts still log in with it
    #[arg(long, requires = "revoke")]
    pub force: bool,
    /// The key to revoke (or to print the command for), when it is not the one ssh offers for
    /// the context's destination (`ssh -G`), as setup's --identity
    #[arg(long, value_name = "PATH")]
    pub identity: Option<PathBuf>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct SetupArgs {
    /// [user@]host[:port], ssh://[user@]host[:port], u@[::1]:2222, or a Host alias from ~/.ssh/config
    #[arg(allow_hyphen_values = true)]
    pub destination: String,
    /// Private key to use (default: ~/.ssh/id_ed25519)
    #[arg(long, value_name = "PATH")]
    pub identity: Option<PathBuf>,
    /// Docker context name (default: derived from the destination)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Answer yes to every confirmation, except trusting a host key (see --accept-host-key and
    /// --host-key)
    #[arg(short, long)]
    pub yes: bool,
    /// Create a new key without a passphrase (for scripts)
    #[arg(long)]
    pub no_passphrase: bool,
    /// Trust the host key ssh fetches when it is unknown, unseen (trust on first use; a
    /// changed key is never accepted). --yes does not imply this
    #[arg(long)]
    pub accept_host_key: bool,
    /// Trust an unknown host key only when its fingerprint is this one, as `ssh-keygen -lf` on the
    /// server prints it (repeatable; a changed key is never accepted)
    #[arg(long = "host-key", value_name = "SHA256:…", value_parser = parse_fingerprint)]
    pub host_keys: Vec<String>,
    /// Append the public key to the remote authorized_keys over one password login
    #[arg(long)]
    pub install_key: bool,
    /// Update a context of the same name that points elsewhere
    #[arg(long)]
    pub force: bool,
    /// Create the context but do not switch to it
    #[arg(long)]
    pub no_use: bool,
    /// Reuse one SSH connection for docker calls: a managed ControlMaster block in ~/.ssh/config
    /// (Linux and macOS)
    #[arg(long, conflicts_with = "no_multiplex")]
    pub multiplex: bool,
    /// Never share one SSH connection for this host: no ControlMaster block (rdock's is taken
    /// out). Without either flag, setup offers sharing when docker commands are slow
    #[arg(long)]
    pub no_multiplex: bool,
    #[command(flatten)]
    pub vscode: VscodeOptions,
}

/// What `rdock doctor --json` prints, for `rdock doctor --help` (docs/json.md says the same at
/// length).
pub const DOCTOR_JSON_HELP: &str = "\
JSON OUTPUT (--json): one document on stdout, whatever the outcome; schema_version is 1.
  One target:   {schema_version, target, checks, summary}
  --all:        {schema_version, targets: [{target, checks, summary}], editors, summary}
                (no ssh:// context: targets is [] and next is \"rdock setup user@host\")
  No remote:    {schema_version, target: {kind: \"local\"}, checks, summary, next}
  Usage error:  {schema_version, error: {kind: \"usage\", message}} (exit 2)
  target:  {kind: context|destination, context, destination, endpoint, pinned_by}
  checks:  [{id, status: ok|warn|fail|skip, message, fix}]
  summary: {problems, warnings, text}
Exit: 0 no problem, 1 a problem (or with --strict a warning), 2 a usage error.";

#[derive(Args, Debug, Clone, Default)]
pub struct DoctorArgs {
    /// A docker context name, or a destination as setup takes it (default: the context the VS Code
    /// workspace around the current directory pins, else the current context)
    #[arg(allow_hyphen_values = true)]
    pub target: Option<String>,
    /// Check every ssh:// docker context
    #[arg(long, conflicts_with = "target")]
    pub all: bool,
    /// Print one JSON document on stdout, whatever the outcome (its fields: rdock doctor --help)
    #[arg(long)]
    pub json: bool,
    /// Exit 1 on warnings too
    #[arg(long)]
    pub strict: bool,
    /// The private key to check (default: the first identity file `ssh -G` names that exists)
    #[arg(long, value_name = "PATH")]
    pub identity: Option<PathBuf>,
    /// A client that must work: doctor fails, instead of warning, when it will not (repeatable)
    #[arg(long = "client", value_enum, value_name = "NAME")]
    pub clients: Vec<ClientArg>,
    #[command(flatten)]
    pub vscode: VscodeOptions,
}

/// The client families doctor's clients group judges.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientArg {
    /// The docker CLI, compose v2, buildx, Dev Containers
    #[value(aliases = ["docker-cli", "compose"])]
    Docker,
    /// VS Code's Docker or Container Tools extension, as installed
    Vscode,
    /// dockerode and other clients built on ssh2
    #[value(alias = "ssh2")]
    Dockerode,
    /// docker-py (and docker-compose v1) with paramiko
    #[value(name = "docker-py", alias = "paramiko")]
    DockerPy,
}

impl From<ClientArg> for crate::docker::clients::Client {
    fn from(arg: ClientArg) -> Self {
        use crate::docker::clients::Client;
        match arg {
            ClientArg::Docker => Client::Docker,
            ClientArg::Vscode => Client::Vscode,
            ClientArg::Dockerode => Client::Dockerode,
            ClientArg::DockerPy => Client::DockerPy,
        }
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct VscodeArgs {
    #[command(flatten)]
    pub options: VscodeOptions,
    /// Pin a docker context for this folder: DOCKER_CONTEXT in "containers.environment" and
    /// "docker.environment" of DIR/.vscode/settings.json (created when missing). Only that file
    /// is edited; the user settings are left alone
    #[arg(long, value_name = "DIR", conflicts_with = "settings")]
    pub workspace: Option<PathBuf>,
    /// With --workspace: the context to pin, one docker context ls lists (default: the current
    /// context)
    #[arg(long, value_name = "NAME", requires = "workspace")]
    pub context: Option<String>,
}

/// What the VS Code step needs; shared by `rdock setup` and `rdock vscode`.
#[derive(Args, Debug, Clone, Default)]
pub struct VscodeOptions {
    /// A settings.json to use instead of the discovered ones (repeatable; setup and vscode create
    /// it when missing, doctor only reads it)
    #[arg(long = "settings", value_name = "PATH")]
    pub settings: Vec<PathBuf>,
    /// Milliseconds for docker.explorerRefreshInterval: the value written, or for doctor the least
    /// it accepts (at least 1000)
    #[arg(long, value_name = "MS", default_value_t = 3000, value_parser = clap::value_parser!(u64).range(1000..))]
    pub refresh_interval: u64,
}

/// A `--host-key` value: `SHA256:` and 43 base64 characters.
fn parse_fingerprint(text: &str) -> Result<String, NotAFingerprint> {
    if crate::ssh::known_hosts::is_sha256_fingerprint(text) {
        Ok(text.to_string())
    } else {
        Err(NotAFingerprint)
    }
}

/// A `--host-key` value that is not a fingerprint as ssh prints it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a SHA256 fingerprint as ssh prints it: SHA256: and 43 base64 characters (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the server)")]
pub struct NotAFingerprint;
