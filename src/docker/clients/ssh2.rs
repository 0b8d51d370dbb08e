//! ssh2 (dockerode, through docker-modem): no ssh_config, the resolver, the agent at
//! `SSH_AUTH_SOCK` only, no host key check.

use crate::ssh::agent::WINDOWS_AGENT_PIPE;
use crate::ssh::destination::bracket;
use crate::sys::platform::Platform;

use super::facts::Facts;
use super::verdict::{
    agent_fix, agent_holds, ignored_identity_agent, same_place, socket_problem, use_the_cli,
    Verdict,
};

/// ssh2 (dockerode): the endpoint's host through the resolver, the agent at SSH_AUTH_SOCK only.
pub fn ssh2(f: &Facts) -> Verdict {
    let mut v = Verdict {
        notes: vec![
            "ssh2 reads no ssh_config: it connects to the URL's host and port, with the agent at SSH_AUTH_SOCK".into(),
            "ssh2 does not check the host key".into(),
        ],
        ..Verdict::default()
    };
    let url = format!(
        "ssh://{}@{}:{}",
        f.ssh_user,
        bracket(&f.ssh_hostname),
        f.ssh_port
    );
    if let Some(route) = f.route() {
        // ssh2 goes straight to the URL's host: a name only ssh_config knows does not resolve.
        let unresolved = match &f.host_addresses {
            Some(Err(_)) => ", a name that does not resolve through DNS",
            _ => "",
        };
        v.problem(
            format!(
                "{route} is not supported: ssh2 connects to {} directly{unresolved}",
                f.host
            ),
            use_the_cli(&f.context),
        );
    } else if f.host != f.ssh_hostname {
        match &f.host_addresses {
            Some(Err(why)) => v.problem(
                format!("{} is an ssh_config alias; ssh2 resolves it through DNS, and {why}", f.host),
                format!("point dockerode at the real host: DOCKER_HOST={url}"),
            ),
            _ if !same_place(f.host_addresses.as_ref(), f.ssh_addresses.as_ref()) => v.problem(
                format!("{} is an ssh_config alias for {}; ssh2 resolves {} through DNS to another address", f.host, f.ssh_hostname, f.host),
                format!("point dockerode at the real host: DOCKER_HOST={url}"),
            ),
            _ => {}
        }
    }
    if f.port.unwrap_or(22) != f.ssh_port {
        v.problem(
            format!(
                "ssh2 connects to port {}, ssh to port {}",
                f.port.unwrap_or(22),
                f.ssh_port
            ),
            format!("write the port into the endpoint: DOCKER_HOST={url}"),
        );
    }
    if f.user.is_none() {
        v.problem(
            "the endpoint names no user, and ssh2 takes none from ssh_config",
            format!("write the user into the endpoint: DOCKER_HOST={url}"),
        );
    }
    socket_problem(f, "docker-modem", &mut v);
    ssh2_agent(f, &mut v);
    v
}

/// ssh2 offers the keys of the agent `SSH_AUTH_SOCK` names (`pageant` is Pageant), nothing else.
fn ssh2_agent(f: &Facts, v: &mut Verdict) {
    let ignored = ignored_identity_agent(f, "ssh2");
    match f.auth_sock.as_deref() {
        None if f.platform == Platform::Windows => v.problem(
            "SSH_AUTH_SOCK is not set, and ssh2 finds the Windows ssh-agent service only through it",
            format!("setx SSH_AUTH_SOCK {WINDOWS_AGENT_PIPE}, then start the client from a new terminal"),
        ),
        None => v.problem(
            format!("SSH_AUTH_SOCK is not set, and ssh2 finds keys only through it{ignored}"),
            agent_fix(f),
        ),
        // ssh2 asks Pageant itself; rdock cannot list Pageant's keys.
        Some("pageant") if f.platform == Platform::Windows => {
            v.notes.push("SSH_AUTH_SOCK=pageant: ssh2 asks Pageant, whose keys rdock cannot list".into());
        }
        Some(_) => agent_holds(&f.key_in_agent, "the agent at SSH_AUTH_SOCK", f, &ignored, v),
    }
}
