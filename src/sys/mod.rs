//! System seams: the only layer that touches processes, files, the terminal and the environment.
//! Everything above it (`ssh`, `docker`, `vscode`, `steps`) reaches the machine through these.

pub mod env;
pub mod exec;
pub mod fsutil;
pub mod lock;
pub mod net;
pub mod platform;
pub mod signal;
pub mod term;
