//! The remote probe: one ssh round trip, made the way the docker CLI connects (BatchMode, no
//! terminal, strict host key checking), that tells whether the host key, the key and the remote
//! docker are right. The remote command is a fixed string: no part of user input is in it.

use crate::ssh::command::{Mode, Ssh};
use crate::ssh::connect::{connect_failure, unfinished};
use crate::ssh::destination::Resolved;
use crate::ssh::limits::{self, Limit};
use crate::sys::exec::{last_line, Cmd, Ended, Exec};

// The verdicts live in ssh::connect; the steps name them through the probe too.
pub use crate::ssh::connect::{Connect, PROBE_TIMEOUT};
pub use crate::ssh::scripts::{INSTALL_KEY_SCRIPT, PROBE_SCRIPT};

/// Seconds the remote `docker version` may take (through `timeout`, where the remote has it).
pub const DOCKER_TIMEOUT: u64 = 8;

/// The lines that frame the probe's report: what the remote prints around them is not the
/// probe's, and is named as such.
const BEGIN: &str = "rdock-probe-2-begin";
const END: &str = "rdock-probe-2-end";

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

/// One ssh round trip, as the docker CLI connects, that runs [`PROBE_SCRIPT`] on the remote.
/// `own_connection`: never through a shared (multiplexed) connection.
pub fn run(exec: &Exec, r: &Resolved, own_connection: bool) -> Probe {
    let mode = if own_connection {
        Mode::OwnConnection
    } else {
        Mode::Batch
    };
    let cmd = Ssh::new(r.target(), mode)
        .identity(r.identity.as_deref())
        .script(PROBE_SCRIPT)
        .cmd()
        .stdin(format!("{}\n", r.socket.as_deref().unwrap_or("")))
        .timeout(PROBE_TIMEOUT);
    let ended = exec.run_to_end(&cmd);
    let connect = match &ended {
        Ok(Ended::Exited(out)) => return parse_probe(out.code, &out.stdout, &out.stderr),
        Ok(Ended::TimedOut(stopped)) if stopped.stdout.contains(BEGIN) => {
            return stopped_probe(&stopped.stdout)
        }
        _ => unfinished(exec, r, &ended, "rdock's probe", BEGIN, !own_connection),
    };
    Probe::failed(connect)
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
    // docker's output. The login lines come only with exit 127, whose verdict reads none of it.
    let text = rest.join("\n").trim().to_string();
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
    Ssh::new(r.target(), Mode::Password)
        .script(INSTALL_KEY_SCRIPT)
        .cmd()
        .stdin(format!("{public_line}\n"))
        .changes()
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
    fn a_folder_is_on_the_path_with_or_without_its_trailing_slash() {
        let login = Login {
            path: "/usr/bin:/usr/local/bin/".into(),
            ..Login::default()
        };
        assert!(login.path_has("/usr/local/bin"));
        assert!(login.path_has("/usr/bin"));
        assert!(!login.path_has("/usr"));
    }

    #[test]
    fn a_probe_stopped_at_its_bound_blames_docker_only_when_docker_had_started() {
        let head = "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\n";
        assert_eq!(
            stopped_probe(head).docker,
            Some(RemoteDocker::Hung(PROBE_TIMEOUT.as_secs()))
        );
        // Stopped before docker was even looked for: the report was cut short, that is all.
        assert_eq!(
            stopped_probe("rdock-probe-2-begin\nshell=/bin/sh\n").docker,
            Some(ended_early())
        );
    }

    #[test]
    fn another_socket_counts_only_with_the_version_its_daemon_answered() {
        let silent = parse_probe(
            Some(0),
            "rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=1\nrdock-socket=/run/user/1000/docker.sock\nrdock-socket-version=\n",
            "",
        );
        assert_eq!(silent.other_socket, None);
    }

    #[test]
    fn a_daemon_that_is_down_is_known_by_either_of_docker_s_sentences() {
        for said in [
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock.",
            "error during connect: Is the docker daemon running?",
        ] {
            let report = format!("rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=1\n{said}\n");
            assert_eq!(
                parse_probe(Some(0), &report, "").docker,
                Some(RemoteDocker::DaemonDown(said.into())),
                "{said}"
            );
        }
    }

    #[test]
    fn the_report_is_framed_and_docker_is_bounded() {
        assert!(PROBE_SCRIPT.contains(&format!("echo {BEGIN};")));
        assert!(PROBE_SCRIPT.ends_with(&format!("echo {END}'")));
        assert!(PROBE_SCRIPT.contains(&format!("timeout {DOCKER_TIMEOUT}\"")));
    }
}
