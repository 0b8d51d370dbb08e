//! The OS rdock runs on, as one value. Advice and fixes are decided from [`Platform`], passed in,
//! so every branch can be tested on Linux; only [`Platform::detect`] looks at the real machine.

use std::path::{Path, PathBuf};

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

    /// The fix when no ssh-agent answers. `unit` is the systemd user unit this Linux ships for
    /// ssh-agent, if any (see [`systemd_agent_unit`]).
    pub fn agent_fix(self, unit: Option<&Path>) -> String {
        match self {
            Platform::Linux | Platform::Wsl => {
                let keep = match unit {
                    Some(unit) => format!(
                        "systemctl --user enable --now ssh-agent (your distribution ships {}; `systemctl --user cat ssh-agent` names the socket to put in SSH_AUTH_SOCK)",
                        unit.display()
                    ),
                    None => "start the agent from your shell profile or session".into(),
                };
                format!(
                    "eval \"$(ssh-agent -s)\"  (an agent for this shell)\nto keep one across logins: {keep}, and AddKeysToAgent yes in ~/.ssh/config (rdock setup writes it)"
                )
            }
            Platform::MacOs => {
                "launchctl start com.openssh.ssh-agent (macOS starts it at login and sets SSH_AUTH_SOCK), or eval \"$(ssh-agent -s)\" for this shell".into()
            }
            Platform::Windows => service_advice(&agent_service_cmds(&ServiceState::UNUSABLE)),
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
                "without AddKeysToAgent yes, the agent is empty after each login until you ssh-add again (with it, your first ssh adds the key)"
            }
            Platform::MacOs => {
                "without AddKeysToAgent yes and UseKeychain yes, the agent forgets your key at logout and ssh does not load it again from the Keychain"
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

/// Where distributions ship a systemd user unit for ssh-agent.
pub const SYSTEMD_AGENT_UNITS: [&str; 3] = [
    "/usr/lib/systemd/user/ssh-agent.service",
    "/lib/systemd/user/ssh-agent.service",
    "/etc/systemd/user/ssh-agent.service",
];

/// The systemd user unit for ssh-agent this Linux ships, if any. `exists` is the file test
/// (`Path::exists` on the real machine).
pub fn systemd_agent_unit(exists: &dyn Fn(&Path) -> bool) -> Option<PathBuf> {
    SYSTEMD_AGENT_UNITS
        .iter()
        .map(PathBuf::from)
        .find(|p| exists(p))
}

// Windows: the ssh-agent service of Win32-OpenSSH, and Pageant.

/// The Windows service that is the agent, on the named pipe [`WINDOWS_AGENT_PIPE`].
pub const AGENT_SERVICE: &str = "ssh-agent";
/// Where ssh and ssh-add find the service when SSH_AUTH_SOCK is unset (which is normal there).
pub const WINDOWS_AGENT_PIPE: &str = r"\\.\pipe\openssh-ssh-agent";
/// The file `pageant --openssh-config` writes (an `IdentityAgent` line naming Pageant's pipe),
/// relative to ~/.ssh as `Include` reads it.
pub const PAGEANT_CONF: &str = "pageant.conf";
pub const PAGEANT_EXE: &str = "pageant.exe";

/// How a Windows service starts (`sc qc`: START_TYPE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartType {
    /// 2 AUTO_START (also "AUTO_START  (DELAYED)")
    Auto,
    /// 3 DEMAND_START: only when something starts it
    Demand,
    /// 4 DISABLED
    Disabled,
    /// 0 BOOT_START, 1 SYSTEM_START (drivers)
    Other(u32),
}

/// Whether a Windows service runs (`sc query`: STATE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// 1 STOPPED
    Stopped,
    /// 2 START_PENDING
    Starting,
    /// 4 RUNNING
    Running,
    /// 3 STOP_PENDING, 5 CONTINUE_PENDING, 6 PAUSE_PENDING, 7 PAUSED
    Other(u32),
}

/// The ssh-agent service as `sc qc` and `sc query` describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceState {
    pub start: StartType,
    pub state: RunState,
}

impl ServiceState {
    /// A service that is neither enabled nor running: every fix applies.
    pub const UNUSABLE: ServiceState = ServiceState {
        start: StartType::Disabled,
        state: RunState::Stopped,
    };

    /// `sc qc` and `sc query` output, or None when either names no such field (the service is not
    /// installed: sc prints "OpenService FAILED 1060" and exits 1060).
    pub fn parse(qc: &str, query: &str) -> Option<ServiceState> {
        Some(ServiceState {
            start: parse_sc_qc(qc)?,
            state: parse_sc_query(query)?,
        })
    }

    pub fn describe(&self) -> String {
        let start = match self.start {
            StartType::Auto => "starts automatically".to_string(),
            StartType::Demand => "starts only on demand".to_string(),
            StartType::Disabled => "is disabled".to_string(),
            StartType::Other(n) => format!("has start type {n}"),
        };
        let state = match self.state {
            RunState::Stopped => "stopped".to_string(),
            RunState::Starting => "starting".to_string(),
            RunState::Running => "running".to_string(),
            RunState::Other(n) => format!("in state {n}"),
        };
        format!("the {AGENT_SERVICE} service {start} and is {state}")
    }
}

/// The number after `KEY :` on the line that starts with KEY (sc prints `KEY   : 4  WORD`; the
/// words are English on every language of Windows, the numbers are what counts).
fn sc_field(text: &str, key: &str) -> Option<u32> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        if k.trim() != key {
            return None;
        }
        v.split_whitespace().next()?.parse().ok()
    })
}

/// START_TYPE from `sc qc ssh-agent`.
pub fn parse_sc_qc(text: &str) -> Option<StartType> {
    Some(match sc_field(text, "START_TYPE")? {
        2 => StartType::Auto,
        3 => StartType::Demand,
        4 => StartType::Disabled,
        n => StartType::Other(n),
    })
}

/// STATE from `sc query ssh-agent`.
pub fn parse_sc_query(text: &str) -> Option<RunState> {
    Some(match sc_field(text, "STATE")? {
        1 => RunState::Stopped,
        2 => RunState::Starting,
        4 => RunState::Running,
        n => RunState::Other(n),
    })
}

/// `sc.exe qc ssh-agent` (read-only). `sc.exe`, not `sc`, because `sc` is Set-Content in
/// PowerShell.
pub fn sc_qc() -> Cmd {
    Cmd::new("sc.exe").args(["qc", AGENT_SERVICE])
}

/// `sc.exe query ssh-agent` (read-only).
pub fn sc_query() -> Cmd {
    Cmd::new("sc.exe").args(["query", AGENT_SERVICE])
}

/// `net session`: exit 0 only in an elevated (administrator) prompt. Read-only.
pub fn elevation_query() -> Cmd {
    Cmd::new("net").arg("session")
}

/// `tasklist /FI "IMAGENAME eq pageant.exe" /FO CSV /NH`. Read-only.
pub fn pageant_query() -> Cmd {
    Cmd::new("tasklist").args([
        "/FI",
        &format!("IMAGENAME eq {PAGEANT_EXE}"),
        "/FO",
        "CSV",
        "/NH",
    ])
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

/// The commands that make the service start at boot and run now, only those this state needs:
/// `sc.exe config ssh-agent start= auto` (sc wants the space after `start=`) and
/// `net start ssh-agent`. Both change the system: they need an elevated prompt.
pub fn agent_service_cmds(state: &ServiceState) -> Vec<Cmd> {
    let mut cmds = Vec::new();
    if state.start != StartType::Auto {
        cmds.push(
            Cmd::new("sc.exe")
                .args(["config", AGENT_SERVICE, "start=", "auto"])
                .changes(),
        );
    }
    if !matches!(state.state, RunState::Running | RunState::Starting) {
        cmds.push(Cmd::new("net").args(["start", AGENT_SERVICE]).changes());
    }
    cmds
}

/// The fix text for the service: the commands, one a line, to run from an elevated prompt.
pub fn service_advice(cmds: &[Cmd]) -> String {
    let mut text = String::from("from an elevated prompt (Run as administrator):");
    for cmd in cmds {
        text.push_str("\n  ");
        text.push_str(&cmd.display());
    }
    text
}

/// What setup does about a service that is not usable: run the commands (elevated), or, when
/// this prompt is not elevated, the advice to print before it stops.
pub fn service_plan(state: &ServiceState, elevated: bool) -> Result<Vec<Cmd>, NotElevated> {
    let cmds = agent_service_cmds(state);
    if elevated {
        Ok(cmds)
    } else {
        Err(NotElevated {
            service: state.describe(),
            advice: service_advice(&cmds),
        })
    }
}

/// The service needs a change only an elevated prompt can make: what is wrong with it, and the
/// commands to run from one ([`service_advice`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{service}; this prompt is not elevated, so rdock cannot change the service. Run, {advice}\nthen run rdock setup again")]
pub struct NotElevated {
    pub service: String,
    pub advice: String,
}

/// How to make OpenSSH (the docker CLI) and ssh2-based clients (dockerode) both use Pageant.
pub fn pageant_advice() -> String {
    format!(
        "SSH_AUTH_SOCK=pageant is understood only by ssh2-based clients (dockerode); the docker CLI runs OpenSSH, which needs Pageant's pipe:\n\
         1. start Pageant 0.75 or later as: pageant.exe --openssh-config %USERPROFILE%\\.ssh\\{PAGEANT_CONF} (in its Startup shortcut, so it writes the file at every login)\n\
         2. include that file from ~/.ssh/config, before any Host line: Include {PAGEANT_CONF} (rdock setup writes it)\n\
         OpenSSH then uses Pageant whatever SSH_AUTH_SOCK says, and ssh2-based clients keep SSH_AUTH_SOCK=pageant"
    )
}

/// Pageant is in use: it runs, or SSH_AUTH_SOCK names it. Only Windows has this Pageant.
pub fn pageant_in_use(p: Platform, auth_sock: Option<&str>, running: bool) -> bool {
    p == Platform::Windows && (running || auth_sock == Some("pageant"))
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
