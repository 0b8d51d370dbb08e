//! The memo of `rdock doctor --all`: each read-only command's answer, had once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::{Ended, Exec};

/// Answers already had, by command: see [`Exec::memoized`]. A stop at a bound is an answer like
/// an exit ([`Ended`]); an error (the program could not start) is kept as its text.
pub(super) type Memo = Arc<Mutex<HashMap<String, Arc<OnceLock<Result<Ended, Unstarted>>>>>>;

/// A memoized error, which every caller of the command gets again: anyhow's error cannot be
/// cloned, so its text (with its causes) stands for it.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{0}")]
pub(super) struct Unstarted(pub(super) String);

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
