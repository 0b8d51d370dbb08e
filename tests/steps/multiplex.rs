//! multiplex: doctor reports connection sharing and the master's state; `setup --multiplex`
//! writes rdock's Host block. Windows OpenSSH has no ControlMaster.

use rdock::steps::plan::Options;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::exec::quote;
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{options, said, Rig};

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
    assert_eq!(
        said(done.find("multiplex")),
        (
            Status::Ok,
            "multiplexing is off for 127.0.0.1 (rdock setup --multiplex turns it on)",
            None
        )
    );
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
        assert_eq!(
            said(dry.find("multiplex")),
            (
                Status::Fail,
                "multiplexing is off for 127.0.0.1",
                Some("rdock setup u@127.0.0.1:2222 --multiplex")
            ),
            "{platform:?}"
        );
        assert_eq!(
            dry.would("multiplex"),
            "would add to ~/.ssh/config:\n  Host 127.0.0.1\n      ControlMaster auto\n      ControlPath ~/.ssh/rdock-%C\n      ControlPersist 10m",
            "{platform:?}"
        );
        assert!(!rig.path(".ssh/config").exists());

        let done = rig.run(Mode::Setup, &multiplex(), &SLICE);
        let f = done.find("multiplex");
        assert_eq!(
            said(f),
            (
                Status::Ok,
                "multiplexing is on (rdock's block in ~/.ssh/config); the next connection opens a master",
                None
            ),
            "{platform:?}"
        );
        assert_eq!(
            f.outcome,
            Some(Outcome::Done(
                "added a multiplexing block for 127.0.0.1 to ~/.ssh/config".into()
            ))
        );
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
    assert_eq!(
        said(done.find("multiplex")),
        (
            Status::Ok,
            "multiplexing is on (your ssh config); a master connection is open",
            None
        )
    );

    let stale = Rig::alias().on(&check, o_check_stale());
    let socket = stale.arg(".ssh/rdock-604b0fa15d800a200c57d14aed033193f736bdcd");
    let done = stale.run(Mode::Doctor, &options(), &SLICE);
    assert_eq!(
        said(done.find("multiplex")),
        (
            Status::Warn,
            "multiplexing is on (your ssh config), but ~/.ssh/rdock-604b0fa15d800a200c57d14aed033193f736bdcd is a stale control socket: its master died (the next ssh replaces it)",
            Some(format!("rm {}", quote(&socket)).as_str())
        )
    );
}

#[test]
fn windows_has_no_multiplexing_and_setup_refuses_to_write_it() {
    let rig = Rig::new(Platform::Windows).plain_host();
    let doctor = rig.run(Mode::Doctor, &options(), &SLICE);
    assert_eq!(
        said(doctor.find("multiplex")),
        (
            Status::Ok,
            "multiplexing does not exist on Windows OpenSSH",
            None
        )
    );
    let done = rig.run(Mode::Setup, &multiplex(), &SLICE);
    let f = done.find("multiplex");
    assert_eq!(
        said(f),
        (
            Status::Fail,
            "Windows OpenSSH has no ControlMaster",
            Some("leave out --multiplex on Windows")
        )
    );
    assert!(
        !f.fixable && !done.report.stopped,
        "multiplex never stops setup"
    );
    assert!(!rig.path(".ssh/config").exists());
    assert!(done.ran().iter().all(|c| !c.starts_with("ssh -O")));
}
