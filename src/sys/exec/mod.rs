//! The one place that spawns processes.
//!
//! Every command gets a timeout, is echoed with `--verbose`, and, when it changes something,
//! is only printed under `--dry-run`. Arguments always travel as argv: nothing goes through a shell.
//!
//! For tests only (`cfg(test)`, or the `testing` feature the integration tests turn on),
//! `Exec::scripted` answers commands from a `Script` of canned replies instead of starting them,
//! and records what ran, so code that runs commands can be tested in-process, on any OS. The
//! release binary holds none of it (scripts/test.sh checks).
//!
//! The parts: [`Cmd`] (cmd.rs) says what to run; `Exec` (here) runs it; child.rs starts the process,
//! feeds its stdin, reads its output and stops it at its bound; tree.rs ends a process tree and
//! what is still running as rdock exits; memo.rs keeps answers for `doctor --all`; script.rs is
//! the scripted double; outcome.rs is what a command leaves behind.

mod child;
mod cmd;
mod memo;
mod outcome;
#[cfg(any(test, feature = "testing"))]
mod script;
mod tree;

pub use cmd::{quote, Cmd, Effect, DEFAULT_TIMEOUT, INTERACTIVE_TIMEOUT, MAX_OUTPUT};
pub use outcome::{last_line, Ended, Output, TimedOut, TooMuchOutput};
#[cfg(any(test, feature = "testing"))]
pub use script::{Ran, Reply, Script};
pub use tree::end_running;

use anyhow::Result;
use std::sync::atomic::{AtomicBool, Ordering};

use memo::Memo;

/// Runs commands. One value is made per invocation of rdock and handed to everything that needs it.
#[derive(Clone, Debug, Default)]
pub struct Exec {
    pub verbose: bool,
    pub dry_run: bool,
    memo: Option<Memo>,
    /// Set by [`Exec::cancellable`]: once raised, what runs through this `Exec` is stopped.
    cancel: Option<std::sync::Arc<AtomicBool>>,
    /// Set by [`Exec::scripted`]: answer from the script instead of starting processes.
    #[cfg(any(test, feature = "testing"))]
    script: Option<std::sync::Arc<std::sync::Mutex<script::Scripted>>>,
}

impl Exec {
    pub fn new(verbose: bool, dry_run: bool) -> Self {
        Exec {
            verbose,
            dry_run,
            ..Exec::default()
        }
    }

    /// A clone whose commands stop, and whose next commands do not start, once the [`Cancel`]
    /// is raised: for work whose answer may stop being needed before it is done (a fact that a
    /// fix made stale), so that waiting for it never costs its whole bound.
    pub fn cancellable(&self) -> (Exec, Cancel) {
        let flag = std::sync::Arc::new(AtomicBool::new(false));
        let exec = Exec {
            cancel: Some(flag.clone()),
            ..self.clone()
        };
        (exec, Cancel(flag))
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::SeqCst))
    }

    /// Answers come from a script ([`Exec::scripted`]), not from processes.
    fn is_scripted(&self) -> bool {
        #[cfg(any(test, feature = "testing"))]
        if self.script.is_some() {
            return true;
        }
        false
    }

    /// Where `program` is on PATH, or None. A scripted `Exec` has every program its script has a
    /// rule for, under `/scripted/`, and no other.
    pub fn which(&self, program: &str) -> Option<std::path::PathBuf> {
        #[cfg(any(test, feature = "testing"))]
        if let Some(s) = &self.script {
            let known = s.lock().unwrap_or_else(|e| e.into_inner()).knows(program);
            return known.then(|| std::path::Path::new("/scripted").join(program));
        }
        which::which(program).ok()
    }

    /// Run a command to completion or until its timeout. A non-zero exit is not an error here:
    /// callers read [`Output::code`]. Errors are: the program could not be started, or it was
    /// stopped at its timeout ([`TimedOut`]) or its output bound ([`TooMuchOutput`]). A caller
    /// that handles a stop matches [`Exec::run_to_end`] instead.
    pub fn run(&self, cmd: &Cmd) -> Result<Output> {
        self.run_to_end(cmd)?.into_result()
    }

    /// Run a command to its end: it exited, or rdock stopped it at its timeout or its output
    /// bound, each an [`Ended`] to match. Err only when it could not be started (or rdock was
    /// interrupted while it ran).
    pub fn run_to_end(&self, cmd: &Cmd) -> Result<Ended> {
        if self.dry_run && cmd.effect == Effect::Changes {
            eprintln!("would run: {}", crate::sys::term::visible(&cmd.display()));
            #[cfg(any(test, feature = "testing"))]
            if let Some(script) = &self.script {
                let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
                script.skip(cmd);
            }
            return Ok(Ended::Exited(Output {
                code: Some(0),
                skipped: true,
                ..Output::default()
            }));
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
        cell.get_or_init(|| {
            self.spawn(cmd)
                .map_err(|e| memo::Unstarted(format!("{e:#}")))
        })
        .clone()
        .map_err(anyhow::Error::new)
    }

    fn spawn(&self, cmd: &Cmd) -> Result<Ended> {
        // A scripted answer is instant: there is nothing to stop, and a test's replies are given
        // in the order its commands ask, whatever the timing.
        if self.cancelled() && !self.is_scripted() {
            anyhow::bail!(
                "`{}` was not run: its answer is no longer needed",
                cmd.program()
            );
        }
        if self.verbose {
            eprintln!("$ {}", crate::sys::term::visible(&cmd.display()));
        }
        #[cfg(any(test, feature = "testing"))]
        if let Some(script) = &self.script {
            return script.lock().unwrap_or_else(|e| e.into_inner()).answer(cmd);
        }
        child::spawn_and_wait(cmd, self.cancel.as_deref())
    }
}

/// Stops what runs through the [`Exec`] it came with ([`Exec::cancellable`]).
#[derive(Clone, Debug)]
pub struct Cancel(std::sync::Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
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

    #[cfg(unix)]
    #[test]
    fn run_to_end_gives_a_timeout_as_a_value_with_what_was_printed() {
        let cmd = Cmd::new("sh")
            .args(["-c", "echo started; echo warming >&2; sleep 30"])
            .timeout(std::time::Duration::from_millis(500));
        let start = std::time::Instant::now();
        match Exec::default().run_to_end(&cmd).unwrap() {
            Ended::TimedOut(stopped) => {
                assert_eq!(
                    (stopped.stdout.as_str(), stopped.stderr.as_str()),
                    ("started\n", "warming\n")
                );
                assert_eq!(stopped.cmd, cmd.display());
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[cfg(unix)]
    #[test]
    fn run_to_end_gives_output_past_the_bound_as_a_value() {
        let cmd = Cmd::new("head")
            .args(["-c", "65537", "/dev/zero"])
            .max_output(64 * 1024);
        match Exec::default().run_to_end(&cmd).unwrap() {
            Ended::TooMuchOutput(stopped) => assert_eq!(stopped.cap, 64 * 1024),
            other => panic!("expected too much output, got {other:?}"),
        }
        // Exactly the bound is an exit, and run's error for a stop is the one it always gave.
        let at_bound = Cmd::new("head")
            .args(["-c", "65536", "/dev/zero"])
            .max_output(64 * 1024);
        let Ended::Exited(out) = Exec::default().run_to_end(&at_bound).unwrap() else {
            panic!("exactly the bound must exit");
        };
        assert_eq!((out.code, out.stdout.len()), (Some(0), 65536));
        let err = Exec::default().run(&cmd).unwrap_err();
        assert!(err.downcast_ref::<TooMuchOutput>().is_some(), "{err}");
        assert_eq!(
            err.to_string(),
            "`head -c 65537 /dev/zero` printed more than 64 KiB and was stopped"
        );
    }

    #[test]
    fn run_to_end_errs_only_when_the_program_cannot_start() {
        let err = Exec::default()
            .run_to_end(&Cmd::new("definitely-not-a-program-rdock"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not run `definitely-not-a-program-rdock`"
        );
    }

    #[test]
    fn scripted_stops_are_values_from_run_to_end_and_errors_from_run() {
        let exec = Exec::scripted(
            Script::new()
                .on(
                    &["ssh", "-N"],
                    Reply::times_out_after("", "Authenticated to box\n"),
                )
                .on(&["yes"], Reply::prints_too_much()),
        );
        let ssh = Cmd::new("ssh").arg("-N");
        let Ended::TimedOut(stopped) = exec.run_to_end(&ssh).unwrap() else {
            panic!("a timeout");
        };
        assert_eq!(stopped.stderr, "Authenticated to box\n");
        let yes = Cmd::new("yes").max_output(1024);
        assert!(matches!(
            exec.run_to_end(&yes).unwrap(),
            Ended::TooMuchOutput(TooMuchOutput { cap: 1024, .. })
        ));
        assert_eq!(
            exec.run(&yes).unwrap_err().to_string(),
            "`yes` printed more than 1 KiB and was stopped"
        );
        // doctor --all's memo gives the same value again, without running the command again.
        let memo = exec.clone().memoized();
        for _ in 0..2 {
            assert!(matches!(memo.run_to_end(&ssh).unwrap(), Ended::TimedOut(_)));
        }
        let runs = exec
            .ran()
            .iter()
            .filter(|r| r.display() == "ssh -N")
            .count();
        assert_eq!(runs, 2, "once without the memo, once with it");
    }
}
