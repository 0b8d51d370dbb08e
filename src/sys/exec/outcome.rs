//! What a command leaves behind: its [`Output`], or the error of one stopped at its bound.

use super::Cmd;

/// What a finished command left behind.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// The exit code, or None when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// True when `--dry-run` printed the command instead of running it.
    pub skipped: bool,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The last non-empty line of stderr, for one-line messages.
    pub fn last_error_line(&self) -> String {
        last_line(&self.stderr)
    }
}

/// The last non-empty line of a text, trimmed.
pub fn last_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// The error for a program that could not be started, whichever backend: the cause is attached.
pub(super) fn could_not_run(cmd: &Cmd) -> String {
    format!("could not run `{}`", cmd.program)
}

/// The error for a command stopped at its timeout, whichever backend, with what it had printed.
pub(super) fn timed_out(cmd: &Cmd, stdout: String, stderr: String) -> anyhow::Error {
    anyhow::Error::new(TimedOut {
        cmd: cmd.display(),
        secs: cmd.timeout.as_secs(),
        stdout,
        stderr,
    })
}

/// A command ran past its timeout and was stopped; what it had printed by then is kept.
#[derive(Clone, Debug)]
pub struct TimedOut {
    pub cmd: String,
    pub secs: u64,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` did not finish within {} s and was stopped",
            self.cmd, self.secs
        )
    }
}

impl std::error::Error for TimedOut {}

/// A command printed more than its cap ([`Cmd::max_output`]) and was stopped.
#[derive(Clone, Debug)]
pub struct TooMuchOutput {
    pub cmd: String,
    pub cap: usize,
}

impl TooMuchOutput {
    pub(super) fn of(cmd: &Cmd) -> Self {
        TooMuchOutput {
            cmd: cmd.display(),
            cap: cmd.max_output,
        }
    }
}

impl std::fmt::Display for TooMuchOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` printed more than {} KiB and was stopped",
            self.cmd,
            self.cap / 1024
        )
    }
}

impl std::error::Error for TooMuchOutput {}
