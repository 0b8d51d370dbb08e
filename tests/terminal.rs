//! `sys::term` where a person sits (its unit tests run with no terminal): this test binary runs
//! again as a child (the ignored test `child`, told what to do by an environment variable) with
//! stdin, stdout or stderr on a pseudo-terminal, which nothing rdock asks can tell from a real
//! one. The parent reads what the child drew on it, types at it, and reads the child's answer
//! from a file. Here, not beside the code: only `sys::exec` starts a process in src/ (layers.rs).

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use rdock::sys::signal;
use rdock::sys::term::{width, Term};

/// What the child does, and the file it writes its answer to.
const ROLE: &str = "RDOCK_TERM_TEST_ROLE";
const OUT: &str = "RDOCK_TERM_TEST_OUT";

/// Which of the child's stdin, stdout and stderr are the pseudo-terminal (the others: /dev/null).
#[derive(Clone, Copy, Default)]
struct Wiring {
    stdin: bool,
    stdout: bool,
    stderr: bool,
}

/// The child's run: its answer, and everything it drew on the terminal.
struct Seen {
    answer: String,
    drawn: String,
}

/// A child, running `role`, at a terminal `cols` columns wide.
struct Child {
    process: std::process::Child,
    drawn: Arc<Mutex<Vec<u8>>>,
    keyboard: std::fs::File,
    answer: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Child {
    fn start(role: &str, wiring: Wiring, cols: u16, columns: Option<&str>) -> Child {
        let (master, slave) = openpty(cols);
        let dir = tempfile::tempdir().unwrap();
        let answer = dir.path().join("answer");
        let side = |on: bool| match on {
            true => Stdio::from(slave.try_clone().unwrap()),
            false => Stdio::null(),
        };
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", "terminal::child", "--ignored", "--nocapture"])
            .args(["--test-threads=1", "-q"])
            .env(ROLE, role)
            .env(OUT, &answer)
            .env_remove("COLUMNS")
            .stdin(side(wiring.stdin))
            .stdout(side(wiring.stdout))
            .stderr(side(wiring.stderr));
        if let Some(columns) = columns {
            cmd.env("COLUMNS", columns);
        }
        let process = cmd.spawn().unwrap();
        // Only the child holds the terminal's other side now: reads end when it exits.
        drop((cmd, slave));
        let drawn = Arc::new(Mutex::new(Vec::new()));
        let mut screen = std::fs::File::from(master.try_clone().unwrap());
        let sink = drawn.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = screen.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Child {
            process,
            drawn,
            keyboard: std::fs::File::from(master),
            answer,
            _dir: dir,
        }
    }

    fn drawn(&self) -> String {
        String::from_utf8_lossy(&self.drawn.lock().unwrap()).into_owned()
    }

    /// Wait (at most 10 s) until the terminal shows `text`.
    fn wait_for(&self, text: &str) {
        let start = Instant::now();
        while !self.drawn().contains(text) {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{text:?} never shown: {:?}",
                self.drawn()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Wait (at most 10 s, then kill it) for the child to end.
    fn end(mut self) -> Seen {
        let status = match self.process.wait_timeout(Duration::from_secs(10)).unwrap() {
            Some(status) => status,
            None => {
                let _ = self.process.kill();
                let _ = self.process.wait();
                panic!("the child still ran after 10 s: {:?}", self.drawn());
            }
        };
        assert!(status.success(), "{status}: {:?}", self.drawn());
        // What it drew before it ended is in the terminal's buffer: give the reader a moment.
        std::thread::sleep(Duration::from_millis(50));
        Seen {
            answer: std::fs::read_to_string(&self.answer).unwrap_or_default(),
            drawn: self.drawn(),
        }
    }
}

fn openpty(cols: u16) -> (OwnedFd, OwnedFd) {
    let mut size = libc::winsize {
        ws_row: 24,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two new descriptors, owned from here on; close-on-exec keeps them
    // out of what other tests spawn meanwhile (the child gets its copy as stdio, which stays).
    unsafe {
        let rc = libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            // Linux takes these two as *const, macOS as *mut: a *mut serves both.
            std::ptr::null_mut(),
            std::ptr::addr_of_mut!(size),
        );
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        for fd in [master, slave] {
            libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC);
        }
        (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave))
    }
}

fn run(role: &str, wiring: Wiring) -> Seen {
    Child::start(role, wiring, 80, None).end()
}

const ALL: Wiring = Wiring {
    stdin: true,
    stdout: true,
    stderr: true,
};

/// A person's terminal, with stdout (where the test harness writes) elsewhere.
const PERSON: Wiring = Wiring {
    stdin: true,
    stdout: false,
    stderr: true,
};

#[test]
#[ignore = "the child the tests here start at a pseudo-terminal"]
fn child() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let nap = |ms| {
        move || {
            std::thread::sleep(Duration::from_millis(ms));
            7
        }
    };
    let answer = match role.as_str() {
        "width" => width().to_string(),
        "interactive" => Term::detect().is_interactive().to_string(),
        "spin-fast" => Term::detect().spin("fast", nap(30)).to_string(),
        "spin-slow" => Term::detect().spin("slow", nap(600)).to_string(),
        "spin-plain" => Term::plain().spin("plain", nap(400)).to_string(),
        "say" => {
            Term::plain().say(&["to nobody".into()]);
            Term::answering(true).say(&["to a script".into()]);
            Term::detect().say(&["to a person".into()]);
            String::new()
        }
        "confirm" => format!(
            "{:?}",
            Term::detect().confirm(&[], "go on?", false, "--yes")
        ),
        "confirm-signal" => {
            signal::install(|| {});
            format!(
                "{:?}",
                Term::detect().confirm(&[], "go on?", false, "--yes")
            )
        }
        other => panic!("no role {other}"),
    };
    std::fs::write(std::env::var(OUT).unwrap(), answer).unwrap();
}

#[test]
fn columns_wins_then_the_terminal_stdout_or_stderr_is_then_80() {
    let width = |wiring, cols, columns| Child::start("width", wiring, cols, columns).end().answer;
    let none = Wiring::default();
    assert_eq!(width(none, 0, Some("100")), "100");
    assert_eq!(width(ALL, 123, Some("100")), "100");
    // Not a positive number: as if unset.
    assert_eq!(width(none, 0, Some("0")), "80");
    assert_eq!(width(ALL, 123, Some("wide")), "123");
    let stdout = Wiring {
        stdout: true,
        ..none
    };
    let stderr = Wiring {
        stderr: true,
        ..none
    };
    assert_eq!(width(stdout, 123, None), "123");
    assert_eq!(width(stderr, 99, None), "99");
    // A terminal that says it has no columns (a fresh pseudo-terminal, before anyone sized it).
    assert_eq!(width(stdout, 0, None), "80");
    assert_eq!(width(none, 0, None), "80");
}

#[test]
fn a_person_can_answer_only_with_both_stdin_and_stderr_at_the_terminal() {
    let interactive = |wiring| run("interactive", wiring).answer;
    assert_eq!(interactive(ALL), "true");
    for one in [
        Wiring {
            stdin: true,
            ..Wiring::default()
        },
        Wiring {
            stderr: true,
            ..Wiring::default()
        },
    ] {
        assert_eq!(interactive(one), "false");
    }
}

#[test]
fn the_spinner_stays_quiet_for_a_fast_answer_and_wipes_its_line_after_a_slow_one() {
    let fast = run("spin-fast", PERSON);
    assert_eq!((fast.answer.as_str(), fast.drawn.as_str()), ("7", ""));
    let slow = run("spin-slow", PERSON);
    assert_eq!(slow.answer, "7");
    // Frames turn (the first two of them), then the line is wiped and nothing is left on it.
    assert!(
        slow.drawn.starts_with("\r\x1b[2K⠋ slow …"),
        "{:?}",
        slow.drawn
    );
    assert!(slow.drawn.contains("\r\x1b[2K⠙ slow …"), "{:?}", slow.drawn);
    assert!(slow.drawn.ends_with("…\r\x1b[2K"), "{:?}", slow.drawn);
    // No terminal to spin on (Term::plain): nothing drawn however long the wait.
    assert_eq!(run("spin-plain", PERSON).drawn, "");
}

#[test]
fn only_a_person_at_the_terminal_is_told_what_comes() {
    let drawn = run("say", PERSON).drawn;
    assert_eq!(drawn, "to a person\r\n");
}

#[test]
fn a_question_waits_for_the_answer_and_a_signal_ends_it() {
    let asked = Child::start("confirm", PERSON, 80, None);
    asked.wait_for("go on? [y/N] ");
    std::thread::sleep(Duration::from_millis(200));
    (&asked.keyboard).write_all(b"y\n").unwrap();
    assert_eq!(asked.end().answer, "Ok(true)");

    let asked = Child::start("confirm-signal", PERSON, 80, None);
    asked.wait_for("go on? [y/N] ");
    // SAFETY: kill sends a signal to the child this test started and has not yet waited for.
    unsafe { libc::kill(asked.process.id() as i32, libc::SIGINT) };
    assert_eq!(asked.end().answer, "Ok(false)");
}
