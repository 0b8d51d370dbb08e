//! Every line and every JSON document rdock shows: ✓/!/✗ lines, doctor's groups, `list`'s table,
//! the closing lines. Colour is written as ANSI styles here and printed through anstream
//! ([`out`]), which keeps it only where it belongs: a terminal, with NO_COLOR, CLICOLOR and
//! CLICOLOR_FORCE respected per stream, and `--color` over all of them.
//!
//! Nothing here runs a command or reads a file.

use std::sync::atomic::{AtomicUsize, Ordering};

use anstyle::{AnsiColor, Style};
use serde::Serialize;

use crate::steps::{Finding, Kind, Outcome, Report, Status};
use crate::sys::term::{needs_escape, visible};

mod doctor;
pub use doctor::*;

const OK: Style = AnsiColor::Green.on_default();
const WARN: Style = AnsiColor::Yellow.on_default();
const FAIL: Style = AnsiColor::Red.on_default();
const WOULD: Style = AnsiColor::Cyan.on_default();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// The terminal's width in columns, as the command found it ([`set_width`]); 80 until then.
static WIDTH: AtomicUsize = AtomicUsize::new(80);

/// The width fix text is wrapped to: the terminal's (`sys::term::width`), 80 when unknown.
pub fn set_width(columns: usize) {
    WIDTH.store(columns.clamp(40, 200), Ordering::Relaxed);
}

/// `n thing` or `n things`.
pub fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word stays whole;
/// runs of spaces inside a line are kept). A command quoted in backquotes (`ssh -G box`) is
/// kept whole, as one word.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut quoted = false;
    for word in text.split(' ') {
        match words.last_mut() {
            Some(last) if quoted => {
                last.push(' ');
                last.push_str(word);
            }
            _ => words.push(word.to_string()),
        }
        if word.matches('`').count() % 2 == 1 {
            quoted = !quoted;
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut fresh = true;
    for word in &words {
        let (len, more) = (line.chars().count(), word.chars().count());
        if !fresh && !word.is_empty() && len + 1 + more > width {
            lines.push(std::mem::take(&mut line).trim_end().to_string());
            fresh = true;
        }
        if fresh && word.is_empty() {
            continue;
        }
        if !fresh {
            line.push(' ');
        }
        line.push_str(word);
        fresh = false;
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The exact escape sequences rdock's own styles write: the only ones [`guard`] lets through.
fn own_styles() -> Vec<String> {
    [OK, WARN, FAIL, WOULD, DIM, BOLD]
        .iter()
        .flat_map(|s| [s.render().to_string(), s.render_reset().to_string()])
        .filter(|s| !s.is_empty())
        .collect()
}

/// The last line of defence before a terminal: every control character that is not part of one
/// of rdock's own styles is made visible, so a message that forgot [`visible`] still cannot
/// drive the terminal. (Each piece of text rdock did not write goes through [`visible`] first,
/// so a style in it is shown, not applied.)
pub fn guard(text: &str) -> String {
    let styles = own_styles();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' {
            if let Some(style) = styles.iter().find(|s| rest.starts_with(s.as_str())) {
                out.push_str(style);
                rest = &rest[style.len()..];
                continue;
            }
        }
        if needs_escape(c) && c != '\n' && c != '\t' {
            out.push_str(&visible(c.encode_utf8(&mut [0; 4])));
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Print to stdout, through [`guard`] and anstream (colour only where it belongs). A write that
/// fails is remembered for [`output_failed`]; a closed pipe (`| head`) ends rdock quietly through
/// SIGPIPE before it gets here.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = anstream::stdout().lock();
    let written = stdout
        .write_all(guard(text).as_bytes())
        .and_then(|()| stdout.flush());
    let why = match written {
        // Rust's stdout takes a closed descriptor for a sink: writes "succeed".
        Ok(()) if STDOUT_CLOSED.load(std::sync::atomic::Ordering::SeqCst) && !text.is_empty() => {
            "stdout is closed".to_string()
        }
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => e.to_string(),
        _ => return,
    };
    let mut failed = OUT_FAILED.lock().unwrap_or_else(|e| e.into_inner());
    failed.get_or_insert(why);
}

/// The first error writing stdout met, if any.
static OUT_FAILED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
/// rdock was started with no stdout at all ([`stdout_is_closed`]).
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Say that rdock was started with stdout closed (`>&-`): whatever [`out`] then prints is lost.
pub fn stdout_is_closed() {
    STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Why the output could not be written (a full disk, a closed stdout), if it could not: the
/// command then failed, whatever it found, since its reader never got the answer.
pub fn output_failed() -> Option<String> {
    OUT_FAILED.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Print to stderr, through [`guard`] and anstream.
pub fn err(text: &str) {
    use std::io::Write;
    let mut stderr = anstream::stderr().lock();
    let _ = stderr.write_all(guard(text).as_bytes());
}

/// JSON with every character [`visible`] would escape written as a `\u` escape: still valid JSON
/// that parses to the same strings, with no control or bidi character on the terminal.
fn json_text(value: &impl Serialize) -> String {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if needs_escape(c) && c != '\n' {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out.push('\n');
    out
}

pub fn symbol(status: Status) -> String {
    match status {
        Status::Ok => paint(OK, "✓"),
        Status::Warn => paint(WARN, "!"),
        Status::Fail => paint(FAIL, "✗"),
        Status::Skip => paint(DIM, "-"),
    }
}

pub fn bold(text: &str) -> String {
    paint(BOLD, text)
}

/// One step's lines: ✓/!/✗ with the finding (or what setup did), the fix indented under it, and
/// the details for problems, or for everything with --verbose. Under --dry-run a fix that would
/// run is marked → and followed by what it would do.
pub fn finding(f: &Finding, verbose: bool) -> String {
    let (sym, text) = match &f.outcome {
        Some(Outcome::Done(did)) => (symbol(f.status), visible(did)),
        Some(Outcome::WouldDo(_)) => (paint(WOULD, "→"), visible(&f.message)),
        _ => (symbol(f.status), visible(&f.message)),
    };
    let text = text.replace('\n', "\n    ");
    let mut out = format!("{sym} {:<14} {text}\n", visible(&f.id));
    let problem = matches!(f.status, Status::Warn | Status::Fail);
    match &f.outcome {
        Some(Outcome::WouldDo(would)) => {
            for line in visible(would).lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        Some(Outcome::Declined(why)) => {
            out.push_str(&format!(
                "    {} {}\n",
                paint(DIM, "not done:"),
                visible(why)
            ));
        }
        _ => {}
    }
    let would = matches!(f.outcome, Some(Outcome::WouldDo(_)));
    if let Some(fix) = f.fix.as_deref().filter(|_| problem && !would) {
        out.push_str(&fix_lines(fix));
    }
    if verbose || problem {
        for line in &f.details {
            for line in visible(line).lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
    }
    out
}

/// The last line of `rdock setup`.
/// `devcontainer`: a devcontainer.json is in the current directory.
pub fn setup_end(report: &Report, dry_run: bool, context: &str, devcontainer: bool) -> String {
    if dry_run {
        let blocked = report.failed() + report.warned();
        let mut line = format!(
            "dry run: {} would change something",
            count(report.changed, "step")
        );
        if blocked > 0 {
            let need = if blocked == 1 { "needs" } else { "need" };
            line.push_str(&format!(
                ", {} {need} you first (see fix: above)",
                count(blocked, "step")
            ));
        }
        line.push_str("; nothing was changed\n");
        return line;
    }
    if report.interrupted.is_some() {
        // Not "already set up": it stopped before it knew.
        return format!(
            "{} setup was stopped after {} change(s); run it again to finish\n",
            symbol(Status::Fail),
            report.changed
        );
    }
    if report.stopped || report.failed() > 0 {
        return format!(
            "{} setup did not finish: fix what is marked ✗ above, then run it again\n",
            symbol(Status::Fail)
        );
    }
    let context = visible(context);
    let mut out = if report.changed == 0 {
        "Everything is already set up; nothing changed.\n".to_string()
    } else {
        format!(
            "Done: {}. Try: docker --context {context} ps\n",
            count(report.changed, "change")
        )
    };
    out.push_str(&format!(
        "To use it from one shell without changing the current context: export DOCKER_CONTEXT={context} (or docker --context {context} …)\n"
    ));
    if devcontainer {
        out.push_str("A devcontainer.json is here: with this context, its bind mounts name paths on the remote host, not on this machine.\n");
    }
    out
}

/// The last line of `rdock vscode`: what changed (or would), and what failed.
pub fn vscode_end(report: &Report, dry_run: bool) -> String {
    let files = |n: usize| count(n, "settings file");
    let changed = match (report.changed, dry_run) {
        (0, _) => "nothing changed".to_string(),
        (n, true) => format!("{} would change (--dry-run: nothing was written)", files(n)),
        (n, false) => format!("{} changed", files(n)),
    };
    match report.failed() {
        0 => changed,
        failed => format!("{changed}; {failed} failed"),
    }
}

/// One row of `rdock list`.
#[derive(Serialize)]
pub struct ContextRow {
    pub name: String,
    pub endpoint: String,
    pub current: bool,
    /// rdock made it (its description says so).
    pub managed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reachable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub fn list_json(rows: &[ContextRow]) -> String {
    json_text(&rows)
}

/// `rdock list` as a table, with reachability columns after `--check`.
pub fn list_table(rows: &[ContextRow], check: bool) -> String {
    if rows.is_empty() {
        return "no ssh:// docker contexts; rdock setup user@host makes one\n".into();
    }
    let mut table: Vec<Vec<String>> = vec![["NAME", "ENDPOINT", "CURRENT", "RDOCK"]
        .iter()
        .map(|h| h.to_string())
        .collect()];
    if check {
        table[0].extend(["REACHABLE".to_string(), "SERVER".to_string()]);
    }
    for r in rows {
        let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
        let mut line = vec![
            visible(&r.name),
            visible(&r.endpoint),
            if r.current { "*".into() } else { String::new() },
            yes_no(r.managed),
        ];
        if check {
            line.push(yes_no(r.reachable == Some(true)));
            line.push(match (&r.server_version, &r.error) {
                (Some(v), _) => visible(v),
                (None, Some(e)) => visible(e),
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
    let mut out = String::new();
    for (n, row) in table.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let line = cells.join("  ").trim_end().to_string();
        out.push_str(&if n == 0 { bold(&line) } else { line });
        out.push('\n');
    }
    out
}

/// A ✓ line per thing `rdock remove` did (or would do).
pub fn done_lines(lines: &[String]) -> String {
    lines
        .iter()
        .map(|l| format!("{} {}\n", symbol(Status::Ok), visible(l)))
        .collect()
}

/// A ✗ line for a failure.
pub fn failed_line(message: &str) -> String {
    format!("{} {}\n", symbol(Status::Fail), visible(message))
}

/// A ✗ line for a failure, and the fix indented under it, as a step's fix is shown.
pub fn failed_with_fix(message: &str, fix: &str) -> String {
    failed_line(message) + &fix_lines(fix)
}

/// Does a fix line start with a command to type (`rm PATH`, `ssh-add -t 8h KEY`)?
fn is_command(line: &str) -> bool {
    const PROGRAMS: [&str; 12] = [
        "rm",
        "mv",
        "chmod",
        "ssh",
        "ssh-add",
        "ssh-keygen",
        "ssh-copy-id",
        "docker",
        "unset",
        "sudo",
        "eval",
        "systemctl",
    ];
    line.split(' ')
        .next()
        .is_some_and(|first| PROGRAMS.contains(&first))
}

/// `    fix: LINE`, and the fix's further lines under it, wrapped to the terminal's width. A line
/// that starts with two spaces is a command to type: it stands on a line of its own, whole.
fn fix_lines(fix: &str) -> String {
    // `    fix: ` and doctor's two more columns of indent.
    let width = WIDTH.load(Ordering::Relaxed).saturating_sub(11).max(30);
    let mut lines = Vec::new();
    for line in visible(fix).lines() {
        match line.strip_prefix("  ") {
            Some(command) => lines.push(format!("  {command}")),
            // A fix that is a command is typed as it is: never broken.
            None if is_command(line) => lines.push(line.to_string()),
            None => lines.extend(wrap(line, width)),
        }
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let lead = if i == 0 { "fix:" } else { "    " };
            format!("    {} {line}\n", paint(DIM, lead))
        })
        .collect()
}

/// A ! line: done, but something to know.
pub fn warn_line(message: &str) -> String {
    format!("{} {}\n", symbol(Status::Warn), visible(message))
}

/// One step of `rdock remove`, as (stdout, stderr): a ✓ line for each thing it did, or would do
/// under --dry-run (then the commands it would run under it, as setup's dry run shows them); !
/// for a warning; ✗ and the fix for a failure; and what was left alone, as it is. Not finding
/// the context or the key to remove is an error of the command line: `error: …` on stderr. A
/// check that found what it looked for, a skipped step and a declined one show nothing (the
/// command says why nothing was removed).
pub fn removal(f: &Finding) -> (String, String) {
    let is = |kinds: &[Kind]| kinds.iter().any(|k| k.id() == f.id);
    let fix = || f.fix.as_deref().map(fix_lines).unwrap_or_default();
    let out = |text: String| (text, String::new());
    match (&f.outcome, f.status) {
        (Some(Outcome::Done(did)), _) => out(done_lines(&lines(did))),
        (Some(Outcome::WouldDo(would)), _) => {
            let (commands, said): (Vec<&str>, Vec<&str>) =
                would.lines().partition(|l| l.starts_with("would run: "));
            // Each command cut as the Exec cut it: `would run: ` is not counted.
            let commands: String = commands
                .iter()
                .map(|c| format!("    would run: {}\n", visible(&c["would run: ".len()..])))
                .collect();
            out(done_lines(&lines(&said.join("\n"))) + &commands)
        }
        (None, Status::Fail) if is(&[Kind::Target, Kind::RevokeKey]) => {
            (String::new(), format!("error: {}\n", f.message))
        }
        (None, Status::Fail) => out(failed_line(&f.message) + &fix()),
        (None, Status::Warn) => out(warn_line(&f.message) + &fix()),
        (None, Status::Ok) if is(&[Kind::LeftAlone]) => out(format!("{}\n", f.message)),
        _ => Default::default(),
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> String {
        anstream::adapter::strip_str(text).to_string()
    }

    #[test]
    fn own_styles_pass_the_guard_and_nothing_else_does() {
        let line = format!("{} ok \x1b]0;title\x07 \x1b[8mhidden", symbol(Status::Ok));
        let guarded = guard(&line);
        assert!(guarded.starts_with(&symbol(Status::Ok)), "{guarded:?}");
        assert!(
            guarded.ends_with("ok \\x1b]0;title\\x07 \\x1b[8mhidden"),
            "{guarded:?}"
        );
    }

    #[test]
    fn an_interrupted_setup_never_says_it_is_set_up() {
        let report = Report {
            interrupted: Some(15),
            ..Report::default()
        };
        let end = plain(&setup_end(&report, false, "ctx", false));
        assert_eq!(
            end,
            "✗ setup was stopped after 0 change(s); run it again to finish\n"
        );
    }

    #[test]
    fn an_interrupted_doctor_never_says_no_issues_found() {
        let report = Report {
            interrupted: Some(2),
            ..Report::default()
        };
        let text = plain(&doctor_text(&[], &[report], false));
        assert!(
            text.ends_with(
                "✗ stopped before every check ran (no issues found in the checks made)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn untrusted_text_in_a_finding_is_shown_as_data() {
        let f = Finding::fail("remote-daemon", "docker said \x1b[2J\u{202e}x", "run \x07");
        let shown = finding(&f, false);
        assert!(
            !plain(&shown).chars().any(|c| needs_escape(c) && c != '\n'),
            "{shown:?}"
        );
        assert!(shown.contains("\\x1b[2J\\u{202e}x") && shown.contains("run \\x07"));
    }

    #[test]
    fn json_escapes_controls_and_still_parses_to_the_same_text() {
        let text = "v\x1b]52;c;eA==\x07\u{9b}\u{202e}\0";
        let json = json_text(&serde_json::json!({"message": text}));
        assert!(
            !json.chars().any(|c| needs_escape(c) && c != '\n'),
            "{json:?}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["message"], text);
    }

    #[test]
    fn symbols_are_bare_once_styles_are_stripped() {
        assert_eq!(plain(&symbol(Status::Ok)), "✓");
        assert_eq!(plain(&symbol(Status::Warn)), "!");
        assert_eq!(plain(&symbol(Status::Fail)), "✗");
        assert_eq!(plain(&symbol(Status::Skip)), "-");
    }

    #[test]
    fn a_would_do_line_shows_the_commands_not_the_fix() {
        let mut f = Finding::fail(
            "key",
            "no key at ~/.ssh/id_ed25519",
            "ssh-keygen -t ed25519",
        );
        f.outcome = Some(Outcome::WouldDo(
            "would create ~/.ssh/id_ed25519\nwould run: ssh-keygen -q".into(),
        ));
        assert_eq!(
            plain(&finding(&f, false)),
            "→ key            no key at ~/.ssh/id_ed25519\n    would create ~/.ssh/id_ed25519\n    would run: ssh-keygen -q\n"
        );
    }

    #[test]
    fn a_declined_fix_says_why_and_keeps_the_fix() {
        let mut f = Finding::fail("host-key", "not known", "rdock setup --accept-host-key");
        f.outcome = Some(Outcome::Declined("pass --accept-host-key to agree".into()));
        assert_eq!(
            plain(&finding(&f, false)),
            "✗ host-key       not known\n    not done: pass --accept-host-key to agree\n    fix: rdock setup --accept-host-key\n"
        );
    }

    #[test]
    fn a_fix_is_wrapped_and_its_command_stands_alone() {
        let fix = format!("{} end.\n  ssh -G {}", "word ".repeat(30), "h".repeat(90));
        let shown = plain(&fix_lines(&fix));
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines
            .iter()
            .all(|l| l.chars().count() <= 80 || l.contains("ssh -G")));
        assert!(lines[0].starts_with("    fix: word word"), "{shown}");
        assert_eq!(
            lines.last().unwrap().trim(),
            format!("ssh -G {}", "h".repeat(90))
        );
        assert!(lines[lines.len() - 2].ends_with("end."), "{shown}");
        assert_eq!(count(1, "step"), "1 step");
        assert_eq!(count(4, "step"), "4 steps");
        assert_eq!(count(0, "change"), "0 changes");
        let long = format!("rm /{}/socket", "d".repeat(90));
        assert_eq!(plain(&fix_lines(&long)), format!("    fix: {long}\n"));
        assert_eq!(wrap("unset X  (and more)", 80), ["unset X  (and more)"]);
        assert_eq!(wrap("aaaa bbbb  cccc", 9), ["aaaa bbbb", "cccc"]);
        let quoted = wrap("run `ssh -v -p 2222 u@h` to see where it stops", 12);
        assert!(
            quoted.contains(&"`ssh -v -p 2222 u@h`".to_string()),
            "{quoted:?}"
        );
    }

    #[test]
    fn vscode_end_says_nothing_changed_or_counts() {
        let report = |changed: usize, failed: usize| Report {
            findings: (0..failed)
                .map(|_| Finding::fail("vscode", "x", "y"))
                .collect(),
            changed,
            ..Report::default()
        };
        assert_eq!(vscode_end(&report(0, 0), false), "nothing changed");
        assert_eq!(vscode_end(&report(1, 0), false), "1 settings file changed");
        assert_eq!(
            vscode_end(&report(2, 1), false),
            "2 settings files changed; 1 failed"
        );
        assert_eq!(
            vscode_end(&report(2, 0), true),
            "2 settings files would change (--dry-run: nothing was written)"
        );
    }
}
