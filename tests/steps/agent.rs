//! agent, identity, agent-keys: the agent ssh will use must answer and hold the key; on Windows
//! the ssh-agent service (enabled and started by setup, with consent, when elevated) or Pageant.

use rdock::ssh::agent;
use rdock::steps::plan::Options;
use rdock::steps::{Finding, Mode, Outcome, Status};
use rdock::sys::exec::{quote, Reply};
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{no_consent, options, render, Rig};

/// The fix for no agent on Linux: it names the systemd unit when this machine ships one.
fn linux_agent_fix() -> String {
    agent::agent_fix(
        Platform::Linux,
        agent::systemd_agent_unit(&|p| p.exists()).as_deref(),
    )
}

/// A finding as [`render`] shows it, with Linux's fix for no agent as `[LINUX_AGENT_FIX]`: that
/// fix names the systemd unit only on a machine that ships one.
fn rendered(f: &Finding) -> String {
    render(f).replace(
        &linux_agent_fix().replace('\n', "\n     "),
        "[LINUX_AGENT_FIX]",
    )
}

/// Pageant's pipe, as ~/.ssh/pageant.conf names it.
const PIPE: &str = r"\\.\pipe\pageant.me.0123abcd";

/// Windows, where ~/.ssh/config includes the pageant.conf Pageant wrote.
fn pageant() -> Rig {
    let rig = Rig::new(Platform::Windows);
    rig.write(".ssh/config", "Include pageant.conf\n");
    rig.write(".ssh/pageant.conf", format!("IdentityAgent \"{PIPE}\"\n"));
    rig
}

/// `--identity ~/.ssh/id_ed25519`, as setup passes it.
fn identity(rig: &Rig) -> Options {
    Options {
        identity: Some(rig.path(".ssh/id_ed25519")),
        ..options()
    }
}

// agent

#[test]
fn linux_without_ssh_auth_sock_fails_with_eval_and_runs_nothing() {
    let done = Rig::new(Platform::Linux).run(Mode::Setup, &options(), &["agent"]);
    let f = done.find("agent");
    insta::assert_snapshot!(rendered(f), @r#"
    agent fail: no ssh-agent: SSH_AUTH_SOCK is not set
    fix: [LINUX_AGENT_FIX]
    "#);
    assert!(f
        .fix
        .as_deref()
        .unwrap()
        .starts_with("start one for this shell:\n  eval \"$(ssh-agent -s)\"\n"));
    assert!(!f.fixable && done.report.stopped);
    assert!(done.ran().is_empty());
}

#[test]
fn an_agent_answers_with_its_keys_or_is_gone() {
    let answers = |l: Reply| {
        let rig = Rig::new(Platform::Linux).agent(l, agent_empty());
        rig.run(Mode::Doctor, &options(), &["agent"])
    };
    let one = answers(Reply::ok(SSH_ADD_L_ONE));
    insta::assert_snapshot!(one.render("agent"), @"agent ok: ssh-agent answers at /tmp/ssh-XXXXh0fLq9/agent.4242 (1 key)");
    assert_eq!(one.ran(), ["ssh-add -l"]);
    let empty = answers(agent_empty());
    insta::assert_snapshot!(empty.render("agent"), @"agent ok: ssh-agent answers at /tmp/ssh-XXXXh0fLq9/agent.4242 (0 keys)");
    let gone = answers(agent_gone());
    insta::assert_snapshot!(rendered(gone.find("agent")), @r#"
    agent fail: no ssh-agent answers at SSH_AUTH_SOCK=/tmp/ssh-XXXXh0fLq9/agent.4242 (Error connecting to agent: No such file or directory)
    fix: [LINUX_AGENT_FIX]
    "#);
    let missing = answers(Reply::cannot_start());
    let f = missing.find("agent");
    assert!(f.message.starts_with("could not run `ssh-add`"), "{f:?}");
}

#[test]
fn macos_without_an_agent_is_told_about_launchd() {
    let rig = Rig::new(Platform::MacOs).agent(agent_gone(), agent_gone());
    let done = rig.run(Mode::Doctor, &options(), &["agent"]);
    insta::assert_snapshot!(done.render("agent"), @r#"
    agent fail: no ssh-agent answers at SSH_AUTH_SOCK=/tmp/ssh-XXXXh0fLq9/agent.4242 (Error connecting to agent: No such file or directory)
    fix: launchctl start com.openssh.ssh-agent (macOS starts it at login and sets SSH_AUTH_SOCK), or eval "$(ssh-agent -s)" for this shell
    "#);
}

/// Windows without SSH_AUTH_SOCK: the service's pipe, gone until setup starts the service (then
/// empty); `sc.exe` describes the service, `net session` whether the prompt is elevated.
fn windows_service(qc: &str, query: &str, elevation: Reply) -> Rig {
    Rig::new(Platform::Windows)
        .on(&["ssh-add", "-l"], agent_gone())
        .on(&["ssh-add", "-l"], agent_empty())
        .on(&["sc.exe", "qc", "ssh-agent"], Reply::ok(qc))
        .on(&["sc.exe", "query", "ssh-agent"], Reply::ok(query))
        .on(&["net", "session"], elevation)
        .on(
            &["sc.exe", "config", "ssh-agent", "start=", "auto"],
            sc_config_done(),
        )
        .on(&["net", "start", "ssh-agent"], net_start_done())
}

#[test]
fn windows_setup_enables_and_starts_a_stopped_service_with_consent() {
    let rig = windows_service(QC_DISABLED, QUERY_STOPPED, elevated());
    let yes = Options {
        yes: true,
        ..options()
    };
    let commands = "sc.exe config ssh-agent start= auto\nnet start ssh-agent";

    let doctor = rig.run(Mode::Doctor, &options(), &["agent"]);
    let f = doctor.find("agent");
    insta::assert_snapshot!(render(f), @r"
    agent fail: no ssh-agent answers: the ssh-agent service is disabled and is stopped
    fix: from an elevated prompt (Run as administrator):
           sc.exe config ssh-agent start= auto
           net start ssh-agent
    ");
    assert!(f.fixable);

    let dry = rig.run(Mode::DryRun, &yes, &["agent"]);
    assert_eq!(
        dry.would("agent"),
        format!(
            "would enable and start the ssh-agent service\nwould run: {}",
            commands.replace('\n', "\nwould run: ")
        )
    );

    let declined = rig.run(Mode::Setup, &options(), &["agent"]);
    assert_eq!(declined.outcome("agent"), Some(&no_consent("--yes")));
    assert!(declined.changes().is_empty() && declined.report.stopped);

    let done = rig.run(Mode::Setup, &yes, &["agent"]);
    let f = done.find("agent");
    insta::assert_snapshot!(render(f), @r"agent ok: ssh-agent answers at the ssh-agent service (\\.\pipe\openssh-ssh-agent) (0 keys)");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "enabled and started the ssh-agent service".into()
        ))
    );
    assert_eq!(done.changes().join("\n"), commands);
    assert!(!done.report.stopped);
}

#[test]
fn windows_setup_changes_no_service_from_a_prompt_that_is_not_elevated() {
    let rig = windows_service(&qc("3   DEMAND_START"), QUERY_STOPPED, not_elevated());
    let yes = Options {
        yes: true,
        ..options()
    };
    let done = rig.run(Mode::Setup, &yes, &["agent"]);
    insta::assert_snapshot!(done.render("agent"), @r"
    agent fail: the ssh-agent service starts only on demand and is stopped; this prompt is not elevated, so rdock cannot change the service. Run, from an elevated prompt (Run as administrator):
      sc.exe config ssh-agent start= auto
      net start ssh-agent
    then run rdock setup again
    fix: from an elevated prompt (Run as administrator):
           sc.exe config ssh-agent start= auto
           net start ssh-agent
    ");
    assert!(done.changes().is_empty() && done.report.stopped);
}

#[test]
fn windows_service_running_but_silent_or_missing_is_not_setups_to_fix() {
    let running = windows_service(&qc("2   AUTO_START"), QUERY_RUNNING, elevated());
    let done = running.run(
        Mode::Setup,
        &Options {
            yes: true,
            ..options()
        },
        &["agent"],
    );
    let f = done.find("agent");
    insta::assert_snapshot!(render(f), @r"
    agent fail: the ssh-agent service starts automatically and is running, but does not answer (Error connecting to agent: No such file or directory)
    fix: from an elevated prompt: net stop ssh-agent, then net start ssh-agent
    ");
    assert!(!f.fixable && done.changes().is_empty());

    let missing = Rig::new(Platform::Windows)
        .on(&["ssh-add", "-l"], agent_gone())
        .on_prefix(&["sc.exe"], Reply::exit(Some(1060), SC_NOT_INSTALLED, ""));
    let done = missing.run(Mode::Doctor, &options(), &["agent"]);
    insta::assert_snapshot!(done.render("agent"), @r"
    agent fail: no ssh-agent answers, and Windows has no ssh-agent service (the OpenSSH client is not installed)
    fix: Add-WindowsCapability -Online -Name OpenSSH.Client~~~~0.0.1.0 (elevated PowerShell)
    ");
}

#[test]
fn windows_asks_pageant_through_its_pipe() {
    let rig = pageant().on(&["ssh-add", "-l"], Reply::ok(SSH_ADD_L_ONE));
    let done = rig.run(Mode::Doctor, &options(), &["agent"]);
    insta::assert_snapshot!(done.render("agent"), @r"agent ok: ssh-agent answers at Pageant's pipe \\.\pipe\pageant.me.0123abcd (from pageant.conf) (1 key)");
    assert_eq!(
        done.the(&["ssh-add", "-l"]).env_var("SSH_AUTH_SOCK"),
        Some(PIPE)
    );

    let gone = pageant().on(&["ssh-add", "-l"], agent_gone());
    let done = gone.run(Mode::Doctor, &options(), &["agent"]);
    insta::assert_snapshot!(done.render("agent"), @r"
    agent fail: Pageant does not answer at \\.\pipe\pageant.me.0123abcd (Error connecting to agent: No such file or directory); that pipe is from an earlier run of Pageant
    fix: SSH_AUTH_SOCK=pageant is understood only by ssh2-based clients (dockerode); the docker CLI runs OpenSSH, which needs Pageant's pipe:
         1. start Pageant 0.75 or later as: pageant.exe --openssh-config %USERPROFILE%\.ssh\pageant.conf (in its Startup shortcut, so it writes the file at every login)
         2. include that file from ~/.ssh/config, before any Host line: Include pageant.conf (rdock setup writes it)
         OpenSSH then uses Pageant whatever SSH_AUTH_SOCK says, and ssh2-based clients keep SSH_AUTH_SOCK=pageant
    ");

    // SSH_AUTH_SOCK=pageant and no pageant.conf: OpenSSH has no way to Pageant.
    let name = Rig::new(Platform::Windows).var("SSH_AUTH_SOCK", "pageant");
    let done = name.run(Mode::Doctor, &options(), &["agent"]);
    insta::assert_snapshot!(done.render("agent"), @r"
    agent fail: SSH_AUTH_SOCK=pageant, which OpenSSH (and so the docker CLI) cannot use
    fix: SSH_AUTH_SOCK=pageant is understood only by ssh2-based clients (dockerode); the docker CLI runs OpenSSH, which needs Pageant's pipe:
         1. start Pageant 0.75 or later as: pageant.exe --openssh-config %USERPROFILE%\.ssh\pageant.conf (in its Startup shortcut, so it writes the file at every login)
         2. include that file from ~/.ssh/config, before any Host line: Include pageant.conf (rdock setup writes it)
         OpenSSH then uses Pageant whatever SSH_AUTH_SOCK says, and ssh2-based clients keep SSH_AUTH_SOCK=pageant
    ");
    assert!(done.ran().is_empty());
}

// identity

#[test]
fn a_key_the_agent_holds_is_ok_and_says_what_ssh_offers() {
    let rig = Rig::plain().key().agent_with_key();
    let done = rig.run(
        Mode::Doctor,
        &options(),
        &["destination", "key", "identity"],
    );
    let f = done.find("identity");
    insta::assert_snapshot!(render(f), @"identity ok: the agent holds ~/.ssh/id_ed25519");
    assert_eq!(
        f.details,
        [
            "agent offers: me@laptop …SeFc+HwdoVJs".to_string(),
            "then ssh tries the file ~/.ssh/id_ed25519".to_string()
        ]
    );
}

#[test]
fn setup_adds_a_key_the_agent_lacks_with_a_double_dash_before_its_path() {
    let rig = Rig::new(Platform::Linux).key();
    let path = rig.arg(".ssh/id_ed25519");
    let rig = rig
        .agent(agent_empty(), agent_empty())
        .on(&["ssh-add", "-L"], Reply::ok(SSH_ADD_BIG_L_ONE))
        .on(&["ssh-add", "--", &path], key_added(&path));
    let add = format!("ssh-add -- {}", quote(&path));

    let doctor = rig.run(Mode::Doctor, &identity(&rig), &["key", "identity"]);
    let f = doctor.find("identity");
    insta::assert_snapshot!(render(f), @r"
    identity fail: the agent does not hold ~/.ssh/id_ed25519 (0 other keys)
    fix: ssh-add -- [HOME]/.ssh/id_ed25519
    ");
    assert!(f.fixable);

    let dry = rig.run(Mode::DryRun, &identity(&rig), &["key", "identity"]);
    assert_eq!(
        dry.would("identity"),
        format!("would add ~/.ssh/id_ed25519 to the agent\nwould run: {add}")
    );

    let done = rig.run(Mode::Setup, &identity(&rig), &["key", "identity"]);
    let f = done.find("identity");
    assert_eq!(f.status, Status::Ok);
    assert_eq!(
        f.outcome,
        Some(Outcome::Done("added ~/.ssh/id_ed25519 to the agent".into()))
    );
    assert_eq!(done.the(&["ssh-add", "--"]).argv, ["ssh-add", "--", &path]);
    assert_eq!(done.changes(), [add]);
}

#[test]
fn a_locked_key_is_not_added_without_a_terminal() {
    let rig = Rig::new(Platform::Linux)
        .locked_key()
        .agent(agent_empty(), agent_empty());
    let done = rig.run(Mode::Setup, &identity(&rig), &["key", "identity"]);
    insta::assert_snapshot!(done.render("identity"), @r"
    identity fail: ~/.ssh/id_ed25519 has a passphrase and there is no terminal to type it on; run `ssh-add -- [HOME]/.ssh/id_ed25519` in a terminal, then rerun
    fix: ssh-add -- [HOME]/.ssh/id_ed25519
    ");
    assert!(done.changes().is_empty());
}

#[test]
fn macos_adds_the_key_with_the_keychain_and_pageant_gets_its_pipe() {
    let mac = Rig::new(Platform::MacOs).key();
    let path = mac.arg(".ssh/id_ed25519");
    let mac = mac
        .agent(agent_empty(), agent_empty())
        .on(&["ssh-add", "-L"], Reply::ok(SSH_ADD_BIG_L_ONE))
        .on(
            &["ssh-add", "--apple-use-keychain", "--", &path],
            key_added(&path),
        );
    let done = mac.run(Mode::Setup, &identity(&mac), &["key", "identity"]);
    assert_eq!(done.find("identity").status, Status::Ok);
    assert_eq!(
        done.changes(),
        [format!("ssh-add --apple-use-keychain -- {}", quote(&path))]
    );

    let win = pageant().key();
    let path = win.arg(".ssh/id_ed25519");
    let win = win
        .on(&["ssh-add", "-L"], agent_empty())
        .on(&["ssh-add", "-L"], Reply::ok(SSH_ADD_BIG_L_ONE))
        .on(&["ssh-add", "--", &path], key_added(&path));
    let doctor = win.run(Mode::Doctor, &identity(&win), &["key", "identity"]);
    insta::assert_snapshot!(doctor.render("identity"), @r"
    identity fail: the agent does not hold ~/.ssh/id_ed25519 (0 other keys)
    fix: ssh-add -- [HOME]/.ssh/id_ed25519  (with SSH_AUTH_SOCK=\\.\pipe\pageant.me.0123abcd, Pageant's pipe; rdock setup does this)
    ");
    let done = win.run(Mode::Setup, &identity(&win), &["key", "identity"]);
    assert_eq!(done.find("identity").status, Status::Ok);
    let add = done.the(&["ssh-add", "--"]);
    assert_eq!(add.env_var("SSH_AUTH_SOCK"), Some(PIPE));
    for listing in done.s.exec.ran().iter().filter(|r| r.argv[1] == "-L") {
        assert_eq!(listing.env_var("SSH_AUTH_SOCK"), Some(PIPE));
    }
}

#[test]
fn under_wsl_an_empty_agent_says_the_two_agents_are_separate() {
    let rig = Rig::new(Platform::Wsl)
        .key()
        .agent(agent_empty(), agent_empty());
    let done = rig.run(Mode::Doctor, &identity(&rig), &["key", "agent", "identity"]);
    for id in ["agent", "identity"] {
        let note = &done.find(id).details[0];
        assert!(
            note.contains("the Windows ssh-agent and this Linux agent are separate"),
            "{id}: {note}"
        );
    }
}

#[test]
fn an_agent_that_cannot_list_its_keys_fails_identity() {
    let rig = Rig::new(Platform::Linux)
        .key()
        .agent(agent_gone(), agent_gone());
    let done = rig.run(Mode::Doctor, &identity(&rig), &["key", "identity"]);
    insta::assert_snapshot!(rendered(done.find("identity")), @r#"
    identity fail: ssh-add -L failed: Error connecting to agent: No such file or directory
    fix: [LINUX_AGENT_FIX]
    "#);
}

// agent-keys

#[test]
fn more_than_five_keys_in_the_agent_is_a_warning() {
    let many =
        Rig::new(Platform::Linux).agent(Reply::ok(SSH_ADD_L_SEVEN), Reply::ok(SSH_ADD_BIG_L_SEVEN));
    let done = many.run(Mode::Doctor, &options(), &["agent-keys"]);
    insta::assert_snapshot!(done.render("agent-keys"), @r#"
    agent-keys warn: the agent holds 7 keys; servers stop at MaxAuthTries with "Too many authentication failures"
    fix: ssh-add -D, then ssh-add only the keys you need (or IdentitiesOnly yes with IdentityFile for this host in ~/.ssh/config)
    "#);
    let one = Rig::new(Platform::Linux).agent_with_key();
    let done = one.run(Mode::Setup, &options(), &["agent-keys"]);
    insta::assert_snapshot!(done.render("agent-keys"), @"agent-keys ok: 1 of at most 5 keys in the agent");
    assert_eq!(done.ran(), ["ssh-add -L"]);

    // With no agent at all the plan skips agent-keys (it needs agent); alone, it says why.
    let none = Rig::new(Platform::Linux).on(&["ssh-add", "-L"], no_agent());
    let done = none.run(Mode::Doctor, &options(), &["agent-keys"]);
    insta::assert_snapshot!(rendered(done.find("agent-keys")), @r#"
    agent-keys fail: ssh-add -L failed: Could not open a connection to your authentication agent.
    fix: [LINUX_AGENT_FIX]
    "#);
}

// IdentityAgent: ssh asks that socket, whatever SSH_AUTH_SOCK says.

/// The steps that decide which key goes to which agent.
const LOCAL: [&str; 4] = ["destination", "key", "agent", "identity"];

#[test]
fn identity_agent_is_the_agent_asked_and_a_different_ssh_auth_sock_is_a_warning() {
    let rig = Rig::new(Platform::Linux)
        .keywords_host("work")
        .agent(Reply::ok(SSH_ADD_L_ONE), Reply::ok(SSH_ADD_BIG_L_ONE));
    let sock = rig.arg(".agent/work.sock");
    let done = rig.run(Mode::Doctor, &options(), &["destination", "agent"]);
    insta::assert_snapshot!(done.render("agent"), @r"
    agent warn: ssh-agent answers at [HOME]/.agent/work.sock (IdentityAgent) (1 key), but SSH_AUTH_SOCK names /tmp/ssh-XXXXh0fLq9/agent.4242: tools that read SSH_AUTH_SOCK directly (dockerode, ssh2-based clients) will not find the key
    fix: export SSH_AUTH_SOCK=[HOME]/.agent/work.sock
    ");
    let asked = done.the(&["ssh-add", "-l"]);
    assert_eq!(asked.env, [("SSH_AUTH_SOCK".to_string(), sock.clone())]);
}

#[test]
fn identity_agent_with_ssh_auth_sock_unset_is_asked_and_the_key_is_added_to_that_socket() {
    let rig = Rig::new(Platform::Linux)
        .keywords_host("envagent")
        .var("XDG_RUNTIME_DIR", "/run/user/0")
        .key()
        .on(&["ssh-add", "-l"], Reply::ok(SSH_ADD_L_ONE))
        .on(&["ssh-add", "-L"], agent_empty());
    let key = rig.arg(".ssh/id_ed25519");
    let rig = rig.on(&["ssh-add", "--", &key], Reply::ok(""));
    let done = rig.run(Mode::Doctor, &options(), &LOCAL);
    insta::assert_snapshot!(done.render("agent"), @r"
    agent warn: ssh-agent answers at /run/user/0/agent.sock (IdentityAgent) (1 key), but SSH_AUTH_SOCK is not set: tools that read SSH_AUTH_SOCK directly (dockerode, ssh2-based clients) will not find the key
    fix: export SSH_AUTH_SOCK=/run/user/0/agent.sock
    ");
    insta::assert_snapshot!(done.render("identity"), @r"
    identity fail: the agent does not hold ~/.ssh/id_ed25519 (0 other keys)
    fix: SSH_AUTH_SOCK=/run/user/0/agent.sock ssh-add -- [HOME]/.ssh/id_ed25519
    ");
    let done = rig.run(Mode::Setup, &options(), &LOCAL);
    let added = done.the(&["ssh-add", "--"]);
    assert_eq!(
        added.env,
        [(
            "SSH_AUTH_SOCK".to_string(),
            "/run/user/0/agent.sock".to_string()
        )]
    );
}

#[test]
fn no_agent_at_identity_agent_names_that_socket_in_the_fix() {
    let rig = Rig::new(Platform::Linux)
        .keywords_host("work")
        .on(&["ssh-add", "-l"], agent_gone());
    let sock = rig.arg(".agent/work.sock");
    let done = rig.run(Mode::Doctor, &options(), &["destination", "agent"]);
    let f = done.find("agent");
    assert_eq!(f.status, Status::Fail);
    assert!(
        f.message.starts_with(&format!(
            "no ssh-agent answers at {sock}, the IdentityAgent"
        )),
        "{f:?}"
    );
    insta::assert_snapshot!(render(f), @r"
    agent fail: no ssh-agent answers at [HOME]/.agent/work.sock, the IdentityAgent ssh_config names for this host (Error connecting to agent: No such file or directory)
    fix: start the agent that listens there (for OpenSSH's own: ssh-agent -a [HOME]/.agent/work.sock), or change IdentityAgent in ~/.ssh/config
    ");
}

#[test]
fn identity_agent_none_asks_no_agent_and_a_key_without_passphrase_is_enough() {
    let rig = Rig::new(Platform::Linux).keywords_host("legacy").key();
    let done = rig.run(Mode::Doctor, &options(), &LOCAL);
    insta::assert_snapshot!(done.render("agent"), @"agent ok: ssh asks no agent for this host (IdentityAgent none): it reads the key file itself");
    insta::assert_snapshot!(done.render("identity"), @"identity ok: ssh reads ~/.ssh/id_ed25519 itself (IdentityAgent none; no passphrase)");
    assert!(!done.ran().iter().any(|c| c.starts_with("ssh-add")));
}
