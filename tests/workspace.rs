//! `rdock vscode --workspace DIR --context NAME`: the pin of a docker context in a workspace
//! folder's `.vscode/settings.json`, proven by golden fixtures in `tests/fixtures/workspace/<case>/`
//! (`before.json`, absent for a folder without settings; `after.json`, the whole expected file; or
//! `error.txt`, the refusal with its line and column, the file then byte-identical), walked by
//! tests/support/golden.rs. `RDOCK_BLESS=1 cargo test --test integration workspace::golden`
//! rewrites them from what rdock does now (read the diff before committing it).

use std::fs;
use std::path::Path;

use rdock::steps::plan::{self, Options, Purpose, Scope, WorkspaceOptions};
use rdock::steps::{self, Mode, Report, Session};
use rdock::sys::env::Env;
use rdock::sys::exec::Exec;
use rdock::sys::platform::Platform;
use rdock::sys::term::Term;
use rdock::vscode::settings::{decode, pin_context};
use rdock::vscode::workspace::settings_path;

use crate::support::golden::{settings_outcome, Case, Outcome, Tree};

/// The context every case pins.
const NAME: &str = "one";

const TREE: Tree = Tree {
    area: "workspace",
    before: "before.json",
    after: "after.json",
    error: "error.txt",
    min_cases: 10,
};

/// What `rdock vscode --workspace DIR --context one` runs: the plan's workspace step alone.
fn pin(dir: &Path, mode: Mode) -> Report {
    let env = Env::new(Platform::Linux, "/nonexistent-home");
    let options = Options {
        workspace: Some(WorkspaceOptions {
            dir: dir.to_path_buf(),
            context: Some(NAME.into()),
        }),
        ..Options::default()
    };
    let mut steps = plan::steps(Purpose::Setup, Scope::Workspace, &options, &env);
    let exec = Exec::new(false, mode == Mode::DryRun);
    let mut s = Session::new(exec, Term::plain(), env);
    let report = steps::run(&mut s, &mut steps, mode, &mut |_| {});
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["workspace"],
        "--workspace edits the workspace file alone"
    );
    report
}

#[test]
fn golden_fixtures() {
    TREE.check(golden_case);
}

#[test]
fn fixtures_hold_their_crlf_and_bom_bytes() {
    TREE.assert_bytes_kept(&["comments-crlf-bom"], &["comments-crlf-bom"]);
}

/// Pin the context in a folder holding the case's `before.json`; under --dry-run first, which
/// must write nothing; then again, which must change nothing. A refused file is a failure rdock
/// cannot fix, reported with its line and column.
fn golden_case(case: &Case) -> Result<Outcome, String> {
    let dir = tempfile::tempdir().unwrap();
    let file = settings_path(dir.path());
    if let Some(bytes) = &case.before {
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, bytes).unwrap();
    }
    pin(dir.path(), Mode::DryRun);
    if fs::read(&file).ok() != case.before {
        return Err("--dry-run changed the file".into());
    }
    let report = pin(dir.path(), Mode::Setup);
    let got = fs::read(&file).ok();
    let found = &report.findings[0];

    let refused = case
        .before
        .as_deref()
        .and_then(|before| decode(before).and_then(|t| pin_context(t, NAME)).err());
    let refused = refused.map(|err| err.to_string());
    settings_outcome(case, refused, found, report.changed, got, |got| {
        let again = pin(dir.path(), Mode::Setup);
        if again.changed != 0 || fs::read(&file).unwrap() != got {
            return Err("a second run changed the file".into());
        }
        let uses = format!(
            "this workspace ({}) uses context one through docker.environment and containers.environment",
            dir.path().display()
        );
        match &again.findings[0].message {
            said if *said == uses => Ok(()),
            said => Err(format!("a rerun says {said:?}")),
        }
    })
}

#[cfg(unix)]
#[test]
fn a_new_settings_file_is_0644_in_a_new_vscode_folder_and_an_old_one_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let file = settings_path(dir.path());
    pin(dir.path(), Mode::Setup);
    assert_eq!(mode(&file), 0o644);
    assert!(file.parent().unwrap().is_dir());
    fs::write(&file, "{}").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    pin(dir.path(), Mode::Setup);
    assert_eq!(mode(&file), 0o600);
    assert!(fs::read_to_string(&file)
        .unwrap()
        .contains("\"DOCKER_CONTEXT\": \"one\""));
}
