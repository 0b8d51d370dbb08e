//! The one place that builds the argv of every ssh rdock runs, in the spirit of docker/cli's
//! `cli/connhelper/ssh` `Spec`: a target (`-l USER -p PORT -- HOST`, the `--` keeping a host from
//! ever being read as an option), a [`Mode`] (how ssh connects and what it may do), an identity
//! and a remote script. Everything else in `ssh` says which command it wants, never its words.
//!
//! The options every connection that logs in carries: strict host key checking (never accept or
//! rewrite a host key: `UpdateHostKeys=no`), `AddKeysToAgent=no` (a user's `AddKeysToAgent yes`
//! would make rdock change the agent), and a bounded connect.

use std::path::Path;

use crate::sys::exec::Cmd;

/// Seconds ssh may spend connecting, and waiting for the server's SSH banner.
pub const CONNECT_TIMEOUT: u64 = 10;

/// ssh options for a connection of its own, never a shared one: a connection made after the
/// user's groups changed must not reuse a master that logged in before.
pub const OWN_CONNECTION: [&str; 2] = ["ControlMaster=no", "ControlPath=none"];

/// Where ssh goes: `-l USER` and `-p PORT` when known, then `-- HOST`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    pub user: Option<&'a str>,
    pub port: Option<u16>,
    pub host: &'a str,
}

impl Target<'_> {
    fn args(&self) -> Vec<String> {
        let mut args = Vec::new();
        if let Some(user) = self.user {
            args.extend(["-l".to_string(), user.to_string()]);
        }
        if let Some(port) = self.port {
            args.extend(["-p".to_string(), port.to_string()]);
        }
        args.extend(["--".to_string(), self.host.to_string()]);
        args
    }
}

/// A control command to the user's ControlMaster (`ssh -O …`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Is a master running for the target?
    Check,
    /// The master stops taking new sessions and removes its socket; open sessions go on.
    Stop,
    /// The master exits now, open sessions with it.
    Exit,
}

/// How an ssh connects, and so which options it carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode<'a> {
    /// As the docker CLI's transport connects: BatchMode, no terminal; through the user's
    /// ControlMaster when there is one.
    Batch,
    /// [`Mode::Batch`] on a connection of its own ([`OWN_CONNECTION`]).
    OwnConnection,
    /// A connection of its own that forwards nothing (ClearAllForwardings): for a command that
    /// only tells whether a fresh login answers at once.
    Fresh,
    /// A terminal on the remote (`-t`), for a command a person answers there (sudo asking for its
    /// password): what the terminal prints is shown as it comes.
    Terminal,
    /// The one password login (`--install-key`): password and keyboard-interactive only, three
    /// tries, the person at the terminal.
    Password,
    /// Logs in and runs nothing (`-N`: no session, so no login shell and no startup file), on a
    /// connection of its own, with `LogLevel=VERBOSE` so that ssh says on stderr when
    /// authentication succeeded.
    LoginCheck,
    /// ssh as the docker CLI runs it (ProxyJump, ProxyCommand, HostKeyAlias and the port all
    /// honoured), told to record an unknown host key in the file and to try no authentication.
    /// No control master, so a real key exchange happens.
    FetchHostKey(&'a Path),
    /// `ssh -O …` to the user's ControlMaster for the target.
    Control(Control),
    /// `ssh -G`: what ssh would do for the target, with its own configuration files, or with
    /// `-F FILE` (`none`: none at all).
    Resolve(Option<&'a Path>),
}

/// One ssh command: see the module's documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ssh<'a> {
    target: Target<'a>,
    mode: Mode<'a>,
    identity: Option<&'a Path>,
    script: Option<&'a str>,
}

impl<'a> Ssh<'a> {
    pub fn new(target: Target<'a>, mode: Mode<'a>) -> Self {
        Ssh {
            target,
            mode,
            identity: None,
            script: None,
        }
    }

    /// Offer only this key (`-o IdentitiesOnly=yes -i KEY`), when there is one: the login then
    /// tells whether the remote accepts that key, not whether some other key of the agent's gets
    /// in.
    pub fn identity(mut self, key: Option<&'a Path>) -> Self {
        self.identity = key;
        self
    }

    /// The remote command: one of `ssh::scripts`, or `true`.
    pub fn script(mut self, script: &'a str) -> Self {
        self.script = Some(script);
        self
    }

    /// The command to run.
    pub fn cmd(&self) -> Cmd {
        let cmd = Cmd::new("ssh");
        let cmd = match self.mode {
            Mode::Control(op) => cmd.args(["-O", control_word(op)]),
            Mode::Resolve(file) => match file {
                Some(file) => cmd.args(["-G", "-F"]).arg(file),
                None => cmd.arg("-G"),
            },
            Mode::FetchHostKey(file) => cmd.args(fetch_options(file)).arg("-T"),
            mode => cmd
                .args(login_options(mode))
                .arg(if mode == Mode::Terminal { "-t" } else { "-T" }),
        };
        let cmd = match self.identity {
            Some(key) => cmd.args(["-o", "IdentitiesOnly=yes", "-i"]).arg(key),
            None => cmd,
        };
        let cmd = if self.mode == Mode::LoginCheck {
            cmd.arg("-N")
        } else {
            cmd
        };
        let cmd = cmd.args(self.target.args());
        let cmd = match self.script {
            Some(script) => cmd.arg(script),
            None => cmd,
        };
        match self.mode {
            Mode::Terminal => cmd.shows_output(),
            Mode::Password => cmd.interactive(),
            _ => cmd,
        }
    }
}

/// `ssh -V`: the OpenSSH version, on stderr.
pub fn version_cmd() -> Cmd {
    Cmd::new("ssh").arg("-V")
}

fn control_word(op: Control) -> &'static str {
    match op {
        Control::Check => "check",
        Control::Stop => "stop",
        Control::Exit => "exit",
    }
}

/// `-o` options of a mode that logs in, in order: the mode's own, then those every such ssh
/// carries (never accept or rewrite a host key, never change the agent, a bounded connect).
fn login_options(mode: Mode) -> Vec<String> {
    let own: &[&str] = match mode {
        Mode::Batch => &["BatchMode=yes"],
        Mode::OwnConnection => &["BatchMode=yes", OWN_CONNECTION[0], OWN_CONNECTION[1]],
        Mode::Fresh => &[
            "BatchMode=yes",
            OWN_CONNECTION[0],
            OWN_CONNECTION[1],
            "ClearAllForwardings=yes",
        ],
        Mode::Terminal => &["BatchMode=yes", "LogLevel=ERROR"],
        Mode::Password => &[
            "PubkeyAuthentication=no",
            "PreferredAuthentications=keyboard-interactive,password",
            "NumberOfPasswordPrompts=3",
        ],
        Mode::LoginCheck => &[
            "BatchMode=yes",
            "LogLevel=VERBOSE",
            OWN_CONNECTION[0],
            OWN_CONNECTION[1],
            "ClearAllForwardings=yes",
        ],
        Mode::FetchHostKey(_) | Mode::Control(_) | Mode::Resolve(_) => &[],
    };
    let timeout = format!("ConnectTimeout={CONNECT_TIMEOUT}");
    let common = [
        "StrictHostKeyChecking=yes",
        "UpdateHostKeys=no",
        "AddKeysToAgent=no",
        &timeout,
    ];
    dash_o(own.iter().chain(common.iter()))
}

/// The host-key fetch's options: accept a new key into `file` alone (and nothing from the global
/// files), in the form the caller records, and no authentication at all, so ssh stops there.
fn fetch_options(file: &Path) -> Vec<String> {
    let known = format!("UserKnownHostsFile={}", file.display());
    let timeout = format!("ConnectTimeout={CONNECT_TIMEOUT}");
    dash_o(
        [
            "StrictHostKeyChecking=accept-new",
            "BatchMode=yes",
            known.as_str(),
            "GlobalKnownHostsFile=/dev/null",
            "HashKnownHosts=no",
            "UpdateHostKeys=no",
            "AddKeysToAgent=no",
            OWN_CONNECTION[0],
            OWN_CONNECTION[1],
            "PubkeyAuthentication=no",
            "PasswordAuthentication=no",
            "KbdInteractiveAuthentication=no",
            "GSSAPIAuthentication=no",
            "HostbasedAuthentication=no",
            timeout.as_str(),
        ]
        .iter(),
    )
}

fn dash_o<'s>(options: impl Iterator<Item = &'s &'s str>) -> Vec<String> {
    options
        .flat_map(|o| ["-o".to_string(), o.to_string()])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: Target = Target {
        user: Some("u"),
        port: Some(2222),
        host: "box",
    };

    fn argv(ssh: Ssh) -> String {
        ssh.cmd().display()
    }

    const COMMON: &str = "-o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10";

    #[test]
    fn every_ssh_of_rdock_refuses_new_host_keys_and_leaves_the_agent_alone() {
        assert_eq!(
            argv(Ssh::new(BOX, Mode::Batch).script("true")),
            format!("ssh -o BatchMode=yes {COMMON} -T -l u -p 2222 -- box true")
        );
        assert_eq!(
            argv(Ssh::new(BOX, Mode::Terminal).script("true")),
            format!("ssh -o BatchMode=yes -o LogLevel=ERROR {COMMON} -t -l u -p 2222 -- box true")
        );
        for mode in [
            Mode::OwnConnection,
            Mode::Fresh,
            Mode::Password,
            Mode::LoginCheck,
        ] {
            let shown = argv(Ssh::new(BOX, mode));
            assert!(shown.contains(COMMON), "{shown}");
            assert!(shown.ends_with(" -l u -p 2222 -- box"), "{shown}");
        }
    }

    #[test]
    fn the_login_check_offers_the_key_and_opens_no_session() {
        let key = Path::new("/h/.ssh/id_ed25519");
        assert_eq!(
            argv(Ssh::new(BOX, Mode::LoginCheck).identity(Some(key))),
            format!("ssh -o BatchMode=yes -o LogLevel=VERBOSE -o ControlMaster=no -o ControlPath=none -o ClearAllForwardings=yes {COMMON} -T -o IdentitiesOnly=yes -i /h/.ssh/id_ed25519 -N -l u -p 2222 -- box")
        );
    }

    #[test]
    fn the_host_key_fetch_accepts_a_new_key_into_its_file_and_tries_no_login() {
        let shown = argv(Ssh::new(BOX, Mode::FetchHostKey(Path::new("/t/kh"))).script("true"));
        assert!(shown.starts_with("ssh -o StrictHostKeyChecking=accept-new -o BatchMode=yes -o UserKnownHostsFile=/t/kh -o GlobalKnownHostsFile=/dev/null"), "{shown}");
        for no in [
            "Pubkey",
            "Password",
            "KbdInteractive",
            "GSSAPI",
            "Hostbased",
        ] {
            assert!(shown.contains(&format!("-o {no}Authentication=no")), "{no}");
        }
        assert!(shown.contains("-o ControlMaster=no -o ControlPath=none"));
        assert!(shown.ends_with(" -T -l u -p 2222 -- box true"), "{shown}");
    }

    #[test]
    fn control_and_resolve_name_only_the_target() {
        assert_eq!(
            argv(Ssh::new(BOX, Mode::Control(Control::Check))),
            "ssh -O check -l u -p 2222 -- box"
        );
        let bare = Target {
            user: None,
            port: None,
            host: "-oProxyCommand=x",
        };
        assert_eq!(
            argv(Ssh::new(bare, Mode::Resolve(None))),
            "ssh -G -- -oProxyCommand=x"
        );
        assert_eq!(
            argv(Ssh::new(bare, Mode::Resolve(Some(Path::new("none"))))),
            "ssh -G -F none -- -oProxyCommand=x"
        );
        assert_eq!(version_cmd().display(), "ssh -V");
    }
}
