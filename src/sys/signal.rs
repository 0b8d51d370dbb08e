//! Ctrl-C, SIGTERM and SIGHUP (a closed terminal or ssh session): rdock notes the signal instead
//! of dying on the spot, so whatever it is doing ends cleanly: the running command's process group
//! is killed, a file being written is either whole or untouched (writes are temp file + rename,
//! and a rename is not cut in half), no temp file is left, the lock is released, and rdock exits
//! 128 + the signal: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP).
//!
//! Every wait in rdock observes [`caught`]; should one not, a watchdog ends rdock anyway
//! [`GRACE`] after the signal, so a signal always ends it.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The signal that arrived, or 0.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

/// A signal cut off a change on another machine, which may or may not have happened (a remote
/// command goes on after its ssh is killed): the exit line must not say nothing was left half
/// done. What was left, and the command that finishes it, is said where it happened.
static UNSURE: AtomicBool = AtomicBool::new(false);

/// Note that a signal cut off a remote change rdock cannot vouch for (see [`UNSURE`]).
pub fn left_unsure() {
    UNSURE.store(true, Ordering::SeqCst);
}

/// SIGINT's number, for the exit code when no signal API is there.
pub const SIGINT: i32 = 2;
/// SIGHUP's number (1 wherever there are signals).
pub const SIGHUP: i32 = 1;

/// How long rdock may take to end after a signal before the watchdog ends it: every wait checks
/// for a signal at least every 100 ms and a reader is given up 2 s after its command ended, so
/// only a wait that forgot to check ever reaches this.
pub const GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Catch SIGINT, SIGTERM and SIGHUP from now on, and start the watchdog (Unix; elsewhere Ctrl-C
/// ends rdock as before). `stop_commands` is what the watchdog runs before it ends rdock: the
/// caller's (commands hand in `sys::exec::end_running`), so that signals need not know exec,
/// which asks them.
pub fn install(stop_commands: fn()) {
    #[cfg(unix)]
    {
        extern "C" fn note(signal: libc::c_int) {
            // The first signal counts: its number is the exit code.
            let _ = CAUGHT.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
        }
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            // SAFETY: `note` only stores to an atomic, which is async-signal-safe; the
            // sigaction struct is fully initialised before use.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = note as *const () as usize;
                libc::sigemptyset(&mut action.sa_mask);
                action.sa_flags = 0;
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
        std::thread::spawn(move || watchdog(stop_commands));
    }
    #[cfg(not(unix))]
    let _ = stop_commands;
}

/// End rdock [`GRACE`] after a signal if it has not ended by itself: the commands it started are
/// stopped first, the lock goes with the process, and a temp file left is cleared by the next run.
#[cfg(unix)]
fn watchdog(stop_commands: fn()) {
    let signal = loop {
        if let Some(signal) = caught() {
            break signal;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    std::thread::sleep(GRACE);
    stop_commands();
    // Said on a thread of its own: a stderr nobody reads must not hold the end up either.
    let said = std::thread::spawn(move || {
        eprintln!(
            "rdock: {} and did not end within {} s; it ends now",
            Interrupted(signal).cause(),
            GRACE.as_secs()
        )
    });
    let until = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while !said.is_finished() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: _exit ends the process at once; no lock another thread may hold (stdout's, say)
    // is needed for it, as exit's clean-up would.
    unsafe { libc::_exit(128 + signal) }
}

/// The signal that asked rdock to stop, if one did.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// The error every interrupted operation returns.
#[derive(Debug)]
pub struct Interrupted(pub i32);

impl Interrupted {
    /// "interrupted by Ctrl-C", "… by a hang-up (SIGHUP)", "… by a signal to stop".
    pub fn cause(&self) -> String {
        let name = match self.0 {
            SIGINT => "Ctrl-C",
            SIGHUP => "a hang-up (SIGHUP: the terminal or session closed)",
            _ => "a signal to stop",
        };
        format!("interrupted by {name}")
    }
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if UNSURE.load(Ordering::SeqCst) {
            write!(
                f,
                "{}; a change on the remote may be unfinished (said above, with the command that finishes it)",
                self.cause()
            )
        } else {
            write!(f, "{}; nothing was left half done", self.cause())
        }
    }
}

impl std::error::Error for Interrupted {}

/// Err when a signal asked rdock to stop.
pub fn check() -> Result<(), Interrupted> {
    caught().map_or(Ok(()), |s| Err(Interrupted(s)))
}
