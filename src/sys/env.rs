//! What rdock reads from its environment: the OS, the home directory, the current directory and
//! the environment variables. One value per invocation, read once ([`Env::from_process`]); tests build their own
//! ([`Env::new`]) so every step runs in-process against a home and variables of their choosing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::sys::platform::Platform;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Env {
    pub platform: Platform,
    /// The user's home directory, when one can be found.
    pub home: Option<PathBuf>,
    /// The current directory (where doctor looks for a VS Code workspace), when it can be read.
    pub cwd: Option<PathBuf>,
    vars: BTreeMap<String, String>,
}

impl Env {
    /// The real environment of this process.
    pub fn from_process() -> Self {
        Env {
            platform: Platform::detect(),
            home: dirs::home_dir(),
            cwd: std::env::current_dir().ok(),
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }

    /// An environment with no variables set: for tests.
    pub fn new(platform: Platform, home: impl Into<PathBuf>) -> Self {
        Env {
            platform,
            home: Some(home.into()),
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

#[cfg(test)]
mod tests {
    use super::*;

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
