//! Fake `ssh`, `ssh-keygen`, `ssh-add`, `ssh-keyscan`, `docker`, `sh` and `bash`: one shell script
//! under every name, on a PATH of their own, that records each call (argv, and what a
//! key-installing `ssh` got on stdin) and answers just enough for setup to go through, from state
//! kept in a directory. A call recorded is a command rdock ran.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The public key blob every fake tool agrees on.
pub const BLOB: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6ixu3nrKF/pkxESXxZUgEiVktgp6sNuxxmpJ0J/CWe";

/// One fake tool for every name: records `argv[0]`'s base name and every argument, NUL-separated,
/// in a file of its own under $FAKE_LOG (and the stdin of a key-installing ssh next to it), then
/// answers as the real tool would, from state kept in $FAKE_STATE.
const FAKE_TOOL: &str = r#"#!/bin/sh
prog=${0##*/}
n=$$; while ! (set -C; : > "$FAKE_LOG/call$n") 2>/dev/null; do n=$n.x; done
f=$FAKE_LOG/call$n
printf '%s\0' "$prog" "$@" > "$f"
S=$FAKE_STATE
has() { w=$1; shift; for a in "$@"; do [ "$a" = "$w" ] && return 0; done; return 1; }
after() { w=$1; shift; while [ $# -gt 1 ]; do [ "$1" = "$w" ] && { printf '%s' "$2"; return 0; }; shift; done; return 1; }
last() { l=; for a in "$@"; do l=$a; done; printf '%s' "$l"; }
case $prog in
ssh)
  if has -V "$@"; then echo "OpenSSH_9.2p1 fake" >&2; exit 0; fi
  user=$(after -l "$@") || user=nobody
  port=$(after -p "$@") || port=22
  host=$(after -- "$@")
  if has -G "$@"; then
    printf 'user %s\nhostname %s\nport %s\nidentityfile ~/.ssh/id_ed25519\nuserknownhostsfile ~/.ssh/known_hosts\nglobalknownhostsfile /nonexistent/ssh_known_hosts\nhashknownhosts no\n' "$user" "$host" "$port"
    exit 0
  fi
  if has StrictHostKeyChecking=accept-new "$@"; then
    for a in "$@"; do case $a in UserKnownHostsFile=*) echo "[$host]:$port ssh-ed25519 $FAKE_BLOB" > "${a#UserKnownHostsFile=}";; esac; done
    echo "$user@$host: Permission denied (publickey)." >&2; exit 255
  fi
  if has PubkeyAuthentication=no "$@"; then
    /bin/cat > "$f.stdin"; /bin/cp "$f.stdin" "$S/authorized"; echo rdock-key-added; exit 0
  fi
  if [ ! -f "$S/authorized" ]; then echo "$user@$host: Permission denied (publickey)." >&2; exit 255; fi
  printf 'rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=0\nrdock-socket=\nrdock-socket-version=\n28.0.0\nrdock-probe-2-end\n'
  exit 0;;
ssh-keygen)
  if has -F "$@"; then file=$(after -f "$@"); [ -f "$file" ] && { /bin/cat "$file"; exit 0; }; exit 1; fi
  if has -l "$@"; then /bin/cat > /dev/null; echo "256 SHA256:fakefingerprint host (ED25519)"; exit 0; fi
  if has -y "$@"; then echo "ssh-ed25519 $FAKE_BLOB fake"; exit 0; fi
  if has -t "$@"; then
    key=$(after -f "$@")
    (umask 077; printf -- '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAfake\n-----END OPENSSH PRIVATE KEY-----\n' > "$key")
    echo "ssh-ed25519 $FAKE_BLOB fake" > "$key.pub"
    exit 0
  fi
  exit 99;;
ssh-add)
  case ${1-} in
  -l) [ -f "$S/agent" ] && { echo "256 SHA256:fakefingerprint fake (ED25519)"; exit 0; }; echo "The agent has no identities."; exit 1;;
  -L) [ -f "$S/agent" ] && { /bin/cat "$S/agent"; exit 0; }; echo "The agent has no identities."; exit 1;;
  *) /bin/cat "$(last "$@").pub" > "$S/agent" && exit 0; exit 1;;
  esac;;
ssh-keyscan) echo "$(last "$@") ssh-ed25519 $FAKE_BLOB"; exit 0;;
docker)
  # Local calls come as `docker --context default …`; contexts live in docker's own store.
  if [ "$1" = --context ] && [ "$2" = default ]; then shift 2; fi
  D=${DOCKER_CONFIG:-$HOME/.docker}
  case "$*" in
  --version) echo "Docker version 28.0.0, build fake"; exit 0;;
  "context create"*|"context update"*)
    name=$(last "$@"); h=$(after --docker "$@"); /bin/mkdir -p "$D/contexts/meta/$name"
    printf '{"Name":"%s","Metadata":{"Description":"managed by rdock"},"Endpoints":{"docker":{"Host":"%s"}}}' "$name" "${h#host=}" > "$D/contexts/meta/$name/meta.json"
    echo "$name"; exit 0;;
  "context use"*) /bin/mkdir -p "$D"; printf '{"currentContext":"%s"}' "$(last "$@")" > "$D/config.json"; exit 0;;
  "context rm"*) /bin/rm -r "$D/contexts/meta/$(last "$@")"; exit 0;;
  "--context "*) echo 28.0.0; exit 0;;
  esac
  exit 99;;
esac
echo "fake $prog: rdock must not run this" >&2
exit 99
"#;

/// The programs a run may find on PATH: all fakes.
pub const TOOLS: [&str; 7] = [
    "ssh",
    "ssh-keygen",
    "ssh-add",
    "ssh-keyscan",
    "docker",
    "sh",
    "bash",
];

/// The fake tools of one test: `bin` goes on PATH, `log` gets the calls, `state` holds what the
/// fakes remember (keys authorized, the agent, contexts, the current context).
pub struct FakeTools {
    pub bin: PathBuf,
    pub log: PathBuf,
    pub state: PathBuf,
}

impl FakeTools {
    /// Make the three directories and put the script in `bin` under every name in [`TOOLS`].
    pub fn install(bin: PathBuf, log: PathBuf, state: PathBuf) -> FakeTools {
        for dir in [&bin, &log, &state] {
            fs::create_dir(dir).unwrap();
        }
        let fake = bin.join("fake-tool");
        fs::write(&fake, FAKE_TOOL).unwrap();
        fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
        for tool in TOOLS {
            std::os::unix::fs::symlink("fake-tool", bin.join(tool)).unwrap();
        }
        FakeTools { bin, log, state }
    }

    /// PATH holding only the fakes, and the variables they read. docker's context store is in
    /// the state directory (DOCKER_CONFIG), so a run leaves the home as it was.
    pub fn env<'a>(&self, cmd: &'a mut Command) -> &'a mut Command {
        cmd.env("PATH", &self.bin)
            .env("FAKE_LOG", &self.log)
            .env("FAKE_STATE", &self.state)
            .env("FAKE_BLOB", BLOB)
            .env("DOCKER_CONFIG", self.state.join("docker"))
    }

    /// A docker context someone made, current or not, as docker's store holds it.
    pub fn plant_context(&self, name: &str, endpoint: &str, current: bool) {
        let docker = self.state.join("docker");
        let meta = docker.join("contexts/meta").join(name);
        fs::create_dir_all(&meta).unwrap();
        let json = serde_json::json!({
            "Name": name,
            "Metadata": {"Description": ""},
            "Endpoints": {"docker": {"Host": endpoint}},
        });
        fs::write(meta.join("meta.json"), json.to_string()).unwrap();
        if current {
            fs::write(
                docker.join("config.json"),
                serde_json::json!({"currentContext": name}).to_string(),
            )
            .unwrap();
        }
    }

    /// Every command rdock ran: argv, program name first.
    pub fn calls(&self) -> Vec<Vec<String>> {
        let mut files: Vec<PathBuf> = self
            .recorded()
            .filter(|p| p.extension().is_none_or(|x| x != "stdin"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| {
                let bytes = fs::read(f).unwrap();
                let mut argv: Vec<String> = bytes
                    .split(|b| *b == 0)
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect();
                argv.pop(); // after the last NUL
                argv
            })
            .collect()
    }

    /// What the ssh calls that installed a key read on stdin.
    pub fn ssh_stdin(&self) -> Vec<String> {
        self.recorded()
            .filter(|p| p.extension().is_some_and(|x| x == "stdin"))
            .map(|p| fs::read_to_string(p).unwrap())
            .collect()
    }

    fn recorded(&self) -> impl Iterator<Item = PathBuf> {
        fs::read_dir(Path::new(&self.log))
            .unwrap()
            .flatten()
            .map(|e| e.path())
    }
}
