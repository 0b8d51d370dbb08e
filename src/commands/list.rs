//! `rdock list [--json] [--check]`: one row per ssh:// docker context.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{GlobalArgs, ListArgs};
use crate::docker::{self, ContextInfo};
use crate::error::Result;
use crate::render::{self, ContextRow};
use crate::sys::env::Env;
use crate::sys::exec::{Ended, Exec, TimedOut, TooMuchOutput};
use crate::sys::term::Term;

use super::parallel_map;

/// How long `--check` waits for one context's `docker version`.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether a context answers: its server version, or why not.
fn reach(exec: &Exec, name: &str) -> std::result::Result<String, Unreachable> {
    match exec.run_to_end(&docker::server_version_cmd(name, CHECK_TIMEOUT)) {
        Ok(Ended::Exited(out)) if out.success() => Ok(out.stdout.trim().to_string()),
        Ok(Ended::Exited(out)) => Err(Unreachable::Failed(ssh_reason(&out.last_error_line()))),
        Ok(Ended::TimedOut(stopped)) => Err(Unreachable::TimedOut(stopped)),
        Ok(Ended::TooMuchOutput(stopped)) => Err(Unreachable::TooMuchOutput(stopped)),
        Err(e) => Err(Unreachable::NotStarted(format!("{e:#}"))),
    }
}

/// Why a context did not answer `--check`: the row's error.
#[derive(Debug, thiserror::Error)]
enum Unreachable {
    /// docker failed: the reason (ssh's, when docker's paragraph holds it).
    #[error("{0}")]
    Failed(String),
    #[error(transparent)]
    TimedOut(TimedOut),
    #[error(transparent)]
    TooMuchOutput(TooMuchOutput),
    /// docker could not be run.
    #[error("{0}")]
    NotStarted(String),
}

/// docker wraps ssh's error in a paragraph; the reason is what ssh said, after "stderr=".
fn ssh_reason(error: &str) -> String {
    match error.rsplit_once("stderr=") {
        Some((_, reason)) if !reason.trim().is_empty() => reason.trim().to_string(),
        _ => error.to_string(),
    }
}

pub fn run(global: &GlobalArgs, args: &ListArgs) -> Result {
    let term = if args.json {
        Term::plain()
    } else {
        Term::detect()
    };
    let exec = Exec::new(global.verbose, false);
    let env = Env::from_process();
    super::warn_skipped_contexts(&env);
    let contexts: Vec<ContextInfo> = docker::list(&env)?
        .into_iter()
        .filter(ContextInfo::is_ssh)
        .collect();
    let checks = if args.check {
        let label = format!("checking {}", render::count(contexts.len(), "context"));
        term.spin(&label, || {
            parallel_map(&contexts, 16, |c| Some(reach(&exec, &c.name)))
        })
    } else {
        contexts.iter().map(|_| None).collect()
    };
    let rows: Vec<ContextRow> = contexts
        .into_iter()
        .zip(checks)
        .map(|(c, check)| ContextRow {
            managed: c.description == docker::DESCRIPTION,
            reachable: check.as_ref().map(|r| r.is_ok()),
            server_version: check.as_ref().and_then(|r| r.as_ref().ok().cloned()),
            error: check.and_then(|r| r.err()).map(|e| e.to_string()),
            name: c.name,
            endpoint: c.endpoint,
            current: c.current,
        })
        .collect();
    if args.json {
        render::out(&render::list_json(&rows));
    } else {
        render::out(&render::list_table(&rows, args.check));
    }
    // A context that failed its check fails the command, so a script can tell.
    Ok(if rows.iter().any(|r| r.reachable == Some(false)) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ssh_reason_is_kept_from_dockers_paragraph() {
        let docker = "error during connect: Get \"http://docker.example.com/v1.50/version\": command [ssh -o ConnectTimeout=30 -T -l tr -p 1 -- 127.0.0.1 docker system dial-stdio] has exited with exit status 255, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=ssh: connect to host 127.0.0.1 port 1: Connection refused";
        assert_eq!(
            ssh_reason(docker),
            "ssh: connect to host 127.0.0.1 port 1: Connection refused"
        );
        assert_eq!(ssh_reason("something else"), "something else");
    }
}
