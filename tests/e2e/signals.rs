//! Signals and hangs against the real sshd: SIGHUP ends setup as SIGTERM does and the next run
//! clears what SIGKILL left; a ProxyCommand that leaves a process behind holding rdock's pipe does
//! not keep rdock waiting.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Sandbox, ALL_YES};
use crate::signals::wait_at_most;

/// The fetch of a host key as `--verbose` shows it: the command whose temp folder a killed run
/// leaves behind.
fn is_host_key_fetch(line: &str) -> bool {
    line.starts_with("$ ") && line.contains(".rdock-hostkey-")
}

/// Run setup with --verbose and send `signal` to rdock as it starts fetching the host key;
/// returns its exit code and what it printed on stderr.
fn setup_signalled_at_host_key(sb: &Sandbox, signal: &str) -> (Option<i32>, String) {
    let mut cmd = sb.as_local(sb.shared.rdock.to_str().unwrap());
    cmd.args(["--verbose", "setup", &sb.dest()]).args(ALL_YES);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    let mut sent = false;
    for line in stderr.lines() {
        let line = line.unwrap_or_default();
        log.push_str(&line);
        log.push('\n');
        if is_host_key_fetch(&line) && !sent {
            let _ = Command::new("pkill")
                .args([signal, "-u", &sb.local.name, "-x", "rdock"])
                .status();
            sent = true;
        }
    }
    let status = child.wait().unwrap();
    assert!(sent, "setup never fetched a host key:\n{log}");
    (status.code(), log)
}

/// rdock's temp names under `dir` (not below: `~/.ssh` is where a host key fetch makes its folder).
fn temp_names(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".rdock-"))
        .collect()
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn sighup_ends_setup_as_sigterm_does_and_the_next_run_clears_what_sigkill_left() {
    let sb = Sandbox::start();
    let ssh = sb.local.home.join(".ssh");
    // A closed terminal: the same clean end as SIGTERM, exit 129, no temp folder left.
    let (code, log) = setup_signalled_at_host_key(&sb, "-HUP");
    assert_eq!(code, Some(129), "{log}");
    assert!(log.contains("interrupted by a hang-up"), "{log}");
    assert_eq!(temp_names(&ssh), Vec::<String>::new(), "{log}");
    // SIGKILL cannot be caught: the fetch's folder stays, until the next run takes the lock.
    let left = setup_killed_in_host_key_fetch(&sb);
    assert_eq!(
        temp_names(&ssh),
        vec![left],
        "staged: the killed run's folder"
    );
    let again = sb.setup_ok();
    assert_eq!(temp_names(&ssh), Vec::<String>::new(), "{again}");
}

/// Run setup and SIGKILL it (and the runuser around it) the moment its host key fetch folder
/// appears in ~/.ssh, long before ssh's key exchange ends; returns that folder's name.
fn setup_killed_in_host_key_fetch(sb: &Sandbox) -> String {
    use std::os::unix::process::CommandExt;
    let ssh = sb.local.home.join(".ssh");
    let mut cmd = sb.as_local(sb.shared.rdock.to_str().unwrap());
    cmd.args(["setup", &sb.dest()]).args(ALL_YES);
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let found = loop {
        if let Some(name) = temp_names(&ssh)
            .into_iter()
            .find(|n| n.starts_with(".rdock-hostkey-"))
        {
            break Some(name);
        }
        if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
            break None;
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    // SAFETY: kill(2) on the process group of our own child touches no memory.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.wait();
    found.expect("setup never made its host key fetch folder")
}

/// A ProxyCommand as wrappers that fork are (cloud IAP/SSM helpers, `nc`, `cloudflared`): it
/// leaves a process behind that keeps ssh's stderr, which is rdock's pipe, open after ssh exits.
/// The issue's own line, whose background `cat` lingers in most runs; `sleep` makes it every run.
const FORKING_PROXY: &str =
    "ProxyCommand bash -c 'exec 3<>/dev/tcp/%h/%p; { cat <&3; sleep 60; } & exec cat >&3'";

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_proxy_command_that_leaves_a_process_behind_does_not_keep_rdock_waiting() {
    let sb = Sandbox::start();
    let alias = "forking";
    sb.write_local(
        ".ssh/config",
        &sb.host_block(alias, sb.port, &format!("    {FORKING_PROXY}\n")),
    );
    let setup = sb.rdock_within(
        &crate::harness::setup_args(alias, &[]),
        Duration::from_secs(90),
    );
    assert!(!setup.timed_out, "setup hung: {setup}");
    assert_eq!(setup.code, Some(0), "{setup}\n{}", sb.sshd_log());
    // Each command that went through the proxy left a process holding its pipe; rdock stops
    // waiting for each 2 s after the command ended.
    let doctor = sb.rdock_within(&["doctor", alias], Duration::from_secs(60));
    assert!(!doctor.timed_out, "doctor hung: {doctor}");
    assert_eq!(doctor.code, Some(0), "{doctor}");
    // A signal ends it at once whatever it waits for.
    let mut cmd = sb.as_local(sb.shared.rdock.to_str().unwrap());
    // Not piped: the proxy's leftover would hold a pipe of ours too, as it holds rdock's.
    cmd.args(["doctor", alias])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let _ = Command::new("pkill")
        .args(["-TERM", "-u", &sb.local.name, "-x", "rdock"])
        .status();
    let ended = wait_at_most(child, Duration::from_secs(10));
    assert!(ended.in_time, "SIGTERM did not end doctor: {ended}");
    assert!(ended.code == Some(143) || ended.code == Some(0), "{ended}");
}
