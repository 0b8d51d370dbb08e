//! Golden fixture trees: `tests/fixtures/<area>/<case>/`, one directory per case, holding the file
//! as it was before (absent for a file that does not exist yet) and either the whole expected file
//! after the edit, or the text of the error with which rdock must refuse it (the file then keeps
//! every byte). Each area says what its files are called and how to run a case; this walks the
//! tree, compares, and rewrites the expected files from what rdock does now under
//!
//!     RDOCK_BLESS=1 cargo test --test integration AREA::golden
//!
//! (read the diff before committing it). The tree's `.gitattributes` keeps git from touching the
//! CRLF and BOM bytes; [`Tree::assert_bytes_kept`] proves it did.

use std::fs;
use std::path::{Path, PathBuf};

use rdock::steps::{Finding, Status};

/// One area's fixture tree.
pub struct Tree {
    /// The directory under tests/fixtures.
    pub area: &'static str,
    /// The names of a case's files.
    pub before: &'static str,
    pub after: &'static str,
    pub error: &'static str,
    /// Fewer cases than this means fixtures went missing.
    pub min_cases: usize,
}

/// One case, as the area's closure gets it.
pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    /// The `before` file's bytes; None when the case starts without a file.
    pub before: Option<Vec<u8>>,
}

impl Case {
    /// Another file of the case (`edit`, say), as text.
    pub fn read(&self, file: &str) -> Result<String, String> {
        fs::read_to_string(self.dir.join(file)).map_err(|e| format!("{file}: {e}"))
    }
}

/// What a case's edit did.
pub enum Outcome {
    /// The file after the edit.
    Edited(Vec<u8>),
    /// rdock refused: its message, and the file's bytes after the refusal (None: no file).
    Refused(String, Option<Vec<u8>>),
}

/// One run of a settings step on a case, judged as every settings area judges it. Refused (`refused`
/// holds the editor's error): the error has a line and column, and `found` reports it as a failure
/// rdock cannot fix. Edited: `found` is ok, `changed` counts one change when the bytes changed, and
/// `rerun` (a second run, which says whether it changed anything) passes.
pub fn settings_outcome(
    case: &Case,
    refused: Option<String>,
    found: &Finding,
    changed: usize,
    got: Option<Vec<u8>>,
    rerun: impl FnOnce(&[u8]) -> Result<(), String>,
) -> Result<Outcome, String> {
    if let Some(err) = refused {
        if !err.contains(" at line ") || !err.contains(", column ") {
            return Err(format!("error without line and column: {err}"));
        }
        if found.status != Status::Fail || found.fixable || !found.message.contains(&err) {
            return Err(format!("finding {found:?} does not report {err:?}"));
        }
        return Ok(Outcome::Refused(err, got));
    }
    let Some(got) = got else {
        return Err("no file after the run".into());
    };
    if found.status != Status::Ok {
        return Err(format!("finding {found:?}"));
    }
    let should_change = case.before.as_deref() != Some(&got[..]);
    if changed != usize::from(should_change) {
        return Err(format!("{changed} changes reported"));
    }
    rerun(&got)?;
    Ok(Outcome::Edited(got))
}

fn blessing() -> bool {
    std::env::var_os("RDOCK_BLESS").is_some_and(|v| v == "1")
}

/// Some lines, and every one ends with CRLF.
fn crlf_only(bytes: &[u8]) -> bool {
    let crlf = bytes.windows(2).filter(|w| w == b"\r\n").count();
    crlf > 0 && crlf == bytes.iter().filter(|b| **b == b'\n').count()
}

impl Tree {
    pub fn root(&self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(self.area)
    }

    /// The bytes of one fixture file.
    pub fn read(&self, case: &str, file: &str) -> Vec<u8> {
        let path = self.root().join(case).join(file);
        fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn cases(&self) -> Vec<PathBuf> {
        let mut cases: Vec<PathBuf> = fs::read_dir(self.root())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        cases
    }

    /// Run every case through `run` and compare with its expected file; panics with every failure.
    /// `run` gets the case and returns what the edit did, or an area-specific failure (a rerun
    /// that changed the file, a finding that disagrees) as Err.
    pub fn check(&self, mut run: impl FnMut(&Case) -> Result<Outcome, String>) {
        let bless = blessing();
        let cases = self.cases();
        assert!(
            cases.len() >= self.min_cases,
            "only {} cases in {}",
            cases.len(),
            self.root().display()
        );
        let failures: Vec<String> = cases
            .iter()
            .filter_map(|dir| {
                let case = Case {
                    name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                    dir: dir.clone(),
                    before: fs::read(dir.join(self.before)).ok(),
                };
                let compared = run(&case).and_then(|outcome| self.compare(&case, outcome, bless));
                compared.err().map(|e| format!("[{}] {e}", case.name))
            })
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    fn compare(&self, case: &Case, outcome: Outcome, bless: bool) -> Result<(), String> {
        let (after, error) = (case.dir.join(self.after), case.dir.join(self.error));
        if bless {
            // Write the expected file of what happened, and drop the other one, now stale.
            let (write, bytes, stale) = match &outcome {
                Outcome::Edited(got) => (&after, got.clone(), &error),
                Outcome::Refused(err, _) => (&error, format!("{err}\n").into_bytes(), &after),
            };
            fs::write(write, bytes).unwrap();
            let _ = fs::remove_file(stale);
        }
        let shown = |b: &[u8]| format!("{:?}", String::from_utf8_lossy(b));
        match outcome {
            Outcome::Refused(err, got) => {
                let expected = fs::read_to_string(&error)
                    .map_err(|_| format!("refused ({err}), and the case has no {}", self.error))?;
                if err != expected.trim_end() {
                    return Err(format!("error {err:?}, expected {:?}", expected.trim_end()));
                }
                if got != case.before {
                    return Err(format!(
                        "a refused file was changed to {}",
                        shown(&got.unwrap_or_default())
                    ));
                }
            }
            Outcome::Edited(got) => {
                if error.exists() {
                    return Err(format!(
                        "expected an error, and the edit gave {}",
                        shown(&got)
                    ));
                }
                let expected = fs::read(&after).map_err(|e| format!("{}: {e}", self.after))?;
                if got != expected {
                    return Err(format!(
                        "got\n{}\nexpected\n{}",
                        shown(&got),
                        shown(&expected)
                    ));
                }
            }
        }
        Ok(())
    }

    /// The CRLF cases' files end every line with CRLF, and the BOM cases' files start with a
    /// BOM, both before and after: git (or an editor) did not normalise them away.
    pub fn assert_bytes_kept(&self, crlf: &[&str], bom: &[&str]) {
        let attributes = fs::read_to_string(self.root().join(".gitattributes")).unwrap_or_default();
        assert!(
            attributes.lines().any(|l| l.trim() == "* -text"),
            "{}/.gitattributes must say `* -text`",
            self.area
        );
        for (cases, kept, what) in [
            (
                crlf,
                crlf_only as fn(&[u8]) -> bool,
                "its CRLF line endings",
            ),
            (bom, |b: &[u8]| b.starts_with(b"\xef\xbb\xbf"), "its BOM"),
        ] {
            for case in cases {
                for file in [self.before, self.after] {
                    let bytes = self.read(case, file);
                    assert!(kept(&bytes), "{}/{case}/{file} lost {what}", self.area);
                }
            }
        }
    }
}
