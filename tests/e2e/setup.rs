//! `rdock setup` end to end, against a real sshd and a real dockerd.

use crate::harness::{assert_nothing_changed, setup_args, Sandbox};
use crate::support::snapshot::Transcript;

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn fresh_user_gets_a_working_context() {
    let sb = Sandbox::start();
    let run = sb.setup_ok();
    let out = run.stdout.clone();
    for line in [
        "✓ tools",
        "✓ destination",
        "✓ key ",
        "✓ identity",
        "✓ host-key",
        "✓ auth",
        "✓ remote-path",
        "✓ remote-daemon",
        "✓ agent-keys",
        "✓ context",
        "✓ use",
        "✓ verify",
    ] {
        assert!(out.contains(line), "missing {line:?} in\n{run}");
    }
    assert!(out.contains("created ~/.ssh/id_ed25519"), "{run}");
    assert!(
        out.contains("appended the key to ~/.ssh/authorized_keys"),
        "{run}"
    );
    let endpoint = sb.local(
        "docker",
        &[
            "context",
            "inspect",
            "--format",
            "{{.Endpoints.docker.Host}}",
            &sb.context(),
        ],
    );
    assert_eq!(
        endpoint.stdout.trim(),
        format!("ssh://{}@127.0.0.1:{}", sb.remote.name, sb.port)
    );
    // The real proof: plain `docker ps` goes through the new current context over ssh.
    let ps = sb.local("docker", &["ps"]);
    assert_eq!(
        ps.code,
        Some(0),
        "docker ps through the context failed:\n{ps}"
    );
    assert!(ps.stdout.contains("CONTAINER ID"), "{ps}");
    let info = sb.local(
        "docker",
        &[
            "--context",
            &sb.context(),
            "info",
            "--format",
            "{{.Driver}}",
        ],
    );
    assert_eq!(info.stdout.trim(), "vfs", "{info}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn second_run_changes_nothing_and_says_so() {
    let sb = Sandbox::start();
    sb.setup_ok();
    let before = (
        sb.snapshot(".ssh"),
        sb.snapshot(".docker"),
        sb.snapshot(".config"),
    );
    let again = sb.setup_ok();
    let after = (
        sb.snapshot(".ssh"),
        sb.snapshot(".docker"),
        sb.snapshot(".config"),
    );
    assert!(before == after, "the second run changed files:\n{again}");
    assert_nothing_changed(&again);
    let public = std::fs::read_to_string(sb.local.home.join(".ssh/id_ed25519.pub")).unwrap();
    let blob = public.split_whitespace().nth(1).unwrap();
    assert_eq!(
        sb.authorized_keys().matches(blob).count(),
        1,
        "{}",
        sb.authorized_keys()
    );
    // --quiet, as a dotfiles script runs it: nothing to report, so the summary line alone; and
    // doctor --quiet the same.
    let quiet = sb.rdock(&setup_args(&sb.dest(), &["--quiet"]));
    assert_eq!(quiet.code, Some(0), "{quiet}");
    assert_eq!(
        quiet.stdout, "Everything is already set up; nothing changed.\n",
        "{quiet}"
    );
    let doctor = sb.rdock(&["doctor", "-q"]);
    assert_eq!(doctor.code, Some(0), "{doctor}");
    assert_eq!(doctor.stdout.lines().count(), 1, "{doctor}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn the_key_install_keeps_a_last_line_without_a_break_and_writes_one_line() {
    let sb = Sandbox::start();
    let (key, _) = sb.make_key("");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    // A comment that names rdock's key (it authorizes nothing), and another key on a last line
    // without a line break.
    let before = format!(
        "# old: {}\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP other@box",
        public.trim_end()
    );
    sb.write_remote(".ssh/authorized_keys", before.as_bytes(), 0o600);
    let run = sb.setup_ok();
    assert!(
        run.stdout
            .contains("appended the key to ~/.ssh/authorized_keys"),
        "{run}"
    );
    // The key's line ends without a break, as the file did: a revoke restores it exactly.
    let after = format!("{before}\n{}", public.trim_end());
    assert_eq!(sb.authorized_keys(), after);
    sb.setup_changes_nothing(&sb.dest());
    assert_eq!(sb.authorized_keys(), after, "the second setup wrote a line");
    assert_eq!(sb.remote_mode(".ssh/authorized_keys"), 0o600);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn an_existing_key_is_reused_and_never_rewritten() {
    let sb = Sandbox::start();
    let (key, private) = sb.make_key("");
    let public = std::fs::read_to_string(key.with_extension("pub")).unwrap();
    let run = sb.setup_ok();
    assert!(
        run.stdout
            .contains("✓ key            ~/.ssh/id_ed25519 (ssh-ed25519, no passphrase)"),
        "{run}"
    );
    assert_eq!(std::fs::read(&key).unwrap(), private);
    assert_eq!(
        std::fs::read_to_string(key.with_extension("pub")).unwrap(),
        public
    );
    assert!(sb
        .authorized_keys()
        .contains(public.split_whitespace().nth(1).unwrap()));
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_missing_public_half_is_derived_without_touching_the_private_key() {
    let sb = Sandbox::start();
    let (key, private) = sb.make_key("rm ~/.ssh/id_ed25519.pub");
    let run = sb.setup_ok();
    assert!(
        run.stdout
            .contains("wrote ~/.ssh/id_ed25519.pub from ~/.ssh/id_ed25519"),
        "{run}"
    );
    assert_eq!(std::fs::read(&key).unwrap(), private);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_context_that_points_elsewhere_is_refused_without_force() {
    let sb = Sandbox::start();
    let elsewhere = "ssh://someone@127.0.0.1:1";
    let made = sb.local(
        "docker",
        &[
            "context",
            "create",
            &sb.context(),
            "--docker",
            &format!("host={elsewhere}"),
        ],
    );
    assert_eq!(made.code, Some(0), "{made}");
    let args = [
        "setup",
        &sb.dest(),
        "--yes",
        "--no-passphrase",
        "--accept-host-key",
    ];
    let run = sb.rdock(&args);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stdout
            .contains("already points to ssh://someone@127.0.0.1:1"),
        "{run}"
    );
    assert!(run.stdout.contains("--force"), "{run}");
    let endpoint = |sb: &Sandbox| {
        sb.local(
            "docker",
            &[
                "context",
                "inspect",
                "--format",
                "{{.Endpoints.docker.Host}}",
                &sb.context(),
            ],
        )
        .stdout
    };
    assert_eq!(endpoint(&sb).trim(), elsewhere);
    let forced = sb.rdock(&[&args[..], &["--force"]].concat());
    assert_eq!(forced.code, Some(0), "{forced}");
    assert!(forced.stdout.contains("updated context"), "{forced}");
    assert_eq!(
        endpoint(&sb).trim(),
        format!("ssh://{}@127.0.0.1:{}", sb.remote.name, sb.port)
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn dry_run_with_no_agent_shows_every_step_to_the_end_and_exits_0() {
    let mut sb = Sandbox::start();
    // No ssh-agent for this user at all: SSH_AUTH_SOCK is not set.
    sb.env.insert("SSH_AUTH_SOCK".into(), String::new());
    let before = sb.snapshot_home();
    let run = sb.rdock(&["setup", &sb.dest(), "--dry-run"]);
    assert_eq!(run.code, Some(0), "{run}");
    let ids: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        .collect();
    let plan = [
        "tools",
        "destination",
        "key",
        "ssh-config",
        "agent",
        "identity",
        "agent-keys",
        "connection",
        "host-key",
        "auth",
        "remote-path",
        "remote-daemon",
        "context",
        "use",
        "environment",
        "verify",
        "vscode",
    ];
    for id in plan {
        assert!(ids.contains(&id), "no line for {id}:\n{run}");
    }
    assert!(
        run.stdout
            .contains("✗ agent          no ssh-agent: SSH_AUTH_SOCK is not set"),
        "{run}"
    );
    assert!(run.stdout.contains("- identity       skipped: "), "{run}");
    assert!(
        run.stdout.lines().last().unwrap().starts_with("dry run: "),
        "{run}"
    );
    assert_eq!(
        before,
        sb.snapshot_home(),
        "--dry-run changed the home:\n{run}"
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn dry_run_writes_nothing_and_shows_the_commands() {
    let sb = Sandbox::start();
    let before = sb.snapshot_home();
    let run = sb.rdock(&[
        "setup",
        &sb.dest(),
        "--dry-run",
        "--yes",
        "--no-passphrase",
        "--install-key",
        "--accept-host-key",
    ]);
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains("would run: ssh-keygen -q -t ed25519 -f"),
        "{run}"
    );
    assert!(run.stdout.contains("dry run:"), "{run}");
    Transcript::new(&sb).assert("setup_dry_run", &[&run]);
    assert_eq!(
        before,
        sb.snapshot_home(),
        "--dry-run changed the home:\n{run}"
    );
    assert_eq!(sb.authorized_keys(), "");
    let agent = sb.local("ssh-add", &["-l"]);
    assert_eq!(
        agent.code,
        Some(1),
        "the agent must still be empty: {agent}"
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn without_a_terminal_or_consent_setup_stops_and_names_the_flag() {
    let sb = Sandbox::start();
    let passphrase = sb.rdock(&["setup", &sb.dest()]);
    assert_eq!(passphrase.code, Some(1), "{passphrase}");
    assert!(
        passphrase.stdout.contains("--no-passphrase"),
        "{passphrase}"
    );
    let host_key = sb.rdock(&["setup", &sb.dest(), "--no-passphrase"]);
    assert_eq!(host_key.code, Some(1), "{host_key}");
    assert!(host_key.stdout.contains("--accept-host-key"), "{host_key}");
    let run = sb.rdock(&["setup", &sb.dest(), "--no-passphrase", "--accept-host-key"]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stdout.contains("--install-key"), "{run}");
    assert!(run.elapsed.as_secs() < 30, "took {:?}", run.elapsed);
    assert_eq!(sb.authorized_keys(), "");
    Transcript::new(&sb).assert("setup_without_consent", &[&passphrase, &host_key, &run]);
}

/// What a user reads from a first setup and a second one, pinned in tests/snapshots/.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_fresh_setup_and_a_rerun_read_as_pinned() {
    let sb = Sandbox::start();
    let transcript = Transcript::new(&sb);
    transcript.assert("setup_fresh", &[&sb.setup_ok()]);
    transcript.assert("setup_rerun", &[&sb.setup_ok()]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn setup_ends_with_the_vscode_step_and_keeps_every_other_byte() {
    let sb = Sandbox::start();
    let user = sb.local.home.join(".config/Code/User");
    let made = sb.local("mkdir", &["-p", user.to_str().unwrap()]);
    assert_eq!(made.code, Some(0), "{made}");
    let settings = user.join("settings.json");
    let before = "// my settings\n{\n    \"editor.tabSize\": 2, /* keep */\n    \"docker.explorerRefreshInterval\": 1000,\n}\n";
    std::fs::write(&settings, before).unwrap();
    let run = sb.setup_ok();
    let last = run
        .stdout
        .lines()
        .rfind(|l| l.starts_with(['✓', '!', '✗', '-']))
        .unwrap();
    assert!(
        last.contains("vscode"),
        "the VS Code step must come last:\n{run}"
    );
    let after = std::fs::read_to_string(&settings).unwrap();
    assert_eq!(after, before.replace(": 1000,", ": 3000,"), "{run}");
    let again = sb.setup_ok();
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), after);
    assert!(again.stdout.contains("nothing changed"), "{again}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_private_key_others_can_read_is_made_0600_and_said_so() {
    let sb = Sandbox::start();
    let (key, bytes) = sb.make_key("chmod 644 ~/.ssh/id_ed25519");
    let run = sb.setup_ok();
    assert!(
        run.stdout
            .contains("✓ key            ~/.ssh/id_ed25519 is now mode 0600"),
        "{run}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::read(&key).unwrap(),
        bytes,
        "the key's bytes changed"
    );
    // Doctor, without fixing, says so and gives the command.
    let chmod = sb.local("chmod", &["644", key.to_str().unwrap()]);
    assert_eq!(chmod.code, Some(0));
    let doctor = sb.rdock(&["doctor"]);
    assert!(doctor.stdout.contains("is mode 0644"), "{doctor}");
    assert!(doctor.stdout.contains("fix: chmod 600 "), "{doctor}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn setup_says_how_to_use_the_context_from_one_shell_and_what_a_devcontainer_mounts() {
    let sb = Sandbox::start();
    let ctx = sb.context();
    let devcontainer = sb.dir.join(".devcontainer");
    std::fs::create_dir(&devcontainer).unwrap();
    std::fs::write(
        devcontainer.join("devcontainer.json"),
        "{\"image\": \"debian\"}\n",
    )
    .unwrap();
    let run = sb.setup_ok();
    assert!(
        run.stdout.contains(&format!(
            "To use it from one shell without changing the current context: export DOCKER_CONTEXT={ctx} (or docker --context {ctx} …)"
        )),
        "{run}"
    );
    assert!(
        run.stdout
            .contains("A devcontainer.json is here: with this context, its bind mounts name paths on the remote host"),
        "{run}"
    );
    // Elsewhere (no devcontainer.json in the directory), only the shell line.
    std::fs::remove_dir_all(&devcontainer).unwrap();
    let again = sb.setup_ok();
    assert!(again.stdout.contains("export DOCKER_CONTEXT="), "{again}");
    assert!(!again.stdout.contains("devcontainer"), "{again}");
    // The variable does what the line says: docker reaches the remote through it.
    let ps = sb.local("env", &[&format!("DOCKER_CONTEXT={ctx}"), "docker", "ps"]);
    assert_eq!(ps.code, Some(0), "{ps}");
}
