//! A rootless daemon: the remote user's docker answers only on `/run/user/UID/docker.sock`, and
//! nothing in the ssh environment says so. Setup finds the socket, writes it into the endpoint
//! (`ssh://user@host:port/run/user/UID/docker.sock`, docker CLI 24 and later), and docker works
//! through it; doctor agrees.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{which, Sandbox, NO_DOCKER_HOST};

/// A dockerd of the remote user's own, on its runtime directory's socket; killed when dropped.
struct UserDaemon(std::process::Child);

impl Drop for UserDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn uid(user: &str) -> String {
    let out = Command::new("id").args(["-u", user]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn start_user_daemon(sb: &Sandbox) -> (UserDaemon, String) {
    let run = format!("/run/user/{}", uid(&sb.remote.name));
    fs::create_dir_all(&run).unwrap();
    let chown = Command::new("chown")
        .args([&sb.remote.name, run.as_str()])
        .status()
        .unwrap();
    assert!(chown.success());
    fs::set_permissions(&run, fs::Permissions::from_mode(0o700)).unwrap();
    let sock = format!("{run}/docker.sock");
    let d = |p: &str| sb.dir.join(p).display().to_string();
    let log = fs::File::create(sb.dir.join("user-dockerd.log")).unwrap();
    let child = Command::new(which("dockerd").unwrap())
        .args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ])
        .arg(format!("--host=unix://{sock}"))
        .arg(format!("--data-root={}", d("user-data")))
        .arg(format!("--exec-root={}", d("user-exec")))
        .arg(format!("--pidfile={}", d("user-docker.pid")))
        .arg(format!("--group={}", sb.remote.name))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let daemon = UserDaemon(child);
    let start = Instant::now();
    while Command::new("docker")
        .args(["-H", &format!("unix://{sock}"), "version"])
        .env("HOME", &sb.dir)
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the user's dockerd did not answer: {}",
            fs::read_to_string(sb.dir.join("user-dockerd.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    (daemon, sock)
}

#[test]
fn setup_finds_a_rootless_socket_and_docker_works_through_the_endpoint_it_writes() {
    let Some(mut sb) = Sandbox::start() else {
        return;
    };
    sb.restart_sshd_with(&[NO_DOCKER_HOST]);
    let (_daemon, sock) = start_user_daemon(&sb);
    let dest = sb.dest();
    let run = sb.rdock(&[
        "setup",
        &dest,
        "--yes",
        "--no-passphrase",
        "--install-key",
        "--accept-host-key",
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains(&format!("at {sock} (not the default socket")),
        "{run}"
    );
    let endpoint = format!("ssh://{}@127.0.0.1:{}{sock}", sb.remote.name, sb.port);
    assert!(run.stdout.contains(&format!("→ {endpoint}")), "{run}");
    // The remote user's default socket answers nothing: only the endpoint's path can work.
    let ps = sb.local("docker", &["--context", &sb.context(), "ps"]);
    assert_eq!(ps.code, Some(0), "{ps}");
    let doctor = sb.rdock(&["doctor"]);
    assert_eq!(doctor.code, Some(0), "{doctor}");
    assert!(!doctor.stdout.contains('✗'), "{doctor}");
    let again = sb.rdock(&[
        "setup",
        &dest,
        "--yes",
        "--no-passphrase",
        "--install-key",
        "--accept-host-key",
    ]);
    assert!(
        again
            .stdout
            .contains("Everything is already set up; nothing changed."),
        "{again}"
    );
}
