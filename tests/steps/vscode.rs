//! vscode, vscode-env, vscode-ext: each editor's settings.json (under the OS's user data folder),
//! environment settings that override the context, and which extensions read the setting.

use std::path::PathBuf;

use rdock::steps::plan::{self, Purpose, Scope};
use rdock::steps::{Mode, Outcome};
use rdock::sys::platform::Platform;

use super::{options, render, Rig};

const EDITORS: [&str; 3] = ["vscode", "vscode-env", "vscode-ext"];

/// VS Code's User folder where each OS keeps it, made in the rig's home.
fn user_dir(platform: Platform) -> (Rig, PathBuf) {
    let rig = Rig::new(platform);
    let (rig, data) = match platform {
        Platform::Windows => {
            let appdata = rig.home().join("AppData").join("Roaming");
            let value = appdata.to_string_lossy().into_owned();
            (rig.var("APPDATA", &value), appdata)
        }
        Platform::MacOs => {
            let data = rig.home().join("Library").join("Application Support");
            (rig, data)
        }
        Platform::Linux | Platform::Wsl => {
            let data = rig.home().join(".config");
            (rig, data)
        }
    };
    let user = data.join("Code").join("User");
    std::fs::create_dir_all(&user).unwrap();
    (rig, user)
}

#[test]
fn each_os_finds_the_editor_and_setup_writes_the_setting() {
    // Each OS's findings: doctor's, then setup's.
    let mut seen = Vec::new();
    for platform in [Platform::Linux, Platform::MacOs, Platform::Windows] {
        let (rig, user) = user_dir(platform);
        let file = user.join("settings.json");
        let shown = rig.env.tilde(&file);
        let doctor = rig.run(Mode::Doctor, &options(), &EDITORS);
        assert_eq!(
            doctor.ids(),
            ["vscode:Code", "vscode-env", "vscode-ext"],
            "{platform:?}"
        );
        let f = doctor.find("vscode:Code");
        seen.push(format!("{platform:?}\n{}", render(f)));
        assert!(f.fixable);

        let dry = rig.run(Mode::DryRun, &options(), &EDITORS);
        assert_eq!(
            dry.would("vscode:Code"),
            format!("would create {shown} with docker.explorerRefreshInterval 3000")
        );
        assert!(!file.exists(), "{platform:?}");

        let done = rig.run(Mode::Setup, &options(), &EDITORS);
        let f = done.find("vscode:Code");
        seen.push(render(f));
        assert_eq!(
            f.outcome,
            Some(Outcome::Done(format!(
                "created {shown} with docker.explorerRefreshInterval 3000"
            )))
        );
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(written["docker.explorerRefreshInterval"], 3000);
        assert!(
            done.ran().is_empty(),
            "no command: rdock edits the file itself"
        );
    }
    insta::assert_snapshot!(seen.join("\n"), @r#"
    Linux
    vscode:Code fail: ~/.config/Code/User/settings.json does not exist, so docker.explorerRefreshInterval is not set
    fix: set "docker.explorerRefreshInterval": 3000 in ~/.config/Code/User/settings.json (or run rdock vscode)
    vscode:Code ok: docker.explorerRefreshInterval is 3000 in ~/.config/Code/User/settings.json
    MacOs
    vscode:Code fail: ~/Library/Application Support/Code/User/settings.json does not exist, so docker.explorerRefreshInterval is not set
    fix: set "docker.explorerRefreshInterval": 3000 in ~/Library/Application Support/Code/User/settings.json (or run rdock vscode)
    vscode:Code ok: docker.explorerRefreshInterval is 3000 in ~/Library/Application Support/Code/User/settings.json
    Windows
    vscode:Code fail: ~/AppData/Roaming/Code/User/settings.json does not exist, so docker.explorerRefreshInterval is not set
    fix: set "docker.explorerRefreshInterval": 3000 in ~/AppData/Roaming/Code/User/settings.json (or run rdock vscode)
    vscode:Code ok: docker.explorerRefreshInterval is 3000 in ~/AppData/Roaming/Code/User/settings.json
    "#);
}

#[test]
fn an_environment_override_warns_and_extensions_are_named() {
    let (rig, user) = user_dir(Platform::Linux);
    let file = user.join("settings.json");
    std::fs::write(
        &file,
        "{\n  \"docker.explorerRefreshInterval\": 5000,\n  \"docker.environment\": { \"DOCKER_HOST\": \"tcp://10.0.0.5:2375\" }\n}\n",
    )
    .unwrap();
    std::fs::create_dir_all(rig.path(".vscode/extensions/ms-azuretools.vscode-docker-1.22.2"))
        .unwrap();
    let done = rig.run(Mode::Setup, &options(), &EDITORS);
    insta::assert_snapshot!(done.render("vscode:Code"), @"vscode:Code ok: docker.explorerRefreshInterval is 5000 in ~/.config/Code/User/settings.json (larger than 3000, kept)");
    insta::assert_snapshot!(done.render("vscode-env"), @r#"
    vscode-env warn: "docker.environment" sets DOCKER_HOST in ~/.config/Code/User/settings.json: it overrides the docker context inside VS Code
    fix: remove "DOCKER_HOST" from "docker.environment" in ~/.config/Code/User/settings.json
    "#);
    let ext = done.find("vscode-ext");
    insta::assert_snapshot!(render(ext), @"vscode-ext ok: Docker 1.22.2 reads docker.explorerRefreshInterval");
    assert_eq!(
        ext.details,
        [format!(
            "Docker 1.22.2 in {} reads docker.explorerRefreshInterval",
            rig.env.tilde(&rig.path(".vscode/extensions"))
        )]
    );
}

#[test]
fn no_editor_is_one_skip_that_says_where_it_looked() {
    let rig = Rig::new(Platform::Linux);
    let steps = plan::steps(Purpose::Setup, Scope::Editors, &options(), &rig.env);
    let done = rig.run_steps(Mode::Setup, steps);
    assert_eq!(
        done.ids(),
        ["vscode"],
        "the editors' part of the plan is this one step"
    );
    let f = done.find("vscode");
    insta::assert_snapshot!(render(f), @"vscode skip: no VS Code-like editor found; nothing to do");
    assert_eq!(
        f.details,
        [format!(
            "looked for Code, Code - Insiders, VSCodium, Cursor, Code - OSS with a User folder in {}",
            rig.env.tilde(&rig.home().join(".config"))
        )]
    );
    assert!(!rig.path(".config").exists());
}
