//! The remote probe: one ssh round trip, made the way the docker CLI connects (BatchMode, no
//! terminal, strict host key checking), that tells whether the host key, the key and the remote
//! docker are right. The remote command is a fixed string: no part of user input is in it.

use std::time::Duration;

use crate::ssh::destination::Resolved;
use crate::ssh::limits::{self, Limit};
use crate::sys::exec::{last_line, Cmd, Exec, TimedOut, TooMuchOutput};

/// Seconds ssh may spend connecting, and waiting for the server's SSH banner. The whole probe is
/// bounded by [`PROBE_TIMEOUT`].
pub const CONNECT_TIMEOUT: u64 = 10;
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// Seconds the remote `docker version` may take (through `timeout`, where the remote has it).
pub const DOCKER_TIMEOUT: u64 = 8;

/// The lines that frame the probe's report: what the remote prints around them is not the
/// probe's, and is named as such.
const BEGIN: &str = "rdock-probe-2-begin";
const END: &str = "rdock-probe-2-end";

pub use crate::ssh::scripts::{INSTALL_KEY_SCRIPT, PROBE_SCRIPT};

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

/// What the remote says about docker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteDocker {
    Server(String),
    NotOnPath,
    PermissionDenied(String),
    DaemonDown(String),
    /// `docker version` did not answer within so many seconds and was stopped (by the script's
    /// `timeout`, or with the whole probe when the remote has no `timeout`).
    Hung(u64),
    Other(String),
}

/// The remote ran another command than the probe: a forced command (`command="…"` on the key in
/// authorized_keys, or sshd's ForceCommand).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Forced {
    /// `docker system dial-stdio`: it passed the probe's stdin to the docker daemon, which
    /// answered with an HTTP error.
    DialStdio,
    /// Something else; its first line of output, if any.
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub connect: Connect,
    /// Where `command -v docker` found docker on the remote's non-interactive PATH.
    pub docker_path: Option<String>,
    pub docker: Option<RemoteDocker>,
    /// A daemon that answers on another socket (rootless docker) when the default one does not:
    /// the socket and that daemon's version.
    pub other_socket: Option<(String, String)>,
    /// The remote user's login shell (`$SHELL` on the remote).
    pub shell: Option<String>,
    /// The first line the remote printed on stdout outside the probe's report (a shell startup
    /// file that prints): it would be in the middle of docker's own ssh stream too.
    pub noise: Option<String>,
    /// The remote ran a forced command instead of the probe.
    pub forced: Option<Forced>,
    /// When docker is not on that PATH: what the login shell knows.
    pub login: Option<Login>,
    /// sshd's limits that ssh's stderr shows were reached (even when the probe went through).
    pub limits: Vec<Limit>,
}

/// What the probe learned when docker was not on the non-interactive PATH.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Login {
    /// The non-interactive PATH.
    pub path: String,
    /// The remote user's login shell, as a path (empty when unknown).
    pub shell: String,
    /// Where that shell, as a login shell, finds docker.
    pub docker: Option<String>,
}

impl Login {
    /// Is `dir` one of the non-interactive PATH's folders?
    pub fn path_has(&self, dir: &str) -> bool {
        self.path.split(':').any(|d| d.trim_end_matches('/') == dir)
    }
}

impl Probe {
    /// A probe that got no report: only how the connection went.
    pub fn failed(connect: Connect) -> Probe {
        Probe {
            connect,
            docker_path: None,
            docker: None,
            other_socket: None,
            shell: None,
            noise: None,
            forced: None,
            login: None,
            limits: Vec::new(),
        }
    }
}

/// ssh options that make rdock's own connections behave like the docker CLI's, never prompt,
/// never accept or rewrite a host key, and give up in bounded time.
pub fn batch_options() -> Vec<String> {
    options(&["BatchMode=yes"])
}

/// `-o` options for every ssh rdock starts itself, after `extra`: never accept or rewrite a host
/// key, never change the agent (whatever the user's config says), a bounded connect, no TTY.
pub fn options(extra: &[&str]) -> Vec<String> {
    let mut args = common_options(extra);
    args.push("-T".into());
    args
}

/// [`options`], with a terminal on the remote (`-t`) instead of none: for a command a person
/// answers there, such as sudo asking for its password.
pub fn terminal_options(extra: &[&str]) -> Vec<String> {
    let mut args = common_options(extra);
    args.push("-t".into());
    args
}

fn common_options(extra: &[&str]) -> Vec<String> {
    let timeout = format!("ConnectTimeout={CONNECT_TIMEOUT}");
    let common = [
        "StrictHostKeyChecking=yes",
        "UpdateHostKeys=no",
        "AddKeysToAgent=no",
        &timeout,
    ];
    extra
        .iter()
        .chain(common.iter())
        .flat_map(|o| ["-o".to_string(), o.to_string()])
        .collect()
}

/// Bound of [`login_check`]: long enough for ssh's own [`CONNECT_TIMEOUT`].
pub const LOGIN_CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// ssh options for a connection of its own, never a shared one: a connection made after the
/// user's groups changed must not reuse a master that logged in before.
pub const OWN_CONNECTION: [&str; 2] = ["ControlMaster=no", "ControlPath=none"];

/// `-o IdentitiesOnly=yes -i KEY` when the key ssh offers is known: the probe then tells whether
/// the remote accepts that key, not whether some other key of the agent's gets in.
fn identity_args(r: &Resolved) -> Vec<String> {
    match &r.identity {
        Some(key) => vec![
            "-o".into(),
            "IdentitiesOnly=yes".into(),
            "-i".into(),
            key.to_string_lossy().into_owned(),
        ],
        None => Vec::new(),
    }
}

/// `ssh` with rdock's options (`extra` first) and the key the probe offers: every ssh that must
/// log in as the probe does (the probe, and the checks after one that timed out) starts here.
fn as_the_probe(r: &Resolved, extra: &[&str]) -> Cmd {
    Cmd::new("ssh").args(options(extra)).args(identity_args(r))
}

/// One ssh round trip, as the docker CLI connects, that runs [`PROBE_SCRIPT`] on the remote.
/// `own_connection`: never through a shared (multiplexed) connection.
pub fn run(exec: &Exec, r: &Resolved, own_connection: bool) -> Probe {
    let extra: &[&str] = if own_connection {
        &["BatchMode=yes", OWN_CONNECTION[0], OWN_CONNECTION[1]]
    } else {
        &["BatchMode=yes"]
    };
    let cmd = as_the_probe(r, extra)
        .args(r.ssh_target_args())
        .arg(PROBE_SCRIPT)
        .stdin(format!("{}\n", r.socket.as_deref().unwrap_or("")))
        .timeout(PROBE_TIMEOUT);
    let connect = match exec.run(&cmd) {
        Ok(out) => return parse_probe(out.code, &out.stdout, &out.stderr),
        Err(e) => match e.downcast_ref::<TimedOut>() {
            Some(stopped) if stopped.stdout.contains(BEGIN) => {
                return stopped_probe(&stopped.stdout)
            }
            _ => unfinished(exec, r, &e, "rdock's probe", BEGIN, !own_connection),
        },
    };
    Probe::failed(connect)
}

/// How an ssh to `r` that rdock could not run to its end went ([`not_run`]); but when it timed
/// out before its script printed `marker`, either ssh never logged in or the remote shell never
/// ran the script: a login that runs no shell ([`login_check`]) tells which.
/// `shared`: the command may have gone through the user's ControlMaster; then a command on a
/// connection of its own tells a stale master first.
pub fn unfinished(
    exec: &Exec,
    r: &Resolved,
    e: &anyhow::Error,
    what: &str,
    marker: &str,
    shared: bool,
) -> Connect {
    match e.downcast_ref::<TimedOut>() {
        Some(stopped) if !stopped.stdout.contains(marker) => {
            if shared && r.control_master.is_some() && own_connection_answers(exec, r) {
                return Connect::StaleMaster(format!(
                    "{what} got no answer within {} s through the shared connection (ControlMaster), while `true` on a connection of its own ran at once",
                    PROBE_TIMEOUT.as_secs()
                ));
            }
            match login_check(exec, r) {
                Some(line) => Connect::ShellHung(line),
                None => not_run(r, e, what),
            }
        }
        _ => not_run(r, e, what),
    }
}

/// Does `true` run at once on a connection of its own (as the probe logs in)?
fn own_connection_answers(exec: &Exec, r: &Resolved) -> bool {
    let cmd = as_the_probe(
        r,
        &[
            "BatchMode=yes",
            OWN_CONNECTION[0],
            OWN_CONNECTION[1],
            "ClearAllForwardings=yes",
        ],
    )
    .args(r.ssh_target_args())
    .arg("true")
    .timeout(LOGIN_CHECK_TIMEOUT);
    exec.run(&cmd).is_ok_and(|out| out.success())
}

/// The command that logs in as the probe does (same options, identity and target) but runs
/// nothing on the remote (`-N`: no session, so no login shell and no startup file), with
/// `LogLevel=VERBOSE` so that ssh says on stderr when authentication succeeded. Always a
/// connection of its own: through a user's ControlMaster ssh would not log in again, and the
/// master would start a shell even for `-N` (measured, OpenSSH 9.2).
pub fn login_check_cmd(r: &Resolved) -> Cmd {
    as_the_probe(
        r,
        &[
            "BatchMode=yes",
            "LogLevel=VERBOSE",
            OWN_CONNECTION[0],
            OWN_CONNECTION[1],
            "ClearAllForwardings=yes",
        ],
    )
    .arg("-N")
    .args(r.ssh_target_args())
    .timeout(LOGIN_CHECK_TIMEOUT)
}

/// Does `r` accept the login when no remote shell runs? ssh's `Authenticated to HOST (…)` line
/// when it does (with `-N` ssh then waits until it is stopped at [`LOGIN_CHECK_TIMEOUT`]; the
/// timeout keeps what it printed), None when it did not say so in time.
pub fn login_check(exec: &Exec, r: &Resolved) -> Option<String> {
    let stderr = match exec.run(&login_check_cmd(r)) {
        Ok(out) => out.stderr,
        Err(e) => e.downcast_ref::<TimedOut>()?.stderr.clone(),
    };
    authenticated_line(&stderr, &r.hostname, r.port, !r.direct())
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

/// The probe was stopped at [`PROBE_TIMEOUT`] after its report began (the remote has no
/// `timeout`): when docker's exit code never came, docker is what hung.
fn stopped_probe(stdout: &str) -> Probe {
    let mut probe = parse_probe(Some(0), stdout, "");
    if probe.docker_path.is_some() && probe.docker == Some(ended_early()) {
        probe.docker = Some(RemoteDocker::Hung(PROBE_TIMEOUT.as_secs()));
    }
    probe
}

/// What a report cut short says about docker.
fn ended_early() -> RemoteDocker {
    RemoteDocker::Other("the probe's report ended early".into())
}

/// The first non-empty line of a text, trimmed, at most 200 characters.
fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// How an ssh to `r` (`what`, for the message) that rdock could not run to its end went: it
/// printed more than rdock reads, or it did not finish in time (or could not start).
pub fn not_run(r: &Resolved, e: &anyhow::Error, what: &str) -> Connect {
    match e.downcast_ref::<TooMuchOutput>() {
        Some(too_much) => Connect::TooMuch(format!(
            "{} answered {what} with more than {} KiB; rdock stopped reading",
            r.address(),
            too_much.cap / 1024
        )),
        None => Connect::Unreachable(format!(
            "no SSH answer from {} within {} s ({e:#})",
            r.address(),
            PROBE_TIMEOUT.as_secs()
        )),
    }
}

/// Read the probe's result from ssh's exit code and output.
pub fn parse_probe(code: Option<i32>, stdout: &str, stderr: &str) -> Probe {
    Probe {
        limits: limits::recognise(stderr),
        ..parse_output(code, stdout, stderr)
    }
}

fn parse_output(code: Option<i32>, stdout: &str, stderr: &str) -> Probe {
    if let Some(at) = stdout.find(BEGIN) {
        return parse_report(stdout, at);
    }
    if code == Some(0) {
        // sshd ran something that exited 0 without printing the report: a forced command. docker
        // system dial-stdio hands the probe's stdin to the daemon, whose answer is HTTP.
        let forced = if stdout.starts_with("HTTP/1.") {
            Forced::DialStdio
        } else {
            Forced::Other(first_line(stdout))
        };
        return Probe {
            forced: Some(forced),
            ..Probe::failed(Connect::Ok)
        };
    }
    Probe::failed(connect_failure(code, stderr))
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

/// The report that starts at byte `at` of stdout, and whatever the remote printed around it.
fn parse_report(stdout: &str, at: usize) -> Probe {
    let before = &stdout[..at];
    let rest = &stdout[at + BEGIN.len()..];
    let (report, after) = match rest.rfind(END) {
        Some(end) => (&rest[..end], &rest[end + END.len()..]),
        None => (rest, ""),
    };
    let finished = rest.contains(END);
    let noise = [before, after]
        .iter()
        .map(|t| first_line(t))
        .find(|l| !l.is_empty());
    let mut lines = report.lines().skip_while(|l| l.trim().is_empty());
    let mut field = |name: &str| -> Option<String> {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix('='))
            .map(|v| v.trim().to_string())
    };
    let shell = field("shell").filter(|v| !v.is_empty());
    let docker_path = field("docker-path").filter(|p| !p.is_empty());
    let exit = field("docker-exit")
        .and_then(|n| n.parse::<i32>().ok())
        .unwrap_or(-1);
    // The script prints these two lines whenever docker ran, before docker's own output.
    let mut other_socket = None;
    let mut rest: Vec<&str> = lines.collect();
    if rest.first().is_some_and(|l| l.starts_with("rdock-socket=")) {
        let socket = rest[0]["rdock-socket=".len()..].trim().to_string();
        let version = rest
            .get(1)
            .and_then(|l| l.strip_prefix("rdock-socket-version="))
            .unwrap_or("")
            .trim()
            .to_string();
        rest.drain(..rest.len().min(2));
        if socket.starts_with('/') && !version.is_empty() {
            other_socket = Some((socket, version));
        }
    }
    let login = (exit == 127).then(|| {
        let field = |key: &str| {
            rest.iter()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        Login {
            path: field("path="),
            shell: field("login-shell="),
            docker: Some(field("login-docker=")).filter(|p| p.starts_with('/')),
        }
    });
    let text = rest
        .iter()
        .filter(|l| {
            login.is_none()
                || !["path=", "login-shell=", "login-docker="]
                    .iter()
                    .any(|k| l.starts_with(k))
        })
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string();
    let docker = if finished || exit != -1 {
        classify_docker(exit, &text)
    } else {
        ended_early()
    };
    Probe {
        connect: Connect::Ok,
        docker_path,
        docker: Some(docker),
        other_socket,
        shell,
        noise,
        forced: None,
        login,
        limits: Vec::new(),
    }
}

fn classify_docker(exit: i32, text: &str) -> RemoteDocker {
    let lower = text.to_ascii_lowercase();
    match exit {
        0 => RemoteDocker::Server(text.lines().last().unwrap_or("").trim().to_string()),
        127 => RemoteDocker::NotOnPath,
        124 => RemoteDocker::Hung(DOCKER_TIMEOUT),
        _ if lower.contains("permission denied") => RemoteDocker::PermissionDenied(last_line(text)),
        _ if lower.contains("cannot connect to the docker daemon")
            || lower.contains("is the docker daemon running") =>
        {
            RemoteDocker::DaemonDown(last_line(text))
        }
        _ => RemoteDocker::Other(last_line(text)),
    }
}

/// The one password login that appends the public key (given on stdin) to the remote
/// authorized_keys: password and keyboard-interactive only, so the person types it once.
pub fn install_key_cmd(r: &Resolved, public_line: &str) -> Cmd {
    Cmd::new("ssh")
        .args(options(&[
            "PubkeyAuthentication=no",
            "PreferredAuthentications=keyboard-interactive,password",
            "NumberOfPasswordPrompts=3",
        ]))
        .args(r.ssh_target_args())
        .arg(INSTALL_KEY_SCRIPT)
        .stdin(format!("{public_line}\n"))
        .changes()
        .interactive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_output_is_classified() {
        let ok = parse_probe(
            Some(0),
            "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=0\n28.2.2\n",
            "",
        );
        assert_eq!(ok.connect, Connect::Ok);
        assert_eq!(ok.docker, Some(RemoteDocker::Server("28.2.2".into())));
        assert_eq!(ok.docker_path.as_deref(), Some("/usr/bin/docker"));
        let missing = parse_probe(
            Some(0),
            "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=\ndocker-exit=127\n",
            "",
        );
        assert_eq!(missing.docker, Some(RemoteDocker::NotOnPath));
        let denied = parse_probe(
            Some(0),
            "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=1\npermission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock\n",
            "",
        );
        assert!(matches!(
            denied.docker,
            Some(RemoteDocker::PermissionDenied(_))
        ));
        let down = parse_probe(
            Some(0),
            "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=1\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
            "",
        );
        assert!(matches!(down.docker, Some(RemoteDocker::DaemonDown(_))));
    }

    #[test]
    fn a_rootless_daemon_on_another_socket_is_reported_and_never_read_from_docker_s_output() {
        let rootless = parse_probe(
            Some(0),
            "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=1\nrdock-socket=/run/user/1000/docker.sock\nrdock-socket-version=27.5.1\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
            "",
        );
        assert_eq!(
            rootless.other_socket,
            Some(("/run/user/1000/docker.sock".into(), "27.5.1".into()))
        );
        assert!(matches!(rootless.docker, Some(RemoteDocker::DaemonDown(_))));
        // docker's own output comes after rdock's two lines: it cannot name a socket.
        let forged = parse_probe(
            Some(0),
            "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=1\nrdock-socket=\nrdock-socket-version=\nrdock-socket=/tmp/evil\nrdock-socket-version=1\n",
            "",
        );
        assert_eq!(forged.other_socket, None);
        assert!(matches!(forged.docker, Some(RemoteDocker::Other(_))));
    }

    #[test]
    fn ssh_failures_are_told_apart() {
        let changed = "@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@\nHost key verification failed.\n";
        assert!(matches!(
            parse_probe(Some(255), "", changed).connect,
            Connect::HostKeyChanged(_)
        ));
        let unknown = "No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\nHost key verification failed.\n";
        assert!(matches!(
            parse_probe(Some(255), "", unknown).connect,
            Connect::HostKeyUnknown(_)
        ));
        let denied = "u@127.0.0.1: Permission denied (publickey,password).\n";
        assert!(matches!(
            parse_probe(Some(255), "", denied).connect,
            Connect::AuthRefused(_)
        ));
        let refused = "ssh: connect to host 127.0.0.1 port 1: Connection refused\n";
        assert_eq!(
            parse_probe(Some(255), "", refused).connect,
            Connect::Unreachable(
                "ssh: connect to host 127.0.0.1 port 1: Connection refused".into()
            )
        );
    }

    #[test]
    fn every_ssh_of_rdock_refuses_new_host_keys_and_leaves_the_agent_alone() {
        let batch = batch_options().join(" ");
        assert_eq!(
            batch,
            "-o BatchMode=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T"
        );
    }

    const REPORT: &str = "rdock-probe-2-begin\nshell=/bin/bash\ndocker-path=/usr/bin/docker\ndocker-exit=0\nrdock-socket=\nrdock-socket-version=\n28.2.2\nrdock-probe-2-end\n";

    #[test]
    fn what_the_remote_prints_around_the_report_is_named_and_the_report_still_read() {
        let clean = parse_probe(Some(0), REPORT, "");
        assert_eq!(clean.noise, None);
        assert_eq!(clean.shell.as_deref(), Some("/bin/bash"));
        assert_eq!(clean.docker, Some(RemoteDocker::Server("28.2.2".into())));
        let before = parse_probe(Some(0), &format!("hello\n{REPORT}"), "");
        assert_eq!(before.noise.as_deref(), Some("hello"));
        assert_eq!(before.docker, Some(RemoteDocker::Server("28.2.2".into())));
        // No line break after the noise: the marker is found inside the line.
        let glued = parse_probe(Some(0), &format!("hello{REPORT}"), "");
        assert_eq!(glued.noise.as_deref(), Some("hello"));
        assert_eq!(glued.docker_path.as_deref(), Some("/usr/bin/docker"));
        let after = parse_probe(Some(0), &format!("{REPORT}bye\n"), "");
        assert_eq!(after.noise.as_deref(), Some("bye"));
        assert_eq!(after.docker, Some(RemoteDocker::Server("28.2.2".into())));
    }

    #[test]
    fn a_report_cut_short_or_a_docker_stopped_by_the_timeout_is_no_answer() {
        let head = "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\n";
        // Cut short: docker's exit code never came.
        assert_eq!(
            parse_probe(Some(0), head, "").docker,
            Some(RemoteDocker::Other("the probe's report ended early".into()))
        );
        // The script's `timeout` stopped docker: exit 124.
        let stopped =
            format!("{head}docker-exit=124\nrdock-socket=\nrdock-socket-version=\n\n{END}\n");
        assert_eq!(
            parse_probe(Some(0), &stopped, "").docker,
            Some(RemoteDocker::Hung(DOCKER_TIMEOUT))
        );
    }

    /// What the daemon answers `docker system dial-stdio` given the probe's stdin.
    const DIAL_STDIO: &str = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request";

    #[test]
    fn a_forced_command_is_told_from_the_report() {
        let dial = parse_probe(Some(0), DIAL_STDIO, "");
        assert_eq!(dial.connect, Connect::Ok);
        assert_eq!(dial.forced, Some(Forced::DialStdio));
        assert_eq!(dial.docker, None);
        let silent = parse_probe(Some(0), "", "");
        assert_eq!(silent.forced, Some(Forced::Other(String::new())));
        let other = parse_probe(Some(0), "backup done\n", "");
        assert_eq!(other.forced, Some(Forced::Other("backup done".into())));
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
                parse_probe(Some(255), "", stderr).connect,
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

    #[test]
    fn the_report_is_framed_and_docker_is_bounded() {
        assert!(PROBE_SCRIPT.contains(&format!("echo {BEGIN};")));
        assert!(PROBE_SCRIPT.ends_with(&format!("echo {END}'")));
        assert!(PROBE_SCRIPT.contains(&format!("timeout {DOCKER_TIMEOUT}\"")));
    }
}
