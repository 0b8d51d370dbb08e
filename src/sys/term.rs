//! The terminal: whether a person can answer, yes/no questions that never wait without one, and
//! a spinner while the network is slow. Colour and every line rdock prints live in `render`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::sys::signal;

/// Longest line shown as it is; a longer one is cut with a note.
pub const MAX_LINE_CHARS: usize = 1000;

/// Text rdock did not write itself (the remote's output, ssh's banners, file names, context
/// names…) made safe to show on a terminal: every control character but the line break and tab
/// (C0, DEL, C1) and every bidirectional override is written as a visible escape (`\x1b`,
/// `\u{202e}`), so no text can move the cursor, retitle the window, write the clipboard or
/// reorder what is shown. Lines longer than [`MAX_LINE_CHARS`] are cut with a note. Every line
/// rdock prints goes through here.
pub fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let total = line.chars().count();
        match line.char_indices().nth(MAX_LINE_CHARS) {
            Some((at, _)) => {
                out.push_str(&escape(&line[..at], &['\t']));
                out.push_str(&format!(
                    " … ({} more characters cut)",
                    total - MAX_LINE_CHARS
                ));
            }
            None => out.push_str(&escape(line, &['\t'])),
        }
    }
    out
}

/// What a remote terminal session prints (`ssh -t`: sudo's password prompt, its error), as it
/// arrives: like [`visible`], every control character but the line break, tab and carriage
/// return (a terminal ends its lines with `\r\n`) is written as a visible escape. Lines are not
/// cut: a piece may end anywhere in one.
pub fn visible_stream(text: &str) -> String {
    escape(text, &['\t', '\n', '\r'])
}

/// `text` with every character that needs it escaped, but those in `keep`.
fn escape(text: &str, keep: &[char]) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if keep.contains(&c) => out.push(c),
            c if needs_escape(c) => {
                if (c as u32) < 0x100 {
                    out.push_str(&format!("\\x{:02x}", c as u32));
                } else {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A character that can drive a terminal or reorder text: C0 and C1 controls, DEL, and the
/// bidirectional embeddings, overrides and isolates.
pub fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The width of the terminal rdock prints on, in columns: `COLUMNS` when it holds a number, else
/// the terminal stdout (or stderr) is, else 80.
pub fn width() -> usize {
    if let Some(n) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    terminal_columns().unwrap_or(80)
}

#[cfg(unix)]
fn terminal_columns() -> Option<usize> {
    [libc::STDOUT_FILENO, libc::STDERR_FILENO]
        .into_iter()
        .find_map(|fd| {
            let mut size: libc::winsize = unsafe { std::mem::zeroed() };
            // SAFETY: TIOCGWINSZ writes one winsize into the struct given; a descriptor that is
            // not a terminal makes it fail and write nothing.
            let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
            (ok && size.ws_col > 0).then_some(size.ws_col as usize)
        })
}

#[cfg(not(unix))]
fn terminal_columns() -> Option<usize> {
    None
}

#[derive(Clone, Debug)]
pub struct Term {
    /// stdin and stderr are both a terminal: a person can answer.
    interactive: bool,
    spinner: bool,
    /// Set by [`Term::answering`]: the answer to every question, given without reading.
    answer: Option<bool>,
}

/// Why a confirmation could not be had.
#[derive(Debug)]
pub struct NeedsConsent {
    pub flag: &'static str,
}

impl std::fmt::Display for NeedsConsent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "this needs your consent and there is no terminal to ask on; pass {} to agree",
            self.flag
        )
    }
}

impl std::error::Error for NeedsConsent {}

impl Term {
    pub fn detect() -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        Term {
            interactive: std::io::stdin().is_terminal() && stderr_tty,
            spinner: stderr_tty,
            answer: None,
        }
    }

    /// Never spins and never asks: for tests, --json and work on other threads.
    pub fn plain() -> Self {
        Term {
            interactive: false,
            spinner: false,
            answer: None,
        }
    }

    /// A terminal at which a person answers every question with `yes`, shown nothing and read
    /// from nowhere: for tests of what rdock does when someone is there to ask.
    pub fn answering(yes: bool) -> Self {
        Term {
            interactive: true,
            spinner: false,
            answer: Some(yes),
        }
    }

    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    /// Show `lines` on stderr, then ask a yes/no question. `preset` is true when a flag already
    /// said yes. Without a terminal and without the flag, this returns [`NeedsConsent`] at once
    /// instead of waiting.
    pub fn confirm(
        &self,
        lines: &[String],
        question: &str,
        preset: bool,
        flag: &'static str,
    ) -> Result<bool, NeedsConsent> {
        if preset {
            return Ok(true);
        }
        if !self.interactive {
            return Err(NeedsConsent { flag });
        }
        if let Some(answer) = self.answer {
            return Ok(answer);
        }
        let mut err = std::io::stderr().lock();
        for line in lines {
            let _ = writeln!(err, "{}", visible(line));
        }
        let _ = write!(err, "{} [y/N] ", visible(question));
        let _ = err.flush();
        drop(err);
        // Read on another thread, so that Ctrl-C (which rdock catches) ends the question too.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = std::io::stdin().lock().read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(Ok(line)) => {
                    return Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
                }
                Ok(Err(_)) => return Ok(false),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) if signal::caught().is_none() => {}
                Err(_) => {
                    eprintln!();
                    return Ok(false);
                }
            }
        }
    }

    /// Show what rdock waits on (`label`) on stderr while `work` runs, when stderr is a terminal:
    /// after a moment a spinner and the label, and from [`SHOW_SECONDS`] on the seconds waited
    /// (`connecting to host:22 … 3 s`). The line is wiped when the work ends. Without a terminal,
    /// nothing is written.
    pub fn spin<T>(&self, label: &str, work: impl FnOnce() -> T) -> T {
        if !self.spinner {
            return work();
        }
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let label = label.to_string();
        let handle = std::thread::spawn(move || {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let start = std::time::Instant::now();
            let mut i = 0;
            // Stay quiet for fast answers: most loopback round trips never show a spinner.
            while start.elapsed() < QUIET && !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(10));
            }
            while !flag.load(Ordering::Relaxed) {
                let line = waiting_line(&label, start.elapsed());
                eprint!("\r\x1b[2K{} {line}", frames[i % frames.len()]);
                let _ = std::io::stderr().flush();
                i += 1;
                std::thread::sleep(Duration::from_millis(80));
            }
            if i > 0 {
                eprint!("\r\x1b[2K");
                let _ = std::io::stderr().flush();
            }
        });
        let out = work();
        done.store(true, Ordering::Relaxed);
        let _ = handle.join();
        out
    }

    /// Show `lines` on stderr before something that asks on the terminal (ssh-keygen's passphrase
    /// prompt), so the question is no surprise: only when a person is there to read them.
    pub fn say(&self, lines: &[String]) {
        if !self.interactive || self.answer.is_some() {
            return;
        }
        let mut err = std::io::stderr().lock();
        for line in lines {
            let _ = writeln!(err, "{}", visible(line));
        }
        let _ = err.flush();
    }
}

/// How long a wait stays unshown.
const QUIET: Duration = Duration::from_millis(150);

/// From how long a wait on, the seconds waited are shown.
pub const SHOW_SECONDS: Duration = Duration::from_secs(2);

/// The waiting line: what is waited on, and from [`SHOW_SECONDS`] on, for how long.
pub fn waiting_line(label: &str, waited: Duration) -> String {
    if waited < SHOW_SECONDS {
        format!("{} …", visible(label))
    } else {
        format!("{} … {} s", visible(label), waited.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_become_visible_and_lines_stay_lines() {
        let hostile = "v1\x1b]0;pwned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\u{202e}txt\0\u{9b}31m\r";
        let shown = visible(hostile);
        assert_eq!(
            shown,
            "v1\\x1b]0;pwned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\x1b[2J\\u{202e}txt\\x00\\x9b31m\\x0d"
        );
        assert!(!shown.chars().any(needs_escape));
        assert_eq!(visible("a\n\tb ✓ é"), "a\n\tb ✓ é");
    }

    #[test]
    fn a_remote_terminal_keeps_its_line_ends_and_nothing_else() {
        let prompt = "[sudo] password for u: \r\nSorry, try again.\r\n\x1b]0;pwned\x07\u{202e}";
        assert_eq!(
            visible_stream(prompt),
            "[sudo] password for u: \r\nSorry, try again.\r\n\\x1b]0;pwned\\x07\\u{202e}"
        );
    }

    #[test]
    fn a_long_line_is_cut_with_a_note() {
        let long = "x".repeat(MAX_LINE_CHARS + 5);
        let shown = visible(&format!("{long}\nnext"));
        assert_eq!(
            shown,
            format!(
                "{} … (5 more characters cut)\nnext",
                "x".repeat(MAX_LINE_CHARS)
            )
        );
    }

    #[test]
    fn a_long_wait_shows_its_seconds() {
        assert_eq!(
            waiting_line("connecting to h:22", Duration::from_millis(300)),
            "connecting to h:22 …"
        );
        assert_eq!(
            waiting_line("connecting to h:22", Duration::from_millis(3400)),
            "connecting to h:22 … 3 s"
        );
        // From SHOW_SECONDS itself on, not only after it.
        assert_eq!(
            waiting_line("connecting to h:22", SHOW_SECONDS),
            "connecting to h:22 … 2 s"
        );
    }

    #[test]
    fn no_terminal_means_no_waiting_and_names_the_flag() {
        let err = Term::plain()
            .confirm(&[], "add it?", false, "--accept-host-key")
            .unwrap_err();
        assert!(err.to_string().contains("--accept-host-key"));
        assert!(Term::plain()
            .confirm(&[], "add it?", true, "--yes")
            .unwrap());
    }

    #[test]
    fn only_a_terminal_a_person_answers_at_is_interactive() {
        assert!(!Term::plain().is_interactive());
        assert!(Term::answering(false).is_interactive());
    }

    #[test]
    fn without_a_terminal_the_work_runs_with_no_spinner_and_no_wait() {
        // A spinner first waits 150 ms (fast answers show none), and is joined before spin ends.
        let start = std::time::Instant::now();
        assert_eq!(Term::plain().spin("probing", || 7), 7);
        let took = start.elapsed();
        assert!(took < Duration::from_millis(120), "{took:?}");
    }
}
