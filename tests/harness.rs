//! The end-to-end sandbox: a real dockerd (shared by every test in this binary), and per test a
//! real sshd on a free 127.0.0.1 port, a throwaway remote user (in group docker, with a password)
//! and a throwaway local user with an empty home and its own ssh-agent. rdock runs as that local
//! user, because OpenSSH reads ~/.ssh from the passwd entry, not from $HOME.
//!
//! Needs root and openssh-server + docker.io. Without them the end-to-end tests print why and
//! pass as skipped, unless RDOCK_E2E=1 says they are required (then they fail).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "rdock-e2e-Pa55";
/// The flags that let setup do everything without a terminal.
pub const ALL_YES: [&str; 4] = [
    "--yes",
    "--no-passphrase",
    "--install-key",
    "--accept-host-key",
];

/// `rdock setup DEST` with [`ALL_YES`], and extra arguments.
pub fn setup_args<'a>(dest: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["setup", dest];
    args.extend(ALL_YES);
    args.extend(extra);
    args
}

/// A setup run that found everything done: it says so.
pub fn assert_nothing_changed(run: &Run) {
    assert!(
        run.stdout
            .contains("Everything is already set up; nothing changed."),
        "{run}"
    );
}

/// An sshd_extra line that leaves DOCKER_HOST out of the remote user's environment.
pub const NO_DOCKER_HOST: &str = "# no DOCKER_HOST";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// useradd and userdel lock /etc/passwd: one at a time.
static USERS: Mutex<()> = Mutex::new(());
static COUNTER: AtomicUsize = AtomicUsize::new(0);
static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();

/// What every test shares: the dockerd and a copy of the rdock binary any user may run.
pub struct Shared {
    pub dir: PathBuf,
    pub docker_sock: PathBuf,
    pub rdock: PathBuf,
}

fn sh(program: &str, args: &[&str]) -> Result<Output, String> {
    Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))
}

fn must(program: &str, args: &[&str]) -> Output {
    let out = sh(program, args).unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Why the end-to-end tests cannot run here, if they cannot.
fn missing_requirement() -> Option<String> {
    let uid = sh("id", &["-u"])
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref() != Some("0") {
        return Some("not root (they create throwaway users)".into());
    }
    for tool in [
        "/usr/sbin/sshd",
        "dockerd",
        "docker",
        "ssh",
        "ssh-keygen",
        "ssh-agent",
        "runuser",
        "useradd",
    ] {
        if which(tool).is_none() {
            return Some(format!(
                "{tool} is missing (scripts/test.sh installs openssh-server and docker.io)"
            ));
        }
    }
    None
}

pub fn which(tool: &str) -> Option<PathBuf> {
    if tool.starts_with('/') {
        return Path::new(tool).exists().then(|| PathBuf::from(tool));
    }
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(PATH.split(':'))
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}

fn make_dir(prefix: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// End the processes when this test binary ends, however it ends.
fn reap_when_we_exit(pids: &[u32], dir: &Path) {
    // A dockerd killed before it unmounted its data root leaves that mount: take it away before
    // the folder goes.
    let script = "while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill $1 2>/dev/null; sleep 3; kill -9 $1 2>/dev/null; umount --lazy \"$2/data\" 2>/dev/null; rm -rf --one-file-system \"$2\"";
    let _ = Command::new("sh")
        .args(["-c", script, &std::process::id().to_string()])
        .arg(
            pids.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        )
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

use std::os::unix::process::CommandExt;

/// A dockerd that runs no container, with its own data, exec root, pidfile and log under `dir`
/// (file names start with `prefix`), answering on `sock` for group `group`.
pub fn start_dockerd(dir: &Path, prefix: &str, sock: &Path, group: &str) -> Result<Child, String> {
    let log =
        fs::File::create(dir.join(format!("{prefix}dockerd.log"))).map_err(|e| e.to_string())?;
    let d = |p: &str| dir.join(format!("{prefix}{p}")).display().to_string();
    Command::new(which("dockerd").unwrap())
        .args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ])
        .arg(format!("--host=unix://{}", sock.display()))
        .arg(format!("--data-root={}", d("data")))
        .arg(format!("--exec-root={}", d("exec")))
        .arg(format!("--pidfile={}", d("docker.pid")))
        .arg(format!("--group={group}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start dockerd: {e}"))
}

/// Wait up to 90 s for the dockerd [`start_dockerd`] started to answer on `sock`.
pub fn wait_for_dockerd(dir: &Path, prefix: &str, sock: &Path) -> Result<(), String> {
    let host = format!("unix://{}", sock.display());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ok = Command::new("docker")
            .args(["-H", &host, "version"])
            .env("HOME", dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log =
                fs::read_to_string(dir.join(format!("{prefix}dockerd.log"))).unwrap_or_default();
            return Err(format!("dockerd did not answer within 90 s:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn start_shared() -> Result<Shared, String> {
    if let Some(why) = missing_requirement() {
        return Err(why);
    }
    let dir = make_dir("rdock-e2e-");
    let _ = sh("groupadd", &["-f", "docker"]);
    fs::create_dir_all("/run/sshd").map_err(|e| e.to_string())?;
    let rdock = dir.join("rdock");
    fs::copy(env!("CARGO_BIN_EXE_rdock"), &rdock).map_err(|e| e.to_string())?;
    fs::set_permissions(&rdock, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    let sock = dir.join("docker.sock");
    let child = start_dockerd(&dir, "", &sock, "docker")?;
    reap_when_we_exit(&[child.id()], &dir);
    wait_for_dockerd(&dir, "", &sock)?;
    Ok(Shared {
        dir,
        docker_sock: sock,
        rdock,
    })
}

impl Shared {
    /// A copy of the docker CLI at `cli` that any user may run (made once per path), since the
    /// throwaway users may not reach the folder it is in.
    fn docker_copy(&self, cli: &Path) -> PathBuf {
        static COPIES: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
        let mut copies = COPIES.lock().unwrap_or_else(|e| e.into_inner());
        let n = copies.len();
        copies
            .entry(cli.to_path_buf())
            .or_insert_with(|| {
                let dir = self.dir.join(format!("docker-cli-{n}"));
                fs::create_dir(&dir).unwrap();
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
                let copy = dir.join("docker");
                fs::copy(cli, &copy).unwrap_or_else(|e| panic!("cannot copy {cli:?}: {e}"));
                fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
                copy
            })
            .clone()
    }
}

/// A docker CLI the end-to-end tests can run rdock with.
#[derive(Clone, Debug)]
pub struct DockerCli {
    pub path: PathBuf,
    /// What `docker --version` says, e.g. `Docker version 26.1.5+dfsg1, build a72d7cd`.
    pub version: String,
}

impl std::fmt::Display for DockerCli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.version, self.path.display())
    }
}

/// Debian 13's docker CLI, where scripts/docker-clis.sh unpacks it.
pub const DEBIAN13_DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/docker-clis/debian13/usr/bin/docker"
);

/// The docker CLIs to run rdock with: the paths in RDOCK_DOCKER_CLIS (separated by ':'), or else
/// Debian 12's /usr/bin/docker, Debian 13's [`DEBIAN13_DOCKER`] and /usr/local/bin/docker when
/// there is one (the newest here). A listed CLI that is missing or does not run is left out with
/// a printed reason, or, under RDOCK_E2E=1, fails the test; so does a list left empty.
pub fn docker_clis() -> Vec<DockerCli> {
    let (required, optional): (Vec<String>, Vec<String>) = match std::env::var("RDOCK_DOCKER_CLIS")
    {
        Ok(list) if !list.trim().is_empty() => (
            list.split(':')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
            Vec::new(),
        ),
        _ => (
            vec!["/usr/bin/docker".into(), DEBIAN13_DOCKER.into()],
            vec!["/usr/local/bin/docker".into()],
        ),
    };
    let required_here = std::env::var("RDOCK_E2E").as_deref() == Ok("1");
    let mut clis: Vec<DockerCli> = Vec::new();
    let mut seen = Vec::new();
    for (path, needed) in required
        .iter()
        .map(|p| (p, true))
        .chain(optional.iter().map(|p| (p, false)))
    {
        let path = PathBuf::from(path);
        if !needed && !path.exists() {
            continue;
        }
        let version = Command::new(&path)
            .arg("--version")
            .output()
            .map_err(|e| e.to_string())
            .and_then(|o| {
                let text = String::from_utf8_lossy(&o.stdout).trim().to_string();
                if o.status.success() && !text.is_empty() {
                    Ok(text)
                } else {
                    Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
                }
            });
        match version {
            Ok(version) => {
                // The same binary under two names is tested once.
                let real = fs::canonicalize(&path).unwrap_or(path.clone());
                if !seen.contains(&real) {
                    seen.push(real);
                    clis.push(DockerCli { path, version });
                }
            }
            Err(why) => {
                let why = format!(
                    "the docker CLI {} cannot run ({why}); scripts/docker-clis.sh prepares the matrix's CLIs",
                    path.display()
                );
                assert!(!required_here, "RDOCK_E2E=1 requires it: {why}");
                eprintln!("skipping it: {why}");
            }
        }
    }
    assert!(
        !required_here || !clis.is_empty(),
        "RDOCK_E2E=1, and no docker CLI to test"
    );
    clis
}

/// Some(shared) when the end-to-end tests can run; None (after saying why) when they are skipped.
fn shared() -> Option<&'static Shared> {
    match SHARED.get_or_init(start_shared) {
        Ok(shared) => Some(shared),
        Err(why) if std::env::var("RDOCK_E2E").as_deref() == Ok("1") => {
            panic!("RDOCK_E2E=1 requires the end-to-end tests, and they cannot run: {why}")
        }
        Err(why) => {
            eprintln!("skipping end-to-end test: {why}");
            None
        }
    }
}

pub struct User {
    pub name: String,
    pub home: PathBuf,
}

impl User {
    fn create(prefix: &str, root: &Path, groups: &[&str]) -> User {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        // Always as long (rdr01234x005): a table that lists it is as wide whatever the pid.
        let name = format!("{prefix}{:05}x{n:03}", std::process::id() % 100_000);
        let home = root.join(&name);
        let _guard = USERS.lock().unwrap_or_else(|e| e.into_inner());
        let mut args = vec!["-m", "-d", home.to_str().unwrap(), "-s", "/bin/sh"];
        let joined = groups.join(",");
        if !groups.is_empty() {
            args.extend(["-G", &joined]);
        }
        args.push(&name);
        must("useradd", &args);
        User { name, home }
    }

    fn remove(&self) {
        let _ = sh("pkill", &["-KILL", "-u", &self.name]);
        let _guard = USERS.lock().unwrap_or_else(|e| e.into_inner());
        let _ = sh("userdel", &["-r", "-f", &self.name]);
    }
}

/// One test's world.
pub struct Sandbox {
    pub shared: &'static Shared,
    pub dir: PathBuf,
    pub local: User,
    pub remote: User,
    pub port: u16,
    sshd: Option<Child>,
    sshd_extra: Vec<String>,
    /// Folders bind-mounted over others (source, target) in sshd's own mount namespace: what
    /// sshd and every session see there, while the machine keeps its own
    /// ([`Sandbox::restart_sshd_over`]).
    sshd_binds: Vec<(PathBuf, PathBuf)>,
    agent: Option<Child>,
    pub agent_sock: PathBuf,
    pub askpass: PathBuf,
    /// Extra environment for every command run as the local user.
    pub env: BTreeMap<String, String>,
    /// A folder put first on the local user's PATH, holding the `docker` to use
    /// ([`Sandbox::with_docker`]).
    pub docker_bin: Option<PathBuf>,
    /// The current directory of every command run as the local user (None: the sandbox's).
    pub cwd: Option<PathBuf>,
}

pub struct Run {
    /// What ran, as a person would type it: `rdock doctor --json`.
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// It was still running at its time limit, and was killed.
    pub timed_out: bool,
    /// When it was killed: the command lines of it and every process it had started, still
    /// running then (what it was waiting for).
    pub left_running: Vec<String>,
}

impl Run {
    /// stdout and stderr together, for messages and assertions.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ended = if self.timed_out {
            "killed: still running".to_string()
        } else {
            format!("exit {:?}", self.code)
        };
        write!(
            f,
            "{ended} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.elapsed, self.stdout, self.stderr
        )?;
        if !self.left_running.is_empty() {
            writeln!(f, "--- still running when killed")?;
            for line in &self.left_running {
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

impl Sandbox {
    /// A new sandbox, or None when the end-to-end tests are skipped here.
    pub fn start() -> Option<Sandbox> {
        Self::start_with(&[])
    }

    /// Like [`Sandbox::start`], with extra sshd_config lines.
    pub fn start_with(sshd_extra: &[&str]) -> Option<Sandbox> {
        let shared = shared()?;
        let dir = make_dir("rdock-t-");
        let local = User::create("rdl", &dir, &[]);
        let remote = User::create("rdr", &dir, &["docker"]);
        let chpasswd = Command::new("chpasswd")
            .stdin(Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(format!("{}:{PASSWORD}\n", remote.name).as_bytes())?;
                c.wait()
            })
            .unwrap();
        assert!(chpasswd.success(), "chpasswd failed");
        must(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-f",
                dir.join("hostkey").to_str().unwrap(),
            ],
        );
        let askpass = dir.join("askpass.sh");
        fs::write(&askpass, format!("#!/bin/sh\necho '{PASSWORD}'\n")).unwrap();
        fs::set_permissions(&askpass, fs::Permissions::from_mode(0o755)).unwrap();
        let run = dir.join("run");
        fs::create_dir(&run).unwrap();
        must("chown", &[&local.name, run.to_str().unwrap()]);
        let agent_sock = run.join("agent.sock");
        let mut sb = Sandbox {
            shared,
            dir,
            local,
            remote,
            port: free_port(),
            sshd: None,
            sshd_extra: sshd_extra.iter().map(|s| s.to_string()).collect(),
            sshd_binds: Vec::new(),
            agent: None,
            agent_sock,
            askpass,
            env: BTreeMap::new(),
            docker_bin: None,
            cwd: None,
        };
        sb.start_sshd();
        sb.start_agent();
        Some(sb)
    }

    /// This sandbox with `cli` as the local user's `docker`: a folder holding a `docker` link to a
    /// copy of it (that any user may run) goes first on the local user's PATH, for every command
    /// run as that user, rdock's included.
    pub fn with_docker(mut self, cli: &Path) -> Sandbox {
        let bin = self.dir.join("docker-bin");
        fs::create_dir(&bin).unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(self.shared.docker_copy(cli), bin.join("docker")).unwrap();
        self.docker_bin = Some(bin);
        self
    }

    /// Make `shell` the remote user's login shell (sshd runs every command through it).
    pub fn set_remote_shell(&self, shell: &str) {
        let _guard = USERS.lock().unwrap_or_else(|e| e.into_inner());
        must("usermod", &["-s", shell, &self.remote.name]);
    }

    /// `remote@127.0.0.1:PORT`
    pub fn dest(&self) -> String {
        format!("{}@127.0.0.1:{}", self.remote.name, self.port)
    }

    /// The docker context name rdock derives from [`Sandbox::dest`].
    pub fn context(&self) -> String {
        format!("127.0.0.1-{}", self.port)
    }

    fn write_sshd_config(&self) -> PathBuf {
        let config = self.dir.join("sshd_config");
        let mut text = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/hostkey\nPidFile {dir}/sshd.pid\nUsePAM no\n\
             PasswordAuthentication yes\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\n\
             AuthorizedKeysFile .ssh/authorized_keys\nStrictModes yes\nMaxStartups 100\nLogLevel VERBOSE\n",
            port = self.port,
            dir = self.dir.display()
        );
        // The shared dockerd for the remote user's docker, unless a test names none.
        let mut setenv = vec![format!(
            "DOCKER_HOST=unix://{}",
            self.shared.docker_sock.display()
        )];
        if self.sshd_extra.iter().any(|l| l == NO_DOCKER_HOST) {
            setenv.clear();
        }
        for line in self.sshd_extra.iter().filter(|l| *l != NO_DOCKER_HOST) {
            match line.strip_prefix("SetEnv ") {
                Some(vars) => setenv.push(vars.to_string()),
                None => text.push_str(&format!("{line}\n")),
            }
        }
        if !setenv.is_empty() {
            text.push_str(&format!("SetEnv {}\n", setenv.join(" ")));
        }
        fs::write(&config, text).unwrap();
        config
    }

    fn start_sshd(&mut self) {
        let config = self.write_sshd_config();
        self.sshd = Some(self.spawn_sshd(&config, "sshd.log", self.port));
    }

    /// `sshd -D -e -f CONFIG`, logging (appended) to `log` in the sandbox, reaped when the test
    /// binary ends; returns once it sends its banner on `port`.
    fn spawn_sshd(&self, config: &Path, log: &str, port: u16) -> Child {
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(log))
            .unwrap();
        let mut cmd = Command::new("/usr/sbin/sshd");
        if !self.sshd_binds.is_empty() {
            // unshare execs sh, which execs sshd: the child stays sshd's pid. A mount that
            // fails ends sh before sshd starts, so nothing runs with the machine's folder.
            cmd = Command::new("unshare");
            cmd.args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"]);
            cmd.arg("c=$1; shift; while [ $# -gt 0 ]; do mount --bind -- \"$1\" \"$2\" || exit 1; shift 2; done; exec /usr/sbin/sshd -D -e -f \"$c\"");
            cmd.arg("sh").arg(config);
            for (source, target) in &self.sshd_binds {
                cmd.arg(source).arg(target);
            }
        } else {
            cmd.args(["-D", "-e", "-f"]).arg(config);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        reap_when_we_exit(&[child.id()], Path::new("/nonexistent-rdock"));
        wait_for_banner(port, &self.dir);
        child
    }

    fn stop_sshd(&mut self) {
        if let Some(mut child) = self.sshd.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Give the server a new host key, as a reinstalled (or impersonated) server would have.
    pub fn regenerate_host_key(&mut self) {
        self.stop_sshd();
        let key = self.dir.join("hostkey");
        let _ = fs::remove_file(&key);
        let _ = fs::remove_file(self.dir.join("hostkey.pub"));
        must(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
        );
        self.start_sshd();
    }

    /// Another sshd for the same remote user, with a host key of its own, on a free port: a
    /// second host (a ProxyJump target, say). It stops when the returned guard is dropped.
    pub fn second_sshd(&self) -> SecondSshd {
        let port = free_port();
        let key = self.dir.join(format!("hostkey-{port}"));
        must(
            "ssh-keygen",
            &["-q", "-t", "ed25519", "-N", "", "-f", key.to_str().unwrap()],
        );
        let config = self.dir.join(format!("sshd_config-{port}"));
        let text = fs::read_to_string(self.write_sshd_config())
            .unwrap()
            .replace(&format!("Port {}\n", self.port), &format!("Port {port}\n"))
            .replace(
                &format!("HostKey {}/hostkey\n", self.dir.display()),
                &format!("HostKey {}\n", key.display()),
            )
            .replace(
                &format!("PidFile {}/sshd.pid\n", self.dir.display()),
                &format!("PidFile {}/sshd-{port}.pid\n", self.dir.display()),
            );
        fs::write(&config, text).unwrap();
        let child = self.spawn_sshd(&config, &format!("sshd-{port}.log"), port);
        SecondSshd { port, child }
    }

    /// Make `path` (relative to the local home) hold `contents`, owned by the local user, mode
    /// 0600, in a ~/.ssh-like folder of mode 0700.
    pub fn write_local(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.local.home.join(rel);
        let dir = path.parent().unwrap();
        fs::create_dir_all(dir).unwrap();
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(&path, contents).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        must("chown", &[&self.local.name, dir.to_str().unwrap()]);
        must("chown", &[&self.local.name, path.to_str().unwrap()]);
        path
    }

    /// Restart sshd in a mount namespace of its own in which each `(source, target)` folder is
    /// bind-mounted over `target`: the remote machine gets its own /usr/local/bin, say, and what a
    /// session writes there lands in `source`, never in the machine's folder.
    pub fn restart_sshd_over(&mut self, binds: &[(&Path, &Path)]) {
        self.stop_sshd();
        self.sshd_binds = binds
            .iter()
            .map(|(s, t)| (s.to_path_buf(), t.to_path_buf()))
            .collect();
        self.start_sshd();
    }

    /// Restart sshd with other extra config lines (a fault to inject).
    pub fn restart_sshd_with(&mut self, extra: &[&str]) {
        self.stop_sshd();
        self.sshd_extra = extra.iter().map(|s| s.to_string()).collect();
        self.start_sshd();
    }

    fn start_agent(&mut self) {
        let child = self
            .as_local("ssh-agent")
            .args(["-D", "-a"])
            .arg(&self.agent_sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        reap_when_we_exit(&[child.id()], Path::new("/nonexistent-rdock"));
        self.agent = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.agent_sock.exists() {
            assert!(
                Instant::now() < deadline,
                "ssh-agent did not create its socket"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A command that will run as the local user, with a clean environment: HOME, USER, PATH, the
    /// agent, and the askpass script (so a one-time password login needs no terminal).
    pub fn as_local(&self, program: &str) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", &self.local.name, "--", "env", "-i"]);
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        env.insert("HOME".into(), self.local.home.display().to_string());
        env.insert("USER".into(), self.local.name.clone());
        env.insert("LOGNAME".into(), self.local.name.clone());
        let path = match &self.docker_bin {
            Some(bin) => format!("{}:{PATH}", bin.display()),
            None => PATH.into(),
        };
        env.insert("PATH".into(), path);
        env.insert("LANG".into(), "C.UTF-8".into());
        env.insert(
            "SSH_AUTH_SOCK".into(),
            self.agent_sock.display().to_string(),
        );
        env.insert("SSH_ASKPASS".into(), self.askpass.display().to_string());
        env.insert("SSH_ASKPASS_REQUIRE".into(), "force".into());
        for (k, v) in &self.env {
            env.insert(k.clone(), v.clone());
        }
        env.retain(|_, v| !v.is_empty());
        cmd.args(env.iter().map(|(k, v)| format!("{k}={v}")));
        cmd.arg(program);
        cmd.current_dir(self.cwd.as_ref().unwrap_or(&self.dir));
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Run a program as the local user, with a 120 s bound (past it, the test fails).
    pub fn local(&self, program: &str, args: &[&str]) -> Run {
        let run = self.local_within(program, args, Duration::from_secs(120));
        assert!(!run.timed_out, "{} did not finish:\n{run}", run.command);
        run
    }

    /// Run a program as the local user for at most `limit`; past it, the run is killed and comes
    /// back with `timed_out` set.
    pub fn local_within(&self, program: &str, args: &[&str], limit: Duration) -> Run {
        let mut cmd = self.as_local(program);
        cmd.args(args);
        let mut run = run_within(cmd, limit);
        run.command = command_line(program, args.iter().copied());
        run
    }

    /// Run rdock as the local user.
    pub fn rdock(&self, args: &[&str]) -> Run {
        let mut run = self.local(self.shared.rdock.to_str().unwrap(), args);
        run.command = command_line("rdock", args.iter().copied());
        run
    }

    /// Run rdock as the local user for at most `limit`, as [`Sandbox::local_within`] does.
    pub fn rdock_within(&self, args: &[&str], limit: Duration) -> Run {
        let mut run = self.local_within(self.shared.rdock.to_str().unwrap(), args, limit);
        run.command = command_line("rdock", args.iter().copied());
        run
    }

    /// `rdock setup DEST --yes --no-passphrase --install-key --accept-host-key`, which must work.
    pub fn setup_ok(&self) -> Run {
        self.setup_dest_ok(&self.dest())
    }

    /// Take askpass out of the local user's environment: from now on no password login can pass,
    /// so only a key (in the agent, or a file) logs in, as docker's own ssh must.
    pub fn no_askpass(&mut self) {
        self.env.insert("SSH_ASKPASS".into(), String::new());
        self.env.insert("SSH_ASKPASS_REQUIRE".into(), String::new());
    }

    /// [`Sandbox::setup_ok`] for another destination (a Host alias, say).
    pub fn setup_dest_ok(&self, dest: &str) -> Run {
        let run = self.rdock_within(&setup_args(dest, &[]), Duration::from_secs(120));
        assert!(
            run.code == Some(0) && !run.timed_out,
            "setup {dest} failed:\n{run}\n--- sshd.log\n{}",
            self.sshd_log()
        );
        run
    }

    /// Setup `dest` once more: doctor's verdict and setup's agree, so it changes nothing and
    /// says so.
    pub fn setup_changes_nothing(&self, dest: &str) -> Run {
        let again = self.setup_dest_ok(dest);
        assert_nothing_changed(&again);
        again
    }

    /// `rdock setup DEST --yes --no-passphrase --install-key --accept-host-key` for at most
    /// `limit`, as [`Sandbox::local_within`] runs it; the caller judges the run.
    pub fn setup_within(&self, limit: Duration) -> Run {
        let dest = self.dest();
        self.rdock_within(&setup_args(&dest, &[]), limit)
    }

    /// Make `~/.ssh/id_ed25519` (no passphrase) as the local user, then run the shell snippet
    /// `then` ("" for nothing). Returns the key's path and its private bytes as made.
    pub fn make_key(&self, then: &str) -> (PathBuf, Vec<u8>) {
        let script = format!(
            "mkdir -m 700 -p ~/.ssh && ssh-keygen -q -t ed25519 -N '' -C mine -f ~/.ssh/id_ed25519 {}",
            if then.is_empty() { String::new() } else { format!("&& {then}") }
        );
        let made = self.local("sh", &["-c", &script]);
        assert_eq!(made.code, Some(0), "making a key failed: {made}");
        let key = self.local.home.join(".ssh/id_ed25519");
        let bytes = fs::read(&key).unwrap();
        (key, bytes)
    }

    pub fn sshd_log(&self) -> String {
        fs::read_to_string(self.dir.join("sshd.log")).unwrap_or_default()
    }

    /// The remote user's authorized_keys, as the server sees it.
    pub fn authorized_keys(&self) -> String {
        fs::read_to_string(self.remote.home.join(".ssh/authorized_keys")).unwrap_or_default()
    }

    /// Write `bytes` to a file of the remote home (`.ssh/authorized_keys`, say) as the remote
    /// user, with `mode`; its directory is made (0700) when missing. Returns its path.
    pub fn write_remote(&self, rel: &str, bytes: &[u8], mode: u32) -> PathBuf {
        let path = self.remote.home.join(rel);
        let script = "mkdir -p -m 700 \"$(dirname \"$0\")\" && cat > \"$0\" && chmod \"$1\" \"$0\"";
        let mut child = Command::new("runuser")
            .args(["-u", &self.remote.name, "--", "sh", "-c", script])
            .arg(&path)
            .arg(format!("{mode:o}"))
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        assert!(child.wait().unwrap().success(), "cannot write {rel}");
        path
    }

    /// The names in a directory of the remote home, sorted.
    pub fn remote_listing(&self, rel: &str) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.remote.home.join(rel))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The permission bits of a file of the remote home.
    pub fn remote_mode(&self, rel: &str) -> u32 {
        fs::metadata(self.remote.home.join(rel))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    }

    /// Every file under a directory of the local home: path -> (mode, bytes or link target).
    pub fn snapshot(&self, rel: &str) -> BTreeMap<String, (u32, Vec<u8>)> {
        let mut out = BTreeMap::new();
        snapshot_into(&self.local.home.join(rel), &self.local.home, &mut out);
        out
    }

    /// Snapshot of everything rdock may touch in the local home.
    pub fn snapshot_home(&self) -> BTreeMap<String, (u32, Vec<u8>)> {
        self.snapshot("")
    }
}

fn snapshot_into(path: &Path, base: &Path, out: &mut BTreeMap<String, (u32, Vec<u8>)>) {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return;
    };
    let rel = path
        .strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string();
    let mode = meta.permissions().mode();
    if meta.file_type().is_symlink() {
        out.insert(
            rel,
            (
                mode,
                fs::read_link(path)
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes(),
            ),
        );
    } else if meta.is_dir() {
        out.insert(rel, (mode, Vec::new()));
        let mut entries: Vec<_> = fs::read_dir(path)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for entry in entries {
            snapshot_into(&entry, base, out);
        }
    } else if meta.is_file() {
        out.insert(rel, (mode, fs::read(path).unwrap()));
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_sshd();
        if let Some(mut agent) = self.agent.take() {
            let _ = agent.kill();
            let _ = agent.wait();
        }
        self.local.remove();
        self.remote.remove();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
            // Count the end-to-end tests that really ran, for scripts/test.sh to print.
            if let Ok(log) = std::env::var("RDOCK_E2E_LOG") {
                let name = std::thread::current().name().unwrap_or("?").to_string();
                if let Ok(mut f) = fs::OpenOptions::new().create(true).append(true).open(log) {
                    let _ = writeln!(f, "{name}");
                }
            }
        }
    }
}

impl Sandbox {
    /// Another ssh-agent of the local user's, besides the sandbox's: listening on `rel` in the
    /// local home (1Password's `.1password/agent.sock`, say), whose folder is made (0700). Dropped,
    /// it is killed (ssh-agent itself, not only the runuser above it).
    pub fn extra_agent(&self, rel: &str) -> ExtraAgent {
        let sock = self.local.home.join(rel);
        let dir = sock.parent().unwrap().display().to_string();
        let made = self.local("mkdir", &["-m", "700", "-p", &dir]);
        assert_eq!(made.code, Some(0), "{made}");
        let child = self
            .as_local("ssh-agent")
            .args(["-D", "-a"])
            .arg(&sock)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ssh-agent");
        reap_when_we_exit(&[child.id()], Path::new("/nonexistent-rdock"));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !sock.exists() {
            assert!(
                Instant::now() < deadline,
                "ssh-agent did not create {}",
                sock.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        ExtraAgent { sock, child }
    }
}

/// An ssh-agent started by [`Sandbox::extra_agent`]; dropped, it and runuser are killed.
pub struct ExtraAgent {
    pub sock: PathBuf,
    child: Child,
}

impl Drop for ExtraAgent {
    fn drop(&mut self) {
        let pids: Vec<String> = process_tree(self.child.id())
            .into_iter()
            .map(|(pid, _)| pid.to_string())
            .collect();
        let mut args = vec!["-KILL".to_string()];
        args.extend(pids);
        let _ = Command::new("kill").args(&args).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An sshd started by [`Sandbox::second_sshd`]; dropped, it stops.
pub struct SecondSshd {
    pub port: u16,
    child: Child,
}

impl Drop for SecondSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An iptables rule that rejects one user's TCP connections to one port; dropped (also when the
/// test fails), the rule is deleted.
pub struct RejectPort {
    rule: Vec<String>,
}

impl RejectPort {
    pub fn new(user: &str, port: u16) -> RejectPort {
        let rule: Vec<String> = [
            "OUTPUT",
            "-p",
            "tcp",
            "--dport",
            &port.to_string(),
            "-m",
            "owner",
            "--uid-owner",
            user,
            "-j",
            "REJECT",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut add = vec!["-A".to_string()];
        add.extend(rule.iter().cloned());
        let args: Vec<&str> = add.iter().map(String::as_str).collect();
        must("iptables", &args);
        RejectPort { rule }
    }
}

impl Drop for RejectPort {
    fn drop(&mut self) {
        let mut del = vec!["-D".to_string()];
        del.extend(self.rule.iter().cloned());
        let _ = Command::new("iptables").args(&del).status();
    }
}

/// A free port of five digits (whatever this machine's ephemeral range), so that output which
/// aligns columns around one is as wide on every run.
pub fn free_port() -> u16 {
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if port >= 10_000 {
            return port;
        }
    }
}

fn wait_for_banner(port: u16, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
            let mut buf = [0u8; 8];
            if s.read_exact(&mut buf).is_ok() && buf.starts_with(b"SSH-2.0") {
                return;
            }
        }
        if Instant::now() > deadline {
            panic!(
                "sshd did not answer on port {port}:\n{}",
                fs::read_to_string(dir.join("sshd.log")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Run a command, and kill it if it takes longer than `limit` (a hang is a test failure, not a
/// stuck suite).
pub fn run_bounded(cmd: Command, limit: Duration) -> Run {
    let run = run_within(cmd, limit);
    assert!(
        !run.timed_out,
        "{} did not finish within {limit:?}:\n{run}",
        run.command
    );
    run
}

/// Run a command in a process group of its own for at most `limit`. Past it, the whole group is
/// killed and the run comes back with `timed_out` set and what it had printed.
pub fn run_within(mut cmd: Command, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
        });
        rx
    };
    let o = read_all(Box::new(child.stdout.take().unwrap()));
    let e = read_all(Box::new(child.stderr.take().unwrap()));
    let mut timed_out = false;
    let mut left_running = Vec::new();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > limit {
            timed_out = true;
            // The group, and every process started under it that left the group (rdock starts
            // its commands in groups of their own).
            let tree = process_tree(child.id());
            let mut kill = vec!["-KILL".to_string(), "--".into(), format!("-{}", child.id())];
            kill.extend(tree.iter().map(|(pid, _)| pid.to_string()));
            let _ = Command::new("kill").args(&kill).status();
            let _ = child.kill();
            left_running = tree.into_iter().map(|(_, args)| args).collect();
            break child.wait().ok().and_then(|s| s.code());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    // A process that left the group may still hold a pipe open: wait for its end only so long.
    let collect = |rx: std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| "(output still open after the run ended)\n".into())
    };
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    Run {
        command: command_line(
            &cmd.get_program().to_string_lossy(),
            args.iter().map(String::as_str),
        ),
        code,
        stdout: collect(o),
        stderr: collect(e),
        elapsed,
        timed_out,
        left_running,
    }
}

/// `root` and every process below it: pid and command line, parents first.
fn process_tree(root: u32) -> Vec<(u32, String)> {
    let ps = sh("ps", &["-e", "-o", "pid=,ppid=,args="]).ok();
    let rows: Vec<(u32, u32, String)> = ps
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let pid = fields.next()?.parse().ok()?;
            let ppid = fields.next()?.parse().ok()?;
            Some((pid, ppid, fields.collect::<Vec<_>>().join(" ")))
        })
        .collect();
    let mut tree: Vec<(u32, String)> = rows
        .iter()
        .filter(|(pid, _, _)| *pid == root)
        .map(|(pid, _, args)| (*pid, args.clone()))
        .collect();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i].0;
        tree.extend(
            rows.iter()
                .filter(|(_, ppid, _)| *ppid == parent)
                .map(|(pid, _, args)| (*pid, args.clone())),
        );
        i += 1;
    }
    tree
}

/// A program and its arguments as one line, an argument with a space or a quote (or none at all)
/// in single quotes.
fn command_line<'a>(program: &str, args: impl Iterator<Item = &'a str>) -> String {
    let quoted = args.map(|a| {
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
            format!("'{}'", a.replace('\'', "'\\''"))
        } else {
            a.to_string()
        }
    });
    std::iter::once(program.to_string())
        .chain(quoted)
        .collect::<Vec<_>>()
        .join(" ")
}

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
    /// A Host block for the sandbox's sshd (HostName 127.0.0.1, `port`, the remote user), then
    /// `extra` lines.
    pub fn host_block(&self, alias: &str, port: u16, extra: &str) -> String {
        format!(
            "Host {alias}\n    HostName 127.0.0.1\n    Port {port}\n    User {}\n{extra}",
            self.remote.name
        )
    }

    /// A second host `alias` that the local user reaches only through the sandbox's sshd as a
    /// bastion: a [`Sandbox::second_sshd`] whose port an iptables rule closes to the local user,
    /// `Host bastion` and `Host ALIAS` (with `ProxyJump bastion`, and `extra` lines) in
    /// ~/.ssh/config, and the bastion's host key (alone) in ~/.ssh/known_hosts. Keep the guards
    /// as long as the target is used.
    pub fn behind_bastion(&self, alias: &str, extra: &str) -> (SecondSshd, RejectPort) {
        let target = self.second_sshd();
        let reject = RejectPort::new(&self.local.name, target.port);
        let config = format!(
            "{}{}",
            self.host_block("bastion", self.port, ""),
            self.host_block(
                alias,
                target.port,
                &format!("    ProxyJump bastion\n{extra}")
            )
        );
        self.write_local(".ssh/config", &config);
        let scan = self.local(
            "sh",
            &[
                "-c",
                &format!(
                    "ssh-keyscan -p {} 127.0.0.1 > ~/.ssh/known_hosts",
                    self.port
                ),
            ],
        );
        assert_eq!(scan.code, Some(0), "{scan}");
        (target, reject)
    }
}

impl Sandbox {
    /// Compose v2 (Debian 13's plugin) as the local user's docker CLI plugin, when the clients
    /// are installed (scripts/clients.sh); Err says what is missing. (tests/sharing.rs)
    pub fn with_compose(&self) -> Result<(), String> {
        let install = self.shared.clients()?;
        self.install_compose(&install.compose);
        Ok(())
    }
}
