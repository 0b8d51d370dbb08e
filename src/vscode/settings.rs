//! settings.json: set `docker.explorerRefreshInterval` ([`edit_text`]), or pin a docker context
//! for a workspace ([`pin_context`]), and change no other byte.
//!
//! Both go through one edit ([`set`]) of the value at a path: a top-level key, or a member of a
//! top-level object (`"containers.environment": {"DOCKER_CONTEXT": …}`). The file is parsed with jsonc-parser's lossless CST (comments and
//! trailing commas allowed, as VS Code allows them). The CST finds the property and where a new one
//! goes; the change is then spliced into the original text, so every byte outside it is
//! kept: comments, blank lines, indentation, key order, CRLF, a UTF-8 BOM. (The CST's own
//! `append` would also work, but it drops blank lines just inside the braces and reflows one-line
//! objects.) A larger value is never lowered. A file that does not parse, or whose top level is not
//! an object, is left byte-identical and reported with its line and column.
//!
//! Files are written with [`fsutil::write_atomic`]: the mode is kept and a symlink stays a link. A
//! new settings.json gets mode 0644 ([`NEW_FILE_MODE`]), as editors create it: it holds no secret.

use std::fmt;
use std::io;
use std::path::Path;

use jsonc_parser::cst::{
    CstContainerNode, CstLeafNode, CstNode, CstObject, CstObjectProp, CstRootNode,
};
use jsonc_parser::ParseOptions;

use crate::sys::fsutil;

/// The setting rdock writes, as a top-level key.
pub const KEY: &str = "docker.explorerRefreshInterval";
/// Mode of a settings.json rdock creates (an existing file keeps its own).
pub const NEW_FILE_MODE: u32 = 0o644;
/// Settings whose object sets environment variables for the Docker extensions.
pub const ENVIRONMENT_SETTINGS: [&str; 2] = ["docker.environment", "containers.environment"];
/// The variable that names a docker context, and the one that wins over it in the docker CLI.
pub const DOCKER_CONTEXT: &str = "DOCKER_CONTEXT";
pub const DOCKER_HOST: &str = "DOCKER_HOST";
/// Variables that, set there, override the docker context inside VS Code.
pub const CONTEXT_VARIABLES: [&str; 2] = [DOCKER_HOST, DOCKER_CONTEXT];
/// Indentation of a property in an object that shows none (VS Code's default).
const DEFAULT_INDENT: &str = "    ";
/// A settings.json larger than this is not one rdock will edit.
const MAX_SETTINGS_BYTES: u64 = 16 << 20;

/// The bytes of a settings file: only a regular file, size-capped; None when it does not exist.
pub fn read(path: &Path) -> io::Result<Option<Vec<u8>>> {
    fsutil::read_optional(path, MAX_SETTINGS_BYTES)
}

/// Why a settings file cannot be edited: it cannot be read, or its text is not one rdock edits.
#[derive(Debug)]
pub enum Problem {
    Read(io::Error),
    Parse(SettingsError),
}

/// The text of a settings file ([`read`], then [`decode`]); None when it does not exist.
pub fn read_text(path: &Path) -> Result<Option<String>, Problem> {
    match read(path).map_err(Problem::Read)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(decode(&bytes).map_err(Problem::Parse)?.to_string())),
    }
}

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

// The edit: one value at a path, inserted with whatever object it needs

/// A value rdock writes.
enum NewValue<'a> {
    Number(u64),
    Text(&'a str),
}

impl NewValue<'_> {
    fn json(&self) -> String {
        match self {
            NewValue::Number(n) => n.to_string(),
            NewValue::Text(text) => json_string(text),
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// What stood where the value goes.
enum Found {
    /// What is there already will do (as written): nothing to change.
    Kept(String),
    /// Nothing: the property (and any object on the way to it) is inserted.
    Missing,
    /// Another value, as written, and its kind ("a number", "a string"...).
    Replaced { written: String, kind: &'static str },
}

/// Set the value at `path` (a top-level key, then a member of its object...) to `value`, unless
/// `keep` accepts the value there. Returns the splices (none when kept) and what was there. A key
/// set twice, or a value on the way that is not an object, is an error at its line and column.
fn set(
    doc: &Document,
    path: &[&str],
    value: &NewValue,
    keep: &dyn Fn(&CstNode) -> bool,
) -> Result<(Vec<Splice>, Found), SettingsError> {
    let Some(mut object) = doc.object()? else {
        return Ok((fresh_object(doc, path, value), Found::Missing));
    };
    for (depth, name) in path.iter().enumerate() {
        let Some(prop) = unique_property(doc, &object, name)? else {
            let splices = insert_property(doc, &object, &path[depth..], value);
            return Ok((splices, Found::Missing));
        };
        let node = prop
            .value()
            .ok_or_else(|| doc.error_at(&prop.clone().into(), format!("{name} has no value")))?;
        if depth + 1 < path.len() {
            object = match node {
                CstNode::Container(CstContainerNode::Object(inner)) => inner,
                other => {
                    let kind = kind_name(&other);
                    return Err(
                        doc.error_at(&other, format!("\"{name}\" is {kind}, not an object"))
                    );
                }
            };
            continue;
        }
        let written = node.to_string();
        if keep(&node) {
            return Ok((Vec::new(), Found::Kept(written)));
        }
        let splice = Splice {
            at: start(&node),
            remove: written.len(),
            insert: value.json(),
        };
        let kind = kind_name(&node);
        return Ok((vec![splice], Found::Replaced { written, kind }));
    }
    unreachable!("a path names at least one key")
}

/// The property, if the object has it. Written twice is an error: which one counts is not obvious.
fn unique_property(
    doc: &Document,
    object: &CstObject,
    name: &str,
) -> Result<Option<CstObjectProp>, SettingsError> {
    let mut found = object
        .properties()
        .into_iter()
        .filter(|p| p.decoded_name().as_deref() == Some(name));
    let first = found.next();
    match (first, found.next()) {
        (Some(first), Some(second)) => {
            let (line, _) = line_column(doc.body, start(&first.into()));
            Err(doc.error_at(
                &second.into(),
                format!("{name} is set twice (first on line {line})"),
            ))
        }
        (first, _) => Ok(first),
    }
}

/// How a new property is written where it goes: its indentation, one level more, the line break,
/// and whether the object it goes in spans lines (else an object on the way is written inline).
struct Layout<'a> {
    indent: String,
    unit: String,
    nl: &'a str,
    multiline: bool,
}

/// The property `"path[0]": …` holding the rest of the path, then `value`, as rdock writes it.
fn property_text(path: &[&str], value: &NewValue, at: &Layout) -> String {
    let (name, rest) = path.split_first().expect("a path names at least one key");
    let key = json_string(name);
    if rest.is_empty() {
        return format!("{key}: {}", value.json());
    }
    if !at.multiline {
        return format!("{key}: {{{}}}", property_text(rest, value, at));
    }
    let inner = Layout {
        indent: format!("{}{}", at.indent, at.unit),
        unit: at.unit.clone(),
        ..*at
    };
    let (nl, indent) = (at.nl, &at.indent);
    let member = property_text(rest, value, &inner);
    format!("{key}: {{{nl}{}{member}{nl}{indent}}}", inner.indent)
}

/// A file without a value (empty, blank or comments only) becomes an object with the property.
/// Blank text is replaced; comments are kept and the object follows them.
fn fresh_object(doc: &Document, path: &[&str], value: &NewValue) -> Vec<Splice> {
    let nl = doc.newline();
    let layout = Layout {
        indent: DEFAULT_INDENT.into(),
        unit: DEFAULT_INDENT.into(),
        nl,
        multiline: true,
    };
    let object = format!(
        "{{{nl}{DEFAULT_INDENT}{}{nl}}}{nl}",
        property_text(path, value, &layout)
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
/// or inline when the object is written on one line. An empty `{}` is opened up, its closing
/// brace on a line of its own at the indentation of the line it stands on.
fn insert_property(
    doc: &Document,
    object: &CstObject,
    path: &[&str],
    value: &NewValue,
) -> Vec<Splice> {
    let nl = doc.newline();
    let children = object.children();
    let layout = Layout {
        indent: property_indent(doc, object),
        unit: indent_unit(doc),
        nl,
        multiline: children.iter().any(CstNode::is_newline),
    };
    let indent = &layout.indent;
    let Some(last) = object.properties().pop().map(CstNode::from) else {
        let opened = Layout {
            multiline: true,
            ..layout
        };
        let prop = property_text(path, value, &opened);
        let indent = &opened.indent;
        return match children.iter().rev().find(|c| c.is_newline()) {
            // `{ // comment⏎}`: a line of its own before the closing line break.
            Some(last_break) => vec![Splice::insert(
                start(last_break),
                format!("{nl}{indent}{prop}"),
            )],
            // `{}`: open it up.
            None => {
                let at = start(&object.clone().into());
                let closing = line_indent(doc.body, at);
                vec![Splice::insert(
                    at + 1,
                    format!("{nl}{indent}{prop}{nl}{closing}"),
                )]
            }
        };
    };
    let prop = property_text(path, value, &layout);
    let comma = last.trailing_comma().map(CstNode::from);
    match (layout.multiline, comma) {
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

/// The indentation of the object's members: of the last property that starts a line, else of a
/// comment in the object, else one level more than the line the object stands on.
fn property_indent(doc: &Document, object: &CstObject) -> String {
    found_indent(doc, object).unwrap_or_else(|| {
        let line = line_indent(doc.body, start(&object.clone().into()));
        format!("{line}{}", indent_unit(doc))
    })
}

/// One level of indentation: the top-level properties', else VS Code's four spaces.
fn indent_unit(doc: &Document) -> String {
    let root = doc.object().ok().flatten();
    root.and_then(|object| found_indent(doc, &object))
        .unwrap_or_else(|| DEFAULT_INDENT.to_string())
}

/// The indentation of the last property that starts a line, else of a comment in the object.
fn found_indent(doc: &Document, object: &CstObject) -> Option<String> {
    let props = object.properties().into_iter().rev().map(CstNode::from);
    let comments = object.children().into_iter().filter(CstNode::is_comment);
    props.chain(comments).find_map(|node| {
        let at = start(&node);
        let line = &doc.body[line_start(doc.body, at)..at];
        line.chars()
            .all(|c| c == ' ' || c == '\t')
            .then(|| line.to_string())
    })
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind(['\n', '\r']).map_or(0, |i| i + 1)
}

/// The spaces and tabs that start the line holding `at`.
fn line_indent(text: &str, at: usize) -> &str {
    let line = &text[line_start(text, at)..];
    &line[..line.len() - line.trim_start_matches([' ', '\t']).len()]
}

// docker.explorerRefreshInterval

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

/// Set the top-level `docker.explorerRefreshInterval` to `interval` unless it is already at least
/// that. Only the value's text changes, or the new property (and a comma) is inserted.
pub fn edit_text(text: &str, interval: u64) -> Result<Edit, SettingsError> {
    let doc = Document::parse(text)?;
    let number = |node: &CstNode| match node {
        CstNode::Leaf(CstLeafNode::NumberLit(_)) => node.to_string().parse::<f64>().ok(),
        _ => None,
    };
    let keep = |node: &CstNode| number(node).is_some_and(|n| n >= interval as f64);
    let (splices, found) = set(&doc, &[KEY], &NewValue::Number(interval), &keep)?;
    let before = match found {
        Found::Kept(value) => {
            let larger = value.parse::<f64>().is_ok_and(|n| n > interval as f64);
            return Ok(Edit::Unchanged { value, larger });
        }
        Found::Missing => Before::Missing,
        Found::Replaced {
            written,
            kind: "a number",
        } => Before::Number(written),
        Found::Replaced { kind, .. } => Before::NotNumber(kind),
    };
    Ok(Edit::Changed {
        text: doc.apply(splices),
        before,
    })
}

/// [`edit_text`] for the bytes of a file.
pub fn edit_bytes(bytes: &[u8], interval: u64) -> Result<Edit, SettingsError> {
    edit_text(decode(bytes)?, interval)
}

// docker.environment / containers.environment

/// A top-level environment setting that sets a variable which overrides the docker context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub setting: &'static str,
    pub variable: String,
    /// The value, when it is a string.
    pub value: Option<String>,
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
        for prop in env.properties() {
            let Some(variable) = prop.decoded_name() else {
                continue;
            };
            if CONTEXT_VARIABLES.contains(&variable.as_str()) {
                let value = match prop.value() {
                    Some(CstNode::Leaf(CstLeafNode::StringLit(s))) => s.decoded_value().ok(),
                    _ => None,
                };
                found.push(Override {
                    setting,
                    variable,
                    value,
                });
            }
        }
    }
    Ok(found)
}

/// What one environment setting held before [`pin_context`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pin {
    /// DOCKER_CONTEXT names the context already.
    Set,
    /// No DOCKER_CONTEXT there (or no such setting, or no file).
    Missing,
    /// DOCKER_CONTEXT held this, as written: another name, or not a string.
    Other(String),
}

/// What pinning a context does to a settings text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinEdit {
    /// The whole new text (the text as it was when every setting is [`Pin::Set`]).
    pub text: String,
    /// Each of [`ENVIRONMENT_SETTINGS`], and what it held.
    pub before: Vec<(&'static str, Pin)>,
}

impl PinEdit {
    pub fn changed(&self) -> bool {
        self.before.iter().any(|(_, pin)| *pin != Pin::Set)
    }
}

/// Set `DOCKER_CONTEXT` to `name` in the top-level `docker.environment` and
/// `containers.environment` objects, inserting either where it is missing; every other member
/// stays. Refused, at its line and column: a setting that is not an object, and a DOCKER_HOST in
/// either object (the docker CLI takes DOCKER_HOST over DOCKER_CONTEXT, so the pin would do
/// nothing).
pub fn pin_context(text: &str, name: &str) -> Result<PinEdit, SettingsError> {
    let keep = |node: &CstNode| match node {
        CstNode::Leaf(CstLeafNode::StringLit(s)) => s.decoded_value().is_ok_and(|v| v == name),
        _ => false,
    };
    let value = NewValue::Text(name);
    let path = |setting| [setting, DOCKER_CONTEXT];
    // Every refusal is found in the text as given, so its line and column are the file's.
    let doc = Document::parse(text)?;
    for setting in ENVIRONMENT_SETTINGS {
        refuse_docker_host(&doc, setting)?;
        set(&doc, &path(setting), &value, &keep)?;
    }
    drop(doc);
    let mut text = text.to_string();
    let mut before = Vec::new();
    for setting in ENVIRONMENT_SETTINGS {
        text = {
            let doc = Document::parse(&text)?;
            let (splices, found) = set(&doc, &path(setting), &value, &keep)?;
            before.push((
                setting,
                match found {
                    Found::Kept(_) => Pin::Set,
                    Found::Missing => Pin::Missing,
                    Found::Replaced { written, .. } => Pin::Other(written),
                },
            ));
            doc.apply(splices)
        };
    }
    Ok(PinEdit { text, before })
}

/// DOCKER_HOST in the setting's object is an error at its place.
fn refuse_docker_host(doc: &Document, setting: &str) -> Result<(), SettingsError> {
    let env = doc
        .object()?
        .and_then(|object| object.object_value(setting));
    // A DOCKER_HOST given twice is refused too (as a duplicate), never passed over.
    let host = match env {
        Some(env) => unique_property(doc, &env, DOCKER_HOST)?,
        None => None,
    };
    match host {
        Some(prop) => Err(doc.error_at(
            &prop.into(),
            format!(
                "\"{setting}\" sets {DOCKER_HOST}, which the docker CLI takes over {DOCKER_CONTEXT}: remove it to pin a context"
            ),
        )),
        None => Ok(()),
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
                    variable: "DOCKER_HOST".into(),
                    value: Some("ssh://a".into()),
                },
                Override {
                    setting: "containers.environment",
                    variable: "DOCKER_CONTEXT".into(),
                    value: Some("x".into()),
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

    fn pinned(text: &str, name: &str) -> String {
        let edit = pin_context(text, name).unwrap();
        assert!(edit.changed(), "{text:?}");
        let again = pin_context(&edit.text, name).unwrap();
        assert!(
            !again.changed(),
            "a second pin changes nothing: {:?}",
            edit.text
        );
        assert_eq!(again.text, edit.text);
        edit.text
    }

    #[test]
    fn a_pin_goes_into_both_settings_in_the_file_style() {
        let cases = [
            (
                "",
                "{\n    \"docker.environment\": {\n        \"DOCKER_CONTEXT\": \"one\"\n    },\n    \"containers.environment\": {\n        \"DOCKER_CONTEXT\": \"one\"\n    }\n}\n",
            ),
            (
                "{\"a\": 1}",
                "{\"a\": 1, \"docker.environment\": {\"DOCKER_CONTEXT\": \"one\"}, \"containers.environment\": {\"DOCKER_CONTEXT\": \"one\"}}",
            ),
            (
                "{\r\n\t\"a\": 1, // one\r\n}",
                "{\r\n\t\"a\": 1, // one\r\n\t\"docker.environment\": {\r\n\t\t\"DOCKER_CONTEXT\": \"one\"\r\n\t},\r\n\t\"containers.environment\": {\r\n\t\t\"DOCKER_CONTEXT\": \"one\"\r\n\t},\r\n}",
            ),
            // An empty object is opened up at its own line's indentation.
            (
                "{\n  \"docker.environment\": {},\n  \"containers.environment\": {\n  }\n}",
                "{\n  \"docker.environment\": {\n    \"DOCKER_CONTEXT\": \"one\"\n  },\n  \"containers.environment\": {\n    \"DOCKER_CONTEXT\": \"one\"\n  }\n}",
            ),
        ];
        for (before, after) in cases {
            assert_eq!(pinned(before, "one"), after, "for {before:?}");
        }
    }

    #[test]
    fn a_pin_keeps_other_members_and_replaces_only_the_value() {
        let text = "{\n  \"docker.environment\": { \"DOCKER_CERT_PATH\": \"/c\", \"DOCKER_CONTEXT\": \"two\" /* was */ },\n  \"containers.environment\": {\n    \"DOCKER_TLS_VERIFY\": \"1\" // keep\n  }\n}";
        let edit = pin_context(text, "one").unwrap();
        assert_eq!(
            edit.before,
            [
                ("docker.environment", Pin::Other("\"two\"".into())),
                ("containers.environment", Pin::Missing)
            ]
        );
        assert_eq!(
            edit.text,
            "{\n  \"docker.environment\": { \"DOCKER_CERT_PATH\": \"/c\", \"DOCKER_CONTEXT\": \"one\" /* was */ },\n  \"containers.environment\": {\n    \"DOCKER_TLS_VERIFY\": \"1\", // keep\n    \"DOCKER_CONTEXT\": \"one\"\n  }\n}"
        );
        let set = "{\"docker.environment\": {\"DOCKER_CONTEXT\": \"one\"}, \"containers.environment\": {\"DOCKER_CONTEXT\": \"o\\u006ee\"}}";
        let edit = pin_context(set, "one").unwrap();
        assert!(!edit.changed(), "an escaped name is the same name");
        assert_eq!(edit.text, set);
    }

    #[test]
    fn a_pin_is_refused_where_it_could_not_work() {
        let err = pin_context("{\n  \"containers.environment\": \"one\"\n}", "one").unwrap_err();
        assert_eq!((err.line, err.column), (2, 29), "{err}");
        assert_eq!(
            err.message,
            "\"containers.environment\" is a string, not an object"
        );
        let err = pin_context(
            "{\n  \"docker.environment\": {},\n  \"containers.environment\": {\"DOCKER_HOST\": \"ssh://h\"}\n}",
            "one",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (3, 30), "{err}");
        assert!(err.message.contains("sets DOCKER_HOST"), "{err}");
        let err = pin_context(
            "{\"docker.environment\": {\"DOCKER_CONTEXT\": \"a\",\n \"DOCKER_CONTEXT\": \"b\"}}",
            "one",
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (2, 2), "{err}");
        assert!(pin_context("{", "one").is_err());
    }

    #[test]
    fn a_docker_host_set_twice_is_refused_like_one() {
        let text = "{\"docker.environment\": {\"DOCKER_HOST\": \"a\", \"DOCKER_HOST\": \"b\"}}";
        let err = pin_context(text, "box").unwrap_err();
        assert!(err.message.contains("DOCKER_HOST is set twice"), "{err:?}");
    }
}
