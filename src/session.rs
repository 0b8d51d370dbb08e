//! What one invocation of rdock knows: how to run commands, how to talk, which OS, and the facts
//! earlier steps learned that later steps need.

use crate::exec::Exec;
use crate::platform::Platform;
use crate::ui::Ui;

pub struct Session {
    pub exec: Exec,
    pub ui: Ui,
    pub platform: Platform,
}

impl Session {
    pub fn new(exec: Exec, ui: Ui, platform: Platform) -> Self {
        Session { exec, ui, platform }
    }
}
