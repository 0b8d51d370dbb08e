//! workspace: a VS Code workspace folder's docker context. `rdock vscode --workspace` pins it
//! (setup's check, fix, check); doctor, run inside the folder, reads what it pins and checks it
//! against docker's context store.

use std::path::{Path, PathBuf};

use rdock::steps::plan::{Options, WorkspaceOptions};
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::platform::Platform;

use super::{options, Rig};

const ENDPOINT: &str = "ssh://alice@box:2222";

/// A rig whose store holds contexts one and two (two current), and a workspace folder `proj`
/// in its home whose settings.json holds `settings` (None: no file).
fn workspace(settings: Option<&str>) -> (Rig, PathBuf) {
    let rig = Rig::new(Platform::Linux).store(&[("one", ENDPOINT), ("two", ENDPOINT)], Some("two"));
    if let Some(text) = settings {
        rig.write("proj/.vscode/settings.json", text);
    }
    let dir = rig.path("proj");
    std::fs::create_dir_all(&dir).unwrap();
    (rig, dir)
}

fn with(dir: &Path, context: Option<&str>) -> Options {
    Options {
        context: "one".into(),
        workspace: Some(WorkspaceOptions {
            dir: dir.to_path_buf(),
            context: context.map(str::to_string),
        }),
        ..options()
    }
}

const BOTH: &str = r#"{
  "docker.environment": { "DOCKER_CONTEXT": "one" },
  "containers.environment": { "DOCKER_CONTEXT": "one" }
}"#;

#[test]
fn doctor_reports_a_pin_of_both_settings_as_intended() {
    let (rig, dir) = workspace(Some(BOTH));
    let done = rig.run(
        Mode::Doctor,
        &with(&dir, Some("one")),
        &["workspace", "use"],
    );
    insta::assert_snapshot!(done.render("workspace"), @"workspace ok: this workspace (~/proj) uses context one through docker.environment and containers.environment");
    // The pinned context is not the current one, and that is as intended.
    insta::assert_snapshot!(done.render("use"), @"use ok: one is pinned for the workspace ~/proj; the current context, two, serves the rest");
}

#[test]
fn doctor_warns_about_a_pin_half_made_or_in_two_minds() {
    let (rig, dir) = workspace(Some(
        r#"{"containers.environment": {"DOCKER_CONTEXT": "one"}}"#,
    ));
    insta::assert_snapshot!(rig.run(Mode::Doctor, &with(&dir, Some("one")), &["workspace"]).render("workspace"), @r"
    workspace warn: this workspace (~/proj) pins context one through containers.environment only: the extension that reads docker.environment uses the current context
    fix: rdock vscode --workspace [HOME]/proj --context one
    ");
    let (rig, dir) = workspace(Some(
        r#"{"docker.environment": {"DOCKER_CONTEXT": "one"}, "containers.environment": {"DOCKER_CONTEXT": "two"}}"#,
    ));
    insta::assert_snapshot!(rig.run(Mode::Doctor, &with(&dir, None), &["workspace"]).render("workspace"), @r"
    workspace warn: this workspace (~/proj) pins context one through docker.environment and two through containers.environment
    fix: one context for both: rdock vscode --workspace [HOME]/proj --context one
    ");
}

#[test]
fn doctor_fails_a_pin_of_a_context_docker_does_not_have() {
    let (rig, dir) = workspace(Some(&BOTH.replace("one", "gone")));
    let done = rig.run(Mode::Doctor, &with(&dir, Some("gone")), &["workspace"]);
    insta::assert_snapshot!(done.render("workspace"), @r"
    workspace fail: this workspace (~/proj) pins context gone, and docker has no context of that name
    fix: rdock setup user@host --name gone, or pin another: rdock vscode --workspace [HOME]/proj --context NAME
    ");
}

#[test]
fn doctor_warns_about_docker_host_in_a_workspace_and_reports_no_pin_as_fine() {
    let (rig, dir) = workspace(Some(
        "{\"editor.tabSize\": 2, \"docker.environment\": {\"DOCKER_HOST\": \"tcp://10.0.0.5:2375\"}}",
    ));
    insta::assert_snapshot!(rig.run(Mode::Doctor, &with(&dir, None), &["workspace"]).render("workspace"), @r#"
    workspace warn: "docker.environment" sets DOCKER_HOST in ~/proj/.vscode/settings.json: it overrides the docker context inside VS Code
    fix: remove "DOCKER_HOST" from "docker.environment" in ~/proj/.vscode/settings.json
    "#);
    let (rig, dir) = workspace(Some("{\"editor.tabSize\": 2}"));
    insta::assert_snapshot!(rig.run(Mode::Doctor, &with(&dir, None), &["workspace"]).render("workspace"), @"workspace ok: this workspace (~/proj) pins no docker context: VS Code uses the current one");
    let (rig, dir) = workspace(Some("{\n  \"a\": 1\n  \"b\": 2\n}"));
    let done = rig.run(Mode::Doctor, &with(&dir, None), &["workspace"]);
    insta::assert_snapshot!(done.render("workspace"), @r"
    workspace fail: ~/proj/.vscode/settings.json was left untouched: expected comma at line 2, column 9
    fix: correct ~/proj/.vscode/settings.json at line 2, column 9 (it must hold one JSON object), then run rdock doctor
    ");
}

#[test]
fn setup_pins_the_context_then_finds_it_pinned_and_dry_run_writes_nothing() {
    let before = "{\n  // mine\n  \"docker.environment\": { \"DOCKER_CONTEXT\": \"two\" }\n}\n";
    let (rig, dir) = workspace(Some(before));
    let o = with(&dir, Some("one"));
    let command = format!("rdock vscode --workspace {} --context one", dir.display());

    let doctor = rig.run(Mode::Doctor, &o, &["workspace"]);
    let found = doctor.find("workspace");
    assert_eq!(found.status, Status::Warn, "doctor only reports: {found:?}");

    let dry = rig.run(Mode::DryRun, &o, &["workspace"]);
    let found = dry.find("workspace");
    assert_eq!(
        (found.status, found.message.as_str(), found.fix.as_deref()),
        (
            Status::Fail,
            "this workspace (~/proj) does not pin context one in ~/proj/.vscode/settings.json: \"docker.environment\" sets DOCKER_CONTEXT to \"two\", \"containers.environment\" has no DOCKER_CONTEXT",
            Some(command.as_str())
        )
    );
    assert!(found.fixable);
    assert_eq!(
        dry.would("workspace"),
        "would pin context one in ~/proj/.vscode/settings.json: DOCKER_CONTEXT in docker.environment and containers.environment"
    );
    assert_eq!(rig.read("proj/.vscode/settings.json"), before);

    let done = rig.run(Mode::Setup, &o, &["workspace"]);
    insta::assert_snapshot!(done.render("workspace"), @"workspace ok: this workspace (~/proj) uses context one through docker.environment and containers.environment");
    assert_eq!(
        done.outcome("workspace"),
        Some(&Outcome::Done(
            "pinned context one in ~/proj/.vscode/settings.json: DOCKER_CONTEXT in docker.environment and containers.environment".into()
        ))
    );
    assert_eq!(done.report.changed, 1);
    assert!(done.ran().is_empty(), "rdock edits the file itself");
    assert_eq!(
        rig.read("proj/.vscode/settings.json"),
        "{\n  // mine\n  \"docker.environment\": { \"DOCKER_CONTEXT\": \"one\" },\n  \"containers.environment\": {\n    \"DOCKER_CONTEXT\": \"one\"\n  }\n}\n"
    );
    let again = rig.run(Mode::Setup, &o, &["workspace"]);
    assert_eq!((again.report.changed, again.acted()), (0, vec![]));
}

#[test]
fn a_folder_without_settings_gets_a_new_file() {
    let (rig, dir) = workspace(None);
    let done = rig.run(Mode::Setup, &with(&dir, Some("one")), &["workspace"]);
    assert_eq!(
        done.outcome("workspace"),
        Some(&Outcome::Done(
            "pinned context one in ~/proj/.vscode/settings.json (a new file): DOCKER_CONTEXT in docker.environment and containers.environment".into()
        ))
    );
    assert_eq!(done.find("workspace").status, Status::Ok);
}

#[test]
fn without_a_workspace_the_plan_has_no_workspace_step() {
    let rig = Rig::new(Platform::Linux);
    let steps = rdock::steps::plan::steps(
        rdock::steps::plan::Purpose::Doctor,
        rdock::steps::plan::Scope::All,
        &options(),
        &rig.env,
    );
    assert!(steps.iter().all(|s| s.id() != "workspace"));
}
