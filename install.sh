#!/bin/sh
# Installs rdock's prebuilt binary for this machine, with no Rust toolchain and no sudo:
#
#   curl -fsSL https://github.com/rdock-dev/rdock/releases/latest/download/install.sh | sh
#
# It downloads the release's SHA256SUMS and this platform's archive, refuses an archive whose
# checksum does not match, and only then puts rdock into ~/.local/bin (renamed into place, so no
# half-written binary is ever on PATH), the completions where bash, zsh and fish look for them, and
# the man page under ~/.local/share/man. Settings, from the environment:
#   RDOCK_INSTALL_DIR   where the binary goes (default: ~/.local/bin)
#   RDOCK_VERSION       a release such as 0.1.0 (default: the latest)
#   RDOCK_INSTALL_BASE  the URL the archives and SHA256SUMS are under (default: the GitHub release)
# POSIX sh; `shellcheck -s sh install.sh` is clean.
set -eu

# The repository, in this one place.
REPOSITORY=https://github.com/rdock-dev/rdock

# Everything runs from main, at the end: a download cut short runs nothing.
info() { printf 'rdock-install: %s\n' "$*"; }
warn() { printf 'rdock-install: warning: %s\n' "$*" >&2; }
fail() { printf 'rdock-install: error: %s\n' "$*" >&2; exit 1; }

tmp=""
partial=""
cleanup() {
  [ -z "$partial" ] || rm -f "$partial"
  [ -z "$tmp" ] || rm -rf "$tmp"
}

# The release target for this OS and CPU, or a clear refusal.
detect_target() {
  os="$(uname -s)"
  cpu="$(uname -m)"
  case "$cpu" in
    x86_64 | amd64) arch=x86_64 ;;
    aarch64 | arm64) arch=aarch64 ;;
    *) arch="" ;;
  esac
  from_source="build it from source instead: cargo install --locked rdock (Rust $RUST_MIN or newer, from https://rustup.rs)"
  case "$os" in
    Linux)
      [ -n "$arch" ] || fail "there is no prebuilt rdock for Linux on $cpu; $from_source"
      for loader in /lib/ld-musl-*; do
        if [ -e "$loader" ] && ! [ -e /lib64/ld-linux-x86-64.so.2 ] && ! [ -e /lib/ld-linux-aarch64.so.1 ]; then
          fail "this Linux uses musl libc ($loader) and rdock's Linux builds need glibc 2.17 or newer; $from_source"
        fi
      done
      target="$arch-unknown-linux-gnu" ;;
    Darwin)
      [ -n "$arch" ] || fail "there is no prebuilt rdock for macOS on $cpu; $from_source"
      target="$arch-apple-darwin" ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT)
      fail "on Windows, install with scoop (scoop install rdock, see $REPOSITORY#install) or unzip rdock-VERSION-x86_64-pc-windows-gnu.zip from $REPOSITORY/releases" ;;
    *)
      fail "there is no prebuilt rdock for $os on $cpu; $from_source" ;;
  esac
}

# download URL FILE, with curl or wget, bounded in time.
download() {
  if command -v curl >/dev/null 2>&1; then
    curl --proto '=https,http' -fsSL --connect-timeout 20 --max-time 600 --retry 2 -o "$2" "$1" ||
      fail "could not download $1 (curl failed; see above); nothing was installed"
  elif command -v wget >/dev/null 2>&1; then
    wget -q --timeout=20 --tries=2 -O "$2" "$1" ||
      fail "could not download $1 (wget failed); nothing was installed"
  else
    fail "neither curl nor wget is installed; install one of them and run this again"
  fi
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d ' ' -f 1
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d ' ' -f 1
  elif command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 "$1" | sed 's/^.*= *//'
  else
    fail "no sha256sum, shasum or openssl to check the download with; nothing was installed"
  fi
}

# archive_for TARGET: the archive name SHA256SUMS lists for TARGET, or nothing.
archive_for() {
  sed -n "s/^[0-9a-f]\{64\}  *\*\{0,1\}\(rdock-[0-9][^ ]*-$1\.tar\.gz\)$/\1/p" "$tmp/SHA256SUMS" | head -n 1
}

# place SOURCE DEST MODE: copy SOURCE beside DEST, then rename it over DEST (atomic).
place() {
  mkdir -p "$(dirname "$2")" || return 1
  partial="$(dirname "$2")/.$(basename "$2").rdock-install.$$"
  if ! { cp "$1" "$partial" && chmod "$3" "$partial" && mv -f "$partial" "$2"; }; then
    rm -f "$partial"
    partial=""
    return 1
  fi
  partial=""
}

# path_hint DIR: how to put DIR on PATH, for the user's login shell.
path_hint() {
  shown="$1"
  [ "$1" != "$HOME/.local/bin" ] || shown="\$HOME/.local/bin"
  info "$1 is not on your PATH. To put it there:"
  case "$(basename "${SHELL:-sh}")" in
    zsh) printf "  echo 'export PATH=\"%s:\$PATH\"' >> ~/.zshrc && exec zsh\n" "$shown" ;;
    bash) printf "  echo 'export PATH=\"%s:\$PATH\"' >> ~/.bashrc && exec bash\n" "$shown" ;;
    fish) printf '  fish_add_path %s\n' "$1" ;;
    *) printf "  echo 'export PATH=\"%s:\$PATH\"' >> ~/.profile   (then log in again)\n" "$shown" ;;
  esac
}

main() {
  RUST_MIN=1.89
  [ -n "${HOME:-}" ] || fail "HOME is not set"
  detect_target
  if [ -n "${RDOCK_INSTALL_BASE:-}" ]; then
    base="${RDOCK_INSTALL_BASE%/}"
  elif [ -n "${RDOCK_VERSION:-}" ]; then
    base="$REPOSITORY/releases/download/v${RDOCK_VERSION#v}"
  else
    base="$REPOSITORY/releases/latest/download"
  fi
  dir="${RDOCK_INSTALL_DIR:-$HOME/.local/bin}"
  case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac

  # Refuse a folder we cannot write before downloading anything; create it only at the end.
  existing="$dir"
  while ! [ -e "$existing" ]; do existing="$(dirname "$existing")"; done
  if ! [ -d "$existing" ] || ! [ -w "$existing" ]; then
    fail "cannot install into $dir: $existing is not a writable folder; choose another with RDOCK_INSTALL_DIR=DIR"
  fi

  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP
  tmp="$(mktemp -d "${TMPDIR:-/tmp}/rdock-install.XXXXXX")" || fail "cannot make a temporary folder"

  info "fetching $base/SHA256SUMS"
  download "$base/SHA256SUMS" "$tmp/SHA256SUMS"
  name="$(archive_for "$target")"
  if [ -z "$name" ] && [ "$target" = aarch64-apple-darwin ]; then
    name="$(archive_for x86_64-apple-darwin)"
    [ -z "$name" ] || info "no Apple Silicon build in this release: installing the x86_64 one, which runs through Rosetta 2"
  fi
  if [ -z "$name" ]; then
    fail "this release has no build for $target (it has: $(sed -n 's/^[0-9a-f]\{64\}  *\**//p' "$tmp/SHA256SUMS" | tr '\n' ' ' | sed 's/ $//')); $from_source"
  fi
  expected="$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$tmp/SHA256SUMS")"

  info "fetching $base/$name"
  download "$base/$name" "$tmp/$name"
  actual="$(sha256 "$tmp/$name")"
  [ "$actual" = "$expected" ] ||
    fail "$name does not match SHA256SUMS (expected $expected, got $actual): a damaged or tampered download; nothing was installed"
  info "checksum ok: sha256 $actual"

  top="${name%.tar.gz}"
  mkdir "$tmp/unpacked"
  (cd "$tmp/unpacked" && gzip -dc "../$name" | tar -xf -) || fail "cannot unpack $name; nothing was installed"
  unpacked="$tmp/unpacked/$top"
  [ -f "$unpacked/rdock" ] || fail "$name holds no $top/rdock binary; nothing was installed"
  chmod 755 "$unpacked/rdock"
  version="$("$unpacked/rdock" --version 2>&1)" ||
    fail "the downloaded rdock does not run on this machine ($version); nothing was installed"

  place "$unpacked/rdock" "$dir/rdock" 755 || fail "cannot write $dir/rdock; nothing was installed"
  info "installed $version into $dir/rdock"

  # Completions and the man page: where each shell, and man, look in the user's home.
  data="${XDG_DATA_HOME:-$HOME/.local/share}"
  config="${XDG_CONFIG_HOME:-$HOME/.config}"
  for pair in \
    "completions/rdock.bash:$data/bash-completion/completions/rdock" \
    "completions/_rdock:$data/zsh/site-functions/_rdock" \
    "completions/rdock.fish:$config/fish/completions/rdock.fish" \
    "man/rdock.1:$data/man/man1/rdock.1"; do
    from="$unpacked/${pair%%:*}"
    to="${pair#*:}"
    if [ -f "$from" ] && place "$from" "$to" 644; then
      info "installed $to"
    else
      warn "could not install $to"
    fi
  done

  case ":${PATH:-}:" in
    *":$dir:"*)
      found="$(command -v rdock 2>/dev/null || true)"
      [ -z "$found" ] || [ "$found" = "$dir/rdock" ] ||
        warn "$found comes before $dir/rdock on your PATH; remove it or move $dir earlier" ;;
    *) path_hint "$dir" ;;
  esac
  if [ "$(basename "${SHELL:-sh}")" = zsh ]; then
    info "zsh completions: add this line to ~/.zshrc, before compinit: fpath=($data/zsh/site-functions \$fpath)"
  fi
  info "done: run rdock setup user@host"
}

main "$@"
