//! Faults, end to end: a changed host key, two setups at once, a server that never
//! speaks SSH, a dead port, a ProxyJump host that does not answer, no terminal
//! with stdin left open, and files rdock must not damage. Each is injected for real in
//! the sandbox (tests/harness/); rdock must stop with a sentence that names the fix, within its
//! time bounds, and leave every byte it was not asked to change.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{run_bounded, setup_args, Run, Sandbox};

pub(super) fn no_panic(run: &Run) {
    assert!(!run.all().contains("panicked"), "{run}");
}

/// How many host keys of the sandbox's sshd a known_hosts file holds, hashed or not.
fn known_entries(sb: &Sandbox, file: &Path) -> usize {
    let name = format!("[127.0.0.1]:{}", sb.port);
    let found = sb.local("ssh-keygen", &["-F", &name, "-f", file.to_str().unwrap()]);
    found
        .stdout
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .count()
}

/// The docker context names the local user has.
fn context_names(sb: &Sandbox) -> Vec<String> {
    let ls = sb.local("docker", &["context", "ls", "--format", "{{.Name}}"]);
    assert_eq!(ls.code, Some(0), "{ls}");
    ls.stdout.lines().map(str::to_string).collect()
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_changed_host_key_is_refused_by_setup_and_doctor_even_with_accept_host_key() {
    let mut sb = Sandbox::start();
    sb.setup_ok();
    let known_hosts = sb.local.home.join(".ssh/known_hosts");
    let saved = fs::read(&known_hosts).unwrap();
    let ssh_before = sb.snapshot(".ssh");
    let docker_before = sb.snapshot(".docker");
    let authorized = sb.authorized_keys();
    sb.regenerate_host_key();

    let dest = sb.dest();
    let context = sb.context();
    let runs: Vec<Vec<&str>> = vec![
        vec!["setup", &dest],
        vec!["setup", &dest, "--accept-host-key"],
        setup_args(&dest, &[]),
        setup_args(&dest, &["--force"]),
        setup_args(&dest, &["--dry-run"]),
        vec!["doctor", &dest],
        vec!["doctor", &context],
        vec!["doctor"],
        vec!["doctor", "--all"],
    ];
    for args in runs {
        let run = sb.rdock(&args);
        no_panic(&run);
        // A dry run only shows; it fails only for invalid input.
        let code = if args.contains(&"--dry-run") { 0 } else { 1 };
        assert_eq!(run.code, Some(code), "{args:?}: {run}");
        let out = run.all();
        assert!(
            out.contains(&format!(
                "the host key of [127.0.0.1]:{} CHANGED since it was saved in ~/.ssh/known_hosts",
                sb.port
            )) || (args == ["doctor", "--all"] && out.contains("CHANGED")),
            "{args:?}: rdock's explanation is missing: {run}"
        );
        if args != ["doctor", "--all"] {
            assert!(
                out.contains("REMOTE HOST IDENTIFICATION HAS CHANGED"),
                "{args:?}: OpenSSH's warning is missing: {run}"
            );
            assert!(
                out.contains("ssh-keygen -R"),
                "{args:?}: no fix named: {run}"
            );
        }
        assert!(
            !out.contains("✓ host-key"),
            "{args:?}: a changed key passed: {run}"
        );
        assert_eq!(
            fs::read(&known_hosts).unwrap(),
            saved,
            "{args:?} changed known_hosts: {run}"
        );
        assert_eq!(sb.snapshot(".ssh"), ssh_before, "{args:?}: {run}");
        assert_eq!(sb.snapshot(".docker"), docker_before, "{args:?}: {run}");
        assert_eq!(sb.authorized_keys(), authorized, "{args:?}: {run}");
    }
    // --json says it too, in the host-key check, and nothing else after it passes.
    let run = sb.rdock(&["doctor", "--json", &dest]);
    assert_eq!(run.code, Some(1), "{run}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let check = |id: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no {id} in {v:#}"))
    };
    assert_eq!(check("host-key")["status"], "fail", "{v:#}");
    assert!(check("host-key")["message"]
        .as_str()
        .unwrap()
        .contains("CHANGED"));
    assert_ne!(check("auth")["status"], "ok", "{v:#}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn two_setups_at_once_leave_every_file_whole() {
    let sb = Sandbox::start();
    let user_dir = sb.local.home.join(".config/Code/User");
    let made = sb.local("mkdir", &["-p", user_dir.to_str().unwrap()]);
    assert_eq!(made.code, Some(0), "{made}");
    let dest = sb.dest();
    let args = setup_args(&dest, &[]);
    let (a, b) = thread::scope(|scope| {
        let first = scope.spawn(|| sb.rdock(&args));
        let second = scope.spawn(|| sb.rdock(&args));
        (first.join().unwrap(), second.join().unwrap())
    });
    for run in [&a, &b] {
        no_panic(run);
        assert_eq!(
            run.code,
            Some(0),
            "a concurrent setup failed:\n{run}\n--- the other\n{}",
            if std::ptr::eq(run, &a) { &b } else { &a }
        );
    }
    // One of them did the work; the other waited for the lock, then found nothing to do.
    let idle = [&a, &b]
        .iter()
        .filter(|r| r.stdout.contains("nothing changed"))
        .count();
    assert_eq!(idle, 1, "first:\n{a}\nsecond:\n{b}");
    assert!(
        a.all().contains("waiting for another rdock")
            || b.all().contains("waiting for another rdock"),
        "first:\n{a}\nsecond:\n{b}"
    );

    // known_hosts: the server's key once (ssh-keygen -F reads hashed names too), every line whole.
    let known_hosts = sb.local.home.join(".ssh/known_hosts");
    let known = fs::read_to_string(&known_hosts).unwrap();
    assert_eq!(known_entries(&sb, &known_hosts), 1, "{known}");
    let lines: Vec<&str> = known.lines().collect();
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), lines.len(), "a duplicated line:\n{known}");
    assert!(known.ends_with('\n'), "{known:?}");
    for line in &lines {
        assert_eq!(line.split_whitespace().count(), 3, "a torn line: {line:?}");
    }
    // authorized_keys: the key once.
    let public = fs::read_to_string(sb.local.home.join(".ssh/id_ed25519.pub")).unwrap();
    let blob = public.split_whitespace().nth(1).unwrap();
    assert_eq!(
        sb.authorized_keys().matches(blob).count(),
        1,
        "{}",
        sb.authorized_keys()
    );
    // The context once, and the key pair is one pair.
    let names = context_names(&sb);
    assert_eq!(
        names.iter().filter(|n| **n == sb.context()).count(),
        1,
        "{names:?}"
    );
    let key = sb.local.home.join(".ssh/id_ed25519");
    let derived = sb.local("ssh-keygen", &["-y", "-f", key.to_str().unwrap()]);
    let derived = derived.stdout.split_whitespace().nth(1);
    assert_eq!(derived, Some(blob));
    // settings.json: valid, the key once.
    let settings = fs::read_to_string(user_dir.join("settings.json")).unwrap();
    assert_eq!(
        settings, "{\n    \"docker.explorerRefreshInterval\": 3000\n}\n",
        "{settings:?}"
    );
    // ~/.ssh/config, when setup wrote one: each line it adds, once.
    if let Ok(config) = fs::read_to_string(sb.local.home.join(".ssh/config")) {
        let mut lines: Vec<&str> = config.lines().filter(|l| !l.trim().is_empty()).collect();
        let all = lines.len();
        lines.sort();
        lines.dedup();
        assert_eq!(lines.len(), all, "a line twice in ~/.ssh/config:\n{config}");
    }
    // No temporary file left anywhere in the home.
    let leftovers: Vec<String> = sb
        .snapshot_home()
        .into_keys()
        .filter(|p| p.contains(".rdock-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // And the result is healthy.
    let doctor = sb.rdock(&["doctor"]);
    assert_eq!(doctor.code, Some(0), "{doctor}");
}

/// A TCP listener that accepts connections and never says a word, until `stop` or 90 s.
struct SilentServer {
    port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<usize>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(90);
            let mut held = Vec::new();
            let mut accepted = 0;
            while !flag.load(Ordering::SeqCst) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        accepted += 1;
                        held.push(stream);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        thread::sleep(Duration::from_millis(20))
                    }
                    Err(_) => break,
                }
            }
            accepted
        });
        SilentServer {
            port,
            stop,
            thread: Some(thread),
        }
    }

    /// Stop it; how many connections it accepted.
    fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// How long rdock may take to give up on a host (remote::PROBE_TIMEOUT, the bound of the probe).
const BOUND: Duration = Duration::from_secs(20);

/// A run against an address rdock cannot reach: no panic, exit 1 (a dry run only shows, so 0),
/// within [`BOUND`], and "cannot reach ADDRESS" on stdout.
fn failed_in_time(run: &Run, args: &[&str], address: &str) {
    eprintln!("{args:?}: exit {:?} after {:?}", run.code, run.elapsed);
    no_panic(run);
    let code = if args.contains(&"--dry-run") { 0 } else { 1 };
    assert_eq!(run.code, Some(code), "{args:?}: {run}");
    assert!(
        run.elapsed < BOUND,
        "{args:?} took {:?}: {run}",
        run.elapsed
    );
    assert!(
        run.stdout.contains(&format!("cannot reach {address}")),
        "{args:?}: {run}"
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_server_that_never_speaks_ssh_fails_within_the_bound() {
    let sb = Sandbox::start();
    let server = SilentServer::start();
    let dest = format!("{}@127.0.0.1:{}", sb.remote.name, server.port);
    // Both at once: each waits on the silent server on its own.
    let runs = thread::scope(|scope| {
        let jobs: Vec<_> = [setup_args(&dest, &[]), vec!["doctor", &dest]]
            .into_iter()
            .map(|args| scope.spawn(|| (sb.rdock(&args), args)))
            .collect();
        jobs.into_iter()
            .map(|j| j.join().unwrap())
            .collect::<Vec<_>>()
    });
    for (run, args) in runs {
        failed_in_time(&run, &args, &format!("127.0.0.1:{}", server.port));
        // Named as what it is: the port answers, sshd does not.
        assert!(
            run.stdout
                .contains("the port accepted the connection, but no SSH banner came within 10 s"),
            "{args:?}: {run}"
        );
        assert!(
            run.stdout
                .contains(&format!("sudo ss -tlnp 'sport = :{}'", server.port)),
            "{args:?}: no fix: {run}"
        );
    }
    let suffix = format!("-{}", server.port);
    assert!(server.finish() >= 2, "rdock never connected");
    assert_eq!(sb.authorized_keys(), "");
    assert!(!context_names(&sb).iter().any(|n| n.ends_with(&suffix)));
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn an_unreachable_port_fails_fast_naming_host_and_port() {
    let sb = Sandbox::start();
    let dest = format!("{}@127.0.0.1:1", sb.remote.name);
    for args in [
        setup_args(&dest, &[]),
        vec!["doctor", &dest],
        vec!["doctor", "--json", &dest],
    ] {
        let run = sb.rdock(&args);
        failed_in_time(&run, &args, "127.0.0.1:1");
        assert!(run.stdout.contains("port 1"), "{args:?}: {run}");
    }
    assert!(!context_names(&sb).iter().any(|n| n == "127.0.0.1-1"));
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_jump_host_that_does_not_answer_is_named_as_the_jump_host() {
    let sb = Sandbox::start();
    // The destination is reachable; the ProxyJump host in front of it is not.
    let config = format!(
        "Host behind-jump\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  ProxyJump nobody@127.0.0.1:1\n",
        sb.port, sb.remote.name
    );
    let made = sb.local(
        "sh",
        &[
            "-c",
            "mkdir -m 700 -p ~/.ssh && printf '%s' \"$0\" > ~/.ssh/config",
            &config,
        ],
    );
    assert_eq!(made.code, Some(0), "{made}");
    let run = sb.rdock(&["doctor", "behind-jump"]);
    no_panic(&run);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains(
            "the jump host (ProxyJump or ProxyCommand) did not get through: ssh: connect to host 127.0.0.1 port 1: Connection refused"
        ),
        "{run}"
    );
    assert!(run.elapsed < BOUND, "took {:?}: {run}", run.elapsed);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn without_a_terminal_or_yes_nothing_waits_even_with_stdin_open() {
    let sb = Sandbox::start();
    let dest = sb.dest();
    // stdin is a pipe that stays open and silent: a prompt that read it would hang.
    let open_stdin = |args: &[&str]| {
        let mut cmd = sb.as_local(sb.shared.rdock.to_str().unwrap());
        cmd.args(args).stdin(Stdio::piped());
        run_bounded(cmd, Duration::from_secs(60))
    };
    for (args, flag) in [
        (vec!["setup", dest.as_str()], "--no-passphrase"),
        (vec!["setup", &dest, "--no-passphrase"], "--accept-host-key"),
        (
            vec!["setup", &dest, "--no-passphrase", "--accept-host-key"],
            "--install-key",
        ),
    ] {
        let run = open_stdin(&args);
        no_panic(&run);
        // A dry run only shows; it fails only for invalid input.
        let code = if args.contains(&"--dry-run") { 0 } else { 1 };
        assert_eq!(run.code, Some(code), "{args:?}: {run}");
        assert!(run.stdout.contains(flag), "{args:?}: {run}");
        assert!(
            run.elapsed < Duration::from_secs(30),
            "{args:?} took {:?}",
            run.elapsed
        );
    }
    assert_eq!(sb.authorized_keys(), "");
    let run = open_stdin(&["doctor", &dest]);
    no_panic(&run);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.elapsed < Duration::from_secs(30), "{run}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn malformed_files_rdock_meets_keep_every_byte() {
    let sb = Sandbox::start();
    let ssh = sb.local.home.join(".ssh");
    let user_dir = sb.local.home.join(".config/Code/User");
    let made = sb.local(
        "mkdir",
        &[
            "-p",
            "-m",
            "700",
            ssh.to_str().unwrap(),
            user_dir.to_str().unwrap(),
        ],
    );
    assert_eq!(made.code, Some(0), "{made}");
    // known_hosts with binary junk and no final line break, group-readable: rdock appends its
    // line after a line break and keeps everything before it, mode included.
    let mut junk: Vec<u8> = b"# mine\n|1|notreallyhashed= ssh-ed25519 AAAA\n".to_vec();
    junk.extend((0u8..=255).rev());
    junk.extend(b"\xff\xfe\x00tail without newline");
    let known_hosts = ssh.join("known_hosts");
    // settings.json that is not UTF-8.
    let settings = user_dir.join("settings.json");
    let binary: Vec<u8> = b"{\"a\": \"\xff\xfe\"}\n".to_vec();
    for (path, bytes, mode) in [(&known_hosts, &junk, 0o640), (&settings, &binary, 0o600)] {
        fs::write(path, bytes).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        let chown = std::process::Command::new("chown")
            .arg(&sb.local.name)
            .arg(path)
            .status()
            .unwrap();
        assert!(chown.success());
    }
    let run = sb.rdock(&setup_args(&sb.dest(), &[]));
    no_panic(&run);
    // Everything but the editor is set up; the editor step fails and says where.
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("✓ context"), "{run}");
    let vscode_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("✗ vscode"))
        .unwrap_or_else(|| panic!("no failed vscode step: {run}"));
    assert!(
        vscode_line.contains("UTF-8") && vscode_line.contains("line 1"),
        "{vscode_line}"
    );
    assert_eq!(fs::read(&settings).unwrap(), binary, "{run}");
    let after = fs::read(&known_hosts).unwrap();
    assert!(after.starts_with(&junk), "known_hosts lost bytes: {run}");
    let added = String::from_utf8_lossy(&after[junk.len()..]).into_owned();
    assert!(
        added.starts_with('\n') && added.ends_with('\n') && added.contains(" ssh-ed25519 "),
        "{added:?}"
    );
    assert_eq!(added.trim().lines().count(), 1, "{added:?}");
    assert_eq!(known_entries(&sb, &known_hosts), 1);
    assert_eq!(
        fs::metadata(&known_hosts).unwrap().permissions().mode() & 0o777,
        0o640
    );
    // Nothing else under .ssh was made but the key pair (and ssh_config, when setup writes one).
    let files: BTreeMap<String, _> = sb.snapshot(".ssh");
    for name in files.keys() {
        assert!(
            [
                ".ssh",
                ".ssh/known_hosts",
                ".ssh/id_ed25519",
                ".ssh/id_ed25519.pub",
                ".ssh/config"
            ]
            .contains(&name.as_str()),
            "unexpected {name}"
        );
    }
}
