//! VS Code: set `docker.explorerRefreshInterval` in each editor's settings.json (one step per
//! file, never blocking: a broken file does not stop the others), warn when an environment
//! setting overrides the docker context, say which installed extensions read the setting, and a
//! workspace folder's docker context (pinned by `rdock vscode --workspace`, read by doctor).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};

use crate::docker;
use crate::sys::env::Env;
use crate::sys::exec::quote;
use crate::sys::fsutil;
use crate::vscode::discovery::EDITORS;
use crate::vscode::extensions::{extensions_summary, installed_extensions};
use crate::vscode::settings::{
    self, edit_text, environment_overrides, pin_context, read_text, Before, Edit, Override, Pin,
    Problem, CONTEXT_VARIABLES, DOCKER_CONTEXT, ENVIRONMENT_SETTINGS, KEY, NEW_FILE_MODE,
};
use crate::vscode::workspace::{self, Pins};
use crate::vscode::Target;

use super::{Finding, Kind, Outcome, Session, Status, Step};

pub struct SettingsStep {
    pub target: Target,
    pub interval: u64,
}

/// What editing a settings file would do.
struct Plan {
    exists: bool,
    edit: Edit,
}

impl SettingsStep {
    fn plan(&self) -> Result<Plan, Problem> {
        let text = read_text(&self.target.path)?;
        let edit = edit_text(text.as_deref().unwrap_or_default(), self.interval)
            .map_err(Problem::Parse)?;
        Ok(Plan {
            exists: text.is_some(),
            edit,
        })
    }

    fn shown(&self, env: &Env) -> String {
        env.tilde(&self.target.path)
    }

    /// The sentence for a change, as done or (under --dry-run) as it would be done.
    fn describe(&self, env: &Env, exists: bool, before: &Before, would: bool) -> String {
        let (path, interval) = (self.shown(env), self.interval);
        let (done, todo) = match (exists, before) {
            (false, _) => ("created", "create"),
            (true, Before::Missing) => ("set", "set"),
            (true, Before::Number(_)) => ("raised", "raise"),
            (true, Before::NotNumber(_)) => ("replaced", "replace"),
        };
        let verb = if would {
            format!("would {todo}")
        } else {
            done.to_string()
        };
        match (exists, before) {
            (false, _) => format!("{verb} {path} with {KEY} {interval}"),
            (true, Before::Missing) => format!("{verb} {KEY} to {interval} in {path}"),
            (true, Before::Number(old)) => {
                format!("{verb} {KEY} from {old} to {interval} in {path}")
            }
            (true, Before::NotNumber(kind)) => {
                format!("{verb} {KEY} ({kind}) with {interval} in {path}")
            }
        }
    }
}

impl Step for SettingsStep {
    fn kind(&self) -> Kind {
        Kind::VscodeSettings
    }

    fn id(&self) -> String {
        self.target.id.clone()
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let (id, path, interval) = (self.id(), self.shown(&s.env), self.interval);
        let fix = format!("set \"{KEY}\": {interval} in {path} (or run rdock vscode)");
        match self.plan() {
            Err(problem) => unreadable(&id, &path, &problem, "rdock vscode"),
            Ok(Plan {
                edit: Edit::Unchanged { value, larger },
                ..
            }) => {
                let note = if larger {
                    format!(" (larger than {interval}, kept)")
                } else {
                    String::new()
                };
                Finding::ok(&id, format!("{KEY} is {value} in {path}{note}"))
            }
            Ok(Plan {
                exists,
                edit: Edit::Changed { before, .. },
            }) => {
                let message = match (exists, &before) {
                    (false, _) => format!("{path} does not exist, so {KEY} is not set"),
                    (true, Before::Missing) => format!("{KEY} is not set in {path}"),
                    (true, Before::Number(old)) => {
                        format!("{KEY} is {old} in {path}, lower than {interval}")
                    }
                    (true, Before::NotNumber(kind)) => {
                        format!("{KEY} is {kind} in {path}, not a number")
                    }
                };
                Finding::fail(&id, message, fix).fixable()
            }
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let shown = self.shown(&s.env);
        let plan = self
            .plan()
            .map_err(|problem| not_edited(&shown, &problem))?;
        let Edit::Changed { text, before } = plan.edit else {
            return Ok(Outcome::Done(format!("{KEY} was already set in {shown}")));
        };
        write_settings(s, &self.target.path, &text, self.target.explicit)?;
        Ok(Outcome::Done(self.describe(
            &s.env,
            plan.exists,
            &before,
            false,
        )))
    }

    fn preview(&self, s: &Session, found: &Finding) -> String {
        match self.plan() {
            Ok(Plan {
                exists,
                edit: Edit::Changed { before, .. },
            }) => self.describe(&s.env, exists, &before, true),
            _ => found.message.clone(),
        }
    }
}

/// Write a settings file atomically (a new one gets mode 0644), making its folder first when
/// `make_folder`.
fn write_settings(s: &Session, path: &Path, text: &str, make_folder: bool) -> Result<()> {
    if make_folder {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", s.env.tilde(dir)))?;
        }
    }
    fsutil::write_atomic(path, text.as_bytes(), NEW_FILE_MODE)
}

/// Why a settings file was not edited, in one sentence.
fn why_not(shown: &str, problem: &Problem) -> String {
    match problem {
        Problem::Read(e) => format!("cannot read {shown}: {e}"),
        Problem::Parse(e) => format!("{shown} was left untouched: {e}"),
        Problem::Outside(real) => format!(
            "{shown} was left untouched: it is a symbolic link out of the workspace, to {} (rdock follows no link out of a workspace)",
            real.display()
        ),
    }
}

fn not_edited(shown: &str, problem: &Problem) -> anyhow::Error {
    anyhow!(why_not(shown, problem))
}

/// The failure for a settings file rdock cannot read or edit, with what to do, then `rerun`.
fn unreadable(id: &str, shown: &str, problem: &Problem, rerun: &str) -> Finding {
    let fix = match problem {
        Problem::Read(_) => format!("make {shown} a readable file, then run {rerun}"),
        Problem::Outside(_) => format!(
            "if this workspace is yours, make {shown} a file of its own (not a link), then run {rerun}"
        ),
        Problem::Parse(e) => format!(
            "correct {shown} at line {}, column {} (it must hold one JSON object), then run {rerun}",
            e.line, e.column
        ),
    };
    Finding::fail(id, why_not(shown, problem), fix)
}

/// What an environment setting that sets DOCKER_HOST or DOCKER_CONTEXT in a file does, and its fix.
fn override_warning(o: &Override, shown: &str) -> (String, String) {
    (
        format!("\"{}\" sets {} in {shown}", o.setting, o.variable),
        format!(
            "remove \"{}\" from \"{}\" in {shown}",
            o.variable, o.setting
        ),
    )
}

/// Warns when docker.environment or containers.environment sets DOCKER_HOST or DOCKER_CONTEXT.
pub struct EnvironmentStep {
    pub paths: Vec<PathBuf>,
}

impl Step for EnvironmentStep {
    fn kind(&self) -> Kind {
        Kind::VscodeEnv
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let mut found = Vec::new();
        for path in &self.paths {
            // A file that cannot be read or parsed has its own failing step already.
            let Ok(Some(text)) = read_text(path) else {
                continue;
            };
            let Ok(overrides) = environment_overrides(&text) else {
                continue;
            };
            found.extend(overrides.into_iter().map(|o| (o, s.env.tilde(path))));
        }
        if found.is_empty() {
            return Finding::ok(
                "vscode-env",
                format!(
                    "no {} sets {}",
                    ENVIRONMENT_SETTINGS.join(" or "),
                    CONTEXT_VARIABLES.join(" or ")
                ),
            );
        }
        let (what, fixes): (Vec<String>, Vec<String>) = found
            .iter()
            .map(|(o, path)| override_warning(o, path))
            .unzip();
        Finding::warn(
            "vscode-env",
            format!(
                "{}: it overrides the docker context inside VS Code",
                what.join("; ")
            ),
            fixes.join("\n"),
        )
    }
}

/// A workspace folder's docker context. With `want` (`rdock vscode --workspace DIR --context
/// NAME`): ok when both environment settings of `DIR/.vscode/settings.json` pin NAME, and the fix
/// writes the pin. Without (doctor, run inside the workspace): what the folder pins, and whether
/// that holds together.
pub struct WorkspaceStep {
    pub dir: PathBuf,
    pub want: Option<String>,
}

impl WorkspaceStep {
    fn path(&self) -> PathBuf {
        workspace::settings_path(&self.dir)
    }

    /// `rdock vscode --workspace DIR --context NAME`, as a command to run.
    fn pin_command(&self, name: &str) -> String {
        format!(
            "rdock vscode --workspace {} --context {}",
            quote(&self.dir.to_string_lossy()),
            quote(name)
        )
    }

    /// "this workspace (~/a)"
    fn this(&self, s: &Session) -> String {
        format!("this workspace ({})", s.env.tilde(&self.dir))
    }

    fn uses(&self, s: &Session, name: &str) -> String {
        format!(
            "{} uses context {name} through {}",
            self.this(s),
            ENVIRONMENT_SETTINGS.join(" and ")
        )
    }

    /// The workspace's settings text, None when there is no file; never through a link that
    /// leaves the workspace.
    fn read(&self) -> Result<Option<String>, Problem> {
        if let Some(real) = workspace::leaves(&self.dir) {
            return Err(Problem::Outside(real));
        }
        read_text(&self.path())
    }

    /// The pin `want` calls for: whether the file exists, and the edit.
    fn pin(&self, name: &str) -> Result<(bool, settings::PinEdit), Problem> {
        let text = self.read()?;
        let edit =
            pin_context(text.as_deref().unwrap_or_default(), name).map_err(Problem::Parse)?;
        Ok((text.is_some(), edit))
    }

    fn check_pin(&self, s: &Session, name: &str) -> Finding {
        let (id, shown) = (self.id(), s.env.tilde(&self.path()));
        let rerun = self.pin_command(name);
        match self.pin(name) {
            Err(problem) => unreadable(&id, &shown, &problem, &rerun),
            Ok((_, edit)) if !edit.changed() => Finding::ok(&id, self.uses(s, name)),
            Ok((false, _)) => Finding::fail(
                &id,
                format!(
                    "{shown} does not exist, so {} pins no context",
                    self.this(s)
                ),
                rerun,
            )
            .fixable(),
            Ok((true, edit)) => {
                let what: Vec<String> = edit
                    .before
                    .iter()
                    .filter_map(|(setting, pin)| match pin {
                        Pin::Set => None,
                        Pin::Missing => Some(format!("\"{setting}\" has no {DOCKER_CONTEXT}")),
                        Pin::Other(was) => {
                            Some(format!("\"{setting}\" sets {DOCKER_CONTEXT} to {was}"))
                        }
                    })
                    .collect();
                Finding::fail(
                    &id,
                    format!(
                        "{} does not pin context {name} in {shown}: {}",
                        self.this(s),
                        what.join(", ")
                    ),
                    rerun,
                )
                .fixable()
            }
        }
    }

    fn describe(&self, s: &Session, name: &str, exists: bool, would: bool) -> String {
        let verb = if would { "would pin" } else { "pinned" };
        let new = if exists { "" } else { " (a new file)" };
        format!(
            "{verb} context {name} in {}{new}: {DOCKER_CONTEXT} in {}",
            s.env.tilde(&self.path()),
            ENVIRONMENT_SETTINGS.join(" and ")
        )
    }

    /// Doctor: what the workspace pins, judged.
    fn check_pins(&self, s: &Session) -> Finding {
        let (id, shown) = (self.id(), s.env.tilde(&self.path()));
        let pins = self.read().and_then(|text| {
            Pins::from_text(text.as_deref().unwrap_or_default()).map_err(Problem::Parse)
        });
        let pins = match pins {
            Ok(pins) => pins,
            Err(problem) => return unreadable(&id, &shown, &problem, "rdock doctor"),
        };
        let this = self.this(s);
        let mut problems: Vec<(Status, String, String)> = Vec::new();
        let named: Vec<String> = pins
            .contexts
            .iter()
            .map(|(setting, name)| match name {
                Some(name) => format!("{name} through {setting}"),
                None => format!("a value that is not a string through {setting}"),
            })
            .collect();
        let first = pins.contexts.iter().find_map(|(_, name)| name.clone());
        let pick = first.clone().unwrap_or_else(|| "NAME".into());
        match (pins.agreed(), pins.contexts.len()) {
            (_, 0) => {}
            (Some(name), 1) => {
                let others: Vec<&str> = ENVIRONMENT_SETTINGS
                    .into_iter()
                    .filter(|setting| pins.contexts.iter().all(|(pinned, _)| pinned != setting))
                    .collect();
                problems.push((
                    Status::Warn,
                    format!(
                        "{this} pins context {name} through {} only: the extension that reads {} uses the current context",
                        pins.contexts[0].0,
                        others.join(" and ")
                    ),
                    self.pin_command(name),
                ));
            }
            (Some(_), _) => {}
            (None, _) => problems.push((
                Status::Warn,
                format!("{this} pins context {}", named.join(" and ")),
                format!("one context for both: {}", self.pin_command(&pick)),
            )),
        }
        let names: Vec<&String> = pins
            .contexts
            .iter()
            .filter_map(|(_, n)| n.as_ref())
            .collect();
        match docker::list(&s.env) {
            Err(e) => problems.push((
                Status::Fail,
                format!("cannot read docker's contexts: {e:#}"),
                "check docker's context store (DOCKER_CONFIG, or ~/.docker)".into(),
            )),
            Ok(contexts) => {
                let mut missing: Vec<&String> = names
                    .into_iter()
                    .filter(|name| contexts.iter().all(|c| &c.name != *name))
                    .collect();
                missing.dedup();
                for name in missing {
                    problems.push((
                        Status::Fail,
                        format!(
                            "{this} pins context {name}, and docker has no context of that name"
                        ),
                        format!(
                            "rdock setup user@host --name {}, or pin another: {}",
                            quote(name),
                            self.pin_command("NAME")
                        ),
                    ));
                }
            }
        }
        for setting in &pins.hosts {
            let host = Override {
                setting,
                variable: settings::DOCKER_HOST.into(),
                value: None,
            };
            let (what, fix) = override_warning(&host, &shown);
            problems.push((
                Status::Warn,
                format!("{what}: it overrides the docker context inside VS Code"),
                fix,
            ));
        }
        if problems.is_empty() {
            return match pins.agreed() {
                Some(name) => Finding::ok(&id, self.uses(s, name)),
                None => Finding::ok(
                    &id,
                    format!("{this} pins no docker context: VS Code uses the current one"),
                ),
            };
        }
        let worst = if problems.iter().any(|(status, ..)| *status == Status::Fail) {
            Status::Fail
        } else {
            Status::Warn
        };
        let (messages, fixes): (Vec<String>, Vec<String>) =
            problems.into_iter().map(|(_, m, f)| (m, f)).unzip();
        let (message, fix) = (messages.join("; "), fixes.join("\n"));
        match worst {
            Status::Fail => Finding::fail(&id, message, fix),
            _ => Finding::warn(&id, message, fix),
        }
    }
}

impl Step for WorkspaceStep {
    fn kind(&self) -> Kind {
        Kind::Workspace
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        match &self.want {
            Some(name) => self.check_pin(s, name),
            None => self.check_pins(s),
        }
    }

    fn fix(&mut self, s: &mut Session) -> Result<Outcome> {
        let Some(name) = &self.want else {
            return Err(anyhow!("no context was named to pin"));
        };
        let path = self.path();
        let (exists, edit) = self
            .pin(name)
            .map_err(|problem| not_edited(&s.env.tilde(&path), &problem))?;
        if !edit.changed() {
            return Ok(Outcome::Done(self.uses(s, name)));
        }
        write_settings(s, &path, &edit.text, true)?;
        Ok(Outcome::Done(self.describe(s, name, exists, false)))
    }

    fn preview(&self, s: &Session, found: &Finding) -> String {
        match (&self.want, self.want.as_deref().map(|name| self.pin(name))) {
            (Some(name), Some(Ok((exists, _)))) => self.describe(s, name, exists, true),
            _ => found.message.clone(),
        }
    }
}

/// One info line on which installed Docker extensions read the setting.
pub struct ExtensionsStep {
    pub dirs: Vec<PathBuf>,
}

impl Step for ExtensionsStep {
    fn kind(&self) -> Kind {
        Kind::VscodeExt
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let extensions = installed_extensions(&self.dirs);
        let details = extensions.iter().map(|e| {
            let reads = if e.reads_refresh_interval() {
                "reads"
            } else {
                "ignores"
            };
            format!("{} in {} {reads} {KEY}", e.label(), s.env.tilde(&e.dir))
        });
        details.fold(
            Finding::ok("vscode-ext", extensions_summary(&extensions)),
            Finding::detail,
        )
    }
}

/// No editor found and no --settings: say so, and create nothing.
pub struct NothingFound {
    pub looked_in: Option<PathBuf>,
}

impl Step for NothingFound {
    fn kind(&self) -> Kind {
        Kind::VscodeSettings
    }

    fn check(&mut self, s: &mut Session) -> Finding {
        let finding = Finding::skip("vscode", "no VS Code-like editor found; nothing to do");
        match &self.looked_in {
            Some(dir) => finding.detail(format!(
                "looked for {} with a User folder in {}",
                EDITORS.join(", "),
                s.env.tilde(dir)
            )),
            None => finding,
        }
    }
}
