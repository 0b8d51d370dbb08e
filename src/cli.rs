//! Every command-line type in one place. Each subcommand carries only the flags it honours:
//! `--dry-run` where something could change, `-v`/`--color` where commands run, `-q` where there
//! is a report to trim. `-v`, `--dry-run` and `--color` are also taken before the subcommand, as
//! they always were (`rdock --verbose setup …`), and refused there for a subcommand that has no
//! use for them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, EXIT_FAILED, EXIT_USAGE};

/// The top level's examples and exit codes, after `rdock --help`.
const TOP_HELP: &str = "\
Examples:
  # A new laptop, by hand: asks before it trusts a host key or uses your password
  rdock setup me@build.example

  # Unattended, in a dotfiles script: never prompts; a new key gets no passphrase
  rdock setup me@build.example --yes --no-passphrase

  # A Host alias from ~/.ssh/config: its User, Port, IdentityFile and ProxyJump hold
  rdock setup buildbox

  # Trust the host key only when it is this one (ssh-keygen -lf on the server prints it)
  rdock setup me@build.example --yes --host-key SHA256:…

  # What is wrong, and the command that fixes it: the current context, or every one as JSON
  rdock doctor
  rdock doctor --all --json

Exit codes:
  0    everything is in place (setup: set up or nothing to do; doctor: no problem)
  1    a step or check failed (doctor --strict: a warning too), or the output could not be written
  2    usage: an unknown flag, a destination or context name rdock cannot take
  130  stopped by Ctrl-C (SIGINT); 143 by SIGTERM; 129 by SIGHUP (the terminal closed)
";

/// The exit codes of a command that runs steps.
macro_rules! exit_codes {
    ($one:literal) => {
        concat!(
            "Exit codes:\n",
            "  0    ",
            "everything is in place",
            "\n",
            "  1    ",
            $one,
            ", or the output could not be written\n",
            "  2    usage: an unknown flag, a destination or context name rdock cannot take\n",
            "  130  stopped by Ctrl-C (SIGINT); 143 by SIGTERM; 129 by SIGHUP\n"
        )
    };
}

const SETUP_HELP: &str = concat!(
    "\
Examples:
  # By hand: asks before it trusts a host key or uses your password
  rdock setup me@build.example

  # In a dotfiles script: no prompt, a new key without passphrase
  rdock setup me@build.example --yes --no-passphrase

  # A Host alias from ~/.ssh/config, with a context name of your choosing
  rdock setup buildbox --name build

  # Trust the host key only when its fingerprint is this one
  rdock setup me@build.example --yes --host-key SHA256:…

  # What would change, without changing anything
  rdock setup me@build.example --dry-run

",
    exit_codes!("a step failed and setup stopped (the ✗ line says what to do)")
);

const DOCTOR_HELP: &str = concat!(
    "\
Examples:
  # The context in use (or the one the VS Code workspace here pins)
  rdock doctor

  # One context, or a destination that has none yet
  rdock doctor build
  rdock doctor me@build.example

  # Every ssh:// context, as one JSON document for a script
  rdock doctor --all --json

  # A script that only wants to hear about problems, and fails on warnings too
  rdock doctor --quiet --strict

JSON output (--json): one document on stdout, whatever the outcome; schema_version is 1.
  One target:   {schema_version, target, checks, summary}
  --all:        {schema_version, targets: [{target, checks, summary}], editors, summary}
                (no ssh:// context: targets is [] and next is \"rdock setup user@host\")
  No remote:    {schema_version, target: {kind: \"local\"}, checks, summary, next}
  Usage error:  {schema_version, error: {kind: \"usage\", message}} (exit 2)
  target:  {kind: context|destination, context, destination, endpoint, pinned_by}
  checks:  [{id, status: ok|warn|fail|skip, message, fix}]
  summary: {problems, warnings, text}

",
    exit_codes!("a check failed (with --strict, a warning too)")
);

const VSCODE_HELP: &str = concat!(
    "\
Examples:
  # The refresh interval, in every installed editor
  rdock vscode

  # This folder uses the context build, whatever context is current
  rdock vscode --workspace . --context build

",
    exit_codes!("a settings file could not be read or written (it is left as it was)")
);

const LIST_HELP: &str = concat!(
    "\
Examples:
  rdock list
  # Connect to each one too, and print JSON
  rdock list --check --json

",
    exit_codes!("docker's context store could not be read")
);

const REMOVE_HELP: &str = concat!(
    "\
Examples:
  # Remove the context; print the command that revokes the key by hand
  rdock remove build --yes

  # Take the key out of the remote authorized_keys first
  rdock remove build --revoke --yes

",
    exit_codes!("a step failed; the context is kept")
);

const COMPLETIONS_HELP: &str = "\
Where each shell looks for them in your home (install.sh puts bash, zsh and fish there):

  bash:
    mkdir -p ~/.local/share/bash-completion/completions
    rdock completions bash > ~/.local/share/bash-completion/completions/rdock

  zsh (then, in ~/.zshrc before compinit: fpath=(~/.local/share/zsh/site-functions $fpath)):
    mkdir -p ~/.local/share/zsh/site-functions
    rdock completions zsh > ~/.local/share/zsh/site-functions/_rdock

  fish:
    mkdir -p ~/.config/fish/completions
    rdock completions fish > ~/.config/fish/completions/rdock.fish

  elvish (then, in ~/.config/elvish/rc.elv: eval (slurp < ~/.config/elvish/lib/rdock.elv)):
    mkdir -p ~/.config/elvish/lib
    rdock completions elvish > ~/.config/elvish/lib/rdock.elv

  PowerShell (then, in $PROFILE: . ~/Documents/PowerShell/rdock.ps1):
    New-Item -ItemType Directory -Force ~/Documents/PowerShell
    rdock completions powershell > ~/Documents/PowerShell/rdock.ps1

Exit codes:
  0    printed
  1    the output could not be written
  2    usage: an unknown shell
";

const MAN_HELP: &str = "\
The page covers every subcommand and flag. Install it where man looks in your home:

  mkdir -p ~/.local/share/man/man1
  rdock man > ~/.local/share/man/man1/rdock.1
  man rdock

Exit codes:
  0    printed
  1    the output could not be written
";

#[derive(Parser, Debug)]
#[command(
    name = "rdock",
    version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("RDOCK_TARGET"), ")"),
    about = "Reach Docker on a remote Linux box over SSH: key, agent, host key, remote checks, docker context, VS Code",
    after_long_help = TOP_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub before: BeforeArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// `-v`, `--dry-run` and `--color` given before the subcommand (`rdock --verbose setup …`).
#[derive(Args, Debug, Clone, Default)]
pub struct BeforeArgs {
    /// Echo every command rdock runs, as exact argv (setup, doctor, vscode, list, remove)
    #[arg(short, long)]
    pub verbose: bool,
    /// Print each step and the commands it would run; change nothing (setup, vscode, remove)
    #[arg(long)]
    pub dry_run: bool,
    /// When to colour the output: auto (a terminal, unless NO_COLOR is set), always or never
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<Color>,
}

/// `-v` and `--color`: for the subcommands that run commands and print a report.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Common options")]
pub struct OutputArgs {
    /// Echo every command rdock runs, as exact argv
    #[arg(short, long)]
    pub verbose: bool,
    /// When to colour the output: auto (a terminal, unless NO_COLOR is set), always or never
    #[arg(long, value_enum, value_name = "WHEN")]
    pub color: Option<Color>,
}

/// `--dry-run`: for the subcommands that change something.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Common options")]
pub struct DryRunArg {
    /// Print each step and the commands it would run; change nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// `-q`: for the subcommands whose report a script may want trimmed.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Common options")]
pub struct QuietArg {
    /// Print only the problems (warnings and failures, with their fixes) and the summary line
    #[arg(short, long)]
    pub quiet: bool,
}

/// What a command runs with, from the flags before and after the subcommand.
#[derive(Debug, Clone, Default)]
pub struct GlobalArgs {
    pub verbose: bool,
    pub dry_run: bool,
    pub color: Color,
    pub quiet: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Color {
    #[default]
    Auto,
    Always,
    Never,
}

impl Cli {
    /// The flags the subcommand runs with. A flag before the subcommand that it has no use for
    /// (`rdock --dry-run doctor`) is a usage error, as it is after the subcommand.
    pub fn global(&self) -> Result<GlobalArgs, Error> {
        let none = (None, None, None);
        let (output, dry_run, quiet) = match &self.command {
            Command::Setup(a) => (Some(&a.output), Some(&a.dry_run), Some(&a.quiet)),
            Command::Doctor(a) => (Some(&a.output), None, Some(&a.quiet)),
            Command::Vscode(a) => (Some(&a.output), Some(&a.dry_run), None),
            Command::List(a) => (Some(&a.output), None, None),
            Command::Remove(a) => (Some(&a.output), Some(&a.dry_run), None),
            Command::Completions(_) | Command::Man => none,
        };
        let refuse = |flag: &str| {
            Error::Usage(format!(
                "error: rdock {} takes no {flag}",
                self.command.name()
            ))
        };
        if self.before.verbose && output.is_none() {
            return Err(refuse("--verbose"));
        }
        if self.before.dry_run && dry_run.is_none() {
            return Err(refuse("--dry-run"));
        }
        Ok(GlobalArgs {
            verbose: self.before.verbose || output.is_some_and(|o| o.verbose),
            dry_run: self.before.dry_run || dry_run.is_some_and(|d| d.dry_run),
            color: output
                .and_then(|o| o.color)
                .or(self.before.color)
                .unwrap_or_default(),
            quiet: quiet.is_some_and(|q| q.quiet),
        })
    }
}

/// Exit codes, for the help texts above: they must say what error.rs gives.
const _: () = assert!(EXIT_FAILED == 1 && EXIT_USAGE == 2);

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Walk every step from key pair to docker context, fixing what needs fixing
    #[command(after_long_help = SETUP_HELP)]
    Setup(SetupArgs),
    /// Diagnose a context or destination without changing anything; print the fix for each problem
    #[command(after_long_help = DOCTOR_HELP)]
    Doctor(DoctorArgs),
    /// Set docker.explorerRefreshInterval in every installed editor's settings.json; with
    /// --workspace DIR, pin a docker context for that folder alone instead
    #[command(after_long_help = VSCODE_HELP)]
    Vscode(VscodeArgs),
    /// List the ssh:// docker contexts: endpoint, current, made by rdock
    #[command(after_long_help = LIST_HELP)]
    List(ListArgs),
    /// Remove a docker context and rdock's ~/.ssh/config block for it; with --revoke, first take
    /// rdock's key out of the remote authorized_keys
    #[command(after_long_help = REMOVE_HELP)]
    Remove(RemoveArgs),
    /// Print the completions for a shell (--help says where each shell looks for them)
    #[command(after_long_help = COMPLETIONS_HELP)]
    Completions(CompletionsArgs),
    /// Print the man page (roff), every subcommand and flag in one page
    #[command(after_long_help = MAN_HELP)]
    Man,
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Setup(_) => "setup",
            Command::Doctor(_) => "doctor",
            Command::Vscode(_) => "vscode",
            Command::List(_) => "list",
            Command::Remove(_) => "remove",
            Command::Completions(_) => "completions",
            Command::Man => "man",
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to print completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug, Clone, Default)]
pub struct ListArgs {
    /// Print JSON: an array of {name, endpoint, current, managed[, reachable, server_version, error]}
    #[arg(long)]
    pub json: bool,
    /// Also connect to each context (in parallel) for reachability and the server version
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub output: OutputArgs,
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
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dry_run: DryRunArg,
}

#[derive(Args, Debug, Clone, Default)]
pub struct SetupArgs {
    /// [user@]host[:port], ssh://[user@]host[:port], u@[::1]:2222, or a Host alias from ~/.ssh/config
    #[arg(allow_hyphen_values = true)]
    pub destination: String,
    /// Private key to use (default: the first identity file `ssh -G DESTINATION` lists that
    /// exists, the key ssh would offer; when none exists, a new key where ssh_config's
    /// IdentityFile says, else ~/.ssh/id_ed25519)
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
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dry_run: DryRunArg,
    #[command(flatten)]
    pub quiet: QuietArg,
}

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
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub quiet: QuietArg,
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
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub dry_run: DryRunArg,
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
