//! SSH multiplexing for docker's ssh connections: a managed `Host` block in `~/.ssh/config` with
//! `ControlMaster auto`, `ControlPath ~/.ssh/rdock-%C` and `ControlPersist 10m`, as Docker's own
//! documentation advises for ssh:// hosts. Linux and macOS only: Windows OpenSSH has no
//! ControlMaster.

use std::path::PathBuf;

use anyhow::Result;

use crate::ssh::command::{Control, Mode, Ssh};
use crate::ssh::destination::Resolved;
use crate::sys::exec::{Cmd, Exec};

/// The managed block for one context.
pub fn block_name(context: &str) -> String {
    format!("multiplex {context}")
}

/// The block's text: a `Host` section for the host the docker CLI connects to.
pub fn block_body(host: &str) -> String {
    format!(
        "Host {host}\n    ControlMaster auto\n    ControlPath ~/.ssh/rdock-%C\n    ControlPersist 10m\n"
    )
}

/// What sharing one connection means for sshd's MaxSessions, said when multiplexing is turned on.
pub const SESSIONS_NOTE: &str = "docker clients that run at once (compose) now share one connection, and sshd allows 10 sessions on one (MaxSessions): it refuses more with \"Session open refused by peer\"; `MaxSessions 30` in the server's /etc/ssh/sshd_config (then reload sshd) raises it";

/// What `ssh -O check` says about the control socket `ssh -G` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Master {
    Running,
    /// No socket: the next connection starts a master.
    None,
    /// A socket file that nothing answers on (a master that died).
    Stale(PathBuf),
}

/// Read `ssh -O check`'s answer. A refused connection to an existing socket is a stale one.
pub fn parse_check(code: Option<i32>, stderr: &str, path: &str) -> Master {
    if code == Some(0) {
        Master::Running
    } else if stderr.contains("Connection refused") && !path.is_empty() {
        Master::Stale(PathBuf::from(path))
    } else {
        Master::None
    }
}

/// Ask ssh about the master for this destination (`ssh -O check`).
pub fn master_state(exec: &Exec, r: &Resolved) -> Result<Master> {
    let out = exec.run(&Ssh::new(r.target(), Mode::Control(Control::Check)).cmd())?;
    Ok(parse_check(
        out.code,
        &out.stderr,
        r.control_path.as_deref().unwrap_or(""),
    ))
}

/// `ssh -O stop`: the master for this destination stops taking new sessions and removes its
/// socket (its open sessions go on), so the next ssh logs in anew. Nothing when there is no master.
pub fn stop_cmd(r: &Resolved) -> Cmd {
    Ssh::new(r.target(), Mode::Control(Control::Stop))
        .cmd()
        .changes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::config as ssh_config;

    #[test]
    fn the_block_is_a_host_section_with_docker_s_advice() {
        let body = block_body("build-box");
        assert_eq!(
            ssh_config::Placement::of(&body),
            ssh_config::Placement::Host
        );
        assert!(ssh_config::check_block(&block_name("build-box"), &body).is_ok());
        for line in [
            "Host build-box",
            "ControlMaster auto",
            "ControlPath ~/.ssh/rdock-%C",
            "ControlPersist 10m",
        ] {
            assert!(body.contains(line), "{line}");
        }
    }

    #[test]
    fn ssh_o_check_answers_are_told_apart() {
        assert_eq!(
            parse_check(Some(0), "Master running (pid=1)\n", "/h/.ssh/rdock-x"),
            Master::Running
        );
        assert_eq!(
            parse_check(
                Some(255),
                "Control socket connect(/h/.ssh/rdock-x): Connection refused\n",
                "/h/.ssh/rdock-x"
            ),
            Master::Stale(PathBuf::from("/h/.ssh/rdock-x"))
        );
        assert_eq!(
            parse_check(
                Some(255),
                "Control socket connect(/h/.ssh/rdock-x): No such file or directory\n",
                "/h/.ssh/rdock-x"
            ),
            Master::None
        );
    }
}
