//! The edit: one value at a path (a top-level key, or a member of a top-level object), inserted
//! with whatever object it needs, in the style of the object it goes in.

use jsonc_parser::cst::{CstContainerNode, CstNode, CstObject, CstObjectProp};

use super::document::{end, kind_name, start, Document, Splice};
use super::error::{line_column, SettingsError};

/// Indentation of a property in an object that shows none (VS Code's default).
const DEFAULT_INDENT: &str = "    ";

/// A value rdock writes.
pub(super) enum NewValue<'a> {
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
pub(super) enum Found {
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
pub(super) fn set(
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
pub(super) fn unique_property(
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
