//! sshd's connection limits, as ssh's stderr shows them. `MaxSessions` (10 by default) bounds the
//! sessions on one connection: with multiplexing, compose and other parallel clients open many
//! sessions on the one shared connection, and sshd refuses those past the limit ("Session open
//! refused by peer"; ssh then opens a connection of its own). `MaxStartups` (10:30:100 by
//! default) bounds the connections still logging in: past it sshd drops new ones before the key
//! exchange ("kex_exchange_identification: read: Connection reset by peer", or "…: Connection
//! closed by remote host").
//!
//! The client cannot tell that drop from any other close before the key exchange: a listener that
//! accepts and closes at once (a port forwarder or proxy with nothing behind it) gives ssh 9.2 the
//! same two lines, word for word (measured). So MaxStartups is named as the likely cause, and its
//! fix says how to be sure: sshd logs `drop connection #N from … past MaxStartups` (at its default
//! LogLevel INFO) for every connection it drops.

/// A limit of sshd's that a connection ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    MaxSessions,
    MaxStartups,
}

/// The limits ssh's stderr shows were reached, in the order of [`Limit`].
pub fn recognise(stderr: &str) -> Vec<Limit> {
    let mut found = Vec::new();
    if stderr.contains("Session open refused by peer") {
        found.push(Limit::MaxSessions);
    }
    // OpenSSH 8.0 renamed ssh_exchange_identification; both end in "Connection reset by peer"
    // or "Connection closed by remote host" when sshd drops the connection unanswered. Through a
    // jump host that failed ("UNKNOWN port 65535": ssh's own end of a ProxyJump/ProxyCommand),
    // the same words mean the jump closed, not sshd's MaxStartups.
    if (stderr.contains("kex_exchange_identification")
        || stderr.contains("ssh_exchange_identification"))
        && !stderr.contains("UNKNOWN port 65535")
    {
        found.push(Limit::MaxStartups);
    }
    found
}

/// The line of ssh's stderr that shows the limit, trimmed.
pub fn evidence(stderr: &str, limit: Limit) -> Option<String> {
    let sign = |l: &str| match limit {
        Limit::MaxSessions => l.contains("Session open refused by peer"),
        Limit::MaxStartups => l.contains("exchange_identification"),
    };
    stderr
        .lines()
        .find(|l| sign(l))
        .map(|l| l.trim().to_string())
}

impl Limit {
    /// The sshd_config keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Limit::MaxSessions => "MaxSessions",
            Limit::MaxStartups => "MaxStartups",
        }
    }

    /// What sshd did, in the user's words.
    pub fn what(self) -> &'static str {
        match self {
            Limit::MaxSessions => "sshd refused another session on the shared connection (MaxSessions, 10 by default), so ssh opened a connection of its own",
            Limit::MaxStartups => "the connection was closed before the key exchange, as sshd does past MaxStartups (10 connections logging in at once, by default); a port forwarder or proxy with nothing behind it closes it the same way",
        }
    }

    /// The sshd_config line that raises it.
    pub fn setting(self) -> &'static str {
        match self {
            Limit::MaxSessions => "MaxSessions 30",
            Limit::MaxStartups => "MaxStartups 30:30:100",
        }
    }

    /// The fix on the server. A drop at MaxStartups looks like any other early close from the
    /// client, so its fix starts with sshd's log line that tells them apart.
    pub fn fix(self, host: &str) -> String {
        let set = format!(
            "set `{}` in /etc/ssh/sshd_config, then reload sshd (`sudo systemctl reload ssh`; the unit is `sshd` on Red Hat-like systems)",
            self.setting()
        );
        match self {
            Limit::MaxSessions => format!("on {host}: {set}"),
            Limit::MaxStartups => format!(
                "on {host}: when sshd's log (`sudo journalctl -u ssh`, `-u sshd` on Red Hat-like systems, or /var/log/auth.log, /var/log/secure) has `drop connection … past MaxStartups` (sshd before 8.0 logs it only at LogLevel VERBOSE), {set}; else check what answers on that port"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What ssh printed, recorded (tests/fixtures/recorded/README.md says how).
    const SESSION_REFUSED: &str =
        include_str!("../../tests/fixtures/recorded/ssh-session-refused.stderr");
    const KEX_RESET: &str = include_str!("../../tests/fixtures/recorded/ssh-kex-reset.stderr");
    const KEX_CLOSED: &str = include_str!("../../tests/fixtures/recorded/ssh-kex-closed.stderr");

    #[test]
    fn recorded_refusals_and_drops_are_recognised() {
        assert_eq!(recognise(SESSION_REFUSED), [Limit::MaxSessions]);
        assert_eq!(
            evidence(SESSION_REFUSED, Limit::MaxSessions).as_deref(),
            Some(
                "mux_client_request_session: session request failed: Session open refused by peer"
            )
        );
        assert_eq!(recognise(KEX_RESET), [Limit::MaxStartups]);
        assert_eq!(
            evidence(KEX_RESET, Limit::MaxStartups).as_deref(),
            Some("kex_exchange_identification: read: Connection reset by peer")
        );
        assert_eq!(recognise(KEX_CLOSED), [Limit::MaxStartups]);
        // OpenSSH before 8.0 named the function ssh_exchange_identification.
        let old = "ssh_exchange_identification: read: Connection reset by peer\r\n";
        assert_eq!(recognise(old), [Limit::MaxStartups]);
        let both = format!("{SESSION_REFUSED}{KEX_RESET}");
        assert_eq!(recognise(&both), [Limit::MaxSessions, Limit::MaxStartups]);
    }

    #[test]
    fn plain_failures_are_no_limit() {
        for stderr in [
            "",
            "ssh: connect to host 127.0.0.1 port 1: Connection refused\n",
            "u@127.0.0.1: Permission denied (publickey).\n",
            "client_loop: send disconnect: Connection reset by peer\n",
        ] {
            assert_eq!(recognise(stderr), [], "{stderr}");
        }
    }

    #[test]
    fn a_jump_host_that_closed_is_not_sshd_s_max_startups() {
        let jump = "kex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n";
        assert_eq!(recognise(jump), []);
        let direct = "kex_exchange_identification: Connection closed by remote host\r\n";
        assert_eq!(recognise(direct), [Limit::MaxStartups]);
    }

    #[test]
    fn each_fix_names_the_setting_and_the_reload() {
        let fix = Limit::MaxSessions.fix("box");
        assert!(fix.starts_with("on box: set `MaxSessions 30` in /etc/ssh/sshd_config"));
        assert!(fix.contains("reload"));
        let fix = Limit::MaxStartups.fix("box");
        assert!(fix.contains("set `MaxStartups 30:30:100` in /etc/ssh/sshd_config"));
        assert!(fix.contains("reload"));
    }

    #[test]
    fn a_drop_is_named_as_max_startups_likely_with_the_log_line_that_makes_it_sure() {
        // A listener that accepts and closes gives ssh the recorded words of a MaxStartups drop
        // (tests/limits_e2e.rs measures both), so the message may not claim more than "likely".
        let closed_by_a_forwarder = "kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 127.0.0.1 port 22998\r\n";
        assert_eq!(recognise(closed_by_a_forwarder), [Limit::MaxStartups]);
        let what = Limit::MaxStartups.what();
        assert!(what.contains("as sshd does past MaxStartups"), "{what}");
        assert!(what.contains("port forwarder or proxy"), "{what}");
        let fix = Limit::MaxStartups.fix("box");
        assert!(
            fix.starts_with("on box: when sshd's log (`sudo journalctl -u ssh`, `-u sshd` on Red Hat-like systems, or /var/log/auth.log, /var/log/secure) has `drop connection … past MaxStartups` (sshd before 8.0 logs it only at LogLevel VERBOSE), set `MaxStartups 30:30:100`"),
            "{fix}"
        );
        assert!(fix.ends_with("check what answers on that port"), "{fix}");
    }
}
