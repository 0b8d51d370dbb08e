//! The Windows ssh-agent service of Win32-OpenSSH: how to ask it (`sc.exe qc`, `sc.exe query`),
//! what it says, and the commands (and the advice) that enable and start it.

use crate::sys::exec::{Cmd, Exec};

/// The Windows service that is the agent, on the named pipe [`WINDOWS_AGENT_PIPE`].
pub const AGENT_SERVICE: &str = "ssh-agent";
/// Where ssh and ssh-add find the service when SSH_AUTH_SOCK is unset (which is normal there).
pub const WINDOWS_AGENT_PIPE: &str = r"\\.\pipe\openssh-ssh-agent";

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

/// `sc qc` and `sc query` for the ssh-agent service; None when it is not installed.
pub fn read_service(exec: &Exec) -> Option<ServiceState> {
    let qc = exec.run(&sc_qc()).ok()?;
    let query = exec.run(&sc_query()).ok()?;
    ServiceState::parse(&qc.stdout, &query.stdout)
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

/// This prompt is not elevated, so rdock cannot change the service: the state it is in, and the
/// commands to run from an elevated prompt instead.
#[derive(Clone, Debug, thiserror::Error)]
#[error(
    "{}; this prompt is not elevated, so rdock cannot change the service. Run, {}\nthen run rdock setup again",
    .state.describe(),
    service_advice(.cmds)
)]
pub struct NotElevated {
    pub state: ServiceState,
    pub cmds: Vec<Cmd>,
}

/// What setup does about a service that is not usable: run the commands (elevated), or, when
/// this prompt is not elevated, the advice to print before it stops.
pub fn service_plan(state: &ServiceState, elevated: bool) -> Result<Vec<Cmd>, NotElevated> {
    let cmds = agent_service_cmds(state);
    if elevated {
        Ok(cmds)
    } else {
        Err(NotElevated {
            state: *state,
            cmds,
        })
    }
}
