use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_sigpipe();
    if stdout_closed() {
        rdock::render::stdout_is_closed();
    }
    let code = rdock::run(rdock::cli::Cli::parse());
    // Output that never reached its reader (`>/dev/full`, a closed stdout) is a failure: a script
    // must not take silence for an answer. A signal's exit code stands.
    match rdock::render::output_failed() {
        Some(why) if rdock::sys::signal::caught().is_none() => {
            rdock::render::err(&format!("rdock: cannot write the output: {why}\n"));
            ExitCode::from(rdock::error::EXIT_FAILED)
        }
        _ => code,
    }
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

/// Was rdock started with no stdout (`>&-`)? Rust's runtime reopens a closed stdout on
/// /dev/null before main, so what rdock prints would vanish without an error: the check runs
/// before that runtime starts (an ELF constructor; Linux only, elsewhere a closed stdout goes
/// unnoticed as before).
fn stdout_closed() -> bool {
    STDOUT_CLOSED_AT_START.load(std::sync::atomic::Ordering::SeqCst)
}

static STDOUT_CLOSED_AT_START: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array"]
static NOTE_CLOSED_STDOUT: extern "C" fn() = {
    extern "C" fn note() {
        // SAFETY: F_GETFD only reads a descriptor's flags; -1 means it is not open.
        if unsafe { libc::fcntl(libc::STDOUT_FILENO, libc::F_GETFD) } == -1 {
            STDOUT_CLOSED_AT_START.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    note
};
