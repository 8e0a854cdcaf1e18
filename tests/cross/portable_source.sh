#!/usr/bin/env bash
# cross/portable_source: the core, the client and the reports use no compiler
# extension outside the platform layer (client-lib/core/platform.h and .c): no
# __attribute__, typeof, statement expressions or __builtin_ calls.  The
# strict C11 build of the aarch64 leg (SC_PEDANTIC) catches what the
# compiler flags; this catches what -pedantic lets through.
set -euo pipefail
: "${SC_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
cd "$SC_SOURCE_DIR/client-lib"
found=$(grep -nE '__attribute__|\btypeof\b|__typeof__|=[[:space:]]*\(\{|__builtin_' core/*.[ch] src/*.[ch] report/*.[ch] |
  grep -v '^core/platform\.[ch]:' || true)
if [[ -n $found ]]; then
  echo "FAIL: compiler extensions outside core/platform.h:" >&2
  echo "$found" >&2
  exit 1
fi
# The public header guards its one attribute (SC_API) for compilers that lack it.
grep -q '#if defined(__GNUC__) || defined(__clang__)' include/spotcheck.h ||
  { echo "FAIL: spotcheck.h's SC_API is not guarded" >&2; exit 1; }
echo "portable: no compiler extension outside the platform layer"
