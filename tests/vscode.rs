//! VS Code settings tests.
//!
//! Golden fixtures live in `tests/fixtures/vscode/<case>/`: `before.json` (absent for a file that
//! does not exist yet) and `after.json`, the whole expected file. A case with `error.txt` is one
//! rdock must refuse: the file stays byte-identical and the error, with its line and column, is
//! the text of `error.txt`. tests/support/golden.rs walks the tree;
//! `RDOCK_BLESS=1 cargo test --test integration vscode::golden` rewrites `after.json` and
//! `error.txt` from what rdock does now (read the diff before committing it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use proptest::prelude::*;
use rdock::cli::VscodeOptions;
use rdock::steps::plan::{self, EditorOptions, Options, Purpose, Scope};
use rdock::steps::{self, Finding, Mode, Report, Session, Status};
use rdock::sys::env::Env;
use rdock::sys::exec::Exec;
use rdock::sys::platform::Platform;
use rdock::sys::term::Term;
use rdock::vscode::{self, Discovery, Edit, KEY};

use crate::support::golden::{settings_outcome, Case, Outcome, Tree};

const INTERVAL: u64 = 3000;

/// Discovery as on Linux with this home directory and no variables set.
fn discovery(home: &Path) -> Discovery {
    Discovery {
        platform: Platform::Linux,
        home: home.to_path_buf(),
        xdg_config_home: None,
        appdata: None,
        vscode_portable: None,
    }
}

fn options(settings: Vec<PathBuf>) -> VscodeOptions {
    VscodeOptions {
        settings,
        refresh_interval: INTERVAL,
    }
}

/// The environment a Discovery was made from.
fn env_of(d: &Discovery) -> Env {
    let mut env = Env::new(d.platform, &d.home);
    for (key, value) in [
        ("XDG_CONFIG_HOME", &d.xdg_config_home),
        ("APPDATA", &d.appdata),
        ("VSCODE_PORTABLE", &d.vscode_portable),
    ] {
        if let Some(value) = value {
            env = env.with_var(key, value);
        }
    }
    env
}

/// The plan's editor steps, run in `mode` (setup, or setup under --dry-run when `dry_run`).
fn run_steps(d: &Discovery, opts: &VscodeOptions, mode: Mode, dry_run: bool) -> Report {
    let env = env_of(d);
    let options = Options {
        editors: EditorOptions {
            settings: opts.settings.clone(),
            interval: opts.refresh_interval,
        },
        ..Options::default()
    };
    let purpose = match mode {
        Mode::Doctor => Purpose::Doctor,
        _ => Purpose::Setup,
    };
    let mode = if dry_run && mode == Mode::Setup {
        Mode::DryRun
    } else {
        mode
    };
    let mut steps = plan::steps(purpose, Scope::Editors, &options, &env);
    let mut s = Session::new(Exec::new(false, dry_run), Term::plain(), env);
    steps::run(&mut s, &mut steps, mode, &mut |_| {})
}

fn finding<'a>(report: &'a Report, id: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no finding {id} in {:#?}", report.findings))
}

/// A home directory with `~/.config/<editor>/User` for each editor given.
fn home_with_editors(editors: &[&str]) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    for editor in editors {
        fs::create_dir_all(user_dir(home.path(), editor)).unwrap();
    }
    home
}

fn user_dir(home: &Path, editor: &str) -> PathBuf {
    home.join(".config").join(editor).join("User")
}

fn settings(home: &Path, editor: &str) -> PathBuf {
    user_dir(home, editor).join("settings.json")
}

// ---------------------------------------------------------------------------------------------
// Golden fixtures

const TREE: Tree = Tree {
    area: "vscode",
    before: "before.json",
    after: "after.json",
    error: "error.txt",
    min_cases: 39,
};

#[test]
fn golden_fixtures() {
    TREE.check(golden_case);
}

#[test]
fn fixtures_hold_their_crlf_and_bom_bytes() {
    TREE.assert_bytes_kept(&["crlf"], &["bom"]);
    assert!(TREE.read("malformed-binary", "before.json").contains(&0));
}

/// Run the settings step on a copy of `before.json`, then again, which must change nothing. A
/// file the editor refuses is reported with its line and column, as a failure rdock cannot fix.
fn golden_case(case: &Case) -> Result<Outcome, String> {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("settings.json");
    if let Some(bytes) = &case.before {
        fs::write(&file, bytes).unwrap();
    }
    let opts = options(vec![file.clone()]);
    let env = discovery(home.path());
    let report = run_steps(&env, &opts, Mode::Setup, false);
    let got = fs::read(&file).ok();
    let found = finding(&report, "vscode");

    let refused = case
        .before
        .as_deref()
        .and_then(|before| vscode::edit_bytes(before, INTERVAL).err());
    let refused = refused.map(|err| err.to_string());
    settings_outcome(case, refused, found, report.changed, got, |got| {
        let again = run_steps(&env, &opts, Mode::Setup, false);
        if again.changed != 0 || fs::read(&file).unwrap() != got {
            return Err("a second run changed the file".into());
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// Property: whatever the document, only the property changes

#[derive(Clone, Debug)]
enum Val {
    Num(u32),
    Str(String),
    Bool(bool),
    Null,
    Arr(Vec<Val>),
    Obj(Vec<(String, Val)>),
}

#[derive(Clone, Debug)]
enum Comment {
    Line(String),
    Block(String),
}

#[derive(Clone, Debug)]
struct Prop {
    key: String,
    val: Val,
    above: Option<Comment>,
    after: Option<Comment>,
}

#[derive(Clone, Debug)]
struct Style {
    indent: &'static str,
    nl: &'static str,
    multiline: bool,
    trailing_comma: bool,
    blank_edges: bool,
    bom: bool,
    final_newline: bool,
    header: Option<String>,
}

#[derive(Clone, Debug)]
struct Doc {
    props: Vec<Prop>,
    /// Where the key already is, and its value.
    existing: Option<(usize, u32)>,
    style: Style,
    interval: u64,
}

fn val() -> impl Strategy<Value = Val> {
    let leaf = prop_oneof![
        (0u32..100_000).prop_map(Val::Num),
        "[a-z ]{0,8}".prop_map(Val::Str),
        any::<bool>().prop_map(Val::Bool),
        Just(Val::Null),
        Just(Val::Str(KEY.to_string())),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        let key = prop_oneof!["[a-z]{1,6}", Just(KEY.to_string())];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Val::Arr),
            prop::collection::vec((key, inner), 0..3).prop_map(Val::Obj),
        ]
    })
}

fn comment() -> impl Strategy<Value = Option<Comment>> {
    let text = prop_oneof!["[a-z :./\"]{0,16}", Just(format!("\"{KEY}\": 1"))];
    prop_oneof![
        2 => Just(None),
        1 => text.clone().prop_map(|t| Some(Comment::Line(t))),
        1 => text.prop_map(|t| Some(Comment::Block(t))),
    ]
}

fn doc() -> impl Strategy<Value = Doc> {
    let prop =
        ("[a-zA-Z.]{1,10}", val(), comment(), comment()).prop_map(|(key, val, above, after)| {
            Prop {
                key,
                val,
                above,
                after,
            }
        });
    let style = (
        prop_oneof![Just("  "), Just("    "), Just("\t")],
        prop_oneof![Just("\n"), Just("\r\n")],
        prop::bool::weighted(0.8),
        any::<bool>(),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        any::<bool>(),
        prop::option::weighted(0.2, "[a-z ]{0,10}"),
    )
        .prop_map(
            |(indent, nl, multiline, trailing_comma, blank_edges, bom, final_newline, header)| {
                Style {
                    indent,
                    nl,
                    multiline,
                    trailing_comma,
                    blank_edges,
                    bom,
                    final_newline,
                    header,
                }
            },
        );
    (
        prop::collection::vec(prop, 0..6),
        prop::option::weighted(0.5, (0usize..6, 0u32..10_000)),
        style,
        1000u64..10_000,
    )
        .prop_map(|(mut props, existing, style, interval)| {
            // Unique top-level keys, none of them the one under test.
            for (i, p) in props.iter_mut().enumerate() {
                p.key = format!("{}{i}", p.key);
            }
            let existing = existing.map(|(at, value)| (at.min(props.len()), value));
            Doc {
                props,
                existing,
                style,
                interval,
            }
        })
}

fn render_val(v: &Val) -> String {
    match v {
        Val::Num(n) => n.to_string(),
        Val::Str(s) => serde_json::to_string(s).unwrap(),
        Val::Bool(b) => b.to_string(),
        Val::Null => "null".into(),
        Val::Arr(items) => format!(
            "[{}]",
            items.iter().map(render_val).collect::<Vec<_>>().join(", ")
        ),
        Val::Obj(props) => format!(
            "{{{}}}",
            props
                .iter()
                .map(|(k, v)| format!("{}: {}", serde_json::to_string(k).unwrap(), render_val(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn render_comment(c: &Comment, multiline: bool) -> String {
    match c {
        Comment::Line(t) if multiline => format!("//{t}"),
        Comment::Line(t) | Comment::Block(t) => format!("/*{t}*/"),
    }
}

/// The document's text, and the byte span of the existing value when there is one.
fn render(doc: &Doc) -> (String, Option<(usize, usize)>) {
    let s = &doc.style;
    let mut props: Vec<Prop> = doc.props.clone();
    if let Some((at, value)) = doc.existing {
        props.insert(
            at,
            Prop {
                key: KEY.to_string(),
                val: Val::Num(value),
                above: None,
                after: None,
            },
        );
    }
    let mut out = String::new();
    if s.bom {
        out.push('\u{feff}');
    }
    if let Some(header) = &s.header {
        out.push_str(&format!("// {header}{}", s.nl));
    }
    out.push('{');
    let mut span = None;
    let n = props.len();
    for (i, p) in props.iter().enumerate() {
        let comma = if i + 1 < n || s.trailing_comma {
            ","
        } else {
            ""
        };
        if s.multiline {
            out.push_str(s.nl);
            if i == 0 && s.blank_edges {
                out.push_str(s.nl);
            }
            if let Some(c) = &p.above {
                out.push_str(&format!("{}{}{}", s.indent, render_comment(c, true), s.nl));
            }
            out.push_str(s.indent);
        } else {
            if let Some(c) = &p.above {
                out.push_str(&format!("{} ", render_comment(c, false)));
            }
        }
        out.push_str(&format!("{}: ", serde_json::to_string(&p.key).unwrap()));
        let start = out.len();
        out.push_str(&render_val(&p.val));
        if p.key == KEY {
            span = Some((start, out.len()));
        }
        if s.multiline {
            out.push_str(comma);
            if let Some(c) = &p.after {
                out.push_str(&format!(" {}", render_comment(c, true)));
            }
        } else {
            if let Some(c) = &p.after {
                out.push_str(&format!(" {}", render_comment(c, false)));
            }
            out.push_str(comma);
            if i + 1 < n {
                out.push(' ');
            }
        }
    }
    if s.multiline {
        if s.blank_edges {
            out.push_str(s.nl);
        }
        out.push_str(s.nl);
    }
    out.push('}');
    if s.final_newline {
        out.push_str(s.nl);
    }
    (out, span)
}

/// Parse JSONC text (after its BOM) to a value for comparison.
fn parse_value(text: &str) -> jsonc_parser::JsonValue<'_> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    jsonc_parser::parse_to_value(body, &Default::default())
        .unwrap_or_else(|e| panic!("{e} in {text:?}"))
        .unwrap_or_else(|| panic!("no value in {text:?}"))
}

/// The characters of `new` that are not part of a greedy match of `old` as a subsequence; None
/// when `old` is not a subsequence of `new` (something was removed or moved).
fn inserted_chars(old: &str, new: &str) -> Option<String> {
    let mut old_chars = old.chars().peekable();
    let mut extra = String::new();
    for c in new.chars() {
        if old_chars.peek() == Some(&c) {
            old_chars.next();
        } else {
            extra.push(c);
        }
    }
    old_chars.peek().is_none().then_some(extra)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn only_the_property_changes(doc in doc()) {
        let (old, span) = render(&doc);
        let interval = doc.interval;
        let edit = vscode::edit_text(&old, interval).unwrap_or_else(|e| panic!("{e} in {old:?}"));
        let kept = doc.existing.is_some_and(|(_, value)| u64::from(value) >= interval);
        let new = match edit {
            Edit::Unchanged { value, .. } => {
                prop_assert!(kept, "unchanged {value} in {old:?}");
                return Ok(());
            }
            Edit::Changed { text, .. } => text,
        };
        prop_assert!(!kept, "a larger value was lowered in {old:?}");

        // Same document, with only the key set to the interval.
        let interval_text = interval.to_string();
        let jsonc_parser::JsonValue::Object(expected) = parse_value(&old) else { unreachable!() };
        let mut expected = expected.take_inner();
        expected.insert(KEY.into(), jsonc_parser::JsonValue::Number(&interval_text));
        prop_assert_eq!(
            parse_value(&new),
            jsonc_parser::JsonValue::Object(expected.into()),
            "{:?} became {:?}", old, new
        );

        // Every other byte kept.
        match span {
            Some((start, end)) => {
                prop_assert_eq!(&new[..start], &old[..start]);
                prop_assert_eq!(&new[start..start + interval_text.len()], interval_text.as_str());
                prop_assert_eq!(&new[start + interval_text.len()..], &old[end..]);
            }
            None => {
                let extra = inserted_chars(&old, &new);
                prop_assert!(extra.is_some(), "{:?} is not inside {:?}", old, new);
                let extra: String = extra.unwrap().chars().filter(|c| !c.is_whitespace()).collect();
                prop_assert!(extra.matches(',').count() <= 1, "{extra}");
                prop_assert_eq!(extra.replace(',', ""), format!("\"{KEY}\":{interval}"));
                if old.contains("\r\n") {
                    prop_assert_eq!(new.matches('\n').count(), new.matches("\r\n").count());
                }
            }
        }
        prop_assert_eq!(old.starts_with('\u{feff}'), new.starts_with('\u{feff}'));

        // And a second edit finds nothing to do.
        let again = vscode::edit_text(&new, interval).unwrap();
        prop_assert_eq!(again, Edit::Unchanged { value: interval_text, larger: false });
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery

#[test]
fn discovery_edits_installed_editors_and_creates_no_folder() {
    let home = home_with_editors(&["Code", "Cursor"]);
    let h = home.path();
    fs::write(settings(h, "Code"), "{\n    \"a\": 1\n}").unwrap();
    fs::create_dir_all(h.join(".config/VSCodium")).unwrap();
    let env = discovery(h);

    let ids: Vec<String> = vscode::targets(&env, &[])
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(ids, ["vscode:Code", "vscode:Cursor"]);

    let report = run_steps(&env, &options(vec![]), Mode::Setup, false);
    assert_eq!(report.changed, 2);
    assert_eq!(
        fs::read_to_string(settings(h, "Code")).unwrap(),
        "{\n    \"a\": 1,\n    \"docker.explorerRefreshInterval\": 3000\n}"
    );
    assert_eq!(
        fs::read_to_string(settings(h, "Cursor")).unwrap(),
        "{\n    \"docker.explorerRefreshInterval\": 3000\n}\n"
    );
    #[cfg(unix)]
    assert_eq!(
        rdock::sys::fsutil::mode(&settings(h, "Cursor")),
        Some(vscode::settings::NEW_FILE_MODE)
    );
    assert!(!h.join(".config/VSCodium/User").exists());
    for editor in ["Code - Insiders", "Code - OSS"] {
        assert!(
            !h.join(".config").join(editor).exists(),
            "{editor} was created"
        );
    }
    let ids: Vec<&str> = report.findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(
        ids,
        ["vscode:Code", "vscode:Cursor", "vscode-env", "vscode-ext"]
    );
}

#[test]
fn xdg_config_home_moves_the_search() {
    let home = tempfile::tempdir().unwrap();
    let xdg = home.path().join("xdg");
    fs::create_dir_all(xdg.join("Code - Insiders/User")).unwrap();
    fs::create_dir_all(user_dir(home.path(), "Code")).unwrap();
    let env = Discovery {
        xdg_config_home: Some(xdg.to_string_lossy().into_owned()),
        ..discovery(home.path())
    };
    let targets = vscode::targets(&env, &[]);
    assert_eq!(targets.len(), 1);
    assert_eq!(targets[0].id, "vscode:Code-Insiders");
    assert_eq!(
        targets[0].path,
        xdg.join("Code - Insiders/User/settings.json")
    );
}

#[test]
fn vscode_portable_replaces_discovery() {
    let home = home_with_editors(&["Code"]);
    let portable = home.path().join("VSCode-linux-x64/data");
    fs::create_dir_all(portable.join("user-data/User")).unwrap();
    let env = Discovery {
        vscode_portable: Some(portable.to_string_lossy().into_owned()),
        ..discovery(home.path())
    };
    let report = run_steps(&env, &options(vec![]), Mode::Setup, false);
    assert_eq!(finding(&report, "vscode:portable").status, Status::Ok);
    let file = portable.join("user-data/User/settings.json");
    assert!(fs::read_to_string(file).unwrap().contains(KEY));
    assert!(
        !settings(home.path(), "Code").exists(),
        "the installed Code was touched"
    );
    assert!(report.findings.iter().all(|f| f.id != "vscode:Code"));
}

#[test]
fn explicit_settings_replace_discovery_and_are_created() {
    let home = home_with_editors(&["Code"]);
    let first = home.path().join("new/dir/settings.json");
    let second = home.path().join("other.json");
    fs::write(&second, "{\"docker.explorerRefreshInterval\": 100}").unwrap();
    let opts = options(vec![first.clone(), second.clone()]);
    let report = run_steps(&discovery(home.path()), &opts, Mode::Setup, false);
    assert_eq!(report.changed, 2);
    assert_eq!(finding(&report, "vscode:1").status, Status::Ok);
    assert_eq!(
        fs::read_to_string(&first).unwrap(),
        "{\n    \"docker.explorerRefreshInterval\": 3000\n}\n"
    );
    assert_eq!(
        fs::read_to_string(&second).unwrap(),
        "{\"docker.explorerRefreshInterval\": 3000}"
    );
    assert!(!settings(home.path(), "Code").exists());

    let single = vscode::targets(&discovery(home.path()), std::slice::from_ref(&first));
    assert_eq!(
        (single[0].id.as_str(), single[0].explicit),
        ("vscode", true)
    );
}

#[test]
fn no_editor_gives_one_line_and_creates_nothing() {
    let home = tempfile::tempdir().unwrap();
    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Setup,
        false,
    );
    assert_eq!(report.findings.len(), 1);
    let only = &report.findings[0];
    assert_eq!(only.status, Status::Skip);
    assert_eq!(only.message, "no VS Code-like editor found; nothing to do");
    assert_eq!(report.changed, 0);
    assert_eq!(fs::read_dir(home.path()).unwrap().count(), 0);
}

mod command;
mod written;
