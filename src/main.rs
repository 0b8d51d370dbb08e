use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_sigpipe();
    rdock::run(rdock::cli::Cli::parse())
}

/// `rdock doctor | head` must end quietly when the reader goes away, as other Unix tools do,
/// not panic on a broken pipe. Rust ignores SIGPIPE by default; put back the default action.
#[cfg(unix)]
fn restore_sigpipe() {
    // SAFETY: called first thing in main, before any other thread exists; SIG_DFL is always a
    // valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_sigpipe() {}
