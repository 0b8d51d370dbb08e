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
    let script = "while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill $1 2>/dev/null; sleep 3; kill -9 $1 2>/dev/null; rm -rf --one-file-system \"$2\"";
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
    let log = fs::File::create(dir.join("dockerd.log")).map_err(|e| e.to_string())?;
    let d = |p: &str| dir.join(p).display().to_string();
    let child = Command::new(which("dockerd").unwrap())
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
        .arg("--group=docker")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start dockerd: {e}"))?;
    reap_when_we_exit(&[child.id()], &dir);
    let host = format!("unix://{}", sock.display());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ok = Command::new("docker")
            .args(["-H", &host, "version"])
            .env("HOME", &dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            break;
        }
        if Instant::now() > deadline {
            let log = fs::read_to_string(dir.join("dockerd.log")).unwrap_or_default();
            return Err(format!("dockerd did not answer within 90 s:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(Shared {
        dir,
        docker_sock: sock,
        rdock,
    })
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
    agent: Option<Child>,
    pub agent_sock: PathBuf,
    pub askpass: PathBuf,
    /// Extra environment for every command run as the local user.
    pub env: BTreeMap<String, String>,
}

pub struct Run {
    /// What ran, as a person would type it: `rdock doctor --json`.
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// stdout and stderr together, for messages and assertions.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.elapsed, self.stdout, self.stderr
        )
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
            agent: None,
            agent_sock,
            askpass,
            env: BTreeMap::new(),
        };
        sb.start_sshd();
        sb.start_agent();
        Some(sb)
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
        let mut setenv = vec![format!(
            "DOCKER_HOST=unix://{}",
            self.shared.docker_sock.display()
        )];
        for line in &self.sshd_extra {
            match line.strip_prefix("SetEnv ") {
                Some(vars) => setenv.push(vars.to_string()),
                None => text.push_str(&format!("{line}\n")),
            }
        }
        text.push_str(&format!("SetEnv {}\n", setenv.join(" ")));
        fs::write(&config, text).unwrap();
        config
    }

    fn start_sshd(&mut self) {
        let config = self.write_sshd_config();
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("sshd.log"))
            .unwrap();
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start sshd");
        reap_when_we_exit(&[child.id()], Path::new("/nonexistent-rdock"));
        self.sshd = Some(child);
        wait_for_banner(self.port, &self.dir);
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
        env.insert("PATH".into(), PATH.into());
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
        cmd.current_dir(&self.dir);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Run a program as the local user, with a 120 s bound.
    pub fn local(&self, program: &str, args: &[&str]) -> Run {
        let mut cmd = self.as_local(program);
        cmd.args(args);
        let mut run = run_bounded(cmd, Duration::from_secs(120));
        run.command = command_line(program, args.iter().copied());
        run
    }

    /// Run rdock as the local user.
    pub fn rdock(&self, args: &[&str]) -> Run {
        let mut run = self.local(self.shared.rdock.to_str().unwrap(), args);
        run.command = command_line("rdock", args.iter().copied());
        run
    }

    /// `rdock setup DEST --yes --no-passphrase --install-key --accept-host-key`, which must work.
    pub fn setup_ok(&self) -> Run {
        let run = self.rdock(&[
            "setup",
            &self.dest(),
            "--yes",
            "--no-passphrase",
            "--install-key",
            "--accept-host-key",
        ]);
        assert_eq!(
            run.code,
            Some(0),
            "setup failed:\n{run}\n--- sshd.log\n{}",
            self.sshd_log()
        );
        run
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
    /// user, with `mode`; its directory is made (0700) when missing.
    pub fn write_remote(&self, rel: &str, bytes: &[u8], mode: u32) {
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
pub fn run_bounded(mut cmd: Command, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let o = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let e = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
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
        stdout: o.join().unwrap(),
        stderr: e.join().unwrap(),
        elapsed: start.elapsed(),
    }
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
