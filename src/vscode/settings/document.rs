//! The document: jsonc-parser's lossless CST, and byte offsets into the text it came from, so an
//! edit is a splice of the original text.

use jsonc_parser::cst::{CstContainerNode, CstLeafNode, CstNode, CstObject, CstRootNode};
use jsonc_parser::ParseOptions;

use super::error::SettingsError;

pub(super) struct Document<'a> {
    pub(super) bom: &'a str,
    pub(super) body: &'a str,
    pub(super) root: CstRootNode,
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
    pub(super) fn parse(text: &'a str) -> Result<Self, SettingsError> {
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
            return Err(SettingsError::at(
                body,
                first_difference(&printed, body),
                "rdock cannot edit this text without changing other bytes",
            ));
        }
        Ok(Document { bom, body, root })
    }

    /// The top-level object; None when the file holds no value at all (empty, blank or comments).
    pub(super) fn object(&self) -> Result<Option<CstObject>, SettingsError> {
        match self.root.value() {
            None => Ok(None),
            Some(CstNode::Container(CstContainerNode::Object(object))) => Ok(Some(object)),
            Some(other) => Err(self.error_at(
                &other,
                format!("the top level is {}, not an object", kind_name(&other)),
            )),
        }
    }

    pub(super) fn error_at(&self, node: &CstNode, message: impl Into<String>) -> SettingsError {
        SettingsError::at(self.body, start(node), message)
    }

    /// The file's own line break (the first one found), LF when it has none.
    pub(super) fn newline(&self) -> &'static str {
        use jsonc_parser::cst::CstNewlineKind::*;
        match self.root.newline_kind() {
            LineFeed => "\n",
            CarriageReturnLineFeed => "\r\n",
            CarriageReturn => "\r",
        }
    }

    /// The text with the splices applied (sorted, non-overlapping), the BOM kept.
    pub(super) fn apply(&self, mut splices: Vec<Splice>) -> String {
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

/// Where `text` starts to differ from `printed`: the start of the character holding the first
/// byte that differs, or the end of the shorter one. (No text jsonc-parser 0.34 parses prints back
/// differently, as far as fuzzing found; this names the place should a later version.)
fn first_difference(printed: &str, text: &str) -> usize {
    let mut at = printed
        .bytes()
        .zip(text.bytes())
        .position(|(a, b)| a != b)
        .unwrap_or(printed.len().min(text.len()));
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Replace `remove` bytes at `at` with `insert`.
pub(super) struct Splice {
    pub(super) at: usize,
    pub(super) remove: usize,
    pub(super) insert: String,
}

impl Splice {
    pub(super) fn insert(at: usize, insert: impl Into<String>) -> Self {
        Splice {
            at,
            remove: 0,
            insert: insert.into(),
        }
    }
}

/// Byte offset where a node starts: everything printed before it, at every level.
pub(super) fn start(node: &CstNode) -> usize {
    let before: usize = node.previous_siblings().map(|n| n.to_string().len()).sum();
    before + node.parent().map_or(0, |parent| start(&parent.into()))
}

/// Byte offset just past a node.
pub(super) fn end(node: &CstNode) -> usize {
    start(node) + node.to_string().len()
}

pub(super) fn kind_name(node: &CstNode) -> &'static str {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_is_placed_at_the_start_of_its_character() {
        // "é" and "è" share their first byte: the difference is the character, not its second byte.
        assert_eq!(first_difference("{\"é\"}", "{\"è\"}"), 2);
        assert_eq!(first_difference("ab", "ax"), 1);
        // One is the other with more after it: they part where the shorter ends.
        assert_eq!(first_difference("{}", "{} "), 2);
        assert_eq!(first_difference("{} ", "{}"), 2);
    }
}
