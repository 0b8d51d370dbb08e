//! The docker context: `docker context create NAME --docker host=ssh://user@host:port`, always with
//! an explicit user and port, then `docker context use NAME`, then a real `docker version`.

use std::time::Duration;

use anyhow::{bail, Result};

use crate::exec::{quote, Cmd};
use crate::session::Session;
use crate::step::{Finding, Step};

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
pub fn endpoint_of(s: &Session, name: &str) -> Result<Option<String>> {
    Ok(list(s)?
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
pub fn list(s: &Session) -> Result<Vec<ContextInfo>> {
    let out = s.exec.run(&list_cmd())?;
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
pub fn current(s: &Session) -> Result<String> {
    let out = s.exec.run(&show_cmd())?;
    if !out.success() {
        bail!("docker context show failed: {}", out.last_error_line());
    }
    Ok(out.stdout.trim().to_string())
}

fn endpoint(s: &Session) -> Option<String> {
    s.resolved.as_ref().map(|r| r.endpoint())
}

/// Step 8: the context exists and points where setup would point it.
pub struct ContextStep {
    pub name: String,
    pub force: bool,
    existing: Option<String>,
}

impl ContextStep {
    pub fn new(name: String, force: bool) -> Self {
        ContextStep {
            name,
            force,
            existing: None,
        }
    }
}

impl Step for ContextStep {
    fn id(&self) -> String {
        "context".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["destination", "tools"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "context";
        let Some(want) = endpoint(s) else {
            return Finding::skip(id, "skipped: no destination");
        };
        let name = &self.name;
        let create = format!(
            "docker context create {} --docker {}",
            quote(name),
            quote(&format!("host={want}"))
        );
        self.existing = None;
        match endpoint_of(s, name) {
            Err(e) => Finding::fail(
                id,
                format!("{e:#}"),
                "check that the docker CLI works: docker context ls",
            ),
            Ok(None) => Finding::fail(id, format!("no docker context {name}"), create).fixable(),
            Ok(Some(have)) if have == want => Finding::ok(id, format!("context {name} → {want}")),
            Ok(Some(have)) => {
                self.existing = Some(have.clone());
                let f = Finding::fail(
                    id,
                    format!("context {name} already points to {have}, not {want}"),
                    format!(
                        "rerun with --force to update it (docker context update {} --docker {}), or pick another name with --name",
                        quote(name),
                        quote(&format!("host={want}"))
                    ),
                );
                if self.force {
                    f.fixable()
                } else {
                    f
                }
            }
        }
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let Some(want) = endpoint(s) else {
            bail!("no destination");
        };
        let host = format!("host={want}");
        let (verb, action) = match &self.existing {
            None => ("created", "create"),
            Some(_) => ("updated", "update"),
        };
        let cmd = Cmd::new("docker")
            .args([
                "context",
                action,
                "--description",
                DESCRIPTION,
                "--docker",
                &host,
                "--",
            ])
            .arg(&self.name);
        let out = s.exec.run(&cmd.changes())?;
        if out.skipped {
            return Ok(format!("would {action} context {} → {want}", self.name));
        }
        if !out.success() {
            bail!("docker context failed: {}", out.last_error_line());
        }
        Ok(format!("{verb} context {} → {want}", self.name))
    }
}

/// Step 9: `docker context use NAME`, unless --no-use.
pub struct UseStep {
    pub name: String,
    pub no_use: bool,
}

impl Step for UseStep {
    fn id(&self) -> String {
        "use".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["context"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "use";
        match current(s) {
            Err(e) => Finding::fail(
                id,
                format!("{e:#}"),
                "check that the docker CLI works: docker context ls",
            ),
            Ok(cur) if cur == self.name => {
                Finding::ok(id, format!("{} is the current context", self.name))
            }
            Ok(cur) if self.no_use => Finding::skip(
                id,
                format!(
                    "left {cur} as the current context (--no-use); use docker --context {}",
                    self.name
                ),
            ),
            Ok(cur) => Finding::warn(
                id,
                format!("the current context is {cur}, not {}", self.name),
                format!("docker context use {}", quote(&self.name)),
            )
            .fixable(),
        }
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let out = s.exec.run(
            &Cmd::new("docker")
                .args(["context", "use", "--"])
                .arg(&self.name)
                .changes(),
        )?;
        if out.skipped {
            return Ok(format!("would switch to context {}", self.name));
        }
        if !out.success() {
            bail!("docker context use failed: {}", out.last_error_line());
        }
        Ok(format!("switched to context {}", self.name))
    }
}

/// DOCKER_HOST or DOCKER_CONTEXT in the environment wins over the current context, so docker
/// commands would not reach this context at all.
pub struct EnvStep {
    pub name: String,
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

impl Step for EnvStep {
    fn id(&self) -> String {
        "environment".into()
    }

    fn blocking(&self) -> bool {
        false
    }

    fn check(&mut self, _: &mut Session) -> Finding {
        let id = "environment";
        match env_override(&self.name, &|v| std::env::var(v).ok()) {
            Some((var, value)) => Finding::fail(
                id,
                format!(
                    "{var}={value} is set, so docker ignores context {}",
                    self.name
                ),
                format!("unset {var}  (and remove it from your shell profile)"),
            ),
            None => Finding::ok(
                id,
                "neither DOCKER_HOST nor DOCKER_CONTEXT overrides the context",
            ),
        }
    }

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("rdock cannot change your shell's environment")
    }
}

/// Step 10: a real `docker --context NAME version`, through ssh, as every docker command will go.
pub struct VerifyStep {
    pub name: String,
}

impl Step for VerifyStep {
    fn id(&self) -> String {
        "verify".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["context", "remote-daemon", "identity"]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "verify";
        let cmd = Cmd::new("docker")
            .arg("--context")
            .arg(&self.name)
            .args(["version", "--format", "{{.Server.Version}}"])
            .timeout(Duration::from_secs(60));
        let out =
            s.ui.spin(&format!("docker --context {} version", self.name), || {
                s.exec.run(&cmd)
            });
        let again = format!(
            "docker --context {} version shows the whole error; rdock doctor {0} diagnoses it",
            quote(&self.name)
        );
        match out {
            Ok(out) if out.success() => Finding::ok(
                id,
                format!(
                    "docker --context {} version: server {}",
                    self.name,
                    out.stdout.trim()
                ),
            ),
            Ok(out) => Finding::fail(
                id,
                format!(
                    "docker --context {} version failed: {}",
                    self.name,
                    out.last_error_line()
                ),
                again,
            ),
            Err(e) => Finding::fail(id, format!("{e:#}"), again),
        }
    }

    fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
        bail!("nothing to fix here: the earlier steps decide")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
