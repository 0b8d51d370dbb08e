//! The test tiers stay where a reader (and scripts/test.sh's count) looks for them: every test
//! that builds a sandbox is end to end, lives under tests/e2e/ (`e2e::`) and is `#[ignore]`d, so
//! that a plain `cargo test` lists it as ignored instead of passing it without running it.

use std::fs;
use std::path::{Path, PathBuf};

const IGNORE: &str = "#[ignore = \"end to end (root, sshd, dockerd): scripts/test.sh runs it\"]";

pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

#[test]
fn every_end_to_end_test_is_ignored_by_default() {
    let mut files = Vec::new();
    rust_files(&tests_dir().join("e2e"), &mut files);
    let mut tests = 0;
    for file in &files {
        let text = fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            if line.trim() == "#[test]" {
                tests += 1;
                let next = lines.get(i + 1).map(|l| l.trim());
                assert_eq!(next, Some(IGNORE), "{}:{}", file.display(), i + 2);
            }
        }
    }
    assert!(tests > 50, "only {tests} end-to-end tests found");
}

#[test]
fn only_the_end_to_end_tier_and_the_benchmarks_build_a_sandbox() {
    let mut files = Vec::new();
    rust_files(&tests_dir(), &mut files);
    let allowed = |p: &Path| {
        let rel = p.strip_prefix(tests_dir()).unwrap();
        rel.starts_with("e2e") || rel.starts_with("harness") || rel == Path::new("bench.rs")
    };
    let outside: Vec<String> = files
        .iter()
        .filter(|f| !allowed(f))
        // Spelled in two pieces, so that this file does not name it.
        .filter(|f| {
            fs::read_to_string(f)
                .unwrap()
                .contains(concat!("Sandbox", "::start"))
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        outside.is_empty(),
        "a sandbox outside tests/e2e/: {outside:?}"
    );
}
