#!/usr/bin/env bash
# Benchmarks (not tests): starts the end-to-end sandbox (root, openssh-server, docker.io) and
# prints a Markdown table of medians over alternated runs. Nothing here asserts a wall time.
# RDOCK_BENCH_BIN=/path/to/rdock measures that rdock binary (an older build, say) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
RDOCK_E2E=1 cargo test --release --test integration bench:: -- --ignored --nocapture --test-threads 1 2>&1 \
  | grep -E '^\||^Docker version|rounds after|^measuring'
