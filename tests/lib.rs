//! The one integration test binary: a file per area, what several areas share (tests/support/),
//! the in-process step tests (tests/steps/), and the end-to-end tier (tests/e2e/), which drives a
//! real sshd and dockerd through throwaway Unix users (tests/harness/): Unix only.

#[cfg(unix)]
mod authorized_keys;
#[cfg(unix)]
mod bench;
mod destination_props;
#[cfg(unix)]
mod e2e;
#[cfg(unix)]
mod first_contact;
#[cfg(unix)]
mod harness;
mod help;
#[cfg(unix)]
mod hostile;
mod layers;
#[cfg(unix)]
mod missing_tools;
#[cfg(unix)]
mod outcomes;
#[cfg(unix)]
mod output;
mod platform;
mod readme;
mod security_md;
#[cfg(unix)]
mod signals;
mod ssh_config;
mod steps;
mod support;
#[cfg(unix)]
mod terminal;
mod tiers;
mod vscode;
mod workspace;
