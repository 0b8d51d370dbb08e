//! SSH multiplexing for docker's ssh connections: a managed block in `~/.ssh/config` that makes
//! every ssh to one host share a connection (`ControlMaster auto`, as Docker's own documentation
//! advises for ssh:// hosts). Linux and macOS only: Windows OpenSSH has no ControlMaster.
//!
//! A shared connection must never make docker hang where a fresh one would work (docs/facts.md,
//! "Sharing one connection"): keepalives end a master whose link went silent within seconds, and
//! the ssh that waited on it then logs in on its own; and before each ssh uses the socket, the
//! block's `Match exec` asks the master, bounded, whether it answers, and takes the socket of one
//! that does not (frozen, or dead) out of the way, so that this ssh becomes the new master.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

use crate::ssh::command::{Control, Mode, Ssh, Target};
use crate::ssh::destination::Resolved;
use crate::sys::exec::{Cmd, Exec, TimedOut};
use crate::sys::platform::Platform;

/// The managed block for one context.
pub fn block_name(context: &str) -> String {
    format!("multiplex {context}")
}

/// Where the control socket lives (`%C`: a hash of the local host, host, port and user).
pub const CONTROL_PATH: &str = "~/.ssh/rdock-%C";

/// Seconds between keepalives on a master, and how many may go unanswered: a master whose link
/// went silent ends after 3 × 2 to 3 × 3 seconds, and the ssh waiting on it logs in anew.
pub const ALIVE_INTERVAL: u32 = 3;
pub const ALIVE_COUNT: u32 = 2;

/// How long the block's check waits for the master to answer `ssh -O check` (it answers at
/// once, with no round trip, when it runs at all).
pub const CHECK_SECONDS: u32 = 2;

/// The shell command `Match exec` runs before every ssh to the host (in the user's `$SHELL`, so
/// only what sh, bash, zsh, fish and tcsh all read alike: `test`, `&&`, `||`, no `!`, no
/// redirection): no socket, or a master that answers, and it is done; else the socket goes (no
/// socket: `rm -f` of nothing). It succeeds but when `rm` fails, and then the block does not apply
/// and ssh makes a connection of its own, as without the block. Linux has `timeout`; macOS has
/// perl's `alarm`.
pub fn check_socket(platform: Platform) -> String {
    let socket = "%d/.ssh/rdock-%C";
    let bounded = match platform {
        Platform::MacOs => format!("perl -e 'alarm {CHECK_SECONDS}; exec @ARGV'"),
        _ => format!("timeout {CHECK_SECONDS}"),
    };
    format!(
        "test -S {socket} && {bounded} ssh -F none -o LogLevel=QUIET -S {socket} -O check rdock || rm -f {socket}"
    )
}

/// The block's text: a `Match` section for the host the docker CLI connects to (as it is named
/// on the command line, so an alias's `HostName` shares nothing with other names for it).
pub fn block_body(host: &str, platform: Platform) -> String {
    format!(
        "Match originalhost {host} exec \"{check}\"\n    ControlMaster auto\n    ControlPath {CONTROL_PATH}\n    ControlPersist 10m\n    ServerAliveInterval {ALIVE_INTERVAL}\n    ServerAliveCountMax {ALIVE_COUNT}\n",
        check = check_socket(platform)
    )
}

/// The longest a docker command waits on a master whose link went silent before it logs in on
/// its own: the master's keepalives give up after this.
pub fn dead_master_bound() -> Duration {
    Duration::from_secs(u64::from(ALIVE_INTERVAL * (ALIVE_COUNT + 1)))
}

/// What sharing one connection means for sshd's MaxSessions, said when sharing is turned on.
/// Measured (docs/facts.md): past it, ssh opens a connection of its own and the command works.
pub const SESSIONS_NOTE: &str = "sshd allows 10 sessions on one connection (MaxSessions): docker commands past that at once (compose) each log in on their own and work as before; `MaxSessions 30` in the server's /etc/ssh/sshd_config (then reload sshd) lets them share too";

/// Setup offers sharing when the round trip to the remote's sshd (`ssh::link`) is this long or
/// longer: beyond a LAN (a loopback sshd on this busy test machine answers in 0.7 to 5 ms). Nearer (loopback, a LAN) a fresh login costs the machine's CPU, not the
/// link's, and sharing is there for the asking (`--multiplex`). The round trip, not the docker
/// command's time, decides: on a busy machine a loopback docker command takes as long as one
/// through a far link on a quiet one (docs/facts.md, "Sharing one connection").
pub const FAR: Duration = Duration::from_millis(15);

/// Where the round trip cannot be measured (a ProxyJump, a ProxyCommand), setup offers sharing
/// when one docker command takes this long or longer.
pub const OFFER_FROM: Duration = Duration::from_millis(800);

/// Is this link worth sharing a connection on? `rtt`: the round trip, when measured; `took`: what
/// one docker command took, when it ran.
pub fn worth_sharing(rtt: Option<Duration>, took: Option<Duration>) -> bool {
    match (rtt, took) {
        (Some(rtt), _) => rtt >= FAR,
        (None, Some(took)) => took >= OFFER_FROM,
        (None, None) => true,
    }
}

/// What `ssh -O check` says about the control socket `ssh -G` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Master {
    Running,
    /// No socket: the next connection starts a master.
    None,
    /// A socket file that nothing answers on (a master that died).
    Stale(PathBuf),
    /// A master that takes the connection and never answers (stopped, or stuck): every ssh
    /// through it waits for ever. rdock's block takes such a socket out of the way by itself.
    Frozen(PathBuf),
}

/// How long a master has to answer `ssh -O check`: it answers at once, with no round trip, when
/// it runs at all.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

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
    let cmd = Ssh::new(r.target(), Mode::Control(Control::Check))
        .cmd()
        .timeout(CHECK_TIMEOUT);
    let path = r.control_path.as_deref().unwrap_or("");
    match exec.run(&cmd) {
        Ok(out) => Ok(parse_check(out.code, &out.stderr, path)),
        Err(e) if e.downcast_ref::<TimedOut>().is_some() && !path.is_empty() => {
            Ok(Master::Frozen(PathBuf::from(path)))
        }
        Err(e) => Err(e),
    }
}

/// `ssh -O exit`: the master for this destination exits now, and its socket with it (rdock
/// remove). Nothing when there is no master.
pub fn exit_cmd(r: &Resolved) -> Cmd {
    exit_cmd_for(r.target())
}

/// [`exit_cmd`] for a target as docker's endpoint names it (ssh resolves it as docker's ssh does).
pub fn exit_cmd_for(target: Target) -> Cmd {
    Ssh::new(target, Mode::Control(Control::Exit))
        .cmd()
        .changes()
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
        let body = block_body("build-box", Platform::Linux);
        assert_eq!(
            ssh_config::Placement::of(&body),
            ssh_config::Placement::Host
        );
        assert!(ssh_config::check_block(&block_name("build-box"), &body).is_ok());
        for line in [
            "Match originalhost build-box exec \"test -S %d/.ssh/rdock-%C && timeout 2 ssh -F none -o LogLevel=QUIET -S %d/.ssh/rdock-%C -O check rdock || rm -f %d/.ssh/rdock-%C\"",
            "ControlMaster auto",
            "ControlPath ~/.ssh/rdock-%C",
            "ControlPersist 10m",
            "ServerAliveInterval 3",
            "ServerAliveCountMax 2",
        ] {
            assert!(body.contains(line), "{line}");
        }
        let mac = block_body("build-box", Platform::MacOs);
        assert!(
            mac.contains("&& perl -e 'alarm 2; exec @ARGV' ssh -F none"),
            "{mac}"
        );
        assert_eq!(dead_master_bound(), Duration::from_secs(9));
    }

    #[test]
    fn a_far_link_is_worth_sharing_and_a_near_one_only_when_asked() {
        let ms = Duration::from_millis;
        // A busy machine's slow loopback command does not make the link far.
        assert!(!worth_sharing(Some(ms(1)), Some(ms(2000))));
        assert!(worth_sharing(Some(ms(40)), Some(ms(300))));
        // Through a jump host: the docker command's time decides.
        assert!(worth_sharing(None, Some(ms(900))));
        assert!(!worth_sharing(None, Some(ms(300))));
        assert!(worth_sharing(None, None));
    }

    #[test]
    fn the_socket_check_holds_nothing_a_login_shell_reads_apart() {
        // sh, bash, zsh, fish and tcsh read it alike: no `!`, no backslash, no redirection, and
        // no double quote (it sits inside one in ssh_config).
        for p in [Platform::Linux, Platform::MacOs] {
            let check = check_socket(p);
            for c in ['!', '\\', '>', '<', '"', '$', '`', ';'] {
                assert!(
                    !check.contains(c) || (c == ';' && p == Platform::MacOs),
                    "{c} in {check}"
                );
            }
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
