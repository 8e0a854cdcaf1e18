#!/usr/bin/env bash
# scripts/cross-test.sh ARCH [--install-only]: libspotcheck's core and client
# unit tests built for another architecture and run under qemu-user.
#
#   ARCH  aarch64 (the tablets' architecture; `make test` runs this leg,
#         tests/cross/aarch64.sh) or s390x (big-endian)
#
# It installs what the leg needs with apt-get (sudo when not root): Debian's
# cross compiler for ARCH, qemu-user, and the multiarch -dev packages of the
# libraries the core, the client and the tests link (sqlite3, libsodium,
# protobuf-c, libcurl, jansson, libexif; libxlsxwriter with zlib, libpq and
# libmicrohttpd for syncd's parts that the client tests serve requests with
# in process; check).  Then it configures
# a tree with cmake/cross-ARCH.cmake (the cross compiler, the multiarch
# pkg-config, qemu-ARCH as CMAKE_CROSSCOMPILING_EMULATOR), builds only the
# core and client test executables, and runs them with ctest, which starts
# each through qemu.  The tree is build/cross-ARCH (SC_CROSS_DIR overrides);
# a second run rebuilds only what changed.
set -euo pipefail
arch=${1:-}
case "$arch" in
  aarch64) deb=arm64 ;;
  s390x) deb=s390x ;;
  *) echo "usage: scripts/cross-test.sh aarch64|s390x [--install-only]" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tree=${SC_CROSS_DIR:-$root/build/cross-$arch}
jobs=${SC_CROSS_JOBS:-2}

libs=(libsqlite3-dev libsodium-dev libprotobuf-c-dev libcurl4-openssl-dev libjansson-dev libexif-dev libpq5
      libxlsxwriter-dev zlib1g-dev libmicrohttpd-dev check)
packages=(gcc-"${arch//_/-}"-linux-gnu qemu-user protobuf-c-compiler pkg-config cmake)
for l in "${libs[@]}"; do packages+=("$l:$deb"); done

# The s390x leg unpacks the target's libraries into a sysroot of its own
# (SC_CROSS_SYSROOT, cmake/cross-common.cmake) instead of installing them:
# Debian's multiarch -dev packages must have the very versions of the build
# machine's own (Multi-Arch: same), and a mirror's s390x index may lag the
# amd64 security updates (libssl3, linux-libc-dev), which apt then refuses.
sysroot=
if [[ $arch == s390x ]]; then
  sysroot=$tree-root
  # The cross compiler's own C library headers and crt files (a Recommends of it).
  packages=(gcc-"${arch//_/-}"-linux-gnu "libc6-dev-$deb-cross" qemu-user protobuf-c-compiler pkg-config
            cmake)
fi

sudo=()
[[ $(id -u) -ne 0 ]] && sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx "$deb"; then
  "${sudo[@]}" dpkg --add-architecture "$deb"
  "${sudo[@]}" apt-get update -qq
fi
if [[ -n $sysroot && ! -f $sysroot/.complete ]]; then
  echo "unpacking the $deb libraries and their dependencies into $sysroot" >&2
  rm -rf "$sysroot" "$sysroot.debs"
  mkdir -p "$sysroot" "$sysroot.debs"
  # What the libraries need to run, with the target's C library (not its -dev
  # packages: the cross compiler brings its own headers and crt files).
  mapfile -t wanted < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "${libs[@]/%/:$deb}" "libc6:$deb" 2>/dev/null |
    grep -E "^[a-z0-9][^ ]*:$deb\$" | grep -vE '^(libc-dev-bin|libc6-dev|libcrypt-dev|libnsl-dev|linux-libc-dev|libtirpc-dev|rpcsvc-proto):' |
    sort -u)
  (cd "$sysroot.debs" && apt-get download "${wanted[@]}" >download.log 2>&1) ||
    { tail -20 "$sysroot.debs/download.log" >&2; echo "cross-test: apt-get download failed" >&2; exit 1; }
  for d in "$sysroot.debs"/*.deb; do dpkg -x "$d" "$sysroot"; done
  # Absolute links point into the build machine's own /lib: make them relative to the sysroot.
  while IFS= read -r l; do
    t=$(readlink "$l")
    [[ $t == /* ]] && ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$sysroot$t")" "$l"
  done < <(find "$sysroot" -type l)
  rm -rf "$sysroot.debs"
  touch "$sysroot/.complete"
fi
[[ -n $sysroot ]] && export SC_CROSS_SYSROOT=$sysroot
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[[ "${2:-}" == "--install-only" ]] && exit 0

# syncd and spotcheck, which the client tests start as processes, are the
# build machine's: qemu-user runs a test, not the programs it starts.  A
# build of them is given (SC_HOST_BIN_DIR: `make test` gives its own) or
# made in $tree-host.
host=${SC_HOST_BIN_DIR:-}
if [[ -z $host ]]; then
  host=$tree-host
  cmake -S "$root" -B "$host" -DCMAKE_BUILD_TYPE=Release -DSC_BUILD_BENCH=OFF \
    -DSC_BUILD_TESTS=OFF >"$host.configure.log" 2>&1 &&
    cmake --build "$host" -j "$jobs" --target syncd spotcheck-cli >"$host.build.log" 2>&1 ||
    { tail -n 60 "$host.build.log" >&2; echo "cross-test: the host's syncd did not build" >&2; exit 1; }
fi
mkdir -p "$(dirname "$tree")"
cmake -S "$root" -B "$tree" -DCMAKE_TOOLCHAIN_FILE="$root/cmake/cross-$arch.cmake" \
  -DCMAKE_BUILD_TYPE=Release -DSC_BUILD_BENCH=OFF -DSC_PEDANTIC=ON -DSC_TEST_BIN_DIR="$host" \
  -DSC_TEST_TIMEOUT=1800 -DSC_CK_TIMEOUT=1500 >"$tree.configure.log" 2>&1 ||
  { cat "$tree.configure.log" >&2; echo "cross-test: configure for $arch failed" >&2; exit 1; }
# SC_CROSS_EXCLUDE: a ctest regex of tests to leave out (built and run neither).
exclude=(${SC_CROSS_EXCLUDE:+-E "$SC_CROSS_EXCLUDE"})
targets=$(cd "$tree" && ctest -N -L '^(core|client)$' "${exclude[@]}" |
  sed -n 's/^ *Test *#[0-9]*: \(core\|client\)\/\(.*\)$/test_\1_\2/p')
[[ -n "$targets" ]] || { echo "cross-test: no core or client tests found" >&2; exit 1; }
# shellcheck disable=SC2086
cmake --build "$tree" -j "$jobs" --target $targets >"$tree.build.log" 2>&1 ||
  { tail -n 60 "$tree.build.log" >&2; echo "cross-test: build for $arch failed" >&2; exit 1; }
cd "$tree"
echo "cross-test: $arch ($(file -b "$tree/tests/test_core_ids" | cut -d, -f1-2)) under $(basename "$(command -v qemu-"$arch")")"
ctest --output-on-failure -j "$jobs" -L '^(core|client)$' "${exclude[@]}"
