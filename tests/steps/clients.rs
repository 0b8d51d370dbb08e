//! doctor's clients group: for each client family, whether it reaches the daemon. The facts
//! come from the recorded ssh -G (with ~/.ssh/config alone, for paramiko), ssh-add -L and
//! ssh-keygen -F; the host names from the system resolver (`box` resolves nowhere here).

use rdock::docker::clients::Client;
use rdock::steps::plan::Options;
use rdock::steps::{Mode, Status};
use rdock::sys::exec::Reply;

use super::recorded::*;
use super::{options, render, Done, Rig};

/// The remote checks the clients need, and the clients.
const SLICE: [&str; 9] = [
    "destination",
    "key",
    "agent",
    "identity",
    "connection",
    "host-key",
    "auth",
    "remote-daemon",
    "clients",
];

/// How rdock asks for compose v2's version (not installed, in these tests).
const COMPOSE_VERSION: [&str; 6] = [
    "docker",
    "--context",
    "default",
    "compose",
    "version",
    "--short",
];

/// The clients' lines, as (id, status).
fn verdicts(done: &Done) -> Vec<(&str, Status)> {
    done.report
        .findings
        .iter()
        .filter(|f| {
            ["docker-cli", "vscode-client", "dockerode", "docker-py"].contains(&f.id.as_str())
        })
        .map(|f| (f.id.as_str(), f.status))
        .collect()
}

/// What the clients ask of a machine beyond the rig's key, agent and known_hosts.
trait Answers {
    /// The probe answers as Debian 12's dockerd; no compose plugin is installed.
    fn answers(self) -> Self;
    /// No ~/.ssh/config: paramiko's view of 127.0.0.1 is `ssh -G -F none`.
    fn no_ssh_config(self) -> Self;
}

impl Answers for Rig {
    fn answers(self) -> Rig {
        self.probe(Reply::ok(PROBE_SERVER))
            .on(&COMPOSE_VERSION, compose_missing())
    }

    fn no_ssh_config(self) -> Rig {
        let none = self.at_home(SSH_G_LOCAL_USER_F_NONE);
        self.on(
            &["ssh", "-G", "-F", "none", "--", "127.0.0.1"],
            Reply::ok(none),
        )
    }
}

/// u@127.0.0.1:2222, its key in the agent at SSH_AUTH_SOCK and its host key known, the probe
/// answering; no ~/.ssh/config, so paramiko's view is `ssh -G -F none`.
fn plain() -> Rig {
    Rig::plain()
        .key()
        .agent_with_key()
        .known_host()
        .answers()
        .no_ssh_config()
}

#[test]
fn on_a_plain_destination_every_client_works_and_vscode_has_no_extension() {
    let rig = plain();
    let done = rig.run(Mode::Doctor, &options(), &SLICE);
    assert_eq!(
        verdicts(&done),
        [
            ("docker-cli", Status::Ok),
            ("vscode-client", Status::Skip),
            ("dockerode", Status::Ok),
            ("docker-py", Status::Ok),
        ],
        "{:#?}",
        done.report.findings
    );
    insta::assert_snapshot!(done.render("docker-cli"), @"docker-cli ok: docker CLI: works");
    assert!(done
        .find("docker-cli")
        .details
        .contains(&"docker compose (v2) is not installed".to_string()));
    // paramiko looks the host key up in ~/.ssh/known_hosts under the URL's port.
    assert!(
        done.ran().contains(&format!(
            "ssh-keygen -F [127.0.0.1]:2222 -f {}",
            rig.arg(".ssh/known_hosts")
        )),
        "{:#?}",
        done.ran()
    );
}

/// `box`, a Host alias for alice@10.0.0.5:2222 in ~/.ssh/config, with ~/.ssh/id_ed25519 as
/// --identity; `ssh -G -F ~/.ssh/config -- box` is what paramiko sees. The config's IdentityFile
/// ~/.ssh/id_box is there (a key with a passphrase, which paramiko passes over for the agent).
fn alias() -> (Rig, Options) {
    let (rig, o) = alias_without_its_identity_file();
    rig.private(".ssh/id_box", LOCKED_KEY);
    (rig, o)
}

/// [`alias`] before ~/.ssh/id_box exists.
fn alias_without_its_identity_file() -> (Rig, Options) {
    let rig = Rig::alias().key().agent_with_key().answers();
    let known = rig.arg(".ssh/known_hosts");
    rig.write(".ssh/known_hosts", KEYSCAN);
    let config = rig.arg(".ssh/config");
    let view = rig.at_home(SSH_G_ALIAS);
    let rig = rig
        .on(
            &["ssh-keygen", "-F", "[10.0.0.5]:2222", "-f", &known],
            Reply::ok(KEYGEN_F),
        )
        .unknown_hosts()
        .on(&["ssh", "-G", "-F", &config, "--", "box"], Reply::ok(view));
    let o = Options {
        identity: Some(rig.path(".ssh/id_ed25519")),
        ..options()
    };
    (rig, o)
}

#[test]
fn an_alias_is_a_dns_lookup_for_ssh2_and_a_host_name_from_the_config_for_paramiko() {
    let (rig, o) = alias();
    let done = rig.run(Mode::Doctor, &o, &SLICE);
    assert_eq!(
        verdicts(&done),
        [
            ("docker-cli", Status::Ok),
            ("vscode-client", Status::Skip),
            ("dockerode", Status::Warn),
            ("docker-py", Status::Ok),
        ],
        "{:#?}",
        done.report.findings
    );
    let f = done.find("dockerode");
    assert!(
        f.message.starts_with("dockerode and other ssh2 clients: will not work: box is an ssh_config alias; ssh2 resolves it through DNS, and box does not resolve: "),
        "{}",
        f.message
    );
    insta::assert_snapshot!(render(f), @r"
    dockerode warn: dockerode and other ssh2 clients: will not work: box is an ssh_config alias; ssh2 resolves it through DNS, and box does not resolve: failed to lookup address information: Name or service not known
    fix: point dockerode at the real host: DOCKER_HOST=ssh://alice@10.0.0.5:2222
    ");
    assert!(
        f.details
            .contains(&"ssh2 does not check the host key".to_string()),
        "{:?}",
        f.details
    );
}

#[test]
fn a_client_named_with_client_fails_instead_of_warning() {
    let (rig, o) = alias();
    let o = Options {
        clients: vec![Client::Dockerode],
        ..o
    };
    let done = rig.run(Mode::Doctor, &o, &SLICE);
    assert_eq!(done.find("dockerode").status, Status::Fail);
    assert_eq!(done.find("docker-py").status, Status::Ok);
    assert_eq!(done.report.failed(), 1);
}

/// `--client` takes each client by its `Client::name`, the name the e2e tier keys outcomes by.
#[test]
fn every_client_s_name_is_one_client_takes() {
    use clap::ValueEnum;
    for client in Client::ALL {
        let arg = rdock::cli::ClientArg::from_str(client.name(), false);
        assert_eq!(arg.map(Client::from), Ok(client), "{}", client.name());
    }
}

#[test]
fn without_ssh_auth_sock_paramiko_still_reads_a_key_file_with_no_passphrase() {
    let rig = Rig::plain().key().known_host().answers();
    let rig = rig.no_ssh_config();
    let slice: Vec<&str> = SLICE
        .iter()
        .copied()
        .filter(|k| !["agent", "identity"].contains(k))
        .collect();
    let done = rig.run(Mode::Doctor, &options(), &slice);
    insta::assert_snapshot!(done.render("dockerode"), @r#"
    dockerode warn: dockerode and other ssh2 clients: will not work: SSH_AUTH_SOCK is not set, and ssh2 finds keys only through it
    fix: eval "$(ssh-agent -s)" && ssh-add ~/.ssh/id_ed25519 (in the shell that starts the client)
    "#);
    assert_eq!(done.find("docker-py").status, Status::Ok);
}

#[test]
fn vscode_is_judged_as_the_client_its_extension_uses() {
    // The Docker extension before 1.23 talks through dockerode: on the alias, as ssh2 fails.
    let (rig, o) = alias();
    rig.write(
        ".vscode/extensions/ms-azuretools.vscode-docker-1.22.2/package.json",
        "{}",
    );
    let done = rig.run(Mode::Doctor, &o, &SLICE);
    let f = done.find("vscode-client");
    assert_eq!(f.status, Status::Warn, "{f:#?}");
    assert!(
        f.message.starts_with(
            "VS Code Docker 1.22.2 (dockerode, ssh2): will not work: box is an ssh_config alias"
        ),
        "{}",
        f.message
    );
    // Container Tools runs the docker CLI, which reads the alias.
    let (rig, o) = alias();
    rig.write(
        ".vscode/extensions/ms-azuretools.vscode-containers-2.0.1/package.json",
        "{}",
    );
    let done = rig.run(Mode::Doctor, &o, &SLICE);
    insta::assert_snapshot!(done.render("vscode-client"), @"vscode-client ok: VS Code Container Tools 2.0.1 (runs the docker CLI): works");
}

#[test]
fn a_key_only_in_1password_s_agent_is_no_key_file_for_paramiko() {
    // 1Password's block: IdentityFile ~/.ssh/box.pub (paramiko reads IdentityFile), the key in
    // the agent IdentityAgent names, SSH_AUTH_SOCK unset.
    let rig = Rig::new(rdock::sys::platform::Platform::Linux)
        .keywords_host("onepass")
        .on(&["ssh-add", "-l"], Reply::ok(SSH_ADD_L_ONE))
        .on(&["ssh-add", "-L"], Reply::ok(SSH_ADD_BIG_L_ONE))
        .probe(Reply::ok(PROBE_SERVER))
        .on_prefix(&["ssh-keygen", "-F"], Reply::ok(KEYGEN_F))
        .on(&COMPOSE_VERSION, compose_missing());
    rig.write(".ssh/box.pub", KEY_PUB);
    rig.write(".ssh/known_hosts", KEYSCAN);
    let config = rig.arg(".ssh/config");
    let view = rig.at_home(SSH_G_ONEPASS);
    let rig = rig.on(
        &["ssh", "-G", "-F", &config, "--", "onepass"],
        Reply::ok(view),
    );
    let done = rig.run(Mode::Doctor, &options(), &SLICE);
    assert_eq!(
        done.find("key").status,
        Status::Ok,
        "{:#?}",
        done.report.findings
    );
    let f = done.find("docker-py");
    let public =
        "(~/.ssh/box.pub is a public key: paramiko cannot read the private key from a file)";
    assert!(
        f.status == Status::Warn && f.message.ends_with(public),
        "{f:#?}"
    );
    insta::assert_snapshot!(render(f), @r"
    docker-py warn: docker-py (paramiko): will not work: SSH_AUTH_SOCK is not set, and paramiko finds an agent only through it (paramiko ignores IdentityAgent [HOME]/.1password/agent.sock) (~/.ssh/box.pub is a public key: paramiko cannot read the private key from a file)
    fix: export SSH_AUTH_SOCK=[HOME]/.1password/agent.sock (IdentityAgent, which holds the key) where the client runs
    ");
    // ssh-add cannot add a public key: no fix says so.
    assert!(done.report.findings.iter().all(|f| !f
        .fix
        .as_deref()
        .unwrap_or("")
        .contains("ssh-add ~/.ssh/box.pub")));
}

#[test]
fn an_identity_file_the_config_names_and_that_is_gone_stops_docker_py() {
    let (rig, o) = alias_without_its_identity_file();
    let done = rig.run(Mode::Doctor, &o, &SLICE);
    insta::assert_snapshot!(done.render("docker-py"), @r"
    docker-py warn: docker-py (paramiko): will not work: ~/.ssh/config names IdentityFile ~/.ssh/id_box, which does not exist, and paramiko stops there (FileNotFoundError) before it asks an agent
    fix: take IdentityFile ~/.ssh/id_box out of ~/.ssh/config for this host, or use the docker CLI, or docker-py with use_ssh_client=True (docker.DockerClient(base_url=…, use_ssh_client=True)), which runs ssh
    ");
}
