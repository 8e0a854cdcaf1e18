#!/usr/bin/env bash
# cross/aarch64: libspotcheck's core and client unit tests built for aarch64
# (the tablets' architecture) with Debian's cross compiler, in strict C11
# (SC_PEDANTIC), and run under qemu-user, by scripts/cross-test.sh in its
# own tree ($SC_BIN_DIR/cross-aarch64; later runs rebuild what changed).
# The client tests start this build's syncd (qemu runs the test, not the
# programs it starts), so an aarch64 client syncs with an x86-64 register.
# Left out here: core/merkle, whose exhaustive trees take eleven minutes
# under emulation (aarch64 shares x86-64's byte order and word size; the
# big-endian leg run by hand, README.md, runs it).
set -euo pipefail
: "${SC_BIN_DIR:?SC_BIN_DIR must point at the build directory}"
: "${SC_SOURCE_DIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
SC_CROSS_DIR="$SC_BIN_DIR/cross-aarch64" SC_HOST_BIN_DIR="$SC_BIN_DIR" SC_CROSS_JOBS=2 \
  SC_CROSS_EXCLUDE='^core/merkle$' \
  exec bash "$SC_SOURCE_DIR/scripts/cross-test.sh" aarch64
