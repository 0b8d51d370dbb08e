//! `rdock doctor [CONTEXT | DESTINATION] [--all] [--json] [--strict]`: every step's check, no fix.
//! It never writes a file, never prompts and never adds a host key.

use std::process::ExitCode;

use crate::cli::{DoctorArgs, GlobalArgs};
use crate::docker::{self, default_context_name, ContextInfo};
use crate::error::{Error, Result, EXIT_USAGE};
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

/// What doctor checks: targets, nothing (`--all` with no ssh:// context), or this machine alone
/// (no target, and no ssh:// context to default to).
enum Picked {
    Targets(Vec<Target>),
    Nothing,
    Local,
}

pub fn run(global: &GlobalArgs, args: &DoctorArgs) -> Result {
    let result = doctor(global, args);
    if !args.json {
        return result;
    }
    // With --json every outcome is one JSON document on stdout.
    match result {
        Err(Error::Usage(message)) => {
            render::out(&render::error_json("usage", &message));
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(Error::Failed(message)) => {
            render::out(&render::error_json("failed", &message));
            Ok(ExitCode::FAILURE)
        }
        other => other,
    }
}

fn doctor(global: &GlobalArgs, args: &DoctorArgs) -> Result {
    let term = if args.json {
        Term::plain()
    } else {
        Term::detect()
    };
    let exec = Exec::new(global.verbose, false).memoized();
    let env = Env::from_process();
    super::warn_skipped_contexts(&env);
    let workspace = doctor_workspace(&env);
    let editors = super::editor_options(&args.vscode);
    let targets = match pick_targets(&env, args, workspace.as_ref())? {
        Picked::Targets(targets) => targets,
        Picked::Nothing if args.json => {
            render::out(&render::doctor_json(&[], &[], false));
            return Ok(ExitCode::SUCCESS);
        }
        Picked::Nothing => {
            render::out(&format!(
                "no ssh:// docker contexts to check; this makes one:\n  {}\n",
                render::NEXT_SETUP
            ));
            return Ok(ExitCode::SUCCESS);
        }
        Picked::Local => {
            let o = Options {
                identity: args.identity.clone(),
                editors,
                workspace: workspace.clone(),
                ..Options::default()
            };
            let mut s = Session::new(exec.clone(), term, env.clone());
            let mut steps = plan::steps(Purpose::Doctor, Scope::Local, &o, &env);
            let shown = !args.json && !global.quiet;
            let report = run_shown(&mut s, &mut steps, shown.then_some(global.verbose), None);
            let reports = [report];
            if args.json {
                render::out(&render::doctor_json(&[], &reports, true));
            } else {
                if global.quiet {
                    render::out(&quiet_findings(&reports, global.verbose));
                }
                render::out(&render::doctor_end(1, &reports, true));
            }
            return Ok(exit(args, &reports));
        }
    };
    let single = targets.len() == 1;
    let options = |t: &Target| Options {
        context: t.shown.context.clone(),
        identity: args.identity.clone(),
        no_use: args.all,
        clients: args.clients.iter().map(|&c| c.into()).collect(),
        editors: editors.clone(),
        workspace: workspace.clone(),
        ..Options::default()
    };
    if single {
        // One target: each check's lines appear as soon as it is judged.
        let target = &targets[0];
        let report = match &target.endpoint {
            Ok(endpoint) => {
                let mut s = Session::new(exec.clone(), term, env.clone());
                s.dest = Some(endpoint.dest.clone());
                s.socket = endpoint.socket.clone();
                let mut steps = plan::steps(Purpose::Doctor, Scope::All, &options(target), &env);
                let verbose = (!args.json && !global.quiet).then_some(global.verbose);
                run_shown(&mut s, &mut steps, verbose, Some(&target.shown))
            }
            Err(why) => {
                let report = unreadable(&target.shown.context, why);
                if !args.json && !global.quiet {
                    render::out(&render::doctor_title(Some(&target.shown), false));
                    let mut last = None;
                    for f in &report.findings {
                        render::out(&render::doctor_check(f, &mut last, global.verbose));
                    }
                }
                report
            }
        };
        let reports = [report];
        let shown = [targets.into_iter().next().expect("one target").shown];
        if args.json {
            render::out(&render::doctor_json(&shown, &reports, false));
        } else if global.quiet {
            render::out(&render::doctor_quiet(&shown, &reports, global.verbose));
        } else {
            render::out(&render::doctor_end(1, &reports, false));
        }
        return Ok(exit(args, &reports));
    }
    // The contexts are checked at once, each on a plain terminal: one line says what is waited on.
    let label = format!("checking {}", render::count(targets.len(), "context"));
    let mut reports: Vec<Report> = term.spin(&label, || {
        parallel_map(&targets, PARALLEL, |target| {
            let endpoint = match &target.endpoint {
                Ok(endpoint) => endpoint,
                Err(why) => return unreadable(&target.shown.context, why),
            };
            let mut s = Session::new(exec.clone(), Term::plain(), env.clone());
            s.dest = Some(endpoint.dest.clone());
            s.socket = endpoint.socket.clone();
            let mut steps =
                plan::steps(Purpose::Doctor, Scope::Destination, &options(target), &env);
            steps::run(&mut s, &mut steps, Mode::Doctor, &mut |_| {})
        })
    });
    // The editors are the same for every context: check them once, in a block of their own.
    let mut s = Session::new(exec.clone(), Term::plain(), env.clone());
    let o = Options {
        editors,
        workspace: workspace.clone(),
        ..Options::default()
    };
    let mut steps = plan::steps(Purpose::Doctor, Scope::Editors, &o, &env);
    reports.push(steps::run(&mut s, &mut steps, Mode::Doctor, &mut |_| {}));

    let shown: Vec<DoctorTarget> = targets.into_iter().map(|t| t.shown).collect();
    if args.json {
        render::out(&render::doctor_json(&shown, &reports, false));
    } else if global.quiet {
        render::out(&render::doctor_quiet(&shown, &reports, global.verbose));
    } else {
        render::out(&render::doctor_text(&shown, &reports, global.verbose));
    }
    Ok(exit(args, &reports))
}

/// `--quiet`: only the findings that need attention, as they print in a report.
fn quiet_findings(reports: &[Report], verbose: bool) -> String {
    reports
        .iter()
        .flat_map(|r| &r.findings)
        .filter(|f| render::needs_attention(f))
        .map(|f| render::finding(f, verbose))
        .collect()
}

/// Run one block of checks. With `verbose` (text output), its title first and each check's lines
/// as soon as it is judged; without (JSON), nothing is printed.
fn run_shown(
    s: &mut Session,
    steps: &mut [Box<dyn steps::Step>],
    verbose: Option<bool>,
    target: Option<&DoctorTarget>,
) -> Report {
    let Some(verbose) = verbose else {
        return steps::run(s, steps, Mode::Doctor, &mut |_| {});
    };
    render::out(&render::doctor_title(target, target.is_none()));
    let mut last = None;
    steps::run(s, steps, Mode::Doctor, &mut |f| {
        render::out(&render::doctor_check(f, &mut last, verbose));
    })
}

/// 1 when a check failed (or, with --strict, warned), else 0.
fn exit(args: &DoctorArgs, reports: &[Report]) -> ExitCode {
    let (failed, warned) = render::totals(reports);
    if failed > 0 || (args.strict && warned > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
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
) -> Result<Picked> {
    // A flag doctor does not know is a flag, not a target: clap's usage error. (A target that
    // starts with one '-' is taken, to be refused as a destination ssh would read as an option.)
    if let Some(flag) = args.target.as_deref().filter(|a| a.starts_with("--")) {
        return Err(Error::Usage(unknown_flag(flag)));
    }
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
    let from_context = |c: &ContextInfo| -> Target {
        let endpoint = Endpoint::parse(&c.endpoint);
        Target {
            shown: DoctorTarget {
                context: c.name.clone(),
                destination: endpoint
                    .as_ref()
                    .map_or_else(|_| c.endpoint.clone(), |e| e.dest.to_string()),
                endpoint: Some(c.endpoint.clone()),
                pinned_in: None,
            },
            endpoint,
        }
    };
    if args.all {
        let targets: Vec<Target> = contexts
            .iter()
            .filter(|c| c.is_ssh())
            .map(from_context)
            .collect();
        return Ok(if targets.is_empty() {
            Picked::Nothing
        } else {
            Picked::Targets(targets)
        });
    }
    let pinned = workspace.and_then(|w| Some((env.tilde(&w.dir), w.context.as_ref()?)));
    if let (None, Some((dir, name))) = (&args.target, pinned) {
        return match contexts.iter().find(|c| &c.name == name) {
            Some(c) if c.is_ssh() => {
                let mut target = from_context(c);
                target.shown.pinned_in = Some(dir);
                Ok(Picked::Targets(vec![target]))
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
        // No ssh:// context at all: check this machine, and say what to run next.
        if !contexts.iter().any(ContextInfo::is_ssh) {
            return Ok(Picked::Local);
        }
        let chosen = docker::chosen_context(env)?;
        let current = contexts.iter().find(|c| c.name == chosen);
        return match current {
            Some(c) if c.is_ssh() => Ok(Picked::Targets(vec![from_context(c)])),
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
        return Ok(Picked::Targets(vec![from_context(c)]));
    }
    // A bare word that is no context and no Host of ~/.ssh/config is a misspelt context name
    // far more often than a host: it is not dialled.
    if !arg.contains('@') && !arg.contains(':') && !ssh_config_names(env, arg) {
        let names: Vec<&str> = contexts.iter().map(|c| c.name.as_str()).collect();
        let near = closest(arg, &names);
        let mean = match near.as_slice() {
            [] => String::new(),
            near => format!("; did you mean {}?", near.join(" or ")),
        };
        return Err(Error::Usage(format!(
            "error: no such context: {arg}{mean}\nrdock doctor takes a docker context (rdock list shows them), a Host of ~/.ssh/config, or user@host"
        )));
    }
    let dest = Destination::parse(arg).map_err(|e| {
        Error::Usage(format!(
            "error: no docker context is named {arg:?}, and {e}"
        ))
    })?;
    Ok(Picked::Targets(vec![Target {
        shown: DoctorTarget {
            context: default_context_name(&dest),
            destination: dest.to_string(),
            endpoint: None,
            pinned_in: None,
        },
        endpoint: Ok(Endpoint { dest, socket: None }),
    }]))
}

/// clap's own error for an argument it does not know, as `rdock doctor` would print it.
fn unknown_flag(flag: &str) -> String {
    let mut cli = <crate::cli::Cli as clap::CommandFactory>::command();
    cli.build();
    let doctor = cli
        .find_subcommand_mut("doctor")
        .expect("doctor is a subcommand");
    doctor
        .error(
            clap::error::ErrorKind::UnknownArgument,
            format!("unexpected argument '{flag}' found"),
        )
        .render()
        .to_string()
        .trim_end()
        .to_string()
}

/// Does a `Host` line of ~/.ssh/config name `host`?
fn ssh_config_names(env: &Env, host: &str) -> bool {
    env.ssh_config()
        .and_then(|path| crate::ssh::config::read(&path).ok())
        .is_some_and(|text| crate::ssh::config::names_host(&text, host))
}

/// The names closest to `typed` (a typo's edit distance: at most 2, or a third of its length),
/// nearest first.
fn closest<'a>(typed: &str, names: &[&'a str]) -> Vec<&'a str> {
    let most = (typed.chars().count() / 3).max(2);
    let mut near: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (distance(typed, n), *n))
        .filter(|(d, _)| *d <= most)
        .collect();
    near.sort();
    let best = near.first().map(|(d, _)| *d);
    near.into_iter()
        .filter(|(d, _)| Some(*d) == best)
        .map(|(_, n)| n)
        .take(3)
        .collect()
}

/// Edits from `a` to `b`: insertions, deletions, substitutions and swaps of two neighbours
/// (`nearyl` is one swap from `nearly`).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_finds_the_names_it_is_nearest_to() {
        assert_eq!(distance("nearyl", "nearly"), 1);
        assert_eq!(closest("nearyl", &["nearly", "far", "nearby"]), ["nearly"]);
        assert_eq!(closest("boxx", &["box", "bax", "other"]), ["box"]);
        assert!(closest("zzzzzz", &["box", "nearly"]).is_empty());
    }
}
