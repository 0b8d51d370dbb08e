use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_sigpipe();
    match rdock::cli::Cli::try_parse() {
        Ok(cli) => rdock::run(cli),
        Err(e) => usage_error(e),
    }
}

/// A command line clap refuses: its message and exit 2, as clap prints it; but asked for JSON
/// (`--json` among the arguments), one JSON document on stdout, as every other outcome is.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let shown = matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion);
    let json = std::env::args_os().skip(1).any(|a| a == "--json");
    if shown || !json {
        e.exit();
    }
    let message = e.render().to_string();
    rdock::render::out(&rdock::render::error_json("usage", &message));
    ExitCode::from(rdock::error::EXIT_USAGE)
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
