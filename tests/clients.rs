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

use crate::harness::{
    setup_args, Client, ClientResult, RejectPort, Sandbox, SecondSshd, DEBIAN13_DOCKER,
};

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
}

/// A sandbox set up for one configuration: the context, and what keeps its target up.
pub struct Configured {
    // Dropped first: the iptables rule names the local user, whom the sandbox's drop removes.
    _bastion: Option<(SecondSshd, RejectPort)>,
    pub sb: Sandbox,
    pub context: String,
}

/// A sandbox (with Debian 13's docker CLI, the one compose comes with), set up by `rdock setup`
/// for `config`, askpass then taken away. None when the end-to-end tests are skipped here; under
/// RDOCK_E2E=1 a missing client fails.
pub fn configure(config: Config) -> Option<Configured> {
    let mut sb = Sandbox::start()?.with_docker(std::path::Path::new(DEBIAN13_DOCKER));
    if let Err(why) = sb.shared.clients() {
        assert!(
            std::env::var("RDOCK_E2E").as_deref() != Ok("1"),
            "RDOCK_E2E=1 requires the docker clients: {why}"
        );
        eprintln!("skipping: {why}");
        return None;
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
    };
    let run = sb.rdock(&setup_args(&dest, &[]));
    assert_eq!(run.code, Some(0), "setup {dest}:\n{run}\n{}", sb.sshd_log());
    sb.env.insert("SSH_ASKPASS".into(), String::new());
    sb.env.insert("SSH_ASKPASS_REQUIRE".into(), String::new());
    let context = match config {
        Config::Plain => sb.context(),
        _ => dest,
    };
    Some(Configured {
        _bastion: bastion,
        sb,
        context,
    })
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
/// all report the test daemon's version.
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
    let version = &outcomes[Client::DockerCli.name()].message;
    for client in [Client::Dockerode, Client::DockerPy, Client::DockerPyOverSsh] {
        let r = &outcomes[client.name()];
        assert!(
            !r.ok || &r.message == version,
            "{} reports another server than the CLI's {version}\n{}",
            client.name(),
            details()
        );
    }
}

/// What every client says against the context `rdock setup` made for `config`, by client name
/// ([`Client::name`]), with the sandbox (to ask doctor about the same context, say). Prints the
/// table and how long it took. None when the end-to-end tests are skipped here.
pub fn outcomes(config: Config) -> Option<(Configured, BTreeMap<&'static str, ClientResult>)> {
    let start = Instant::now();
    let c = configure(config)?;
    let set_up = start.elapsed();
    let outcomes = c.sb.run_clients(&c.context);
    eprintln!(
        "{config:?}: {} (setup {set_up:.1?}, clients {:.1?})\n{}",
        c.sb.context_endpoint(&c.context).unwrap_or_default(),
        start.elapsed() - set_up,
        table(&outcomes)
    );
    Some((c, outcomes))
}

/// `ssh://remote@127.0.0.1:PORT`: every client gets there.
#[test]
fn a_plain_destination_works_with_every_client() {
    let Some((c, outcomes)) = outcomes(Config::Plain) else {
        return;
    };
    assert_eq!(
        c.sb.context_endpoint(&c.context),
        Some(format!("ssh://{}", c.sb.dest()))
    );
    assert_outcomes(&c, &outcomes, &[]);
}

/// `ssh://remote@dockerbox:PORT`, dockerbox a Host alias (HostName 127.0.0.1). docker-modem hands
/// the URL's host name to ssh2, which looks it up in DNS: ENOTFOUND. paramiko reads HostName from
/// ~/.ssh/config (docker-py looks the host up there), so docker-py works; the CLI, compose and
/// `use_ssh_client` run ssh, which reads the alias.
#[test]
fn a_host_alias_is_unknown_to_dockerode_alone() {
    let Some((c, outcomes)) = outcomes(Config::Alias) else {
        return;
    };
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
}

/// `ssh://remote@target:PORT`, target reached only through `ProxyJump bastion`. dockerode fails
/// at DNS as for any alias; docker-py's paramiko takes HostName and Port from ~/.ssh/config but
/// not ProxyJump (docker-py passes on ProxyCommand alone) and connects straight to the target,
/// which refuses this user. Whatever runs ssh works.
#[test]
fn proxy_jump_needs_a_client_that_runs_ssh() {
    let Some((c, outcomes)) = outcomes(Config::ProxyJump) else {
        return;
    };
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
}
