#!/usr/bin/env bash
# The docker clients other than the docker CLI that the end-to-end tests run (tests/e2e/clients.rs),
# installed from their registries at the versions pinned in tests/clients/, and their versions
# printed. scripts/test.sh calls it; it may also be run alone.
#   - npm's dockerode (with docker-modem and ssh2): `npm ci` of tests/clients/package-lock.json
#     into target/clients/node;
#   - PyPI's docker (docker-py) with paramiko: a venv at target/clients/venv made by Debian's own
#     python3 (not a pyenv one under /root: the tests run the clients as a throwaway user), with
#     tests/clients/requirements.txt.
# Docker compose v2 comes with Debian 13's docker CLI (scripts/docker-clis.sh).
# Idempotent and quick on a rerun: each install is kept while the file that pins it is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

pins=tests/clients
dest=target/clients
python=/usr/bin/python3

fail() {
  echo "scripts/clients.sh: $*" >&2
  exit 1
}

# What is missing of Debian's node, npm and python3 venv (root installs it).
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
{ [ -x "$python" ] && "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; } || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || fail "${need[*]} missing, and only root can install them"
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

# stamp FILE: the checksum of the file that pins an install, kept beside the install.
stamp() { sha256sum "$1" | cut -d' ' -f1; }

mkdir -p "$dest"
# dockerode: `npm ci` installs exactly the lockfile. --ignore-scripts: ssh2's optional native
# crypto binding is not built (ssh2 then uses node's own crypto), so no compiler is needed.
node_dir=$dest/node
if [ "$(cat "$node_dir/.pins" 2>/dev/null)" != "$(stamp "$pins/package-lock.json")" ]; then
  echo "installing dockerode into $node_dir"
  rm -rf "$node_dir"
  mkdir -p "$node_dir"
  cp "$pins/package.json" "$pins/package-lock.json" "$node_dir/"
  log="$(mktemp)"
  npm ci --prefix "$node_dir" --ignore-scripts --no-audit --no-fund >"$log" 2>&1 || {
    cat "$log" >&2
    rm -f "$log"
    fail "npm ci failed (its log above)"
  }
  rm -f "$log"
  stamp "$pins/package-lock.json" >"$node_dir/.pins"
fi

# docker-py and paramiko in a venv.
venv=$dest/venv
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$(stamp "$pins/requirements.txt")" ] ||
  ! "$venv/bin/python" -c 'import docker, paramiko' >/dev/null 2>&1; then
  echo "installing docker-py and paramiko into $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  log="$(mktemp)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$pins/requirements.txt" >"$log" 2>&1 || {
    cat "$log" >&2
    rm -f "$log"
    fail "pip install failed (its log above)"
  }
  rm -f "$log"
  stamp "$pins/requirements.txt" >"$venv/.pins"
fi

echo "docker clients of tests/e2e/clients.rs:"
echo "  node $(node --version): $(cd "$node_dir" && node -e '
  for (const m of ["dockerode", "docker-modem", "ssh2"])
    process.stdout.write(`${m} ${require(`${m}/package.json`).version}${m === "ssh2" ? "" : ", "}`)')"
echo "  $("$venv/bin/python" --version): $("$venv/bin/python" -c '
import importlib.metadata as m
print(", ".join(f"{p} {m.version(p)}" for p in ("docker", "paramiko", "cryptography")))')"
