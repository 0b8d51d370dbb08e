//! destination: what `ssh -G` makes of the destination, and where the user came from.

use std::path::PathBuf;

use rdock::ssh::multiplex::Master;
use rdock::ssh::probe::Connect;
use rdock::steps::Mode;
use rdock::sys::exec::Reply;
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{options, Rig};

#[test]
fn a_user_and_port_in_the_destination_are_passed_to_ssh_g_before_the_double_dash() {
    let rig = Rig::plain();
    let done = rig.run(Mode::Doctor, &options(), &["destination"]);
    insta::assert_snapshot!(done.render("destination"), @"destination ok: u@127.0.0.1:2222, user from the destination");
    // `ssh -G -F none` tells what came from ssh_config: here, no IdentityFile.
    assert_eq!(
        done.ran(),
        [
            "ssh -G -l u -p 2222 -- 127.0.0.1",
            "ssh -G -F none -l u -p 2222 -- 127.0.0.1"
        ]
    );
    let r = done.s.resolved.as_ref().unwrap();
    let known = [".ssh/known_hosts", ".ssh/known_hosts2"].map(|f| rig.arg(f));
    assert_eq!(r.user_known_hosts, known, "ssh's home is the test's");
    assert!(
        r.hash_known_hosts,
        "Debian's /etc/ssh/ssh_config says HashKnownHosts yes"
    );
    assert_eq!(r.control_master, None, "controlmaster false is off");
}

#[test]
fn a_host_alias_shows_the_real_host_and_the_user_from_ssh_config() {
    let done = Rig::alias().run(Mode::Doctor, &options(), &["destination"]);
    insta::assert_snapshot!(done.render("destination"), @"destination ok: alice@10.0.0.5:2222 (via box), user from ssh_config");
    assert_eq!(done.ran(), ["ssh -G -- box", "ssh -G -F none -- box"]);
    let r = done.s.resolved.as_ref().unwrap();
    assert_eq!(r.endpoint(), "ssh://alice@box:2222");
    assert_eq!(r.identity_files, ["~/.ssh/id_box"]);
    assert_eq!(r.control_master.as_deref(), Some("auto"));
}

#[test]
fn no_user_anywhere_warns_that_the_local_name_was_assumed() {
    let rig = Rig::new(Platform::Linux)
        .dest("127.0.0.1")
        .on(
            &["ssh", "-G", "--", "127.0.0.1"],
            Reply::ok(SSH_G_LOCAL_USER),
        )
        .on(
            &["ssh", "-G", "-F", "none", "--", "127.0.0.1"],
            Reply::ok(SSH_G_LOCAL_USER_F_NONE),
        );
    let done = rig.run(Mode::Setup, &options(), &["destination"]);
    insta::assert_snapshot!(done.render("destination"), @r"
    destination warn: root@127.0.0.1:22: no user given, so your local user name root was assumed
    fix: if the remote account differs: rdock setup USER@127.0.0.1
    ");
    assert!(!done.report.stopped);
}

#[test]
fn a_config_ssh_cannot_read_fails_and_stops_setup() {
    let rig = Rig::new(Platform::Linux)
        .dest("box")
        .on(&["ssh", "-G", "--", "box"], ssh_g_bad_config());
    let done = rig.run(Mode::Setup, &options(), &["destination", "key"]);
    insta::assert_snapshot!(done.render("destination"), @r"
    destination fail: `ssh -G` could not resolve box: badcfg: terminating, 1 bad configuration options
    fix: check ~/.ssh/config: `ssh -G HOST` must work
    ");
    assert!(done.report.stopped);
    assert_eq!(done.ids(), ["destination"]);
}

#[test]
fn without_a_destination_the_step_is_skipped_and_runs_nothing() {
    let done = Rig::new(Platform::Linux).run(Mode::Doctor, &options(), &["destination"]);
    insta::assert_snapshot!(done.render("destination"), @"destination skip: skipped: no destination given");
    assert!(done.ran().is_empty());
}

#[test]
fn doctor_reads_the_control_master_before_its_probe_connects() {
    let rig = Rig::alias()
        .on(
            &[
                "ssh", "-O", "check", "-l", "alice", "-p", "2222", "--", "box",
            ],
            o_check_stale(),
        )
        .probe(Reply::ok(PROBE_SERVER));
    let s = rig.session(Mode::Doctor);
    let mut steps = rig.steps(
        rdock::steps::plan::Purpose::Doctor,
        &options(),
        &["destination", "connection", "multiplex"],
    );
    let done = rig.run_in(s, Mode::Doctor, &mut steps);
    let socket = PathBuf::from(rig.arg(".ssh/rdock-604b0fa15d800a200c57d14aed033193f736bdcd"));
    // The facts phase gathered both before any check, the master's state first.
    assert_eq!(done.s.facts.master, Some(Some(Ok(Master::Stale(socket)))));
    let probe = done.s.facts.probe.as_ref().expect("the probe ran");
    assert_eq!(probe.connect, Connect::Ok);
    assert_eq!(done.ran()[2], "ssh -O check -l alice -p 2222 -- box");
    assert_eq!(done.ran().len(), 4, "{:?}", done.ran());
}

#[test]
fn one_resolution_reads_every_keyword_that_decides_the_key_the_agent_and_the_route() {
    let rig = Rig::new(Platform::Linux).keywords_host("work");
    let done = rig.run(Mode::Doctor, &options(), &["destination"]);
    assert_eq!(done.ran(), ["ssh -G -- work", "ssh -G -F none -- work"]);
    let r = done.s.resolved.as_ref().unwrap();
    assert_eq!(r.identity_files, ["~/.ssh/work_ed25519"]);
    assert!(r.identity_file_configured);
    assert!(r.identities_only);
    assert_eq!(
        r.identity_agent.as_deref(),
        Some(rig.arg(".agent/work.sock").as_str()),
        "ssh -G prints IdentityAgent with ~ expanded"
    );
    assert_eq!(r.proxy_jump.as_deref(), Some("jump@bastion:2022"));
    assert_eq!(r.proxy_command, None);
    assert_eq!(r.certificate_files, ["~/.ssh/work_ed25519-cert.pub"]);
    assert_eq!(
        r.known_hosts_name(),
        "workbox",
        "ssh looks a HostKeyAlias up without the port"
    );
    // No key exists: the new one goes where IdentityFile says, and the probe would offer it.
    assert_eq!(r.identity, Some(rig.path(".ssh/work_ed25519")));
}

#[test]
fn proxy_command_and_identity_agent_none_are_read_and_default_identity_files_are_not_configured() {
    let rig = Rig::new(Platform::Linux).keywords_host("legacy");
    let done = rig.run(Mode::Doctor, &options(), &["destination"]);
    let r = done.s.resolved.as_ref().unwrap();
    assert_eq!(r.proxy_command.as_deref(), Some("nc %h %p"));
    assert_eq!(r.proxy_jump, None);
    assert_eq!(r.identity_agent.as_deref(), Some("none"));
    assert!(!r.identities_only);
    assert!(r.certificate_files.is_empty());
    assert!(
        !r.identity_file_configured,
        "ssh's default list is the same with -F none"
    );
    assert_eq!(r.identity, Some(rig.path(".ssh/id_ed25519")));
}

#[test]
fn the_key_ssh_offers_is_the_first_existing_identity_file_in_ssh_s_order() {
    // Only an old RSA key: ssh tries ~/.ssh/id_rsa first, so that is the key, and no new
    // ed25519 key is planned.
    let rig = Rig::new(Platform::Linux).keywords_host("envagent");
    rig.private(".ssh/id_rsa", KEY);
    rig.private(".ssh/id_ed25519_sk", KEY);
    let done = rig.run(Mode::Doctor, &options(), &["destination"]);
    let r = done.s.resolved.as_ref().unwrap();
    assert_eq!(r.identity, Some(rig.path(".ssh/id_rsa")));
    assert_eq!(r.identity_agent.as_deref(), Some("/run/user/0/agent.sock"));
    // --identity comes first, whatever exists.
    let mut o = options();
    o.identity = Some(PathBuf::from("/keys/mine"));
    let done = rig.run(Mode::Doctor, &o, &["destination"]);
    assert_eq!(
        done.s.resolved.as_ref().unwrap().identity,
        Some(PathBuf::from("/keys/mine"))
    );
}
