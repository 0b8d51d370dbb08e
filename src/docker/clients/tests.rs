//! The verdicts of ssh2 and paramiko, from made-up facts.

use super::verdict::use_the_cli;
use super::*;
use crate::ssh::agent::WINDOWS_AGENT_PIPE;
use crate::ssh::destination::FileView;
use crate::sys::platform::Platform;

fn view(hostname: &str, port: u16) -> FileView {
    FileView {
        hostname: hostname.into(),
        port,
        user: "me".into(),
        identity_files: vec!["~/.ssh/id_ed25519".into()],
        identity_file_configured: false,
        proxy_jump: None,
        proxy_command: None,
    }
}

/// A plain destination that every client reaches: 127.0.0.1:2222, key in the agent.
fn plain() -> Facts {
    Facts {
        platform: Platform::Linux,
        context: "box".into(),
        socket: None,
        host: "127.0.0.1".into(),
        user: Some("me".into()),
        port: Some(2222),
        ssh_user: "me".into(),
        ssh_hostname: "127.0.0.1".into(),
        ssh_port: 2222,
        proxy_jump: None,
        proxy_command: None,
        identity_agent: None,
        auth_sock: Some("/tmp/ssh-X/agent.1".into()),
        key_in_agent: Ok(true),
        key_in_paramiko_agent: Ok(true),
        key: "~/.ssh/id_ed25519".into(),
        key_encrypted: true,
        key_in_agent_only: false,
        host_addresses: None,
        ssh_addresses: None,
        paramiko: Paramiko {
            view: view("127.0.0.1", 22),
            addresses: None,
            host_key_known: true,
            missing_identity_files: Vec::new(),
            key_file_usable: false,
        },
    }
}

fn not_found(name: &str) -> Option<Addresses> {
    Some(Err(format!(
        "{name} does not resolve: failed to lookup address information"
    )))
}

fn loopback() -> Option<Addresses> {
    Some(Ok(vec!["127.0.0.1".parse().unwrap()]))
}

#[test]
fn a_plain_destination_with_the_key_in_the_agent_works_for_both() {
    let f = plain();
    assert!(ssh2(&f).works(), "{:?}", ssh2(&f));
    assert!(paramiko(&f).works(), "{:?}", paramiko(&f));
}

#[test]
fn an_alias_fails_for_ssh2_through_dns_and_works_for_paramiko_through_its_host_name() {
    let f = Facts {
        host: "box".into(),
        host_addresses: not_found("box"),
        ssh_addresses: loopback(),
        ..plain()
    };
    let v = ssh2(&f);
    assert_eq!(
        v.problems,
        ["box is an ssh_config alias; ssh2 resolves it through DNS, and box does not resolve: failed to lookup address information"]
    );
    assert_eq!(
        v.fixes,
        ["point dockerode at the real host: DOCKER_HOST=ssh://me@127.0.0.1:2222"]
    );
    assert!(
        paramiko(&f).works(),
        "paramiko reads HostName from ~/.ssh/config"
    );
    // An alias that also resolves, to the same place, is fine for ssh2.
    let f = Facts {
        host_addresses: loopback(),
        ..f
    };
    assert!(ssh2(&f).works());
}

#[test]
fn proxy_jump_fails_for_ssh2_and_paramiko_with_the_way_out() {
    let f = Facts {
        host: "target".into(),
        proxy_jump: Some("bastion".into()),
        ..plain()
    };
    let v = ssh2(&f);
    assert_eq!(
        v.problems,
        ["ProxyJump bastion is not supported: ssh2 connects to target directly"]
    );
    assert_eq!(v.fixes, [use_the_cli("box")]);
    let unresolved = Facts {
        host_addresses: not_found("target"),
        ..f.clone()
    };
    assert_eq!(
        ssh2(&unresolved).problems,
        ["ProxyJump bastion is not supported: ssh2 connects to target directly, a name that does not resolve through DNS"]
    );
    let v = paramiko(&f);
    assert_eq!(
        v.problems,
        ["ProxyJump bastion is not supported by paramiko: it connects to 127.0.0.1 directly"]
    );
    assert!(v.fixes[0].contains("use_ssh_client=True"), "{v:?}");
    // A ProxyCommand in ~/.ssh/config is one paramiko runs.
    let mut f = Facts {
        proxy_jump: None,
        proxy_command: Some("ssh -W %h:%p bastion".into()),
        ..f
    };
    f.paramiko.view.proxy_command = f.proxy_command.clone();
    assert!(paramiko(&f).works());
    assert!(!ssh2(&f).works());
}

#[test]
fn the_key_must_be_in_the_agent_at_ssh_auth_sock_unless_paramiko_can_read_the_file() {
    let f = Facts {
        key_in_agent: Ok(false),
        key_in_paramiko_agent: Ok(false),
        identity_agent: Some(("/home/me/.1password/agent.sock".into(), Ok(true))),
        ..plain()
    };
    let v = ssh2(&f);
    assert_eq!(
        v.problems,
        ["the key must be in the agent at SSH_AUTH_SOCK, and ~/.ssh/id_ed25519 is not (ssh2 ignores IdentityAgent /home/me/.1password/agent.sock)"]
    );
    // The agent IdentityAgent names holds it: point the client there.
    assert_eq!(
        v.fixes,
        ["export SSH_AUTH_SOCK=/home/me/.1password/agent.sock (IdentityAgent, which holds the key) where the client runs"]
    );
    let lost = Facts {
        identity_agent: None,
        ..f.clone()
    };
    assert_eq!(ssh2(&lost).fixes, ["ssh-add ~/.ssh/id_ed25519"]);
    let v = paramiko(&f);
    assert!(v.problems[0].contains("has a passphrase"), "{v:?}");
    let mut f = Facts {
        key_encrypted: false,
        ..f
    };
    f.paramiko.key_file_usable = true;
    assert!(
        paramiko(&f).works(),
        "an unencrypted ~/.ssh/id_ed25519 is read"
    );
    let f = Facts {
        auth_sock: None,
        ..plain()
    };
    let v = ssh2(&f);
    assert_eq!(
        v.problems,
        ["SSH_AUTH_SOCK is not set, and ssh2 finds keys only through it"]
    );
    // A fix that works when typed: ssh-add alone would find no agent.
    assert_eq!(
        v.fixes,
        ["eval \"$(ssh-agent -s)\" && ssh-add ~/.ssh/id_ed25519 (in the shell that starts the client)"]
    );
}

#[test]
fn a_key_only_in_1password_s_agent_is_no_file_and_cannot_be_ssh_added() {
    // IdentityFile ~/.ssh/box.pub, the private key in the agent IdentityAgent names, and
    // SSH_AUTH_SOCK naming another agent.
    let f = Facts {
        key: "~/.ssh/box.pub".into(),
        key_encrypted: false,
        key_in_agent_only: true,
        key_in_agent: Ok(false),
        key_in_paramiko_agent: Ok(false),
        identity_agent: Some(("/home/me/.1password/agent.sock".into(), Ok(true))),
        ..plain()
    };
    let v = ssh2(&f);
    assert!(v.problems[0].contains("~/.ssh/box.pub is not"), "{v:?}");
    assert_eq!(
        v.fixes,
        ["export SSH_AUTH_SOCK=/home/me/.1password/agent.sock (IdentityAgent, which holds the key) where the client runs"]
    );
    let v = paramiko(&f);
    assert_eq!(
        v.problems,
        ["the key must be in the agent at SSH_AUTH_SOCK, and ~/.ssh/box.pub is not (paramiko ignores IdentityAgent /home/me/.1password/agent.sock) (~/.ssh/box.pub is a public key: paramiko cannot read the private key from a file)"]
    );
    // With SSH_AUTH_SOCK naming that agent, both get the key from it.
    let f = Facts {
        key_in_agent: Ok(true),
        key_in_paramiko_agent: Ok(true),
        identity_agent: None,
        ..f
    };
    assert!(ssh2(&f).works() && paramiko(&f).works());
}

#[test]
fn paramiko_refuses_a_host_whose_key_is_not_under_its_own_name() {
    let mut f = plain();
    f.paramiko.host_key_known = false;
    let v = paramiko(&f);
    assert_eq!(
        v.problems,
        ["~/.ssh/known_hosts has no key for [127.0.0.1]:2222, and paramiko refuses an unknown host (it reads no other file and no HostKeyAlias)"]
    );
    assert!(ssh2(&f).works(), "ssh2 checks no host key");
}

#[test]
fn a_missing_user_or_port_is_what_ssh2_gets_wrong() {
    let f = Facts {
        user: None,
        port: None,
        ..plain()
    };
    let v = ssh2(&f);
    assert_eq!(
        v.problems,
        [
            "ssh2 connects to port 22, ssh to port 2222",
            "the endpoint names no user, and ssh2 takes none from ssh_config"
        ]
    );
    let mut f = f;
    f.paramiko.view.port = 2222;
    assert!(
        paramiko(&f).works(),
        "paramiko takes the port from ~/.ssh/config"
    );
}

#[test]
fn a_missing_identity_file_in_ssh_config_stops_paramiko_before_the_agent() {
    let mut f = plain();
    f.paramiko.missing_identity_files = vec!["~/.ssh/gone".into()];
    let v = paramiko(&f);
    assert_eq!(
        v.problems,
        ["~/.ssh/config names IdentityFile ~/.ssh/gone, which does not exist, and paramiko stops there (FileNotFoundError) before it asks an agent"]
    );
    assert!(ssh2(&f).works(), "ssh2 reads no IdentityFile");
}

#[test]
fn a_socket_in_the_endpoint_is_one_neither_library_reaches() {
    let f = Facts {
        socket: Some("/run/user/1000/docker.sock".into()),
        ..plain()
    };
    for v in [ssh2(&f), paramiko(&f)] {
        assert_eq!(v.problems.len(), 1, "{v:?}");
        assert!(
            v.problems[0].starts_with("the endpoint names the socket /run/user/1000/docker.sock"),
            "{v:?}"
        );
        // use_ssh_client=True cannot take a socket path: not offered.
        assert!(
            v.fixes.iter().all(|x| !x.contains("use_ssh_client")),
            "{v:?}"
        );
    }
}

#[test]
fn on_windows_paramiko_asks_the_service_and_ssh2_needs_ssh_auth_sock_set_to_its_pipe() {
    // The service holds the key; SSH_AUTH_SOCK is unset, as Windows leaves it.
    let f = Facts {
        platform: Platform::Windows,
        auth_sock: None,
        key_in_agent: Ok(false),
        key_in_paramiko_agent: Ok(true),
        ..plain()
    };
    assert!(paramiko(&f).works(), "{:?}", paramiko(&f));
    let v = ssh2(&f);
    assert_eq!(
        v.fixes,
        [format!(
            "setx SSH_AUTH_SOCK {WINDOWS_AGENT_PIPE}, then start the client from a new terminal"
        )]
    );
    // SSH_AUTH_SOCK=pageant: ssh2 asks Pageant itself.
    let f = Facts {
        auth_sock: Some("pageant".into()),
        ..f
    };
    assert!(ssh2(&f).works(), "{:?}", ssh2(&f));
}

/// An address that is not 127.0.0.1: a name the resolver sends to another machine.
fn elsewhere() -> Option<Addresses> {
    Some(Ok(vec!["10.0.0.9".parse().unwrap()]))
}

#[test]
fn an_alias_the_resolver_sends_to_another_machine_fails_for_ssh2() {
    let f = Facts {
        host: "box".into(),
        host_addresses: elsewhere(),
        ssh_addresses: loopback(),
        ..plain()
    };
    assert_eq!(
        ssh2(&f).problems,
        ["box is an ssh_config alias for 127.0.0.1; ssh2 resolves box through DNS to another address"]
    );
}

#[test]
fn paramiko_fails_where_the_host_name_of_ssh_config_alone_goes_elsewhere_or_nowhere() {
    // ~/.ssh/config alone says box.lan; ssh, with all its files, connects to 127.0.0.1.
    let mut f = Facts {
        ssh_addresses: loopback(),
        ..plain()
    };
    f.paramiko.view.hostname = "box.lan".into();
    f.paramiko.addresses = loopback();
    assert!(paramiko(&f).works(), "the same machine: {:?}", paramiko(&f));
    f.paramiko.addresses = elsewhere();
    assert_eq!(
        paramiko(&f).problems,
        ["paramiko reads ~/.ssh/config alone and connects to box.lan, not 127.0.0.1"]
    );
    f.paramiko.addresses = not_found("box.lan");
    assert_eq!(
        paramiko(&f).problems,
        ["paramiko reads ~/.ssh/config alone and resolves box.lan through DNS: box.lan does not resolve: failed to lookup address information"]
    );
}

#[test]
fn the_way_out_is_the_docker_cli_on_the_same_context() {
    assert_eq!(
        use_the_cli("box"),
        "use the docker CLI or a tool built on it (docker --context box …, compose v2, VS Code's Container Tools): it runs ssh, so ~/.ssh/config applies"
    );
}

#[test]
fn verbose_notes_say_what_each_library_reads_and_where_it_connects() {
    let mut f = plain();
    f.paramiko.view.proxy_command = Some("ssh -W %h:%p bastion".into());
    assert_eq!(
        paramiko(&f).notes,
        ["paramiko reads ~/.ssh/config alone: it connects to 127.0.0.1:2222 through ProxyCommand ssh -W %h:%p bastion"]
    );
    assert_eq!(
        ssh2(&f).notes,
        [
            "ssh2 reads no ssh_config: it connects to the URL's host and port, with the agent at SSH_AUTH_SOCK",
            "ssh2 does not check the host key"
        ]
    );
}

#[test]
fn only_on_windows_is_ssh_auth_sock_pageant_left_to_pageant() {
    // Elsewhere `pageant` is a socket path like any other, and its agent lacks the key.
    let f = Facts {
        auth_sock: Some("pageant".into()),
        key_in_agent: Ok(false),
        ..plain()
    };
    assert_eq!(
        ssh2(&f).problems,
        ["the key must be in the agent at SSH_AUTH_SOCK, and ~/.ssh/id_ed25519 is not"]
    );
}
