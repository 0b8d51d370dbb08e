//! The one place that spawns processes.
//!
//! Every command gets a timeout, is echoed with `--verbose`, and, when it changes something,
//! is only printed under `--dry-run`. Arguments always travel as argv: nothing goes through a shell.
//!
//! [`Exec::scripted`] answers commands from a [`Script`] of canned replies instead of starting
//! them, and records what ran, so code that runs commands can be tested in-process, on any OS.

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
    /// What the command prints is shown to the person as it arrives (and kept).
    shown: bool,
    /// Most bytes kept of stdout, and of stderr: past that the command is stopped.
    max_output: usize,
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
type Memo = Arc<Mutex<HashMap<String, Arc<OnceLock<Result<Output, Failed>>>>>>;

/// A memoized error: callers that look for a timeout or an overflow find it again.
#[derive(Clone, Debug)]
enum Failed {
    TimedOut(TimedOut),
    TooMuch(TooMuchOutput),
    Other(String),
}

impl Failed {
    fn of(e: anyhow::Error) -> Failed {
        if let Some(t) = e.downcast_ref::<TimedOut>() {
            Failed::TimedOut(t.clone())
        } else if let Some(t) = e.downcast_ref::<TooMuchOutput>() {
            Failed::TooMuch(t.clone())
        } else {
            Failed::Other(format!("{e:#}"))
        }
    }

    fn error(self) -> anyhow::Error {
        match self {
            Failed::TimedOut(t) => anyhow::Error::new(t),
            Failed::TooMuch(t) => anyhow::Error::new(t),
            Failed::Other(text) => anyhow!(text),
        }
    }
}

/// Runs commands. One value is made per invocation of rdock and handed to everything that needs it.
#[derive(Clone, Debug, Default)]
pub struct Exec {
    pub verbose: bool,
    pub dry_run: bool,
    memo: Option<Memo>,
    /// Set by [`Exec::cancellable`]: once raised, what runs through this `Exec` is stopped.
    cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Set by [`Exec::scripted`]: answer from the script instead of starting processes.
    script: Option<Arc<Mutex<Scripted>>>,
}

impl Exec {
    pub fn new(verbose: bool, dry_run: bool) -> Self {
        Exec {
            verbose,
            dry_run,
            memo: None,
            cancel: None,
            script: None,
        }
    }

    /// An `Exec` that starts no process: each command gets its reply from `script`, and is
    /// recorded (see [`Exec::ran`]). Everything else is as with [`Exec::new`]: `--verbose` echo,
    /// `--dry-run` (set the public field), [`Exec::memoized`]. A command the script has no reply
    /// for is an error that names its argv. Clones share the script and the record.
    pub fn scripted(script: Script) -> Self {
        Exec {
            script: Some(Arc::new(Mutex::new(Scripted {
                given: vec![0; script.rules.len()],
                script,
                ..Scripted::default()
            }))),
            ..Exec::default()
        }
    }

    /// The commands a scripted `Exec` (or any clone of it) was asked to start, in order: those
    /// with a reply and those without. A memoized command appears once, a change skipped by
    /// `--dry-run` not at all. Always empty for an `Exec` that starts real processes.
    pub fn ran(&self) -> Vec<Ran> {
        self.record(|s| s.ran.clone())
    }

    /// The changes a scripted `Exec` printed under `--dry-run` instead of running, in order.
    pub fn skipped(&self) -> Vec<Ran> {
        self.record(|s| s.skipped.clone())
    }

    /// The argv ([`Cmd::display`]) of each command a scripted `Exec` had no reply for, in order.
    /// Callers may turn that error into a finding; this shows it to a test all the same.
    pub fn unscripted(&self) -> Vec<String> {
        self.record(|s| s.unscripted.clone())
    }

    /// Where `program` is on PATH, or None. A scripted `Exec` has every program its script has a
    /// rule for, under `/scripted/`, and no other.
    pub fn which(&self, program: &str) -> Option<std::path::PathBuf> {
        match &self.script {
            None => which::which(program).ok(),
            Some(s) => {
                let s = s.lock().unwrap_or_else(|e| e.into_inner());
                let known = s
                    .script
                    .rules
                    .iter()
                    .any(|r| r.argv.first().is_some_and(|p| p == program));
                known.then(|| std::path::Path::new("/scripted").join(program))
            }
        }
    }

    fn record<T: Default>(&self, read: impl FnOnce(&Scripted) -> T) -> T {
        self.script
            .as_ref()
            .map(|s| read(&s.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default()
    }

    /// Run each read-only command once and reuse its answer, across clones and threads: for
    /// `rdock doctor --all`, which changes nothing, so the same command gives the same answer
    /// (`ssh -V`, `ssh-add -L`, `docker context ls` are asked once, not once per context).
    pub fn memoized(mut self) -> Self {
        self.memo = Some(Memo::default());
        self
    }

    /// A clone whose commands stop, and whose next commands do not start, once the [`Cancel`]
    /// is raised: for work whose answer may stop being needed before it is done (a fact that a
    /// fix made stale), so that waiting for it never costs its whole bound.
    pub fn cancellable(&self) -> (Exec, Cancel) {
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let exec = Exec {
            cancel: Some(flag.clone()),
            ..self.clone()
        };
        (exec, Cancel(flag))
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Run a command to completion or until its timeout. A non-zero exit is not an error here:
    /// callers read [`Output::code`]. Errors are: the program could not be started, or it timed out.
    pub fn run(&self, cmd: &Cmd) -> Result<Output> {
        if self.dry_run && cmd.effect == Effect::Changes {
            eprintln!("would run: {}", crate::sys::term::visible(&cmd.display()));
            if let Some(script) = &self.script {
                let mut script = script.lock().unwrap_or_else(|e| e.into_inner());
                script.skipped.push(Ran::of(cmd));
            }
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
        cell.get_or_init(|| self.spawn(cmd).map_err(Failed::of))
            .clone()
            .map_err(Failed::error)
    }

    fn spawn(&self, cmd: &Cmd) -> Result<Output> {
        // A scripted answer is instant: there is nothing to stop, and a test's replies are
        // given in the order its commands ask, whatever the timing.
        if self.cancelled() && self.script.is_none() {
            anyhow::bail!(
                "`{}` was not run: its answer is no longer needed",
                cmd.program
            );
        }
        if self.verbose {
            eprintln!("$ {}", crate::sys::term::visible(&cmd.display()));
        }
        match &self.script {
            Some(script) => script.lock().unwrap_or_else(|e| e.into_inner()).answer(cmd),
            None => spawn_and_wait(cmd, self.cancel.as_deref()),
        }
    }
}

/// Stops what runs through the [`Exec`] it came with ([`Exec::cancellable`]).
#[derive(Clone, Debug)]
pub struct Cancel(Arc<std::sync::atomic::AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The error for a program that could not be started, whichever backend: the cause is attached.
fn could_not_run(cmd: &Cmd) -> String {
    format!("could not run `{}`", cmd.program)
}

/// The error for a command stopped at its timeout, whichever backend, with what it had printed.
fn timed_out(cmd: &Cmd, stdout: String, stderr: String) -> anyhow::Error {
    anyhow::Error::new(TimedOut {
        cmd: cmd.display(),
        secs: cmd.timeout.as_secs(),
        stdout,
        stderr,
    })
}

/// A command ran past its timeout and was stopped; what it had printed by then is kept.
#[derive(Clone, Debug)]
pub struct TimedOut {
    pub cmd: String,
    pub secs: u64,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` did not finish within {} s and was stopped",
            self.cmd, self.secs
        )
    }
}

impl std::error::Error for TimedOut {}

/// Canned replies for [`Exec::scripted`], by argv: the program, then its args.
///
/// A command is answered by the rule given with [`Script::on`] for exactly its argv; failing
/// that, by the rule with the longest prefix of its argv given with [`Script::on_prefix`]; failing
/// that, it is an error. Environment and stdin do not take part in matching: read them from
/// [`Exec::ran`]. Giving a rule again for the same argv queues another reply: the replies come
/// back in the order given, one per run, and the last one repeats (a check, a fix, the check
/// again).
#[derive(Clone, Debug, Default)]
pub struct Script {
    rules: Vec<Rule>,
}

#[derive(Clone, Debug)]
struct Rule {
    argv: Vec<OsString>,
    prefix: bool,
    replies: Vec<Reply>,
}

impl Script {
    pub fn new() -> Self {
        Script::default()
    }

    /// Reply to the command whose argv is exactly `argv`, e.g. `&["ssh", "-G", "--", "box"]`.
    pub fn on(self, argv: &[&str], reply: Reply) -> Self {
        self.rule(argv, false, reply)
    }

    /// Reply to every command whose argv starts with `prefix` (e.g. `&["ssh", "-G"]`, whatever
    /// the options and destination after it) and that no exact rule answers.
    pub fn on_prefix(self, prefix: &[&str], reply: Reply) -> Self {
        self.rule(prefix, true, reply)
    }

    fn rule(mut self, argv: &[&str], prefix: bool, reply: Reply) -> Self {
        let argv: Vec<OsString> = argv.iter().map(OsString::from).collect();
        match self
            .rules
            .iter_mut()
            .find(|r| r.prefix == prefix && r.argv == argv)
        {
            Some(rule) => rule.replies.push(reply),
            None => self.rules.push(Rule {
                argv,
                prefix,
                replies: vec![reply],
            }),
        }
        self
    }

    /// The index of the rule that answers `argv`.
    fn find(&self, argv: &[OsString]) -> Option<usize> {
        let exact = self.rules.iter().position(|r| !r.prefix && r.argv == argv);
        exact.or_else(|| {
            (self.rules.iter().enumerate())
                .filter(|(_, r)| r.prefix && argv.starts_with(&r.argv))
                .max_by_key(|(_, r)| r.argv.len())
                .map(|(i, _)| i)
        })
    }
}

/// What a scripted command does: exit with output, time out, or fail to start; and what it
/// changes on disk as it does so ([`Reply::effect`]), as the real tool would.
#[derive(Clone)]
pub struct Reply(Outcome, Option<Change>);

/// A scripted command's change to the world (a file written, as the real tool writes it).
type Change = Arc<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Reply({:?}{})",
            self.0,
            if self.1.is_some() { ", effect" } else { "" }
        )
    }
}

impl PartialEq for Reply {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    Exit {
        code: Option<i32>,
        stdout: String,
        stderr: String,
    },
    TimesOut {
        stdout: String,
        stderr: String,
    },
    CannotStart,
}

impl Reply {
    /// Exit 0 with this stdout and no stderr.
    pub fn ok(stdout: impl Into<String>) -> Self {
        Reply::exit(Some(0), stdout, "")
    }

    /// Exit with `code` and this stderr, no stdout.
    pub fn fail(code: i32, stderr: impl Into<String>) -> Self {
        Reply::exit(Some(code), "", stderr)
    }

    /// Exit with `code` (None: ended by a signal) and this output.
    pub fn exit(code: Option<i32>, stdout: impl Into<String>, stderr: impl Into<String>) -> Self {
        Reply(
            Outcome::Exit {
                code,
                stdout: stdout.into(),
                stderr: stderr.into(),
            },
            None,
        )
    }

    /// Run `change` when this reply is given: what the real command would leave behind (a key
    /// file ssh-keygen writes, docker's context store after `docker context create`).
    pub fn effect(mut self, change: impl Fn() + Send + Sync + 'static) -> Self {
        self.1 = Some(Arc::new(change));
        self
    }

    /// The command runs past its timeout: [`Exec::run`] returns the error a real timeout gives,
    /// at once.
    pub fn times_out() -> Self {
        Reply::times_out_after("", "")
    }

    /// The command runs past its timeout having printed this: [`Exec::run`] returns a
    /// [`TimedOut`] that holds it, at once.
    pub fn times_out_after(stdout: impl Into<String>, stderr: impl Into<String>) -> Self {
        Reply(
            Outcome::TimesOut {
                stdout: stdout.into(),
                stderr: stderr.into(),
            },
            None,
        )
    }

    /// The program cannot be started: [`Exec::run`] returns the error a missing program gives.
    pub fn cannot_start() -> Self {
        Reply(Outcome::CannotStart, None)
    }
}

/// A command as a scripted [`Exec`] was asked to run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ran {
    /// The program, then its args.
    pub argv: Vec<String>,
    /// Variables set for the command, in the order set.
    pub env: Vec<(String, String)>,
    /// Variables removed from its environment (a variable also set is set: it is applied last).
    pub env_remove: Vec<String>,
    /// The bytes given to its stdin.
    pub stdin: Option<Vec<u8>>,
    pub effect: Effect,
    pub interactive: bool,
    /// Its output was shown to the person as it came ([`Cmd::shows_output`]).
    pub shown: bool,
    pub timeout: Duration,
}

impl Ran {
    fn of(cmd: &Cmd) -> Self {
        Ran {
            argv: std::iter::once(cmd.program.clone())
                .chain(cmd.args.iter().map(|a| a.to_string_lossy().into_owned()))
                .collect(),
            env: cmd.env.clone(),
            env_remove: cmd.env_remove.clone(),
            stdin: cmd.stdin.clone(),
            effect: cmd.effect,
            interactive: cmd.interactive,
            shown: cmd.shown,
            timeout: cmd.timeout,
        }
    }

    /// The argv as [`Cmd::display`] shows it.
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|w| quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The value the command set for `key`, the last one when it was set more than once.
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.env
            .iter()
            .rfind(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The state a scripted [`Exec`] and its clones share.
#[derive(Debug, Default)]
struct Scripted {
    script: Script,
    /// How many replies each rule has given.
    given: Vec<usize>,
    ran: Vec<Ran>,
    skipped: Vec<Ran>,
    unscripted: Vec<String>,
}

impl Scripted {
    fn answer(&mut self, cmd: &Cmd) -> Result<Output> {
        let ran = Ran::of(cmd);
        let hint = format!("{:?}", ran.argv);
        self.ran.push(ran);
        let argv: Vec<OsString> = std::iter::once(OsString::from(&cmd.program))
            .chain(cmd.args.iter().cloned())
            .collect();
        let Some(i) = self.script.find(&argv) else {
            self.unscripted.push(cmd.display());
            return Err(anyhow!(
                "no scripted reply for `{}`: add Script::on(&{hint}, …)",
                cmd.display()
            ));
        };
        let replies = &self.script.rules[i].replies;
        let reply = &replies[self.given[i].min(replies.len() - 1)];
        self.given[i] += 1;
        if let Some(change) = &reply.1 {
            change();
        }
        match &reply.0 {
            Outcome::Exit {
                code,
                stdout,
                stderr,
            } => Ok(Output {
                code: *code,
                stdout: stdout.clone(),
                stderr: stderr.clone(),
                skipped: false,
            }),
            Outcome::TimesOut { stdout, stderr } => {
                Err(timed_out(cmd, stdout.clone(), stderr.clone()))
            }
            Outcome::CannotStart => Err(anyhow::Error::new(std::io::Error::from_raw_os_error(2))
                .context(could_not_run(cmd))),
        }
    }
}

fn spawn_and_wait(cmd: &Cmd, cancel: Option<&std::sync::atomic::AtomicBool>) -> Result<Output> {
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
    let mut child = command.spawn().with_context(|| could_not_run(cmd))?;
    let _running = (!cmd.interactive).then(|| Running::register(child.id()));

    let stdin_bytes = cmd.stdin.clone();
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        ignore_sigpipe_in_this_thread();
        if let (Some(pipe), Some(bytes)) = (stdin.as_mut(), stdin_bytes) {
            // A child that exits before reading all of it is not our error to report.
            let _ = pipe.write_all(&bytes);
        }
        drop(stdin);
    });
    let overflow = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stdout = child
        .stdout
        .take()
        .map(|p| reader(p, cmd.max_output, cmd.shown, overflow.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|p| reader(p, cmd.max_output, cmd.shown, overflow.clone()));

    let deadline = std::time::Instant::now() + cmd.timeout;
    let status = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if let Some(status) = child.wait_timeout(left.min(POLL))? {
            break status;
        }
        let stop = if overflow.load(std::sync::atomic::Ordering::SeqCst) {
            Some(anyhow::Error::new(TooMuchOutput::of(cmd)))
        } else if let Err(interrupted) = crate::sys::signal::check() {
            Some(anyhow::Error::new(interrupted))
        } else if cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst)) {
            Some(anyhow::anyhow!(
                "`{}` was stopped: its answer was no longer needed",
                cmd.program
            ))
        } else if left.is_zero() {
            kill(&mut child, cmd.interactive);
            let _ = child.wait();
            // What it printed before it was stopped: the pipes close with its process group.
            let (out, err) = (printed_so_far(stdout), printed_so_far(stderr));
            return Err(timed_out(cmd, out, err));
        } else {
            None
        };
        if let Some(error) = stop {
            kill(&mut child, cmd.interactive);
            let _ = child.wait();
            return Err(error);
        }
    };
    let _ = writer.join();
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    if overflow.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(anyhow::Error::new(TooMuchOutput::of(cmd)));
    }
    Ok(Output {
        code: status.code(),
        stdout,
        stderr,
        skipped: false,
    })
}

/// What a reader of a stopped command's pipe holds, once the pipe closed; empty when it is still
/// open after a second (a process outside the group kept it).
fn printed_so_far(reader: Option<std::thread::JoinHandle<Vec<u8>>>) -> String {
    let Some(reader) = reader else {
        return String::new();
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while !reader.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if !reader.is_finished() {
        return String::new();
    }
    reader
        .join()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// A child that exits before reading its stdin (ssh refused at once) must not end rdock: with
/// SIGPIPE's default action (restored in main, for `rdock doctor | head`) the write would kill
/// the whole process. SIGPIPE goes to the thread that wrote, so this thread blocks it and gets
/// the error instead, which it ignores.
fn ignore_sigpipe_in_this_thread() {
    #[cfg(unix)]
    // SAFETY: the set is initialised by sigemptyset before use, and pthread_sigmask only changes
    // this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// A command printed more than its cap ([`Cmd::max_output`]) and was stopped.
#[derive(Clone, Debug)]
pub struct TooMuchOutput {
    pub cmd: String,
    pub cap: usize,
}

impl TooMuchOutput {
    fn of(cmd: &Cmd) -> Self {
        TooMuchOutput {
            cmd: cmd.display(),
            cap: cmd.max_output,
        }
    }
}

impl std::fmt::Display for TooMuchOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` printed more than {} KiB and was stopped",
            self.cmd,
            self.cap / 1024
        )
    }
}

impl std::error::Error for TooMuchOutput {}

/// How often a running command is checked for its timeout, its output and a signal.
const POLL: Duration = Duration::from_millis(50);

/// Read a pipe to its end, keeping at most `cap` bytes: past that, flag `overflow` and stop
/// reading (the command is then stopped). With `show`, each piece read is also written to
/// stderr as visible text.
fn reader<R: Read + Send + 'static>(
    mut pipe: R,
    cap: usize,
    show: bool,
    overflow: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        // How much of `buf` has been shown: a character cut between two reads waits for its end.
        let mut shown = 0;
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) if buf.len() + n > cap => {
                    overflow.store(true, std::sync::atomic::Ordering::SeqCst);
                    break;
                }
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if show {
                        shown += show_piece(&buf[shown..]);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        buf
    })
}

/// Write what a shown command printed to stderr, as visible text, up to a character cut at the
/// end of `bytes` (it is shown with the next piece); returns how many bytes were shown.
fn show_piece(bytes: &[u8]) -> usize {
    let upto = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => bytes.len(),
    };
    let text = String::from_utf8_lossy(&bytes[..upto]);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(crate::sys::term::visible_stream(&text).as_bytes());
    let _ = err.flush();
    upto
}

fn kill(child: &mut std::process::Child, interactive: bool) {
    if !interactive {
        kill_tree(child.id());
    }
    let _ = child.kill();
}

/// The non-interactive commands running now, by pid (each leads its own process group on Unix):
/// what [`end_running`] stops.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A command's place in [`RUNNING`], left when it ends (however [`spawn_and_wait`] returns).
struct Running(u32);

/// Set by [`end_running`]: rdock is exiting, and a command that starts after that (a background
/// thread's, in the same instant) is stopped as it registers.
static CLOSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Running {
    fn register(pid: u32) -> Running {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        if CLOSING.load(std::sync::atomic::Ordering::SeqCst) {
            drop(running);
            kill_tree(pid);
        } else {
            running.push(pid);
        }
        Running(pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|p| *p != self.0);
    }
}

/// Stop every command still running, and what each started. rdock calls it as it exits: a
/// background job no step waited for (setup's early `docker --context NAME version`, when an
/// earlier check stopped setup) would otherwise go on alone, and through a remote shell that
/// hangs it never ends.
pub fn end_running() {
    {
        // Under the lock: a command registers either before (and is ended below) or after (and
        // sees the flag).
        let _running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        CLOSING.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    end_running_if(|_| true);
}

/// [`end_running`] for the commands whose pid `which` picks.
fn end_running_if(which: impl Fn(u32) -> bool) {
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let (end, keep): (Vec<u32>, Vec<u32>) = running.iter().partition(|p| which(**p));
    *running = keep;
    drop(running);
    for pid in end {
        kill_tree(pid);
    }
}

/// End a command's process group (it leads one, see [`spawn_and_wait`]) and, on Linux, every
/// process below it that left the group: the docker CLI starts ssh in a session of its own, and
/// that ssh, its docker gone, waits on a remote that never answers (measured: it outlived a
/// killed `docker version` whose remote `~/.bashrc` sleeps).
fn kill_tree(leader: u32) {
    #[cfg(unix)]
    {
        // Found before the group goes: a killed parent's children are re-parented at once.
        let below = descendants(leader);
        let pids = std::iter::once(-(leader as i32)).chain(below.iter().map(|p| *p as i32));
        // Never -1 (every process) nor 0 (rdock's own group), whatever a pid reads.
        for pid in pids.filter(|p| p.abs() > 1) {
            // SAFETY: kill(2) with a pid (or a negative process group) and a signal number
            // touches no memory; a process already gone gives ESRCH, which is ignored.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    let _ = leader;
}

/// The pids below `root`, from /proc (Linux; elsewhere none are known).
#[cfg(unix)]
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `PID (COMM) STATE PPID …`: COMM may hold spaces and parentheses.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(pid, ppid)| *ppid == parent && !found.contains(pid))
                .map(|(pid, _)| *pid)
                .collect::<Vec<_>>(),
        );
        i += 1;
    }
    found.remove(0);
    found
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
    fn a_command_that_never_stops_talking_is_stopped_with_memory_bounded() {
        let start = std::time::Instant::now();
        let err = Exec::default()
            .run(&Cmd::new("yes").max_output(64 * 1024))
            .unwrap_err();
        assert!(
            err.to_string().contains("printed more than 64 KiB"),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        let out = Exec::default()
            .run(
                &Cmd::new("head")
                    .args(["-c", "65536", "/dev/zero"])
                    .max_output(64 * 1024),
            )
            .unwrap();
        assert_eq!(out.stdout.len(), 65536, "exactly the cap is kept");
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

    #[cfg(target_os = "linux")]
    #[test]
    fn a_timeout_and_end_running_stop_what_left_the_process_group_too() {
        let dir = tempfile::tempdir().unwrap();
        let alive = |pid_file: &std::path::Path| {
            let pid = std::fs::read_to_string(pid_file).unwrap();
            // A killed child of an ended parent is reaped by init: its /proc entry goes.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
                let gone = stat.map_or(true, |s| s.contains(") Z "));
                if gone || std::time::Instant::now() > deadline {
                    return !gone;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        // As the docker CLI starts ssh: in a session (so a process group) of its own.
        let cmd = |pid_file: &std::path::Path| {
            let script = format!(
                "echo $$ > {0}.sh; setsid sh -c 'echo $$ > {0}; exec sleep 60' & wait",
                pid_file.display()
            );
            Cmd::new("sh").args(["-c", &script])
        };
        let pid_file = dir.path().join("timeout");
        let stopped = Exec::default().run(&cmd(&pid_file).timeout(Duration::from_millis(500)));
        assert!(stopped.is_err());
        assert!(!alive(&pid_file), "the timeout left it running");

        // A background job nobody waits for: ended as rdock exits.
        let pid_file = dir.path().join("background");
        let job = {
            let cmd = cmd(&pid_file).timeout(Duration::from_secs(60));
            std::thread::spawn(move || Exec::default().run(&cmd))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !pid_file.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        // This one alone: other tests run commands in this process at the same time.
        let sh: u32 = std::fs::read_to_string(dir.path().join("background.sh"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(RUNNING.lock().unwrap().contains(&sh), "not registered");
        end_running_if(|pid| pid == sh);
        assert!(!alive(&pid_file), "end_running left it running");
        let _ = job.join();
    }

    #[test]
    fn a_stopped_command_keeps_what_it_printed_before_its_timeout() {
        let cmd = Cmd::new("sh")
            .args(["-c", "echo started; echo warming >&2; sleep 30"])
            .timeout(Duration::from_millis(500));
        // The memo of doctor --all hands back the same error.
        for exec in [Exec::default(), Exec::default().memoized()] {
            let err = exec.run(&cmd).unwrap_err();
            let stopped = err.downcast_ref::<TimedOut>().expect("a TimedOut");
            assert_eq!(
                (stopped.stdout.as_str(), stopped.stderr.as_str()),
                ("started\n", "warming\n")
            );
        }
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

    #[test]
    fn scripted_answers_from_the_script_and_records_what_ran() {
        let exec = Exec::scripted(
            Script::new()
                .on(
                    &["ssh", "-G", "--", "box"],
                    Reply::ok("user me\nhostname box\n"),
                )
                .on(
                    &["ssh-add", "-L"],
                    Reply::fail(1, "The agent has no identities.\n"),
                ),
        );
        let out = exec
            .run(&Cmd::new("ssh").args(["-G", "--", "box"]))
            .unwrap();
        assert_eq!(out.stdout, "user me\nhostname box\n");
        assert!(out.success() && !out.skipped);
        let out = exec
            .clone()
            .run(
                &Cmd::new("ssh-add")
                    .arg("-L")
                    .env("SSH_AUTH_SOCK", "/tmp/agent")
                    .env_remove("DOCKER_HOST")
                    .stdin("key\n"),
            )
            .unwrap();
        assert_eq!(out.code, Some(1));
        assert_eq!(out.last_error_line(), "The agent has no identities.");

        let ran = exec.ran();
        let lines: Vec<String> = ran.iter().map(Ran::display).collect();
        assert_eq!(lines, ["ssh -G -- box", "ssh-add -L"]);
        assert_eq!(ran[0].argv, ["ssh", "-G", "--", "box"]);
        assert_eq!(ran[1].env_var("SSH_AUTH_SOCK"), Some("/tmp/agent"));
        assert_eq!(ran[1].env_remove, ["DOCKER_HOST"]);
        assert_eq!(ran[1].stdin.as_deref(), Some(&b"key\n"[..]));
        assert!(exec.unscripted().is_empty());
        assert!(Exec::default().ran().is_empty());
    }

    #[test]
    fn scripted_without_a_reply_errors_with_the_argv() {
        let exec = Exec::scripted(Script::new().on(&["ssh", "-V"], Reply::ok("")));
        let err = exec
            .run(&Cmd::new("ssh").args(["-G", "--", "my box"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`ssh -G -- 'my box'`"), "{err}");
        assert!(err.contains(r#"["ssh", "-G", "--", "my box"]"#), "{err}");
        assert_eq!(exec.unscripted(), ["ssh -G -- 'my box'"]);
        assert_eq!(exec.ran().len(), 1);
    }

    #[test]
    fn scripted_exact_beats_prefix_and_the_longest_prefix_wins() {
        let exec = Exec::scripted(
            Script::new()
                .on_prefix(&["ssh"], Reply::ok("any ssh"))
                .on_prefix(&["ssh", "-G", "--"], Reply::ok("any -G"))
                .on(&["ssh", "-G", "--", "box"], Reply::ok("box")),
        );
        let stdout = |args: &[&str]| exec.run(&Cmd::new("ssh").args(args)).unwrap().stdout;
        assert_eq!(stdout(&["-G", "--", "box"]), "box");
        assert_eq!(stdout(&["-G", "--", "other"]), "any -G");
        assert_eq!(stdout(&["-V"]), "any ssh");
        assert!(exec.run(&Cmd::new("docker")).is_err());
    }

    #[test]
    fn scripted_replies_to_one_argv_come_in_turn_and_the_last_repeats() {
        let exec = Exec::scripted(
            Script::new()
                .on(&["ssh-add", "-L"], Reply::fail(1, "no identities"))
                .on(&["ssh-add", "-L"], Reply::ok("ssh-ed25519 AAAA\n")),
        );
        let codes: Vec<_> = (0..3)
            .map(|_| exec.run(&Cmd::new("ssh-add").arg("-L")).unwrap().code)
            .collect();
        assert_eq!(codes, [Some(1), Some(0), Some(0)]);
    }

    #[test]
    fn scripted_dry_run_skips_changes_and_records_them_apart() {
        let mut exec = Exec::scripted(
            Script::new()
                .on(&["ssh-add", "-L"], Reply::ok(""))
                .on(&["ssh-add", "key"], Reply::fail(1, "must not run")),
        );
        exec.dry_run = true;
        exec.run(&Cmd::new("ssh-add").arg("-L")).unwrap();
        let out = exec.run(&Cmd::new("ssh-add").arg("key").changes()).unwrap();
        assert!(out.skipped && out.success());
        let shown = |v: Vec<Ran>| v.iter().map(Ran::display).collect::<Vec<_>>();
        assert_eq!(shown(exec.ran()), ["ssh-add -L"]);
        assert_eq!(shown(exec.skipped()), ["ssh-add key"]);
    }

    #[test]
    fn scripted_memoized_runs_a_read_only_command_once_across_threads() {
        let exec = Exec::scripted(
            Script::new()
                .on(&["ssh", "-V"], Reply::exit(Some(0), "", "OpenSSH_9.6\n"))
                .on(&["touch", "f"], Reply::ok("")),
        )
        .memoized();
        std::thread::scope(|s| {
            for _ in 0..4 {
                let exec = exec.clone();
                s.spawn(move || {
                    let out = exec.run(&Cmd::new("ssh").arg("-V")).unwrap();
                    assert_eq!(out.stderr, "OpenSSH_9.6\n");
                    exec.run(&Cmd::new("touch").arg("f").changes()).unwrap();
                });
            }
        });
        let ran = exec.ran();
        let count = |line: &str| ran.iter().filter(|r| r.display() == line).count();
        assert_eq!((count("ssh -V"), count("touch f")), (1, 4));
    }

    #[test]
    fn scripted_timeout_and_start_failure_are_errors_shaped_like_real_ones() {
        let exec = Exec::scripted(
            Script::new()
                .on(&["sleep", "30"], Reply::times_out())
                .on(&["definitely-not-a-program-rdock"], Reply::cannot_start()),
        );
        let sleep = Cmd::new("sleep")
            .arg("30")
            .timeout(Duration::from_millis(300));
        let err = exec.run(&sleep).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`sleep 30` did not finish within 0 s and was stopped"
        );
        let missing = Cmd::new("definitely-not-a-program-rdock");
        let err = exec.run(&missing).unwrap_err();
        assert_eq!(
            err.to_string(),
            "could not run `definitely-not-a-program-rdock`"
        );
        #[cfg(unix)]
        {
            let real = Exec::default();
            assert_eq!(
                format!("{:#}", real.run(&sleep).unwrap_err()),
                format!("{:#}", exec.run(&sleep).unwrap_err())
            );
            assert_eq!(
                format!("{:#}", real.run(&missing).unwrap_err()),
                format!("{:#}", exec.run(&missing).unwrap_err())
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_child_that_closes_its_stdin_unread_does_not_end_rdock() {
        // As rdock's main sets it: a write to a pipe nobody reads would end the whole process.
        // SAFETY: SIG_DFL is always a valid disposition for SIGPIPE.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
        // More than a pipe holds, to a child that closes its stdin first: the write must fail.
        let out = Exec::default()
            .run(
                &Cmd::new("sh")
                    .args(["-c", "exec 0<&-; sleep 0.2; echo still here"])
                    .stdin(vec![b'x'; 1 << 20]),
            )
            .unwrap();
        assert_eq!((out.code, out.stdout.trim()), (Some(0), "still here"));
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
