//! What more than one test area uses, beside the end-to-end harness.

#[cfg(unix)]
pub mod fake_tools;
pub mod golden;
#[cfg(unix)]
pub mod snapshot;

/// rdock's text output with each fix's wrapped lines joined again (render wraps fix text to the
/// terminal's width): a continuation line is indented 9 columns or more, under `fix:`.
#[cfg(unix)]
pub fn unwrapped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.starts_with("         ") && !out.is_empty() {
            out.pop();
            out.push(' ');
            out.push_str(line.trim_start());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}
