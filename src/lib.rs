//! rdock: reach Docker on a remote Linux box over SSH.
//!
//! The modules follow the nouns of VS Code's guide "Connect to remote Docker over SSH".

pub mod cli;
pub mod commands;
pub mod exec;
pub mod fsutil;
pub mod platform;
pub mod session;
pub mod step;
pub mod ui;
pub mod vscode;

pub use commands::run;
