//! What the remote steps' fixes share: a command run through sudo on the remote, with consent,
//! and the line a startup file gets so that ssh commands find docker.
//!
//! sudo never gets a password from rdock: at a terminal the command runs over `ssh -t` and sudo
//! asks the person itself; without one, consent must come from `--yes` and the command runs as
//! `sudo -n`, which works only where sudo needs no password.

use anyhow::{bail, Result};

use crate::ssh::destination::Resolved;
use crate::ssh::rc::{self, Shell};
use crate::ssh::repair::{self, Sudo};
use crate::sys::exec::{last_line, Cmd, Output};

use super::{Outcome, Session};

/// A command through sudo on the remote: what it does, as a person types it there, and how rdock
/// runs it.
pub struct SudoFix<'a> {
    /// What it does, in the past tense once done ("added u to group docker on box").
    pub done: String,
    /// The command as typed on the remote: `sudo usermod -aG docker u`.
    pub text: String,
    /// The question asked before it runs.
    pub question: String,
    /// The ssh command that runs it, for a way sudo may ask for its password.
    pub cmd: &'a dyn Fn(&Resolved, Sudo) -> Cmd,
}

/// How sudo may ask: on the terminal when there is one.
fn sudo_mode(s: &Session) -> Sudo {
    if s.term.is_interactive() {
        Sudo::Asks
    } else {
        Sudo::NoPassword
    }
}

/// The last thing a failed command said (a remote terminal puts everything on stdout).
fn last_words(out: &Output) -> String {
    match last_line(&out.stderr) {
        l if l.is_empty() => last_line(&out.stdout),
        l => l,
    }
}

/// Did sudo stop for want of a password (`sudo -n`: "sudo: a password is required"; older sudo
/// without a terminal: "no tty present", "a terminal is required")?
fn needs_password(said: &str) -> bool {
    [
        "password is required",
        "no tty present",
        "terminal is required",
    ]
    .iter()
    .any(|w| said.contains(w))
}

/// Ask, then run `fix` through sudo; `yes` is `--yes`. Done with `fix.done`, or Declined.
pub fn run_sudo(s: &mut Session, r: &Resolved, fix: &SudoFix, yes: bool) -> Result<Outcome> {
    let how = sudo_mode(s);
    let lines = [
        format!(
            "rdock runs this on {}, over ssh with a terminal: {}",
            r.hostname, fix.text
        ),
        "sudo asks for its password itself, on this terminal; rdock never sees it.".to_string(),
    ];
    if let Some(no) = s.consent(&lines, &fix.question, yes, "--yes") {
        return Ok(no);
    }
    let out = s.exec.run(&(fix.cmd)(r, how))?;
    if !out.success() {
        let said = last_words(&out);
        match how {
            // sudo's own words when it wanted a password and had no terminal to ask on; any
            // other failure (the command's own, or the script's) is said as it is.
            Sudo::NoPassword if needs_password(&said) => bail!(
                "`sudo -n` on {} did not run `{}` ({said}): sudo there needs a password, and without a terminal rdock has nowhere for it to ask; run rdock setup at a terminal, or `ssh -t {} {}`",
                r.hostname,
                fix.text,
                r.login_args(),
                fix.text
            ),
            _ => bail!("`{}` failed on {}: {said}", fix.text, r.hostname),
        }
    }
    Ok(Outcome::Done(fix.done.clone()))
}

/// What [`run_sudo`] would do, for --dry-run.
pub fn preview_sudo(s: &Session, r: &Resolved, fix: &SudoFix, yes: bool) -> String {
    let how = sudo_mode(s);
    let first = match how {
        Sudo::Asks => format!(
            "would run on {} over ssh with a terminal, where sudo asks for its password: {}",
            r.hostname, fix.text
        ),
        Sudo::NoPassword if yes => format!(
            "would run on {} with sudo -n (no terminal: only where sudo needs no password): {}",
            r.hostname, fix.text
        ),
        Sudo::NoPassword => format!(
            "would stop without a terminal unless --yes is given; then it runs on {} with sudo -n: {}",
            r.hostname, fix.text
        ),
    };
    format!("{first}\nwould run: {}", (fix.cmd)(r, how).display())
}

/// The line a startup file gets so that ssh commands find docker in `dir`.
pub struct PathLine {
    pub shell: Shell,
    pub dir: String,
}

impl PathLine {
    pub fn line(&self) -> String {
        self.shell.path_line(&self.dir)
    }

    /// `~/.bashrc`
    pub fn file(&self) -> String {
        format!("~/{}", self.shell.startup_file())
    }

    /// Read the startup file, insert the line (after consent), write it back atomically.
    pub fn add(&self, s: &mut Session, r: &Resolved, yes: bool) -> Result<Outcome> {
        let (file, line, host) = (self.file(), self.line(), &r.hostname);
        let read = s.exec.run(&repair::read_rc_cmd(r, self.shell))?;
        if !read.success() {
            bail!("could not read {file} on {host}: {}", last_words(&read));
        }
        let current = repair::parse_rc(&read.stdout, &format!("{file} on {host}"))?;
        let Some(text) = rc::with_line(self.shell, &current.text, &line) else {
            bail!(
                "{file} on {host} already has `{line}`, yet ssh commands do not find docker: something above that line stops a shell that is not interactive"
            );
        };
        let lines = [
            format!(
                "rdock adds this line to {file} on {host}, {}:",
                self.shell.place()
            ),
            format!("  {line}"),
        ];
        if let Some(no) = s.consent(&lines, "Add it?", yes, "--yes") {
            return Ok(no);
        }
        let out = s
            .exec
            .run(&repair::write_rc_cmd(r, self.shell, &current, &text))?;
        if !out.success() || !out.stdout.contains("rdock-rc-written") {
            bail!("could not write {file} on {host}: {}", last_words(&out));
        }
        Ok(Outcome::Done(format!("added `{line}` to {file} on {host}")))
    }

    /// What [`PathLine::add`] would do, for --dry-run.
    pub fn preview(&self, r: &Resolved) -> String {
        let read = repair::read_rc_cmd(r, self.shell);
        let write = repair::RcFile {
            stamp: String::new(),
            text: String::new(),
        };
        let write = repair::write_rc_cmd(r, self.shell, &write, "");
        format!(
            "would add this line to {} on {}, {}:\n  {}\nwould run: {}\nwould run: {}",
            self.file(),
            r.hostname,
            self.shell.place(),
            self.line(),
            read.display(),
            write.display()
        )
    }
}
