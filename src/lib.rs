//! rdock: reach Docker on a remote Linux box over SSH.
//!
//! Layers, each using only those before it:
//! - [`sys`]: processes (the only place that starts one), files, the terminal, the environment;
//! - [`ssh`], [`docker`], [`vscode`]: the guide's nouns, as functions over `sys` and text;
//! - [`steps`]: the one model of a step (check, fix) and the plan setup and doctor share;
//! - [`render`]: every line and JSON document a person or a script reads;
//! - [`commands`]: one file per subcommand; [`cli`] holds every clap type.

pub mod cli;
pub mod commands;
pub mod docker;
pub mod error;
pub mod render;
pub mod ssh;
pub mod steps;
pub mod sys;
pub mod vscode;

pub use commands::run;
