//! sshd's MaxStartups end to end: with `MaxStartups 1:100:1` and one connection held open that
//! never says a word (a TCP connection that sends no SSH banner), sshd drops every other
//! connection before the key exchange. Doctor and setup then name MaxStartups and its
//! sshd_config fix, together with the other things that close a connection that way (ssh prints
//! the same words for them); once the held connection ends, ssh logs in again.

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::harness::{setup_args, Run, Sandbox};

/// `ssh … true` as the local user, with no shared connection.
fn plain_ssh(sb: &Sandbox) -> Run {
    let options = ["-o", "BatchMode=yes", "-o", "ControlPath=none"];
    super::repair::ssh(sb, &options, &["true"])
}

/// A connection that has sshd's banner and says nothing back. The harness's own banner check,
/// just closed, may still count as logging in: a connection sshd drops gives no banner, and is
/// tried again.
fn hold(sb: &Sandbox) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut stream = TcpStream::connect(("127.0.0.1", sb.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut banner = [0u8; 8];
        if stream.read_exact(&mut banner).is_ok() && banner.starts_with(b"SSH-2.0") {
            return stream;
        }
        assert!(Instant::now() < deadline, "sshd drops every connection");
        std::thread::sleep(Duration::from_millis(200));
    }
}

const DROPPED: [&str; 2] = [
    "kex_exchange_identification: read: Connection reset by peer",
    "kex_exchange_identification: Connection closed by remote host",
];

#[test]
#[ignore = "end to end (root, sshd, dockerd): scripts/test.sh runs it"]
fn a_connection_sshd_drops_past_max_startups_is_named_with_its_fix() {
    let mut sb = Sandbox::start();
    sb.setup_ok();
    sb.restart_sshd_with(&["MaxStartups 1:100:1"]);
    // Doctor and docker as a person's would run: no askpass.
    sb.no_askpass();

    // One connection that never sends its banner: sshd counts it as logging in for
    // LoginGraceTime (120 s), and past MaxStartups 1 it drops every new one.
    let held = hold(&sb);
    let deadline = Instant::now() + Duration::from_secs(30);
    let dropped = loop {
        let run = plain_ssh(&sb);
        if DROPPED.iter().any(|d| run.stderr.contains(d)) {
            break run;
        }
        assert!(
            Instant::now() < deadline,
            "sshd dropped nothing: {run}\n--- sshd.log\n{}",
            sb.sshd_log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(dropped.code, Some(255), "{dropped}");
    assert!(
        sb.sshd_log().contains("past MaxStartups"),
        "{}",
        sb.sshd_log()
    );

    let doctor = sb.rdock(&["doctor", "--json"]);
    assert_eq!(doctor.code, Some(1), "{doctor}");
    let v: serde_json::Value = serde_json::from_str(&doctor.stdout).unwrap();
    let connection = super::doctor::check(&v, "connection");
    assert_eq!(connection["status"], "fail", "{v:#}");
    let message = connection["message"].as_str().unwrap();
    assert!(message.contains("MaxStartups"), "{v:#}");
    assert!(
        DROPPED.iter().any(|d| message.contains(d)),
        "ssh's own words: {v:#}"
    );
    assert!(!message.contains("cannot reach"), "{v:#}");
    let fix = connection["fix"].as_str().unwrap();
    assert!(
        fix.contains("set `MaxStartups 30:30:100` in /etc/ssh/sshd_config"),
        "{v:#}"
    );
    assert!(
        fix.contains("past MaxStartups"),
        "the log line to look for: {v:#}"
    );

    let dest = sb.dest();
    let setup = sb.rdock(&setup_args(&dest, &[]));
    assert_eq!(setup.code, Some(1), "{setup}");
    assert!(setup.stdout.contains("✗ connection"), "{setup}");
    assert!(
        setup.stdout.contains("MaxStartups 30:30:100"),
        "setup names the fix: {setup}"
    );

    // The held connection ends: sshd takes connections again, so the limit was the cause.
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = plain_ssh(&sb);
        if run.code == Some(0) {
            break;
        }
        assert!(Instant::now() < deadline, "ssh still fails: {run}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
