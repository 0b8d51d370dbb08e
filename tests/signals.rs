//! Hangs and ignored signals: a signal ends every wait at once (exit 128 + the signal, no result
//! claimed that was not reached), the lock is never opened through a FIFO, a killed run's temp
//! names are cleared by the next run that holds the lock, and a ProxyCommand that leaves a
//! process behind holding rdock's pipe does not keep rdock waiting.
//!
//! These need no sshd: rdock takes the lock (under a throwaway HOME) before it runs anything. The
//! ProxyCommand and SIGHUP/SIGKILL tests run against the real sshd: tests/e2e/signals.rs.

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where rdock keeps its lock under `home` (dirs::state_dir, or the cache dir where there is none).
fn lock_file(home: &Path) -> PathBuf {
    let dir = if cfg!(target_os = "macos") {
        home.join("Library/Caches/rdock")
    } else {
        home.join(".local/state/rdock")
    };
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    dir.join("lock")
}

/// `rdock setup` under `home` with no tools on PATH: it takes the lock, then stops at the tools
/// step, so it runs no command at all.
fn setup_in(home: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_rdock"))
        .args(["setup", "u@example.invalid", "--yes", "--no-passphrase"])
        .env_clear()
        .env("PATH", home)
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// How a child ended: exit code (None: a signal killed it), stdout, stderr, and whether it had
/// ended by `limit` (after which it is killed).
pub(crate) struct Ended {
    pub(crate) code: Option<i32>,
    stdout: String,
    stderr: String,
    pub(crate) in_time: bool,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} (in time: {})\n--- stdout\n{}--- stderr\n{}",
            self.code, self.in_time, self.stdout, self.stderr
        )
    }
}

pub(crate) fn wait_at_most(mut child: Child, limit: Duration) -> Ended {
    let start = Instant::now();
    let mut in_time = true;
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            in_time = false;
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = child.wait().unwrap();
    let text = |pipe: Option<&mut dyn Read>| {
        let mut s = String::new();
        if let Some(p) = pipe {
            let _ = p.read_to_string(&mut s);
        }
        s
    };
    Ended {
        code: status.code(),
        stdout: text(child.stdout.as_mut().map(|p| p as &mut dyn Read)),
        stderr: text(child.stderr.as_mut().map(|p| p as &mut dyn Read)),
        in_time,
    }
}

fn send(child: &Child, signal: i32) {
    // SAFETY: kill(2) on our own child's pid touches no memory.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
}

/// A leftover as a run killed while it fetched a host key leaves it, and the user's own files
/// that look alike; returns the leftover.
fn plant_leftovers(home: &Path) -> PathBuf {
    let ssh = home.join(".ssh");
    fs::create_dir_all(&ssh).unwrap();
    let leftover = ssh.join(".rdock-hostkey-Ab3dE9");
    fs::create_dir(&leftover).unwrap();
    fs::write(
        leftover.join("known_hosts"),
        "[127.0.0.1]:2222 ssh-ed25519 AAAA\n",
    )
    .unwrap();
    for mine in [".rdock-notes", "config", ".rdock-hostkey-mine"] {
        fs::write(ssh.join(mine), "mine\n").unwrap();
    }
    leftover
}

fn assert_users_files_kept(home: &Path) {
    for mine in [".rdock-notes", "config", ".rdock-hostkey-mine"] {
        assert_eq!(
            fs::read_to_string(home.join(".ssh").join(mine)).unwrap(),
            "mine\n",
            "{mine}"
        );
    }
}

#[test]
fn a_signal_ends_the_wait_for_the_lock_at_once_and_claims_nothing() {
    for (signal, code) in [
        (libc::SIGINT, 130),
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
    ] {
        let home = tempfile::tempdir().unwrap();
        let leftover = plant_leftovers(home.path());
        // Another rdock holds the lock.
        let held = fs::File::create(lock_file(home.path())).unwrap();
        held.lock().unwrap();
        let mut child = setup_in(home.path());
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut first = String::new();
        stderr.read_line(&mut first).unwrap();
        assert!(first.starts_with("waiting for another rdock"), "{first}");
        let sent = Instant::now();
        send(&child, signal);
        // Today's rdock waits for the lock whatever comes: free it after a while, so that the
        // test ends and shows what it then claims.
        let waited = wait_at_most_holding(&mut child, Duration::from_secs(3));
        drop(held);
        let mut ended = wait_at_most(child, Duration::from_secs(20));
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        ended.stderr = format!("{first}{rest}");
        assert!(
            waited.is_some(),
            "signal {signal}: still waiting for the lock {:?} after it: {ended}",
            sent.elapsed()
        );
        assert_eq!(ended.code, Some(code), "signal {signal}: {ended}");
        // No setup summary: it reached nothing.
        assert_eq!(ended.stdout, "", "signal {signal}: {ended}");
        assert!(ended.stderr.contains("rdock: interrupted by"), "{ended}");
        // It never held the lock, so it cleared nothing: the leftover may be a live run's.
        assert!(leftover.join("known_hosts").is_file(), "signal {signal}");
        assert_users_files_kept(home.path());
    }
}

/// Wait up to `limit` for the child to end on its own; its exit status, if it did.
fn wait_at_most_holding(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn a_lock_path_that_is_not_a_regular_file_is_refused_at_once() {
    let home = tempfile::tempdir().unwrap();
    let lock = lock_file(home.path());
    let c = std::ffi::CString::new(lock.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let child = setup_in(home.path());
    // Today's rdock blocks in open(2) for good, deaf to signals too: after 5 s, SIGTERM, then
    // the test kills it.
    let start = Instant::now();
    let mut child = child;
    let on_its_own = wait_at_most_holding(&mut child, Duration::from_secs(5));
    if on_its_own.is_none() {
        send(&child, libc::SIGTERM);
    }
    let ended = wait_at_most(child, Duration::from_secs(3));
    assert!(
        on_its_own.is_some(),
        "still opening the FIFO after {:?}: {ended}",
        start.elapsed()
    );
    assert_eq!(ended.code, Some(1), "{ended}");
    assert!(
        ended
            .stderr
            .contains("is not a private regular file of yours"),
        "{ended}"
    );
    assert_eq!(ended.stdout, "", "{ended}");
    // Left as it was.
    assert!(fs::symlink_metadata(&lock).unwrap().file_type().is_fifo());
}

#[test]
fn a_run_that_holds_the_lock_clears_only_what_a_killed_run_left() {
    let home = tempfile::tempdir().unwrap();
    let leftover = plant_leftovers(home.path());
    let ended = wait_at_most(setup_in(home.path()), Duration::from_secs(30));
    assert!(ended.in_time, "{ended}");
    assert_eq!(ended.code, Some(1), "no tools: setup stops: {ended}");
    assert!(!leftover.exists(), "the killed run's folder is still there");
    assert_users_files_kept(home.path());
}

#[test]
fn a_signal_ends_rdock_even_in_a_wait_that_does_not_watch_for_it() {
    // A FIFO where VS Code keeps its list of obsolete extensions: today `rdock vscode` blocks in
    // open(2) there, a wait no signal check reaches. The watchdog ends rdock all the same.
    let home = tempfile::tempdir().unwrap();
    let extensions = home.path().join(".vscode/extensions");
    fs::create_dir_all(extensions.join("ms-azuretools.vscode-docker-1.29.0")).unwrap();
    fs::create_dir_all(home.path().join(".config/Code/User")).unwrap();
    let fifo = std::ffi::CString::new(extensions.join(".obsolete").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdock"))
        .args(["vscode", "--dry-run"])
        .current_dir(home.path())
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if wait_at_most_holding(&mut child, Duration::from_secs(2)).is_some() {
        // That read no longer blocks: rdock finished on its own, as it should.
        let ended = wait_at_most(child, Duration::from_secs(1));
        assert_eq!(ended.code, Some(0), "{ended}");
        return;
    }
    send(&child, libc::SIGTERM);
    let sent = Instant::now();
    // The watchdog's grace (sys::signal::GRACE, 5 s) and a margin.
    let ended = wait_at_most(child, Duration::from_secs(8));
    assert!(ended.in_time, "SIGTERM did not end rdock: {ended}");
    assert_eq!(ended.code, Some(143), "{ended}");
    assert!(sent.elapsed() < Duration::from_secs(8));
    assert!(ended.stderr.contains("did not end within 5 s"), "{ended}");
}
