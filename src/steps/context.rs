//! The docker context: `docker context create NAME --docker host=ssh://user@host:port`, always with
//! an explicit user and port, then `docker context use NAME`, then a real `docker version`.

use anyhow::{bail, Result};

use crate::docker;
use crate::sys::exec::quote;

use super::facts::Unavailable;
use super::{Finding, Kind, Outcome, Session, Step, Want};

/// The endpoint setup writes: from what ssh -G said.
fn endpoint(s: &Session) -> Option<String> {
    s.resolved.as_ref().map(|r| r.endpoint())
}

/// The context exists and points where setup would point it.
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
    fn kind(&self) -> Kind {
        Kind::Context
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "context";
        let Some(want) = endpoint(s) else {
            return Finding::skip(id, "skipped: no destination");
        };
        let name = &self.name;
        let socket = s.resolved.as_ref().and_then(|r| r.socket.clone());
        // The CLI's version is the tools step's fact, read when it ran.
        if let (Some(socket), Some(v)) = (socket, super::tools::docker_version(s)) {
            if v < docker::SOCKET_PATH_FROM {
                return Finding::fail(
                    id,
                    format!(
                        "context {name} names the socket {socket}, and docker CLI {} cannot use a socket path in an ssh:// endpoint",
                        docker::show_version(v)
                    ),
                    format!(
                        "upgrade the docker CLI to {} or later",
                        docker::show_version(docker::SOCKET_PATH_FROM)
                    ),
                );
            }
        }
        let create = format!(
            "docker context create {} --docker {}",
            quote(name),
            quote(&format!("host={want}"))
        );
        self.existing = None;
        match docker::endpoint_of(&s.env, name) {
            Err(e) => Finding::fail(
                id,
                format!("{e:#}"),
                "check docker's context store (DOCKER_CONFIG, or ~/.docker): docker context ls reads the same files",
            ),
            Ok(None) => Finding::fail(id, format!("no docker context {name}"), create).fixable(),
            Ok(Some(have)) if s.resolved.as_ref().is_some_and(|r| r.same_endpoint(&have)) => {
                Finding::ok(id, format!("context {name} → {have}"))
            }
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

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(want) = endpoint(s) else {
            bail!("no destination");
        };
        let update = self.existing.is_some();
        let out = s.exec.run(&docker::create_cmd(&self.name, &want, update))?;
        if !out.success() {
            bail!("docker context failed: {}", out.last_error_line());
        }
        let verb = if update { "updated" } else { "created" };
        Ok(Outcome::Done(format!(
            "{verb} context {} → {want}",
            self.name
        )))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        let Some(want) = endpoint(s) else {
            return "would create the context".into();
        };
        let update = self.existing.is_some();
        format!(
            "would {} context {} → {want}\nwould run: {}",
            if update { "update" } else { "create" },
            self.name,
            docker::create_cmd(&self.name, &want, update).display()
        )
    }
}

/// `docker context use NAME`, unless --no-use.
pub struct UseStep {
    pub name: String,
    pub no_use: bool,
    /// Doctor runs in a VS Code workspace folder that pins this context: that it is not the
    /// current one is then as intended.
    pub pinned_in: Option<std::path::PathBuf>,
}

impl Step for UseStep {
    fn kind(&self) -> Kind {
        Kind::Use
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "use";
        let pinned = self.pinned_in.as_deref().map(|dir| s.env.tilde(dir));
        match docker::configured_current(&s.env) {
            Err(e) => Finding::fail(
                id,
                format!("{e:#}"),
                "check docker's context store (DOCKER_CONFIG, or ~/.docker): docker context ls reads the same files",
            ),
            Ok(cur) if cur == self.name => {
                Finding::ok(id, format!("{} is the current context", self.name))
            }
            Ok(cur) if pinned.is_some() => Finding::ok(
                id,
                format!(
                    "{} is pinned for the workspace {}; the current context, {cur}, serves the rest",
                    self.name,
                    pinned.unwrap_or_default()
                ),
            ),
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

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let out = s.exec.run(&docker::use_cmd(&self.name))?;
        if !out.success() {
            bail!("docker context use failed: {}", out.last_error_line());
        }
        Ok(Outcome::Done(format!("switched to context {}", self.name)))
    }

    fn preview(&self, _: &Session, _: &Finding) -> String {
        format!(
            "would switch to context {}\nwould run: {}",
            self.name,
            docker::use_cmd(&self.name).display()
        )
    }
}

/// DOCKER_HOST or DOCKER_CONTEXT in the environment wins over the current context, so docker
/// commands would not reach this context at all.
pub struct EnvStep {
    pub name: String,
}

impl Step for EnvStep {
    fn kind(&self) -> Kind {
        Kind::Environment
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "environment";
        match docker::env_override(&self.name, &|v| s.env.var(v)) {
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
}

/// A real `docker --context NAME version`, through ssh, as every docker command will go.
pub struct VerifyStep {
    pub name: String,
}

impl Step for VerifyStep {
    fn kind(&self) -> Kind {
        Kind::Verify
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Verify(self.name.clone())]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "verify";
        let (out, took) = match &s.facts.verify {
            Some(v) if v.name == self.name => (v.out.clone(), Some(v.took)),
            _ => (
                Err(Unavailable("docker --context version did not run".into())),
                None,
            ),
        };
        let again = format!(
            "docker --context {} version shows the whole error; rdock doctor {0} diagnoses it",
            quote(&self.name)
        );
        match out {
            Ok(out) if out.success() => Finding::ok(
                id,
                format!(
                    "docker --context {} version: server {}{}",
                    self.name,
                    out.stdout.trim(),
                    took.map(one_command).unwrap_or_default()
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
            Err(e) => Finding::fail(id, e.0, again),
        }
    }
}

/// "; one docker command takes 0.9 s here": what every docker command through the context costs.
pub fn one_command(took: std::time::Duration) -> String {
    format!("; one docker command takes {} here", seconds(took))
}

/// A duration as a person reads it: "0.35 s", "1.2 s", "12 s".
pub fn seconds(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{s:.2} s")
    } else if s < 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{s:.0} s")
    }
}
