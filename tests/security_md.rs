//! SECURITY.md cites a test for every guarantee: every path it cites must name a test that exists.
//!
//! What is checked: in every Markdown table whose header is `Guarantee | Test | Seen failing when`,
//! each row cites at least one test in its Test column, every backticked path there is a test, and
//! the last column is not empty; anywhere else on the page, a backticked path that can only be a
//! test (it starts with `e2e::` or `steps::`, or holds `::tests::`) must be one too.
//!
//! Where the names come from: the integration binary's own tests from this binary run with
//! `--list` (what `cargo test -- --list` prints); the library's unit tests from the source, since
//! the lib's test binary is not at hand from here: each `#[test] fn NAME` in `src/a/b.rs` (or
//! `src/a/b/mod.rs`) after its `mod tests {` line is `a::b::tests::NAME`, and in `src/a/b/tests.rs`
//! it is `a::b::tests::NAME`. A `#[test]` the reading cannot place fails the test, so a layout it
//! does not know is never silently skipped.

use std::collections::BTreeSet;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The integration binary's tests, as it lists them.
fn integration_tests() -> BTreeSet<String> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("--list")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(String::from)
        .collect()
}

/// The library's unit tests, read from src/ (see the top of this file).
fn lib_tests() -> BTreeSet<String> {
    let src = root().join("src");
    let mut files = Vec::new();
    crate::tiers::rust_files(&src, &mut files);
    let mod_tests = regex::Regex::new(r"^\s*(pub(\([a-z]+\))?\s+)?mod tests\s*\{").unwrap();
    let test_fn = regex::Regex::new(r"^\s*(pub\s+)?fn ([a-z0-9_]+)").unwrap();
    let mut tests = BTreeSet::new();
    for file in files {
        let rel = file.strip_prefix(&src).unwrap().with_extension("");
        let mut parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts == ["main"] {
            continue; // the binary's, not the library's
        }
        if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
            parts.pop();
        }
        let module = parts.join("::");
        let text = std::fs::read_to_string(&file).unwrap();
        let mut in_tests = parts.last().is_some_and(|p| p == "tests");
        let mut inline = false;
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if mod_tests.is_match(line) {
                in_tests = true;
                inline = true;
            }
            if line.trim() != "#[test]" {
                continue;
            }
            assert!(
                in_tests,
                "{}: a #[test] outside `mod tests`: teach tests/security_md.rs where it lives",
                file.display()
            );
            let name = lines
                .by_ref()
                .find_map(|l| test_fn.captures(l).map(|c| c[2].to_string()))
                .unwrap_or_else(|| panic!("{}: #[test] without a fn", file.display()));
            let tests_mod = if inline { "::tests" } else { "" };
            tests.insert(format!("{module}{tests_mod}::{name}"));
        }
    }
    tests
}

/// The cells of a table row, split on `|` that is not escaped as `\|`.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cells.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells.iter().map(|c| c.trim().to_string()).collect()
}

#[test]
fn every_test_security_md_cites_exists() {
    let page = std::fs::read_to_string(root().join("SECURITY.md")).unwrap();
    let mut known = integration_tests();
    let lib = lib_tests();
    assert!(
        lib.len() > 100,
        "read only {} unit tests from src/",
        lib.len()
    );
    assert!(
        known.contains("security_md::every_test_security_md_cites_exists"),
        "this binary's --list does not hold this test"
    );
    known.extend(lib);

    let ticked = regex::Regex::new(r"`([^`]+)`").unwrap();
    let path = regex::Regex::new(r"^[a-z_][a-z0-9_]*(::[a-z_][a-z0-9_]*)+$").unwrap();
    let mut problems = Vec::new();
    let mut cited = 0;
    let mut in_table = false;
    for (i, line) in page.lines().enumerate() {
        let at = format!("SECURITY.md:{}", i + 1);
        if !line.trim_start().starts_with('|') {
            in_table = false;
            // Outside the tables, a path that can only be a test must be one.
            for c in ticked.captures_iter(line) {
                let p = &c[1];
                let test_like =
                    p.starts_with("e2e::") || p.starts_with("steps::") || p.contains("::tests::");
                if path.is_match(p) && test_like && !known.contains(p) {
                    problems.push(format!("{at}: `{p}` is no test"));
                }
            }
            continue;
        }
        let row = cells(line);
        if row == ["Guarantee", "Test", "Seen failing when"] {
            in_table = true;
            continue;
        }
        if !in_table || row.iter().all(|c| c.chars().all(|c| c == '-' || c == ':')) {
            continue;
        }
        if row.len() != 3 {
            problems.push(format!("{at}: {} cells, not 3", row.len()));
            continue;
        }
        let tests: Vec<&str> = ticked
            .captures_iter(&row[1])
            .map(|c| c.get(1).unwrap().as_str())
            .collect();
        if tests.is_empty() {
            problems.push(format!("{at}: a guarantee that cites no test"));
        }
        for t in tests {
            cited += 1;
            if !path.is_match(t) || !known.contains(t) {
                problems.push(format!("{at}: `{t}` is no test"));
            }
        }
        if row[2].is_empty() {
            problems.push(format!(
                "{at}: say how the test was seen to fail, or \"not yet broken on purpose\""
            ));
        }
    }
    assert!(
        cited >= 50,
        "only {cited} citations read from SECURITY.md's tables"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
