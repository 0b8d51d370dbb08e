//! Starting a process and seeing it to its end: its stdin written, its output read up to a
//! bound, its timeout kept, and a signal to rdock heeded.
//!
//! Its output is read until the pipes close, but never waited for longer than [`AFTER_EXIT`]
//! once the command itself has ended: a process it left behind (a ProxyCommand that forks, say)
//! may keep a pipe open for good. What was read by then is the output; the reading thread is
//! left to end with the pipe, and cannot keep rdock alive (the process exits without it).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use wait_timeout::ChildExt;

use super::outcome::{could_not_run, timed_out, too_much_output};
use super::tree::{kill_tree, Running};
use super::{Cmd, Ended, Output};

/// Start `cmd` and see it to its end. Err: it could not be started, or rdock was interrupted.
pub(super) fn spawn_and_wait(
    cmd: &Cmd,
    cancel: Option<&std::sync::atomic::AtomicBool>,
) -> Result<Ended> {
    let mut command = Command::new(&cmd.program);
    command.args(&cmd.args);
    for k in &cmd.env_remove {
        command.env_remove(k);
    }
    for (k, v) in &cmd.env {
        command.env(k, v);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    match (&cmd.stdin, cmd.interactive) {
        (Some(_), _) => command.stdin(Stdio::piped()),
        (None, true) => command.stdin(Stdio::inherit()),
        (None, false) => command.stdin(Stdio::null()),
    };
    #[cfg(unix)]
    if !cmd.interactive {
        // Its own process group, so a timeout can end the command and anything it started
        // (a ProxyCommand, say), and so it can never read from our terminal.
        use std::os::unix::process::CommandExt;
        command.process_group(0);
    }
    let mut child = command.spawn().with_context(|| could_not_run(cmd))?;
    let _running = (!cmd.interactive).then(|| Running::register(child.id()));

    let stdin_bytes = cmd.stdin.clone();
    let mut stdin = child.stdin.take();
    // Never joined: once the command has ended, what it did not read no longer matters, and a
    // process it left behind may hold its stdin unread.
    std::thread::spawn(move || {
        ignore_sigpipe_in_this_thread();
        if let (Some(pipe), Some(bytes)) = (stdin.as_mut(), stdin_bytes) {
            // A child that exits before reading all of it is not our error to report.
            let _ = pipe.write_all(&bytes);
        }
        drop(stdin);
    });
    let overflow = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stdout = child
        .stdout
        .take()
        .map(|p| Reader::start(p, cmd.max_output, cmd.shown, overflow.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|p| Reader::start(p, cmd.max_output, cmd.shown, overflow.clone()));
    let readers = [&stdout, &stderr];

    let deadline = std::time::Instant::now() + cmd.timeout;
    let status = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if let Some(status) = child.wait_timeout(left.min(POLL))? {
            break status;
        }
        let stop = if overflow.load(std::sync::atomic::Ordering::SeqCst) {
            Some(Ok(too_much_output(cmd)))
        } else if let Err(interrupted) = crate::sys::signal::check() {
            Some(Err(anyhow::Error::new(interrupted)))
        } else if cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::SeqCst)) {
            Some(Err(anyhow::anyhow!(
                "`{}` was stopped: its answer was no longer needed",
                cmd.program()
            )))
        } else if left.is_zero() {
            kill(&mut child, cmd.interactive);
            let _ = child.wait();
            // What it printed before it was stopped: the pipes close with its process group,
            // unless a process outside it holds one.
            wait_for_ends(&readers, STOPPED);
            return Ok(timed_out(cmd, take(&stdout), take(&stderr)));
        } else {
            None
        };
        if let Some(ended) = stop {
            kill(&mut child, cmd.interactive);
            let _ = child.wait();
            return ended;
        }
    };
    if !wait_for_ends(&readers, AFTER_EXIT) {
        // Output cut short by a signal is no answer to act on.
        crate::sys::signal::check()?;
    }
    let (stdout, stderr) = (take(&stdout), take(&stderr));
    if overflow.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(too_much_output(cmd));
    }
    Ok(Ended::Exited(Output {
        code: status.code(),
        stdout,
        stderr,
        skipped: false,
    }))
}

/// How long the output of a command that has ended is still read: its pipes normally close at
/// once; one still open after this is held by a process the command left behind.
pub(super) const AFTER_EXIT: Duration = Duration::from_secs(2);

/// The same, for a command that rdock stopped (its timeout): its process group is gone.
const STOPPED: Duration = Duration::from_secs(1);

/// Wait until every pipe has ended, `within` has passed, or a signal came: whichever is first.
/// Whether every pipe ended.
fn wait_for_ends(readers: &[&Option<Reader>], within: Duration) -> bool {
    let deadline = Instant::now() + within;
    let ended = || readers.iter().all(|r| r.as_ref().is_none_or(Reader::ended));
    while !ended() && Instant::now() < deadline && crate::sys::signal::caught().is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    ended()
}

/// What a reader has read so far (all of it, once its pipe has ended), as text.
fn take(reader: &Option<Reader>) -> String {
    reader.as_ref().map(Reader::read).unwrap_or_default()
}

/// A child that exits before reading its stdin (ssh refused at once) must not end rdock: with
/// SIGPIPE's default action (restored in main, for `rdock doctor | head`) the write would kill
/// the whole process. SIGPIPE goes to the thread that wrote, so this thread blocks it and gets
/// the error instead, which it ignores.
fn ignore_sigpipe_in_this_thread() {
    #[cfg(unix)]
    // SAFETY: the set is initialised by sigemptyset before use, and pthread_sigmask only changes
    // this thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGPIPE);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// How often a running command is checked for its timeout, its output and a signal.
const POLL: Duration = Duration::from_millis(50);

/// A pipe read to its end on a thread of its own, keeping at most `cap` bytes: past that, it
/// flags `overflow` and stops reading (the command is then stopped). With `show`, each piece read
/// is also written to stderr as visible text. What it read can be taken at any time, ended or not.
struct Reader {
    bytes: Arc<Mutex<Vec<u8>>>,
    thread: std::thread::JoinHandle<()>,
}

impl Reader {
    fn start<R: Read + Send + 'static>(
        mut pipe: R,
        cap: usize,
        show: bool,
        overflow: Arc<std::sync::atomic::AtomicBool>,
    ) -> Reader {
        let bytes = Arc::new(Mutex::new(Vec::new()));
        let buf = bytes.clone();
        let thread = std::thread::spawn(move || {
            let mut chunk = [0u8; 64 * 1024];
            // How much has been shown: a character cut between two reads waits for its end.
            let mut shown = 0;
            loop {
                let n = match pipe.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let mut buf = buf.lock().unwrap_or_else(|e| e.into_inner());
                if buf.len() + n > cap {
                    overflow.store(true, std::sync::atomic::Ordering::SeqCst);
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                if show {
                    shown += show_piece(&buf[shown..]);
                }
            }
        });
        Reader { bytes, thread }
    }

    /// Has the pipe ended (or the cap been reached)?
    fn ended(&self) -> bool {
        self.thread.is_finished()
    }

    fn read(&self) -> String {
        let bytes = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// Write what a shown command printed to stderr, as visible text, up to a character cut at the
/// end of `bytes` (it is shown with the next piece); returns how many bytes were shown.
fn show_piece(bytes: &[u8]) -> usize {
    let upto = match std::str::from_utf8(bytes) {
        Ok(_) => bytes.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => bytes.len(),
    };
    let text = String::from_utf8_lossy(&bytes[..upto]);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(crate::sys::term::visible_stream(&text).as_bytes());
    let _ = err.flush();
    upto
}

fn kill(child: &mut std::process::Child, interactive: bool) {
    if !interactive {
        kill_tree(child.id());
    }
    let _ = child.kill();
}

// Every test here runs real Unix processes.
#[cfg(all(test, unix))]
mod tests {
    use std::time::Duration;

    use super::super::{Cmd, Exec};

    #[cfg(unix)]
    #[test]
    fn a_command_that_never_stops_talking_is_stopped_with_memory_bounded() {
        let start = std::time::Instant::now();
        let err = Exec::default()
            .run(&Cmd::new("yes").max_output(64 * 1024))
            .unwrap_err();
        assert!(
            err.to_string().contains("printed more than 64 KiB"),
            "{err}"
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        let out = Exec::default()
            .run(
                &Cmd::new("head")
                    .args(["-c", "65536", "/dev/zero"])
                    .max_output(64 * 1024),
            )
            .unwrap();
        assert_eq!(out.stdout.len(), 65536, "exactly the cap is kept");
    }

    #[cfg(unix)]
    #[test]
    fn timeout_stops_a_command_that_hangs() {
        let exec = Exec::default();
        let start = std::time::Instant::now();
        let err = exec
            .run(
                &Cmd::new("sleep")
                    .arg("30")
                    .timeout(Duration::from_millis(300)),
            )
            .unwrap_err();
        assert!(err.to_string().contains("did not finish within"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }

    #[cfg(unix)]
    #[test]
    fn a_child_that_closes_its_stdin_unread_does_not_end_rdock() {
        // As rdock's main sets it: a write to a pipe nobody reads would end the whole process.
        // SAFETY: SIG_DFL is always a valid disposition for SIGPIPE.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
        // More than a pipe holds, to a child that closes its stdin first: the write must fail.
        let out = Exec::default()
            .run(
                &Cmd::new("sh")
                    .args(["-c", "exec 0<&-; sleep 0.2; echo still here"])
                    .stdin(vec![b'x'; 1 << 20]),
            )
            .unwrap();
        assert_eq!((out.code, out.stdout.trim()), (Some(0), "still here"));
    }

    #[cfg(unix)]
    #[test]
    fn output_held_open_by_a_process_left_behind_is_read_for_a_bounded_time_only() {
        // The command ends at once; the `sleep` it leaves behind keeps both pipes open (as a
        // ProxyCommand that forks keeps ssh's stderr).
        let start = std::time::Instant::now();
        let out = Exec::default()
            .run(&Cmd::new("sh").args(["-c", "echo printed; sleep 30 & echo $! >&2"]))
            .unwrap();
        let elapsed = start.elapsed();
        if let Ok(pid) = out.stderr.trim().parse::<i32>() {
            // SAFETY: kill(2) touches no memory.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), "printed\n"));
        assert!(
            elapsed < super::AFTER_EXIT + Duration::from_secs(3),
            "waited {elapsed:?} for pipes a left-behind process held"
        );
    }

    #[cfg(unix)]
    #[test]
    fn stdin_reaches_the_child_and_output_comes_back() {
        let out = Exec::default()
            .run(&Cmd::new("cat").stdin("hello\n"))
            .unwrap();
        assert_eq!(out.stdout, "hello\n");
        assert!(out.success());
    }
}
