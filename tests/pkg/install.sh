#!/usr/bin/env bash
# pkg/install: `cmake --install --prefix P` gives a tree that points inside
# itself.  spotcheck.pc names P, and a program built with `pkg-config
# --cflags --libs spotcheck` links and runs (against libspotcheck.so, and
# against libspotcheck.a with --static); the shared library exports exactly
# the functions spotcheck.h declares, and the archive has no other global
# name; the systemd unit names P's syncd,
# configuration and docs, and passes `systemd-analyze verify` where systemd
# is installed; the configuration, the examples and the docs are there, and
# installing again keeps an edited configuration.
source "$(dirname "$0")/pkg_common.bash"
need_pkg_tree
: "${CMAKE_COMMAND:=cmake}"
command -v pkg-config >/dev/null || fail "pkg-config is required"
V=$(project_version)
SOV=$(soversion)

P="$TMP/prefix"
"$CMAKE_COMMAND" --install "$PKG_TREE" --prefix "$P" >"$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "cmake --install"; }

# --- spotcheck.pc and a consumer ------------------------------------------
mapfile -t pcs < <(find "$P" -name spotcheck.pc)
expect_eq "${#pcs[@]}" 1 "spotcheck.pc files installed"
pc=${pcs[0]}
grep -qx "prefix=$P" "$pc" || fail "spotcheck.pc does not name the install prefix $P: $(cat "$pc")"
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
expect_eq "$(pkg-config --modversion spotcheck)" "$V" "pkg-config --modversion"
libdir=$(pkg-config --variable=libdir spotcheck)
includedir=$(pkg-config --variable=includedir spotcheck)
[[ "$libdir" == "$P"/* && "$includedir" == "$P"/* ]] || fail "pc directories outside $P: $libdir $includedir"
expect_file "$includedir/spotcheck.h"
for f in libspotcheck.so "libspotcheck.so.$SOV" "libspotcheck.so.$V" libspotcheck.a; do
  [[ -e "$libdir/$f" ]] || fail "not installed: $libdir/$f"
done

# shellcheck disable=SC2046  # pkg-config's flags are words
cc -std=c11 -Wall -Wextra -Werror -o "$TMP/consumer" "$SC_SOURCE_DIR/tests/pkg/consumer.c" \
  $(pkg-config --cflags --libs spotcheck) || fail "a consumer does not build with pkg-config"
# (Output captured before grep -q, which would cut the pipe under pipefail.)
loads=$(LD_LIBRARY_PATH="$libdir" ldd "$TMP/consumer")
grep -q "libspotcheck.so.$SOV => $libdir/" <<<"$loads" ||
  fail "the consumer does not load $libdir/libspotcheck.so.$SOV: $loads"
out=$(LD_LIBRARY_PATH="$libdir" "$TMP/consumer") || fail "the consumer failed: $out"
grep -qx "libspotcheck $V protocol 1" <<<"$out" || fail "consumer: $out"
grep -q '"enrolled":false' <<<"$out" || fail "consumer status: $out"

# Static: the archive carries the core; the libraries it needs are the pc
# file's private ones (shared here: `pkg-config --static` would want every
# static library below libcurl, which Debian's -dev packages do not all have).
static_libs="-L$libdir -l:libspotcheck.a $(pkg-config --libs $(pkg-config --print-requires-private spotcheck)) -lpthread"
# shellcheck disable=SC2046,SC2086
cc -std=c11 -Wall -Wextra -Werror -o "$TMP/consumer-static" "$SC_SOURCE_DIR/tests/pkg/consumer.c" \
  $(pkg-config --cflags spotcheck) $static_libs ||
  fail "a consumer does not link libspotcheck.a with the pc file's private libraries"
loads=$(ldd "$TMP/consumer-static")
grep -q libspotcheck <<<"$loads" && fail "the static consumer loads libspotcheck.so: $loads"
out=$("$TMP/consumer-static") || fail "the static consumer failed: $out"
grep -qx "libspotcheck $V protocol 1" <<<"$out" || fail "static consumer: $out"
echo "consumer: links with pkg-config, shared and static, and runs"

# --- the ABI: spotcheck.h's functions, nothing else ------------------------
header_functions "$includedir/spotcheck.h" >"$TMP/declared"
exported_functions "$libdir/libspotcheck.so.$V" >"$TMP/exported"
diff "$TMP/declared" "$TMP/exported" >"$TMP/abi.diff" ||
  fail "libspotcheck.so exports (>) differ from spotcheck.h's functions (<): $(cat "$TMP/abi.diff")"
grep -q " sc_version@@SPOTCHECK_$SOV\$" <<<"$(nm -D --defined-only "$libdir/libspotcheck.so.$V")" ||
  fail "exports are not versioned SPOTCHECK_$SOV"
nm -g --defined-only "$libdir/libspotcheck.a" | awk 'NF == 3 && $2 ~ /[A-Z]/ { print $3 }' |
  sort >"$TMP/archive"
diff "$TMP/declared" "$TMP/archive" >"$TMP/ar.diff" ||
  fail "libspotcheck.a's global symbols (>) differ from spotcheck.h's functions (<): $(cat "$TMP/ar.diff")"
echo "abi: $(wc -l <"$TMP/exported") functions exported, as spotcheck.h declares; the archive's other names are local"

# --- the binaries -----------------------------------------------------------
expect_eq "$("$P/bin/syncd" --version)" "syncd $V (sync protocol 1, register schema $(
  sed -n 's/^#define SD_SCHEMA_VERSION \([0-9]*\).*/\1/p' "$SC_SOURCE_DIR/syncd/store/store.h"))" "syncd --version"
expect_eq "$(LD_LIBRARY_PATH="$libdir" "$P/bin/spotcheck" --version)" \
  "spotcheck $V (libspotcheck $V, sync protocol 1)" "spotcheck --version"

# --- the unit, the configuration, examples and docs -------------------------
unit="$P/lib/systemd/system/syncd.service"
expect_file "$unit"
grep -qE '@[A-Z_]+@' "$unit" && fail "unconfigured placeholders in the unit: $(grep -E '@[A-Z_]+@' "$unit")"
grep -qx "ExecStart=$P/bin/syncd serve --config $P/etc/spotcheck/syncd.conf --data /var/lib/spotcheck" "$unit" ||
  fail "ExecStart does not name this install: $(grep ExecStart= "$unit")"
tunit="$P/lib/systemd/system/syncd@.service"
expect_file "$tunit"
grep -qE '@[A-Z_]+@' "$tunit" && fail "unconfigured placeholders in the template unit: $(grep -E '@[A-Z_]+@' "$tunit")"
grep -qx "ExecStart=$P/bin/syncd serve --config $P/etc/spotcheck/syncd-%i.conf --data /var/lib/spotcheck/%i" "$tunit" ||
  fail "the template unit's ExecStart does not name this install: $(grep ExecStart= "$tunit")"
doc=$(sed -n 's|^Documentation=file://||p' "$unit")
expect_eq "$doc" "$P/share/doc/spotcheck/operations.md" "the unit's Documentation="
expect_file "$doc"
for f in README.md security.md protocol.md data-model.md client.md examples/nginx.conf \
  examples/nginx-spotcheck.conf examples/syncd.conf.example; do
  expect_file "$P/share/doc/spotcheck/$f"
done
conf="$P/etc/spotcheck/syncd.conf"
cmp -s "$conf" "$SC_SOURCE_DIR/deploy/syncd.conf.example" || fail "$conf is not deploy/syncd.conf.example"

if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's program exists: this install's syncd.
  systemd-analyze verify "$unit" >"$TMP/verify.log" 2>&1 ||
    { cat "$TMP/verify.log" >&2; fail "systemd-analyze verify $unit"; }
  [[ -s "$TMP/verify.log" ]] && { cat "$TMP/verify.log" >&2; fail "systemd-analyze verify warns"; }
  echo "unit: systemd-analyze verify passes"
  # The template unit, as its first instance (verify needs an instance name).
  mkdir -p "$TMP/units"
  cp "$tunit" "$TMP/units/syncd@1.service"
  systemd-analyze verify "$TMP/units/syncd@1.service" >"$TMP/verify-t.log" 2>&1 ||
    { cat "$TMP/verify-t.log" >&2; fail "systemd-analyze verify syncd@1.service"; }
  [[ -s "$TMP/verify-t.log" ]] && { cat "$TMP/verify-t.log" >&2; fail "systemd-analyze verify warns on syncd@1"; }
  echo "template unit: systemd-analyze verify passes on syncd@1"
else
  echo "SKIPPED: systemd-analyze verify (systemd is not installed)"
fi

# An operator's edits survive installing again.
echo "log.level = 3" >>"$conf"
"$CMAKE_COMMAND" --install "$PKG_TREE" --prefix "$P" >"$TMP/install2.log" 2>&1 ||
  { cat "$TMP/install2.log" >&2; fail "second cmake --install"; }
tail -n 1 "$conf" | grep -qx "log.level = 3" || fail "installing again replaced the edited $conf"
grep -q "Kept: $conf" "$TMP/install2.log" || fail "the second install does not say it kept $conf"
echo "install: $P holds a tree that points inside itself"
