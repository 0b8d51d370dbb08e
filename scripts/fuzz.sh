#!/usr/bin/env bash
# Fuzz rdock's three parsers of untrusted text and its sanitiser with cargo-fuzz (libFuzzer + AddressSanitizer):
#   destination    rdock::ssh::destination::Destination::parse (never panics; what it accepts is
#                  safe as one argv element and survives the Display round trip)
#   settings_edit  rdock::vscode::edit_bytes (never panics; a changed file re-parses, keeps every
#                  other byte and property, and a second edit is Unchanged), and the workspace
#                  pin, pin_context, on the same input (the same promises)
#   probe          rdock::ssh::probe::parse_probe, which reads what the remote printed: a report
#                  framed from fuzzed values parses back to those values; raw bytes never panic it
#   visible        rdock::sys::term::visible and visible_stream, the sanitiser of every line
#                  printed: no control or bidi character survives, lines stay lines, and text
#                  with nothing to escape is unchanged
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60; targets run one after the other)
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo-fuzz passes -Zsanitizer=address, a nightly
# flag; RUSTC_BOOTSTRAP=1 lets the stable compiler accept it, so no nightly toolchain is needed.
# A crash leaves its input in fuzz/artifacts/TARGET/ (not committed) and this script exits 1;
# replay it with: RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

secs="${1:-60}"
case "$secs" in
  '' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: cargo-fuzz is missing; install it with: cargo install cargo-fuzz" >&2
  exit 1
fi
export RUSTC_BOOTSTRAP=1

# Seed the settings corpus with the golden fixtures (the corpus directory is not committed).
mkdir -p corpus/destination corpus/settings_edit
for f in ../tests/fixtures/vscode/*/before.json ../tests/fixtures/workspace/*/before.json; do
  area="$(basename "$(dirname "$(dirname "$f")")")"
  cp -n "$f" "corpus/settings_edit/fixture-$area-$(basename "$(dirname "$f")")" 2>/dev/null || true
done
for d in 'u@h.example:2222' 'ssh://u@h:22' 'u@[::1]:2222' 'ssh://[fe80::1]' 'myvm' '::1' \
         '-oProxyCommand=x' 'ssh://u:pw@h/p?q#f' 'h:65536'; do
  printf '%s' "$d" > "corpus/destination/seed-$(printf '%s' "$d" | cksum | cut -d' ' -f1)"
done

mkdir -p corpus/probe corpus/visible
printf 'docker \033]52;c;eA==\007 \342\200\256evil\302\233 ok\tline\nnext\r\n' > corpus/visible/seed-hostile
printf 'plain text, nothing to escape\n' > corpus/visible/seed-plain
printf '\000rdock-probe-2-begin\nshell=/bin/sh\ndocker-path=/usr/bin/docker\ndocker-exit=0\nrdock-socket=\nrdock-socket-version=\n28.2.2\nrdock-probe-2-end\n' > corpus/probe/seed-ok
printf '\377\000u@h: Permission denied (publickey).\n' > corpus/probe/seed-refused
printf '\000hello from bashrc\nrdock-probe-2-begin\nshell=/bin/bash\n' > corpus/probe/seed-noise
printf '\000HTTP/1.1 400 Bad Request\r\n\r\n400 Bad Request' > corpus/probe/seed-dial-stdio
# Values for the framed report (NUL between them; the first byte picks docker's exit or "not found").
printf '\000/bin/bash\000/usr/bin/docker\000/run/user/1000/docker.sock\00028.2.2\000Client: x\n28.2.2\000\000\000\000hello from bashrc\000' > corpus/probe/seed-framed-ok
printf '\004\000/usr/bin/fish\000\000\000\000\000/usr/bin:/bin\000/usr/bin/fish\000/usr/local/bin/docker\000\000' > corpus/probe/seed-framed-not-found

cargo fuzz build
status=0
for target in destination settings_edit probe visible; do
  echo "== fuzz $target for $secs s"
  log="$(mktemp)"
  # -rss_limit_mb: the default 2 GB is plenty; -timeout: one input may take at most 10 s.
  if cargo fuzz run "$target" "corpus/$target" -- \
      -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
      -dict="dicts/$target.dict" >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+[[:space:]]+DONE)' "$log" || true
    echo "== $target: no crash"
  else
    tail -n 60 "$log"
    echo "== $target: CRASH (input kept in fuzz/artifacts/$target/)" >&2
    status=1
  fi
  rm -f "$log"
done
exit "$status"
