//! The ssh side of the guide, as functions over [`Exec`](crate::sys::exec::Exec) and text: the
//! destination and what `ssh -G` makes of it, `~/.ssh/config`'s managed blocks, the key pair, the
//! agent, known hosts, the remote probe and connection multiplexing. Nothing here knows about
//! steps.

pub mod agent;
pub mod authorized_keys;
pub mod config;
pub mod destination;
pub mod keys;
pub mod known_hosts;
pub mod limits;
pub mod multiplex;
pub mod probe;
pub mod rc;
pub mod repair;
pub mod scripts;

use crate::sys::exec::Cmd;

/// `ssh -V`: the OpenSSH version, on stderr.
pub fn version_cmd() -> Cmd {
    Cmd::new("ssh").arg("-V")
}
