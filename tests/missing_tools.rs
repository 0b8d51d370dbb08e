//! rdock's binary on a machine without the tools it drives: it stops before anything runs, and
//! says how to install them. No sandbox: this runs in any `cargo test`.

#[test]
fn a_missing_tool_stops_setup_with_the_way_to_install_it() {
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rdock"))
        .args(["setup", "u@example.invalid", "--yes", "--no-passphrase"])
        .env_clear()
        .env("PATH", home.path())
        .env("HOME", home.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("✗ tools          not on PATH: ssh, ssh-keygen, ssh-add, docker"),
        "{stdout}"
    );
    assert!(
        stdout.contains("apt-get install openssh-client"),
        "{stdout}"
    );
    assert!(stdout.contains("docker.io"), "{stdout}");
    // Only rdock's own lock file, nothing of the user's.
    let mut files = Vec::new();
    let mut dirs = vec![home.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            if entry.path().is_dir() {
                dirs.push(entry.path());
            } else {
                files.push(
                    entry
                        .path()
                        .strip_prefix(home.path())
                        .unwrap()
                        .to_path_buf(),
                );
            }
        }
    }
    assert_eq!(files, [std::path::PathBuf::from(".local/state/rdock/lock")]);
}
