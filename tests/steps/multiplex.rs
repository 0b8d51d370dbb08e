//! multiplex: doctor reports connection sharing and the master's state; setup offers it where
//! one docker command is slow (`--yes` takes it), `--multiplex` writes rdock's block whatever the
//! link, `--no-multiplex` takes it out. Windows OpenSSH has no ControlMaster.

use rdock::ssh::multiplex::SESSIONS_NOTE;
use rdock::steps::plan::Options;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{options, render, Rig};

const SLICE: [&str; 2] = ["destination", "multiplex"];
/// What the master's state is asked with.
const O_CHECK: [&str; 9] = [
    "ssh",
    "-O",
    "check",
    "-l",
    "u",
    "-p",
    "2222",
    "--",
    "127.0.0.1",
];
/// The docker call whose time setup's offer and doctor's report read.
const VERSION: [&str; 6] = [
    "docker",
    "--context",
    "box",
    "version",
    "--format",
    "{{.Server.Version}}",
];

fn multiplex() -> Options {
    Options {
        multiplex: true,
        ..options()
    }
}

/// The block setup writes for 127.0.0.1 and context box.
fn block(platform: Platform) -> String {
    format!(
        "# >>> rdock managed: multiplex box >>>\n{}# <<< rdock managed: multiplex box <<<\n",
        rdock::ssh::multiplex::block_body("127.0.0.1", platform)
    )
}

#[test]
fn doctor_reports_multiplexing_off_without_failing() {
    let done = Rig::plain().run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("multiplex"), @"multiplex ok: connections are not shared for 127.0.0.1 (rdock setup u@127.0.0.1:2222 --multiplex shares one)");
    assert_eq!(
        done.ran().len(),
        2,
        "only ssh -G twice: no master to ask about, and no context to time"
    );
}

#[test]
fn setup_multiplex_writes_the_block_on_linux_and_macos() {
    for platform in [Platform::Linux, Platform::MacOs] {
        let rig = Rig::new(platform)
            .plain_host()
            .on(&O_CHECK, o_check_none())
            .on(&VERSION, rdock::sys::exec::Reply::ok("28.2.2\n"));
        let dry = rig.run(Mode::DryRun, &multiplex(), &SLICE);
        // The same on each platform.
        insta::allow_duplicates! { insta::assert_snapshot!(dry.render("multiplex"), @"
        multiplex warn: connections are not shared for 127.0.0.1: each docker command logs in anew
        fix: rdock setup u@127.0.0.1:2222 --multiplex
        "); }
        assert_eq!(
            dry.would("multiplex"),
            format!(
                "would add to ~/.ssh/config:\n{}{SESSIONS_NOTE}",
                rdock::ssh::multiplex::block_body("127.0.0.1", platform)
                    .lines()
                    .map(|l| format!("  {l}\n"))
                    .collect::<String>()
            ),
            "{platform:?}"
        );
        assert!(!rig.path(".ssh/config").exists());

        let done = rig.run(Mode::Setup, &multiplex(), &SLICE);
        let f = done.find("multiplex");
        insta::allow_duplicates! { insta::assert_snapshot!(render(f), @"multiplex ok: connections are shared for 127.0.0.1 (rdock's block in ~/.ssh/config); the next connection opens a master; one docker command took 0.00 s here before"); }
        assert_eq!(
            f.outcome,
            Some(Outcome::Done(format!(
                "docker commands to 127.0.0.1 now share one connection: added a multiplexing block to ~/.ssh/config\n{SESSIONS_NOTE}"
            )))
        );
        assert!(SESSIONS_NOTE.contains("MaxSessions 30"));
        assert_eq!(rig.read(".ssh/config"), block(platform), "{platform:?}");
        assert!(done
            .ran()
            .contains(&"ssh -O check -l u -p 2222 -- 127.0.0.1".to_string()));

        // --no-multiplex takes it out again, master first.
        let off = Options {
            no_multiplex: true,
            ..options()
        };
        let rig = rig.on(
            &[
                "ssh",
                "-O",
                "exit",
                "-l",
                "u",
                "-p",
                "2222",
                "--",
                "127.0.0.1",
            ],
            o_check_none(),
        );
        let done = rig.run(Mode::Setup, &off, &SLICE);
        let f = done.find("multiplex");
        assert_eq!(
            (f.status, f.message.as_str(), f.fix.as_deref()),
            (
                Status::Ok,
                "connections are not shared for 127.0.0.1 (--no-multiplex)",
                None
            ),
            "{platform:?}"
        );
        assert_eq!(rig.read(".ssh/config"), "", "{platform:?}");
        assert!(done
            .ran()
            .contains(&"ssh -O exit -l u -p 2222 -- 127.0.0.1".to_string()));
    }
}

#[test]
fn a_users_own_controlmaster_is_on_and_its_master_is_read() {
    let check = [
        "ssh", "-O", "check", "-l", "alice", "-p", "2222", "--", "box",
    ];
    let running = Rig::alias().on(&check, o_check_running());
    let done = running.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("multiplex"), @"multiplex ok: connections are shared for box (your ssh config); a master connection is open");

    let stale = Rig::alias().on(&check, o_check_stale());
    let done = stale.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("multiplex"), @"
    multiplex warn: connections are shared for box (your ssh config), but ~/.ssh/rdock-604b0fa15d800a200c57d14aed033193f736bdcd is a stale control socket: its master died (the next ssh replaces it)
    fix: rm [HOME]/.ssh/rdock-604b0fa15d800a200c57d14aed033193f736bdcd
    ");
}

#[test]
fn windows_has_no_multiplexing_and_setup_refuses_to_write_it() {
    let rig = Rig::new(Platform::Windows)
        .plain_host()
        .on(&VERSION, rdock::sys::exec::Reply::ok("28.2.2\n"));
    let doctor = rig.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(doctor.render("multiplex"), @"multiplex ok: connections are not shared: Windows OpenSSH has no ControlMaster");
    let done = rig.run(Mode::Setup, &multiplex(), &SLICE);
    let f = done.find("multiplex");
    insta::assert_snapshot!(render(f), @r"
    multiplex fail: Windows OpenSSH has no ControlMaster
    fix: leave out --multiplex on Windows
    ");
    assert!(
        !f.fixable && !done.report.stopped,
        "multiplex never stops setup"
    );
    assert!(!rig.path(".ssh/config").exists());
    assert!(done.ran().iter().all(|c| !c.starts_with("ssh -O")));
}

#[test]
fn setup_offers_no_sharing_where_the_link_is_near() {
    let check = O_CHECK;
    // Quick (the scripted docker answers at once, and nothing listens on 127.0.0.1:2222 to time
    // a round trip to): nothing offered, nothing written.
    let rig = Rig::new(Platform::Linux)
        .plain_host()
        .on(&check, o_check_none())
        .on(&VERSION, rdock::sys::exec::Reply::ok("28.2.2\n"));
    let yes = Options {
        yes: true,
        ..options()
    };
    let done = rig.run(Mode::Setup, &yes, &SLICE);
    let f = done.find("multiplex");
    assert_eq!(f.status, Status::Ok, "{f:?}");
    assert!(
        f.message.contains("quick enough that sharing saves little"),
        "{f:?}"
    );
    assert!(!rig.path(".ssh/config").exists());
}

#[test]
fn an_older_block_without_keepalives_is_named_and_setup_replaces_it() {
    let old = "# >>> rdock managed: multiplex box >>>\nHost 127.0.0.1\n    ControlMaster auto\n    ControlPath ~/.ssh/rdock-%C\n    ControlPersist 10m\n# <<< rdock managed: multiplex box <<<\n";
    let rig = Rig::new(Platform::Linux)
        .plain_host()
        .on(&O_CHECK, o_check_none())
        .on(&VERSION, rdock::sys::exec::Reply::ok("28.2.2\n"));
    rig.write(".ssh/config", old);
    let doctor = rig.run(Mode::Doctor, &options(), &SLICE);
    let f = doctor.find("multiplex");
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert!(f.message.contains("without keepalives"), "{f:?}");
    assert!(!f.fixable, "doctor only reports");
    let yes = Options {
        yes: true,
        ..options()
    };
    let done = rig.run(Mode::Setup, &yes, &SLICE);
    assert_eq!(done.find("multiplex").status, Status::Ok);
    assert_eq!(rig.read(".ssh/config"), block(Platform::Linux));
}
