//! Every step of the plan, in-process and on any OS: a scripted `Exec` that answers with what the
//! real tools printed (recorded.rs), an `Env` whose home is a temporary directory, `Term::plain()`
//! (which never asks), and the runner `steps::run` in each mode. [`Rig`] builds that world; a file
//! per step kind tests it.

mod agent;
mod clients;
mod context;
mod destination;
mod host_key;
mod key;
mod multiplex;
mod plan;
mod recorded;
mod remote;
mod remove;
mod repair;
mod ssh_config;
mod tools;
mod vscode;
mod workspace;

use std::path::{Path, PathBuf};

use rdock::ssh::destination::Destination;
use rdock::steps::plan::{EditorOptions, Options, Purpose, Scope};
use rdock::steps::{self, Finding, Mode, Outcome, Report, Session, Status, Step};
use rdock::sys::env::Env;
use rdock::sys::exec::{Effect, Ran, Reply, Script};
use rdock::sys::platform::Platform;
use rdock::sys::term::Term;

use recorded::*;

/// The context the tests set up: the one the recorded docker outputs name.
pub const CONTEXT: &str = "box";
/// The destination of [`SSH_G_PLAIN`].
pub const PLAIN: &str = "u@127.0.0.1:2222";
/// `docker --context box version` for the server's version: what verify runs.
pub const VERSION: [&str; 6] = [
    "docker",
    "--context",
    CONTEXT,
    "version",
    "--format",
    "{{.Server.Version}}",
];
/// Local docker calls: on the default context, so they never dial a remote.
pub const LOCAL_DOCKER: [&str; 3] = ["docker", "--context", "default"];

/// A local docker call's argv: [`LOCAL_DOCKER`], then `args`.
pub fn local_docker(args: &[&str]) -> Vec<String> {
    LOCAL_DOCKER
        .iter()
        .chain(args)
        .map(|s| s.to_string())
        .collect()
}

/// Write docker's context store under `home` as docker 28 wrote it (the recordings of context
/// box → ssh://alice@box:2222, current): a meta.json per context, and config.json naming the
/// current one (none: `default`).
pub fn write_store(home: &Path, contexts: &[(&str, &str)], current: Option<&str>) {
    let docker = home.join(".docker");
    let meta = docker.join("contexts").join("meta");
    let _ = std::fs::remove_dir_all(&meta);
    for (name, endpoint) in contexts {
        let dir = meta.join(format!("sha-of-{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let json = STORE_META
            .replace("ssh://alice@box:2222", endpoint)
            .replace("\"box\"", &format!("\"{name}\""));
        std::fs::write(dir.join("meta.json"), json).unwrap();
    }
    std::fs::create_dir_all(&docker).unwrap();
    let config = match current {
        Some(name) => STORE_CONFIG.replace("\"box\"", &format!("\"{name}\"")),
        None => STORE_CONFIG.replace(",\n\t\"currentContext\": \"box\"", ""),
    };
    std::fs::write(docker.join("config.json"), config).unwrap();
}

/// SSH_AUTH_SOCK, as ssh-agent names its socket.
pub const AGENT_SOCK: &str = "/tmp/ssh-XXXXh0fLq9/agent.4242";

/// The options a command line with only the context would give.
pub fn options() -> Options {
    Options {
        context: CONTEXT.into(),
        editors: EditorOptions {
            settings: Vec::new(),
            interval: 3000,
        },
        ..Options::default()
    }
}

/// [`options`] with `--yes`.
pub fn yes() -> Options {
    Options {
        yes: true,
        ..options()
    }
}

/// What a fix that needs consent says without a terminal and without `flag`.
pub fn no_consent(flag: &str) -> Outcome {
    Outcome::Declined(format!(
        "this needs your consent and there is no terminal to ask on; pass {flag} to agree"
    ))
}

/// Write a private key as ssh-keygen does: mode 0600 where files have modes.
pub fn private_file(path: &Path, contents: &str) {
    std::fs::write(path, contents).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// A finding as a person reads it, to pin whole in an inline snapshot: `id status: message`,
/// then `fix: ` and the fix (its further lines indented to line up). A test's temporary home
/// reads `[HOME]`, so the snapshot is the same on every run.
pub fn render(f: &Finding) -> String {
    let status = match f.status {
        Status::Ok => "ok",
        Status::Warn => "warn",
        Status::Fail => "fail",
        Status::Skip => "skip",
    };
    let mut text = format!("{} {status}: {}", f.id, f.message);
    if let Some(fix) = &f.fix {
        text.push_str("\nfix: ");
        text.push_str(&fix.replace('\n', "\n     "));
    }
    without_temp_homes(&text)
}

/// `text` with every temporary directory ([`Rig`]'s home: `.tmpXXXXXX` in the temp dir) as `[HOME]`.
fn without_temp_homes(text: &str) -> String {
    let prefix = std::env::temp_dir().join(".tmp").display().to_string();
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let name = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphanumeric())
                .len();
        out.push_str("[HOME]");
        rest = &after[name..];
    }
    out.push_str(rest);
    out
}

/// One machine for one test: the OS, a temporary home, the variables, the destination, and the
/// script the tools answer from.
pub struct Rig {
    home: tempfile::TempDir,
    pub env: Env,
    script: Script,
    dest: Option<Destination>,
}

impl Rig {
    pub fn new(platform: Platform) -> Rig {
        let home = tempfile::tempdir().unwrap();
        let env = Env::new(platform, home.path());
        Rig {
            home,
            env,
            script: Script::new(),
            dest: None,
        }
    }

    /// docker's context store in the home holds these contexts, and `current` is current.
    pub fn store(self, contexts: &[(&str, &str)], current: Option<&str>) -> Rig {
        write_store(self.home(), contexts, current);
        self
    }

    /// A reply that leaves docker's context store as given, as `docker context …` would.
    pub fn store_after(
        &self,
        reply: Reply,
        contexts: &[(&str, &str)],
        current: Option<&str>,
    ) -> Reply {
        let home = self.home().to_path_buf();
        let contexts: Vec<(String, String)> = contexts
            .iter()
            .map(|(n, e)| (n.to_string(), e.to_string()))
            .collect();
        let current = current.map(str::to_string);
        reply.effect(move || {
            let pairs: Vec<(&str, &str)> = contexts
                .iter()
                .map(|(n, e)| (n.as_str(), e.as_str()))
                .collect();
            write_store(&home, &pairs, current.as_deref());
        })
    }

    /// Linux, destination `u@127.0.0.1:2222`.
    pub fn plain() -> Rig {
        Rig::new(Platform::Linux).plain_host()
    }

    /// Linux, destination `box`: a Host alias in ~/.ssh/config.
    pub fn alias() -> Rig {
        Rig::new(Platform::Linux).alias_host()
    }

    /// Destination `u@127.0.0.1:2222`, which `ssh -G` resolves as recorded.
    pub fn plain_host(self) -> Rig {
        let (g, bare) = (self.at_home(SSH_G_PLAIN), self.at_home(SSH_G_PLAIN_F_NONE));
        let argv = |line: &'static str| line.split(' ').collect::<Vec<_>>();
        self.dest(PLAIN)
            .on(&argv("ssh -G -l u -p 2222 -- 127.0.0.1"), Reply::ok(g))
            .on(
                &argv("ssh -G -F none -l u -p 2222 -- 127.0.0.1"),
                Reply::ok(bare),
            )
    }

    /// Destination `box`, a Host alias for alice@10.0.0.5:2222 with ControlMaster auto, in
    /// ~/.ssh/config; `ssh -G` with and without that file, as recorded.
    pub fn alias_host(self) -> Rig {
        self.write(".ssh/config", ALIAS_SSH_CONFIG);
        let (g, bare) = (self.at_home(SSH_G_ALIAS), self.at_home(SSH_G_ALIAS_F_NONE));
        self.dest("box")
            .on(&["ssh", "-G", "--", "box"], Reply::ok(g))
            .on(&["ssh", "-G", "-F", "none", "--", "box"], Reply::ok(bare))
    }

    /// Destination `host`, one of the Host blocks of keywords.ssh_config, in ~/.ssh/config;
    /// `ssh -G` with and without that file, as recorded (`work`, `legacy`, `envagent` or `onepass`).
    pub fn keywords_host(self, host: &str) -> Rig {
        self.write(".ssh/config", KEYWORDS_SSH_CONFIG);
        let (g, bare) = match host {
            "work" => (SSH_G_WORK, SSH_G_WORK_F_NONE),
            "legacy" => (SSH_G_LEGACY, SSH_G_LEGACY_F_NONE),
            "envagent" => (SSH_G_ENVAGENT, SSH_G_ENVAGENT_F_NONE),
            "onepass" => (SSH_G_ONEPASS, SSH_G_ONEPASS_F_NONE),
            _ => panic!("no recording for {host}"),
        };
        let (g, bare) = (self.at_home(g), self.at_home(bare));
        self.dest(host)
            .on(&["ssh", "-G", "--", host], Reply::ok(g))
            .on(&["ssh", "-G", "-F", "none", "--", host], Reply::ok(bare))
    }

    pub fn dest(mut self, text: &str) -> Rig {
        self.dest = Some(Destination::parse(text).unwrap());
        self
    }

    pub fn var(mut self, key: &str, value: &str) -> Rig {
        self.env = self.env.with_var(key, value);
        self
    }

    /// Reply to exactly this argv; said again, the replies come in turn and the last repeats.
    pub fn on(mut self, argv: &[&str], reply: Reply) -> Rig {
        self.script = self.script.on(argv, reply);
        self
    }

    pub fn on_prefix(mut self, prefix: &[&str], reply: Reply) -> Rig {
        self.script = self.script.on_prefix(prefix, reply);
        self
    }

    /// `ssh -V` and `docker --version` as recorded.
    pub fn versions(self) -> Rig {
        self.on(&["ssh", "-V"], ssh_v()).on(
            &["docker", "--context", "default", "--version"],
            Reply::ok(DOCKER_VERSION),
        )
    }

    /// ~/.ssh/id_ed25519 and its .pub (the recorded key pair), and `ssh-keygen -y` deriving it.
    pub fn key(self) -> Rig {
        self.key_files(Some(KEY), Some(KEY_PUB), Reply::ok(SSH_KEYGEN_Y))
    }

    /// The recorded key with a passphrase, and its .pub.
    pub fn locked_key(self) -> Rig {
        self.key_files(Some(LOCKED_KEY), Some(LOCKED_KEY_PUB), keygen_y_locked())
    }

    /// ~/.ssh/id_ed25519 and its .pub holding these texts (a file given None is not there), and
    /// `ssh-keygen -y -P '' -f ~/.ssh/id_ed25519` answering so.
    pub fn key_files(self, private: Option<&str>, public: Option<&str>, derived: Reply) -> Rig {
        if let Some(text) = private {
            self.private(".ssh/id_ed25519", text);
        }
        if let Some(text) = public {
            self.write(".ssh/id_ed25519.pub", text);
        }
        let path = self.arg(".ssh/id_ed25519");
        self.on(&["ssh-keygen", "-y", "-P", "", "-f", &path], derived)
    }

    /// An agent at [`AGENT_SOCK`] answering `ssh-add -l` and `ssh-add -L` so.
    pub fn agent(self, l: Reply, big_l: Reply) -> Rig {
        self.var("SSH_AUTH_SOCK", AGENT_SOCK)
            .on(&["ssh-add", "-l"], l)
            .on(&["ssh-add", "-L"], big_l)
    }

    /// An agent holding the key of [`Rig::key`].
    pub fn agent_with_key(self) -> Rig {
        self.agent(Reply::ok(SSH_ADD_L_ONE), Reply::ok(SSH_ADD_BIG_L_ONE))
    }

    /// The probe's ssh (the only ssh rdock starts with BatchMode) answers so.
    pub fn probe(self, reply: Reply) -> Rig {
        self.on_prefix(&["ssh", "-o", "BatchMode=yes"], reply)
    }

    /// The ssh that fetches a host key (StrictHostKeyChecking=accept-new into a private file)
    /// answers as recorded: it writes [`FETCHED`] into its file beside ~/.ssh/known_hosts and
    /// stops at auth; `ssh-keygen -l` prints that key's fingerprint.
    pub fn fetches_host_key(self) -> Rig {
        let ssh_dir = self.path(".ssh");
        let reply = Reply::fail(255, FETCH_STDERR).effect(move || {
            for entry in std::fs::read_dir(&ssh_dir).into_iter().flatten().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(rdock::ssh::known_hosts::FETCH_DIR_PREFIX) {
                    std::fs::write(entry.path().join("known_hosts"), FETCHED).unwrap();
                }
            }
        });
        self.on_prefix(&["ssh", "-o", "StrictHostKeyChecking=accept-new"], reply)
            .on(
                &["ssh-keygen", "-l", "-f", "-"],
                Reply::ok(KEYGEN_L_FETCHED),
            )
    }

    /// ~/.ssh/known_hosts holds the recorded host key of [127.0.0.1]:2222, and `ssh-keygen -F`
    /// finds it there and nothing in any other file (the machine's /etc/ssh may have some).
    pub fn known_host(self) -> Rig {
        self.write(".ssh/known_hosts", KEYSCAN);
        self.finds_host_key()
    }

    /// `ssh-keygen -F` finds the host key of [127.0.0.1]:2222 in ~/.ssh/known_hosts (once it
    /// is there: rdock asks only of files that exist) and nothing in any other file.
    pub fn finds_host_key(self) -> Rig {
        let file = self.arg(".ssh/known_hosts");
        self.on(
            &["ssh-keygen", "-F", "[127.0.0.1]:2222", "-f", &file],
            Reply::ok(KEYGEN_F),
        )
        .unknown_hosts()
    }

    /// `ssh-keygen -F` finds nothing in any file but those given a rule of their own.
    pub fn unknown_hosts(self) -> Rig {
        self.on_prefix(&["ssh-keygen", "-F"], keygen_f_missing())
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// A path in the home, from a `~/`-relative path, as rdock expands ssh's `~/` paths.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.env.expand(&format!("~/{rel}"))
    }

    /// [`Rig::path`] as an argv word.
    pub fn arg(&self, rel: &str) -> String {
        self.path(rel).to_string_lossy().into_owned()
    }

    /// Put the test's home where the recording's (`/root`) stands.
    pub fn at_home(&self, text: &str) -> String {
        text.replace("/root/", &self.arg(""))
    }

    /// Write a file in the home, making its folders.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Write a private key in the home (see [`private_file`]).
    pub fn private(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        private_file(&path, contents);
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// A session over a fresh scripted Exec (`--dry-run` set for [`Mode::DryRun`]).
    pub fn session(&self, mode: Mode) -> Session {
        let mut exec = rdock::sys::exec::Exec::scripted(self.script.clone());
        exec.dry_run = mode == Mode::DryRun;
        let mut s = Session::new(exec, Term::plain(), self.env.clone());
        s.dest = self.dest.clone();
        s
    }

    /// The plan's steps of these kinds, as `purpose` builds them with `o`.
    pub fn steps(&self, purpose: Purpose, o: &Options, kinds: &[&str]) -> Vec<Box<dyn Step>> {
        let all = rdock::steps::plan::steps(purpose, Scope::All, o, &self.env);
        let picked: Vec<Box<dyn Step>> = all
            .into_iter()
            .filter(|s| kinds.contains(&s.kind().id()))
            .collect();
        for kind in kinds {
            assert!(
                picked.iter().any(|s| s.kind().id() == *kind),
                "the plan has no {kind} step for {purpose:?}"
            );
        }
        picked
    }

    /// Run the plan's steps of these kinds in `mode` (setup builds them for setup and dry-run,
    /// doctor for doctor).
    pub fn run(&self, mode: Mode, o: &Options, kinds: &[&str]) -> Done {
        let purpose = match mode {
            Mode::Doctor => Purpose::Doctor,
            Mode::Setup | Mode::DryRun => Purpose::Setup,
        };
        self.run_steps(mode, self.steps(purpose, o, kinds))
    }

    /// Run these steps in `mode`. Every command must have had a reply, and under --dry-run no
    /// command that changes anything may have run (or been printed: dry-run never calls fix).
    pub fn run_steps(&self, mode: Mode, mut steps: Vec<Box<dyn Step>>) -> Done {
        self.run_in(self.session(mode), mode, &mut steps)
    }

    /// [`Rig::run_steps`] in a session of the caller's.
    pub fn run_in(&self, mut s: Session, mode: Mode, steps: &mut [Box<dyn Step>]) -> Done {
        let report = steps::run(&mut s, steps, mode, &mut |_| {});
        let done = Done { report, s };
        assert!(
            done.s.exec.unscripted().is_empty(),
            "no reply scripted for {:?}",
            done.s.exec.unscripted()
        );
        if mode == Mode::DryRun {
            assert!(
                done.changes().is_empty() && done.s.exec.skipped().is_empty(),
                "--dry-run ran {:?}",
                done.changes()
            );
        }
        done
    }
}

/// What a run found, and the session it ran in.
pub struct Done {
    pub report: Report,
    pub s: Session,
}

impl Done {
    /// The finding `id` as a person reads it ([`render`]).
    pub fn render(&self, id: &str) -> String {
        render(self.find(id))
    }

    pub fn find(&self, id: &str) -> &Finding {
        self.report
            .findings
            .iter()
            .find(|f| f.id == id)
            .unwrap_or_else(|| panic!("no finding {id} in {:#?}", self.report.findings))
    }

    /// The ids of the findings, in order.
    pub fn ids(&self) -> Vec<&str> {
        self.report.findings.iter().map(|f| f.id.as_str()).collect()
    }

    /// Every command that ran, as a person would type it.
    pub fn ran(&self) -> Vec<String> {
        self.s.exec.ran().iter().map(Ran::display).collect()
    }

    /// The commands that ran and change something.
    pub fn changes(&self) -> Vec<String> {
        let ran = self.s.exec.ran();
        let changes = ran.iter().filter(|r| r.effect == Effect::Changes);
        changes.map(Ran::display).collect()
    }

    /// The one command that ran whose argv starts so.
    pub fn the(&self, prefix: &[&str]) -> Ran {
        let prefix: Vec<String> = prefix.iter().map(|w| w.to_string()).collect();
        let ran = self.s.exec.ran();
        let mut found = ran.into_iter().filter(|r| r.argv.starts_with(&prefix));
        let one = found
            .next()
            .unwrap_or_else(|| panic!("no {prefix:?} in {:?}", self.ran()));
        assert!(found.next().is_none(), "{prefix:?} ran twice");
        one
    }

    /// The ids of the findings a fix acted on (or, under --dry-run, would act on).
    pub fn acted(&self) -> Vec<&str> {
        let acted = self.report.findings.iter().filter(|f| f.outcome.is_some());
        acted.map(|f| f.id.as_str()).collect()
    }

    pub fn outcome(&self, id: &str) -> Option<&Outcome> {
        self.find(id).outcome.as_ref()
    }

    /// What --dry-run said the fix of `id` would do.
    pub fn would(&self, id: &str) -> &str {
        match self.outcome(id) {
            Some(Outcome::WouldDo(text)) => text,
            other => panic!("{id}: expected WouldDo, got {other:?}"),
        }
    }
}
