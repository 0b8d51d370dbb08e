//! The tools the guide relies on must be on PATH.

use crate::docker;

use super::{Finding, Kind, Session, Step, Want};

/// The client tools rdock drives.
pub const TOOLS: [&str; 4] = ["ssh", "ssh-keygen", "ssh-add", "docker"];

/// The docker CLI's version, as `docker --version` told the facts phase.
pub fn docker_version(s: &Session) -> Option<docker::Version> {
    let out = s.facts.versions.as_ref()?.docker.as_ref().ok()?;
    docker::parse_version(&out.stdout)
}

/// "OpenSSH_9.2p1, docker 28.2.2": what `ssh -V` and `docker --version` say; and the docker
/// CLI's version, when it could be read.
fn versions(s: &Session) -> (String, Option<docker::Version>) {
    let ssh = s
        .facts
        .versions
        .as_ref()
        .and_then(|v| v.ssh.as_ref().ok())
        .map(|o| format!("{}{}", o.stderr, o.stdout))
        .unwrap_or_default();
    let ssh = ssh
        .split([' ', ','])
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let version = docker_version(s);
    let shown = version.map_or_else(|| "?".to_string(), docker::show_version);
    (format!("{ssh}, docker {shown}"), version)
}

pub struct ToolsStep;

impl Step for ToolsStep {
    fn kind(&self) -> Kind {
        Kind::Tools
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Versions]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let mut found = Vec::new();
        let mut missing = Vec::new();
        for tool in TOOLS {
            match s.exec.which(tool) {
                Some(path) => found.push(format!("{tool}: {}", path.display())),
                None => missing.push(tool),
            }
        }
        if missing.is_empty() {
            let (shown, docker_version) = versions(s);
            let mut f = Finding::ok("tools", format!("{} on PATH ({shown})", TOOLS.join(", ")));
            if let Some(v) = docker_version.filter(|v| docker::dials_on_every_call(*v)) {
                let remote_current = docker::list(&s.env)
                    .ok()
                    .and_then(|contexts| contexts.into_iter().find(|c| c.current))
                    .is_some_and(|c| c.is_ssh());
                if remote_current {
                    f = Finding::warn(
                        "tools",
                        format!(
                            "{} on PATH ({shown}); docker CLI {} connects to the current context on every call, so with an ssh:// context current every docker command pays an ssh round trip",
                            TOOLS.join(", "),
                            docker::show_version(v)
                        ),
                        "upgrade the docker CLI to 25.0 or later (fixed in 23.0.7 and 24.0.6): see https://docs.docker.com/engine/install/",
                    );
                }
            }
            f.details = found;
            return f;
        }
        // ssh, ssh-keygen and ssh-add come from one package: say so once.
        let mut hints: Vec<String> = Vec::new();
        for tool in &missing {
            let hint = s.env.platform.install_hint(tool);
            if !hints.contains(&hint) {
                hints.push(hint);
            }
        }
        Finding::fail(
            "tools",
            format!("not on PATH: {}", missing.join(", ")),
            hints.join("\n"),
        )
    }
}
