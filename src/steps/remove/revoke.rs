//! `rdock remove --revoke`: the key ssh logs in with for the context, the other contexts that
//! log in with it too, and the one ssh login that takes it out of the remote
//! `~/.ssh/authorized_keys`. Everything is found and checked before the question is asked.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::docker::ContextInfo;
use crate::ssh::agent::{agent_keys, AgentFacts};
use crate::ssh::authorized_keys::{self, Revoke};
use crate::ssh::destination::{resolve, Endpoint, Resolved};
use crate::ssh::keys;
use crate::ssh::probe::Connect;
use crate::sys::env::Env;
use crate::sys::exec::Exec;

use super::{destination, failed, identity, RemoveSteps};
use crate::steps::{Finding, Kind, Outcome, Session, Status, Step};

/// The key to take out, and where: found before anything is asked or changed.
pub(super) struct Key {
    /// Where ssh logs in for the context's endpoint; every ssh of the revoke (the login check
    /// too) offers `private` alone.
    r: Resolved,
    endpoint: Endpoint,
    private: PathBuf,
    public: PathBuf,
    blob: String,
    /// The key as a person checks it: `ED25519 SHA256:…`.
    shown: String,
}

impl Key {
    /// Where rdock logs in.
    pub(super) fn at(&self) -> String {
        self.r.display()
    }

    /// What the question shows first: where rdock logs in, and which key goes.
    pub(super) fn announce(&self, env: &Env, others: &[String]) -> Vec<String> {
        let mut lines = vec![
            format!(
                "rdock will log in to {} with {} and delete the lines of ~/.ssh/authorized_keys there that hold this key:",
                self.at(),
                env.tilde(&self.private)
            ),
            format!("    {} ({})", self.shown, env.tilde(&self.public)),
        ];
        if !others.is_empty() {
            lines.push(format!(
                "With --force: {} will stop working too.",
                contexts_named(others)
            ));
        }
        lines
    }
}

/// Find the key: the context must be an ssh:// one, ssh must resolve it, and the public half of
/// the key ssh logs in with must be there to say which line to delete.
pub(super) struct RevokeKeyStep(pub(super) RemoveSteps);

impl Step for RevokeKeyStep {
    fn kind(&self) -> Kind {
        Kind::RevokeKey
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = Kind::RevokeKey.id();
        let (context, explicit) = {
            let f = self.0.state();
            (f.context.clone(), f.identity.clone())
        };
        let Some(ctx) = context else {
            return failed(id, "there is no context to revoke a key for");
        };
        if !ctx.is_ssh() {
            return failed(
                id,
                format!(
                    "context {} is not an ssh:// one ({}): there is no remote key to revoke",
                    ctx.name, ctx.endpoint
                ),
            );
        }
        let endpoint = match Endpoint::parse(&ctx.endpoint) {
            Ok(endpoint) => endpoint,
            Err(e) => return failed(id, e.to_string()),
        };
        let mut r = match destination(s, &endpoint) {
            Ok(r) => r,
            Err(e) => return failed(id, format!("{e:#}")),
        };
        let (private, public) = identity(&s.env, &r, explicit.as_deref());
        r.identity = Some(private.clone());
        let Some(line) = keys::read_public_line(&public) else {
            return failed(
                id,
                format!(
                    "no public key at {}: rdock cannot tell which key to revoke",
                    s.env.tilde(&public)
                ),
            );
        };
        let key = Key {
            blob: keys::public_blob(&line).unwrap_or_default().to_string(),
            shown: keys::describe(&s.exec, &line),
            r,
            endpoint,
            private,
            public,
        };
        let found = Finding::ok(
            id,
            format!("key {} ({})", key.shown, s.env.tilde(&key.public)),
        );
        self.0.state_mut().key = Some(key);
        found
    }
}

/// Another context that logs in where this one does with the same key is cut off too: stop,
/// unless --force.
pub(super) struct SharedKeyStep(pub(super) RemoveSteps);

impl Step for SharedKeyStep {
    fn kind(&self) -> Kind {
        Kind::SharedKey
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let id = Kind::SharedKey.id();
        let f = self.0.state();
        let (Some(ctx), Some(key)) = (&f.context, &f.key) else {
            return failed(id, "no key was found to revoke");
        };
        // As ssh -G resolves each context: user, HostName, port, whatever alias it is written
        // with.
        let others: Vec<String> = f
            .contexts
            .iter()
            .filter(|c| c.name != ctx.name && c.is_ssh())
            .filter(|c| logs_in_with(&s.exec, &s.env, c, &key.r, &key.blob))
            .map(|c| c.name.clone())
            .collect();
        let (force, at) = (f.force, key.at());
        drop(f);
        let finding = match others.as_slice() {
            [] => Finding::ok(id, "no other docker context logs in with this key"),
            [first, ..] if !force => {
                let (them, one) = (contexts_named(&others), others.len() == 1);
                let pronoun = if one { "it" } else { "them" };
                Finding::fail(
                    id,
                    format!(
                        "{them} also log{} in to {at} with this key; revoking it would cut {pronoun} off",
                        if one { "s" } else { "" },
                    ),
                    format!(
                        "remove {pronoun} first (rdock remove {first}), or pass --force to revoke the key anyway"
                    ),
                )
            }
            _ => Finding {
                status: Status::Warn,
                ..Finding::ok(
                    id,
                    format!(
                        "--force: {} will stop working: {} with this key",
                        contexts_named(&others),
                        if others.len() == 1 {
                            "it logs in"
                        } else {
                            "they log in"
                        }
                    ),
                )
            },
        };
        self.0.state_mut().others = others;
        finding
    }
}

/// Log in with the key and delete the lines that hold it. Only that login can tell whether the
/// remote holds the key, so the check after the fix reports what the login found.
pub(super) struct RevokeStep {
    shared: RemoveSteps,
    /// What the login found: the finding the check gives once the fix ran.
    after: Option<Finding>,
}

impl RevokeStep {
    pub(super) fn new(shared: RemoveSteps) -> Self {
        RevokeStep {
            shared,
            after: None,
        }
    }

    /// The login's answer as a finding: what was done (✓), or why not with the fix.
    fn judge(&self, s: &Session, key: &Key, outcome: Revoke) -> Finding {
        let id = Kind::Revoke.id();
        let (shown, at) = (&key.shown, key.at());
        let by_hand = authorized_keys::manual_command(&key.endpoint.dest, &key.blob);
        let private = s.env.tilde(&key.private);
        let context = self.shared.state().name.clone();
        match outcome {
            Revoke::Removed(n) => Finding::ok(
                id,
                format!(
                    "removed key {shown} from ~/.ssh/authorized_keys on {at} ({n} line{})",
                    if n == 1 { "" } else { "s" }
                ),
            ),
            Revoke::NotConnected(Connect::AuthRefused(_)) if can_offer(s, key) => Finding::ok(
                id,
                format!(
                    "key {shown} is not authorized on {at} (the server refuses it); nothing to revoke"
                ),
            ),
            Revoke::NotConnected(Connect::AuthRefused(why)) => Finding::fail(
                id,
                format!(
                    "{at} refused the login ({why}), and ssh could not offer key {shown}: the agent does not hold it, and {private} needs a passphrase or is missing"
                ),
                format!("ssh-add {private}, then run this again; or revoke it by hand:\n{by_hand}"),
            ),
            Revoke::NotConnected(connect) => Finding::fail(
                id,
                format!("cannot log in to {at} to revoke the key: {}", why(&connect)),
                format!(
                    "rdock doctor {context} says what to fix; or revoke the key by hand:\n{by_hand}"
                ),
            ),
            Revoke::Absent => Finding::fail(
                id,
                format!(
                    "key {shown} is not in ~/.ssh/authorized_keys on {at}, yet the server let rdock log in with it: something else authorizes it there (~/.ssh/authorized_keys2, or AuthorizedKeysFile or AuthorizedKeysCommand in its sshd_config), and rdock edits only ~/.ssh/authorized_keys"
                ),
                format!(
                    "have the server's admin remove the key; `rdock remove {context}` without --revoke removes only the context"
                ),
            ),
            Revoke::Failed(words) => Finding::fail(
                id,
                format!("could not remove key {shown} on {at}: {words}"),
                format!("revoke it by hand:\n{by_hand}"),
            ),
            // The ssh logged in (a refused one ends at once), so a refusal now is the change.
            Revoke::Unsure {
                why,
                after: Some(Connect::AuthRefused(_)),
            } if can_offer(s, key) => Finding::ok(
                id,
                format!(
                    "removed key {shown} from ~/.ssh/authorized_keys on {at}: {why}, but a login with the key right after was refused"
                ),
            ),
            Revoke::Unsure { why, after } => {
                let again = format!(
                    "rdock remove {context} --revoke takes the key out or finds it gone, then removes the context"
                );
                let (now, fix) = match after {
                    Some(Connect::Ok) => (
                        "a login with the key right after still worked, so the remote had not taken it out yet; it may still (a remote command goes on after its ssh is stopped, and a slow startup file of the login shell delays it)".to_string(),
                        format!("rdock doctor {context} says what holds the remote up; then {again}"),
                    ),
                    Some(connect) => (
                        format!(
                            "a login with the key right after did not tell ({})",
                            self::why(&connect)
                        ),
                        again,
                    ),
                    None => {
                        crate::sys::signal::left_unsure();
                        ("no login was tried after it".into(), again)
                    }
                };
                Finding::fail(
                    id,
                    format!(
                        "rdock cannot tell whether key {shown} was removed from ~/.ssh/authorized_keys on {at}: {why}, and {now}; context {context} was kept"
                    ),
                    format!("{fix}; or revoke it by hand:\n{by_hand}"),
                )
            }
        }
    }
}

impl Step for RevokeStep {
    fn kind(&self) -> Kind {
        Kind::Revoke
    }

    fn check(&mut self, _: &mut Session) -> Finding {
        if let Some(after) = &self.after {
            return after.clone();
        }
        let f = self.shared.state();
        let what = match &f.key {
            Some(key) => format!("key {} is to go from {}", key.shown, key.at()),
            None => "the key is to go".into(),
        };
        failed(Kind::Revoke.id(), what).fixable()
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        if let Some(declined) = self.shared.ask(s) {
            return Ok(declined);
        }
        let after = {
            let f = self.shared.state();
            let Some(key) = f.key.as_ref() else {
                bail!("no key was found to revoke");
            };
            match authorized_keys::revoke(&s.exec, &key.r, &key.private, &key.blob) {
                Some(outcome) => self.judge(s, key, outcome),
                None => bail!("the key was not revoked (--dry-run)"),
            }
        };
        let did = after.message.clone();
        self.after = Some(after);
        Ok(Outcome::Done(did))
    }

    fn preview(&self, _: &Session, _: &Finding) -> String {
        let f = self.shared.state();
        let Some(key) = &f.key else {
            return "would remove the key".into();
        };
        let cmd = authorized_keys::revoke_cmd(&key.r, &key.private, &key.blob);
        format!(
            "would remove key {} from ~/.ssh/authorized_keys on {}\nwould run: {}",
            key.shown,
            key.at(),
            cmd.display()
        )
    }
}

/// Could ssh offer the key with no one to type a passphrase? Then a refusal is the server's.
fn can_offer(s: &Session, key: &Key) -> bool {
    // The agent ssh asks for this host: IdentityAgent, else SSH_AUTH_SOCK.
    let facts = AgentFacts::gather(&s.env, Some(&key.r));
    let held = agent_keys(&s.exec, &facts).unwrap_or_default();
    keys::can_offer(&s.exec, &held, &key.private, &key.blob)
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
