#!/usr/bin/env bash
# reliab/threads_tsan: tests/reliab/test_threads.c, and core/par's helper pool
# (tests/core/test_par.c), under ThreadSanitizer.
# ThreadSanitizer cannot share a build with AddressSanitizer, so this builds
# libspotcheck, the test support and those tests with SC_TSAN=ON in its
# own tree ($SC_BIN_DIR/tsan; later runs rebuild only what changed), and
# runs it against the syncd and spotcheck of the build it belongs to
# ($SC_BIN_DIR: separate processes, outside what TSan watches).  Any data
# race in the library or the test fails it (halt_on_error).
set -euo pipefail
: "${SC_BIN_DIR:?SC_BIN_DIR must point at the build directory}"
: "${SC_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${CMAKE_COMMAND:=cmake}"
: "${SC_CC:=cc}"
SC_TMP_PREFIX=sc-tsan
source "$SC_SOURCE_DIR/tests/support/shell_common.bash"

tree=$SC_BIN_DIR/tsan
"$CMAKE_COMMAND" -S "$SC_SOURCE_DIR" -B "$tree" -DCMAKE_C_COMPILER="$SC_CC" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSC_TSAN=ON -DSC_BUILD_BENCH=OFF >"$TMP/configure.log" 2>&1 ||
  { cat "$TMP/configure.log" >&2; fail "configure the TSan tree"; }
"$CMAKE_COMMAND" --build "$tree" --target test_reliab_threads test_core_par -j 2 >"$TMP/build.log" 2>&1 ||
  { tail -n 50 "$TMP/build.log" >&2; fail "build the TSan test"; }
SC_BIN_DIR=$SC_BIN_DIR TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4" \
  "$tree/tests/test_reliab_threads" || fail "reliab/threads under ThreadSanitizer (exit $?)"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  "$tree/tests/test_core_par" || fail "core/par under ThreadSanitizer (exit $?)"
