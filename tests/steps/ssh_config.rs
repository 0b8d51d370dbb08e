//! ssh-config: this OS's agent settings in rdock's block of ~/.ssh/config, written only with
//! --yes (or a terminal to ask on); on Windows, a warning where ControlMaster applies.

use rdock::steps::{Mode, Outcome};
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{options, render, yes, Rig};

const LINUX_BLOCK: &str =
    "# >>> rdock managed: agent >>>\nAddKeysToAgent yes\n# <<< rdock managed: agent <<<\n";

#[test]
fn linux_without_addkeystoagent_is_offered_the_block_and_yes_writes_it() {
    let rig = Rig::alias();

    // No terminal and no --yes: a warning that names --yes, and the file is left alone.
    for mode in [Mode::Doctor, Mode::Setup] {
        let done = rig.run(mode, &options(), &["ssh-config"]);
        let f = done.find("ssh-config");
        // The same in each mode.
        insta::allow_duplicates! { insta::assert_snapshot!(render(f), @"
        ssh-config warn: ~/.ssh/config does not set AddKeysToAgent yes: without it, the agent is empty after each login until you ssh-add again (with it, your first ssh adds the key)
        fix: add at the top of ~/.ssh/config (rdock setup --yes does it):
               AddKeysToAgent yes
        "); }
        assert!(!f.fixable && f.outcome.is_none(), "{mode:?}");
    }

    let dry = rig.run(Mode::DryRun, &yes(), &["ssh-config"]);
    assert_eq!(
        dry.would("ssh-config"),
        "would add AddKeysToAgent yes to ~/.ssh/config:\n  # >>> rdock managed: agent >>>\n  AddKeysToAgent yes\n  # <<< rdock managed: agent <<<"
    );
    assert_eq!(rig.read(".ssh/config"), ALIAS_SSH_CONFIG);

    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    let f = done.find("ssh-config");
    insta::assert_snapshot!(render(f), @"ssh-config ok: ~/.ssh/config sets AddKeysToAgent yes (rdock's block)");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "added AddKeysToAgent yes to ~/.ssh/config".into()
        ))
    );
    assert_eq!(
        rig.read(".ssh/config"),
        format!("{LINUX_BLOCK}{ALIAS_SSH_CONFIG}")
    );
    assert!(done.ran().is_empty(), "nothing to run on Linux");
}

#[test]
fn the_users_own_line_counts_and_an_earlier_one_is_named_not_rewritten() {
    let rig = Rig::new(Platform::Linux);
    rig.write(".ssh/config", "AddKeysToAgent yes\n");
    let done = rig.run(Mode::Doctor, &options(), &["ssh-config"]);
    insta::assert_snapshot!(done.render("ssh-config"), @"ssh-config ok: ~/.ssh/config sets AddKeysToAgent yes (your own lines)");

    let before = format!("AddKeysToAgent no\n{LINUX_BLOCK}");
    rig.write(".ssh/config", &before);
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    insta::assert_snapshot!(done.render("ssh-config"), @r"
    ssh-config warn: line 1 of ~/.ssh/config sets AddKeysToAgent no, before rdock's AddKeysToAgent yes
    fix: delete line 1 of ~/.ssh/config (ssh takes the first value it reads)
    ");
    assert_eq!(rig.read(".ssh/config"), before);
}

#[test]
fn unpaired_markers_leave_the_file_alone() {
    let rig = Rig::new(Platform::Linux);
    rig.write(".ssh/config", "# >>> rdock managed: agent >>>\nUser me\n");
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    insta::assert_snapshot!(done.render("ssh-config"), @r"
    ssh-config warn: [HOME]/.ssh/config: line 1 begins rdock block agent, which never ends; rdock leaves the file as it is until its marker lines pair up again
    fix: correct ~/.ssh/config as this says; rdock changes nothing in it until then
    ");
    assert_eq!(
        rig.read(".ssh/config"),
        "# >>> rdock managed: agent >>>\nUser me\n"
    );
}

#[test]
fn macos_gets_the_keychain_lines_behind_ignoreunknown() {
    let rig = Rig::new(Platform::MacOs);
    let done = rig.run(Mode::Doctor, &options(), &["ssh-config"]);
    insta::assert_snapshot!(done.render("ssh-config"), @"
    ssh-config warn: ~/.ssh/config does not set AddKeysToAgent yes, UseKeychain yes: without them, the agent forgets your key at logout and ssh does not load it again from the Keychain
    fix: add at the top of ~/.ssh/config (rdock setup --yes does it):
           IgnoreUnknown UseKeychain
           AddKeysToAgent yes
           UseKeychain yes
    ");
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    let f = done.find("ssh-config");
    insta::assert_snapshot!(render(f), @"ssh-config ok: ~/.ssh/config sets AddKeysToAgent yes, UseKeychain yes (rdock's block)");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "added AddKeysToAgent yes, UseKeychain yes to ~/.ssh/config".into()
        ))
    );
    assert_eq!(
        rig.read(".ssh/config"),
        "# >>> rdock managed: agent >>>\nIgnoreUnknown UseKeychain\nAddKeysToAgent yes\nUseKeychain yes\n# <<< rdock managed: agent <<<\n"
    );
}

#[test]
fn windows_needs_no_block_but_warns_where_controlmaster_applies() {
    let rig = Rig::new(Platform::Windows).on_prefix(&["tasklist"], no_pageant());
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    insta::assert_snapshot!(done.render("ssh-config"), @"ssh-config ok: nothing to add to ~/.ssh/config: the Windows ssh-agent service keeps its keys across logins");
    assert_eq!(
        done.ran(),
        ["tasklist /FI 'IMAGENAME eq pageant.exe' /FO CSV /NH"]
    );
    assert!(!rig.path(".ssh/config").exists());

    // The alias sets ControlMaster auto, which Windows OpenSSH cannot do.
    let rig = Rig::new(Platform::Windows)
        .alias_host()
        .on_prefix(&["tasklist"], no_pageant());
    let done = rig.run(Mode::Setup, &yes(), &["destination", "ssh-config"]);
    let f = done.find("ssh-config");
    insta::assert_snapshot!(render(f), @r"
    ssh-config warn: ControlMaster auto applies to box, and Windows OpenSSH cannot share connections
    fix: remove ControlMaster, ControlPath and ControlPersist for box from ~/.ssh/config
    ");
    assert!(!f.fixable, "rdock never edits the user's Host sections");
    assert_eq!(rig.read(".ssh/config"), ALIAS_SSH_CONFIG);
}

#[test]
fn windows_with_pageant_gets_the_include_and_is_told_pageant_must_write_its_file() {
    let rig = Rig::new(Platform::Windows)
        .var("SSH_AUTH_SOCK", "pageant")
        .on_prefix(&["tasklist"], no_pageant());
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    let f = done.find("ssh-config");
    insta::assert_snapshot!(render(f), @r"
    ssh-config warn: ~/.ssh/config includes pageant.conf, but Pageant has not written it
    fix: SSH_AUTH_SOCK=pageant is understood only by ssh2-based clients (dockerode); the docker CLI runs OpenSSH, which needs Pageant's pipe:
         1. start Pageant 0.75 or later as: pageant.exe --openssh-config %USERPROFILE%\.ssh\pageant.conf (in its Startup shortcut, so it writes the file at every login)
         2. include that file from ~/.ssh/config, before any Host line: Include pageant.conf (rdock setup writes it)
         OpenSSH then uses Pageant whatever SSH_AUTH_SOCK says, and ssh2-based clients keep SSH_AUTH_SOCK=pageant
    ");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "added Include pageant.conf to ~/.ssh/config".into()
        ))
    );
    assert_eq!(
        rig.read(".ssh/config"),
        "# >>> rdock managed: agent >>>\nInclude pageant.conf\n# <<< rdock managed: agent <<<\n"
    );
}
