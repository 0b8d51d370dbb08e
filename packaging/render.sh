#!/usr/bin/env bash
# packaging/render.sh DIST OUT: renders packaging/*/*.in into OUT (OUT/rdock.rb, OUT/rdock.json)
# with the version and repository from Cargo.toml and each archive's checksum from DIST/SHA256SUMS.
# A template that names an archive SHA256SUMS lacks is an error, unless RDOCK_RENDER_PARTIAL=1
# (a local build with some targets only): then its checksum is 64 zeros, and it says which.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: packaging/render.sh DIST-DIR OUT-DIR" >&2; exit 2; }
dist="$1" out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
manifest="$here/../Cargo.toml"
field() { sed -n "s/^$1 = \"\(.*\)\"$/\1/p" "$manifest" | head -n 1; }
version="$(field version)" repository="$(field repository)"
if [ -z "$version" ] || [ -z "$repository" ]; then
  echo "render.sh: no version or repository in Cargo.toml" >&2
  exit 1
fi
[ -f "$dist/SHA256SUMS" ] || { echo "render.sh: no $dist/SHA256SUMS" >&2; exit 1; }
mkdir -p "$out"
for template in "$here"/*/*.in; do
  rendered="$out/$(basename "${template%.in}")"
  text="$(sed -e "s|@VERSION@|$version|g" -e "s|@REPOSITORY@|$repository|g" "$template")"
  grep -o '@SHA256:[^@]*@' "$template" | sed 's/@SHA256:\(.*\)@/\1/' | sort -u >"$out/.targets"
  while read -r target; do
    archive="rdock-$version-$target"
    sum="$(awk -v a="$archive.tar.gz" -v z="$archive.zip" '$2 == a || $2 == z { print $1 }' "$dist/SHA256SUMS")"
    if [ -z "$sum" ]; then
      if [ "${RDOCK_RENDER_PARTIAL:-}" != 1 ]; then
        echo "render.sh: $dist/SHA256SUMS has no archive for $target ($template)" >&2
        exit 1
      fi
      echo "render.sh: $(basename "$rendered"): no $target archive here, checksum left as zeros" >&2
      sum="$(printf '0%.0s' $(seq 64))"
    fi
    text="${text//@SHA256:$target@/$sum}"
  done <"$out/.targets"
  rm -f "$out/.targets"
  if grep -q '@[A-Z0-9_]*[:@]' <<<"$text"; then
    echo "render.sh: $rendered still has a placeholder: $(grep -o '@[^@ ]*@' <<<"$text" | head -n 1)" >&2
    exit 1
  fi
  printf '%s\n' "$text" > "$rendered"
  echo "rendered $rendered"
done
