//! ssh-config: this OS's agent settings in rdock's block of ~/.ssh/config, written only with
//! --yes (or a terminal to ask on); on Windows, a warning where ControlMaster applies.

use rdock::ssh::agent;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{options, said, yes, Rig};

const LINUX_BLOCK: &str =
    "# >>> rdock managed: agent >>>\nAddKeysToAgent yes\n# <<< rdock managed: agent <<<\n";

#[test]
fn linux_without_addkeystoagent_is_offered_the_block_and_yes_writes_it() {
    let rig = Rig::alias();
    let wanted = "~/.ssh/config does not set AddKeysToAgent yes: without it, the agent is empty after each login until you ssh-add again (with it, your first ssh adds the key)";

    // No terminal and no --yes: a warning that names --yes, and the file is left alone.
    for mode in [Mode::Doctor, Mode::Setup] {
        let done = rig.run(mode, &options(), &["ssh-config"]);
        let f = done.find("ssh-config");
        assert_eq!(
            said(f),
            (
                Status::Warn,
                wanted,
                Some("add at the top of ~/.ssh/config (rdock setup --yes does it):\n  AddKeysToAgent yes")
            ),
            "{mode:?}"
        );
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
    assert_eq!(
        said(f),
        (
            Status::Ok,
            "~/.ssh/config sets AddKeysToAgent yes (rdock's block)",
            None
        )
    );
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
    assert_eq!(
        said(done.find("ssh-config")),
        (
            Status::Ok,
            "~/.ssh/config sets AddKeysToAgent yes (your own lines)",
            None
        )
    );

    let before = format!("AddKeysToAgent no\n{LINUX_BLOCK}");
    rig.write(".ssh/config", &before);
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    assert_eq!(
        said(done.find("ssh-config")),
        (
            Status::Warn,
            "line 1 of ~/.ssh/config sets AddKeysToAgent no, before rdock's AddKeysToAgent yes",
            Some("delete line 1 of ~/.ssh/config (ssh takes the first value it reads)")
        )
    );
    assert_eq!(rig.read(".ssh/config"), before);
}

#[test]
fn unpaired_markers_leave_the_file_alone() {
    let rig = Rig::new(Platform::Linux);
    let config = rig.write(".ssh/config", "# >>> rdock managed: agent >>>\nUser me\n");
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    assert_eq!(
        said(done.find("ssh-config")),
        (
            Status::Warn,
            format!(
                "{}: line 1 begins rdock block agent, which never ends; rdock leaves the file as it is until its marker lines pair up again",
                config.display()
            )
            .as_str(),
            Some("correct ~/.ssh/config as this says; rdock changes nothing in it until then")
        )
    );
    assert_eq!(
        rig.read(".ssh/config"),
        "# >>> rdock managed: agent >>>\nUser me\n"
    );
}

#[test]
fn macos_gets_the_keychain_lines_behind_ignoreunknown() {
    let rig = Rig::new(Platform::MacOs);
    let done = rig.run(Mode::Doctor, &options(), &["ssh-config"]);
    assert_eq!(
        said(done.find("ssh-config")),
        (
            Status::Warn,
            "~/.ssh/config does not set AddKeysToAgent yes, UseKeychain yes: without them, the agent forgets your key at logout and ssh does not load it again from the Keychain",
            Some("add at the top of ~/.ssh/config (rdock setup --yes does it):\n  IgnoreUnknown UseKeychain\n  AddKeysToAgent yes\n  UseKeychain yes")
        )
    );
    let done = rig.run(Mode::Setup, &yes(), &["ssh-config"]);
    let f = done.find("ssh-config");
    assert_eq!(
        said(f),
        (
            Status::Ok,
            "~/.ssh/config sets AddKeysToAgent yes, UseKeychain yes (rdock's block)",
            None
        )
    );
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
    assert_eq!(
        said(done.find("ssh-config")),
        (
            Status::Ok,
            "nothing to add to ~/.ssh/config: the Windows ssh-agent service keeps its keys across logins",
            None
        )
    );
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
    assert_eq!(
        said(f),
        (
            Status::Warn,
            "ControlMaster auto applies to box, and Windows OpenSSH cannot share connections",
            Some("remove ControlMaster, ControlPath and ControlPersist for box from ~/.ssh/config")
        )
    );
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
    assert_eq!(
        said(f),
        (
            Status::Warn,
            "~/.ssh/config includes pageant.conf, but Pageant has not written it",
            Some(agent::pageant_advice().as_str())
        )
    );
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
