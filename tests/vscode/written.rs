//! How rdock writes settings files (links, modes, --dry-run, doctor's findings) and what the
//! editor steps say about environment overrides and extensions.

use super::*;

#[cfg(unix)]
#[test]
fn a_symlinked_settings_file_stays_a_link_and_its_target_is_edited() {
    let home = home_with_editors(&["Code"]);
    let dotfiles = home.path().join("dotfiles/vscode.json");
    fs::create_dir_all(dotfiles.parent().unwrap()).unwrap();
    fs::write(&dotfiles, "{\n  \"a\": 1,\n}\n").unwrap();
    let link = settings(home.path(), "Code");
    std::os::unix::fs::symlink("../../../dotfiles/vscode.json", &link).unwrap();

    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Setup,
        false,
    );
    assert_eq!(report.changed, 1);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(&dotfiles).unwrap(),
        "{\n  \"a\": 1,\n  \"docker.explorerRefreshInterval\": 3000,\n}\n"
    );
    assert_eq!(
        fs::read_dir(user_dir(home.path(), "Code")).unwrap().count(),
        1
    );
}

#[cfg(unix)]
#[test]
fn the_mode_of_an_existing_file_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let home = home_with_editors(&["Code"]);
    let file = settings(home.path(), "Code");
    fs::write(&file, "{}").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Setup,
        false,
    );
    assert_eq!(report.changed, 1);
    assert!(fs::read_to_string(&file).unwrap().contains(KEY));
    assert_eq!(rdock::sys::fsutil::mode(&file), Some(0o640));
}

#[test]
fn dry_run_says_what_it_would_do_and_writes_nothing() {
    let home = home_with_editors(&["Code", "Cursor"]);
    let code = settings(home.path(), "Code");
    fs::write(&code, "{\"docker.explorerRefreshInterval\": 1000}").unwrap();
    let report = run_steps(&discovery(home.path()), &options(vec![]), Mode::Setup, true);
    assert_eq!(report.changed, 2);
    let would = |id: &str| match &finding(&report, id).outcome {
        Some(rdock::steps::Outcome::WouldDo(would)) => would.clone(),
        other => panic!("{id}: expected what it would do, got {other:?}"),
    };
    let f = finding(&report, "vscode:Code");
    assert_eq!(f.status, Status::Fail, "nothing was fixed");
    assert!(
        would("vscode:Code")
            .starts_with("would raise docker.explorerRefreshInterval from 1000 to 3000 in"),
        "{}",
        would("vscode:Code")
    );
    assert!(would("vscode:Cursor").starts_with("would create"));
    assert_eq!(
        fs::read_to_string(&code).unwrap(),
        "{\"docker.explorerRefreshInterval\": 1000}"
    );
    assert!(!settings(home.path(), "Cursor").exists());
}

#[test]
fn doctor_reports_each_problem_with_its_fix_and_changes_nothing() {
    let home = home_with_editors(&["Code", "Cursor", "VSCodium"]);
    let code = settings(home.path(), "Code");
    fs::write(&code, "{\"docker.explorerRefreshInterval\": \"fast\"}").unwrap();
    fs::write(
        settings(home.path(), "Cursor"),
        "{\n  \"a\": 1,\n  \"b\": \n}",
    )
    .unwrap();
    fs::write(
        settings(home.path(), "VSCodium"),
        "{\"docker.explorerRefreshInterval\": 9000}",
    )
    .unwrap();
    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Doctor,
        false,
    );

    let wrong_type = finding(&report, "vscode:Code");
    assert_eq!(wrong_type.status, Status::Fail);
    assert!(wrong_type.fixable);
    assert!(
        wrong_type.message.contains("is a string"),
        "{}",
        wrong_type.message
    );
    let fix = wrong_type.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("set \"docker.explorerRefreshInterval\": 3000 in ")
            && fix.ends_with("(or run rdock vscode)"),
        "{fix}"
    );

    let broken = finding(&report, "vscode:Cursor");
    assert_eq!(broken.status, Status::Fail);
    assert!(!broken.fixable);
    assert!(
        broken.message.contains("at line 4, column 1"),
        "{}",
        broken.message
    );
    assert!(broken
        .fix
        .as_deref()
        .unwrap()
        .contains("at line 4, column 1"));

    let larger = finding(&report, "vscode:VSCodium");
    assert_eq!(larger.status, Status::Ok);
    assert!(
        larger.message.ends_with("(larger than 3000, kept)"),
        "{}",
        larger.message
    );

    assert_eq!(report.changed, 0);
    assert_eq!(
        fs::read_to_string(&code).unwrap(),
        "{\"docker.explorerRefreshInterval\": \"fast\"}"
    );
}

// ---------------------------------------------------------------------------------------------
// Environment overrides and extensions, as steps

#[test]
fn an_environment_override_is_a_warning_with_its_fix() {
    let home = home_with_editors(&["Code"]);
    let file = settings(home.path(), "Code");
    let text = "{\n  \"docker.environment\": {\"DOCKER_HOST\": \"ssh://old\"},\n  \"containers.environment\": {\"DOCKER_CONTEXT\": \"x\", \"PATH\": \"/bin\"}\n}";
    fs::write(&file, text).unwrap();
    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Setup,
        false,
    );
    let env = finding(&report, "vscode-env");
    assert_eq!(env.status, Status::Warn);
    assert!(
        env.message
            .contains("overrides the docker context inside VS Code"),
        "{}",
        env.message
    );
    let fix = env.fix.as_deref().unwrap();
    let shown = env_of(&discovery(home.path())).tilde(&file);
    assert_eq!(
        fix,
        format!(
            "remove \"DOCKER_HOST\" from \"docker.environment\" in {shown}\nremove \"DOCKER_CONTEXT\" from \"containers.environment\" in {shown}"
        )
    );
    // The warning does not stop the interval from being set, and the override is left alone.
    let edited = fs::read_to_string(&file).unwrap();
    assert!(edited.contains("\"DOCKER_HOST\": \"ssh://old\"") && edited.contains(KEY));
}

#[test]
fn the_extension_line_says_whether_the_setting_is_read() {
    let home = home_with_editors(&["Code"]);
    let h = home.path();
    let summary = |h: &Path| {
        let report = run_steps(&discovery(h), &options(vec![]), Mode::Setup, false);
        let f = finding(&report, "vscode-ext").clone();
        assert_eq!(f.status, Status::Ok);
        f.message
    };
    assert!(summary(h).starts_with("no Docker or Container Tools extension is installed"));

    fs::create_dir_all(h.join(".vscode/extensions/ms-azuretools.vscode-docker-1.29.3")).unwrap();
    fs::create_dir_all(
        h.join(".cursor/extensions/ms-azuretools.vscode-containers-2.0.1-linux-x64"),
    )
    .unwrap();
    let ignored = summary(h);
    assert!(
        ignored.starts_with(
            "Docker 1.29.3, Container Tools 2.0.1 ignore docker.explorerRefreshInterval"
        ),
        "{ignored}"
    );

    fs::create_dir_all(h.join(".vscode-insiders/extensions/ms-azuretools.vscode-docker-1.22.2"))
        .unwrap();
    let read = summary(h);
    assert_eq!(
        read,
        "Docker 1.22.2 reads docker.explorerRefreshInterval (Docker 1.29.3, Container Tools 2.0.1 ignore it)"
    );
}
