//! Ending what rdock started: a command's whole process tree, and, as rdock exits, every
//! command still running.

use std::sync::Mutex;

/// The non-interactive commands running now, by pid (each leads its own process group on Unix):
/// what [`end_running`] stops.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A command's place in [`RUNNING`], left when it ends (however [`spawn_and_wait`] returns).
pub(super) struct Running(u32);

/// Set by [`end_running`]: rdock is exiting, and a command that starts after that (a background
/// thread's, in the same instant) is stopped as it registers.
static CLOSING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

impl Running {
    pub(super) fn register(pid: u32) -> Running {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        if CLOSING.load(std::sync::atomic::Ordering::SeqCst) {
            drop(running);
            kill_tree(pid);
        } else {
            running.push(pid);
        }
        Running(pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|p| *p != self.0);
    }
}

/// Stop every command still running, and what each started. rdock calls it as it exits: a
/// background job no step waited for (setup's early `docker --context NAME version`, when an
/// earlier check stopped setup) would otherwise go on alone, and through a remote shell that
/// hangs it never ends.
pub fn end_running() {
    {
        // Under the lock: a command registers either before (and is ended below) or after (and
        // sees the flag).
        let _running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
        CLOSING.store(true, std::sync::atomic::Ordering::SeqCst);
    }
    end_running_if(|_| true);
}

/// [`end_running`] for the commands whose pid `which` picks.
fn end_running_if(which: impl Fn(u32) -> bool) {
    let mut running = RUNNING.lock().unwrap_or_else(|e| e.into_inner());
    let (end, keep): (Vec<u32>, Vec<u32>) = running.iter().partition(|p| which(**p));
    *running = keep;
    drop(running);
    for pid in end {
        kill_tree(pid);
    }
}

/// End a command's process group (it leads one, see [`spawn_and_wait`]) and, on Linux, every
/// process below it that left the group: the docker CLI starts ssh in a session of its own, and
/// that ssh, its docker gone, waits on a remote that never answers (measured: it outlived a
/// killed `docker version` whose remote `~/.bashrc` sleeps).
pub(super) fn kill_tree(leader: u32) {
    #[cfg(unix)]
    {
        // Found before the group goes: a killed parent's children are re-parented at once.
        let below = descendants(leader);
        let pids = std::iter::once(-(leader as i32)).chain(below.iter().map(|p| *p as i32));
        // Never -1 (every process) nor 0 (rdock's own group), whatever a pid reads.
        for pid in pids.filter(|p| p.abs() > 1) {
            // SAFETY: kill(2) with a pid (or a negative process group) and a signal number
            // touches no memory; a process already gone gives ESRCH, which is ignored.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }
    let _ = leader;
}

/// The pids below `root`, from /proc (Linux; elsewhere none are known).
#[cfg(unix)]
fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `PID (COMM) STATE PPID …`: COMM may hold spaces and parentheses.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(pid, ppid)| *ppid == parent && !found.contains(pid))
                .map(|(pid, _)| *pid)
                .collect::<Vec<_>>(),
        );
        i += 1;
    }
    found.remove(0);
    found
}

// The test reads /proc.
#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    use super::super::{Cmd, Exec};
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn a_timeout_and_end_running_stop_what_left_the_process_group_too() {
        let dir = tempfile::tempdir().unwrap();
        let alive = |pid_file: &std::path::Path| {
            let pid = std::fs::read_to_string(pid_file).unwrap();
            // A killed child of an ended parent is reaped by init: its /proc entry goes.
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            loop {
                let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim()));
                let gone = stat.map_or(true, |s| s.contains(") Z "));
                if gone || std::time::Instant::now() > deadline {
                    return !gone;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        };
        // As the docker CLI starts ssh: in a session (so a process group) of its own.
        let cmd = |pid_file: &std::path::Path| {
            let script = format!(
                "echo $$ > {0}.sh; setsid sh -c 'echo $$ > {0}; exec sleep 60' & wait",
                pid_file.display()
            );
            Cmd::new("sh").args(["-c", &script])
        };
        let pid_file = dir.path().join("timeout");
        let stopped = Exec::default().run(&cmd(&pid_file).timeout(Duration::from_millis(500)));
        assert!(stopped.is_err());
        assert!(!alive(&pid_file), "the timeout left it running");

        // A background job nobody waits for: ended as rdock exits.
        let pid_file = dir.path().join("background");
        let job = {
            let cmd = cmd(&pid_file).timeout(Duration::from_secs(60));
            std::thread::spawn(move || Exec::default().run(&cmd))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while !pid_file.exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(100));
        // This one alone: other tests run commands in this process at the same time.
        let sh: u32 = std::fs::read_to_string(dir.path().join("background.sh"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(RUNNING.lock().unwrap().contains(&sh), "not registered");
        end_running_if(|pid| pid == sh);
        assert!(!alive(&pid_file), "end_running left it running");
        let _ = job.join();
    }
}
