//! Why a settings file cannot be edited, and where: the 1-based line and column of the cause.

use std::fmt;

/// Why a settings file cannot be edited, with the 1-based line and column of the cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingsError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl SettingsError {
    pub(super) fn at(text: &str, offset: usize, message: impl Into<String>) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_counts_characters_and_every_line_break() {
        assert_eq!(line_column("ab", 2), (1, 3));
        assert_eq!(line_column("é\r\nx\ry", 6), (3, 1));
        assert_eq!(line_column("\u{feff}ab", 4), (1, 2));
    }

    #[test]
    fn only_a_leading_bom_takes_no_column() {
        // Inside the text U+FEFF is a zero-width space, and jsonc-parser counts it as it counts
        // any character; decode's text still holds the file's BOM.
        assert_eq!(line_column("\u{feff}a\u{feff}b", 8), (1, 4));
        assert_eq!(line_column("\n\u{feff}b", 5), (2, 3));
    }
}
