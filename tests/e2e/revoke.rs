//! `rdock remove NAME --revoke`, and the command `rdock remove` prints to revoke the key by hand,
//! end to end: a real sshd reads the authorized_keys they leave, and ssh with the key must then be
//! refused.

use super::fleet::add_context;
use crate::harness::{Run, Sandbox};
use crate::support::snapshot::Transcript;

/// Another key, in lines that must stay.
const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP";

/// The local user's public key line, as setup made it.
fn public(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.local.home.join(".ssh/id_ed25519.pub"))
        .unwrap()
        .trim_end()
        .to_string()
}

/// `ssh … true` as the local user with only rdock's key, as the docker CLI would connect.
fn login_with_the_key(sb: &Sandbox) -> Run {
    login_with(sb, ".ssh/id_ed25519")
}

/// `ssh … true` as the local user with only the key at `rel` in its home.
fn login_with(sb: &Sandbox, rel: &str) -> Run {
    let key = sb.local.home.join(rel);
    let port = sb.port.to_string();
    sb.local(
        "ssh",
        &[
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-i",
            key.to_str().unwrap(),
            "-p",
            &port,
            "-l",
            &sb.remote.name,
            "--",
            "127.0.0.1",
            "true",
        ],
    )
}

/// The run exited with `code`, and its output (stdout and stderr) holds every one of `words`.
fn expect(run: &Run, code: i32, words: &[&str]) {
    assert_eq!(run.code, Some(code), "{run}");
    for word in words {
        assert!(run.all().contains(word), "no {word:?} in:\n{run}");
    }
}

fn assert_key_refused(sb: &Sandbox) {
    expect(&login_with_the_key(sb), 255, &["Permission denied"]);
}

fn context_exists(sb: &Sandbox, name: &str) -> bool {
    sb.local("docker", &["context", "inspect", name]).code == Some(0)
}

/// A file with the key twice (once behind options, once with CRLF) among lines that must stay:
/// a comment, another key behind options with quotes, a blank line, and a last line without a
/// line break. Returns it and what must be left of it.
fn mixed(public: &str) -> (String, String) {
    let keep = [
        "# keys for this box, kept by hand\r\n".to_string(),
        format!("command=\"echo \\\"hi there\\\"\",restrict ssh-ed25519 {OTHER} other@box\n"),
        "\n".to_string(),
        format!("ssh-ed25519 {OTHER} last line, no line break"),
    ];
    let text = [
        keep[0].clone(),
        keep[1].clone(),
        format!("no-port-forwarding,from=\"127.0.0.1\" {public} with options\n"),
        keep[2].clone(),
        format!("{public}\r\n"),
        keep[3].clone(),
    ]
    .concat();
    (text, keep.concat())
}

/// A sandbox where setup has run.
fn set_up() -> Sandbox {
    let sb = Sandbox::start();
    sb.setup_ok();
    sb
}

/// A sandbox where setup has run, whose authorized_keys (mode 0644) is then [`mixed`]; and what
/// must be left of the file.
fn set_up_mixed() -> (Sandbox, String) {
    let sb = set_up();
    let (text, left) = mixed(&public(&sb));
    sb.write_remote(".ssh/authorized_keys", text.as_bytes(), 0o644);
    (sb, left)
}

/// `rdock remove CTX --revoke --yes`, which must take the key out and leave `left` (mode `mode`,
/// and nothing else in ~/.ssh), then the same again on a context made anew, which must find
/// nothing to revoke. Returns both runs.
fn revoke_twice(sb: &Sandbox, left: &str, mode: u32) -> (Run, Run) {
    let ctx = sb.context();
    expect(&login_with_the_key(sb), 0, &[]);
    let run = sb.rdock(&["remove", &ctx, "--revoke", "--yes"]);
    expect(&run, 0, &["removed key ED25519 SHA256:"]);
    assert_eq!(sb.authorized_keys(), left);
    assert_eq!(sb.remote_mode(".ssh/authorized_keys"), mode);
    assert_eq!(sb.remote_listing(".ssh"), ["authorized_keys"]);
    assert_key_refused(sb);
    assert!(!context_exists(sb, &ctx), "the context is still there");
    assert!(
        !run.stdout.contains("To revoke the key"),
        "a hint after a revoke: {run}"
    );

    add_context(sb, &ctx, sb.port);
    let again = sb.rdock(&["remove", &ctx, "--revoke", "--yes"]);
    expect(&again, 0, &["nothing to revoke"]);
    assert!(!context_exists(sb, &ctx), "the second run left the context");
    assert_eq!(
        sb.authorized_keys(),
        left,
        "the second run changed the file"
    );
    assert_eq!(sb.remote_listing(".ssh"), ["authorized_keys"]);
    (run, again)
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn revoke_takes_out_the_only_line_and_a_second_run_finds_nothing() {
    let sb = set_up();
    assert_eq!(sb.authorized_keys(), format!("{}\n", public(&sb)));
    let (run, again) = revoke_twice(&sb, "", 0o600);
    expect(&run, 0, &["(1 line)"]);
    Transcript::new(&sb).assert("revoke_only_line", &[&run, &again]);
    // Setup puts the key back in the file the revoke left empty.
    sb.setup_ok();
    assert_eq!(sb.authorized_keys(), format!("{}\n", public(&sb)));
    expect(&login_with_the_key(&sb), 0, &[]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn revoke_keeps_every_other_byte_and_the_mode() {
    let (sb, left) = set_up_mixed();
    let (run, _) = revoke_twice(&sb, &left, 0o644);
    expect(&run, 0, &["(2 lines)"]);
}

/// `rdock remove CTX --yes`, which must leave the remote alone, and the command it prints to
/// revoke the key by hand.
fn printed_command(sb: &Sandbox) -> String {
    let before = sb.authorized_keys();
    let run = sb.rdock(&["remove", &sb.context(), "--yes"]);
    expect(&run, 0, &["To revoke the key on the remote, run:"]);
    assert_eq!(sb.authorized_keys(), before, "remove touched the remote");
    let mut lines = run.stdout.lines();
    lines
        .find(|l| l.ends_with("To revoke the key on the remote, run:"))
        .unwrap_or_else(|| panic!("no command printed: {run}"));
    lines.next().unwrap().trim().to_string()
}

/// Run the printed command as the local user, as a person pastes it into sh; twice, since it
/// must do nothing (and succeed) the second time.
fn run_printed(sb: &Sandbox, command: &str, left: &str, mode: u32) {
    for time in ["first", "second"] {
        expect(&sb.local("sh", &["-c", command]), 0, &[]);
        assert_eq!(sb.authorized_keys(), left, "after the {time} run");
        assert_eq!(sb.remote_mode(".ssh/authorized_keys"), mode);
        assert_eq!(sb.remote_listing(".ssh"), ["authorized_keys"]);
        assert_key_refused(sb);
    }
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn the_printed_command_revokes_the_only_line() {
    let sb = set_up();
    let command = printed_command(&sb);
    assert!(
        command.starts_with(&format!(
            "ssh -p {} {}@127.0.0.1 '",
            sb.port, sb.remote.name
        )),
        "{command}"
    );
    run_printed(&sb, &command, "", 0o600);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn the_printed_command_keeps_every_other_byte_and_the_mode() {
    let (sb, left) = set_up_mixed();
    let command = printed_command(&sb);
    run_printed(&sb, &command, &left, 0o644);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn revoke_stops_while_another_context_logs_in_with_the_key() {
    let sb = set_up();
    let ctx = sb.context();
    add_context(&sb, "second", sb.port);
    let before = sb.authorized_keys();
    let refused = sb.rdock(&["remove", &ctx, "--revoke", "--yes"]);
    expect(&refused, 1, &["docker context second", "--force"]);
    assert_eq!(sb.authorized_keys(), before, "the refusal changed it");
    assert!(context_exists(&sb, &ctx), "the refusal removed the context");

    let forced = sb.rdock(&["remove", &ctx, "--revoke", "--yes", "--force"]);
    expect(&forced, 0, &["removed key"]);
    assert_eq!(sb.authorized_keys(), "");
    assert_key_refused(&sb);
    assert!(!context_exists(&sb, &ctx));
    assert!(
        context_exists(&sb, "second"),
        "--force removed the other context"
    );
    Transcript::new(&sb).assert("revoke_other_context", &[&refused, &forced]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn revoke_without_a_terminal_or_yes_and_with_dry_run_changes_nothing() {
    let sb = set_up();
    let ctx = sb.context();
    let before = (sb.authorized_keys(), sb.snapshot(".docker"));
    let refused = sb.rdock(&["remove", &ctx, "--revoke"]);
    expect(&refused, 1, &["pass --yes"]);
    assert_eq!((sb.authorized_keys(), sb.snapshot(".docker")), before);

    let dry = sb.rdock(&["remove", &ctx, "--revoke", "--dry-run"]);
    let would = [
        "would remove key ED25519 SHA256:",
        "would run: ssh -o BatchMode=yes",
    ];
    expect(&dry, 0, &would);
    assert_eq!((sb.authorized_keys(), sb.snapshot(".docker")), before);
    expect(&login_with_the_key(&sb), 0, &[]);
    Transcript::new(&sb).assert("revoke_refused_and_dry_run", &[&refused, &dry]);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn revoke_that_cannot_log_in_says_why_and_keeps_the_context() {
    let sb = Sandbox::start();
    let dead = crate::harness::free_port();
    add_context(&sb, "dead", dead);
    let no_key = sb.rdock(&["remove", "dead", "--revoke", "--yes"]);
    expect(&no_key, 1, &["no public key at ~/.ssh/id_ed25519.pub"]);
    sb.make_key("");
    let refused = sb.rdock(&["remove", "dead", "--revoke", "--yes"]);
    let why = [
        "✗ cannot log in to",
        "Connection refused",
        "revoke the key by hand",
    ];
    expect(&refused, 1, &why);
    assert!(
        context_exists(&sb, "dead"),
        "the context went without the key"
    );
    Transcript::new(&sb)
        .port(dead, "[DEAD_PORT]")
        .assert("revoke_cannot_log_in", &[&no_key, &refused]);
}

/// A Host alias whose IdentityFile is a key of its own: setup makes and installs that key, and
/// `--revoke` takes out that key, the one ssh logs in with (ssh -G), not ~/.ssh/id_ed25519.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn revoke_takes_out_the_key_ssh_config_names_for_the_host() {
    let sb = Sandbox::start();
    let block = sb.host_block("box", sb.port, "    IdentityFile ~/.ssh/id_box\n");
    sb.write_local(".ssh/config", &block);
    let setup = sb.setup_dest_ok("box");
    expect(&setup, 0, &["id_box"]);
    assert!(
        !sb.local.home.join(".ssh/id_ed25519").exists(),
        "setup made a key ssh_config does not name"
    );
    let public = std::fs::read_to_string(sb.local.home.join(".ssh/id_box.pub")).unwrap();
    assert_eq!(sb.authorized_keys(), public);
    expect(&login_with(&sb, ".ssh/id_box"), 0, &[]);
    // Without --revoke, the printed command names that key too.
    let blob = public.split_whitespace().nth(1).unwrap();
    let run = sb.rdock(&["remove", "box", "--yes", "--dry-run"]);
    expect(&run, 0, &[blob]);
    let run = sb.rdock(&["remove", "box", "--revoke", "--yes"]);
    expect(&run, 0, &["removed key ED25519 SHA256:", "(1 line)"]);
    assert_eq!(sb.authorized_keys(), "");
    expect(&login_with(&sb, ".ssh/id_box"), 255, &["Permission denied"]);
}

/// Another context written with a Host alias (`ssh://other`, HostName 127.0.0.1 and the port in
/// ~/.ssh/config) logs in at the same place with the same key: the revoke sees it, as ssh
/// resolves it, and stops.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn revoke_stops_for_another_context_written_with_an_alias() {
    let sb = set_up();
    let config = sb.local.home.join(".ssh/config");
    let before = std::fs::read_to_string(&config).unwrap_or_default();
    sb.write_local(
        ".ssh/config",
        &format!("{}\n{before}", sb.host_block("other", sb.port, "")),
    );
    let run = sb.local(
        "docker",
        &["context", "create", "other", "--docker", "host=ssh://other"],
    );
    assert_eq!(run.code, Some(0), "{run}");
    let keys = sb.authorized_keys();
    let refused = sb.rdock(&["remove", &sb.context(), "--revoke", "--yes"]);
    expect(&refused, 1, &["docker context other", "--force"]);
    assert_eq!(sb.authorized_keys(), keys, "the refusal changed it");
}
