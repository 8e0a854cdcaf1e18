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

# project_version, soversion, header_functions, exported_functions
source "$SC_SOURCE_DIR/tests/support/sdk_common.bash"
