//! The clients' facts: what ssh2 (dockerode) and paramiko (docker-py) would meet for the
//! context's endpoint: the agent each asks, known_hosts, ~/.ssh/config as paramiko reads it, and
//! the system resolver. Gathered once per run, when the key check has found the key.

use std::path::Path;

use crate::docker;
use crate::docker::clients::{AgentError, Facts, Holds, Paramiko, PARAMIKO_KEY_NAMES};
use crate::ssh::agent::{
    agent_keys, expand_identity_agent, AgentFacts, AgentTarget, WINDOWS_AGENT_PIPE,
};
use crate::ssh::destination::{known_hosts_name, resolve_in_file, Endpoint, Resolved};
use crate::ssh::keys;
use crate::ssh::known_hosts::{lookup_in, Trust};
use crate::sys::net;
use crate::sys::platform::Platform;

use super::super::Session;
use super::Unavailable;

/// Does the agent of this target hold the key? `ssh-add -L` (memoized: the identity check asked
/// the same).
fn holds(s: &Session, target: AgentTarget, blob: &str) -> Holds {
    let facts = AgentFacts {
        identity_agent: match &target {
            AgentTarget::Socket(sock) => Some(sock.clone()),
            _ => None,
        },
        pageant_pipe: None,
        ..AgentFacts::gather(&s.env, None)
    };
    agent_keys(&s.exec, &facts)
        .map(|keys| keys::holds(&keys, blob))
        .map_err(|e| AgentError(format!("{e:#}")))
}

/// Gather what ssh2 and paramiko would meet, for the context's endpoint (or, before the context
/// exists, the endpoint setup would write): the facts phase's work for the clients.
pub(super) fn gather(s: &Session, context: &str) -> Result<Facts, Unavailable> {
    let (Some(r), Some(key)) = (&s.resolved, &s.key) else {
        return Err(Unavailable("no destination or key".into()));
    };
    let url = docker::endpoint_of(&s.env, context)
        .ok()
        .flatten()
        .filter(|url| r.same_login(url))
        .unwrap_or_else(|| r.endpoint());
    let endpoint = Endpoint::parse(&url).map_err(|e| Unavailable(e.to_string()))?;
    let dest = endpoint.dest;
    let platform = s.env.platform;
    let auth_sock = s.env.var("SSH_AUTH_SOCK");
    let identity_agent = r
        .identity_agent
        .as_deref()
        .and_then(|a| expand_identity_agent(a, &s.env))
        .filter(|a| a != "none" && Some(a) != auth_sock.as_ref())
        .map(|a| {
            let held = holds(s, AgentTarget::Socket(a.clone()), &key.blob);
            (a, held)
        });
    let key_in_agent = match &auth_sock {
        Some(_) => holds(s, AgentTarget::Env, &key.blob),
        None => Ok(false),
    };
    // paramiko on Windows asks the ssh-agent service (or Pageant), whatever SSH_AUTH_SOCK says.
    let key_in_paramiko_agent = match platform {
        Platform::Windows => holds(s, AgentTarget::Socket(WINDOWS_AGENT_PIPE.into()), &key.blob),
        _ => key_in_agent.clone(),
    };
    let paramiko = paramiko_view(
        s,
        r,
        &dest.host,
        dest.port,
        key.private.as_deref(),
        key.encrypted,
    )?;
    // The resolver is asked only what a verdict reads: where there is no jump host or command,
    // an alias's own address, and ssh's, to compare.
    let aliased = dest.host != r.hostname;
    let host_addresses = aliased.then(|| net::resolve(&dest.host));
    let compare = r.direct() && (aliased || paramiko.view.hostname != r.hostname);
    let ssh_addresses = compare.then(|| net::resolve(&r.hostname));
    Ok(Facts {
        platform,
        context: context.to_string(),
        host_addresses,
        ssh_addresses,
        host: dest.host,
        user: dest.user,
        port: dest.port,
        socket: endpoint.socket,
        ssh_user: r.user.clone(),
        ssh_hostname: r.hostname.clone(),
        ssh_port: r.port,
        proxy_jump: r.proxy_jump.clone(),
        proxy_command: r.proxy_command.clone(),
        identity_agent,
        auth_sock,
        key_in_agent,
        key_in_paramiko_agent,
        key: s.env.tilde(&key.identity),
        key_encrypted: key.encrypted,
        key_in_agent_only: key.private.is_none(),
        paramiko,
    })
}

/// paramiko's view: ~/.ssh/config alone (`ssh -G -F ~/.ssh/config HOST`), ~/.ssh/known_hosts
/// alone, and the key files it reads by itself.
fn paramiko_view(
    s: &Session,
    r: &Resolved,
    host: &str,
    port: Option<u16>,
    key: Option<&Path>,
    encrypted: bool,
) -> Result<Paramiko, Unavailable> {
    let config = s.env.ssh_config().filter(|p| p.is_file());
    let none = Path::new("none");
    let view = resolve_in_file(&s.exec, host, config.as_deref().unwrap_or(none))
        .map_err(Unavailable::from)?;
    let name = known_hosts_name(&view.hostname, port.unwrap_or(view.port));
    let known_hosts = s.env.expand("~/.ssh/known_hosts");
    let host_key_known = matches!(
        lookup_in(&s.exec, &known_hosts, &name),
        Ok((Some(Trust::Key), false))
    );
    // docker-py hands paramiko the IdentityFiles ~/.ssh/config names, when it names any.
    let configured: Vec<&String> = if view.identity_file_configured {
        view.identity_files.iter().collect()
    } else {
        Vec::new()
    };
    let missing_identity_files = configured
        .iter()
        .filter(|f| !s.env.expand(f).exists())
        .map(|f| f.to_string())
        .collect();
    // A key whose private half is only in an agent is no file paramiko can read.
    let read_by_itself = PARAMIKO_KEY_NAMES
        .iter()
        .any(|n| Some(s.env.expand(&format!("~/.ssh/{n}")).as_path()) == key);
    let named = configured
        .iter()
        .any(|f| Some(s.env.expand(f).as_path()) == key);
    let addresses =
        (r.direct() && view.hostname != r.hostname).then(|| net::resolve(&view.hostname));
    Ok(Paramiko {
        view,
        addresses,
        host_key_known,
        missing_identity_files,
        key_file_usable: key.is_some() && !encrypted && (read_by_itself || named),
    })
}
