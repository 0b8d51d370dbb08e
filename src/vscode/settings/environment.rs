//! `docker.environment` and `containers.environment`: which of them override the docker context,
//! and pinning a workspace's context there.

use jsonc_parser::cst::{CstLeafNode, CstNode};

use super::document::Document;
use super::edit::{set, unique_property, Found, NewValue};
use super::error::SettingsError;
use super::{CONTEXT_VARIABLES, DOCKER_CONTEXT, DOCKER_HOST, ENVIRONMENT_SETTINGS};

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
