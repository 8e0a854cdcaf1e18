# sdk_common.bash: what the tests of libspotcheck's ABI and packages share:
# the release, the soname version and the functions spotcheck.h exports.
# Sourced, never run; needs SC_SOURCE_DIR.

# The project's version: spotcheck.h's SC_VERSION_MAJOR.MINOR.PATCH, where the top
# CMakeLists.txt reads it too.
project_version() {
  local h=$SC_SOURCE_DIR/client-lib/include/spotcheck.h part out=
  for part in MAJOR MINOR PATCH; do
    out+=${out:+.}$(sed -n "s/^#define SC_VERSION_$part \([0-9]*\)\$/\1/p" "$h")
  done
  echo "$out"
}

# libspotcheck's ABI version (SC_SOVERSION in the top CMakeLists.txt).
soversion() {
  sed -n 's/^set(SC_SOVERSION \([0-9]*\)).*/\1/p' "$SC_SOURCE_DIR/CMakeLists.txt"
}

# header_functions HEADER: the functions it declares with SC_API, one per line, sorted:
# libspotcheck's ABI.
header_functions() {
  grep -oE '^SC_API [a-z][a-z_ ]*[ *]sc_[a-z0-9_]+\(' "$1" | sed -E 's/.*[ *](sc_[a-z0-9_]+)\($/\1/' | sort
}

# unmarked_functions HEADER: functions it declares without SC_API (there must be none).
unmarked_functions() {
  grep -E '^[a-z][a-z_ ]*[ *]sc_[a-z0-9_]+\(' "$1" || true
}

# exported_functions LIB: the functions a shared library exports (defined, not the version node).
exported_functions() {
  nm -D --defined-only "$1" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' | sort
}
