//! Every `--help` as a person reads it, pinned in tests/snapshots/help_*.snap so a change of
//! wording is reviewed (`cargo insta review`), and the flags each subcommand takes: only those it
//! honours.

use std::path::Path;

use clap::{CommandFactory, Parser};
use rdock::cli::Cli;

fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    cmd
}

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

#[test]
fn every_help_is_pinned() {
    let mut cmd = command();
    snapshot("help_rdock", &cmd.render_long_help().to_string());
    for sub in cmd.get_subcommands_mut().filter(|s| s.get_name() != "help") {
        let name = format!("help_{}", sub.get_name());
        snapshot(&name, &sub.render_long_help().to_string());
    }
}

/// The long flags of one subcommand, `--help` and `--version` left out.
fn flags(sub: &str) -> Vec<String> {
    let cmd = command();
    let sub = cmd.find_subcommand(sub).expect("the subcommand exists");
    sub.get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !["help", "version"].contains(l))
        .map(|l| format!("--{l}"))
        .collect()
}

#[test]
fn each_subcommand_takes_only_the_flags_it_honours() {
    let has = |sub: &str, flag: &str| flags(sub).iter().any(|f| f == flag);
    for sub in ["setup", "vscode", "remove"] {
        assert!(has(sub, "--dry-run"), "{sub} changes things: --dry-run");
    }
    for sub in ["doctor", "list", "completions", "man"] {
        assert!(
            !has(sub, "--dry-run"),
            "{sub} changes nothing: no --dry-run"
        );
    }
    for sub in ["completions", "man"] {
        assert!(
            flags(sub).is_empty(),
            "{sub} takes no flag: {:?}",
            flags(sub)
        );
    }
    for sub in ["setup", "doctor"] {
        assert!(has(sub, "--quiet"), "{sub}: --quiet for scripts");
    }
    for sub in ["setup", "doctor", "vscode", "list", "remove"] {
        assert!(
            has(sub, "--verbose") && has(sub, "--color"),
            "{sub}: -v and --color"
        );
    }
}

/// `rdock --verbose setup …`, as scripts and the tests have always written it, still parses; a
/// flag before the subcommand that the subcommand has no use for is a usage error.
#[test]
fn flags_before_the_subcommand_work_where_they_mean_something() {
    let global = |argv: &[&str]| {
        Cli::try_parse_from(argv)
            .expect("it parses")
            .global()
            .map_err(|e| e.message().unwrap_or_default())
    };
    let g = global(&["rdock", "--verbose", "--dry-run", "setup", "h"]).unwrap();
    assert!(g.verbose && g.dry_run && !g.quiet);
    let g = global(&["rdock", "setup", "h", "-q", "--dry-run"]).unwrap();
    assert!(g.quiet && g.dry_run && !g.verbose);
    let g = global(&["rdock", "--color", "always", "doctor", "--color", "never"]).unwrap();
    assert_eq!(
        g.color,
        rdock::cli::Color::Never,
        "the later, nearer flag wins"
    );
    assert_eq!(
        global(&["rdock", "--dry-run", "doctor"]).unwrap_err(),
        "error: rdock doctor takes no --dry-run"
    );
    assert_eq!(
        global(&["rdock", "-v", "man"]).unwrap_err(),
        "error: rdock man takes no --verbose"
    );
    assert!(Cli::try_parse_from(["rdock", "list", "--dry-run"]).is_err());
    assert!(Cli::try_parse_from(["rdock", "completions", "bash", "-v"]).is_err());
}

/// The paths `rdock completions --help` names are the ones install.sh writes to.
#[test]
fn completions_help_names_the_paths_install_sh_uses() {
    let install = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("install.sh"))
        .expect("install.sh");
    let help = command()
        .find_subcommand_mut("completions")
        .expect("completions")
        .render_long_help()
        .to_string();
    for (installed, shown) in [
        (
            "$data/bash-completion/completions/rdock",
            "~/.local/share/bash-completion/completions/rdock",
        ),
        (
            "$data/zsh/site-functions/_rdock",
            "~/.local/share/zsh/site-functions/_rdock",
        ),
        (
            "$config/fish/completions/rdock.fish",
            "~/.config/fish/completions/rdock.fish",
        ),
        ("$data/man/man1/rdock.1", "~/.local/share/man/man1/rdock.1"),
    ] {
        assert!(install.contains(installed), "install.sh: {installed}");
        if !installed.contains("man1") {
            assert!(help.contains(shown), "completions --help: {shown}");
        }
    }
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(
            help.contains(&format!("rdock completions {shell} > ")),
            "{shell}"
        );
    }
}

/// One page holds every subcommand and every flag.
#[test]
fn the_man_page_covers_every_subcommand_and_flag() {
    let mut page = Vec::new();
    rdock::commands::man_page(&mut page).expect("the page");
    let page = String::from_utf8(page).expect("UTF-8");
    let cmd = command();
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let title = format!(".SH \"RDOCK {}\"", sub.get_name().to_uppercase());
        assert!(page.contains(&title), "no section {title}");
        for long in sub.get_arguments().filter_map(|a| a.get_long()) {
            // roff escapes each - as \-.
            let shown = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(
                page.contains(&shown),
                "rdock {}: no {shown}",
                sub.get_name()
            );
        }
    }
    assert!(
        !page.contains("rdock-setup(1)"),
        "no reference to a page that does not exist"
    );
}

/// `doctor --quiet`: the problem lines with their fixes, and the summary line; no passing check,
/// no group heading, no title for a single target.
#[test]
fn doctor_quiet_keeps_only_the_problems_and_the_summary() {
    use rdock::render::{doctor_quiet, DoctorTarget};
    use rdock::steps::{Finding, Report};
    let target = |name: &str| DoctorTarget {
        context: name.into(),
        destination: format!("me@{name}:22"),
        endpoint: Some(format!("ssh://me@{name}:22")),
        pinned_in: None,
    };
    let report = || Report {
        findings: vec![
            Finding::ok("tools", "ssh, ssh-keygen, ssh-add, docker on PATH"),
            Finding::warn(
                "use",
                "box is not the current context",
                "docker context use box",
            ),
            Finding::fail("environment", "DOCKER_HOST is set", "unset DOCKER_HOST"),
        ],
        ..Report::default()
    };
    let plain = |text: String| anstream::adapter::strip_str(&text).to_string();
    insta::assert_snapshot!(plain(doctor_quiet(&[target("box")], &[report()], false)), @r"
    ! use            box is not the current context
        fix: docker context use box
    ✗ environment    DOCKER_HOST is set
        fix: unset DOCKER_HOST
    ✗ 1 problem, 1 warning
    ");
    let two = plain(doctor_quiet(
        &[target("a"), target("b")],
        &[report(), Report::default()],
        false,
    ));
    insta::assert_snapshot!(two, @r"
    rdock doctor: context a → ssh://me@a:22
    ! use            box is not the current context
        fix: docker context use box
    ✗ environment    DOCKER_HOST is set
        fix: unset DOCKER_HOST
    ✗ 2 contexts: 1 problem, 1 warning
    ");
}
