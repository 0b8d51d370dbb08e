//! The throwaway Unix users a sandbox logs in as and into: made and removed one at a time.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::*;

/// useradd and userdel lock /etc/passwd: one at a time.
pub(super) static USERS: Mutex<()> = Mutex::new(());

static COUNTER: AtomicUsize = AtomicUsize::new(0);

pub struct User {
    pub name: String,
    pub home: PathBuf,
}

impl User {
    pub(super) fn create(prefix: &str, root: &Path, groups: &[&str]) -> User {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        // Always as long (rdr01234x005): a table that lists it is as wide whatever the pid.
        let name = format!("{prefix}{:05}x{n:03}", std::process::id() % 100_000);
        let home = root.join(&name);
        let _guard = USERS.lock().unwrap_or_else(|e| e.into_inner());
        let mut args = vec!["-m", "-d", home.to_str().unwrap(), "-s", "/bin/sh"];
        let joined = groups.join(",");
        if !groups.is_empty() {
            args.extend(["-G", &joined]);
        }
        args.push(&name);
        must("useradd", &args);
        User { name, home }
    }

    pub(super) fn remove(&self) {
        let _ = sh("pkill", &["-KILL", "-u", &self.name]);
        let _guard = USERS.lock().unwrap_or_else(|e| e.into_inner());
        let _ = sh("userdel", &["-r", "-f", &self.name]);
    }
}
