//! The end-to-end tier: rdock's binary against a real sshd and dockerd on 127.0.0.1, as
//! throwaway Unix users (tests/harness/). Needs root and the tools scripts/test.sh installs.

mod agent_block;
mod clients;
mod docker_clis;
mod doctor;
mod faults;
mod fleet;
mod host_keys;
mod keys;
mod limits;
mod outcomes;
mod remote_data;
mod remote_shell;
mod repair;
mod revoke;
mod rootless;
mod setup;
pub(crate) mod sharing;
mod signals;
mod ssh_config;
mod workspace;
