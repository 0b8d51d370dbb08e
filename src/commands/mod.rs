//! One file per subcommand.

mod doctor;
mod list;
mod remove;
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
        Command::List(args) => list::run(&cli.global, &args),
        Command::Remove(args) => remove::run(&cli.global, &args),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "rdock", &mut std::io::stdout());
            EXIT_OK
        }
        Command::Man => {
            let man = clap_mangen::Man::new(<Cli as clap::CommandFactory>::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => EXIT_OK,
                Err(e) => {
                    eprintln!("error: cannot print the man page: {e}");
                    EXIT_FAILED
                }
            }
        }
    }
}

/// Run `f` on every item with at most `limit` threads at once; results keep the items' order.
pub(crate) fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    limit: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<R>>> =
        std::sync::Mutex::new(items.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..limit.clamp(1, items.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
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
