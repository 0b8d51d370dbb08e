//! docker-py's paramiko: ~/.ssh/config alone, ~/.ssh/known_hosts alone, an unknown host refused.

use crate::ssh::destination::bracket;
use crate::sys::platform::Platform;

use super::facts::Facts;
use super::verdict::{
    agent_fix, agent_holds, ignored_identity_agent, same_place, socket_problem, use_the_cli,
    Verdict,
};

/// docker-py's paramiko: ~/.ssh/config alone, ~/.ssh/known_hosts alone, refuse an unknown host.
pub fn paramiko(f: &Facts) -> Verdict {
    let p = &f.paramiko;
    let mut v = Verdict {
        notes: vec![format!(
            "paramiko reads ~/.ssh/config alone: it connects to {}:{}{}",
            bracket(&p.view.hostname),
            p.port(f),
            p.view
                .proxy_command
                .as_ref()
                .map(|c| format!(" through ProxyCommand {c}"))
                .unwrap_or_default()
        )],
        ..Verdict::default()
    };
    // docker-py's use_ssh_client=True runs ssh, but splits a URL with a socket path wrongly.
    let ssh_client = match &f.socket {
        None => "use the docker CLI, or docker-py with use_ssh_client=True (docker.DockerClient(base_url=…, use_ssh_client=True)), which runs ssh".to_string(),
        Some(_) => use_the_cli(&f.context),
    };
    if let Some(jump) = &f.proxy_jump {
        if p.view.proxy_command.is_none() {
            v.problem(
                format!(
                    "ProxyJump {jump} is not supported by paramiko: it connects to {} directly",
                    p.view.hostname
                ),
                &ssh_client,
            );
        }
    } else if f.proxy_command.is_some() && p.view.proxy_command.is_none() {
        v.problem(
            "the ProxyCommand is not in ~/.ssh/config, the one file paramiko reads: it connects directly",
            &ssh_client,
        );
    }
    if f.route().is_none() && p.view.hostname != f.ssh_hostname {
        match &p.addresses {
            Some(Err(why)) => v.problem(
                format!(
                    "paramiko reads ~/.ssh/config alone and resolves {} through DNS: {why}",
                    p.view.hostname
                ),
                &ssh_client,
            ),
            _ if !same_place(p.addresses.as_ref(), f.ssh_addresses.as_ref()) => v.problem(
                format!(
                    "paramiko reads ~/.ssh/config alone and connects to {}, not {}",
                    p.view.hostname, f.ssh_hostname
                ),
                &ssh_client,
            ),
            _ => {}
        }
    }
    if p.port(f) != f.ssh_port {
        v.problem(
            format!(
                "paramiko connects to port {}, ssh to port {}",
                p.port(f),
                f.ssh_port
            ),
            &ssh_client,
        );
    }
    if !p.host_key_known {
        let name = p.known_hosts_name(f);
        v.problem(
            format!("~/.ssh/known_hosts has no key for {name}, and paramiko refuses an unknown host (it reads no other file and no HostKeyAlias)"),
            format!("record the host key under {name} in ~/.ssh/known_hosts (ssh-keygen -F shows the entry ssh uses), or {ssh_client}"),
        );
    }
    socket_problem(f, "docker-py", &mut v);
    if let Some(missing) = p.missing_identity_files.first() {
        v.problem(
            format!("~/.ssh/config names IdentityFile {missing}, which does not exist, and paramiko stops there (FileNotFoundError) before it asks an agent"),
            format!("take IdentityFile {missing} out of ~/.ssh/config for this host, or {ssh_client}"),
        );
    } else if !p.key_file_usable {
        paramiko_agent(f, &mut v);
    }
    v
}

/// paramiko's agent: `SSH_AUTH_SOCK`'s; on Windows Pageant or the ssh-agent service, whatever
/// `SSH_AUTH_SOCK` says.
fn paramiko_agent(f: &Facts, v: &mut Verdict) {
    let mut agent = Verdict::default();
    let ignored = ignored_identity_agent(f, "paramiko");
    match (f.platform, f.auth_sock.as_deref()) {
        (Platform::Windows, _) => agent_holds(
            &f.key_in_paramiko_agent,
            "the Windows ssh-agent service (paramiko asks it, or a running Pageant)",
            f,
            "",
            &mut agent,
        ),
        (_, None) => agent.problem(
            format!(
                "SSH_AUTH_SOCK is not set, and paramiko finds an agent only through it{ignored}"
            ),
            agent_fix(f),
        ),
        (_, Some(_)) => agent_holds(
            &f.key_in_paramiko_agent,
            "the agent at SSH_AUTH_SOCK",
            f,
            &ignored,
            &mut agent,
        ),
    }
    for (what, fix) in agent.problems.into_iter().zip(agent.fixes) {
        let what = if f.key_in_agent_only {
            format!(
                "{what} ({} is a public key: paramiko cannot read the private key from a file)",
                f.key
            )
        } else if f.key_encrypted {
            format!(
                "{what} ({} has a passphrase, which paramiko cannot ask for)",
                f.key
            )
        } else {
            what
        };
        v.problem(what, fix);
    }
}
