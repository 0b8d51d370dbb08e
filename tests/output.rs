//! Output that cannot be written is a failure (exit 1, one line on stderr), never a silent
//! success; a reader that goes away (`| head`) ends rdock quietly, as it ends other Unix tools.

use std::process::{Command, Stdio};

/// rdock under an empty HOME, arguments to come (`list --json` needs no tool and prints `[]`).
fn rdock_in(home: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rdock"));
    cmd.env_clear()
        .env("PATH", home)
        .env("HOME", home)
        .stdin(Stdio::null());
    cmd
}

#[test]
fn output_that_cannot_be_written_fails_with_one_line() {
    let home = tempfile::tempdir().unwrap();
    let ok = rdock_in(home.path())
        .args(["list", "--json"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "[]");

    // What rdock prints, and what clap prints for it (--help, --version): all the same.
    // completions and man are made in memory and printed as the rest (clap_complete's own
    // write panicked on a full disk: exit 101).
    let printed: [&[&str]; 5] = [
        &["list", "--json"],
        &["--help"],
        &["--version"],
        &["completions", "bash"],
        &["man"],
    ];
    for args in printed {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let run = rdock_in(home.path())
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?} >/dev/full: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with("rdock: cannot write the output: "),
            "{stderr}"
        );
    }

    // A closed stdout: the same (seen on Linux, where rdock looks before Rust's runtime reopens
    // it on /dev/null).
    if !cfg!(target_os = "linux") {
        return;
    }
    let closed = Command::new("/bin/sh")
        .args([
            "-c",
            "exec \"$0\" list --json >&-",
            env!("CARGO_BIN_EXE_rdock"),
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&closed.stderr);
    assert_eq!(closed.status.code(), Some(1), "closed stdout: {stderr}");
    assert!(stderr.contains("cannot write the output"), "{stderr}");
}

#[test]
fn a_reader_that_goes_away_ends_rdock_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let home = tempfile::tempdir().unwrap();
    // Another test thread forking at that moment holds a copy of the pipe's read end until its
    // child execs, and then rdock's write goes through (exit 0, seen once in a parallel run). So
    // a few tries: every one must end quietly, and at least one by SIGPIPE.
    let mut signalled = false;
    for _ in 0..5 {
        let mut child = rdock_in(home.path())
            .args(["list", "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before rdock writes.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{out:?}");
        match out.status.signal() {
            Some(13) => {
                signalled = true;
                break;
            }
            _ => assert_eq!(out.status.code(), Some(0), "{out:?}"),
        }
    }
    assert!(signalled, "rdock never met a closed pipe in five tries");
}
