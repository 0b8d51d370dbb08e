//! VS Code settings: `docker.explorerRefreshInterval` in the settings.json of every installed
//! VS Code-like editor ([`discovery`]), edited byte for byte ([`settings`]), which installed
//! Docker extensions read it at all ([`extensions`]), and a workspace folder's docker context
//! ([`workspace`]).

pub mod discovery;
pub mod extensions;
pub mod settings;
pub mod workspace;

pub use discovery::{targets, Discovery, Target, EDITORS};
pub use extensions::{installed_extensions, Extension};
pub use settings::{edit_bytes, edit_text, Before, Edit, KEY};
