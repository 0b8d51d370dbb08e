//! What more than one test area uses, beside the end-to-end harness.

#[cfg(unix)]
pub mod fake_tools;
pub mod golden;
#[cfg(unix)]
pub mod snapshot;
