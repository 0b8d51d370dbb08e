//! SSH multiplexing for docker's ssh connections: a managed `Host` block in `~/.ssh/config` with
//! `ControlMaster auto`, `ControlPath ~/.ssh/rdock-%C` and `ControlPersist 10m`, as Docker's own
//! documentation advises for ssh:// hosts. Linux and macOS only: Windows OpenSSH has no
//! ControlMaster.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::exec::Cmd;
use crate::fsutil;
use crate::platform::Platform;
use crate::session::Session;
use crate::ssh_config;
use crate::step::{Finding, Step};

/// The managed block for one context.
pub fn block_name(context: &str) -> String {
    format!("multiplex {context}")
}

/// The block's text: a `Host` section for the host the docker CLI connects to.
pub fn block_body(host: &str) -> String {
    format!(
        "Host {host}\n    ControlMaster auto\n    ControlPath ~/.ssh/rdock-%C\n    ControlPersist 10m\n"
    )
}

/// What `ssh -O check` says about the control socket `ssh -G` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Master {
    Running,
    /// No socket: the next connection starts a master.
    None,
    /// A socket file that nothing answers on (a master that died).
    Stale(PathBuf),
}

/// Read `ssh -O check`'s answer. A refused connection to an existing socket is a stale one.
pub fn parse_check(code: Option<i32>, stderr: &str, path: &str) -> Master {
    if code == Some(0) {
        Master::Running
    } else if stderr.contains("Connection refused") && !path.is_empty() {
        Master::Stale(PathBuf::from(path))
    } else {
        Master::None
    }
}

/// Ask ssh about the master for this destination (`ssh -O check`).
pub fn master_state(exec: &crate::exec::Exec, r: &crate::destination::Resolved) -> Result<Master> {
    let out = exec.run(
        &Cmd::new("ssh")
            .args(["-O", "check"])
            .args(r.ssh_target_args()),
    )?;
    Ok(parse_check(
        out.code,
        &out.stderr,
        r.control_path.as_deref().unwrap_or(""),
    ))
}

/// Step (setup with `--multiplex`; doctor always): is multiplexing on for this host?
pub struct MultiplexStep {
    pub context: String,
    /// `rdock setup --multiplex`: turn it on. Doctor only reports.
    pub enable: bool,
}

impl MultiplexStep {
    fn config(&self) -> Result<PathBuf> {
        ssh_config::user_config().ok_or_else(|| anyhow::anyhow!("cannot find the home directory"))
    }
}

impl Step for MultiplexStep {
    fn id(&self) -> String {
        "multiplex".into()
    }

    fn needs(&self) -> &'static [&'static str] {
        &["destination"]
    }

    fn blocking(&self) -> bool {
        false
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = "multiplex";
        let Some(r) = s.resolved.clone() else {
            return Finding::skip(id, "skipped: no destination");
        };
        if s.platform == Platform::Windows {
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
        let written = self
            .config()
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
        // On: is the master alive, gone, or a stale socket left behind?
        // Doctor read it before its probe connected: a connection replaces a stale socket.
        let master = match s
            .master
            .take()
            .map_or_else(|| master_state(&s.exec, &r), Ok)
        {
            Ok(master) => master,
            Err(e) => return Finding::fail(id, format!("{e:#}"), "check ~/.ssh/config"),
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
                    fsutil::tilde(&path)
                ),
                format!("rm {}", crate::exec::quote(&path.to_string_lossy())),
            ),
            Master::Running => Finding::ok(
                id,
                format!("multiplexing is on ({how}); a master connection is open"),
            ),
            Master::None => Finding::ok(
                id,
                format!("multiplexing is on ({how}); the next connection opens a master"),
            ),
        }
    }

    fn fix(&mut self, s: &mut Session, _: &Finding) -> Result<String> {
        let Some(r) = s.resolved.clone() else {
            bail!("no destination");
        };
        if s.platform == Platform::Windows {
            bail!("Windows OpenSSH has no ControlMaster; rdock never writes it there");
        }
        let path = self.config()?;
        let body = block_body(&r.dest.host);
        if s.exec.dry_run {
            eprintln!("would add to {}:\n{body}", path.display());
            return Ok(format!(
                "would add a multiplexing block for {} to {}",
                r.dest.host,
                fsutil::tilde(&path)
            ));
        }
        ssh_config::write_block(&path, &block_name(&self.context), &body)?;
        Ok(format!(
            "added a multiplexing block for {} to {}",
            r.dest.host,
            fsutil::tilde(&path)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_is_a_host_section_with_docker_s_advice() {
        let body = block_body("build-box");
        assert_eq!(
            ssh_config::Placement::of(&body),
            ssh_config::Placement::Host
        );
        assert!(ssh_config::check_block(&block_name("build-box"), &body).is_ok());
        for line in [
            "Host build-box",
            "ControlMaster auto",
            "ControlPath ~/.ssh/rdock-%C",
            "ControlPersist 10m",
        ] {
            assert!(body.contains(line), "{line}");
        }
    }

    #[test]
    fn ssh_o_check_answers_are_told_apart() {
        assert_eq!(
            parse_check(Some(0), "Master running (pid=1)\n", "/h/.ssh/rdock-x"),
            Master::Running
        );
        assert_eq!(
            parse_check(
                Some(255),
                "Control socket connect(/h/.ssh/rdock-x): Connection refused\n",
                "/h/.ssh/rdock-x"
            ),
            Master::Stale(PathBuf::from("/h/.ssh/rdock-x"))
        );
        assert_eq!(
            parse_check(
                Some(255),
                "Control socket connect(/h/.ssh/rdock-x): No such file or directory\n",
                "/h/.ssh/rdock-x"
            ),
            Master::None
        );
    }
}
