//! host-key: the remote's key must be in a known_hosts file `ssh -G` names. An unknown key is
//! fetched with ssh-keyscan, shown by fingerprint and added with consent; a changed one never.

use rdock::steps::plan::Options;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::exec::{quote, Reply};

use super::recorded::*;
use super::{no_consent, options, said, Rig};

const SLICE: [&str; 3] = ["destination", "connection", "host-key"];

/// u@127.0.0.1:2222, no known_hosts yet: the probe stops at the host key until it is added;
/// ssh-keyscan and `ssh-keygen -l` answer as recorded.
fn unknown() -> Rig {
    Rig::plain()
        .finds_host_key()
        .probe(ssh_failed(HOST_KEY_UNKNOWN))
        .probe(Reply::ok(PROBE_SERVER))
        .on(
            &["ssh-keyscan", "-p", "2222", "-T", "10", "--", "127.0.0.1"],
            keyscan(),
        )
        .on(&["ssh-keygen", "-l", "-f", "-"], Reply::ok(KEYGEN_L))
        .on_prefix(&["ssh-keygen", "-H", "-f"], Reply::ok(""))
}

fn accept() -> Options {
    Options {
        accept_host_key: true,
        ..options()
    }
}

#[test]
fn a_known_host_key_is_found_with_ssh_keygen_f() {
    let rig = Rig::plain().known_host().probe(Reply::ok(PROBE_SERVER));
    let done = rig.run(Mode::Doctor, &options(), &SLICE);
    assert_eq!(
        said(done.find("host-key")),
        (
            Status::Ok,
            "the host key of [127.0.0.1]:2222 is known (~/.ssh/known_hosts)",
            None
        )
    );
    assert_eq!(
        done.the(&["ssh-keygen", "-F"]).argv,
        [
            "ssh-keygen",
            "-F",
            "[127.0.0.1]:2222",
            "-f",
            &rig.arg(".ssh/known_hosts")
        ]
    );
}

#[test]
fn an_unknown_host_key_is_added_by_setup_once_accepted() {
    let rig = unknown();
    let doctor = rig.run(Mode::Doctor, &options(), &SLICE);
    assert_eq!(
        doctor.find("connection").status,
        Status::Ok,
        "sshd did answer"
    );
    let f = doctor.find("host-key");
    assert_eq!(
        said(f),
        (
            Status::Fail,
            "the host key of [127.0.0.1]:2222 is not in known_hosts",
            Some("rdock setup u@127.0.0.1:2222 shows its fingerprint and asks (without a terminal: --host-key SHA256:… or --accept-host-key), or connect once with `ssh -p 2222 u@127.0.0.1` and check the fingerprint")
        )
    );
    assert!(f.fixable);

    let dry = rig.run(Mode::DryRun, &accept(), &SLICE);
    assert_eq!(
        dry.would("host-key"),
        "would add the host key of [127.0.0.1]:2222 to ~/.ssh/known_hosts once you confirm its fingerprint\nwould run: ssh-keyscan -p 2222 -T 10 -- 127.0.0.1"
    );
    assert!(!dry.ran().iter().any(|c| c.starts_with("ssh-keyscan")));

    // Without a terminal and --accept-host-key: fetched and shown, not added.
    let declined = rig.run(Mode::Setup, &options(), &SLICE);
    assert_eq!(
        declined.outcome("host-key"),
        Some(&no_consent("--host-key SHA256:… (the server's fingerprint) or --accept-host-key (trust on first use)"))
    );
    assert!(declined.report.stopped);
    assert!(!rig.path(".ssh/known_hosts").exists());

    let done = rig.run(Mode::Setup, &accept(), &SLICE);
    let f = done.find("host-key");
    assert_eq!(
        said(f),
        (
            Status::Ok,
            "the host key of [127.0.0.1]:2222 is known (~/.ssh/known_hosts)",
            None
        )
    );
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "added the host key of [127.0.0.1]:2222 (ED25519 SHA256:vfsF7BHqc3smiXKQgLc8lDmOYXQc360YwhcHxDr7IbU) to ~/.ssh/known_hosts".into()
        ))
    );
    assert_eq!(rig.read(".ssh/known_hosts"), KEYSCAN);
    // The fingerprints shown come from the scanned lines; HashKnownHosts yes hashes a copy.
    let shown = done.the(&["ssh-keygen", "-l"]);
    assert_eq!(shown.stdin.as_deref(), Some(KEYSCAN.as_bytes()));
    assert_eq!(done.the(&["ssh-keygen", "-H"]).argv.len(), 4);
}

#[test]
fn nothing_from_ssh_keyscan_fails_the_fix() {
    let rig = Rig::plain()
        .finds_host_key()
        .probe(ssh_failed(HOST_KEY_UNKNOWN))
        .on_prefix(&["ssh-keyscan"], keyscan_refused());
    let done = rig.run(Mode::Setup, &accept(), &SLICE);
    assert_eq!(
        done.find("host-key").message,
        "ssh-keyscan got no host key from 127.0.0.1:2222 (no answer)"
    );
    assert!(done.report.stopped && !rig.path(".ssh/known_hosts").exists());
}

#[test]
fn a_changed_host_key_is_never_accepted() {
    let rig = Rig::plain()
        .known_host()
        .probe(ssh_failed(HOST_KEY_CHANGED));
    let file = quote(&rig.arg(".ssh/known_hosts"));
    let done = rig.run(
        Mode::Setup,
        &Options {
            yes: true,
            ..accept()
        },
        &SLICE,
    );
    let f = done.find("host-key");
    assert_eq!(
        said(f),
        (
            Status::Fail,
            "the host key of [127.0.0.1]:2222 CHANGED since it was saved in ~/.ssh/known_hosts: someone may be intercepting the connection, or the server was reinstalled",
            Some(format!("ask the server's admin for its new fingerprint; only when it matches, remove the old key with: ssh-keygen -R '[127.0.0.1]:2222' -f {file}").as_str())
        )
    );
    assert!(!f.fixable && done.changes().is_empty());
    assert_eq!(f.details, [HOST_KEY_CHANGED.trim()]);
    assert_eq!(rig.read(".ssh/known_hosts"), KEYSCAN);
}

#[test]
fn an_alias_is_looked_up_and_scanned_by_its_real_host_name() {
    let rig = Rig::alias()
        .unknown_hosts()
        .probe(ssh_failed(HOST_KEY_UNKNOWN));
    let done = rig.run(Mode::DryRun, &accept(), &SLICE);
    assert_eq!(
        done.would("host-key"),
        "would add the host key of [10.0.0.5]:2222 to ~/.ssh/known_hosts once you confirm its fingerprint\nwould run: ssh-keyscan -p 2222 -T 10 -- 10.0.0.5"
    );
}
