//! The end-to-end sandbox: a real dockerd (shared by every test in this binary), and per test a
//! real sshd on a free 127.0.0.1 port, a throwaway remote user (in group docker, with a password)
//! and a throwaway local user with an empty home and its own ssh-agent. rdock runs as that local
//! user, because OpenSSH reads ~/.ssh from the passwd entry, not from $HOME.
//!
//! Needs root and openssh-server + docker.io. Every end-to-end test is `#[ignore]`d, so a plain
//! `cargo test` lists it as ignored; run with `--include-ignored` (scripts/test.sh does), a test
//! whose requirement is missing fails with why, before it makes anything. None passes skipped.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod agent;
mod clients;
mod dockerd;
mod run;
mod sandbox;
mod sshd;
mod users;

pub use clients::{Client, ClientResult};
pub use dockerd::{docker_clis, start_dockerd, wait_for_dockerd, DockerCli, DEBIAN13_DOCKER};
pub use run::{run_bounded, run_within, Run};
pub use sandbox::Sandbox;
pub use sshd::{free_port, RejectPort, SecondSshd};
pub use users::User;

pub const PASSWORD: &str = "rdock-e2e-Pa55";
/// The flags that let setup do everything without a terminal.
pub const ALL_YES: [&str; 4] = [
    "--yes",
    "--no-passphrase",
    "--install-key",
    "--accept-host-key",
];

/// `rdock setup DEST` with [`ALL_YES`], and extra arguments.
pub fn setup_args<'a>(dest: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["setup", dest];
    args.extend(ALL_YES);
    args.extend(extra);
    args
}

/// A setup run that found everything done: it says so.
pub fn assert_nothing_changed(run: &Run) {
    assert!(
        run.stdout
            .contains("Everything is already set up; nothing changed."),
        "{run}"
    );
}

/// An sshd_extra line that leaves DOCKER_HOST out of the remote user's environment.
pub const NO_DOCKER_HOST: &str = "# no DOCKER_HOST";
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();

/// What every test shares: the dockerd and a copy of the rdock binary any user may run.
pub struct Shared {
    pub dir: PathBuf,
    pub docker_sock: PathBuf,
    pub rdock: PathBuf,
}

fn sh(program: &str, args: &[&str]) -> Result<Output, String> {
    Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))
}

fn must(program: &str, args: &[&str]) -> Output {
    let out = sh(program, args).unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Why the end-to-end tests cannot run here, if they cannot.
fn missing_requirement() -> Option<String> {
    let uid = sh("id", &["-u"])
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref() != Some("0") {
        return Some("not root (they create throwaway users)".into());
    }
    for tool in [
        "/usr/sbin/sshd",
        "dockerd",
        "docker",
        "ssh",
        "ssh-keygen",
        "ssh-agent",
        "runuser",
        "useradd",
    ] {
        if which(tool).is_none() {
            return Some(format!(
                "{tool} is missing (scripts/test.sh installs openssh-server and docker.io)"
            ));
        }
    }
    None
}

pub fn which(tool: &str) -> Option<PathBuf> {
    if tool.starts_with('/') {
        return Path::new(tool).exists().then(|| PathBuf::from(tool));
    }
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .chain(PATH.split(':'))
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file())
}

fn make_dir(prefix: &str) -> PathBuf {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in("/tmp")
        .unwrap()
        .keep();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// End the processes when this test binary ends, however it ends.
fn reap_when_we_exit(pids: &[u32], dir: &Path) {
    // A dockerd killed before it unmounted its data root leaves that mount: take it away before
    // the folder goes.
    let script = "while kill -0 \"$0\" 2>/dev/null; do sleep 1; done; kill $1 2>/dev/null; sleep 3; kill -9 $1 2>/dev/null; umount --lazy \"$2/data\" 2>/dev/null; rm -rf --one-file-system \"$2\"";
    let _ = Command::new("sh")
        .args(["-c", script, &std::process::id().to_string()])
        .arg(
            pids.iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(" "),
        )
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

fn start_shared() -> Result<Shared, String> {
    if let Some(why) = missing_requirement() {
        return Err(why);
    }
    let dir = make_dir("rdock-e2e-");
    let _ = sh("groupadd", &["-f", "docker"]);
    fs::create_dir_all("/run/sshd").map_err(|e| e.to_string())?;
    let rdock = dir.join("rdock");
    fs::copy(env!("CARGO_BIN_EXE_rdock"), &rdock).map_err(|e| e.to_string())?;
    fs::set_permissions(&rdock, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    let sock = dir.join("docker.sock");
    let child = start_dockerd(&dir, "", &sock, "docker")?;
    reap_when_we_exit(&[child.id()], &dir);
    wait_for_dockerd(&dir, "", &sock)?;
    Ok(Shared {
        dir,
        docker_sock: sock,
        rdock,
    })
}

/// What every end-to-end test shares, started once. A test calls this (through
/// [`Sandbox::start`], or first thing when it makes something before its sandbox) so that a
/// machine without root or the tools fails it with why, before it has made anything.
pub fn require() -> &'static Shared {
    match SHARED.get_or_init(start_shared) {
        Ok(shared) => shared,
        Err(why) => panic!(
            "this end-to-end test cannot run here: {why}. A plain `cargo test` leaves the \
             end-to-end tests out (ignored); scripts/test.sh runs them, as root"
        ),
    }
}

/// Fails the test, with what is missing, unless every tool is on the PATH (beyond what
/// [`require`] checks: a login shell, sudo, iptables; scripts/test.sh installs them).
pub fn require_tools(tools: &[&str]) {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| which(t).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "this end-to-end test cannot run here: {} missing (scripts/test.sh installs them)",
        missing.join(", ")
    );
}
