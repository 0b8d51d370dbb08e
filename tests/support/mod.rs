//! What more than one test area uses, beside the end-to-end harness.

pub mod golden;
