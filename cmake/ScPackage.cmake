# Debian packages, built with CPack from a Release tree configured for /usr:
#
#   cmake -S . -B build/pkg -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
#         -DSC_BUILD_TESTS=OFF -DSC_BUILD_BENCH=OFF
#   cmake --build build/pkg -j && (cd build/pkg && cpack)     # or: make deb
#
# One package per install component (cmake/ScInstall.cmake):
#   spotcheck-syncd   syncd, its unit, /etc/spotcheck/syncd.conf, examples, docs;
#                     maintainer scripts in deploy/debian/
#   libspotcheck      libspotcheck.so.N
#   libspotcheck-dev  spotcheck.h, libspotcheck.a, the .so link, spotcheck.pc
#   spotcheck-cli     the spotcheck command
# dpkg-shlibdeps (dpkg-dev) works out each package's library dependencies.

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "Packages: configure with -DCMAKE_INSTALL_PREFIX=/usr to build them "
                 "(this tree installs to ${CMAKE_INSTALL_PREFIX})")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME spotcheck)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "Spotcheck maintainers <spotcheck@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "offline-first sync backend for field inspections")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
# Staged with DESTDIR, so the files configured at install time (spotcheck.pc,
# the unit) see the prefix they will have on the target, not the staging dir.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL syncd lib dev cli)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# CPACK_COMPONENT_<C>_DEPENDS become "Depends: package (= version)".
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
# The CLI's libspotcheck.so.N is found in the build tree first.  It belongs
# to no installed package there, so dpkg-shlibdeps reads its dependency from
# the shlibs file of the package tree it is in (the nearest parent holding
# DEBIAN/): this build's libspotcheck, at this very release, as the CLI and
# the library are one release.  Without that file it would go on to a
# libspotcheck installed on the build host and add that one's dependency too
# (0.1.0's shlibs name exactly 0.1.0), and apt could install no upgrade of
# the CLI built there.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/client-lib)
file(WRITE ${CMAKE_BINARY_DIR}/client-lib/DEBIAN/shlibs
     "libspotcheck ${SC_SOVERSION} libspotcheck (= ${PROJECT_VERSION})\n")

set(CPACK_DEBIAN_SYNCD_PACKAGE_NAME spotcheck-syncd)
set(CPACK_DEBIAN_SYNCD_PACKAGE_SECTION net)
# useradd for the service user; deb-systemd-helper for the unit.
set(CPACK_DEBIAN_SYNCD_PACKAGE_DEPENDS "passwd, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_SYNCD_PACKAGE_SUGGESTS "nginx")
set(CPACK_COMPONENT_SYNCD_DESCRIPTION
    "Spotcheck sync server (syncd)\n\
syncd is the central register of Spotcheck, an offline-first sync backend\n\
for field inspections: it verifies every signed op the tablets push, merges\n\
concurrent work and keeps a tamper-evident log with signed checkpoints.\n\
Installing it creates the spotcheck user, a register in ${SC_DATA_DIR} and\n\
starts syncd on 127.0.0.1:8080; put TLS in front (examples/nginx.conf).")
foreach(script postinst postrm conffiles)
  configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/spotcheck-syncd.${script}.in
                 ${CMAKE_BINARY_DIR}/debian/syncd/${script} @ONLY)
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/spotcheck-syncd.prerm
               ${CMAKE_BINARY_DIR}/debian/syncd/prerm COPYONLY)
set(CPACK_DEBIAN_SYNCD_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/debian/syncd/postinst ${CMAKE_BINARY_DIR}/debian/syncd/prerm
    ${CMAKE_BINARY_DIR}/debian/syncd/postrm ${CMAKE_BINARY_DIR}/debian/syncd/conffiles)

set(CPACK_DEBIAN_LIB_PACKAGE_NAME libspotcheck)
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION libs)
# A shlibs file, so packages built against libspotcheck depend on it: on this
# release or a later one, since every release of one soname runs programs
# built against an earlier header (tests/abi/old_header.sh proves it).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# Its own ldconfig scripts, which leave a DPKG_ROOT image alone (CPack's
# would run the host's ldconfig).
set(CPACK_DEBIAN_LIB_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/debian/lib/postinst ${CMAKE_BINARY_DIR}/debian/lib/postrm)
foreach(script postinst postrm)
  configure_file(${PROJECT_SOURCE_DIR}/deploy/debian/libspotcheck.${script}
                 ${CMAKE_BINARY_DIR}/debian/lib/${script} COPYONLY)
endforeach()
set(CPACK_COMPONENT_LIB_DESCRIPTION
    "Spotcheck client library\n\
libspotcheck records inspections offline in a local replica, signs every\n\
record on the device, and syncs with syncd, verifying every answer.")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libspotcheck-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# spotcheck.pc requires these (privately: for --cflags and static links).
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libsodium-dev, libprotobuf-c-dev, libsqlite3-dev, libcurl4-openssl-dev | libcurl-dev, libjansson-dev,
     libexif-dev")
set(CPACK_COMPONENT_DEV_DEPENDS lib)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "Spotcheck client library: development files\n\
spotcheck.h (the manual of the API), the static library, and spotcheck.pc\n\
for pkg-config.")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME spotcheck-cli)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
# Its libspotcheck (= version) comes from dpkg-shlibdeps (above).
set(CPACK_COMPONENT_CLI_DESCRIPTION
    "Spotcheck command-line client\n\
spotcheck is a tablet on the command line: enroll, record checks, findings,\n\
rectifications and photos offline, sync with syncd, verify the replica.")

include(CPack)
