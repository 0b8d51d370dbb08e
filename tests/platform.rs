//! Windows, macOS, WSL and Linux: every branch of the per-OS advice and fixes, fed made-up
//! inputs (sc, tasklist and /proc/version outputs, SSH_AUTH_SOCK values, files), so that all of it
//! runs on Linux; then, end to end, the agent block `rdock setup` writes on Linux.

use std::path::Path;

use rdock::ssh::agent::{
    self, AgentFacts, AgentState, AgentTarget, RunState, ServiceState, StartType,
};
use rdock::ssh::config::{self as ssh_config, AGENT_BLOCK};
use rdock::steps::agent as agent_step;
use rdock::steps::ssh_config::{self as config_step, ConfigFacts};
use rdock::steps::Status;
use rdock::sys::exec::Effect;
use rdock::sys::platform::{self, Platform};

// `sc qc ssh-agent` and `sc query ssh-agent` as Windows prints them (CRLF, aligned columns).
pub(crate) const QC_DISABLED: &str = "[SC] QueryServiceConfig SUCCESS\r\n\r\nSERVICE_NAME: ssh-agent\r\n        TYPE               : 10  WIN32_OWN_PROCESS \r\n        START_TYPE         : 4   DISABLED\r\n        ERROR_CONTROL      : 1   NORMAL\r\n        BINARY_PATH_NAME   : C:\\Windows\\System32\\OpenSSH\\ssh-agent.exe\r\n        LOAD_ORDER_GROUP   : \r\n        TAG                : 0\r\n        DISPLAY_NAME       : OpenSSH Authentication Agent\r\n        DEPENDENCIES       : \r\n        SERVICE_START_NAME : LocalSystem\r\n";
pub(crate) const QUERY_STOPPED: &str = "\r\nSERVICE_NAME: ssh-agent \r\n        TYPE               : 10  WIN32_OWN_PROCESS  \r\n        STATE              : 1  STOPPED \r\n        WIN32_EXIT_CODE    : 1077  (0x435)\r\n        SERVICE_EXIT_CODE  : 0  (0x0)\r\n        CHECKPOINT         : 0x0\r\n        WAIT_HINT          : 0x0\r\n";
pub(crate) const QUERY_RUNNING: &str = "\r\nSERVICE_NAME: ssh-agent \r\n        TYPE               : 10  WIN32_OWN_PROCESS  \r\n        STATE              : 4  RUNNING \r\n                                (STOPPABLE, NOT_PAUSABLE, IGNORES_SHUTDOWN)\r\n        WIN32_EXIT_CODE    : 0  (0x0)\r\n        SERVICE_EXIT_CODE  : 0  (0x0)\r\n        CHECKPOINT         : 0x0\r\n        WAIT_HINT          : 0x0\r\n";
pub(crate) const SC_NOT_INSTALLED: &str =
    "[SC] OpenService FAILED 1060:\r\n\r\nThe specified service does not exist as an installed service.\r\n\r\n";

pub(crate) fn qc(start: &str) -> String {
    QC_DISABLED.replace("4   DISABLED", start)
}

fn service(start: StartType, state: RunState) -> ServiceState {
    ServiceState { start, state }
}

fn displays(cmds: &[rdock::sys::exec::Cmd]) -> Vec<String> {
    cmds.iter().map(|c| c.display()).collect()
}

// Detection

#[test]
fn proc_version_tells_wsl_1_and_2_from_linux() {
    for (text, expected) in [
        ("Linux version 5.15.153.1-microsoft-standard-WSL2 (root@941d701f84f1) (gcc (GCC) 12.2.0)", Platform::Wsl),
        ("Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com) (gcc version 5.4.0 (GCC) )", Platform::Wsl),
        ("Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) 12.2.0)", Platform::Linux),
        ("", Platform::Linux),
    ] {
        assert_eq!(Platform::from_proc_version(text), expected, "{text}");
    }
}

#[test]
fn sc_qc_start_types_are_read_by_their_numbers() {
    assert_eq!(agent::parse_sc_qc(QC_DISABLED), Some(StartType::Disabled));
    assert_eq!(
        agent::parse_sc_qc(&qc("3   DEMAND_START")),
        Some(StartType::Demand)
    );
    assert_eq!(
        agent::parse_sc_qc(&qc("2   AUTO_START")),
        Some(StartType::Auto)
    );
    assert_eq!(
        agent::parse_sc_qc(&qc("2   AUTO_START  (DELAYED)")),
        Some(StartType::Auto)
    );
    assert_eq!(
        agent::parse_sc_qc(&qc("1   SYSTEM_START")),
        Some(StartType::Other(1))
    );
    assert_eq!(agent::parse_sc_qc(SC_NOT_INSTALLED), None);
    assert_eq!(agent::parse_sc_qc(""), None);
}

#[test]
fn sc_query_states_are_read_by_their_numbers() {
    assert_eq!(
        agent::parse_sc_query(QUERY_STOPPED),
        Some(RunState::Stopped)
    );
    assert_eq!(
        agent::parse_sc_query(QUERY_RUNNING),
        Some(RunState::Running)
    );
    let pending = QUERY_STOPPED.replace("1  STOPPED", "2  START_PENDING");
    assert_eq!(agent::parse_sc_query(&pending), Some(RunState::Starting));
    let paused = QUERY_STOPPED.replace("1  STOPPED", "7  PAUSED");
    assert_eq!(agent::parse_sc_query(&paused), Some(RunState::Other(7)));
    assert_eq!(agent::parse_sc_query(SC_NOT_INSTALLED), None);
    assert_eq!(
        ServiceState::parse(QC_DISABLED, QUERY_STOPPED),
        Some(service(StartType::Disabled, RunState::Stopped))
    );
    assert_eq!(
        ServiceState::parse(SC_NOT_INSTALLED, SC_NOT_INSTALLED),
        None
    );
}

#[test]
fn tasklist_finds_pageant_in_csv_and_not_in_the_no_match_line() {
    let running = "\"pageant.exe\",\"7424\",\"Console\",\"1\",\"14,236 K\"\r\n";
    assert!(platform::tasklist_has(running, "pageant.exe"));
    assert!(platform::tasklist_has(
        &running.to_uppercase(),
        "pageant.exe"
    ));
    for none in [
        "INFO: No tasks are running which match the specified criteria.\r\n",
        "INFORMATION: Es werden keine Aufgaben mit den angegebenen Kriterien ausgeführt.\r\n",
        "\"pageant-helper.exe\",\"8000\",\"Console\",\"1\",\"1,000 K\"\r\n",
        "",
    ] {
        assert!(!platform::tasklist_has(none, "pageant.exe"), "{none}");
    }
}

#[test]
fn pageant_is_in_use_when_it_runs_or_ssh_auth_sock_names_it_and_only_on_windows() {
    assert!(agent::pageant_in_use(
        Platform::Windows,
        Some("pageant"),
        false
    ));
    assert!(agent::pageant_in_use(Platform::Windows, None, true));
    assert!(!agent::pageant_in_use(Platform::Windows, None, false));
    assert!(!agent::pageant_in_use(
        Platform::Windows,
        Some(agent::WINDOWS_AGENT_PIPE),
        false
    ));
    assert!(!agent::pageant_in_use(
        Platform::Linux,
        Some("pageant"),
        true
    ));
}

#[test]
fn the_systemd_unit_is_named_only_where_the_distribution_ships_one() {
    let debian = |p: &Path| p == Path::new("/usr/lib/systemd/user/ssh-agent.service");
    assert_eq!(
        agent::systemd_agent_unit(&debian).as_deref(),
        Some(Path::new("/usr/lib/systemd/user/ssh-agent.service"))
    );
    let etc = |p: &Path| p.starts_with("/etc");
    assert_eq!(
        agent::systemd_agent_unit(&etc).as_deref(),
        Some(Path::new("/etc/systemd/user/ssh-agent.service"))
    );
    assert_eq!(agent::systemd_agent_unit(&|_| false), None);
}

// The commands rdock runs (or would run), exactly

#[test]
fn read_only_queries_are_the_documented_commands() {
    assert_eq!(agent::sc_qc().display(), "sc.exe qc ssh-agent");
    assert_eq!(agent::sc_query().display(), "sc.exe query ssh-agent");
    assert_eq!(platform::elevation_query().display(), "net session");
    assert_eq!(
        agent::pageant_query().display(),
        "tasklist /FI 'IMAGENAME eq pageant.exe' /FO CSV /NH"
    );
    for cmd in [
        agent::sc_qc(),
        agent::sc_query(),
        platform::elevation_query(),
        agent::pageant_query(),
    ] {
        assert_eq!(cmd.effect(), Effect::ReadOnly, "{}", cmd.display());
    }
}

#[test]
fn the_service_fix_runs_only_what_the_state_needs() {
    let both = agent::agent_service_cmds(&service(StartType::Disabled, RunState::Stopped));
    assert_eq!(
        displays(&both),
        ["sc.exe config ssh-agent start= auto", "net start ssh-agent"]
    );
    assert!(both.iter().all(|c| c.effect() == Effect::Changes));
    assert_eq!(
        displays(&agent::agent_service_cmds(&service(
            StartType::Demand,
            RunState::Stopped
        ))),
        ["sc.exe config ssh-agent start= auto", "net start ssh-agent"]
    );
    assert_eq!(
        displays(&agent::agent_service_cmds(&service(
            StartType::Auto,
            RunState::Stopped
        ))),
        ["net start ssh-agent"]
    );
    assert_eq!(
        displays(&agent::agent_service_cmds(&service(
            StartType::Disabled,
            RunState::Running
        ))),
        ["sc.exe config ssh-agent start= auto"]
    );
    assert!(agent::agent_service_cmds(&service(StartType::Auto, RunState::Running)).is_empty());
    assert!(agent::agent_service_cmds(&service(StartType::Auto, RunState::Starting)).is_empty());
}

#[test]
fn setup_runs_the_service_fix_only_when_elevated_and_else_prints_it() {
    let disabled = service(StartType::Disabled, RunState::Stopped);
    let cmds = agent::service_plan(&disabled, true).unwrap();
    assert_eq!(
        displays(&cmds),
        ["sc.exe config ssh-agent start= auto", "net start ssh-agent"]
    );
    let advice = agent::service_plan(&disabled, false)
        .unwrap_err()
        .to_string();
    assert_eq!(
        advice,
        "the ssh-agent service is disabled and is stopped; this prompt is not elevated, so rdock cannot change the service. Run, from an elevated prompt (Run as administrator):\n  sc.exe config ssh-agent start= auto\n  net start ssh-agent\nthen run rdock setup again"
    );
}

// Advice, per OS

#[test]
fn each_os_gets_its_own_agent_fix() {
    let unit = Path::new("/usr/lib/systemd/user/ssh-agent.service");
    let linux = agent::agent_fix(Platform::Linux, Some(unit));
    assert!(
        linux.starts_with("start one for this shell:\n  eval \"$(ssh-agent -s)\"\n"),
        "{linux}"
    );
    assert!(
        linux.contains("(your distribution ships /usr/lib/systemd/user/ssh-agent.service")
            && linux.ends_with("\n  systemctl --user enable --now ssh-agent"),
        "{linux}"
    );
    // AddKeysToAgent is the ssh-config check's to say.
    assert!(!linux.contains("AddKeysToAgent"), "{linux}");
    let bare = agent::agent_fix(Platform::Linux, None);
    assert!(
        bare.starts_with("start one for this shell:\n  eval"),
        "{bare}"
    );
    assert!(!bare.contains("systemctl"), "{bare}");
    assert_eq!(agent::agent_fix(Platform::Wsl, None), bare);
    assert!(agent::agent_fix(Platform::MacOs, None)
        .starts_with("launchctl start com.openssh.ssh-agent"));
    assert_eq!(
        agent::agent_fix(Platform::Windows, None),
        "from an elevated prompt (Run as administrator):\n  sc.exe config ssh-agent start= auto\n  net start ssh-agent"
    );
}

#[test]
fn per_os_agent_settings_and_capabilities() {
    assert_eq!(Platform::MacOs.ssh_add_options(), ["--apple-use-keychain"]);
    for p in [Platform::Linux, Platform::Wsl, Platform::Windows] {
        assert!(p.ssh_add_options().is_empty(), "{p:?}");
        assert!(p.apple_only_options().is_empty(), "{p:?}");
    }
    assert_eq!(Platform::MacOs.apple_only_options(), ["UseKeychain"]);
    assert_eq!(
        Platform::MacOs.agent_config(false),
        [("AddKeysToAgent", "yes"), ("UseKeychain", "yes")]
    );
    assert_eq!(
        Platform::Linux.agent_config(false),
        [("AddKeysToAgent", "yes")]
    );
    assert_eq!(Platform::Windows.agent_config(false), []);
    assert_eq!(
        Platform::Windows.agent_config(true),
        [("Include", "pageant.conf")]
    );
    assert!(!Platform::Windows.supports_multiplexing());
    assert!(Platform::Linux.supports_multiplexing() && Platform::MacOs.supports_multiplexing());
    assert!(Platform::Wsl
        .empty_agent_note()
        .unwrap()
        .contains("separate"));
    assert_eq!(Platform::Linux.empty_agent_note(), None);
    assert_eq!(Platform::Windows.empty_agent_note(), None);
}

#[test]
fn the_identity_fix_uses_the_keychain_on_macos() {
    let key = Path::new("/Users/me/.ssh/id_ed25519");
    let mac = agent::add_key_cmd(Platform::MacOs, &AgentTarget::Env, key);
    assert_eq!(
        mac.display(),
        "ssh-add --apple-use-keychain -- /Users/me/.ssh/id_ed25519"
    );
    assert_eq!(mac.effect(), Effect::Changes);
    assert_eq!(
        agent::add_key_cmd(Platform::Linux, &AgentTarget::Env, key).display(),
        "ssh-add -- /Users/me/.ssh/id_ed25519"
    );
    let f = agent_step::not_held(
        Platform::MacOs,
        &AgentTarget::Env,
        key,
        &key.display().to_string(),
        2,
    );
    assert_eq!(f.status, Status::Fail);
    assert!(f.fixable);
    assert_eq!(
        f.fix.as_deref(),
        Some("ssh-add --apple-use-keychain -- /Users/me/.ssh/id_ed25519")
    );
    // A key path that looks like an option is passed after `--`.
    assert_eq!(
        agent::add_key_cmd(Platform::Linux, &AgentTarget::Env, Path::new("-D")).display(),
        "ssh-add -- -D"
    );
    let pipe = AgentTarget::Pageant(r"\\.\pipe\pageant.me.abc".into());
    let f = agent_step::not_held(Platform::Windows, &pipe, key, &key.display().to_string(), 0);
    assert!(f
        .fix
        .unwrap()
        .contains(r"SSH_AUTH_SOCK=\\.\pipe\pageant.me.abc"));
}

#[test]
fn an_empty_agent_under_wsl_says_the_two_agents_are_separate() {
    let key = Path::new("/home/me/.ssh/id_ed25519");
    let f = agent_step::not_held(
        Platform::Wsl,
        &AgentTarget::Env,
        key,
        &key.display().to_string(),
        0,
    );
    assert!(
        f.details
            .iter()
            .any(|d| d.contains("the Windows ssh-agent and this Linux agent are separate")),
        "{f:?}"
    );
    // Not when the agent holds other keys, and not on plain Linux.
    assert!(agent_step::not_held(
        Platform::Wsl,
        &AgentTarget::Env,
        key,
        &key.display().to_string(),
        1
    )
    .details
    .is_empty());
    assert!(agent_step::not_held(
        Platform::Linux,
        &AgentTarget::Env,
        key,
        &key.display().to_string(),
        0
    )
    .details
    .is_empty());
    let facts = facts(Platform::Wsl, Some("/tmp/ssh-x/agent.1"), None);
    let ok = agent_step::judge(&facts, &AgentState::Answers(0), None, None);
    assert_eq!(ok.status, Status::Ok);
    assert!(ok.details[0].contains("separate"), "{ok:?}");
}

// The agent check, per OS

fn facts(platform: Platform, sock: Option<&str>, pipe: Option<&str>) -> AgentFacts {
    AgentFacts {
        platform,
        auth_sock: sock.map(str::to_string),
        pageant_pipe: pipe.map(str::to_string),
        identity_agent: None,
    }
}

#[test]
fn which_agent_rdock_asks() {
    assert_eq!(
        facts(Platform::Linux, None, None).target(),
        AgentTarget::NoSocket
    );
    assert_eq!(
        facts(Platform::MacOs, Some("/x"), None).target(),
        AgentTarget::Env
    );
    // On Windows an unset SSH_AUTH_SOCK is normal: the service's pipe.
    assert_eq!(
        facts(Platform::Windows, None, None).target(),
        AgentTarget::Env
    );
    assert_eq!(
        facts(Platform::Windows, Some("pageant"), None).target(),
        AgentTarget::PageantName
    );
    let pipe = r"\\.\pipe\pageant.me.abc";
    assert_eq!(
        facts(Platform::Windows, Some("pageant"), Some(pipe)).target(),
        AgentTarget::Pageant(pipe.into())
    );
    assert_eq!(
        facts(Platform::Windows, None, Some(pipe)).target(),
        AgentTarget::Pageant(pipe.into())
    );
    // Only Windows gives "pageant" a meaning.
    assert_eq!(
        facts(Platform::Linux, Some("pageant"), None).target(),
        AgentTarget::Env
    );
    // ssh-add asks Pageant's pipe through SSH_AUTH_SOCK.
    assert_eq!(
        agent::ssh_add(&AgentTarget::Pageant(pipe.into()))
            .arg("-l")
            .display(),
        "ssh-add -l"
    );
}

#[test]
fn pageants_pipe_counts_only_when_the_config_includes_its_file() {
    let conf = "IdentityAgent \"\\\\.\\pipe\\pageant.me.0123abcd\"\n";
    let included = "Include pageant.conf\nHost *\n  User me\n";
    assert_eq!(
        agent::pageant_pipe(included, conf).as_deref(),
        Some(r"\\.\pipe\pageant.me.0123abcd")
    );
    let escaped = "IdentityAgent \"\\\\\\\\.\\\\pipe\\\\pageant.me.0123abcd\"\n";
    assert_eq!(
        agent::pageant_pipe(included, escaped).as_deref(),
        Some(r"\\.\pipe\pageant.me.0123abcd")
    );
    let slashes = "IdentityAgent \"//./pipe/pageant.me.0123abcd\"\n";
    assert_eq!(
        agent::pageant_pipe("Include C:\\Users\\me\\.ssh\\pageant.conf\n", slashes).as_deref(),
        Some("//./pipe/pageant.me.0123abcd")
    );
    assert_eq!(agent::pageant_pipe("", conf), None);
    // An Include under a Host line applies to that host only.
    assert_eq!(
        agent::pageant_pipe("Host x\n  Include pageant.conf\n", conf),
        None
    );
    assert_eq!(agent::pageant_pipe(included, ""), None);
}

#[test]
fn linux_without_an_agent_gets_eval_and_the_unit() {
    let unit = Path::new("/usr/lib/systemd/user/ssh-agent.service");
    let f = agent_step::judge(
        &facts(Platform::Linux, None, None),
        &AgentState::NoSocket,
        None,
        Some(unit),
    );
    assert_eq!(f.status, Status::Fail);
    assert!(!f.fixable);
    assert_eq!(f.message, "no ssh-agent: SSH_AUTH_SOCK is not set");
    assert_eq!(
        f.fix.unwrap(),
        agent::agent_fix(Platform::Linux, Some(unit))
    );
    let f = agent_step::judge(
        &facts(Platform::Linux, Some("/tmp/gone"), None),
        &AgentState::NoAnswer("Error connecting to agent: No such file or directory".into()),
        None,
        None,
    );
    assert_eq!(
        f.message,
        "no ssh-agent answers at SSH_AUTH_SOCK=/tmp/gone (Error connecting to agent: No such file or directory)"
    );
    let f = agent_step::judge(
        &facts(Platform::Linux, Some("/tmp/a"), None),
        &AgentState::Answers(1),
        None,
        None,
    );
    assert_eq!(
        (f.status, f.message.as_str()),
        (Status::Ok, "ssh-agent answers at /tmp/a (1 key)")
    );
}

#[test]
fn windows_stopped_or_disabled_service_is_fixable_with_the_exact_commands() {
    let no_answer =
        AgentState::NoAnswer("Error connecting to agent: No such file or directory".into());
    let win = facts(Platform::Windows, None, None);
    for (state, expected) in [
        (
            service(StartType::Disabled, RunState::Stopped),
            "from an elevated prompt (Run as administrator):\n  sc.exe config ssh-agent start= auto\n  net start ssh-agent",
        ),
        (
            service(StartType::Auto, RunState::Stopped),
            "from an elevated prompt (Run as administrator):\n  net start ssh-agent",
        ),
    ] {
        let f = agent_step::judge(&win, &no_answer, Some(&state), None);
        assert_eq!(f.status, Status::Fail);
        assert!(f.fixable, "{f:?}");
        assert_eq!(f.fix.as_deref(), Some(expected));
        assert!(f.message.starts_with("no ssh-agent answers: the ssh-agent service"), "{}", f.message);
    }
    // SSH_AUTH_SOCK naming the service's own pipe is the same agent.
    let named = facts(Platform::Windows, Some(r"\\.\pipe\openssh-ssh-agent"), None);
    let f = agent_step::judge(
        &named,
        &no_answer,
        Some(&service(StartType::Demand, RunState::Stopped)),
        None,
    );
    assert!(f.fixable);
    // Running and not answering: nothing to enable; a restart is the advice.
    let f = agent_step::judge(
        &win,
        &no_answer,
        Some(&service(StartType::Auto, RunState::Running)),
        None,
    );
    assert!(!f.fixable);
    assert!(f.fix.unwrap().contains("net stop ssh-agent"));
    // No service at all: the OpenSSH client is missing.
    let f = agent_step::judge(&win, &no_answer, None, None);
    assert!(!f.fixable);
    assert!(f.message.contains("no ssh-agent service"), "{}", f.message);
    assert_eq!(f.fix.unwrap(), Platform::Windows.install_hint("ssh"));
    // The service answering, with SSH_AUTH_SOCK unset as is normal there.
    let f = agent_step::judge(&win, &AgentState::Answers(2), None, None);
    assert_eq!(
        f.message,
        r"ssh-agent answers at the ssh-agent service (\\.\pipe\openssh-ssh-agent) (2 keys)"
    );
}

#[test]
fn windows_pageant_gets_the_advice_that_serves_both_clients() {
    let advice = agent::pageant_advice();
    for part in [
        "SSH_AUTH_SOCK=pageant is understood only by ssh2-based clients",
        "pageant.exe --openssh-config %USERPROFILE%\\.ssh\\pageant.conf",
        "Include pageant.conf",
        "ssh2-based clients keep SSH_AUTH_SOCK=pageant",
    ] {
        assert!(advice.contains(part), "{part:?} missing in\n{advice}");
    }
    let f = agent_step::judge(
        &facts(Platform::Windows, Some("pageant"), None),
        &AgentState::PageantName,
        None,
        None,
    );
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.fix.as_deref(), Some(advice.as_str()));
    let pipe = r"\\.\pipe\pageant.me.abc";
    let wired = facts(Platform::Windows, Some("pageant"), Some(pipe));
    let f = agent_step::judge(&wired, &AgentState::Answers(1), None, None);
    assert_eq!(
        f.message,
        r"ssh-agent answers at Pageant's pipe \\.\pipe\pageant.me.abc (from pageant.conf) (1 key)"
    );
    let f = agent_step::judge(
        &wired,
        &AgentState::NoAnswer("Connection refused".into()),
        None,
        None,
    );
    assert!(
        f.message.contains("earlier run of Pageant"),
        "{}",
        f.message
    );
    assert_eq!(f.fix.as_deref(), Some(advice.as_str()));
}

mod ssh_config_check;
