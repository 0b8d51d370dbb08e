//! What one invocation of rdock knows: how to run commands, how to talk, which OS, and the facts
//! earlier steps learned that later steps need.

use crate::destination::{Destination, Resolved};
use crate::exec::Exec;
use crate::keys::KeyPair;
use crate::platform::Platform;
use crate::remote::Probe;
use crate::ui::Ui;

pub struct Session {
    pub exec: Exec,
    pub ui: Ui,
    pub platform: Platform,
    /// The destination as given, when there is one.
    pub dest: Option<Destination>,
    /// What `ssh -G` made of it (set by the destination step).
    pub resolved: Option<Resolved>,
    /// The key pair (set by the key step).
    pub key: Option<KeyPair>,
    /// The one ssh round trip's result, reused by every remote check.
    pub probe: Option<Probe>,
    /// The probe, running in the background (see `remote::start_probe`).
    pub probe_job: Option<std::thread::JoinHandle<Probe>>,
    /// The control master's state, read before the probe connected (a connection replaces a
    /// stale socket, so afterwards it could no longer be seen).
    pub master: Option<crate::multiplex::Master>,
    /// Start the remote probe as soon as the destination is resolved (doctor: read-only, so
    /// nothing a later step does can change its answer).
    pub prefetch: bool,
}

impl Session {
    pub fn new(exec: Exec, ui: Ui, platform: Platform) -> Self {
        Session {
            exec,
            ui,
            platform,
            dest: None,
            resolved: None,
            key: None,
            probe: None,
            probe_job: None,
            master: None,
            prefetch: false,
        }
    }
}
