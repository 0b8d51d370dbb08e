//! `rdock vscode`: the VS Code steps of `rdock setup`, alone (issue 3).

use crate::cli::{GlobalArgs, VscodeArgs};
use crate::exec::Exec;
use crate::platform::Platform;
use crate::session::Session;
use crate::step::{self, Mode, Report};
use crate::ui::Ui;
use crate::vscode::{self, Discovery};

pub fn run(global: &GlobalArgs, args: &VscodeArgs) -> u8 {
    let platform = Platform::detect();
    let mut session = Session::new(
        Exec::new(global.verbose, global.dry_run),
        Ui::detect(),
        platform,
    );
    let Ok(_lock) = super::write_lock(global.dry_run) else {
        return super::EXIT_FAILED;
    };
    let mut steps = vscode::steps(&Discovery::from_env(platform), &args.options);
    let report = step::run(&mut session, &mut steps, Mode::Setup, &mut super::show);
    println!("{}", closing_line(&report, global.dry_run));
    if report.failed() > 0 {
        super::EXIT_FAILED
    } else {
        super::EXIT_OK
    }
}

/// The last line: what changed (or would), and what failed.
fn closing_line(report: &Report, dry_run: bool) -> String {
    let files = |n: usize| format!("{n} settings file{}", if n == 1 { "" } else { "s" });
    let changed = match (report.changed, dry_run) {
        (0, _) => "nothing changed".to_string(),
        (n, true) => format!("{} would change (--dry-run: nothing was written)", files(n)),
        (n, false) => format!("{} changed", files(n)),
    };
    match report.failed() {
        0 => changed,
        failed => format!("{changed}; {failed} failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::Finding;

    fn report(changed: usize, failed: usize) -> Report {
        Report {
            findings: (0..failed)
                .map(|_| Finding::fail("vscode", "x", "y"))
                .collect(),
            changed,
            stopped: false,
        }
    }

    #[test]
    fn closing_line_says_nothing_changed_or_counts() {
        assert_eq!(closing_line(&report(0, 0), false), "nothing changed");
        assert_eq!(
            closing_line(&report(1, 0), false),
            "1 settings file changed"
        );
        assert_eq!(
            closing_line(&report(2, 1), false),
            "2 settings files changed; 1 failed"
        );
        assert_eq!(
            closing_line(&report(2, 0), true),
            "2 settings files would change (--dry-run: nothing was written)"
        );
    }
}
