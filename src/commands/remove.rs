//! `rdock remove NAME [--yes]`: take a context away again. Switches to `default` first when it
//! is the current one. Never touches keys, known_hosts or the remote: it says how to revoke the
//! key there.

use std::process::ExitCode;

use anyhow::bail;

use crate::cli::{GlobalArgs, RemoveArgs};
use crate::docker::{self, ContextInfo};
use crate::error::{Error, Result};
use crate::render;
use crate::ssh::config as ssh_config;
use crate::ssh::destination::Destination;
use crate::ssh::{keys, multiplex};
use crate::sys::env::Env;
use crate::sys::exec::{quote, Cmd, Exec};
use crate::sys::term::Term;

use super::write_lock;

pub fn run(global: &GlobalArgs, args: &RemoveArgs) -> Result {
    docker::validate_name(&args.name).map_err(|e| Error::Usage(format!("error: {e}")))?;
    let exec = Exec::new(global.verbose, global.dry_run);
    let env = Env::from_process();
    let Some(ctx) = docker::list(&env)?
        .into_iter()
        .find(|c| c.name == args.name)
    else {
        return Err(Error::Failed(format!(
            "error: there is no docker context named {}; `rdock list` shows them",
            args.name
        )));
    };
    if !global.dry_run {
        let question = format!("Remove docker context {} ({})?", ctx.name, ctx.endpoint);
        match Term::detect().confirm(&[], &question, args.yes, "--yes") {
            Ok(true) => {}
            Ok(false) => {
                render::out("nothing removed\n");
                return Err(Error::Reported);
            }
            Err(e) => return Err(Error::Failed(format!("error: {e}"))),
        }
    }
    let _lock = write_lock(global.dry_run)?;
    match remove(&exec, &env, &ctx, global.dry_run) {
        Ok(done) => {
            render::out(&render::done_lines(&done));
            if let Some(hint) = revoke_hint(&env, &ctx) {
                render::out(&format!("{hint}\n"));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            render::out(&render::failed_line(&format!("{e:#}")));
            Err(Error::Reported)
        }
    }
}

/// Run a docker context command; true when --dry-run only printed it.
fn docker(exec: &Exec, cmd: &Cmd) -> anyhow::Result<bool> {
    let out = exec.run(cmd)?;
    if !out.success() {
        bail!("{} failed: {}", cmd.display(), out.last_error_line());
    }
    Ok(out.skipped)
}

/// What was done (or would be, under --dry-run), a line each.
fn remove(exec: &Exec, env: &Env, ctx: &ContextInfo, dry_run: bool) -> anyhow::Result<Vec<String>> {
    let mut done = Vec::new();
    let would = |skipped: bool| if skipped { "would " } else { "" };
    if ctx.current {
        let skipped = docker(exec, &docker::use_cmd("default"))?;
        done.push(format!("{}switch to context default first", would(skipped)));
    }
    let skipped = docker(exec, &docker::rm_cmd(&ctx.name))?;
    done.push(format!(
        "{}remove context {} ({})",
        would(skipped),
        ctx.name,
        ctx.endpoint
    ));
    // rdock's own ssh_config block for this context (multiplexing), and nothing else.
    let block = multiplex::block_name(&ctx.name);
    if let Some(config) = env.ssh_config() {
        if ssh_config::has_block(&ssh_config::read(&config)?, &block) {
            if !dry_run {
                ssh_config::remove_block_from_file(&config, &block)?;
            }
            done.push(format!(
                "{}remove rdock's \"{block}\" block from {}",
                would(dry_run),
                env.tilde(&config)
            ));
        }
    }
    Ok(done)
}

/// How to take the key off the remote, which rdock never touches itself.
fn revoke_hint(env: &Env, ctx: &ContextInfo) -> Option<String> {
    let dest = Destination::parse(&ctx.endpoint).ok()?;
    let user = dest.user.clone().unwrap_or_else(|| "USER".into());
    let port = dest.port.unwrap_or(22);
    let host = dest.host_for_url();
    let public = keys::public_path(&keys::default_identity(env));
    let blob = keys::read_public_blob(&public).unwrap_or_else(|| "KEY-BLOB".into());
    let script = format!(
        "grep -v -F '{blob}' ~/.ssh/authorized_keys > ~/.ssh/authorized_keys.rdock && mv ~/.ssh/authorized_keys.rdock ~/.ssh/authorized_keys"
    );
    Some(format!(
        "Keys, known_hosts and the remote were left as they are. To revoke the key on the remote:\n    ssh -p {port} {user}@{host} {}",
        quote(&script)
    ))
}
