//! The local user's ssh-agents: the sandbox's own, and others a test starts beside it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::run::process_tree;
use super::*;

impl Sandbox {
    pub(super) fn start_agent(&mut self) {
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
