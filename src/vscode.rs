//! VS Code settings (issue 3): set `docker.explorerRefreshInterval` in the settings.json of every
//! installed VS Code-like editor, and change no other byte.
//!
//! Where the files are ([`Discovery`]): under the OS's user data folder
//! ([`Platform::editor_config_dir`]) each editor of [`EDITORS`] keeps `<Editor>/User/settings.json`.
//! An editor counts as installed when its `User` folder exists; rdock never creates a folder for
//! one, but creates settings.json inside an existing `User` folder. `VSCODE_PORTABLE` replaces that
//! search with `$VSCODE_PORTABLE/user-data/User/settings.json`, and `--settings PATH` (repeatable)
//! replaces it with the files named, which are created (with their folder) when missing.
//!
//! The edit ([`edit_text`]): the file is parsed with jsonc-parser's lossless CST (comments and
//! trailing commas allowed, as VS Code allows them). The CST finds the top-level property and where
//! a new one goes; the change is then spliced into the original text, so every byte outside it is
//! kept: comments, blank lines, indentation, key order, CRLF, a UTF-8 BOM. (The CST's own
//! `append` would also work, but it drops blank lines just inside the braces and reflows one-line
//! objects.) A larger value is never lowered. A file that does not parse, or whose top level is not
//! an object, is left byte-identical and reported with its line and column.
//!
//! Files are written with [`fsutil::write_atomic`]: the mode is kept and a symlink stays a link. A
//! new settings.json gets mode 0644 ([`NEW_FILE_MODE`]), as editors create it: it holds no secret.
//!
//! The truth about the setting: the Docker extension (`ms-azuretools.vscode-docker`) removed
//! `docker.explorerRefreshInterval` in 1.23.0 (November 2022), and its successor Container Tools
//! (`ms-azuretools.vscode-containers`) refreshes on `docker events`. rdock still writes it, for older
//! installs, and says which of the installed extensions read it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use jsonc_parser::cst::{
    CstContainerNode, CstLeafNode, CstNode, CstObject, CstObjectProp, CstRootNode,
};
use jsonc_parser::ParseOptions;

use crate::cli::VscodeOptions;
use crate::fsutil::{self, tilde};
use crate::platform::Platform;
use crate::session::Session;
use crate::step::{Finding, Step};

/// The setting rdock writes, as a top-level key.
pub const KEY: &str = "docker.explorerRefreshInterval";
/// Mode of a settings.json rdock creates (an existing file keeps its own).
pub const NEW_FILE_MODE: u32 = 0o644;
/// Folders of VS Code-like editors under the user data folder.
pub const EDITORS: [&str; 5] = [
    "Code",
    "Code - Insiders",
    "VSCodium",
    "Cursor",
    "Code - OSS",
];
/// Folders under the home directory whose `extensions` folder holds installed extensions.
pub const EXTENSION_HOMES: [&str; 4] = [".vscode", ".vscode-insiders", ".vscode-oss", ".cursor"];
/// Settings whose object sets environment variables for the Docker extensions.
pub const ENVIRONMENT_SETTINGS: [&str; 2] = ["docker.environment", "containers.environment"];
/// Variables that, set there, override the docker context inside VS Code.
pub const CONTEXT_VARIABLES: [&str; 2] = ["DOCKER_HOST", "DOCKER_CONTEXT"];
/// The first Docker extension version that no longer reads [`KEY`].
pub const DOCKER_IGNORES_FROM: Version = (1, 23, 0);
/// Indentation of a property in an object that shows none (VS Code's default).
const DEFAULT_INDENT: &str = "    ";
const ENV_STEP_ID: &str = "vscode-env";
const EXT_STEP_ID: &str = "vscode-ext";

// ---------------------------------------------------------------------------------------------
// Errors and positions

/// Why a settings file cannot be edited, with the 1-based line and column of the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl SettingsError {
    fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
        let (line, column) = line_column(text, offset);
        SettingsError {
            line,
            column,
            message: message.into(),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {}, column {}",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for SettingsError {}

/// 1-based line and column (in characters) of a byte offset, counted as jsonc-parser counts them:
/// `\n`, `\r\n` and a lone `\r` end a line. A leading BOM takes no column.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let (mut line, mut column) = (1, 1);
    let mut chars = text[..offset].char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\u{feff}' if i == 0 => {}
            '\r' if chars.peek().is_some_and(|(_, next)| *next == '\n') => {}
            '\n' | '\r' => {
                line += 1;
                column = 1;
            }
            _ => column += 1,
        }
    }
    (line, column)
}

/// The text of a settings file, or where it stops being UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, SettingsError> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = e.valid_up_to();
        let text = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
        SettingsError::at(
            text,
            good,
            format!("invalid UTF-8 (byte 0x{:02x})", bytes[good]),
        )
    })
}

// ---------------------------------------------------------------------------------------------
// The document: a lossless CST and byte offsets into the text it came from

struct Document<'a> {
    bom: &'a str,
    body: &'a str,
    root: CstRootNode,
}

/// JSON with comments and trailing commas, as VS Code reads settings; nothing looser.
pub fn parse_options() -> ParseOptions {
    ParseOptions {
        allow_comments: true,
        allow_trailing_commas: true,
        allow_loose_object_property_names: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    }
}

impl<'a> Document<'a> {
    fn parse(text: &'a str) -> Result<Self, SettingsError> {
        let (bom, body) = match text.strip_prefix('\u{feff}') {
            Some(body) => (&text[..'\u{feff}'.len_utf8()], body),
            None => ("", text),
        };
        let root = CstRootNode::parse(body, &parse_options()).map_err(|e| {
            let kind = e.kind().to_string();
            let mut chars = kind.chars();
            let message = chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or(kind);
            SettingsError {
                line: e.line_display(),
                column: e.column_display(),
                message,
            }
        })?;
        // Offsets are computed from the printed CST: refuse to edit a text it does not reproduce.
        let printed = root.to_string();
        if printed != body {
            let mut at = printed
                .bytes()
                .zip(body.bytes())
                .position(|(a, b)| a != b)
                .unwrap_or(printed.len().min(body.len()));
            while !body.is_char_boundary(at) {
                at -= 1;
            }
            return Err(SettingsError::at(
                body,
                at,
                "rdock cannot edit this text without changing other bytes",
            ));
        }
        Ok(Document { bom, body, root })
    }

    /// The top-level object; None when the file holds no value at all (empty, blank or comments).
    fn object(&self) -> Result<Option<CstObject>, SettingsError> {
        match self.root.value() {
            None => Ok(None),
            Some(CstNode::Container(CstContainerNode::Object(object))) => Ok(Some(object)),
            Some(other) => Err(self.error_at(
                &other,
                format!("the top level is {}, not an object", kind_name(&other)),
            )),
        }
    }

    fn error_at(&self, node: &CstNode, message: impl Into<String>) -> SettingsError {
        SettingsError::at(self.body, start(node), message)
    }

    /// The file's own line break (the first one found), LF when it has none.
    fn newline(&self) -> &'static str {
        use jsonc_parser::cst::CstNewlineKind::*;
        match self.root.newline_kind() {
            LineFeed => "\n",
            CarriageReturnLineFeed => "\r\n",
            CarriageReturn => "\r",
        }
    }

    /// The text with the splices applied (sorted, non-overlapping), the BOM kept.
    fn apply(&self, mut splices: Vec<Splice>) -> String {
        splices.sort_by_key(|s| s.at);
        let mut out = String::with_capacity(self.bom.len() + self.body.len() + 64);
        out.push_str(self.bom);
        let mut done = 0;
        for splice in splices {
            out.push_str(&self.body[done..splice.at]);
            out.push_str(&splice.insert);
            done = splice.at + splice.remove;
        }
        out.push_str(&self.body[done..]);
        out
    }
}

/// Replace `remove` bytes at `at` with `insert`.
struct Splice {
    at: usize,
    remove: usize,
    insert: String,
}

impl Splice {
    fn insert(at: usize, insert: impl Into<String>) -> Self {
        Splice {
            at,
            remove: 0,
            insert: insert.into(),
        }
    }
}

/// Byte offset where a node starts: everything printed before it, at every level.
fn start(node: &CstNode) -> usize {
    let before: usize = node.previous_siblings().map(|n| n.to_string().len()).sum();
    before + node.parent().map_or(0, |parent| start(&parent.into()))
}

/// Byte offset just past a node.
fn end(node: &CstNode) -> usize {
    start(node) + node.to_string().len()
}

fn kind_name(node: &CstNode) -> &'static str {
    match node {
        CstNode::Container(CstContainerNode::Object(_)) => "an object",
        CstNode::Container(CstContainerNode::Array(_)) => "an array",
        CstNode::Leaf(CstLeafNode::StringLit(_)) => "a string",
        CstNode::Leaf(CstLeafNode::NumberLit(_)) => "a number",
        CstNode::Leaf(CstLeafNode::BooleanLit(_)) => "a boolean",
        CstNode::Leaf(CstLeafNode::NullKeyword(_)) => "null",
        _ => "a bare word",
    }
}

// ---------------------------------------------------------------------------------------------
// The edit

/// What the file held before an edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Before {
    /// No top-level `docker.explorerRefreshInterval` (or no file, or an empty one).
    Missing,
    /// A number lower than the interval, as written.
    Number(String),
    /// Some other kind of value: "a string", "null", "an object"...
    NotNumber(&'static str),
}

/// What setting the interval does to a settings text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Edit {
    /// The value is already at least the interval: nothing to write. `value` is as written.
    Unchanged { value: String, larger: bool },
    /// The whole new text, and what was there before.
    Changed { text: String, before: Before },
}

/// The property as rdock writes it.
fn property_text(interval: u64) -> String {
    format!("\"{KEY}\": {interval}")
}

/// Set the top-level `docker.explorerRefreshInterval` to `interval` unless it is already at least
/// that. Only the value's text changes, or the new property (and a comma) is inserted.
pub fn edit_text(text: &str, interval: u64) -> Result<Edit, SettingsError> {
    let doc = Document::parse(text)?;
    let Some(object) = doc.object()? else {
        return Ok(Edit::Changed {
            text: doc.apply(fresh_object(&doc, interval)),
            before: Before::Missing,
        });
    };
    let Some(prop) = interval_property(&doc, &object)? else {
        return Ok(Edit::Changed {
            text: doc.apply(insert_property(&doc, &object, interval)),
            before: Before::Missing,
        });
    };
    let value = prop
        .value()
        .ok_or_else(|| doc.error_at(&prop.clone().into(), format!("{KEY} has no value")))?;
    let written = value.to_string();
    let before = match &value {
        CstNode::Leaf(CstLeafNode::NumberLit(_)) => match written.parse::<f64>() {
            Ok(n) if n >= interval as f64 => {
                return Ok(Edit::Unchanged {
                    larger: n > interval as f64,
                    value: written,
                })
            }
            _ => Before::Number(written.clone()),
        },
        other => Before::NotNumber(kind_name(other)),
    };
    let splice = Splice {
        at: start(&value),
        remove: written.len(),
        insert: interval.to_string(),
    };
    Ok(Edit::Changed {
        text: doc.apply(vec![splice]),
        before,
    })
}

/// [`edit_text`] for the bytes of a file.
pub fn edit_bytes(bytes: &[u8], interval: u64) -> Result<Edit, SettingsError> {
    edit_text(decode(bytes)?, interval)
}

/// The top-level property, if any. Written twice is an error: which one counts is not obvious.
fn interval_property(
    doc: &Document,
    object: &CstObject,
) -> Result<Option<CstObjectProp>, SettingsError> {
    let mut found = object
        .properties()
        .into_iter()
        .filter(|p| p.decoded_name().as_deref() == Some(KEY));
    let first = found.next();
    match (first, found.next()) {
        (Some(first), Some(second)) => {
            let (line, _) = line_column(doc.body, start(&first.into()));
            Err(doc.error_at(
                &second.into(),
                format!("{KEY} is set twice (first on line {line})"),
            ))
        }
        (first, _) => Ok(first),
    }
}

/// A file without a value (empty, blank or comments only) becomes an object with the property.
/// Blank text is replaced; comments are kept and the object follows them.
fn fresh_object(doc: &Document, interval: u64) -> Vec<Splice> {
    let nl = doc.newline();
    let object = format!(
        "{{{nl}{DEFAULT_INDENT}{}{nl}}}{nl}",
        property_text(interval)
    );
    if doc.root.children().iter().any(CstNode::is_comment) {
        let separator = if doc.body.ends_with(['\n', '\r']) {
            ""
        } else {
            nl
        };
        vec![Splice::insert(
            doc.body.len(),
            format!("{separator}{object}"),
        )]
    } else {
        vec![Splice {
            at: 0,
            remove: doc.body.len(),
            insert: object,
        }]
    }
}

/// Insert the property after the last one, in the object's style: on its own line with the
/// indentation and line break of the file (and a trailing comma when the last property has one),
/// or inline when the object is written on one line.
fn insert_property(doc: &Document, object: &CstObject, interval: u64) -> Vec<Splice> {
    let nl = doc.newline();
    let prop = property_text(interval);
    let children = object.children();
    let multiline = children.iter().any(CstNode::is_newline);
    let indent = property_indent(doc, object);
    let Some(last) = object.properties().pop().map(CstNode::from) else {
        return match children.iter().rev().find(|c| c.is_newline()) {
            // `{ // comment⏎}`: a line of its own before the closing line break.
            Some(last_break) => vec![Splice::insert(
                start(last_break),
                format!("{nl}{indent}{prop}"),
            )],
            // `{}`: open it up.
            None => vec![Splice::insert(
                start(&object.clone().into()) + 1,
                format!("{nl}{indent}{prop}{nl}"),
            )],
        };
    };
    let comma = last.trailing_comma().map(CstNode::from);
    match (multiline, comma) {
        (false, Some(comma)) => vec![Splice::insert(end(&comma), format!(" {prop},"))],
        (false, None) => vec![Splice::insert(end(&last), format!(", {prop}"))],
        (true, Some(comma)) => vec![Splice::insert(
            end_of_line_comments(&comma),
            format!("{nl}{indent}{prop},"),
        )],
        (true, None) => vec![
            Splice::insert(end(&last), ","),
            Splice::insert(end_of_line_comments(&last), format!("{nl}{indent}{prop}")),
        ],
    }
}

/// Just past the comments that follow a node on its line (a `// note` stays with its property).
fn end_of_line_comments(node: &CstNode) -> usize {
    node.trailing_comments_same_line()
        .last()
        .map_or_else(|| end(node), |comment| end(&comment.into()))
}

/// The indentation of the last property that starts a line, else of a comment in the object, else
/// VS Code's four spaces.
fn property_indent(doc: &Document, object: &CstObject) -> String {
    let props = object.properties().into_iter().rev().map(CstNode::from);
    let comments = object.children().into_iter().filter(CstNode::is_comment);
    props
        .chain(comments)
        .find_map(|node| {
            let at = start(&node);
            let line = &doc.body[doc.body[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1)..at];
            line.chars()
                .all(|c| c == ' ' || c == '\t')
                .then(|| line.to_string())
        })
        .unwrap_or_else(|| DEFAULT_INDENT.to_string())
}

// ---------------------------------------------------------------------------------------------
// docker.environment / containers.environment

/// A top-level environment setting that sets a variable which overrides the docker context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub setting: &'static str,
    pub variable: String,
}

/// Which of [`CONTEXT_VARIABLES`] the top-level [`ENVIRONMENT_SETTINGS`] objects set.
pub fn environment_overrides(text: &str) -> Result<Vec<Override>, SettingsError> {
    let doc = Document::parse(text)?;
    let Some(object) = doc.object()? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for setting in ENVIRONMENT_SETTINGS {
        let Some(env) = object.object_value(setting) else {
            continue;
        };
        found.extend(
            env.properties()
                .iter()
                .filter_map(CstObjectProp::decoded_name)
                .filter(|name| CONTEXT_VARIABLES.contains(&name.as_str()))
                .map(|variable| Override { setting, variable }),
        );
    }
    Ok(found)
}

// ---------------------------------------------------------------------------------------------
// Installed Docker extensions

/// (major, minor, patch)
pub type Version = (u32, u32, u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExtensionKind {
    /// `ms-azuretools.vscode-docker`
    Docker,
    /// `ms-azuretools.vscode-containers`, the Docker extension's successor
    ContainerTools,
}

impl ExtensionKind {
    fn folder_prefix(self) -> &'static str {
        match self {
            ExtensionKind::Docker => "ms-azuretools.vscode-docker-",
            ExtensionKind::ContainerTools => "ms-azuretools.vscode-containers-",
        }
    }

    fn label(self) -> &'static str {
        match self {
            ExtensionKind::Docker => "Docker",
            ExtensionKind::ContainerTools => "Container Tools",
        }
    }
}

/// One installed extension, and the `extensions` folder it was found in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub kind: ExtensionKind,
    pub version: Version,
    pub dir: PathBuf,
}

impl Extension {
    /// Only the Docker extension before 1.23.0 reads `docker.explorerRefreshInterval`.
    pub fn reads_refresh_interval(&self) -> bool {
        self.kind == ExtensionKind::Docker && self.version < DOCKER_IGNORES_FROM
    }

    fn label(&self) -> String {
        let (major, minor, patch) = self.version;
        format!("{} {major}.{minor}.{patch}", self.kind.label())
    }
}

/// Read an extension folder name: `ms-azuretools.vscode-docker-1.29.0`, possibly with a platform
/// suffix (`ms-azuretools.vscode-containers-2.0.1-linux-x64`). Anything else is None.
pub fn parse_extension_folder(name: &str) -> Option<(ExtensionKind, Version)> {
    let lower = name.to_ascii_lowercase();
    [ExtensionKind::Docker, ExtensionKind::ContainerTools]
        .into_iter()
        .find_map(|kind| {
            let rest = lower.strip_prefix(kind.folder_prefix())?;
            // A platform-specific build ends in `-<platform>`.
            let version = rest.split_once('-').map_or(rest, |(version, _)| version);
            let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
            match (parts.next()??, parts.next()??, parts.next()??, parts.next()) {
                (major, minor, patch, None) => Some((kind, (major, minor, patch))),
                _ => None,
            }
        })
}

/// The Docker extensions in these `extensions` folders: the newest version of each kind per
/// folder, leaving out versions VS Code marked obsolete (uninstalled, not yet deleted).
pub fn installed_extensions(dirs: &[PathBuf]) -> Vec<Extension> {
    let mut found: Vec<Extension> = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let obsolete: serde_json::Map<String, serde_json::Value> =
            std::fs::read(dir.join(".obsolete"))
                .ok()
                .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                .unwrap_or_default();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if obsolete.contains_key(&name) || !entry.path().is_dir() {
                continue;
            }
            let Some((kind, version)) = parse_extension_folder(&name) else {
                continue;
            };
            match found.iter_mut().find(|e| e.kind == kind && &e.dir == dir) {
                Some(known) => known.version = known.version.max(version),
                None => found.push(Extension {
                    kind,
                    version,
                    dir: dir.clone(),
                }),
            }
        }
    }
    found.sort_by(|a, b| (a.kind, a.version, &a.dir).cmp(&(b.kind, b.version, &b.dir)));
    found
}

/// One line on whether the installed extensions read the setting at all.
pub fn extensions_summary(extensions: &[Extension]) -> String {
    // "Docker 1.29.0, Container Tools 2.0.1 ignore", "Docker 1.22.2 reads": the names and the verb.
    let group = |reads: bool, verb: &str| {
        let mut labels: Vec<String> = extensions
            .iter()
            .filter(|e| e.reads_refresh_interval() == reads)
            .map(Extension::label)
            .collect();
        labels.dedup();
        let ending = if labels.len() == 1 { "s" } else { "" };
        (!labels.is_empty()).then(|| format!("{} {verb}{ending}", labels.join(", ")))
    };
    match (group(true, "read"), group(false, "ignore")) {
        (None, None) => format!(
            "no Docker or Container Tools extension is installed; {KEY} is written for a Docker extension older than 1.23.0"
        ),
        (None, Some(ignore)) => format!(
            "{ignore} {KEY}: the Docker extension removed it in 1.23.0 (Nov 2022) and Container Tools refreshes on docker events; rdock writes it for older versions"
        ),
        (Some(read), None) => format!("{read} {KEY}"),
        (Some(read), Some(ignore)) => format!("{read} {KEY} ({ignore} it)"),
    }
}

// ---------------------------------------------------------------------------------------------
// Where the settings files are

/// What discovery looks at: the OS, the home directory and a few environment variables. Tests
/// build one by hand; [`Discovery::from_env`] reads the real ones.
#[derive(Clone, Debug)]
pub struct Discovery {
    pub platform: Platform,
    pub home: PathBuf,
    pub xdg_config_home: Option<String>,
    pub appdata: Option<String>,
    pub vscode_portable: Option<String>,
}

/// One settings.json to edit, and the id of its step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    pub path: PathBuf,
    /// Named with --settings: its folder is created when missing.
    pub explicit: bool,
}

impl Discovery {
    pub fn from_env(platform: Platform) -> Self {
        let var = |key: &str| std::env::var(key).ok();
        Discovery {
            platform,
            home: dirs::home_dir().unwrap_or_default(),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            appdata: var("APPDATA"),
            vscode_portable: var("VSCODE_PORTABLE"),
        }
    }

    fn var(&self, key: &str) -> Option<String> {
        let value = match key {
            "XDG_CONFIG_HOME" => &self.xdg_config_home,
            "APPDATA" => &self.appdata,
            "VSCODE_PORTABLE" => &self.vscode_portable,
            _ => &None,
        };
        value.clone().filter(|v| !v.is_empty())
    }

    /// The user data folder that holds the editors' folders.
    pub fn config_dir(&self) -> Option<PathBuf> {
        self.platform
            .editor_config_dir(&|key| self.var(key), &self.home)
    }

    /// The settings files of installed editors: each `User` folder that exists.
    pub fn settings_files(&self) -> Vec<Target> {
        let user_dirs: Vec<(String, PathBuf)> = match self.var("VSCODE_PORTABLE") {
            Some(portable) => vec![(
                "vscode:portable".into(),
                Path::new(&portable).join("user-data").join("User"),
            )],
            None => self
                .config_dir()
                .map(|config| {
                    EDITORS
                        .iter()
                        .map(|editor| {
                            (
                                format!("vscode:{}", editor.replace(" - ", "-")),
                                config.join(editor).join("User"),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
        };
        user_dirs
            .into_iter()
            .filter(|(_, user)| user.is_dir())
            .map(|(id, user)| Target {
                id,
                path: user.join("settings.json"),
                explicit: false,
            })
            .collect()
    }

    /// Folders where VS Code-like editors install extensions.
    pub fn extension_dirs(&self) -> Vec<PathBuf> {
        let portable = self
            .var("VSCODE_PORTABLE")
            .map(|p| Path::new(&p).join("extensions"));
        EXTENSION_HOMES
            .iter()
            .map(|home| self.home.join(home).join("extensions"))
            .chain(portable)
            .collect()
    }
}

/// The files to edit: those named with --settings, else the discovered ones.
pub fn targets(env: &Discovery, opts: &VscodeOptions) -> Vec<Target> {
    match opts.settings.as_slice() {
        [] => env.settings_files(),
        [only] => vec![Target {
            id: "vscode".into(),
            path: only.clone(),
            explicit: true,
        }],
        many => many
            .iter()
            .enumerate()
            .map(|(i, path)| Target {
                id: format!("vscode:{}", i + 1),
                path: path.clone(),
                explicit: true,
            })
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Steps

/// The VS Code steps: one per settings file (never blocking: a broken file does not stop the
/// others), then one warning about environment overrides and one line about the extensions. When
/// there is nothing to edit, one step that says so.
pub fn steps(env: &Discovery, opts: &VscodeOptions) -> Vec<Box<dyn Step>> {
    let targets = targets(env, opts);
    if targets.is_empty() {
        return vec![Box::new(NothingFound {
            looked_in: env.config_dir(),
        })];
    }
    let paths = targets.iter().map(|t| t.path.clone()).collect();
    let mut steps: Vec<Box<dyn Step>> = targets
        .into_iter()
        .map(|target| {
            Box::new(SettingsStep {
                target,
                interval: opts.refresh_interval,
            }) as Box<dyn Step>
        })
        .collect();
    steps.push(Box::new(EnvironmentStep { paths }));
    steps.push(Box::new(ExtensionsStep {
        dirs: env.extension_dirs(),
    }));
    steps
}

/// The bytes of a settings file; None when it does not exist.
/// A settings.json larger than this is not one rdock will edit.
const MAX_SETTINGS_BYTES: u64 = 16 << 20;

/// A settings.json: only a regular file, size-capped, None when missing.
fn read_settings(path: &Path) -> io::Result<Option<Vec<u8>>> {
    fsutil::read_optional(path, MAX_SETTINGS_BYTES)
}

/// For steps whose findings are never fixable.
fn nothing_to_fix(id: &str) -> Result<String> {
    Err(anyhow!("{id} has nothing rdock can fix"))
}

struct SettingsStep {
    target: Target,
    interval: u64,
}

/// Why a settings file cannot be edited.
enum Problem {
    Read(io::Error),
    Parse(SettingsError),
}

/// What editing a settings file would do.
struct Plan {
    exists: bool,
    edit: Edit,
}

impl SettingsStep {
    fn plan(&self) -> Result<Plan, Problem> {
        let bytes = read_settings(&self.target.path).map_err(Problem::Read)?;
        let edit = edit_bytes(bytes.as_deref().unwrap_or_default(), self.interval)
            .map_err(Problem::Parse)?;
        Ok(Plan {
            exists: bytes.is_some(),
            edit,
        })
    }

    fn shown(&self) -> String {
        tilde(&self.target.path)
    }

    /// The sentence for a change, as done or (under --dry-run) as it would be done.
    fn describe(&self, exists: bool, before: &Before, dry_run: bool) -> String {
        let (path, interval) = (self.shown(), self.interval);
        let (done, todo) = match (exists, before) {
            (false, _) => ("created", "create"),
            (true, Before::Missing) => ("set", "set"),
            (true, Before::Number(_)) => ("raised", "raise"),
            (true, Before::NotNumber(_)) => ("replaced", "replace"),
        };
        let verb = if dry_run {
            format!("would {todo}")
        } else {
            done.to_string()
        };
        match (exists, before) {
            (false, _) => format!("{verb} {path} with {KEY} {interval}"),
            (true, Before::Missing) => format!("{verb} {KEY} to {interval} in {path}"),
            (true, Before::Number(old)) => {
                format!("{verb} {KEY} from {old} to {interval} in {path}")
            }
            (true, Before::NotNumber(kind)) => {
                format!("{verb} {KEY} ({kind}) with {interval} in {path}")
            }
        }
    }
}

impl Step for SettingsStep {
    fn id(&self) -> String {
        self.target.id.clone()
    }

    fn blocking(&self) -> bool {
        false
    }

    fn check(&mut self, _s: &mut Session) -> Finding {
        let (id, path, interval) = (self.id(), self.shown(), self.interval);
        let fix = format!("set \"{KEY}\": {interval} in {path} (or run rdock vscode)");
        match self.plan() {
            Err(Problem::Read(e)) => Finding::fail(
                &id,
                format!("cannot read {path}: {e}"),
                format!("make {path} a readable file, then run rdock vscode"),
            ),
            Err(Problem::Parse(e)) => Finding::fail(
                &id,
                format!("{path} was left untouched: {e}"),
                format!(
                    "correct {path} at line {}, column {} (it must hold one JSON object), then run rdock vscode",
                    e.line, e.column
                ),
            ),
            Ok(Plan {
                edit: Edit::Unchanged { value, larger },
                ..
            }) => {
                let note = if larger {
                    format!(" (larger than {interval}, kept)")
                } else {
                    String::new()
                };
                Finding::ok(&id, format!("{KEY} is {value} in {path}{note}"))
            }
            Ok(Plan {
                exists,
                edit: Edit::Changed { before, .. },
            }) => {
                let message = match (exists, &before) {
                    (false, _) => format!("{path} does not exist, so {KEY} is not set"),
                    (true, Before::Missing) => format!("{KEY} is not set in {path}"),
                    (true, Before::Number(old)) => {
                        format!("{KEY} is {old} in {path}, lower than {interval}")
                    }
                    (true, Before::NotNumber(kind)) => {
                        format!("{KEY} is {kind} in {path}, not a number")
                    }
                };
                Finding::fail(&id, message, fix).fixable()
            }
        }
    }

    fn fix(&mut self, s: &mut Session, _found: &Finding) -> Result<String> {
        let plan = self.plan().map_err(|problem| match problem {
            Problem::Read(e) => anyhow!("cannot read {}: {e}", self.shown()),
            Problem::Parse(e) => anyhow!("{} was left untouched: {e}", self.shown()),
        })?;
        let Edit::Changed { text, before } = plan.edit else {
            return Ok(format!("{KEY} was already set in {}", self.shown()));
        };
        let sentence = self.describe(plan.exists, &before, s.exec.dry_run);
        if s.exec.dry_run {
            return Ok(sentence);
        }
        let path = &self.target.path;
        if self.target.explicit {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", tilde(dir)))?;
            }
        }
        fsutil::write_atomic(path, text.as_bytes(), NEW_FILE_MODE)?;
        Ok(sentence)
    }
}

/// Warns when docker.environment or containers.environment sets DOCKER_HOST or DOCKER_CONTEXT.
struct EnvironmentStep {
    paths: Vec<PathBuf>,
}

impl Step for EnvironmentStep {
    fn id(&self) -> String {
        ENV_STEP_ID.into()
    }

    fn blocking(&self) -> bool {
        false
    }

    fn check(&mut self, _s: &mut Session) -> Finding {
        let mut found = Vec::new();
        for path in &self.paths {
            // A file that cannot be read or parsed has its own failing step already.
            let Ok(Some(bytes)) = read_settings(path) else {
                continue;
            };
            let Ok(overrides) = decode(&bytes).and_then(environment_overrides) else {
                continue;
            };
            found.extend(overrides.into_iter().map(|o| (o, tilde(path))));
        }
        if found.is_empty() {
            return Finding::ok(
                ENV_STEP_ID,
                format!(
                    "no {} sets {}",
                    ENVIRONMENT_SETTINGS.join(" or "),
                    CONTEXT_VARIABLES.join(" or ")
                ),
            );
        }
        let what: Vec<String> = found
            .iter()
            .map(|(o, path)| format!("\"{}\" sets {} in {path}", o.setting, o.variable))
            .collect();
        let fixes: Vec<String> = found
            .iter()
            .map(|(o, path)| format!("remove \"{}\" from \"{}\" in {path}", o.variable, o.setting))
            .collect();
        Finding::warn(
            ENV_STEP_ID,
            format!(
                "{}: it overrides the docker context inside VS Code",
                what.join("; ")
            ),
            fixes.join("\n"),
        )
    }

    fn fix(&mut self, _s: &mut Session, _found: &Finding) -> Result<String> {
        nothing_to_fix(ENV_STEP_ID)
    }
}

/// One info line on which installed Docker extensions read the setting.
struct ExtensionsStep {
    dirs: Vec<PathBuf>,
}

impl Step for ExtensionsStep {
    fn id(&self) -> String {
        EXT_STEP_ID.into()
    }

    fn blocking(&self) -> bool {
        false
    }

    fn check(&mut self, _s: &mut Session) -> Finding {
        let extensions = installed_extensions(&self.dirs);
        let details = extensions.iter().map(|e| {
            let reads = if e.reads_refresh_interval() {
                "reads"
            } else {
                "ignores"
            };
            format!("{} in {} {reads} {KEY}", e.label(), tilde(&e.dir))
        });
        details.fold(
            Finding::ok(EXT_STEP_ID, extensions_summary(&extensions)),
            Finding::detail,
        )
    }

    fn fix(&mut self, _s: &mut Session, _found: &Finding) -> Result<String> {
        nothing_to_fix(EXT_STEP_ID)
    }
}

/// No editor found and no --settings: say so, and create nothing.
struct NothingFound {
    looked_in: Option<PathBuf>,
}

impl Step for NothingFound {
    fn id(&self) -> String {
        "vscode".into()
    }

    fn blocking(&self) -> bool {
        false
    }

    fn check(&mut self, _s: &mut Session) -> Finding {
        let finding = Finding::skip("vscode", "no VS Code-like editor found; nothing to do");
        match &self.looked_in {
            Some(dir) => finding.detail(format!(
                "looked for {} with a User folder in {}",
                EDITORS.join(", "),
                tilde(dir)
            )),
            None => finding,
        }
    }

    fn fix(&mut self, _s: &mut Session, _found: &Finding) -> Result<String> {
        nothing_to_fix("vscode")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changed(text: &str, interval: u64) -> (String, Before) {
        match edit_text(text, interval).unwrap() {
            Edit::Changed { text, before } => (text, before),
            other => panic!("expected a change, got {other:?}"),
        }
    }

    #[test]
    fn a_lower_value_is_raised_and_nothing_else_moves() {
        let text =
            "{\n  // keep\n  \"a\": 1, /* x */ \"docker.explorerRefreshInterval\": 1000 // c\n}";
        let (out, before) = changed(text, 3000);
        assert_eq!(out, text.replace(": 1000", ": 3000"));
        assert_eq!(before, Before::Number("1000".into()));
    }

    #[test]
    fn a_larger_or_equal_value_is_kept() {
        let larger = edit_text("{\"docker.explorerRefreshInterval\": 5e3}", 3000).unwrap();
        assert_eq!(
            larger,
            Edit::Unchanged {
                value: "5e3".into(),
                larger: true
            }
        );
        let equal = edit_text("{\"docker.explorerRefreshInterval\": 3000}", 3000).unwrap();
        assert_eq!(
            equal,
            Edit::Unchanged {
                value: "3000".into(),
                larger: false
            }
        );
    }

    #[test]
    fn a_value_of_another_kind_is_replaced_and_named() {
        let (out, before) = changed("{\"docker.explorerRefreshInterval\": \"5000\"}", 3000);
        assert_eq!(out, "{\"docker.explorerRefreshInterval\": 3000}");
        assert_eq!(before, Before::NotNumber("a string"));
        let (_, before) = changed("{\"docker.explorerRefreshInterval\": null}", 3000);
        assert_eq!(before, Before::NotNumber("null"));
    }

    #[test]
    fn a_nested_or_commented_key_does_not_count() {
        let text = "{\n\t\"x\": {\"docker.explorerRefreshInterval\": 9000},\n\t// \"docker.explorerRefreshInterval\": 9000\n\t\"y\": 2\n}";
        let (out, before) = changed(text, 3000);
        assert_eq!(before, Before::Missing);
        assert_eq!(
            out,
            "{\n\t\"x\": {\"docker.explorerRefreshInterval\": 9000},\n\t// \"docker.explorerRefreshInterval\": 9000\n\t\"y\": 2,\n\t\"docker.explorerRefreshInterval\": 3000\n}"
        );
    }

    #[test]
    fn insertion_follows_the_object_style() {
        let cases = [
            ("{}", "{\n    \"docker.explorerRefreshInterval\": 3000\n}"),
            (
                "{\"a\": 1}",
                "{\"a\": 1, \"docker.explorerRefreshInterval\": 3000}",
            ),
            (
                "{\"a\": 1,}",
                "{\"a\": 1, \"docker.explorerRefreshInterval\": 3000,}",
            ),
            (
                "{\n\n  \"a\": 1, // one\n\n}",
                "{\n\n  \"a\": 1, // one\n  \"docker.explorerRefreshInterval\": 3000,\n\n}",
            ),
            (
                "{\r\n  \"a\": 1 // one\r\n}",
                "{\r\n  \"a\": 1, // one\r\n  \"docker.explorerRefreshInterval\": 3000\r\n}",
            ),
            (
                "{ // top\n\t// inner\n}",
                "{ // top\n\t// inner\n\t\"docker.explorerRefreshInterval\": 3000\n}",
            ),
            (
                "// only\n",
                "// only\n{\n    \"docker.explorerRefreshInterval\": 3000\n}\n",
            ),
            (
                " \r\n",
                "{\r\n    \"docker.explorerRefreshInterval\": 3000\r\n}\r\n",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(changed(before, 3000).0, after, "for {before:?}");
        }
    }

    #[test]
    fn a_bom_is_kept() {
        let (out, _) = changed("\u{feff}{}", 3000);
        assert!(out.starts_with("\u{feff}{\n"), "{out:?}");
        assert_eq!(out.matches('\u{feff}').count(), 1);
    }

    #[test]
    fn errors_carry_line_and_column() {
        let err = edit_text("{\n  \"a\": 1,\n  \"b\": \n}", 3000).unwrap_err();
        assert_eq!((err.line, err.column), (4, 1), "{err}");
        let err = edit_text("\n  [1, 2]", 3000).unwrap_err();
        assert_eq!((err.line, err.column), (2, 3));
        assert!(err.message.contains("an array"), "{err}");
        let err = edit_text(
            "{\"docker.explorerRefreshInterval\": 1,\n \"docker.explorerRefreshInterval\": 2}",
            3000,
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (2, 2));
        assert!(err.message.contains("twice (first on line 1)"), "{err}");
        let err = edit_bytes(b"{\n \"a\": \"\xff\"}", 3000).unwrap_err();
        assert_eq!((err.line, err.column), (2, 8));
        assert!(err.message.contains("0xff"), "{err}");
        assert!(err.to_string().ends_with("at line 2, column 8"));
    }

    #[test]
    fn loose_json5_syntax_is_refused() {
        for text in ["{a: 1}", "{'a': 1}", "{\"a\": 0x10}", "{\"a\": 1 \"b\": 2}"] {
            assert!(edit_text(text, 3000).is_err(), "{text}");
        }
    }

    #[test]
    fn line_column_counts_characters_and_every_line_break() {
        assert_eq!(line_column("ab", 2), (1, 3));
        assert_eq!(line_column("é\r\nx\ry", 6), (3, 1));
        assert_eq!(line_column("\u{feff}ab", 4), (1, 2));
    }

    #[test]
    fn environment_overrides_are_found_only_at_the_top_level() {
        let text = r#"{
            "docker.environment": { "DOCKER_HOST": "ssh://a", "OTHER": "1" },
            "containers.environment": { "DOCKER_CONTEXT": "x" },
            "nested": { "docker.environment": { "DOCKER_HOST": "no" } },
            // "docker.environment": { "DOCKER_CONTEXT": "no" }
        }"#;
        assert_eq!(
            environment_overrides(text).unwrap(),
            vec![
                Override {
                    setting: "docker.environment",
                    variable: "DOCKER_HOST".into()
                },
                Override {
                    setting: "containers.environment",
                    variable: "DOCKER_CONTEXT".into()
                },
            ]
        );
        assert!(
            environment_overrides(r#"{"docker.environment": {"DOCKER_CERT_PATH": "x"}}"#)
                .unwrap()
                .is_empty()
        );
        assert!(environment_overrides("").unwrap().is_empty());
        assert!(environment_overrides("[").is_err());
    }

    #[test]
    fn extension_folders_are_read_with_or_without_a_platform_suffix() {
        use ExtensionKind::*;
        assert_eq!(
            parse_extension_folder("ms-azuretools.vscode-docker-1.22.2"),
            Some((Docker, (1, 22, 2)))
        );
        assert_eq!(
            parse_extension_folder("ms-azuretools.vscode-containers-2.0.1-linux-x64"),
            Some((ContainerTools, (2, 0, 1)))
        );
        assert_eq!(
            parse_extension_folder("MS-AzureTools.vscode-docker-1.29.0-darwin-arm64"),
            Some((Docker, (1, 29, 0)))
        );
        for other in [
            "ms-azuretools.vscode-docker",
            "ms-azuretools.vscode-docker-1.2",
            "ms-azuretools.vscode-docker-compose-1.0.0",
            "ms-vscode-remote.remote-ssh-0.110.0",
        ] {
            assert_eq!(parse_extension_folder(other), None, "{other}");
        }
    }

    #[test]
    fn only_docker_before_1_23_reads_the_setting() {
        let ext = |kind, version| Extension {
            kind,
            version,
            dir: PathBuf::from("/x"),
        };
        assert!(ext(ExtensionKind::Docker, (1, 22, 9)).reads_refresh_interval());
        assert!(!ext(ExtensionKind::Docker, (1, 23, 0)).reads_refresh_interval());
        assert!(!ext(ExtensionKind::ContainerTools, (0, 0, 1)).reads_refresh_interval());

        let none = extensions_summary(&[]);
        assert!(
            none.starts_with("no Docker or Container Tools extension"),
            "{none}"
        );
        let ignored = extensions_summary(&[
            ext(ExtensionKind::Docker, (1, 29, 0)),
            ext(ExtensionKind::ContainerTools, (2, 0, 1)),
        ]);
        assert!(
            ignored.starts_with("Docker 1.29.0, Container Tools 2.0.1 ignore")
                && ignored.contains("1.23.0 (Nov 2022)")
                && ignored.contains("docker events"),
            "{ignored}"
        );
        let one = extensions_summary(&[ext(ExtensionKind::ContainerTools, (2, 0, 1))]);
        assert!(
            one.starts_with("Container Tools 2.0.1 ignores docker."),
            "{one}"
        );
        let mixed = extensions_summary(&[
            ext(ExtensionKind::Docker, (1, 22, 2)),
            ext(ExtensionKind::ContainerTools, (2, 0, 1)),
        ]);
        assert_eq!(
            mixed,
            "Docker 1.22.2 reads docker.explorerRefreshInterval (Container Tools 2.0.1 ignores it)"
        );
    }

    #[test]
    fn installed_extensions_keep_the_newest_and_skip_obsolete_ones() {
        let dir = tempfile::tempdir().unwrap();
        let ext = dir.path().join("extensions");
        for name in [
            "ms-azuretools.vscode-docker-1.22.0",
            "ms-azuretools.vscode-docker-1.22.2",
            "ms-azuretools.vscode-docker-1.29.0",
            "ms-azuretools.vscode-containers-2.0.1-linux-x64",
            "ms-python.python-2024.1.0",
        ] {
            std::fs::create_dir_all(ext.join(name)).unwrap();
        }
        std::fs::write(
            ext.join(".obsolete"),
            r#"{"ms-azuretools.vscode-docker-1.29.0":true}"#,
        )
        .unwrap();
        let found = installed_extensions(&[ext.clone(), dir.path().join("missing")]);
        let kinds: Vec<_> = found.iter().map(|e| (e.kind, e.version)).collect();
        assert_eq!(
            kinds,
            vec![
                (ExtensionKind::Docker, (1, 22, 2)),
                (ExtensionKind::ContainerTools, (2, 0, 1))
            ]
        );
    }

    #[test]
    fn discovery_reads_its_variables_and_ignores_empty_ones() {
        let env = Discovery {
            platform: Platform::Linux,
            home: PathBuf::from("/h"),
            xdg_config_home: Some(String::new()),
            appdata: None,
            vscode_portable: Some("/p".into()),
        };
        assert_eq!(env.config_dir(), Some(PathBuf::from("/h/.config")));
        assert_eq!(
            env.extension_dirs().last(),
            Some(&PathBuf::from("/p/extensions"))
        );
        assert_eq!(
            env.extension_dirs()[0],
            PathBuf::from("/h/.vscode/extensions")
        );
    }
}
