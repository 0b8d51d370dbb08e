//! One file per subcommand.

mod vscode;

use crate::cli::{Cli, Command};

/// Exit codes: 0 ok, 1 something failed, 2 usage.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Setup(_) => EXIT_FAILED,
        Command::Vscode(args) => vscode::run(&cli.global, &args),
    }
}
