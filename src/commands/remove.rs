//! `rdock remove NAME [--yes]`: take a context away again. Switches to `default` first when it
//! is the current one. Never touches keys, known_hosts or the remote: it says how to revoke the
//! key there.

use crate::cli::{GlobalArgs, RemoveArgs};
use crate::context::{self, ContextInfo};
use crate::destination::Destination;
use crate::exec::{quote, Cmd, Exec};
use crate::platform::Platform;
use crate::session::Session;
use crate::step::Status;
use crate::ui::Ui;
use crate::{multiplex, ssh_config};

use super::{write_lock, EXIT_FAILED, EXIT_OK, EXIT_USAGE};

pub fn run(global: &GlobalArgs, args: &RemoveArgs) -> u8 {
    if let Err(e) = context::validate_name(&args.name) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    let s = Session::new(
        Exec::new(global.verbose, global.dry_run),
        Ui::detect(),
        Platform::detect(),
    );
    let found = match context::list(&s) {
        Ok(all) => all.into_iter().find(|c| c.name == args.name),
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
    };
    let Some(ctx) = found else {
        eprintln!(
            "error: there is no docker context named {}; `rdock list` shows them",
            args.name
        );
        return EXIT_FAILED;
    };
    if !global.dry_run {
        let question = format!("Remove docker context {} ({})?", ctx.name, ctx.endpoint);
        match s.ui.confirm(&question, args.yes, "--yes") {
            Ok(true) => {}
            Ok(false) => {
                println!("nothing removed");
                return EXIT_FAILED;
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_FAILED;
            }
        }
    }
    let Ok(_lock) = write_lock(global.dry_run) else {
        return EXIT_FAILED;
    };
    match remove(&s, &ctx) {
        Ok(done) => {
            for line in done {
                println!("{} {line}", s.ui.symbol(Status::Ok));
            }
            if let Some(hint) = revoke_hint(&ctx) {
                println!("{hint}");
            }
            EXIT_OK
        }
        Err(e) => {
            println!("{} {e:#}", s.ui.symbol(Status::Fail));
            EXIT_FAILED
        }
    }
}

fn docker(s: &Session, args: &[&str], name: &str) -> anyhow::Result<bool> {
    let out = s
        .exec
        .run(&Cmd::new("docker").args(args).arg("--").arg(name).changes())?;
    if !out.success() {
        anyhow::bail!(
            "docker {} {name} failed: {}",
            args.join(" "),
            out.last_error_line()
        );
    }
    Ok(out.skipped)
}

/// What was done (or would be, under --dry-run), a line each.
fn remove(s: &Session, ctx: &ContextInfo) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    let would = |skipped: bool| if skipped { "would " } else { "" };
    if ctx.current {
        let skipped = docker(s, &["context", "use"], "default")?;
        done.push(format!("{}switch to context default first", would(skipped)));
    }
    let skipped = docker(s, &["context", "rm"], &ctx.name)?;
    done.push(format!(
        "{}remove context {} ({})",
        would(skipped),
        ctx.name,
        ctx.endpoint
    ));
    // rdock's own ssh_config block for this context (multiplexing), and nothing else.
    let block = multiplex::block_name(&ctx.name);
    if let Some(config) = ssh_config::user_config() {
        if ssh_config::has_block(&ssh_config::read(&config)?, &block) {
            if !s.exec.dry_run {
                ssh_config::remove_block_from_file(&config, &block)?;
            }
            let shown = crate::fsutil::tilde(&config);
            done.push(format!(
                "{}remove rdock's \"{block}\" block from {shown}",
                would(s.exec.dry_run)
            ));
        }
    }
    Ok(done)
}

/// How to take the key off the remote, which rdock never touches itself.
fn revoke_hint(ctx: &ContextInfo) -> Option<String> {
    let dest = Destination::parse(&ctx.endpoint).ok()?;
    let user = dest.user.clone().unwrap_or_else(|| "USER".into());
    let port = dest.port.unwrap_or(22);
    let public = crate::keys::public_path(&crate::keys::default_identity());
    let blob = crate::keys::read_public_blob(&public).unwrap_or_else(|| "KEY-BLOB".into());
    let script = format!(
        "grep -v -F '{blob}' ~/.ssh/authorized_keys > ~/.ssh/authorized_keys.rdock && mv ~/.ssh/authorized_keys.rdock ~/.ssh/authorized_keys"
    );
    Some(format!(
        "Keys, known_hosts and the remote were left as they are. To revoke the key on the remote:\n    ssh -p {port} {user}@{} {}",
        dest.host_for_url(),
        quote(&script)
    ))
}
