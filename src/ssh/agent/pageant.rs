//! Pageant (PuTTY's agent, Windows): whether it is in use, where OpenSSH finds its pipe, and how
//! to make OpenSSH (the docker CLI) and ssh2-based clients (dockerode) both use it.

use crate::ssh::config as ssh_config;
use crate::sys::exec::{Cmd, Exec};
pub use crate::sys::platform::PAGEANT_CONF;
use crate::sys::platform::{tasklist_has, Platform};

pub const PAGEANT_EXE: &str = "pageant.exe";

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

/// Is Pageant running? (`tasklist`, Windows only; false when tasklist cannot be run.)
pub fn pageant_running(exec: &Exec) -> bool {
    exec.run(&pageant_query())
        .is_ok_and(|out| out.success() && tasklist_has(&out.stdout, PAGEANT_EXE))
}

/// Pageant's pipe, as ssh will find it: the `IdentityAgent` of `conf` (what
/// `pageant --openssh-config` wrote), when `config` (~/.ssh/config) includes pageant.conf before
/// any Host line. A name written with escaped backslashes (`\\\\.\\pipe\\…`, which newer
/// OpenSSH unescapes) is unescaped the same way.
pub fn pageant_pipe(config: &str, conf: &str) -> Option<String> {
    if !ssh_config::includes(config, PAGEANT_CONF) {
        return None;
    }
    let (_, args) = ssh_config::global_value(conf, "IdentityAgent")?;
    let pipe = args.into_iter().next()?;
    Some(if pipe.starts_with(r"\\\\") {
        pipe.replace(r"\\", "\\")
    } else {
        pipe
    })
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
