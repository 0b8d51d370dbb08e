//! `rdock setup DESTINATION`: every step of the guide, in order; each checks first and acts only
//! when needed. With `--dry-run` it checks, shows what each fix would run, and changes nothing.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, SetupArgs};
use crate::docker::{self, default_context_name};
use crate::error::{Error, Result};
use crate::render;
use crate::ssh::destination::Destination;
use crate::steps::plan::{self, Options, Purpose, Scope};
use crate::steps::{self, Session};
use crate::sys::env::Env;
use crate::sys::exec::Exec;
use crate::sys::term::Term;

pub fn run(global: &GlobalArgs, args: &SetupArgs) -> Result {
    let dest =
        Destination::parse(&args.destination).map_err(|e| Error::Usage(format!("error: {e}")))?;
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_context_name(&dest));
    docker::validate_name(&name).map_err(|e| Error::Usage(format!("error: {e}")))?;
    let env = Env::from_process();
    super::warn_skipped_contexts(&env);
    let mut s = Session::new(
        Exec::new(global.verbose, global.dry_run),
        Term::detect(),
        env.clone(),
    );
    s.dest = Some(dest);
    let _lock = super::write_lock(global.dry_run)?;
    let options = Options {
        context: name.clone(),
        identity: args.identity.clone(),
        no_passphrase: args.no_passphrase,
        yes: args.yes,
        accept_host_key: args.accept_host_key,
        host_keys: args.host_keys.clone(),
        install_key: args.install_key,
        force: args.force,
        no_use: args.no_use,
        multiplex: args.multiplex,
        no_multiplex: args.no_multiplex,
        clients: Vec::new(),
        editors: super::editor_options(&args.vscode),
        workspace: None,
    };
    let mut steps = plan::steps(Purpose::Setup, Scope::All, &options, &env);
    let mode = super::writing_mode(global);
    let report = steps::run(&mut s, &mut steps, mode, &mut super::show(global));
    let devcontainer = [".devcontainer/devcontainer.json", ".devcontainer.json"]
        .iter()
        .any(|f| std::path::Path::new(f).is_file());
    let end = render::setup_end(&report, global.dry_run, &name, devcontainer);
    // --quiet: the summary line alone, without the hints after it.
    let end = match global.quiet {
        true => end
            .lines()
            .next()
            .map(|l| format!("{l}\n"))
            .unwrap_or_default(),
        false => end,
    };
    render::out(&end);
    let failed = report.stopped || report.failed() > 0;
    Ok(if failed && !global.dry_run {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
