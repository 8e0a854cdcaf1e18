# pkg_common.bash: what the packaging tests (tests/pkg/*.sh) share: the
# Release tree for /usr that pkg/build makes (the ctest fixture of the
# others), and tests/support/shell_common.bash (a temp dir, processes
# stopped at exit, assertions).  Sourced, never run.
set -euo pipefail

: "${SC_BIN_DIR:?SC_BIN_DIR must point at the build directory}"
: "${SC_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# The Release tree of pkg/build, configured for /usr as the packages are.
PKG_TREE="$SC_BIN_DIR/pkg-release"
PKG_DEBS="$PKG_TREE/packages"

SC_TMP_PREFIX=sc-pkg
source "$SC_SOURCE_DIR/tests/support/shell_common.bash"

# expect_file PATH: a regular file is there.
expect_file() { [[ -f "$1" ]] || fail "not installed: $1"; }
# expect_mode PATH MODE (octal, e.g. 700)
expect_mode() { expect_eq "$(stat -c %a "$1")" "$2" "mode of $1"; }

need_pkg_tree() {
  [[ -x "$PKG_TREE/syncd/syncd" ]] || fail "no Release tree in $PKG_TREE: run pkg/build first (ctest runs it as the fixture)"
}

# The project's version: spotcheck.h's SC_VERSION_MAJOR.MINOR.PATCH, where the top
# CMakeLists.txt reads it too.
project_version() {
  local h=$SC_SOURCE_DIR/client-lib/include/spotcheck.h part out=
  for part in MAJOR MINOR PATCH; do
    out+=${out:+.}$(sed -n "s/^#define SC_VERSION_$part \([0-9]*\)\$/\1/p" "$h")
  done
  echo "$out"
}

# The functions spotcheck.h declares, one per line, sorted: libspotcheck's ABI.
header_functions() {
  grep -oE '^[a-z][a-z_ ]*[ *]sc_[a-z0-9_]+\(' "$1" | sed -E 's/.*[ *](sc_[a-z0-9_]+)\($/\1/' | sort
}

# libspotcheck's ABI version (SC_SOVERSION in the top CMakeLists.txt).
soversion() {
  sed -n 's/^set(SC_SOVERSION \([0-9]*\)).*/\1/p' "$SC_SOURCE_DIR/CMakeLists.txt"
}
