//! Ctrl-C and SIGTERM: rdock notes the signal instead of dying on the spot, so whatever it is
//! doing ends cleanly: the running command's process group is killed, a file being written is
//! either whole or untouched (writes are temp file + rename, and a rename is not cut in half),
//! no temp file is left, the lock is released, and rdock exits 130 (SIGINT) or 143 (SIGTERM).

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

/// Catch SIGINT and SIGTERM from now on (Unix; elsewhere Ctrl-C ends rdock as before).
pub fn install() {
    #[cfg(unix)]
    {
        extern "C" fn note(signal: libc::c_int) {
            CAUGHT.store(signal, Ordering::SeqCst);
        }
        for signal in [libc::SIGINT, libc::SIGTERM] {
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
    }
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

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = if self.0 == SIGINT {
            "Ctrl-C"
        } else {
            "a signal to stop"
        };
        if UNSURE.load(Ordering::SeqCst) {
            write!(
                f,
                "interrupted by {name}; a change on the remote may be unfinished (said above, with the command that finishes it)"
            )
        } else {
            write!(f, "interrupted by {name}; nothing was left half done")
        }
    }
}

impl std::error::Error for Interrupted {}

/// Err when a signal asked rdock to stop.
pub fn check() -> Result<(), Interrupted> {
    caught().map_or(Ok(()), |s| Err(Interrupted(s)))
}
