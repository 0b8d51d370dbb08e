//! One test's world ([`Sandbox`]): its users, sshd and agent, and running commands as the local
//! user in it.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::run::command_line;
use super::users::USERS;
use super::*;

/// One test's world.
pub struct Sandbox {
    pub shared: &'static Shared,
    pub dir: PathBuf,
    pub local: User,
    pub remote: User,
    pub port: u16,
    pub(super) sshd: Option<Child>,
    pub(super) sshd_extra: Vec<String>,
    /// Folders bind-mounted over others (source, target) in sshd's own mount namespace: what
    /// sshd and every session see there, while the machine keeps its own
    /// ([`Sandbox::restart_sshd_over`]).
    pub(super) sshd_binds: Vec<(PathBuf, PathBuf)>,
    pub(super) agent: Option<Child>,
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

impl Sandbox {
    /// A new sandbox; fails the test when the end-to-end tests cannot run here ([`require`]).
    pub fn start() -> Sandbox {
        Self::start_with(&[])
    }

    /// Like [`Sandbox::start`], with extra sshd_config lines.
    pub fn start_with(sshd_extra: &[&str]) -> Sandbox {
        let shared = require();
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
        sb
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
