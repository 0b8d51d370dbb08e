//! How far the remote is: the round trip to its sshd, measured at the SSH protocol level without
//! logging in. After the banners are exchanged, sshd sends its KEXINIT as soon as it has read the
//! client's banner, so the time from sending ours to the first byte after its banner is one round
//! trip plus a fork: near nothing of the CPU work (key exchange, a login shell, docker's start)
//! that makes a whole docker command slow on a busy machine. The least of a few tries is taken.
//! Only for a host ssh reaches directly (no ProxyJump or ProxyCommand).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::sys::net;

/// How long each connection, and each wait for sshd's bytes, may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Tries; the least is the round trip (what the link costs, without a busy machine's noise).
pub const TRIES: usize = 3;

/// The most a server may send before its banner line (RFC 4253 allows other lines first).
const MAX_PREAMBLE: usize = 8192;

/// The round trip to `host:port`'s sshd: the least of [`TRIES`] measurements.
pub fn round_trip(host: &str, port: u16) -> Result<Duration, String> {
    let addr = *net::resolve(host)?
        .first()
        .ok_or_else(|| format!("{host} resolves to no address"))?;
    let mut best: Option<Duration> = None;
    for _ in 0..TRIES {
        let rtt = once(addr, port)?;
        best = Some(best.map_or(rtt, |b| b.min(rtt)));
    }
    best.ok_or_else(|| "no measurement".into())
}

/// One measurement: connect, read sshd's banner, send ours, time the first byte after it.
fn once(addr: IpAddr, port: u16) -> Result<Duration, String> {
    let to = SocketAddr::new(addr, port);
    let mut stream =
        TcpStream::connect_timeout(&to, TIMEOUT).map_err(|e| format!("connect to {to}: {e}"))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    let extra = read_banner(&mut stream)?;
    if extra {
        return Err("sshd spoke before it read our banner".into());
    }
    let start = Instant::now();
    stream
        .write_all(b"SSH-2.0-rdock_round_trip\r\n")
        .map_err(|e| format!("{to}: {e}"))?;
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(1) => Ok(start.elapsed()),
        Ok(_) => Err(format!("{to} closed the connection")),
        Err(e) => Err(format!("{to}: {e}")),
    }
}

/// Read up to the end of the server's `SSH-` line, a byte at a time (nothing after it may be
/// consumed unseen). True when more bytes already follow it.
fn read_banner(stream: &mut TcpStream) -> Result<bool, String> {
    let mut line = Vec::new();
    let mut total = 0;
    let mut byte = [0u8; 1];
    loop {
        match stream.read(&mut byte) {
            Ok(1) => {}
            Ok(_) => return Err("sshd closed the connection before its banner".into()),
            Err(e) => return Err(format!("waiting for sshd's banner: {e}")),
        }
        total += 1;
        if total > MAX_PREAMBLE {
            return Err("no SSH banner".into());
        }
        if byte[0] != b'\n' {
            line.push(byte[0]);
            continue;
        }
        if line.starts_with(b"SSH-") {
            break;
        }
        line.clear();
    }
    // Anything already waiting would be bytes sent before sshd read our banner.
    stream.set_nonblocking(true).map_err(|e| e.to_string())?;
    let waiting = matches!(stream.peek(&mut byte), Ok(n) if n > 0);
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    Ok(waiting)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server that speaks as sshd does: a preamble line, its banner; then, once it has read the
    /// client's banner line, after `delay`, its KEXINIT.
    fn sshd_like(delay: Duration) -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for conn in listener.incoming().take(TRIES) {
                let mut conn = conn.unwrap();
                conn.write_all(b"hello\r\nSSH-2.0-OpenSSH_9.2\r\n").unwrap();
                let mut buf = [0u8; 64];
                let mut got = Vec::new();
                while !got.contains(&b'\n') {
                    let n = conn.read(&mut buf).unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                std::thread::sleep(delay);
                let _ = conn.write_all(b"\0\0\x01\x00kexinit");
            }
        });
        port
    }

    #[test]
    fn the_round_trip_is_the_wait_for_the_first_byte_after_our_banner() {
        let port = sshd_like(Duration::from_millis(60));
        let rtt = round_trip("127.0.0.1", port).unwrap();
        assert!(rtt >= Duration::from_millis(60), "{rtt:?}");
        assert!(rtt < Duration::from_secs(3), "{rtt:?}");
    }

    #[test]
    fn a_port_that_is_closed_says_so() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let e = round_trip("127.0.0.1", port).unwrap_err();
        assert!(e.contains("connect to 127.0.0.1"), "{e}");
    }
}
