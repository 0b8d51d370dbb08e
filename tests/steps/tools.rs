//! tools: the five client tools on PATH (a scripted Exec has the programs its script names), and
//! their versions from `ssh -V` (stderr) and `docker --version`.

use std::path::Path;

use rdock::steps::{Mode, Status};
use rdock::sys::exec::Reply;
use rdock::sys::platform::Platform;

use super::{options, render, Rig};

/// A rig whose PATH holds ssh and docker (their version commands) and these other tools.
fn with(platform: Platform, others: &[&str]) -> Rig {
    let rig = Rig::new(platform).versions();
    others
        .iter()
        .fold(rig, |rig, tool| rig.on_prefix(&[tool], Reply::ok("")))
}

#[test]
fn all_four_on_path_report_the_recorded_versions() {
    let rig = with(Platform::Linux, &["ssh-keygen", "ssh-add"]);
    for mode in [Mode::Doctor, Mode::Setup] {
        let done = rig.run(mode, &options(), &["tools"]);
        let f = done.find("tools");
        // The same in each mode.
        insta::allow_duplicates! { insta::assert_snapshot!(render(f), @"tools ok: ssh, ssh-keygen, ssh-add, docker on PATH (OpenSSH_9.2p1, docker 28.2.2)"); }
        let at = |tool| format!("{tool}: {}", Path::new("/scripted").join(tool).display());
        assert_eq!(
            f.details,
            ["ssh", "ssh-keygen", "ssh-add", "docker"].map(at)
        );
        assert_eq!(done.ran(), ["ssh -V", "docker --context default --version"]);
    }
}

#[test]
fn missing_tools_fail_with_one_install_hint_per_package() {
    let rig = with(Platform::Linux, &["ssh-keygen"]);
    let done = rig.run(Mode::Setup, &options(), &["tools"]);
    insta::assert_snapshot!(done.render("tools"), @r"
    tools fail: not on PATH: ssh-add
    fix: sudo apt-get install openssh-client (Debian/Ubuntu) or sudo dnf install openssh-clients (Fedora)
    ");
    assert!(
        done.report.stopped,
        "setup stops: every later step needs the tools"
    );

    // Windows without the OpenSSH client and the docker CLI: one line for the four ssh tools.
    let done = Rig::new(Platform::Windows).run(Mode::Doctor, &options(), &["tools"]);
    insta::assert_snapshot!(done.render("tools"), @r"
    tools fail: not on PATH: ssh, ssh-keygen, ssh-add, docker
    fix: Add-WindowsCapability -Online -Name OpenSSH.Client~~~~0.0.1.0 (elevated PowerShell)
         winget install Docker.DockerCLI, or install Docker Desktop
    ");
    assert!(
        done.ran().is_empty(),
        "no version is asked of a missing tool"
    );
}

#[test]
fn a_cli_that_dials_on_every_call_is_named_when_an_ssh_context_is_current() {
    let debian12 = |current: Option<&str>| {
        ["ssh-keygen", "ssh-add"]
            .iter()
            .fold(Rig::new(Platform::Linux), |rig, tool| {
                rig.on_prefix(&[tool], Reply::ok(""))
            })
            .on(&["ssh", "-V"], super::recorded::ssh_v())
            .on(
                &["docker", "--context", "default", "--version"],
                Reply::ok("Docker version 20.10.24+dfsg1, build 297e128\n"),
            )
            .store(&[("box", "ssh://alice@box:2222")], current)
    };
    let done = debian12(Some("box")).run(Mode::Doctor, &options(), &["tools"]);
    insta::assert_snapshot!(done.render("tools"), @r"
    tools warn: ssh, ssh-keygen, ssh-add, docker on PATH (OpenSSH_9.2p1, docker 20.10.24); docker CLI 20.10.24 connects to the current context on every call, so with an ssh:// context current every docker command pays an ssh round trip
    fix: upgrade the docker CLI to 25.0 or later (fixed in 23.0.7 and 24.0.6): see https://docs.docker.com/engine/install/
    ");
    // With the local default current, the round trip costs nothing: no warning.
    let done = debian12(None).run(Mode::Doctor, &options(), &["tools"]);
    assert_eq!(done.find("tools").status, Status::Ok);
}
