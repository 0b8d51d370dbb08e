#!/usr/bin/env bash
# The install story end to end (issue 22), as root on a Debian machine; scripts/test.sh runs it.
#  1. scripts/dist.sh makes the release archives (zig from PyPI, in target/zig-venv; without zig
#     it says so loudly and builds what it can), twice: the archives are the same bytes.
#  2. The Linux binary needs glibc 2.28 at most (the newest GLIBC_ symbol it uses); the darwin one
#     is Mach-O x86_64; the Windows zip's rdock.exe answers --version and doctor --json under
#     wine64 when scripts/test.sh hands over its wine setup (RDOCK_WINE_DIR).
#  3. packaging/render.sh renders the Homebrew formula (ruby -c) and the scoop manifest (JSON);
#     the release workflow parses as YAML; install.sh is clean under shellcheck -s sh.
#  4. install.sh, served from 127.0.0.1, run by a fresh user with no Rust on PATH: refuses an
#     unsupported platform, a failed download, a tampered archive, an archive without the binary
#     and a folder it cannot write, each with nothing installed; then installs a working rdock,
#     its completions and man page, through curl | sh and through wget.
#  5. cargo publish --dry-run passes from a clean clone of HEAD, and the .crate is under 2 MB.
# RDOCK_TEST_DIST=DIR tests archives made before (while working on install.sh) instead of 1.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
start=$SECONDS
[ "$(id -u)" = 0 ] || { echo "scripts/install-test.sh: run as root (it adds a throwaway user)" >&2; exit 1; }

fail() { echo "install-test: FAILED: $*" >&2; exit 1; }
step() { echo "== install-test: $*"; }

# What this needs, on a fresh Debian machine.
need=()
for tool in shellcheck ruby file zip unzip curl wget readelf; do
  command -v "$tool" >/dev/null 2>&1 || need+=("$tool")
done
command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 || need+=(gcc-mingw-w64-x86-64)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
need=("${need[@]/readelf/binutils}")
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

work="$(mktemp -d)"
chmod 755 "$work"
user="rdockinst$$"
server=""
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  if id "$user" >/dev/null 2>&1; then userdel -r "$user" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step "shellcheck"
shellcheck -s sh install.sh
shellcheck scripts/dist.sh scripts/install-test.sh packaging/render.sh

step "zig from PyPI"
venv="$root/target/zig-venv"
if { [ -x "$venv/bin/python3" ] || python3 -m venv "$venv"; } &&
  "$venv/bin/python3" -m pip install -q --disable-pip-version-check ziglang==0.17.1 &&
  "$venv/bin/python3" -m ziglang version; then
  export PATH="$venv/bin:$PATH"
  zig=1
else
  zig=0
  export RDOCK_DIST_NO_ZIG=1
  printf '\n!!!!!!!!\n!!! install-test: zig could not be installed: the glibc-2.17 and darwin builds are SKIPPED\n!!!!!!!!\n\n' >&2
fi

version="$(cargo pkgid | sed 's/.*[#@]//')"
dist="$root/target/dist"
if [ -n "${RDOCK_TEST_DIST:-}" ]; then
  # While working on install.sh: archives made before, by scripts/dist.sh.
  dist="$RDOCK_TEST_DIST"
  echo "install-test: NOT running scripts/dist.sh; testing the archives in $dist" >&2
else
  step "scripts/dist.sh"
  t=$SECONDS
  scripts/dist.sh
  echo "dist.sh took $((SECONDS - t)) s"
fi
linux="rdock-$version-x86_64-unknown-linux-gnu"
windows="rdock-$version-x86_64-pc-windows-gnu"
darwin="rdock-$version-x86_64-apple-darwin"
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match the archives"
cp "$dist/SHA256SUMS" "$work/SHA256SUMS.first"
names=(completions/_rdock completions/_rdock.ps1 completions/rdock.bash completions/rdock.fish LICENSE man/rdock.1 README.md)
expect_listing() { # expect_listing TOP BINARY: the files each archive holds, sorted
  printf '%s\n' "$1/$2" "${names[@]/#/$1/}" | sort
}
diff <(tar -tzf "$dist/$linux.tar.gz" | grep -v '/$' | sort) <(expect_listing "$linux" rdock) ||
  fail "$linux.tar.gz does not hold what it should"
diff <(unzip -Z1 "$dist/$windows.zip" | sort) <(expect_listing "$windows" rdock.exe) ||
  fail "$windows.zip does not hold what it should"
ls -l "$dist"

step "glibc, Mach-O, PE"
tar -xzf "$dist/$linux.tar.gz" -C "$work"
bin="$work/$linux/rdock"
if grep -q 'unknown.*linux' "$work/$linux/man/rdock.1"; then fail "the man page names the Linux target"; fi
newest="$(readelf -W --version-info "$bin" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)"
echo "newest glibc symbol version the Linux binary needs: $newest"
if [ "$zig" = 1 ]; then
  [ "$(printf '%s\nGLIBC_2.28\n' "$newest" | sort -V | tail -n 1)" = GLIBC_2.28 ] ||
    fail "the Linux binary needs $newest, newer than 2.28"
  tar -xzf "$dist/$darwin.tar.gz" -C "$work"
  kind="$(file -b "$work/$darwin/rdock")"
  echo "$darwin/rdock: $kind"
  grep -q '^Mach-O 64-bit x86_64 executable' <<<"$kind" || fail "the darwin binary is not Mach-O x86_64"
else
  echo "install-test: SKIPPED the glibc 2.28 check and the darwin archive (no zig)" >&2
fi
unzip -q "$dist/$windows.zip" -d "$work"
file -b "$work/$windows/rdock.exe" | grep -q '^PE32+ executable.*x86-64' || fail "rdock.exe is not a PE32+ x86-64 executable"
if [ -n "${RDOCK_WINE_DIR:-}" ]; then
  cp "$work/$windows/rdock.exe" "$RDOCK_WINE_DIR/bin/rdock-release.exe"
  release_exe() {
    WINEPATH="Z:${RDOCK_WINE_DIR//\//\\}\\bin" timeout 300 /usr/lib/wine/wine64 \
      "$RDOCK_WINE_DIR/bin/rdock-release.exe" "$@" </dev/null
  }
  said="$(release_exe --version)"
  echo "the zip's rdock.exe under wine64: $said"
  [ "$said" = "rdock $version (x86_64-pc-windows-gnu)" ] || fail "rdock.exe --version said: $said"
  doctor="$(release_exe doctor --json)" && fail "the zip's rdock.exe doctor --json should report problems under wine"
  grep -qF '"id": "agent"' <<<"$doctor" || fail "the zip's rdock.exe doctor --json: $doctor"
  echo "the zip's rdock.exe doctor --json under wine64: $(grep -c '"id"' <<<"$doctor") checks"
  rm -f "$RDOCK_WINE_DIR/bin/rdock-release.exe"
else
  echo "install-test: the Windows zip's rdock.exe is not run here (scripts/test.sh runs it under wine64)"
fi

if [ -z "${RDOCK_TEST_DIST:-}" ]; then
  step "dist.sh again: the same bytes"
  scripts/dist.sh >/dev/null
  diff "$work/SHA256SUMS.first" "$dist/SHA256SUMS" || fail "a second dist.sh made different archives"
  echo "same SHA256SUMS"
fi

step "Homebrew formula, scoop manifest, release workflow"
RDOCK_RENDER_PARTIAL=1 packaging/render.sh "$dist" "$work/packaging"
ruby -c "$work/packaging/rdock.rb"
ruby -rjson -e 'm = JSON.parse(File.read(ARGV[0])); puts "scoop manifest: #{m["version"]}, #{m["architecture"]["64bit"]["url"]}"' \
  "$work/packaging/rdock.json"
while read -r sum archive; do
  case "$archive" in *-apple-darwin.tar.gz | *-linux-gnu.tar.gz) file="rdock.rb" ;; *) file="rdock.json" ;; esac
  grep -qF "$sum" "$work/packaging/$file" || fail "$file lacks the checksum of $archive"
done <"$dist/SHA256SUMS"
ruby -ryaml -e 'w = YAML.load_file(ARGV[0]); puts "release.yml jobs: #{w["jobs"].keys.join(", ")}"' \
  .github/workflows/release.yml
for target in x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-pc-windows-gnu \
  x86_64-apple-darwin aarch64-apple-darwin; do
  grep -q "RDOCK_DIST_TARGETS:.*$target" .github/workflows/release.yml || fail "release.yml does not build $target"
done
repository="$(sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml)"
grep -qx "REPOSITORY=$repository" install.sh || fail "install.sh's REPOSITORY is not Cargo.toml's $repository"

step "install.sh from 127.0.0.1, as a fresh user"
srv="$work/srv"
mkdir -p "$srv/good" "$srv/tampered" "$srv/nobinary"
cp "$dist"/* "$srv/good/"
cp "$dist"/* "$srv/tampered/"
# One byte of the archive's middle flipped; SHA256SUMS kept.
python3 - "$srv/tampered/$linux.tar.gz" <<'EOF'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[len(data) // 2] ^= 0x01
open(path, "wb").write(bytes(data))
EOF
# An archive with everything but the binary, and a SHA256SUMS that vouches for it.
mkdir "$work/nobinary"
tar -xzf "$dist/$linux.tar.gz" -C "$work/nobinary"
rm "$work/nobinary/$linux/rdock"
tar -czf "$srv/nobinary/$linux.tar.gz" -C "$work/nobinary" "$linux"
(cd "$srv/nobinary" && sha256sum "$linux.tar.gz" >SHA256SUMS)
chmod -R a+rX "$srv"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
python3 -m http.server --bind 127.0.0.1 --directory "$srv" "$port" >"$work/http.log" 2>&1 &
server=$!
url="http://127.0.0.1:$port"
for _ in $(seq 50); do curl -fsS -o /dev/null "$url/good/SHA256SUMS" 2>/dev/null && break; sleep 0.1; done

useradd -m -s /bin/bash "$user"
home="$(getent passwd "$user" | cut -d: -f6)"
# A PATH with no cargo or rustc on it; a second one without curl, so install.sh uses wget.
nocurl="$work/nocurl"
mkdir -p "$nocurl"
for tool in /usr/bin/* /bin/*; do
  [ "$(basename "$tool")" = curl ] || ln -sf "$tool" "$nocurl/$(basename "$tool")"
done
plain=/usr/local/bin:/usr/bin:/bin
# Fake unames: FreeBSD on amd64, and Linux on aarch64 (this local release has no such build).
mkdir -p "$work/freebsd" "$work/arm"
fake_uname() { printf '#!/bin/sh\ncase "%s" in -m) echo %s ;; *) echo %s ;; esac\n' "\$1" "$2" "$1"; }
fake_uname FreeBSD amd64 >"$work/freebsd/uname"
fake_uname Linux aarch64 >"$work/arm/uname"
chmod 755 "$work/freebsd/uname" "$work/arm/uname"
ro="$work/readonly"
mkdir -p "$ro"

# as_user PATH BASE [VAR=VALUE...] -- runs `curl BASE/install.sh | sh` (wget when PATH has no
# curl) as the throwaway user, in a clean environment; output in $out, status in $status.
as_user() {
  local path="$1" base="$2"
  shift 2
  local fetch="curl -fsSL $url/good/install.sh"
  [ "$path" != "$nocurl" ] || fetch="wget -qO- $url/good/install.sh"
  status=0
  out="$(cd / && runuser -u "$user" -- env -i HOME="$home" USER="$user" SHELL=/bin/bash LANG=C.UTF-8 \
    PATH="$path" RDOCK_INSTALL_BASE="$base" "$@" sh -c "$fetch | sh" 2>&1)" || status=$?
  printf '%s\n' "$out" | sed 's/^/    | /'
}
# refused WHAT EXPECTED: the last run failed with EXPECTED in its message, and left nothing.
refused() {
  [ "$status" != 0 ] || fail "$1: install.sh succeeded"
  grep -qF -- "$2" <<<"$out" || fail "$1: install.sh did not say \"$2\""
  [ -z "$(find "$home/.local" "$home/.config" "$ro" -type f 2>/dev/null)" ] ||
    fail "$1: install.sh left files behind: $(find "$home/.local" "$home/.config" "$ro" -type f)"
  echo "refused, nothing installed: $1"
}

runuser -u "$user" -- env -i PATH="$plain" sh -c 'command -v cargo rustc rustup' &&
  fail "cargo or rustc is on the fresh user's PATH"
as_user "$work/freebsd:$plain" "$url/good"
refused "unsupported platform (FreeBSD)" "there is no prebuilt rdock for FreeBSD on amd64"
as_user "$work/arm:$plain" "$url/good"
refused "a platform this release has no build for (aarch64 Linux)" \
  "this release has no build for aarch64-unknown-linux-gnu"
as_user "$plain" "$url/missing"
refused "a download that fails (curl, 404)" "could not download $url/missing/SHA256SUMS"
as_user "$nocurl" "http://127.0.0.1:1"
refused "a download that fails (wget, nothing listening)" "could not download http://127.0.0.1:1/SHA256SUMS (wget failed)"
as_user "$plain" "$url/tampered"
refused "a tampered archive" "$linux.tar.gz does not match SHA256SUMS"
as_user "$plain" "$url/nobinary"
refused "an archive without the binary" "$linux.tar.gz holds no $linux/rdock binary"
as_user "$plain" "$url/good" RDOCK_INSTALL_DIR="$ro/sub/bin"
refused "an install folder that is not writable" "cannot install into $ro/sub/bin: $ro is not a writable folder"

as_user "$plain" "$url/good"
[ "$status" = 0 ] || fail "install.sh failed"
for said in "checksum ok" "installed rdock $version (x86_64-unknown-linux-gnu) into $home/.local/bin/rdock" \
  "$home/.local/bin is not on your PATH" "export PATH=\"\$HOME/.local/bin:\$PATH\"' >> ~/.bashrc"; do
  grep -qF -- "$said" <<<"$out" || fail "install.sh did not say: $said"
done
said="$(runuser -u "$user" -- env -i PATH="$plain" "$home/.local/bin/rdock" --version)"
[ "$said" = "rdock $version (x86_64-unknown-linux-gnu)" ] || fail "the installed rdock --version said: $said"
echo "the fresh user's ~/.local/bin/rdock --version: $said"
[ "$(ls -A "$home/.local/bin")" = rdock ] || fail "$home/.local/bin holds more than rdock: $(ls -A "$home/.local/bin")"
for pair in completions/rdock.bash:.local/share/bash-completion/completions/rdock \
  completions/_rdock:.local/share/zsh/site-functions/_rdock \
  completions/rdock.fish:.config/fish/completions/rdock.fish man/rdock.1:.local/share/man/man1/rdock.1; do
  cmp "$work/$linux/${pair%%:*}" "$home/${pair#*:}" || fail "$home/${pair#*:} is not the archive's ${pair%%:*}"
  [ "$(stat -c %U "$home/${pair#*:}")" = "$user" ] || fail "$home/${pair#*:} is not the user's"
done
runuser -u "$user" -- env -i HOME="$home" PATH="$plain" bash -c \
  '. ~/.local/share/bash-completion/completions/rdock && complete -p rdock' >/dev/null ||
  fail "bash does not load the installed completion"
if command -v man >/dev/null 2>&1; then
  found="$(runuser -u "$user" -- env -i HOME="$home" PATH="$home/.local/bin:$plain" man -w rdock)"
  [ "$found" = "$home/.local/share/man/man1/rdock.1" ] || fail "man -w rdock found: $found"
  echo "man -w rdock, with ~/.local/bin on PATH: $found"
fi
echo "installed: rdock, completions for bash, zsh and fish, the man page"

installed="$(sha256sum <"$home/.local/bin/rdock")"
as_user "$plain" "$url/tampered"
if [ "$status" = 0 ] || [ "$installed" != "$(sha256sum <"$home/.local/bin/rdock")" ] ||
  [ "$(ls -A "$home/.local/bin")" != rdock ]; then
  fail "a tampered archive over an installed rdock changed it"
fi
echo "refused, the installed rdock untouched: a tampered archive over an installed rdock"
as_user "$nocurl" "$url/good" RDOCK_INSTALL_DIR="$home/wget-bin" SHELL=/usr/bin/zsh
[ "$status" = 0 ] || fail "install.sh through wget failed"
[ -x "$home/wget-bin/rdock" ] || fail "install.sh through wget installed no $home/wget-bin/rdock"
grep -qF "fpath=($home/.local/share/zsh/site-functions \$fpath)" <<<"$out" || fail "no fpath line for zsh"
echo "installed through wget | sh into RDOCK_INSTALL_DIR"

step "cargo publish --dry-run from a clean clone"
git clone -q "$root" "$work/clone"
rm -rf "$root/target/package"
(cd "$work/clone" && CARGO_TARGET_DIR="$root/target" cargo publish --dry-run --locked --quiet)
# cargo leaves a dry run's .crate in target/package/tmp-crate/ (and a real one in target/package/).
crate="$(find "$root/target/package" -name "rdock-$version.crate" | head -n 1)"
[ -n "$crate" ] || fail "cargo publish --dry-run left no rdock-$version.crate under target/package"
size="$(stat -c %s "$crate")"
echo "$(basename "$crate"): $size bytes, $(tar -tzf "$crate" | wc -l) files"
[ "$size" -lt 2000000 ] || fail "the crate is $size bytes, not under 2 MB"
tar -tzf "$crate" | grep -q '/tests/' && fail "the crate holds tests: $(tar -tzf "$crate" | grep /tests/ | head -n 3)"

echo "install-test: all passed in $((SECONDS - start)) s"
