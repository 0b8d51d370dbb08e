//! `docker.explorerRefreshInterval`: raised to the interval rdock needs, never lowered.

use jsonc_parser::cst::{CstLeafNode, CstNode};

use super::document::Document;
use super::edit::{set, Found, NewValue};
use super::error::{decode, SettingsError};
use super::KEY;

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
        let (_, before) = changed("{\"docker.explorerRefreshInterval\": false}", 3000);
        assert_eq!(before, Before::NotNumber("a boolean"));
        let (_, before) = changed("{\"docker.explorerRefreshInterval\": {\"ms\": 1}}", 3000);
        assert_eq!(before, Before::NotNumber("an object"));
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
}
