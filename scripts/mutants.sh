#!/usr/bin/env bash
# Mutation testing (cargo-mutants, crates.io) over the modules whose correctness is the product,
# with the fast tiers only: the unit tests, and the integration binary's pure and in-process step
# tests (everything but `e2e::`, the benchmarks, and the one first-contact test that waits out a
# silent port's 10 s): about 5 s a mutant. A missed mutant is a change no fast test notices:
# kill it with a sharper test, or say in docs/mutants.md why it cannot change behaviour.
#
#   scripts/mutants.sh [--lib-only] [--iterate] [FILE...]     (default: the files below)
#
# --lib-only runs the unit tests alone (a quicker first pass); --iterate (cargo-mutants' own)
# then tests again only what an earlier run did not catch. Results land in mutants.out/ (not
# committed); the summary per file is in docs/mutants.md.
set -euo pipefail
cd "$(dirname "$0")/.."

# Both cargo's build and its test run take the targets (-C), so a mutant rebuilds only them.
targets=(-C --lib -C --test=integration)
tests=(-- -- --skip e2e:: --skip bench:: --skip first_contact::a_silent_port)
iterate=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lib-only) targets=(-C --lib) tests=() ;;
    --iterate) iterate=(--iterate) ;;
    *) break ;;
  esac
  shift
done
files=("$@")
if [ ${#files[@]} = 0 ]; then
  files=(
    src/ssh/destination/mod.rs  # destination parsing (its tests: destination/tests.rs)
    src/ssh/config.rs         # ssh_config editing
    src/ssh/known_hosts.rs
    src/ssh/authorized_keys.rs
    src/vscode/settings/*.rs  # the settings editor
    src/vscode/workspace.rs   # the workspace pin
    src/sys/term.rs           # the text sanitiser
    src/ssh/probe.rs          # the probe parser
    src/docker/mod.rs         # docker's context store
    src/docker/clients/{mod,facts,verdict,paramiko,ssh2}.rs  # the clients' verdicts
    src/steps/plan.rs         # the plan
  )
fi
if ! cargo mutants --version >/dev/null 2>&1; then
  echo "installing cargo-mutants (crates.io)"
  cargo install cargo-mutants --locked --quiet
fi
args=()
for f in "${files[@]}"; do args+=(--file "$f"); done
# cargo-mutants exits 2 when a mutant is missed, 3 on a timeout: the summary says which.
status=0
# Much of a mutant's time is its tests waiting (timeouts under test), so two cores run three
# at once (CARGO_MUTANTS_JOBS overrides).
cargo mutants --no-shuffle --timeout 120 --jobs "${CARGO_MUTANTS_JOBS:-3}" ${iterate[@]+"${iterate[@]}"} "${targets[@]}" "${args[@]}" ${tests[@]+"${tests[@]}"} || status=$?
for outcome in caught missed unviable timeout; do
  [ -f "mutants.out/$outcome.txt" ] || continue
  echo "== $outcome: $(wc -l < "mutants.out/$outcome.txt")"
  sed 's/:.*//' "mutants.out/$outcome.txt" | sort | uniq -c
done
[ -s mutants.out/missed.txt ] && { echo "== missed mutants:"; cat mutants.out/missed.txt; }
exit "$status"
