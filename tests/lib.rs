//! The one integration test binary: a small harness (tests/harness.rs) and a file per area.

mod bench;
mod destination_props;
mod doctor;
mod faults;
mod fleet;
mod harness;
mod hostile;
mod platform;
mod setup;
mod ssh_config;
mod vscode;
