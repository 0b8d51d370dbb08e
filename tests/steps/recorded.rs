//! What the real tools print, as scripted replies: the files of tests/fixtures/recorded (its
//! README says how each was made), each with the exit code and the stream it came on. ssh printed
//! `/root` for the home it ran in; [`Rig::at_home`](super::Rig::at_home) puts the test's home there.

use rdock::sys::exec::Reply;

macro_rules! recorded {
    ($($name:ident = $file:literal;)*) => {
        $(pub const $name: &str = include_str!(concat!("../fixtures/recorded/", $file));)*
    };
}

recorded! {
    SSH_V = "ssh-V.stderr";
    DOCKER_VERSION = "docker-version.stdout";
    SSH_G_PLAIN = "ssh-G-plain.stdout";
    SSH_G_IPV6 = "ssh-G-ipv6.stdout";
    SSH_G_IPV6_F_NONE = "ssh-G-ipv6-F-none.stdout";
    SSH_G_PLAIN_F_NONE = "ssh-G-plain-F-none.stdout";
    KEYWORDS_SSH_CONFIG = "keywords.ssh_config";
    SSH_G_WORK = "ssh-G-work.stdout";
    SSH_G_WORK_F_NONE = "ssh-G-work-F-none.stdout";
    SSH_G_LEGACY = "ssh-G-legacy.stdout";
    SSH_G_LEGACY_F_NONE = "ssh-G-legacy-F-none.stdout";
    SSH_G_ENVAGENT_F_NONE = "ssh-G-envagent-F-none.stdout";
    SSH_G_ENVAGENT = "ssh-G-envagent.stdout";
    SSH_G_ONEPASS = "ssh-G-onepass.stdout";
    SSH_G_ONEPASS_F_NONE = "ssh-G-onepass-F-none.stdout";
    SSH_G_LOCAL_USER = "ssh-G-local-user.stdout";
    SSH_G_LOCAL_USER_F_NONE = "ssh-G-local-user-F-none.stdout";
    SSH_G_ALIAS = "ssh-G-alias.stdout";
    SSH_G_ALIAS_F_NONE = "ssh-G-alias-F-none.stdout";
    SSH_G_BAD_CONFIG = "ssh-G-bad-config.stderr";
    ALIAS_SSH_CONFIG = "alias.ssh_config";
    SSH_ADD_L_ONE = "ssh-add-l-one.stdout";
    SSH_ADD_BIG_L_ONE = "ssh-add-L-one.stdout";
    SSH_ADD_L_SEVEN = "ssh-add-l-seven.stdout";
    SSH_ADD_BIG_L_SEVEN = "ssh-add-L-seven.stdout";
    SSH_ADD_EMPTY = "ssh-add-empty.stdout";
    SSH_ADD_NO_AGENT = "ssh-add-no-agent.stderr";
    SSH_ADD_GONE = "ssh-add-gone.stderr";
    KEY = "id_ed25519";
    KEY_PUB = "id_ed25519.pub";
    LOCKED_KEY = "id_locked";
    LOCKED_KEY_PUB = "id_locked.pub";
    SSH_KEYGEN_Y = "ssh-keygen-y.stdout";
    SSH_KEYGEN_Y_LOCKED = "ssh-keygen-y-locked.stderr";
    CONTEXT_USE = "docker-context-use.stderr";
    STORE_META = "docker-store-meta.json";
    STORE_CONFIG = "docker-store-config.json";
    CONTEXT_CREATE = "docker-context-create.stderr";
    CONTEXT_UPDATE = "docker-context-update.stderr";
    VERSION_NO_SUCH_HOST = "docker-version-no-such-host.stderr";
    PROBE_SERVER = "probe-server.stdout";
    PROBE_DAEMON_DOWN = "probe-daemon-down.stdout";
    PROBE_SOCKET_DENIED = "probe-socket-denied.stdout";
    PROBE_NO_DOCKER = "probe-no-docker.stdout";
    PROBE_CHATTY_BASHRC = "probe-chatty-bashrc.stdout";
    PROBE_HUNG_DOCKER = "probe-hung-docker.stdout";
    PROBE_DIAL_STDIO = "probe-dial-stdio.stdout";
    BANNER_TIMEOUT = "ssh-banner-timeout.stderr";
    NO_SUCH_NAME = "ssh-no-such-name.stderr";
    CONNECT_TIMED_OUT = "ssh-connect-timed-out.stderr";
    PROXYJUMP_REFUSED = "ssh-proxyjump-refused.stderr";
    KEY_REFUSED = "ssh-key-refused.stderr";
    HOST_KEY_UNKNOWN = "ssh-host-key-unknown.stderr";
    HOST_KEY_CHANGED = "ssh-host-key-changed.stderr";
    CONNECTION_REFUSED = "ssh-connection-refused.stderr";
    CONNECTION_REFUSED_IPV6 = "ssh-connection-refused-ipv6.stderr";
    KEYSCAN = "ssh-keyscan.stdout";
    FETCH_STDERR = "ssh-fetch-host-key.stderr";
    FETCHED = "ssh-fetch-host-key.known_hosts";
    KEYGEN_L_FETCHED = "ssh-keygen-l-fetched.stdout";
    KEYGEN_F_REVOKED = "ssh-keygen-F-revoked.stdout";
    KEYGEN_F_CA = "ssh-keygen-F-ca.stdout";
    KEYGEN_F_CA_BARE = "ssh-keygen-F-ca-bare.stdout";
    KEYGEN_F = "ssh-keygen-F.stdout";
    O_CHECK_RUNNING = "ssh-O-check-running.stderr";
    O_CHECK_NONE = "ssh-O-check-none.stderr";
    O_CHECK_STALE = "ssh-O-check-stale.stderr";
    PROBE_LOGIN_BASH = "probe-login-bash.stdout";
    PROBE_LOGIN_SH = "probe-login-sh.stdout";
    PROBE_LOGIN_ZSH = "probe-login-zsh.stdout";
    PROBE_LOGIN_NONE = "probe-login-none.stdout";
    RC_READ_BASHRC = "rc-read-bashrc.stdout";
    RC_READ_MISSING = "rc-read-missing.stdout";
    RC_WRITTEN = "rc-written.stdout";
    RC_WRITE_CHANGED = "rc-write-changed.stderr";
    SUDO_N_PASSWORD = "sudo-n-password.stderr";
    SESSION_REFUSED = "ssh-session-refused.stderr";
    KEX_CLOSED = "ssh-kex-closed.stderr";
    KEX_RESET = "ssh-kex-reset.stderr";
    COMPOSE_MISSING = "docker-compose-missing.stderr";
}

/// `docker compose version --short` where the compose plugin is not installed.
pub fn compose_missing() -> Reply {
    Reply::fail(125, COMPOSE_MISSING)
}

/// The public key line of [`KEY`].
pub fn key_line() -> &'static str {
    KEY_PUB.trim_end()
}

pub fn ssh_v() -> Reply {
    Reply::exit(Some(0), "", SSH_V)
}

pub fn ssh_g_bad_config() -> Reply {
    Reply::fail(255, SSH_G_BAD_CONFIG)
}

/// `ssh-add -l` or `-L` of an empty agent: exit 1, on stdout.
pub fn agent_empty() -> Reply {
    Reply::exit(Some(1), SSH_ADD_EMPTY, "")
}

/// `ssh-add` with SSH_AUTH_SOCK unset.
pub fn no_agent() -> Reply {
    Reply::fail(2, SSH_ADD_NO_AGENT)
}

/// `ssh-add` with SSH_AUTH_SOCK naming a socket nothing listens on (on Windows: the service stopped).
pub fn agent_gone() -> Reply {
    Reply::fail(2, SSH_ADD_GONE)
}

/// `ssh-add -- KEY`: what ssh-add says to a key it added.
pub fn key_added(path: &str) -> Reply {
    Reply::exit(Some(0), "", format!("Identity added: {path} (me@laptop)\n"))
}

pub fn keygen_y_locked() -> Reply {
    Reply::fail(255, SSH_KEYGEN_Y_LOCKED)
}

/// The probe's ssh ending with this stderr: ssh's exit code for every failure of its own.
pub fn ssh_failed(stderr: &str) -> Reply {
    Reply::fail(255, stderr)
}

/// `ssh-keygen -F` for a name the file does not hold: exit 1, silent.
pub fn keygen_f_missing() -> Reply {
    Reply::exit(Some(1), "", "")
}

pub fn o_check_running() -> Reply {
    Reply::exit(Some(0), "", O_CHECK_RUNNING)
}

pub fn o_check_none() -> Reply {
    Reply::fail(255, O_CHECK_NONE)
}

pub fn o_check_stale() -> Reply {
    Reply::fail(255, O_CHECK_STALE)
}

/// `docker context create|update|use … -- box`: `box` on stdout, a sentence on stderr.
pub fn context_changed(stderr: &str) -> Reply {
    Reply::exit(Some(0), "box\n", stderr)
}

pub fn version_no_such_host() -> Reply {
    Reply::fail(1, VERSION_NO_SUCH_HOST)
}

// Windows, as it prints (not recorded on this Linux machine): `sc.exe` (in tests/platform.rs),
// `net`, `tasklist`; ssh-add says what it says on Linux ([`agent_gone`]) when the service is
// stopped.

pub(crate) use crate::platform::{qc, QC_DISABLED, QUERY_RUNNING, QUERY_STOPPED, SC_NOT_INSTALLED};

/// `net session` in an elevated prompt.
pub fn elevated() -> Reply {
    Reply::ok("There are no entries in the list.\r\n\r\n")
}

/// `net session` in a prompt that is not elevated.
pub fn not_elevated() -> Reply {
    Reply::fail(
        2,
        "System error 5 has occurred.\r\n\r\nAccess is denied.\r\n\r\n",
    )
}

pub fn sc_config_done() -> Reply {
    Reply::ok("[SC] ChangeServiceConfig SUCCESS\r\n")
}

pub fn net_start_done() -> Reply {
    Reply::ok("The OpenSSH Authentication Agent service is starting.\r\nThe OpenSSH Authentication Agent service was started successfully.\r\n\r\n")
}

/// `tasklist /FI "IMAGENAME eq pageant.exe" /FO CSV /NH` with no Pageant running.
pub fn no_pageant() -> Reply {
    Reply::ok("INFO: No tasks are running which match the specified criteria.\r\n")
}
