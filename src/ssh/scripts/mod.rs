//! rdock's remote scripts, one file each beside this one, written over several lines with
//! comments and checked by `shellcheck -s sh -x` (scripts/test.sh). No part of user input is in
//! any of them: what varies reaches them on stdin.
//!
//! sshd runs a command as `LOGIN_SHELL -c COMMAND`, and the login shell may be sh, bash, dash,
//! zsh, fish or tcsh. So what is sent is one line, `/bin/sh -c '…'`, built at compile time from
//! the file: comment lines and blank lines dropped, each line's indentation taken off, the lines
//! joined with one space (every line of a script therefore ends where a space does as well as a
//! line break: `;`, `then`, `do`, `else`, `&&`, `|`, `in`). tcsh refuses a line break inside
//! single quotes, and expands `!` even there; fish reads `\\` and `\'` there as escapes: the
//! scripts hold none of these, and no single quote (tests below).
//!
//! A line `. ./NAME.sh` includes another file's text (shellcheck follows it); `$KEY_LINES_AWK`
//! stands for key_lines.awk's program, escaped for the double quotes around it.

/// A piece of text put in place of `marker` when a script is built.
struct Insert {
    marker: &'static str,
    text: &'static str,
    /// A file's text, built as a script is; else words put in as they are.
    file: bool,
    /// Inside a double-quoted sh word: each `"` and `$` gets a backslash.
    quoted: bool,
}

impl Insert {
    /// An included file (`. ./NAME.sh`), built as a script is.
    const fn file(marker: &'static str, text: &'static str) -> Insert {
        Insert {
            marker,
            text,
            file: true,
            quoted: false,
        }
    }
}

const LOGIN_DOCKER: Insert = Insert::file(". ./login_docker.sh", include_str!("login_docker.sh"));

const STARTUP_FILE: Insert = Insert::file(". ./startup_file.sh", include_str!("startup_file.sh"));

const KEY_LINES: Insert = Insert {
    quoted: true,
    ..Insert::file("$KEY_LINES_AWK", include_str!("key_lines.awk"))
};

/// The variant of a sudo script for no terminal: `sudo -n` fails rather than asks.
const NO_PASSWORD: Insert = Insert {
    file: false,
    ..Insert::file("sudo ", "sudo -n ")
};

/// `/bin/sh -c '…'` around a file's text as sent (see the module's documentation), as a
/// `&'static str` built at compile time.
macro_rules! script {
    ($file:literal $(, $insert:expr)*) => {
        sent!(b"/bin/sh -c '", include_str!($file), b"'" $(, $insert)*)
    };
}

/// `raw` as sent, between `prefix` and `suffix`, built at compile time: its length first, then
/// its bytes.
macro_rules! sent {
    ($prefix:expr, $raw:expr, $suffix:expr $(, $insert:expr)*) => {{
        const INSERTS: &[Insert] = &[$($insert),*];
        const LEN: usize = build($prefix, $raw, INSERTS, $suffix, &mut []);
        const BYTES: [u8; LEN] = {
            let mut bytes = [0; LEN];
            build($prefix, $raw, INSERTS, $suffix, &mut bytes);
            bytes
        };
        as_str(&BYTES)
    }};
}

/// rdock's probe: see probe.sh.
pub const PROBE_SCRIPT: &str = script!("probe.sh", LOGIN_DOCKER);
/// Adds the public key on stdin to ~/.ssh/authorized_keys: see install_key.sh.
pub const INSTALL_KEY_SCRIPT: &str = script!("install_key.sh", KEY_LINES);
/// Takes the key whose blob is on stdin out of ~/.ssh/authorized_keys: see revoke_key.sh.
pub const REVOKE_KEY_SCRIPT: &str = script!("revoke_key.sh", KEY_LINES);
/// Adds the remote user to group docker; sudo asks for its password on the terminal.
pub const USERMOD_SCRIPT: &str = script!("usermod.sh");
/// The same with `sudo -n`.
pub const USERMOD_NO_PASSWORD_SCRIPT: &str = script!("usermod.sh", NO_PASSWORD);
/// Links docker into /usr/local/bin; sudo asks for its password on the terminal.
pub const LINK_SCRIPT: &str = script!("link.sh", LOGIN_DOCKER);
/// The same with `sudo -n`.
pub const LINK_NO_PASSWORD_SCRIPT: &str = script!("link.sh", LOGIN_DOCKER, NO_PASSWORD);
/// key_lines.awk's program as the install and revoke scripts hold it, inside double quotes.
pub const KEY_LINES_AWK: &str = sent!(b"", "$KEY_LINES_AWK", b"", KEY_LINES);
/// Prints the startup file named on stdin with its cksum: see read_rc.sh.
pub const READ_RC_SCRIPT: &str = script!("read_rc.sh", STARTUP_FILE);
/// Replaces the startup file named on stdin, if unchanged: see write_rc.sh.
pub const WRITE_RC_SCRIPT: &str = script!("write_rc.sh", STARTUP_FILE);

/// Writes the script built from `raw` into `out` (nothing when `out` is too short), and returns
/// its length: called once with no room to learn the length, then with the bytes' array.
const fn build(
    prefix: &[u8],
    raw: &str,
    inserts: &[Insert],
    suffix: &[u8],
    out: &mut [u8],
) -> usize {
    let n = copy(prefix, out, 0);
    let n = lines(raw.as_bytes(), inserts, false, out, n);
    copy(suffix, out, n)
}

/// `raw` as sent, from byte `n` of `out` on: comment and blank lines dropped, indentation taken
/// off, lines joined with a space, markers replaced; every `"` and `$` escaped when `quoted`.
const fn lines(
    raw: &[u8],
    inserts: &[Insert],
    quoted: bool,
    out: &mut [u8],
    mut n: usize,
) -> usize {
    let mut first = true;
    let mut at = 0;
    while at < raw.len() {
        let mut end = at;
        while end < raw.len() && raw[end] != b'\n' {
            end += 1;
        }
        let mut from = at;
        while from < end && (raw[from] == b' ' || raw[from] == b'\t') {
            from += 1;
        }
        let mut to = end;
        while to > from && (raw[to - 1] == b' ' || raw[to - 1] == b'\t' || raw[to - 1] == b'\r') {
            to -= 1;
        }
        if from < to && raw[from] != b'#' {
            if !first {
                n = put(b' ', false, out, n);
            }
            first = false;
            let mut i = from;
            while i < to {
                match marker_at(raw, i, to, inserts) {
                    Some(k) => {
                        let insert = &inserts[k];
                        let text = insert.text.as_bytes();
                        n = if insert.file {
                            lines(text, &[], insert.quoted, out, n)
                        } else {
                            copy(text, out, n)
                        };
                        i += insert.marker.len();
                    }
                    None => {
                        n = put(raw[i], quoted, out, n);
                        i += 1;
                    }
                }
            }
        }
        at = end + 1;
    }
    n
}

/// Which insert's marker starts at `raw[i]` and ends by `to`.
const fn marker_at(raw: &[u8], i: usize, to: usize, inserts: &[Insert]) -> Option<usize> {
    let mut k = 0;
    while k < inserts.len() {
        let marker = inserts[k].marker.as_bytes();
        if i + marker.len() <= to {
            let mut j = 0;
            while j < marker.len() && raw[i + j] == marker[j] {
                j += 1;
            }
            if j == marker.len() {
                return Some(k);
            }
        }
        k += 1;
    }
    None
}

const fn copy(bytes: &[u8], out: &mut [u8], mut n: usize) -> usize {
    let mut i = 0;
    while i < bytes.len() {
        n = put(bytes[i], false, out, n);
        i += 1;
    }
    n
}

const fn put(byte: u8, quoted: bool, out: &mut [u8], mut n: usize) -> usize {
    if quoted && (byte == b'"' || byte == b'$') {
        n = put(b'\\', false, out, n);
    }
    if n < out.len() {
        out[n] = byte;
    }
    n + 1
}

const fn as_str(bytes: &'static [u8]) -> &'static str {
    match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => panic!("a remote script is not UTF-8"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [&str; 9] = [
        PROBE_SCRIPT,
        INSTALL_KEY_SCRIPT,
        REVOKE_KEY_SCRIPT,
        USERMOD_SCRIPT,
        USERMOD_NO_PASSWORD_SCRIPT,
        LINK_SCRIPT,
        LINK_NO_PASSWORD_SCRIPT,
        READ_RC_SCRIPT,
        WRITE_RC_SCRIPT,
    ];

    #[test]
    fn every_remote_script_reaches_sh_whole_through_any_login_shell() {
        assert!(PROBE_SCRIPT.contains("-lc \"command -v docker\""));
        for script in ALL {
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
            // One line: tcsh refuses a line break inside quotes, and nothing may read as two
            // commands or show as two lines.
            assert!(!script.contains(['\n', '\r', '\t']), "{script}");
            // The files' comments, indentation and markers stay behind.
            for left in ["shellcheck", ". ./", "KEY_LINES_AWK"] {
                assert!(!script.contains(left), "{left} in {script}");
            }
        }
    }

    #[test]
    fn install_and_revoke_match_the_key_with_the_same_program() {
        let awk = format!("p=\"{KEY_LINES_AWK}\"");
        assert!(INSTALL_KEY_SCRIPT.contains(&awk) && REVOKE_KEY_SCRIPT.contains(&awk));
        assert!(KEY_LINES_AWK.starts_with("function kt(w) { return w ~ /^(ssh|"));
        // The blob is data on stdin, never part of the command.
        assert!(!REVOKE_KEY_SCRIPT.contains("AAAA"));
    }

    #[test]
    fn only_the_scripts_for_no_terminal_use_sudo_n() {
        assert!(!USERMOD_SCRIPT.contains("sudo -n") && !LINK_SCRIPT.contains("sudo -n"));
        assert!(USERMOD_NO_PASSWORD_SCRIPT.contains("sudo -n usermod -aG docker \"$(id -un)\""));
        assert!(LINK_NO_PASSWORD_SCRIPT.contains("sudo -n ln -sn -- \"$lp\" /usr/local/bin/docker"));
    }

    #[test]
    fn the_link_is_never_made_over_a_file_that_is_there() {
        for script in [LINK_SCRIPT, LINK_NO_PASSWORD_SCRIPT] {
            let check = script
                .find("if [ -e /usr/local/bin/docker ] || [ -L /usr/local/bin/docker ]; then")
                .unwrap();
            assert!(check < script.find("sudo").unwrap(), "checked before sudo");
            assert!(!script.contains("ln -sf") && !script.contains("ln -f"));
        }
    }
}
