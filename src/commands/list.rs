//! `rdock list [--json] [--check]`: one row per ssh:// docker context.

use std::time::Duration;

use serde::Serialize;

use crate::cli::{GlobalArgs, ListArgs};
use crate::context::{self, ContextInfo};
use crate::exec::{Cmd, Exec};
use crate::platform::Platform;
use crate::session::Session;
use crate::ui::Ui;

use super::{parallel_map, EXIT_FAILED, EXIT_OK};

/// How long `--check` waits for one context's `docker version`.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Serialize)]
struct Row {
    name: String,
    endpoint: String,
    current: bool,
    /// rdock made it (its description says so).
    managed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    reachable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Whether a context answers: its server version, or why not.
fn reach(exec: &Exec, name: &str) -> Result<String, String> {
    let cmd = Cmd::new("docker")
        .arg("--context")
        .arg(name)
        .args(["version", "--format", "{{.Server.Version}}"])
        .timeout(CHECK_TIMEOUT);
    match exec.run(&cmd) {
        Ok(out) if out.success() => Ok(out.stdout.trim().to_string()),
        Ok(out) => Err(ssh_reason(&out.last_error_line())),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// docker wraps ssh's error in a paragraph; the reason is what ssh said, after "stderr=".
fn ssh_reason(error: &str) -> String {
    match error.rsplit_once("stderr=") {
        Some((_, reason)) if !reason.trim().is_empty() => reason.trim().to_string(),
        _ => error.to_string(),
    }
}

pub fn run(global: &GlobalArgs, args: &ListArgs) -> u8 {
    let ui = if args.json { Ui::plain() } else { Ui::detect() };
    let s = Session::new(Exec::new(global.verbose, false), ui, Platform::detect());
    let contexts: Vec<ContextInfo> = match context::list(&s) {
        Ok(all) => all.into_iter().filter(ContextInfo::is_ssh).collect(),
        Err(e) => {
            eprintln!("error: {e:#}");
            return EXIT_FAILED;
        }
    };
    let checks = if args.check {
        let label = format!("checking {} context(s)", contexts.len());
        s.ui.spin(&label, || {
            parallel_map(&contexts, 16, |c| Some(reach(&s.exec, &c.name)))
        })
    } else {
        contexts.iter().map(|_| None).collect()
    };
    let rows: Vec<Row> = contexts
        .into_iter()
        .zip(checks)
        .map(|(c, check)| Row {
            managed: c.description == context::DESCRIPTION,
            reachable: check.as_ref().map(Result::is_ok),
            server_version: check.as_ref().and_then(|r| r.as_ref().ok().cloned()),
            error: check.and_then(Result::err),
            name: c.name,
            endpoint: c.endpoint,
            current: c.current,
        })
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
    } else if rows.is_empty() {
        println!("no ssh:// docker contexts; rdock setup user@host makes one");
    } else {
        print_table(&s.ui, &rows, args.check);
    }
    EXIT_OK
}

fn print_table(ui: &Ui, rows: &[Row], check: bool) {
    let mut table: Vec<Vec<String>> = vec![["NAME", "ENDPOINT", "CURRENT", "RDOCK"]
        .iter()
        .map(|h| h.to_string())
        .collect()];
    if check {
        table[0].extend(["REACHABLE".to_string(), "SERVER".to_string()]);
    }
    for r in rows {
        let mut line = vec![
            r.name.clone(),
            r.endpoint.clone(),
            if r.current { "*".into() } else { String::new() },
            if r.managed { "yes".into() } else { "no".into() },
        ];
        if check {
            let ok = r.reachable == Some(true);
            line.push(if ok { "yes".into() } else { "no".into() });
            line.push(match (&r.server_version, &r.error) {
                (Some(v), _) => v.clone(),
                (None, Some(e)) => e.clone(),
                (None, None) => String::new(),
            });
        }
        table.push(line);
    }
    let widths: Vec<usize> = (0..table[0].len())
        .map(|i| {
            table
                .iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (n, row) in table.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let line = cells.join("  ").trim_end().to_string();
        println!("{}", if n == 0 { ui.bold(&line) } else { line });
    }
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
