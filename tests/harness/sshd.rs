//! The sandbox's sshd (and a second one, a bastion's target), its config, its host key, and the
//! firewall rule that keeps the local user from a port.

use std::fs;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

impl Sandbox {
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

    pub(super) fn start_sshd(&mut self) {
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

    pub(super) fn stop_sshd(&mut self) {
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
