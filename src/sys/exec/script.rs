//! The scripted double: an [`Exec`] that answers from canned replies and records what ran.

use std::ffi::OsString;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{anyhow, Result};

use super::outcome::{could_not_run, timed_out};
use super::{quote, Cmd, Effect, Exec, Output};

impl Exec {
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

    fn record<T: Default>(&self, read: impl FnOnce(&Scripted) -> T) -> T {
        self.script
            .as_ref()
            .map(|s| read(&s.lock().unwrap_or_else(|e| e.into_inner())))
            .unwrap_or_default()
    }
}

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
    pub(super) fn of(cmd: &Cmd) -> Self {
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
pub(super) struct Scripted {
    script: Script,
    /// How many replies each rule has given.
    given: Vec<usize>,
    ran: Vec<Ran>,
    skipped: Vec<Ran>,
    unscripted: Vec<String>,
}

impl Scripted {
    /// Does the script have a rule for `program`?
    pub(super) fn knows(&self, program: &str) -> bool {
        (self.script.rules.iter()).any(|r| r.argv.first().is_some_and(|p| p == program))
    }

    /// Record a change `--dry-run` printed instead of running.
    pub(super) fn skip(&mut self, cmd: &Cmd) {
        self.skipped.push(Ran::of(cmd));
    }

    pub(super) fn answer(&mut self, cmd: &Cmd) -> Result<Output> {
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::{Cmd, Exec};
    use super::*;

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
}
