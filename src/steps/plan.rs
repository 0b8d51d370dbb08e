//! The plan: every step, in the order setup and doctor run them, with what each needs, where
//! doctor lists it and whether a failure stops setup. Both commands build their steps here, from
//! this one list; so does `rdock remove`, from its own steps at the end of it.

use std::path::PathBuf;

use crate::sys::env::Env;
use crate::vscode::{self, Discovery};

use crate::docker::clients::Client;
use crate::vscode::extensions::installed_extensions;

use super::agent::{AgentKeysStep, AgentStep, IdentityStep};
use super::clients::ClientStep;
use super::context::{ContextStep, EnvStep, UseStep, VerifyStep};
use super::destination::DestinationStep;
use super::host_key::HostKeyStep;
use super::key::KeyStep;
use super::multiplex::{MultiplexStep, Sharing};
use super::remote::{AuthStep, ConnectionStep, RemoteDaemonStep, RemotePathStep};
use super::remove::RemoveSteps;
use super::ssh_config::SshConfigStep;
use super::tools::ToolsStep;
use super::vscode::{EnvironmentStep, ExtensionsStep, NothingFound, SettingsStep, WorkspaceStep};
use super::Step;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Tools,
    Destination,
    Key,
    SshConfig,
    Agent,
    Identity,
    AgentKeys,
    Connection,
    HostKey,
    Auth,
    RemotePath,
    RemoteDaemon,
    Context,
    Use,
    Environment,
    Verify,
    Multiplex,
    Clients,
    VscodeSettings,
    VscodeEnv,
    Workspace,
    VscodeExt,
    // `rdock remove` (steps::remove).
    Target,
    RevokeKey,
    SharedKey,
    Revoke,
    Remove,
    MultiplexBlock,
    LeftAlone,
}

/// Where doctor lists a check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    Local,
    Remote,
    Docker,
    Clients,
    Editors,
    /// `rdock remove`'s steps, which setup and doctor never run.
    Removal,
}

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Local => "Local",
            Group::Remote => "Remote",
            Group::Docker => "Docker context",
            Group::Clients => "Clients",
            Group::Editors => "VS Code",
            Group::Removal => "Remove",
        }
    }
}

/// One step of the plan.
pub struct Meta {
    pub kind: Kind,
    pub id: &'static str,
    pub group: Group,
    /// Earlier steps this one depends on.
    pub needs: &'static [Kind],
    /// A failure stops setup (later steps depend on it).
    pub blocking: bool,
}

const fn meta(
    kind: Kind,
    id: &'static str,
    group: Group,
    needs: &'static [Kind],
    blocking: bool,
) -> Meta {
    Meta {
        kind,
        id,
        group,
        needs,
        blocking,
    }
}

use Group::*;
use Kind::*;

/// Every step, in order.
pub const PLAN: [Meta; 29] = [
    meta(Tools, "tools", Local, &[], true),
    meta(Destination, "destination", Local, &[Tools], true),
    meta(Key, "key", Local, &[Destination], true),
    meta(SshConfig, "ssh-config", Local, &[], false),
    meta(Agent, "agent", Local, &[], true),
    meta(Identity, "identity", Local, &[Key, Agent], true),
    meta(AgentKeys, "agent-keys", Local, &[Agent], false),
    meta(Connection, "connection", Remote, &[Destination], true),
    meta(HostKey, "host-key", Remote, &[Connection], true),
    meta(Auth, "auth", Remote, &[HostKey, Identity], true),
    meta(RemotePath, "remote-path", Remote, &[Auth], true),
    meta(RemoteDaemon, "remote-daemon", Remote, &[RemotePath], true),
    meta(
        Kind::Context,
        "context",
        Group::Docker,
        &[Destination, Tools],
        true,
    ),
    meta(Use, "use", Group::Docker, &[Kind::Context], true),
    meta(Environment, "environment", Group::Docker, &[], false),
    meta(
        Verify,
        "verify",
        Group::Docker,
        &[Kind::Context, RemoteDaemon, Identity],
        true,
    ),
    // After verify: what one docker command took decides whether setup offers sharing.
    meta(Multiplex, "multiplex", Group::Docker, &[Destination], false),
    // One check per client family (doctor only): what the libraries need; the docker CLI, and
    // VS Code when it runs the CLI, need every check of the path ssh takes (steps::clients).
    meta(
        Kind::Clients,
        "clients",
        Group::Clients,
        &[Key, Auth, RemoteDaemon],
        false,
    ),
    meta(VscodeSettings, "vscode", Editors, &[], false),
    meta(VscodeEnv, "vscode-env", Editors, &[], false),
    meta(Workspace, "workspace", Editors, &[], false),
    meta(VscodeExt, "vscode-ext", Editors, &[], false),
    // `rdock remove`: find the context (and, with --revoke, the key and who else logs in with
    // it), take the key off the remote first, then the context and rdock's ssh_config block.
    // Under --dry-run nothing is done, so no removal step may need the revoke.
    meta(Target, "target", Removal, &[], true),
    meta(RevokeKey, "revoke-key", Removal, &[Target], true),
    meta(SharedKey, "shared-key", Removal, &[RevokeKey], true),
    meta(Revoke, "revoke", Removal, &[SharedKey], true),
    meta(Remove, "remove", Removal, &[Target, SharedKey], true),
    meta(
        MultiplexBlock,
        "multiplex-block",
        Removal,
        &[Target, SharedKey],
        true,
    ),
    meta(LeftAlone, "left-alone", Removal, &[Target], false),
];

impl Kind {
    fn meta(self) -> &'static Meta {
        PLAN.iter()
            .find(|m| m.kind == self)
            .expect("every kind is in the plan")
    }
    pub fn id(self) -> &'static str {
        self.meta().id
    }
    pub fn group(self) -> Group {
        self.meta().group
    }
    pub fn needs(self) -> &'static [Kind] {
        self.meta().needs
    }
    pub fn blocking(self) -> bool {
        self.meta().blocking
    }
}

/// Which command the steps are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Setup,
    Doctor,
    /// `rdock remove`, and with `revoke` its `--revoke`.
    Remove {
        revoke: bool,
    },
}

/// Which part of the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    /// Everything but the editors (doctor --all checks those once, on their own).
    Destination,
    /// The editors alone (rdock vscode, and doctor --all's editors block).
    Editors,
    /// A workspace folder's docker context alone (rdock vscode --workspace).
    Workspace,
    /// What needs no destination: the local checks but the destination's, and the editors
    /// (doctor before any remote exists).
    Local,
}

/// The editor part of the options.
#[derive(Clone, Debug, Default)]
pub struct EditorOptions {
    /// `--settings`: files to use instead of the discovered ones.
    pub settings: Vec<PathBuf>,
    /// `--refresh-interval`.
    pub interval: u64,
}

/// A workspace folder and its docker context: the one `rdock vscode --workspace` pins, or the
/// one the folder doctor runs in pins (None: it pins none, or its pins disagree).
#[derive(Clone, Debug, Default)]
pub struct WorkspaceOptions {
    pub dir: PathBuf,
    pub context: Option<String>,
}

/// What the command line says about the steps.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The docker context.
    pub context: String,
    /// The key to use; None: the one ssh would offer.
    pub identity: Option<PathBuf>,
    pub no_passphrase: bool,
    pub yes: bool,
    pub accept_host_key: bool,
    /// `--host-key`: fingerprints an unknown host key must match.
    pub host_keys: Vec<String>,
    pub install_key: bool,
    pub force: bool,
    /// Leave the current context alone.
    pub no_use: bool,
    pub multiplex: bool,
    /// `--no-multiplex`: never share connections for this host (and take rdock's block out).
    pub no_multiplex: bool,
    /// `--client`: client families that must work (doctor fails, not warns, when one will not).
    pub clients: Vec<Client>,
    pub editors: EditorOptions,
    pub workspace: Option<WorkspaceOptions>,
}

/// The steps for `purpose`, in the plan's order.
pub fn steps(purpose: Purpose, scope: Scope, o: &Options, env: &Env) -> Vec<Box<dyn Step>> {
    let setup = purpose == Purpose::Setup;
    let removal = match purpose {
        Purpose::Remove { revoke } => Some(RemoveSteps::new(
            o.context.clone(),
            o.identity.clone(),
            o.yes,
            o.force,
            revoke,
        )),
        _ => None,
    };
    let editors = match scope {
        _ if removal.is_some() => None,
        Scope::Destination | Scope::Workspace => None,
        _ => Some(vscode::targets(
            &Discovery::from_env(env),
            &o.editors.settings,
        )),
    };
    let mut out: Vec<Box<dyn Step>> = Vec::new();
    for m in &PLAN {
        let wanted = match scope {
            Scope::All => true,
            Scope::Destination => m.group != Editors,
            Scope::Editors => m.group == Editors,
            Scope::Workspace => m.kind == Workspace,
            Scope::Local => (m.group == Local && m.kind != Destination) || m.group == Editors,
        };
        if !wanted || removal.is_some() != (m.group == Removal) {
            continue;
        }
        let context = o.context.clone();
        match m.kind {
            Tools => out.push(Box::new(ToolsStep)),
            Destination => out.push(Box::new(DestinationStep {
                identity: o
                    .identity
                    .as_ref()
                    .map(|p| std::path::absolute(p).unwrap_or(p.clone())),
            })),
            Key => out.push(Box::new(KeyStep::new(
                o.identity.clone(),
                o.no_passphrase,
                setup && o.yes,
            ))),
            SshConfig => out.push(Box::new(SshConfigStep {
                yes: setup && o.yes,
                wrote: false,
            })),
            Agent => out.push(Box::new(AgentStep {
                yes: setup && o.yes,
            })),
            Identity => out.push(Box::new(IdentityStep)),
            AgentKeys => out.push(Box::new(AgentKeysStep)),
            Connection => out.push(Box::new(ConnectionStep)),
            // Trust is never implied by --yes: only --accept-host-key or a pinned fingerprint.
            HostKey => out.push(Box::new(HostKeyStep {
                accept: setup && o.accept_host_key,
                pinned: o.host_keys.clone(),
            })),
            Auth => out.push(Box::new(AuthStep {
                install: setup && (o.install_key || o.yes),
                present: None,
            })),
            RemotePath => out.push(Box::new(RemotePathStep::new(setup && o.yes))),
            RemoteDaemon => out.push(Box::new(RemoteDaemonStep {
                yes: setup && o.yes,
                context: o.context.clone(),
            })),
            // Setup offers sharing (or is told); doctor reports it.
            Multiplex => out.push(Box::new(MultiplexStep::new(
                context,
                match () {
                    _ if !setup => Sharing::Report,
                    _ if o.no_multiplex => Sharing::Off,
                    _ if o.multiplex => Sharing::On,
                    _ => Sharing::Offer { yes: o.yes },
                },
            ))),
            Kind::Context => out.push(Box::new(ContextStep::new(context, setup && o.force))),
            Use => out.push(Box::new(UseStep {
                pinned_in: o
                    .workspace
                    .as_ref()
                    .filter(|w| w.context.as_deref() == Some(context.as_str()))
                    .map(|w| w.dir.clone()),
                name: context,
                no_use: o.no_use,
            })),
            Environment => out.push(Box::new(EnvStep { name: context })),
            // Doctor's remote checks already made the round trip; setup proves the whole path.
            Verify if setup => out.push(Box::new(VerifyStep { name: context })),
            Verify => {}
            // Which clients can reach the context is doctor's question; setup makes no client work.
            Kind::Clients if setup => {}
            Kind::Clients => {
                let extensions = installed_extensions(&Discovery::from_env(env).extension_dirs());
                out.extend(Client::ALL.into_iter().map(|client| {
                    Box::new(ClientStep {
                        client,
                        required: o.clients.contains(&client),
                        context: o.context.clone(),
                        extensions: extensions.clone(),
                    }) as Box<dyn Step>
                }));
            }
            VscodeSettings => match editors.as_deref() {
                Some([]) | None => out.push(Box::new(NothingFound {
                    looked_in: Discovery::from_env(env).config_dir(),
                })),
                Some(targets) => out.extend(targets.iter().map(|target| {
                    Box::new(SettingsStep {
                        target: target.clone(),
                        interval: o.editors.interval,
                    }) as Box<dyn Step>
                })),
            },
            VscodeEnv => {
                if let Some(targets) = editors.as_deref().filter(|t| !t.is_empty()) {
                    out.push(Box::new(EnvironmentStep {
                        paths: targets.iter().map(|t| t.path.clone()).collect(),
                    }));
                }
            }
            // Setup pins the context it was given; doctor reports what the folder pins.
            Workspace => out.extend(o.workspace.as_ref().map(|w| {
                Box::new(WorkspaceStep {
                    dir: w.dir.clone(),
                    want: w.context.clone().filter(|_| setup),
                }) as Box<dyn Step>
            })),
            VscodeExt => {
                if editors.as_deref().is_some_and(|t| !t.is_empty()) {
                    out.push(Box::new(ExtensionsStep {
                        dirs: Discovery::from_env(env).extension_dirs(),
                    }));
                }
            }
            Target | RevokeKey | SharedKey | Revoke | Remove | MultiplexBlock | LeftAlone => {
                out.extend(removal.as_ref().and_then(|r| r.step(m.kind)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::platform::Platform;

    #[test]
    fn doctor_heads_each_group_with_its_own_title() {
        let groups = [
            Local,
            Remote,
            Group::Docker,
            Group::Clients,
            Editors,
            Removal,
        ];
        assert_eq!(
            groups.map(Group::title),
            [
                "Local",
                "Remote",
                "Docker context",
                "Clients",
                "VS Code",
                "Remove"
            ]
        );
    }

    #[test]
    fn every_need_names_an_earlier_step() {
        for (i, m) in PLAN.iter().enumerate() {
            for need in m.needs {
                let at = PLAN.iter().position(|e| e.kind == *need).unwrap();
                assert!(at < i, "{} needs {}, which comes later", m.id, need.id());
            }
        }
    }

    #[test]
    fn every_kind_is_in_the_plan_once_with_its_own_id() {
        let mut ids: Vec<&str> = PLAN.iter().map(|m| m.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PLAN.len());
        for m in &PLAN {
            assert_eq!(m.kind.id(), m.id);
        }
    }

    #[test]
    fn setup_and_doctor_take_their_steps_from_the_one_list_in_its_order() {
        let env = Env::new(Platform::Linux, "/nonexistent-home");
        let o = Options {
            context: "box".into(),
            multiplex: true,
            ..Options::default()
        };
        let ids = |purpose, o: &Options| -> Vec<String> {
            steps(purpose, Scope::Destination, o, &env)
                .iter()
                .map(|s| s.id())
                .collect()
        };
        let all: Vec<String> = PLAN
            .iter()
            .filter(|m| m.group != Editors && m.group != Removal)
            .map(|m| m.id.to_string())
            .collect();
        let but = |left_out: &str| -> Vec<String> {
            all.iter().filter(|i| *i != left_out).cloned().collect()
        };
        let setup = ids(Purpose::Setup, &o);
        assert_eq!(
            setup,
            but("clients"),
            "setup runs every step but doctor's clients"
        );
        // Doctor runs every check but verify, and one clients check per client family.
        let clients: Vec<String> = Client::ALL
            .iter()
            .map(|&c| crate::steps::clients::id(c).to_string())
            .collect();
        let doctor: Vec<String> = but("verify")
            .into_iter()
            .flat_map(|id| match id.as_str() {
                "clients" => clients.clone(),
                _ => vec![id],
            })
            .collect();
        assert_eq!(ids(Purpose::Doctor, &o), doctor);
        let plain = ids(
            Purpose::Setup,
            &Options {
                multiplex: false,
                ..o.clone()
            },
        );
        assert_eq!(plain, setup, "setup offers sharing without --multiplex");
    }
}
