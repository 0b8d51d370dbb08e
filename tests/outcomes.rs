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
