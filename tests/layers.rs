//! The layers of src/, checked on the source text: `sys` ← `ssh`, `docker`, `vscode` ← `steps` ←
//! `render` ← `commands` ← `main`. The nouns never name a step or the session, nothing below the
//! commands prints, render runs nothing, and only `sys::exec` starts a process.

use std::fs;
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every .rs file under `rel` (a file or a folder of src/), with its text.
fn sources(rel: &str) -> Vec<(PathBuf, String)> {
    let path = src().join(rel);
    let mut files = Vec::new();
    let mut todo = vec![path];
    while let Some(p) = todo.pop() {
        if p.is_dir() {
            todo.extend(fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "rs") {
            let text = fs::read_to_string(&p).unwrap();
            files.push((p, text));
        }
    }
    assert!(!files.is_empty(), "nothing found under src/{rel}");
    files
}

/// The code of a file, without comments (a doc comment may name anything) and without what is
/// inside the string literals of a line whose double quotes pair up (a message may quote ssh's
/// "Session open refused by peer").
fn code(text: &str) -> String {
    text.lines()
        .map(|l| {
            without_strings(match l.find("//") {
                Some(at) => &l[..at],
                None => l,
            })
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line with the inside of each string literal emptied, when its unescaped double quotes pair
/// up; otherwise (a char literal, a string that goes on to the next line) the line as it is.
fn without_strings(line: &str) -> String {
    let mut quotes = Vec::new();
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        match c {
            '\\' => escaped = !escaped,
            '"' if !escaped => quotes.push(at),
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    if quotes.len() % 2 == 1 {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len());
    let mut from = 0;
    for pair in quotes.chunks(2) {
        out.push_str(&line[from..=pair[0]]);
        from = pair[1];
    }
    out.push_str(&line[from..]);
    out
}

/// Where any of `words` stands as a whole word (`Step` but not `Steps` or `StepId`).
fn offences(rel: &[&str], words: &[&str]) -> Vec<String> {
    offences_in(rel.iter().flat_map(|r| sources(r)).collect(), words)
}

fn offences_in(files: Vec<(PathBuf, String)>, words: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in files {
        let code = code(&text);
        for (n, line) in code.lines().enumerate() {
            for word in words {
                let hit = line.match_indices(word).any(|(at, _)| {
                    let before = line[..at].chars().next_back();
                    let after = line[at + word.len()..].chars().next();
                    let edge =
                        |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '_');
                    edge(before) && edge(after)
                });
                if hit {
                    found.push(format!("{}:{}: {word}", path.display(), n + 1));
                }
            }
        }
    }
    found
}

#[test]
fn the_nouns_never_name_a_step_or_the_session() {
    let found = offences(
        &["ssh", "docker", "vscode", "sys"],
        &[
            "Session",
            "Step",
            "Finding",
            "crate::steps",
            "crate::render",
            "crate::commands",
        ],
    );
    assert!(
        found.is_empty(),
        "nouns reach up a layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_system_layer_knows_no_noun() {
    let found = offences(&["sys"], &["crate::ssh", "crate::docker", "crate::vscode"]);
    assert!(
        found.is_empty(),
        "sys reaches up a layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn steps_and_nouns_never_print() {
    let found = offences(
        &["steps", "ssh", "docker", "vscode"],
        &[
            "print!",
            "println!",
            "eprint!",
            "eprintln!",
            "std::io::stdout",
            "std::io::stderr",
        ],
    );
    assert!(
        found.is_empty(),
        "only render and the terminal print:\n{}",
        found.join("\n")
    );
}

#[test]
fn render_runs_nothing_and_reads_no_file() {
    let found = offences(
        &["render"],
        &[
            "Exec",
            "Cmd",
            "std::fs",
            "std::process",
            "crate::sys::exec",
            "crate::sys::fsutil",
            "crate::sys::lock",
            "crate::commands",
        ],
    );
    assert!(
        found.is_empty(),
        "render only formats:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_exec_starts_a_process() {
    let found: Vec<String> = offences(
        &[""],
        &["std::process::Command", "process::Command", "Command::new"],
    )
    .into_iter()
    .filter(|f| !f.contains("sys/exec/"))
    .collect();
    assert!(
        found.is_empty(),
        "a process started outside sys::exec:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_planted_offence_and_ignores_comments_strings_and_longer_names() {
    let planted = "use crate::steps::Session; // a comment may say Step\nfn f(s: &Steps, t: &StepId) {}\nimpl Step for X {}\nlet m = \"Session open refused\"; let q = '\"'; s: Session\nlet e = \"a \\\"Step\\\" b\";\n";
    let found = offences_in(
        vec![(PathBuf::from("src/ssh/planted.rs"), planted.to_string())],
        &["Session", "Step", "crate::steps"],
    );
    assert_eq!(
        found,
        [
            "src/ssh/planted.rs:1: Session",
            "src/ssh/planted.rs:1: crate::steps",
            "src/ssh/planted.rs:3: Step",
            "src/ssh/planted.rs:4: Session",
        ]
    );
}
