//! Snapshots of what a person reads: the transcripts of the real binary in the end-to-end
//! sandbox, pinned whole with insta in tests/snapshots/<name>.snap.
//!
//! Every run differs in its port, its throwaway users, its temp directories and its key, and
//! every machine in its OpenSSH and docker versions; [`Transcript`] replaces each with a
//! placeholder, so that a snapshot changes only when rdock's output does.
//!
//! A difference fails the test and leaves `<name>.snap.new` beside the snapshot: read it, then
//! accept it with `cargo insta review` or by renaming it (`INSTA_UPDATE=always` rewrites every
//! snapshot a run reaches). With CI=true insta writes nothing, and a difference only fails.

use std::path::Path;

use insta::Settings;

use crate::harness::{Run, Sandbox};

/// Keys and host keys, first: a port number must not be found inside one.
const KEYS: &[(&str, &str)] = &[
    (r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:[FINGERPRINT]"),
    (r"\bAAAA[A-Za-z0-9+/]{40,}={0,2}", "[KEY_BLOB]"),
];

/// What else differs run to run or machine to machine, after the sandbox's own values (which
/// are replaced exactly): a pattern and its placeholder, in the order applied.
const FILTERS: &[(&str, &str)] = &[
    // Throwaway users (rdl/rdr, pid, counter) and temp paths of other sandboxes.
    (r"\brdl\d+x\d+\b", "[LOCAL_USER]"),
    (r"\brdr\d+x\d+\b", "[REMOTE_USER]"),
    (r"/tmp/[^\s/'\x22]+", "[TMP]"),
    // Ports no test named.
    (
        r"\b(127\.0\.0\.1\]?[:-]|port )\d{2,5}\b",
        "${1}[OTHER_PORT]",
    ),
    // Versions of the tools on this machine, and where docker is installed.
    (r"OpenSSH_[0-9][\w.]*", "OpenSSH_[VERSION]"),
    (
        r"\b(docker|daemon|server|version|CLI|compose) v?\d+\.\d+\.\d+[\w.+~-]*",
        "$1 [VERSION]",
    ),
    (r"\b(yes +)\d+\.\d+\.\d+[\w.+~-]*", "${1}[VERSION]"),
    (
        r#""server_version": "[^"]*""#,
        r#""server_version": "[VERSION]""#,
    ),
    (r"\((/[\w.-]+)+/docker\)", "([DOCKER_BIN])"),
    // Docker's own words for an error, which change with its version, and for an endpoint that
    // refuses the connection, from run to run (ssh's "Connection refused", or docker's "broken
    // pipe" when it loses the race with ssh): the error column of `list --check`.
    (r"\b(no +no +)\S.*", "${1}[DOCKER_ERROR]"),
    (
        r"(may not use the docker socket) \(.*\)",
        "$1 ([DOCKER_ERROR])",
    ),
    // Timings.
    (r"\b\d+(\.\d+)?\s?(ns|µs|ms|s)\b", "[DURATION]"),
];

/// The filters for one sandbox's transcripts.
pub struct Transcript {
    /// The sandbox's own values and the ports the test named: (exact text, placeholder).
    exact: Vec<(String, String)>,
}

impl Transcript {
    pub fn new(sb: &Sandbox) -> Transcript {
        let path = |p: &Path| p.display().to_string();
        let exact = [
            // The longest first: the homes are inside the sandbox's directory.
            (path(&sb.local.home), "[HOME]"),
            (path(&sb.remote.home), "[REMOTE_HOME]"),
            (path(&sb.dir), "[SANDBOX]"),
            (path(&sb.shared.dir), "[SHARED]"),
            (sb.local.name.clone(), "[LOCAL_USER]"),
            (sb.remote.name.clone(), "[REMOTE_USER]"),
        ];
        let exact = exact
            .into_iter()
            .map(|(value, placeholder)| (regex::escape(&value), placeholder.to_string()))
            .collect();
        Transcript { exact }.port(sb.port, "[PORT]")
    }

    /// Another port this test chose (a dead one, say), under its own placeholder.
    pub fn port(mut self, port: u16, placeholder: &str) -> Transcript {
        self.exact
            .push((format!(r"\b{port}\b"), placeholder.to_string()));
        self
    }

    /// Compare the runs, one after the other, with tests/snapshots/<name>.snap.
    pub fn assert(&self, name: &str, runs: &[&Run]) {
        let text = runs
            .iter()
            .map(|r| {
                let code = r.code.map_or("killed".into(), |c| c.to_string());
                format!(
                    "$ {}\nexit {code}\n--- stdout\n{}--- stderr\n{}",
                    r.command, r.stdout, r.stderr
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut settings = Settings::clone_current();
        settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        let exact = self.exact.iter().map(|(p, r)| (p.as_str(), r.as_str()));
        for (pattern, placeholder) in KEYS
            .iter()
            .copied()
            .chain(exact)
            .chain(FILTERS.iter().copied())
        {
            settings.add_filter(pattern, placeholder.to_string());
        }
        settings.bind(|| insta::assert_snapshot!(name, text));
    }
}
