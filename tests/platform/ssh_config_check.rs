//! The ssh-config check, per OS.

use super::*;

fn config(platform: Platform, text: &str) -> ConfigFacts {
    ConfigFacts {
        platform,
        text: text.into(),
        pageant: false,
        pageant_conf: false,
        control_master: None,
        can_ask: true,
        ssh_add_keys: None,
    }
}

#[test]
fn linux_without_addkeystoagent_is_offered_the_block() {
    let f = config_step::judge(&config(Platform::Linux, "Host *\n  User me\n"));
    assert_eq!(f.status, Status::Warn);
    assert!(f.fixable);
    assert!(
        f.message
            .starts_with("~/.ssh/config does not set AddKeysToAgent yes"),
        "{}",
        f.message
    );
    assert_eq!(
        f.fix.as_deref(),
        Some("add at the top of ~/.ssh/config:\n  AddKeysToAgent yes")
    );
    // Without a terminal or --yes: a warning that names --yes, and nothing to ask.
    let f = config_step::judge(&ConfigFacts {
        can_ask: false,
        ..config(Platform::Linux, "")
    });
    assert_eq!(f.status, Status::Warn);
    assert!(!f.fixable);
    assert!(f.fix.unwrap().contains("rdock setup --yes"));
}

#[test]
fn the_block_or_the_users_own_lines_make_it_ok() {
    let body = ssh_config::agent_block_body(Platform::Linux, false, "").unwrap();
    let written = ssh_config::set_block("Host *\n  User me\n", AGENT_BLOCK, &body);
    let f = config_step::judge(&config(Platform::Linux, &written));
    assert_eq!(
        (f.status, f.message.as_str()),
        (
            Status::Ok,
            "~/.ssh/config sets AddKeysToAgent yes (rdock's block)"
        )
    );
    let f = config_step::judge(&config(
        Platform::Linux,
        "addkeystoagent=yes\nHost *\n  User me\n",
    ));
    assert_eq!(
        (f.status, f.message.as_str()),
        (
            Status::Ok,
            "~/.ssh/config sets AddKeysToAgent yes (your own lines)"
        )
    );
    // Set only for one host: not in effect for every host.
    let f = config_step::judge(&config(Platform::Linux, "Host x\n  AddKeysToAgent yes\n"));
    assert!(f.fixable);
}

#[test]
fn an_earlier_line_that_overrides_the_block_is_named_not_rewritten() {
    let body = ssh_config::agent_block_body(Platform::Linux, false, "").unwrap();
    let text = format!(
        "AddKeysToAgent no\n{}",
        ssh_config::set_block("", AGENT_BLOCK, &body)
    );
    let f = config_step::judge(&config(Platform::Linux, &text));
    assert_eq!(f.status, Status::Warn);
    assert!(!f.fixable, "rewriting the block would change nothing");
    assert_eq!(
        f.message,
        "line 1 of ~/.ssh/config sets AddKeysToAgent no, before rdock's AddKeysToAgent yes"
    );
}

#[test]
fn macos_is_offered_the_keychain_lines_behind_ignoreunknown() {
    let f = config_step::judge(&config(Platform::MacOs, "IgnoreUnknown Foo\n"));
    assert!(f.fixable);
    assert_eq!(
        f.fix.as_deref(),
        Some("add at the top of ~/.ssh/config:\n  IgnoreUnknown UseKeychain,Foo\n  AddKeysToAgent yes\n  UseKeychain yes")
    );
    assert!(f.message.contains("Keychain"), "{}", f.message);
    // Written, it is ok; Linux reads the same file without complaint about UseKeychain.
    let body = ssh_config::agent_block_body(Platform::MacOs, false, "").unwrap();
    let written = ssh_config::set_block("", AGENT_BLOCK, &body);
    assert_eq!(
        config_step::judge(&config(Platform::MacOs, &written)).status,
        Status::Ok
    );
    assert_eq!(
        config_step::judge(&config(Platform::Linux, &written)).status,
        Status::Ok
    );
    // A block rdock wrote before the user added an IgnoreUnknown of their own is out of date.
    let f = config_step::judge(&config(
        Platform::MacOs,
        &format!("{written}IgnoreUnknown Foo\n"),
    ));
    assert_eq!(f.status, Status::Warn);
    assert!(f.fixable);
    assert_eq!(f.message, "rdock's block in ~/.ssh/config is out of date");
    assert!(f.fix.unwrap().starts_with(
        "make rdock's block in ~/.ssh/config read:\n  IgnoreUnknown UseKeychain,Foo\n"
    ),);
}

#[test]
fn windows_needs_no_block_unless_pageant_is_in_use() {
    let f = config_step::judge(&config(Platform::Windows, ""));
    assert_eq!(f.status, Status::Ok);
    assert!(
        f.message.contains("service keeps its keys"),
        "{}",
        f.message
    );
    let pageant = ConfigFacts {
        pageant: true,
        ..config(Platform::Windows, "Host *\r\n  User me\r\n")
    };
    let f = config_step::judge(&pageant);
    assert_eq!(f.status, Status::Warn);
    assert!(f.fixable);
    let fix = f.fix.unwrap();
    assert!(
        fix.starts_with("add at the top of ~/.ssh/config:\n  Include pageant.conf\n"),
        "{fix}"
    );
    assert!(fix.contains("--openssh-config"), "{fix}");
    // Included, but Pageant never wrote the file: started without --openssh-config.
    let included = ConfigFacts {
        text: "Include pageant.conf\r\n".into(),
        ..pageant.clone()
    };
    let f = config_step::judge(&included);
    assert_eq!(f.status, Status::Warn);
    assert!(
        f.message.contains("Pageant has not written it"),
        "{}",
        f.message
    );
    let f = config_step::judge(&ConfigFacts {
        pageant_conf: true,
        ..included
    });
    assert_eq!(f.status, Status::Ok);
}

#[test]
fn controlmaster_is_a_warning_on_windows_only() {
    let shared = |platform| ConfigFacts {
        control_master: Some(("build".into(), "auto".into())),
        ..config(platform, "")
    };
    let f = config_step::judge(&shared(Platform::Windows));
    assert_eq!(f.status, Status::Warn);
    assert_eq!(
        f.message,
        "ControlMaster auto applies to build, and Windows OpenSSH cannot share connections"
    );
    assert_eq!(
        f.fix.as_deref(),
        Some("remove ControlMaster, ControlPath and ControlPersist for build from ~/.ssh/config")
    );
    assert!(!f.fixable);
    // Elsewhere multiplexing is fine; only the agent block is judged.
    let f = config_step::judge(&shared(Platform::Linux));
    assert!(!f.message.contains("ControlMaster"), "{}", f.message);
}
