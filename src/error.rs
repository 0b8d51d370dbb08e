//! How a command ends when it does not succeed: a usage error (exit 2), or a failure that was
//! already shown to the person (exit 1, nothing more to print).

use std::process::ExitCode;

/// Exit codes: 0 ok (`ExitCode::SUCCESS`), 1 something failed, 2 usage.
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug)]
pub enum Error {
    /// The command line asks for something that cannot be: say why, exit 2.
    Usage(String),
    /// Something failed: say why, exit 1.
    Failed(String),
    /// Something failed and the output already says what: exit 1.
    Reported,
    /// A signal stopped rdock (after it finished what it was doing): exit 128 + the signal.
    Interrupted(i32),
}

impl Error {
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Error::Usage(_) => EXIT_USAGE,
            Error::Failed(_) | Error::Reported => EXIT_FAILED,
            Error::Interrupted(signal) => (128 + signal).clamp(0, 255) as u8,
        })
    }

    /// Print the sentence (if any) through `print`, then give the exit code.
    pub fn exit_code_after(&self, print: impl FnOnce(&str)) -> ExitCode {
        if let Some(message) = self.message() {
            print(&format!("{message}\n"));
        }
        self.exit_code()
    }

    /// The sentence to print on stderr, if any.
    pub fn message(&self) -> Option<String> {
        match self {
            Error::Usage(m) | Error::Failed(m) => Some(m.clone()),
            Error::Reported => None,
            Error::Interrupted(signal) => Some(format!(
                "rdock: {}",
                crate::sys::signal::Interrupted(*signal)
            )),
        }
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast_ref::<crate::sys::signal::Interrupted>() {
            Some(interrupted) => Error::Interrupted(interrupted.0),
            None => Error::Failed(format!("error: {e:#}")),
        }
    }
}

/// What every command returns.
pub type Result<T = ExitCode> = std::result::Result<T, Error>;
