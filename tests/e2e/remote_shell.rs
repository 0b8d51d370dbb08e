//! The remote shell cannot confuse the probe, end to end: a startup file that prints is named with
//! its fix (and setup and doctor pass once it is guarded), a key forced to `docker system
//! dial-stdio` keeps doctor green, a remote docker that hangs is named within the bound, and every
//! common login shell (fish, zsh, tcsh, dash) runs the probe.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use crate::harness::{require_tools, which, Run, Sandbox};
use crate::support::unwrapped;

fn doctor(sb: &Sandbox) -> Run {
    sb.rdock(&["doctor", &sb.dest()])
}

/// `docker --context CONTEXT version`, as the local user.
fn docker_version(sb: &Sandbox) -> Run {
    sb.local(
        "docker",
        &[
            "--context",
            &sb.context(),
            "version",
            "--format",
            "{{.Server.Version}}",
        ],
    )
}

const CHATTY: &str = "your remote ~/.bashrc (or the file for the user's login shell";
const BREAKS: &str = "prints to stdout (\"hello\"); that breaks docker's ssh transport";
const BASH_FIX: &str = "make the first line of ~/.bashrc `[[ $- == *i* ]] || return`";

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_bashrc_that_prints_is_named_with_its_fix_and_once_guarded_setup_and_doctor_pass() {
    let mut sb = Sandbox::start();
    sb.set_remote_shell("/bin/bash");
    sb.write_remote(".bashrc", "echo hello\n".as_bytes(), 0o644);
    let setup = sb.setup_within(Duration::from_secs(120));
    assert_eq!(setup.code, Some(1), "{setup}");
    for text in [CHATTY, BREAKS, BASH_FIX] {
        assert!(unwrapped(&setup.stdout).contains(text), "{text}: {setup}");
    }
    sb.no_askpass();
    let before = doctor(&sb);
    assert_eq!(before.code, Some(1), "{before}");
    for text in [CHATTY, BREAKS, BASH_FIX] {
        assert!(unwrapped(&before.stdout).contains(text), "{text}: {before}");
    }

    // The fix as given: the interactive test first.
    sb.write_remote(
        ".bashrc",
        "[[ $- == *i* ]] || return\necho hello\n".as_bytes(),
        0o644,
    );
    let after = sb.setup_within(Duration::from_secs(120));
    assert_eq!(after.code, Some(0), "{after}");
    let green = doctor(&sb);
    assert_eq!(green.code, Some(0), "{green}");
    assert!(!unwrapped(&green.stdout).contains(CHATTY), "{green}");
    let docker = docker_version(&sb);
    assert_eq!(docker.code, Some(0), "{docker}");

    // Chatty again: docker's own ssh transport breaks, and doctor says why.
    sb.write_remote(".bashrc", "echo hello\n".as_bytes(), 0o644);
    let broken = docker_version(&sb);
    assert_ne!(broken.code, Some(0), "{broken}");
    let again = doctor(&sb);
    assert_eq!(again.code, Some(1), "{again}");
    assert!(unwrapped(&again.stdout).contains(BREAKS), "{again}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_key_forced_to_dial_stdio_keeps_doctor_green_and_docker_working() {
    let mut sb = Sandbox::start();
    sb.setup_ok();
    sb.no_askpass();
    // Every key line restricted as hardening guides advise; written in place, so the file keeps
    // the owner and mode sshd's StrictModes wants.
    let keys = sb.remote.home.join(".ssh/authorized_keys");
    let forced: String = fs::read_to_string(&keys)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("command=\"docker system dial-stdio\",restrict {l}\n"))
        .collect();
    fs::write(&keys, &forced).unwrap();
    let doctor = doctor(&sb);
    assert_eq!(doctor.code, Some(0), "{doctor}");
    assert!(
        doctor
            .stdout
            .contains("the key runs the forced command `docker system dial-stdio`"),
        "{doctor}"
    );
    assert!(
        unwrapped(&doctor.stdout).contains(&format!(
            "through docker --context {}: the key runs `docker system dial-stdio` only",
            sb.context()
        )),
        "{doctor}"
    );
    let docker = docker_version(&sb);
    assert_eq!(docker.code, Some(0), "{docker}");
    // Every docker command goes through the forced dial-stdio.
    let ps = sb.local("docker", &["ps"]);
    assert_eq!(ps.code, Some(0), "{ps}");
}

/// How long rdock may take to name a remote docker that hangs: the probe's bound.
const BOUND: Duration = Duration::from_secs(20);

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_remote_docker_that_hangs_is_named_as_such_within_the_bound() {
    let mut sb = Sandbox::start();
    let bin = sb.dir.join("hung-bin");
    fs::create_dir_all(&bin).unwrap();
    let real = which("docker").expect("a docker CLI");
    let script = format!(
        "#!/bin/sh\nif [ \"$1\" = version ]; then exec /bin/sleep 120; fi\nexec {} \"$@\"\n",
        real.display()
    );
    let docker = bin.join("docker");
    fs::write(&docker, script).unwrap();
    fs::set_permissions(&docker, fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    sb.restart_sshd_with(&[&format!(
        "SetEnv PATH={}:/usr/local/bin:/usr/bin:/bin",
        bin.display()
    )]);
    let hung = "did not answer within 8 s and was stopped: the docker daemon there hangs";
    let setup = sb.setup_within(Duration::from_secs(120));
    assert_eq!(setup.code, Some(1), "{setup}");
    assert!(unwrapped(&setup.stdout).contains(hung), "{setup}");
    sb.no_askpass();
    let doctor = sb.rdock_within(&["doctor", &sb.dest()], Duration::from_secs(60));
    assert_eq!(doctor.code, Some(1), "{doctor}");
    assert!(unwrapped(&doctor.stdout).contains(hung), "{doctor}");
    assert!(
        unwrapped(&doctor.stdout).contains("sshd answers on")
            && unwrapped(&doctor.stdout).contains("accepts the key"),
        "the connection is not blamed: {doctor}"
    );
    assert!(
        doctor.elapsed < BOUND,
        "took {:?}: {doctor}",
        doctor.elapsed
    );

    // A remote without `timeout` on its PATH: the probe itself is stopped at its bound, and what
    // it had printed says docker had started.
    sb.restart_sshd_with(&[&format!("SetEnv PATH={}", bin.display())]);
    let bare = sb.rdock_within(&["doctor", &sb.dest()], Duration::from_secs(60));
    assert_eq!(bare.code, Some(1), "{bare}");
    assert!(
        bare.stdout
            .contains("did not answer within 20 s and was stopped: the docker daemon there hangs"),
        "{bare}"
    );
    assert!(
        bare.elapsed < BOUND + Duration::from_secs(10),
        "took {:?}: {bare}",
        bare.elapsed
    );
}

/// Setup and doctor with `shell` as the remote user's login shell, and docker through the
/// context it made.
fn works_with_login_shell(shell: &str) {
    require_tools(&[shell]);
    let mut sb = Sandbox::start();
    sb.set_remote_shell(shell);
    sb.setup_ok();
    sb.no_askpass();
    let doctor = doctor(&sb);
    assert_eq!(doctor.code, Some(0), "{shell}: {doctor}");
    let docker = docker_version(&sb);
    assert_eq!(docker.code, Some(0), "{shell}: {docker}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn fish_as_the_login_shell_works() {
    works_with_login_shell("/usr/bin/fish");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn zsh_as_the_login_shell_works() {
    works_with_login_shell("/usr/bin/zsh");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn tcsh_as_the_login_shell_works() {
    works_with_login_shell("/usr/bin/tcsh");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn dash_as_the_login_shell_works() {
    works_with_login_shell("/usr/bin/dash");
}

/// The local user's ssh processes (ssh itself: ssh-agent is another name), once those just
/// killed are gone: waits up to 5 s for the list to empty.
fn ssh_processes(sb: &Sandbox) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let out = std::process::Command::new("pgrep")
            .args(["-a", "-u", &sb.local.name, "-x", "ssh"])
            .output()
            .expect("pgrep");
        let left = String::from_utf8_lossy(&out.stdout).into_owned();
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_bashrc_that_hangs_is_named_as_the_startup_file_not_a_silent_sshd() {
    let mut sb = Sandbox::start();
    sb.set_remote_shell("/bin/bash");
    sb.setup_ok();
    sb.no_askpass();
    // Before anything, longer than the probe's 20 s: as a ~/.bashrc that waits for input or on
    // a network mount does.
    sb.write_remote(".bashrc", "sleep 600\n".as_bytes(), 0o644);
    let limit = Duration::from_secs(90);
    // Each waits out the probe's bound: setup, doctor and docker itself run side by side.
    let (setup, doctor, docker) = std::thread::scope(|scope| {
        let setup = scope.spawn(|| sb.setup_within(limit));
        let doctor = scope.spawn(|| sb.rdock_within(&["doctor", &sb.dest()], limit));
        let docker = scope.spawn(|| {
            let args = ["--context", &sb.context(), "version"];
            sb.local_within("docker", &args, Duration::from_secs(30))
        });
        (
            setup.join().unwrap(),
            doctor.join().unwrap(),
            docker.join().unwrap(),
        )
    });
    let named = "but the remote login shell did not run a command within 20 s: most likely a startup file it reads for every command waits for input or runs something slow (~/.bashrc for bash";
    let fix = "make the first line of ~/.bashrc `case $- in *i*) ;; *) return;; esac`";
    for run in [&setup, &doctor] {
        assert_eq!(run.code, Some(1), "{run}");
        assert!(unwrapped(&run.stdout).contains(named), "{run}");
        assert!(unwrapped(&run.stdout).contains(fix), "{run}");
        assert!(
            unwrapped(&run.stdout).contains("Authenticated to 127.0.0.1"),
            "{run}"
        );
        assert!(!run.all().contains("no SSH answer"), "{run}");
        // The probe's 20 s, then at most the login check's 10 s.
        assert!(run.elapsed < Duration::from_secs(45), "{run}");
    }
    assert!(
        unwrapped(&doctor.stdout).contains("sshd answers on")
            && unwrapped(&doctor.stdout).contains("accepts the key"),
        "the connection and the key are not blamed: {doctor}"
    );
    // docker's ssh transport hangs the same way (the harness kills it at 30 s).
    assert!(docker.timed_out, "{docker}");
    assert_eq!(ssh_processes(&sb), "", "ssh left running");

    // The fix as given: the guard first, then the same sleep.
    sb.write_remote(
        ".bashrc",
        "case $- in *i*) ;; *) return;; esac\nsleep 600\n".as_bytes(),
        0o644,
    );
    let green = sb.rdock_within(&["doctor", &sb.dest()], limit);
    assert_eq!(green.code, Some(0), "{green}");
    assert!(green.elapsed < Duration::from_secs(20), "{green}");
}
