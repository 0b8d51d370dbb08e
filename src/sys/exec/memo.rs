//! The memo of `rdock doctor --all`: each read-only command's answer, had once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::anyhow;

use super::{Exec, Output, TimedOut, TooMuchOutput};

/// Answers already had, by command: see [`Exec::memoized`].
pub(super) type Memo = Arc<Mutex<HashMap<String, Arc<OnceLock<Result<Output, Failed>>>>>>;

/// A memoized error: callers that look for a timeout or an overflow find it again.
#[derive(Clone, Debug)]
pub(super) enum Failed {
    TimedOut(TimedOut),
    TooMuch(TooMuchOutput),
    Other(String),
}

impl Failed {
    pub(super) fn of(e: anyhow::Error) -> Failed {
        if let Some(t) = e.downcast_ref::<TimedOut>() {
            Failed::TimedOut(t.clone())
        } else if let Some(t) = e.downcast_ref::<TooMuchOutput>() {
            Failed::TooMuch(t.clone())
        } else {
            Failed::Other(format!("{e:#}"))
        }
    }

    pub(super) fn error(self) -> anyhow::Error {
        match self {
            Failed::TimedOut(t) => anyhow::Error::new(t),
            Failed::TooMuch(t) => anyhow::Error::new(t),
            Failed::Other(text) => anyhow!(text),
        }
    }
}

impl Exec {
    /// Run each read-only command once and reuse its answer, across clones and threads: for
    /// `rdock doctor --all`, which changes nothing, so the same command gives the same answer
    /// (`ssh -V`, `ssh-add -L`, `docker context ls` are asked once, not once per context).
    pub fn memoized(mut self) -> Self {
        self.memo = Some(Memo::default());
        self
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Cmd, Exec, TimedOut};

    #[test]
    fn a_stopped_command_keeps_what_it_printed_before_its_timeout() {
        let cmd = Cmd::new("sh")
            .args(["-c", "echo started; echo warming >&2; sleep 30"])
            .timeout(Duration::from_millis(500));
        // The memo of doctor --all hands back the same error.
        for exec in [Exec::default(), Exec::default().memoized()] {
            let err = exec.run(&cmd).unwrap_err();
            let stopped = err.downcast_ref::<TimedOut>().expect("a TimedOut");
            assert_eq!(
                (stopped.stdout.as_str(), stopped.stderr.as_str()),
                ("started\n", "warming\n")
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn memoized_runs_a_read_only_command_once_and_never_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let script = format!("echo x >> {}", log.display());
        let exec = Exec::new(false, false).memoized();
        let count = |exec: &Exec, cmd: &Cmd| {
            for _ in 0..3 {
                exec.clone().run(cmd).unwrap();
            }
            std::fs::read_to_string(&log).unwrap().lines().count()
        };
        assert_eq!(count(&exec, &Cmd::new("sh").args(["-c", &script])), 1);
        assert_eq!(
            count(&exec, &Cmd::new("sh").args(["-c", &script]).changes()),
            4
        );
    }
}
