//! rdock: reach Docker on a remote Linux box over SSH.
//!
//! The modules follow the nouns of VS Code's guide "Connect to remote Docker over SSH":
//! destination, keys, agent, known hosts, the remote probe, the docker context, VS Code settings
//! and the platform. `exec` is the only module that starts processes; `step` is the one model of
//! a step that both `setup` and `doctor` run.

pub mod agent;
pub mod cli;
pub mod commands;
pub mod context;
pub mod destination;
pub mod exec;
pub mod fsutil;
pub mod keys;
pub mod known_hosts;
pub mod lock;
pub mod multiplex;
pub mod platform;
pub mod remote;
pub mod session;
pub mod ssh_config;
pub mod step;
pub mod tools;
pub mod ui;
pub mod vscode;

pub use commands::run;
