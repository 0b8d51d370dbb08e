//! `rdock remove NAME [--revoke [--force]] [--yes]`: take a context away again. Switches to
//! `default` first when it is the current one. Never touches keys or known_hosts. The remote is
//! left alone unless `--revoke` asks rdock to take its key out of the remote authorized_keys
//! first; otherwise rdock prints the command that does it by hand.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::bail;

use crate::cli::{GlobalArgs, RemoveArgs};
use crate::docker::{self, ContextInfo};
use crate::error::{Error, Result};
use crate::render;
use crate::ssh::agent::{agent_keys, AgentFacts};
use crate::ssh::authorized_keys::{self, Revoke};
use crate::ssh::config as ssh_config;
use crate::ssh::destination::{resolve, Endpoint, Resolved};
use crate::ssh::probe::Connect;
use crate::ssh::{keys, multiplex};
use crate::sys::env::Env;
use crate::sys::exec::{Cmd, Exec};
use crate::sys::term::Term;

use super::write_lock;

pub fn run(global: &GlobalArgs, args: &RemoveArgs) -> Result {
    docker::validate_name(&args.name).map_err(|e| Error::Usage(format!("error: {e}")))?;
    let exec = Exec::new(global.verbose, global.dry_run);
    let env = Env::from_process();
    let contexts = docker::list(&env)?;
    let Some(ctx) = contexts.iter().find(|c| c.name == args.name) else {
        return Err(Error::Failed(format!(
            "error: there is no docker context named {}; `rdock list` shows them",
            args.name
        )));
    };
    let revocation = if args.revoke {
        Some(Revocation::prepare(
            &exec,
            &env,
            ctx,
            &contexts,
            args.force,
            args.identity.as_deref(),
        )?)
    } else {
        None
    };
    if !global.dry_run {
        let (lines, question) = match &revocation {
            Some(rv) => (
                rv.announce(&env),
                format!(
                    "Revoke the key on {} and remove docker context {} ({})?",
                    rv.r.display(),
                    ctx.name,
                    ctx.endpoint
                ),
            ),
            None => (
                Vec::new(),
                format!("Remove docker context {} ({})?", ctx.name, ctx.endpoint),
            ),
        };
        match Term::detect().confirm(&lines, &question, args.yes, "--yes") {
            Ok(true) => {}
            Ok(false) => {
                render::out("nothing removed\n");
                return Err(Error::Reported);
            }
            Err(e) => return Err(Error::Failed(format!("error: {e}"))),
        }
    }
    let _lock = write_lock(global.dry_run)?;
    if let Some(rv) = &revocation {
        match rv.revoke(&exec, &env) {
            Ok(line) => render::out(&line),
            Err(lines) => {
                render::out(&lines);
                return Err(Error::Reported);
            }
        }
    }
    match remove(&exec, &env, ctx, global.dry_run) {
        Ok(done) => {
            render::out(&render::done_lines(&done));
            if revocation.is_none() {
                let explicit = args.identity.as_deref();
                render::out(&format!("{}\n", revoke_hint(&exec, &env, ctx, explicit)));
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

/// The key ssh logs in with for a destination, as setup chose it: `--identity`, else the one
/// `ssh -G` says ssh offers (see `keys::offered_key`); and its public half. An identity file that
/// is itself a public key (its private half lives in an agent) is both.
fn identity(env: &Env, r: &Resolved, explicit: Option<&Path>) -> (PathBuf, PathBuf) {
    let offered = keys::offered_key(r, explicit, env);
    let public = if keys::read_public_line(&offered).is_some() {
        offered.clone()
    } else {
        keys::public_path(&offered)
    };
    (offered, public)
}

/// How to take the key off the remote by hand, after a remove that left the remote alone.
fn revoke_hint(exec: &Exec, env: &Env, ctx: &ContextInfo, explicit: Option<&Path>) -> String {
    let endpoint = Endpoint::parse(&ctx.endpoint).ok();
    let blob = endpoint
        .as_ref()
        .and_then(|e| resolve(exec, &e.dest).ok())
        .and_then(|r| keys::read_public_blob(&identity(env, &r, explicit).1))
        .unwrap_or_else(|| "KEY-BLOB".into());
    let manual = endpoint
        .map(|e| authorized_keys::manual_command(&e.dest, &blob))
        .unwrap_or_else(|| {
            format!(
                "ssh USER@HOST {}",
                crate::sys::exec::quote(&authorized_keys::manual_script(&blob))
            )
        });
    format!(
        "Keys, known_hosts and the remote were left as they are. To revoke the key on the remote, run:\n    {manual}"
    )
}

/// Everything `--revoke` needs, gathered (and checked) before anything is asked or changed.
struct Revocation {
    context: String,
    /// Where ssh logs in for the context's endpoint.
    r: Resolved,
    endpoint: Endpoint,
    private: PathBuf,
    public: PathBuf,
    blob: String,
    /// The key as a person checks it: `ED25519 SHA256:…`.
    shown: String,
    /// Other contexts that log in at the same place (with the same key): `--force` was given.
    others: Vec<String>,
}

impl Revocation {
    fn prepare(
        exec: &Exec,
        env: &Env,
        ctx: &ContextInfo,
        contexts: &[ContextInfo],
        force: bool,
        explicit: Option<&Path>,
    ) -> Result<Revocation> {
        if !ctx.is_ssh() {
            return Err(Error::Failed(format!(
                "error: context {} is not an ssh:// one ({}): there is no remote key to revoke",
                ctx.name, ctx.endpoint
            )));
        }
        let endpoint =
            Endpoint::parse(&ctx.endpoint).map_err(|e| Error::Failed(format!("error: {e}")))?;
        let mut r = resolve(exec, &endpoint.dest)?;
        let (private, public) = identity(env, &r, explicit);
        // Every ssh of the revoke (the login check too) offers this key alone.
        r.identity = Some(private.clone());
        let Some(line) = keys::read_public_line(&public) else {
            return Err(Error::Failed(format!(
                "error: no public key at {}: rdock cannot tell which key to revoke",
                env.tilde(&public)
            )));
        };
        let blob = keys::public_blob(&line).unwrap_or_default().to_string();
        let shown = keys::describe(exec, &line);
        // Another context that logs in where this one does (as ssh -G resolves each: user,
        // HostName, port, whatever alias it is written with) with the same key is cut off too.
        let others: Vec<String> = contexts
            .iter()
            .filter(|c| c.name != ctx.name && c.is_ssh())
            .filter(|c| logs_in_with(exec, env, c, &r, &blob))
            .map(|c| c.name.clone())
            .collect();
        if !others.is_empty() && !force {
            let (them, one) = (contexts_named(&others), others.len() == 1);
            render::out(&render::failed_with_fix(
                &format!(
                    "{them} also log{} in to {} with this key; revoking it would cut {} off",
                    if one { "s" } else { "" },
                    r.display(),
                    if one { "it" } else { "them" }
                ),
                &format!(
                    "remove {} first (rdock remove {}), or pass --force to revoke the key anyway",
                    if one { "it" } else { "them" },
                    others[0]
                ),
            ));
            return Err(Error::Reported);
        }
        Ok(Revocation {
            context: ctx.name.clone(),
            r,
            endpoint,
            private,
            public,
            blob,
            shown,
            others,
        })
    }

    /// What the question shows first: where rdock logs in, and which key goes.
    fn announce(&self, env: &Env) -> Vec<String> {
        let mut lines = vec![
            format!(
                "rdock will log in to {} with {} and delete the lines of ~/.ssh/authorized_keys there that hold this key:",
                self.r.display(),
                env.tilde(&self.private)
            ),
            format!("    {} ({})", self.shown, env.tilde(&self.public)),
        ];
        if !self.others.is_empty() {
            lines.push(format!(
                "With --force: {} will stop working too.",
                contexts_named(&self.others)
            ));
        }
        lines
    }

    /// Take the key out over one ssh login: the line that says so (✓, or ! with --force), or
    /// the ✗ lines that say why not, with the fix.
    fn revoke(&self, exec: &Exec, env: &Env) -> std::result::Result<String, String> {
        let (key, at) = (&self.shown, self.r.display());
        let forced = match self.others.as_slice() {
            [] => String::new(),
            others => render::warn_line(&format!(
                "--force: {} will stop working: {} with this key",
                contexts_named(others),
                if others.len() == 1 {
                    "it logs in"
                } else {
                    "they log in"
                }
            )),
        };
        let outcome = authorized_keys::revoke(exec, &self.r, &self.private, &self.blob);
        let done = |line: String| Ok(forced.clone() + &render::done_lines(&[line]));
        let by_hand = authorized_keys::manual_command(&self.endpoint.dest, &self.blob);
        let fail = |message: String, fix: String| Err(render::failed_with_fix(&message, &fix));
        match outcome {
            None => done(format!(
                "would remove key {key} from ~/.ssh/authorized_keys on {at}"
            )),
            Some(Revoke::Removed(n)) => done(format!(
                "removed key {key} from ~/.ssh/authorized_keys on {at} ({n} line{})",
                if n == 1 { "" } else { "s" }
            )),
            Some(Revoke::NotConnected(Connect::AuthRefused(_))) if self.can_offer(exec, env) => {
                done(format!(
                    "key {key} is not authorized on {at} (the server refuses it); nothing to revoke"
                ))
            }
            Some(Revoke::NotConnected(Connect::AuthRefused(why))) => fail(
                format!(
                    "{at} refused the login ({why}), and ssh could not offer key {key}: the agent does not hold it, and {} needs a passphrase or is missing",
                    env.tilde(&self.private)
                ),
                format!(
                    "ssh-add {}, then run this again; or revoke it by hand:\n{by_hand}",
                    env.tilde(&self.private)
                ),
            ),
            Some(Revoke::NotConnected(connect)) => fail(
                format!("cannot log in to {at} to revoke the key: {}", why(&connect)),
                format!(
                    "rdock doctor {} says what to fix; or revoke the key by hand:\n{by_hand}",
                    self.context
                ),
            ),
            Some(Revoke::Absent) => fail(
                format!(
                    "key {key} is not in ~/.ssh/authorized_keys on {at}, yet the server let rdock log in with it: something else authorizes it there (~/.ssh/authorized_keys2, or AuthorizedKeysFile or AuthorizedKeysCommand in its sshd_config), and rdock edits only ~/.ssh/authorized_keys"
                ),
                format!(
                    "have the server's admin remove the key; `rdock remove {}` without --revoke removes only the context",
                    self.context
                ),
            ),
            Some(Revoke::Failed(words)) => fail(
                format!("could not remove key {key} on {at}: {words}"),
                format!("revoke it by hand:\n{by_hand}"),
            ),
        }
    }

    /// Could ssh offer the key with no one to type a passphrase? Then a refusal is the server's.
    fn can_offer(&self, exec: &Exec, env: &Env) -> bool {
        // The agent ssh asks for this host: IdentityAgent, else SSH_AUTH_SOCK.
        let held = agent_keys(exec, &AgentFacts::gather(env, Some(&self.r))).unwrap_or_default();
        keys::can_offer(exec, &held, &self.private, &self.blob)
    }
}

/// Does context `c` log in where `r` does, with the key `blob`? As ssh resolves its endpoint and
/// which key it offers there; a context ssh cannot resolve counts when its endpoint names the
/// same login, so that a revoke never cuts off what rdock could not check.
fn logs_in_with(exec: &Exec, env: &Env, c: &ContextInfo, r: &Resolved, blob: &str) -> bool {
    let Ok(endpoint) = Endpoint::parse(&c.endpoint) else {
        return false;
    };
    let Ok(theirs) = resolve(exec, &endpoint.dest) else {
        return r.same_login(&c.endpoint);
    };
    let same_place =
        theirs.hostname == r.hostname && theirs.user == r.user && theirs.port == r.port;
    let (_, public) = identity(env, &theirs, None);
    same_place && keys::read_public_blob(&public).is_none_or(|b| b == blob)
}

/// `docker context a`, or `docker contexts a, b`.
fn contexts_named(names: &[String]) -> String {
    let plural = if names.len() == 1 { "" } else { "s" };
    format!("docker context{plural} {}", names.join(", "))
}

/// A connection failure in one line.
fn why(connect: &Connect) -> String {
    match connect {
        Connect::HostKeyChanged(_) => {
            "the server's host key has changed (REMOTE HOST IDENTIFICATION HAS CHANGED)".into()
        }
        Connect::Ok => "it connected".into(),
        Connect::ShellHung(_) => {
            "it logged in, but the remote login shell ran no command (a startup file waits)".into()
        }
        Connect::AuthRefused(why)
        | Connect::StaleMaster(why)
        | Connect::HostKeyUnknown(why)
        | Connect::Unreachable(why)
        | Connect::TooMuch(why) => why.clone(),
    }
}
