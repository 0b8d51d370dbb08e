//! Name resolution as a program that does not use ssh sees it: the system resolver
//! (getaddrinfo: /etc/hosts, then DNS), never ssh_config. Bounded by a timeout, since a resolver
//! can hang.

use std::net::{IpAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

/// How long a lookup may take before rdock calls it failed.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The addresses `host` resolves to through the system resolver, or why it does not resolve. An
/// IP address is its own answer.
pub fn resolve(host: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_string();
    // The lookup runs on a thread of its own: a resolver that never answers is left behind
    // when the timeout passes (getaddrinfo cannot be cancelled).
    std::thread::spawn(move || {
        let answer = (name.as_str(), 0)
            .to_socket_addrs()
            .map(|addrs| addrs.map(|a| a.ip()).collect::<Vec<_>>());
        let _ = tx.send(answer);
    });
    // Asked in short steps, so that a signal ends the wait at once.
    let deadline = std::time::Instant::now() + RESOLVE_TIMEOUT;
    let answer = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Err(mpsc::RecvTimeoutError::Timeout) if std::time::Instant::now() < deadline => {
                if let Some(signal) = crate::sys::signal::caught() {
                    return Err(format!(
                        "{host}: {}",
                        crate::sys::signal::Interrupted(signal).cause()
                    ));
                }
            }
            answer => break answer,
        }
    };
    match answer {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(format!("{host} resolves to no address")),
        Ok(Err(e)) => Err(format!("{host} does not resolve: {e}")),
        Err(_) => Err(format!(
            "{host}: the resolver gave no answer within {} s",
            RESOLVE_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_its_own_answer_and_an_invalid_name_never_resolves() {
        assert_eq!(resolve("127.0.0.1"), Ok(vec!["127.0.0.1".parse().unwrap()]));
        assert_eq!(resolve("::1"), Ok(vec!["::1".parse().unwrap()]));
        // RFC 6761: .invalid never resolves.
        let err = resolve("rdock-test.invalid").unwrap_err();
        assert!(err.starts_with("rdock-test.invalid"), "{err}");
    }

    #[test]
    fn localhost_resolves_to_loopback() {
        let addrs = resolve("localhost").unwrap();
        assert!(addrs.iter().all(|a| a.is_loopback()), "{addrs:?}");
    }
}
