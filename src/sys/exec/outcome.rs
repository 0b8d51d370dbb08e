//! What a command leaves behind: how it [`Ended`] (its [`Output`], or what it printed before it
//! was stopped at a bound), and the error [`Exec::run`](super::Exec::run) makes of a stop.

use super::Cmd;

/// How a command that started came to its end: it exited, or rdock stopped it at its timeout or
/// at its output bound. Each is a value to match; [`Ended::into_result`] makes the stops the
/// errors [`Exec::run`](super::Exec::run) returns.
#[derive(Clone, Debug)]
pub enum Ended {
    /// It exited (with any code, or by a signal), or `--dry-run` printed it instead.
    Exited(Output),
    /// It ran past its timeout and was stopped; what it had printed by then is kept.
    TimedOut(TimedOut),
    /// It printed more than its bound ([`Cmd::max_output`]) and was stopped.
    TooMuchOutput(TooMuchOutput),
}

impl Ended {
    /// The output of a command that exited; a stop becomes its error ([`TimedOut`],
    /// [`TooMuchOutput`]), which a caller can still downcast.
    pub fn into_result(self) -> anyhow::Result<Output> {
        match self {
            Ended::Exited(out) => Ok(out),
            Ended::TimedOut(stopped) => Err(anyhow::Error::new(stopped)),
            Ended::TooMuchOutput(stopped) => Err(anyhow::Error::new(stopped)),
        }
    }
}

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

/// How a command stopped at its timeout ended, whichever backend, with what it had printed.
pub(super) fn timed_out(cmd: &Cmd, stdout: String, stderr: String) -> Ended {
    Ended::TimedOut(TimedOut {
        cmd: cmd.display(),
        secs: cmd.timeout.as_secs(),
        stdout,
        stderr,
    })
}

/// A command ran past its timeout and was stopped; what it had printed by then is kept.
#[derive(Clone, Debug, thiserror::Error)]
#[error("`{cmd}` did not finish within {secs} s and was stopped")]
pub struct TimedOut {
    pub cmd: String,
    pub secs: u64,
    pub stdout: String,
    pub stderr: String,
}

/// A command printed more than its cap ([`Cmd::max_output`]) and was stopped.
#[derive(Clone, Debug, thiserror::Error)]
#[error("`{cmd}` printed more than {} KiB and was stopped", .cap / 1024)]
pub struct TooMuchOutput {
    pub cmd: String,
    pub cap: usize,
}

/// How a command stopped at its output bound ended.
pub(super) fn too_much_output(cmd: &Cmd) -> Ended {
    Ended::TooMuchOutput(TooMuchOutput {
        cmd: cmd.display(),
        cap: cmd.max_output,
    })
}
