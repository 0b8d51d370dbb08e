//! The dockerd every test shares, and the docker CLIs the tests run rdock with.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::*;

/// A dockerd that runs no container, with its own data, exec root, pidfile and log under `dir`
/// (file names start with `prefix`), answering on `sock` for group `group`.
pub fn start_dockerd(dir: &Path, prefix: &str, sock: &Path, group: &str) -> Result<Child, String> {
    let log =
        fs::File::create(dir.join(format!("{prefix}dockerd.log"))).map_err(|e| e.to_string())?;
    let d = |p: &str| dir.join(format!("{prefix}{p}")).display().to_string();
    Command::new(which("dockerd").unwrap())
        .args([
            "--iptables=false",
            "--ip6tables=false",
            "--bridge=none",
            "--storage-driver=vfs",
        ])
        .arg(format!("--host=unix://{}", sock.display()))
        .arg(format!("--data-root={}", d("data")))
        .arg(format!("--exec-root={}", d("exec")))
        .arg(format!("--pidfile={}", d("docker.pid")))
        .arg(format!("--group={group}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start dockerd: {e}"))
}

/// Wait up to 90 s for the dockerd [`start_dockerd`] started to answer on `sock`.
pub fn wait_for_dockerd(dir: &Path, prefix: &str, sock: &Path) -> Result<(), String> {
    let host = format!("unix://{}", sock.display());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ok = Command::new("docker")
            .args(["-H", &host, "version"])
            .env("HOME", dir)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if ok {
            return Ok(());
        }
        if Instant::now() > deadline {
            let log =
                fs::read_to_string(dir.join(format!("{prefix}dockerd.log"))).unwrap_or_default();
            return Err(format!("dockerd did not answer within 90 s:\n{log}"));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

impl Shared {
    /// A copy of the docker CLI at `cli` that any user may run (made once per path), since the
    /// throwaway users may not reach the folder it is in.
    pub(super) fn docker_copy(&self, cli: &Path) -> PathBuf {
        static COPIES: Mutex<BTreeMap<PathBuf, PathBuf>> = Mutex::new(BTreeMap::new());
        let mut copies = COPIES.lock().unwrap_or_else(|e| e.into_inner());
        let n = copies.len();
        copies
            .entry(cli.to_path_buf())
            .or_insert_with(|| {
                let dir = self.dir.join(format!("docker-cli-{n}"));
                fs::create_dir(&dir).unwrap();
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
                let copy = dir.join("docker");
                fs::copy(cli, &copy).unwrap_or_else(|e| panic!("cannot copy {cli:?}: {e}"));
                fs::set_permissions(&copy, fs::Permissions::from_mode(0o755)).unwrap();
                copy
            })
            .clone()
    }
}

/// A docker CLI the end-to-end tests can run rdock with.
#[derive(Clone, Debug)]
pub struct DockerCli {
    pub path: PathBuf,
    /// What `docker --version` says, e.g. `Docker version 26.1.5+dfsg1, build a72d7cd`.
    pub version: String,
}

impl std::fmt::Display for DockerCli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.version, self.path.display())
    }
}

/// Debian 13's docker CLI, where scripts/docker-clis.sh unpacks it.
pub const DEBIAN13_DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/target/docker-clis/debian13/usr/bin/docker"
);

/// The docker CLIs to run rdock with: the paths in RDOCK_DOCKER_CLIS (separated by ':'), or else
/// Debian 12's /usr/bin/docker, Debian 13's [`DEBIAN13_DOCKER`] and /usr/local/bin/docker when
/// there is one (the newest here). A listed CLI that is missing or does not run fails the test.
pub fn docker_clis() -> Vec<DockerCli> {
    let (required, optional): (Vec<String>, Vec<String>) = match std::env::var("RDOCK_DOCKER_CLIS")
    {
        Ok(list) if !list.trim().is_empty() => (
            list.split(':')
                .filter(|p| !p.is_empty())
                .map(String::from)
                .collect(),
            Vec::new(),
        ),
        _ => (
            vec!["/usr/bin/docker".into(), DEBIAN13_DOCKER.into()],
            vec!["/usr/local/bin/docker".into()],
        ),
    };
    let mut clis: Vec<DockerCli> = Vec::new();
    let mut seen = Vec::new();
    for (path, needed) in required
        .iter()
        .map(|p| (p, true))
        .chain(optional.iter().map(|p| (p, false)))
    {
        let path = PathBuf::from(path);
        if !needed && !path.exists() {
            continue;
        }
        let version = Command::new(&path)
            .arg("--version")
            .output()
            .map_err(|e| e.to_string())
            .and_then(|o| {
                let text = String::from_utf8_lossy(&o.stdout).trim().to_string();
                if o.status.success() && !text.is_empty() {
                    Ok(text)
                } else {
                    Err(String::from_utf8_lossy(&o.stderr).trim().to_string())
                }
            });
        match version {
            Ok(version) => {
                // The same binary under two names is tested once.
                let real = fs::canonicalize(&path).unwrap_or(path.clone());
                if !seen.contains(&real) {
                    seen.push(real);
                    clis.push(DockerCli { path, version });
                }
            }
            Err(why) => panic!(
                "the docker CLI {} cannot run ({why}); scripts/docker-clis.sh prepares the matrix's CLIs",
                path.display()
            ),
        }
    }
    assert!(!clis.is_empty(), "no docker CLI to test");
    clis
}
