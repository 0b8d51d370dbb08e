//! host-key: the remote's key must be in a known_hosts file `ssh -G` names. An unknown key is
//! fetched through ssh itself (so ProxyJump, ProxyCommand, HostKeyAlias and the port hold), shown
//! by fingerprint and added with consent; a changed one never; a revoked one is reported.

use rdock::steps::plan::Options;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::exec::{quote, Reply};

use super::recorded::*;
use super::{no_consent, options, render, Rig};

const SLICE: [&str; 3] = ["destination", "connection", "host-key"];

/// u@127.0.0.1:2222, no known_hosts yet: the probe stops at the host key until it is added;
/// ssh's fetch and `ssh-keygen -l` answer as recorded.
fn unknown() -> Rig {
    Rig::plain()
        .finds_host_key()
        .probe(ssh_failed(HOST_KEY_UNKNOWN))
        .probe(Reply::ok(PROBE_SERVER))
        .fetches_host_key()
        .on_prefix(&["ssh-keygen", "-H", "-f"], Reply::ok(""))
}

/// How ssh is told to fetch a host key into `file` for u@127.0.0.1:2222.
fn fetch_argv(file: &str) -> Vec<String> {
    format!("ssh -o StrictHostKeyChecking=accept-new -o BatchMode=yes -o UserKnownHostsFile={file} -o GlobalKnownHostsFile=/dev/null -o HashKnownHosts=no -o UpdateHostKeys=no -o AddKeysToAgent=no -o ControlMaster=no -o ControlPath=none -o PubkeyAuthentication=no -o PasswordAuthentication=no -o KbdInteractiveAuthentication=no -o GSSAPIAuthentication=no -o HostbasedAuthentication=no -o ConnectTimeout=10 -T -l u -p 2222 -- 127.0.0.1 true")
        .split(' ')
        .map(str::to_string)
        .collect()
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
    insta::assert_snapshot!(done.render("host-key"), @"host-key ok: the host key of [127.0.0.1]:2222 is known (~/.ssh/known_hosts)");
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
    insta::assert_snapshot!(render(f), @r"
    host-key fail: the host key of [127.0.0.1]:2222 is not in known_hosts
    fix: rdock setup u@127.0.0.1:2222 shows its fingerprint and asks (without a terminal: --host-key SHA256:… or --accept-host-key), or connect once with `ssh -p 2222 u@127.0.0.1` and check the fingerprint
    ");
    assert!(f.fixable);

    let dry = rig.run(Mode::DryRun, &accept(), &SLICE);
    let placeholder = rig.arg(".ssh/.rdock-hostkey-…/known_hosts");
    assert_eq!(
        dry.would("host-key"),
        format!(
            "would add the host key of [127.0.0.1]:2222 to ~/.ssh/known_hosts once you confirm its fingerprint\nwould run: {}",
            fetch_argv(&placeholder).iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
        )
    );
    assert!(!dry
        .ran()
        .iter()
        .any(|c| c.contains("StrictHostKeyChecking=accept-new")));

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
    insta::assert_snapshot!(render(f), @"host-key ok: the host key of [127.0.0.1]:2222 is known (~/.ssh/known_hosts)");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "added the host key of [127.0.0.1]:2222 (ED25519 SHA256:T0dFUZnLGO7I7sCugfESXWbf/hpW0OeX5O5a2V3lBvQ) to ~/.ssh/known_hosts".into()
        ))
    );
    assert_eq!(rig.read(".ssh/known_hosts"), FETCHED);
    // ssh fetched it into a private file beside known_hosts, gone afterwards.
    let fetch = done.the(&["ssh", "-o", "StrictHostKeyChecking=accept-new"]);
    let file = fetch.argv[6].strip_prefix("UserKnownHostsFile=").unwrap();
    assert!(file.starts_with(&rig.arg(".ssh/.rdock-hostkey-")), "{file}");
    assert_eq!(fetch.argv, fetch_argv(file));
    assert!(!std::path::Path::new(file).exists());
    // The fingerprints shown come from the fetched lines; HashKnownHosts yes hashes a copy.
    let shown = done.the(&["ssh-keygen", "-l"]);
    assert_eq!(shown.stdin.as_deref(), Some(FETCHED.as_bytes()));
    assert_eq!(done.the(&["ssh-keygen", "-H"]).argv.len(), 4);
}

#[test]
fn no_host_key_from_ssh_fails_the_fix_with_ssh_s_reason() {
    let rig = Rig::plain()
        .finds_host_key()
        .probe(ssh_failed(HOST_KEY_UNKNOWN))
        .on_prefix(
            &["ssh", "-o", "StrictHostKeyChecking=accept-new"],
            Reply::fail(255, CONNECTION_REFUSED),
        );
    let done = rig.run(Mode::Setup, &accept(), &SLICE);
    insta::assert_snapshot!(done.render("host-key"), @r"
    host-key fail: ssh got no host key from 127.0.0.1:2222 (ssh: connect to host 127.0.0.1 port 2222: Connection refused)
    fix: rdock setup u@127.0.0.1:2222 shows its fingerprint and asks (without a terminal: --host-key SHA256:… or --accept-host-key), or connect once with `ssh -p 2222 u@127.0.0.1` and check the fingerprint
    ");
    assert!(done.report.stopped && !rig.path(".ssh/known_hosts").exists());
}

#[test]
fn a_changed_host_key_is_never_accepted() {
    let rig = Rig::plain()
        .known_host()
        .probe(ssh_failed(HOST_KEY_CHANGED));
    let done = rig.run(
        Mode::Setup,
        &Options {
            yes: true,
            ..accept()
        },
        &SLICE,
    );
    let f = done.find("host-key");
    insta::assert_snapshot!(render(f), @r"
    host-key fail: the host key of [127.0.0.1]:2222 CHANGED since it was saved in ~/.ssh/known_hosts: someone may be intercepting the connection, or the server was reinstalled
    fix: ask the server's admin for its new fingerprint; only when it matches, remove the old key with: ssh-keygen -R '[127.0.0.1]:2222' -f [HOME]/.ssh/known_hosts
    ");
    assert!(!f.fixable && done.changes().is_empty());
    assert_eq!(f.details, [HOST_KEY_CHANGED.trim()]);
    assert_eq!(rig.read(".ssh/known_hosts"), KEYSCAN);
}

#[test]
fn an_alias_is_looked_up_by_its_real_host_name_and_fetched_through_the_alias() {
    let rig = Rig::alias()
        .unknown_hosts()
        .probe(ssh_failed(HOST_KEY_UNKNOWN));
    let done = rig.run(Mode::DryRun, &accept(), &SLICE);
    let would = done.would("host-key");
    assert!(
        would.starts_with("would add the host key of [10.0.0.5]:2222 to ~/.ssh/known_hosts once you confirm its fingerprint\nwould run: ssh -o StrictHostKeyChecking=accept-new"),
        "{would}"
    );
    // ssh itself resolves the alias: HostName, ProxyJump and HostKeyAlias all apply.
    assert!(
        would.ends_with(" -T -l alice -p 2222 -- box true"),
        "{would}"
    );
}

#[test]
fn a_host_key_alias_is_looked_up_without_the_port_as_ssh_does() {
    let rig = Rig::new(rdock::sys::platform::Platform::Linux)
        .keywords_host("work")
        .unknown_hosts()
        .probe(ssh_failed(HOST_KEY_UNKNOWN));
    rig.write(".ssh/known_hosts", "");
    let done = rig.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("host-key"), @r"
    host-key fail: the host key of workbox is not in known_hosts
    fix: rdock setup work shows its fingerprint and asks (without a terminal: --host-key SHA256:… or --accept-host-key), or connect once with `ssh -p 2200 alice@work` and check the fingerprint
    ");
    assert_eq!(done.the(&["ssh-keygen", "-F"]).argv[2], "workbox");
}

/// ~/.ssh/known_hosts holds one marked line (`@revoked NAME`, `@cert-authority PATTERN`), and
/// `ssh-keygen -F` finds it there as recorded (`found`).
fn marked(rig: Rig, marker_and_name: &str, found: &str) -> Rig {
    rig.write(
        ".ssh/known_hosts",
        format!("{marker_and_name} ssh-ed25519 AAAA\n"),
    );
    let file = rig.arg(".ssh/known_hosts");
    rig.on(
        &["ssh-keygen", "-F", "[127.0.0.1]:2222", "-f", &file],
        Reply::ok(found),
    )
    .unknown_hosts()
}

#[test]
fn a_revoked_host_key_is_reported_as_revoked_and_never_offered() {
    let rig = marked(
        Rig::plain()
            .probe(ssh_failed(HOST_KEY_UNKNOWN))
            .fetches_host_key(),
        "@revoked [127.0.0.1]:2222",
        KEYGEN_F_REVOKED,
    );
    let done = rig.run(Mode::Setup, &accept(), &SLICE);
    insta::assert_snapshot!(done.render("host-key"), @r"
    host-key fail: the host key of [127.0.0.1]:2222 is marked @revoked in ~/.ssh/known_hosts: ssh refuses it
    fix: the server's admin must replace its revoked host key; then `rdock setup u@127.0.0.1:2222` shows the new fingerprint and asks
    ");
    assert!(!done.find("host-key").fixable && done.changes().is_empty());
}

#[test]
fn a_host_trusted_through_a_cert_authority_needs_no_key_of_its_own() {
    let rig = marked(
        Rig::plain().probe(Reply::ok(PROBE_SERVER)),
        "@cert-authority [127.0.0.1]:*",
        KEYGEN_F_CA,
    );
    let done = rig.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("host-key"), @"host-key ok: the host key of [127.0.0.1]:2222 is trusted through a @cert-authority in ~/.ssh/known_hosts");
}

/// ssh looks a host certificate's CA up under the bare host name too when the port is not 22
/// ("checking without port identifier"): `@cert-authority 127.0.0.1` vouches for
/// [127.0.0.1]:2222, though `ssh-keygen -F '[127.0.0.1]:2222'` finds nothing.
#[test]
fn a_cert_authority_for_the_bare_host_name_vouches_for_another_port() {
    let rig = Rig::plain().probe(Reply::ok(PROBE_SERVER));
    rig.write(
        ".ssh/known_hosts",
        "@cert-authority 127.0.0.1 ssh-ed25519 AAAA\n",
    );
    let file = rig.arg(".ssh/known_hosts");
    let rig = rig
        .on(
            &["ssh-keygen", "-F", "127.0.0.1", "-f", &file],
            Reply::ok(KEYGEN_F_CA_BARE),
        )
        .unknown_hosts();
    let done = rig.run(Mode::Setup, &options(), &SLICE);
    insta::assert_snapshot!(done.render("host-key"), @"host-key ok: the host key of [127.0.0.1]:2222 is trusted through a @cert-authority in ~/.ssh/known_hosts");
    assert!(done.changes().is_empty());
}

/// A CA line that names the host does not vouch for a key the server presents without a
/// certificate: ssh says the key is unknown, and so does the check (fixable, as any unknown key).
#[test]
fn a_cert_authority_line_does_not_vouch_for_a_key_it_did_not_sign() {
    let rig = marked(
        Rig::plain().probe(ssh_failed(HOST_KEY_UNKNOWN)),
        "@cert-authority [127.0.0.1]:*",
        KEYGEN_F_CA,
    );
    let done = rig.run(Mode::Doctor, &options(), &SLICE);
    let f = done.find("host-key");
    assert_eq!(f.status, Status::Fail, "{f:?}");
    insta::assert_snapshot!(render(f), @r"
    host-key fail: a @cert-authority in ~/.ssh/known_hosts names [127.0.0.1]:2222, but the server presents a key it has not signed (no host certificate for that name)
    fix: rdock setup u@127.0.0.1:2222 shows its fingerprint and asks (without a terminal: --host-key SHA256:… or --accept-host-key), or connect once with `ssh -p 2222 u@127.0.0.1` and check the fingerprint
    ");
    assert!(f.fixable);
}
