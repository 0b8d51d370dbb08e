//! Everything rdock says to a person: ✓/!/✗ lines, colour only on a terminal (and never with
//! NO_COLOR), a spinner while the network is slow, and confirmations that never wait without a TTY.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::step::Status;

#[derive(Clone, Debug)]
pub struct Ui {
    color: bool,
    /// stdin and stderr are both a terminal: a person can answer.
    interactive: bool,
    spinner: bool,
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

impl Ui {
    pub fn detect() -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ui {
            color: stdout_tty && !no_color && std::env::var("TERM").map_or(true, |t| t != "dumb"),
            interactive: std::io::stdin().is_terminal() && stderr_tty,
            spinner: stderr_tty,
        }
    }

    /// A Ui that never colours, never spins and never asks: for tests and --json.
    pub fn plain() -> Self {
        Ui {
            color: false,
            interactive: false,
            spinner: false,
        }
    }

    /// The same colours, but no spinner and no questions: for work on other threads.
    pub fn quiet(&self) -> Self {
        Ui {
            color: self.color,
            interactive: false,
            spinner: false,
        }
    }

    pub fn is_interactive(&self) -> bool {
        self.interactive
    }

    pub fn symbol(&self, status: Status) -> String {
        let (sym, code) = match status {
            Status::Ok => ("✓", "32"),
            Status::Warn => ("!", "33"),
            Status::Fail => ("✗", "31"),
            Status::Skip => ("-", "2"),
        };
        self.paint(sym, code)
    }

    pub fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint(text, "1")
    }

    /// Ask a yes/no question. `preset` is true when a flag already said yes. Without a terminal and
    /// without the flag, this returns [`NeedsConsent`] at once instead of waiting.
    pub fn confirm(
        &self,
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
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            return Ok(false);
        }
        Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
    }

    /// Show a spinner on stderr while `work` runs, when stderr is a terminal.
    pub fn spin<T>(&self, label: &str, work: impl FnOnce() -> T) -> T {
        if !self.spinner {
            return work();
        }
        let done = Arc::new(AtomicBool::new(false));
        let flag = done.clone();
        let label = label.to_string();
        let handle = std::thread::spawn(move || {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let mut i = 0;
            // Stay quiet for fast answers: most loopback round trips never show a spinner.
            std::thread::sleep(Duration::from_millis(150));
            while !flag.load(Ordering::Relaxed) {
                eprint!("\r{} {label}", frames[i % frames.len()]);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ui_uses_bare_symbols() {
        let ui = Ui::plain();
        assert_eq!(ui.symbol(Status::Ok), "✓");
        assert_eq!(ui.symbol(Status::Warn), "!");
        assert_eq!(ui.symbol(Status::Fail), "✗");
    }

    #[test]
    fn no_terminal_means_no_waiting_and_names_the_flag() {
        let err = Ui::plain()
            .confirm("add it?", false, "--accept-host-key")
            .unwrap_err();
        assert!(err.to_string().contains("--accept-host-key"));
        assert!(Ui::plain().confirm("add it?", true, "--yes").unwrap());
    }
}
