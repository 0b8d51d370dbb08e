//! How an ssh connection went: the verdicts ([`Connect`]) read from ssh's exit code and stderr,
//! and the checks rdock makes when an ssh did not finish: a command on a connection of its own
//! (is the user's ControlMaster stale?) and a login that runs no shell (does the remote shell
//! hang?).

use std::time::Duration;

use crate::ssh::command::{Mode, Ssh, CONNECT_TIMEOUT};
use crate::ssh::destination::Resolved;
use crate::ssh::limits::{self, Limit};
use crate::sys::exec::{Cmd, Ended, Exec};

/// Bound of an ssh that runs one of rdock's remote scripts (the probe, the revoke); ssh's own
/// connect is bounded by [`CONNECT_TIMEOUT`].
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// Bound of [`login_check`]: long enough for ssh's own [`CONNECT_TIMEOUT`].
pub const LOGIN_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// How the connection went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Connect {
    Ok,
    /// The server refused every key offered.
    AuthRefused(String),
    /// The host key differs from the one in known_hosts.
    HostKeyChanged(String),
    /// No host key is known (strict checking refused it).
    HostKeyUnknown(String),
    /// Could not reach sshd, or it did not speak SSH in time.
    Unreachable(String),
    /// The remote answered with more than rdock reads (a shell startup file or a program that
    /// never stops printing).
    TooMuch(String),
    /// The login works (a second ssh that starts no remote shell authenticated, as ssh's line
    /// says), but the remote login shell ran no command within [`PROBE_TIMEOUT`]: a startup file
    /// it reads for every command waits or hangs.
    ShellHung(String),
    /// A command through the user's shared connection (ControlMaster) got no answer, while one
    /// on a connection of its own ran at once: the master is stale (its network went away).
    StaleMaster(String),
}

/// Why ssh could not reach sshd, as the words of ssh it keeps in [`Connect::Unreachable`] tell:
/// each cause has its own fix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// "Could not resolve hostname": a misspelt name, or a HostName in ssh_config.
    NoSuchName,
    /// "Connection refused": nothing listens on that port.
    Refused,
    /// "Connection timed out" while connecting: a firewall drops it, or a VPN is not up.
    TimedOut,
    /// The port accepted, but no SSH banner came: not sshd, or a hung one.
    NoBanner,
    /// Through a jump host, or anything else.
    Other,
}

impl Cause {
    /// The cause named in an [`Connect::Unreachable`] message.
    pub fn of(why: &str) -> Cause {
        if why.contains("jump host") {
            Cause::Other
        } else if why.contains("Could not resolve hostname") {
            Cause::NoSuchName
        } else if why.contains("Connection refused") {
            Cause::Refused
        } else if why.contains("no SSH banner") {
            Cause::NoBanner
        } else if why.contains("Connection timed out") || why.contains("Operation timed out") {
            Cause::TimedOut
        } else {
            Cause::Other
        }
    }
}

/// How an ssh to `r` that rdock could not run to its end went ([`not_run`]); but when it timed
/// out before its script printed `marker`, either ssh never logged in or the remote shell never
/// ran the script: a login that runs no shell ([`login_check`]) tells which.
/// `shared`: the command may have gone through the user's ControlMaster; then a command on a
/// connection of its own tells a stale master first.
pub fn unfinished(
    exec: &Exec,
    r: &Resolved,
    ended: &anyhow::Result<Ended>,
    what: &str,
    marker: &str,
    shared: bool,
) -> Connect {
    match ended {
        Ok(Ended::TimedOut(stopped)) if !stopped.stdout.contains(marker) => {
            if shared && r.control_master.is_some() && own_connection_answers(exec, r) {
                return Connect::StaleMaster(format!(
                    "{what} got no answer within {} s through the shared connection (ControlMaster), while `true` on a connection of its own ran at once",
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            match login_check(exec, r) {
                Some(line) => Connect::ShellHung(line),
                None => not_run(r, ended, what),
            }
        }
        _ => not_run(r, ended, what),
    }
}

/// Does `true` run at once on a connection of its own (as the probe logs in)?
fn own_connection_answers(exec: &Exec, r: &Resolved) -> bool {
    let cmd = Ssh::new(r.target(), Mode::Fresh)
        .identity(r.identity.as_deref())
        .script("true")
        .cmd()
        .timeout(LOGIN_CHECK_TIMEOUT);
    exec.run(&cmd).is_ok_and(|out| out.success())
}

/// The command that logs in as the probe does (same options, identity and target) but runs
/// nothing on the remote ([`Mode::LoginCheck`]). Always a connection of its own: through a
/// user's ControlMaster ssh would not log in again, and the master would start a shell even for
/// `-N` (measured, OpenSSH 9.2).
pub fn login_check_cmd(r: &Resolved) -> Cmd {
    Ssh::new(r.target(), Mode::LoginCheck)
        .identity(r.identity.as_deref())
        .cmd()
        .timeout(LOGIN_CHECK_TIMEOUT)
}

/// Does `r` accept the login when no remote shell runs? ssh's `Authenticated to HOST (…)` line
/// when it does (with `-N` ssh then waits until it is stopped at [`LOGIN_CHECK_TIMEOUT`]; the
/// timeout keeps what it printed), None when it did not say so in time.
pub fn login_check(exec: &Exec, r: &Resolved) -> Option<String> {
    login(exec, r).ok()
}

/// [`login_check`] as a verdict: [`Connect::Ok`] when the server accepts the login, else why not
/// ([`Connect::AuthRefused`] when it refuses the key).
pub fn login_verdict(exec: &Exec, r: &Resolved) -> Connect {
    login(exec, r).err().unwrap_or(Connect::Ok)
}

/// ssh's `Authenticated to …` line, or how the login went.
fn login(exec: &Exec, r: &Resolved) -> Result<String, Connect> {
    let what = "a login that runs nothing";
    let ended = exec.run_to_end(&login_check_cmd(r));
    let (code, stderr, stopped) = match &ended {
        Ok(Ended::Exited(out)) => (out.code, out.stderr.clone(), false),
        Ok(Ended::TimedOut(t)) => (None, t.stderr.clone(), true),
        _ => return Err(not_run(r, &ended, what)),
    };
    if let Some(line) = authenticated_line(&stderr, &r.hostname, r.port, !r.direct()) {
        return Ok(line);
    }
    Err(if stopped {
        not_run(r, &ended, what)
    } else {
        connect_failure(code, &stderr)
    })
}

/// ssh's `Authenticated to HOST ([ADDR]:PORT) using "METHOD".` for `host` itself: a jump host's
/// ssh (ProxyJump) may print its own line on the same stderr, naming the jump host. A direct
/// connection's line names `port`; through a jump host or a command ssh knows no address and
/// says `[UNKNOWN]:65535`.
fn authenticated_line(stderr: &str, host: &str, port: u16, routed: bool) -> Option<String> {
    let port = port.to_string();
    stderr
        .lines()
        .map(str::trim)
        .find(|l| {
            let Some((name, rest)) = l
                .strip_prefix("Authenticated to ")
                .and_then(|rest| rest.split_once(" ("))
            else {
                return false;
            };
            let seen = rest
                .split_once(')')
                .and_then(|(address, _)| address.rsplit_once(':'))
                .map(|(_, p)| p);
            name.eq_ignore_ascii_case(host)
                && (seen == Some(port.as_str()) || (routed && seen == Some("65535")))
        })
        .map(str::to_string)
}

/// How an ssh to `r` (`what`, for the message) that rdock could not run to its end went: it
/// printed more than rdock reads, or it did not finish in time (or could not start).
pub fn not_run(r: &Resolved, ended: &anyhow::Result<Ended>, what: &str) -> Connect {
    let why = match ended {
        Ok(Ended::TooMuchOutput(too_much)) => {
            return Connect::TooMuch(format!(
                "{} answered {what} with more than {} KiB; rdock stopped reading",
                r.address(),
                too_much.cap / 1024
            ))
        }
        Ok(Ended::TimedOut(stopped)) => stopped.to_string(),
        Ok(Ended::Exited(out)) => out.last_error_line(),
        Err(e) => format!("{e:#}"),
    };
    Connect::Unreachable(format!(
        "no SSH answer from {} within {} s ({why})",
        r.address(),
        PROBE_TIMEOUT.as_secs()
    ))
}

/// Why an ssh that did not run its remote command failed, from its exit code and stderr.
pub fn connect_failure(code: Option<i32>, stderr: &str) -> Connect {
    // A connection sshd dropped at MaxStartups: its line says so better than the last one.
    let evidence = limits::recognise(stderr)
        .into_iter()
        .find_map(|l| limits::evidence(stderr, l).filter(|_| l == Limit::MaxStartups));
    let last = evidence.unwrap_or_else(|| {
        stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with('@'))
            .unwrap_or("")
            .to_string()
    });
    if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || stderr.contains("HOST KEY HAS CHANGED")
    {
        Connect::HostKeyChanged(stderr.trim().to_string())
    } else if stderr.contains("Host key verification failed") {
        Connect::HostKeyUnknown(last)
    } else if stderr.contains("Permission denied (")
        || stderr.contains("Too many authentication failures")
    {
        Connect::AuthRefused(last)
    } else if stderr.contains("timed out during banner exchange") {
        Connect::Unreachable(format!(
            "the port accepted the connection, but no SSH banner came within {CONNECT_TIMEOUT} s (a hung or overloaded sshd, or not sshd): {last}"
        ))
    } else if stderr.contains("UNKNOWN port 65535") {
        // ssh names the far end so when it connected through a ProxyJump or ProxyCommand: the
        // lines before it are the jump's own: its "connect to host" line, else its first one
        // that is not a warning.
        let lines: Vec<&str> = stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.contains("UNKNOWN port 65535"))
            .collect();
        let jump = lines
            .iter()
            .find(|l| l.contains("connect to host"))
            .or_else(|| lines.iter().find(|l| !l.starts_with("Warning:")))
            .copied()
            .unwrap_or(&last)
            .to_string();
        Connect::Unreachable(format!(
            "the jump host (ProxyJump or ProxyCommand) did not get through: {jump}"
        ))
    } else if code == Some(255) || code.is_none() {
        Connect::Unreachable(last)
    } else {
        Connect::Unreachable(format!(
            "the remote shell did not run rdock's command (exit {code:?}): {last}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_failures_are_told_apart() {
        let changed = "@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@\nHost key verification failed.\n";
        assert!(matches!(
            connect_failure(Some(255), changed),
            Connect::HostKeyChanged(_)
        ));
        let unknown = "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n";
        assert!(matches!(
            connect_failure(Some(255), unknown),
            Connect::HostKeyUnknown(_)
        ));
        let denied = "u@127.0.0.1: Permission denied (publickey,password).\n";
        assert!(matches!(
            connect_failure(Some(255), denied),
            Connect::AuthRefused(_)
        ));
        let refused = "ssh: connect to host 127.0.0.1 port 1: Connection refused\n";
        assert_eq!(
            connect_failure(Some(255), refused),
            Connect::Unreachable(
                "ssh: connect to host 127.0.0.1 port 1: Connection refused".into()
            )
        );
    }

    #[test]
    fn the_cause_of_an_unreachable_host_is_read_from_ssh_s_words() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/recorded/");
        let cases = [
            ("ssh-no-such-name.stderr", Cause::NoSuchName),
            ("ssh-connection-refused.stderr", Cause::Refused),
            ("ssh-connection-refused-ipv6.stderr", Cause::Refused),
            ("ssh-connect-timed-out.stderr", Cause::TimedOut),
            ("ssh-banner-timeout.stderr", Cause::NoBanner),
            ("ssh-proxyjump-refused.stderr", Cause::Other),
        ];
        for (file, cause) in cases {
            let stderr = std::fs::read_to_string(format!("{dir}{file}")).unwrap();
            let Connect::Unreachable(why) = connect_failure(Some(255), &stderr) else {
                panic!("{file}: not unreachable");
            };
            assert_eq!(Cause::of(&why), cause, "{file}: {why}");
        }
    }

    #[test]
    fn a_silent_server_and_an_unreachable_jump_host_are_named() {
        let cases = [
            (
                "Connection timed out during banner exchange\r\nConnection to 127.0.0.1 port 2222 timed out\r\n",
                "the port accepted the connection, but no SSH banner came within 10 s (a hung or overloaded sshd, or not sshd): Connection to 127.0.0.1 port 2222 timed out",
            ),
            (
                "ssh: connect to host bastion port 22: Connection refused\r\nConnection closed by UNKNOWN port 65535\r\n",
                "the jump host (ProxyJump or ProxyCommand) did not get through: ssh: connect to host bastion port 22: Connection refused",
            ),
            (
                "Warning: Identity file /home/u/.ssh/id_ed25519 not accessible: No such file or directory.\r\nssh: connect to host bastion port 22: Connection refused\r\nConnection closed by UNKNOWN port 65535\r\n",
                "the jump host (ProxyJump or ProxyCommand) did not get through: ssh: connect to host bastion port 22: Connection refused",
            ),
        ];
        for (stderr, named) in cases {
            assert_eq!(
                connect_failure(Some(255), stderr),
                Connect::Unreachable(named.into())
            );
        }
    }

    #[test]
    fn only_ssh_s_authenticated_line_for_the_host_itself_counts() {
        // As OpenSSH 9.2 prints it with LogLevel=VERBOSE (measured), then what SIGTERM adds.
        let stderr = "Authenticated to 127.0.0.1 ([127.0.0.1]:2222) using \"publickey\".\r\nTransferred: sent 3368, received 3184 bytes, in 5.8 seconds\r\n";
        assert_eq!(
            authenticated_line(stderr, "127.0.0.1", 2222, false).as_deref(),
            Some("Authenticated to 127.0.0.1 ([127.0.0.1]:2222) using \"publickey\".")
        );
        // ssh and ssh -G both print the name lowercased (measured); case never counts.
        let named = "Authenticated to Box.Example ([10.0.0.5]:22) using \"publickey\".\n";
        assert!(authenticated_line(named, "box.example", 22, false).is_some());
        // The same name on another port is another hop (a jump host's own ssh, say); through a
        // jump host the target's line names no address.
        assert_eq!(authenticated_line(stderr, "127.0.0.1", 2200, false), None);
        let routed = "Authenticated to 127.0.0.1 ([UNKNOWN]:65535) using \"publickey\".\n";
        assert!(authenticated_line(routed, "127.0.0.1", 2222, true).is_some());
        assert_eq!(authenticated_line(routed, "127.0.0.1", 2222, false), None);
        // A jump host's line, a refusal, nothing.
        let jump = "Authenticated to bastion ([10.0.0.1]:22) using \"publickey\".\n";
        assert_eq!(authenticated_line(jump, "127.0.0.1", 22, true), None);
        assert_eq!(
            authenticated_line(
                "u@127.0.0.1: Permission denied (publickey).\n",
                "127.0.0.1",
                22,
                false
            ),
            None
        );
        assert_eq!(authenticated_line("", "127.0.0.1", 22, false), None);
    }
}
