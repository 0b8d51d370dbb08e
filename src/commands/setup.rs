//! `rdock setup DESTINATION`: every step of the guide, in order; each checks first and acts only
//! when needed.

use crate::agent::{AgentKeysStep, AgentStep, IdentityStep};
use crate::cli::{GlobalArgs, SetupArgs};
use crate::context::{self, ContextStep, EnvStep, UseStep, VerifyStep};
use crate::destination::{default_context_name, Destination, DestinationStep};
use crate::exec::Exec;
use crate::keys::{self, KeyStep};
use crate::known_hosts::HostKeyStep;
use crate::multiplex::MultiplexStep;
use crate::platform::Platform;
use crate::remote::{AuthStep, ConnectionStep, RemoteDaemonStep, RemotePathStep};
use crate::session::Session;
use crate::step::{self, Mode, Step};
use crate::tools::ToolsStep;
use crate::ui::Ui;
use crate::vscode::{self, Discovery};

use super::{show, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

pub fn run(global: &GlobalArgs, args: &SetupArgs) -> u8 {
    let dest = match Destination::parse(&args.destination) {
        Ok(dest) => dest,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| default_context_name(&dest));
    if let Err(e) = context::validate_name(&name) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    let mut s = Session::new(
        Exec::new(global.verbose, global.dry_run),
        Ui::detect(),
        Platform::detect(),
    );
    s.dest = Some(dest);
    let Ok(_lock) = super::write_lock(s.exec.dry_run) else {
        return EXIT_FAILED;
    };
    let identity = args.identity.clone().unwrap_or_else(keys::default_identity);
    let mut steps: Vec<Box<dyn Step>> = vec![
        Box::new(ToolsStep),
        Box::new(DestinationStep),
        Box::new(KeyStep::new(Some(identity), args.no_passphrase)),
        Box::new(crate::ssh_config::SshConfigStep { yes: args.yes }),
        Box::new(AgentStep { yes: args.yes }),
        Box::new(IdentityStep),
        Box::new(AgentKeysStep),
        Box::new(ConnectionStep),
        Box::new(HostKeyStep {
            accept: args.accept_host_key || args.yes,
        }),
        Box::new(AuthStep {
            install: args.install_key || args.yes,
        }),
        Box::new(RemotePathStep),
        Box::new(RemoteDaemonStep),
        Box::new(ContextStep::new(name.clone(), args.force)),
        Box::new(UseStep {
            name: name.clone(),
            no_use: args.no_use,
        }),
        Box::new(EnvStep { name: name.clone() }),
        Box::new(VerifyStep { name: name.clone() }),
    ];
    if args.multiplex {
        // Before verify, so the check of the whole path runs through the new master.
        let verify = steps.len() - 1;
        steps.insert(
            verify,
            Box::new(MultiplexStep {
                context: name.clone(),
                enable: true,
            }),
        );
    }
    steps.extend(vscode::steps(
        &Discovery::from_env(s.platform),
        &args.vscode,
    ));
    let report = step::run(&mut s, &mut steps, Mode::Setup, &mut show);
    if report.stopped || report.failed() > 0 {
        println!(
            "{} setup did not finish: fix what is marked ✗ above, then run it again",
            s.ui.symbol(step::Status::Fail)
        );
        return EXIT_FAILED;
    }
    if s.exec.dry_run {
        println!(
            "dry run: {} step(s) would change something; nothing was changed",
            report.changed
        );
    } else if report.changed == 0 {
        println!("Everything is already set up; nothing changed.");
    } else {
        println!(
            "Done: {} change(s). Try: docker --context {name} ps",
            report.changed
        );
    }
    EXIT_OK
}
