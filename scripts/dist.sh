#!/usr/bin/env bash
# Release archives into target/dist/, reproducibly: the same commit and toolchain give the same
# bytes (Linux and macOS archives also from a clone at another path; the Windows zip only at the
# same path, since GNU ld orders the import tables by the paths of rustc's import libraries):
#   rdock-VERSION-TARGET.tar.gz (.zip for Windows), each holding rdock-VERSION-TARGET/ with the
#   binary, LICENSE, README.md, completions/ (bash, zsh, fish, PowerShell) and man/rdock.1;
#   SHA256SUMS over the archives; install.sh beside them, as the release publishes it.
# Targets: RDOCK_DIST_TARGETS (default: x86_64-unknown-linux-gnu x86_64-pc-windows-gnu
# x86_64-apple-darwin). How each links:
#   *-unknown-linux-gnu  zig cc against glibc 2.17 (zig from PyPI: pip install ziglang), so the
#                        binary runs on old distributions;
#   *-apple-darwin       natively on macOS; elsewhere zig cc (-target ARCH-macos);
#   x86_64-pc-windows-gnu mingw-w64 gcc (Debian: gcc-mingw-w64-x86-64).
# RDOCK_DIST_NO_ZIG=1 (when zig cannot be installed): the host's Linux target is linked by the
# system cc against this machine's glibc and the darwin targets are skipped, both said loudly.
# The completions and the man page come from the host's own build of the same source.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

version="$(cargo pkgid | sed 's/.*[#@]//')"
targets="${RDOCK_DIST_TARGETS:-x86_64-unknown-linux-gnu x86_64-pc-windows-gnu x86_64-apple-darwin}"
host="$(rustc -vV | sed -n 's/^host: //p')"
# Every timestamp in the archives is the last commit's, unless the caller fixes one.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export TZ=UTC LC_ALL=C
umask 022
dist="target/dist"
tools="$root/target/dist-tools"

loud() { printf '\n!!!!!!!!\n!!! scripts/dist.sh: %s\n!!!!!!!!\n\n' "$*" >&2; }
die() { echo "scripts/dist.sh: $*" >&2; exit 1; }

# GNU tar for --sort and --mtime (macOS: brew install gnu-tar gives gtar).
tar=tar
command -v gtar >/dev/null 2>&1 && tar=gtar
"$tar" --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (macOS: brew install gnu-tar)"
if command -v sha256sum >/dev/null 2>&1; then sha=(sha256sum); else sha=(shasum -a 256); fi

zig_ok=1
if [ "${RDOCK_DIST_NO_ZIG:-}" = 1 ]; then
  zig_ok=0
elif ! python3 -m ziglang version >/dev/null 2>&1; then
  [ "$(uname -s)" = Darwin ] || die "zig is needed: pip install ziglang (or RDOCK_DIST_NO_ZIG=1 for a build that is not portable)"
  zig_ok=0
fi

# zig_linker TRIPLE ZIG-TARGET: a cc for rustc that is zig's, for that target. rustc's own
# linker flags that zig's driver does not take are dropped: -B and -fuse-ld (rustc's bundled lld;
# zig brings its own) and clang's --target (zig has -target). For macOS: a repeated -l is passed
# once (zig would load that dylib twice, which dyld refuses), and Rust's std asks for libiconv,
# which zig does not ship: a text stub for the system's /usr/lib/libiconv.2.dylib stands in.
zig_linker() {
  local cc="$tools/cc-$1" extra=""
  mkdir -p "$tools"
  case "$1" in
    *-apple-darwin)
      extra="-L $tools/darwin"
      mkdir -p "$tools/darwin"
      cat > "$tools/darwin/libiconv.tbd" <<'EOF'
--- !tapi-tbd
tbd-version:     4
targets:         [ x86_64-macos, arm64-macos ]
install-name:    '/usr/lib/libiconv.2.dylib'
current-version: 7
compatibility-version: 7
exports:
  - targets:     [ x86_64-macos, arm64-macos ]
    symbols:     [ _iconv, _iconv_close, _iconv_open ]
...
EOF
      ;;
  esac
  cat > "$cc" <<EOF
#!/bin/sh
seen=" "
for arg do
  shift
  case \$arg in
    -B*|-fuse-ld=*|--target=*) continue ;;
    -l*) case "\$seen" in *" \$arg "*) continue ;; esac; seen="\$seen\$arg " ;;
  esac
  set -- "\$@" "\$arg"
done
exec "$(python3 -c 'import sys; print(sys.executable)')" -m ziglang cc -target $2 $extra "\$@"
EOF
  chmod 755 "$cc"
}

# build TARGET: cargo build --release for TARGET, linked as above; sets skip=1 when it cannot.
build() {
  local target="$1" arch="${1%%-*}" linker="" flags=()
  # Paths of this clone and of cargo's registry are not in the binary (panic locations).
  flags+=("--remap-path-prefix=$root=rdock" "--remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=cargo")
  case "$target" in
    *-unknown-linux-gnu)
      if [ "$zig_ok" = 1 ]; then
        zig_linker "$target" "$arch-linux-gnu.2.17"
        linker="$tools/cc-$target"
      elif [ "$target" = "$host" ]; then
        loud "no zig: $target links against THIS machine's glibc, not 2.17; not for release"
      else
        loud "no zig: $target skipped"; skip=1; return
      fi ;;
    *-apple-darwin)
      if [ "$(uname -s)" != Darwin ]; then
        [ "$zig_ok" = 1 ] || { loud "no zig: $target skipped"; skip=1; return; }
        zig_linker "$target" "$arch-macos"
        linker="$tools/cc-$target"
      fi ;;
    x86_64-pc-windows-gnu)
      command -v x86_64-w64-mingw32-gcc >/dev/null 2>&1 ||
        die "x86_64-w64-mingw32-gcc is needed (Debian: apt-get install gcc-mingw-w64-x86-64)"
      # No link time in the PE header, and no symbol table: its names hold rustc's random
      # temporary folder for the import libraries (rustcXXXXXX), different at every link.
      flags+=("-Clink-arg=-Wl,--no-insert-timestamp" "-Cstrip=symbols") ;;
    *) die "no recipe for target $target" ;;
  esac
  echo "== cargo build --release --target $target${linker:+ (linker: zig cc)}"
  # RUSTFLAGS, not target.TRIPLE settings: with --target, RUSTFLAGS reach only the target's
  # crates, so the build scripts (host code, shared by all targets) are built one way for every
  # target, and a dist.sh run does not rebuild what the previous target's build left.
  [ -z "$linker" ] || flags+=("-Clinker=$linker")
  env -u CARGO_ENCODED_RUSTFLAGS ${linker:+"CC_${target//-/_}=$linker"} RUSTFLAGS="${flags[*]}" \
    cargo build --quiet --release --locked --target "$target"
}

rm -rf "$dist"
mkdir -p "$dist/stage"
built=()
for target in $targets; do
  skip=0
  build "$target"
  [ "$skip" = 1 ] || built+=("$target")
done
[ ${#built[@]} -gt 0 ] || die "nothing built"

# The completions and the man page, from a build that runs here.
runner=""
for target in "${built[@]}"; do
  [ "$target" = "$host" ] && runner="target/$host/release/rdock"
done
if [ -z "$runner" ]; then
  cargo build --quiet --release --locked
  runner="target/release/rdock"
fi
"$runner" --version >/dev/null || die "$runner does not run here"
gen="$dist/stage/generated"
mkdir -p "$gen/completions" "$gen/man"
"$runner" completions bash > "$gen/completions/rdock.bash"
"$runner" completions zsh > "$gen/completions/_rdock"
"$runner" completions fish > "$gen/completions/rdock.fish"
"$runner" completions powershell > "$gen/completions/_rdock.ps1"
# One man page for every target: without the triple of the build that printed it (roff spells
# its dashes \-).
"$runner" man | sed -e "s/ ($host)//g" -e "s/ (${host//-/\\\\-})//g" > "$gen/man/rdock.1"

# A fixed time for zip's entries (tar takes --mtime).
stamp="$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y%m%d%H%M.%S 2>/dev/null || date -u -r "$SOURCE_DATE_EPOCH" +%Y%m%d%H%M.%S)"
for target in "${built[@]}"; do
  name="rdock-$version-$target"
  dir="$dist/stage/$name"
  exe=rdock
  [ "${target#*windows}" = "$target" ] || exe=rdock.exe
  mkdir -p "$dir"
  cp "target/$target/release/$exe" "$dir/$exe"
  cp LICENSE README.md "$dir/"
  cp -R "$gen/completions" "$gen/man" "$dir/"
  find "$dir" -type d -exec chmod 755 {} + && find "$dir" -type f -exec chmod 644 {} +
  chmod 755 "$dir/$exe"
  if [ "$exe" = rdock.exe ]; then
    find "$dir" -exec touch -h -t "$stamp" {} +
    (cd "$dist/stage" && find "$name" -type f | sort | zip -X -D -q -9 -@ "../$name.zip")
  else
    "$tar" --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
      --format=gnu -C "$dist/stage" -cf - "$name" | gzip -n -9 > "$dist/$name.tar.gz"
  fi
done
rm -rf "$dist/stage"
(cd "$dist" && "${sha[@]}" -- rdock-*) > "$dist/SHA256SUMS.tmp"
mv "$dist/SHA256SUMS.tmp" "$dist/SHA256SUMS"
cp install.sh "$dist/install.sh"
echo "== $dist (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
(cd "$dist" && ls -l rdock-* && cat SHA256SUMS)
