# Cross-building for s390x Linux (big-endian) with Debian's
# gcc-s390x-linux-gnu and the s390x multiarch libraries; the tests run
# under qemu-user (scripts/cross-test.sh).
set(SC_CROSS_TRIPLE s390x-linux-gnu)
set(SC_CROSS_QEMU qemu-s390x)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
