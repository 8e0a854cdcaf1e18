# What the cross toolchain files share: SC_CROSS_TRIPLE (the GNU triple,
# also Debian's multiarch directory) and SC_CROSS_QEMU (the qemu-user
# binary that runs the target's programs) are set before this is included.
set(CMAKE_SYSTEM_NAME Linux)
string(REGEX REPLACE "-.*" "" CMAKE_SYSTEM_PROCESSOR ${SC_CROSS_TRIPLE})
set(CMAKE_C_COMPILER ${SC_CROSS_TRIPLE}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${SC_CROSS_TRIPLE})
# Libraries and headers from the target's multiarch directories, or from
# SC_CROSS_SYSROOT: a directory the target's Debian packages were unpacked
# into (scripts/cross-test.sh makes one where the multiarch packages cannot
# be installed beside the build machine's); programs (protoc-c) from the
# build machine.
set(SC_CROSS_SYSROOT "$ENV{SC_CROSS_SYSROOT}" CACHE PATH "the target's libraries unpacked here (empty: multiarch)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SC_CROSS_SYSROOT)
set(CMAKE_FIND_ROOT_PATH /usr/${SC_CROSS_TRIPLE} /usr/lib/${SC_CROSS_TRIPLE})
if(SC_CROSS_SYSROOT)
  list(PREPEND CMAKE_FIND_ROOT_PATH ${SC_CROSS_SYSROOT})
  foreach(dir ${SC_CROSS_SYSROOT}/usr/lib/${SC_CROSS_TRIPLE} ${SC_CROSS_SYSROOT}/lib/${SC_CROSS_TRIPLE})
    string(APPEND CMAKE_EXE_LINKER_FLAGS_INIT " -L${dir} -Wl,-rpath-link,${dir}")
    string(APPEND CMAKE_SHARED_LINKER_FLAGS_INIT " -L${dir} -Wl,-rpath-link,${dir}")
  endforeach()
endif()
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
# pkg-config reads the target's .pc files only.
if(SC_CROSS_SYSROOT)
  set(ENV{PKG_CONFIG_LIBDIR}
      ${SC_CROSS_SYSROOT}/usr/lib/${SC_CROSS_TRIPLE}/pkgconfig:${SC_CROSS_SYSROOT}/usr/share/pkgconfig)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} ${SC_CROSS_SYSROOT})
else()
  set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${SC_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
endif()
set(ENV{PKG_CONFIG_PATH} "")
# ctest starts every test program through qemu, with the target's loader and
# libraries: the sysroot's, or the multiarch ones under / (libc6:ARCH, which
# the -dev packages bring).  Not the cross compiler's /usr/TRIPLE: its loader
# is another build of the C library than the multiarch libc.so.6 the
# programs then load, and that mix hung threads and forked children.
find_program(SC_QEMU_BIN ${SC_CROSS_QEMU} REQUIRED)
if(SC_CROSS_SYSROOT)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SC_QEMU_BIN} -L ${SC_CROSS_SYSROOT})
else()
  set(CMAKE_CROSSCOMPILING_EMULATOR ${SC_QEMU_BIN} -L /)
endif()
