//! The remote `~/.ssh/authorized_keys`: taking a key out again (`rdock remove --revoke`) over one
//! ssh login with that key, what that login said, and the command that does the same by hand. The
//! remote command is a fixed script (`ssh::scripts`, whose key_lines.awk finds the lines that hold
//! a key); the key's blob reaches it on stdin.

use std::path::Path;

use crate::ssh::command::{Mode, Ssh};
use crate::ssh::connect::{connect_failure, login_verdict, unfinished, Connect, PROBE_TIMEOUT};
use crate::ssh::destination::{Destination, Resolved};
use crate::sys::exec::{quote, Cmd, Ended, Exec};
use crate::sys::signal::Interrupted;

pub use crate::ssh::scripts::REVOKE_KEY_SCRIPT;

/// What `rdock remove --revoke`'s ssh did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revoke {
    /// The key's lines were taken out: how many.
    Removed(usize),
    /// rdock logged in, and no line of `~/.ssh/authorized_keys` holds the key.
    Absent,
    /// ssh did not get to run the script: why.
    NotConnected(Connect),
    /// The script ran and failed: its words.
    Failed(String),
    /// rdock stopped its ssh before the script said what it did (past the bound, or a signal
    /// stopped rdock): the remote may have changed the file, or may still (a remote command goes
    /// on after its ssh is gone). Why, and what one login with the key said right after (None
    /// when none was tried: after a signal rdock starts nothing).
    Unsure { why: String, after: Option<Connect> },
}

/// The one ssh login that runs [`REVOKE_KEY_SCRIPT`]: as rdock's probe connects (BatchMode,
/// strict host key checking, `--` before the host), offering only the key `identity` (the agent's
/// copy of it, or the file), so that a login proves that key is accepted. The blob goes on stdin.
pub fn revoke_cmd(r: &Resolved, identity: &Path, blob: &str) -> Cmd {
    Ssh::new(r.target(), Mode::Batch)
        .identity(Some(identity))
        .script(REVOKE_KEY_SCRIPT)
        .cmd()
        .stdin(format!("{blob}\n"))
        .timeout(PROBE_TIMEOUT)
        .changes()
}

/// Run [`revoke_cmd`]. None under `--dry-run`, which only prints it.
pub fn revoke(exec: &Exec, r: &Resolved, identity: &Path, blob: &str) -> Option<Revoke> {
    let ended = exec.run_to_end(&revoke_cmd(r, identity, blob));
    match &ended {
        Ok(Ended::Exited(out)) if out.skipped => None,
        Ok(Ended::Exited(out)) => Some(parse_revoke(out.code, &out.stdout, &out.stderr)),
        _ => Some(cut_off(exec, r, &ended)),
    }
}

/// What a revoke whose ssh rdock stopped did. The script prints its one `rdock-` line after the
/// change (or the error): when that came, it is the answer, whatever kept ssh open after it.
/// Otherwise rdock cannot know, and says so, with one login with the key (that runs nothing) to
/// tell whether the server still takes it.
fn cut_off(exec: &Exec, r: &Resolved, ended: &anyhow::Result<Ended>) -> Revoke {
    match ended {
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => Revoke::Unsure {
            why: "rdock was interrupted while its ssh was taking the key out".into(),
            after: None,
        },
        Ok(Ended::TimedOut(t)) if t.stdout.contains("rdock-") => {
            parse_revoke(Some(0), &t.stdout, &t.stderr)
        }
        Ok(Ended::TimedOut(_)) => Revoke::Unsure {
            why: format!(
                "rdock's ssh did not finish within {} s and was stopped",
                PROBE_TIMEOUT.as_secs()
            ),
            after: Some(login_verdict(exec, r)),
        },
        _ => Revoke::NotConnected(unfinished(exec, r, ended, "rdock's ssh", "rdock-", true)),
    }
}

/// Read what [`REVOKE_KEY_SCRIPT`] said, from ssh's exit code and output. A login shell's startup
/// files may print before it: its lines are found wherever they are.
pub fn parse_revoke(code: Option<i32>, stdout: &str, stderr: &str) -> Revoke {
    let lines: Vec<&str> = stdout.lines().map(str::trim).collect();
    if let Some(error) = lines
        .iter()
        .find_map(|l| l.strip_prefix("rdock-revoke-error: "))
    {
        return Revoke::Failed(error.to_string());
    }
    if code == Some(0) {
        if let Some(n) = lines
            .iter()
            .find_map(|l| l.strip_prefix("rdock-key-removed "))
            .and_then(|n| n.parse().ok())
        {
            return Revoke::Removed(n);
        }
        if lines.contains(&"rdock-key-absent") {
            return Revoke::Absent;
        }
    }
    match connect_failure(code, stderr) {
        // ssh ran the command (it exits 255 only for its own errors): the script failed.
        Connect::Unreachable(why) if code.is_some_and(|c| c != 255) => Revoke::Failed(
            stderr
                .lines()
                .map(str::trim)
                .rfind(|l| !l.is_empty())
                .map_or(why, str::to_string),
        ),
        connect => Revoke::NotConnected(connect),
    }
}

/// A line of the remote authorized_keys that holds the key, as the key install found it there
/// (`rdock-key-line N OPTIONS`, printed before `rdock-key-present`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLine {
    /// 1 for the file's first line.
    pub number: usize,
    /// The options before the key type, as the line has them ("" for none).
    pub options: String,
}

/// The lines the key install said hold the key.
pub fn present_lines(stdout: &str) -> Vec<KeyLine> {
    stdout
        .lines()
        .filter_map(|l| {
            let rest = l.trim_end_matches('\r').strip_prefix("rdock-key-line ")?;
            let (number, options) = rest.split_once(' ').unwrap_or((rest, ""));
            Some(KeyLine {
                number: number.parse().ok()?,
                options: options.trim().to_string(),
            })
        })
        .collect()
}

/// docker's own forced command, which lets docker in and nothing else.
const DIAL_STDIO: &str = "docker system dial-stdio";

/// The options of an authorized_keys line that keep the key from logging in as rdock and docker
/// do, each with what it does: `from=` (only from those addresses), `command=` other than
/// docker's dial-stdio (that command instead of any other), `cert-authority` (the line trusts
/// certificates the key signed, not the key), `expiry-time=` (not after then). Options are split
/// at commas outside double quotes, as sshd splits them; names are matched in any case.
pub fn restrictions(options: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in options.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&options[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&options[start..]);
    parts
        .into_iter()
        .filter_map(|part| {
            let (name, value) = part.split_once('=').unwrap_or((part, ""));
            let unquoted = value.trim_matches('"');
            let does = match name.to_ascii_lowercase().as_str() {
                "from" => "sshd accepts the key only from those addresses",
                "command" if unquoted.trim() == DIAL_STDIO => return None,
                "command" => "sshd runs that instead of any command rdock or docker sends",
                "cert-authority" => "the line trusts certificates the key signed, not the key",
                "expiry-time" => "sshd refuses the key after that time",
                _ => return None,
            };
            Some(format!("{part} ({does})"))
        })
        .collect()
}

/// What a person runs to take the key off the remote by hand: `sed -i` deletes every line that
/// holds the blob; it writes a temp file beside the file with its mode and renames it over
/// authorized_keys (removing it on failure), keeps every other byte (CRLF, a last line without a
/// line break), and exits 0 whether or not a line went (the key as the only line leaves an empty
/// file). A symbolic link is followed (`readlink -f`), as sshd, the key install and the revoke
/// follow it: `sed -i` on the link itself would put a file in its place and leave the key in the
/// file the link leads to. A pipe, not `$(…)`, because tcsh has no `$(…)`: every login shell
/// runs it alike (a home whose path holds a blank is the one thing it does not handle). `blob`
/// holds only base64 characters.
pub fn manual_script(blob: &str) -> String {
    format!(r#"readlink -f ~/.ssh/authorized_keys | xargs sed -i "\|{blob}|d""#)
}

/// `ssh [-p PORT] [USER@]HOST 'sed -i …'`: the user and port only when the endpoint names them, so
/// ssh fills in the rest as it does for docker (an IPv6 address bare, as ssh's command line wants).
pub fn manual_command(dest: &Destination, blob: &str) -> String {
    let mut words = vec!["ssh".to_string()];
    if let Some(port) = dest.port {
        words.push(format!("-p {port}"));
    }
    words.push(match &dest.user {
        Some(user) => format!("{user}@{}", dest.host),
        None => dest.host.clone(),
    });
    words.push(quote(&manual_script(blob)));
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOB: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe";

    /// rdock cannot know what a revoke it stopped did (the remote goes on without its ssh): it
    /// says so, with what one login with the key said right after; but a script that said what it
    /// did before ssh was stopped is believed.
    #[test]
    fn a_revoke_whose_remote_shell_never_runs_the_script_says_so() {
        use crate::sys::exec::{Reply, Script};
        let r = crate::ssh::destination::tests::resolved_box();
        let authenticated = "Authenticated to 10.0.0.5 ([10.0.0.5]:2222) using \"publickey\".\r\n";
        let exec = |check: Reply| {
            Exec::scripted(
                Script::new()
                    .on_prefix(
                        &["ssh", "-o", "BatchMode=yes", "-o", "LogLevel=VERBOSE"],
                        check,
                    )
                    .on_prefix(&["ssh", "-o", "BatchMode=yes"], Reply::times_out()),
            )
        };
        let key = Path::new("/home/u/.ssh/id_ed25519");
        let hung = revoke(
            &exec(Reply::times_out_after("", authenticated)),
            &r,
            key,
            BLOB,
        );
        assert!(
            matches!(&hung, Some(Revoke::Unsure { why, after: Some(Connect::Ok) }) if why.contains("did not finish within 20 s")),
            "{hung:?}"
        );
        // No login either: a silent server; it may have run the script all the same.
        let silent = revoke(&exec(Reply::times_out()), &r, key, BLOB);
        assert!(
            matches!(
                silent,
                Some(Revoke::Unsure {
                    after: Some(Connect::Unreachable(_)),
                    ..
                })
            ),
            "{silent:?}"
        );
        // The key refused right after: the change went through.
        let refused = Reply::fail(255, "u@box: Permission denied (publickey).\r\n");
        let gone = revoke(&exec(refused), &r, key, BLOB);
        assert!(
            matches!(
                gone,
                Some(Revoke::Unsure {
                    after: Some(Connect::AuthRefused(_)),
                    ..
                })
            ),
            "{gone:?}"
        );
        // The script's line came before ssh was stopped (a logout file kept it open).
        let said = Exec::scripted(Script::new().on_prefix(
            &["ssh", "-o", "BatchMode=yes"],
            Reply::times_out_after("rdock-key-removed 1\n", ""),
        ));
        assert_eq!(revoke(&said, &r, key, BLOB), Some(Revoke::Removed(1)));
    }

    /// `--dry-run` prints the revoke's ssh and runs nothing, so there is no answer to read.
    #[test]
    fn a_dry_run_revoke_prints_its_ssh_and_has_no_answer() {
        use crate::sys::exec::Script;
        let r = crate::ssh::destination::tests::resolved_box();
        let mut exec = Exec::scripted(Script::new());
        exec.dry_run = true;
        let key = Path::new("/home/u/.ssh/id_ed25519");
        assert_eq!(revoke(&exec, &r, key, BLOB), None);
        assert_eq!(exec.skipped().len(), 1);
        assert!(exec.ran().is_empty());
    }

    /// After a signal rdock starts nothing more: no login to ask how the revoke went.
    #[test]
    fn a_revoke_cut_off_by_a_signal_is_unsure_and_tries_no_login() {
        use crate::sys::exec::{Reply, Script};
        let r = crate::ssh::destination::tests::resolved_box();
        let exec = Exec::scripted(Script::new());
        let stopped = cut_off(&exec, &r, &Err(Interrupted(2).into()));
        assert!(
            matches!(&stopped, Revoke::Unsure { why, after: None } if why.contains("interrupted")),
            "{stopped:?}"
        );
        assert!(exec.ran().is_empty() && exec.unscripted().is_empty());
        // Only a signal: an ssh that cannot start never reached the remote.
        let missing = Exec::scripted(Script::new().on_prefix(&["ssh"], Reply::cannot_start()));
        let never = revoke(&missing, &r, Path::new("/home/u/.ssh/id_ed25519"), BLOB);
        assert!(matches!(never, Some(Revoke::NotConnected(_))), "{never:?}");
    }

    #[test]
    fn what_the_revoke_script_says_is_read() {
        assert_eq!(
            parse_revoke(Some(0), "rdock-key-removed 2\n", ""),
            Revoke::Removed(2)
        );
        assert_eq!(
            parse_revoke(Some(0), "Welcome!\nrdock-key-absent\n", ""),
            Revoke::Absent
        );
        assert_eq!(
            parse_revoke(
                Some(3),
                "rdock-revoke-error: ~/.ssh/authorized_keys is not a regular file\n",
                ""
            ),
            Revoke::Failed("~/.ssh/authorized_keys is not a regular file".into())
        );
        assert_eq!(
            parse_revoke(Some(1), "", "mv: cannot move 'x': Permission denied\n"),
            Revoke::Failed("mv: cannot move 'x': Permission denied".into())
        );
        assert!(matches!(
            parse_revoke(Some(255), "", "u@h: Permission denied (publickey).\n"),
            Revoke::NotConnected(Connect::AuthRefused(_))
        ));
        assert!(matches!(
            parse_revoke(
                Some(255),
                "",
                "ssh: connect to host h port 1: Connection refused\n"
            ),
            Revoke::NotConnected(Connect::Unreachable(_))
        ));
        // A marker without the exit status that goes with it is not believed.
        assert!(matches!(
            parse_revoke(Some(1), "rdock-key-removed 1\n", "mv: failed\n"),
            Revoke::Failed(_)
        ));
    }

    #[test]
    fn the_lines_that_hold_the_key_and_what_restricts_them_are_read() {
        let said = "Welcome\nrdock-key-line 3 from=\"10.9.9.9\",no-pty\r\nrdock-key-line 7 \nrdock-key-present\n";
        assert_eq!(
            present_lines(said),
            [
                KeyLine {
                    number: 3,
                    options: "from=\"10.9.9.9\",no-pty".into()
                },
                KeyLine {
                    number: 7,
                    options: String::new()
                }
            ]
        );
        assert_eq!(
            restrictions("from=\"10.9.9.9,10.0.0.1\",no-pty"),
            ["from=\"10.9.9.9,10.0.0.1\" (sshd accepts the key only from those addresses)"]
        );
        assert_eq!(
            restrictions("restrict,COMMAND=\"echo \\\"a,b\\\"\""),
            ["COMMAND=\"echo \\\"a,b\\\"\" (sshd runs that instead of any command rdock or docker sends)"]
        );
        assert!(restrictions("command=\"docker system dial-stdio\",restrict").is_empty());
        assert!(restrictions("").is_empty());
        assert_eq!(restrictions("cert-authority").len(), 1);
        assert_eq!(
            restrictions("no-pty,Expiry-Time=\"20300101\""),
            ["Expiry-Time=\"20300101\" (sshd refuses the key after that time)"]
        );
    }

    #[test]
    fn the_manual_command_names_only_what_the_endpoint_names() {
        let dest = |s: &str| Destination::parse(s).unwrap();
        let script = format!(r#"'readlink -f ~/.ssh/authorized_keys | xargs sed -i "\|{BLOB}|d"'"#);
        assert_eq!(
            manual_command(&dest("ssh://me@box:2222"), BLOB),
            format!("ssh -p 2222 me@box {script}")
        );
        assert_eq!(
            manual_command(&dest("box"), BLOB),
            format!("ssh box {script}")
        );
        assert_eq!(
            manual_command(&dest("ssh://me@[::1]:22"), BLOB),
            format!("ssh -p 22 me@::1 {script}")
        );
    }

    #[test]
    fn the_revoke_login_offers_only_the_key_and_ends_with_the_host_and_the_script() {
        let r = crate::ssh::destination::tests::resolved_box();
        let cmd = revoke_cmd(&r, Path::new("/h/.ssh/id_ed25519"), BLOB);
        let shown = cmd.display();
        assert!(
            shown.starts_with("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T -o IdentitiesOnly=yes -i /h/.ssh/id_ed25519 -l u -p 2222 -- box '/bin/sh -c "),
            "{shown}"
        );
        assert!(!shown.contains(BLOB), "the blob goes on stdin: {shown}");
    }
}
