//! Destination parsing: `[user@]host[:port]`, `ssh://[user@]host[:port]`, `u@[::1]:2222`, or a Host
//! alias, then resolution with `ssh -G`, as ssh itself would resolve it.

use std::fmt;
use std::path::Path;

use anyhow::{bail, Result};

use crate::ssh::command::{Mode, Ssh, Target};
use crate::sys::exec::Exec;

/// A destination as the user typed it, validated. Nothing here has touched ssh yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    pub user: Option<String>,
    /// A host name, an IP address (IPv6 without brackets), or a Host alias.
    pub host: String,
    pub port: Option<u16>,
}

/// Why a destination was refused. Always a usage error (exit 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidDestination(pub String);

/// Why a port was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPort {
    #[error("the port {0:?} is not a number from 1 to 65535")]
    NotANumber(String),
    #[error("the port {0} is not from 1 to 65535")]
    OutOfRange(String),
}

fn refuse<T>(input: &str, why: &str) -> Result<T, InvalidDestination> {
    Err(InvalidDestination(format!(
        "invalid destination {:?}: {why}. Expected [user@]host[:port], ssh://[user@]host[:port] or a Host alias from ~/.ssh/config",
        input
    )))
}

/// Characters a shell would act on. None of them belongs in a user or host name.
const SHELL_META: &str = ";|&$`'\"\\<>(){}*?!#~^,=";

impl Destination {
    pub fn parse(input: &str) -> Result<Self, InvalidDestination> {
        if input.is_empty() {
            return refuse(input, "it is empty");
        }
        if input.starts_with('-') {
            return refuse(
                input,
                "it starts with '-', so ssh would read it as an option",
            );
        }
        if let Some(c) = input.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return refuse(
                input,
                &format!("it contains whitespace or a control character ({c:?})"),
            );
        }
        let rest = match input.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ssh") => {
                if rest.contains('/') {
                    return refuse(input, "an ssh:// URL here takes no path");
                }
                if rest.contains('?') {
                    return refuse(input, "an ssh:// URL here takes no query");
                }
                if rest.contains('#') {
                    return refuse(input, "an ssh:// URL here takes no fragment");
                }
                if let Some((userinfo, _)) = rest.rsplit_once('@') {
                    if userinfo.contains(':') {
                        return refuse(input, "never put a password in the URL; rdock uses keys");
                    }
                }
                rest
            }
            Some((scheme, _)) => {
                return refuse(input, &format!("only ssh:// is supported, not {scheme}://"));
            }
            None => input,
        };
        if let Some(c) = rest.chars().find(|c| SHELL_META.contains(*c) || *c == '/') {
            return refuse(
                input,
                &format!("{c:?} is not allowed (shell metacharacter or path)"),
            );
        }
        let (user, hostport) = match rest.split_once('@') {
            Some((user, hostport)) => (Some(user), hostport),
            None => (None, rest),
        };
        if let Some(user) = user {
            if user.is_empty() {
                return refuse(input, "the user before @ is empty");
            }
            if user.starts_with('-') {
                return refuse(input, "a user may not start with '-'");
            }
            if hostport.contains('@') {
                return refuse(input, "more than one '@'");
            }
            if let Some(c) = user.chars().find(|c| !is_name_char(*c)) {
                return refuse(input, &format!("{c:?} is not allowed in a user name"));
            }
        }
        let (host, port) = split_host_port(input, hostport)?;
        if host.is_empty() {
            return refuse(input, "the host is empty");
        }
        if host.starts_with('-') {
            return refuse(input, "a host may not start with '-'");
        }
        Ok(Destination {
            user: user.map(str::to_string),
            host,
            port,
        })
    }

    /// The host as it appears in a URL or `user@host:port` (IPv6 in brackets).
    pub fn host_for_url(&self) -> String {
        bracket(&self.host)
    }
}

/// Put an IPv6 address in brackets for a URL or a known_hosts `[host]:port` entry.
pub fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '+')
}

fn split_host_port(
    input: &str,
    hostport: &str,
) -> Result<(String, Option<u16>), InvalidDestination> {
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let Some((addr, after)) = inner.split_once(']') else {
            return refuse(input, "an opening '[' has no closing ']'");
        };
        if addr.parse::<std::net::Ipv6Addr>().is_err() {
            return refuse(input, "brackets hold an IPv6 address, and this is not one");
        }
        match after {
            "" => (addr, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (addr, Some(port)),
                None => return refuse(input, "only :port may follow ']'"),
            },
        }
    } else if hostport.matches(':').count() > 1 {
        // A bare IPv6 address, as ssh accepts it; a port needs brackets.
        if hostport.parse::<std::net::Ipv6Addr>().is_err() {
            return refuse(input, "put an IPv6 address in brackets: [::1]:22");
        }
        (hostport, None)
    } else {
        match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.contains(['[', ']']) {
        return refuse(input, "brackets are only for IPv6 addresses");
    }
    if !host.contains(':') {
        if let Some(c) = host.chars().find(|c| !is_name_char(*c)) {
            return refuse(input, &format!("{c:?} is not allowed in a host name"));
        }
    }
    let port = match port {
        None => None,
        Some(p) => Some(parse_port(p).or_else(|why| refuse(input, &why.to_string()))?),
    };
    Ok((host.to_string(), port))
}

fn parse_port(text: &str) -> Result<u16, InvalidPort> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(InvalidPort::NotANumber(text.to_string()));
    }
    match text.parse::<u32>() {
        Ok(n @ 1..=65535) => Ok(n as u16),
        _ => Err(InvalidPort::OutOfRange(text.to_string())),
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host_for_url()),
            None if self.host.contains(':') => write!(f, "{}", self.host_for_url()),
            None => write!(f, "{}", self.host),
        }
    }
}

/// A docker context's ssh endpoint: the destination, and the remote daemon's socket when the URL
/// names one (`ssh://u@h/run/user/1000/docker.sock`, as rootless docker needs; docker CLI 24+).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub dest: Destination,
    pub socket: Option<String>,
}

impl Endpoint {
    pub fn parse(url: &str) -> Result<Self, InvalidDestination> {
        let Some(rest) = url.strip_prefix("ssh://") else {
            return refuse(url, "a docker endpoint rdock checks starts with ssh://");
        };
        let (authority, path) = match rest.find('/') {
            Some(at) => (&rest[..at], Some(&rest[at..])),
            None => (rest, None),
        };
        let dest = Destination::parse(&format!("ssh://{authority}"))?;
        let socket = match path.filter(|p| *p != "/") {
            None => None,
            Some(p) if is_socket_path(p) => Some(p.to_string()),
            Some(_) => {
                return refuse(
                    url,
                    "the socket path may hold only letters, digits and . _ - / and no ..",
                )
            }
        };
        Ok(Endpoint { dest, socket })
    }
}

/// An absolute path of plain characters, with no `..`: safe to hand to the remote's shell.
fn is_socket_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.split('/').any(|part| part == "..")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
}

/// Where the user came from, so rdock can say when the local name was assumed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserSource {
    Destination,
    SshConfig,
    LocalName,
}

/// What `ssh -G` says ssh would really do for a destination.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub dest: Destination,
    pub user: String,
    pub user_source: UserSource,
    /// The HostName ssh would connect to.
    pub hostname: String,
    pub port: u16,
    /// What ssh_config decides about the key, the agent, known hosts and the route, as `ssh -G`
    /// prints it: the identity files ssh tries, in its order (`~/` unexpanded); whether an
    /// `IdentityFile` came from ssh_config (the list differs from `ssh -G -F none`'s);
    /// `IdentitiesOnly yes` (ssh offers only those files, not every key in the agent);
    /// `IdentityAgent` (a socket path, `none` or `SSH_AUTH_SOCK`); the `CertificateFile`s; the
    /// known_hosts files and `HostKeyAlias`; `ProxyJump` and `ProxyCommand` (ssh reaches the host
    /// through them, never directly).
    pub identity_files: Vec<String>,
    pub identity_file_configured: bool,
    pub identities_only: bool,
    pub identity_agent: Option<String>,
    pub certificate_files: Vec<String>,
    pub user_known_hosts: Vec<String>,
    pub global_known_hosts: Vec<String>,
    pub host_key_alias: Option<String>,
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    pub hash_known_hosts: bool,
    pub control_master: Option<String>,
    /// `addkeystoagent` as `ssh -G` prints it (`true`, `false`, `ask`, `confirm …`).
    pub add_keys_to_agent: Option<String>,
    /// The control socket, with ssh's tokens (%C…) expanded.
    pub control_path: Option<String>,
    /// The remote daemon's socket, when the endpoint names one.
    pub socket: Option<String>,
    /// The identity file ssh will offer, as rdock chose it (see `keys::offered_key`): a private
    /// key, or the `.pub` of a key only the agent holds; the probe logs in with it alone. Set by
    /// the destination step.
    pub identity: Option<std::path::PathBuf>,
}

impl Resolved {
    /// The endpoint setup writes into the docker context: always with an explicit user and port
    /// (and the socket path, when there is one).
    pub fn endpoint(&self) -> String {
        format!(
            "ssh://{}@{}:{}{}",
            self.user,
            self.dest.host_for_url(),
            self.port,
            self.socket.as_deref().unwrap_or("")
        )
    }

    /// Does an endpoint reach the same place ssh would for this destination: the same
    /// destination (ssh -G fills in what it leaves out, as it does for docker) and socket?
    pub fn same_endpoint(&self, endpoint: &str) -> bool {
        endpoint == self.endpoint()
            || Endpoint::parse(endpoint).is_ok_and(|e| {
                e.socket == self.socket && e.dest.host == self.dest.host && self.same_user_port(&e)
            })
    }

    /// Does an endpoint log in where ssh would for this destination: the same user, host and
    /// port, whatever daemon socket it names? Its host may be the name given or the HostName ssh
    /// resolved.
    pub fn same_login(&self, endpoint: &str) -> bool {
        Endpoint::parse(endpoint).is_ok_and(|e| {
            (e.dest.host == self.dest.host || e.dest.host == self.hostname)
                && self.same_user_port(&e)
        })
    }

    /// A user or port the endpoint leaves out is the one ssh -G resolved, as for docker.
    fn same_user_port(&self, e: &Endpoint) -> bool {
        e.dest.user.as_deref().is_none_or(|u| u == self.user)
            && e.dest.port.unwrap_or(self.port) == self.port
    }

    /// ssh dials the host itself: no ProxyJump or ProxyCommand stands in between.
    pub fn direct(&self) -> bool {
        self.proxy_jump.is_none() && self.proxy_command.is_none()
    }

    /// `user@host:port` for messages.
    pub fn display(&self) -> String {
        format!("{}@{}", self.user, self.address())
    }

    /// `host:port` for messages, an IPv6 address in brackets.
    pub fn address(&self) -> String {
        format!("{}:{}", bracket(&self.hostname), self.port)
    }

    /// `-p PORT USER@HOST` for an ssh command a person types: on ssh's command line an IPv6
    /// address goes bare (`u@[::1]` would name the host `[::1]`).
    pub fn login_args(&self) -> String {
        format!("-p {} {}@{}", self.port, self.user, self.dest.host)
    }

    /// The name ssh looks up in known_hosts: the HostKeyAlias as it is (ssh adds no port to it),
    /// else `host`, or `[host]:port` when the port is not 22.
    pub fn known_hosts_name(&self) -> String {
        match &self.host_key_alias {
            Some(alias) => alias.clone(),
            None => known_hosts_name(&self.hostname, self.port),
        }
    }

    /// Where ssh connects exactly as the docker CLI will: `-l user -p port -- host`.
    pub fn target(&self) -> Target<'_> {
        Target {
            user: Some(&self.user),
            port: Some(self.port),
            host: &self.dest.host,
        }
    }
}

/// The name a host's key is recorded under in known_hosts: `host`, or `[host]:port` off port 22.
pub fn known_hosts_name(host: &str, port: u16) -> String {
    match port {
        22 => host.to_string(),
        port => format!("[{host}]:{port}"),
    }
}

/// `ssh -G` for a destination, and `ssh -G -F none` to learn what came from ssh_config: the user
/// (when none was given) and the identity files.
pub fn resolve(exec: &Exec, dest: &Destination) -> Result<Resolved> {
    let config = ssh_g(exec, dest, None)?;
    let bare = ssh_g(exec, dest, Some(Path::new("none")))?;
    let user_source = if dest.user.is_some() {
        UserSource::Destination
    } else if get(&bare, "user") == get(&config, "user") {
        UserSource::LocalName
    } else {
        UserSource::SshConfig
    };
    let port = get(&config, "port")
        .and_then(|p| p.parse().ok())
        .unwrap_or(22);
    let list = |key: &str| values(&config, key);
    let identity_files = list("identityfile");
    let bare_identity_files = values(&bare, "identityfile");
    let set = |key: &str| get(&config, key).filter(|v| v != "none");
    let Some(user) = get(&config, "user") else {
        bail!("`ssh -G` did not say which user it would log in as");
    };
    Ok(Resolved {
        dest: dest.clone(),
        user,
        user_source,
        hostname: get(&config, "hostname").unwrap_or_else(|| dest.host.clone()),
        port,
        identity_file_configured: identity_files != bare_identity_files,
        identity_files,
        identities_only: get(&config, "identitiesonly").as_deref() == Some("yes"),
        identity_agent: get(&config, "identityagent"),
        proxy_jump: set("proxyjump"),
        proxy_command: set("proxycommand"),
        certificate_files: list("certificatefile"),
        identity: None,
        user_known_hosts: list("userknownhostsfile"),
        global_known_hosts: list("globalknownhostsfile"),
        host_key_alias: get(&config, "hostkeyalias").filter(|v| v != "none"),
        hash_known_hosts: get(&config, "hashknownhosts").as_deref() == Some("yes"),
        control_master: get(&config, "controlmaster").filter(|v| v != "false" && v != "no"),
        add_keys_to_agent: get(&config, "addkeystoagent"),
        control_path: get(&config, "controlpath").filter(|v| v != "none"),
        socket: None,
    })
}

/// What one ssh_config file alone says about a host name: `ssh -G -F FILE HOST`. A program that
/// reads only ~/.ssh/config (paramiko, for docker-py) sees this, not what /etc/ssh/ssh_config adds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileView {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    /// The identity files, `~/` unexpanded: ssh's defaults unless the file names its own.
    pub identity_files: Vec<String>,
    /// The file names identity files of its own for the host (the list differs from
    /// `ssh -G -F none`'s defaults).
    pub identity_file_configured: bool,
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
}

/// [`FileView`] of `host` in `file` (`none`: no file at all).
pub fn resolve_in_file(exec: &Exec, host: &str, file: &Path) -> Result<FileView> {
    let dest = Destination {
        user: None,
        host: host.to_string(),
        port: None,
    };
    let config = ssh_g(exec, &dest, Some(file))?;
    let bare = ssh_g(exec, &dest, Some(Path::new("none")))?;
    let identity_files = values(&config, "identityfile");
    let set = |key: &str| get(&config, key).filter(|v| v != "none");
    Ok(FileView {
        hostname: get(&config, "hostname").unwrap_or_else(|| host.to_string()),
        port: get(&config, "port")
            .and_then(|p| p.parse().ok())
            .unwrap_or(22),
        user: get(&config, "user").unwrap_or_default(),
        identity_file_configured: identity_files != values(&bare, "identityfile"),
        identity_files,
        proxy_jump: set("proxyjump"),
        proxy_command: set("proxycommand"),
    })
}

/// `ssh -G` for a destination, with ssh's own configuration files, or with `-F file`.
fn ssh_g(exec: &Exec, dest: &Destination, file: Option<&Path>) -> Result<Vec<(String, String)>> {
    let target = Target {
        user: dest.user.as_deref(),
        port: dest.port,
        host: &dest.host,
    };
    let out = exec.run(&Ssh::new(target, Mode::Resolve(file)).cmd())?;
    if !out.success() {
        bail!(
            "`ssh -G` could not resolve {}: {}",
            dest,
            out.last_error_line()
        );
    }
    Ok(parse_ssh_g(&out.stdout))
}

/// `ssh -G` prints one `key value` per line, keys in lower case.
pub fn parse_ssh_g(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let (k, v) = line.split_once(' ')?;
            Some((k.to_ascii_lowercase(), v.trim().to_string()))
        })
        .collect()
}

/// Every value of a keyword ssh -G may print more than once, or with several words.
fn values(config: &[(String, String)], key: &str) -> Vec<String> {
    config
        .iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| v.split_whitespace().map(str::to_string))
        .filter(|v| v != "none")
        .collect()
}

fn get(config: &[(String, String)], key: &str) -> Option<String> {
    config
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

#[cfg(test)]
pub(crate) mod tests;
