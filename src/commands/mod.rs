//! One file per subcommand: build the plan, run it, hand the report to `render`.

mod doctor;
mod list;
mod printed;

pub use printed::man_page;
mod remove;
mod setup;
mod vscode;

use std::process::ExitCode;

use crate::cli::{Cli, Color, Command, GlobalArgs, VscodeOptions};
use crate::error::{Error, Result};
use crate::render;
use crate::steps::plan::EditorOptions;
use crate::steps::{Finding, Mode};

pub fn run(cli: Cli) -> ExitCode {
    crate::sys::signal::install(crate::sys::exec::end_running);
    let global = match cli.global() {
        Ok(global) => global,
        Err(e) => return e.exit_code_after(render::err),
    };
    anstream::ColorChoice::write_global(match global.color {
        Color::Auto => anstream::ColorChoice::Auto,
        Color::Always => anstream::ColorChoice::Always,
        Color::Never => anstream::ColorChoice::Never,
    });
    render::set_width(crate::sys::term::width());
    let result = match cli.command {
        Command::Setup(args) => setup::run(&global, &args),
        Command::Doctor(args) => doctor::run(&global, &args),
        Command::Vscode(args) => vscode::run(&global, &args),
        Command::List(args) => list::run(&global, &args),
        Command::Remove(args) => remove::run(&global, &args),
        Command::Completions(args) => printed::completions(args.shell),
        Command::Man => printed::man(),
    };
    // Nothing rdock started outlives it.
    crate::sys::exec::end_running();
    let result = match (result, crate::sys::signal::caught()) {
        (_, Some(signal)) => Err(Error::Interrupted(signal)),
        (result, _) => result,
    };
    result.unwrap_or_else(|e| e.exit_code_after(render::err))
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
/// nothing, not even the lock file).
pub(crate) fn write_lock(dry_run: bool) -> Result<Option<crate::sys::lock::WriteLock>> {
    if dry_run {
        return Ok(None);
    }
    Ok(Some(crate::sys::lock::acquire()?))
}

/// Warn, on stderr, of each docker context rdock skipped because its file in docker's store
/// could not be read: the others are listed and checked all the same.
pub(crate) fn warn_skipped_contexts(env: &crate::sys::env::Env) {
    if let Ok(store) = crate::docker::store(env) {
        for line in store.skipped {
            render::err(&render::warn_line(&line));
        }
    }
}

/// How a command that changes things runs its steps: fix them, or under --dry-run say what it
/// would do.
pub(crate) fn writing_mode(global: &GlobalArgs) -> Mode {
    if global.dry_run {
        Mode::DryRun
    } else {
        Mode::Setup
    }
}

/// Print one step's lines as setup goes (under --quiet, only what needs attention).
pub(crate) fn show(global: &GlobalArgs) -> impl FnMut(&Finding) + '_ {
    move |f| {
        if !global.quiet || render::needs_attention(f) {
            render::out(&render::finding(f, global.verbose))
        }
    }
}

/// The editor options of the command line, as the plan takes them.
pub(crate) fn editor_options(o: &VscodeOptions) -> EditorOptions {
    EditorOptions {
        settings: o.settings.clone(),
        interval: o.refresh_interval,
    }
}
