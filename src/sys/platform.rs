//! The OS rdock runs on, as one value. Advice and fixes are decided from [`Platform`], passed in,
//! so every branch can be tested on Linux; only [`Platform::detect`] looks at the real machine.
//! What this module knows is the OS itself (detection, install hints, elevation, tasklist); the
//! ssh-agent on each OS (the Windows service, Pageant, the fix when none answers) is
//! `ssh::agent`'s.

use std::path::PathBuf;

use crate::sys::exec::Cmd;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Linux,
    MacOs,
    Windows,
    /// Linux under the Windows Subsystem for Linux.
    Wsl,
}

impl Platform {
    pub fn detect() -> Self {
        #[cfg(target_os = "windows")]
        {
            Platform::Windows
        }
        #[cfg(target_os = "macos")]
        {
            Platform::MacOs
        }
        #[cfg(not(any(target_os = "windows", target_os = "macos")))]
        {
            let version = std::fs::read_to_string("/proc/version").unwrap_or_default();
            Platform::from_proc_version(&version)
        }
    }

    /// Linux with "microsoft" in /proc/version is WSL.
    pub fn from_proc_version(text: &str) -> Self {
        if text.to_ascii_lowercase().contains("microsoft") {
            Platform::Wsl
        } else {
            Platform::Linux
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Platform::Linux => "Linux",
            Platform::MacOs => "macOS",
            Platform::Windows => "Windows",
            Platform::Wsl => "WSL",
        }
    }

    /// How to install a missing tool here.
    pub fn install_hint(self, tool: &str) -> String {
        let ssh_tool = matches!(tool, "ssh" | "ssh-keygen" | "ssh-add" | "ssh-keyscan");
        match (self, ssh_tool) {
            (Platform::Linux | Platform::Wsl, true) => {
                "sudo apt-get install openssh-client (Debian/Ubuntu) or sudo dnf install openssh-clients (Fedora)".into()
            }
            (Platform::Linux | Platform::Wsl, false) => {
                "sudo apt-get install docker.io (Debian/Ubuntu) or sudo dnf install docker-cli (Fedora); only the client is needed".into()
            }
            (Platform::MacOs, true) => "macOS ships OpenSSH in /usr/bin; restore it, or brew install openssh".into(),
            (Platform::MacOs, false) => "brew install docker (the CLI alone is enough)".into(),
            (Platform::Windows, true) => {
                "Add-WindowsCapability -Online -Name OpenSSH.Client~~~~0.0.1.0 (elevated PowerShell)".into()
            }
            (Platform::Windows, false) => "winget install Docker.DockerCLI, or install Docker Desktop".into(),
        }
    }

    /// Extra `ssh-add` options for adding a key: on macOS `--apple-use-keychain`, which stores the
    /// passphrase in the Keychain so that ssh can load the key again after a logout.
    pub fn ssh_add_options(self) -> &'static [&'static str] {
        match self {
            Platform::MacOs => &["--apple-use-keychain"],
            _ => &[],
        }
    }

    /// What to say when the agent answers but holds no key.
    pub fn empty_agent_note(self) -> Option<&'static str> {
        match self {
            Platform::Wsl => Some(
                "under WSL, the Windows ssh-agent and this Linux agent are separate: a key loaded on one side is not seen by the other, so ssh-add it here",
            ),
            _ => None,
        }
    }

    /// Does this ssh share connections (ControlMaster)? Windows OpenSSH does not: never write
    /// multiplexing options there.
    pub fn supports_multiplexing(self) -> bool {
        self != Platform::Windows
    }

    /// The ssh_config directives that make the agent work across logins, for rdock's agent block
    /// in ~/.ssh/config. `pageant`: Pageant is in use (Windows), and OpenSSH reaches it through
    /// the file `pageant --openssh-config` writes.
    pub fn agent_config(self, pageant: bool) -> Vec<(&'static str, &'static str)> {
        match self {
            Platform::Linux | Platform::Wsl => vec![("AddKeysToAgent", "yes")],
            Platform::MacOs => vec![("AddKeysToAgent", "yes"), ("UseKeychain", "yes")],
            Platform::Windows if pageant => vec![("Include", PAGEANT_CONF)],
            // The ssh-agent service keeps its keys across logins by itself.
            Platform::Windows => Vec::new(),
        }
    }

    /// Options in [`Platform::agent_config`] that only Apple's ssh knows: the block starts with
    /// `IgnoreUnknown` for them, so a config shared with Linux still parses there.
    pub fn apple_only_options(self) -> &'static [&'static str] {
        match self {
            Platform::MacOs => &["UseKeychain"],
            _ => &[],
        }
    }

    /// Why [`Platform::agent_config`] matters here: the warning when it is not in effect, or, when
    /// there is nothing to add, why that is fine.
    pub fn agent_config_reason(self, pageant: bool) -> &'static str {
        match self {
            Platform::Linux | Platform::Wsl => {
                "without it, the agent is empty after each login until you ssh-add again (with it, your first ssh adds the key)"
            }
            Platform::MacOs => {
                "without them, the agent forgets your key at logout and ssh does not load it again from the Keychain"
            }
            Platform::Windows if pageant => {
                "Pageant is in use, but OpenSSH (which the docker CLI runs) does not reach it until ~/.ssh/config includes pageant.conf"
            }
            Platform::Windows => "nothing to add to ~/.ssh/config: the Windows ssh-agent service keeps its keys across logins",
        }
    }

    /// The user data folder under which VS Code-like editors keep `<Editor>/User/settings.json`.
    pub fn editor_config_dir(
        self,
        env: &dyn Fn(&str) -> Option<String>,
        home: &std::path::Path,
    ) -> Option<PathBuf> {
        match self {
            Platform::Linux | Platform::Wsl => Some(
                env("XDG_CONFIG_HOME")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
                    .unwrap_or_else(|| home.join(".config")),
            ),
            Platform::MacOs => Some(home.join("Library").join("Application Support")),
            Platform::Windows => env("APPDATA").filter(|v| !v.is_empty()).map(PathBuf::from),
        }
    }
}

// Windows

/// The file `pageant --openssh-config` writes (an `IdentityAgent` line naming Pageant's pipe),
/// relative to ~/.ssh as `Include` reads it.
pub const PAGEANT_CONF: &str = "pageant.conf";

/// `net session`: exit 0 only in an elevated (administrator) prompt. Read-only.
pub fn elevation_query() -> Cmd {
    Cmd::new("net").arg("session")
}

/// Does `tasklist /FO CSV /NH` output list this image? (`"pageant.exe","4242",…`; with no match
/// tasklist prints an INFO line, in the language of the system.)
pub fn tasklist_has(text: &str, image: &str) -> bool {
    text.lines().any(|line| {
        let first = line
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .trim_matches('"');
        first.eq_ignore_ascii_case(image)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn wsl_is_told_apart_by_proc_version() {
        assert_eq!(
            Platform::from_proc_version("Linux version 5.15.90.1-microsoft-standard-WSL2"),
            Platform::Wsl
        );
        assert_eq!(
            Platform::from_proc_version(
                "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)"
            ),
            Platform::Linux
        );
    }

    #[test]
    fn editor_config_dir_follows_each_os() {
        let home = Path::new("/home/u");
        let none = |_: &str| None;
        let xdg = |k: &str| (k == "XDG_CONFIG_HOME").then(|| "/x".to_string());
        let appdata = |k: &str| (k == "APPDATA").then(|| r"C:\Users\u\AppData\Roaming".to_string());
        assert_eq!(
            Platform::Linux.editor_config_dir(&none, home),
            Some(PathBuf::from("/home/u/.config"))
        );
        assert_eq!(
            Platform::Linux.editor_config_dir(&xdg, home),
            Some(PathBuf::from("/x"))
        );
        assert_eq!(
            Platform::MacOs.editor_config_dir(&none, home),
            Some(PathBuf::from("/home/u/Library/Application Support"))
        );
        assert_eq!(
            Platform::Windows.editor_config_dir(&appdata, home),
            Some(PathBuf::from(r"C:\Users\u\AppData\Roaming"))
        );
        assert_eq!(Platform::Windows.editor_config_dir(&none, home), None);
    }
}
