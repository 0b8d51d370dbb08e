//! VS Code: set `docker.explorerRefreshInterval` in each editor's settings.json (one step per
//! file, never blocking: a broken file does not stop the others), warn when an environment
//! setting overrides the docker context, and say which installed extensions read the setting.

use std::io;
use std::path::PathBuf;

use anyhow::{anyhow, Context as _, Result};

use crate::sys::env::Env;
use crate::sys::fsutil;
use crate::vscode::discovery::EDITORS;
use crate::vscode::extensions::{extensions_summary, installed_extensions};
use crate::vscode::settings::{
    self, decode, edit_bytes, environment_overrides, Before, Edit, SettingsError,
    CONTEXT_VARIABLES, ENVIRONMENT_SETTINGS, KEY, NEW_FILE_MODE,
};
use crate::vscode::Target;

use super::{Finding, Kind, Outcome, Session, Step};

pub struct SettingsStep {
    pub target: Target,
    pub interval: u64,
}

/// Why a settings file cannot be edited.
enum Problem {
    Read(io::Error),
    Parse(SettingsError),
}

/// What editing a settings file would do.
struct Plan {
    exists: bool,
    edit: Edit,
}

impl SettingsStep {
    fn plan(&self) -> Result<Plan, Problem> {
        let bytes = settings::read(&self.target.path).map_err(Problem::Read)?;
        let edit = edit_bytes(bytes.as_deref().unwrap_or_default(), self.interval)
            .map_err(Problem::Parse)?;
        Ok(Plan {
            exists: bytes.is_some(),
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
            Err(Problem::Read(e)) => Finding::fail(
                &id,
                format!("cannot read {path}: {e}"),
                format!("make {path} a readable file, then run rdock vscode"),
            ),
            Err(Problem::Parse(e)) => Finding::fail(
                &id,
                format!("{path} was left untouched: {e}"),
                format!(
                    "correct {path} at line {}, column {} (it must hold one JSON object), then run rdock vscode",
                    e.line, e.column
                ),
            ),
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
        let plan = self.plan().map_err(|problem| match problem {
            Problem::Read(e) => anyhow!("cannot read {shown}: {e}"),
            Problem::Parse(e) => anyhow!("{shown} was left untouched: {e}"),
        })?;
        let Edit::Changed { text, before } = plan.edit else {
            return Ok(Outcome::Done(format!("{KEY} was already set in {shown}")));
        };
        let path = &self.target.path;
        if self.target.explicit {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", s.env.tilde(dir)))?;
            }
        }
        fsutil::write_atomic(path, text.as_bytes(), NEW_FILE_MODE)?;
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
            let Ok(Some(bytes)) = settings::read(path) else {
                continue;
            };
            let Ok(overrides) = decode(&bytes).and_then(environment_overrides) else {
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
        let what: Vec<String> = found
            .iter()
            .map(|(o, path)| format!("\"{}\" sets {} in {path}", o.setting, o.variable))
            .collect();
        let fixes: Vec<String> = found
            .iter()
            .map(|(o, path)| format!("remove \"{}\" from \"{}\" in {path}", o.variable, o.setting))
            .collect();
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
