//! The OS rdock runs on, as one value. Advice and fixes are decided from [`Platform`], passed in,
//! so every branch can be tested on Linux; only [`Platform::detect`] looks at the real machine.

use std::path::PathBuf;

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

    /// The fix when no ssh-agent answers.
    pub fn agent_fix(self) -> String {
        match self {
            Platform::Linux | Platform::Wsl => {
                "eval \"$(ssh-agent -s)\"  (to keep it across logins: systemctl --user enable --now ssh-agent, where your distribution ships that unit, and AddKeysToAgent yes in ~/.ssh/config)".into()
            }
            Platform::MacOs => "launchctl start com.openssh.ssh-agent, or eval \"$(ssh-agent -s)\"".into(),
            Platform::Windows => "sc config ssh-agent start=auto && net start ssh-agent  (from an elevated prompt)".into(),
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

    #[test]
    fn each_os_gets_its_own_agent_fix() {
        assert!(Platform::Linux.agent_fix().contains("ssh-agent -s"));
        assert!(Platform::Windows
            .agent_fix()
            .contains("sc config ssh-agent start=auto"));
        assert!(Platform::Windows
            .agent_fix()
            .contains("net start ssh-agent"));
        assert!(Platform::MacOs.install_hint("docker").contains("brew"));
    }
}
