//! Doctor's report: its title, one block of checks per target under their groups, the summary,
//! the `--quiet` form, and the JSON document (docs/json.md).

use serde_json::json;

use super::{bold, count, finding, json_text, symbol};
use crate::steps::{Finding, Group, Outcome, Report, Status};
use crate::sys::term::visible;

/// The version of doctor's JSON document (docs/json.md): raised when a field changes meaning or
/// goes away, not when one is added.
pub const SCHEMA_VERSION: u32 = 1;

/// The next command for someone with no remote yet.
pub const NEXT_SETUP: &str = "rdock setup user@host";

/// What doctor looked at, for its title and its JSON.
pub struct DoctorTarget {
    pub context: String,
    pub destination: String,
    /// The context's endpoint, when the target is an existing context.
    pub endpoint: Option<String>,
    /// The VS Code workspace (as shown) whose pin chose this context.
    pub pinned_in: Option<String>,
}

impl DoctorTarget {
    fn json(&self) -> serde_json::Value {
        json!({
            "kind": if self.endpoint.is_some() { "context" } else { "destination" },
            "context": self.context,
            "destination": self.destination,
            "endpoint": self.endpoint,
            "pinned_by": self.pinned_in,
        })
    }

    fn title(&self) -> String {
        let pinned = match &self.pinned_in {
            Some(dir) => format!(" (pinned by the workspace {dir})"),
            None => String::new(),
        };
        match &self.endpoint {
            Some(endpoint) => format!("context {} → {endpoint}{pinned}", self.context),
            None => format!(
                "destination {} (context {})",
                self.destination, self.context
            ),
        }
    }
}

fn summary(failed: usize, warned: usize) -> String {
    if failed == 0 && warned == 0 {
        return "no issues found".into();
    }
    format!("{}, {}", count(failed, "problem"), count(warned, "warning"))
}

/// The first line of a doctor block: the target, the editors (`None`), or this machine alone.
pub fn doctor_title(target: Option<&DoctorTarget>, local: bool) -> String {
    let title = match target {
        Some(t) => format!("rdock doctor: {}", t.title()),
        None if local => "rdock doctor: this machine (docker has no ssh:// context yet)".into(),
        None => "rdock doctor: editors".into(),
    };
    format!("{}\n", bold(&visible(&title)))
}

/// One check's lines in a doctor block, under its group's title when the group changes (`last`
/// keeps the group shown last).
pub fn doctor_check(f: &Finding, last: &mut Option<Group>, verbose: bool) -> String {
    let mut out = String::new();
    if f.group != *last {
        if let Some(g) = f.group {
            out.push_str(&format!("{}\n", bold(g.title())));
        }
        *last = f.group;
    }
    out.push_str(&format!(
        "  {}",
        finding(f, verbose).replace("\n    ", "\n      ")
    ));
    out
}

/// Doctor's closing lines: the summary over every report, and with no remote yet, the next
/// command on a line of its own.
pub fn doctor_end(targets: usize, reports: &[Report], local: bool) -> String {
    let (failed, warned) = totals(reports);
    // A signal stopped it: "no issues found" would claim checks that never ran.
    let stopped = reports.iter().any(|r| r.interrupted.is_some());
    let status = if failed > 0 || stopped {
        Status::Fail
    } else if warned > 0 {
        Status::Warn
    } else {
        Status::Ok
    };
    let scope = if targets > 1 {
        format!("{} contexts: ", targets)
    } else {
        String::new()
    };
    let on = if local { " on this machine" } else { "" };
    let summary = match stopped {
        true => format!(
            "stopped before every check ran ({} in the checks made)",
            summary(failed, warned)
        ),
        false => summary(failed, warned),
    };
    let mut out = format!("\n{} {scope}{summary}{on}\n", symbol(status));
    if local {
        out.push_str(&format!(
            "No remote yet: docker has no ssh:// context to check. Next, set one up:\n  {NEXT_SETUP}\n"
        ));
    }
    out
}

/// Doctor's report, as text: a block per target (and one for the editors with --all), checks
/// under their group, and a closing summary.
pub fn doctor_text(targets: &[DoctorTarget], reports: &[Report], verbose: bool) -> String {
    let mut out = String::new();
    for (i, report) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&doctor_title(targets.get(i), false));
        let mut last: Option<Group> = None;
        for f in &report.findings {
            out.push_str(&doctor_check(f, &mut last, verbose));
        }
    }
    out.push_str(&doctor_end(targets.len(), reports, false));
    out
}

/// Problems and warnings over every report.
pub fn totals(reports: &[Report]) -> (usize, usize) {
    (
        reports.iter().map(Report::failed).sum(),
        reports.iter().map(Report::warned).sum(),
    )
}

fn checks_json(findings: &[Finding]) -> serde_json::Value {
    findings
        .iter()
        .map(|f| json!({"id": f.id, "status": f.status, "message": f.message, "fix": f.fix}))
        .collect()
}

fn summary_json(failed: usize, warned: usize) -> serde_json::Value {
    json!({"problems": failed, "warnings": warned, "text": summary(failed, warned)})
}

/// Doctor's report as one JSON document (a stable interface: docs/json.md). `local`: there was
/// no remote to check, only this machine (`report` is its one report).
pub fn doctor_json(targets: &[DoctorTarget], reports: &[Report], local: bool) -> String {
    let (failed, warned) = totals(reports);
    let mut value = if let ([r], true) = (reports, local) {
        json!({"target": {"kind": "local"}, "checks": checks_json(&r.findings), "summary": summary_json(failed, warned), "next": NEXT_SETUP})
    } else if let ([t], [r]) = (targets, reports) {
        json!({"target": t.json(), "checks": checks_json(&r.findings), "summary": summary_json(failed, warned)})
    } else {
        let blocks: Vec<_> = targets
            .iter()
            .zip(reports)
            .map(|(t, r)| json!({"target": t.json(), "checks": checks_json(&r.findings), "summary": summary_json(r.failed(), r.warned())}))
            .collect();
        let editors = reports.get(targets.len()).map(|r| checks_json(&r.findings));
        let mut all =
            json!({"targets": blocks, "editors": editors, "summary": summary_json(failed, warned)});
        if targets.is_empty() {
            all["next"] = json!(NEXT_SETUP);
        }
        all
    };
    value["schema_version"] = json!(SCHEMA_VERSION);
    json_text(&value)
}

/// A command that ended before it checked anything, as one JSON document: `kind` is `usage` (exit
/// 2) or `failed` (exit 1).
pub fn error_json(kind: &str, message: &str) -> String {
    let message = message.strip_prefix("error: ").unwrap_or(message);
    json_text(&json!({
        "schema_version": SCHEMA_VERSION,
        "error": {"kind": kind, "message": message.trim_end()},
    }))
}

/// What `--quiet` keeps: a warning, a failure, or a change the person declined.
pub fn needs_attention(f: &Finding) -> bool {
    matches!(f.status, Status::Warn | Status::Fail)
        || matches!(f.outcome, Some(Outcome::Declined(_)))
}

/// Doctor's report under `--quiet`: for each target with a problem, its title and the problem
/// lines with their fixes; then the summary line, as [`doctor_text`] ends.
pub fn doctor_quiet(targets: &[DoctorTarget], reports: &[Report], verbose: bool) -> String {
    let mut out = String::new();
    for (i, report) in reports.iter().enumerate() {
        let problems: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| needs_attention(f))
            .collect();
        if problems.is_empty() {
            continue;
        }
        if targets.len() > 1 || i >= targets.len() {
            let title = match targets.get(i) {
                Some(t) => format!("rdock doctor: {}", t.title()),
                None => "rdock doctor: editors".into(),
            };
            out.push_str(&format!("{}\n", bold(&visible(&title))));
        }
        for f in problems {
            out.push_str(&finding(f, verbose));
        }
    }
    let whole = doctor_text(targets, reports, false);
    out.push_str(whole.lines().last().unwrap_or_default());
    out.push('\n');
    out
}
