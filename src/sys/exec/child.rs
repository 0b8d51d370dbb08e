//! Starting a process and seeing it to its end: its stdin written, its output read up to a
//! bound, its timeout kept, and a signal to rdock heeded.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use wait_timeout::ChildExt;

use super::outcome::{could_not_run, timed_out};
use super::tree::{kill_tree, Running};
use super::{Cmd, Output, TooMuchOutput};

pub(super) fn spawn_and_wait(cmd: &Cmd) -> Result<Output> {
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
    let writer = std::thread::spawn(move || {
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
        .map(|p| reader(p, cmd.max_output, cmd.shown, overflow.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|p| reader(p, cmd.max_output, cmd.shown, overflow.clone()));

    let deadline = std::time::Instant::now() + cmd.timeout;
    let status = loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if let Some(status) = child.wait_timeout(left.min(POLL))? {
            break status;
        }
        let stop = if overflow.load(std::sync::atomic::Ordering::SeqCst) {
            Some(anyhow::Error::new(TooMuchOutput::of(cmd)))
        } else if let Err(interrupted) = crate::sys::signal::check() {
            Some(anyhow::Error::new(interrupted))
        } else if left.is_zero() {
            kill(&mut child, cmd.interactive);
            let _ = child.wait();
            // What it printed before it was stopped: the pipes close with its process group.
            let (out, err) = (printed_so_far(stdout), printed_so_far(stderr));
            return Err(timed_out(cmd, out, err));
        } else {
            None
        };
        if let Some(error) = stop {
            kill(&mut child, cmd.interactive);
            let _ = child.wait();
            return Err(error);
        }
    };
    let _ = writer.join();
    let collect = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let (stdout, stderr) = (collect(stdout), collect(stderr));
    if overflow.load(std::sync::atomic::Ordering::SeqCst) {
        return Err(anyhow::Error::new(TooMuchOutput::of(cmd)));
    }
    Ok(Output {
        code: status.code(),
        stdout,
        stderr,
        skipped: false,
    })
}

/// What a reader of a stopped command's pipe holds, once the pipe closed; empty when it is still
/// open after a second (a process outside the group kept it).
fn printed_so_far(reader: Option<std::thread::JoinHandle<Vec<u8>>>) -> String {
    let Some(reader) = reader else {
        return String::new();
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while !reader.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    if !reader.is_finished() {
        return String::new();
    }
    reader
        .join()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
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

/// Read a pipe to its end, keeping at most `cap` bytes: past that, flag `overflow` and stop
/// reading (the command is then stopped). With `show`, each piece read is also written to
/// stderr as visible text.
fn reader<R: Read + Send + 'static>(
    mut pipe: R,
    cap: usize,
    show: bool,
    overflow: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 64 * 1024];
        // How much of `buf` has been shown: a character cut between two reads waits for its end.
        let mut shown = 0;
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) if buf.len() + n > cap => {
                    overflow.store(true, std::sync::atomic::Ordering::SeqCst);
                    break;
                }
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if show {
                        shown += show_piece(&buf[shown..]);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        buf
    })
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
    fn stdin_reaches_the_child_and_output_comes_back() {
        let out = Exec::default()
            .run(&Cmd::new("cat").stdin("hello\n"))
            .unwrap();
        assert_eq!(out.stdout, "hello\n");
        assert!(out.success());
    }
}
