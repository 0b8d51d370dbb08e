//! One file per subcommand.

mod doctor;
mod setup;
mod vscode;

use crate::cli::{Cli, Command};
use crate::session::Session;
use crate::step::{Finding, Status};
use crate::ui::Ui;

/// Exit codes: 0 ok, 1 something failed, 2 usage.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Setup(args) => setup::run(&cli.global, &args),
        Command::Doctor(args) => doctor::run(&cli.global, &args),
        Command::Vscode(args) => vscode::run(&cli.global, &args),
    }
}

/// The lock every writing command holds until it returns (none under --dry-run, which writes
/// nothing, not even the lock file). Err after saying why.
pub(crate) fn write_lock(dry_run: bool) -> Result<Option<crate::lock::WriteLock>, ()> {
    if dry_run {
        return Ok(None);
    }
    crate::lock::acquire()
        .map(Some)
        .map_err(|e| eprintln!("error: {e:#}"))
}

/// Print one step's line (see [`render`]).
pub(crate) fn show(s: &Session, f: &Finding, did: Option<&str>) {
    print!("{}", render(&s.ui, s.exec.verbose, f, did));
}

/// One step's line: ✓/!/✗ with the finding (or what setup did), the fix indented under it, and
/// the details for problems, or for everything with --verbose.
pub(crate) fn render(ui: &Ui, verbose: bool, f: &Finding, did: Option<&str>) -> String {
    let mut out = format!(
        "{} {:<14} {}\n",
        ui.symbol(f.status),
        f.id,
        did.unwrap_or(&f.message)
    );
    let problem = matches!(f.status, Status::Warn | Status::Fail);
    if let Some(fix) = f.fix.as_deref().filter(|_| problem) {
        for (i, line) in fix.lines().enumerate() {
            let lead = if i == 0 { "fix:" } else { "    " };
            out.push_str(&format!("    {} {}\n", ui.paint(lead, "2"), line));
        }
    }
    if verbose || problem {
        for line in &f.details {
            out.push_str(&format!("    {line}\n"));
        }
    }
    out
}
