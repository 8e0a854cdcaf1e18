#!/usr/bin/env bash
# abi/exports: what this build's libspotcheck exports is exactly what
# spotcheck.h declares with SC_API, nothing internal is global, and the
# soname is libspotcheck.so.SOVERSION:
#   - `nm -D` of libspotcheck.so lists the header's functions and nothing
#     else, each under the symbol version SPOTCHECK_<soversion>;
#   - the archive that is installed (client-lib/dist/libspotcheck.a) has
#     those functions as its only global definitions: the core's,
#     the client's (st_ rp_ tp_ bl_ cl_ qr_ ...) and the protobuf code's are
#     local;
#   - no function in the header lacks SC_API.
set -euo pipefail
: "${SC_BIN_DIR:?SC_BIN_DIR must point at the build directory}"
: "${SC_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SC_TMP_PREFIX=sc-abi
source "$SC_SOURCE_DIR/tests/support/shell_common.bash"
source "$SC_SOURCE_DIR/tests/support/sdk_common.bash"
H=$SC_SOURCE_DIR/client-lib/include/spotcheck.h
V=$(project_version)
SOV=$(soversion)
SO=$SC_BIN_DIR/client-lib/libspotcheck.so.$V
AR=$SC_BIN_DIR/client-lib/dist/libspotcheck.a
[[ -f $SO && -f $AR ]] || fail "libspotcheck is not built in $SC_BIN_DIR/client-lib"

unmarked=$(unmarked_functions "$H")
[[ -z $unmarked ]] || fail "spotcheck.h declares functions without SC_API: $unmarked"
header_functions "$H" >"$TMP/declared"
(($(wc -l <"$TMP/declared") > 40)) || fail "spotcheck.h declares only $(wc -l <"$TMP/declared") functions?"

exported_functions "$SO" >"$TMP/exported"
diff "$TMP/declared" "$TMP/exported" >"$TMP/so.diff" ||
  fail "libspotcheck.so exports (>) differ from spotcheck.h's SC_API functions (<): $(cat "$TMP/so.diff")"
nm -D --defined-only "$SO" | awk '$2 != "A"' | grep -v "@@SPOTCHECK_$SOV\$" >"$TMP/unversioned" &&
  fail "exports not under SPOTCHECK_$SOV: $(cat "$TMP/unversioned")"
expect_eq "$(readelf -d "$SO" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')" "libspotcheck.so.$SOV" "the soname"

nm -g --defined-only "$AR" | awk 'NF == 3 && $2 ~ /[A-Z]/ { print $3 }' | sort >"$TMP/archive"
diff "$TMP/declared" "$TMP/archive" >"$TMP/ar.diff" ||
  fail "libspotcheck.a's global symbols (>) differ from spotcheck.h's SC_API functions (<): $(cat "$TMP/ar.diff")"
# The internal names are still in the archive, as local symbols: proof the check above looked.
nm "$AR" >"$TMP/all"
grep -qE ' t st_open$' "$TMP/all" || fail "st_open is not a local symbol of libspotcheck.a"

echo "exports: libspotcheck.so $(wc -l <"$TMP/exported") (all SPOTCHECK_$SOV), libspotcheck.a $(wc -l <"$TMP/archive") global, as spotcheck.h declares $(wc -l <"$TMP/declared")"
