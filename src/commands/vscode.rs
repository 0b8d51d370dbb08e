//! `rdock vscode`: the VS Code steps of `rdock setup`, alone; with `--workspace DIR`, the pin of
//! a docker context for that folder alone.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::{GlobalArgs, VscodeArgs};
use crate::docker;
use crate::error::{Error, Result};
use crate::render;
use crate::steps::plan::{self, Options, Purpose, Scope, WorkspaceOptions};
use crate::steps::{self, Session};
use crate::sys::env::Env;
use crate::sys::exec::Exec;
use crate::sys::term::Term;

pub fn run(global: &GlobalArgs, args: &VscodeArgs) -> Result {
    let env = Env::from_process();
    let workspace = match &args.workspace {
        Some(dir) => Some(workspace(&env, dir, args.context.as_deref())?),
        None => None,
    };
    let mut session = Session::new(
        Exec::new(global.verbose, global.dry_run),
        Term::detect(),
        env.clone(),
    );
    let _lock = super::write_lock(global.dry_run)?;
    let scope = match workspace {
        Some(_) => Scope::Workspace,
        None => Scope::Editors,
    };
    let options = Options {
        editors: super::editor_options(&args.options),
        workspace,
        ..Options::default()
    };
    let mut steps = plan::steps(Purpose::Setup, scope, &options, &env);
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

/// `--workspace DIR [--context NAME]`: DIR must be a folder, and NAME (by default the current
/// context) a context in docker's store; anything else is a usage error and nothing is written.
fn workspace(env: &Env, dir: &Path, context: Option<&str>) -> Result<WorkspaceOptions> {
    if !dir.is_dir() {
        return Err(Error::Usage(format!(
            "error: --workspace {}: no such folder",
            dir.display()
        )));
    }
    let name = match context {
        Some(name) => name.to_string(),
        None => docker::chosen_context(env)?,
    };
    if !docker::list(env)?.iter().any(|c| c.name == name) {
        return Err(Error::Usage(format!(
            "error: no docker context is named {name:?} (docker context ls lists them; rdock setup user@host --name {name} makes one)"
        )));
    }
    Ok(WorkspaceOptions {
        dir: std::path::absolute(dir).unwrap_or(dir.to_path_buf()),
        context: Some(name),
    })
}
