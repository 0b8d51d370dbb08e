//! The one integration test binary: a small harness (tests/harness.rs) and a file per area.

mod doctor;
mod harness;
mod setup;
mod vscode;
