# Cross-building for aarch64 Linux (the tablets' architecture) with Debian's
# gcc-aarch64-linux-gnu and the arm64 multiarch libraries; the tests run
# under qemu-user (scripts/cross-test.sh).
set(SC_CROSS_TRIPLE aarch64-linux-gnu)
set(SC_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/cross-common.cmake)
