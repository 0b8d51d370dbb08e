//! Fuzz the sanitiser every line rdock prints goes through, `sys::term::visible` (and
//! `visible_stream`, for what a remote terminal prints as it arrives), with an oracle written here:
//! no control character (C0, DEL, C1) other than the line break and tab (and, in a stream, the
//! carriage return) and no bidi override or isolate survives; the text keeps its lines; and a text
//! that holds none of them, with no line over the length limit, comes back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdock::sys::term::{visible, visible_stream, MAX_LINE_CHARS};

/// What could drive a terminal or reorder what it shows, by the standards: Unicode's Cc category
/// (U+0000–U+001F, U+007F–U+009F) and the bidi embeddings, overrides, isolates and marks.
fn drives_a_terminal(c: char) -> bool {
    let n = c as u32;
    n < 0x20
        || (0x7f..=0x9f).contains(&n)
        || matches!(n, 0x200e | 0x200f | 0x202a..=0x202e | 0x2066..=0x2069)
}

fn check(input: &str, shown: &str, keep: &[char]) {
    let raw: Vec<char> = shown
        .chars()
        .filter(|c| drives_a_terminal(*c) && !keep.contains(c))
        .collect();
    assert!(raw.is_empty(), "{input:?} shown as {shown:?} keeps {raw:?}");
    assert_eq!(
        shown.matches('\n').count(),
        input.matches('\n').count(),
        "{input:?} shown as {shown:?}: lines changed"
    );
    let clean = !input.chars().any(|c| drives_a_terminal(c) && !keep.contains(&c));
    let short = input.split('\n').all(|l| l.chars().count() <= MAX_LINE_CHARS);
    if clean && short {
        assert_eq!(shown, input, "a text with nothing to escape was changed");
    }
}

fuzz_target!(|data: &[u8]| {
    let input = String::from_utf8_lossy(data);
    check(&input, &visible(&input), &['\n', '\t']);
    check(&input, &visible_stream(&input), &['\n', '\t', '\r']);
});
