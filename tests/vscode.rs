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

// ---------------------------------------------------------------------------------------------
// How files are written

#[cfg(unix)]
#[test]
fn a_symlinked_settings_file_stays_a_link_and_its_target_is_edited() {
    let home = home_with_editors(&["Code"]);
    let dotfiles = home.path().join("dotfiles/vscode.json");
    fs::create_dir_all(dotfiles.parent().unwrap()).unwrap();
    fs::write(&dotfiles, "{\n  \"a\": 1,\n}\n").unwrap();
    let link = settings(home.path(), "Code");
    std::os::unix::fs::symlink("../../../dotfiles/vscode.json", &link).unwrap();

    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Setup,
        false,
    );
    assert_eq!(report.changed, 1);
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_to_string(&dotfiles).unwrap(),
        "{\n  \"a\": 1,\n  \"docker.explorerRefreshInterval\": 3000,\n}\n"
    );
    assert_eq!(
        fs::read_dir(user_dir(home.path(), "Code")).unwrap().count(),
        1
    );
}

#[cfg(unix)]
#[test]
fn the_mode_of_an_existing_file_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let home = home_with_editors(&["Code"]);
    let file = settings(home.path(), "Code");
    fs::write(&file, "{}").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o640)).unwrap();
    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Setup,
        false,
    );
    assert_eq!(report.changed, 1);
    assert!(fs::read_to_string(&file).unwrap().contains(KEY));
    assert_eq!(rdock::sys::fsutil::mode(&file), Some(0o640));
}

#[test]
fn dry_run_says_what_it_would_do_and_writes_nothing() {
    let home = home_with_editors(&["Code", "Cursor"]);
    let code = settings(home.path(), "Code");
    fs::write(&code, "{\"docker.explorerRefreshInterval\": 1000}").unwrap();
    let report = run_steps(&discovery(home.path()), &options(vec![]), Mode::Setup, true);
    assert_eq!(report.changed, 2);
    let would = |id: &str| match &finding(&report, id).outcome {
        Some(rdock::steps::Outcome::WouldDo(would)) => would.clone(),
        other => panic!("{id}: expected what it would do, got {other:?}"),
    };
    let f = finding(&report, "vscode:Code");
    assert_eq!(f.status, Status::Fail, "nothing was fixed");
    assert!(
        would("vscode:Code")
            .starts_with("would raise docker.explorerRefreshInterval from 1000 to 3000 in"),
        "{}",
        would("vscode:Code")
    );
    assert!(would("vscode:Cursor").starts_with("would create"));
    assert_eq!(
        fs::read_to_string(&code).unwrap(),
        "{\"docker.explorerRefreshInterval\": 1000}"
    );
    assert!(!settings(home.path(), "Cursor").exists());
}

#[test]
fn doctor_reports_each_problem_with_its_fix_and_changes_nothing() {
    let home = home_with_editors(&["Code", "Cursor", "VSCodium"]);
    let code = settings(home.path(), "Code");
    fs::write(&code, "{\"docker.explorerRefreshInterval\": \"fast\"}").unwrap();
    fs::write(
        settings(home.path(), "Cursor"),
        "{\n  \"a\": 1,\n  \"b\": \n}",
    )
    .unwrap();
    fs::write(
        settings(home.path(), "VSCodium"),
        "{\"docker.explorerRefreshInterval\": 9000}",
    )
    .unwrap();
    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Doctor,
        false,
    );

    let wrong_type = finding(&report, "vscode:Code");
    assert_eq!(wrong_type.status, Status::Fail);
    assert!(wrong_type.fixable);
    assert!(
        wrong_type.message.contains("is a string"),
        "{}",
        wrong_type.message
    );
    let fix = wrong_type.fix.as_deref().unwrap();
    assert!(
        fix.starts_with("set \"docker.explorerRefreshInterval\": 3000 in ")
            && fix.ends_with("(or run rdock vscode)"),
        "{fix}"
    );

    let broken = finding(&report, "vscode:Cursor");
    assert_eq!(broken.status, Status::Fail);
    assert!(!broken.fixable);
    assert!(
        broken.message.contains("at line 4, column 1"),
        "{}",
        broken.message
    );
    assert!(broken
        .fix
        .as_deref()
        .unwrap()
        .contains("at line 4, column 1"));

    let larger = finding(&report, "vscode:VSCodium");
    assert_eq!(larger.status, Status::Ok);
    assert!(
        larger.message.ends_with("(larger than 3000, kept)"),
        "{}",
        larger.message
    );

    assert_eq!(report.changed, 0);
    assert_eq!(
        fs::read_to_string(&code).unwrap(),
        "{\"docker.explorerRefreshInterval\": \"fast\"}"
    );
}

// ---------------------------------------------------------------------------------------------
// Environment overrides and extensions, as steps

#[test]
fn an_environment_override_is_a_warning_with_its_fix() {
    let home = home_with_editors(&["Code"]);
    let file = settings(home.path(), "Code");
    let text = "{\n  \"docker.environment\": {\"DOCKER_HOST\": \"ssh://old\"},\n  \"containers.environment\": {\"DOCKER_CONTEXT\": \"x\", \"PATH\": \"/bin\"}\n}";
    fs::write(&file, text).unwrap();
    let report = run_steps(
        &discovery(home.path()),
        &options(vec![]),
        Mode::Setup,
        false,
    );
    let env = finding(&report, "vscode-env");
    assert_eq!(env.status, Status::Warn);
    assert!(
        env.message
            .contains("overrides the docker context inside VS Code"),
        "{}",
        env.message
    );
    let fix = env.fix.as_deref().unwrap();
    let shown = env_of(&discovery(home.path())).tilde(&file);
    assert_eq!(
        fix,
        format!(
            "remove \"DOCKER_HOST\" from \"docker.environment\" in {shown}\nremove \"DOCKER_CONTEXT\" from \"containers.environment\" in {shown}"
        )
    );
    // The warning does not stop the interval from being set, and the override is left alone.
    let edited = fs::read_to_string(&file).unwrap();
    assert!(edited.contains("\"DOCKER_HOST\": \"ssh://old\"") && edited.contains(KEY));
}

#[test]
fn the_extension_line_says_whether_the_setting_is_read() {
    let home = home_with_editors(&["Code"]);
    let h = home.path();
    let summary = |h: &Path| {
        let report = run_steps(&discovery(h), &options(vec![]), Mode::Setup, false);
        let f = finding(&report, "vscode-ext").clone();
        assert_eq!(f.status, Status::Ok);
        f.message
    };
    assert!(summary(h).starts_with("no Docker or Container Tools extension is installed"));

    fs::create_dir_all(h.join(".vscode/extensions/ms-azuretools.vscode-docker-1.29.3")).unwrap();
    fs::create_dir_all(
        h.join(".cursor/extensions/ms-azuretools.vscode-containers-2.0.1-linux-x64"),
    )
    .unwrap();
    let ignored = summary(h);
    assert!(
        ignored.starts_with(
            "Docker 1.29.3, Container Tools 2.0.1 ignore docker.explorerRefreshInterval"
        ),
        "{ignored}"
    );

    fs::create_dir_all(h.join(".vscode-insiders/extensions/ms-azuretools.vscode-docker-1.22.2"))
        .unwrap();
    let read = summary(h);
    assert_eq!(
        read,
        "Docker 1.22.2 reads docker.explorerRefreshInterval (Docker 1.29.3, Container Tools 2.0.1 ignore it)"
    );
}

// ---------------------------------------------------------------------------------------------
// The command, end to end

fn rdock(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdock"))
        .args(args)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("NO_COLOR", "1")
        .env_remove("VSCODE_PORTABLE")
        .env_remove("APPDATA")
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn command_edits_then_a_second_run_changes_nothing() {
    let home = home_with_editors(&["Code"]);
    let file = settings(home.path(), "Code");
    fs::write(&file, "{\r\n\t// mine\r\n\t\"a\": 1,\r\n}\r\n").unwrap();

    let first = rdock(home.path(), &["vscode"]);
    assert_eq!(first.status.code(), Some(0), "{}", stdout(&first));
    assert!(
        stdout(&first).contains("set docker.explorerRefreshInterval to 3000 in"),
        "{}",
        stdout(&first)
    );
    assert!(stdout(&first)
        .trim_end()
        .ends_with("1 settings file changed"));
    let edited = fs::read(&file).unwrap();
    assert_eq!(
        edited,
        b"{\r\n\t// mine\r\n\t\"a\": 1,\r\n\t\"docker.explorerRefreshInterval\": 3000,\r\n}\r\n"
    );

    let second = rdock(home.path(), &["vscode"]);
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stdout(&second).trim_end().ends_with("nothing changed"),
        "{}",
        stdout(&second)
    );
    assert_eq!(fs::read(&file).unwrap(), edited);
}

#[test]
fn command_fails_on_a_malformed_file_after_editing_the_others() {
    let home = home_with_editors(&["Code", "Cursor"]);
    let good = settings(home.path(), "Cursor");
    let bad = settings(home.path(), "Code");
    fs::write(&good, "{}").unwrap();
    let broken = b"{\n  \"a\": \x00\xff\n";
    fs::write(&bad, broken).unwrap();

    let out = rdock(home.path(), &["vscode", "--refresh-interval", "4000"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(fs::read(&bad).unwrap(), broken);
    assert_eq!(
        fs::read_to_string(&good).unwrap(),
        "{\n    \"docker.explorerRefreshInterval\": 4000\n}"
    );
    let text = stdout(&out);
    assert!(
        text.contains("✗ vscode:Code") && text.contains("at line 2, column 9"),
        "{text}"
    );
    assert!(
        text.trim_end()
            .ends_with("1 settings file changed; 1 failed"),
        "{text}"
    );
}

#[test]
fn command_dry_run_writes_nothing() {
    let home = home_with_editors(&["Code", "Cursor"]);
    let code = settings(home.path(), "Code");
    fs::write(&code, "{\"a\": 1}").unwrap();
    let out = rdock(home.path(), &["--dry-run", "vscode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("would set docker.explorerRefreshInterval to 3000 in"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("would create"), "{}", stdout(&out));
    assert!(stdout(&out)
        .trim_end()
        .ends_with("2 settings files would change (--dry-run: nothing was written)"));
    assert_eq!(fs::read_to_string(&code).unwrap(), "{\"a\": 1}");
    assert!(!settings(home.path(), "Cursor").exists());
}

#[test]
fn command_refuses_an_interval_below_one_second() {
    let home = home_with_editors(&["Code"]);
    let out = rdock(home.path(), &["vscode", "--refresh-interval", "999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!settings(home.path(), "Code").exists());
}
