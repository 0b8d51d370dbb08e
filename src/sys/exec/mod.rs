//! The one place that spawns processes.
//!
//! Every command gets a timeout, is echoed with `--verbose`, and, when it changes something,
//! is only printed under `--dry-run`. Arguments always travel as argv: nothing goes through a shell.
//!
//! [`Exec::scripted`] answers commands from a [`Script`] of canned replies instead of starting
//! them, and records what ran, so code that runs commands can be tested in-process, on any OS.
//!
//! The parts: [`Cmd`] (cmd.rs) says what to run; `Exec` (here) runs it; child.rs starts the process,
//! feeds its stdin, reads its output and stops it at its bound; tree.rs ends a process tree and
//! what is still running as rdock exits; memo.rs keeps answers for `doctor --all`; script.rs is
//! the scripted double; outcome.rs is what a command leaves behind.

mod child;
mod cmd;
mod memo;
mod outcome;
mod script;
mod tree;

pub use cmd::{quote, Cmd, Effect, DEFAULT_TIMEOUT, INTERACTIVE_TIMEOUT, MAX_OUTPUT};
pub use outcome::{last_line, Output, TimedOut, TooMuchOutput};
pub use script::{Ran, Reply, Script};
pub use tree::end_running;

use std::sync::{Arc, Mutex};

use anyhow::Result;

use memo::{Failed, Memo};
use script::Scripted;

/// Runs commands. One value is made per invocation of rdock and handed to everything that needs it.
#[derive(Clone, Debug, Default)]
pub struct Exec {
    pub verbose: bool,
    pub dry_run: bool,
    memo: Option<Memo>,
    /// Set by [`Exec::scripted`]: answer from the script instead of starting processes.
    script: Option<Arc<Mutex<Scripted>>>,
}

impl Exec {
    pub fn new(verbose: bool, dry_run: bool) -> Self {
        Exec {
            verbose,
            dry_run,
            memo: None,
            script: None,
        }
    }

    /// Where `program` is on PATH, or None. A scripted `Exec` has every program its script has a
    /// rule for, under `/scripted/`, and no other.
    pub fn which(&self, program: &str) -> Option<std::path::PathBuf> {
        match &self.script {
            None => which::which(program).ok(),
            Some(s) => {
                let known = s.lock().unwrap_or_else(|e| e.into_inner()).knows(program);
                known.then(|| std::path::Path::new("/scripted").join(program))
            }
        }
    }

    /// Run a command to completion or until its timeout. A non-zero exit is not an error here:
    /// callers read [`Output::code`]. Errors are: the program could not be started, or it timed out.
    pub fn run(&self, cmd: &Cmd) -> Result<Output> {
        if self.dry_run && cmd.effect == Effect::Changes {
            eprintln!("would run: {}", crate::sys::term::visible(&cmd.display()));
            if let Some(script) = &self.script {
                let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
                script.skip(cmd);
            }
            return Ok(Output {
                code: Some(0),
                skipped: true,
                ..Output::default()
            });
        }
        let memo = self
            .memo
            .as_ref()
            .filter(|_| cmd.effect == Effect::ReadOnly && !cmd.interactive);
        let Some(memo) = memo else {
            return self.spawn(cmd);
        };
        let key = format!("{cmd:?}");
        let cell = memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        // A second caller of the same command waits here for the first one's answer.
        cell.get_or_init(|| self.spawn(cmd).map_err(Failed::of))
            .clone()
            .map_err(Failed::error)
    }

    fn spawn(&self, cmd: &Cmd) -> Result<Output> {
        if self.verbose {
            eprintln!("$ {}", crate::sys::term::visible(&cmd.display()));
        }
        match &self.script {
            Some(script) => script.lock().unwrap_or_else(|e| e.into_inner()).answer(cmd),
            None => child::spawn_and_wait(cmd),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_prints_changes_instead_of_running_them() {
        let exec = Exec::new(false, true);
        let out = exec
            .run(&Cmd::new("definitely-not-a-program-rdock").changes())
            .unwrap();
        assert!(out.skipped && out.success());
    }
}
