//! What the remote says is data, end to end: a hostile remote cannot drive the user's terminal
//! through rdock, a remote that never stops printing is cut off with memory bounded, --yes never
//! trusts a host key, --host-key pins one, and Ctrl-C at any point of setup leaves nothing half
//! done.

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::harness::{which, Run, Sandbox, ALL_YES};

/// Everything a terminal would act on, in one string: OSC 0 (title), OSC 52 (clipboard), CSI 2J
/// (clear), a bidi override, a C1 CSI, BEL and NUL.
const HOSTILE: &str =
    r"\033]0;pwned\007\033]52;c;cm0gLXJmIH4K\007\033[2J\342\200\256evil\302\2331m\000";

/// A `docker` for the remote user that answers `docker version` with HOSTILE (or, in mode
/// `error`, fails with it on stderr; in mode `flood`, prints 200 MB), and hands everything else
/// (docker's own `system dial-stdio`) to the real docker CLI.
fn hostile_docker(sb: &Sandbox, mode: &str) -> PathBuf {
    let bin = sb.dir.join("hostile-bin");
    fs::create_dir_all(&bin).unwrap();
    let real = which("docker").expect("a docker CLI");
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = version ]; then
  case {mode} in
    error) printf '{HOSTILE} daemon says no\n' >&2; exit 1;;
    flood) head -c 200000000 /dev/zero | tr '\000' x; exit 0;;
    *) printf '{HOSTILE}28.0.0\n'; exit 0;;
  esac
fi
exec {real} "$@"
"#,
        real = real.display()
    );
    let path = bin.join("docker");
    fs::write(&path, script).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// A sandbox whose sshd shows a hostile banner and puts the hostile docker first on PATH.
fn hostile_sandbox(mode: &str) -> Sandbox {
    let mut sb = Sandbox::start();
    let bin = hostile_docker(&sb, mode);
    let banner = sb.dir.join("banner");
    let text = String::from_utf8(
        std::process::Command::new("printf")
            .arg(format!("{HOSTILE} welcome\\n"))
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    fs::write(&banner, text).unwrap();
    sb.restart_sshd_with(&[
        &format!("Banner {}", banner.display()),
        &format!("SetEnv PATH={}:/usr/local/bin:/usr/bin:/bin", bin.display()),
    ]);
    sb
}

/// A character a terminal would act on, other than a line break or tab.
fn is_raw_control(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn assert_shown_as_data(what: &str, run: &Run) {
    let raw: Vec<char> = run.all().chars().filter(|c| is_raw_control(*c)).collect();
    assert!(
        raw.is_empty(),
        "{what}: raw {raw:?} reached the terminal:\n{run}"
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_hostile_remote_is_shown_as_visible_text_in_every_output() {
    let sb = hostile_sandbox("ok");
    let dest = sb.dest();
    let before = sb.rdock(&["doctor", &dest]);
    assert_shown_as_data("doctor before setup", &before);
    let mut setup = vec!["setup", dest.as_str()];
    setup.extend(ALL_YES);
    let run = sb.rdock(&setup);
    assert_eq!(run.code, Some(0), "{run}");
    assert_shown_as_data("setup", &run);
    // With colour forced, anstream strips nothing: the only escapes are rdock's own styles.
    for args in [
        vec!["--color", "always", "doctor"],
        vec!["--color", "always", "doctor", &dest],
        vec!["--color", "always", "list", "--check"],
    ] {
        let coloured = sb.rdock(&args);
        assert_only_own_styles(&args.join(" "), &coloured);
        // Not vacuous: colour is on, and the remote's text is there, shown as data.
        assert!(coloured.stdout.contains("\x1b["), "no colour: {coloured}");
        if args[2] == "doctor" {
            assert!(
                coloured.stdout.contains(r"\x1b[2J\u{202e}evil\x9b1m"),
                "{coloured}"
            );
        }
    }
    let doctor = sb.rdock(&["doctor"]);
    assert_shown_as_data("doctor", &doctor);
    assert!(
        doctor
            .stdout
            .contains(r"\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4K\x07\x1b[2J\u{202e}evil\x9b1m28.0.0"),
        "the version is shown escaped:\n{doctor}"
    );
    for args in [
        vec!["doctor", "--json"],
        vec!["list", "--check"],
        vec!["list", "--check", "--json"],
    ] {
        let run = sb.rdock(&args);
        assert_shown_as_data(&args.join(" "), &run);
    }
    let json = sb.rdock(&["doctor", "--json"]);
    let value: serde_json::Value =
        serde_json::from_str(&json.stdout).expect("doctor --json parses");
    let daemon = value["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "remote-daemon")
        .unwrap();
    assert!(
        daemon["message"]
            .as_str()
            .unwrap()
            .contains("\u{1b}]52;c;cm0gLXJmIH4K\u{7}"),
        "JSON holds the characters themselves, escaped in its text: {json}"
    );
}

/// Out of `run`'s stdout and stderr, only SGR styles (`ESC [ digits ; m`, what rdock's colours
/// are) may drive the terminal: once they are taken out, no control character (C0, DEL, C1) or
/// bidi override may be left. A raw `ESC [2J`, OSC or C1 CSI from the remote fails this.
fn assert_only_own_styles(what: &str, run: &Run) {
    let sgr = regex::Regex::new(r"\x1b\[[0-9;]*m").unwrap();
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        let rest = sgr.replace_all(text, "");
        let raw: Vec<char> = rest.chars().filter(|c| is_raw_control(*c)).collect();
        assert!(
            raw.is_empty(),
            "{what}: raw {raw:?} on {stream} besides rdock's styles:\n{run}"
        );
    }
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_hostile_docker_error_is_shown_as_visible_text() {
    let sb = hostile_sandbox("error");
    let dest = sb.dest();
    let mut setup = vec!["setup", dest.as_str()];
    setup.extend(ALL_YES);
    let run = sb.rdock(&setup);
    assert_eq!(run.code, Some(1), "{run}");
    assert_shown_as_data("setup", &run);
    assert!(run.stdout.contains(r"\x1b[2J\u{202e}evil"), "{run}");
    let doctor = sb.rdock(&["doctor", &sb.dest(), "--json"]);
    assert_shown_as_data("doctor --json", &doctor);
    serde_json::from_str::<serde_json::Value>(&doctor.stdout).expect("doctor --json parses");
}

/// The highest resident set size a process reaches, sampled from /proc while it runs.
fn peak_rss_kib(pid: u32, until: &std::sync::atomic::AtomicBool) -> u64 {
    let mut peak = 0;
    while !until.load(std::sync::atomic::Ordering::SeqCst) {
        if let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) {
            let rss = status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0);
            peak = peak.max(rss);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    peak
}

/// The pid of the user's rdock, once it runs.
fn rdock_pid(user: &str) -> Option<u32> {
    let out = std::process::Command::new("pgrep")
        .args(["-u", user, "-x", "rdock"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_remote_that_prints_200_mb_gets_a_clear_error_and_memory_stays_small() {
    let sb = hostile_sandbox("flood");
    let mut setup = vec!["setup".to_string(), sb.dest()];
    setup.extend(ALL_YES.map(String::from));
    setup.push("--no-use".into());
    let mut cmd = sb.as_local(sb.shared.rdock.to_str().unwrap());
    cmd.args(&setup);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = {
        let done = done.clone();
        let user = sb.local.name.clone();
        std::thread::spawn(move || {
            let start = Instant::now();
            let pid = loop {
                if let Some(pid) = rdock_pid(&user) {
                    break Some(pid);
                }
                if done.load(std::sync::atomic::Ordering::SeqCst)
                    || start.elapsed() > Duration::from_secs(30)
                {
                    break None;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            pid.map(|pid| peak_rss_kib(pid, &done))
        })
    };
    let run = crate::harness::run_bounded(cmd, Duration::from_secs(120));
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let peak = watch.join().unwrap().expect("rdock was seen running");
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains("more than 1024 KiB"),
        "a clear error: {run}"
    );
    assert!(peak < 64 * 1024, "rdock's memory peaked at {peak} KiB");
    assert!(
        run.elapsed < Duration::from_secs(60),
        "took {:?}",
        run.elapsed
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn yes_alone_never_trusts_an_unknown_host_key_and_host_key_pins_it() {
    let sb = Sandbox::start();
    let dest = sb.dest();
    let known = sb.local.home.join(".ssh/known_hosts");
    let run = sb.rdock(&["setup", &dest, "--yes", "--no-passphrase"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout.contains("--host-key SHA256:") && run.stdout.contains("--accept-host-key"),
        "the flags that answer are named: {run}"
    );
    assert!(
        !known.exists() || fs::read_to_string(&known).unwrap().is_empty(),
        "{run}"
    );

    let fingerprint = |pubkey: &Path| -> String {
        let out = std::process::Command::new("ssh-keygen")
            .arg("-lf")
            .arg(pubkey)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_string()
    };
    // Another key's fingerprint: nothing is trusted.
    let other = sb.dir.join("other");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    assert!(made.success());
    let wrong = fingerprint(&other.with_extension("pub"));
    let run = sb.rdock(&[
        "setup",
        &dest,
        "--yes",
        "--no-passphrase",
        "--host-key",
        &wrong,
    ]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("matches no --host-key"), "{run}");
    assert!(
        !known.exists() || fs::read_to_string(&known).unwrap().is_empty(),
        "{run}"
    );

    // The server's own fingerprint: trusted without a question, and only that key recorded.
    let right = fingerprint(&sb.dir.join("hostkey.pub"));
    let run = sb.rdock(&[
        "setup",
        &dest,
        "--yes",
        "--no-passphrase",
        "--host-key",
        &right,
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains(&format!("ED25519 {right}")), "{run}");
    let entries = fs::read_to_string(&known).unwrap();
    assert_eq!(entries.lines().count(), 1, "{entries}");
    // A malformed fingerprint is a usage error.
    let run = sb.rdock(&["setup", &dest, "--host-key", "SHA256:short"]);
    assert_eq!(run.code, Some(2), "{run}");
}

/// Files under `dir` whose names say they are temporary (tempfile's `.tmp…`, rdock's `.rdock-…`).
fn temp_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if name.starts_with(".tmp") || name.starts_with(".rdock-") {
                found.push(path.clone());
            }
            if path.is_dir() && !path.is_symlink() {
                todo.push(path);
            }
        }
    }
    found
}

/// How a setup interrupted at its `n`th command went.
struct Interrupted {
    code: Option<i32>,
    /// `pkill` found rdock running and signalled it (false: setup had already ended).
    signalled: bool,
    /// Commands rdock echoed after the one the signal was sent at.
    started_after: usize,
    log: String,
}

/// Run setup with --verbose and send SIGINT to rdock when it starts its `n`th command. None when
/// setup finished before that.
fn setup_interrupted_at(sb: &Sandbox, n: usize) -> Option<Interrupted> {
    let mut cmd = sb.as_local(sb.shared.rdock.to_str().unwrap());
    cmd.args(["--verbose", "setup", &sb.dest()]).args(ALL_YES);
    cmd.stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = 0;
    let mut signalled = None;
    let mut log = String::new();
    for line in stderr.lines() {
        let line = line.unwrap_or_default();
        log.push_str(&line);
        log.push('\n');
        if line.starts_with("$ ") {
            seen += 1;
            if seen == n && signalled.is_none() {
                let status = std::process::Command::new("pkill")
                    .args(["-INT", "-u", &sb.local.name, "-x", "rdock"])
                    .status()
                    .unwrap();
                signalled = Some(status.success());
            }
        }
    }
    let status = child.wait().unwrap();
    signalled.map(|signalled| Interrupted {
        code: status.code(),
        signalled,
        started_after: seen - n,
        log,
    })
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn ctrl_c_at_any_command_of_setup_leaves_files_whole_and_exits_130() {
    let mut n = 1;
    let mut stopped = 0;
    loop {
        let sb = Sandbox::start();
        let Some(Interrupted {
            code,
            signalled,
            started_after,
            log,
        }) = setup_interrupted_at(&sb, n)
        else {
            assert!(n > 10, "setup ran only {n} commands");
            break;
        };
        // Exit 0 only where the signal could not land before setup ended: rdock was gone when
        // pkill looked, or it was setup's last command (the signal may arrive after rdock's
        // last look). Anywhere else rdock was still to run a command: it must stop with 130.
        // (Ignoring the signal runs every command to exit 0; dying of it gives no exit code.)
        if code == Some(0) && (!signalled || started_after == 0) {
            eprintln!("command {n}: setup had ended before the signal landed");
        } else {
            assert_eq!(
                code,
                Some(130),
                "command {n} (signalled: {signalled}, {started_after} commands started after):\n{log}"
            );
            assert!(log.contains("interrupted by Ctrl-C"), "command {n}:\n{log}");
            stopped += 1;
        }
        let leftovers: Vec<PathBuf> = [&sb.local.home, &sb.remote.home]
            .iter()
            .flat_map(|h| temp_files(h))
            .collect();
        assert!(
            leftovers.is_empty(),
            "command {n}: temp files left: {leftovers:?}\n{log}"
        );
        // Whatever was written is whole, and the lock is free: the next setup finishes the job.
        let mut again = vec!["setup".to_string(), sb.dest()];
        again.extend(ALL_YES.map(String::from));
        let args: Vec<&str> = again.iter().map(String::as_str).collect();
        let run = sb.rdock(&args);
        assert_eq!(
            run.code,
            Some(0),
            "command {n}: the setup after it failed:\n{log}\n{run}"
        );
        let doctor = sb.rdock(&["doctor"]);
        assert_eq!(doctor.code, Some(0), "command {n}: {doctor}");
        n += 1;
    }
    // Setup ran n - 1 commands; all but the last one or two were stopped by the signal.
    let commands = n - 1;
    eprintln!("{stopped} of {commands} commands were stopped with exit 130");
    assert!(
        stopped + 2 >= commands,
        "only {stopped} of {commands} interrupted setups exited 130"
    );
}

/// Wait up to 15 s for `ready` to hold.
fn wait_for(mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(15) {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn in_a_real_terminal_the_title_and_clipboard_are_untouched() {
    let sb = hostile_sandbox("ok");
    sb.setup_ok();
    let sock = sb.dir.join("tmux.sock");
    let tmux = |args: &[&str]| {
        let out = std::process::Command::new("tmux")
            .arg("-S")
            .arg(&sock)
            .args(args)
            .output()
            .expect("tmux (scripts/test.sh installs it)");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // rdock doctor in a terminal that honours OSC 0 (title) and OSC 52 (clipboard).
    let doctor = format!(
        "runuser -u {} -- env HOME={} PATH=/usr/local/bin:/usr/bin:/bin SSH_AUTH_SOCK={} TERM=xterm-256color {} doctor; echo rdock-done; sleep 60",
        sb.local.name,
        sb.local.home.display(),
        sb.agent_sock.display(),
        sb.shared.rdock.display()
    );
    tmux(&[
        "-f",
        "/dev/null",
        "new-session",
        "-d",
        "-x",
        "220",
        "-y",
        "50",
        &doctor,
    ]);
    tmux(&["set-option", "-g", "set-clipboard", "on"]);
    let done = wait_for(|| tmux(&["capture-pane", "-p", "-t", ":0"]).contains("rdock-done"));
    let screen = tmux(&["capture-pane", "-p", "-t", ":0"]);
    let title = tmux(&["display-message", "-p", "-t", ":0", "#{pane_title}"]);
    let buffers = tmux(&["list-buffers"]);
    // The same bytes printed raw, in a second window: the terminal does act on them.
    let raw = format!("printf '{HOSTILE}\\n'; sleep 60");
    tmux(&["new-window", "-d", &raw]);
    let raw_acted =
        wait_for(|| tmux(&["display-message", "-p", "-t", ":1", "#{pane_title}"]) == "pwned");
    let raw_buffers = tmux(&["list-buffers"]);
    tmux(&["kill-server"]);
    assert!(done, "rdock doctor did not finish:\n{screen}");
    assert!(
        screen.contains(r"\x1b]52;c;cm0gLXJmIH4K\x07"),
        "shown as text:\n{screen}"
    );
    assert_ne!(title, "pwned", "rdock's output retitled the terminal");
    assert!(
        buffers.is_empty(),
        "rdock's output wrote the clipboard: {buffers}"
    );
    assert!(
        raw_acted && raw_buffers.contains("rm -rf ~"),
        "the raw bytes do act ({raw_buffers}): the check can see it"
    );
}
