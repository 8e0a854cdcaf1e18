#!/usr/bin/env bash
# soak.sh BUILD_DIR [reliab|fuzz|all]: the long reliability runs
# (docs/operations.md, "Reliability tests and soak runs").  Runs the
# reliability test binaries directly (no ctest timeout) with SC_SOAK=1
# unless SC_SOAK is already set, then every fuzz target for FUZZ_SECONDS
# (default 600) each over its corpus.  Stops at the first failure.
set -euo pipefail
BUILD=${1:?usage: scripts/soak.sh BUILD_DIR [reliab|fuzz|all]}
WHAT=${2:-all}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
export SC_SOAK=${SC_SOAK:-1} SC_BIN_DIR=$BUILD CK_DEFAULT_TIMEOUT=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if [[ $WHAT == all || $WHAT == reliab ]]; then
  for t in "$BUILD"/tests/test_reliab_* "$BUILD"/tests/test_syncd_security \
           "$BUILD"/tests/test_syncd_serve_flood; do
    echo "== $(basename "$t") (SC_SOAK=$SC_SOAK)"
    "$t"
  done
fi
if [[ $WHAT == all || $WHAT == fuzz ]]; then
  secs=${FUZZ_SECONDS:-600}
  for f in "$BUILD"/tests/fuzz/fuzz_*; do
    [[ -x $f ]] || continue
    name=$(basename "$f"); name=${name#fuzz_}
    work=$BUILD/tests/fuzz/soak_$name
    mkdir -p "$work"
    echo "== fuzz/$name for ${secs}s (new inputs and crashes in $work)"
    "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$work/" "$work" "$SRC/tests/fuzz/corpus/$name" 2>&1 |
      grep -E '^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==|SUMMARY)' || true
    [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "fuzz/$name failed: see $work" >&2; exit 1; }
  done
fi
