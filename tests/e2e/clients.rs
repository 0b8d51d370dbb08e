//! The docker clients other than the docker CLI, end to end (issue 14). A docker context is used
//! by more than the CLI: compose (a CLI plugin, with the CLI's own ssh), dockerode (npm; its
//! docker-modem dials with ssh2, a JavaScript SSH: only SSH_AUTH_SOCK's agent, the host through
//! DNS, no ssh_config) and docker-py (PyPI; paramiko by default, which reads part of
//! ~/.ssh/config, or the system's ssh with `use_ssh_client=True`). For each configuration a
//! person may set up with `rdock setup` (a plain destination, a Host alias in ~/.ssh/config, a
//! target behind a ProxyJump bastion), each real client, as scripts/clients.sh installs it, is
//! pointed at the context, and what it says is asserted.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::harness::{Client, ClientResult, RejectPort, Sandbox, SecondSshd, DEBIAN13_DOCKER};
use crate::support::snapshot::Transcript;

/// How the person's context reaches the host.
#[derive(Clone, Copy, Debug)]
pub enum Config {
    /// `rdock setup remote@127.0.0.1:PORT`.
    Plain,
    /// `rdock setup dockerbox`, a Host alias in ~/.ssh/config (HostName, Port, User).
    Alias,
    /// `rdock setup target`, a Host behind `ProxyJump bastion` that the local user cannot reach
    /// directly.
    ProxyJump,
    /// `rdock setup remote@127.0.0.1:PORT` with `IdentityAgent AGENT` for 127.0.0.1 in
    /// ~/.ssh/config and SSH_AUTH_SOCK unset (as with an agent of a password manager).
    IdentityAgent,
    /// `rdock setup remote@127.0.0.1:PORT` with `HostKeyAlias rdock-box` for 127.0.0.1: setup
    /// records the host key under the alias alone, as ssh looks it up.
    HostKeyAlias,
}

/// A sandbox set up for one configuration: the context, and what keeps its target up.
pub struct Configured {
    // Dropped first: the iptables rule names the local user, whom the sandbox's drop removes.
    _bastion: Option<(SecondSshd, RejectPort)>,
    pub sb: Sandbox,
    pub context: String,
}

/// A sandbox (with Debian 13's docker CLI, the one compose comes with), set up by `rdock setup`
/// for `config`, askpass then taken away. A missing client fails the test.
pub fn configure(config: Config) -> Configured {
    let mut sb = Sandbox::start().with_docker(std::path::Path::new(DEBIAN13_DOCKER));
    if let Err(why) = sb.shared.clients() {
        panic!("this end-to-end test cannot run here: {why}");
    }
    let mut bastion = None;
    let dest = match config {
        Config::Plain => sb.dest(),
        Config::Alias => {
            sb.write_local(".ssh/config", &sb.host_block("dockerbox", sb.port, ""));
            "dockerbox".into()
        }
        Config::ProxyJump => {
            bastion = Some(sb.behind_bastion("target", ""));
            "target".into()
        }
        Config::IdentityAgent => {
            let sock = sb.agent_sock.display().to_string();
            sb.write_local(
                ".ssh/config",
                &format!("Host 127.0.0.1\n    IdentityAgent {sock}\n"),
            );
            sb.env.insert("SSH_AUTH_SOCK".into(), String::new());
            sb.dest()
        }
        Config::HostKeyAlias => {
            sb.write_local(
                ".ssh/config",
                "Host 127.0.0.1\n    HostKeyAlias rdock-box\n",
            );
            sb.dest()
        }
    };
    sb.setup_dest_ok(&dest);
    sb.no_askpass();
    let context = match config {
        Config::Alias | Config::ProxyJump => dest,
        Config::Plain | Config::IdentityAgent | Config::HostKeyAlias => sb.context(),
    };
    Configured {
        _bastion: bastion,
        sb,
        context,
    }
}

/// What a client is expected to say: success, or an error message holding this text.
#[derive(Clone, Debug)]
pub enum Expect {
    Works,
    Fails(String),
}

/// The observed table, one line per client, for assertion messages.
pub fn table(outcomes: &BTreeMap<&'static str, ClientResult>) -> String {
    outcomes
        .iter()
        .map(|(name, r)| {
            let said = r.message.lines().last().unwrap_or_default();
            format!(
                "  {name:<22} {:<5} {said}\n",
                if r.ok { "ok" } else { "fails" }
            )
        })
        .collect()
}

/// Every client said what `expected` says (a client left out of it must work); those that work
/// report the test dockerd's version (compose, which lists projects, excepted).
fn assert_outcomes(
    c: &Configured,
    outcomes: &BTreeMap<&'static str, ClientResult>,
    expected: &[(&str, Expect)],
) {
    let details = || {
        let runs: Vec<&str> = outcomes.values().map(|r| r.detail.as_str()).collect();
        format!(
            "observed:\n{}\n--- ~/.ssh/config\n{}\n--- runs\n{}",
            table(outcomes),
            std::fs::read_to_string(c.sb.local.home.join(".ssh/config")).unwrap_or_default(),
            runs.join("\n")
        )
    };
    for client in Client::ALL {
        let r = &outcomes[client.name()];
        let expect = expected
            .iter()
            .find(|(name, _)| *name == client.name())
            .map_or(Expect::Works, |(_, e)| e.clone());
        match expect {
            Expect::Works => assert!(r.ok, "{} should work\n{}", client.name(), details()),
            Expect::Fails(text) => assert!(
                !r.ok && r.message.contains(&text),
                "{} should fail with {text:?}\n{}",
                client.name(),
                details()
            ),
        }
    }
    let version = daemon_version(&c.sb);
    for client in Client::ALL {
        let r = &outcomes[client.name()];
        assert!(
            !r.ok || client == Client::Compose || r.message == version,
            "{} reports another server than the test dockerd {version}\n{}",
            client.name(),
            details()
        );
    }
}

/// The test dockerd's version, asked on its own socket.
fn daemon_version(sb: &Sandbox) -> String {
    let host = format!("unix://{}", sb.shared.docker_sock.display());
    let out = std::process::Command::new("docker")
        .args(["-H", &host, "version", "--format", "{{.Server.Version}}"])
        .env("HOME", &sb.shared.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Which real clients each of doctor's clients lines speaks for: the docker CLI's line for
/// everything that runs ssh.
const PREDICTS: [(&str, &[&str]); 3] = [
    ("docker-cli", &["docker", "compose", "docker-py-ssh-client"]),
    ("dockerode", &["dockerode"]),
    ("docker-py", &["docker-py"]),
];

/// `rdock doctor CONTEXT --json`, as the local user with no askpass, and its clients lines:
/// each line's (status, message, fix), by id.
pub fn doctor_clients(c: &Configured) -> BTreeMap<String, (String, String, String)> {
    let run = c.sb.rdock(&["doctor", &c.context, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}):\n{run}"));
    let text = |c: &serde_json::Value, key: &str| c[key].as_str().unwrap_or_default().to_string();
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| PREDICTS.iter().any(|(id, _)| c["id"] == *id))
        .map(|c| {
            (
                text(c, "id"),
                (text(c, "status"), text(c, "message"), text(c, "fix")),
            )
        })
        .collect()
}

/// Append what each client did and what doctor's line for it said to the file RDOCK_CLIENTS_LOG
/// names (scripts/test.sh prints it after the suite: the client matrix, as it ran).
fn log_matrix(
    c: &Configured,
    outcomes: &BTreeMap<&'static str, ClientResult>,
    doctor: &BTreeMap<String, (String, String, String)>,
    left_out: &[&str],
) {
    let Ok(path) = std::env::var("RDOCK_CLIENTS_LOG") else {
        return;
    };
    let endpoint = c.sb.context_endpoint(&c.context).unwrap_or_default();
    let mut text = format!(
        "{} ({endpoint}):\n",
        std::thread::current().name().unwrap_or("?")
    );
    for (id, clients) in PREDICTS {
        for client in clients.iter() {
            let r = &outcomes[client];
            let said = match (r.ok, *client) {
                (true, "compose") => "listed the projects".to_string(),
                _ => r
                    .message
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .chars()
                    .take(70)
                    .collect(),
            };
            let judged = if left_out.contains(client) {
                " (not judged here)"
            } else {
                ""
            };
            text.push_str(&format!(
                "  {client:<21} {:<5} doctor {id}: {}{judged}  {said}\n",
                if r.ok { "ok" } else { "fails" },
                doctor[id].0,
            ));
        }
    }
    use std::io::Write as _;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Doctor's clients lines predict what each real client did: `ok` where it worked, and where it
/// failed a warning with a reason and a fix; a skip (naming the check it waited on) only for the
/// lines in `may_skip`, where a check before them fails. `left_out` names clients doctor cannot
/// vouch for here.
fn assert_predicted(
    c: &Configured,
    outcomes: &BTreeMap<&'static str, ClientResult>,
    left_out: &[&str],
    may_skip: &[&str],
) {
    let doctor = doctor_clients(c);
    eprintln!("doctor's clients lines: {doctor:#?}");
    log_matrix(c, outcomes, &doctor, left_out);
    for (id, clients) in PREDICTS {
        let (status, message, fix) = &doctor[id];
        for client in clients.iter().filter(|n| !left_out.contains(n)) {
            let worked = outcomes[client].ok;
            let said = format!(
                "doctor's {id} line ({status}: {message}; fix: {fix}) for {client}, which {}\n{}",
                if worked { "worked" } else { "failed" },
                table(outcomes)
            );
            if worked {
                assert_eq!(status, "ok", "{said}");
            } else {
                assert_ne!(status, "ok", "{said}");
                if may_skip.contains(&id) {
                    assert!(message.starts_with("skipped: "), "{said}");
                } else {
                    assert_eq!(status, "warn", "{said}");
                    assert!(message.contains("will not work: "), "{said}");
                    assert!(!fix.is_empty(), "{said}");
                }
            }
        }
    }
}

/// What every client says against the context `rdock setup` made for `config`, by client name
/// ([`Client::name`]), with the sandbox (to ask doctor about the same context, say). Prints the
/// table and how long it took.
pub fn outcomes(config: Config) -> (Configured, BTreeMap<&'static str, ClientResult>) {
    let start = Instant::now();
    let c = configure(config);
    let set_up = start.elapsed();
    let outcomes = c.sb.run_clients(&c.context);
    eprintln!(
        "{config:?}: {} (setup {set_up:.1?}, clients {:.1?})\n{}",
        c.sb.context_endpoint(&c.context).unwrap_or_default(),
        start.elapsed() - set_up,
        table(&outcomes)
    );
    (c, outcomes)
}

/// `ssh://remote@127.0.0.1:PORT`: every client gets there.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_plain_destination_works_with_every_client() {
    let (c, outcomes) = outcomes(Config::Plain);
    assert_eq!(
        c.sb.context_endpoint(&c.context),
        Some(format!("ssh://{}", c.sb.dest()))
    );
    assert_outcomes(&c, &outcomes, &[]);
    assert_predicted(&c, &outcomes, &[], &[]);
    let (_, message, _) = &doctor_clients(&c)["docker-cli"];
    assert!(message.contains(", docker compose 2."), "{message}");
}

/// `ssh://remote@dockerbox:PORT`, dockerbox a Host alias (HostName 127.0.0.1). docker-modem hands
/// the URL's host name to ssh2, which looks it up in DNS: ENOTFOUND. paramiko reads HostName from
/// ~/.ssh/config (docker-py looks the host up there), so docker-py works; the CLI, compose and
/// `use_ssh_client` run ssh, which reads the alias.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_host_alias_is_unknown_to_dockerode_alone() {
    let (c, outcomes) = outcomes(Config::Alias);
    assert_eq!(
        c.sb.context_endpoint(&c.context),
        Some(format!(
            "ssh://{}@dockerbox:{}",
            c.sb.remote.name, c.sb.port
        ))
    );
    assert_outcomes(
        &c,
        &outcomes,
        &[(
            "dockerode",
            Expect::Fails("getaddrinfo ENOTFOUND dockerbox".into()),
        )],
    );
    assert_predicted(&c, &outcomes, &[], &[]);
    let (_, message, fix) = &doctor_clients(&c)["dockerode"];
    assert!(
        message.contains("dockerbox is an ssh_config alias; ssh2 resolves it through DNS"),
        "{message}"
    );
    assert_eq!(
        fix,
        &format!(
            "point dockerode at the real host: DOCKER_HOST=ssh://{}@127.0.0.1:{}",
            c.sb.remote.name, c.sb.port
        )
    );
}

/// `ssh://remote@target:PORT`, target reached only through `ProxyJump bastion`. dockerode fails
/// at DNS as for any alias; docker-py's paramiko takes HostName and Port from ~/.ssh/config but
/// not ProxyJump (docker-py passes on ProxyCommand alone) and connects straight to the target,
/// which refuses this user. Whatever runs ssh works.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn proxy_jump_needs_a_client_that_runs_ssh() {
    let (c, outcomes) = outcomes(Config::ProxyJump);
    let port =
        c.sb.context_endpoint(&c.context)
            .and_then(|e| e.rsplit(':').next().map(String::from))
            .unwrap_or_default();
    let refused = format!(
        "NoValidConnectionsError: [Errno None] Unable to connect to port {port} on 127.0.0.1"
    );
    assert_outcomes(
        &c,
        &outcomes,
        &[
            (
                "dockerode",
                Expect::Fails("getaddrinfo ENOTFOUND target".into()),
            ),
            ("docker-py", Expect::Fails(refused)),
        ],
    );
    assert_predicted(&c, &outcomes, &[], &[]);
    let doctor = doctor_clients(&c);
    assert!(
        doctor["docker-py"]
            .1
            .contains("ProxyJump bastion is not supported by paramiko"),
        "{doctor:#?}"
    );
    assert!(
        doctor["docker-py"].2.contains("use_ssh_client=True"),
        "{doctor:#?}"
    );
    assert!(
        doctor["dockerode"]
            .1
            .contains("ProxyJump bastion is not supported"),
        "{doctor:#?}"
    );
    // What a person reads: the docker CLI works, the two libraries will not, and why.
    Transcript::new(&c.sb)
        .port(port.parse().unwrap(), "[TARGET_PORT]")
        .assert(
            "doctor_clients_behind_proxy_jump",
            &[&c.sb.rdock(&["doctor", &c.context])],
        );
}

/// IdentityAgent names the agent that holds the key; SSH_AUTH_SOCK is unset. Only ssh reads
/// IdentityAgent: ssh2 gets no agent from docker-modem and has nothing to offer. paramiko has no
/// agent either, but reads the unencrypted ~/.ssh/id_ed25519 setup made (look_for_keys), and
/// fails once that file is gone.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn identity_agent_is_read_by_ssh_alone() {
    let (c, outcomes) = outcomes(Config::IdentityAgent);
    let no_auth = "All configured authentication methods failed";
    assert_outcomes(
        &c,
        &outcomes,
        &[("dockerode", Expect::Fails(no_auth.into()))],
    );
    assert_predicted(&c, &outcomes, &[], &[]);
    let moved =
        c.sb.local("sh", &["-c", "mv ~/.ssh/id_ed25519 ~/.ssh/elsewhere"]);
    assert_eq!(moved.code, Some(0), "{moved}");
    let without_file = c.sb.run_clients(&c.context);
    eprintln!("IdentityAgent, no key file:\n{}", table(&without_file));
    assert_outcomes(
        &c,
        &without_file,
        &[
            ("dockerode", Expect::Fails(no_auth.into())),
            (
                "docker-py",
                Expect::Fails("SSHException: No authentication methods available".into()),
            ),
        ],
    );
    // ssh offers the agent's copy of the key whose file is gone (its .pub is left), and doctor
    // says so: each line still predicts its client.
    assert_predicted(&c, &without_file, &[], &[]);
}

/// The host key is recorded under a HostKeyAlias alone. paramiko looks it up under
/// `[127.0.0.1]:PORT` (it reads no HostKeyAlias) and its RejectPolicy refuses the host; ssh2 checks
/// no host key at all.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn host_key_alias_is_unknown_to_paramiko() {
    let (c, outcomes) = outcomes(Config::HostKeyAlias);
    let unknown = format!(
        "SSHException: Server '[127.0.0.1]:{}' not found in known_hosts",
        c.sb.port
    );
    assert_outcomes(&c, &outcomes, &[("docker-py", Expect::Fails(unknown))]);
    assert_predicted(&c, &outcomes, &[], &[]);
}

/// With the host key gone from known_hosts, every client refuses the host, but dockerode:
/// docker-modem gives ssh2 no hostVerifier, and ssh2 then accepts any host key.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn dockerode_checks_no_host_key() {
    let c = configure(Config::Plain);
    let emptied = c.sb.local("sh", &["-c", ": > ~/.ssh/known_hosts"]);
    assert_eq!(emptied.code, Some(0), "{emptied}");
    let outcomes = c.sb.run_clients(&c.context);
    eprintln!("Plain, known_hosts emptied:\n{}", table(&outcomes));
    let refused = || Expect::Fails("Host key verification failed.".into());
    assert_outcomes(
        &c,
        &outcomes,
        &[
            ("docker", refused()),
            ("compose", refused()),
            (
                "docker-py",
                Expect::Fails(format!(
                    "SSHException: Server '[127.0.0.1]:{}' not found in known_hosts",
                    c.sb.port
                )),
            ),
            // ssh's own words go to stderr; docker-py says only that the stream broke.
            (
                "docker-py-ssh-client",
                Expect::Fails("Error while fetching server API version".into()),
            ),
        ],
    );
    // Doctor fails the host key, and cannot learn whether the host takes the key without
    // trusting that host: it vouches for dockerode neither way.
    assert_predicted(&c, &outcomes, &["dockerode"], &["docker-cli", "docker-py"]);
    let ssh_said = &outcomes["docker-py-ssh-client"].detail;
    assert!(
        ssh_said.contains("Host key verification failed."),
        "{ssh_said}"
    );
}

/// After a plain setup, ~/.ssh/config names an IdentityFile that does not exist before the key
/// setup made. ssh passes over a missing identity file; paramiko stops at it
/// (FileNotFoundError) before it asks the agent, and doctor says so.
#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_missing_identity_file_stops_paramiko_alone() {
    let c = configure(Config::Plain);
    let config = c.sb.local.home.join(".ssh/config");
    let before = std::fs::read_to_string(&config).unwrap_or_default();
    c.sb.write_local(
        ".ssh/config",
        &format!("Host 127.0.0.1\n    IdentityFile ~/.ssh/gone\n    IdentityFile ~/.ssh/id_ed25519\n\n{before}"),
    );
    let outcomes = c.sb.run_clients(&c.context);
    eprintln!("Plain, a missing IdentityFile:\n{}", table(&outcomes));
    assert_outcomes(
        &c,
        &outcomes,
        &[("docker-py", Expect::Fails("FileNotFoundError".into()))],
    );
    assert_predicted(&c, &outcomes, &[], &[]);
    let doctor = doctor_clients(&c);
    assert!(
        doctor["docker-py"]
            .1
            .contains("~/.ssh/config names IdentityFile ~/.ssh/gone, which does not exist"),
        "{doctor:#?}"
    );
}
