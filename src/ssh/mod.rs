//! The ssh side of the guide, as functions over [`Exec`](crate::sys::exec::Exec) and text: the
//! destination and what `ssh -G` makes of it, `~/.ssh/config`'s managed blocks, the key pair, the
//! agent, known hosts, the remote probe and connection multiplexing. Nothing here knows about
//! steps.

pub mod agent;
pub mod authorized_keys;
pub mod command;
pub mod config;
pub mod connect;
pub mod destination;
pub mod keys;
pub mod known_hosts;
pub mod limits;
pub mod link;
pub mod multiplex;
pub mod probe;
pub mod rc;
pub mod repair;
pub mod scripts;

pub use command::version_cmd;
