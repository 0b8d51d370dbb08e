//! What a new user meets first, run as they would run it: the built binary in a fresh home, and
//! for the waits a real terminal (tmux), whose screen is read back with `capture-pane`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

const RDOCK: &str = env!("CARGO_BIN_EXE_rdock");

/// A fresh home, with no agent and no docker context: the new user's.
struct Fresh {
    home: tempfile::TempDir,
}

impl Fresh {
    fn new() -> Fresh {
        Fresh {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn rdock(&self, args: &[&str]) -> Output {
        Command::new(RDOCK)
            .args(args)
            .env("HOME", self.home())
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env_remove("DOCKER_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", text(&out.stdout)))
}

#[test]
fn doctor_before_setup_checks_this_machine_and_names_the_next_command() {
    let fresh = Fresh::new();
    let run = fresh.rdock(&["doctor"]);
    let stdout = text(&run.stdout);
    // No key and no agent in a fresh home: something local is wrong.
    assert_eq!(run.status.code(), Some(1), "{stdout}{}", text(&run.stderr));
    for line in [
        "rdock doctor: this machine (docker has no ssh:// context yet)",
        "✓ tools",
        "✗ key            no key at ~/.ssh/id_ed25519",
        "✗ agent",
        "No remote yet: docker has no ssh:// context to check. Next, set one up:\n  rdock setup user@host\n",
    ] {
        assert!(stdout.contains(line), "{line:?} missing:\n{stdout}");
    }
    assert!(!stdout.contains("connection"), "nothing remote: {stdout}");

    let run = fresh.rdock(&["doctor", "--json"]);
    assert_eq!(run.status.code(), Some(1));
    let v = json(&run);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["target"]["kind"], "local");
    assert_eq!(v["next"], "rdock setup user@host");
    let ids: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        &ids[..6],
        [
            "tools",
            "key",
            "ssh-config",
            "agent",
            "identity",
            "agent-keys"
        ]
    );
}

#[test]
fn with_json_every_outcome_is_one_document() {
    let fresh = Fresh::new();
    // Nothing to check.
    let run = fresh.rdock(&["doctor", "--all", "--json"]);
    assert_eq!(run.status.code(), Some(0));
    let v = json(&run);
    assert_eq!(v["targets"], serde_json::json!([]));
    assert_eq!(v["next"], "rdock setup user@host");
    assert_eq!(v["schema_version"], 1);
    // A usage error of rdock's, and one of clap's.
    for args in [
        &["doctor", "nearyl", "--json"][..],
        &["doctor", "--json", "--no-such-flag"],
    ] {
        let run = fresh.rdock(args);
        assert_eq!(run.status.code(), Some(2), "{args:?}");
        let v = json(&run);
        assert_eq!(v["error"]["kind"], "usage", "{args:?}: {v}");
        assert_eq!(v["schema_version"], 1);
        assert!(run.stderr.is_empty(), "{args:?}: {}", text(&run.stderr));
    }
}

#[test]
fn a_misspelt_context_is_not_dialled_and_a_stray_flag_is_clap_s() {
    let fresh = Fresh::new();
    let endpoint = "host=ssh://u@127.0.0.1:1";
    let made = Command::new("docker")
        .args(["context", "create", "nearly", "--docker", endpoint])
        .env("HOME", fresh.home())
        .env_remove("DOCKER_CONFIG")
        .output();
    let Ok(made) = made else {
        eprintln!("skipped: no docker CLI");
        return;
    };
    assert!(made.status.success(), "{}", text(&made.stderr));
    let started = Instant::now();
    let run = fresh.rdock(&["doctor", "nearyl"]);
    assert_eq!(run.status.code(), Some(2));
    assert!(run.stdout.is_empty());
    insta::assert_snapshot!("doctor_typo", text(&run.stderr));
    assert!(started.elapsed() < Duration::from_secs(5), "it dialled");

    let run = fresh.rdock(&["doctor", "--frobnicate"]);
    assert_eq!(run.status.code(), Some(2));
    let stderr = text(&run.stderr);
    assert!(
        stderr.contains("unexpected argument '--frobnicate'"),
        "{stderr}"
    );
    assert!(!stderr.contains("not a docker context name"), "{stderr}");

    // Nothing listens on its port: the check fails, and so does the command.
    let run = fresh.rdock(&["list", "--check"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stdout));
    assert!(text(&run.stdout).contains("nearly"));
}

/// A private tmux server (its own socket), ended when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// None (and the reason printed) when tmux is missing and the end-to-end tests are not
    /// required.
    fn start(command: &str) -> Option<Tmux> {
        if Command::new("tmux").arg("-V").output().is_err() {
            assert!(
                std::env::var("RDOCK_E2E").is_err(),
                "RDOCK_E2E=1 and no tmux (scripts/test.sh installs it)"
            );
            eprintln!("skipped: no tmux");
            return None;
        }
        let tmux = Tmux {
            socket: format!("rdock-first-{}-{}", std::process::id(), rand_suffix()),
        };
        let run = tmux.cmd(&["new-session", "-d", "-x", "120", "-y", "30", command]);
        assert!(run.status.success(), "{}", text(&run.stderr));
        Some(tmux)
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        text(&self.cmd(&["capture-pane", "-p"]).stdout)
    }

    /// Read the screen until `seen` says yes or `within` passes; the last screen read.
    fn wait_for(&self, within: Duration, seen: impl Fn(&str) -> bool) -> (bool, String) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if seen(&screen) || start.elapsed() > within {
                return (seen(&screen), screen);
            }
            thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]);
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000
}

/// A port that accepts connections and never says a word.
fn silent_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Held open by a thread that lives as long as the test binary.
    thread::spawn(move || {
        let held: Vec<_> = listener.incoming().collect();
        drop(held);
    });
    port
}

/// `env … rdock ARGS` as a shell line for tmux, in a fresh home with no agent; the pane stays.
fn shell_line(home: &Path, args: &str) -> String {
    format!(
        "env -u SSH_AUTH_SOCK -u DOCKER_HOST -u DOCKER_CONTEXT HOME={} {} {args}; sleep 60",
        home.display(),
        RDOCK
    )
}

#[test]
fn a_silent_port_shows_what_rdock_waits_on_and_for_how_long() {
    let fresh = Fresh::new();
    let port = silent_port();
    let dest = format!("u@127.0.0.1:{port}");
    let Some(tmux) = Tmux::start(&shell_line(fresh.home(), &format!("doctor {dest}"))) else {
        return;
    };
    // The same run without a terminal, at once: no spinner, no escape bytes.
    let piped = thread::spawn({
        let home: PathBuf = fresh.home().to_path_buf();
        let dest = dest.clone();
        move || {
            Command::new(RDOCK)
                .args(["doctor", &dest])
                .env("HOME", home)
                .env_remove("SSH_AUTH_SOCK")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        }
    });
    let waiting = format!("connecting to u@127.0.0.1:{port} … ");
    let (seen, screen) = tmux.wait_for(Duration::from_secs(9), |screen| {
        screen.lines().any(|l| {
            l.contains(&waiting)
                && l.trim_end()
                    .strip_suffix(" s")
                    .and_then(|l| l.rsplit(' ').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|n| n >= 3)
        })
    });
    assert!(seen, "no waiting line with its seconds:\n{screen}");
    // The local checks were shown as soon as they were judged, before the wait ended.
    assert!(screen.contains("✓ tools"), "{screen}");
    assert!(screen.contains("✓ destination"), "{screen}");
    // Once ssh gives up, the waiting line is gone and the verdict is there.
    let (ended, screen) = tmux.wait_for(Duration::from_secs(25), |s| s.contains("problem"));
    assert!(ended, "{screen}");
    assert!(!screen.contains(&waiting), "{screen}");
    assert!(
        screen.contains("does not speak") || screen.contains("sshd's"),
        "{screen}"
    );

    let piped = piped.join().unwrap();
    assert_eq!(piped.status.code(), Some(1));
    for stream in [&piped.stdout, &piped.stderr] {
        let shown = text(stream);
        assert!(!shown.contains('\x1b') && !shown.contains('⠋'), "{shown:?}");
    }
    assert!(!text(&piped.stderr).contains("connecting to"));
}

#[test]
fn before_ssh_keygen_asks_rdock_says_what_key_it_makes_and_why() {
    let fresh = Fresh::new();
    let line = shell_line(fresh.home(), "setup u@127.0.0.1:1 --name first");
    let Some(tmux) = Tmux::start(&line) else {
        return;
    };
    let (asked, screen) =
        tmux.wait_for(Duration::from_secs(20), |s| s.contains("Enter passphrase"));
    assert!(asked, "ssh-keygen did not ask:\n{screen}");
    let before = &screen[..screen.find("Enter passphrase").unwrap()];
    for said in [
        "Making your SSH key (ed25519):",
        "~/.ssh/id_ed25519",
        "ssh-agent",
        "--no-passphrase",
    ] {
        assert!(before.contains(said), "{said:?} not said first:\n{screen}");
    }
}

#[test]
fn doctor_s_help_describes_its_json() {
    let help = text(&Fresh::new().rdock(&["doctor", "--help"]).stdout);
    for said in [
        "JSON output (--json)",
        "schema_version",
        "\"local\"",
        "error: {kind: \"usage\"",
    ] {
        assert!(help.contains(said), "{said:?} missing:\n{help}");
    }
    assert!(!help.contains("README"), "{help}");
}
