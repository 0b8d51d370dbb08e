//! `rdock doctor [CONTEXT | DESTINATION] [--all] [--json] [--strict]`: every step's check, no fix.
//! It never writes a file, never prompts and never adds a host key.

use std::process::ExitCode;

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::docker::{self, default_context_name, ContextInfo};
use crate::error::{Error, Result};
use crate::render::{self, DoctorTarget};
use crate::ssh::destination::{Destination, Endpoint, InvalidDestination};
use crate::steps::plan::{self, Options, Purpose, Scope, WorkspaceOptions};
use crate::steps::{self, Finding, Kind, Mode, Report, Session};
use crate::sys::env::Env;
use crate::sys::exec::Exec;
use crate::sys::term::Term;
use crate::vscode::settings::read_text;
use crate::vscode::workspace::{self, Pins};

use super::parallel_map;

/// How many contexts `--all` checks at once.
const PARALLEL: usize = 8;

/// What doctor looks at.
struct Target {
    shown: DoctorTarget,
    /// The destination and the socket it names, or why the endpoint cannot be checked.
    endpoint: std::result::Result<Endpoint, InvalidDestination>,
}

pub fn run(global: &GlobalArgs, args: &DoctorArgs) -> Result {
    let term = if args.json {
        Term::plain()
    } else {
        Term::detect()
    };
    let exec = Exec::new(global.verbose, false).memoized();
    let env = Env::from_process();
    let workspace = doctor_workspace(&env);
    let targets = pick_targets(&env, args, workspace.as_ref())?;
    if targets.is_empty() {
        render::out("no ssh:// docker contexts to check; rdock setup user@host makes one\n");
        return Ok(ExitCode::SUCCESS);
    }
    let single = targets.len() == 1;
    let options = |t: &Target| Options {
        context: t.shown.context.clone(),
        identity: args.identity.clone(),
        no_use: args.all,
        clients: args.clients.iter().map(|&c| c.into()).collect(),
        editors: super::editor_options(&args.vscode),
        workspace: workspace.clone(),
        ..Options::default()
    };
    let scope = if single {
        Scope::All
    } else {
        Scope::Destination
    };
    let mut reports: Vec<Report> = parallel_map(&targets, PARALLEL, |target| {
        let term = if single { term.clone() } else { Term::plain() };
        let endpoint = match &target.endpoint {
            Ok(endpoint) => endpoint,
            Err(why) => return unreadable(&target.shown.context, why),
        };
        let mut s = Session::new(exec.clone(), term, env.clone());
        s.dest = Some(endpoint.dest.clone());
        s.socket = endpoint.socket.clone();
        let mut steps = plan::steps(Purpose::Doctor, scope, &options(target), &env);
        steps::run(&mut s, &mut steps, Mode::Doctor, &mut |_| {})
    });
    if !single {
        // The editors are the same for every context: check them once, in a block of their own.
        let mut s = Session::new(exec.clone(), Term::plain(), env.clone());
        let o = Options {
            editors: super::editor_options(&args.vscode),
            workspace: workspace.clone(),
            ..Options::default()
        };
        let mut steps = plan::steps(Purpose::Doctor, Scope::Editors, &o, &env);
        reports.push(steps::run(&mut s, &mut steps, Mode::Doctor, &mut |_| {}));
    }

    let shown: Vec<DoctorTarget> = targets.into_iter().map(|t| t.shown).collect();
    if args.json {
        render::out(&render::doctor_json(&shown, &reports));
    } else if global.quiet {
        render::out(&render::doctor_quiet(&shown, &reports, global.verbose));
    } else {
        render::out(&render::doctor_text(&shown, &reports, global.verbose));
    }
    let (failed, warned) = render::totals(&reports);
    Ok(if failed > 0 || (args.strict && warned > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The report for a context whose endpoint rdock cannot check: one failure that says why. The
/// other contexts are checked all the same.
fn unreadable(context: &str, why: &InvalidDestination) -> Report {
    let mut finding = Finding::fail(
        "context",
        format!("context {context} has an endpoint rdock cannot check: {why}"),
        "docker context inspect shows the endpoint; rdock checks ssh://[user@]host[:port][/socket]",
    );
    finding.group = Some(Kind::Context.group());
    Report {
        findings: vec![finding],
        ..Report::default()
    }
}

/// The VS Code workspace doctor runs in: the current directory or its nearest ancestor holding
/// `.vscode/settings.json`, with the context its settings pin when they agree on one. (A file
/// that cannot be read pins nothing here; the workspace check reports it.)
fn doctor_workspace(env: &Env) -> Option<WorkspaceOptions> {
    let dir = env.cwd.as_deref().and_then(workspace::find)?;
    let text = read_text(&workspace::settings_path(&dir)).ok().flatten();
    let pins = text.and_then(|text| Pins::from_text(&text).ok());
    Some(WorkspaceOptions {
        context: pins.and_then(|p| p.agreed().map(str::to_string)),
        dir,
    })
}

fn pick_targets(
    env: &Env,
    args: &DoctorArgs,
    workspace: Option<&WorkspaceOptions>,
) -> Result<Vec<Target>> {
    // Refuse what is neither a context name nor a destination before running anything.
    if let Some(arg) = args
        .target
        .as_deref()
        .filter(|a| !docker::follows_docker_rule(a))
    {
        if let Err(e) = Destination::parse(arg) {
            return Err(Error::Usage(format!(
                "error: {arg:?} is not a docker context name, and {e}"
            )));
        }
    }
    let contexts = docker::list(env)?;
    let from_context = |c: &ContextInfo| -> Result<Target> {
        let endpoint = Endpoint::parse(&c.endpoint);
        Ok(Target {
            shown: DoctorTarget {
                context: c.name.clone(),
                destination: endpoint
                    .as_ref()
                    .map_or_else(|_| c.endpoint.clone(), |e| e.dest.to_string()),
                endpoint: Some(c.endpoint.clone()),
                pinned_in: None,
            },
            endpoint,
        })
    };
    if args.all {
        return contexts
            .iter()
            .filter(|c| c.is_ssh())
            .map(from_context)
            .collect();
    }
    let pinned = workspace.and_then(|w| Some((env.tilde(&w.dir), w.context.as_ref()?)));
    if let (None, Some((dir, name))) = (&args.target, pinned) {
        return match contexts.iter().find(|c| &c.name == name) {
            Some(c) if c.is_ssh() => {
                let mut target = from_context(c)?;
                target.shown.pinned_in = Some(dir);
                Ok(vec![target])
            }
            Some(c) => Err(Error::Usage(format!(
                "the workspace {dir} pins context {name} ({}), not an ssh:// one.\nPick a target: rdock doctor CONTEXT, rdock doctor user@host, or rdock doctor --all",
                c.endpoint
            ))),
            None => Err(Error::Usage(format!(
                "the workspace {dir} pins context {name}, and docker has no context of that name.\nrdock setup user@host --name {name} makes it; rdock doctor CONTEXT checks another"
            ))),
        };
    }
    let Some(arg) = &args.target else {
        let chosen = docker::chosen_context(env)?;
        let current = contexts.iter().find(|c| c.name == chosen);
        return match current {
            Some(c) if c.is_ssh() => Ok(vec![from_context(c)?]),
            Some(c) => Err(Error::Usage(format!(
                "the current docker context is {} ({}), not an ssh:// one.\nPick a target: rdock doctor CONTEXT, rdock doctor user@host, or rdock doctor --all",
                c.name, c.endpoint
            ))),
            None => Err(Error::Usage("docker names no current context; pick a target: rdock doctor CONTEXT or rdock doctor user@host".into())),
        };
    };
    if let Some(c) = contexts.iter().find(|c| &c.name == arg) {
        if !c.is_ssh() {
            return Err(Error::Usage(format!(
                "context {} uses {}, not ssh://; rdock doctor checks ssh contexts",
                c.name, c.endpoint
            )));
        }
        return Ok(vec![from_context(c)?]);
    }
    let dest = Destination::parse(arg).map_err(|e| {
        Error::Usage(format!(
            "error: no docker context is named {arg:?}, and {e}"
        ))
    })?;
    Ok(vec![Target {
        shown: DoctorTarget {
            context: default_context_name(&dest),
            destination: dest.to_string(),
            endpoint: None,
            pinned_in: None,
        },
        endpoint: Ok(Endpoint { dest, socket: None }),
    }])
}
