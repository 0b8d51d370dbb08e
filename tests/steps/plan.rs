//! The whole plan, as setup builds it: under --dry-run on a fresh machine it shows every step to
//! the end, and doctor, running the same checks, finds the same; then setup itself, from a fresh
//! machine to a working context, and again on a configured one, where it changes nothing.

use rdock::steps::plan::{Options, Purpose, Scope, PLAN};
use rdock::steps::{Finding, Group, Mode, Status};
use rdock::sys::exec::Reply;
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{options, Rig, CONTEXT, VERSION};

/// What setup passes: the key it makes or reuses, and `--multiplex` so that every step runs.
fn setup_options(rig: &Rig) -> Options {
    Options {
        identity: Some(rig.path(".ssh/id_ed25519")),
        no_passphrase: true,
        multiplex: true,
        ..options()
    }
}

/// u@127.0.0.1:2222 from a machine with the tools and nothing else: no key, no agent, no
/// ~/.ssh/config, the host key unknown, no docker context. Every later answer is the one the
/// machine gives once setup did its part.
fn fresh() -> Rig {
    let rig = Rig::new(Platform::Linux).plain_host().versions();
    let rig = {
        let key = rig.arg(".ssh/id_ed25519");
        rig.key_files(None, None, Reply::ok(SSH_KEYGEN_Y))
            .fetches_host_key()
            .on_prefix(&["ssh-keygen", "-H"], Reply::ok(""))
            .finds_host_key()
            .on(&["ssh-add", "-l"], agent_empty())
            .on(&["ssh-add", "-L"], agent_empty())
            .on(&["ssh-add", "-L"], Reply::ok(SSH_ADD_BIG_L_ONE))
            .on(&["ssh-add", "--", &key], key_added(&key))
            // The facts phase's probe, then the one after the identity fix made it stale.
            .probe(ssh_failed(HOST_KEY_UNKNOWN))
            .probe(ssh_failed(HOST_KEY_UNKNOWN))
            .probe(ssh_failed(KEY_REFUSED))
            .probe(Reply::ok(PROBE_SERVER))
            .on_prefix(
                &["ssh", "-o", "PubkeyAuthentication=no"],
                Reply::ok("rdock-key-added\n"),
            )
            .on_prefix(&["ssh", "-O", "check"], o_check_none())
            .store(&[], None)
    };
    // docker's context store changes as `docker context create` and `use` change it.
    let created = rig.store_after(context_changed(CONTEXT_CREATE), &[BOX], None);
    let used = rig.store_after(context_changed(CONTEXT_USE), &[BOX], Some(CONTEXT));
    rig.on_prefix(&LOCAL_DOCKER_CONTEXT_CREATE, created)
        .on_prefix(&LOCAL_DOCKER_CONTEXT_USE, used)
        .on(&VERSION, Reply::ok("28.2.2\n"))
}

/// Context box, pointing at u@127.0.0.1:2222.
const BOX: (&str, &str) = (CONTEXT, "ssh://u@127.0.0.1:2222");
const LOCAL_DOCKER_CONTEXT_CREATE: [&str; 5] =
    ["docker", "--context", "default", "context", "create"];
const LOCAL_DOCKER_CONTEXT_USE: [&str; 5] = ["docker", "--context", "default", "context", "use"];

/// A check's verdict: for a skip, the step whose result it waited on.
fn verdict(f: &Finding) -> (String, Status, String, Option<String>) {
    let said = match f.status {
        Status::Skip => f
            .message
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string(),
        _ => f.message.clone(),
    };
    (f.id.clone(), f.status, said, f.fix.clone())
}

#[test]
fn dry_run_shows_every_step_to_the_end_and_doctor_agrees_check_for_check() {
    let rig = fresh();
    let o = Options {
        identity: None,
        ..setup_options(&rig)
    };
    // Setup's steps: all but the editors, doctor's clients group and remove's steps.
    let all: Vec<&str> = PLAN
        .iter()
        .filter(|m| ![Group::Editors, Group::Clients, Group::Removal].contains(&m.group))
        .map(|m| m.id)
        .collect();

    let steps = rdock::steps::plan::steps(Purpose::Setup, Scope::Destination, &o, &rig.env);
    let dry = rig.run_steps(Mode::DryRun, steps);
    assert_eq!(dry.ids(), all, "every step, to the end");
    assert!(!dry.report.stopped);
    let would = dry.acted();
    assert_eq!(would, ["key", "host-key", "context", "multiplex"]);
    assert_eq!(dry.report.changed, would.len());
    // The message alone: the fix names the systemd unit only where this machine ships one.
    assert_eq!(
        dry.find("agent").message,
        "no ssh-agent: SSH_AUTH_SOCK is not set"
    );
    insta::assert_snapshot!(dry.render("identity"), @"identity skip: skipped: key is not done yet (--dry-run)");
    insta::assert_snapshot!(dry.render("auth"), @"auth skip: skipped: host-key is not done yet (--dry-run)");
    for id in ["use", "verify"] {
        assert_eq!(
            dry.find(id).message,
            "skipped: context is not done yet (--dry-run)"
        );
    }
    assert_eq!(
        dry.report.failed(),
        1,
        "only the agent, which rdock cannot start on Linux"
    );

    // Doctor's way: check only.
    let mut steps = rdock::steps::plan::steps(Purpose::Setup, Scope::Destination, &o, &rig.env);
    let s = rig.session(Mode::Doctor);
    let doctor = rig.run_in(s, Mode::Doctor, &mut steps);
    assert_eq!(doctor.ids(), all);
    let checks = |done: &super::Done| done.report.findings.iter().map(verdict).collect::<Vec<_>>();
    assert_eq!(checks(&doctor), checks(&dry), "setup and doctor disagree");
}

#[test]
fn setup_takes_a_fresh_machine_to_a_working_context() {
    let rig = fresh().var("SSH_AUTH_SOCK", super::AGENT_SOCK);
    rig.private(".ssh/id_ed25519", KEY);
    rig.write(".ssh/id_ed25519.pub", KEY_PUB);
    let o = Options {
        yes: true,
        accept_host_key: true,
        ..setup_options(&rig)
    };
    let steps = rdock::steps::plan::steps(Purpose::Setup, Scope::Destination, &o, &rig.env);
    let done = rig.run_steps(Mode::Setup, steps);
    let bad: Vec<_> = done
        .report
        .findings
        .iter()
        .filter(|f| f.status != Status::Ok)
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    let fixed = done.acted();
    assert_eq!(
        fixed,
        [
            "ssh-config",
            "identity",
            "host-key",
            "auth",
            "context",
            "use",
            "multiplex"
        ]
    );
    let key = rig.arg(".ssh/id_ed25519");
    let changes: Vec<String> = done.changes();
    let starts = [
        "ssh-add --",
        "ssh -o PubkeyAuthentication=no",
        "docker --context default context create",
        "docker --context default context use",
    ];
    assert_eq!(changes.len(), starts.len(), "{changes:#?}");
    for (change, start) in changes.iter().zip(starts) {
        assert!(
            change.starts_with(start),
            "{change} does not start with {start}"
        );
    }
    assert_eq!(changes[0], format!("ssh-add -- {key}"));
    assert!(rig.read(".ssh/config").contains("AddKeysToAgent yes\n"));
    assert!(rig
        .read(".ssh/config")
        .contains("Match originalhost 127.0.0.1 exec "));
    assert_eq!(rig.read(".ssh/known_hosts"), FETCHED);
}

#[test]
fn setup_on_a_configured_machine_changes_nothing() {
    // `ssh -G` as ssh prints it once ~/.ssh/config sets AddKeysToAgent yes (the recording was
    // made without it).
    let rig = Rig::new(Platform::Linux);
    let g = rig
        .at_home(SSH_G_PLAIN)
        .replace("addkeystoagent false", "addkeystoagent true");
    let bare = rig.at_home(SSH_G_PLAIN_F_NONE);
    let argv = |line: &'static str| line.split(' ').collect::<Vec<_>>();
    let rig = rig
        .dest(super::PLAIN)
        .on(&argv("ssh -G -l u -p 2222 -- 127.0.0.1"), Reply::ok(g))
        .on(
            &argv("ssh -G -F none -l u -p 2222 -- 127.0.0.1"),
            Reply::ok(bare),
        )
        .versions()
        .key()
        .known_host()
        .agent_with_key()
        .probe(Reply::ok(PROBE_SERVER))
        .store(&[BOX], Some(CONTEXT))
        .on(&VERSION, Reply::ok("28.2.2\n"));
    rig.write(
        ".ssh/config",
        "# >>> rdock managed: agent >>>\nAddKeysToAgent yes\n# <<< rdock managed: agent <<<\n",
    );
    let o = Options {
        multiplex: false,
        ..setup_options(&rig)
    };
    let steps = rdock::steps::plan::steps(Purpose::Setup, Scope::Destination, &o, &rig.env);
    let done = rig.run_steps(Mode::Setup, steps);
    assert!(
        done.report
            .findings
            .iter()
            .all(|f| f.status == Status::Ok && f.outcome.is_none()),
        "{:#?}",
        done.report.findings
    );
    assert_eq!(done.report.changed, 0);
    assert!(done.changes().is_empty());
    assert_eq!(
        done.ran()
            .iter()
            .filter(|c| c.contains("BatchMode=yes"))
            .count(),
        1,
        "one probe for every remote check"
    );
}
