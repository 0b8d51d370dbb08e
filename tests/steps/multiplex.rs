//! multiplex: doctor reports connection sharing and the master's state; `setup --multiplex`
//! writes rdock's Host block. Windows OpenSSH has no ControlMaster.

use rdock::ssh::multiplex::SESSIONS_NOTE;
use rdock::steps::plan::Options;
use rdock::steps::{Mode, Outcome};
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{options, render, Rig};

const SLICE: [&str; 2] = ["destination", "multiplex"];

fn multiplex() -> Options {
    Options {
        multiplex: true,
        ..options()
    }
}

/// The block setup writes for 127.0.0.1 and context box.
const BLOCK: &str = "# >>> rdock managed: multiplex box >>>\nHost 127.0.0.1\n    ControlMaster auto\n    ControlPath ~/.ssh/rdock-%C\n    ControlPersist 10m\n# <<< rdock managed: multiplex box <<<\n";

#[test]
fn doctor_reports_multiplexing_off_without_failing() {
    let done = Rig::plain().run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("multiplex"), @"multiplex ok: multiplexing is off for 127.0.0.1 (rdock setup --multiplex turns it on)");
    assert_eq!(
        done.ran().len(),
        2,
        "only ssh -G twice: no master to ask about"
    );
}

#[test]
fn setup_multiplex_writes_the_block_on_linux_and_macos() {
    for platform in [Platform::Linux, Platform::MacOs] {
        let rig = Rig::new(platform).plain_host().on(
            &[
                "ssh",
                "-O",
                "check",
                "-l",
                "u",
                "-p",
                "2222",
                "--",
                "127.0.0.1",
            ],
            o_check_none(),
        );
        let dry = rig.run(Mode::DryRun, &multiplex(), &SLICE);
        // The same on each platform.
        insta::allow_duplicates! { insta::assert_snapshot!(dry.render("multiplex"), @r"
        multiplex fail: multiplexing is off for 127.0.0.1
        fix: rdock setup u@127.0.0.1:2222 --multiplex
        "); }
        assert_eq!(
            dry.would("multiplex"),
            format!("would add to ~/.ssh/config:\n  Host 127.0.0.1\n      ControlMaster auto\n      ControlPath ~/.ssh/rdock-%C\n      ControlPersist 10m\n{SESSIONS_NOTE}"),
            "{platform:?}"
        );
        assert!(!rig.path(".ssh/config").exists());

        let done = rig.run(Mode::Setup, &multiplex(), &SLICE);
        let f = done.find("multiplex");
        insta::allow_duplicates! { insta::assert_snapshot!(render(f), @"multiplex ok: multiplexing is on (rdock's block in ~/.ssh/config); the next connection opens a master"); }
        assert_eq!(
            f.outcome,
            Some(Outcome::Done(format!(
                "added a multiplexing block for 127.0.0.1 to ~/.ssh/config\n{SESSIONS_NOTE}"
            )))
        );
        assert!(SESSIONS_NOTE.contains("MaxSessions 30"));
        assert!(SESSIONS_NOTE.contains("Session open refused by peer"));
        assert_eq!(rig.read(".ssh/config"), BLOCK, "{platform:?}");
        assert_eq!(done.ran()[2], "ssh -O check -l u -p 2222 -- 127.0.0.1");
    }
}

#[test]
fn a_users_own_controlmaster_is_on_and_its_master_is_read() {
    let check = [
        "ssh", "-O", "check", "-l", "alice", "-p", "2222", "--", "box",
    ];
    let running = Rig::alias().on(&check, o_check_running());
    let done = running.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("multiplex"), @"multiplex ok: multiplexing is on (your ssh config); a master connection is open");

    let stale = Rig::alias().on(&check, o_check_stale());
    let done = stale.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(done.render("multiplex"), @r"
    multiplex warn: multiplexing is on (your ssh config), but ~/.ssh/rdock-604b0fa15d800a200c57d14aed033193f736bdcd is a stale control socket: its master died (the next ssh replaces it)
    fix: rm [HOME]/.ssh/rdock-604b0fa15d800a200c57d14aed033193f736bdcd
    ");
}

#[test]
fn windows_has_no_multiplexing_and_setup_refuses_to_write_it() {
    let rig = Rig::new(Platform::Windows).plain_host();
    let doctor = rig.run(Mode::Doctor, &options(), &SLICE);
    insta::assert_snapshot!(doctor.render("multiplex"), @"multiplex ok: multiplexing does not exist on Windows OpenSSH");
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
