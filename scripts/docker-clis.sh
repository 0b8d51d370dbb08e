#!/usr/bin/env bash
# The docker CLIs the matrix tests (tests/e2e/docker_clis.rs) run rdock with, ready, and their versions
# printed. scripts/test.sh calls it; it may also be run alone.
#   - Debian 12's /usr/bin/docker (docker.io, which scripts/test.sh installs);
#   - Debian 13's docker-cli, unpacked (never installed) into target/docker-clis/debian13/, with
#     apt's own client and a private sources list, lists and cache, so the system's apt state and
#     packages stay as they are; Debian 13's docker-compose (compose v2, a CLI plugin:
#     usr/libexec/docker/cli-plugins/docker-compose) beside it, for tests/e2e/clients.rs;
#   - /usr/local/bin/docker, when there is one.
# RDOCK_DOCKER_CLIS (paths separated by ':') replaces that list, as it does for the tests.
# Quiet and idempotent: a cached CLI that runs is kept and nothing is fetched. When the fetch or a
# required CLI fails, it says why (apt's log included) and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=target/docker-clis
debian13=$cache/debian13
compose=usr/libexec/docker/cli-plugins/docker-compose
suite=trixie
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

fail() {
  echo "scripts/docker-clis.sh: $*" >&2
  exit 1
}

# The machine's own Debian mirror: the first deb URI ending in /debian, from deb822 .sources files
# or one-line sources.list entries; deb.debian.org when there is none.
debian_mirror() {
  local files=(/etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list)
  local uri
  uri="$(cat "${files[@]}" 2>/dev/null |
    sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' |
    tr ' ' '\n' | grep -m1 -E '/debian/?$' || true)"
  echo "${uri:-http://deb.debian.org/debian}"
}

# Fetch Debian 13's docker-cli and docker-compose .debs and unpack them into $debian13 (replaced
# whole, by a rename).
fetch_debian13() {
  command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
    fail "apt-get and dpkg-deb are needed to fetch Debian 13's docker-cli"
  [ -r "$keyring" ] || fail "$keyring is missing (apt-get install debian-archive-keyring)"
  mkdir -p "$cache"
  local work
  work="$(mktemp -d "$cache/fetch.XXXXXX")"
  # shellcheck disable=SC2064 # the path is fixed now
  trap "rm -rf '$work'" EXIT
  # apt drops to user _apt to download: let it reach and write the download folders.
  chmod 755 "$work"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/deb"
  if id _apt >/dev/null 2>&1; then chown _apt "$work/deb"; fi
  local mirror
  mirror="$(debian_mirror)"
  # debian-archive-keyring holds trixie's signing keys (debian-archive-trixie-*.gpg).
  printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" >"$work/sources.list"
  local apt=(
    -o "Dir::Etc::sourcelist=$PWD/$work/sources.list"
    -o Dir::Etc::sourceparts=/dev/null
    -o "Dir::State::Lists=$PWD/$work/lists"
    -o "Dir::Cache=$PWD/$work/cache"
    -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false
    -o Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false
  )
  # A snapshot mirror serves Release files whose Valid-Until has passed.
  case "$mirror" in *snapshot.debian.org*) apt+=(-o Acquire::Check-Valid-Until=false) ;; esac
  local log=$work/apt.log
  {
    echo "\$ apt-get update (sources: $(cat "$work/sources.list"))"
    apt-get "${apt[@]}" --error-on=any update &&
      echo "\$ apt-get download docker-cli docker-compose" &&
      (cd "$work/deb" && apt-get "${apt[@]}" download docker-cli docker-compose)
  } >"$log" 2>&1 || {
    cat "$log" >&2
    fail "could not fetch docker-cli and docker-compose from $mirror $suite (apt's log above)"
  }
  local deb debs=()
  for package in docker-cli docker-compose; do
    deb="$(find "$work/deb" -name "${package}_*.deb" | head -n1)"
    [ -n "$deb" ] || fail "apt-get download left no ${package}_*.deb"
    dpkg-deb -x "$deb" "$work/root"
    debs+=("$(basename "$deb")")
  done
  "$work/root/usr/bin/docker" --version >/dev/null ||
    fail "${debs[0]} does not run here"
  "$work/root/$compose" version >/dev/null ||
    fail "${debs[1]} does not run here"
  printf '%s\n' "${debs[@]}" >"$work/root/source"
  rm -rf "$debian13"
  mv "$work/root" "$debian13"
  rm -rf "$work"
  trap - EXIT
}

if ! "$debian13/usr/bin/docker" --version >/dev/null 2>&1 ||
  ! "$debian13/$compose" version >/dev/null 2>&1; then
  echo "fetching Debian 13's docker-cli and docker-compose into $debian13"
  fetch_debian13
fi

# The list the tests run, as tests/harness/dockerd.rs makes it: "PATH" is required, "PATH?" is optional.
if [ -n "${RDOCK_DOCKER_CLIS:-}" ]; then
  IFS=: read -r -a clis <<<"$RDOCK_DOCKER_CLIS"
else
  clis=(/usr/bin/docker "$debian13/usr/bin/docker" "/usr/local/bin/docker?")
fi
echo "docker CLIs of the matrix:"
for cli in "${clis[@]}"; do
  optional=
  case "$cli" in *\?) optional=1 cli=${cli%\?} ;; esac
  if version="$("$cli" --version 2>&1)"; then
    echo "  $cli: $version"
  elif [ -n "$optional" ] && [ ! -e "$cli" ]; then
    echo "  $cli: not on this machine (optional)"
  else
    fail "the docker CLI $cli does not run: $version"
  fi
done
echo "compose v2 (a docker CLI plugin) for tests/e2e/clients.rs: $("$debian13/$compose" version)"
