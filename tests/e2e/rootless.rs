//! A rootless daemon: the remote user's docker answers only on `/run/user/UID/docker.sock`, and
//! nothing in the ssh environment says so. Setup finds the socket, writes it into the endpoint
//! (`ssh://user@host:port/run/user/UID/docker.sock`, docker CLI 24 and later), and docker works
//! through it; doctor agrees.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::harness::{start_dockerd, wait_for_dockerd, Client, Sandbox, NO_DOCKER_HOST};

/// A dockerd of the remote user's own, on its runtime directory's socket, and its data root;
/// stopped when dropped.
struct UserDaemon(std::process::Child, std::path::PathBuf);

impl Drop for UserDaemon {
    fn drop(&mut self) {
        // dockerd leads its own process group (containerd included): end all of it.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
        // dockerd mounts its data root over itself and, killed, leaves that mount behind: one
        // more per run on a machine that runs the suite again.
        let _ = Command::new("umount").arg("--lazy").arg(&self.1).status();
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
    let child = start_dockerd(&sb.dir, "user-", Path::new(&sock), &sb.remote.name).unwrap();
    let daemon = UserDaemon(child, sb.dir.join("user-data"));
    wait_for_dockerd(&sb.dir, "user-", Path::new(&sock)).unwrap();
    (daemon, sock)
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn setup_finds_a_rootless_socket_and_docker_works_through_the_endpoint_it_writes() {
    let mut sb = Sandbox::start();
    sb.restart_sshd_with(&[NO_DOCKER_HOST]);
    let (_daemon, sock) = start_user_daemon(&sb);
    let run = sb.setup_ok();
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
    sb.setup_changes_nothing(&sb.dest());
    // dockerode and docker-py run a bare `docker system dial-stdio`, which dials the remote's
    // default daemon, not the endpoint's socket: they fail, and doctor's lines say why.
    if let Err(why) = sb.shared.clients() {
        panic!("this end-to-end test cannot run here: {why}");
    }
    let ctx = sb.context();
    sb.no_askpass();
    for client in [Client::Dockerode, Client::DockerPy] {
        let r = sb.run_client(client, &ctx);
        assert!(!r.ok, "{} reached a daemon: {}", client.name(), r.detail);
    }
    let doctor = sb.rdock(&["doctor", &ctx]);
    for id in ["dockerode", "docker-py"] {
        let line = doctor
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("! {id} ")))
            .unwrap_or_else(|| panic!("no warning for {id}:\n{doctor}"));
        assert!(
            line.contains(&format!("names the socket {sock}")),
            "{doctor}"
        );
    }
}
