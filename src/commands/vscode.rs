//! `rdock vscode`: the VS Code steps of `rdock setup`, alone.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, VscodeArgs};
use crate::error::Result;
use crate::render;
use crate::steps::plan::{self, Options, Purpose, Scope};
use crate::steps::{self, Session};
use crate::sys::env::Env;
use crate::sys::exec::Exec;
use crate::sys::term::Term;

pub fn run(global: &GlobalArgs, args: &VscodeArgs) -> Result {
    let env = Env::from_process();
    let mut session = Session::new(
        Exec::new(global.verbose, global.dry_run),
        Term::detect(),
        env.clone(),
    );
    let _lock = super::write_lock(global.dry_run)?;
    let options = Options {
        editors: super::editor_options(&args.options),
        ..Options::default()
    };
    let mut steps = plan::steps(Purpose::Setup, Scope::Editors, &options, &env);
    let mode = super::writing_mode(global);
    let report = steps::run(&mut session, &mut steps, mode, &mut super::show(global));
    render::out(&format!(
        "{}\n",
        render::vscode_end(&report, global.dry_run)
    ));
    Ok(if report.failed() > 0 && !global.dry_run {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
