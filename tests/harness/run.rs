//! Running a command with a time bound, and what it did ([`Run`]): a hang is a test failure, not a
//! stuck suite.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;

pub struct Run {
    /// What ran, as a person would type it: `rdock doctor --json`.
    pub command: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// It was still running at its time limit, and was killed.
    pub timed_out: bool,
    /// When it was killed: the command lines of it and every process it had started, still
    /// running then (what it was waiting for).
    pub left_running: Vec<String>,
}

impl Run {
    /// stdout and stderr together, for messages and assertions.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ended = if self.timed_out {
            "killed: still running".to_string()
        } else {
            format!("exit {:?}", self.code)
        };
        write!(
            f,
            "{ended} after {:?}\n--- stdout\n{}--- stderr\n{}",
            self.elapsed, self.stdout, self.stderr
        )?;
        if !self.left_running.is_empty() {
            writeln!(f, "--- still running when killed")?;
            for line in &self.left_running {
                writeln!(f, "{line}")?;
            }
        }
        Ok(())
    }
}

/// Run a command, and kill it if it takes longer than `limit` (a hang is a test failure, not a
/// stuck suite).
pub fn run_bounded(cmd: Command, limit: Duration) -> Run {
    let run = run_within(cmd, limit);
    assert!(
        !run.timed_out,
        "{} did not finish within {limit:?}:\n{run}",
        run.command
    );
    run
}

/// Run a command in a process group of its own for at most `limit`. Past it, the whole group is
/// killed and the run comes back with `timed_out` set and what it had printed.
pub fn run_within(mut cmd: Command, limit: Duration) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("spawn");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
        });
        rx
    };
    let o = read_all(Box::new(child.stdout.take().unwrap()));
    let e = read_all(Box::new(child.stderr.take().unwrap()));
    // Waited on, not polled: the run ends the moment the process does.
    let pid = child.id();
    let (tx, ended) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().ok().and_then(|s| s.code()));
    });
    let mut timed_out = false;
    let mut left_running = Vec::new();
    let code = match ended.recv_timeout(limit) {
        Ok(code) => code,
        Err(_) => {
            timed_out = true;
            // The group, and every process started under it that left the group (rdock starts
            // its commands in groups of their own).
            let tree = process_tree(pid);
            let mut kill = vec!["-KILL".to_string(), "--".into(), format!("-{pid}")];
            kill.extend(tree.iter().map(|(pid, _)| pid.to_string()));
            let _ = Command::new("kill").args(&kill).status();
            left_running = tree.into_iter().map(|(_, args)| args).collect();
            ended.recv().ok().flatten()
        }
    };
    let elapsed = start.elapsed();
    // A process that left the group may still hold a pipe open: wait for its end only so long.
    let collect = |rx: std::sync::mpsc::Receiver<String>| {
        rx.recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| "(output still open after the run ended)\n".into())
    };
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    Run {
        command: command_line(
            &cmd.get_program().to_string_lossy(),
            args.iter().map(String::as_str),
        ),
        code,
        stdout: collect(o),
        stderr: collect(e),
        elapsed,
        timed_out,
        left_running,
    }
}

/// `root` and every process below it: pid and command line, parents first.
pub(super) fn process_tree(root: u32) -> Vec<(u32, String)> {
    let ps = sh("ps", &["-e", "-o", "pid=,ppid=,args="]).ok();
    let rows: Vec<(u32, u32, String)> = ps
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let pid = fields.next()?.parse().ok()?;
            let ppid = fields.next()?.parse().ok()?;
            Some((pid, ppid, fields.collect::<Vec<_>>().join(" ")))
        })
        .collect();
    let mut tree: Vec<(u32, String)> = rows
        .iter()
        .filter(|(pid, _, _)| *pid == root)
        .map(|(pid, _, args)| (*pid, args.clone()))
        .collect();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i].0;
        tree.extend(
            rows.iter()
                .filter(|(_, ppid, _)| *ppid == parent)
                .map(|(pid, _, args)| (*pid, args.clone())),
        );
        i += 1;
    }
    tree
}

/// A program and its arguments as one line, an argument with a space or a quote (or none at all)
/// in single quotes.
pub(super) fn command_line<'a>(program: &str, args: impl Iterator<Item = &'a str>) -> String {
    let quoted = args.map(|a| {
        if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"') {
            format!("'{}'", a.replace('\'', "'\\''"))
        } else {
            a.to_string()
        }
    });
    std::iter::once(program.to_string())
        .chain(quoted)
        .collect::<Vec<_>>()
        .join(" ")
}
