//! Docker contexts: names, the list, the current one, and the commands that create, update, use
//! and remove them. The endpoint is always `ssh://user@host:port`, with an explicit user and port.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::ssh::destination::Destination;
use crate::sys::exec::{Cmd, Exec};

/// What `docker context create` gets as its description, so `rdock list` can tell its own.
pub const DESCRIPTION: &str = "managed by rdock";

/// docker's rule for context names: `^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$`.
pub fn follows_docker_rule(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c))
}

/// A name rdock may create: docker's rule, and not `default`, which is docker's own.
pub fn validate_name(name: &str) -> Result<(), String> {
    if !follows_docker_rule(name) {
        return Err(format!(
            "invalid context name {name:?}: docker needs ^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$; pick another with --name"
        ));
    }
    if name == "default" {
        return Err(
            "the context name \"default\" is docker's own; pick another with --name".into(),
        );
    }
    Ok(())
}

/// The docker endpoint of a context, or None when there is no such context. From the one
/// `docker context ls` (doctor --all asks it once for every context).
pub fn endpoint_of(exec: &Exec, name: &str) -> Result<Option<String>> {
    Ok(list(exec)?
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.endpoint))
}

/// One docker context, as `docker context ls` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ContextInfo {
    pub name: String,
    pub endpoint: String,
    pub current: bool,
    pub description: String,
}

impl ContextInfo {
    pub fn is_ssh(&self) -> bool {
        self.endpoint.starts_with("ssh://")
    }
}

/// `docker` as configured, without DOCKER_HOST or DOCKER_CONTEXT: those override the current
/// context, and the environment check reports them on their own.
fn docker_configured() -> Cmd {
    Cmd::new("docker")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
}

/// `docker context ls` as [`list`] runs it.
pub fn list_cmd() -> Cmd {
    docker_configured().args(["context", "ls", "--format", "{{json .}}"])
}

/// `docker context show` as [`current`] runs it.
pub fn show_cmd() -> Cmd {
    docker_configured().args(["context", "show"])
}

/// Every docker context (`docker context ls --format '{{json .}}'`, one object a line).
pub fn list(exec: &Exec) -> Result<Vec<ContextInfo>> {
    let out = exec.run(&list_cmd())?;
    if !out.success() {
        bail!("docker context ls failed: {}", out.last_error_line());
    }
    Ok(parse_list(&out.stdout))
}

pub fn parse_list(text: &str) -> Vec<ContextInfo> {
    text.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|v| {
            let field = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
            ContextInfo {
                name: field("Name"),
                endpoint: field("DockerEndpoint"),
                current: v.get("Current").and_then(|x| x.as_bool()).unwrap_or(false),
                description: field("Description"),
            }
        })
        .filter(|c| !c.name.is_empty())
        .collect()
}

/// The context docker uses now (`docker context show`).
pub fn current(exec: &Exec) -> Result<String> {
    let out = exec.run(&show_cmd())?;
    if !out.success() {
        bail!("docker context show failed: {}", out.last_error_line());
    }
    Ok(out.stdout.trim().to_string())
}

/// The variable that overrides context `name`, if any, from an environment lookup.
pub fn env_override(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(&'static str, String)> {
    let set = |var: &str| env(var).filter(|v| !v.is_empty());
    if let Some(host) = set("DOCKER_HOST") {
        return Some(("DOCKER_HOST", host));
    }
    set("DOCKER_CONTEXT")
        .filter(|ctx| ctx != name)
        .map(|ctx| ("DOCKER_CONTEXT", ctx))
}

/// `docker --version`: the CLI's own version, asked of no daemon.
pub fn version_cmd() -> Cmd {
    Cmd::new("docker").arg("--version")
}

/// `docker context create NAME` (or `update`, for a context that exists) with rdock's
/// description and the endpoint.
pub fn create_cmd(name: &str, endpoint: &str, update: bool) -> Cmd {
    let action = if update { "update" } else { "create" };
    Cmd::new("docker")
        .args(["context", action, "--description", DESCRIPTION, "--docker"])
        .arg(format!("host={endpoint}"))
        .arg("--")
        .arg(name)
        .changes()
}

/// `docker context use NAME`.
pub fn use_cmd(name: &str) -> Cmd {
    Cmd::new("docker")
        .args(["context", "use", "--"])
        .arg(name)
        .changes()
}

/// `docker context rm NAME`.
pub fn rm_cmd(name: &str) -> Cmd {
    Cmd::new("docker")
        .args(["context", "rm", "--"])
        .arg(name)
        .changes()
}

/// `docker --context NAME version`, for the server's version alone.
pub fn server_version_cmd(name: &str, timeout: Duration) -> Cmd {
    Cmd::new("docker")
        .arg("--context")
        .arg(name)
        .args(["version", "--format", "{{.Server.Version}}"])
        .timeout(timeout)
}

/// A docker context name derived from the destination: the host (and the port when one was
/// given and is not 22), with anything docker does not allow turned into '-'.
pub fn default_context_name(dest: &Destination) -> String {
    let mut name: String = dest
        .host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if let Some(port) = dest.port.filter(|p| *p != 22) {
        name.push_str(&format!("-{port}"));
    }
    // "a", "0" or "default" are hosts, but not names docker (or rdock) accepts.
    if validate_name(&name).is_err() {
        name.insert_str(0, "ssh-");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Destination {
        Destination::parse(input).unwrap()
    }

    #[test]
    fn context_names_follow_docker_rules() {
        assert_eq!(
            default_context_name(&ok("u@127.0.0.1:2222")),
            "127.0.0.1-2222"
        );
        assert_eq!(default_context_name(&ok("box")), "box");
        assert_eq!(default_context_name(&ok("u@[::1]:22")), "ssh---1");
        assert_eq!(default_context_name(&ok("box:22")), "box");
        assert_eq!(default_context_name(&ok("a")), "ssh-a");
        assert_eq!(default_context_name(&ok("u@default")), "ssh-default");
    }

    #[test]
    fn docker_host_or_another_context_in_the_environment_overrides() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(env_override("box", &env(&[])), None);
        assert_eq!(
            env_override("box", &env(&[("DOCKER_CONTEXT", "box")])),
            None
        );
        assert_eq!(
            env_override("box", &env(&[("DOCKER_CONTEXT", "other")])),
            Some(("DOCKER_CONTEXT", "other".into()))
        );
        assert_eq!(
            env_override("box", &env(&[("DOCKER_HOST", "tcp://x:2375")])),
            Some(("DOCKER_HOST", "tcp://x:2375".into()))
        );
        assert_eq!(env_override("box", &env(&[("DOCKER_HOST", "")])), None);
    }

    #[test]
    fn context_list_is_read_from_docker_json_lines() {
        let text = r#"{"Current":true,"Description":"Current DOCKER_HOST based configuration","DockerEndpoint":"unix:///var/run/docker.sock","Error":"","Name":"default"}
{"Current":false,"Description":"managed by rdock","DockerEndpoint":"ssh://u@h:22","Error":"","Name":"h"}
"#;
        let list = parse_list(text);
        assert_eq!(list.len(), 2);
        assert!(list[0].current && !list[0].is_ssh());
        assert_eq!(list[1].endpoint, "ssh://u@h:22");
        assert!(list[1].is_ssh() && list[1].description == DESCRIPTION);
    }

    #[test]
    fn context_names_follow_docker_rule() {
        for good in ["box", "127.0.0.1-2222", "a_b+c.d-e", "A1"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "-x", "../x", "default", "a b", "a/b", ".hidden", "x;y", "é1",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
