//! The remote repairs end to end: a remote user outside group docker, with a sudo rule that needs
//! no password, is added by `rdock setup --yes` without a terminal (and is not without `--yes`);
//! docker that only the login shell (bash, zsh, fish) finds is put on the PATH of ssh commands in
//! that shell's startup file, keeping every other byte; and sshd's MaxSessions refusing a session
//! on a shared connection is reported by doctor with its sshd_config fix.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{require, require_tools, which, Run, Sandbox};
use crate::support::unwrapped;

fn root(program: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A sudo rule for one user that needs no password, for as long as it lives.
struct Sudoers(PathBuf);

impl Sudoers {
    fn allow(user: &str, command: &str) -> Sudoers {
        let path = PathBuf::from(format!("/etc/sudoers.d/rdock-test-{user}"));
        fs::write(&path, format!("{user} ALL=(root) NOPASSWD: {command}\n")).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o440)).unwrap();
        root("visudo", &["-c", "-f", path.to_str().unwrap()]);
        Sudoers(path)
    }
}

impl Drop for Sudoers {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// The remote user's groups, by name.
fn groups(sb: &Sandbox) -> Vec<String> {
    let out = root("id", &["-nG", &sb.remote.name]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Doctor is green and `docker --context CTX ps` works, run as a person's would: with no askpass,
/// so nothing can type a password.
fn assert_green(sb: &mut Sandbox) {
    sb.no_askpass();
    let doctor = sb.rdock(&["doctor"]);
    assert_eq!(doctor.code, Some(0), "{doctor}");
    assert!(!unwrapped(&doctor.stdout).contains('✗'), "{doctor}");
    let ps = sb.local("docker", &["--context", &sb.context(), "ps"]);
    assert_eq!(ps.code, Some(0), "{ps}");
    assert!(unwrapped(&ps.stdout).contains("CONTAINER ID"), "{ps}");
}

/// `ssh ARGS… -- 127.0.0.1` as the local user, to the remote user, through ~/.ssh/config.
pub(crate) fn ssh(sb: &Sandbox, args: &[&str], command: &[&str]) -> Run {
    let port = sb.port.to_string();
    let mut argv: Vec<&str> = args.to_vec();
    argv.extend(["-l", &sb.remote.name, "-p", &port, "--", "127.0.0.1"]);
    argv.extend(command);
    sb.local("ssh", &argv)
}

const SETUP_FLAGS: [&str; 3] = ["--no-passphrase", "--install-key", "--accept-host-key"];

/// `rdock setup DEST --yes` with [`SETUP_FLAGS`], which must exit with `code`.
fn setup_yes(sb: &Sandbox, code: i32) -> Run {
    let dest = sb.dest();
    let run = sb.rdock(&[&["setup", &dest, "--yes"], &SETUP_FLAGS[..]].concat());
    assert_eq!(
        run.code,
        Some(code),
        "{run}\n--- sshd.log\n{}",
        sb.sshd_log()
    );
    run
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_user_outside_group_docker_is_added_through_sudo_n_under_yes_and_never_without_it() {
    // Before anything is made: a machine that cannot run it fails here, saying why.
    require();
    require_tools(&["sudo", "visudo", "gpasswd", "usermod"]);
    let mut sb = Sandbox::start();
    let _rule = Sudoers::allow(&sb.remote.name, "/usr/sbin/usermod");
    let dest = sb.dest();
    let setup = sb.rdock(&[&["setup", &dest, "--yes", "--multiplex"], &SETUP_FLAGS[..]].concat());
    assert_eq!(setup.code, Some(0), "{setup}");

    // The master setup left logged in with the group: end it, then take the user out of it.
    ssh(&sb, &["-O", "exit"], &[]);
    root("gpasswd", &["-d", &sb.remote.name, "docker"]);
    assert!(!groups(&sb).contains(&"docker".to_string()));
    // Doctor's probe opens a new master, which logs in without the group and stays.
    let doctor = sb.rdock(&["doctor"]);
    assert_eq!(doctor.code, Some(1), "{doctor}");
    let usermod = format!("sudo usermod -aG docker {}", sb.remote.name);
    assert!(
        unwrapped(&doctor.stdout).contains("✗ remote-daemon"),
        "{doctor}"
    );
    assert!(unwrapped(&doctor.stdout).contains(&usermod), "{doctor}");
    assert_eq!(
        ssh(&sb, &["-O", "check"], &[]).code,
        Some(0),
        "a master runs"
    );

    // No terminal, no --yes: setup stops, names --yes and the command, changes nothing.
    let declined = sb.rdock(&["setup", &dest]);
    assert_eq!(declined.code, Some(1), "{declined}");
    assert!(
        unwrapped(&declined.stdout).contains("✗ remote-daemon"),
        "{declined}"
    );
    assert!(
        unwrapped(&declined.stdout).contains("pass --yes to agree"),
        "{declined}"
    );
    assert!(unwrapped(&declined.stdout).contains(&usermod), "{declined}");
    assert!(!groups(&sb).contains(&"docker".to_string()));

    // --yes: `sudo -n usermod` runs; the check after it logs in anew, not through the master.
    let repaired = sb.rdock(&["setup", &dest, "--yes", "--multiplex"]);
    assert_eq!(repaired.code, Some(0), "{repaired}");
    let added = format!("added {} to group docker on 127.0.0.1", sb.remote.name);
    assert!(unwrapped(&repaired.stdout).contains(&added), "{repaired}");
    assert!(
        repaired
            .stdout
            .contains("which kept the old groups, takes no new sessions"),
        "the master was asked to stop: {repaired}"
    );
    assert!(groups(&sb).contains(&"docker".to_string()));
    assert_green(&mut sb);
}

/// A folder in /opt for one test: `bin/docker`, a link to the docker CLI, and `sys/`, links to
/// every program in /usr/bin and /usr/sbin but docker's, for a PATH on which docker is not.
struct OptDir(tempfile::TempDir);

impl OptDir {
    fn new() -> OptDir {
        OptDir::with(&fs::canonicalize(which("docker").unwrap()).unwrap())
    }

    /// With `bin/docker` a link to `docker`.
    fn with(docker: &Path) -> OptDir {
        let dir = tempfile::Builder::new()
            .prefix("rdock-test-")
            .tempdir_in("/opt")
            .unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let (bin, sys) = (dir.path().join("bin"), dir.path().join("sys"));
        fs::create_dir(&bin).unwrap();
        fs::create_dir(&sys).unwrap();
        std::os::unix::fs::symlink(docker, bin.join("docker")).unwrap();
        for folder in ["/usr/bin", "/usr/sbin"] {
            for entry in fs::read_dir(folder).unwrap().flatten() {
                let name = entry.file_name();
                let link = sys.join(&name);
                if !name.to_string_lossy().starts_with("docker") && !link.exists() {
                    std::os::unix::fs::symlink(entry.path(), link).unwrap();
                }
            }
        }
        OptDir(dir)
    }

    fn bin(&self) -> String {
        self.0.path().join("bin").display().to_string()
    }

    fn sys(&self) -> String {
        self.0.path().join("sys").display().to_string()
    }
}

/// docker only in /opt/…/bin, which the login shell's profile puts on its PATH (the line
/// `login(BIN)` appended to `profile`) and ssh commands never see: setup adds the line to `rc`
/// (which holds `rc_before`, or is skel's), keeping every other byte, as `expected(before, line)`
/// says; then doctor is green and a rerun adds nothing.
fn docker_only_the_login_shell_finds(
    shell: &str,
    (profile, login): (&str, fn(&str) -> String),
    rc: &str,
    rc_before: Option<&str>,
    expected: fn(&str, &str) -> String,
) {
    // Before anything is made: a machine that cannot run it fails here, saying why.
    require();
    require_tools(&[shell, "usermod"]);
    let opt = OptDir::new();
    let path = format!("SetEnv PATH={}", opt.sys());
    let mut sb = Sandbox::start_with(&[&path]);
    root(
        "usermod",
        &[
            "-s",
            which(shell).unwrap().to_str().unwrap(),
            &sb.remote.name,
        ],
    );
    let profile_path = sb.remote.home.join(profile);
    let mut text = fs::read_to_string(&profile_path).unwrap_or_default();
    text.push_str(&login(&opt.bin()));
    sb.write_remote(profile, text.as_bytes(), 0o644);
    let rc_path = match rc_before {
        Some(text) => sb.write_remote(rc, text.as_bytes(), 0o644),
        None => sb.remote.home.join(rc),
    };
    let before = fs::read(&rc_path).unwrap();
    let meta = fs::metadata(&rc_path).unwrap();
    let line = match shell {
        "fish" => format!("set -gx PATH $PATH {}", opt.bin()),
        _ => format!("export PATH=\"$PATH:{}\"", opt.bin()),
    } + "  # added by rdock: docker for ssh commands";

    let dest = sb.dest();
    let declined = sb.rdock(&[&["setup", &dest], &SETUP_FLAGS[..]].concat());
    assert_eq!(declined.code, Some(1), "{declined}");
    assert!(
        unwrapped(&declined.stdout).contains("✗ remote-path"),
        "{declined}"
    );
    let found = format!("finds it at {}/docker", opt.bin());
    assert!(unwrapped(&declined.stdout).contains(&found), "{declined}");
    assert!(unwrapped(&declined.stdout).contains(&line), "{declined}");
    assert!(
        unwrapped(&declined.stdout).contains("pass --yes to agree"),
        "{declined}"
    );
    assert_eq!(
        fs::read(&rc_path).unwrap(),
        before,
        "nothing written without consent"
    );

    let setup = setup_yes(&sb, 0);
    let added = format!("added `{line}` to ~/{rc} on 127.0.0.1");
    assert!(unwrapped(&setup.stdout).contains(&added), "{setup}");
    let after = fs::read_to_string(&rc_path).unwrap();
    let before = String::from_utf8(before).unwrap();
    assert_eq!(after, expected(&before, &line));
    let now = fs::metadata(&rc_path).unwrap();
    assert_eq!(
        (now.mode(), now.uid(), now.gid()),
        (meta.mode(), meta.uid(), meta.gid()),
        "mode and owner kept"
    );
    assert_no_temp_file(rc_path.parent().unwrap());
    assert_green(&mut sb);

    setup_yes(&sb, 0);
    assert_eq!(
        fs::read_to_string(&rc_path).unwrap(),
        after,
        "a rerun adds nothing"
    );
}

fn assert_no_temp_file(dir: &Path) {
    let left: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".rdock-rc"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// What a POSIX login profile says to put BIN first on PATH.
fn sh_login(bin: &str) -> String {
    format!("PATH=\"{bin}:$PATH\"\n")
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn docker_only_a_bash_login_shell_finds_gets_a_line_above_the_bashrc_check() {
    // Debian's skel .bashrc returns early for a shell that is not interactive: the line goes
    // above that check's comment.
    docker_only_the_login_shell_finds(
        "bash",
        (".profile", sh_login),
        ".bashrc",
        None,
        |before, line| {
            let at = before.find("# If not running interactively").unwrap();
            format!("{}{line}\n{}", &before[..at], &before[at..])
        },
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn docker_only_a_zsh_login_shell_finds_gets_a_line_in_zshenv() {
    // A .zshenv of the user's own, without a final line break: the line goes after it.
    docker_only_the_login_shell_finds(
        "zsh",
        (".zprofile", sh_login),
        ".zshenv",
        Some("# mine\nexport EDITOR=vi"),
        |before, line| format!("{before}\n{line}\n"),
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn docker_only_a_fish_login_shell_finds_gets_set_gx_above_config_fish_s_early_exit() {
    // fish has no profile of its own: a login-only PATH lives in an `if status is-login` block
    // (here in conf.d, which fish reads before config.fish, for `fish -c` too). config.fish
    // stops early for a shell that is not interactive: the line goes above that.
    docker_only_the_login_shell_finds(
        "fish",
        (".config/fish/conf.d/login-path.fish", |bin| {
            format!("if status is-login\n    set -gx PATH {bin} $PATH\nend\n")
        }),
        ".config/fish/config.fish",
        Some("set -g fish_greeting\nstatus is-interactive; or exit\nabbr -a g git\n"),
        |before, line| {
            let at = before.find("status is-interactive").unwrap();
            format!("{}{line}\n{}", &before[..at], &before[at..])
        },
    );
}

/// What a file is, to tell that nothing replaced or changed it: device, inode, type, mode, size,
/// modification time, and the link's target for a link.
fn identity(path: &Path) -> (u64, u64, u32, u64, i64, Option<PathBuf>) {
    let m = fs::symlink_metadata(path).unwrap();
    let target = fs::read_link(path).ok();
    (
        m.dev(),
        m.ino(),
        m.mode(),
        m.size(),
        m.mtime_nsec() + m.mtime() * 1_000_000_000,
        target,
    )
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn docker_only_a_sh_login_shell_finds_is_linked_into_usr_local_bin_and_an_existing_file_is_kept() {
    // Before anything is made: a machine that cannot run it fails here, saying why.
    require();
    require_tools(&["sudo", "visudo", "unshare", "mount"]);
    // The machine's /usr/local/bin holds its own docker CLI, and the sandbox's remote runs it:
    // sshd gets a mount namespace of its own, with an empty folder of the test's over
    // /usr/local/bin. The link lands in that folder; the machine's docker is never touched.
    let machine = Path::new("/usr/local/bin/docker");
    let machine_before = fs::symlink_metadata(machine)
        .ok()
        .map(|_| identity(machine));
    let usr_local_bin = tempfile::Builder::new()
        .prefix("rdock-usr-local-bin-")
        .tempdir()
        .unwrap();
    fs::set_permissions(usr_local_bin.path(), fs::Permissions::from_mode(0o755)).unwrap();
    // /opt/…/bin/docker must not lead back into /usr/local/bin, where the link will point.
    let opt = OptDir::with(Path::new("/usr/bin/docker"));
    let path = format!("SetEnv PATH={}:/usr/local/bin", opt.sys());
    let mut sb = Sandbox::start_with(&[&path]);
    sb.restart_sshd_over(&[(usr_local_bin.path(), Path::new("/usr/local/bin"))]);
    let _rule = Sudoers::allow(&sb.remote.name, "/usr/bin/ln");
    // The login shell is sh (dash), which reads no file for ssh commands; its profile puts
    // /opt/…/bin first.
    let profile = format!("PATH=\"{}:$PATH\"\n", opt.bin());
    sb.write_remote(".profile", profile.as_bytes(), 0o644);
    let docker = format!("{}/docker", opt.bin());
    let link = usr_local_bin.path().join("docker");

    // A file already named docker there (not executable, so not on PATH): never replaced.
    fs::write(&link, "not rdock's\n").unwrap();
    let kept = identity(&link);
    let refused = setup_yes(&sb, 1);
    assert!(
        unwrapped(&refused.stdout).contains("✗ remote-path"),
        "{refused}"
    );
    assert!(
        refused
            .stdout
            .contains(&format!("sudo ln -sn {docker} /usr/local/bin/docker")),
        "{refused}"
    );
    let exists = "rdock: /usr/local/bin/docker exists already, and rdock never replaces it";
    assert!(unwrapped(&refused.stdout).contains(exists), "{refused}");
    assert!(
        !unwrapped(&refused.stdout).contains("needs a password"),
        "sudo was never the trouble: {refused}"
    );
    assert_eq!(identity(&link), kept, "the file there is left as it was");
    assert_eq!(fs::read_to_string(&link).unwrap(), "not rdock's\n");

    // Moved away, as a person would: setup links docker, and ssh commands find it.
    fs::remove_file(&link).unwrap();
    let setup = setup_yes(&sb, 0);
    let linked = format!("linked {docker} into /usr/local/bin on 127.0.0.1");
    assert!(unwrapped(&setup.stdout).contains(&linked), "{setup}");
    assert_eq!(fs::read_link(&link).unwrap(), PathBuf::from(&docker));
    assert_green(&mut sb);
    let machine_after = fs::symlink_metadata(machine)
        .ok()
        .map(|_| identity(machine));
    assert_eq!(
        machine_after, machine_before,
        "the machine's /usr/local/bin/docker is untouched"
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn sshd_refusing_a_session_on_a_shared_connection_is_named_with_max_sessions() {
    let sb = Sandbox::start_with(&["MaxSessions 1"]);
    let dest = sb.dest();
    let setup = sb.rdock(&[&["setup", &dest, "--yes", "--multiplex"], &SETUP_FLAGS[..]].concat());
    assert_eq!(setup.code, Some(0), "{setup}");
    assert!(
        unwrapped(&setup.stdout).contains("MaxSessions 30"),
        "{setup}"
    );

    // One session held open on the master: sshd refuses the next one on that connection. A
    // session setup's docker call still has open on the master can make the held ssh's own
    // session request be refused too, and ssh then opens a connection of its own: hold again.
    let port = sb.port.to_string();
    let hold = || {
        sb.as_local("ssh")
            .args([
                "-l",
                &sb.remote.name,
                "-p",
                &port,
                "--",
                "127.0.0.1",
                "sleep",
                "60",
            ])
            .spawn()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut held = hold();
    let mut tried_since = Instant::now();
    loop {
        let probe = ssh(&sb, &[], &["true"]);
        if probe.stderr.contains("Session open refused by peer") {
            break;
        }
        assert!(Instant::now() < deadline, "no refusal: {probe}");
        if tried_since.elapsed() > Duration::from_secs(5) {
            let _ = held.kill();
            let _ = held.wait();
            held = hold();
            tried_since = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    let doctor = sb.rdock(&["doctor", "--json"]);
    let _ = held.kill();
    let _ = held.wait();
    assert_eq!(doctor.code, Some(0), "a warning: {doctor}");
    let v: serde_json::Value = serde_json::from_str(&doctor.stdout).unwrap();
    let connection = super::doctor::check(&v, "connection");
    assert_eq!(connection["status"], "warn", "{v:#}");
    assert!(
        connection["message"]
            .as_str()
            .unwrap()
            .contains("(MaxSessions, 10 by default)"),
        "{v:#}"
    );
    assert!(
        connection["fix"]
            .as_str()
            .unwrap()
            .starts_with("on 127.0.0.1: set `MaxSessions 30` in /etc/ssh/sshd_config"),
        "{v:#}"
    );
}
