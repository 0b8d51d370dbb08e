//! ~/.ssh/config managed blocks.
//!
//! Golden fixtures live in `tests/fixtures/ssh_config/<case>/`: `before` (absent for a file that
//! does not exist yet), `edit` (what to do) and `after`, the whole expected file. `edit` is one of
//!
//!     agent linux | agent macos | agent windows-pageant   the agent block rdock writes there
//!     set NAME    (then the body, one line each)           any block
//!     remove NAME
//!
//! Each case runs through the file helpers on a temporary copy, then again on the result, which
//! must change nothing. A case with `error` is a file rdock must refuse (its marker lines do not
//! pair up): the file keeps every byte and the error is the text of `error`. tests/support/golden.rs
//! walks the tree; `RDOCK_BLESS=1 cargo test --test integration ssh_config::golden` rewrites
//! `after` and `error` from what rdock does now (read the diff before committing it).

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use rdock::ssh::config::{
    self as ssh_config, agent_block_body, remove_block, remove_block_from_file, set_block,
    write_block, Placement, AGENT_BLOCK,
};
use rdock::sys::platform::Platform;

use crate::support::golden::{Case, Outcome, Tree};

/// What a case's `edit` file asks for, applied to the file at `path`. Returns whether it changed.
fn apply(edit: &str, path: &Path) -> Result<bool, String> {
    let (first, body) = edit.split_once('\n').unwrap_or((edit, ""));
    let words: Vec<&str> = first.split_whitespace().collect();
    let text = ssh_config::read(path).map_err(|e| e.to_string())?;
    let result = match words.as_slice() {
        ["agent", os] => {
            let (platform, pageant) = match *os {
                "linux" => (Platform::Linux, false),
                "macos" => (Platform::MacOs, false),
                "windows-pageant" => (Platform::Windows, true),
                other => return Err(format!("unknown OS {other:?} in edit")),
            };
            let body = agent_block_body(platform, pageant, &text)
                .ok_or_else(|| format!("no agent block on {os}"))?;
            write_block(path, AGENT_BLOCK, &body)
        }
        ["set", name] => write_block(path, name, body),
        ["remove", name] => remove_block_from_file(path, name),
        _ => return Err(format!("cannot read the edit line {first:?}")),
    };
    result.map_err(|e| format!("{e:#}"))
}

const TREE: Tree = Tree {
    area: "ssh_config",
    before: "before",
    after: "after",
    error: "error",
    min_cases: 25,
};

#[test]
fn golden() {
    TREE.check(golden_case);
}

/// Run the case's edit on a copy of `before` in a temporary home, then again on the result,
/// which must change nothing.
fn golden_case(case: &Case) -> Result<Outcome, String> {
    let edit = case.read("edit")?;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".ssh").join("config");
    if let Some(bytes) = &case.before {
        fs::create_dir(dir.path().join(".ssh")).unwrap();
        fs::write(&file, bytes).unwrap();
    }
    let changed = match apply(&edit, &file) {
        Ok(changed) => changed,
        Err(err) => {
            let err = err.replace(&dir.path().display().to_string(), "HOME");
            return Ok(Outcome::Refused(err, fs::read(&file).ok()));
        }
    };
    let got = fs::read(&file).unwrap_or_default();
    if changed != (case.before.as_deref().unwrap_or_default() != got.as_slice()) {
        return Err(format!(
            "reported changed={changed}, which is not what happened"
        ));
    }
    // A rerun is byte-identical, and does not even write.
    if apply(&edit, &file)? {
        return Err("a second run said it changed the file".into());
    }
    if fs::read(&file).unwrap_or_default() != got {
        return Err("a second run changed the file".into());
    }
    Ok(Outcome::Edited(got))
}

#[test]
fn fixtures_hold_their_crlf_and_bom_bytes() {
    TREE.assert_bytes_kept(&["crlf", "crlf-host-block", "remove-crlf"], &["bom"]);
}

#[test]
fn the_agent_block_goes_above_host_star_and_the_host_block_below_specific_hosts() {
    let text = "Host *\n  AddKeysToAgent no\n";
    let agent = set_block(text, AGENT_BLOCK, "AddKeysToAgent yes\n");
    assert_eq!(
        agent,
        "# >>> rdock managed: agent >>>\nAddKeysToAgent yes\n# <<< rdock managed: agent <<<\nHost *\n  AddKeysToAgent no\n"
    );
    assert_eq!(
        ssh_config::global_value(&agent, "AddKeysToAgent"),
        Some((2, vec!["yes".to_string()]))
    );
    let host = set_block(&agent, "host:b", "Host b\n  ControlMaster auto\n");
    assert!(
        host.find("Host b").unwrap() < host.find("Host *").unwrap(),
        "{host}"
    );
    assert!(
        host.find("Host b").unwrap() > host.find("AddKeysToAgent yes").unwrap(),
        "{host}"
    );
    assert_eq!(Placement::of("Host b\n"), Placement::Host);
    // Both out again: the original bytes.
    assert_eq!(
        remove_block(&remove_block(&host, "host:b"), AGENT_BLOCK),
        text
    );
}

#[test]
fn the_macos_block_prefaces_usekeychain_with_ignoreunknown() {
    assert_eq!(
        agent_block_body(Platform::MacOs, false, "").unwrap(),
        "IgnoreUnknown UseKeychain\nAddKeysToAgent yes\nUseKeychain yes\n"
    );
    assert_eq!(
        agent_block_body(Platform::Linux, false, "").unwrap(),
        "AddKeysToAgent yes\n"
    );
    assert_eq!(
        agent_block_body(Platform::Wsl, false, "").unwrap(),
        "AddKeysToAgent yes\n"
    );
    assert_eq!(agent_block_body(Platform::Windows, false, ""), None);
    assert_eq!(
        agent_block_body(Platform::Windows, true, "").unwrap(),
        "Include pageant.conf\n"
    );
}

#[test]
fn write_block_rejects_a_body_that_would_capture_the_users_options() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    fs::write(&file, "User me\n").unwrap();
    let err = write_block(&file, "agent", "AddKeysToAgent yes\nHost x\n").unwrap_err();
    assert!(err.to_string().contains("mixes global options"), "{err}");
    assert_eq!(fs::read_to_string(&file).unwrap(), "User me\n");
}

#[test]
fn a_file_that_is_not_utf8_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    fs::write(&file, b"User \xff\n").unwrap();
    let err = write_block(&file, "agent", "AddKeysToAgent yes\n").unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    assert_eq!(fs::read(&file).unwrap(), b"User \xff\n");
}

#[test]
fn removing_from_a_missing_file_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(".ssh").join("config");
    assert!(!remove_block_from_file(&file, "agent").unwrap());
    assert!(!dir.path().join(".ssh").exists());
}

/// A global `Include` counts for a file of the same name in any directory (in any case, as on
/// Windows), and only for it; one under a `Host` line is not global.
#[test]
fn an_include_counts_only_for_the_same_file_name() {
    let text = "Include ~/.ssh/Pageant.conf other.conf\nHost x\n  Include late.conf\n";
    assert!(ssh_config::includes(text, "pageant.conf"));
    assert!(ssh_config::includes(text, r"C:\Users\u\.ssh\other.conf"));
    assert!(!ssh_config::includes(text, "rdock.conf"));
    assert!(!ssh_config::includes(text, "late.conf"));
}

/// A marker with a blank name, or a name with `<` or `>` (which would make a marker line of its
/// own), is refused: rdock could not tell which block such a line belongs to.
#[test]
fn a_block_name_that_is_blank_or_holds_a_marker_arrow_is_refused() {
    let blank = "# >>> rdock managed:  >>>\nUser me\n# <<< rdock managed:  <<<\n";
    let err = ssh_config::check_markers(blank).unwrap_err().to_string();
    assert!(
        err.starts_with("line 1 is an incomplete rdock marker"),
        "{err}"
    );
    for name in ["a>b", "a<b"] {
        assert!(
            ssh_config::check_block(name, "User me\n").is_err(),
            "{name}"
        );
    }
}

#[cfg(unix)]
mod unix {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_new_file_is_0600_in_a_new_0700_directory() {
        let home = tempfile::tempdir().unwrap();
        let file = home.path().join(".ssh").join("config");
        assert!(write_block(&file, "agent", "AddKeysToAgent yes\n").unwrap());
        assert_eq!(mode(&home.path().join(".ssh")), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "# >>> rdock managed: agent >>>\nAddKeysToAgent yes\n# <<< rdock managed: agent <<<\n"
        );
    }

    #[test]
    fn the_mode_of_an_existing_file_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        fs::write(&file, "User me\n").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
        assert!(write_block(&file, "agent", "AddKeysToAgent yes\n").unwrap());
        assert_eq!(mode(&file), 0o640);
        assert!(remove_block_from_file(&file, "agent").unwrap());
        assert_eq!(mode(&file), 0o640);
        assert_eq!(fs::read_to_string(&file).unwrap(), "User me\n");
    }

    #[test]
    fn a_symlinked_config_is_written_through_and_stays_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let dotfiles = dir.path().join("dotfiles");
        let ssh = dir.path().join(".ssh");
        fs::create_dir(&dotfiles).unwrap();
        fs::create_dir(&ssh).unwrap();
        let real = dotfiles.join("ssh_config");
        fs::write(&real, "Host *\n  User me\n").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).unwrap();
        let link = ssh.join("config");
        std::os::unix::fs::symlink("../dotfiles/ssh_config", &link).unwrap();
        assert!(write_block(&link, "agent", "AddKeysToAgent yes\n").unwrap());
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_to_string(&real).unwrap(),
            "# >>> rdock managed: agent >>>\nAddKeysToAgent yes\n# <<< rdock managed: agent <<<\nHost *\n  User me\n"
        );
        assert_eq!(mode(&real), 0o600);
        // Only the real file and the link: no temporary file left behind.
        assert_eq!(fs::read_dir(&dotfiles).unwrap().count(), 1);
        assert_eq!(fs::read_dir(&ssh).unwrap().count(), 1);
        assert!(!write_block(&link, "agent", "AddKeysToAgent yes\n").unwrap());
    }
}

/// What a config could hold: plain lines, rdock's complete blocks, and now and then a stray
/// marker line.
#[derive(Clone, Debug)]
enum Item {
    Line(String),
    Block(&'static str, Vec<String>),
    Stray(String),
}

fn plain_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("Host *".to_string()),
        Just("Host a b".to_string()),
        Just("Match all".to_string()),
        Just("  User me".to_string()),
        Just("AddKeysToAgent no".to_string()),
        Just("# a comment".to_string()),
        Just(String::new()),
        "[ -~]{0,20}",
    ]
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        6 => plain_line().prop_map(Item::Line),
        2 => (prop_oneof![Just("agent"), Just("host:b")], prop::collection::vec(plain_line(), 0..3))
            .prop_map(|(name, lines)| Item::Block(name, lines)),
        1 => prop_oneof![
            Just(ssh_config::begin_marker("agent")),
            Just(ssh_config::end_marker("agent")),
            Just(ssh_config::end_marker("host:b")),
        ]
        .prop_map(Item::Stray),
    ]
}

fn config_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(item(), 0..10),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(items, crlf, trailing)| {
            let mut lines: Vec<String> = Vec::new();
            for item in items {
                match item {
                    Item::Line(l) | Item::Stray(l) => lines.push(l),
                    Item::Block(name, body) => {
                        lines.push(ssh_config::begin_marker(name));
                        lines.extend(body);
                        lines.push(ssh_config::end_marker(name));
                    }
                }
            }
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(eol);
            if trailing && !text.is_empty() {
                text.push_str(eol);
            }
            text
        })
}

proptest! {
    #[test]
    fn set_is_idempotent_and_touches_nothing_outside_the_block(text in config_text()) {
        if ssh_config::check_markers(&text).is_err() {
            // Refused as a whole: the file keeps every byte.
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("config");
            fs::write(&file, &text).unwrap();
            prop_assert!(write_block(&file, "agent", "AddKeysToAgent yes\n").is_err());
            prop_assert!(remove_block_from_file(&file, "agent").is_err());
            prop_assert_eq!(fs::read_to_string(&file).unwrap(), text);
            return Ok(());
        }
        for body in ["AddKeysToAgent yes\n", "Host b\n  ControlMaster auto\n"] {
            let once = set_block(&text, "agent", body);
            prop_assert!(ssh_config::check_markers(&once).is_ok());
            prop_assert_eq!(&set_block(&once, "agent", body), &once);
            // Taking the block out again leaves what was there (other blocks included), but for
            // rdock's blocks of that name and a line ending added to a last line that had none.
            let back = remove_block(&once, "agent");
            let without_eol = |s: &str| s.trim_end_matches(['\r', '\n']).to_string();
            prop_assert_eq!(without_eol(&back), without_eol(&remove_block(&text, "agent")));
            // The line endings stay the file's.
            if text.contains("\r\n") {
                prop_assert_eq!(once.matches("\r\n").count(), once.matches('\n').count());
            }
        }
    }
}
