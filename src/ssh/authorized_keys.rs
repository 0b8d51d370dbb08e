//! The remote `~/.ssh/authorized_keys`: taking a key out again (`rdock remove --revoke`) over one
//! ssh login with that key, what that login said, and the command that does the same by hand. The
//! remote command is a fixed script (`ssh::scripts`, whose key_lines.awk finds the lines that hold
//! a key); the key's blob reaches it on stdin.

use std::path::Path;

use crate::ssh::command::{Mode, Ssh};
use crate::ssh::connect::{connect_failure, unfinished, Connect, PROBE_TIMEOUT};
use crate::ssh::destination::{Destination, Resolved};
use crate::sys::exec::{quote, Cmd, Ended, Exec};

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
        // Every line the script prints starts with `rdock-`.
        _ => Some(Revoke::NotConnected(unfinished(
            exec,
            r,
            &ended,
            "rdock's ssh",
            "rdock-",
            true,
        ))),
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

/// What a person runs to take the key off the remote by hand: `sed -i` deletes every line that
/// holds the blob; it writes a temp file in `~/.ssh` with the file's mode and renames it over
/// authorized_keys (removing it on failure), keeps every other byte (CRLF, a last line without a
/// line break), and exits 0 whether or not a line went (the key as the only line leaves an empty
/// file). Every login shell runs it alike. `blob` holds only base64 characters.
pub fn manual_script(blob: &str) -> String {
    format!(r#"sed -i "\|{blob}|d" ~/.ssh/authorized_keys"#)
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
            matches!(hung, Some(Revoke::NotConnected(Connect::ShellHung(_)))),
            "{hung:?}"
        );
        // No login either: a silent server, as before.
        let silent = revoke(&exec(Reply::times_out()), &r, key, BLOB);
        assert!(
            matches!(silent, Some(Revoke::NotConnected(Connect::Unreachable(_)))),
            "{silent:?}"
        );
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
    fn the_manual_command_names_only_what_the_endpoint_names() {
        let dest = |s: &str| Destination::parse(s).unwrap();
        let script = format!(r#"'sed -i "\|{BLOB}|d" ~/.ssh/authorized_keys'"#);
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
