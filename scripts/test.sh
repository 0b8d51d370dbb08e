#!/usr/bin/env bash
# The whole test suite, as README.md gives it and .ci/run calls it.
# On a fresh Debian machine, as root: installs what the tests need (openssh-server, docker.io, tmux,
# procps, sudo, zsh, fish, tcsh; Debian 13's docker CLI for the CLI matrix and its compose v2,
# through scripts/docker-clis.sh; node, npm, python3-venv and the pinned dockerode and docker-py
# (with paramiko) that tests/e2e/clients.rs runs, through scripts/clients.sh; for the Windows checks
# the rust targets, gcc-mingw-w64-x86-64 and wine64), then runs cargo fmt --check, clippy with
# -D warnings (Linux, macOS and Windows targets), the Windows binary under wine64, and every test
# with the end-to-end tier included and every tool required (RDOCK_E2E=1), and fails unless every
# end-to-end test that exists ran.
set -euo pipefail
cd "$(dirname "$0")/.."

# apt_install [APT-OPTIONS] -- PACKAGE...: install what is missing (root only), quietly.
apt_install() {
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  [ $# -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: $* missing, and only root can install them" >&2
    exit 1
  fi
  echo "installing $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${opts[@]}" "$@" >/dev/null
}

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
# docker.io: the test daemon, and Debian 12's docker CLI (/usr/bin/docker) for the CLI matrix.
{ command -v dockerd >/dev/null 2>&1 && [ -x /usr/bin/docker ]; } || need+=(docker.io)
# tmux: the real terminal the hostile-remote test reads the title and clipboard of; procps: pkill.
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v pkill >/dev/null 2>&1 || need+=(procps)
# zsh, fish, tcsh: login shells the remote scripts must pass through (tests/authorized_keys.rs,
# tests/e2e/remote_shell.rs; bash and dash are Debian's own), zsh also one whose ~/.zshenv setup
# edits; sudo: the remote repair through `sudo -n usermod`.
for shell in zsh fish tcsh; do command -v "$shell" >/dev/null 2>&1 || need+=("$shell"); done
command -v sudo >/dev/null 2>&1 || need+=(sudo)
# shellcheck: the remote scripts (src/ssh/scripts/*.sh) are checked as POSIX sh.
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
# iptables: the ProxyJump test keeps the local user from reaching the target directly.
command -v iptables >/dev/null 2>&1 || need+=(iptables)
apt_install -- "${need[@]}"
# The docker CLIs the matrix tests run rdock with (Debian 13's docker-cli, fetched once into
# target/docker-clis/), and their versions.
bash scripts/docker-clis.sh
# The docker clients other than the CLI (npm's dockerode, PyPI's docker with paramiko), pinned in
# tests/clients/ and installed into target/clients/, and their versions.
bash scripts/clients.sh
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
echo "== shellcheck -s sh: the remote scripts"
shellcheck -s sh -x src/ssh/scripts/*.sh

# Cross-target checks: every OS branch is unit-tested on Linux through Platform; this
# proves the code that only Windows and macOS compile is clean too, and runs the Windows binary.
echo "== cross-target: clippy -D warnings for Windows and macOS"
for target in x86_64-pc-windows-gnu x86_64-apple-darwin; do
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
done
# clippy type-checks everything cargo check does, and lints it. The end-to-end test modules are
# cfg(unix) (they drive real Unix users); everything else compiles for both.
for target in x86_64-apple-darwin x86_64-pc-windows-gnu; do
  cargo clippy --quiet --target "$target" --all-targets -- -D warnings
done

echo "== the release binary holds no scripted double"
# Exec::scripted (src/sys/exec/script.rs) is test code: only the `testing` feature, which the
# tests turn on through rdock's dev-dependency on itself, compiles it. Its message for an
# unscripted command is in every binary that holds it (Exec::run reaches it), so a release build
# must not contain it; the first grep keeps this check from passing because the message changed.
marker='no scripted reply for'
grep -qF "$marker" src/sys/exec/script.rs || { echo "src/sys/exec/script.rs no longer says '$marker': update scripts/test.sh" >&2; exit 1; }
cargo build --release --quiet
if grep -qaF "$marker" target/release/rdock; then
  echo "target/release/rdock holds the scripted double: is the testing feature on outside the tests?" >&2
  exit 1
fi
echo "target/release/rdock: no scripted double"

echo "== cross-target: the Windows binary under wine64"
need=()
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
[ -x /usr/lib/wine/wine64 ] || need+=(wine64)
apt_install --no-install-recommends -- "${need[@]}"
cargo build --quiet --target x86_64-pc-windows-gnu
wine_dir="$(mktemp -d)"
trap 'rm -rf "$wine_dir"' EXIT
mkdir -p "$wine_dir/bin"
cp target/x86_64-pc-windows-gnu/debug/rdock.exe "$wine_dir/bin/"
# Rust's std imports ProcessPrng from bcryptprimitives.dll, which wine 8 (Debian 12) lacks:
# a stand-in beside the binary, for wine only.
cat > "$wine_dir/prng.c" <<'EOF'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
    while (length > 0) {
        ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        length -= n;
    }
    return TRUE;
}
EOF
printf 'LIBRARY bcryptprimitives\nEXPORTS\n  ProcessPrng\n' > "$wine_dir/prng.def"
x86_64-w64-mingw32-gcc -O2 -shared -o "$wine_dir/bin/bcryptprimitives.dll" \
  "$wine_dir/prng.c" "$wine_dir/prng.def" -ladvapi32
# Stand-ins for the OpenSSH client and the docker CLI: ssh -G resolves, no agent answers, the
# host refuses connections. sc.exe, tasklist.exe and net.exe are wine's own. The current docker
# context "build" is in docker's context store under the Windows user's profile (below).
cat > "$wine_dir/tool.c" <<'EOF'
#include <stdio.h>
#include <string.h>
static int has(int argc, char **argv, const char *arg) {
    for (int i = 1; i < argc; i++) if (strcmp(argv[i], arg) == 0) return 1;
    return 0;
}
int main(int argc, char **argv) {
    const char *me = argv[0];
    for (const char *p = argv[0]; *p; p++) if (*p == '\\' || *p == '/') me = p + 1;
    if (strncmp(me, "docker", 6) == 0) {
        if (has(argc, argv, "--version")) { puts("Docker version 27.3.1, build ce12230"); return 0; }
        return 1;
    }
    if (strncmp(me, "ssh-add", 7) == 0) {
        fputs("Error connecting to agent: No such file or directory\n", stderr);
        return 2;
    }
    if (strncmp(me, "ssh-key", 7) == 0) return 1;
    if (has(argc, argv, "-V")) { fputs("OpenSSH_for_Windows_9.5p1, LibreSSL 3.8.2\n", stderr); return 0; }
    if (has(argc, argv, "-G")) {
        puts("user me\nhostname build.example\nport 22\nidentityfile ~/.ssh/id_ed25519\nuserknownhostsfile ~/.ssh/known_hosts\ncontrolmaster false");
        return 0;
    }
    fputs("ssh: connect to host build.example port 22: Connection refused\n", stderr);
    return 255;
}
EOF
x86_64-w64-mingw32-gcc -O2 -o "$wine_dir/tool.exe" "$wine_dir/tool.c"
for tool in ssh ssh-add ssh-keygen ssh-keyscan docker; do cp "$wine_dir/tool.exe" "$wine_dir/bin/$tool.exe"; done
export WINEPREFIX="$wine_dir/prefix" WINEDEBUG=-all
# A fresh prefix: wineboot's first-run notes are not rdock's output.
timeout 300 /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1 </dev/null || true
docker_dir="$WINEPREFIX/drive_c/users/$(id -un)/.docker"
mkdir -p "$docker_dir/contexts/meta/build"
printf '{"currentContext": "build"}\n' > "$docker_dir/config.json"
printf '{"Name":"build","Metadata":{"Description":""},"Endpoints":{"docker":{"Host":"ssh://me@build.example:22","SkipTLSVerify":false}}}\n' \
  > "$docker_dir/contexts/meta/build/meta.json"
wine() {
  WINEPATH="Z:${wine_dir//\//\\}\\bin" timeout 300 /usr/lib/wine/wine64 "$wine_dir/bin/rdock.exe" "$@" </dev/null
}
version="$(wine --version)"
echo "$version"
[ "$version" = "rdock $(cargo pkgid | sed 's/.*[#@]//') (x86_64-pc-windows-gnu)" ]
doctor="$(wine doctor --json)" && { echo "rdock doctor --json under wine should report problems" >&2; exit 1; }
# Windows was detected: the agent check asked sc.exe about the ssh-agent service (wine has none)
# and gave Windows' fix; the ssh-config check knows the service keeps keys across logins.
for expected in '"id": "agent"' 'no ssh-agent service' 'Add-WindowsCapability' \
  'the Windows ssh-agent service keeps its keys'; do
  grep -qF "$expected" <<<"$doctor" || { printf '%s\nmissing: %s\n' "$doctor" "$expected" >&2; exit 1; }
done
echo "rdock.exe doctor --json under wine64: $(grep -c '"id"' <<<"$doctor") checks, with Windows' advice"
# Issue 22: the release archives, install.sh as a fresh user, the packaging and the crate; the
# Windows archive's rdock.exe runs with this wine setup.
RDOCK_WINE_DIR="$wine_dir" bash scripts/install-test.sh
# Let this prefix's wineserver finish saving before its directory goes.
/usr/lib/wine/wineserver -w || true
unset WINEPREFIX WINEDEBUG
rm -rf "$wine_dir"
trap - EXIT

echo "== fuzz: each target for 20 s (scripts/fuzz.sh 20)"
# Every fuzz target, each with its oracle, for a bounded time (about 80 s and the build). cargo-fuzz
# comes from crates.io when missing (it takes minutes to build, once).
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked --quiet
bash scripts/fuzz.sh 20

echo "== cargo test, the end-to-end tier included (RDOCK_E2E=1: every tool required)"
# The end-to-end tests (e2e::) are #[ignore]d so that a plain `cargo test` lists them as ignored;
# --include-ignored runs them. The two benchmarks (bench::, ignored too) are scripts/bench.sh's.
export RDOCK_E2E=1
RDOCK_E2E_LOG="$(mktemp)"
RDOCK_CLIENTS_LOG="$(mktemp)"
export RDOCK_E2E_LOG RDOCK_CLIENTS_LOG
trap 'rm -f "$RDOCK_E2E_LOG" "$RDOCK_CLIENTS_LOG"' EXIT
cargo test --all-targets -- --include-ignored --skip bench::
# Every end-to-end test that exists ran its sandbox to the end (the harness logs each test's name
# when its sandbox is dropped without a panic): none was left out, filtered away or skipped.
existing="$(cargo test --quiet --test integration -- --list 2>/dev/null | grep -c '^e2e::.*: test$' || true)"
executed="$(sort -u "$RDOCK_E2E_LOG" | grep -c '^e2e::' || true)"
echo "end-to-end tests: $existing exist, $executed executed"
if [ "$existing" != "$executed" ] || [ "$existing" = 0 ]; then
  echo "scripts/test.sh: $existing end-to-end tests exist but $executed executed; not executed:" >&2
  cargo test --quiet --test integration -- --list 2>/dev/null | sed -n 's/^\(e2e::.*\): test$/\1/p' \
    | sort | comm -23 - <(sort -u "$RDOCK_E2E_LOG") >&2
  exit 1
fi
# The client matrix of tests/e2e/clients.rs as it ran: each real client's result, and the status
# of doctor's line that predicts it (ok where it worked, warn or skip where it failed).
echo "client matrix (tests/e2e/clients.rs):"
cat "$RDOCK_CLIENTS_LOG"
