//! SSH multiplexing for docker's ssh connections: rdock's managed `Host` block in ~/.ssh/config,
//! and the state of the control master. Linux and macOS only: Windows OpenSSH has no
//! ControlMaster.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::ssh::config as ssh_config;
use crate::ssh::multiplex::{block_body, block_name, Master, SESSIONS_NOTE};
use crate::sys::exec::quote;
use crate::sys::platform::Platform;

use super::{Finding, Kind, Outcome, Session, Step, Want};

/// Is multiplexing on for this host? (setup with `--multiplex` turns it on; doctor reports.)
pub struct MultiplexStep {
    pub context: String,
    /// `rdock setup --multiplex`: turn it on. Doctor only reports.
    pub enable: bool,
}

fn config(s: &Session) -> Result<PathBuf> {
    s.env
        .ssh_config()
        .ok_or_else(|| anyhow::anyhow!("cannot find the home directory"))
}

impl Step for MultiplexStep {
    fn kind(&self) -> Kind {
        Kind::Multiplex
    }

    fn facts(&self) -> Vec<Want> {
        vec![Want::Master(self.context.clone())]
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "multiplex";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        if s.env.platform == Platform::Windows {
            return if self.enable {
                Finding::fail(
                    id,
                    "Windows OpenSSH has no ControlMaster",
                    "leave out --multiplex on Windows",
                )
            } else {
                Finding::ok(id, "multiplexing does not exist on Windows OpenSSH")
            };
        }
        let name = block_name(&self.context);
        let written = config(s)
            .and_then(|p| ssh_config::read(&p))
            .map(|text| ssh_config::has_block(&text, &name));
        let written = match written {
            Ok(w) => w,
            Err(e) => return Finding::fail(id, format!("{e:#}"), "check ~/.ssh/config"),
        };
        if !written && r.control_master.is_none() {
            let f = Finding::fail(
                id,
                format!("multiplexing is off for {}", r.dest.host),
                format!("rdock setup {} --multiplex", r.dest),
            );
            return if self.enable {
                f.fixable()
            } else {
                Finding::ok(
                    id,
                    format!(
                        "multiplexing is off for {} (rdock setup --multiplex turns it on)",
                        r.dest.host
                    ),
                )
            };
        }
        // On: is the master alive, gone, or a stale socket left behind? The facts phase read
        // it before the probe connected: a connection replaces a stale socket.
        let master = match s.facts.master.clone().flatten() {
            Some(Ok(master)) => master,
            Some(Err(e)) => return Finding::fail(id, e.0, "check ~/.ssh/config"),
            None => Master::None,
        };
        let how = if written {
            "rdock's block in ~/.ssh/config"
        } else {
            "your ssh config"
        };
        match master {
            Master::Stale(path) => Finding::warn(
                id,
                format!(
                    "multiplexing is on ({how}), but {} is a stale control socket: its master died (the next ssh replaces it)",
                    s.env.tilde(&path)
                ),
                format!("rm {}", quote(&path.to_string_lossy())),
            ),
            Master::Running => Finding::ok(
                id,
                format!("multiplexing is on ({how}); a master connection is open"),
            )
            .detail(SESSIONS_NOTE),
            Master::None => Finding::ok(
                id,
                format!("multiplexing is on ({how}); the next connection opens a master"),
            )
            .detail(SESSIONS_NOTE),
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(r) = s.resolved.clone() else {
            bail!("no destination");
        };
        if s.env.platform == Platform::Windows {
            bail!("Windows OpenSSH has no ControlMaster; rdock never writes it there");
        }
        let path = config(s)?;
        ssh_config::write_block(&path, &block_name(&self.context), &block_body(&r.dest.host))?;
        Ok(Outcome::Done(format!(
            "added a multiplexing block for {} to {}\n{SESSIONS_NOTE}",
            r.dest.host,
            s.env.tilde(&path)
        )))
    }

    fn preview(&self, s: &Session, _: &Finding) -> String {
        let (Some(r), Ok(path)) = (&s.resolved, config(s)) else {
            return "would add a multiplexing block to ~/.ssh/config".into();
        };
        std::iter::once(format!("would add to {}:", s.env.tilde(&path)))
            .chain(block_body(&r.dest.host).lines().map(|l| format!("  {l}")))
            .chain([SESSIONS_NOTE.to_string()])
            .collect::<Vec<_>>()
            .join("\n")
    }
}
