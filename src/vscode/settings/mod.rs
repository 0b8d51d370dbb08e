//! settings.json: set `docker.explorerRefreshInterval` ([`edit_text`]), or pin a docker context
//! for a workspace ([`pin_context`]), and change no other byte.
//!
//! Both go through one edit (`edit::set`) of the value at a path: a top-level key, or a member of a
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
//!
//! The parts: `error` (what is wrong, at which line and column), `document` (the CST and the
//! byte offsets into the text), `edit` (the one splice that sets a value), then the two settings
//! rdock writes: `interval` and `environment`.

mod document;
mod edit;
mod environment;
mod error;
mod interval;

use std::io;
use std::path::Path;

use crate::sys::fsutil;

pub use document::parse_options;
pub use environment::{environment_overrides, pin_context, Override, Pin, PinEdit};
pub use error::{decode, line_column, SettingsError};
pub use interval::{edit_bytes, edit_text, Before, Edit};

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
    /// The file, or its folder, is a symbolic link that leaves the folder it belongs to (a
    /// workspace): where it really is.
    Outside(std::path::PathBuf),
}

/// The text of a settings file ([`read`], then [`decode`]); None when it does not exist.
pub fn read_text(path: &Path) -> Result<Option<String>, Problem> {
    match read(path).map_err(Problem::Read)? {
        None => Ok(None),
        Some(bytes) => Ok(Some(decode(&bytes).map_err(Problem::Parse)?.to_string())),
    }
}
