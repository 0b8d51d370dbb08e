//! `rdock remove NAME [--revoke [--force]] [--yes]`: take a context away again. Switches to
//! `default` first when it is the current one. Never touches keys or known_hosts. The remote is
//! left alone unless `--revoke` asks rdock to take its key out of the remote authorized_keys
//! first; otherwise rdock prints the command that does it by hand. The work is the plan's
//! removal steps (steps::remove), run as setup runs its steps, with one question for all of it.

use std::process::ExitCode;

use crate::cli::{GlobalArgs, RemoveArgs};
use crate::docker;
use crate::error::{Error, Result};
use crate::render;
use crate::steps::plan::{self, Options, Purpose, Scope};
use crate::steps::{self, Outcome, Session};
use crate::sys::env::Env;
use crate::sys::exec::Exec;
use crate::sys::term::Term;

pub fn run(global: &GlobalArgs, args: &RemoveArgs) -> Result {
    docker::validate_name(&args.name).map_err(|e| Error::Usage(format!("error: {e}")))?;
    let env = Env::from_process();
    let term = Term::detect();
    // Without a terminal the question is refused at once, and that is an error, not a no.
    let interactive = term.is_interactive();
    let exec = Exec::new(global.verbose, global.dry_run);
    let mut s = Session::new(exec, term, env.clone());
    let _lock = super::write_lock(global.dry_run)?;
    let options = Options {
        context: args.name.clone(),
        identity: args.identity.clone(),
        yes: args.yes,
        force: args.force,
        ..Options::default()
    };
    let purpose = Purpose::Remove {
        revoke: args.revoke,
    };
    let mut steps = plan::steps(purpose, Scope::All, &options, &env);
    let mode = super::writing_mode(global);
    let report = steps::run(&mut s, &mut steps, mode, &mut |f| {
        let (out, err) = render::removal(f);
        render::out(&out);
        render::err(&err);
    });
    let declined = report.findings.iter().find_map(|f| match &f.outcome {
        Some(Outcome::Declined(why)) => Some(why.clone()),
        _ => None,
    });
    match declined {
        Some(why) if !interactive => Err(Error::Failed(format!("error: {why}"))),
        Some(_) => {
            render::out("nothing removed\n");
            Err(Error::Reported)
        }
        None if report.stopped || report.failed() > 0 => Err(Error::Reported),
        None => Ok(ExitCode::SUCCESS),
    }
}
