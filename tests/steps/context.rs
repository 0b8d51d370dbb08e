//! context, use, environment, verify: the docker context points at ssh://user@host:port, is the
//! current one, is not overridden by the environment, and a real `docker version` goes through.

use rdock::steps::plan::Options;
use rdock::steps::{Mode, Outcome, Status};
use rdock::sys::exec::Reply;
use rdock::sys::platform::Platform;

use super::recorded::*;
use super::{local_docker, options, render, Rig, CONTEXT, VERSION};

const BOX: &str = "ssh://alice@box:2222";
const CREATE: [&str; 11] = [
    "docker",
    "--context",
    "default",
    "context",
    "create",
    "--description",
    "managed by rdock",
    "--docker",
    "host=ssh://alice@box:2222",
    "--",
    "box",
];

#[test]
fn a_context_that_points_at_the_destination_is_ok() {
    let done = Rig::alias().store(&[(CONTEXT, BOX)], None).run(
        Mode::Doctor,
        &options(),
        &["destination", "context"],
    );
    insta::assert_snapshot!(done.render("context"), @"context ok: context box → ssh://alice@box:2222");
    // Read from docker's store: no docker process was started for it.
    assert!(
        done.ran().iter().all(|c| !c.starts_with("docker")),
        "{:?}",
        done.ran()
    );
}

#[test]
fn an_endpoint_without_user_or_port_that_reaches_the_same_host_is_the_same() {
    let done = Rig::alias().store(&[(CONTEXT, "ssh://box")], None).run(
        Mode::Doctor,
        &options(),
        &["destination", "context"],
    );
    insta::assert_snapshot!(done.render("context"), @"context ok: context box → ssh://box");
}

#[test]
fn setup_creates_a_missing_context_with_an_explicit_user_and_port() {
    let rig = Rig::alias();
    let created = rig.store_after(context_changed(CONTEXT_CREATE), &[(CONTEXT, BOX)], None);
    let rig = rig.store(&[], None).on(&CREATE, created);
    let slice = ["destination", "context"];

    let doctor = rig.run(Mode::Doctor, &options(), &slice);
    let f = doctor.find("context");
    insta::assert_snapshot!(render(f), @r"
    context fail: no docker context box
    fix: docker context create box --docker host=ssh://alice@box:2222
    ");
    assert!(f.fixable);

    let dry = rig.run(Mode::DryRun, &options(), &slice);
    assert_eq!(
        dry.would("context"),
        "would create context box → ssh://alice@box:2222\nwould run: docker --context default context create --description 'managed by rdock' --docker host=ssh://alice@box:2222 -- box"
    );

    let done = rig.run(Mode::Setup, &options(), &slice);
    let f = done.find("context");
    insta::assert_snapshot!(render(f), @"context ok: context box → ssh://alice@box:2222");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done(
            "created context box → ssh://alice@box:2222".into()
        ))
    );
    let create = done.the(
        &local_docker(&["context", "create"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_eq!(create.argv, CREATE);
    // DOCKER_HOST and DOCKER_CONTEXT could send it elsewhere: they are left out.
    assert_eq!(create.env_remove, ["DOCKER_HOST", "DOCKER_CONTEXT"]);
}

#[test]
fn a_context_pointing_elsewhere_is_updated_only_with_force() {
    let update = CREATE.map(|w| if w == "create" { "update" } else { w });
    let rig = Rig::alias();
    let updated = rig.store_after(context_changed(CONTEXT_UPDATE), &[(CONTEXT, BOX)], None);
    let rig = rig
        .store(&[(CONTEXT, "ssh://alice@box:22")], None)
        .on(&update, updated);
    let slice = ["destination", "context"];

    let done = rig.run(Mode::Setup, &options(), &slice);
    let f = done.find("context");
    insta::assert_snapshot!(render(f), @r"
    context fail: context box already points to ssh://alice@box:22, not ssh://alice@box:2222
    fix: rerun with --force to update it (docker context update box --docker host=ssh://alice@box:2222), or pick another name with --name
    ");
    assert!(!f.fixable && done.report.stopped && done.changes().is_empty());

    let force = Options {
        force: true,
        ..options()
    };
    let done = rig.run(Mode::Setup, &force, &slice);
    assert_eq!(
        done.outcome("context"),
        Some(&Outcome::Done(
            "updated context box → ssh://alice@box:2222".into()
        ))
    );
    assert_eq!(done.changes(), ["docker --context default context update --description 'managed by rdock' --docker host=ssh://alice@box:2222 -- box"]);
}

#[test]
fn a_broken_context_store_fails_the_context_check_and_names_it() {
    let rig = Rig::alias();
    rig.write(".docker/config.json", "{not json");
    let done = rig.run(Mode::Doctor, &options(), &["destination", "context"]);
    let f = done.find("context");
    assert!(
        f.message.ends_with(
            "config.json is not the JSON docker writes: key must be a string at line 1 column 2"
        ),
        "{f:?}"
    );
    insta::assert_snapshot!(render(f), @r"
    context fail: [HOME]/.docker/config.json is not the JSON docker writes: key must be a string at line 1 column 2
    fix: check docker's context store (DOCKER_CONFIG, or ~/.docker): docker context ls reads the same files
    ");
}

#[test]
fn setup_switches_to_the_context_unless_no_use() {
    let rig = Rig::new(Platform::Linux);
    let used = rig.store_after(
        context_changed(CONTEXT_USE),
        &[(CONTEXT, BOX)],
        Some(CONTEXT),
    );
    let rig = rig.store(&[(CONTEXT, BOX)], None).on(
        &[
            "docker",
            "--context",
            "default",
            "context",
            "use",
            "--",
            "box",
        ],
        used,
    );

    let doctor = rig.run(Mode::Doctor, &options(), &["use"]);
    insta::assert_snapshot!(doctor.render("use"), @r"
    use warn: the current context is default, not box
    fix: docker context use box
    ");
    let dry = rig.run(Mode::DryRun, &options(), &["use"]);
    assert_eq!(
        dry.would("use"),
        "would switch to context box\nwould run: docker --context default context use -- box"
    );
    let no_use = Options {
        no_use: true,
        ..options()
    };
    let done = rig.run(Mode::Setup, &no_use, &["use"]);
    insta::assert_snapshot!(done.render("use"), @"use skip: left default as the current context (--no-use); use docker --context box");
    assert!(done.changes().is_empty());

    let done = rig.run(Mode::Setup, &options(), &["use"]);
    let f = done.find("use");
    insta::assert_snapshot!(render(f), @"use ok: box is the current context");
    assert_eq!(
        f.outcome,
        Some(Outcome::Done("switched to context box".into()))
    );
    assert_eq!(
        done.changes(),
        ["docker --context default context use -- box"]
    );
}

#[test]
fn docker_host_or_another_docker_context_in_the_environment_fails() {
    let check = |rig: Rig| {
        let done = rig.run(Mode::Doctor, &options(), &["environment"]);
        let f = done.find("environment");
        (f.status, f.message.clone(), f.fix.clone())
    };
    let linux = || Rig::new(Platform::Linux);
    assert_eq!(
        check(linux().var("DOCKER_HOST", "tcp://10.0.0.5:2375")),
        (
            Status::Fail,
            "DOCKER_HOST=tcp://10.0.0.5:2375 is set, so docker ignores context box".into(),
            Some("unset DOCKER_HOST  (and remove it from your shell profile)".into())
        )
    );
    assert_eq!(
        check(linux().var("DOCKER_CONTEXT", "default")),
        (
            Status::Fail,
            "DOCKER_CONTEXT=default is set, so docker ignores context box".into(),
            Some("unset DOCKER_CONTEXT  (and remove it from your shell profile)".into())
        )
    );
    let fine = (
        Status::Ok,
        "neither DOCKER_HOST nor DOCKER_CONTEXT overrides the context".to_string(),
        None,
    );
    assert_eq!(check(linux().var("DOCKER_CONTEXT", CONTEXT)), fine);
    assert_eq!(check(linux()), fine);
}

#[test]
fn verify_runs_a_real_docker_version_through_the_context() {
    let ok = Rig::new(Platform::Linux).on(&VERSION, Reply::ok("28.2.2\n"));
    let done = ok.run(Mode::Setup, &options(), &["verify"]);
    insta::assert_snapshot!(done.render("verify"), @"verify ok: docker --context box version: server 28.2.2; one docker command takes 0.00 s here");

    let failing = Rig::new(Platform::Linux).on(&VERSION, version_no_such_host());
    let done = failing.run(Mode::Setup, &options(), &["verify"]);
    insta::assert_snapshot!(done.render("verify"), @r#"
    verify fail: docker --context box version failed: error during connect: Get "http://docker.example.com/v1.50/version": command [ssh -o ConnectTimeout=30 -T -l alice -p 22 -- box docker system dial-stdio] has exited with exit status 255, make sure the URL is valid, and Docker 18.09 or later is installed on the remote host: stderr=ssh: Could not resolve hostname box: Name or service not known
    fix: docker --context box version shows the whole error; rdock doctor box diagnoses it
    "#);
    assert!(done.report.stopped);
}
