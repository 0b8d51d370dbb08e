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
    /// How many fixes changed something (or would have, under --dry-run).
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
                    finding = Finding::skip(&id, sentence.clone());
                    outcome.insert(id.clone(), format!("{id} is not done yet (--dry-run)"));
                    did = None;
                }
                Ok(sentence) => {
                    report.changed += 1;
                    finding = step.check(s);
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
