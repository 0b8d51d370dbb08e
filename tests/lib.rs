//! The one integration test binary: a small harness (tests/harness.rs), what several areas share
//! (tests/support/) and a file per area.
//! The end-to-end modules drive a real sshd and dockerd through throwaway Unix users: Unix only.

#[cfg(unix)]
mod authorized_keys;
#[cfg(unix)]
mod bench;
#[cfg(unix)]
mod clients;
mod destination_props;
#[cfg(unix)]
mod docker_clis;
#[cfg(unix)]
mod doctor;
#[cfg(unix)]
mod faults;
#[cfg(unix)]
mod fleet;
#[cfg(unix)]
mod harness;
#[cfg(unix)]
mod host_keys_e2e;
#[cfg(unix)]
mod hostile;
mod layers;
#[cfg(unix)]
mod limits_e2e;
mod platform;
#[cfg(unix)]
mod remote_data;
#[cfg(unix)]
mod remote_shell;
#[cfg(unix)]
mod repair;
#[cfg(unix)]
mod revoke;
#[cfg(unix)]
mod rootless;
#[cfg(unix)]
mod setup;
#[cfg(unix)]
mod sharing;
mod ssh_config;
#[cfg(unix)]
mod ssh_config_e2e;
mod steps;
mod support;
mod vscode;
mod workspace;
#[cfg(unix)]
mod workspace_e2e;
