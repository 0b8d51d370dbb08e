//! One model of a step: `check` is read-only and returns a [`Finding`] (with its fix); `fix` acts.
//! `rdock setup` runs check, fix, check again; `rdock doctor` runs check only. Both go through
//! [`run`], so they can never disagree about what is wrong.

use std::collections::HashMap;

use anyhow::Result;
use serde::Serialize;

use crate::session::Session;

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

pub trait Step {
    /// Stable id, used in output, in `--json` and by [`Step::needs`].
    fn id(&self) -> String;

    /// Ids of earlier steps this one depends on. When one of them did not pass, this step is
    /// skipped and names the cause instead of failing a second time.
    fn needs(&self) -> &'static [&'static str] {
        &[]
    }

    /// When false, a failure here does not stop setup (later steps do not depend on it).
    fn blocking(&self) -> bool {
        true
    }

    /// Read-only. May cache what it learns in the session for later steps.
    fn check(&mut self, s: &mut Session) -> Finding;

    /// Repair what `check` found. Returns what was done, in past tense ("created ~/.ssh/id_ed25519").
    /// Under `--dry-run` it must change nothing and say what it would do.
    fn fix(&mut self, s: &mut Session, found: &Finding) -> Result<String>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// check, then fix, then check again
    Setup,
    /// check only
    Doctor,
}

/// What one run of the steps found, in order.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// How many fixes moved their check (or would have, under --dry-run).
    pub changed: usize,
    /// Setup stopped at a blocking failure.
    pub stopped: bool,
}

impl Report {
    pub fn failed(&self) -> usize {
        self.count(Status::Fail)
    }
    pub fn warned(&self) -> usize {
        self.count(Status::Warn)
    }
    fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }
}

/// Run steps in order. `show` is called once per step with its final finding and, when setup
/// fixed something, the sentence that says what it did.
pub fn run(
    s: &mut Session,
    steps: &mut [Box<dyn Step>],
    mode: Mode,
    show: &mut dyn FnMut(&Session, &Finding, Option<&str>),
) -> Report {
    let mut report = Report::default();
    let mut outcome: HashMap<String, String> = HashMap::new();
    for step in steps.iter_mut() {
        let id = step.id();
        if let Some(cause) = step.needs().iter().find_map(|n| outcome.get(*n)) {
            let finding = Finding::skip(&id, format!("skipped: {cause}"));
            show(s, &finding, None);
            outcome.insert(id, cause.clone());
            report.findings.push(finding);
            continue;
        }
        let mut finding = step.check(s);
        let mut did = None;
        if mode == Mode::Setup && finding.fixable && finding.status != Status::Ok {
            match step.fix(s, &finding) {
                Ok(sentence) if s.exec.dry_run => {
                    report.changed += 1;
                    // Nothing changed, so a second check would say the same: later steps that
                    // depend on this one cannot be judged yet.
                    finding = Finding::skip(&id, sentence);
                    outcome.insert(id.clone(), format!("{id} is not done yet (--dry-run)"));
                }
                Ok(sentence) => {
                    let before = finding.status;
                    finding = step.check(s);
                    // A fix that was declined ("you said no") leaves the check as it was: it
                    // changed nothing, and the count says so.
                    if finding.status != before {
                        report.changed += 1;
                    }
                    if finding.status != Status::Fail {
                        did = Some(sentence);
                    }
                }
                Err(err) => {
                    finding = Finding {
                        status: Status::Fail,
                        message: format!("{:#}", err),
                        fix: finding.fix.clone(),
                        fixable: false,
                        ..finding
                    };
                }
            }
        }
        if matches!(finding.status, Status::Fail | Status::Skip) {
            outcome
                .entry(id.clone())
                .or_insert_with(|| format!("{id} did not pass"));
        }
        show(s, &finding, did.as_deref());
        let stop = mode == Mode::Setup && finding.status == Status::Fail && step.blocking();
        report.findings.push(finding);
        if stop {
            report.stopped = true;
            break;
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::Exec;
    use crate::platform::Platform;
    use crate::ui::Ui;

    /// A step whose check fails until its fix runs, and whose fix may be declined.
    struct Offer {
        accept: bool,
        done: bool,
    }

    impl Step for Offer {
        fn id(&self) -> String {
            "offer".into()
        }
        fn check(&mut self, _: &mut Session) -> Finding {
            if self.done {
                Finding::ok("offer", "done")
            } else {
                Finding::warn("offer", "not done", "do it").fixable()
            }
        }
        fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
            self.done = self.accept;
            Ok(if self.accept {
                "did it"
            } else {
                "left it (you said no)"
            }
            .into())
        }
    }

    fn run_one(accept: bool) -> (Report, Vec<(Status, String)>) {
        let mut s = Session::new(Exec::default(), Ui::plain(), Platform::Linux);
        let mut steps: Vec<Box<dyn Step>> = vec![Box::new(Offer {
            accept,
            done: false,
        })];
        let mut shown = Vec::new();
        let report = run(&mut s, &mut steps, Mode::Setup, &mut |_, f, did| {
            shown.push((f.status, did.unwrap_or(&f.message).to_string()))
        });
        (report, shown)
    }

    #[test]
    fn a_fix_counts_as_a_change_only_when_it_moved_the_check() {
        let (report, shown) = run_one(true);
        assert_eq!(report.changed, 1);
        assert_eq!(shown, [(Status::Ok, "did it".to_string())]);
        let (report, shown) = run_one(false);
        assert_eq!(report.changed, 0, "a declined offer changed nothing");
        assert_eq!(shown, [(Status::Warn, "left it (you said no)".to_string())]);
    }

    #[test]
    fn doctor_never_calls_fix_and_skips_what_depends_on_a_failure() {
        struct Fails;
        impl Step for Fails {
            fn id(&self) -> String {
                "first".into()
            }
            fn check(&mut self, _: &mut Session) -> Finding {
                Finding::fail("first", "broken", "mend it").fixable()
            }
            fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
                panic!("doctor must not fix")
            }
        }
        struct Later;
        impl Step for Later {
            fn id(&self) -> String {
                "later".into()
            }
            fn needs(&self) -> &'static [&'static str] {
                &["first"]
            }
            fn check(&mut self, _: &mut Session) -> Finding {
                panic!("a check whose dependency failed must not run")
            }
            fn fix(&mut self, _: &mut Session, _: &Finding) -> Result<String> {
                unreachable!()
            }
        }
        let mut s = Session::new(Exec::default(), Ui::plain(), Platform::Linux);
        let mut steps: Vec<Box<dyn Step>> = vec![Box::new(Fails), Box::new(Later)];
        let report = run(&mut s, &mut steps, Mode::Doctor, &mut |_, _, _| {});
        let statuses: Vec<_> = report
            .findings
            .iter()
            .map(|f| (f.id.as_str(), f.status))
            .collect();
        assert_eq!(statuses, [("first", Status::Fail), ("later", Status::Skip)]);
        assert_eq!(report.findings[1].message, "skipped: first did not pass");
        assert_eq!(report.changed, 0);
    }
}
