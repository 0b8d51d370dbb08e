//! What rdock reads from its environment: the OS, the home directory, the current directory and
//! the environment variables. One value per invocation, read once ([`Env::from_process`]); tests build their own
//! ([`Env::new`]) so every step runs in-process against a home and variables of their choosing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::sys::platform::Platform;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub platform: Platform,
    /// The user's home directory, when one can be found ($HOME first: docker and VS Code read it).
    pub home: Option<PathBuf>,
    /// The home ssh reads `~/.ssh` from: OpenSSH ignores $HOME and takes the passwd entry's (on
    /// Unix); elsewhere the same as `home`. rdock's `~/.ssh` paths stay under `home` (so a run with
    /// a HOME of its own never touches the user's files); when the two differ the ssh-config
    /// check says that ssh will not read what rdock reads and writes there.
    pub ssh_home: Option<PathBuf>,
    /// The current directory (where doctor looks for a VS Code workspace), when it can be read.
    pub cwd: Option<PathBuf>,
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The real environment of this process.
    pub fn from_process() -> Self {
        let home = dirs::home_dir();
        Env {
            platform: Platform::detect(),
            ssh_home: passwd_home().or_else(|| home.clone()),
            home,
            cwd: std::env::current_dir().ok(),
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment with no variables set: for tests.
    pub fn new(platform: Platform, home: impl Into<PathBuf>) -> Self {
        let home = home.into();
        Env {
            platform,
            ssh_home: Some(home.clone()),
            home: Some(home),
            cwd: None,
            vars: BTreeMap::new(),
        }
    }

    /// The same environment run from `dir`.
    pub fn with_cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The same environment with one variable set (an empty value counts as unset).
    pub fn with_var(mut self, key: &str, value: &str) -> Self {
        self.vars.insert(key.to_string(), value.to_string());
        self
    }

    /// A variable's value, when it is set and not empty.
    pub fn var(&self, key: &str) -> Option<String> {
        self.vars.get(key).filter(|v| !v.is_empty()).cloned()
    }

    /// The same environment with ssh reading `~/.ssh` from `dir` (a passwd home that is not
    /// $HOME): for tests.
    pub fn with_ssh_home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.ssh_home = Some(dir.into());
        self
    }

    /// Does ssh read `~/.ssh` from another home than $HOME? Both, when so. The same folder
    /// reached through a link (`/home` -> `/var/home` on Fedora's atomic desktops) is the same.
    pub fn ssh_home_differs(&self) -> Option<(&Path, &Path)> {
        let real = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        match (&self.home, &self.ssh_home) {
            (Some(home), Some(ssh)) if home != ssh && real(home) != real(ssh) => Some((home, ssh)),
            _ => None,
        }
    }

    /// Expand a leading `~/` the way ssh does, with the user's home directory.
    pub fn expand(&self, path: &str) -> PathBuf {
        match (path.strip_prefix("~/"), &self.home) {
            (Some(rest), Some(home)) => home.join(rest),
            (None, Some(home)) if path == "~" => home.clone(),
            _ => PathBuf::from(path),
        }
    }

    /// Show a path with the home directory as `~`, as people write it.
    pub fn tilde(&self, path: &Path) -> String {
        if let Some(rest) = self.home.as_ref().and_then(|h| path.strip_prefix(h).ok()) {
            return format!("~/{}", rest.display());
        }
        path.display().to_string()
    }

    /// `~/.ssh/config`.
    pub fn ssh_config(&self) -> Option<PathBuf> {
        self.home.as_ref().map(|h| h.join(".ssh").join("config"))
    }
}

/// The home directory of this user's passwd entry, where OpenSSH reads `~/.ssh` (it ignores
/// $HOME).
#[cfg(unix)]
fn passwd_home() -> Option<PathBuf> {
    use std::ffi::{CStr, OsStr};
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: getpwuid_r writes the entry into `pwd` and its strings into `buf`, both ours and
    // large enough (ERANGE otherwise, then None); `pw_dir` is read only while `buf` lives.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut found,
        );
        if rc != 0 || found.is_null() || pwd.pw_dir.is_null() {
            return None;
        }
        let dir = CStr::from_ptr(pwd.pw_dir).to_bytes();
        (!dir.is_empty()).then(|| PathBuf::from(OsStr::from_bytes(dir)))
    }
}

#[cfg(not(unix))]
fn passwd_home() -> Option<PathBuf> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_home_ssh_reads_is_known_apart_from_home() {
        let env = Env::new(Platform::Linux, "/tmp/other").with_ssh_home("/home/u");
        assert_eq!(
            env.ssh_home_differs(),
            Some((Path::new("/tmp/other"), Path::new("/home/u")))
        );
        assert!(Env::new(Platform::Linux, "/h").ssh_home_differs().is_none());
        #[cfg(unix)]
        {
            let dir = tempfile::tempdir().unwrap();
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(dir.path(), &link).unwrap();
            let env = Env::new(Platform::Linux, &link).with_ssh_home(dir.path());
            assert!(env.ssh_home_differs().is_none(), "one folder, two names");
        }
    }

    #[test]
    fn tilde_and_expand_are_inverses_inside_home() {
        let env = Env::new(Platform::Linux, "/home/u");
        assert_eq!(
            env.expand("~/.ssh/id_ed25519"),
            Path::new("/home/u/.ssh/id_ed25519")
        );
        assert_eq!(env.expand("~"), Path::new("/home/u"));
        assert_eq!(env.expand("/etc/ssh/x"), Path::new("/etc/ssh/x"));
        assert_eq!(env.tilde(Path::new("/home/u/.ssh/config")), "~/.ssh/config");
        assert_eq!(env.tilde(Path::new("/etc/x")), "/etc/x");
    }

    #[test]
    fn empty_variables_count_as_unset() {
        let env = Env::new(Platform::Linux, "/h")
            .with_var("A", "")
            .with_var("B", "x");
        assert_eq!(env.var("A"), None);
        assert_eq!(env.var("B").as_deref(), Some("x"));
        assert_eq!(env.var("C"), None);
    }
}
