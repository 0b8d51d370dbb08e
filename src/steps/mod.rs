//! One model of a step: `check` is read-only and returns a [`Finding`] (with its fix); `fix` acts.
//! `rdock setup` runs check, fix, check again; `rdock doctor` runs check only; `--dry-run` runs
//! check and says what fix would do. All three go through [`run`], with the steps [`plan`] lists
//! once, so setup and doctor can never disagree about what is wrong.
//!
//! Steps never print: they return findings and outcomes, and `render` shows them.

pub mod agent;
pub mod clients;
pub mod context;
pub mod destination;
pub mod facts;
pub mod host_key;
pub mod key;
pub mod multiplex;
pub mod plan;
pub mod remote;
pub mod remove;
pub mod repair;
pub mod session;
pub mod ssh_config;
pub mod tools;
pub mod vscode;

use std::collections::HashMap;

use anyhow::{bail, Result};
use serde::Serialize;

pub use facts::{Fact, Facts, Want};
pub use plan::{Group, Kind};
pub use session::Session;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// What a check found.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub id: String,
    pub status: Status,
    /// One line, in the user's words.
    pub message: String,
    /// For warn and fail: the exact command to run, or the setting to change.
    pub fix: Option<String>,
    /// Extra lines for `--verbose`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
    /// Setup may call [`Step::fix`] for this finding.
    #[serde(skip)]
    pub fixable: bool,
    /// Where doctor lists it (set by the runner from the plan).
    #[serde(skip)]
    pub group: Option<Group>,
    /// What setup did about it, or would do under --dry-run, or why it did not.
    #[serde(skip)]
    pub outcome: Option<Outcome>,
}

impl Finding {
    pub fn ok(id: &str, message: impl Into<String>) -> Self {
        Finding {
            id: id.to_string(),
            status: Status::Ok,
            message: message.into(),
            fix: None,
            details: Vec::new(),
            fixable: false,
            group: None,
            outcome: None,
        }
    }

    pub fn warn(id: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            status: Status::Warn,
            fix: Some(fix.into()),
            ..Finding::ok(id, message)
        }
    }

    pub fn fail(id: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Finding {
            status: Status::Fail,
            fix: Some(fix.into()),
            ..Finding::ok(id, message)
        }
    }

    pub fn skip(id: &str, message: impl Into<String>) -> Self {
        Finding {
            status: Status::Skip,
            ..Finding::ok(id, message)
        }
    }

    /// Mark a finding as one setup can repair by itself.
    pub fn fixable(mut self) -> Self {
        self.fixable = true;
        self
    }

    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.details.push(line.into());
        self
    }
}

/// What became of a finding setup could repair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The fix ran: what it did, in past tense ("created ~/.ssh/id_ed25519").
    Done(String),
    /// `--dry-run`: what the fix would do, and the exact commands.
    WouldDo(String),
    /// Nothing was done: the person said no, or there is no terminal and no flag said yes.
    Declined(String),
}

pub trait Step {
    /// Which step of the plan this is: its id, group, dependencies and whether it blocks.
    fn kind(&self) -> Kind;

    /// The id shown and used in `--json`: the plan's, except where one kind has several steps
    /// (a VS Code step per settings file).
    fn id(&self) -> String {
        self.kind().id().to_string()
    }

    /// Steps this one depends on: when one of them did not pass, this step is skipped with the
    /// cause instead of failing a second time. The plan's list, unless a step narrows it.
    fn needs(&self) -> &'static [Kind] {
        self.kind().needs()
    }

    /// The facts this step's check reads: the runner gathers them before it runs (see
    /// [`facts`]).
    fn facts(&self) -> Vec<Want> {
        Vec::new()
    }

    /// Read-only: judges the facts (and what is quick to read: files, the environment). May keep
    /// what it learns in the session for later steps.
    fn check(&mut self, s: &mut Session) -> Finding;

    /// The facts a successful [`Step::fix`] made stale: the runner gathers them again before the
    /// next check that reads them.
    fn stale(&self) -> &'static [Fact] {
        facts::REMOTE
    }

    /// Repair what `check` found. Called by setup only, never under `--dry-run`, and only for a
    /// finding marked fixable: returns [`Outcome::Done`] or [`Outcome::Declined`].
    fn fix(&mut self, _s: &mut Session) -> Result<Outcome> {
        bail!("rdock cannot fix {} by itself", self.id())
    }

    /// Whether `fix` could run here at all (for `--dry-run`, which never calls it): Err says what
    /// stands in the way (no terminal for a passphrase, a prompt that is not elevated).
    fn can_fix(&self, _s: &Session) -> Result<()> {
        Ok(())
    }

    /// What `fix` would do, for `--dry-run`: a sentence, then the exact commands, a line each.
    fn preview(&self, _s: &Session, found: &Finding) -> String {
        format!(
            "would fix it: {}",
            found.fix.as_deref().unwrap_or("(see the check)")
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// check, then fix, then check again; stop at a blocking failure
    Setup,
    /// check, and say what each fix would do; never stop
    DryRun,
    /// check only
    Doctor,
}

/// What one run of the steps found, in order.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// How many fixes moved their check (or would run, under --dry-run).
    pub changed: usize,
    /// Setup stopped at a blocking failure.
    pub stopped: bool,
    /// A signal (Ctrl-C, SIGTERM) stopped the run: its number.
    pub interrupted: Option<i32>,
}

impl Report {
    /// Failed checks (under --dry-run: those no fix of rdock's would mend).
    pub fn failed(&self) -> usize {
        self.count(Status::Fail)
    }
    /// Warnings, counted the same way.
    pub fn warned(&self) -> usize {
        self.count(Status::Warn)
    }
    fn count(&self, status: Status) -> usize {
        let would = |f: &&Finding| matches!(f.outcome, Some(Outcome::WouldDo(_)));
        self.findings
            .iter()
            .filter(|f| f.status == status && !would(f))
            .count()
    }
}

/// Run steps in order. `show` is called once per step with its final finding.
pub fn run(
    s: &mut Session,
    steps: &mut [Box<dyn Step>],
    mode: Mode,
    show: &mut dyn FnMut(&Finding),
) -> Report {
    // The facts phase spans the run: its threads are joined before this returns.
    std::thread::scope(|scope| {
        let wants: Vec<Want> = steps.iter().flat_map(|step| step.facts()).collect();
        let mut facts = facts::Gatherer::start(scope, s, &wants);
        let report = run_steps(s, &mut facts, steps, mode, show);
        facts.finish();
        report
    })
}

fn run_steps(
    s: &mut Session,
    facts: &mut facts::Gatherer<'_, '_>,
    steps: &mut [Box<dyn Step>],
    mode: Mode,
    show: &mut dyn FnMut(&Finding),
) -> Report {
    let mut report = Report::default();
    // Why a step did not pass, by kind: what a step that needs it is skipped with.
    let mut blocked: HashMap<Kind, String> = HashMap::new();
    for step in steps.iter_mut() {
        if let Some(signal) = crate::sys::signal::caught() {
            report.interrupted = Some(signal);
            break;
        }
        let kind = step.kind();
        let id = step.id();
        let mut finding = match step.needs().iter().find_map(|n| blocked.get(n)) {
            Some(cause) => Finding::skip(&id, format!("skipped: {cause}")),
            None => judge(s, facts, step.as_mut()),
        };
        finding.id = id.clone();
        if finding.fixable && matches!(finding.status, Status::Warn | Status::Fail) {
            match mode {
                Mode::Doctor => {}
                Mode::DryRun => match step.can_fix(s) {
                    Ok(()) => {
                        report.changed += 1;
                        let would = step.preview(s, &finding);
                        finding.outcome = Some(Outcome::WouldDo(would));
                        blocked.insert(kind, format!("{} is not done yet (--dry-run)", kind.id()));
                    }
                    Err(why) => finding.outcome = Some(Outcome::Declined(format!("{why:#}"))),
                },
                Mode::Setup => {
                    finding = fix_and_recheck(s, facts, step.as_mut(), finding, &mut report)
                }
            }
        }
        if matches!(finding.status, Status::Fail | Status::Skip) {
            let cause = match finding.message.strip_prefix("skipped: ") {
                Some(cause) if finding.status == Status::Skip => cause.to_string(),
                _ => format!("{} did not pass", kind.id()),
            };
            blocked.entry(kind).or_insert(cause);
        }
        if kind == Kind::Identity && finding.status == Status::Ok {
            facts.identity_passed(s);
        }
        finding.group = Some(kind.group());
        show(&finding);
        let stop = mode == Mode::Setup && finding.status == Status::Fail && kind.blocking();
        report.findings.push(finding);
        if stop {
            report.stopped = true;
            break;
        }
    }
    report.interrupted = report.interrupted.or(crate::sys::signal::caught());
    report
}

/// Have the facts the step's check reads (waiting for them, or gathering them when a fix made
/// them stale or they need what an earlier check found), then check.
fn judge(s: &mut Session, facts: &mut facts::Gatherer<'_, '_>, step: &mut dyn Step) -> Finding {
    facts.settle(s, &step.facts());
    step.check(s)
}

/// Setup's fix: run it, then check again. A declined fix leaves the finding as it was.
fn fix_and_recheck(
    s: &mut Session,
    facts: &mut facts::Gatherer<'_, '_>,
    step: &mut dyn Step,
    found: Finding,
    report: &mut Report,
) -> Finding {
    // Stop gathering what the fix will make stale before it acts (a background docker call may
    // be opening the connection the fix changes).
    facts.stop(step.stale());
    match step.fix(s) {
        Ok(Outcome::Done(sentence)) => {
            // What the fix made stale describes the world before it: every check after it has
            // those facts gathered anew.
            facts.forget(s, step.stale());
            let mut again = judge(s, facts, step);
            again.id = found.id.clone();
            if again.status != found.status {
                report.changed += 1;
            }
            if again.status != Status::Fail {
                again.outcome = Some(Outcome::Done(sentence));
            }
            again
        }
        Ok(other) => Finding {
            outcome: Some(other),
            fixable: false,
            ..found
        },
        Err(err) => Finding {
            status: Status::Fail,
            message: format!("{err:#}"),
            fixable: false,
            ..found
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::env::Env;
    use crate::sys::exec::Exec;
    use crate::sys::platform::Platform;
    use crate::sys::term::Term;

    /// A step whose check fails until its fix runs, and whose fix may be declined.
    struct Offer {
        accept: bool,
        done: bool,
    }

    impl Step for Offer {
        fn kind(&self) -> Kind {
            Kind::Use
        }
        fn check(&mut self, _: &mut Session) -> Finding {
            if self.done {
                Finding::ok("use", "done")
            } else {
                Finding::warn("use", "not done", "do it").fixable()
            }
        }
        fn fix(&mut self, _: &mut Session) -> Result<Outcome> {
            self.done = self.accept;
            Ok(if self.accept {
                Outcome::Done("did it".into())
            } else {
                Outcome::Declined("you said no".into())
            })
        }
    }

    fn session() -> Session {
        Session::new(
            Exec::default(),
            Term::plain(),
            Env::new(Platform::Linux, "/nonexistent"),
        )
    }

    fn run_one(accept: bool, mode: Mode) -> Report {
        let mut s = session();
        let mut steps: Vec<Box<dyn Step>> = vec![Box::new(Offer {
            accept,
            done: false,
        })];
        run(&mut s, &mut steps, mode, &mut |_| {})
    }

    #[test]
    fn a_fix_counts_as_a_change_only_when_it_moved_the_check() {
        let report = run_one(true, Mode::Setup);
        assert_eq!(report.changed, 1);
        let f = &report.findings[0];
        assert_eq!(f.status, Status::Ok);
        assert_eq!(f.outcome, Some(Outcome::Done("did it".into())));
        let report = run_one(false, Mode::Setup);
        assert_eq!(report.changed, 0, "a declined offer changed nothing");
        let f = &report.findings[0];
        assert_eq!(f.status, Status::Warn);
        assert_eq!(f.outcome, Some(Outcome::Declined("you said no".into())));
    }

    #[test]
    fn dry_run_never_calls_fix_and_says_what_it_would_do() {
        let report = run_one(true, Mode::DryRun);
        assert_eq!(report.changed, 1);
        let f = &report.findings[0];
        assert_eq!(f.status, Status::Warn, "nothing was fixed");
        assert_eq!(
            f.outcome,
            Some(Outcome::WouldDo("would fix it: do it".into()))
        );
    }

    struct Fails(Kind);
    impl Step for Fails {
        fn kind(&self) -> Kind {
            self.0
        }
        fn check(&mut self, _: &mut Session) -> Finding {
            Finding::fail("x", "broken", "mend it")
        }
        fn fix(&mut self, _: &mut Session) -> Result<Outcome> {
            panic!("only fixable findings reach fix")
        }
    }

    struct Later(Kind);
    impl Step for Later {
        fn kind(&self) -> Kind {
            self.0
        }
        fn check(&mut self, _: &mut Session) -> Finding {
            panic!("a check whose dependency failed must not run")
        }
    }

    #[test]
    fn a_failure_skips_what_depends_on_it_and_the_skip_names_the_cause() {
        for mode in [Mode::Doctor, Mode::DryRun] {
            let mut s = session();
            // identity needs key; auth needs identity.
            let mut steps: Vec<Box<dyn Step>> = vec![
                Box::new(Fails(Kind::Key)),
                Box::new(Later(Kind::Identity)),
                Box::new(Later(Kind::Auth)),
            ];
            let report = run(&mut s, &mut steps, mode, &mut |_| {});
            let seen: Vec<_> = report
                .findings
                .iter()
                .map(|f| (f.id.as_str(), f.status, f.message.as_str()))
                .collect();
            assert_eq!(
                seen,
                [
                    ("key", Status::Fail, "broken"),
                    ("identity", Status::Skip, "skipped: key did not pass"),
                    ("auth", Status::Skip, "skipped: key did not pass"),
                ],
                "{mode:?}"
            );
            assert!(!report.stopped);
        }
    }

    #[test]
    fn setup_stops_at_a_blocking_failure_and_not_at_others() {
        let mut s = session();
        let mut steps: Vec<Box<dyn Step>> = vec![
            Box::new(Fails(Kind::AgentKeys)),
            Box::new(Fails(Kind::Key)),
            Box::new(Later(Kind::Tools)),
        ];
        let report = run(&mut s, &mut steps, Mode::Setup, &mut |_| {});
        assert!(report.stopped);
        assert_eq!(
            report.findings.len(),
            2,
            "agent-keys does not block; key does"
        );
    }
}
