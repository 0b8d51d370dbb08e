//! The remote `~/.ssh/authorized_keys`: which of its lines hold a key, taking a key out again
//! (`rdock remove --revoke`) over one ssh login with that key, and the command that does the same
//! by hand. The remote commands are fixed strings; the key's blob reaches them on stdin.

use std::path::Path;

use crate::ssh::destination::{Destination, Resolved};
use crate::ssh::probe::{self, Connect, PROBE_TIMEOUT};
use crate::sys::exec::{quote, Cmd, Exec};

/// An awk program that finds the lines of an authorized_keys file whose key blob is `k`, read as
/// sshd reads them: a blank line or one whose first word starts with `#` holds no key; otherwise
/// the line is `type blob [comment]`, or `options type blob [comment]` where the options end at
/// the first space or tab outside double quotes (`\"` inside them is a quote); a CR before the
/// line break is not part of the line.
///
/// With `o=0` it prints how many lines hold the key. With `o=1` it prints every other line byte
/// for byte, each with the line break it had: the file's last line gets one only when `nl=1`.
///
/// It is written for the inside of a double-quoted sh word (`\"` and `\$` stand for `"` and `$`)
/// and holds no `'`, no `!` and no two backslashes in a row, so that the `/bin/sh -c '…'` around
/// it reaches sh whole through any login shell (sh, bash, zsh, fish, csh).
macro_rules! key_lines_awk {
    () => {
        r#"function kt(w) { return w ~ /^(ssh|ecdsa|sk|rsa-sha2|webauthn)-/ || toupper(w) ~ /^(RSA|DSA|ECDSA|ED25519|ECDSA-SK|ED25519-SK|XMSS)\$/ }; function m(s,  w, i, c, q) { sub(/\r\$/, \"\", s); if (split(s, w) < 2 || w[1] ~ /^#/) return 0; if (kt(w[1])) return w[2] == k; sub(/^[ \t]+/, \"\", s); for (i = 1; i <= length(s); i++) { c = substr(s, i, 1); if (q == 0 && (c == \" \" || c == \"\t\")) break; if (c == bs && substr(s, i + 1, 1) == dq) i++; else if (c == dq) q = 1 - q } return q == 0 && split(substr(s, i), w) > 1 && kt(w[1]) && w[2] == k }; BEGIN { bs = sprintf(\"%c\", 92); dq = sprintf(\"%c\", 34) }; o && held { print h; held = 0 }; m(\$0) { n++; next }; o { h = \$0; held = 1 }; END { if (held) printf \"%s%s\", h, (nl ? ORS : \"\"); if (o == 0) print n + 0 }"#
    };
}
pub(crate) use key_lines_awk;

/// Takes the key whose blob is read from stdin out of `~/.ssh/authorized_keys`: every line that
/// holds it (see [`key_lines_awk`]), and no other byte. The new file is written to a temp file in
/// `~/.ssh` (created exclusively, given the file's mode), then renamed over the old one; the temp
/// file is removed on any failure or signal. A file without the key is not rewritten.
///
/// Prints `rdock-key-removed N` (N lines), `rdock-key-absent`, or fails (exit status not 0) with
/// `rdock-revoke-error: …` or the failing tool's own message.
pub const REVOKE_KEY_SCRIPT: &str = concat!(
    r#"/bin/sh -c 'umask 077; set -f; IFS= read -r k; if [ -z "$k" ] || [ -n "$(printf %s "$k" | tr -d A-Za-z0-9+/=)" ]; then echo "rdock-revoke-error: no key blob on stdin"; exit 2; fi; p=""#,
    key_lines_awk!(),
    r#""; f="$HOME/.ssh/authorized_keys"; if [ -h "$f" ]; then x=1; elif [ -f "$f" ]; then x=; elif [ -e "$f" ]; then x=1; else echo rdock-key-absent; exit 0; fi; if [ -n "$x" ]; then echo "rdock-revoke-error: ~/.ssh/authorized_keys is not a regular file"; exit 3; fi; n=$(awk -v k="$k" -v o=0 "$p" "$f") || exit 4; if [ "$n" = 0 ]; then echo rdock-key-absent; exit 0; fi; nl=1; if [ -n "$(tail -c 1 "$f")" ]; then nl=0; fi; t="$HOME/.ssh/.authorized_keys.rdock-$$"; (set -C; : > "$t") || exit 5; trap "rm -f \"\$t\"" EXIT; trap "exit 1" HUP INT PIPE TERM; ro=; cp -p "$f" "$t" && { [ -w "$t" ] || { ro=1; chmod u+w "$t"; }; } && awk -v k="$k" -v o=1 -v nl="$nl" "$p" "$f" > "$t" && { [ -z "$ro" ] || chmod u-w "$t"; } && mv -f "$t" "$f" && echo "rdock-key-removed $n"'"#
);

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
    Cmd::new("ssh")
        .args(probe::options(&["BatchMode=yes", "IdentitiesOnly=yes"]))
        .arg("-i")
        .arg(identity)
        .args(r.ssh_target_args())
        .arg(REVOKE_KEY_SCRIPT)
        .stdin(format!("{blob}\n"))
        .timeout(PROBE_TIMEOUT)
        .changes()
}

/// Run [`revoke_cmd`]. None under `--dry-run`, which only prints it.
pub fn revoke(exec: &Exec, r: &Resolved, identity: &Path, blob: &str) -> Option<Revoke> {
    match exec.run(&revoke_cmd(r, identity, blob)) {
        Ok(out) if out.skipped => None,
        Ok(out) => Some(parse_revoke(out.code, &out.stdout, &out.stderr)),
        // Every line the script prints starts with `rdock-`.
        Err(e) => Some(Revoke::NotConnected(probe::unfinished(
            exec,
            r,
            &e,
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
    match probe::connect_failure(code, stderr) {
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
    use crate::ssh::probe::{INSTALL_KEY_SCRIPT, PROBE_SCRIPT};

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
    fn every_remote_script_reaches_sh_whole_through_any_login_shell() {
        use crate::ssh::repair::*;
        assert!(PROBE_SCRIPT.contains("-lc \"command -v docker\""));
        for script in [
            PROBE_SCRIPT,
            INSTALL_KEY_SCRIPT,
            REVOKE_KEY_SCRIPT,
            USERMOD_SCRIPT,
            USERMOD_NO_PASSWORD_SCRIPT,
            LINK_SCRIPT,
            LINK_NO_PASSWORD_SCRIPT,
            READ_RC_SCRIPT,
            WRITE_RC_SCRIPT,
        ] {
            assert!(script.starts_with("/bin/sh -c '") && script.ends_with('\''));
            // Exactly one pair of single quotes: nothing inside can end the sh -c argument early.
            assert_eq!(script.matches('\'').count(), 2, "{script}");
            // fish reads `\\` and `\'` inside single quotes as escapes; sh, bash, zsh and csh
            // read neither. With neither in the script, every login shell passes it on alike.
            assert!(
                !script.contains(r"\\") && !script.contains(r"\'"),
                "{script}"
            );
            // csh and tcsh expand `!` as history, even inside single quotes and with -c.
            assert!(!script.contains('!'), "{script}");
            // One line: nothing for a shell to read as two commands, or to show as two lines.
            assert!(!script.contains('\n'), "{script}");
        }
    }

    #[test]
    fn install_and_revoke_match_the_key_with_the_same_program() {
        let awk = key_lines_awk!();
        assert!(INSTALL_KEY_SCRIPT.contains(awk) && REVOKE_KEY_SCRIPT.contains(awk));
        // The blob is data on stdin, never part of the command.
        assert!(!REVOKE_KEY_SCRIPT.contains("AAAA"));
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
            shown.starts_with("ssh -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UpdateHostKeys=no -o AddKeysToAgent=no -o ConnectTimeout=10 -T -i /h/.ssh/id_ed25519 -l u -p 2222 -- box '/bin/sh -c "),
            "{shown}"
        );
        assert!(!shown.contains(BLOB), "the blob goes on stdin: {shown}");
    }
}
