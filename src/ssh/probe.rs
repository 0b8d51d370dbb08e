//! The remote probe: one ssh round trip, made the way the docker CLI connects (BatchMode, no
//! terminal, strict host key checking), that tells whether the host key, the key and the remote
//! docker are right. The remote command is a fixed string: no part of user input is in it.

use std::time::Duration;

use crate::ssh::destination::Resolved;
use crate::ssh::limits::{self, Limit};
use crate::sys::exec::{last_line, Cmd, Exec, TooMuchOutput};

/// Seconds ssh may spend connecting. The whole probe is bounded by [`PROBE_TIMEOUT`].
pub const CONNECT_TIMEOUT: u64 = 10;
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

const MARKER: &str = "rdock-probe-1";

/// A snippet for `sh` that sets `lp` to where the remote user's login shell (from the passwd
/// entry, else `$SHELL`) finds docker, or to nothing, and `s` to that shell. The login shell reads
/// the user's profile, which may put docker on its PATH where ssh commands do not look. It gets
/// no stdin and at most 5 s (where `timeout` exists); only an absolute path to an executable
/// counts, from the last line it prints.
macro_rules! login_docker {
    () => {
        "s=$(getent passwd \"$(id -un)\" 2>/dev/null | cut -d: -f7); [ -n \"$s\" ] || s=$SHELL; lp=; if [ -n \"$s\" ]; then t=; if command -v timeout >/dev/null 2>&1; then t=\"timeout 5\"; fi; lp=$($t \"$s\" -lc \"command -v docker\" </dev/null 2>/dev/null | tail -n 1); case $lp in /*) [ -x \"$lp\" ] || lp=;; *) lp=;; esac; fi"
    };
}
pub(crate) use login_docker;

/// Runs on the remote under `sh`, whatever the login shell. Reports whether docker is on the
/// non-interactive PATH and what `docker version` says; asks the socket named on stdin (a
/// context's socket path, already checked to be plain) when there is one. When docker is not on
/// that PATH, it reports the PATH, the login shell and where that shell finds docker.
pub const PROBE_SCRIPT: &str = concat!(
    "/bin/sh -c 'IFS= read -r sock; if [ -n \"$sock\" ]; then DOCKER_HOST=\"unix://$sock\"; export DOCKER_HOST; fi; echo rdock-probe-1; if p=$(command -v docker); then echo \"docker-path=$p\"; out=$(docker version --format \"{{.Server.Version}}\" 2>&1); echo \"docker-exit=$?\"; printf \"%s\\n\" \"$out\"; else echo docker-path=; echo docker-exit=127; echo \"path=$PATH\"; ",
    login_docker!(),
    "; echo \"login-shell=$s\"; echo \"login-docker=$lp\"; fi'"
);

/// Appends the public key read from stdin to ~/.ssh/authorized_keys, unless its blob is already
/// there. umask 077 keeps ~/.ssh and the file private.
pub const INSTALL_KEY_SCRIPT: &str = "/bin/sh -c 'umask 077; set -f; mkdir -p \"$HOME/.ssh\" && f=\"$HOME/.ssh/authorized_keys\" && touch \"$f\" && IFS= read -r key && set -- $key && if grep -qF \"$2\" \"$f\"; then echo rdock-key-present; else if [ -s \"$f\" ] && [ -n \"$(tail -c 1 \"$f\")\" ]; then echo >> \"$f\"; fi; printf \"%s\\n\" \"$key\" >> \"$f\" && echo rdock-key-added; fi'";

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
}

/// What the remote says about docker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteDocker {
    Server(String),
    NotOnPath,
    PermissionDenied(String),
    DaemonDown(String),
    Other(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub connect: Connect,
    /// Where `command -v docker` found docker on the remote's non-interactive PATH.
    pub docker_path: Option<String>,
    pub docker: Option<RemoteDocker>,
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

/// ssh options for a connection of its own, never a shared one: a connection made after the
/// user's groups changed must not reuse a master that logged in before.
pub const OWN_CONNECTION: [&str; 2] = ["ControlMaster=no", "ControlPath=none"];

/// One ssh round trip, as the docker CLI connects, that runs [`PROBE_SCRIPT`] on the remote.
/// `own_connection`: never through a shared (multiplexed) connection.
pub fn run(exec: &Exec, r: &Resolved, own_connection: bool) -> Probe {
    let extra: &[&str] = if own_connection {
        &["BatchMode=yes", OWN_CONNECTION[0], OWN_CONNECTION[1]]
    } else {
        &["BatchMode=yes"]
    };
    let cmd = Cmd::new("ssh")
        .args(options(extra))
        .args(r.ssh_target_args())
        .arg(PROBE_SCRIPT)
        .stdin(format!("{}\n", r.socket.as_deref().unwrap_or("")))
        .timeout(PROBE_TIMEOUT);
    let connect = match exec.run(&cmd) {
        Ok(out) => return parse_probe(out.code, &out.stdout, &out.stderr),
        Err(e) => match e.downcast_ref::<TooMuchOutput>() {
            Some(too_much) => Connect::TooMuch(format!(
                "{} answered rdock's probe with more than {} KiB; rdock stopped reading",
                r.address(),
                too_much.cap / 1024
            )),
            None => Connect::Unreachable(format!(
                "no SSH answer from {} within {} s ({e:#})",
                r.address(),
                PROBE_TIMEOUT.as_secs()
            )),
        },
    };
    Probe {
        connect,
        docker_path: None,
        docker: None,
        login: None,
        limits: Vec::new(),
    }
}

/// Read the probe's result from ssh's exit code and output.
pub fn parse_probe(code: Option<i32>, stdout: &str, stderr: &str) -> Probe {
    let mut lines = stdout.lines();
    if lines.next().map(str::trim) == Some(MARKER) {
        let docker_path = lines
            .next()
            .and_then(|l| l.strip_prefix("docker-path="))
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        let exit = lines
            .next()
            .and_then(|l| l.strip_prefix("docker-exit="))
            .and_then(|n| n.trim().parse::<i32>().ok())
            .unwrap_or(-1);
        let rest: Vec<&str> = lines.collect();
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
        let text = rest.join("\n").trim().to_string();
        return Probe {
            connect: Connect::Ok,
            docker_path,
            docker: Some(classify_docker(exit, &text)),
            login,
            limits: limits::recognise(stderr),
        };
    }
    let found = limits::recognise(stderr);
    // A connection sshd dropped at MaxStartups: its line says so better than the last one.
    let evidence = found
        .iter()
        .find_map(|&l| limits::evidence(stderr, l).filter(|_| l == Limit::MaxStartups));
    let last = evidence.unwrap_or_else(|| {
        stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with('@'))
            .unwrap_or("")
            .to_string()
    });
    let connect = if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED")
        || stderr.contains("HOST KEY HAS CHANGED")
    {
        Connect::HostKeyChanged(stderr.trim().to_string())
    } else if stderr.contains("Host key verification failed") {
        Connect::HostKeyUnknown(last)
    } else if stderr.contains("Permission denied (")
        || stderr.contains("Too many authentication failures")
    {
        Connect::AuthRefused(last)
    } else if code == Some(255) || code.is_none() {
        Connect::Unreachable(last)
    } else {
        Connect::Unreachable(format!(
            "the remote shell did not run the probe (exit {code:?}): {last}"
        ))
    };
    Probe {
        connect,
        docker_path: None,
        docker: None,
        login: None,
        limits: found,
    }
}

fn classify_docker(exit: i32, text: &str) -> RemoteDocker {
    let lower = text.to_ascii_lowercase();
    match exit {
        0 => RemoteDocker::Server(text.lines().last().unwrap_or("").trim().to_string()),
        127 => RemoteDocker::NotOnPath,
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
            "rdock-probe-1\ndocker-path=/usr/bin/docker\ndocker-exit=0\n28.2.2\n",
            "",
        );
        assert_eq!(ok.connect, Connect::Ok);
        assert_eq!(ok.docker, Some(RemoteDocker::Server("28.2.2".into())));
        assert_eq!(ok.docker_path.as_deref(), Some("/usr/bin/docker"));
        let missing = parse_probe(
            Some(0),
            "rdock-probe-1\ndocker-path=\ndocker-exit=127\n",
            "",
        );
        assert_eq!(missing.docker, Some(RemoteDocker::NotOnPath));
        let denied = parse_probe(
            Some(0),
            "rdock-probe-1\ndocker-path=/usr/bin/docker\ndocker-exit=1\npermission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock\n",
            "",
        );
        assert!(matches!(
            denied.docker,
            Some(RemoteDocker::PermissionDenied(_))
        ));
        let down = parse_probe(
            Some(0),
            "rdock-probe-1\ndocker-path=/usr/bin/docker\ndocker-exit=1\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n",
            "",
        );
        assert!(matches!(down.docker, Some(RemoteDocker::DaemonDown(_))));
    }

    /// A recorded output (tests/fixtures/recorded/README.md says how each was made).
    macro_rules! recorded {
        ($file:literal) => {
            include_str!(concat!("../../tests/fixtures/recorded/", $file))
        };
    }

    #[test]
    fn without_docker_on_path_the_login_shell_is_asked() {
        let bash = parse_probe(Some(0), recorded!("probe-login-bash.stdout"), "");
        assert_eq!(bash.docker, Some(RemoteDocker::NotOnPath));
        assert_eq!(
            bash.login,
            Some(Login {
                path: "/usr/local/bin:/usr/bin:/bin:/usr/games".into(),
                shell: "/bin/bash".into(),
                docker: Some("/opt/docker/bin/docker".into()),
            })
        );
        assert!(bash.login.as_ref().unwrap().path_has("/usr/local/bin"));
        let none = parse_probe(Some(0), recorded!("probe-login-none.stdout"), "");
        assert_eq!(none.login.as_ref().unwrap().shell, "/usr/bin/zsh");
        assert_eq!(none.login.unwrap().docker, None);
        // The probe of an older rdock said nothing of the login shell.
        let old = parse_probe(Some(0), recorded!("probe-no-docker.stdout"), "");
        assert_eq!(old.login, Some(Login::default()));
        // Found on PATH: nothing is asked of the login shell.
        let found = parse_probe(Some(0), recorded!("probe-server.stdout"), "");
        assert_eq!(found.login, None);
    }

    #[test]
    fn sshd_limits_are_read_from_ssh_s_stderr_even_when_the_probe_went_through() {
        let refused = recorded!("ssh-session-refused.stderr");
        let through = parse_probe(Some(0), recorded!("probe-server.stdout"), refused);
        assert_eq!(through.connect, Connect::Ok);
        assert_eq!(through.limits, [Limit::MaxSessions]);
        let dropped = parse_probe(Some(255), "", recorded!("ssh-kex-reset.stderr"));
        assert_eq!(
            dropped.connect,
            Connect::Unreachable(
                "kex_exchange_identification: read: Connection reset by peer".into()
            )
        );
        assert_eq!(dropped.limits, [Limit::MaxStartups]);
        let refused = parse_probe(
            Some(255),
            "",
            "ssh: connect to host h port 22: Connection refused\n",
        );
        assert_eq!(refused.limits, []);
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

    #[test]
    fn remote_scripts_are_fixed_strings_for_sh() {
        assert!(PROBE_SCRIPT.contains("-lc \"command -v docker\""));
        use crate::ssh::repair::*;
        for script in [
            PROBE_SCRIPT,
            INSTALL_KEY_SCRIPT,
            USERMOD_SCRIPT,
            USERMOD_NO_PASSWORD_SCRIPT,
            LINK_SCRIPT,
            LINK_NO_PASSWORD_SCRIPT,
            READ_RC_SCRIPT,
            WRITE_RC_SCRIPT,
        ] {
            assert!(script.starts_with("/bin/sh -c '") && script.ends_with('\''));
            // Exactly one pair of single quotes: nothing inside can end the sh -c argument early.
            assert_eq!(script.matches('\'').count(), 2, "{script}");
        }
    }
}
