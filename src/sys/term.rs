//! The terminal: whether a person can answer, yes/no questions that never wait without one, and
//! a spinner while the network is slow. Colour and every line rdock prints live in `render`.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Term {
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

impl Term {
    pub fn detect() -> Self {
        let stderr_tty = std::io::stderr().is_terminal();
        Term {
            interactive: std::io::stdin().is_terminal() && stderr_tty,
            spinner: stderr_tty,
        }
    }

    /// Never spins and never asks: for tests, --json and work on other threads.
    pub fn plain() -> Self {
        Term {
            interactive: false,
            spinner: false,
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
        let mut err = std::io::stderr().lock();
        for line in lines {
            let _ = writeln!(err, "{line}");
        }
        let _ = write!(err, "{question} [y/N] ");
        let _ = err.flush();
        drop(err);
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
    fn no_terminal_means_no_waiting_and_names_the_flag() {
        let err = Term::plain()
            .confirm(&[], "add it?", false, "--accept-host-key")
            .unwrap_err();
        assert!(err.to_string().contains("--accept-host-key"));
        assert!(Term::plain()
            .confirm(&[], "add it?", true, "--yes")
            .unwrap());
    }
}
