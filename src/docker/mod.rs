//! Docker contexts: names, the list and the current one (read from docker's context store, as
//! docker reads it), and the commands that create, update, use and remove them. The endpoint
//! rdock writes is always `ssh://user@host:port`, with an explicit user and port.

pub mod clients;

use std::time::Duration;

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};

use crate::ssh::destination::Destination;
use crate::sys::env::Env;
use crate::sys::exec::Cmd;
use crate::sys::fsutil;
use crate::sys::platform::Platform;

/// What `docker context create` gets as its description, so `rdock list` can tell its own.
pub const DESCRIPTION: &str = "managed by rdock";

/// docker's rule for context names: `^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$`.
pub fn follows_docker_rule(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c))
}

/// A name rdock may create: docker's rule, and not `default`, which is docker's own.
pub fn validate_name(name: &str) -> Result<(), BadContextName> {
    if !follows_docker_rule(name) {
        return Err(BadContextName::Invalid(name.to_string()));
    }
    if name == "default" {
        return Err(BadContextName::Default);
    }
    Ok(())
}

/// Why rdock will not create a context of this name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadContextName {
    /// It breaks docker's rule.
    #[error("invalid context name {0:?}: docker needs ^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$; pick another with --name")]
    Invalid(String),
    /// `default` is docker's own.
    #[error("the context name \"default\" is docker's own; pick another with --name")]
    Default,
}

/// One docker context, as docker's context store holds it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ContextInfo {
    pub name: String,
    pub endpoint: String,
    /// It is the context config.json names (`docker context use`), whatever the environment says.
    pub current: bool,
    pub description: String,
}

impl ContextInfo {
    pub fn is_ssh(&self) -> bool {
        self.endpoint.starts_with("ssh://")
    }
}

/// docker's own configuration folder: `DOCKER_CONFIG`, else `~/.docker`.
pub fn config_dir(env: &Env) -> Option<PathBuf> {
    env.var("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".docker")))
}

/// A context's files are small; a larger one is not docker's.
const MAX_STORE_FILE: u64 = 1 << 20;

/// The JSON in one of docker's files, None when the file does not exist.
fn read_json(path: &Path) -> Result<Option<serde_json::Value>> {
    let Some(bytes) = fsutil::read_optional(path, MAX_STORE_FILE)
        .with_context(|| format!("cannot read {}", path.display()))?
    else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .with_context(|| format!("{} is not the JSON docker writes", path.display()))
}

/// The context `docker context use` chose: config.json's `currentContext`, else `default`.
pub fn configured_current(env: &Env) -> Result<String> {
    let Some(dir) = config_dir(env) else {
        return Ok(DEFAULT.into());
    };
    let current = read_json(&dir.join("config.json"))?
        .and_then(|v| v.get("currentContext")?.as_str().map(str::to_string))
        .filter(|name| !name.is_empty());
    Ok(current.unwrap_or_else(|| DEFAULT.into()))
}

/// The context docker would use, by its documented precedence after a `--context` flag and
/// `DOCKER_HOST` (which bypasses contexts altogether; the environment check reports it):
/// `DOCKER_CONTEXT`, then config.json's `currentContext`.
pub fn chosen_context(env: &Env) -> Result<String> {
    match env.var("DOCKER_CONTEXT") {
        Some(name) => Ok(name),
        None => configured_current(env),
    }
}

/// docker's own context, always there.
pub const DEFAULT: &str = "default";

/// The endpoint of docker's `default` context when DOCKER_HOST is not set, on this OS.
fn default_endpoint(env: &Env) -> &'static str {
    match env.platform {
        Platform::Windows => "npipe:////./pipe/docker_engine",
        _ => "unix:///var/run/docker.sock",
    }
}

/// Every docker context, read from docker's context store as docker reads it
/// (`contexts/meta/*/meta.json` in [`config_dir`]), with `default` first. No docker process is
/// started: a current context whose host is dead cannot hold this up. A context whose file cannot
/// be read is left out ([`store`] names it): one bad context must not stop work on the others.
pub fn list(env: &Env) -> Result<Vec<ContextInfo>> {
    Ok(store(env)?.contexts)
}

/// docker's context store: the contexts rdock could read, and why each other one was skipped.
#[derive(Debug, Default)]
pub struct Store {
    pub contexts: Vec<ContextInfo>,
    /// One line per context file that was not the JSON docker writes (too large, not a regular
    /// file, not JSON), naming the file.
    pub skipped: Vec<String>,
}

/// [`list`], with the contexts it skipped.
pub fn store(env: &Env) -> Result<Store> {
    let current = configured_current(env)?;
    let mut contexts = vec![ContextInfo {
        name: DEFAULT.into(),
        endpoint: default_endpoint(env).into(),
        current: current == DEFAULT,
        description: "Current DOCKER_HOST based configuration".into(),
    }];
    let Some(meta) = config_dir(env).map(|d| d.join("contexts").join("meta")) else {
        return Ok(Store::of(contexts));
    };
    let entries = match std::fs::read_dir(&meta) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Store::of(contexts)),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", meta.display())),
    };
    let mut found: Vec<ContextInfo> = Vec::new();
    let mut skipped = Vec::new();
    for entry in entries.flatten() {
        let v = match read_json(&entry.path().join("meta.json")) {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => {
                skipped.push(format!("skipped a docker context: {e:#}"));
                continue;
            }
        };
        let text =
            |v: Option<&serde_json::Value>| v.and_then(|x| x.as_str()).unwrap_or("").to_string();
        let name = text(v.get("Name"));
        if name.is_empty() {
            continue;
        }
        found.push(ContextInfo {
            current: name == current,
            endpoint: text(v.pointer("/Endpoints/docker/Host")),
            description: text(v.pointer("/Metadata/Description")),
            name,
        });
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    contexts.extend(found);
    skipped.sort();
    Ok(Store { contexts, skipped })
}

impl Store {
    fn of(contexts: Vec<ContextInfo>) -> Store {
        Store {
            contexts,
            skipped: Vec::new(),
        }
    }
}

/// The docker endpoint of a context, or None when there is no such context.
pub fn endpoint_of(env: &Env, name: &str) -> Result<Option<String>> {
    Ok(list(env)?
        .into_iter()
        .find(|c| c.name == name)
        .map(|c| c.endpoint))
}

/// `docker` for local work (the version, creating, switching and removing contexts): always on
/// the `default` context, without DOCKER_HOST or DOCKER_CONTEXT, so that no CLI (those before
/// 23.0 dial the current context on every call) can wait on a remote host to do it.
fn local() -> Cmd {
    Cmd::new("docker")
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .args(["--context", DEFAULT])
}

/// A docker CLI version: (major, minor, patch).
pub type Version = (u32, u32, u32);

/// The version in `docker --version`'s answer ("Docker version 20.10.24+dfsg1, build 297e128").
pub fn parse_version(text: &str) -> Option<Version> {
    let word = text.split_whitespace().nth(2)?.trim_end_matches(',');
    let mut parts = word
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()?.unwrap_or(0)))
}

/// Does this CLI dial the current context on every call, even `docker --version`? Before 23.0 it
/// does; 23.0.0–23.0.6 and 24.0.0–24.0.5 still do whenever a flag such as `--format` is given.
pub fn dials_on_every_call(v: Version) -> bool {
    v < (23, 0, 7) || ((24, 0, 0)..(24, 0, 6)).contains(&v)
}

/// The first CLI that takes a socket path in an ssh:// endpoint.
pub const SOCKET_PATH_FROM: Version = (24, 0, 0);

pub fn show_version(v: Version) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// The variable that overrides context `name`, if any, from an environment lookup.
pub fn env_override(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<(&'static str, String)> {
    let set = |var: &str| env(var).filter(|v| !v.is_empty());
    if let Some(host) = set("DOCKER_HOST") {
        return Some(("DOCKER_HOST", host));
    }
    set("DOCKER_CONTEXT")
        .filter(|ctx| ctx != name)
        .map(|ctx| ("DOCKER_CONTEXT", ctx))
}

/// `docker --version`: the CLI's own version, asked of no daemon.
pub fn version_cmd() -> Cmd {
    local().arg("--version")
}

/// `docker compose version --short`: compose v2's version, when the plugin is installed.
pub fn compose_version_cmd() -> Cmd {
    local().args(["compose", "version", "--short"])
}

/// `docker context create NAME` (or `update`, for a context that exists) with rdock's
/// description and the endpoint.
pub fn create_cmd(name: &str, endpoint: &str, update: bool) -> Cmd {
    let action = if update { "update" } else { "create" };
    local()
        .args(["context", action, "--description", DESCRIPTION, "--docker"])
        .arg(format!("host={endpoint}"))
        .arg("--")
        .arg(name)
        .changes()
}

/// `docker context use NAME`.
pub fn use_cmd(name: &str) -> Cmd {
    local().args(["context", "use", "--"]).arg(name).changes()
}

/// `docker context rm NAME`.
pub fn rm_cmd(name: &str) -> Cmd {
    local().args(["context", "rm", "--"]).arg(name).changes()
}

/// `docker --context NAME version`, for the server's version alone.
pub fn server_version_cmd(name: &str, timeout: Duration) -> Cmd {
    Cmd::new("docker")
        .arg("--context")
        .arg(name)
        .args(["version", "--format", "{{.Server.Version}}"])
        .timeout(timeout)
}

/// A docker context name derived from the destination: the host (and the port when one was
/// given and is not 22), with anything docker does not allow turned into '-'.
pub fn default_context_name(dest: &Destination) -> String {
    let mut name: String = dest
        .host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if let Some(port) = dest.port.filter(|p| *p != 22) {
        name.push_str(&format!("-{port}"));
    }
    // "a", "0" or "default" are hosts, but not names docker (or rdock) accepts.
    if validate_name(&name).is_err() {
        name.insert_str(0, "ssh-");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Destination {
        Destination::parse(input).unwrap()
    }

    #[test]
    fn context_names_follow_docker_rules() {
        assert_eq!(
            default_context_name(&ok("u@127.0.0.1:2222")),
            "127.0.0.1-2222"
        );
        assert_eq!(default_context_name(&ok("box")), "box");
        assert_eq!(default_context_name(&ok("u@[::1]:22")), "ssh---1");
        assert_eq!(default_context_name(&ok("box:22")), "box");
        assert_eq!(default_context_name(&ok("a")), "ssh-a");
        assert_eq!(default_context_name(&ok("u@default")), "ssh-default");
    }

    #[test]
    fn docker_host_or_another_context_in_the_environment_overrides() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(env_override("box", &env(&[])), None);
        assert_eq!(
            env_override("box", &env(&[("DOCKER_CONTEXT", "box")])),
            None
        );
        assert_eq!(
            env_override("box", &env(&[("DOCKER_CONTEXT", "other")])),
            Some(("DOCKER_CONTEXT", "other".into()))
        );
        assert_eq!(
            env_override("box", &env(&[("DOCKER_HOST", "tcp://x:2375")])),
            Some(("DOCKER_HOST", "tcp://x:2375".into()))
        );
        assert_eq!(env_override("box", &env(&[("DOCKER_HOST", "")])), None);
    }

    /// A context store as docker 28 writes it (`docker context create`, `docker context use`).
    fn store(current: Option<&str>) -> (tempfile::TempDir, Env) {
        let dir = tempfile::tempdir().unwrap();
        let docker = dir.path().join(".docker");
        let meta = docker
            .join("contexts/meta/f38a1edba91098e590dbe6b66a07c374fdc6ff074aaa890828f1c7926e8a9ebd");
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"ctxa","Metadata":{"Description":"managed by rdock"},"Endpoints":{"docker":{"Host":"ssh://u@h:2222","SkipTLSVerify":false}}}"#,
        )
        .unwrap();
        let config = match current {
            Some(name) => format!("{{\n\t\"auths\": {{}},\n\t\"currentContext\": \"{name}\"\n}}"),
            None => "{\"auths\": {}}".into(),
        };
        std::fs::write(docker.join("config.json"), config).unwrap();
        let env = Env::new(Platform::Linux, dir.path());
        (dir, env)
    }

    #[test]
    fn contexts_are_read_from_docker_s_store_without_running_docker() {
        let (dir, env) = store(Some("ctxa"));
        let list = list(&env).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].name, "default");
        assert!(!list[0].current && !list[0].is_ssh());
        // docker's own `default` endpoint, as `docker context ls` shows it on each OS.
        assert_eq!(list[0].endpoint, "unix:///var/run/docker.sock");
        let windows = Env::new(Platform::Windows, dir.path());
        assert_eq!(
            super::list(&windows).unwrap()[0].endpoint,
            "npipe:////./pipe/docker_engine"
        );
        assert_eq!(list[1].name, "ctxa");
        assert_eq!(list[1].endpoint, "ssh://u@h:2222");
        assert!(list[1].current && list[1].is_ssh());
        assert_eq!(list[1].description, DESCRIPTION);
        assert_eq!(
            endpoint_of(&env, "ctxa").unwrap().as_deref(),
            Some("ssh://u@h:2222")
        );
        assert_eq!(endpoint_of(&env, "nope").unwrap(), None);
    }

    #[test]
    fn the_current_context_follows_docker_s_precedence() {
        let (_dir, env) = store(None);
        assert_eq!(configured_current(&env).unwrap(), "default");
        let (dir, env) = store(Some("ctxa"));
        assert_eq!(chosen_context(&env).unwrap(), "ctxa");
        let with = env.clone().with_var("DOCKER_CONTEXT", "other");
        assert_eq!(chosen_context(&with).unwrap(), "other");
        assert_eq!(configured_current(&with).unwrap(), "ctxa");
        // DOCKER_CONFIG moves the whole store.
        let moved = Env::new(Platform::Linux, "/nonexistent").with_var(
            "DOCKER_CONFIG",
            dir.path().join(".docker").to_str().unwrap(),
        );
        assert_eq!(configured_current(&moved).unwrap(), "ctxa");
        let nothing = Env::new(Platform::Linux, "/nonexistent");
        assert_eq!(list(&nothing).unwrap().len(), 1, "only default");
    }

    #[test]
    fn a_broken_store_file_is_an_error_that_names_it() {
        let (dir, env) = store(Some("ctxa"));
        std::fs::write(dir.path().join(".docker/config.json"), "{not json").unwrap();
        let err = configured_current(&env).unwrap_err();
        assert!(
            format!("{err:#}").contains("config.json is not the JSON docker writes"),
            "{err:#}"
        );
    }

    #[test]
    fn a_store_folder_that_cannot_be_listed_is_an_error_that_names_it() {
        // No store at all is a fresh docker; one that is there but cannot be listed is not.
        let (dir, env) = store(Some("ctxa"));
        let meta = dir.path().join(".docker/contexts/meta");
        std::fs::remove_dir_all(&meta).unwrap();
        std::fs::write(&meta, "").unwrap();
        let err = list(&env).unwrap_err();
        let shown = format!("{err:#}");
        assert!(
            shown.contains(&format!("cannot read {}", meta.display())),
            "{shown}"
        );
    }

    #[test]
    fn one_unreadable_context_is_skipped_and_named_and_the_others_listed() {
        let (dir, env) = store(Some("ctxa"));
        let meta = dir.path().join(".docker/contexts/meta");
        let big = meta.join("0000big");
        std::fs::create_dir_all(&big).unwrap();
        let huge = format!(
            r#"{{"Name":"big","Metadata":{{"Description":"{}"}},"Endpoints":{{}}}}"#,
            "x".repeat(MAX_STORE_FILE as usize)
        );
        std::fs::write(big.join("meta.json"), huge).unwrap();
        let bad = meta.join("0000bad");
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(bad.join("meta.json"), "{not json").unwrap();
        let names: Vec<String> = list(&env).unwrap().into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["default", "ctxa"]);
        let skipped = super::store(&env).unwrap().skipped;
        assert_eq!(skipped.len(), 2, "{skipped:?}");
        assert!(
            skipped[0].contains("0000bad/meta.json is not the JSON docker writes"),
            "{skipped:?}"
        );
        assert!(
            skipped[1].contains("0000big/meta.json") && skipped[1].contains("larger than"),
            "{skipped:?}"
        );
    }

    #[test]
    fn versions_are_read_and_the_dialing_ones_known() {
        assert_eq!(
            parse_version("Docker version 20.10.24+dfsg1, build 297e128"),
            Some((20, 10, 24))
        );
        assert_eq!(
            parse_version("Docker version 28.2.2, build e6534b4"),
            Some((28, 2, 2))
        );
        assert_eq!(
            parse_version("Docker version 26.1.5+dfsg1, build a72d7cd"),
            Some((26, 1, 5))
        );
        assert_eq!(parse_version("nonsense"), None);
        for dials in [(20, 10, 24), (23, 0, 6), (24, 0, 5), (24, 0, 0)] {
            assert!(dials_on_every_call(dials), "{dials:?}");
        }
        for fine in [(23, 0, 7), (24, 0, 6), (25, 0, 0), (26, 1, 5), (28, 2, 2)] {
            assert!(!dials_on_every_call(fine), "{fine:?}");
        }
    }

    #[test]
    fn local_docker_calls_never_dial_the_current_context() {
        for cmd in [
            version_cmd(),
            compose_version_cmd(),
            use_cmd("x"),
            rm_cmd("x"),
            create_cmd("x", "ssh://u@h:22", false),
        ] {
            assert!(
                cmd.display().starts_with("docker --context default "),
                "{}",
                cmd.display()
            );
        }
    }

    #[test]
    fn context_names_follow_docker_rule() {
        for good in ["box", "127.0.0.1-2222", "a_b+c.d-e", "A1"] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "-x", "../x", "default", "a b", "a/b", ".hidden", "x;y", "é1",
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
