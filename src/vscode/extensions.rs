//! The installed Docker extensions, and whether they read the setting at all.
//!
//! The Docker extension (`ms-azuretools.vscode-docker`) removed `docker.explorerRefreshInterval` in
//! 1.23.0 (November 2022), and its successor Container Tools (`ms-azuretools.vscode-containers`)
//! refreshes on `docker events`. rdock still writes it, for older installs, and says which of the
//! installed extensions read it.

use std::path::PathBuf;

use super::settings::KEY;

/// The first Docker extension version that no longer reads [`KEY`].
pub const DOCKER_IGNORES_FROM: Version = (1, 23, 0);

// Installed Docker extensions

/// (major, minor, patch)
pub type Version = (u32, u32, u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExtensionKind {
    /// `ms-azuretools.vscode-docker`
    Docker,
    /// `ms-azuretools.vscode-containers`, the Docker extension's successor
    ContainerTools,
}

impl ExtensionKind {
    fn folder_prefix(self) -> &'static str {
        match self {
            ExtensionKind::Docker => "ms-azuretools.vscode-docker-",
            ExtensionKind::ContainerTools => "ms-azuretools.vscode-containers-",
        }
    }

    fn label(self) -> &'static str {
        match self {
            ExtensionKind::Docker => "Docker",
            ExtensionKind::ContainerTools => "Container Tools",
        }
    }
}

/// One installed extension, and the `extensions` folder it was found in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub kind: ExtensionKind,
    pub version: Version,
    pub dir: PathBuf,
}

impl Extension {
    /// Only the Docker extension before 1.23.0 reads `docker.explorerRefreshInterval`.
    pub fn reads_refresh_interval(&self) -> bool {
        self.kind == ExtensionKind::Docker && self.version < DOCKER_IGNORES_FROM
    }

    /// It talks to the daemon through dockerode (ssh2), not the docker CLI: the Docker extension
    /// before 1.23.0, the release that moved it onto the CLI and dropped the setting with it.
    pub fn uses_ssh2(&self) -> bool {
        self.reads_refresh_interval()
    }

    pub fn label(&self) -> String {
        let (major, minor, patch) = self.version;
        format!("{} {major}.{minor}.{patch}", self.kind.label())
    }
}

/// Read an extension folder name: `ms-azuretools.vscode-docker-1.29.0`, possibly with a platform
/// suffix (`ms-azuretools.vscode-containers-2.0.1-linux-x64`). Anything else is None.
pub fn parse_extension_folder(name: &str) -> Option<(ExtensionKind, Version)> {
    let lower = name.to_ascii_lowercase();
    [ExtensionKind::Docker, ExtensionKind::ContainerTools]
        .into_iter()
        .find_map(|kind| {
            let rest = lower.strip_prefix(kind.folder_prefix())?;
            // A platform-specific build ends in `-<platform>`.
            let version = rest.split_once('-').map_or(rest, |(version, _)| version);
            let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
            match (parts.next()??, parts.next()??, parts.next()??, parts.next()) {
                (major, minor, patch, None) => Some((kind, (major, minor, patch))),
                _ => None,
            }
        })
}

/// The most of VS Code's `.obsolete` list rdock reads.
const OBSOLETE_MAX: u64 = 1 << 20;

/// The Docker extensions in these `extensions` folders: the newest version of each kind per
/// folder, leaving out versions VS Code marked obsolete (uninstalled, not yet deleted).
pub fn installed_extensions(dirs: &[PathBuf]) -> Vec<Extension> {
    let mut found: Vec<Extension> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        // Through the capped reader of regular files: a FIFO or a link to /dev/zero there must
        // not hang doctor (VS Code's own file is a few hundred bytes).
        let obsolete: serde_json::Map<String, serde_json::Value> =
            crate::sys::fsutil::read_optional(&dir.join(".obsolete"), OBSOLETE_MAX)
                .ok()
                .flatten()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if obsolete.contains_key(&name) || !entry.path().is_dir() {
                continue;
            }
            let Some((kind, version)) = parse_extension_folder(&name) else {
                continue;
            };
            match found.iter_mut().find(|e| e.kind == kind && &e.dir == dir) {
                Some(known) => known.version = known.version.max(version),
                None => found.push(Extension {
                    kind,
                    version,
                    dir: dir.clone(),
                }),
            }
        }
    }
    found.sort_by(|a, b| (a.kind, a.version, &a.dir).cmp(&(b.kind, b.version, &b.dir)));
    found
}

/// One line on whether the installed extensions read the setting at all.
pub fn extensions_summary(extensions: &[Extension]) -> String {
    // "Docker 1.29.0, Container Tools 2.0.1 ignore", "Docker 1.22.2 reads": the names and the verb.
    let group = |reads: bool, verb: &str| {
        let mut labels: Vec<String> = extensions
            .iter()
            .filter(|e| e.reads_refresh_interval() == reads)
            .map(Extension::label)
            .collect();
        labels.dedup();
        let ending = if labels.len() == 1 { "s" } else { "" };
        (!labels.is_empty()).then(|| format!("{} {verb}{ending}", labels.join(", ")))
    };
    match (group(true, "read"), group(false, "ignore")) {
        (None, None) => format!(
            "no Docker or Container Tools extension is installed; {KEY} is written for a Docker extension older than 1.23.0"
        ),
        (None, Some(ignore)) => format!(
            "{ignore} {KEY}: the Docker extension removed it in 1.23.0 (Nov 2022) and Container Tools refreshes on docker events; rdock writes it for older versions"
        ),
        (Some(read), None) => format!("{read} {KEY}"),
        (Some(read), Some(ignore)) => format!("{read} {KEY} ({ignore} it)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_folders_are_read_with_or_without_a_platform_suffix() {
        use ExtensionKind::*;
        assert_eq!(
            parse_extension_folder("ms-azuretools.vscode-docker-1.22.2"),
            Some((Docker, (1, 22, 2)))
        );
        assert_eq!(
            parse_extension_folder("ms-azuretools.vscode-containers-2.0.1-linux-x64"),
            Some((ContainerTools, (2, 0, 1)))
        );
        assert_eq!(
            parse_extension_folder("MS-AzureTools.vscode-docker-1.29.0-darwin-arm64"),
            Some((Docker, (1, 29, 0)))
        );
        for other in [
            "ms-azuretools.vscode-docker",
            "ms-azuretools.vscode-docker-1.2",
            "ms-azuretools.vscode-docker-compose-1.0.0",
            "ms-vscode-remote.remote-ssh-0.110.0",
        ] {
            assert_eq!(parse_extension_folder(other), None, "{other}");
        }
    }

    #[test]
    fn only_docker_before_1_23_reads_the_setting() {
        let ext = |kind, version| Extension {
            kind,
            version,
            dir: PathBuf::from("/x"),
        };
        assert!(ext(ExtensionKind::Docker, (1, 22, 9)).reads_refresh_interval());
        assert!(!ext(ExtensionKind::Docker, (1, 23, 0)).reads_refresh_interval());
        assert!(!ext(ExtensionKind::ContainerTools, (0, 0, 1)).reads_refresh_interval());

        let none = extensions_summary(&[]);
        assert!(
            none.starts_with("no Docker or Container Tools extension"),
            "{none}"
        );
        let ignored = extensions_summary(&[
            ext(ExtensionKind::Docker, (1, 29, 0)),
            ext(ExtensionKind::ContainerTools, (2, 0, 1)),
        ]);
        assert!(
            ignored.starts_with("Docker 1.29.0, Container Tools 2.0.1 ignore")
                && ignored.contains("1.23.0 (Nov 2022)")
                && ignored.contains("docker events"),
            "{ignored}"
        );
        let one = extensions_summary(&[ext(ExtensionKind::ContainerTools, (2, 0, 1))]);
        assert!(
            one.starts_with("Container Tools 2.0.1 ignores docker."),
            "{one}"
        );
        let mixed = extensions_summary(&[
            ext(ExtensionKind::Docker, (1, 22, 2)),
            ext(ExtensionKind::ContainerTools, (2, 0, 1)),
        ]);
        assert_eq!(
            mixed,
            "Docker 1.22.2 reads docker.explorerRefreshInterval (Container Tools 2.0.1 ignores it)"
        );
    }

    #[test]
    fn installed_extensions_keep_the_newest_and_skip_obsolete_ones() {
        let dir = tempfile::tempdir().unwrap();
        let ext = dir.path().join("extensions");
        for name in [
            "ms-azuretools.vscode-docker-1.22.0",
            "ms-azuretools.vscode-docker-1.22.2",
            "ms-azuretools.vscode-docker-1.29.0",
            "ms-azuretools.vscode-containers-2.0.1-linux-x64",
            "ms-python.python-2024.1.0",
        ] {
            std::fs::create_dir_all(ext.join(name)).unwrap();
        }
        std::fs::write(
            ext.join(".obsolete"),
            r#"{"ms-azuretools.vscode-docker-1.29.0":true}"#,
        )
        .unwrap();
        let found = installed_extensions(&[ext.clone(), dir.path().join("missing")]);
        let kinds: Vec<_> = found.iter().map(|e| (e.kind, e.version)).collect();
        assert_eq!(
            kinds,
            vec![
                (ExtensionKind::Docker, (1, 22, 2)),
                (ExtensionKind::ContainerTools, (2, 0, 1))
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_as_the_obsolete_list_is_passed_over_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("ms-azuretools.vscode-containers-2.0.1")).unwrap();
        let fifo = dir.path().join(".obsolete");
        let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) reads a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        let found = installed_extensions(&[dir.path().to_path_buf()]);
        assert_eq!(found.len(), 1);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
