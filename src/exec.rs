//! The one place that spawns processes.
//!
//! Every command gets a timeout, is echoed with `--verbose`, and, when it changes something,
//! is only printed under `--dry-run`. Arguments always travel as argv: nothing goes through a shell.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, Context as _, Result};
use wait_timeout::ChildExt;

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
    program: String,
    args: Vec<OsString>,
    env: Vec<(String, String)>,
    env_remove: Vec<String>,
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    effect: Effect,
    interactive: bool,
}

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
        }
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

/// What a finished command left behind.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// The exit code, or None when a signal ended it.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// True when `--dry-run` printed the command instead of running it.
    pub skipped: bool,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// The last non-empty line of stderr, for one-line messages.
    pub fn last_error_line(&self) -> String {
        last_line(&self.stderr)
    }
}

/// The last non-empty line of a text, trimmed.
pub fn last_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("")
        .to_string()
}

/// Answers already had, by command: see [`Exec::memoized`].
type Memo = Arc<Mutex<HashMap<String, Arc<OnceLock<Result<Output, String>>>>>>;

/// Runs commands. One value is made per invocation of rdock and handed to everything that needs it.
#[derive(Clone, Debug, Default)]
pub struct Exec {
    pub verbose: bool,
    pub dry_run: bool,
    memo: Option<Memo>,
}

impl Exec {
    pub fn new(verbose: bool, dry_run: bool) -> Self {
        Exec {
            verbose,
            dry_run,
            memo: None,
        }
    }

    /// Run each read-only command once and reuse its answer, across clones and threads: for
    /// `rdock doctor --all`, which changes nothing, so the same command gives the same answer
    /// (`ssh -V`, `ssh-add -L`, `docker context ls` are asked once, not once per context).
    pub fn memoized(mut self) -> Self {
        self.memo = Some(Memo::default());
        self
    }

    /// Run a command to completion or until its timeout. A non-zero exit is not an error here:
    /// callers read [`Output::code`]. Errors are: the program could not be started, or it timed out.
    pub fn run(&self, cmd: &Cmd) -> Result<Output> {
        if self.dry_run && cmd.effect == Effect::Changes {
            eprintln!("would run: {}", cmd.display());
            return Ok(Output {
                code: Some(0),
                skipped: true,
                ..Output::default()
            });
        }
        let memo = self
            .memo
            .as_ref()
            .filter(|_| cmd.effect == Effect::ReadOnly && !cmd.interactive);
        let Some(memo) = memo else {
            return self.spawn(cmd);
        };
        let key = format!("{cmd:?}");
        let cell = memo
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        // A second caller of the same command waits here for the first one's answer.
        cell.get_or_init(|| self.spawn(cmd).map_err(|e| format!("{e:#}")))
            .clone()
            .map_err(|e| anyhow!(e))
    }

    fn spawn(&self, cmd: &Cmd) -> Result<Output> {
        if self.verbose {
            eprintln!("$ {}", cmd.display());
        }
        spawn_and_wait(cmd)
    }
}

fn spawn_and_wait(cmd: &Cmd) -> Result<Output> {
    let mut command = Command::new(&cmd.program);
    command.args(&cmd.args);
    for k in &cmd.env_remove {
        command.env_remove(k);
    }
    for (k, v) in &cmd.env {
        command.env(k, v);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    match (&cmd.stdin, cmd.interactive) {
        (Some(_), _) => command.stdin(Stdio::piped()),
        (None, true) => command.stdin(Stdio::inherit()),
        (None, false) => command.stdin(Stdio::null()),
    };
    #[cfg(unix)]
    if !cmd.interactive {
        // Its own process group, so a timeout can end the command and anything it started
        // (a ProxyCommand, say), and so it can never read from our terminal.
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("could not run `{}`", cmd.program))?;

    let stdin_bytes = cmd.stdin.clone();
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let (Some(pipe), Some(bytes)) = (stdin.as_mut(), stdin_bytes) {
            // A child that exits before reading all of it is not our error to report.
            let _ = pipe.write_all(&bytes);
        }
        drop(stdin);
    });
    let stdout = child.stdout.take().map(reader);
    let stderr = child.stderr.take().map(reader);

    let status = match child.wait_timeout(cmd.timeout)? {
        Some(status) => status,
        None => {
            kill(&mut child, cmd.interactive);
            let _ = child.wait();
            return Err(anyhow!(
                "`{}` did not finish within {} s and was stopped",
                cmd.display(),
                cmd.timeout.as_secs()
            ));
        }
    };
    let _ = writer.join();
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    Ok(Output {
        code: status.code(),
        stdout: collect(stdout),
        stderr: collect(stderr),
        skipped: false,
    })
}

fn reader<R: Read + Send + 'static>(mut pipe: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}

fn kill(child: &mut std::process::Child, interactive: bool) {
    #[cfg(unix)]
    if !interactive {
        // The child leads its own process group (see above): end the whole group.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
    let _ = interactive;
    let _ = child.kill();
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

    #[test]
    fn dry_run_prints_changes_instead_of_running_them() {
        let exec = Exec::new(false, true);
        let out = exec
            .run(&Cmd::new("definitely-not-a-program-rdock").changes())
            .unwrap();
        assert!(out.skipped && out.success());
    }

    #[cfg(unix)]
    #[test]
    fn timeout_stops_a_command_that_hangs() {
        let exec = Exec::default();
        let start = std::time::Instant::now();
        let err = exec
            .run(
                &Cmd::new("sleep")
                    .arg("30")
                    .timeout(Duration::from_millis(300)),
            )
            .unwrap_err();
        assert!(err.to_string().contains("did not finish within"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[cfg(unix)]
    #[test]
    fn memoized_runs_a_read_only_command_once_and_never_a_change() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        let script = format!("echo x >> {}", log.display());
        let exec = Exec::new(false, false).memoized();
        let count = |exec: &Exec, cmd: &Cmd| {
            for _ in 0..3 {
                exec.clone().run(cmd).unwrap();
            }
            std::fs::read_to_string(&log).unwrap().lines().count()
        };
        assert_eq!(count(&exec, &Cmd::new("sh").args(["-c", &script])), 1);
        assert_eq!(
            count(&exec, &Cmd::new("sh").args(["-c", &script]).changes()),
            4
        );
    }

    #[cfg(unix)]
    #[test]
    fn stdin_reaches_the_child_and_output_comes_back() {
        let out = Exec::default()
            .run(&Cmd::new("cat").stdin("hello\n"))
            .unwrap();
        assert_eq!(out.stdout, "hello\n");
        assert!(out.success());
    }
}
