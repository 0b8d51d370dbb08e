//! `rdock vscode`, the command, run as a process.

use super::*;

fn rdock(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdock"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("NO_COLOR", "1")
        .env_remove("VSCODE_PORTABLE")
        .env_remove("APPDATA")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn command_edits_then_a_second_run_changes_nothing() {
    let home = home_with_editors(&["Code"]);
    let file = settings(home.path(), "Code");
    fs::write(&file, "{\r\n\t// mine\r\n\t\"a\": 1,\r\n}\r\n").unwrap();

    let first = rdock(home.path(), &["vscode"]);
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    assert!(
        stdout(&first).contains("set docker.explorerRefreshInterval to 3000 in"),
        "{}",
        stdout(&first)
    );
    assert!(stdout(&first)
        .trim_end()
        .ends_with("1 settings file changed"));
    let edited = fs::read(&file).unwrap();
    assert_eq!(
        edited,
        b"{\r\n\t// mine\r\n\t\"a\": 1,\r\n\t\"docker.explorerRefreshInterval\": 3000,\r\n}\r\n"
    );

    let second = rdock(home.path(), &["vscode"]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stdout(&second).trim_end().ends_with("nothing changed"),
        "{}",
        stdout(&second)
    );
    assert_eq!(fs::read(&file).unwrap(), edited);
}

#[test]
fn command_fails_on_a_malformed_file_after_editing_the_others() {
    let home = home_with_editors(&["Code", "Cursor"]);
    let good = settings(home.path(), "Cursor");
    let bad = settings(home.path(), "Code");
    fs::write(&good, "{}").unwrap();
    let broken = b"{\n  \"a\": \x00\xff\n";
    fs::write(&bad, broken).unwrap();

    let out = rdock(home.path(), &["vscode", "--refresh-interval", "4000"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(fs::read(&bad).unwrap(), broken);
    assert_eq!(
        fs::read_to_string(&good).unwrap(),
        "{\n    \"docker.explorerRefreshInterval\": 4000\n}"
    );
    let text = stdout(&out);
    assert!(
        text.contains("✗ vscode:Code") && text.contains("at line 2, column 9"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("1 settings file changed; 1 failed"),
        "{text}"
    );
}

#[test]
fn command_dry_run_writes_nothing() {
    let home = home_with_editors(&["Code", "Cursor"]);
    let code = settings(home.path(), "Code");
    fs::write(&code, "{\"a\": 1}").unwrap();
    let out = rdock(home.path(), &["--dry-run", "vscode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("would set docker.explorerRefreshInterval to 3000 in"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("would create"), "{}", stdout(&out));
    assert!(stdout(&out)
        .trim_end()
        .ends_with("2 settings files would change (--dry-run: nothing was written)"));
    assert_eq!(fs::read_to_string(&code).unwrap(), "{\"a\": 1}");
    assert!(!settings(home.path(), "Cursor").exists());
}

#[test]
fn command_refuses_an_interval_below_one_second() {
    let home = home_with_editors(&["Code"]);
    let out = rdock(home.path(), &["vscode", "--refresh-interval", "999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!settings(home.path(), "Code").exists());
}
