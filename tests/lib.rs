//! The one integration test binary: a small harness (tests/harness.rs) and a file per area.

mod bench;
mod doctor;
mod harness;
mod setup;
mod vscode;
