#!/usr/bin/env bash
# pkg/build, the fixture of the other pkg/ tests: a Release tree configured
# for /usr as the Debian packages are (cmake/ScPackage.cmake), built, and
# packaged with CPack.  Later runs rebuild only what changed.
source "$(dirname "$0")/pkg_common.bash"

: "${CMAKE_COMMAND:=cmake}"
: "${CPACK_COMMAND:=cpack}"
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps is required (dpkg-dev; scripts/install-deps.sh installs it)"

"$CMAKE_COMMAND" -S "$SC_SOURCE_DIR" -B "$PKG_TREE" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_INSTALL_PREFIX=/usr -DSC_BUILD_TESTS=OFF -DSC_BUILD_BENCH=OFF >"$TMP/configure.log" 2>&1 ||
  { cat "$TMP/configure.log" >&2; fail "configure"; }
"$CMAKE_COMMAND" --build "$PKG_TREE" -j 2 >"$TMP/build.log" 2>&1 ||
  { tail -n 50 "$TMP/build.log" >&2; fail "build"; }
rm -rf "$PKG_DEBS"
(cd "$PKG_TREE" && "$CPACK_COMMAND" -G DEB) >"$TMP/cpack.log" 2>&1 ||
  { cat "$TMP/cpack.log" >&2; fail "cpack"; }

v=$(project_version)
for p in spotcheck-syncd libspotcheck libspotcheck-dev spotcheck-cli; do
  deb=$(ls "$PKG_DEBS/${p}_${v}_"*.deb 2>/dev/null) || fail "cpack made no $p package: $(ls "$PKG_DEBS")"
  echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes)"
done
