//! Where the settings files are: under the OS's user data folder
//! ([`Platform::editor_config_dir`]) each editor of [`EDITORS`] keeps `<Editor>/User/settings.json`.
//! An editor counts as installed when its `User` folder exists; rdock never creates a folder for
//! one, but creates settings.json inside an existing `User` folder. `VSCODE_PORTABLE` replaces that
//! search with `$VSCODE_PORTABLE/user-data/User/settings.json`, and `--settings PATH` (repeatable)
//! replaces it with the files named, which are created (with their folder) when missing.

use std::path::{Path, PathBuf};

use crate::sys::env::Env;
use crate::sys::platform::Platform;

/// Folders of VS Code-like editors under the user data folder.
pub const EDITORS: [&str; 5] = [
    "Code",
    "Code - Insiders",
    "VSCodium",
    "Cursor",
    "Code - OSS",
];
/// Folders under the home directory whose `extensions` folder holds installed extensions.
pub const EXTENSION_HOMES: [&str; 4] = [".vscode", ".vscode-insiders", ".vscode-oss", ".cursor"];

/// What discovery looks at: the OS, the home directory and a few environment variables. Tests
/// build one by hand; [`Discovery::from_env`] reads the real ones.
#[derive(Clone, Debug)]
pub struct Discovery {
    pub platform: Platform,
    pub home: PathBuf,
    pub xdg_config_home: Option<String>,
    pub appdata: Option<String>,
    pub vscode_portable: Option<String>,
}

/// One settings.json to edit, and the id of its step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub path: PathBuf,
    /// Named with --settings: its folder is created when missing.
    pub explicit: bool,
}

impl Discovery {
    pub fn from_env(env: &Env) -> Self {
        Discovery {
            platform: env.platform,
            home: env.home.clone().unwrap_or_default(),
            xdg_config_home: env.var("XDG_CONFIG_HOME"),
            appdata: env.var("APPDATA"),
            vscode_portable: env.var("VSCODE_PORTABLE"),
        }
    }

    fn var(&self, key: &str) -> Option<String> {
        let value = match key {
            "XDG_CONFIG_HOME" => &self.xdg_config_home,
            "APPDATA" => &self.appdata,
            "VSCODE_PORTABLE" => &self.vscode_portable,
            _ => &None,
        };
        value.clone().filter(|v| !v.is_empty())
    }

    /// The user data folder that holds the editors' folders.
    pub fn config_dir(&self) -> Option<PathBuf> {
        self.platform
            .editor_config_dir(&|key| self.var(key), &self.home)
    }

    /// The settings files of installed editors: each `User` folder that exists.
    pub fn settings_files(&self) -> Vec<Target> {
        let user_dirs: Vec<(String, PathBuf)> = match self.var("VSCODE_PORTABLE") {
            Some(portable) => vec![(
                "vscode:portable".into(),
                Path::new(&portable).join("user-data").join("User"),
            )],
            None => self
                .config_dir()
                .map(|config| {
                    EDITORS
                        .iter()
                        .map(|editor| {
                            (
                                format!("vscode:{}", editor.replace(" - ", "-")),
                                config.join(editor).join("User"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        user_dirs
            .into_iter()
            .filter(|(_, user)| user.is_dir())
            .map(|(id, user)| Target {
                id,
                path: user.join("settings.json"),
                explicit: false,
            })
            .collect()
    }

    /// Folders where VS Code-like editors install extensions.
    pub fn extension_dirs(&self) -> Vec<PathBuf> {
        let portable = self
            .var("VSCODE_PORTABLE")
            .map(|p| Path::new(&p).join("extensions"));
        EXTENSION_HOMES
            .iter()
            .map(|home| self.home.join(home).join("extensions"))
            .chain(portable)
            .collect()
    }
}

/// The files to edit: those named with --settings, else the discovered ones.
pub fn targets(env: &Discovery, explicit: &[PathBuf]) -> Vec<Target> {
    match explicit {
        [] => env.settings_files(),
        [only] => vec![Target {
            id: "vscode".into(),
            path: only.clone(),
            explicit: true,
        }],
        many => many
            .iter()
            .enumerate()
            .map(|(i, path)| Target {
                id: format!("vscode:{}", i + 1),
                path: path.clone(),
                explicit: true,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_reads_its_variables_and_ignores_empty_ones() {
        let env = Discovery {
            platform: Platform::Linux,
            home: PathBuf::from("/h"),
            xdg_config_home: Some(String::new()),
            appdata: None,
            vscode_portable: Some("/p".into()),
        };
        assert_eq!(env.config_dir(), Some(PathBuf::from("/h/.config")));
        assert_eq!(
            env.extension_dirs().last(),
            Some(&PathBuf::from("/p/extensions"))
        );
        assert_eq!(
            env.extension_dirs()[0],
            PathBuf::from("/h/.vscode/extensions")
        );
    }
}
