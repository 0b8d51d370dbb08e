use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_sigpipe();
    if stdout_closed() {
        rdock::render::stdout_is_closed();
    }
    let cli = match rdock::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return clap_exit(&e),
    };
    let code = rdock::run(cli);
    // A signal's exit code stands.
    match rdock::sys::signal::caught() {
        None => unwritten(rdock::render::output_failed()).unwrap_or(code),
        Some(_) => code,
    }
}

/// Output that never reached its reader (`>/dev/full`, a closed stdout) is a failure: a script
/// must not take silence for an answer. Says so, and gives exit 1.
fn unwritten(why: Option<String>) -> Option<ExitCode> {
    let why = why?;
    rdock::render::err(&format!("rdock: cannot write the output: {why}\n"));
    Some(ExitCode::from(rdock::error::EXIT_FAILED))
}

/// As clap's own exit: print, then 0 for --help and --version, 2 for a usage error; but a --help
/// or --version that cannot be written fails as any other output does.
fn clap_exit(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let shown = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    if !shown && std::env::args_os().skip(1).any(|a| a == "--json") {
        // Asked for JSON (`--json` among the arguments): the usage error is one JSON document on
        // stdout, as every other outcome is.
        let message = e.render().to_string();
        rdock::render::out(&rdock::render::error_json("usage", &message));
        let code = ExitCode::from(rdock::error::EXIT_USAGE);
        return unwritten(rdock::render::output_failed()).unwrap_or(code);
    }
    let failed = match e.print() {
        Err(why) if why.kind() != std::io::ErrorKind::BrokenPipe => Some(why.to_string()),
        _ => stdout_closed().then(|| "stdout is closed".to_string()),
    };
    let code = ExitCode::from(e.exit_code().clamp(0, 255) as u8);
    match e.use_stderr() {
        true => code,
        false => unwritten(failed).unwrap_or(code),
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
