//! Every `rdock …` command line in README.md's code blocks names a subcommand that exists and
//! only flags that subcommand (or the top level, before it) takes: a README that drifts from
//! `--help` fails here, naming the line.

use std::path::Path;

use clap::CommandFactory;

/// The command lines in the README's code blocks (fenced, or indented by four spaces) that
/// start with `rdock` (or `$ rdock`, in a transcript).
fn readme_commands(readme: &str) -> Vec<String> {
    // Inside a fence: whether it is a transcript (```console), where only `$ ` lines are typed.
    let mut fence: Option<bool> = None;
    let mut found = Vec::new();
    for line in readme.lines() {
        if let Some(lang) = line.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None => Some(lang.trim() == "console"),
            };
            continue;
        }
        let code = match (fence, line.strip_prefix("    ")) {
            (Some(true), _) => match line.strip_prefix("$ ") {
                Some(typed) => typed.trim(),
                None => continue,
            },
            (Some(false), _) => line.trim(),
            (None, Some(code)) => code.trim(),
            (None, None) => continue,
        };
        let code = code.strip_prefix("$ ").unwrap_or(code);
        if code.starts_with("rdock ") || code == "rdock" {
            found.push(code.to_string());
        }
    }
    found
}

/// The words of one command, up to the first shell operator or comment.
fn words(line: &str) -> Vec<String> {
    line.split_whitespace()
        .take_while(|w| !["|", ">", ">>", "&&", "||", ";", "#", "2>&1"].contains(w))
        .take_while(|w| !w.starts_with('>'))
        .map(|w| {
            w.trim_matches(|c| "[]()'\"".contains(c))
                .trim_end_matches("...")
        })
        .map(|w| w.trim_end_matches([']', ')']).to_string())
        .filter(|w| !w.is_empty() && w != "|")
        .collect()
}

/// Why this command line is not one rdock takes, if it is not.
fn check(cli: &clap::Command, line: &str) -> Result<(), String> {
    let words = words(line);
    let mut words = words.iter().skip(1).peekable();
    let known = |cmd: &clap::Command, word: &str| -> bool {
        let (flag, _) = word.split_once('=').unwrap_or((word, ""));
        cmd.get_arguments().any(|a| {
            a.get_long().is_some_and(|l| flag == format!("--{l}"))
                || a.get_short().is_some_and(|s| flag == format!("-{s}"))
        }) || ["--help", "-h", "--version", "-V"].contains(&flag)
    };
    // Flags before the subcommand belong to the top level.
    while let Some(word) = words.next_if(|w| w.starts_with('-')) {
        if !known(cli, word) {
            return Err(format!("rdock has no flag {word}"));
        }
        // --color takes a value.
        if word.as_str() == "--color" {
            words.next();
        }
    }
    let Some(name) = words.next() else {
        return Ok(());
    };
    let sub = cli
        .find_subcommand(name)
        .ok_or_else(|| format!("rdock has no subcommand {name:?}"))?;
    for word in words.filter(|w| w.starts_with('-') && w.len() > 1) {
        if !known(sub, word) {
            return Err(format!("rdock {name} has no flag {word}"));
        }
    }
    Ok(())
}

#[test]
fn every_readme_command_exists_in_help() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let cli = rdock::cli::Cli::command();
    let lines = readme_commands(&readme);
    assert!(lines.len() >= 10, "too few command lines found: {lines:?}");
    let wrong: Vec<String> = lines
        .iter()
        .filter_map(|l| check(&cli, l).err().map(|why| format!("{l}\n  {why}")))
        .collect();
    assert!(wrong.is_empty(), "README.md:\n{}", wrong.join("\n"));
}

/// The checker itself: it catches what it is for.
#[test]
fn the_checker_refuses_a_flag_or_subcommand_that_does_not_exist() {
    let cli = rdock::cli::Cli::command();
    assert!(check(&cli, "rdock setup me@h --yes --no-passphrase").is_ok());
    assert!(check(&cli, "rdock --verbose setup me@h > log 2>&1").is_ok());
    assert!(check(
        &cli,
        "rdock vscode [--settings PATH]... [--refresh-interval MS]"
    )
    .is_ok());
    assert!(check(&cli, "rdock completions bash > ~/.x # --nope").is_ok());
    assert_eq!(
        check(&cli, "rdock doctor --dry-run"),
        Err("rdock doctor has no flag --dry-run".into())
    );
    assert_eq!(
        check(&cli, "rdock setpu me@h"),
        Err("rdock has no subcommand \"setpu\"".into())
    );
    assert_eq!(
        check(&cli, "rdock --quiet doctor"),
        Err("rdock has no flag --quiet".into())
    );
    let found = readme_commands(
        "text\n\n    rdock list --json\n```sh\n$ rdock doctor\nrdock: output\n```\n",
    );
    assert_eq!(found, ["rdock list --json", "rdock doctor"]);
}

/// The cells of one table row: split at each `|` that is not escaped (GitHub splits at a `|`
/// inside backticks too).
fn cells(row: &str) -> usize {
    let mut pipes: usize = 0;
    let mut escaped = false;
    for c in row.trim().chars() {
        if c == '|' && !escaped {
            pipes += 1;
        }
        escaped = c == '\\' && !escaped;
    }
    pipes.saturating_sub(1)
}

/// Every table in the user documents renders as a table: a header, a separator line under it, and
/// rows with the header's number of cells (a row with one cell too many, or a row cut off from
/// its table by a paragraph, shows as literal pipes).
#[test]
fn every_table_renders_as_a_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut wrong = Vec::new();
    for file in [
        "README.md",
        "docs/setup.md",
        "docs/doctor.md",
        "docs/commands.md",
        "docs/speed.md",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect(file);
        let lines: Vec<&str> = text.lines().collect();
        let mut header: Option<usize> = None;
        for (i, line) in lines.iter().enumerate() {
            let row = line.trim_start().starts_with('|') && !line.starts_with("    ");
            match (row, header) {
                (false, _) => header = None,
                (true, None) => {
                    header = Some(cells(line));
                    let separator = lines.get(i + 1).map(|l| l.trim()).unwrap_or_default();
                    let is_separator =
                        separator.starts_with('|') && separator.chars().all(|c| "|-: ".contains(c));
                    if !is_separator {
                        wrong.push(format!("{file}:{}: no separator line under {line}", i + 1));
                    }
                }
                (true, Some(n)) if cells(line) != n => wrong.push(format!(
                    "{file}:{}: {} cells, the header has {n}: {line}",
                    i + 1,
                    cells(line)
                )),
                _ => {}
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
