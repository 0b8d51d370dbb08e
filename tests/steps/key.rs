//! key: reuse the key pair ssh would use, derive a missing .pub, make a new key, tighten its mode.

use std::path::PathBuf;

use anyhow::Result;
use rdock::steps::plan::{Kind, Options};
use rdock::steps::{Finding, Mode, Outcome, Session, Status, Step};
use rdock::sys::exec::{quote, Reply};
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{no_consent, options, private_file, render, yes, Rig, AGENT_SOCK};

/// `--identity ~/.ssh/id_ed25519`, as setup passes it, and `--no-passphrase` when `bare`.
fn identity(rig: &Rig, bare: bool) -> Options {
    Options {
        identity: Some(rig.path(".ssh/id_ed25519")),
        no_passphrase: bare,
        ..options()
    }
}

/// The key step, and what the real ssh-keygen leaves behind when its fix ran (a scripted one
/// writes nothing): the recorded key pair at `path`.
struct KeygenWrites {
    step: Box<dyn Step>,
    path: PathBuf,
}

impl Step for KeygenWrites {
    fn kind(&self) -> Kind {
        self.step.kind()
    }
    fn needs(&self) -> &'static [Kind] {
        self.step.needs()
    }
    fn check(&mut self, s: &mut Session) -> Finding {
        self.step.check(s)
    }
    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let done = self.step.fix(s);
        private_file(&self.path, KEY);
        std::fs::write(self.path.with_extension("pub"), KEY_PUB).unwrap();
        done
    }
    fn preview(&self, s: &Session, found: &Finding) -> String {
        self.step.preview(s, found)
    }
}

#[test]
fn the_first_identity_file_ssh_g_names_that_exists_is_the_key() {
    let rig = Rig::plain().key();
    let done = rig.run(Mode::Doctor, &options(), &["destination", "key"]);
    insta::assert_snapshot!(done.render("key"), @"key ok: ~/.ssh/id_ed25519 (ssh-ed25519, no passphrase)");
    let key = done.s.key.as_ref().unwrap();
    assert_eq!(key.public_line, key_line());
    assert!(!key.encrypted);
    // `-P ''`: ssh-keygen answers at once instead of asking for a passphrase.
    let derive = done.the(&["ssh-keygen", "-y"]);
    assert_eq!(
        derive.argv,
        [
            "ssh-keygen",
            "-y",
            "-P",
            "",
            "-f",
            &rig.arg(".ssh/id_ed25519")
        ]
    );
}

#[test]
fn a_key_with_a_passphrase_is_used_as_it_is() {
    let rig = Rig::new(Platform::Linux).locked_key();
    let done = rig.run(Mode::Setup, &identity(&rig, false), &["key"]);
    insta::assert_snapshot!(done.render("key"), @"key ok: ~/.ssh/id_ed25519 (ssh-ed25519, with a passphrase)");
    assert!(done.s.key.as_ref().unwrap().encrypted);
}

#[test]
fn no_key_is_made_by_setup_with_ssh_keygen_and_checked_again() {
    let rig = Rig::new(Platform::Linux).key_files(None, None, Reply::ok(SSH_KEYGEN_Y));
    let path = rig.arg(".ssh/id_ed25519");
    let keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-f", &path, "-N", ""];
    let rig = rig.on(&keygen, Reply::ok(""));

    let doctor = rig.run(Mode::Doctor, &options(), &["key"]);
    let f = doctor.find("key");
    insta::assert_snapshot!(render(f), @"
    key fail: no key at ~/.ssh/id_ed25519
    fix: make one:
           ssh-keygen -t ed25519 -f [HOME]/.ssh/id_ed25519
    ");
    assert!(f.fixable && f.outcome.is_none());

    let dry = rig.run(Mode::DryRun, &identity(&rig, true), &["key"]);
    assert_eq!(
        dry.would("key"),
        format!(
            "would create ~/.ssh/id_ed25519 with ssh-keygen -t ed25519\nwould run: ssh-keygen -q -t ed25519 -f {} -N ''",
            quote(&path)
        )
    );
    assert!(!rig.path(".ssh").exists(), "--dry-run made no folder");

    let o = identity(&rig, true);
    let step = rig
        .steps(rdock::steps::plan::Purpose::Setup, &o, &["key"])
        .remove(0);
    let path = rig.path(".ssh/id_ed25519");
    let done = rig.run_steps(Mode::Setup, vec![Box::new(KeygenWrites { step, path })]);
    let f = done.find("key");
    insta::assert_snapshot!(render(f), @"key ok: ~/.ssh/id_ed25519 (ssh-ed25519, no passphrase)");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "created ~/.ssh/id_ed25519 (ed25519, no passphrase)".into()
        ))
    );
    assert_eq!(
        done.changes(),
        [format!(
            "ssh-keygen -q -t ed25519 -f {} -N ''",
            quote(&rig.arg(".ssh/id_ed25519"))
        )]
    );
    assert_eq!(done.report.changed, 1);
}

#[test]
fn a_new_key_without_a_terminal_needs_no_passphrase_said() {
    let rig = Rig::new(Platform::Linux);
    let o = identity(&rig, false);
    let why = "a new key needs a passphrase and there is no terminal to type it on; pass --no-passphrase (for scripts), or run rdock in a terminal";
    // --dry-run says so too, and does not count it among what setup would change.
    let dry = rig.run(Mode::DryRun, &o, &["key"]);
    assert_eq!(dry.outcome("key"), Some(&Outcome::Declined(why.into())));
    assert_eq!(dry.report.changed, 0);
    assert_eq!(dry.report.failed(), 1);
    let done = rig.run(Mode::Setup, &o, &["key"]);
    let f = done.find("key");
    assert_eq!((f.status, f.message.as_str()), (Status::Fail, why));
    assert!(done.ran().is_empty() && done.report.stopped);
}

#[test]
fn a_missing_pub_is_written_from_the_private_key() {
    let rig = Rig::new(Platform::Linux).key();
    std::fs::remove_file(rig.path(".ssh/id_ed25519.pub")).unwrap();
    let path = quote(&rig.arg(".ssh/id_ed25519"));
    let o = identity(&rig, false);

    let dry = rig.run(Mode::DryRun, &o, &["key"]);
    insta::assert_snapshot!(dry.render("key"), @r"
    key fail: ~/.ssh/id_ed25519 has no ~/.ssh/id_ed25519.pub
    fix: ssh-keygen -y -f [HOME]/.ssh/id_ed25519 > [HOME]/.ssh/id_ed25519.pub
    ");
    assert_eq!(
        dry.would("key"),
        format!(
            "would write ~/.ssh/id_ed25519.pub\nwould run: ssh-keygen -y -f {path} > {path}.pub"
        )
    );

    let done = rig.run(Mode::Setup, &o, &["key"]);
    let f = done.find("key");
    assert_eq!(f.status, Status::Ok);
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "wrote ~/.ssh/id_ed25519.pub from ~/.ssh/id_ed25519".into()
        ))
    );
    assert_eq!(rig.read(".ssh/id_ed25519.pub"), format!("{}\n", key_line()));
    assert!(done.changes().is_empty(), "rdock writes it; no tool does");
}

#[test]
fn the_pub_of_a_locked_key_needs_a_terminal() {
    let rig = Rig::new(Platform::Linux).key_files(Some(LOCKED_KEY), None, keygen_y_locked());
    let done = rig.run(Mode::Setup, &identity(&rig, false), &["key"]);
    insta::assert_snapshot!(done.render("key"), @r"
    key fail: ~/.ssh/id_ed25519 has a passphrase, so its public half needs it; run `ssh-keygen -y -f ~/.ssh/id_ed25519 > ~/.ssh/id_ed25519.pub` in a terminal, then rerun
    fix: ssh-keygen -y -f [HOME]/.ssh/id_ed25519 > [HOME]/.ssh/id_ed25519.pub
    ");
    assert!(!rig.path(".ssh/id_ed25519.pub").exists());
}

#[test]
fn files_that_are_not_the_pair_are_reported_and_left_alone() {
    // What is in the home, then what the case is (the check's words and fix: the snapshot).
    type Case = (Option<&'static str>, Option<&'static str>, &'static str);
    let cases: [Case; 3] = [
        (Some("not a key"), None, "not a key"),
        (Some(KEY), Some(LOCKED_KEY_PUB), "another key's public half"),
        (None, Some(KEY_PUB), "a public half alone"),
    ];
    let mut seen = Vec::new();
    for (private, public, message) in cases {
        let rig = Rig::new(Platform::Linux).key_files(private, public, Reply::ok(SSH_KEYGEN_Y));
        let done = rig.run(Mode::Setup, &identity(&rig, true), &["key"]);
        let f = done.find("key");
        seen.push(render(f));
        assert!(!f.fixable && done.report.stopped, "{message}");
        let now = std::fs::read_to_string(rig.path(".ssh/id_ed25519.pub")).ok();
        assert_eq!(now.as_deref(), public, "{message}");
    }
    insta::assert_snapshot!(seen.join("\n"), @r"
    key fail: ~/.ssh/id_ed25519 is not a private key
    fix: pass --identity PATH with a real OpenSSH private key; rdock leaves this file as it is
    key fail: ~/.ssh/id_ed25519.pub does not belong to ~/.ssh/id_ed25519
    fix: move ~/.ssh/id_ed25519.pub aside and rerun, or pass --identity PATH
    key fail: ~/.ssh/id_ed25519.pub exists but its private key ~/.ssh/id_ed25519 does not
    fix: restore ~/.ssh/id_ed25519; or, when an agent holds its private key, pass --identity ~/.ssh/id_ed25519.pub; or pass --identity PATH to use another key
    ");
}

#[cfg(unix)]
#[test]
fn a_key_others_can_read_is_verified_on_stdin_then_made_0600() {
    use std::os::unix::fs::PermissionsExt;
    let rig = Rig::new(Platform::Linux).key();
    let file = rig.path(".ssh/id_ed25519");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let rig = rig.on(
        &["ssh-keygen", "-y", "-P", "", "-f", "/dev/stdin"],
        Reply::ok(SSH_KEYGEN_Y),
    );
    let o = identity(&rig, false);
    let chmod = format!("chmod 600 {}", quote(&rig.arg(".ssh/id_ed25519")));

    let dry = rig.run(Mode::DryRun, &o, &["key"]);
    insta::assert_snapshot!(dry.render("key"), @r"
    key fail: ~/.ssh/id_ed25519 is mode 0644; ssh ignores private keys others can read
    fix: chmod 600 [HOME]/.ssh/id_ed25519
    ");
    assert_eq!(dry.would("key"), format!("would run: {chmod}"));
    // ssh-keygen refuses a file others can read: it is given the bytes instead.
    assert_eq!(
        dry.the(&["ssh-keygen", "-y"]).stdin.as_deref(),
        Some(KEY.as_bytes())
    );
    let mode = || std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(), 0o644);

    let done = rig.run(Mode::Setup, &o, &["key"]);
    let f = done.find("key");
    assert_eq!(f.status, Status::Ok);
    assert_eq!(
        f.outcome,
        Some(Outcome::Done("~/.ssh/id_ed25519 is now mode 0600".into()))
    );
    assert_eq!(mode(), 0o600);
}

#[test]
fn without_any_key_the_new_one_goes_where_the_hosts_identity_file_says() {
    // The IdentityAgent of `work` answers and holds nothing.
    let rig = Rig::new(Platform::Linux)
        .keywords_host("work")
        .on(&["ssh-add", "-L"], agent_empty());
    let done = rig.run(Mode::Doctor, &options(), &["destination", "key"]);
    insta::assert_snapshot!(done.render("key"), @"
    key fail: no key at ~/.ssh/work_ed25519
    fix: make one:
           ssh-keygen -t ed25519 -f [HOME]/.ssh/work_ed25519
    ");
}

#[test]
fn an_existing_key_ssh_tries_first_is_used_and_no_ed25519_key_is_made() {
    let rig = Rig::new(Platform::Linux).keywords_host("legacy");
    rig.private(".ssh/id_rsa", KEY);
    rig.write(".ssh/id_rsa.pub", KEY_PUB);
    let path = rig.arg(".ssh/id_rsa");
    let rig = rig.on(
        &["ssh-keygen", "-y", "-P", "", "-f", &path],
        Reply::ok(SSH_KEYGEN_Y),
    );
    let done = rig.run(Mode::Setup, &options(), &["destination", "key"]);
    insta::assert_snapshot!(done.render("key"), @"key ok: ~/.ssh/id_rsa (ssh-ed25519, no passphrase)");
    assert!(!rig.path(".ssh/id_ed25519").exists());
}

/// 1Password's block (`onepass`): IdentityAgent ~/.1password/agent.sock, IdentityFile
/// ~/.ssh/box.pub holding `public`, and that agent answering `ssh-add -L` with `agent`.
fn onepass(public: &str, agent: Reply) -> Rig {
    let rig = Rig::new(Platform::Linux).keywords_host("onepass");
    rig.write(".ssh/box.pub", public);
    rig.on(&["ssh-add", "-L"], agent)
}

#[test]
fn a_public_key_as_identity_file_is_the_agent_s_key_when_that_agent_holds_it() {
    let rig = onepass(KEY_PUB, Reply::ok(SSH_ADD_BIG_L_ONE));
    let sock = rig.arg(".1password/agent.sock");
    let done = rig.run(Mode::Setup, &yes(), &["destination", "key", "identity"]);
    insta::assert_snapshot!(done.render("key"), @"key ok: ~/.ssh/box.pub (ssh-ed25519): the private key stays in the agent at [HOME]/.1password/agent.sock (IdentityAgent)");
    insta::assert_snapshot!(done.render("identity"), @"identity ok: the agent holds ~/.ssh/box.pub");
    // The agent ssh asks for this host is the one asked (by the key and identity checks), and
    // nothing was made or changed.
    let asked: Vec<_> = done
        .s
        .exec
        .ran()
        .into_iter()
        .filter(|r| r.argv == ["ssh-add", "-L"])
        .collect();
    assert_eq!(asked.len(), 2);
    assert!(asked
        .iter()
        .all(|r| r.env == [("SSH_AUTH_SOCK".to_string(), sock.clone())]));
    assert!(done.changes().is_empty(), "{:?}", done.changes());
    assert!(
        !done.ran().iter().any(|c| c.starts_with("ssh-keygen")),
        "{:?}",
        done.ran()
    );
    assert!(!rig.path(".ssh/id_ed25519").exists());
    assert_eq!(rig.read(".ssh/box.pub"), KEY_PUB);
    // No file holds the private key: nothing may read it as one (ssh-add, paramiko).
    let key = done.s.key.as_ref().unwrap();
    assert_eq!(key.private, None);
    assert!(!key.encrypted);
    assert_eq!(key.identity, rig.path(".ssh/box.pub"));
    assert_eq!(key.public, rig.path(".ssh/box.pub"));
    assert_eq!(key.public_line, key_line());
}

#[test]
fn a_public_key_the_agent_does_not_hold_fails_and_no_key_is_made_in_its_place() {
    // The agent holds id_ed25519; box.pub is another key.
    let rig = onepass(LOCKED_KEY_PUB, Reply::ok(SSH_ADD_BIG_L_ONE));
    let done = rig.run(Mode::Setup, &yes(), &["destination", "key", "identity"]);
    insta::assert_snapshot!(done.render("key"), @r"
    key fail: ~/.ssh/box.pub is a public key, so ssh must get its private key from the agent, and the agent at [HOME]/.1password/agent.sock (IdentityAgent) does not hold it (1 other key)
    fix: unlock the app whose agent holds it (1Password: unlock it; the key must be in a vault its SSH agent serves), or add its private key file to that agent (SSH_AUTH_SOCK=[HOME]/.1password/agent.sock ssh-add PRIVATE_KEY), or pass --identity PATH to use another key; then rerun
    ");
    let f = done.find("key");
    let blob = key_line().split_whitespace().nth(1).unwrap();
    let tail = &blob[blob.len() - 12..];
    assert_eq!(
        f.details,
        [format!("agent holds: ssh-ed25519 …{tail} me@laptop")]
    );
    assert!(!f.fixable && done.report.stopped);
    assert!(done.changes().is_empty(), "{:?}", done.changes());
    assert!(!rig.path(".ssh/id_ed25519").exists());
    assert_eq!(rig.read(".ssh/box.pub"), LOCKED_KEY_PUB);
}

#[test]
fn a_public_key_whose_agent_does_not_answer_says_to_start_or_unlock_it() {
    let rig = onepass(KEY_PUB, agent_gone());
    let sock = rig.arg(".1password/agent.sock");
    let done = rig.run(Mode::Doctor, &options(), &["destination", "key"]);
    let f = done.find("key");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.starts_with(&format!("~/.ssh/box.pub is a public key, so ssh must get its private key from the agent, and none answers at {sock} (IdentityAgent) (ssh-add -L failed: ")),
        "{f:?}"
    );
    insta::assert_snapshot!(render(f), @r"
    key fail: ~/.ssh/box.pub is a public key, so ssh must get its private key from the agent, and none answers at [HOME]/.1password/agent.sock (IdentityAgent) (ssh-add -L failed: Error connecting to agent: No such file or directory)
    fix: start or unlock the agent that listens at [HOME]/.1password/agent.sock (1Password: open and unlock the app, with its SSH agent turned on), then rerun
    ");
    assert!(!f.fixable);
}

#[test]
fn identity_given_as_a_public_key_file_is_used_through_the_agent_at_ssh_auth_sock() {
    let rig = Rig::plain().agent_with_key().probe(Reply::ok(PROBE_SERVER));
    rig.write(".ssh/mine.pub", KEY_PUB);
    let o = Options {
        identity: Some(rig.path(".ssh/mine.pub")),
        ..options()
    };
    let done = rig.run(
        Mode::Doctor,
        &o,
        &["destination", "key", "identity", "connection"],
    );
    insta::assert_snapshot!(done.render("key"), @"key ok: ~/.ssh/mine.pub (ssh-ed25519): the private key stays in the agent at /tmp/ssh-XXXXh0fLq9/agent.4242");
    insta::assert_snapshot!(done.render("identity"), @"identity ok: the agent holds ~/.ssh/mine.pub");
    // The probe offers that key alone, through its public file: ssh takes the agent's copy.
    let probe = done.the(&["ssh", "-o", "BatchMode=yes"]);
    let mine = rig.arg(".ssh/mine.pub");
    assert!(
        probe
            .argv
            .windows(4)
            .any(|w| w == ["-o", "IdentitiesOnly=yes", "-i", mine.as_str()]),
        "{:?}",
        probe.argv
    );
}

#[test]
fn with_no_key_file_but_keys_in_the_agent_the_finding_says_so_and_setup_asks_first() {
    let rig = Rig::plain()
        .agent(Reply::ok(SSH_ADD_L_SEVEN), Reply::ok(SSH_ADD_BIG_L_SEVEN))
        .key_files(None, None, Reply::ok(SSH_KEYGEN_Y));
    let path = rig.arg(".ssh/id_ed25519");
    let doctor = rig.run(Mode::Doctor, &options(), &["destination", "key"]);
    insta::assert_snapshot!(doctor.render("key"), @"
    key fail: no key at ~/.ssh/id_ed25519, but the agent at /tmp/ssh-XXXXh0fLq9/agent.4242 holds 7 keys
    fix: to use a key of the agent's: save its line of `ssh-add -L` as a .pub file (e.g. ~/.ssh/box.pub), then rerun with --identity ~/.ssh/box.pub (or set IdentityFile ~/.ssh/box.pub for this host in ~/.ssh/config); to make a new key instead:
           ssh-keygen -t ed25519 -f [HOME]/.ssh/id_ed25519
    ");
    let f = doctor.find("key");
    assert_eq!(f.details.len(), 7, "{:?}", f.details);
    assert!(
        f.details.iter().all(|d| d.starts_with("agent holds: ssh-")),
        "{:?}",
        f.details
    );
    assert!(f.fixable);

    // Setup without --yes and without a terminal makes no key: it would have asked.
    let o = Options {
        no_passphrase: true,
        ..options()
    };
    let dry = rig.run(Mode::DryRun, &o, &["destination", "key"]);
    assert_eq!(
        dry.would("key"),
        format!("would ask first: the agent at {AGENT_SOCK} holds 7 keys\nwould create ~/.ssh/id_ed25519 with ssh-keygen -t ed25519\nwould run: ssh-keygen -q -t ed25519 -f {} -N ''", quote(&path))
    );
    let declined = rig.run(Mode::Setup, &o, &["destination", "key"]);
    assert_eq!(declined.outcome("key"), Some(&no_consent("--yes")));
    assert!(declined.changes().is_empty(), "{:?}", declined.changes());

    // With --yes (dotfiles that set up a machine unattended), the new key is made as before.
    let o = Options {
        no_passphrase: true,
        ..yes()
    };
    let rig = rig.on(
        &["ssh-keygen", "-q", "-t", "ed25519", "-f", &path, "-N", ""],
        Reply::ok(""),
    );
    let steps = rig.steps(
        rdock::steps::plan::Purpose::Setup,
        &o,
        &["destination", "key"],
    );
    let mut steps = steps.into_iter();
    let destination = steps.next().unwrap();
    let step = steps.next().unwrap();
    let made = rig.run_steps(
        Mode::Setup,
        vec![
            destination,
            Box::new(KeygenWrites {
                step,
                path: rig.path(".ssh/id_ed25519"),
            }),
        ],
    );
    assert_eq!(
        made.outcome("key"),
        Some(&Outcome::Done(
            "created ~/.ssh/id_ed25519 (ed25519, no passphrase)".into()
        ))
    );
    assert_eq!(made.find("key").status, Status::Ok);
}

#[test]
fn a_configured_identity_file_whose_private_file_is_gone_is_its_pub_when_the_agent_holds_it() {
    // `work`: IdentityFile ~/.ssh/work_ed25519, IdentityAgent ~/.agent/work.sock. Only the .pub
    // is there; ssh reads it and offers the agent's copy, and the probe must name the .pub.
    let rig = Rig::new(Platform::Linux)
        .keywords_host("work")
        .on(&["ssh-add", "-L"], Reply::ok(SSH_ADD_BIG_L_ONE))
        .probe(Reply::ok(PROBE_SERVER));
    rig.write(".ssh/work_ed25519.pub", KEY_PUB);
    let public = rig.arg(".ssh/work_ed25519.pub");
    let done = rig.run(
        Mode::Doctor,
        &options(),
        &["destination", "key", "connection"],
    );
    insta::assert_snapshot!(done.render("key"), @"key ok: ~/.ssh/work_ed25519.pub (ssh-ed25519): the private key stays in the agent at [HOME]/.agent/work.sock (IdentityAgent)");
    let probe = done.the(&["ssh", "-o", "BatchMode=yes"]);
    assert!(
        probe.argv.windows(2).any(|w| w == ["-i", public.as_str()]),
        "{:?}",
        probe.argv
    );
}

#[test]
fn a_private_key_file_that_is_gone_while_no_agent_holds_it_is_called_missing() {
    // u@127.0.0.1:2222: ~/.ssh/id_ed25519 deleted, its .pub left, an empty agent. The .pub
    // stands in for the lost file; the finding must say the private key is missing, not ask to
    // unlock 1Password first.
    let rig = Rig::plain().agent(agent_empty(), agent_empty());
    rig.write(".ssh/id_ed25519.pub", KEY_PUB);
    let done = rig.run(Mode::Doctor, &options(), &["destination", "key"]);
    let f = done.find("key");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.starts_with(
            "the private key ~/.ssh/id_ed25519 is missing and only ~/.ssh/id_ed25519.pub is left"
        ),
        "{}",
        f.message
    );
    assert!(
        f.fix
            .as_deref()
            .unwrap_or("")
            .starts_with("restore ~/.ssh/id_ed25519 from a backup; or "),
        "{f:?}"
    );
}

#[test]
fn the_agent_s_keys_are_listed_from_the_agent_ssh_asks_for_this_host() {
    // `work` names IdentityAgent ~/.agent/work.sock: ssh-add must be pointed at it.
    let rig = Rig::new(Platform::Linux)
        .keywords_host("work")
        .on(&["ssh-add", "-L"], Reply::ok(SSH_ADD_BIG_L_ONE));
    let sock = rig.arg(".agent/work.sock");
    let done = rig.run(Mode::Doctor, &options(), &["destination", "key"]);
    let f = done.find("key");
    insta::assert_snapshot!(render(f), @"
    key fail: no key at ~/.ssh/work_ed25519, but the agent at [HOME]/.agent/work.sock (IdentityAgent) holds 1 key
    fix: to use a key of the agent's: save its line of `SSH_AUTH_SOCK=[HOME]/.agent/work.sock ssh-add -L` as a .pub file (e.g. ~/.ssh/box.pub), then rerun with --identity ~/.ssh/box.pub (or set IdentityFile ~/.ssh/box.pub for this host in ~/.ssh/config); to make a new key instead:
           ssh-keygen -t ed25519 -f [HOME]/.ssh/work_ed25519
    ");
    let fix = f.fix.as_deref().unwrap_or("");
    assert!(
        fix.starts_with(&format!(
            "to use a key of the agent's: save its line of `SSH_AUTH_SOCK={sock} ssh-add -L` as a .pub file"
        )),
        "{fix}"
    );
    assert_eq!(f.details.len(), 1);
}
