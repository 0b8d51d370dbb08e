#!/usr/bin/env bash
# The whole test suite, as README.md gives it and .ci/run calls it.
# On a fresh Debian machine, as root: installs what the end-to-end tests need (openssh-server,
# docker.io), then runs cargo fmt --check, clippy with -D warnings, and every test with the
# end-to-end tests required (RDOCK_E2E=1), and prints how many end-to-end tests ran.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/test.sh: ${need[*]} missing, and only root can install them" >&2
    exit 1
  fi
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

echo "== cargo fmt --check"
cargo fmt --check
echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

echo "== cargo test (end-to-end tests required)"
export RDOCK_E2E=1
RDOCK_E2E_LOG="$(mktemp)"
export RDOCK_E2E_LOG
trap 'rm -f "$RDOCK_E2E_LOG"' EXIT
cargo test --all-targets
echo "end-to-end tests executed: $(sort -u "$RDOCK_E2E_LOG" | grep -c .)"
