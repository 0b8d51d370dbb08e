//! What to run: a program, its argv, and how ([`Cmd`]); and how to show it ([`quote`]).

use std::ffi::OsString;
use std::time::Duration;

/// How long a command may run when its caller does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);
/// Commands that may wait on a person (a passphrase, a password) get longer, but still a bound.
pub const INTERACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// Does running this command change anything on disk, in the agent or on the remote?
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    ReadOnly,
    Changes,
}

/// A command to run: a program and its argv, plus how to run it.
#[derive(Clone, Debug)]
pub struct Cmd {
    pub(super) program: String,
    pub(super) args: Vec<OsString>,
    pub(super) env: Vec<(String, String)>,
    pub(super) env_remove: Vec<String>,
    pub(super) stdin: Option<Vec<u8>>,
    pub(super) timeout: Duration,
    pub(super) effect: Effect,
    pub(super) interactive: bool,
    /// What the command prints is shown to the person as it arrives (and kept).
    pub(super) shown: bool,
    /// Most bytes kept of stdout, and of stderr: past that the command is stopped.
    pub(super) max_output: usize,
}

/// What a command may print on each stream before rdock stops it: no tool rdock runs says this
/// much, so more is a remote (or a program) that never stops talking.
pub const MAX_OUTPUT: usize = 1 << 20;

impl Cmd {
    /// A read-only command with the default timeout.
    pub fn new(program: &str) -> Self {
        Cmd {
            program: program.to_string(),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            stdin: None,
            timeout: DEFAULT_TIMEOUT,
            effect: Effect::ReadOnly,
            interactive: false,
            shown: false,
            max_output: MAX_OUTPUT,
        }
    }

    /// Keep at most `bytes` of stdout and of stderr; past that the command is stopped.
    pub fn max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Run without this variable in the environment.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.env_remove.push(key.to_string());
        self
    }

    /// Bytes for the child's stdin. Without this, stdin is /dev/null (or the terminal when interactive).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Mark the command as one that changes state: under `--dry-run` it is printed, not run.
    pub fn changes(mut self) -> Self {
        self.effect = Effect::Changes;
        self
    }

    /// The command may talk to the person at the terminal (ssh-keygen, ssh-add, a password prompt).
    /// It keeps the terminal's process group and gets [`INTERACTIVE_TIMEOUT`].
    pub fn interactive(mut self) -> Self {
        self.interactive = true;
        self.timeout = INTERACTIVE_TIMEOUT;
        self
    }

    /// An interactive command whose output the person must see as it comes: a remote terminal
    /// session (`ssh -t`) in which sudo asks for its password. Its stdout and stderr are written to
    /// rdock's stderr as they arrive, as visible text (see `term::visible_stream`), and kept.
    pub fn shows_output(mut self) -> Self {
        self.shown = true;
        self.interactive()
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    pub fn effect(&self) -> Effect {
        self.effect
    }

    /// The argv as a person would type it into a POSIX shell.
    pub fn display(&self) -> String {
        let mut words = vec![quote(&self.program)];
        words.extend(self.args.iter().map(|a| quote(&a.to_string_lossy())));
        words.join(" ")
    }
}

/// Quote one word for display in a POSIX shell, only when it needs it.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@=,+%^~[]".contains(c));
    if plain && !word.starts_with('~') {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_leaves_plain_words_alone_and_quotes_the_rest() {
        assert_eq!(quote("ssh://u@h:22"), "ssh://u@h:22");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("~/.ssh"), "'~/.ssh'");
    }
}
