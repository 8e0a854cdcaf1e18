# What the cross toolchain files share: SC_CROSS_TRIPLE (the GNU triple,
# also Debian's multiarch directory) and SC_CROSS_QEMU (the qemu-user
# binary that runs the target's programs) are set before this is included.
set(CMAKE_SYSTEM_NAME Linux)
string(REGEX REPLACE "-.*" "" CMAKE_SYSTEM_PROCESSOR ${SC_CROSS_TRIPLE})
set(CMAKE_C_COMPILER ${SC_CROSS_TRIPLE}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${SC_CROSS_TRIPLE})
# Libraries and headers from the target's multiarch directories; programs
# (protoc-c) from the build machine.
set(CMAKE_FIND_ROOT_PATH /usr/${SC_CROSS_TRIPLE} /usr/lib/${SC_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
# pkg-config reads the target's .pc files only.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${SC_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
# ctest starts every test program through qemu, with the target's loader and libraries.
find_program(SC_QEMU_BIN ${SC_CROSS_QEMU} REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${SC_QEMU_BIN} -L /usr/${SC_CROSS_TRIPLE})
