//! rdock remove's steps (steps::remove), as the command runs them: find the context, switch away
//! from it when it is the current one, remove it and rdock's ssh_config block for it, and with
//! --revoke take the key out of the remote authorized_keys first. One question covers all of it;
//! --dry-run runs nothing; render::removal shows each step as `rdock remove` prints it.

use rdock::ssh::{config as ssh_config, multiplex};
use rdock::steps::plan::{Options, Purpose, Scope};
use rdock::steps::{Finding, Mode, Outcome, Status, Step};
use rdock::sys::exec::Reply;
use rdock::sys::term::Term;

use super::recorded::*;
use super::{no_consent, options, Done, Rig, CONTEXT};

const BOX: (&str, &str) = (CONTEXT, "ssh://u@127.0.0.1:2222");
const OTHER: (&str, &str) = ("other", "ssh://u@127.0.0.1:2222");
const USE_DEFAULT: &str = "docker --context default context use -- default";
const RM: &str = "docker --context default context rm -- box";
/// The steps of `rdock remove box --revoke`, in order.
const REVOKE_PLAN: [&str; 6] = [
    "target",
    "revoke-key",
    "shared-key",
    "revoke",
    "remove",
    "multiplex-block",
];
/// What ssh-keygen -l says of the recorded key (its fingerprint is made up).
const KEYGEN_L: &str = "256 SHA256:Fp me@laptop (ED25519)\n";

/// Context box (ssh://u@127.0.0.1:2222), current, with rdock's multiplex block in
/// ~/.ssh/config, the recorded key, and docker answering `use default` and `rm` as it does.
fn current_box() -> Rig {
    let rig = Rig::plain().key().store(&[BOX], Some(CONTEXT));
    let config = ssh_config::set_block(
        "Host *\n    ServerAliveInterval 30\n",
        &multiplex::block_name(CONTEXT),
        &multiplex::block_body("127.0.0.1", rdock::sys::platform::Platform::Linux),
    );
    rig.write(".ssh/config", config);
    let used = rig.store_after(context_changed(CONTEXT_USE), &[BOX], None);
    let removed = rig.store_after(Reply::ok("box\n"), &[], None);
    let words = |line: &'static str| line.split(' ').collect::<Vec<_>>();
    rig.on(&words(USE_DEFAULT), used)
        .on(&words(RM), removed)
        .on(&words(O_EXIT), o_check_none())
}

/// The master goes with the block (there is none here).
const O_EXIT: &str = "ssh -O exit -l u -p 2222 -- 127.0.0.1";

fn remove_options(yes: bool) -> Options {
    Options { yes, ..options() }
}

/// Every step of `rdock remove box` (with `revoke`: `--revoke`), run in `mode` with no terminal.
fn remove(rig: &Rig, o: &Options, revoke: bool, mode: Mode) -> Done {
    remove_at(rig, o, revoke, mode, Term::plain())
}

/// [`remove`] at `term`.
fn remove_at(rig: &Rig, o: &Options, revoke: bool, mode: Mode, term: Term) -> Done {
    let mut s = rig.session(mode);
    s.term = term;
    let purpose = Purpose::Remove { revoke };
    let mut steps: Vec<Box<dyn Step>> = rdock::steps::plan::steps(purpose, Scope::All, o, &rig.env);
    rig.run_in(s, mode, &mut steps)
}

/// `rdock remove box --yes` (with `revoke`: `--revoke`).
fn remove_yes(rig: &Rig, revoke: bool) -> Done {
    remove(rig, &remove_options(true), revoke, Mode::Setup)
}

/// What `rdock remove` prints for the run: stdout, then stderr, without colour.
fn printed(done: &Done) -> (String, String) {
    let plain = |t: String| anstream::adapter::strip_str(&t).to_string();
    let shown: Vec<(String, String)> = done
        .report
        .findings
        .iter()
        .map(rdock::render::removal)
        .collect();
    let (out, err): (Vec<String>, Vec<String>) = shown.into_iter().unzip();
    (plain(out.concat()), plain(err.concat()))
}

/// How many times the run resolved a destination: `resolve` runs `ssh -G` with and without the
/// config.
fn resolved(done: &Done) -> usize {
    let ran = done.ran();
    ran.iter().filter(|c| c.starts_with("ssh -G ")).count() / 2
}

fn ids(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn remove_switches_away_from_the_current_context_removes_it_and_its_block_and_says_how_to_revoke() {
    let rig = current_box();
    let done = remove_yes(&rig, false);
    let blob = key_line().split_whitespace().nth(1).unwrap();
    assert_eq!(resolved(&done), 1, "{:?}", done.ran());
    assert_eq!(
        ids(&done.report.findings),
        ["target", "remove", "multiplex-block", "left-alone"]
    );
    assert_eq!(
        done.changes(),
        [
            "docker --context default context use -- default",
            "docker --context default context rm -- box",
            O_EXIT
        ]
    );
    assert_eq!(
        rig.read(".ssh/config"),
        "Host *\n    ServerAliveInterval 30\n"
    );
    let (out, err) = printed(&done);
    assert_eq!(
        out,
        format!(
            "✓ switch to context default first\n\
             ✓ remove context box (ssh://u@127.0.0.1:2222)\n\
             ✓ remove rdock's \"multiplex box\" block from ~/.ssh/config\n\
             Keys, known_hosts and the remote were left as they are. To revoke the key on the remote, run:\n    \
             ssh -p 2222 u@127.0.0.1 'readlink -f ~/.ssh/authorized_keys | xargs sed -i \"\\|{blob}|d\"'\n"
        )
    );
    assert_eq!(err, "");
    assert!(!done.report.stopped && done.report.failed() == 0);
}

#[test]
fn without_consent_nothing_is_removed_and_the_run_stops_at_the_question() {
    let rig = current_box();
    let config = rig.read(".ssh/config");
    for (term, declined) in [
        (Term::plain(), no_consent("--yes")),
        (
            Term::answering(false),
            Outcome::Declined("you said no".into()),
        ),
    ] {
        let done = remove_at(&rig, &remove_options(false), false, Mode::Setup, term);
        assert!(done.changes().is_empty(), "{:?}", done.changes());
        assert_eq!(done.outcome("remove"), Some(&declined));
        assert!(
            done.report.stopped,
            "the block and the hint come after the question"
        );
        assert_eq!(ids(&done.report.findings), ["target", "remove"]);
        assert_eq!(printed(&done), (String::new(), String::new()));
        assert_eq!(rig.read(".ssh/config"), config);
    }
}

#[test]
fn dry_run_prints_its_plan_on_stdout_each_command_under_its_step() {
    let rig = current_box();
    let done = remove(&rig, &remove_options(false), false, Mode::DryRun);
    let (out, err) = printed(&done);
    assert!(
        out.starts_with(
            "✓ would switch to context default first\n\
             ✓ would remove context box (ssh://u@127.0.0.1:2222)\n    \
             would run: docker --context default context use -- default\n    \
             would run: docker --context default context rm -- box\n\
             ✓ would remove rdock's \"multiplex box\" block from ~/.ssh/config\n\
             Keys, known_hosts and the remote were left as they are."
        ),
        "{out}"
    );
    assert_eq!(err, "");
}

#[test]
fn a_context_docker_does_not_have_is_an_error_and_nothing_runs() {
    let rig = Rig::plain().store(&[], None);
    for mode in [Mode::Setup, Mode::DryRun] {
        let done = remove(&rig, &remove_options(true), true, mode);
        assert!(done.ran().is_empty(), "{:?}", done.ran());
        let (out, err) = printed(&done);
        assert_eq!(out, "");
        assert_eq!(
            err,
            "error: there is no docker context named box; `rdock list` shows them\n"
        );
        assert_eq!(done.report.failed(), 1);
    }
}

/// Context box, current, and the recorded key; `ssh-keygen -l` describes it, and the revoke's
/// ssh (the only one with BatchMode) answers `reply`.
fn revocable(reply: Reply) -> Rig {
    current_box()
        .on(&["ssh-keygen", "-l", "-f", "-"], Reply::ok(KEYGEN_L))
        .probe(reply)
}

#[test]
fn revoke_takes_the_key_out_first_then_removes_the_context() {
    let rig = revocable(Reply::ok("rdock-key-removed 1\n"));
    let done = remove_yes(&rig, true);
    assert_eq!(ids(&done.report.findings), REVOKE_PLAN);
    assert_eq!(resolved(&done), 1, "{:?}", done.ran());
    let (out, err) = printed(&done);
    assert_eq!(
        out,
        "✓ removed key ED25519 SHA256:Fp from ~/.ssh/authorized_keys on u@127.0.0.1:2222 (1 line)\n\
         ✓ switch to context default first\n\
         ✓ remove context box (ssh://u@127.0.0.1:2222)\n\
         ✓ remove rdock's \"multiplex box\" block from ~/.ssh/config\n"
    );
    assert_eq!(err, "");
    let revoke = &done.changes()[0];
    assert!(revoke.starts_with("ssh -o BatchMode=yes"), "{revoke}");
    assert_eq!(done.changes().len(), 4, "{:?}", done.changes());
    assert_eq!(done.changes()[3], O_EXIT, "the master goes with the block");
}

#[test]
fn a_revoke_that_fails_keeps_the_context_and_says_how_to_do_it_by_hand() {
    let rig = revocable(ssh_failed(CONNECTION_REFUSED));
    let done = remove_yes(&rig, true);
    assert!(done.report.stopped);
    let f = done.find("revoke");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message
            .starts_with("cannot log in to u@127.0.0.1:2222 to revoke the key: "),
        "{}",
        f.message
    );
    let fix = f.fix.as_deref().unwrap();
    assert!(fix.starts_with("rdock doctor box says what to fix; or revoke the key by hand:\nssh -p 2222 u@127.0.0.1 'readlink -f"), "{fix}");
    assert_eq!(
        done.changes().len(),
        1,
        "only the revoke ran: {:?}",
        done.changes()
    );
}

#[test]
fn revoke_stops_while_another_context_logs_in_with_the_key_and_force_only_warns() {
    let rig = revocable(Reply::ok("rdock-key-removed 1\n")).store(&[BOX, OTHER], Some(CONTEXT));
    let done = remove_yes(&rig, true);
    assert!(done.changes().is_empty() && done.report.stopped);
    let (out, _) = printed(&done);
    assert_eq!(
        out,
        "✗ docker context other also logs in to u@127.0.0.1:2222 with this key; revoking it would cut it off\n    \
         fix: remove it first (rdock remove other), or pass --force to revoke the\n         key anyway\n"
    );

    let forced = Options {
        force: true,
        ..remove_options(true)
    };
    let done = remove(&rig, &forced, true, Mode::DryRun);
    let (out, err) = printed(&done);
    assert!(
        out.starts_with(
            "! --force: docker context other will stop working: it logs in with this key\n\
             ✓ would remove key ED25519 SHA256:Fp from ~/.ssh/authorized_keys on u@127.0.0.1:2222\n"
        ),
        "{out}"
    );
    assert!(
        out.contains("\n    would run: ssh -o BatchMode=yes"),
        "{out}"
    );
    assert_eq!(err, "");
}

#[test]
fn revoke_needs_an_ssh_context_and_the_public_key_and_changes_nothing_without() {
    let tcp = Rig::plain().store(&[(CONTEXT, "tcp://10.0.0.5:2375")], None);
    let done = remove(&tcp, &remove_options(true), true, Mode::Setup);
    let error = "error: context box is not an ssh:// one (tcp://10.0.0.5:2375): there is no remote key to revoke\n";
    assert_eq!(printed(&done), (String::new(), error.to_string()));
    assert!(done.ran().is_empty(), "{:?}", done.ran());

    // `ssh -G` names ~/.ssh/id_ed25519, and there is no key there.
    let keyless = Rig::plain().store(&[BOX], None);
    let done = remove(&keyless, &remove_options(true), true, Mode::DryRun);
    let error =
        "error: no public key at ~/.ssh/id_ed25519.pub: rdock cannot tell which key to revoke\n";
    assert_eq!(printed(&done), (String::new(), error.to_string()));
    assert!(done.changes().is_empty());
    assert_eq!(ids(&done.report.findings), REVOKE_PLAN);
    assert!(done.report.findings[2..]
        .iter()
        .all(|f| f.status == Status::Skip));
}

#[test]
fn without_its_public_key_the_manual_revoke_names_the_file_and_holds_no_placeholder() {
    let rig = Rig::plain()
        .key_files(Some(KEY), None, Reply::ok(SSH_KEYGEN_Y))
        .store(&[BOX], None);
    let done = remove(&rig, &remove_options(false), false, Mode::DryRun);
    let (out, _) = printed(&done);
    assert!(
        out.contains("delete the line of ~/.ssh/id_ed25519.pub from ~/.ssh/authorized_keys on u@127.0.0.1:2222"),
        "{out}"
    );
    assert!(
        !out.contains("KEY-BLOB") && !out.contains("USER@HOST"),
        "{out}"
    );
}
