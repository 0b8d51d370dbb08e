use crate::cli::{GlobalArgs, VscodeArgs};

pub fn run(_global: &GlobalArgs, _args: &VscodeArgs) -> u8 {
    super::EXIT_FAILED
}
