//! connection, auth, remote-path, remote-daemon: one probe (ssh as the docker CLI runs it, the
//! probe script on the remote) serves all four; setup installs a refused key with consent. The
//! connection check reads sshd's limits (MaxSessions, MaxStartups) in ssh's stderr.

use rdock::ssh::probe::{INSTALL_KEY_SCRIPT, PROBE_SCRIPT};
use rdock::steps::plan::Options;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::exec::{quote, Reply};
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{no_consent, options, render, Rig, VERSION};

/// Every remote check, and what they need before them.
const REMOTE: [&str; 7] = [
    "destination",
    "key",
    "connection",
    "host-key",
    "auth",
    "remote-path",
    "remote-daemon",
];

/// u@127.0.0.1:2222 with the key, its host key known, and the probe answering so.
fn remote(probe: Reply) -> Rig {
    Rig::plain().key().known_host().probe(probe)
}

fn install_key() -> Options {
    Options {
        install_key: true,
        ..options()
    }
}

#[test]
fn one_probe_serves_every_remote_check_and_connects_as_docker_does() {
    let done = remote(Reply::ok(PROBE_SERVER)).run(Mode::Doctor, &options(), &REMOTE);
    let seen: Vec<String> = done.report.findings[2..].iter().map(render).collect();
    insta::assert_snapshot!(seen.join("\n"), @r"
    connection ok: sshd answers on 127.0.0.1:2222
    host-key ok: the host key of [127.0.0.1]:2222 is known (~/.ssh/known_hosts)
    auth ok: u@127.0.0.1:2222 accepts the key (BatchMode)
    remote-path ok: docker is on the non-interactive PATH of 127.0.0.1 (/usr/local/bin/docker)
    remote-daemon ok: docker daemon 20.10.24+dfsg1 answers u on 127.0.0.1
    ");
    let probe = done.the(&["ssh", "-o", "BatchMode=yes"]);
    // It logs in with the key ssh offers, and that key alone.
    let key = done.s.env.expand("~/.ssh/id_ed25519").display().to_string();
    assert_eq!(
        probe.argv,
        [
            "ssh",
            "-o",
            "BatchMode=yes",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "UpdateHostKeys=no",
            "-o",
            "AddKeysToAgent=no",
            "-o",
            "ConnectTimeout=10",
            "-T",
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            &key,
            "-l",
            "u",
            "-p",
            "2222",
            "--",
            "127.0.0.1",
            PROBE_SCRIPT
        ]
    );
}

#[test]
fn a_refused_or_silent_connection_fails_connection_and_stops_setup() {
    let done = remote(ssh_failed(CONNECTION_REFUSED)).run(Mode::Setup, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("connection"), @"
    connection fail: cannot reach 127.0.0.1:2222: ssh: connect to host 127.0.0.1 port 2222: Connection refused
    fix: nothing listens on port 2222 of 127.0.0.1: start sshd there, or give the port it listens on (u@127.0.0.1:PORT, or Port in ~/.ssh/config)
    ");
    assert!(done.report.stopped);
    assert_eq!(done.ids(), ["destination", "key", "connection"]);

    let done = remote(Reply::times_out()).run(Mode::Doctor, &options(), &REMOTE);
    let f = done.find("connection");
    assert!(
        f.message.starts_with("cannot reach 127.0.0.1:2222: no SSH answer from 127.0.0.1:2222 within 20 s (`ssh -o BatchMode=yes"),
        "{f:?}"
    );
    insta::assert_snapshot!(render(f), @r#"
    connection fail: cannot reach 127.0.0.1:2222: no SSH answer from 127.0.0.1:2222 within 20 s (`ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T -o IdentitiesOnly=yes -i [HOME]/.ssh/id_ed25519 -l u -p 2222 -- 127.0.0.1 '/bin/sh -c '\''IFS= read -r sock; if [ -n "$sock" ]; then DOCKER_HOST="unix://$sock"; export DOCKER_HOST; fi; echo rdock-probe-2-begin; echo "shell=$SHELL"; if p=$(command -v docker); then echo "docker-path=$p"; t=; if command -v timeout >/dev/null 2>&1; then t="timeout 8"; fi; out=$($t docker version --format "{{.Server.Version}}" 2>&1); rc=$?; s=; v=; if [ $rc -ne 0 ] && [ $rc -ne 124 ] && [ -z "$sock" ]; then r="${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/docker.sock"; if [ -S "$r" ] && v=$(DOCKER_HOST="unix://$r" $t docker version --format "{{.Server.Version}}" 2>/dev/null); then s=$r; else v=; fi; fi; echo "docker-exit=$rc"; echo "rdock-socket=$s"; echo "rdock-socket-version=$v"; printf "%s\n" "$out"; else echo docker-path=; echo docker-exit=127; echo "path=$PATH"; s=$(getent passwd "$(id -un)" 2>/dev/null | cut -d: -f7); [ -n "$s" ] || s=$SHELL; lp=; if [ -n "$s" ]; then t=; if command -v timeout >/dev/null 2>&1; then t="timeout 5"; fi; lp=$($t "$s" -lc "command -v docker" </dev/null 2>/dev/null | tail -n 1); case $lp in /*) [ -x "$lp" ] || lp=;; *) lp=;; esac; fi; echo "login-shell=$s"; echo "login-docker=$lp"; fi; echo rdock-probe-2-end'\'''` did not finish within 20 s and was stopped)
    fix: check that 127.0.0.1 is up and sshd listens on port 2222; this shows where it stops:
           ssh -v -p 2222 u@127.0.0.1
    "#);
    for id in ["host-key", "auth", "remote-path", "remote-daemon"] {
        assert_eq!(done.find(id).status, Status::Skip, "{id}");
    }
}

#[test]
fn a_refused_key_is_installed_by_setup_with_consent() {
    let rig = installs(remote(ssh_failed(KEY_REFUSED)), "rdock-key-added\n");

    let doctor = rig.run(Mode::Doctor, &options(), &REMOTE);
    let f = doctor.find("auth");
    insta::assert_snapshot!(render(f), @r"
    auth fail: u@127.0.0.1:2222 refused the key (u@127.0.0.1: Permission denied (publickey).)
    fix: ssh-copy-id -i ~/.ssh/id_ed25519.pub -p 2222 u@127.0.0.1   (or rerun rdock setup with --install-key)
    ");
    assert!(f.fixable);
    insta::assert_snapshot!(doctor.render("remote-path"), @"remote-path skip: skipped: auth did not pass");

    let dry = rig.run(Mode::DryRun, &install_key(), &REMOTE);
    assert_eq!(
        dry.would("auth"),
        format!(
            "would append the key to ~/.ssh/authorized_keys on u@127.0.0.1:2222 (one password login)\nwould run: ssh -o PubkeyAuthentication=no -o PreferredAuthentications=keyboard-interactive,password -o NumberOfPasswordPrompts=3 -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T -l u -p 2222 -- 127.0.0.1 {}",
            quote(INSTALL_KEY_SCRIPT)
        )
    );

    let declined = rig.run(Mode::Setup, &options(), &REMOTE);
    assert_eq!(declined.outcome("auth"), Some(&no_consent("--install-key")));
    assert!(declined.changes().is_empty() && declined.report.stopped);

    let done = rig.run(Mode::Setup, &install_key(), &REMOTE);
    let f = done.find("auth");
    insta::assert_snapshot!(render(f), @"auth ok: u@127.0.0.1:2222 accepts the key (BatchMode)");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "appended the key to ~/.ssh/authorized_keys on u@127.0.0.1:2222".into()
        ))
    );
    let ran = done.the(&["ssh", "-o", "PubkeyAuthentication=no"]);
    assert_eq!(ran.argv, install_argv());
    assert_eq!(ran.stdin, Some(format!("{}\n", key_line()).into_bytes()));
    assert!(ran.interactive, "ssh asks for the password on the terminal");
    // The probe ran again after the install, and the later checks read its answer.
    assert_eq!(
        done.ran()
            .iter()
            .filter(|c| c.contains("BatchMode=yes"))
            .count(),
        2
    );
    assert_eq!(done.find("remote-daemon").status, Status::Ok);
}

/// The password login that appends the key.
fn install_argv() -> Vec<String> {
    let options = "-o PubkeyAuthentication=no -o PreferredAuthentications=keyboard-interactive,password -o NumberOfPasswordPrompts=3 -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T -l u -p 2222 -- 127.0.0.1";
    std::iter::once("ssh")
        .chain(options.split(' '))
        .chain([INSTALL_KEY_SCRIPT])
        .map(str::to_string)
        .collect()
}

/// A rig whose probe is answered so, then (after the install) as by a server that takes the
/// key; the install script prints `stdout`.
fn installs(rig: Rig, stdout: &str) -> Rig {
    let install = install_argv();
    let argv: Vec<&str> = install.iter().map(String::as_str).collect();
    rig.probe(Reply::ok(PROBE_SERVER))
        .on(&argv, Reply::ok(stdout))
}

#[test]
fn a_key_already_in_authorized_keys_is_said_so() {
    let rig = installs(remote(ssh_failed(KEY_REFUSED)), "rdock-key-present\n");
    let done = rig.run(Mode::Setup, &install_key(), &REMOTE);
    assert_eq!(
        done.outcome("auth"),
        Some(&Outcome::Done(
            "the key was already in authorized_keys on u@127.0.0.1:2222".into()
        ))
    );
}

#[test]
fn docker_missing_from_the_remote_path_fails_and_skips_the_daemon() {
    let done = remote(Reply::ok(PROBE_NO_DOCKER)).run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("remote-path"), @r"
    remote-path fail: docker is not on the non-interactive PATH of u@127.0.0.1:2222 (exit 127)
    fix: install docker on 127.0.0.1, or put its directory on PATH for non-interactive shells (e.g. in ~/.bashrc above the interactive check); `ssh -p 2222 u@127.0.0.1 command -v docker` must print a path
    ");
    insta::assert_snapshot!(done.render("remote-daemon"), @"remote-daemon skip: skipped: remote-path did not pass");
}

#[test]
fn the_daemon_down_or_its_socket_denied_each_get_their_command() {
    let done = remote(Reply::ok(PROBE_DAEMON_DOWN)).run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("remote-daemon"), @r"
    remote-daemon fail: the docker daemon on 127.0.0.1 is not running (Cannot connect to the Docker daemon at unix:///tmp/rec-dockerd/none.sock. Is the docker daemon running?)
    fix: on 127.0.0.1: sudo systemctl start docker
    ");
    let done = remote(Reply::ok(PROBE_SOCKET_DENIED)).run(Mode::Setup, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("remote-daemon"), @r#"
    remote-daemon fail: u may not use the docker socket (permission denied while trying to connect to the Docker daemon socket at unix:///tmp/rec-dockerd/docker.sock: Get "http://%2Ftmp%2Frec-dockerd%2Fdocker.sock/v1.50/version": dial unix /tmp/rec-dockerd/docker.sock: connect: permission denied)
    fix: on 127.0.0.1: sudo usermod -aG docker u (then log in again)
    "#);
    assert!(done.report.stopped);
}

/// u@[::1]:2222 with the key, the probe answering so.
fn ipv6(probe: Reply) -> Rig {
    let rig = Rig::new(Platform::Linux).dest("u@[::1]:2222").key();
    let (g, bare) = (rig.at_home(SSH_G_IPV6), rig.at_home(SSH_G_IPV6_F_NONE));
    rig.on(
        &["ssh", "-G", "-l", "u", "-p", "2222", "--", "::1"],
        Reply::ok(g),
    )
    .on(
        &[
            "ssh", "-G", "-F", "none", "-l", "u", "-p", "2222", "--", "::1",
        ],
        Reply::ok(bare),
    )
    .probe(probe)
}

#[test]
fn an_ipv6_address_is_bare_in_the_ssh_commands_a_fix_names() {
    // ssh reads `u@[::1]` as the host name "[::1]" ("Could not resolve hostname [::1]"): on its
    // command line an IPv6 address goes bare. URLs and known_hosts put it in brackets.
    let done = ipv6(ssh_failed(CONNECTION_REFUSED_IPV6)).run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("connection"), @"
    connection fail: cannot reach [::1]:2222: ssh: connect to host ::1 port 2222: Connection refused
    fix: nothing listens on port 2222 of ::1: start sshd there, or give the port it listens on (u@[::1]:PORT, or Port in ~/.ssh/config)
    ");

    let rig = ipv6(ssh_failed(HOST_KEY_UNKNOWN)).unknown_hosts();
    let done = rig.run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("connection"), @"connection ok: sshd answers on [::1]:2222");
    insta::assert_snapshot!(done.render("host-key"), @r"
    host-key fail: the host key of [::1]:2222 is not in known_hosts
    fix: rdock setup u@[::1]:2222 shows its fingerprint and asks (without a terminal: --host-key SHA256:… or --accept-host-key), or connect once with `ssh -p 2222 u@::1` and check the fingerprint
    ");

    let known = |rig: Rig| {
        let file = rig.write(".ssh/known_hosts", KEYSCAN.replace("127.0.0.1", "::1"));
        let file = file.to_string_lossy().into_owned();
        let found = KEYGEN_F.replace("127.0.0.1", "::1");
        rig.on(
            &["ssh-keygen", "-F", "[::1]:2222", "-f", &file],
            Reply::ok(found),
        )
        .unknown_hosts()
    };
    let done = known(ipv6(ssh_failed(KEY_REFUSED))).run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("auth"), @r"
    auth fail: u@[::1]:2222 refused the key (u@127.0.0.1: Permission denied (publickey).)
    fix: ssh-copy-id -i ~/.ssh/id_ed25519.pub -p 2222 u@::1   (or rerun rdock setup with --install-key)
    ");
    let done = known(ipv6(Reply::ok(PROBE_NO_DOCKER))).run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("remote-path"), @r"
    remote-path fail: docker is not on the non-interactive PATH of u@[::1]:2222 (exit 127)
    fix: install docker on ::1, or put its directory on PATH for non-interactive shells (e.g. in ~/.bashrc above the interactive check); `ssh -p 2222 u@::1 command -v docker` must print a path
    ");
    assert_eq!(
        done.s.resolved.as_ref().unwrap().endpoint(),
        "ssh://u@[::1]:2222"
    );
}

#[test]
fn a_shell_startup_file_that_prints_fails_remote_path_with_its_fix() {
    let done = remote(Reply::ok(PROBE_CHATTY_BASHRC)).run(Mode::Setup, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("remote-path"), @r#"
    remote-path fail: your remote ~/.bashrc (or the file for the user's login shell, /bin/bash) prints to stdout ("hello"); that breaks docker's ssh transport
    fix: on 127.0.0.1: make the first line of ~/.bashrc `[[ $- == *i* ]] || return` (or `case $- in *i*) ;; *) return;; esac`)
    "#);
    assert!(done.report.stopped);
    // The connection itself was fine.
    assert_eq!(done.find("auth").status, Status::Ok);
}

#[test]
fn a_docker_that_hangs_on_the_remote_is_named_as_such() {
    let done = remote(Reply::ok(PROBE_HUNG_DOCKER)).run(Mode::Doctor, &options(), &REMOTE);
    assert_eq!(done.find("remote-path").status, Status::Ok);
    insta::assert_snapshot!(done.render("remote-daemon"), @r"
    remote-daemon fail: docker version on 127.0.0.1 did not answer within 8 s and was stopped: the docker daemon there hangs (the connection and the shell were fine)
    fix: on 127.0.0.1: sudo systemctl restart docker; `docker version` there must answer at once
    ");
}

#[test]
fn a_docker_that_hangs_where_the_remote_has_no_timeout_is_named_at_the_probe_s_bound() {
    // The report up to docker-path: docker started, and the probe was stopped at 20 s.
    let started: String = PROBE_HUNG_DOCKER.split_inclusive('\n').take(3).collect();
    let done = remote(Reply::times_out_after(started, "")).run(Mode::Doctor, &options(), &REMOTE);
    let f = done.find("remote-daemon");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .starts_with("docker version on 127.0.0.1 did not answer within 20 s"),
        "{f:?}"
    );
    assert_eq!(done.find("connection").status, Status::Ok);
}

#[test]
fn a_key_forced_to_dial_stdio_is_checked_through_the_context() {
    let rig = remote(Reply::ok(PROBE_DIAL_STDIO))
        .store(&[("box", "ssh://u@127.0.0.1:2222")], Some("box"))
        .on(&VERSION, Reply::ok("20.10.24+dfsg1\n"));
    let done = rig.run(Mode::Doctor, &options(), &REMOTE);
    let checks: Vec<String> = ["auth", "remote-path", "remote-daemon"]
        .iter()
        .map(|id| done.render(id))
        .collect();
    insta::assert_snapshot!(checks.join("\n"), @r"
    auth ok: u@127.0.0.1:2222 accepts the key (BatchMode)
    remote-path ok: the key runs the forced command `docker system dial-stdio` on 127.0.0.1 (what docker's ssh transport runs)
    remote-daemon ok: docker daemon 20.10.24+dfsg1 answers u on 127.0.0.1 (through docker --context box: the key runs `docker system dial-stdio` only)
    ");
    // No context yet: the daemon is left to verify.
    let done = remote(Reply::ok(PROBE_DIAL_STDIO)).run(Mode::Setup, &options(), &REMOTE);
    assert_eq!(done.find("remote-daemon").status, Status::Skip);
    assert!(!done.report.stopped);
    // A context of that name that leads elsewhere is not dialled (no `docker version` is
    // scripted here): setup points it here, and verify asks after.
    let done = remote(Reply::ok(PROBE_DIAL_STDIO))
        .store(&[("box", "ssh://u@10.0.0.9:2222")], Some("box"))
        .run(Mode::Setup, &options(), &REMOTE);
    assert_eq!(done.find("remote-daemon").status, Status::Skip);
}

#[test]
fn another_forced_command_fails_remote_path() {
    let done = remote(Reply::ok("")).run(Mode::Doctor, &options(), &REMOTE);
    let f = done.find("remote-path");
    assert_eq!(f.status, Status::Fail);
    assert!(f.message.contains("a forced command"), "{f:?}");
}

#[test]
fn a_silent_sshd_and_a_jump_host_that_does_not_answer_are_named() {
    let done = remote(ssh_failed(BANNER_TIMEOUT)).run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("connection"), @"
    connection fail: cannot reach 127.0.0.1:2222: the port accepted the connection, but no SSH banner came within 10 s (a hung or overloaded sshd, or not sshd): Connection to 127.0.0.1 port 2298 timed out
    fix: check that port 2222 of 127.0.0.1 is sshd's, not another service's, and give sshd's port if not; on 127.0.0.1, this shows what listens there:
           sudo ss -tlnp 'sport = :2222'
    ");
    let done = remote(ssh_failed(PROXYJUMP_REFUSED)).run(Mode::Doctor, &options(), &REMOTE);
    insta::assert_snapshot!(done.render("connection"), @"
    connection fail: cannot reach 127.0.0.1:2222: the jump host (ProxyJump or ProxyCommand) did not get through: ssh: connect to host 127.0.0.1 port 1: Connection refused
    fix: check that 127.0.0.1 is up and sshd listens on port 2222; this shows where it stops:
           ssh -v -p 2222 u@127.0.0.1
    ");
}

/// Each way of not reaching sshd gets the fix for its cause, from what ssh really printed.
#[test]
fn an_unreachable_host_gets_the_fix_for_its_cause() {
    let fix = |stderr: &str| {
        let done = remote(ssh_failed(stderr)).run(Mode::Doctor, &options(), &REMOTE);
        let f = done.find("connection");
        assert_eq!(f.status, Status::Fail, "{f:?}");
        // As a person reads it: wrapped, the command on a line of its own.
        anstream::adapter::strip_str(&rdock::render::finding(f, false)).to_string()
    };
    insta::assert_snapshot!(
        "unreachable_fixes",
        [
            NO_SUCH_NAME,
            CONNECTION_REFUSED,
            CONNECT_TIMED_OUT,
            BANNER_TIMEOUT
        ]
        .map(fix)
        .join("\n")
    );
}

#[test]
fn behind_a_proxy_jump_the_unreachable_fix_names_the_jump() {
    let rig = Rig::new(Platform::Linux)
        .keywords_host("work")
        .probe(ssh_failed(CONNECTION_REFUSED));
    let done = rig.run(Mode::Doctor, &options(), &["destination", "connection"]);
    insta::assert_snapshot!(done.render("connection"), @"
    connection fail: cannot reach 10.0.0.7:2200: ssh: connect to host 127.0.0.1 port 2222: Connection refused
    fix: check that ProxyJump jump@bastion:2022 (from ~/.ssh/config) reaches 10.0.0.7:2200; this shows where it stops:
           ssh -v -p 2200 alice@work
    ");
}

#[test]
fn sshd_s_limits_get_their_sshd_config_fix() {
    let kinds = ["destination", "connection"];
    let refused = Rig::plain().probe(Reply::exit(Some(0), PROBE_SERVER, SESSION_REFUSED));
    let done = refused.run(Mode::Doctor, &options(), &kinds);
    insta::assert_snapshot!(done.render("connection"), @r"
    connection warn: 127.0.0.1:2222: sshd refused another session on the shared connection (MaxSessions, 10 by default), so ssh opened a connection of its own
    fix: on 127.0.0.1: set `MaxSessions 30` in /etc/ssh/sshd_config, then reload sshd (`sudo systemctl reload ssh`; the unit is `sshd` on Red Hat-like systems)
    ");

    // A connection reset, or closed, before the key exchange: ssh's own words end the message.
    let mut seen = Vec::new();
    for stderr in [KEX_RESET, KEX_CLOSED] {
        let rig = Rig::plain().probe(ssh_failed(stderr));
        let done = rig.run(Mode::Doctor, &options(), &kinds);
        seen.push(done.render("connection"));
    }
    insta::assert_snapshot!(seen.join("\n"), @r"
    connection fail: 127.0.0.1:2222: the connection was closed before the key exchange, as sshd does past MaxStartups (10 connections logging in at once, by default); a port forwarder or proxy with nothing behind it closes it the same way (kex_exchange_identification: read: Connection reset by peer)
    fix: on 127.0.0.1: when sshd's log (`sudo journalctl -u ssh`, `-u sshd` on Red Hat-like systems, or /var/log/auth.log, /var/log/secure) has `drop connection … past MaxStartups` (sshd before 8.0 logs it only at LogLevel VERBOSE), set `MaxStartups 30:30:100` in /etc/ssh/sshd_config, then reload sshd (`sudo systemctl reload ssh`; the unit is `sshd` on Red Hat-like systems); else check what answers on that port
    connection fail: 127.0.0.1:2222: the connection was closed before the key exchange, as sshd does past MaxStartups (10 connections logging in at once, by default); a port forwarder or proxy with nothing behind it closes it the same way (kex_exchange_identification: Connection closed by remote host)
    fix: on 127.0.0.1: when sshd's log (`sudo journalctl -u ssh`, `-u sshd` on Red Hat-like systems, or /var/log/auth.log, /var/log/secure) has `drop connection … past MaxStartups` (sshd before 8.0 logs it only at LogLevel VERBOSE), set `MaxStartups 30:30:100` in /etc/ssh/sshd_config, then reload sshd (`sudo systemctl reload ssh`; the unit is `sshd` on Red Hat-like systems); else check what answers on that port
    ");
}

/// What ssh 9.2 prints on stderr with `-o LogLevel=VERBOSE` once the server accepted the key.
const AUTHENTICATED: &str =
    "Authenticated to 127.0.0.1 ([127.0.0.1]:2222) using \"publickey\".\r\n";

/// The login check: `ssh -N` (no remote shell) with ssh's verbose line, on a connection of its own.
const LOGIN_CHECK: [&str; 5] = ["ssh", "-o", "BatchMode=yes", "-o", "LogLevel=VERBOSE"];

#[test]
fn a_login_whose_shell_never_runs_the_probe_is_told_from_a_silent_server() {
    // The probe stops at its bound with nothing printed; a login that starts no shell gets in.
    let hung = || {
        remote(Reply::times_out())
            .on_prefix(&LOGIN_CHECK, Reply::times_out_after("", AUTHENTICATED))
    };
    let done = hung().run(Mode::Doctor, &options(), &REMOTE);
    assert_eq!(done.find("connection").status, Status::Ok);
    assert_eq!(done.find("auth").status, Status::Ok);
    insta::assert_snapshot!(done.render("remote-path"), @r#"
    remote-path fail: u@127.0.0.1:2222 logs in (ssh -N: Authenticated to 127.0.0.1 ([127.0.0.1]:2222) using "publickey".), but the remote login shell did not run a command within 20 s: most likely a startup file it reads for every command waits for input or runs something slow (~/.bashrc for bash, ~/.zshenv for zsh, ~/.config/fish/config.fish for fish; less often ~/.ssh/rc, a slow PAM session or a forced command); docker's ssh transport hangs the same way
    fix: on 127.0.0.1: make that file return at once when the shell is not interactive: for bash make the first line of ~/.bashrc `case $- in *i*) ;; *) return;; esac`; for zsh make the first line of ~/.zshenv `[[ -o interactive ]] || return`; for fish make the first line of ~/.config/fish/config.fish `status is-interactive; or exit`; then `ssh -p 2222 u@127.0.0.1 true` must return at once
    "#);
    assert_eq!(done.find("remote-daemon").status, Status::Skip);
    // The check logs in as the probe does, runs nothing there, on a connection of its own, and
    // is bounded.
    let check = done.the(&LOGIN_CHECK);
    let key = done.s.env.expand("~/.ssh/id_ed25519").display().to_string();
    assert_eq!(
        check.display(),
        format!("ssh -o BatchMode=yes -o LogLevel=VERBOSE -o ControlMaster=no -o ControlPath=none -o ClearAllForwardings=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T -o IdentitiesOnly=yes -i {} -N -l u -p 2222 -- 127.0.0.1", quote(&key))
    );
    assert_eq!(check.timeout, std::time::Duration::from_secs(10));
    assert_eq!(check.stdin, None);
    // Setup stops there, with the same finding.
    let done = hung().run(Mode::Setup, &options(), &REMOTE);
    assert!(done.report.stopped);
    insta::assert_snapshot!(done.render("remote-path"), @r#"
    remote-path fail: u@127.0.0.1:2222 logs in (ssh -N: Authenticated to 127.0.0.1 ([127.0.0.1]:2222) using "publickey".), but the remote login shell did not run a command within 20 s: most likely a startup file it reads for every command waits for input or runs something slow (~/.bashrc for bash, ~/.zshenv for zsh, ~/.config/fish/config.fish for fish; less often ~/.ssh/rc, a slow PAM session or a forced command); docker's ssh transport hangs the same way
    fix: on 127.0.0.1: make that file return at once when the shell is not interactive: for bash make the first line of ~/.bashrc `case $- in *i*) ;; *) return;; esac`; for zsh make the first line of ~/.zshenv `[[ -o interactive ]] || return`; for fish make the first line of ~/.config/fish/config.fish `status is-interactive; or exit`; then `ssh -p 2222 u@127.0.0.1 true` must return at once
    "#);

    // The login check refused too, or silent: the probe's own words stay.
    for check in [ssh_failed(KEY_REFUSED), Reply::times_out()] {
        let done = remote(Reply::times_out())
            .on_prefix(&LOGIN_CHECK, check)
            .run(Mode::Doctor, &options(), &REMOTE);
        let f = done.find("connection");
        assert!(
            f.message.starts_with(
                "cannot reach 127.0.0.1:2222: no SSH answer from 127.0.0.1:2222 within 20 s"
            ),
            "{f:?}"
        );
    }
    // A jump host's ssh may print its own line: only the destination's counts.
    let jump = "Authenticated to bastion ([10.0.0.1]:22) using \"publickey\".\r\n";
    let done = remote(Reply::times_out())
        .on_prefix(&LOGIN_CHECK, Reply::times_out_after("", jump))
        .run(Mode::Doctor, &options(), &REMOTE);
    assert_eq!(done.find("connection").status, Status::Fail);
}

/// `box` shares one connection (ControlMaster auto): the probe through it gets no answer, while
/// `true` on a connection of its own runs at once. The master is stale, not the startup file.
#[test]
fn a_master_that_no_longer_answers_is_told_from_a_hung_shell() {
    let rig = Rig::alias().key().probe(Reply::times_out()).on_prefix(
        &["ssh", "-o", "BatchMode=yes", "-o", "ControlMaster=no"],
        Reply::ok(""),
    );
    rig.write(".ssh/known_hosts", KEYSCAN);
    let known = rig.arg(".ssh/known_hosts");
    let rig = rig
        .on(
            &["ssh-keygen", "-F", "[10.0.0.5]:2222", "-f", &known],
            Reply::ok(KEYGEN_F),
        )
        .unknown_hosts();
    let o = Options {
        identity: Some(rig.path(".ssh/id_ed25519")),
        ..options()
    };
    let done = rig.run(Mode::Doctor, &o, &REMOTE);
    insta::assert_snapshot!(done.render("connection"), @r"
    connection fail: 10.0.0.5:2222: rdock's probe got no answer within 20 s through the shared connection (ControlMaster), while `true` on a connection of its own ran at once
    fix: end the stale master: ssh -O exit -p 2222 alice@box; the next ssh makes a new one (ServerAliveInterval 15 in ~/.ssh/config makes a master notice a dead network)
    ");
    // The check ran on a connection of its own, and no login check followed.
    assert!(
        done.ran().iter().all(|c| !c.contains("LogLevel=VERBOSE")),
        "{:#?}",
        done.ran()
    );
}
