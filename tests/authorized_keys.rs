//! The remote scripts that edit `~/.ssh/authorized_keys`, run here as sshd runs them: the login
//! shell (sh, bash and zsh when installed) gets `-c SCRIPT`, HOME is a temp dir, the key comes on
//! stdin. No sandbox: these run on any Unix `cargo test`.
//!
//! The revoke script is held to a model of how sshd reads a line (`holds_key` below): it must
//! take out exactly the lines that model says hold the key, keep every other byte, keep the mode,
//! and leave no temp file, whatever happens.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use proptest::prelude::*;
use rdock::ssh::authorized_keys::{manual_script, REVOKE_KEY_SCRIPT};
use rdock::ssh::probe::INSTALL_KEY_SCRIPT;

use crate::harness::which;

const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe";
const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP";

/// A key type word, as sshd names key types (full names and, in any case, short ones).
fn key_type(word: &str) -> bool {
    ["ssh-", "ecdsa-", "sk-", "rsa-sha2-", "webauthn-"]
        .iter()
        .any(|p| word.starts_with(p))
        || [
            "RSA",
            "DSA",
            "ECDSA",
            "ED25519",
            "ECDSA-SK",
            "ED25519-SK",
            "XMSS",
        ]
        .contains(&word.to_ascii_uppercase().as_str())
}

fn words(text: &str) -> Vec<&str> {
    text.split([' ', '\t']).filter(|w| !w.is_empty()).collect()
}

/// Does this line (without its line break) authorize the key `blob`, as sshd reads it? Leading
/// blanks are skipped; a blank line or a `#` line holds no key; `type blob`, or options (ending at
/// the first blank outside double quotes, `\"` being a quote inside them) then `type blob`.
fn holds_key(line: &str, blob: &str) -> bool {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let w = words(line);
    if w.len() < 2 || w[0].starts_with('#') {
        return false;
    }
    if key_type(w[0]) {
        return w[1] == blob;
    }
    let s = line.trim_start_matches([' ', '\t']).as_bytes();
    let (mut quoted, mut i) = (false, 0);
    while i < s.len() {
        match s[i] {
            b' ' | b'\t' if !quoted => break,
            b'\\' if s.get(i + 1) == Some(&b'"') => i += 1,
            b'"' => quoted = !quoted,
            _ => {}
        }
        i += 1;
    }
    let rest = words(std::str::from_utf8(&s[i..]).unwrap());
    !quoted && rest.len() > 1 && key_type(rest[0]) && rest[1] == blob
}

/// The file with every line that holds the key taken out, each other line with its own line break,
/// and ending as it did: without a line break when its last line had none (which is how the key
/// install leaves a file that ended so).
fn without_key(text: &str, blob: &str) -> String {
    let mut kept: String = text
        .split_inclusive('\n')
        .filter(|piece| !holds_key(piece.strip_suffix('\n').unwrap_or(piece), blob))
        .collect();
    if !text.is_empty() && !text.ends_with('\n') && kept.ends_with('\n') {
        kept.pop();
    }
    kept
}

/// A HOME with `~/.ssh` (0700) and, when given, `authorized_keys` with these bytes and mode.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new(keys: Option<(&str, u32)>) -> Home {
        let dir = tempfile::tempdir().unwrap();
        let ssh = dir.path().join(".ssh");
        fs::create_dir(&ssh).unwrap();
        fs::set_permissions(&ssh, fs::Permissions::from_mode(0o700)).unwrap();
        let home = Home { dir };
        if let Some((text, mode)) = keys {
            fs::write(home.file(), text).unwrap();
            fs::set_permissions(home.file(), fs::Permissions::from_mode(mode)).unwrap();
        }
        home
    }

    fn ssh(&self) -> PathBuf {
        self.dir.path().join(".ssh")
    }

    fn file(&self) -> PathBuf {
        self.ssh().join("authorized_keys")
    }

    fn text(&self) -> String {
        fs::read_to_string(self.file()).unwrap()
    }

    fn mode(&self) -> u32 {
        fs::metadata(self.file()).unwrap().permissions().mode() & 0o7777
    }

    /// The names in ~/.ssh.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.ssh())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// `SHELL -c SCRIPT` with HOME here and `stdin`, as sshd runs a command.
    fn run(&self, shell: &str, script: &str, stdin: &str) -> Ran {
        self.run_as(None, shell, script, stdin, None)
    }

    /// [`Home::run`] as `user` (with runuser, when not None), and `path` first on PATH.
    fn run_as(
        &self,
        user: Option<&str>,
        shell: &str,
        script: &str,
        stdin: &str,
        path: Option<&Path>,
    ) -> Ran {
        let mut search = "/usr/local/bin:/usr/bin:/bin".to_string();
        if let Some(dir) = path {
            search = format!("{}:{search}", dir.display());
        }
        let mut cmd = match user {
            Some(user) => {
                // runuser sets HOME and PATH for the user: env puts ours back.
                let mut cmd = Command::new(which("runuser").expect("runuser"));
                cmd.args(["-u", user, "--", "env"])
                    .arg(format!("HOME={}", self.dir.path().display()))
                    .arg(format!("PATH={search}"))
                    .arg(shell);
                cmd
            }
            None => Command::new(shell),
        };
        let mut child = cmd
            .arg("-c")
            .arg(script)
            .env_clear()
            .env("HOME", self.dir.path())
            .env("PATH", search)
            .current_dir(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        Ran {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

#[derive(Debug)]
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    /// It exited 0 and printed exactly `said`.
    fn said(&self, said: &str, what: &str) {
        assert_eq!(
            (self.code, self.stdout.as_str()),
            (Some(0), said),
            "{what}: {self:?}"
        );
    }
}

/// The login shells sshd could hand a command to. One missing is left out, saying so, or fails
/// the test under RDOCK_E2E=1 (scripts/test.sh installs them all).
fn shells() -> Vec<&'static str> {
    let (shells, missing): (Vec<&str>, Vec<&str>) = ["sh", "bash", "zsh", "fish", "tcsh"]
        .into_iter()
        .partition(|s| which(s).is_some());
    assert!(shells.contains(&"sh"), "no sh on PATH");
    if !missing.is_empty() {
        let why = format!(
            "{} missing (scripts/test.sh installs them)",
            missing.join(", ")
        );
        assert!(
            std::env::var("RDOCK_E2E").as_deref() != Ok("1"),
            "RDOCK_E2E=1 requires every login shell: {why}"
        );
        eprintln!("not run in these shells: {why}");
    }
    shells
}

/// A file with everything the revoke must tell apart, and every way a line can end.
const MIXED: &str = concat!(
    "# keys for this box\r\n",
    "command=\"echo \\\"hi there\\\"\",restrict ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe with options\n",
    "\n",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP other@box\r\n",
    "  ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe\r\n",
    "# old: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe\n",
    "command=\"grep AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe log\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP\n",
    "from=\"10.0.0.1\" ED25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe short type name\n",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP last line, no line break",
);

/// MIXED without the three lines that hold KEY.
const MIXED_REVOKED: &str = concat!(
    "# keys for this box\r\n",
    "\n",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP other@box\r\n",
    "# old: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe\n",
    "command=\"grep AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe log\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP\n",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvN1fT3kVJQ6Y0n7m1Wc2xyvJ3s8t0d2u5xQm9kZ1aP last line, no line break",
);

#[test]
fn the_model_takes_out_exactly_the_lines_that_hold_the_key() {
    assert_eq!(without_key(MIXED, KEY), MIXED_REVOKED);
    // The other key's three lines, and nothing else.
    let other_gone = without_key(MIXED, OTHER);
    assert!(!other_gone.contains(OTHER), "{other_gone}");
    assert_eq!(other_gone.split_inclusive('\n').count(), 6);
}

#[test]
fn revoke_takes_out_exactly_the_key_s_lines_in_every_login_shell() {
    for shell in shells() {
        let home = Home::new(Some((MIXED, 0o640)));
        let ran = home.run(shell, REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
        ran.said("rdock-key-removed 3\n", shell);
        assert_eq!(home.text(), MIXED_REVOKED, "{shell}");
        assert_eq!(home.mode(), 0o640, "{shell}: the mode changed");
        assert_eq!(home.listing(), ["authorized_keys"], "{shell}");
        // Again: nothing to do, and the file is not rewritten.
        let before = fs::metadata(home.file()).unwrap();
        let again = home.run(shell, REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
        again.said("rdock-key-absent\n", shell);
        use std::os::unix::fs::MetadataExt;
        let after = fs::metadata(home.file()).unwrap();
        assert_eq!(
            (before.ino(), before.mtime_nsec()),
            (after.ino(), after.mtime_nsec())
        );
    }
}

#[test]
fn revoking_the_only_line_leaves_an_empty_file_with_its_mode() {
    for (text, mode) in [
        (format!("ssh-ed25519 {KEY} me@laptop\n"), 0o600),
        (format!("ssh-ed25519 {KEY} me@laptop"), 0o644),
        (format!("ssh-ed25519 {KEY}\r\n"), 0o400),
    ] {
        let home = Home::new(Some((&text, mode)));
        let ran = home.run("sh", REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
        ran.said("rdock-key-removed 1\n", &format!("{text:?}"));
        assert_eq!(home.text(), "", "{text:?}");
        assert_eq!(home.mode(), mode, "{text:?}");
        assert_eq!(home.listing(), ["authorized_keys"]);
    }
}

#[test]
fn a_read_only_file_is_rewritten_and_stays_read_only_for_its_owner() {
    let text = format!("ssh-ed25519 {OTHER} other\nssh-ed25519 {KEY} me\n");
    let home = Home::new(Some((&text, 0o400)));
    // Root may write any file: as root, the script runs as an ordinary user who owns the home.
    let user = is_root().then_some("nobody");
    if let Some(user) = user {
        let chown = Command::new("chown")
            .args(["-R", user])
            .arg(home.dir.path())
            .status()
            .unwrap();
        assert!(chown.success());
    }
    let ran = home.run_as(user, "sh", REVOKE_KEY_SCRIPT, &format!("{KEY}\n"), None);
    ran.said("rdock-key-removed 1\n", "");
    assert_eq!(home.text(), format!("ssh-ed25519 {OTHER} other\n"));
    assert_eq!(home.mode(), 0o400);
    assert_eq!(home.listing(), ["authorized_keys"]);
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

#[test]
fn revoke_leaves_a_missing_file_missing_and_refuses_what_is_not_a_file() {
    let home = Home::new(None);
    let ran = home.run("sh", REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
    ran.said("rdock-key-absent\n", "");
    assert!(home.listing().is_empty(), "{:?}", home.listing());

    // A link is followed (see install_revoke_and_the_printed_command_all_follow_a_linked_file),
    // to a regular file only.
    let target = home.dir.path().join("elsewhere");
    fs::create_dir(&target).unwrap();
    std::os::unix::fs::symlink(&target, home.file()).unwrap();
    let ran = home.run("sh", REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
    assert_eq!(ran.code, Some(3), "{ran:?}");
    assert!(ran.stdout.contains("is not a regular file"), "{ran:?}");
    assert_eq!(fs::read_dir(&target).unwrap().count(), 0);
    assert!(fs::symlink_metadata(home.file())
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn revoke_refuses_stdin_that_is_not_a_blob() {
    let text = format!("ssh-ed25519 {KEY}\n");
    for stdin in ["", "\n", "a b\n", "$(touch x)\n", "*\n", "AAAA\\\"\n"] {
        let home = Home::new(Some((&text, 0o600)));
        let ran = home.run("sh", REVOKE_KEY_SCRIPT, stdin);
        assert_eq!(ran.code, Some(2), "{stdin:?}: {ran:?}");
        assert!(ran.stdout.contains("no key blob on stdin"), "{ran:?}");
        assert_eq!(home.text(), text);
        assert_eq!(home.listing(), ["authorized_keys"]);
    }
}

#[test]
fn a_failing_step_leaves_the_file_whole_and_no_temp_file() {
    for tool in ["cp", "awk", "mv"] {
        let text = format!("ssh-ed25519 {OTHER} other\nssh-ed25519 {KEY} me\n");
        let home = Home::new(Some((&text, 0o600)));
        // A stand-in that fails, for the rewrite only (awk's first run, the count, succeeds).
        let bin = home.dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        let fake = bin.join(tool);
        let body = if tool == "awk" {
            "case \"$*\" in *o=1*) echo \"awk: disk full\" >&2; exit 2;; esac; exec /usr/bin/awk \"$@\""
        } else {
            "echo \"$0: disk full\" >&2; exit 1"
        };
        fs::write(&fake, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        let ran = home.run_as(
            None,
            "sh",
            REVOKE_KEY_SCRIPT,
            &format!("{KEY}\n"),
            Some(&bin),
        );
        assert_ne!(ran.code, Some(0), "{tool}: {ran:?}");
        assert!(ran.stderr.contains("disk full"), "{tool}: {ran:?}");
        assert!(!ran.stdout.contains("rdock-key-removed"), "{tool}: {ran:?}");
        assert_eq!(home.text(), text, "{tool}");
        assert_eq!(home.listing(), ["authorized_keys"], "{tool}");
    }
}

/// Lines a real authorized_keys may hold, and lines made to trip a careless match.
fn line() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        format!("ssh-ed25519 {KEY} me@laptop"),
        format!("ssh-ed25519 {KEY}"),
        format!(" \tssh-ed25519 {KEY} indented"),
        format!("ED25519 {KEY} short name"),
        format!("command=\"echo \\\"a b\\\"\",restrict ssh-ed25519 {KEY} c"),
        format!("from=\"10.0.0.1\",no-pty ssh-ed25519 {KEY}"),
        format!("restrict {KEY}"),
        format!("command=\"never closed ssh-ed25519 {KEY}"),
        format!("no-pty ssh-ed25519 {OTHER} other"),
        format!("command=\"x {KEY} y\" ssh-ed25519 {OTHER} x"),
        format!("ssh-rsa {OTHER} {KEY}"),
        format!("ssh-ed25519 {KEY}x longer blob"),
        format!("# ssh-ed25519 {KEY} commented out"),
        format!("#ssh-ed25519 {KEY}"),
        String::new(),
        "   ".into(),
        "not a key at all".into(),
    ])
}

fn file() -> impl Strategy<Value = String> {
    (
        prop::collection::vec((line(), prop::bool::ANY), 0..8),
        prop::sample::select(vec!["", "\n", "\r\n"]),
    )
        .prop_map(|(lines, last)| {
            let mut text = String::new();
            let n = lines.len();
            for (i, (line, crlf)) in lines.into_iter().enumerate() {
                text.push_str(&line);
                text.push_str(match (i + 1 == n, crlf) {
                    (true, _) => last,
                    (false, true) => "\r\n",
                    (false, false) => "\n",
                });
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn revoke_keeps_exactly_what_sshd_would_not_read_as_the_key(text in file()) {
        let home = Home::new(Some((&text, 0o600)));
        let ran = home.run("sh", REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
        prop_assert_eq!(ran.code, Some(0), "{:?}", ran);
        let want = without_key(&text, KEY);
        // The lines that hold the key. Not the difference in line counts: taking out a last line
        // without a break takes the break before it too, and when the line before was empty
        // that leaves one line fewer again (proptest found "\n" + key).
        let removed = text
            .split_inclusive('\n')
            .filter(|piece| holds_key(piece.strip_suffix('\n').unwrap_or(piece), KEY))
            .count();
        let said = if removed == 0 { "rdock-key-absent\n".to_string() } else { format!("rdock-key-removed {removed}\n") };
        prop_assert_eq!(&ran.stdout, &said);
        prop_assert_eq!(home.text(), want);
        prop_assert_eq!(home.mode(), 0o600);
        prop_assert_eq!(home.listing(), ["authorized_keys"]);
    }
}

/// The case the property test once drew: a key as the last line, without a line break, after an
/// empty line. One line held the key; the file is left empty, without the empty line's break.
#[test]
fn revoke_after_an_empty_line_removes_one_line_and_leaves_no_break() {
    let home = Home::new(Some((&format!("\nssh-ed25519 {KEY} me@laptop"), 0o600)));
    let ran = home.run("sh", REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
    assert_eq!(
        (ran.code, ran.stdout.as_str()),
        (Some(0), "rdock-key-removed 1\n")
    );
    assert_eq!(home.text(), "");
}

#[test]
fn the_manual_command_s_remote_part_takes_out_every_line_naming_the_key() {
    for shell in shells() {
        for (text, mode) in [
            (format!("ssh-ed25519 {KEY} me@laptop\n"), 0o600),
            (MIXED.to_string(), 0o644),
        ] {
            let home = Home::new(Some((&text, mode)));
            let ran = home.run(shell, &manual_script(KEY), "");
            assert_eq!(ran.code, Some(0), "{shell}: {ran:?}");
            let want: String = text
                .split_inclusive('\n')
                .filter(|l| !l.contains(KEY))
                .collect();
            assert_eq!(home.text(), want, "{shell}");
            assert_eq!(home.mode(), mode, "{shell}");
            assert_eq!(home.listing(), ["authorized_keys"], "{shell}");
            let again = home.run(shell, &manual_script(KEY), "");
            assert_eq!(again.code, Some(0), "{shell}: {again:?}");
            assert_eq!(home.text(), want, "{shell}");
        }
    }
}

#[test]
fn install_adds_one_line_after_a_last_line_without_a_break() {
    let public = format!("ssh-ed25519 {KEY} me@laptop");
    for shell in shells() {
        for (before, after) in [
            (None, format!("{public}\n")),
            (Some(""), format!("{public}\n")),
            // The file still ends without a line break, so a revoke can restore it exactly.
            (
                Some("ssh-rsa AAAAB3Nza other"),
                format!("ssh-rsa AAAAB3Nza other\n{public}"),
            ),
            (
                Some("# a\r\nssh-rsa AAAAB3Nza other\r\n"),
                format!("# a\r\nssh-rsa AAAAB3Nza other\r\n{public}\n"),
            ),
            // Named in a comment only: that authorizes nothing, so the key is added.
            (
                Some(&format!("# old: {public}\n")),
                format!("# old: {public}\n{public}\n"),
            ),
        ] {
            let home = Home::new(before.map(|t| (t, 0o600)));
            let ran = home.run(shell, INSTALL_KEY_SCRIPT, &format!("{public}\n"));
            ran.said("rdock-key-added\n", &format!("{shell} {before:?}"));
            assert_eq!(home.text(), after, "{shell} {before:?}");
            assert_eq!(home.mode(), 0o600);
            let again = home.run(shell, INSTALL_KEY_SCRIPT, &format!("{public}\n"));
            // The line that holds the key (the file's last), with no options.
            let line = after.split_inclusive('\n').count();
            again.said(
                &format!("rdock-key-line {line} \nrdock-key-present\n"),
                &format!("{shell} {before:?}"),
            );
            assert_eq!(home.text(), after, "{shell} {before:?}: a second line");
        }
    }
}

/// Install, then revoke: every byte as it was, whatever the line breaks and however the file
/// ended (a CRLF file whose last line had no line break used to gain one).
#[test]
fn a_revoke_after_an_install_restores_the_file_byte_for_byte() {
    let public = format!("ssh-ed25519 {KEY} me@laptop");
    for shell in shells() {
        for before in [
            "# a\r\nssh-rsa AAAAB3Nza other",
            "# a\r\nssh-rsa AAAAB3Nza other\r\n",
            "# a\nssh-rsa AAAAB3Nza other",
            "# a\nssh-rsa AAAAB3Nza other\n",
            "x",
            "",
        ] {
            let home = Home::new(Some((before, 0o600)));
            let ran = home.run(shell, INSTALL_KEY_SCRIPT, &format!("{public}\n"));
            ran.said("rdock-key-added\n", &format!("{shell} {before:?}"));
            let ran = home.run(shell, REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
            ran.said("rdock-key-removed 1\n", &format!("{shell} {before:?}"));
            assert_eq!(home.text(), before, "{shell}");
        }
    }
}

/// `~/.ssh/authorized_keys` a symbolic link (to a file a dotfiles folder holds): the install, the
/// revoke and the printed command all follow it, as sshd does, and the link stays a link.
#[test]
fn install_revoke_and_the_printed_command_all_follow_a_linked_file() {
    let public = format!("ssh-ed25519 {KEY} me@laptop");
    for shell in shells() {
        let home = Home::new(None);
        let dots = home.dir.path().join("dotfiles");
        fs::create_dir(&dots).unwrap();
        let target = dots.join("authorized_keys");
        let before = "# mine\r\nssh-rsa AAAAB3Nza other";
        fs::write(&target, before).unwrap();
        fs::set_permissions(&target, fs::Permissions::from_mode(0o600)).unwrap();
        std::os::unix::fs::symlink("../dotfiles/authorized_keys", home.file()).unwrap();
        let linked = || {
            fs::symlink_metadata(home.file())
                .unwrap()
                .file_type()
                .is_symlink()
        };

        let ran = home.run(shell, INSTALL_KEY_SCRIPT, &format!("{public}\n"));
        ran.said("rdock-key-added\n", shell);
        assert!(linked(), "{shell}");
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            format!("{before}\n{public}")
        );

        let ran = home.run(shell, REVOKE_KEY_SCRIPT, &format!("{KEY}\n"));
        ran.said("rdock-key-removed 1\n", shell);
        assert!(linked(), "{shell}");
        assert_eq!(fs::read_to_string(&target).unwrap(), before, "{shell}");
        assert_eq!(
            fs::metadata(&target).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            home.listing(),
            ["authorized_keys"],
            "{shell}: no temp file left"
        );
        let listed: Vec<_> = fs::read_dir(&dots).unwrap().collect();
        assert_eq!(listed.len(), 1, "{shell}: no temp file left");

        home.run(shell, INSTALL_KEY_SCRIPT, &format!("{public}\n"));
        let ran = home.run(shell, &manual_script(KEY), "");
        assert_eq!(ran.code, Some(0), "{shell}: {ran:?}");
        assert!(linked(), "{shell}: the printed command replaced the link");
        assert!(
            !fs::read_to_string(&target).unwrap().contains(KEY),
            "{shell}: the key stayed in the file the link leads to"
        );
    }
}

#[test]
fn install_sees_the_key_whatever_its_options_and_adds_no_second_line() {
    let text = format!("command=\"echo \\\"x y\\\"\",restrict ssh-ed25519 {KEY} old comment\r\n");
    let home = Home::new(Some((&text, 0o600)));
    let ran = home.run(
        "sh",
        INSTALL_KEY_SCRIPT,
        &format!("ssh-ed25519 {KEY} new comment\n"),
    );
    // The line, with its options: a restricted key is there, but may not log in.
    ran.said(
        "rdock-key-line 1 command=\"echo \\\"x y\\\"\",restrict\nrdock-key-present\n",
        "",
    );
    assert_eq!(home.text(), text);
}
