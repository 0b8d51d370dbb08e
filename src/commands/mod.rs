//! One file per subcommand.

mod setup;
mod vscode;

use crate::cli::{Cli, Command};
use crate::session::Session;
use crate::step::{Finding, Status};

/// Exit codes: 0 ok, 1 something failed, 2 usage.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Setup(args) => setup::run(&cli.global, &args),
        Command::Vscode(args) => vscode::run(&cli.global, &args),
    }
}

/// Print one step's line: ✓/!/✗ with the finding (or what setup did), the fix indented under it,
/// and with --verbose the details.
pub(crate) fn show(s: &Session, f: &Finding, did: Option<&str>) {
    let text = did.unwrap_or(&f.message);
    println!("{} {:<14} {}", s.ui.symbol(f.status), f.id, text);
    if let Some(fix) = f
        .fix
        .as_deref()
        .filter(|_| matches!(f.status, Status::Warn | Status::Fail))
    {
        for (i, line) in fix.lines().enumerate() {
            let lead = if i == 0 { "fix:" } else { "    " };
            println!("    {} {}", s.ui.paint(lead, "2"), line);
        }
    }
    if s.exec.verbose {
        for line in &f.details {
            println!("    {line}");
        }
    }
}
