//! The one integration test binary.

mod vscode;
