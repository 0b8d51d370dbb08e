//! The agent block of ~/.ssh/config that setup writes (tests/platform.rs judges it per OS),
//! end to end on this (Linux) machine.

use std::os::unix::fs::PermissionsExt;

use crate::harness::Sandbox;

const BLOCK: &str =
    "# >>> rdock managed: agent >>>\nAddKeysToAgent yes\n# <<< rdock managed: agent <<<\n";

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn setup_writes_the_agent_block_once_and_a_rerun_changes_no_byte() {
    let sb = Sandbox::start();
    let first = sb.setup_ok();
    assert!(
        first
            .stdout
            .contains("added AddKeysToAgent yes to ~/.ssh/config"),
        "{first}"
    );
    let config = sb.local.home.join(".ssh/config");
    let bytes = std::fs::read(&config).unwrap();
    assert_eq!(String::from_utf8_lossy(&bytes), BLOCK);
    assert_eq!(mode(&config), 0o600);
    assert_eq!(mode(&sb.local.home.join(".ssh")), 0o700);
    // ssh itself (and so rdock's own ssh calls and the docker CLI) reads it.
    let g = sb.local("ssh", &["-G", "-p", &sb.port.to_string(), "127.0.0.1"]);
    assert!(g.stdout.lines().any(|l| l == "addkeystoagent true"), "{g}");
    let second = sb.setup_ok();
    assert_eq!(std::fs::read(&config).unwrap(), bytes, "{second}");
    assert!(
        second
            .stdout
            .contains("✓ ssh-config     ~/.ssh/config sets AddKeysToAgent yes (rdock's block)"),
        "{second}"
    );
    let doctor = sb.rdock(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&doctor.stdout).unwrap();
    let check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "ssh-config")
        .unwrap_or_else(|| panic!("no ssh-config check: {v:#}"));
    assert_eq!(check["status"], "ok", "{v:#}");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn an_existing_config_keeps_every_byte_below_the_block_and_its_mode() {
    let sb = Sandbox::start();
    let original = "# mine\nHost *\n    ServerAliveInterval 30\n\nHost other\n    User someone\n";
    let made = sb.local(
        "sh",
        &[
            "-c",
            &format!("mkdir -m 700 -p ~/.ssh && printf '%s' '{original}' > ~/.ssh/config && chmod 640 ~/.ssh/config"),
        ],
    );
    assert_eq!(made.code, Some(0), "{made}");
    let config = sb.local.home.join(".ssh/config");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
    sb.setup_ok();
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        format!("{BLOCK}{original}")
    );
    assert_eq!(mode(&config), 0o640);
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn without_yes_or_a_terminal_the_offer_is_a_warning_that_names_yes() {
    let sb = Sandbox::start();
    let run = sb.rdock(&[
        "setup",
        &sb.dest(),
        "--no-passphrase",
        "--accept-host-key",
        "--install-key",
    ]);
    assert_eq!(run.code, Some(0), "an offer must not fail setup:\n{run}");
    assert!(run.stdout.contains("! ssh-config"), "{run}");
    assert!(run.stdout.contains("rdock setup --yes does it"), "{run}");
    assert!(!sb.local.home.join(".ssh/config").exists());
    assert!(run.elapsed.as_secs() < 60, "took {:?}", run.elapsed);
}
