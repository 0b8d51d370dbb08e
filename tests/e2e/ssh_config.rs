//! What ssh_config decides, end to end: each test stages a configuration for real in the local
//! user's ~/.ssh/config, runs `rdock setup`, then doctor and `docker --context NAME ps` with no
//! askpass in the environment (so only a key login can pass), against a real sshd and dockerd.

use std::time::Duration;

use crate::harness::{setup_args, RejectPort, Run, Sandbox};

/// A sandbox.
fn start() -> Sandbox {
    Sandbox::start()
}

/// Doctor is green for the context (exit 0, no ✗), and `docker --context NAME ps` works.
fn works(sb: &Sandbox, context: &str) -> Run {
    let doctor = sb.rdock(&["doctor", context]);
    assert!(
        doctor.code == Some(0) && !doctor.stdout.contains('✗'),
        "doctor {context} is not green:\n{doctor}"
    );
    let ps = sb.local("docker", &["--context", context, "ps"]);
    assert_eq!(ps.code, Some(0), "docker --context {context} ps:\n{ps}");
    assert!(ps.stdout.contains("CONTAINER ID"), "{ps}");
    doctor
}

/// The public key blob of a `.pub` file in the local home.
fn blob(sb: &Sandbox, rel: &str) -> String {
    let line = std::fs::read_to_string(sb.local.home.join(rel)).unwrap();
    line.split_whitespace().nth(1).unwrap().to_string()
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn an_alias_with_its_own_identity_file_and_identities_only() {
    let mut sb = start();
    let config = sb.host_block(
        "work",
        sb.port,
        "    IdentityFile ~/.ssh/work_ed25519\n    IdentitiesOnly yes\n",
    );
    sb.write_local(".ssh/config", &config);
    let run = sb.setup_dest_ok("work");
    // The key ssh offers for this host is the one made, authorized and loaded.
    assert!(run.stdout.contains("created ~/.ssh/work_ed25519"), "{run}");
    assert!(!sb.local.home.join(".ssh/id_ed25519").exists(), "{run}");
    let work = blob(&sb, ".ssh/work_ed25519.pub");
    assert!(sb.authorized_keys().contains(&work), "{run}");
    sb.no_askpass();
    let doctor = works(&sb, "work");
    assert!(
        doctor
            .stdout
            .contains("the agent holds ~/.ssh/work_ed25519"),
        "{doctor}"
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn identity_agent_names_the_agent_while_ssh_auth_sock_is_unset() {
    let mut sb = start();
    let sock = sb.agent_sock.display().to_string();
    let config = sb.host_block("agentbox", sb.port, &format!("    IdentityAgent {sock}\n"));
    sb.write_local(".ssh/config", &config);
    sb.env.insert("SSH_AUTH_SOCK".into(), String::new());
    let run = sb.setup_dest_ok("agentbox");
    assert!(
        run.stdout.contains("added ~/.ssh/id_ed25519 to the agent"),
        "{run}"
    );
    sb.no_askpass();
    let doctor = works(&sb, "agentbox");
    // The agent check asked the IdentityAgent socket, and warns about SSH_AUTH_SOCK.
    assert!(
        doctor.stdout.contains(&format!(
            "ssh-agent answers at {sock} (IdentityAgent) (1 key)"
        )),
        "{doctor}"
    );
    assert!(
        doctor.stdout.contains("SSH_AUTH_SOCK is not set"),
        "{doctor}"
    );
    // The key went into that agent.
    let listed = sb.local("env", &[&format!("SSH_AUTH_SOCK={sock}"), "ssh-add", "-L"]);
    assert!(
        listed.stdout.contains(&blob(&sb, ".ssh/id_ed25519.pub")),
        "{listed}"
    );
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn proxy_jump_through_a_bastion_to_a_target_the_local_user_cannot_reach() {
    let mut sb = start();
    // The bastion is already known; the target is not.
    let (target, _reject) = sb.behind_bastion("target", "");
    // Directly, the local user cannot reach the target at all.
    let direct = sb.local_within(
        "ssh",
        &[
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-p",
            &target.port.to_string(),
            "127.0.0.1",
            "true",
        ],
        Duration::from_secs(30),
    );
    assert!(direct.stderr.contains("Connection refused"), "{direct}");
    let run = sb.setup_dest_ok("target");
    assert!(
        run.stdout.contains(&format!(
            "added the host key of [127.0.0.1]:{}",
            target.port
        )),
        "{run}"
    );
    sb.no_askpass();
    works(&sb, "target");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn host_key_alias_on_a_port_other_than_22() {
    let mut sb = start();
    let config = sb.host_block("aliasbox", sb.port, "    HostKeyAlias rdock-box\n");
    sb.write_local(".ssh/config", &config);
    let run = sb.setup_dest_ok("aliasbox");
    assert!(
        run.stdout.contains("added the host key of rdock-box "),
        "{run}"
    );
    // Recorded under the alias alone, as ssh looks it up; not under [127.0.0.1]:PORT.
    let in_home = |name: &str| {
        sb.local(
            "sh",
            &[
                "-c",
                &format!("cd && ssh-keygen -F '{name}' -f .ssh/known_hosts"),
            ],
        )
        .code
    };
    assert_eq!(in_home("rdock-box"), Some(0));
    assert_eq!(in_home(&format!("[127.0.0.1]:{}", sb.port)), Some(1));
    sb.no_askpass();
    works(&sb, "aliasbox");
}

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn an_old_rsa_key_that_already_logs_in_is_used_as_it_is() {
    let mut sb = start();
    let made = sb.local(
        "sh",
        &[
            "-c",
            "mkdir -m 700 -p ~/.ssh && ssh-keygen -q -t rsa -b 3072 -N '' -C old -f ~/.ssh/id_rsa",
        ],
    );
    assert_eq!(made.code, Some(0), "{made}");
    let rsa = std::fs::read_to_string(sb.local.home.join(".ssh/id_rsa.pub")).unwrap();
    let ssh_dir = sb.remote.home.join(".ssh");
    std::fs::create_dir_all(&ssh_dir).unwrap();
    std::fs::write(ssh_dir.join("authorized_keys"), &rsa).unwrap();
    for (path, mode) in [(&ssh_dir, "700"), (&ssh_dir.join("authorized_keys"), "600")] {
        let p = path.to_str().unwrap();
        assert!(std::process::Command::new("chown")
            .args([&sb.remote.name, p])
            .status()
            .unwrap()
            .success());
        assert!(std::process::Command::new("chmod")
            .args([mode, p])
            .status()
            .unwrap()
            .success());
    }
    // No password from the start: the RSA key must be what logs in.
    sb.no_askpass();
    let run = sb.setup_ok();
    assert!(!sb.local.home.join(".ssh/id_ed25519").exists(), "{run}");
    assert!(run.stdout.contains("~/.ssh/id_rsa (ssh-rsa"), "{run}");
    assert!(!run.stdout.contains("appended"), "{run}");
    assert_eq!(sb.authorized_keys(), rsa, "authorized_keys is as it was");
    works(&sb, &sb.context());
}

/// All at once, as a real laptop has it: the target only through a bastion (ProxyJump), its own
/// key (IdentityFile, IdentitiesOnly), and the agent named by IdentityAgent with SSH_AUTH_SOCK
/// unset. Setup and doctor agree, and docker works through the context.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn identity_file_identity_agent_and_proxy_jump_together() {
    let mut sb = start();
    let target = sb.second_sshd();
    let _reject = RejectPort::new(&sb.local.name, target.port);
    let sock = sb.agent_sock.display().to_string();
    let own = format!(
        "    IdentityFile ~/.ssh/work_ed25519\n    IdentitiesOnly yes\n    IdentityAgent {sock}\n"
    );
    let config = format!(
        "{}{}",
        sb.host_block("bastion", sb.port, &own),
        sb.host_block(
            "work",
            target.port,
            &format!("{own}    ProxyJump bastion\n")
        )
    );
    sb.write_local(".ssh/config", &config);
    sb.env.insert("SSH_AUTH_SOCK".into(), String::new());
    // The bastion accepts the same key, and its host key is known, as on a laptop that has used it.
    let keygen = sb.local(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            &sb.local
                .home
                .join(".ssh/work_ed25519")
                .display()
                .to_string(),
        ],
    );
    assert_eq!(keygen.code, Some(0), "{keygen}");
    let public = std::fs::read_to_string(sb.local.home.join(".ssh/work_ed25519.pub")).unwrap();
    sb.write_remote(
        ".ssh/authorized_keys",
        format!("{}{public}", sb.authorized_keys()).as_bytes(),
        0o600,
    );
    let scan = sb.local(
        "sh",
        &[
            "-c",
            &format!("ssh-keyscan -p {} 127.0.0.1 > ~/.ssh/known_hosts", sb.port),
        ],
    );
    assert_eq!(scan.code, Some(0), "{scan}");
    let run = sb.setup_dest_ok("work");
    assert!(
        !sb.local.home.join(".ssh/id_ed25519").exists(),
        "setup made a key ssh would not offer:\n{run}"
    );
    sb.no_askpass();
    let doctor = works(&sb, "work");
    assert!(doctor.stdout.contains("~/.ssh/work_ed25519"), "{doctor}");
    assert!(doctor.stdout.contains("(IdentityAgent)"), "{doctor}");
    // Setup again: doctor's verdict and setup's agree, and nothing changes.
    sb.setup_changes_nothing("work");
}

/// A new key ~/.ssh/NAME added to the agent at `sock`, then its private file deleted: only
/// ~/.ssh/NAME.pub is left, as with a key that 1Password keeps.
fn only_in_agent(sb: &Sandbox, name: &str, sock: &str) {
    let script = format!(
        "mkdir -m 700 -p ~/.ssh && ssh-keygen -q -t ed25519 -N '' -C {name} -f ~/.ssh/{name} && SSH_AUTH_SOCK={sock} ssh-add ~/.ssh/{name} && rm ~/.ssh/{name}"
    );
    let staged = sb.local("sh", &["-c", &script]);
    assert_eq!(staged.code, Some(0), "{staged}");
    assert!(!sb.local.home.join(".ssh").join(name).exists());
}

/// 1Password's documented setup: the private key lives only in the agent at
/// ~/.1password/agent.sock (IdentityAgent), `IdentityFile` names the PUBLIC key, `IdentitiesOnly
/// yes`; SSH_AUTH_SOCK names the sandbox's other agent, which holds nothing. Setup uses the
/// agent's key as it is (installs it over the one password login, writes no key), doctor is
/// green, docker works with no askpass, and setup again changes nothing.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_key_that_lives_only_in_the_identity_agent_named_by_its_public_key_file() {
    only_in_the_identity_agent("~/.ssh/box.pub");
}

/// The same with `IdentityFile ~/.ssh/box`, whose private file is gone: ssh reads box.pub and
/// offers the agent's copy, so rdock takes box.pub as the key (the probe's `-i ~/.ssh/box` would
/// be refused as "not accessible").
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_key_that_lives_only_in_the_identity_agent_named_by_a_private_key_file_that_is_gone() {
    only_in_the_identity_agent("~/.ssh/box");
}

/// The 1Password scenario, with this `IdentityFile`.
fn only_in_the_identity_agent(identity_file: &str) {
    let mut sb = start();
    let onepass = sb.extra_agent(".1password/agent.sock");
    let sock = onepass.sock.display().to_string();
    // The key goes into that agent, then its private file is gone: only box.pub stays.
    only_in_agent(&sb, "box", &sock);
    let config = sb.host_block(
        "box",
        sb.port,
        &format!("    IdentityAgent ~/.1password/agent.sock\n    IdentityFile {identity_file}\n    IdentitiesOnly yes\n"),
    );
    sb.write_local(".ssh/config", &config);
    let before = sb.snapshot(".ssh");
    let run = sb.setup_dest_ok("box");
    assert!(
        run.stdout.contains(&format!(
            "~/.ssh/box.pub (ssh-ed25519): the private key stays in the agent at {sock} (IdentityAgent)"
        )),
        "{run}"
    );
    // No key was made: ~/.ssh holds what it held, known_hosts (the host key) and the config
    // (rdock's agent block), and nothing else; box.pub is as it was.
    let after = sb.snapshot(".ssh");
    let new: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    assert_eq!(new, [".ssh/known_hosts"], "{run}");
    for (name, was) in &before {
        if name != ".ssh/config" {
            assert_eq!(after.get(name), Some(was), "{name} changed:\n{run}");
        }
    }
    assert!(!run.stdout.contains("created ~/"), "{run}");
    // Installed over the one password login: the agent's key is what the remote accepts.
    let key = blob(&sb, ".ssh/box.pub");
    assert!(sb.authorized_keys().contains(&key), "{run}");
    sb.no_askpass();
    let doctor = works(&sb, "box");
    assert!(
        doctor.stdout.contains("the agent holds ~/.ssh/box.pub"),
        "{doctor}"
    );
    // Nothing went into the sandbox's other agent: the key stayed where it was.
    let other = sb.local("ssh-add", &["-L"]);
    assert_eq!(other.code, Some(1), "{other}");
    sb.setup_changes_nothing("box");
    drop(onepass);
}

/// `--identity PATH.pub`: the agent at SSH_AUTH_SOCK holds the key, its private file is gone, and
/// ~/.ssh/config names nothing. Setup and doctor take the agent's key through its public file.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn identity_given_as_a_public_key_file_uses_the_agent_s_copy() {
    let mut sb = start();
    only_in_agent(&sb, "held", &sb.agent_sock.display().to_string());
    let public = sb.local.home.join(".ssh/held.pub").display().to_string();
    let dest = sb.dest();
    let run = sb.rdock_within(
        &setup_args(&dest, &["--identity", &public]),
        Duration::from_secs(120),
    );
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.stdout
            .contains("~/.ssh/held.pub (ssh-ed25519): the private key stays in the agent at"),
        "{run}"
    );
    assert!(!sb.local.home.join(".ssh/id_ed25519").exists(), "{run}");
    assert!(
        sb.authorized_keys().contains(&blob(&sb, ".ssh/held.pub")),
        "{run}"
    );
    sb.no_askpass();
    let doctor = sb.rdock(&["doctor", &dest, "--identity", &public]);
    assert!(
        doctor.code == Some(0) && !doctor.stdout.contains('✗'),
        "{doctor}"
    );
    let ps = sb.local("docker", &["--context", &sb.context(), "ps"]);
    assert_eq!(ps.code, Some(0), "{ps}");
}
