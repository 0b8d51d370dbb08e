//! The remote user's shell startup file that commands run over ssh read, and the line that puts
//! docker's folder on their PATH. sshd runs a command as `SHELL -c COMMAND`: bash then reads
//! `~/.bashrc` (Debian's returns early for a shell that is not interactive, so the line goes above
//! that check), zsh reads `~/.zshenv`, fish reads `~/.config/fish/config.fish`; sh, dash and ksh
//! read nothing.
//!
//! The edit only inserts: every other byte of the file stays as it was, and a file that already
//! holds the line is left alone.

/// A login shell whose startup file rdock knows how to edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    /// The shell a login shell's path names, by its file name: `/usr/bin/zsh` is zsh.
    pub fn of(path: &str) -> Option<Shell> {
        match path.rsplit('/').next().unwrap_or("") {
            "bash" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// The startup file a command run over ssh reads, relative to the home.
    pub fn startup_file(self) -> &'static str {
        match self {
            Shell::Bash => ".bashrc",
            Shell::Zsh => ".zshenv",
            Shell::Fish => ".config/fish/config.fish",
        }
    }

    /// Where in that file the line goes, in the user's words.
    pub fn place(self) -> &'static str {
        "above its interactive check (or at its end when it has none)"
    }

    /// The line that appends `dir` to PATH, in this shell's language.
    pub fn path_line(self, dir: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => {
                format!("export PATH=\"$PATH:{dir}\"  # added by rdock: docker for ssh commands")
            }
            Shell::Fish => {
                format!("set -gx PATH $PATH {dir}  # added by rdock: docker for ssh commands")
            }
        }
    }

    /// Words that mark a line which may stop a shell that is not interactive (Debian's
    /// `case $- in … return`, `[ -z "$PS1" ] && return`, `[[ $- != *i* ]] && return`, fish's
    /// `status is-interactive; or exit`). Taking a line for one more often than needed only puts
    /// rdock's line higher, which is as good.
    fn guard_words(self) -> &'static [&'static str] {
        match self {
            Shell::Bash => &["$-", "${-", "PS1"],
            Shell::Zsh => &["$-", "${-", "PS1", "interactive"],
            Shell::Fish => &["is-interactive"],
        }
    }
}

/// A folder rdock may write into a startup file: absolute, and only characters that mean
/// nothing to a shell inside double quotes or as a bare word (no `$`, quote, space, `:`).
pub fn safe_dir(dir: &str) -> bool {
    dir.starts_with('/')
        && dir.len() < 4096
        && dir
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._+-@".contains(c))
}

/// The folder of an absolute path to a program: `/opt/x/bin/docker` is in `/opt/x/bin`.
pub fn folder_of(program: &str) -> Option<&str> {
    let (dir, _) = program.rsplit_once('/')?;
    Some(if dir.is_empty() { "/" } else { dir })
}

/// `text` with `line` inserted for `shell`: above the first line that may stop a shell that is not
/// interactive, together with the comment lines right above that line; else at the end. None when
/// a line of the file already is `line`.
pub fn with_line(shell: Shell, text: &str, line: &str) -> Option<String> {
    if text
        .lines()
        .any(|l| l.trim_end_matches('\r').trim() == line)
    {
        return None;
    }
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let is_comment = |l: &str| l.trim_start().starts_with('#');
    let guard = lines
        .iter()
        .position(|l| !is_comment(l) && shell.guard_words().iter().any(|w| l.contains(w)));
    let Some(mut at) = guard else {
        let mut out = text.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        return Some(out);
    };
    while at > 0 && is_comment(lines[at - 1]) && !lines[at - 1].starts_with("#!") {
        at -= 1;
    }
    let eol = if lines[at].ends_with("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let mut out = String::with_capacity(text.len() + line.len() + 2);
    lines[..at].iter().for_each(|l| out.push_str(l));
    out.push_str(line);
    out.push_str(eol);
    lines[at..].iter().for_each(|l| out.push_str(l));
    Some(out)
}

/// POSIX `cksum` of `bytes` as it prints it for stdin: `CRC SIZE`. rdock reads a remote file
/// through a lossy UTF-8 decoding, so it compares this with what the remote's `cksum` said before
/// it edits the file: a file that is not UTF-8 (or changed) is never written back altered.
pub fn cksum(bytes: &[u8]) -> String {
    let mut crc: u32 = 0;
    let mut feed = |byte: u8| {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    };
    bytes.iter().for_each(|&b| feed(b));
    let mut len = bytes.len();
    while len > 0 {
        feed((len & 0xff) as u8);
        len >>= 8;
    }
    format!("{} {}", !crc, bytes.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The start of Debian 12's /etc/skel/.bashrc.
    const DEBIAN_BASHRC: &str = "# ~/.bashrc: executed by bash(1) for non-login shells.\n# see /usr/share/doc/bash/examples/startup-files (in the package bash-doc)\n# for examples\n\n# If not running interactively, don't do anything\ncase $- in\n    *i*) ;;\n      *) return;;\nesac\n\n# don't put duplicate lines or lines starting with space in the history.\nHISTCONTROL=ignoreboth\n";

    fn line(shell: Shell) -> String {
        shell.path_line("/opt/docker/bin")
    }

    #[test]
    fn bash_gets_the_line_above_the_interactive_check_and_its_comment() {
        let out = with_line(Shell::Bash, DEBIAN_BASHRC, &line(Shell::Bash)).unwrap();
        let (before, after) = DEBIAN_BASHRC.split_at(DEBIAN_BASHRC.find("# If not").unwrap());
        assert_eq!(out, format!("{before}{}\n{after}", line(Shell::Bash)));
        assert_eq!(with_line(Shell::Bash, &out, &line(Shell::Bash)), None);
    }

    #[test]
    fn every_spelling_of_the_check_is_found() {
        for guard in [
            "[ -z \"$PS1\" ] && return",
            "[[ $- != *i* ]] && return",
            "case \"$-\" in *i*) ;; *) return;; esac",
            "if [[ ${-} != *i* ]]; then return; fi",
        ] {
            let text = format!("# mine\numask 022\n{guard}\nalias ll='ls -l'\n");
            let out = with_line(Shell::Bash, &text, &line(Shell::Bash)).unwrap();
            assert_eq!(
                out,
                format!(
                    "# mine\numask 022\n{}\n{guard}\nalias ll='ls -l'\n",
                    line(Shell::Bash)
                ),
                "{guard}"
            );
        }
    }

    #[test]
    fn without_a_check_the_line_goes_at_the_end_after_a_line_break() {
        let out = with_line(Shell::Zsh, "export EDITOR=vi", &line(Shell::Zsh)).unwrap();
        assert_eq!(out, format!("export EDITOR=vi\n{}\n", line(Shell::Zsh)));
        let out = with_line(Shell::Zsh, "", &line(Shell::Zsh)).unwrap();
        assert_eq!(out, format!("{}\n", line(Shell::Zsh)));
    }

    /// `text` with `inserted` put where `at` begins in it.
    fn inserted(text: &str, at: &str, inserted: &str) -> String {
        let i = text.find(at).unwrap();
        format!("{}{inserted}{}", &text[..i], &text[i..])
    }

    #[test]
    fn fish_gets_set_gx_above_an_early_exit() {
        let text = "set -g fish_greeting\nstatus is-interactive; or exit\nabbr -a g git\n";
        let want =
            "set -gx PATH $PATH /opt/docker/bin  # added by rdock: docker for ssh commands\n";
        let out = with_line(Shell::Fish, text, &line(Shell::Fish));
        assert_eq!(out, Some(inserted(text, "status", want)));
    }

    #[test]
    fn crlf_stays_crlf_and_a_shebang_stays_first() {
        let text = "#!/bin/bash\r\n[ -z \"$PS1\" ] && return\r\n";
        let out = with_line(Shell::Bash, text, &line(Shell::Bash));
        let want = inserted(text, "[ -z", &format!("{}\r\n", line(Shell::Bash)));
        assert_eq!(out, Some(want));
    }

    #[test]
    fn only_plain_absolute_folders_are_written() {
        for ok in ["/opt/docker/bin", "/home/u/.local/bin", "/snap/bin", "/"] {
            assert!(safe_dir(ok), "{ok}");
        }
        for bad in [
            "bin", "/a b", "/a$(x)", "/a:b", "/a\"b", "/a'b", "/a`b", "/a\nb", "/a\\b",
        ] {
            assert!(!safe_dir(bad), "{bad}");
        }
        assert_eq!(folder_of("/opt/x/bin/docker"), Some("/opt/x/bin"));
        assert_eq!(folder_of("/docker"), Some("/"));
        assert_eq!(folder_of("docker"), None);
    }

    #[test]
    fn shells_are_known_by_their_file_name() {
        assert_eq!(Shell::of("/bin/bash"), Some(Shell::Bash));
        assert_eq!(Shell::of("/usr/bin/zsh"), Some(Shell::Zsh));
        assert_eq!(Shell::of("/usr/local/bin/fish"), Some(Shell::Fish));
        assert_eq!(Shell::of("/bin/sh"), None);
        assert_eq!(Shell::of("/bin/dash"), None);
        assert_eq!(Shell::of(""), None);
    }

    #[test]
    fn cksum_is_posix_cksum() {
        // `printf '' | cksum`, `printf 'hello\n' | cksum`, and 300 bytes (a two-byte length).
        assert_eq!(cksum(b""), "4294967295 0");
        assert_eq!(cksum(b"hello\n"), "3015617425 6");
        assert_eq!(cksum(&[b'x'; 300]), "3786917833 300");
    }
}
