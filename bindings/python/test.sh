#!/usr/bin/env bash
# bindings/python: the ctypes binding (spotcheck.py) against a real syncd,
# with Debian's python3 and nothing from pip.  python3 is not built with the
# sanitizers, so it cannot load the instrumented libspotcheck of `make
# test`: the library is built once more, as an app ships it (Release, the
# same sources), in $SC_BIN_DIR/python (later runs rebuild what changed).
# syncd and the CLI are the build's own.
source "$(dirname "$0")/../../tests/e2e/cli_common.bash"
PY=/usr/bin/python3
[[ -x $PY ]] || fail "python3 is not installed at $PY (scripts/install-deps.sh installs it)"
tree=$SC_BIN_DIR/python
"${CMAKE_COMMAND:-cmake}" -S "$SC_SOURCE_DIR" -B "$tree" -DCMAKE_BUILD_TYPE=Release \
  -DSC_BUILD_TESTS=OFF -DSC_BUILD_BENCH=OFF >"$TMP/configure.log" 2>&1 ||
  { cat "$TMP/configure.log" >&2; fail "configure the library's tree"; }
"${CMAKE_COMMAND:-cmake}" --build "$tree" --target spotcheck_shared -j 2 >"$TMP/build.log" 2>&1 ||
  { tail -n 50 "$TMP/build.log" >&2; fail "build libspotcheck.so"; }
LIB="$tree/client-lib/libspotcheck.so.0"

make_register
start_syncd
code=$(admin enroll inspector)
mkdir -p "$TMP/py"
SPOTCHECK_LIB="$LIB" SC_URL="$URL" SC_CODE="$code" SC_TMP="$TMP/py" \
  SC_SCHEMA_DIR="$SC_SOURCE_DIR/docs/schema" PYTHONDONTWRITEBYTECODE=1 \
  "$PY" "$SC_SOURCE_DIR/bindings/python/test_binding.py" || fail "the Python binding's test"
# The register holds what the Python app recorded, whole.
log_size >/dev/null
