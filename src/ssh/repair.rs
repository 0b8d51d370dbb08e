//! Repairs on the remote, each a fixed script for `sh` with no part of user input in it: adding
//! the user to group docker and linking docker into /usr/local/bin (both through sudo), and
//! reading and writing the startup file that puts docker's folder on the PATH of ssh commands.
//!
//! sudo is never given a password by rdock. With a terminal, the script runs over `ssh -t` and
//! sudo asks for its password itself, on that terminal; without one, it runs as `sudo -n`, which
//! works only where sudo needs no password. The user is the remote's `id -un`; the folder to link
//! is asked of the login shell on the remote; the startup file is one of three names the script
//! itself accepts, and its new text arrives on stdin.

use anyhow::{bail, Result};

use crate::ssh::command::{Mode, Ssh};
use crate::ssh::destination::Resolved;
use crate::ssh::rc::{cksum, Shell};
use crate::sys::exec::Cmd;

pub use crate::ssh::scripts::{
    LINK_NO_PASSWORD_SCRIPT, LINK_SCRIPT, READ_RC_SCRIPT, USERMOD_NO_PASSWORD_SCRIPT,
    USERMOD_SCRIPT, WRITE_RC_SCRIPT,
};

/// How sudo may get its password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sudo {
    /// It asks the person, on the terminal `ssh -t` gives it.
    Asks,
    /// `sudo -n`: there is no terminal, so only a rule that needs no password lets it run.
    NoPassword,
}

/// ssh running a sudo script as `sudo` says: over `ssh -t` with its output shown as it comes, or
/// with no terminal.
fn sudo_cmd(r: &Resolved, sudo: Sudo, asks: &str, no_password: &str) -> Cmd {
    let (mode, script) = match sudo {
        Sudo::Asks => (Mode::Terminal, asks),
        Sudo::NoPassword => (Mode::Batch, no_password),
    };
    Ssh::new(r.target(), mode).script(script).cmd().changes()
}

/// `sudo usermod -aG docker USER` on the remote, USER being whom ssh logs in as.
pub fn usermod_cmd(r: &Resolved, sudo: Sudo) -> Cmd {
    sudo_cmd(r, sudo, USERMOD_SCRIPT, USERMOD_NO_PASSWORD_SCRIPT)
}

/// What [`usermod_cmd`] runs, as a person would type it on the remote.
pub fn usermod_text(r: &Resolved) -> String {
    format!("sudo usermod -aG docker {}", r.user)
}

/// `sudo ln -sn DOCKER /usr/local/bin/docker` on the remote, DOCKER being where the login shell
/// finds it.
pub fn link_cmd(r: &Resolved, sudo: Sudo) -> Cmd {
    sudo_cmd(r, sudo, LINK_SCRIPT, LINK_NO_PASSWORD_SCRIPT)
}

/// What [`link_cmd`] runs for `docker`, as a person would type it on the remote.
pub fn link_text(docker: &str) -> String {
    format!("sudo ln -sn {docker} /usr/local/bin/docker")
}

/// Reads the startup file of `shell` on the remote: see [`READ_RC_SCRIPT`] and [`parse_rc`].
pub fn read_rc_cmd(r: &Resolved, shell: Shell) -> Cmd {
    Ssh::new(r.target(), Mode::Batch)
        .script(READ_RC_SCRIPT)
        .cmd()
        .stdin(format!("{}\n", shell.startup_file()))
}

/// Writes `text` as the startup file of `shell`, if the file still is as [`parse_rc`] read it.
pub fn write_rc_cmd(r: &Resolved, shell: Shell, read: &RcFile, text: &str) -> Cmd {
    Ssh::new(r.target(), Mode::Batch)
        .script(WRITE_RC_SCRIPT)
        .cmd()
        .stdin(format!("{}\n{}\n{text}", shell.startup_file(), read.stamp))
        .changes()
}

/// A startup file as [`READ_RC_SCRIPT`] printed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RcFile {
    /// `CRC SIZE` as the remote's cksum printed it, or `missing`.
    pub stamp: String,
    /// The file's text (empty when missing).
    pub text: String,
}

/// Read [`READ_RC_SCRIPT`]'s output. A file whose text here does not have the cksum the remote
/// printed is not UTF-8 (rdock read it through a lossy decoding): an error, so it is never edited.
pub fn parse_rc(stdout: &str, name: &str) -> Result<RcFile> {
    let Some((head, text)) = stdout
        .split_once('\n')
        .or(Some((stdout, "")))
        .filter(|(h, _)| h.starts_with("rdock-rc "))
    else {
        bail!("reading {name} gave no answer rdock understands");
    };
    let stamp = head["rdock-rc ".len()..].trim().to_string();
    if stamp == "missing" {
        return Ok(RcFile {
            stamp,
            text: String::new(),
        });
    }
    if cksum(text.as_bytes()) != stamp {
        bail!("{name} is not UTF-8 text; rdock leaves it as it is");
    }
    Ok(RcFile {
        stamp,
        text: text.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_read_whole_keeps_its_stamp_and_one_that_is_not_utf8_is_refused() {
        let read = parse_rc("rdock-rc 3015617425 6\nhello\n", "~/.bashrc").unwrap();
        assert_eq!(read.text, "hello\n");
        assert_eq!(read.stamp, "3015617425 6");
        let missing = parse_rc("rdock-rc missing\n", "~/.zshenv").unwrap();
        assert_eq!(
            (missing.stamp.as_str(), missing.text.as_str()),
            ("missing", "")
        );
        // "h\xe9llo\n" (Latin-1) through a lossy decoding: 6 bytes became 8.
        let lossy = String::from_utf8_lossy(b"h\xe9llo\n").into_owned();
        let stamp = "2744504162 6";
        let err = parse_rc(&format!("rdock-rc {stamp}\n{lossy}"), "~/.bashrc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "~/.bashrc is not UTF-8 text; rdock leaves it as it is"
        );
        let recorded = include_str!("../../tests/fixtures/recorded/rc-read-bashrc.stdout");
        let bashrc = parse_rc(recorded, "~/.bashrc").unwrap();
        assert_eq!(bashrc.stamp, "2809121674 3526");
        assert!(bashrc.text.starts_with("# ~/.bashrc: executed by bash(1)"));
        assert!(parse_rc("", "~/.bashrc").is_err());
        assert!(parse_rc("Welcome!\n", "~/.bashrc").is_err());
    }
}
