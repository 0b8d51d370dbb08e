//! Outcomes told as they are, and files that are not what they seem (issue 20): each test
//! stages one fault and checks that rdock says what happened and changes only what it should.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn rdock(home: &Path, args: &[&str]) -> Output {
    rdock_in(home, home, args)
}

fn rdock_in(home: &Path, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdock"))
        .args(args)
        .current_dir(cwd)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("HOME", home)
        .env_remove("DOCKER_CONFIG")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// One context in docker's store, under a folder named as docker names it (any name serves).
fn context_file(home: &Path, folder: &str, meta: &str) {
    let dir = home.join(".docker/contexts/meta").join(folder);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("meta.json"), meta).unwrap();
}

#[test]
fn one_oversized_context_is_skipped_with_a_warning_and_the_others_work() {
    let home = tempfile::tempdir().unwrap();
    context_file(
        home.path(),
        "good",
        r#"{"Name":"good","Metadata":{"Description":"managed by rdock"},"Endpoints":{"docker":{"Host":"ssh://u@127.0.0.1:1"}}}"#,
    );
    // docker context ls lists this one; its file is over rdock's 1 MiB bound.
    let huge = format!(
        r#"{{"Name":"huge","Metadata":{{"Description":"{}"}},"Endpoints":{{"docker":{{"Host":"ssh://u@127.0.0.1:1"}}}}}}"#,
        "x".repeat(1 << 20)
    );
    context_file(home.path(), "huge", &huge);

    let list = rdock(home.path(), &["list", "--json"]);
    let (out, err) = (text(&list.stdout), text(&list.stderr));
    assert_eq!(list.status.code(), Some(0), "{out}{err}");
    assert!(
        out.contains("\"good\"") && !out.contains("\"huge\""),
        "{out}"
    );
    assert!(
        err.contains("skipped a docker context") && err.contains("huge/meta.json"),
        "{err}"
    );

    // doctor checks the readable one (and fails to reach it: nothing listens on port 1).
    let doctor = rdock(home.path(), &["doctor", "--all", "--json"]);
    let (out, err) = (text(&doctor.stdout), text(&doctor.stderr));
    assert!(out.contains("\"good\""), "{out}{err}");
    assert!(err.contains("huge/meta.json"), "{err}");
}

/// A cloned repository can carry `.vscode/settings.json -> ../../.docker/config.json`.
#[cfg(unix)]
#[test]
fn a_workspace_settings_file_linked_out_of_the_workspace_is_left_alone() {
    use std::os::unix::fs::symlink;
    let home = tempfile::tempdir().unwrap();
    context_file(
        home.path(),
        "one",
        r#"{"Name":"one","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://u@127.0.0.1:1"}}}"#,
    );
    let config = home.path().join(".docker/config.json");
    let before = "{\n\t\"auths\": {}\n}\n";
    fs::write(&config, before).unwrap();
    let ws = home.path().join("src/repo");
    fs::create_dir_all(ws.join(".vscode")).unwrap();
    symlink(
        "../../../.docker/config.json",
        ws.join(".vscode/settings.json"),
    )
    .unwrap();

    for args in [
        &["vscode", "--workspace", ".", "--context", "one"][..],
        &[
            "--dry-run",
            "vscode",
            "--workspace",
            ".",
            "--context",
            "one",
        ],
    ] {
        let out = rdock_in(home.path(), &ws, args);
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(
            fs::read_to_string(&config).unwrap(),
            before,
            "{args:?}: {all}"
        );
        assert!(
            all.contains("symbolic link out of the workspace"),
            "{args:?}: {all}"
        );
    }
    let out = rdock_in(
        home.path(),
        &ws,
        &["vscode", "--workspace", ".", "--context", "one"],
    );
    assert_eq!(out.status.code(), Some(1));
    // The folder linked out is the same fault.
    fs::remove_file(ws.join(".vscode/settings.json")).unwrap();
    fs::remove_dir(ws.join(".vscode")).unwrap();
    symlink("../../.docker", ws.join(".vscode")).unwrap();
    let out = rdock_in(
        home.path(),
        &ws,
        &["vscode", "--workspace", ".", "--context", "one"],
    );
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(!home.path().join(".docker/settings.json").exists(), "{all}");
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// A home others can write: sshd's StrictModes refuses it on the server; rdock makes no private
/// key in it, and doctor warns of a key already there.
#[test]
fn no_private_key_is_made_in_a_home_others_can_write_and_doctor_warns() {
    use crate::steps::{options, Rig};
    use rdock::steps::plan::Options;
    use rdock::steps::{Mode, Status};
    use rdock::sys::exec::Reply;
    use rdock::sys::platform::Platform;

    let rig = Rig::new(Platform::Linux);
    let path = rig.arg(".ssh/id_ed25519");
    let keygen = ["ssh-keygen", "-q", "-t", "ed25519", "-f", &path, "-N", ""];
    let rig = rig.on(&keygen, Reply::ok(""));
    chmod(rig.home(), 0o777);
    let o = Options {
        identity: Some(rig.path(".ssh/id_ed25519")),
        no_passphrase: true,
        ..options()
    };
    let done = rig.run(Mode::Setup, &o, &["key"]);
    let f = done.find("key");
    assert_eq!(f.status, Status::Fail, "{f:?}");
    assert!(f.message.contains("is mode 0777"), "{}", f.message);
    assert!(
        f.fix.as_deref().unwrap_or("").starts_with("chmod go-w "),
        "{f:?}"
    );
    assert!(done.changes().is_empty(), "{:?}", done.changes());
    assert!(!rig.path(".ssh").exists(), "nothing made");
    chmod(rig.home(), 0o700);

    // A key already there: doctor warns of the open folder.
    let rig = Rig::plain().key();
    chmod(&rig.path(".ssh"), 0o777);
    let done = rig.run(Mode::Doctor, &options(), &["destination", "key"]);
    let f = done.find("key");
    assert_eq!(f.status, Status::Warn, "{f:?}");
    assert!(
        f.message
            .contains("~/.ssh is mode 0777: others can write it"),
        "{}",
        f.message
    );
    chmod(&rig.path(".ssh"), 0o700);
}
