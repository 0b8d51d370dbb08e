//! `rdock doctor [CONTEXT | DESTINATION] [--all] [--json] [--strict]`: every step's check, no fix.
//! It never writes a file, never prompts and never adds a host key.

use serde_json::json;

use crate::agent::{AgentKeysStep, AgentStep, IdentityStep};
use crate::cli::{DoctorArgs, GlobalArgs, VscodeOptions};
use crate::context::{self, ContextInfo, ContextStep, EnvStep, UseStep};
use crate::destination::{default_context_name, Destination, DestinationStep};
use crate::exec::Exec;
use crate::keys::KeyStep;
use crate::known_hosts::HostKeyStep;
use crate::multiplex::MultiplexStep;
use crate::platform::Platform;
use crate::remote::{AuthStep, ConnectionStep, RemoteDaemonStep, RemotePathStep};
use crate::session::Session;
use crate::step::{self, Finding, Mode, Report, Status, Step};
use crate::tools::ToolsStep;
use crate::ui::Ui;
use crate::vscode::{self, Discovery};

use super::{parallel_map, render, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

/// How many contexts `--all` checks at once.
const PARALLEL: usize = 8;

/// What doctor looks at.
#[derive(Clone, Debug)]
struct Target {
    /// The docker context (existing, or the name setup would give a destination).
    context: String,
    dest: Destination,
    /// The context's endpoint, when the target is an existing context.
    endpoint: Option<String>,
}

impl Target {
    fn json(&self) -> serde_json::Value {
        json!({
            "kind": if self.endpoint.is_some() { "context" } else { "destination" },
            "context": self.context,
            "destination": self.dest.to_string(),
            "endpoint": self.endpoint,
        })
    }

    fn title(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("context {} → {endpoint}", self.context),
            None => format!("destination {} (context {})", self.dest, self.context),
        }
    }
}

pub fn run(global: &GlobalArgs, args: &DoctorArgs) -> u8 {
    let ui = if args.json { Ui::plain() } else { Ui::detect() };
    let exec = Exec::new(global.verbose, false).memoized();
    let platform = Platform::detect();
    let lookup = Session::new(exec.clone(), ui.quiet(), platform);
    let targets = match pick_targets(&lookup, args) {
        Ok(targets) => targets,
        Err((code, message)) => {
            eprintln!("{message}");
            return code;
        }
    };
    if targets.is_empty() {
        println!("no ssh:// docker contexts to check; rdock setup user@host makes one");
        return EXIT_OK;
    }
    // Only now: nothing may run for a target that is refused.
    prefetch_local(&exec);

    let single = targets.len() == 1;
    let mut reports: Vec<Report> = parallel_map(&targets, PARALLEL, |target| {
        let ui = if single { ui.clone() } else { ui.quiet() };
        let vscode = single.then_some(&args.vscode);
        diagnose(
            target,
            args,
            Session::new(exec.clone(), ui, platform),
            vscode,
        )
    });
    if !single {
        // The editors are the same for every context: check them once, in a block of their own.
        let mut s = Session::new(exec.clone(), ui.quiet(), platform);
        reports.push(run_steps(&mut s, vscode_steps(&args.vscode)));
    }

    let failed: usize = reports.iter().map(Report::failed).sum();
    let warned: usize = reports.iter().map(Report::warned).sum();
    if args.json {
        print_json(&targets, &reports, failed, warned);
    } else {
        print_text(&ui, global.verbose, &targets, &reports, failed, warned);
    }
    if failed > 0 || (args.strict && warned > 0) {
        EXIT_FAILED
    } else {
        EXIT_OK
    }
}

/// Run the local checks' slowest commands (each docker call starts a Go program) at once, in the
/// background: the memoized Exec hands their answers to the checks when they ask, so the local
/// checks run concurrently with each other, as the remote probe runs concurrently with them.
fn prefetch_local(exec: &Exec) {
    let [ssh_v, docker_v] = crate::tools::version_cmds();
    for cmd in [ssh_v, docker_v, context::show_cmd()] {
        let exec = exec.clone();
        std::thread::spawn(move || exec.run(&cmd));
    }
}

fn pick_targets(s: &Session, args: &DoctorArgs) -> Result<Vec<Target>, (u8, String)> {
    // Refuse what is neither a context name nor a destination before running anything.
    if let Some(arg) = args
        .target
        .as_deref()
        .filter(|a| !context::follows_docker_rule(a))
    {
        if let Err(e) = Destination::parse(arg) {
            return Err((
                EXIT_USAGE,
                format!("error: {arg:?} is not a docker context name, and {e}"),
            ));
        }
    }
    let contexts = context::list(s).map_err(|e| (EXIT_FAILED, format!("error: {e:#}")))?;
    let from_context = |c: &ContextInfo| -> Result<Target, (u8, String)> {
        let dest = Destination::parse(&c.endpoint).map_err(|e| {
            (
                EXIT_FAILED,
                format!(
                    "error: context {} has an endpoint rdock cannot check: {e}",
                    c.name
                ),
            )
        })?;
        Ok(Target {
            context: c.name.clone(),
            dest,
            endpoint: Some(c.endpoint.clone()),
        })
    };
    if args.all {
        return contexts
            .iter()
            .filter(|c| c.is_ssh())
            .map(from_context)
            .collect();
    }
    let Some(arg) = &args.target else {
        let current = contexts.iter().find(|c| c.current);
        return match current {
            Some(c) if c.is_ssh() => Ok(vec![from_context(c)?]),
            Some(c) => Err((
                EXIT_USAGE,
                format!(
                    "the current docker context is {} ({}), not an ssh:// one.\nPick a target: rdock doctor CONTEXT, rdock doctor user@host, or rdock doctor --all",
                    c.name, c.endpoint
                ),
            )),
            None => Err((EXIT_USAGE, "docker names no current context; pick a target: rdock doctor CONTEXT or rdock doctor user@host".into())),
        };
    };
    if let Some(c) = contexts.iter().find(|c| &c.name == arg) {
        if !c.is_ssh() {
            return Err((
                EXIT_USAGE,
                format!(
                    "context {} uses {}, not ssh://; rdock doctor checks ssh contexts",
                    c.name, c.endpoint
                ),
            ));
        }
        return Ok(vec![from_context(c)?]);
    }
    let dest = Destination::parse(arg).map_err(|e| {
        (
            EXIT_USAGE,
            format!("error: no docker context is named {arg:?}, and {e}"),
        )
    })?;
    Ok(vec![Target {
        context: default_context_name(&dest),
        dest,
        endpoint: None,
    }])
}

/// Every check for one target, in the order setup runs them.
fn diagnose(
    target: &Target,
    args: &DoctorArgs,
    mut s: Session,
    vscode: Option<&VscodeOptions>,
) -> Report {
    s.dest = Some(target.dest.clone());
    s.prefetch = true;
    let name = target.context.clone();
    let mut steps: Vec<Box<dyn Step>> = vec![
        Box::new(ToolsStep),
        Box::new(DestinationStep),
        Box::new(KeyStep::new(args.identity.clone(), false)),
        Box::new(crate::ssh_config::SshConfigStep { yes: false }),
        Box::new(AgentStep { yes: false }),
        Box::new(IdentityStep),
        Box::new(AgentKeysStep),
        Box::new(ConnectionStep),
        Box::new(HostKeyStep { accept: false }),
        Box::new(AuthStep { install: false }),
        Box::new(RemotePathStep),
        Box::new(RemoteDaemonStep),
        Box::new(MultiplexStep {
            context: name.clone(),
            enable: false,
        }),
        Box::new(ContextStep::new(name.clone(), false)),
        Box::new(UseStep {
            name: name.clone(),
            no_use: args.all,
        }),
        Box::new(EnvStep { name }),
    ];
    if let Some(opts) = vscode {
        steps.extend(vscode_steps(opts));
    }
    run_steps(&mut s, steps)
}

fn run_steps(s: &mut Session, mut steps: Vec<Box<dyn Step>>) -> Report {
    step::run(s, &mut steps, Mode::Doctor, &mut |_, _, _| {})
}

fn vscode_steps(opts: &VscodeOptions) -> Vec<Box<dyn Step>> {
    vscode::steps(&Discovery::from_env(Platform::detect()), opts)
}

/// flutter-doctor-like groups, by check id.
fn group(id: &str) -> &'static str {
    match id {
        "tools" | "destination" | "key" | "ssh-config" | "agent" | "identity" | "agent-keys" => {
            "Local"
        }
        "connection" | "host-key" | "auth" | "remote-path" | "remote-daemon" | "multiplex" => {
            "Remote"
        }
        "context" | "use" | "environment" => "Docker context",
        _ => "VS Code",
    }
}

fn summary(failed: usize, warned: usize) -> String {
    if failed == 0 && warned == 0 {
        return "no issues found".into();
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(failed, "problem"),
        plural(warned, "warning")
    )
}

fn print_text(
    ui: &Ui,
    verbose: bool,
    targets: &[Target],
    reports: &[Report],
    failed: usize,
    warned: usize,
) {
    for (i, report) in reports.iter().enumerate() {
        match targets.get(i) {
            Some(t) => println!("{}", ui.bold(&format!("rdock doctor: {}", t.title()))),
            None => println!("{}", ui.bold("rdock doctor: editors")),
        }
        let mut last = "";
        for f in &report.findings {
            let g = group(&f.id);
            if g != last {
                println!("{}", ui.paint(g, "1"));
                last = g;
            }
            print!(
                "  {}",
                render(ui, verbose, f, None).replace("\n    ", "\n      ")
            );
        }
        println!();
    }
    let status = if failed > 0 {
        Status::Fail
    } else if warned > 0 {
        Status::Warn
    } else {
        Status::Ok
    };
    let scope = if targets.len() > 1 {
        format!("{} contexts: ", targets.len())
    } else {
        String::new()
    };
    println!("{} {scope}{}", ui.symbol(status), summary(failed, warned));
}

fn checks_json(findings: &[Finding]) -> serde_json::Value {
    findings
        .iter()
        .map(|f| json!({"id": f.id, "status": f.status, "message": f.message, "fix": f.fix}))
        .collect()
}

fn summary_json(failed: usize, warned: usize) -> serde_json::Value {
    json!({"problems": failed, "warnings": warned, "text": summary(failed, warned)})
}

fn print_json(targets: &[Target], reports: &[Report], failed: usize, warned: usize) {
    let value = if let ([t], [r]) = (targets, reports) {
        json!({"target": t.json(), "checks": checks_json(&r.findings), "summary": summary_json(failed, warned)})
    } else {
        let blocks: Vec<_> = targets
            .iter()
            .zip(reports)
            .map(|(t, r)| json!({"target": t.json(), "checks": checks_json(&r.findings), "summary": summary_json(r.failed(), r.warned())}))
            .collect();
        let editors = reports.get(targets.len()).map(|r| checks_json(&r.findings));
        json!({"targets": blocks, "editors": editors, "summary": summary_json(failed, warned)})
    };
    println!(
        "{}",
        serde_json::to_string_pretty(&value).unwrap_or_default()
    );
}
