//! A VS Code workspace folder: its `.vscode/settings.json` may pin a docker context for that
//! folder alone, as `DOCKER_CONTEXT` in `docker.environment` and `containers.environment` (the
//! Docker and Container Tools extensions each read their own). `rdock vscode --workspace DIR`
//! writes the pin; doctor, run inside the folder, reads it.
//!
//! The workspace doctor reads is the current directory or its nearest ancestor that holds
//! `.vscode/settings.json` ([`find`]).

use std::path::{Path, PathBuf};

use super::settings::{environment_overrides, SettingsError, DOCKER_CONTEXT, DOCKER_HOST};

/// `DIR/.vscode/settings.json`.
pub fn settings_path(dir: &Path) -> PathBuf {
    dir.join(".vscode").join("settings.json")
}

/// Where `DIR/.vscode/settings.json` really is when a symbolic link (the file, or `.vscode`)
/// takes it out of `DIR`; None when it stays inside (or `DIR` does not exist). A cloned repository
/// can carry `.vscode/settings.json -> ../../.docker/config.json`: editing through it would edit
/// a file of the user's that is no workspace's.
pub fn leaves(dir: &Path) -> Option<PathBuf> {
    let root = std::fs::canonicalize(dir).ok()?;
    let path = settings_path(dir);
    let real = match std::fs::canonicalize(&path) {
        Ok(real) => real,
        // Absent, or a dangling link: where a write would create it.
        Err(_) => {
            let target = crate::sys::fsutil::resolve_target(&path).ok()?;
            // The nearest folder of it that exists, really, then the rest (made by the write).
            let base = target.ancestors().skip(1).find(|a| a.exists())?;
            std::fs::canonicalize(base)
                .ok()?
                .join(target.strip_prefix(base).ok()?)
        }
    };
    (!real.starts_with(&root)).then_some(real)
}

/// The current directory, or its nearest ancestor, that holds `.vscode/settings.json`.
pub fn find(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .find(|dir| settings_path(dir).is_file())
        .map(Path::to_path_buf)
}

/// What a workspace's environment settings pin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pins {
    /// Each setting that sets DOCKER_CONTEXT, and the name (None when it is not a string).
    pub contexts: Vec<(&'static str, Option<String>)>,
    /// Each setting that sets DOCKER_HOST.
    pub hosts: Vec<&'static str>,
}

impl Pins {
    pub fn from_text(text: &str) -> Result<Pins, SettingsError> {
        let mut pins = Pins::default();
        for o in environment_overrides(text)? {
            match o.variable.as_str() {
                DOCKER_CONTEXT => pins.contexts.push((o.setting, o.value)),
                DOCKER_HOST => pins.hosts.push(o.setting),
                _ => {}
            }
        }
        Ok(pins)
    }

    /// The context the pins name, when at least one names one and none names another.
    pub fn agreed(&self) -> Option<&str> {
        let mut names = self.contexts.iter().map(|(_, name)| name.as_deref());
        let first = names.next()??;
        names.all(|name| name == Some(first)).then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nearest_folder_with_settings_is_the_workspace() {
        let root = tempfile::tempdir().unwrap();
        let (outer, inner) = (root.path().join("a"), root.path().join("a/b/c"));
        std::fs::create_dir_all(&inner).unwrap();
        assert_eq!(find(&inner), None);
        std::fs::create_dir_all(outer.join(".vscode")).unwrap();
        std::fs::write(settings_path(&outer), "{}").unwrap();
        assert_eq!(find(&inner), Some(outer.clone()));
        // A .vscode folder without settings.json is not one.
        std::fs::create_dir_all(inner.join(".vscode")).unwrap();
        assert_eq!(find(&inner), Some(outer));
    }

    #[cfg(unix)]
    #[test]
    fn a_settings_file_or_folder_linked_out_of_the_workspace_leaves_it() {
        use std::os::unix::fs::symlink;
        let root = tempfile::tempdir().unwrap();
        let (ws, outside) = (root.path().join("ws"), root.path().join("outside"));
        std::fs::create_dir_all(ws.join(".vscode")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let real_outside = std::fs::canonicalize(&outside).unwrap();
        assert_eq!(leaves(&ws), None, "no file yet: it would be made inside");
        assert_eq!(leaves(&root.path().join("new")), None, "no folder yet");
        std::fs::create_dir(root.path().join("bare")).unwrap();
        assert_eq!(leaves(&root.path().join("bare")), None, "no .vscode yet");
        std::fs::write(outside.join("config.json"), "{}").unwrap();
        symlink("../../outside/config.json", settings_path(&ws)).unwrap();
        assert_eq!(leaves(&ws), Some(real_outside.join("config.json")));
        // A dangling link out of it, too.
        std::fs::remove_file(settings_path(&ws)).unwrap();
        symlink("../../outside/new.json", settings_path(&ws)).unwrap();
        assert_eq!(leaves(&ws), Some(real_outside.join("new.json")));
        // A link that stays inside is followed.
        std::fs::remove_file(settings_path(&ws)).unwrap();
        std::fs::write(ws.join("mine.json"), "{}").unwrap();
        symlink("../mine.json", settings_path(&ws)).unwrap();
        assert_eq!(leaves(&ws), None);
        // The folder linked out.
        std::fs::remove_file(settings_path(&ws)).unwrap();
        std::fs::remove_dir(ws.join(".vscode")).unwrap();
        symlink(&outside, ws.join(".vscode")).unwrap();
        assert_eq!(leaves(&ws), Some(real_outside.join("settings.json")));
    }

    #[test]
    fn pins_agree_only_on_one_name() {
        let pins = |text: &str| Pins::from_text(text).unwrap();
        let both = pins(
            r#"{"docker.environment": {"DOCKER_CONTEXT": "a"}, "containers.environment": {"DOCKER_CONTEXT": "a", "DOCKER_HOST": "x"}}"#,
        );
        assert_eq!(both.agreed(), Some("a"));
        assert_eq!(both.hosts, ["containers.environment"]);
        let one = pins(r#"{"containers.environment": {"DOCKER_CONTEXT": "a"}}"#);
        assert_eq!(one.agreed(), Some("a"));
        let two = pins(
            r#"{"docker.environment": {"DOCKER_CONTEXT": "a"}, "containers.environment": {"DOCKER_CONTEXT": "b"}}"#,
        );
        assert_eq!(two.agreed(), None);
        assert_eq!(
            pins(r#"{"docker.environment": {"DOCKER_CONTEXT": 1}}"#).agreed(),
            None
        );
        assert_eq!(pins("{}"), Pins::default());
    }
}
