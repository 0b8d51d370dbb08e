//! Fuzz the settings.json editor (`rdock::vscode::edit_bytes`): it must never panic, and when it
//! changes a file the result must parse, hold the interval, keep every other byte, keep the
//! document otherwise equal, and need no second edit. The workspace pin (`pin_context`), on the
//! same input, likewise.
#![no_main]

use jsonc_parser::JsonValue;
use libfuzzer_sys::fuzz_target;
use rdock::vscode::settings::{pin_context, DOCKER_CONTEXT, ENVIRONMENT_SETTINGS};
use rdock::vscode::{edit_bytes, edit_text, Before, Edit, KEY};

const INTERVAL: u64 = 3000;
const CONTEXT: &str = "one";

/// The pin never panics; when it edits, the new text parses, both environment settings name the
/// context, every other top-level setting is as it was, and a second pin finds nothing to do.
fn check_pin(old: &str) {
    let Ok(edit) = pin_context(old, CONTEXT) else {
        return;
    };
    let options = rdock::vscode::settings::parse_options();
    let parsed = jsonc_parser::parse_to_value(body(&edit.text), &options)
        .unwrap_or_else(|e| panic!("{old:?} became {:?}, which does not parse: {e}", edit.text));
    let Some(JsonValue::Object(got)) = parsed else {
        panic!("{old:?} became {:?}, whose top level is not an object", edit.text);
    };
    for setting in ENVIRONMENT_SETTINGS {
        let named = got.get_object(setting).and_then(|o| o.get_string(DOCKER_CONTEXT));
        assert_eq!(named.map(|n| n.as_ref()), Some(CONTEXT), "{old:?} -> {:?}", edit.text);
    }
    let mut expected = match jsonc_parser::parse_to_value(body(old), &options) {
        Ok(Some(JsonValue::Object(o))) => o.take_inner(),
        _ => Default::default(),
    };
    let mut got = got.take_inner();
    for setting in ENVIRONMENT_SETTINGS {
        expected.remove(setting);
        got.remove(setting);
    }
    assert_eq!(got, expected, "{old:?} -> {:?}", edit.text);
    assert_eq!(old.starts_with('\u{feff}'), edit.text.starts_with('\u{feff}'));
    let again = pin_context(&edit.text, CONTEXT).unwrap();
    assert!(!again.changed() && again.text == edit.text, "{:?}", edit.text);
}


fn body(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Is `old` a subsequence of `new` (only insertions happened)?
fn only_inserted(old: &str, new: &str) -> bool {
    let mut want = old.chars().peekable();
    for c in new.chars() {
        if want.peek() == Some(&c) {
            want.next();
        }
    }
    want.peek().is_none()
}

fuzz_target!(|data: &[u8]| {
    let result = edit_bytes(data, INTERVAL);
    let Ok(old) = std::str::from_utf8(data) else {
        assert!(result.is_err(), "invalid UTF-8 was edited: {result:?}");
        return;
    };
    check_pin(old);
    match result {
        Err(e) => {
            // An error names a place in the file, 1-based, and says something.
            assert!(
                e.line >= 1 && e.column >= 1 && !e.message.is_empty(),
                "{e:?}"
            );
            let _ = e.to_string();
        }
        Ok(Edit::Unchanged { value, larger }) => {
            let n: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("{value:?} is no number"));
            assert!(
                n >= INTERVAL as f64 && larger == (n > INTERVAL as f64),
                "{value} {larger}"
            );
        }
        Ok(Edit::Changed { text: new, before }) => {
            // The new text parses as settings, and its top level is an object holding the interval.
            let parsed = jsonc_parser::parse_to_value(body(&new), &rdock::vscode::settings::parse_options())
                .unwrap_or_else(|e| panic!("{old:?} became {new:?}, which does not parse: {e}"));
            let Some(JsonValue::Object(got)) = parsed else {
                panic!("{old:?} became {new:?}, whose top level is not an object");
            };
            // Every other property is as it was.
            let mut expected = match jsonc_parser::parse_to_value(body(old), &rdock::vscode::settings::parse_options()) {
                Ok(Some(JsonValue::Object(o))) => o.take_inner(),
                Ok(None) => Default::default(),
                other => panic!("{old:?} was edited but is not an object: {other:?}"),
            };
            let interval = INTERVAL.to_string();
            expected.insert(KEY.into(), JsonValue::Number(&interval));
            assert_eq!(got.take_inner(), expected, "{old:?} became {new:?}");
            assert_eq!(old.starts_with('\u{feff}'), new.starts_with('\u{feff}'));
            // Every other byte is kept.
            match before {
                Before::Missing if !body(old).trim().is_empty() => {
                    assert!(only_inserted(old, &new), "{old:?} is not inside {new:?}");
                }
                Before::Missing => {}
                Before::Number(_) | Before::NotNumber(_) => {
                    let (o, n) = (old.as_bytes(), new.as_bytes());
                    let prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
                    let room = o.len().min(n.len()) - prefix;
                    let suffix = o
                        .iter()
                        .rev()
                        .zip(n.iter().rev())
                        .take(room)
                        .take_while(|(a, b)| a == b)
                        .count();
                    let middle = &n[prefix..n.len() - suffix];
                    let within = middle.is_empty()
                        || interval
                            .as_bytes()
                            .windows(middle.len())
                            .any(|w| w == middle);
                    assert!(
                        within,
                        "{old:?} became {new:?}: more than the value changed ({middle:?})"
                    );
                }
            }
            // A second edit finds nothing to do.
            assert_eq!(
                edit_text(&new, INTERVAL),
                Ok(Edit::Unchanged {
                    value: interval.clone(),
                    larger: false
                }),
                "{old:?} -> {new:?}"
            );
        }
    }
});
