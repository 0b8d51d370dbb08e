//! The key pair: reuse an existing one, derive a missing `.pub`, or make a new ed25519 key with
//! ssh-keygen. Never overwrite anything; a file that is not a key is reported and left alone.
//!
//! An identity file that is a public key (1Password's documented `IdentityFile ~/.ssh/box.pub`)
//! is a key whose private half lives only in the agent: ssh offers the agent's copy of it. It is
//! the key when the agent ssh asks for this host holds it; rdock never makes one in its place.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::ssh::agent::{agent_keys, AgentFacts, AgentTarget};
use crate::ssh::keys::{
    self, agent_holds_line, default_identity, first_line, looks_like_private_key, offered_key,
    openssh_body_ok, public_blob, public_key_text, public_path, set_private_mode, KeyPair, Unlock,
    MAX_KEY_BYTES,
};
use crate::sys::exec::{quote, Cmd};
use crate::sys::fsutil;

use super::agent::agent_fix;
use super::{Finding, Kind, Outcome, Session, Step};

/// What setup would do about the key.
#[derive(Clone, Debug)]
enum Pending {
    /// Make a new key; when the agent ssh asks holds keys already, how many and where: then setup
    /// asks first (--yes answers), since the person may mean one of those.
    Generate(Option<(usize, String)>),
    /// Write the `.pub`; the line is known when the key has no passphrase.
    DerivePublic(Option<String>),
    Chmod,
}

pub struct KeyStep {
    /// `--identity`, or None for the key ssh will offer (see `keys::offered_key`).
    explicit: Option<PathBuf>,
    pub no_passphrase: bool,
    /// `--yes`: make a new key without asking even when the agent holds others.
    pub yes: bool,
    path: PathBuf,
    pending: Option<Pending>,
}

impl KeyStep {
    pub fn new(explicit: Option<PathBuf>, no_passphrase: bool, yes: bool) -> Self {
        // Absolute, so a path like `-D` can never reach a tool as an option.
        let explicit = explicit.map(|p| std::path::absolute(&p).unwrap_or(p));
        KeyStep {
            path: explicit.clone().unwrap_or_default(),
            explicit,
            no_passphrase,
            yes,
            pending: None,
        }
    }

    fn choose(&self, s: &Session) -> PathBuf {
        if let Some(path) = &self.explicit {
            return path.clone();
        }
        match &s.resolved {
            Some(r) => offered_key(r, None, &s.env),
            None => default_identity(&s.env),
        }
    }
}

impl Step for KeyStep {
    fn kind(&self) -> Kind {
        Kind::Key
    }

    /// A key given with --identity does not depend on what ssh -G says.
    fn needs(&self) -> &'static [Kind] {
        if self.explicit.is_some() {
            &[]
        } else {
            Kind::Key.needs()
        }
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        self.pending = None;
        s.key = None;
        self.path = self.choose(s);
        let path = &self.path;
        let shown = s.env.tilde(path);
        let public = public_path(path);
        let shown_pub = s.env.tilde(&public);
        let use_other =
            "pass --identity PATH with a real OpenSSH private key; rdock leaves this file as it is";
        match fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if public.exists() {
                    return Finding::fail(
                        "key",
                        format!("{shown_pub} exists but its private key {shown} does not"),
                        format!("restore {shown}; or, when an agent holds its private key, pass --identity {shown_pub}; or pass --identity PATH to use another key"),
                    );
                }
                let keygen = format!(
                    "  ssh-keygen -t ed25519 -f {}",
                    quote(&path.to_string_lossy())
                );
                if let Some((dir, mode)) = keys::open_folder(path, s.env.home.as_deref()) {
                    return Finding::fail(
                        "key",
                        format!(
                            "no key at {shown}, and rdock makes none there: {} is mode {mode:04o}, so others could replace a key in it (sshd's StrictModes refuses such a folder too)",
                            s.env.tilde(&dir)
                        ),
                        format!(
                            "chmod go-w {}, then rerun (or pass --identity PATH in a folder only you can write)",
                            quote(&dir.to_string_lossy())
                        ),
                    );
                }
                let Some((keys, place, to)) = agent_holds(s) else {
                    self.pending = Some(Pending::Generate(None));
                    let fix = format!("make one:\n{keygen}");
                    return Finding::fail("key", format!("no key at {shown}"), fix).fixable();
                };
                // The person may mean a key of the agent's: say so, and how to use one.
                let n = keys.len();
                let mut f = Finding::fail(
                    "key",
                    format!(
                        "no key at {shown}, but the agent at {place} holds {n} key{}",
                        if n == 1 { "" } else { "s" }
                    ),
                    format!(
                        "to use a key of the agent's: save its line of `{to}ssh-add -L` as a .pub file (e.g. ~/.ssh/box.pub), then rerun with --identity ~/.ssh/box.pub (or set IdentityFile ~/.ssh/box.pub for this host in ~/.ssh/config); to make a new key instead:\n{keygen}"
                    ),
                )
                .fixable();
                f.details.extend(keys.iter().map(|k| agent_holds_line(k)));
                self.pending = Some(Pending::Generate(Some((n, place))));
                return f;
            }
            Err(e) => {
                return Finding::fail("key", format!("cannot read {shown}: {e}"), use_other);
            }
            Ok(meta) if meta.is_dir() => {
                return Finding::fail(
                    "key",
                    format!("{shown} is a directory, not a key"),
                    use_other,
                );
            }
            Ok(_) => {}
        }
        let bytes = match fsutil::read_regular(path, MAX_KEY_BYTES) {
            Ok(b) => b,
            Err(e) => return Finding::fail("key", format!("cannot read {shown}: {e}"), use_other),
        };
        if !looks_like_private_key(&bytes) {
            if let Some((line, blob)) = public_key_text(&bytes) {
                // Named as the identity (--identity, an IdentityFile), or stood in for a private
                // key file that is gone (see `keys::offered_key`)?
                let named = self.explicit.is_some()
                    || s.resolved
                        .as_ref()
                        .is_some_and(|r| r.identity_files.iter().any(|f| s.env.expand(f) == *path));
                let path = path.clone();
                return in_agent_only(s, &path, line, blob, named);
            }
            return Finding::fail("key", format!("{shown} is not a private key"), use_other);
        }
        if !openssh_body_ok(&bytes) {
            return Finding::fail(
                "key",
                format!("{shown} is not a valid private key"),
                use_other,
            );
        }
        if let Some(mode) = fsutil::mode(path).filter(|m| m & 0o077 != 0) {
            let chmod = format!("chmod 600 {}", quote(&path.to_string_lossy()));
            let open =
                format!("{shown} is mode {mode:04o}; ssh ignores private keys others can read");
            // Only a key ssh-keygen has verified is chmod'ed; for anything else the user decides.
            if keys::opens_on_a_pipe(&s.exec, bytes) {
                self.pending = Some(Pending::Chmod);
                return Finding::fail("key", open, chmod).fixable();
            }
            return Finding::fail(
                "key",
                format!("{open}, and rdock cannot verify it is a key (it may have a passphrase)"),
                format!("if it is your key: {chmod}; else pass --identity PATH"),
            );
        }
        let (encrypted, derived) = match keys::unlock(&s.exec, path) {
            Ok(Unlock::Open(line)) => (false, Some(line)),
            Ok(Unlock::Passphrase) => (true, None),
            Ok(Unlock::Refused(why)) => {
                return Finding::fail(
                    "key",
                    format!("{shown} is not a valid private key ({why})"),
                    use_other,
                );
            }
            Err(e) => return Finding::fail("key", format!("{e:#}"), use_other),
        };
        let public_line = match fsutil::read_optional(&public, MAX_KEY_BYTES) {
            Ok(Some(bytes)) => first_line(&bytes),
            Ok(None) => {
                self.pending = Some(Pending::DerivePublic(derived));
                return Finding::fail(
                    "key",
                    format!("{shown} has no {shown_pub}"),
                    format!(
                        "ssh-keygen -y -f {0} > {0}.pub",
                        quote(&path.to_string_lossy())
                    ),
                )
                .fixable();
            }
            Err(e) => {
                return Finding::fail("key", format!("cannot read {shown_pub}: {e}"), use_other)
            }
        };
        let Some(blob) = public_blob(&public_line).map(str::to_string) else {
            return Finding::fail(
                "key",
                format!("{shown_pub} is not a valid public key"),
                use_other,
            );
        };
        if let Some(derived) = derived.as_deref().and_then(public_blob) {
            if derived != blob {
                return Finding::fail(
                    "key",
                    format!("{shown_pub} does not belong to {shown}"),
                    format!("move {shown_pub} aside and rerun, or pass --identity PATH"),
                );
            }
        }
        let kind = public_line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string();
        s.key = Some(KeyPair {
            identity: path.clone(),
            private: Some(path.clone()),
            public,
            public_line,
            blob,
            encrypted,
        });
        let lock = if encrypted {
            "with a passphrase"
        } else {
            "no passphrase"
        };
        let found = format!("{shown} ({kind}, {lock})");
        match keys::open_folder(path, s.env.home.as_deref()) {
            Some((dir, mode)) => Finding::warn(
                "key",
                format!(
                    "{found}, but {} is mode {mode:04o}: others can write it, so they can replace the key (sshd's StrictModes refuses such a folder too)",
                    s.env.tilde(&dir)
                ),
                format!("chmod go-w {}", quote(&dir.to_string_lossy())),
            ),
            None => Finding::ok("key", found),
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let path = self.path.clone();
        let shown = s.env.tilde(&path);
        match self.pending.clone() {
            Some(Pending::Generate(held)) => {
                let cmd = self.keygen_cmd(s)?;
                if let Some((n, place)) = held {
                    let question = format!(
                        "The agent at {place} holds {n} key{} already. Make a new key {shown} anyway?",
                        if n == 1 { "" } else { "s" }
                    );
                    if let Some(no) = s.consent(&[], &question, self.yes, "--yes") {
                        return Ok(no);
                    }
                }
                if let Some(dir) = path.parent() {
                    fsutil::create_private_dir(dir)?;
                }
                if !self.no_passphrase {
                    s.term
                        .say(&before_keygen(&shown, &s.env.tilde(&public_path(&path))));
                }
                keys::generate(&s.exec, &cmd)?;
                let how = if self.no_passphrase {
                    "no passphrase"
                } else {
                    "with your passphrase"
                };
                Ok(Outcome::Done(format!("created {shown} (ed25519, {how})")))
            }
            Some(Pending::DerivePublic(line)) => {
                let public = public_path(&path);
                let line = match line {
                    Some(line) => line,
                    None if s.term.is_interactive() => keys::derive_public(&s.exec, &path)?,
                    None => bail!(
                        "{shown} has a passphrase, so its public half needs it; run `ssh-keygen -y -f {shown} > {shown}.pub` in a terminal, then rerun"
                    ),
                };
                fsutil::create_new(&public, format!("{line}\n").as_bytes(), 0o644)?;
                Ok(Outcome::Done(format!(
                    "wrote {} from {shown}",
                    s.env.tilde(&public)
                )))
            }
            Some(Pending::Chmod) => {
                set_private_mode(&path)?;
                Ok(Outcome::Done(format!("{shown} is now mode 0600")))
            }
            None => bail!("nothing to fix"),
        }
    }

    fn can_fix(&self, s: &Session) -> Result<()> {
        match &self.pending {
            Some(Pending::Generate(_)) => self.keygen_cmd(s).map(|_| ()),
            Some(Pending::DerivePublic(None)) if !s.term.is_interactive() => bail!(
                "{} has a passphrase, so its public half needs a terminal to type it on",
                s.env.tilde(&self.path)
            ),
            _ => Ok(()),
        }
    }

    fn preview(&self, s: &Session, found: &Finding) -> String {
        let shown = s.env.tilde(&self.path);
        match &self.pending {
            Some(Pending::Generate(held)) => match self.keygen_cmd(s) {
                Ok(cmd) => format!(
                    "{}would create {shown} with ssh-keygen -t ed25519\nwould run: {}",
                    match held {
                        Some((n, place)) if !self.yes => format!(
                            "would ask first: the agent at {place} holds {n} key{}\n",
                            if *n == 1 { "" } else { "s" }
                        ),
                        _ => String::new(),
                    },
                    cmd.display()
                ),
                Err(e) => format!("{e:#}"),
            },
            Some(Pending::DerivePublic(_)) => format!(
                "would write {}\nwould run: {} > {}",
                s.env.tilde(&public_path(&self.path)),
                keys::derive_cmd(&self.path).display(),
                quote(&public_path(&self.path).to_string_lossy())
            ),
            Some(Pending::Chmod) => format!(
                "would run: chmod 600 {}",
                quote(&self.path.to_string_lossy())
            ),
            None => format!("would fix it: {}", found.fix.as_deref().unwrap_or("")),
        }
    }
}

impl KeyStep {
    /// `ssh-keygen` for a new key: with `-N ''` for --no-passphrase, else on the terminal.
    fn keygen_cmd(&self, s: &Session) -> Result<Cmd> {
        if !self.no_passphrase && !s.term.is_interactive() {
            bail!(
                "a new key needs a passphrase and there is no terminal to type it on; pass --no-passphrase (for scripts), or run rdock in a terminal"
            )
        }
        Ok(keys::generate_cmd(&self.path, self.no_passphrase))
    }
}

/// What is said before ssh-keygen asks for a passphrase, so the prompt is no surprise: which key
/// is made, where, and why the passphrase is asked for only now and then.
pub fn before_keygen(private: &str, public: &str) -> Vec<String> {
    vec![
        format!("Making your SSH key (ed25519): {private}, and {public} for the remote."),
        "ssh-keygen asks for a passphrase next: it locks the key file on disk.".into(),
        "rdock then gives the key to the ssh-agent, which keeps it unlocked for this login,".into(),
        "so ssh and docker do not ask for the passphrase on every connection.".into(),
        "(Empty: no passphrase. --no-passphrase skips this question.)".into(),
    ]
}

/// The keys of the agent ssh asks for this host, where it is, and what makes ssh-add ask it
/// (`SSH_AUTH_SOCK=… `, or nothing), when it answers and holds any.
fn agent_holds(s: &Session) -> Option<(Vec<String>, String, String)> {
    let facts = AgentFacts::gather(&s.env, s.resolved.as_ref());
    match facts.target() {
        AgentTarget::Disabled | AgentTarget::NoSocket | AgentTarget::PageantName => return None,
        _ => {}
    }
    let keys = agent_keys(&s.exec, &facts).ok()?;
    (!keys.is_empty()).then(|| (keys, facts.place(), ssh_add_prefix(&facts.target())))
}

/// ssh-add reads SSH_AUTH_SOCK only: what points it at the agent ssh asks.
fn ssh_add_prefix(target: &AgentTarget) -> String {
    match target {
        AgentTarget::Socket(sock) | AgentTarget::Pageant(sock) => {
            format!("SSH_AUTH_SOCK={} ", quote(sock))
        }
        _ => String::new(),
    }
}

/// The identity file at `path` is a public key (`line`, `blob`): ssh offers the agent's copy of
/// it. It is the key when the agent ssh asks for this host holds it; otherwise what to do, and
/// never a new key in its place. `named`: the .pub was given as the identity; else it stands in
/// for a private key file that is gone, and a failure says that first.
fn in_agent_only(s: &mut Session, path: &Path, line: String, blob: String, named: bool) -> Finding {
    let shown = s.env.tilde(path);
    let kind = line.split_whitespace().next().unwrap_or("").to_string();
    let facts = AgentFacts::gather(&s.env, s.resolved.as_ref());
    let head = if named {
        format!("{shown} is a public key, so ssh must get its private key from the agent")
    } else {
        let private = shown.strip_suffix(".pub").unwrap_or(&shown);
        format!("the private key {private} is missing and only {shown} is left, so ssh can use the key only from the agent")
    };
    let lost = |fix: String| {
        if named {
            fix
        } else {
            let private = shown.strip_suffix(".pub").unwrap_or(&shown);
            format!("restore {private} from a backup; or {fix}")
        }
    };
    let target = facts.target();
    if target == AgentTarget::Disabled {
        return Finding::fail(
            "key",
            format!("{head}, and it asks no agent for this host (IdentityAgent none)"),
            "remove `IdentityAgent none` for this host from ~/.ssh/config, or pass --identity PATH with a private key file",
        );
    }
    let keys = match agent_keys(&s.exec, &facts) {
        Ok(keys) => keys,
        Err(e) => {
            let fix = match &target {
                AgentTarget::Socket(sock) => format!(
                    "start or unlock the agent that listens at {} (1Password: open and unlock the app, with its SSH agent turned on), then rerun",
                    quote(sock)
                ),
                _ => agent_fix(s.env.platform),
            };
            return Finding::fail(
                "key",
                format!("{head}, and none answers at {} ({e:#})", facts.place()),
                lost(fix),
            );
        }
    };
    if !crate::ssh::keys::holds(&keys, &blob) {
        let to = ssh_add_prefix(&target);
        let n = keys.len();
        let mut f = Finding::fail(
            "key",
            format!(
                "{head}, and the agent at {} does not hold it ({n} other key{})",
                facts.place(),
                if n == 1 { "" } else { "s" }
            ),
            lost(format!(
                "unlock the app whose agent holds it (1Password: unlock it; the key must be in a vault its SSH agent serves), or add its private key file to that agent ({to}ssh-add PRIVATE_KEY), or pass --identity PATH to use another key; then rerun"
            )),
        );
        f.details.extend(keys.iter().map(|k| agent_holds_line(k)));
        return f;
    }
    let at = facts.place();
    s.key = Some(KeyPair {
        identity: path.to_path_buf(),
        private: None,
        public: path.to_path_buf(),
        public_line: line,
        blob,
        encrypted: false,
    });
    Finding::ok(
        "key",
        format!("{shown} ({kind}): the private key stays in the agent at {at}"),
    )
}
